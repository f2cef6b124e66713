//! The township official's village survey pages, over HTTP as a browser without script would
//! use them: signed in through `/login` (a session cookie), plain form posts, a multipart
//! upload. What the pages store is checked through the API as an admin.

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend, user_with_token};

const TOWNSHIP: &str = "411103101000";
/// Another township of the same county (which a township official may read, not enter).
const NEIGHBOUR_VILLAGE: &str = "411103102201";
/// A village of another county.
const FAR_VILLAGE: &str = "411102100201";
const PASSWORD: &str = "a long test password 7";
const FORM: &str = "application/x-www-form-urlencoded";

/// A form as a browser encodes it.
fn encoded(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// A browser without script: the session cookie, the site's `Origin` on every request (as
/// browsers send it with form posts), redirects not followed (so they can be checked).
struct Browser {
    client: reqwest::Client,
    address: String,
}

struct Answer {
    status: u16,
    location: String,
    content_type: String,
    body: String,
}

impl Browser {
    /// Signs `username` (a township official of `township`, created here) in through the
    /// sign-in form.
    async fn official(app: &TestApp, username: &str, township: &str) -> Browser {
        user_with_token(
            &app.db,
            username,
            "township_official",
            &[township],
            Some(PASSWORD),
        )
        .await;
        let plain = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let response = plain
            .post(app.url("/login"))
            .header(ORIGIN, &app.address)
            .header(CONTENT_TYPE, FORM)
            .body(encoded(&[
                ("username", username),
                ("password", PASSWORD),
                ("next", "/township/surveys"),
            ]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 303, "signed in");
        let cookie = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("; ");
        assert!(cookie.contains('='), "a session cookie: {cookie}");
        Browser::with_cookie(app, &cookie)
    }

    fn with_cookie(app: &TestApp, cookie: &str) -> Browser {
        let mut headers = reqwest::header::HeaderMap::new();
        if !cookie.is_empty() {
            headers.insert(COOKIE, cookie.parse().unwrap());
        }
        headers.insert(ORIGIN, app.address.parse().unwrap());
        Browser {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .default_headers(headers)
                .build()
                .unwrap(),
            address: app.address.clone(),
        }
    }

    async fn answer(response: reqwest::Response) -> Answer {
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let (location, content_type) = (header(LOCATION), header(CONTENT_TYPE));
        Answer {
            status: response.status().as_u16(),
            location,
            content_type,
            body: response.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        let url = format!("{}{path}", self.address);
        Self::answer(self.client.get(url).send().await.unwrap()).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        let url = format!("{}{path}", self.address);
        let request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, FORM)
            .body(encoded(form));
        Self::answer(request.send().await.unwrap()).await
    }

    /// Uploads `bytes` as the sheet file `name` (a multipart form, as the page's form sends it).
    async fn upload(&self, township: &str, name: &str, content_type: &str, bytes: &[u8]) -> Answer {
        let boundary = "----donornet-test-7d1f";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"sheet\"; filename=\"{name}\"\r\n\
             Content-Type: {content_type}\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let url = format!(
            "{}/township/surveys/sheet?township={township}",
            self.address
        );
        let response = self
            .client
            .post(url)
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        Self::answer(response).await
    }
}

/// The value of the form field `name` as the page renders it (`name="x" … value="…"`).
fn field_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"")? + "value=\"".len();
    Some(tag[v..v + tag[v..].find('"')?].to_owned())
}

/// The villages of the township, in code order.
async fn villages(app: &TestApp) -> Vec<(String, String)> {
    app.list_all(&format!("parent={TOWNSHIP}"), 500)
        .await
        .iter()
        .map(|v| {
            (
                v["code"].as_str().unwrap().to_owned(),
                v["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn history(app: &TestApp, village: &str) -> Vec<Value> {
    app.get_ok(&format!("/api/v1/regions/{village}/surveys"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

fn days_ago(n: u64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Days::new(n)).to_string()
}

/// Records a survey of `village` through the API, as an admin.
async fn recorded(app: &TestApp, village: &str, total: i64, on: &str) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/regions/{village}/surveys")))
        .json(&json!({"eligible_total": total, "surveyed_on": on, "source": "village_doctor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
}

#[tokio::test]
async fn five_villages_in_a_row_each_move_on_to_the_next_and_are_stored() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let villages = villages(&app).await;
        let count = villages.len();
        let official = Browser::official(&app, "mengmiao", TOWNSHIP).await;

        let desk = official.get("/township/surveys").await;
        assert_eq!(desk.status, 200);
        assert!(desk.body.contains("孟庙镇"), "the official's township");
        assert!(
            desk.body
                .contains(&format!("href=\"/township/surveys/{}\"", villages[0].0)),
            "starts at the first village"
        );
        assert!(desk.body.contains(&format!("已有 0 / {count} 个村的调查")));

        let date = days_ago(3);
        let mut path = format!("/township/surveys/{}", villages[0].0);
        for (i, (code, name)) in villages.iter().take(5).enumerate() {
            let screen = official.get(&path).await;
            assert_eq!(screen.status, 200, "{path}");
            assert!(screen.body.contains(name.as_str()), "{name}'s screen");
            assert!(
                screen
                    .body
                    .contains(&format!("第 {} / {count} 个村", i + 1)),
                "progress on village {i}"
            );
            assert!(screen.body.contains("还没有调查"), "no last survey yet");
            if i > 0 {
                // The previous screen's date and surveyor are carried on.
                assert!(
                    screen
                        .body
                        .contains(&format!("已保存 {}", villages[i - 1].1))
                );
                assert_eq!(field_value(&screen.body, "surveyed_on").unwrap(), date);
                assert_eq!(field_value(&screen.body, "surveyed_by").unwrap(), "李医生");
            }
            let next = field_value(&screen.body, "next").unwrap();
            assert_eq!(next, villages[i + 1].0, "the next village in code order");
            let total = (100 + 10 * i).to_string();
            let saved = official
                .post(
                    &format!("/township/surveys/{code}"),
                    &[
                        ("next", next.as_str()),
                        ("eligible_total", total.as_str()),
                        ("surveyed_on", date.as_str()),
                        ("source", "household_register"),
                        ("surveyed_by", "李医生"),
                    ],
                )
                .await;
            assert_eq!(saved.status, 303, "{}", saved.body);
            assert!(
                saved
                    .location
                    .starts_with(&format!("/township/surveys/{next}?saved={code}&")),
                "{}",
                saved.location
            );
            path = saved.location;
        }
        for (i, (code, _)) in villages.iter().take(5).enumerate() {
            let h = history(&app, code).await;
            assert_eq!(h.len(), 1, "{code}");
            assert_eq!(h[0]["eligible_total"], 100 + 10 * i as i64);
            assert_eq!(h[0]["surveyed_on"], date.as_str());
            assert_eq!(h[0]["source"], "household_register");
            assert_eq!(h[0]["surveyed_by"], "李医生");
            assert_eq!(h[0]["created_by"], "mengmiao");
        }
        assert!(history(&app, &villages[5].0).await.is_empty());

        // Coming back to a village shows its last survey beside the form.
        let again = official
            .get(&format!("/township/surveys/{}", villages[1].0))
            .await;
        assert!(again.body.contains("110 人"), "the last survey's figure");
        assert!(again.body.contains("李医生"), "who was asked");
        // The desk counts them; the last village goes back to the desk.
        let desk = official.get("/township/surveys").await;
        assert!(desk.body.contains(&format!("已有 5 / {count} 个村的调查")));
        let (last, _) = villages.last().unwrap();
        let screen = official.get(&format!("/township/surveys/{last}")).await;
        assert_eq!(field_value(&screen.body, "next").unwrap(), "");
        let saved = official
            .post(
                &format!("/township/surveys/{last}"),
                &[
                    ("next", ""),
                    ("eligible_total", "50"),
                    ("surveyed_on", date.as_str()),
                    ("source", "village_doctor"),
                ],
            )
            .await;
        assert_eq!(saved.status, 303);
        assert!(
            saved
                .location
                .starts_with(&format!("/township/surveys?township={TOWNSHIP}"))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_large_change_is_asked_inline_and_stored_only_once_confirmed() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let villages = villages(&app).await;
        let (village, name) = &villages[2];
        recorded(&app, village, 600, &days_ago(30)).await;
        let official = Browser::official(&app, "mengmiao", TOWNSHIP).await;
        let path = format!("/township/surveys/{village}");
        let today = days_ago(0);
        let form = |total: &'static str, confirm: Option<&'static str>| {
            let mut f = vec![
                ("next", villages[3].0.as_str()),
                ("eligible_total", total),
                ("surveyed_on", today.as_str()),
                ("source", "village_doctor"),
            ];
            if let Some(c) = confirm {
                f.push(("confirm_large_change", c));
            }
            f
        };

        let asked = official.post(&path, &form("2000", None)).await;
        assert_eq!(asked.status, 400);
        assert!(
            asked.body.contains(&format!("{name}上次调查")) && asked.body.contains("相差超过 3 倍"),
            "the question in plain words: {}",
            asked.body
        );
        assert!(asked.body.contains("600 人") || asked.body.contains("是 600 人"));
        assert_eq!(
            field_value(&asked.body, "eligible_total").unwrap(),
            "2000",
            "kept"
        );
        assert_eq!(
            field_value(&asked.body, "confirm_large_change").unwrap(),
            "2000",
            "the button confirms that figure"
        );
        assert!(
            !asked.body.contains("id=\"eligible_total-error\""),
            "asked, not shown as an error"
        );
        assert_eq!(history(&app, village).await.len(), 1, "nothing stored yet");

        // A confirmation of another figure does not hold for this one.
        let again = official.post(&path, &form("2400", Some("2000"))).await;
        assert_eq!(again.status, 400);
        assert_eq!(
            field_value(&again.body, "confirm_large_change").unwrap(),
            "2400"
        );
        assert_eq!(history(&app, village).await.len(), 1);

        let confirmed = official.post(&path, &form("2000", Some("2000"))).await;
        assert_eq!(confirmed.status, 303, "{}", confirmed.body);
        assert!(
            confirmed
                .location
                .starts_with(&format!("/township/surveys/{}", villages[3].0))
        );
        let h = history(&app, village).await;
        assert_eq!(h.len(), 2);
        assert_eq!(h[0]["eligible_total"], 2000);
        // Within 3x no question is asked.
        let within = official.post(&path, &form("2500", None)).await;
        assert_eq!(within.status, 303);
        app
    })
    .await;
}

#[tokio::test]
async fn a_survey_typed_beside_one_no_longer_current_shows_both_and_saving_again_records_it() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let villages = villages(&app).await;
        let (code, name) = &villages[0];
        recorded(&app, code, 600, &days_ago(30)).await;
        let official = Browser::official(&app, "mengmiao", TOWNSHIP).await;
        let screen = official.get(&format!("/township/surveys/{code}")).await;
        let seen = field_value(&screen.body, "based_on").unwrap();
        assert_eq!(seen, history(&app, code).await[0]["id"].to_string());
        let next = field_value(&screen.body, "next").unwrap();
        // While the form waits (on a phone without signal), another survey becomes current.
        recorded(&app, code, 640, &days_ago(1)).await;
        let current = history(&app, code).await[0]["id"].to_string();
        let today = days_ago(0);
        let typed = [
            ("next", next.as_str()),
            ("based_on", seen.as_str()),
            ("eligible_total", "655"),
            ("surveyed_on", today.as_str()),
            ("source", "village_doctor"),
            ("surveyed_by", "李医生"),
        ];
        let refused = official
            .post(&format!("/township/surveys/{code}"), &typed)
            .await;
        assert_eq!(refused.status, 409, "{}", refused.body);
        assert!(
            refused
                .body
                .contains(&format!("在您填写之后，{name}又记了一次调查")),
            "{}",
            refused.body
        );
        assert!(
            refused
                .body
                .contains("<td class=\"mine\">655</td><td class=\"current\">640</td>")
        );
        // What was typed is kept; the form is now based on the current survey.
        assert_eq!(field_value(&refused.body, "eligible_total").unwrap(), "655");
        assert_eq!(field_value(&refused.body, "based_on").unwrap(), current);
        assert_eq!(history(&app, code).await.len(), 2, "nothing recorded");
        // Saving again (the refused page's form as it is) records it.
        let mut again: Vec<(&str, &str)> = typed.to_vec();
        again[1].1 = current.as_str();
        let saved = official
            .post(&format!("/township/surveys/{code}"), &again)
            .await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let h = history(&app, code).await;
        assert_eq!(h[0]["eligible_total"], 655, "{h:?}");
        assert_eq!(h.len(), 3);
        // The next screen keeps the saved village's screen and the one after fresh on the phone.
        let screen = official.get(&saved.location).await;
        assert!(
            screen.body.contains(&format!(
                "data-keep-ahead=\"/township/surveys/{code} /township/surveys/{}\"",
                villages[2].0
            )),
            "{}",
            screen.body
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_bad_value_is_named_beside_its_field_and_what_was_typed_is_kept() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let villages = villages(&app).await;
        let village = &villages[0].0;
        let official = Browser::official(&app, "mengmiao", TOWNSHIP).await;
        let path = format!("/township/surveys/{village}");
        let today = days_ago(0);

        // Sexes that do not add up: the service's rule, in the catalogue's words.
        let bad = official
            .post(
                &path,
                &[
                    ("eligible_total", "600"),
                    ("male", "100"),
                    ("female", "200"),
                    ("surveyed_on", today.as_str()),
                    ("source", "committee_estimate"),
                    ("surveyed_by", "王会计"),
                    ("notes", "东头两户外迁"),
                ],
            )
            .await;
        assert_eq!(bad.status, 400);
        assert!(bad.body.contains("有几项需要修改"));
        assert!(
            bad.body.contains("id=\"male-error\""),
            "the error beside the field"
        );
        assert!(
            bad.body
                .contains("男、女人数要一起填，两者相加等于适龄人数。")
        );
        assert!(
            bad.body.contains("<details class=\"more\" open>"),
            "opened where the error is"
        );
        for (field, typed) in [
            ("eligible_total", "600"),
            ("male", "100"),
            ("female", "200"),
            ("surveyed_by", "王会计"),
        ] {
            assert_eq!(
                field_value(&bad.body, field).unwrap(),
                typed,
                "{field} kept"
            );
        }
        assert!(bad.body.contains(">东头两户外迁</textarea>"), "notes kept");
        assert!(
            bad.body
                .contains("<option value=\"committee_estimate\" selected>"),
            "source kept"
        );

        // A total that is not a number, and a date in the future.
        let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
        let bad = official
            .post(
                &path,
                &[
                    ("eligible_total", "六百"),
                    ("surveyed_on", tomorrow.as_str()),
                    ("source", "village_doctor"),
                ],
            )
            .await;
        assert_eq!(bad.status, 400);
        assert!(bad.body.contains("id=\"eligible_total-error\""));
        assert!(bad.body.contains("请填 18–60 岁的人数"));
        assert_eq!(field_value(&bad.body, "eligible_total").unwrap(), "六百");
        let future = official
            .post(
                &path,
                &[
                    ("eligible_total", "600"),
                    ("surveyed_on", tomorrow.as_str()),
                    ("source", "village_doctor"),
                ],
            )
            .await;
        assert_eq!(future.status, 400);
        assert!(future.body.contains("id=\"surveyed_on-error\""));
        assert_eq!(field_value(&future.body, "surveyed_on").unwrap(), tomorrow);
        assert!(history(&app, village).await.is_empty(), "nothing stored");

        // Full-width digits (a Chinese keyboard's) are digits.
        let ok = official
            .post(
                &path,
                &[
                    ("eligible_total", "６２０"),
                    ("surveyed_on", today.as_str()),
                    ("source", "village_doctor"),
                ],
            )
            .await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert_eq!(history(&app, village).await[0]["eligible_total"], 620);
        app
    })
    .await;
}

fn csv(rows: &[&str]) -> Vec<u8> {
    let mut out =
        "village_code,eligible_total,surveyed_on,source,confirm_large_change\n".to_owned();
    for r in rows {
        out.push_str(r);
        out.push('\n');
    }
    out.into_bytes()
}

#[tokio::test]
async fn the_sheet_preview_lists_the_changes_and_stores_nothing_until_confirmed() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let villages = villages(&app).await;
        let (a, b, c) = (&villages[0], &villages[1], &villages[2]);
        recorded(&app, &a.0, 600, &days_ago(30)).await;
        recorded(&app, &c.0, 400, &days_ago(30)).await;
        let official = Browser::official(&app, "mengmiao", TOWNSHIP).await;

        // The download is the service's sheet of the township.
        let csv_file = official
            .get(&format!(
                "/township/surveys/sheet/download?township={TOWNSHIP}&format=csv"
            ))
            .await;
        assert_eq!(csv_file.status, 200);
        assert!(csv_file.content_type.starts_with("text/csv"));
        assert_eq!(csv_file.body.lines().count(), villages.len() + 1);
        assert!(csv_file.body.contains(&a.0) && csv_file.body.contains("600"));
        let xlsx = official
            .get(&format!(
                "/township/surveys/sheet/download?township={TOWNSHIP}&format=xlsx"
            ))
            .await;
        assert_eq!(xlsx.status, 200);
        assert!(xlsx.content_type.contains("spreadsheetml"));

        let on = days_ago(2);
        let sheet = csv(&[
            &format!("{},2000,{on},村医,是", a.0),
            &format!("{},300,{on},村医,", b.0),
            &format!("{},400,{},village_doctor,", c.0, days_ago(30)),
        ]);
        let uploaded = official
            .upload(TOWNSHIP, "孟庙镇.csv", "text/csv", &sheet)
            .await;
        assert_eq!(uploaded.status, 303, "{}", uploaded.body);
        assert!(uploaded.location.starts_with("/township/surveys/sheet/"));
        let preview_path = uploaded.location.clone();

        let preview = official.get(&preview_path).await;
        assert_eq!(preview.status, 200, "{}", preview.body);
        assert!(
            preview.body.contains("将保存 2 个村的调查"),
            "{}",
            preview.body
        );
        assert!(preview.body.contains(&a.1) && preview.body.contains("600 → 2000 人"));
        assert!(preview.body.contains(&b.1) && preview.body.contains("无 → 300 人"));
        assert!(
            preview.body.contains("与上次相差超过 3 倍"),
            "the 3x change is pointed out"
        );
        assert!(
            preview.body.contains("另有 1 个村与已有的调查相同"),
            "the repeated row"
        );
        assert!(preview.body.contains("孟庙镇.csv"));
        assert_eq!(
            history(&app, &a.0).await.len(),
            1,
            "the preview stores nothing"
        );
        assert!(history(&app, &b.0).await.is_empty());

        let applied = official.post(&format!("{preview_path}/apply"), &[]).await;
        assert_eq!(applied.status, 303, "{}", applied.body);
        assert_eq!(
            applied.location,
            format!("/township/surveys?township={TOWNSHIP}&applied=2")
        );
        let desk = official.get(&applied.location).await;
        assert!(desk.body.contains("已保存 2 个村的调查。"));
        assert_eq!(history(&app, &a.0).await[0]["eligible_total"], 2000);
        assert_eq!(history(&app, &b.0).await[0]["eligible_total"], 300);
        assert_eq!(
            history(&app, &c.0).await.len(),
            1,
            "the repeated row is left alone"
        );
        // Applied once: the kept sheet is gone.
        let gone = official.get(&preview_path).await;
        assert_eq!(gone.status, 303);
        assert_eq!(gone.location, "/township/surveys?expired=1");

        // Cancelled: nothing stored.
        let sheet = csv(&[&format!("{},320,{on},村医,", villages[3].0)]);
        let uploaded = official
            .upload(TOWNSHIP, "again.csv", "text/csv", &sheet)
            .await;
        let preview = official.get(&uploaded.location).await;
        assert!(preview.body.contains("无 → 320 人"));
        let cancelled = official
            .post(&format!("{}/cancel", uploaded.location), &[])
            .await;
        assert_eq!(cancelled.status, 303);
        assert!(
            official
                .get(&cancelled.location)
                .await
                .body
                .contains("已取消")
        );
        assert!(history(&app, &villages[3].0).await.is_empty());
        assert_eq!(
            official.get(&uploaded.location).await.status,
            303,
            "forgotten"
        );

        // A sheet with bad rows: each row and why, nothing to confirm, nothing stored.
        let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
        let sheet = csv(&[
            &format!("{},330,{on},村医,", villages[4].0),
            &format!("{},330,{tomorrow},村医,", villages[5].0),
            &format!("{NEIGHBOUR_VILLAGE},200,{on},村医,"),
        ]);
        let uploaded = official
            .upload(TOWNSHIP, "bad.csv", "text/csv", &sheet)
            .await;
        let preview = official.get(&uploaded.location).await;
        assert_eq!(preview.status, 200);
        assert!(
            preview.body.contains("表格中有 2 处需要修改"),
            "{}",
            preview.body
        );
        assert!(preview.body.contains("第 3 行 · 调查日期"));
        assert!(preview.body.contains("第 4 行 · 村代码"));
        assert!(!preview.body.contains("/apply\""), "nothing to confirm");
        assert!(history(&app, &villages[4].0).await.is_empty());

        // Not a sheet.
        let refused = official
            .upload(TOWNSHIP, "photo.jpg", "image/jpeg", b"\xff\xd8")
            .await;
        assert_eq!(refused.status, 400);
        assert!(refused.body.contains("只能上传 XLSX 或 CSV 格式的调查表"));
        app
    })
    .await;
}

#[tokio::test]
async fn another_townships_villages_are_not_found_and_nobody_signed_in_goes_to_sign_in() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let official = Browser::official(&app, "mengmiao", TOWNSHIP).await;
        let today = days_ago(0);
        for village in [NEIGHBOUR_VILLAGE, FAR_VILLAGE, "411103101999", "nonsense"] {
            let path = format!("/township/surveys/{village}");
            assert_eq!(official.get(&path).await.status, 404, "{village}");
            let posted = official
                .post(
                    &path,
                    &[
                        ("eligible_total", "300"),
                        ("surveyed_on", today.as_str()),
                        ("source", "village_doctor"),
                    ],
                )
                .await;
            assert_eq!(posted.status, 404, "{village}");
        }
        assert!(history(&app, NEIGHBOUR_VILLAGE).await.is_empty());
        let neighbour = "411103102000";
        assert_eq!(
            official
                .get(&format!("/township/surveys?township={neighbour}"))
                .await
                .status,
            404
        );
        assert_eq!(
            official
                .get(&format!(
                    "/township/surveys/sheet/download?township={neighbour}"
                ))
                .await
                .status,
            404
        );
        let sheet = csv(&[&format!("{NEIGHBOUR_VILLAGE},300,{today},村医,")]);
        let upload = official
            .upload(neighbour, "a.csv", "text/csv", &sheet)
            .await;
        assert_eq!(upload.status, 404);
        assert!(history(&app, NEIGHBOUR_VILLAGE).await.is_empty());

        // Another official's kept sheet is not found either.
        let own = official
            .upload(TOWNSHIP, "a.csv", "text/csv", &csv(&[]))
            .await;
        let other = Browser::official(&app, "shangqiao", neighbour).await;
        let peek = other.get(&own.location).await;
        assert_eq!(peek.location, "/township/surveys?expired=1");

        let nobody = Browser::with_cookie(&app, "");
        let answer = nobody.get("/township/surveys").await;
        assert_eq!(answer.status, 303);
        assert!(
            answer.location.starts_with("/login?next="),
            "{}",
            answer.location
        );
        let answer = nobody
            .get(&format!("/township/surveys/{FAR_VILLAGE}"))
            .await;
        assert!(answer.location.starts_with("/login?next="));
        app
    })
    .await;
}
