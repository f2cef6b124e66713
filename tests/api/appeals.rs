//! Appeals and outreach (issue 16) through the HTTP API: a station's appeal template
//! (versioned, built in until edited), appeals with a tracking code in their booking link,
//! attribution of public bookings made through that link (API and page), the text and QR code
//! downloads, chat groups whose robot keys are never shown, sends written once and posted to
//! a WeCom stub with the documented JSON, and the per-appeal figures; scoped and audited.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use base64::Engine as _;
use chrono::Duration;
use md5::Digest as _;
use reqwest::{Client, Method, redirect};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::bookings::{published_stop, today, unlimited};
use crate::helpers::{TestApp, backends, expect_problem, ok_json, on_each_backend_with, send};
use crate::plans::{COUNTY, network};

/// 东岭镇, the township of the network's first point.
const DONGLING: &str = "990101101000";
/// 西河乡, another township of the demo county (the drives are at 东岭镇's points).
const XIHE: &str = "990101102000";

/// The unambiguous alphabet of tracking codes.
const ALPHABET: &str = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

pub(crate) async fn station_id(app: &TestApp) -> i64 {
    let stations = app.get_ok("/api/v1/stations").await;
    let items = stations
        .get("items")
        .and_then(Value::as_array)
        .or_else(|| stations.as_array())
        .cloned()
        .unwrap();
    items[0]["id"].as_i64().unwrap()
}

async fn make_appeal(app: &TestApp, client: &Client, body: &Value) -> reqwest::Response {
    send(
        app,
        client,
        Method::POST,
        "/api/v1/appeals",
        Some(body),
        None,
    )
    .await
}

pub(crate) async fn appeal(app: &TestApp, body: &Value) -> Value {
    ok_json(
        make_appeal(app, &app.client, body).await,
        201,
        &format!("making an appeal {body}"),
    )
    .await
}

fn book_via(stop: i64, mobile: &str, via: Option<&str>) -> (String, Value) {
    // Four places a slot: spread the bookings by the mobile's last digit.
    let last = mobile.bytes().last().map_or(0, |b| usize::from(b - b'0'));
    let slot = ["09:00", "09:30", "10:00", "10:30"][last % 4];
    let mut body = json!({"name": "张三", "mobile": mobile, "slot": slot});
    if let Some(via) = via {
        body["via"] = json!(via);
    }
    (format!("/api/v1/public/stops/{stop}/bookings"), body)
}

async fn booked_via(app: &TestApp, stop: i64, mobile: &str, via: Option<&str>) -> Value {
    let (path, body) = book_via(stop, mobile, via);
    ok_json(
        send(app, &app.anonymous, Method::POST, &path, Some(&body), None).await,
        201,
        &format!("booking {body}"),
    )
    .await
}

/// The appeal booking `booked` (as the API answered it) records.
async fn appeal_of_booking(app: &TestApp, booked: &Value) -> Option<i64> {
    let code = booked["code"].as_str().unwrap();
    entity::booking::Entity::find()
        .filter(entity::booking::Column::Code.eq(code))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .appeal_id
}

#[tokio::test]
async fn an_appeal_is_made_from_the_stations_template_with_a_tracking_code_in_its_link() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let date = today() + Duration::days(5);
        let (drive, stop) =
            published_stop(&app, net.vehicles[0], net.points[0], date, "09:00", "11:00").await;
        let station = station_id(&app).await;
        let path = format!("/api/v1/stations/{station}/appeal-template");

        // Built in until the station edits it: version 0, every named field in it.
        let response = send(&app, &app.client, Method::GET, &path, None, None).await;
        assert_eq!(response.headers()["etag"], "\"0\"");
        let builtin = ok_json(response, 200, "the built-in template").await;
        assert_eq!(builtin["builtin"], true);
        for field in ["{date}", "{place}", "{times}", "{who}", "{bring}", "{link}"] {
            assert!(builtin["body"].as_str().unwrap().contains(field), "{field}");
        }
        assert_eq!(builtin["what_to_bring"], "身份证");

        // Changes need If-Match; the fields are checked first, each named.
        let mine = json!({"body": "【倡议】{date}，{place}（{times}）。{who}请带{bring}。预约：{link}",
                          "who_may_donate": "18至55周岁的健康村民"});
        let response = send(&app, &app.client, Method::PUT, &path, Some(&mine), None).await;
        expect_problem(response, 428, "no If-Match").await;
        for (bad, field) in [
            (json!({"body": "{date} 没有链接"}), "body"),
            (json!({"body": "{date} {price} {link}"}), "body"),
            (json!({"what_to_bring": " "}), "what_to_bring"),
        ] {
            let response = send(&app, &app.client, Method::PUT, &path, Some(&bad), Some("\"0\"")).await;
            let problem = expect_problem(response, 400, &bad.to_string()).await;
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
        let response = send(&app, &app.client, Method::PUT, &path, Some(&mine), Some("\"0\"")).await;
        assert_eq!(response.headers()["etag"], "\"1\"");
        let edited = ok_json(response, 200, "replacing the built-in text").await;
        assert_eq!(edited["builtin"], false);
        assert_eq!(edited["what_to_bring"], "身份证", "kept from the built-in text");
        // Another edit based on the built-in text is stale: 412 with the current template.
        let again = json!({"what_to_bring": "身份证、献血证"});
        let response = send(&app, &app.client, Method::PUT, &path, Some(&again), Some("\"0\"")).await;
        let current = ok_json(response, 412, "a stale edit").await;
        assert_eq!(current["version"], 1);
        assert_eq!(current["who_may_donate"], "18至55周岁的健康村民");
        let response = send(&app, &app.client, Method::PUT, &path, Some(&again), Some("\"1\"")).await;
        assert_eq!(ok_json(response, 200, "an edit").await["version"], 2);

        // An appeal for the stop: the text from the template, a code, the stop's link.
        let made = appeal(&app, &json!({"drive_id": drive, "stop_id": stop})).await;
        let code = made["code"].as_str().unwrap().to_owned();
        assert_eq!(code.len(), 6, "{made}");
        assert!(code.chars().all(|c| ALPHABET.contains(c)), "{code}");
        let link = made["link"].as_str().unwrap();
        assert!(link.starts_with("http://"), "{link}");
        assert!(link.ends_with(&format!("/stops/{stop}?via={code}")), "{link}");
        let text = made["text"].as_str().unwrap();
        assert!(text.starts_with("【倡议】"), "{text}");
        assert!(text.contains("东岭村献血点（09:00–11:00）"), "{text}");
        assert!(text.contains("18至55周岁的健康村民请带身份证、献血证"), "{text}");
        assert!(text.contains(&format!("预约：{link}")), "{text}");
        assert!(text.contains(&format!("{}月{}日", date.format("%-m"), date.format("%-d"))), "{text}");
        // Each appeal has its own code; the drive lists them.
        let second = appeal(&app, &json!({"drive_id": drive})).await;
        assert_ne!(second["code"], made["code"]);
        assert!(second["stop_id"].is_null());
        let listed = app.get_ok(&format!("/api/v1/appeals?drive_id={drive}")).await;
        assert_eq!(listed.as_array().unwrap().len(), 2);

        // Downloads: the text as UTF-8 text, the QR code as SVG and PNG.
        let id = made["id"].as_i64().unwrap();
        let response = send(&app, &app.client, Method::GET, &format!("/api/v1/appeals/{id}/text"), None, None).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
        assert_eq!(response.text().await.unwrap(), text);
        let response = send(&app, &app.client, Method::GET, &format!("/api/v1/appeals/{id}/qr.svg"), None, None).await;
        assert_eq!(response.headers()["content-type"], "image/svg+xml");
        assert!(response.text().await.unwrap().contains("<svg"));
        let response = send(&app, &app.client, Method::GET, &format!("/api/v1/appeals/{id}/qr.png"), None, None).await;
        assert_eq!(response.headers()["content-type"], "image/png");
        let png = response.bytes().await.unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

        // A draft drive gets no appeal (its link would lead nowhere); a stop of another drive
        // is named.
        let draft = ok_json(
            send(&app, &app.client, Method::POST, "/api/v1/drives", Some(&json!({
                "vehicle_id": net.vehicles[1], "date": date, "region": COUNTY,
                "stops": [{"site": format!("point-{}", net.points[2]), "planned_start": "10:00",
                           "planned_end": "12:00", "expected_donors": 10.0}]})), None).await,
            201, "a draft drive").await;
        let response = make_appeal(&app, &app.client, &json!({"drive_id": draft["id"]})).await;
        expect_problem(response, 409, "a draft drive").await;
        let response = make_appeal(&app, &app.client, &json!({"drive_id": drive, "stop_id": draft["stops"][0]["id"]})).await;
        let problem = expect_problem(response, 400, "another drive's stop").await;
        assert_eq!(problem["errors"][0]["field"], "stop_id");

        // Audited: the template's changes and each appeal.
        let audit = app.get_ok("/api/v1/audit?entity=appeal_template").await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 2, "{audit}");
        let audit = app.get_ok(&format!("/api/v1/audit?entity=appeal&id={id}")).await;
        let records = audit["items"].as_array().unwrap();
        assert_eq!(records.len(), 1, "{audit}");
        assert_eq!(records[0]["action"], "create");
        assert_eq!(records[0]["after"]["code"], code.as_str());
        app
    })
    .await;
}

/// A client as a browser posts forms: no redirects followed, the site's `Origin`.
fn browser(app: &TestApp) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", app.address.parse().unwrap());
    Client::builder()
        .redirect(redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_public_booking_through_an_appeals_link_records_the_appeal_and_an_unknown_code_is_ignored()
 {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let date = today() + Duration::days(5);
        let (drive, stop) =
            published_stop(&app, net.vehicles[0], net.points[0], date, "09:00", "11:00").await;
        let (other_drive, other_stop) =
            published_stop(&app, net.vehicles[1], net.points[1], date, "09:00", "11:00").await;
        let for_stop = appeal(&app, &json!({"drive_id": drive, "stop_id": stop})).await;
        let for_other = appeal(&app, &json!({"drive_id": other_drive})).await;
        let code = for_stop["code"].as_str().unwrap();
        let id = for_stop["id"].as_i64().unwrap();

        // Through the link (the code as typed in lower case too): the booking records it.
        let b = booked_via(&app, stop, "13800000001", Some(&code.to_lowercase())).await;
        assert_eq!(appeal_of_booking(&app, &b).await, Some(id));
        // An unknown code, another drive's appeal, or none: booked, no appeal recorded.
        for (mobile, via) in [
            ("13800000002", Some("ZZZZZZ")),
            ("13800000003", Some("not a code!")),
            ("13800000004", for_other["code"].as_str()),
            ("13800000005", None),
        ] {
            let b = booked_via(&app, stop, mobile, via).await;
            assert_eq!(appeal_of_booking(&app, &b).await, None, "{via:?}");
        }
        // The other drive's appeal counts at its own stops.
        let b = booked_via(&app, other_stop, "13800000006", for_other["code"].as_str()).await;
        assert_eq!(appeal_of_booking(&app, &b).await, for_other["id"].as_i64());

        // The page: the link's code rides in the form and the booking records it.
        let client = browser(&app);
        let page = client
            .get(app.url(&format!("/stops/{stop}?via={code}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!("name=\"via\" value=\"{code}\"")),
            "{html}"
        );
        // A drive's link is the schedule's, whose stops carry the code on.
        let schedule = client
            .get(app.url(&format!("/drives?via={code}")))
            .send()
            .await
            .unwrap();
        let html = schedule.text().await.unwrap();
        assert!(
            html.contains(&format!("href=\"/stops/{stop}?via={code}\"")),
            "{html}"
        );
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("kind", "person"),
                ("name", "李四"),
                ("mobile", "13900000007"),
                ("slot", "10:30"),
                ("via", code),
            ])
            .finish();
        let response = client
            .post(app.url(&format!("/stops/{stop}/book")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            303,
            "{}",
            response.text().await.unwrap()
        );
        let from_page = entity::booking::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .find(|b| b.mobile.as_deref() == Some("13900000007"))
            .unwrap();
        assert_eq!(from_page.appeal_id, Some(id));

        // The figures: two bookings in the first hour, in 东岭镇.
        let figures = app.get_ok(&format!("/api/v1/appeals/{id}/figures")).await;
        assert_eq!(figures["bookings"], 2, "{figures}");
        assert_eq!(figures["active"], 2);
        assert_eq!(figures["per_hour"][0]["bookings"], 2);
        assert_eq!(figures["per_hour"][0]["cumulative"], 2);
        assert_eq!(
            figures["by_township"],
            json!([{"code": DONGLING, "name": "东岭镇", "bookings": 2, "people": 2}])
        );
        assert_eq!(figures["groups"], json!([]));
        app
    })
    .await;
}

/// A group's booking through the public API, with `via` when given.
async fn group_via(
    app: &TestApp,
    stop: i64,
    mobile: &str,
    headcount: i64,
    via: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({"organisation": "东岭中学", "contact_name": "王老师",
                          "contact_mobile": mobile, "headcount": headcount});
    if let Some(via) = via {
        body["via"] = json!(via);
    }
    send(
        app,
        &app.anonymous,
        Method::POST,
        &format!("/api/v1/public/stops/{stop}/group-bookings"),
        Some(&body),
        None,
    )
    .await
}

#[tokio::test]
async fn a_group_booking_through_an_appeals_link_records_the_appeal_and_counts_its_headcount() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let date = today() + Duration::days(5);
        let (drive, stop) =
            published_stop(&app, net.vehicles[0], net.points[0], date, "09:00", "12:00").await;
        let made = appeal(&app, &json!({"drive_id": drive, "stop_id": stop})).await;
        let code = made["code"].as_str().unwrap();
        let id = made["id"].as_i64().unwrap();

        // A small group books at once: the booking records the appeal.
        let small = ok_json(
            group_via(&app, stop, "13700000001", 3, Some(&code.to_lowercase())).await,
            201,
            "a group through the link",
        )
        .await;
        assert_eq!(appeal_of_booking(&app, &small).await, Some(id));
        // Without the code, or another one: booked, no appeal.
        for (mobile, via) in [("13700000002", None), ("13700000003", Some("ZZZZZZ"))] {
            let other = ok_json(
                group_via(&app, stop, mobile, 2, via).await,
                201,
                "a group without the link",
            )
            .await;
            assert_eq!(appeal_of_booking(&app, &other).await, None, "{via:?}");
        }
        // A large group is a request (no places yet); the booking staff confirm it into
        // carries the appeal on.
        let asked = ok_json(
            group_via(&app, stop, "13700000004", 11, Some(code)).await,
            202,
            "a request through the link",
        )
        .await;
        let request = entity::group_request::Entity::find()
            .filter(entity::group_request::Column::Code.eq(asked["code"].as_str().unwrap()))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(request.appeal_id, Some(id));
        let confirmed = app
            .client
            .post(app.url(&format!("/api/v1/group-requests/{}/confirm", request.id)))
            .header("If-Match", "\"1\"")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let confirmed = ok_json(confirmed, 200, "confirming the request").await;
        let booking = entity::booking::Entity::find()
            .filter(entity::booking::Column::Code.eq(asked["code"].as_str().unwrap()))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(booking.appeal_id, Some(id), "{confirmed}");

        // The page's group form carries the link's code too.
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("kind", "group"),
                ("organisation", "东岭村委会"),
                ("contact_name", "李主任"),
                ("contact_mobile", "13700000005"),
                ("headcount", "2"),
                ("via", code),
            ])
            .finish();
        let response = browser(&app)
            .post(app.url(&format!("/stops/{stop}/book")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            303,
            "{}",
            response.text().await.unwrap()
        );
        let from_page = entity::booking::Entity::find()
            .filter(entity::booking::Column::Mobile.eq("13700000005"))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(from_page.appeal_id, Some(id));

        // The figures: three bookings (a group is one), 16 people (a group its headcount).
        let figures = app.get_ok(&format!("/api/v1/appeals/{id}/figures")).await;
        assert_eq!(figures["bookings"], 3, "{figures}");
        assert_eq!(figures["people"], 16, "{figures}");
        assert_eq!(figures["per_hour"][0]["bookings"], 3);
        assert_eq!(figures["per_hour"][0]["people"], 16);
        assert_eq!(figures["per_hour"][0]["cumulative_people"], 16);
        assert_eq!(
            figures["by_township"],
            json!([{"code": DONGLING, "name": "东岭镇", "bookings": 3, "people": 16}])
        );
        app
    })
    .await;
}

/// A WeCom group-robot stub: every post's `key` and JSON; answers `answer`.
#[derive(Clone)]
struct Robot {
    received: Arc<Mutex<Vec<(String, Value)>>>,
    answer: Arc<Mutex<Value>>,
}

async fn robot() -> (Robot, String) {
    async fn receive(
        State(robot): State<Robot>,
        Query(query): Query<HashMap<String, String>>,
        axum::Json(body): axum::Json<Value>,
    ) -> axum::Json<Value> {
        let key = query.get("key").cloned().unwrap_or_default();
        robot.received.lock().unwrap().push((key, body));
        axum::Json(robot.answer.lock().unwrap().clone())
    }
    let robot = Robot {
        received: Arc::default(),
        answer: Arc::new(Mutex::new(json!({"errcode": 0, "errmsg": "ok"}))),
    };
    let router = axum::Router::new()
        .route("/cgi-bin/webhook/send", axum::routing::post(receive))
        .with_state(robot.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/cgi-bin/webhook/send",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (robot, url)
}

async fn run_outbox(app: &TestApp) -> Value {
    ok_json(
        send(
            app,
            &app.client,
            Method::POST,
            "/api/v1/outbox/run",
            None,
            None,
        )
        .await,
        200,
        "running the outbox",
    )
    .await
}

const KEY_1: &str = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";
const KEY_2: &str = "0b6c1e2d-aaaa-4bbb-8ccc-123456789abc";

#[tokio::test]
async fn appeals_go_to_chat_groups_once_with_the_documented_json_and_keys_stay_secret() {
    for backend in backends() {
        let (robot, url) = robot().await;
        let app = TestApp::spawn_with_wecom(backend, unlimited(), &url).await;
        let net = network(&app).await;
        let date = today() + Duration::days(5);
        let (drive, stop) =
            published_stop(&app, net.vehicles[0], net.points[0], date, "09:00", "11:00").await;
        let made = appeal(&app, &json!({"drive_id": drive, "stop_id": stop})).await;
        let id = made["id"].as_i64().unwrap();
        let text = made["text"].as_str().unwrap().to_owned();

        // Groups: the key is taken, and never shown again but for its last 4 characters.
        let mut groups = Vec::new();
        for (name, key) in [("东岭镇村医群", KEY_1), ("东岭村医群二", KEY_2)] {
            let response = send(
                &app,
                &app.client,
                Method::POST,
                "/api/v1/chat-groups",
                Some(&json!({
                "name": name, "region_code": DONGLING, "audience": "coordinators",
                "webhook_key": key})),
                None,
            )
            .await;
            let raw = response.text().await.unwrap();
            assert!(!raw.contains(key), "the key in the answer: {raw}");
            let group: Value = serde_json::from_str(&raw).unwrap();
            assert_eq!(group["key_hint"], format!("…{}", &key[key.len() - 4..]));
            assert!(group.get("webhook_key").is_none());
            groups.push(group["id"].as_i64().unwrap());
        }
        let response = send(
            &app,
            &app.client,
            Method::GET,
            "/api/v1/chat-groups",
            None,
            None,
        )
        .await;
        let raw = response.text().await.unwrap();
        assert!(!raw.contains(KEY_1) && !raw.contains(KEY_2), "{raw}");
        assert_eq!(
            serde_json::from_str::<Value>(&raw)
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let bad = send(
            &app,
            &app.client,
            Method::POST,
            "/api/v1/chat-groups",
            Some(&json!({
            "name": " ", "region_code": "99", "audience": "host", "webhook_key": "短"})),
            None,
        )
        .await;
        let problem = expect_problem(bad, 400, "a group with every field wrong").await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            ["name", "webhook_key", "region_code", "host_id"],
            "{problem}"
        );

        // Sent twice (a double click, a retry): one message per group, written once.
        let path = format!("/api/v1/appeals/{id}/send");
        let body = json!({"group_ids": [groups[0], groups[1], groups[0]]});
        let first = ok_json(
            send(&app, &app.client, Method::POST, &path, Some(&body), None).await,
            202,
            "sending",
        )
        .await;
        assert_eq!(
            first["groups"],
            json!([{"group_id": groups[0], "queued": true}, {"group_id": groups[1], "queued": true}])
        );
        let again = ok_json(
            send(&app, &app.client, Method::POST, &path, Some(&body), None).await,
            202,
            "again",
        )
        .await;
        assert_eq!(
            again["groups"],
            json!([{"group_id": groups[0], "queued": false}, {"group_id": groups[1], "queued": false}])
        );
        let to_groups: Vec<entity::outbox_message::Model> = entity::outbox_message::Entity::find()
            .filter(entity::outbox_message::Column::Kind.eq("wecom_text"))
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(to_groups.len(), 2, "{to_groups:?}");
        assert!(
            to_groups
                .iter()
                .all(|m| m.body == text && m.booking_id.is_none())
        );
        let mut keys: Vec<&str> = to_groups.iter().map(|m| m.dedupe_key.as_str()).collect();
        keys.sort_unstable();
        let mut expected = vec![
            format!("appeal:{id}:group:{}", groups[0]),
            format!("appeal:{id}:group:{}", groups[1]),
        ];
        expected.sort();
        assert_eq!(keys, expected);

        // The run posts them to the robots, whatever the donors' sender (here: by hand), with
        // the documented JSON, each group's key in the address.
        let run = run_outbox(&app).await;
        assert_eq!(
            run["to_groups"],
            json!({"sent": 2, "failed": 0, "by_hand": 0}),
            "{run}"
        );
        let received = robot.received.lock().unwrap().clone();
        assert_eq!(received.len(), 2);
        let mut got: Vec<(String, Value)> = received.clone();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let mut want = vec![
            (
                KEY_1.to_owned(),
                json!({"msgtype": "text", "text": {"content": text}}),
            ),
            (
                KEY_2.to_owned(),
                json!({"msgtype": "text", "text": {"content": text}}),
            ),
        ];
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got, want);
        // Nothing goes twice.
        let run = run_outbox(&app).await;
        assert_eq!(
            run["to_groups"],
            json!({"sent": 0, "failed": 0, "by_hand": 0})
        );
        assert_eq!(robot.received.lock().unwrap().len(), 2);

        // The QR code as an image: base64 of the PNG and its md5, as the robot takes it; a
        // refusal (errcode not 0) is retried later, its error kept without the key.
        *robot.answer.lock().unwrap() = json!({"errcode": 93000, "errmsg": "invalid webhook url"});
        let body = json!({"group_ids": [groups[0]], "format": "markdown", "with_qr": true});
        let second = appeal(&app, &json!({"drive_id": drive})).await;
        let second_id = second["id"].as_i64().unwrap();
        ok_json(
            send(
                &app,
                &app.client,
                Method::POST,
                &format!("/api/v1/appeals/{second_id}/send"),
                Some(&body),
                None,
            )
            .await,
            202,
            "with the QR code",
        )
        .await;
        let run = run_outbox(&app).await;
        assert_eq!(run["to_groups"]["failed"], 2, "{run}");
        let figures = app
            .get_ok(&format!("/api/v1/appeals/{second_id}/figures"))
            .await;
        let sends = figures["groups"].as_array().unwrap();
        assert_eq!(sends.len(), 2, "{figures}");
        for s in sends {
            assert_eq!(s["status"], "pending");
            assert_eq!(s["attempts"], 1);
            let error = s["last_error"].as_str().unwrap();
            assert!(error.contains("93000") && !error.contains(KEY_1), "{error}");
        }
        *robot.answer.lock().unwrap() = json!({"errcode": 0, "errmsg": "ok"});
        entity::outbox_message::Entity::update_many()
            .col_expr(
                entity::outbox_message::Column::NextAttemptAt,
                sea_orm::sea_query::Expr::value(chrono::Utc::now() - Duration::minutes(1)),
            )
            .exec(&app.db)
            .await
            .unwrap();
        let run = run_outbox(&app).await;
        assert_eq!(run["to_groups"]["sent"], 2, "{run}");
        let received = robot.received.lock().unwrap().clone();
        let last: Vec<&Value> = received[received.len() - 2..]
            .iter()
            .map(|(k, v)| {
                assert_eq!(k, KEY_1);
                v
            })
            .collect();
        let markdown = last.iter().find(|v| v["msgtype"] == "markdown").unwrap();
        assert_eq!(
            **markdown,
            json!({"msgtype": "markdown", "markdown": {"content": second["text"]}})
        );
        let image = last.iter().find(|v| v["msgtype"] == "image").unwrap();
        assert_eq!(image.as_object().unwrap().len(), 2, "{image}");
        let png = base64::engine::general_purpose::STANDARD
            .decode(image["image"]["base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(image["image"]["md5"], hex::encode(md5::Md5::digest(&png)));
        let figures = app
            .get_ok(&format!("/api/v1/appeals/{second_id}/figures"))
            .await;
        assert!(
            figures["groups"]
                .as_array()
                .unwrap()
                .iter()
                .all(|g| g["status"] == "sent" && g["name"] == "东岭镇村医群"),
            "{figures}"
        );

        // The keys are in no audit record and no message.
        let audit = app.get_ok("/api/v1/audit?limit=500").await.to_string();
        assert!(!audit.contains(KEY_1) && !audit.contains(KEY_2));
        assert!(audit.contains("chat_group"));
        let outbox = app.get_ok("/api/v1/outbox?limit=500").await.to_string();
        assert!(!outbox.contains(KEY_1) && !outbox.contains(KEY_2));
        app.stop().await;
    }
}

#[tokio::test]
async fn appeals_and_chat_groups_outside_the_callers_reach_do_not_exist() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let date = today() + Duration::days(5);
        let (drive, stop) =
            published_stop(&app, net.vehicles[0], net.points[0], date, "09:00", "11:00").await;
        let made = appeal(&app, &json!({"drive_id": drive, "stop_id": stop})).await;
        let id = made["id"].as_i64().unwrap();
        let group = ok_json(
            send(
                &app,
                &app.client,
                Method::POST,
                "/api/v1/chat-groups",
                Some(&json!({
            "name": "东岭镇村医群", "region_code": DONGLING, "audience": "coordinators",
            "webhook_key": KEY_1})),
                None,
            )
            .await,
            201,
            "a group",
        )
        .await;
        let gid = group["id"].as_i64().unwrap();

        // Staff of another township: the appeal, its drive and the group do not exist.
        let outsider = app.client_for("xihe.staff", "station_staff", &[XIHE]).await;
        for path in [
            format!("/api/v1/appeals/{id}"),
            format!("/api/v1/appeals/{id}/text"),
            format!("/api/v1/appeals/{id}/qr.png"),
            format!("/api/v1/appeals/{id}/figures"),
            format!("/api/v1/appeals?drive_id={drive}"),
        ] {
            let response = send(&app, &outsider, Method::GET, &path, None, None).await;
            expect_problem(response, 404, &path).await;
        }
        let response = make_appeal(&app, &outsider, &json!({"drive_id": drive})).await;
        let problem = expect_problem(response, 400, "an appeal for a drive out of reach").await;
        assert_eq!(problem["errors"][0]["field"], "drive_id");
        let listed = ok_json(
            send(
                &app,
                &outsider,
                Method::GET,
                "/api/v1/chat-groups",
                None,
                None,
            )
            .await,
            200,
            "groups",
        )
        .await;
        assert_eq!(listed, json!([]));
        let response = send(
            &app,
            &outsider,
            Method::DELETE,
            &format!("/api/v1/chat-groups/{gid}"),
            None,
            None,
        )
        .await;
        expect_problem(response, 404, "deleting a group out of reach").await;
        let response = send(
            &app,
            &outsider,
            Method::POST,
            "/api/v1/chat-groups",
            Some(&json!({
            "name": "东岭镇群", "region_code": DONGLING, "audience": "coordinators",
            "webhook_key": KEY_2})),
            None,
        )
        .await;
        expect_problem(response, 404, "a group in a region out of reach").await;

        // County staff send, but not to a group they cannot see; a viewer reads, never sends.
        let staff = app
            .client_for("county.staff", "station_staff", &[COUNTY])
            .await;
        let other_group = ok_json(
            send(
                &app,
                &app.client,
                Method::POST,
                "/api/v1/chat-groups",
                Some(&json!({
            "name": "市献血办群", "region_code": "990100000000", "audience": "coordinators",
            "webhook_key": KEY_2})),
                None,
            )
            .await,
            201,
            "a group elsewhere",
        )
        .await;
        let path = format!("/api/v1/appeals/{id}/send");
        let response = send(
            &app,
            &staff,
            Method::POST,
            &path,
            Some(&json!({"group_ids": [gid, other_group["id"]]})),
            None,
        )
        .await;
        let problem = expect_problem(response, 400, "a group out of reach").await;
        assert_eq!(problem["errors"][0]["field"], "group_ids[1]", "{problem}");
        let response = send(
            &app,
            &staff,
            Method::POST,
            &path,
            Some(&json!({"group_ids": []})),
            None,
        )
        .await;
        expect_problem(response, 400, "no groups").await;
        let response = send(
            &app,
            &staff,
            Method::POST,
            &path,
            Some(&json!({"group_ids": [gid]})),
            None,
        )
        .await;
        ok_json(response, 202, "county staff send").await;
        let viewer = app.client_for("county.viewer", "viewer", &[COUNTY]).await;
        ok_json(
            send(
                &app,
                &viewer,
                Method::GET,
                &format!("/api/v1/appeals/{id}"),
                None,
                None,
            )
            .await,
            200,
            "a viewer reads",
        )
        .await;
        let response = send(
            &app,
            &viewer,
            Method::POST,
            &path,
            Some(&json!({"group_ids": [gid]})),
            None,
        )
        .await;
        expect_problem(response, 403, "a viewer sends").await;
        let response = make_appeal(&app, &viewer, &json!({"drive_id": drive})).await;
        expect_problem(response, 403, "a viewer makes an appeal").await;
        let response = send(
            &app,
            &app.anonymous,
            Method::GET,
            &format!("/api/v1/appeals/{id}"),
            None,
            None,
        )
        .await;
        expect_problem(response, 401, "anonymous").await;
        // Deleting a group is audited.
        let response = send(
            &app,
            &staff,
            Method::DELETE,
            &format!("/api/v1/chat-groups/{gid}"),
            None,
            None,
        )
        .await;
        assert_eq!(response.status().as_u16(), 204);
        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=chat_group&id={gid}"))
            .await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["create", "delete"]);
        app
    })
    .await;
}

#[tokio::test]
async fn the_appeals_migration_keeps_bookings_when_rolled_back_and_applied_again() {
    use migration::{Migrator, MigratorTrait};
    on_each_backend_with(unlimited, |app| async move {
        let db = app.schema_connection().await;
        let net = network(&app).await;
        let date = today() + Duration::days(5);
        let (drive, stop) =
            published_stop(&app, net.vehicles[0], net.points[0], date, "09:00", "11:00").await;
        let made = appeal(&app, &json!({"drive_id": drive, "stop_id": stop})).await;
        let b = booked_via(&app, stop, "13800000001", made["code"].as_str()).await;
        assert_eq!(appeal_of_booking(&app, &b).await, made["id"].as_i64());
        let applied = Migrator::get_applied_migrations(&db).await.unwrap();
        let at = applied
            .iter()
            .position(|m| m.name() == "m20261207_000016_create_appeals")
            .expect("applied");
        let steps = u32::try_from(applied.len() - at).unwrap();
        Migrator::down(&db, Some(steps)).await.expect("down");
        Migrator::up(&db, None).await.expect("up again");
        // The booking is kept, without its appeal (the column came back empty).
        assert_eq!(appeal_of_booking(&app, &b).await, None);
        booked_via(&app, stop, "13800000002", None).await;
        app
    })
    .await;
}
