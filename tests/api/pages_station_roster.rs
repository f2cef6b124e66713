//! The donor roster's pages and its sheet import (issue 16): the roster listed masked and
//! filtered, kept to station staff of the donors' area (officials 403, another area's donor
//! 404); a donor enrolled from a paper consent with every fault named beside its field; the
//! whole number shown on purpose and audited; deletion after a confirmation step. The roster
//! sheet (API and upload page): every row enrolled in one go (a known mobile updated, not
//! added twice) or none, every bad row and column named; too large a body answered 413; a
//! village beyond the caller's area named as no village at all. And the withdrawal link in
//! every message to a donor on the roster: a booking confirmation and a reminder carry it
//! (each its own, each working until the consent is withdrawn), a message to someone not on
//! the roster does not.

use chrono::Duration;
use reqwest::{Client, Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::bookings::{booked, post_if_match, published_stop, run_outbox, today, unlimited};
use crate::helpers::{
    TestApp, expect_problem, ok_json, on_each_backend, on_each_backend_with, send,
};
use crate::page_client::{get, post, signed_in};
use crate::plans::network;
use crate::recruitment::{COUNTY, LIUWAN, OTHER_CITY_VILLAGE, SHIQIAO, donor, enrol, setup, staff};

/// 西河镇, a township of the demo county without 石桥村 and 柳湾村.
const XIHE: &str = "990101102000";

/// The roster as the API lists it (admin).
async fn roster(app: &TestApp) -> Vec<Value> {
    app.get_ok("/api/v1/recruitment/donors").await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Posts a sheet to the import API.
async fn import(app: &TestApp, client: &Client, sheet: &str) -> reqwest::Response {
    client
        .post(app.url("/api/v1/recruitment/donors/import"))
        .header("content-type", "text/csv")
        .body(sheet.to_owned())
        .send()
        .await
        .unwrap()
}

/// Uploads a sheet through the roster's upload form (multipart, as a browser sends it).
async fn upload(app: &TestApp, client: &Client, sheet: &str) -> (StatusCode, String, String) {
    let boundary = "----donornet-roster-test";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"sheet\"; filename=\"roster.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{sheet}\r\n--{boundary}--\r\n"
    );
    let response = client
        .post(app.url("/station/recruitment/roster/import"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, location, response.text().await.unwrap())
}

#[tokio::test]
async fn staff_list_the_roster_masked_enrol_with_faults_beside_fields_see_a_number_audited_and_delete_after_confirming()
 {
    on_each_backend(|app| async move {
        setup(&app).await;
        let wang = enrol(
            &app,
            &app.client,
            &donor("王芳", "13800138000", "O+", SHIQIAO, None),
        )
        .await;
        enrol(
            &app,
            &app.client,
            &donor("李四", "13900139000", "A+", LIUWAN, None),
        )
        .await;
        let wang_id = wang["donor"]["id"].as_i64().unwrap();
        let chen = signed_in(&app, "chen.station", "station_staff", &[COUNTY]).await;

        // The list: masked, a way back to the recruitment hub, filtered by blood group.
        let (status, page) = get(&app, &chen, "/station/recruitment/roster").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("138****8000") && page.contains("李四"),
            "{page}"
        );
        assert!(!page.contains("13800138000"), "masked: {page}");
        assert!(page.contains("href=\"/station/recruitment\""));
        let (_, only_a) = get(&app, &chen, "/station/recruitment/roster?blood_group=A%2B").await;
        assert!(
            only_a.contains("李四") && !only_a.contains("王芳"),
            "{only_a}"
        );

        // Officials and viewers: refused; another area's staff: the donor does not exist.
        let official = signed_in(&app, "liu.official", "township_official", &[COUNTY]).await;
        let (status, _) = get(&app, &official, "/station/recruitment/roster").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let other = signed_in(&app, "xihe.station", "station_staff", &[XIHE]).await;
        let (status, _) = get(
            &app,
            &other,
            &format!("/station/recruitment/roster/{wang_id}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, theirs) = get(&app, &other, "/station/recruitment/roster").await;
        assert!(!theirs.contains("王芳"), "{theirs}");

        // Enrolling from a paper consent: the wording shown in full; faults beside fields.
        let (status, form) = get(&app, &chen, "/station/recruitment/roster/new").await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("我同意本市中心血站保存我的姓名"), "{form}");
        let (status, _, refused) = post(
            &app,
            &chen,
            "/station/recruitment/roster/new",
            &[
                ("consent_channel", "paper"),
                ("name", "赵六"),
                ("mobile", "1380013"),
                ("village_code", OTHER_CITY_VILLAGE),
                ("last_donation_on", "2026-06-01"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        for hint in [
            "请确认献血者已同意上述内容",
            "请填写 11 位手机号码",
            "没有这个村",
            "填了末次献血日期就要选择献血类型",
        ] {
            assert!(refused.contains(hint), "{hint}: {refused}");
        }
        assert!(refused.contains("aria-invalid=\"true\" aria-describedby=\"agreed-error\""));
        assert!(refused.contains("value=\"赵六\""), "typed values kept");
        assert_eq!(roster(&app).await.len(), 2, "nothing enrolled");
        let (status, location, _) = post(
            &app,
            &chen,
            "/station/recruitment/roster/new",
            &[
                ("consent_channel", "phone"),
                ("agreed", "1"),
                ("consent_on", "2026-12-05"),
                ("name", "赵六"),
                ("mobile", "13700137000"),
                ("village_code", SHIQIAO),
                ("blood_group", "B-"),
                ("last_donation_on", "2026-06-01"),
                ("last_donation_kind", "platelets"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
        let zhao = roster(&app)
            .await
            .into_iter()
            .find(|d| d["name"] == "赵六")
            .expect("enrolled");
        assert_eq!(zhao["consent_channel"], "phone");
        assert_eq!(zhao["blood_group"], "B-");
        assert_eq!(zhao["last_donation_kind"], "platelets");
        assert_eq!(
            location,
            format!("/station/recruitment/roster/{}?done=enrolled", zhao["id"])
        );
        // A village beyond the caller's area is no village for them, agreed or not.
        for agreed in ["1", ""] {
            let (status, _, beyond) = post(
                &app,
                &other,
                "/station/recruitment/roster/new",
                &[
                    ("consent_channel", "paper"),
                    ("agreed", agreed),
                    ("name", "周九"),
                    ("mobile", "13600136000"),
                    ("village_code", SHIQIAO),
                ],
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "agreed {agreed:?}");
            assert!(
                beyond.contains("id=\"village_code-error\">没有这个村"),
                "{beyond}"
            );
        }
        // The same mobile again: said beside the field.
        let (status, _, taken) = post(
            &app,
            &chen,
            "/station/recruitment/roster/new",
            &[
                ("consent_channel", "paper"),
                ("agreed", "1"),
                ("name", "赵六"),
                ("mobile", "13700137000"),
                ("village_code", SHIQIAO),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(taken.contains("这个号码已在名册中"), "{taken}");

        // One donor: masked until asked; the view of the whole number is audited.
        let path = format!("/station/recruitment/roster/{wang_id}");
        let (_, one) = get(&app, &chen, &path).await;
        assert!(
            one.contains("138****8000") && !one.contains("13800138000"),
            "{one}"
        );
        assert!(
            one.contains("<dd>石桥村委会</dd>"),
            "the village by its name: {one}"
        );
        let (status, _, shown) = post(&app, &chen, &format!("{path}/mobile"), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(shown.contains("13800138000"), "{shown}");
        let views = entity::audit_log::Entity::find()
            .filter(entity::audit_log::Column::Entity.eq("donor"))
            .filter(entity::audit_log::Column::Action.eq("view_mobile"))
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(views.len(), 1, "{views:?}");
        assert_eq!(views[0].entity_id, wang_id.to_string());
        assert_eq!(views[0].actor.as_deref(), Some("chen.station"));

        // Deletion on request: a confirmation step, then gone.
        let (status, confirm) = get(&app, &chen, &format!("{path}/delete")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(confirm.contains("id=\"delete-confirm\""), "{confirm}");
        assert_eq!(roster(&app).await.len(), 3, "asking deletes nothing");
        let (status, location, _) = post(&app, &chen, &format!("{path}/delete"), &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, "/station/recruitment/roster?done=deleted");
        let (status, _) = get(&app, &chen, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(roster(&app).await.len(), 2);
        app
    })
    .await;
}

const HEADER: &str = "姓名,手机,血型,Rh,村,末次献血日期,献血类型,同意日期,同意方式\n";

#[tokio::test]
async fn a_roster_sheet_enrols_every_row_in_one_transaction_or_names_every_bad_row_and_writes_nothing()
 {
    on_each_backend(|app| async move {
        setup(&app).await;
        enrol(
            &app,
            &app.client,
            &donor("王芳", "13800138000", "O+", SHIQIAO, None),
        )
        .await;
        let chen = staff(&app, "chen.station", &[COUNTY]).await;

        // Two bad rows (3 and 4): both named, with their columns; nothing written.
        let bad = format!(
            "{HEADER}王芳,13800138000,O,阳性,{SHIQIAO},2026-06-01,全血,2026-12-01,纸质\n\
             李四,1390013,A,阴性,{LIUWAN},,,2026-12-02,电话\n\
             赵六,13700137000,AB,+,{OTHER_CITY_VILLAGE},2026/7/1,,2026-12-03,\n\
             钱七,13600136000,B,-,990101999999,,,2026-12-03,\n"
        );
        let problem = expect_problem(import(&app, &chen, &bad).await, 400, "two bad rows").await;
        let named: Vec<(i64, &str)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["row"].as_i64().unwrap(), e["field"].as_str().unwrap()))
            .collect();
        assert_eq!(
            named,
            [(3, "mobile"), (4, "village"), (4, "kind"), (5, "village")],
            "{problem}"
        );
        // A village beyond the caller's area reads as no village at all.
        let message = |row: i64| {
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["row"] == row && e["field"] == "village")
                .unwrap()["message"]
                .as_str()
                .unwrap()
                .replace(OTHER_CITY_VILLAGE, "CODE")
                .replace("990101999999", "CODE")
        };
        assert_eq!(message(4), message(5), "{problem}");
        assert_eq!(roster(&app).await.len(), 1, "nothing written");

        // A good sheet: every row, the known mobile updated (not twice on the roster).
        let good = format!(
            "\u{feff}name,mobile,abo,rh,village,last_donation,kind,consented_on,channel\n\
             王芳,13800138000,O,阳性,{SHIQIAO},2026-06-01,全血,2026-12-01,纸质\n\
             李四,13900139000,A,阴性,{LIUWAN},,,2026-12-02,电话\n\
             \n\
             赵六,13700137000,AB,+,{SHIQIAO},2026/7/1,血小板,2026-12-03,\n"
        );
        let done = ok_json(import(&app, &chen, &good).await, 200, "a good sheet").await;
        assert_eq!(done, json!({"added": 2, "updated": 1}));
        let all = roster(&app).await;
        assert_eq!(all.len(), 3, "{all:?}");
        let li = all.iter().find(|d| d["name"] == "李四").unwrap();
        assert_eq!(li["blood_group"], "A-");
        assert_eq!(li["consent_channel"], "phone");
        assert_eq!(li["source"], "sheet");
        let wang = all.iter().find(|d| d["name"] == "王芳").unwrap();
        assert_eq!(wang["last_donation_on"], "2026-06-01");
        assert_eq!(wang["last_donation_kind"], "whole_blood");
        // Each new consent was told, with its withdrawal link.
        let told = entity::outbox_message::Entity::find()
            .filter(entity::outbox_message::Column::Kind.eq("roster_consent"))
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(
            told.len(),
            4,
            "the first enrolment, two new and one renewed consent"
        );

        // Too large a body: 413, as a problem.
        let huge = format!("{HEADER}{}", "x".repeat(1024 * 1024 + 1));
        let response = import(&app, &chen, &huge).await;
        assert_eq!(response.status().as_u16(), 413);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        // Officials may not import.
        let official = crate::helpers::bearer_client(
            &crate::helpers::user_with_token(&app.db, "liu", "township_official", &[COUNTY], None)
                .await,
        );
        expect_problem(import(&app, &official, &good).await, 403, "an official").await;

        // The upload page: the same all-or-nothing, every bad row listed.
        let page_staff = signed_in(&app, "zhou.station", "station_staff", &[COUNTY]).await;
        let (status, form) = get(&app, &page_staff, "/station/recruitment/roster/import").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            form.contains("同意日期") && form.contains("consented_on"),
            "{form}"
        );
        let (status, _, refused) = upload(&app, &page_staff, &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(refused.contains("名册表有 4 处问题"), "{refused}");
        assert!(
            refused.contains("<th scope=\"row\">3</th><td>手机 (mobile)</td>"),
            "{refused}"
        );
        let sheet = format!("{HEADER}孙八,13500135000,O,阳性,{SHIQIAO},,,2026-12-04,纸质\n");
        let (status, location, _) = upload(&app, &page_staff, &sheet).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            location,
            "/station/recruitment/roster?done=imported&added=1&updated=0"
        );
        assert_eq!(roster(&app).await.len(), 4);
        app
    })
    .await;
}

/// The `t=` token of the withdrawal link in `body`.
/// A message written where the site's public address is not known (a staff cancellation)
/// carries its withdrawal link as a bare path, made whole when the message leaves.
#[tokio::test]
async fn a_station_cancellation_to_a_roster_donor_leaves_with_a_whole_withdrawal_link() {
    let http = || donornet::config::HttpConfig {
        public_url: Some("https://donors.example.cn".to_owned()),
        ..unlimited()
    };
    on_each_backend_with(http, |app| async move {
        let net = network(&app).await;
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(6),
            "09:00",
            "12:00",
        )
        .await;
        let response = send(
            &app,
            &app.client,
            Method::POST,
            "/api/v1/recruitment/donors",
            Some(&donor("王芳", "13800138000", "O+", "990101101201", None)),
            None,
        )
        .await;
        ok_json(response, 201, "on the roster").await;
        let booking = booked(&app, stop, "王芳", "13800138000", "09:00").await;
        let code = booking["code"].as_str().unwrap();
        let cancel = post_if_match(
            &app,
            &app.client,
            &format!("/api/v1/bookings/{code}/cancel"),
            Some(1),
            &json!({"reason": "献血车检修"}),
        )
        .await;
        assert_eq!(cancel.status().as_u16(), 200);
        let message = || {
            let db = app.db.clone();
            async move {
                entity::outbox_message::Entity::find()
                    .filter(entity::outbox_message::Column::Kind.eq("cancelled_by_station"))
                    .one(&db)
                    .await
                    .unwrap()
                    .expect("the cancellation message")
            }
        };
        let written = message().await;
        assert!(
            written.body.contains("/roster/withdraw?t="),
            "{}",
            written.body
        );
        assert!(!written.body.contains("https://"), "{}", written.body);

        run_outbox(&app).await;
        let left = message().await;
        assert_ne!(left.status, "pending", "{left:?}");
        assert!(
            left.body
                .contains("：https://donors.example.cn/roster/withdraw?t="),
            "{}",
            left.body
        );
        app
    })
    .await;
}

fn withdraw_token(body: &str) -> Option<String> {
    let at = body.find("/roster/withdraw?t=")? + "/roster/withdraw?t=".len();
    Some(body[at..at + 64].to_owned())
}

#[tokio::test]
async fn a_booking_message_to_a_donor_on_the_roster_carries_a_working_withdrawal_link_and_others_do_not()
 {
    let http = || donornet::config::HttpConfig {
        public_url: Some("https://donors.example.cn".to_owned()),
        ..unlimited()
    };
    on_each_backend_with(http, |app| async move {
        let net = network(&app).await;
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(6),
            "09:00",
            "12:00",
        )
        .await;
        let response = send(
            &app,
            &app.client,
            Method::POST,
            "/api/v1/recruitment/donors",
            Some(&donor("王芳", "13800138000", "O+", "990101101201", None)),
            None,
        )
        .await;
        ok_json(response, 201, "on the roster").await;
        booked(&app, stop, "王芳", "13800138000", "09:00").await;
        booked(&app, stop, "李四", "13900139000", "09:30").await;
        let confirmation = |mobile: &'static str| {
            let db = app.db.clone();
            async move {
                entity::outbox_message::Entity::find()
                    .filter(entity::outbox_message::Column::Kind.eq("confirmation"))
                    .filter(entity::outbox_message::Column::Recipient.eq(mobile))
                    .one(&db)
                    .await
                    .unwrap()
                    .expect("a confirmation")
                    .body
            }
        };
        let wang = confirmation("13800138000").await;
        assert!(
            wang.contains("https://donors.example.cn/roster/withdraw?t="),
            "{wang}"
        );
        let li = confirmation("13900139000").await;
        assert!(!li.contains("/roster/withdraw"), "{li}");

        // The day-before reminder too, written once with its link (a second scan adds no link).
        let day = today() + Duration::days(6);
        let starts = day.and_hms_opt(1, 0, 0).unwrap().and_utc(); // 09:00 in China
        let at = starts - Duration::hours(12);
        let site = Some("https://donors.example.cn");
        assert_eq!(
            donornet::outbox::scan_reminders(&app.db, site, at)
                .await
                .unwrap(),
            2
        );
        let links = || async {
            entity::donor_withdraw_link::Entity::find()
                .all(&app.db)
                .await
                .unwrap()
                .len()
        };
        let kept = links().await;
        assert_eq!(kept, 2, "the confirmation's link and the reminder's");
        assert_eq!(
            donornet::outbox::scan_reminders(&app.db, site, at)
                .await
                .unwrap(),
            0
        );
        assert_eq!(links().await, kept);
        let reminders = entity::outbox_message::Entity::find()
            .filter(entity::outbox_message::Column::Kind.eq("day_before"))
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(reminders.len(), 2);
        for r in &reminders {
            assert_eq!(
                r.body
                    .contains("https://donors.example.cn/roster/withdraw?t="),
                r.recipient == "13800138000",
                "{}",
                r.body
            );
        }

        // The link works, and so does the one sent with the consent: each message's own.
        let token = withdraw_token(&wang).unwrap();
        let consent = entity::outbox_message::Entity::find()
            .filter(entity::outbox_message::Column::Kind.eq("roster_consent"))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .body;
        let first = withdraw_token(&consent).unwrap();
        assert_ne!(token, first);
        for t in [&first, &token] {
            let page = app
                .anonymous
                .get(app.url(&format!("/roster/withdraw?t={t}")))
                .send()
                .await
                .unwrap();
            assert_eq!(page.status().as_u16(), 200);
        }
        let done = app
            .anonymous
            .post(app.url("/roster/withdraw"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("t={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status().as_u16(), 200);
        assert!(roster(&app).await.is_empty());
        // Withdrawn: every link of theirs is dead, the links' digests gone with the donor.
        let page = app
            .anonymous
            .get(app.url(&format!("/roster/withdraw?t={first}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 404);
        let links = entity::donor_withdraw_link::Entity::find()
            .all(&app.db)
            .await
            .unwrap();
        assert!(links.is_empty(), "{links:?}");
        app
    })
    .await;
}
