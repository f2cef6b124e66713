//! The pages of host organisations and publicity talks (issue 16) over HTTP: a township
//! official registers a host in their township (a field error first, beside its field), edits
//! it, meets the conflict of a stale edit; a host of another county does not exist for them
//! and a neighbouring township's is read-only; "due this month" lists the hosts whose
//! timetable names the month and that have no drive planned; station staff set a group
//! drive's goal and make, replace and revoke the contact's link (shown once); a talk is logged,
//! refused field by field, and deleted.

use donornet::i18n::Lang;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::groupdrives::{at_host, host, made, published_at_host, school_body, school_named};
use crate::helpers::{TestApp, on_each_backend, send};
use crate::page_client::{get, input_value, post, signed_in};
use crate::plans::{CITY, DONGLING, XIHE, network};

fn zh(id: &str) -> String {
    Lang::ZhCn.t(id)
}

/// The host form with `changes` over a valid school in 东岭镇.
fn host_form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("name", "东岭镇卫生院"),
        ("kind", "hospital"),
        ("region_code", DONGLING),
        ("address", "东岭镇健康路 2 号"),
        ("longitude", "114.0259"),
        ("latitude", "33.6588"),
        ("crs", "gcj02"),
        ("typical_headcount", "80"),
        ("preferred_months", "3"),
        ("preferred_months", "9"),
        ("notes", "周三上午"),
    ];
    for (name, value) in changes {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => fields.push((name, value)),
        }
    }
    fields
}

async fn hosts_api(app: &TestApp) -> Vec<Value> {
    app.get_ok("/api/v1/hosts").await["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn an_official_registers_and_edits_a_host_and_a_stale_edit_shows_the_conflict() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        let official = signed_in(&app, "dongling.official", "township_official", &[DONGLING]).await;

        // The township page leads to the hosts; none yet.
        let (status, township) = get(&app, &official, "/township").await;
        assert_eq!(status, StatusCode::OK);
        assert!(township.contains("href=\"/hosts\""), "{township}");
        let (status, list) = get(&app, &official, "/hosts").await;
        assert_eq!(status, StatusCode::OK);
        assert!(list.contains(&zh("shost-none")), "{list}");
        assert!(list.contains("href=\"/hosts/new\""));
        let (status, blank) = get(&app, &official, "/hosts/new").await;
        assert_eq!(status, StatusCode::OK);
        assert!(blank.contains(&format!("<option value=\"{DONGLING}\" selected>")));

        // A blank name and a longitude outside China: each named beside its field, the rest kept.
        let (status, _, page) = post(
            &app,
            &official,
            "/hosts/new",
            &host_form(&[("name", ""), ("longitude", "14.02")]),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains(&zh("refused-fields")), "{page}");
        for (field, hint) in [
            ("name", "shost-hint-name"),
            ("longitude", "shost-hint-longitude"),
        ] {
            assert!(
                page.contains(&format!(
                    "<p class=\"error\" id=\"{field}-error\">{}</p>",
                    zh(hint)
                )),
                "{field}: {page}"
            );
            assert!(
                page.contains(&format!("aria-describedby=\"location-hint {field}-error\""))
                    || field == "name"
            );
        }
        assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"name-error\""));
        assert_eq!(input_value(&page, "address"), "东岭镇健康路 2 号");
        assert!(page.contains("id=\"month-9\" checked"));
        assert!(hosts_api(&app).await.is_empty(), "nothing was stored");

        // Saved: its page.
        let (status, location, _) = post(&app, &official, "/hosts/new", &host_form(&[])).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let stored = hosts_api(&app).await;
        assert_eq!(stored.len(), 1);
        let id = stored[0]["id"].as_i64().unwrap();
        assert_eq!(location, format!("/hosts/{id}?done=created"));
        assert_eq!(stored[0]["preferred_months"], json!([3, 9]));
        assert!(
            stored[0]["created_by"]
                .as_str()
                .unwrap()
                .starts_with("dongling.official")
        );
        let (_, shown) = get(&app, &official, &location).await;
        assert!(shown.contains(&zh("shost-done-created")));
        assert!(shown.contains("3月、9月"), "{shown}");
        assert!(shown.contains(&format!("href=\"/hosts/{id}/edit\"")));

        // Edited: the headcount; the location as shown keeps the stored one.
        let edit = format!("/hosts/{id}/edit");
        let (_, form) = get(&app, &official, &edit).await;
        assert_eq!(input_value(&form, "version"), "1");
        let longitude = input_value(&form, "longitude");
        let latitude = input_value(&form, "latitude");
        let as_shown = |changes: &[(&'static str, &'static str)]| {
            let mut fields: Vec<(String, String)> = vec![
                ("name".into(), "东岭镇卫生院".into()),
                ("kind".into(), "hospital".into()),
                ("region_code".into(), DONGLING.into()),
                ("address".into(), "东岭镇健康路 2 号".into()),
                ("longitude".into(), longitude.clone()),
                ("latitude".into(), latitude.clone()),
                ("crs".into(), "wgs84".into()),
                ("typical_headcount".into(), "80".into()),
                ("preferred_months".into(), "3".into()),
                ("preferred_months".into(), "9".into()),
                ("notes".into(), "周三上午".into()),
            ];
            for (k, v) in changes {
                match fields.iter_mut().find(|(n, _)| n == k) {
                    Some(f) => f.1 = (*v).to_owned(),
                    None => fields.push(((*k).to_owned(), (*v).to_owned())),
                }
            }
            fields
        };
        let fields = as_shown(&[("version", "1"), ("typical_headcount", "120")]);
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, location, _) = post(&app, &official, &edit, &pairs).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
        assert_eq!(location, format!("/hosts/{id}?done=saved"));
        let after = app.get_ok(&format!("/api/v1/hosts/{id}")).await;
        assert_eq!(after["typical_headcount"], 120);
        assert_eq!(after["version"], 2);
        assert_eq!(after["longitude"], stored[0]["longitude"], "not moved");

        // Stale: typed against version 1; both shown, what was typed kept, the new version.
        let fields = as_shown(&[("version", "1"), ("name", "东岭镇中心卫生院")]);
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, _, page) = post(&app, &official, &edit, &pairs).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(page.contains(&zh("conflict-title")), "{page}");
        assert!(page.contains("<td class=\"mine\">东岭镇中心卫生院</td>"));
        assert!(page.contains("<td class=\"mine\">80</td><td class=\"current\">120</td>"));
        assert_eq!(input_value(&page, "name"), "东岭镇中心卫生院");
        assert_eq!(input_value(&page, "version"), "2");
        assert_eq!(
            app.get_ok(&format!("/api/v1/hosts/{id}")).await["name"],
            "东岭镇卫生院"
        );
        // Saving again keeps what was typed.
        let fields = as_shown(&[("version", "2"), ("name", "东岭镇中心卫生院")]);
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, _, _) = post(&app, &official, &edit, &pairs).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let after = app.get_ok(&format!("/api/v1/hosts/{id}")).await;
        assert_eq!(after["name"], "东岭镇中心卫生院");
        assert_eq!(after["typical_headcount"], 80);

        // A contact: a short mobile named beside the field, then added and removed.
        let (status, _, page) = post(
            &app,
            &official,
            &format!("/hosts/{id}/contacts"),
            &[("name", "王敏"), ("mobile", "1381234"), ("role", "院长")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains(&format!(
            "<p class=\"error\" id=\"c-mobile-error\">{}</p>",
            zh("hint-mobile")
        )));
        let (status, _, _) = post(
            &app,
            &official,
            &format!("/hosts/{id}/contacts"),
            &[
                ("name", "王敏"),
                ("mobile", "13812345678"),
                ("role", "院长"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, page) = get(&app, &official, &format!("/hosts/{id}")).await;
        assert!(page.contains("href=\"tel:13812345678\""));
        let contact = app.get_ok(&format!("/api/v1/hosts/{id}")).await["contacts"][0]["id"]
            .as_i64()
            .unwrap();
        let (status, _, _) = post(
            &app,
            &official,
            &format!("/hosts/{id}/contacts/{contact}/remove"),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            app.get_ok(&format!("/api/v1/hosts/{id}")).await["contacts"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_host_beyond_reach_does_not_exist_and_a_neighbours_is_read_only() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        app.import_luohe().await;
        let far = host(
            &app,
            &json!({"name": "孟庙镇中学", "kind": "school", "region_code": "411103101000",
                    "longitude": 114.02, "latitude": 33.58}),
        )
        .await;
        let xihe = host(
            &app,
            &json!({"name": "西河乡卫生院", "kind": "hospital", "region_code": XIHE,
                    "longitude": 114.02, "latitude": 33.66}),
        )
        .await;
        let official = signed_in(&app, "dongling.official", "township_official", &[DONGLING]).await;
        for path in [format!("/hosts/{far}"), format!("/hosts/{far}/edit")] {
            let (status, page) = get(&app, &official, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(!page.contains("孟庙镇中学"));
        }
        let (status, _, _) = post(
            &app,
            &official,
            &format!("/hosts/{far}/contacts"),
            &[("name", "王"), ("mobile", "13812345678")],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // The neighbouring township's host: read, not changed (no buttons; 403 when tried).
        let (status, page) = get(&app, &official, &format!("/hosts/{xihe}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("西河乡卫生院"));
        assert!(!page.contains(&format!("/hosts/{xihe}/edit")));
        assert!(!page.contains(&format!("/hosts/{xihe}/contacts\"")));
        let (status, _) = get(&app, &official, &format!("/hosts/{xihe}/edit")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = post(
            &app,
            &official,
            &format!("/hosts/{xihe}/contacts"),
            &[("name", "王"), ("mobile", "13812345678")],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // The list: what they read, not beyond.
        let (_, list) = get(&app, &official, "/hosts").await;
        assert!(list.contains("西河乡卫生院"));
        assert!(!list.contains("孟庙镇中学"));
        // Outside their township they may not register one.
        let (status, _, page) = post(
            &app,
            &official,
            "/hosts/new",
            &host_form(&[("region_code", XIHE)]),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        app
    })
    .await;
}

#[tokio::test]
async fn due_this_month_lists_hosts_whose_month_it_is_with_no_drive_planned() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        app.set_today("2027-03-10");
        let school = host(&app, &school_body(Some(400))).await;
        let other = host(&app, &school_named("东岭镇中学")).await;
        let mut june = school_named("东岭镇幼儿园");
        june["preferred_months"] = json!([6]);
        host(&app, &june).await;
        made(
            &app,
            &at_host(net.vehicles[0], school, "2027-03-16", Some(50)),
        )
        .await;
        let staff = signed_in(&app, "chen.station", "station_staff", &[CITY]).await;

        let (status, all) = get(&app, &staff, "/hosts").await;
        assert_eq!(status, StatusCode::OK);
        for name in ["东岭镇中心小学", "东岭镇中学", "东岭镇幼儿园"] {
            assert!(all.contains(name), "{name}");
        }
        // The school's next group drive, in the list.
        assert!(all.contains("3月16日 星期二 09:00"), "{all}");
        let (status, due) = get(&app, &staff, "/hosts?due=1").await;
        assert_eq!(status, StatusCode::OK);
        assert!(due.contains(&format!("href=\"/hosts/{other}\"")));
        assert!(!due.contains(&format!("href=\"/hosts/{school}\"")));
        assert!(!due.contains("东岭镇中心小学"), "a drive is planned");
        assert!(!due.contains("东岭镇幼儿园"), "not its month");
        assert!(due.contains(&Lang::ZhCn.t1("shost-count", "count", 1)));
        // Kind and region filters narrow it too.
        let (_, schools) = get(&app, &staff, "/hosts?kind=hospital").await;
        assert!(schools.contains(&zh("shost-none")));
        let (_, xihe) = get(&app, &staff, &format!("/hosts?region={XIHE}")).await;
        assert!(!xihe.contains("东岭镇中学"));
        app
    })
    .await;
}

#[tokio::test]
async fn staff_set_the_goal_and_make_replace_and_revoke_the_link_on_the_hosts_page() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let (drive, stop, token) = published_at_host(&app, net.vehicles[0]).await;
        let id = app.get_ok("/api/v1/hosts").await["items"][0]["id"]
            .as_i64()
            .unwrap();
        let staff = signed_in(&app, "chen.station", "station_staff", &[CITY]).await;
        let page_path = format!("/hosts/{id}");
        let (status, page) = get(&app, &staff, &page_path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&zh("shost-link-exists")));
        assert!(page.contains(&Lang::ZhCn.tn(
            "shost-progress-goal",
            &[("count", 0.into()), ("goal", 3.into())]
        )));
        assert!(!page.contains("/signup/"), "the token is never shown again");

        // A new link: shown once, the old one opens nothing.
        let base = format!("/hosts/{id}/drives/{drive}/stops/{stop}");
        let (status, _, made) = post(&app, &staff, &format!("{base}/link"), &[]).await;
        assert_eq!(status, StatusCode::OK);
        let at = made.find("/signup/").expect("the new link is shown");
        let new_token: String = made[at + "/signup/".len()..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        assert_eq!(new_token.len(), 64);
        assert!(made.contains("data-copy="));
        let (status, _) = get(&app, &staff, &format!("/signup/{token}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = get(&app, &staff, &format!("/signup/{new_token}")).await;
        assert_eq!(status, StatusCode::OK);
        let (_, again) = get(&app, &staff, &page_path).await;
        assert!(!again.contains(&new_token));

        // The goal, with the drive's version; a stale version is refused and says so.
        let version = input_value(&again, "version");
        let (status, location, _) = post(
            &app,
            &staff,
            &format!("{base}/goal"),
            &[("version", &version), ("signup_goal", "80")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("/hosts/{id}?done=goal#drives"));
        let shown = app.get_ok(&format!("/api/v1/drives/{drive}")).await;
        assert_eq!(shown["stops"][0]["signup_goal"], 80);
        let (status, _, stale) = post(
            &app,
            &staff,
            &format!("{base}/goal"),
            &[("version", &version), ("signup_goal", "90")],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(stale.contains(&zh("shost-goal-stale")));
        let shown = app.get_ok(&format!("/api/v1/drives/{drive}")).await;
        assert_eq!(shown["stops"][0]["signup_goal"], 80);

        // Revoked: the link opens nothing.
        let (status, _, _) = post(&app, &staff, &format!("{base}/revoke"), &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _) = get(&app, &staff, &format!("/signup/{new_token}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, page) = get(&app, &staff, &page_path).await;
        assert!(page.contains(&zh("shost-link-none")));

        // An official of the township reads the drive, without the station's buttons.
        let official = signed_in(&app, "dongling.official", "township_official", &[DONGLING]).await;
        let (status, page) = get(&app, &official, &page_path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!page.contains(&format!("make-link-{stop}")));
        let (status, _, _) = post(&app, &official, &format!("{base}/link"), &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // A stop that is not at this host does not exist here.
        let (status, _, _) = post(
            &app,
            &staff,
            &format!("/hosts/{}/drives/{drive}/stops/{stop}/link", id + 1000),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

#[tokio::test]
async fn an_official_logs_a_talk_and_a_refused_one_names_every_field() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        app.set_today("2026-12-07");
        let official = signed_in(&app, "dongling.official", "township_official", &[DONGLING]).await;
        let (status, page) = get(&app, &official, "/talks").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&zh("shost-talks-none")));
        // Their township and its villages are offered; the neighbour's are not.
        assert!(page.contains("value=\"region-990101101202\""));
        assert!(page.contains(&format!("value=\"region-{DONGLING}\"")));
        assert!(!page.contains(&format!("value=\"region-{XIHE}\"")));
        assert_eq!(input_value(&page, "held_on"), "2026-12-07");

        let (status, _, page) = post(
            &app,
            &official,
            "/talks",
            &[
                ("place", ""),
                ("held_on", "2026-12-09"),
                ("speaker", ""),
                ("audience", ""),
                ("materials", ""),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        for (field, hint) in [
            ("place", "shost-hint-place"),
            ("speaker", "shost-hint-speaker"),
            ("audience", "shost-hint-audience"),
            ("materials", "shost-hint-materials"),
        ] {
            assert!(
                page.contains(&format!(
                    "<p class=\"error\" id=\"{field}-error\">{}</p>",
                    zh(hint)
                )),
                "{field}: {page}"
            );
        }
        // A day after today is named too (the other fields right).
        let (status, _, page) = post(
            &app,
            &official,
            "/talks",
            &[
                ("place", "region-990101101202"),
                ("held_on", "2026-12-09"),
                ("speaker", "张医生"),
                ("audience", "45"),
                ("materials", "倡议书"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("id=\"held_on-error\""));
        assert_eq!(input_value(&page, "speaker"), "张医生");
        assert!(page.contains("value=\"region-990101101202\" selected"));

        let (status, location, _) = post(
            &app,
            &official,
            "/talks",
            &[
                ("place", "region-990101101202"),
                ("held_on", "2026-12-02"),
                ("speaker", "张医生"),
                ("audience", "45"),
                ("audience_description", "村民"),
                ("materials", "倡议书、宣传单"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, "/talks?done=logged");
        let talks = app.get_ok("/api/v1/talks").await["items"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(talks.len(), 1);
        assert_eq!(talks[0]["region_code"], "990101101202");
        assert_eq!(talks[0]["audience"], 45);
        let id = talks[0]["id"].as_i64().unwrap();
        let (_, page) = get(&app, &official, "/talks").await;
        assert!(page.contains("柳湾村委会"), "{page}");
        assert!(page.contains("45 人（村民）"));
        assert!(page.contains(&format!("/talks/{id}/delete")));

        // A colleague of another township reads it, without the delete button.
        let neighbour = signed_in(&app, "xihe.official", "township_official", &[XIHE]).await;
        let (_, page) = get(&app, &neighbour, "/talks").await;
        assert!(page.contains("柳湾村委会"));
        assert!(!page.contains(&format!("/talks/{id}/delete")));

        let (status, location, _) =
            post(&app, &official, &format!("/talks/{id}/delete"), &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, "/talks?done=deleted");
        let response = send(&app, &app.client, Method::GET, "/api/v1/talks", None, None).await;
        let left: Value = response.json().await.unwrap();
        assert!(left["items"].as_array().unwrap().is_empty());
        app
    })
    .await;
}
