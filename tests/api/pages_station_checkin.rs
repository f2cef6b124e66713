//! A stop's check-in desk over HTTP (the browser test is `browser::station_checkin`): the
//! bookings searched by code, name and mobile; a booked check-in and a walk-in; a check-in
//! posted twice (as a form kept offline and sent again would be) admits nobody twice; the
//! outcomes (donated with volume and blood group, deferred with a category) and the live
//! counts against the forecast; a refused outcome names its field beside it, a stale one shows
//! mine / current; a viewer is refused (403) and a reader out of reach finds nothing (404).
//! The network is the planning tests' (`crate::plans::network`).

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::Value;

use crate::bookings::{booked, published_stop, today, unlimited};
use crate::helpers::{TestApp, on_each_backend_with};
use crate::plans::{CITY, COUNTY, network};

use crate::page_client::{get, post, signed_in};

/// The stop's attendances through the API, in check-in order.
async fn attendances(app: &TestApp, stop: i64) -> Vec<Value> {
    app.get_ok(&format!("/api/v1/stops/{stop}/attendances"))
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// The value of the desk's count `id`.
fn count(page: &str, id: &str) -> String {
    let start = page
        .find(&format!("id=\"count-{id}\""))
        .unwrap_or_else(|| panic!("count {id} in {page}"));
    let dd = start + page[start..].find("<dd>").unwrap() + 4;
    let end = dd + page[dd..].find("</dd>").unwrap();
    page[dd..end].to_owned()
}

/// A stop published for a day five days ahead with 张三 and 李四 booked, the server's day
/// moved to it; (stop, drive, 张三's code, 李四's code).
async fn drive_day(app: &TestApp) -> (i64, i64, String, String) {
    let net = network(app).await;
    let day = today() + Duration::days(5);
    let (drive, stop) =
        published_stop(app, net.vehicles[0], net.points[0], day, "09:00", "11:00").await;
    let zhang = booked(app, stop, "张三", "13800001234", "09:00").await;
    let li = booked(app, stop, "李四", "13900005678", "09:30").await;
    app.set_today(&day.to_string());
    (
        stop,
        drive,
        zhang["code"].as_str().unwrap().to_owned(),
        li["code"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn staff_search_check_in_and_record_outcomes_against_the_forecast() {
    on_each_backend_with(unlimited, |app| async move {
        let (stop, drive, zhang, li) = drive_day(&app).await;
        let staff = signed_in(&app, "chen.station", "station_staff", &[CITY]).await;
        let desk = format!("/station/stops/{stop}/checkin");

        // The drive's page links to the desk.
        let (_, page) = get(&app, &staff, &format!("/station/drives/{drive}")).await;
        assert!(page.contains(&format!("href=\"{desk}\"")), "{page}");

        // The desk: both bookings, mobiles whole, the forecast, nobody in yet.
        let (status, page) = get(&app, &staff, &desk).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("张三") && page.contains("李四"), "{page}");
        assert!(page.contains("13800001234"), "{page}");
        assert_eq!(count(&page, "expected"), "20");
        assert_eq!(count(&page, "checked-in"), "0");

        // Search by code (as read out: lower case, with spaces), by name, by mobile.
        let lower = zhang.to_lowercase();
        let spoken = format!("{}%20{}", &lower[..4], &lower[4..]);
        let (_, page) = get(&app, &staff, &format!("{desk}?q={spoken}")).await;
        assert!(page.contains("张三") && !page.contains("李四"), "{page}");
        let (_, page) = get(&app, &staff, &format!("{desk}?q=%E6%9D%8E%E5%9B%9B")).await;
        assert!(page.contains("李四") && !page.contains("张三"), "{page}");
        let (_, page) = get(&app, &staff, &format!("{desk}?q=139-0000-5678")).await;
        assert!(page.contains("李四") && !page.contains("张三"), "{page}");
        let (_, page) = get(&app, &staff, &format!("{desk}?q=nobody")).await;
        assert!(page.contains("id=\"no-bookings\""), "{page}");

        // 张三 checks in; the same form sent again (kept offline, then once more) is refused.
        let fields = [
            ("booking_code", zhang.as_str()),
            ("_offline", "签到 · 张三"),
            ("_offline_next", desk.as_str()),
        ];
        let (status, location, _) = post(&app, &staff, &desk, &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("{desk}?done=checked_in"));
        let (status, _, page) = post(&app, &staff, &desk, &fields).await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(
            page.contains("张三 的预约已经全部签到，不能再签一次。"),
            "{page}"
        );
        assert_eq!(attendances(&app, stop).await.len(), 1);

        // A walk-in; without a name it is refused with the name field marked.
        let (status, _, page) = post(
            &app,
            &staff,
            &desk,
            &[("name", " "), ("mobile", "13700001111")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(
            page.contains("id=\"walkin-name-error\">请填写姓名。"),
            "{page}"
        );
        assert!(page.contains("value=\"13700001111\""), "{page}");
        let (status, _, _) = post(
            &app,
            &staff,
            &desk,
            &[("name", "王五"), ("mobile", "13700001111")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        // 张三's mobile again as a walk-in: the same person, not admitted twice.
        let (status, _, page) = post(
            &app,
            &staff,
            &desk,
            &[("name", "张三"), ("mobile", "13800001234")],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(
            page.contains("这个手机号已经在本点签到过（张三）"),
            "{page}"
        );
        let people = attendances(&app, stop).await;
        assert_eq!(people.len(), 2);
        let (zhang_id, wang_id) = (
            people[0]["id"].as_i64().unwrap(),
            people[1]["id"].as_i64().unwrap(),
        );
        assert_eq!(people[1]["kind"], "walk_in");

        // Outcomes: 张三 donated 400 mL of A+, 王五 deferred for low haemoglobin.
        let outcome = |id: i64| format!("/station/stops/{stop}/attendances/{id}/outcome");
        let (status, location, _) = post(
            &app,
            &staff,
            &outcome(zhang_id),
            &[
                ("version", "1"),
                ("volume_ml", "400"),
                ("abo", "A"),
                ("rh", "+"),
                ("outcome", "donated"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("{desk}?done=recorded"));

        // A donation without its volume: refused, the volume named beside its field.
        let (status, _, page) = post(
            &app,
            &staff,
            &outcome(wang_id),
            &[
                ("version", "1"),
                ("volume_ml", ""),
                ("abo", "O"),
                ("outcome", "donated"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(
            page.contains(&format!(
                "id=\"vol-{wang_id}-error\">请选择献血量：200、300 或 400 mL。"
            )),
            "{page}"
        );
        let (status, _, page) = post(
            &app,
            &staff,
            &outcome(wang_id),
            &[
                ("version", "1"),
                ("deferral_category", ""),
                ("outcome", "deferred"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(
            page.contains(&format!("id=\"cat-{wang_id}-error\">请选择暂缓原因。")),
            "{page}"
        );
        let (status, _, _) = post(
            &app,
            &staff,
            &outcome(wang_id),
            &[
                ("version", "1"),
                ("deferral_category", "low_hemoglobin"),
                ("outcome", "deferred"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);

        // The same outcome sent again from a form kept offline, on the old version: stale,
        // mine / current shown, nothing changed.
        let (status, _, page) = post(
            &app,
            &staff,
            &outcome(wang_id),
            &[
                ("version", "1"),
                ("volume_ml", "200"),
                ("outcome", "donated"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("王五 的记录刚被别人改过"), "{page}");
        assert!(
            page.contains("<td class=\"mine\">已献血</td><td class=\"current\">暂缓献血</td>"),
            "{page}"
        );

        // The counts against the forecast, and the API agrees.
        let (_, page) = get(&app, &staff, &desk).await;
        assert_eq!(count(&page, "checked-in"), "2");
        assert_eq!(count(&page, "donated"), "1");
        assert_eq!(count(&page, "deferred"), "1");
        assert_eq!(count(&page, "ml"), "400");
        assert!(page.contains("400 mL · A+"), "{page}");
        assert!(page.contains("血红蛋白偏低"), "{page}");
        let people = attendances(&app, stop).await;
        assert_eq!(people[0]["outcome"], "donated");
        assert_eq!(people[0]["volume_ml"], 400);
        assert_eq!(people[0]["abo"], "A");
        assert_eq!(people[0]["rh"], "+");
        assert_eq!(people[1]["outcome"], "deferred");
        assert_eq!(people[1]["deferral_category"], "low_hemoglobin");
        assert_eq!(people[1]["version"], 2);

        // 李四 is still to come: the search finds them with their check-in button.
        let (_, page) = get(&app, &staff, &format!("{desk}?q={li}")).await;
        assert!(page.contains(&format!("id=\"checkin-{li}\"")), "{page}");
        app
    })
    .await;
}

#[tokio::test]
async fn readers_without_rights_are_refused_and_outside_reach_nothing_exists() {
    on_each_backend_with(unlimited, |app| async move {
        let (stop, drive, zhang, _) = drive_day(&app).await;
        let desk = format!("/station/stops/{stop}/checkin");
        let staff = signed_in(&app, "chen.station", "station_staff", &[CITY]).await;
        let (status, _, _) = post(&app, &staff, &desk, &[("booking_code", zhang.as_str())]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let id = attendances(&app, stop).await[0]["id"].as_i64().unwrap();
        let outcome = format!("/station/stops/{stop}/attendances/{id}/outcome");
        let deferred = [
            ("version", "1"),
            ("deferral_category", "weight"),
            ("outcome", "deferred"),
        ];

        // A viewer of the county reads the drive without the desk's link, and is refused.
        let viewer = signed_in(&app, "zhao.viewer", "viewer", &[COUNTY]).await;
        let (status, page) = get(&app, &viewer, &format!("/station/drives/{drive}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!page.contains(&desk), "{page}");
        let (status, _) = get(&app, &viewer, &desk).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = post(&app, &viewer, &desk, &[("name", "赵六")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = post(&app, &viewer, &outcome, &deferred).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Outside the reader's reach the stop does not exist, its name unsaid.
        app.import_luohe().await;
        let elsewhere = signed_in(&app, "far.away", "station_staff", &["411103000000"]).await;
        let (status, page) = get(&app, &elsewhere, &desk).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!page.contains("张三"), "{page}");
        let (status, _, _) = post(&app, &elsewhere, &desk, &[("name", "赵六")]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) = post(&app, &elsewhere, &outcome, &deferred).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // An attendance under another stop's address does not exist either.
        let (status, _, _) = post(
            &app,
            &staff,
            &format!("/station/stops/{}/attendances/{id}/outcome", stop + 1000),
            &deferred,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Nothing was changed by the refused posts.
        let people = attendances(&app, stop).await;
        assert_eq!(people.len(), 1);
        assert_eq!(people[0]["outcome"], "registered");
        app
    })
    .await;
}

/// The donor roster at the desk (issue 16): both forms offer "agrees to be on the donor
/// roster" with the standard wording beside it; ticked, the check-in puts the donor on the
/// roster (a mobile and a village needed, each named beside its field when missing), and the
/// message telling them so carries an absolute withdrawal link.
#[tokio::test]
async fn consent_ticked_at_the_desk_puts_the_donor_on_the_roster_with_an_absolute_withdrawal_link()
{
    let http = || donornet::config::HttpConfig {
        public_url: Some("https://donors.example.cn".to_owned()),
        ..unlimited()
    };
    on_each_backend_with(http, |app| async move {
        let (stop, _, zhang, _) = drive_day(&app).await;
        let staff = signed_in(&app, "chen.station", "station_staff", &[CITY]).await;
        let desk = format!("/station/stops/{stop}/checkin");
        let (_, page) = get(&app, &staff, &desk).await;
        let wording = donornet::recruitment::roster::standard_wording();
        assert!(page.contains(&wording), "{page}");
        assert!(page.contains("id=\"walkin-consent\""));
        assert!(page.contains(&format!("id=\"consent-{zhang}\"")));

        // Ticked without a mobile and a village: both named, nobody checked in.
        let (status, _, refused) =
            post(&app, &staff, &desk, &[("name", "赵六"), ("consent", "1")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(refused.contains("加入献血者名册需要手机号"), "{refused}");
        assert!(
            refused.contains("加入献血者名册需要居住村代码"),
            "{refused}"
        );
        assert!(attendances(&app, stop).await.is_empty());

        let (status, _, _) = post(
            &app,
            &staff,
            &desk,
            &[
                ("name", "赵六"),
                ("mobile", "13700137000"),
                ("village_code", "990101101201"),
                ("consent", "1"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        // A booked check-in consents too: the booking's mobile, the village typed.
        let (status, _, _) = post(
            &app,
            &staff,
            &desk,
            &[
                ("booking_code", zhang.as_str()),
                ("village_code", "990101101201"),
                ("consent", "1"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        // Not ticked: not on the roster.
        let (status, _, _) = post(
            &app,
            &staff,
            &desk,
            &[
                ("name", "孙八"),
                ("mobile", "13500135000"),
                ("village_code", "990101101201"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let roster = app.get_ok("/api/v1/recruitment/donors").await;
        let mut names: Vec<&str> = roster["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["张三", "赵六"], "{roster}");
        assert!(
            roster["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["consent_channel"] == "check_in"
                    && d["consent_wording"] == wording.as_str())
        );
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let told = entity::outbox_message::Entity::find()
            .filter(entity::outbox_message::Column::Kind.eq("roster_consent"))
            .filter(entity::outbox_message::Column::Recipient.eq("13700137000"))
            .one(&app.db)
            .await
            .unwrap()
            .expect("told");
        assert!(
            told.body
                .contains("https://donors.example.cn/roster/withdraw?t="),
            "{}",
            told.body
        );
        app
    })
    .await;
}
