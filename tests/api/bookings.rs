//! Booking (issue 6): publishing opens slots, the public schedule (JSON and iCalendar),
//! individual and group booking with their rules, moving and cancelling with the token,
//! cancelled drives taking their bookings with them, the rate limit, 200 simultaneous
//! bookings for 50 places, and the outbox writing each message once across a restart.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{Duration, NaiveDate, Timelike, Utc};
use donornet::HttpConfig;
use reqwest::Client;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, backends, expect_problem, on_each_backend, on_each_backend_with};
use crate::plans::{COUNTY, Network, network};

/// No limit on bookings, places or messages per address or mobile (these tests book many
/// times from one).
pub(crate) fn unlimited() -> HttpConfig {
    HttpConfig {
        booking_rate_limit: 0,
        booking_places_per_mobile: 0,
        booking_places_per_address: 0,
        messages_per_recipient_per_day: 0,
        ..HttpConfig::default()
    }
}

/// Today in China.
pub(crate) fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

async fn post(app: &TestApp, client: &Client, path: &str, body: &Value) -> reqwest::Response {
    client.post(app.url(path)).json(body).send().await.unwrap()
}

/// A drive by hand at `point` on `date` from `start` to `end`, published; its stop's id.
pub(crate) async fn published_stop(
    app: &TestApp,
    vehicle: i64,
    point: i64,
    date: NaiveDate,
    start: &str,
    end: &str,
) -> (i64, i64) {
    let response = post(
        app,
        &app.client,
        "/api/v1/drives",
        &json!({"vehicle_id": vehicle, "date": date, "region": COUNTY,
                "stops": [{"site": format!("point-{point}"), "planned_start": start,
                           "planned_end": end, "expected_donors": 20.0}]}),
    )
    .await;
    assert_eq!(response.status().as_u16(), 201);
    let drive: Value = response.json().await.unwrap();
    let id = drive["id"].as_i64().unwrap();
    let stop = drive["stops"][0]["id"].as_i64().unwrap();
    let published = app
        .client
        .post(app.url(&format!("/api/v1/drives/{id}/transition")))
        .header("If-Match", "\"1\"")
        .json(&json!({"to": "published"}))
        .send()
        .await
        .unwrap();
    assert_eq!(published.status().as_u16(), 200);
    (id, stop)
}

pub(crate) async fn book(
    app: &TestApp,
    stop: i64,
    name: &str,
    mobile: &str,
    slot: &str,
) -> reqwest::Response {
    post(
        app,
        &app.anonymous,
        &format!("/api/v1/public/stops/{stop}/bookings"),
        &json!({"name": name, "mobile": mobile, "slot": slot}),
    )
    .await
}

pub(crate) async fn booked(
    app: &TestApp,
    stop: i64,
    name: &str,
    mobile: &str,
    slot: &str,
) -> Value {
    let response = book(app, stop, name, mobile, slot).await;
    assert_eq!(response.status().as_u16(), 201, "{name} at {slot}");
    response.json().await.unwrap()
}

fn with_token(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    app.anonymous
        .request(method, app.url(path))
        .header("X-Booking-Token", token)
}

/// Places left per slot start, from the public stop.
pub(crate) async fn left(app: &TestApp, stop: i64) -> Vec<(String, i64)> {
    let view = app.get_ok(&format!("/api/v1/public/stops/{stop}")).await;
    view["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["starts"].as_str().unwrap().to_owned(),
                s["places_left"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// `POST /api/v1/outbox/run` as the admin: what the run did.
pub(crate) async fn run_outbox(app: &TestApp) -> Value {
    let response = app
        .client
        .post(app.url("/api/v1/outbox/run"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

async fn outbox(app: &TestApp, query: &str) -> Vec<Value> {
    app.get_ok(&format!("/api/v1/outbox?limit=500{query}"))
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn publishing_opens_slots_that_the_public_schedule_shows_near_a_place() {
    on_each_backend(|app| async move {
        let Network { vehicles, points } = network(&app).await;
        let date = today() + Duration::days(10);
        // Made, not yet published: not public.
        let draft = post(
            &app,
            &app.client,
            "/api/v1/drives",
            &json!({"vehicle_id": vehicles[0], "date": date, "region": COUNTY,
                    "stops": [{"site": format!("point-{}", points[0]), "planned_start": "09:00",
                               "planned_end": "11:30", "expected_donors": 20.0}]}),
        )
        .await;
        let draft: Value = draft.json().await.unwrap();
        let draft_stop = draft["stops"][0]["id"].as_i64().unwrap();
        let hidden = app
            .anonymous
            .get(app.url(&format!("/api/v1/public/stops/{draft_stop}")))
            .send()
            .await
            .unwrap();
        expect_problem(hidden, 404, "a draft is not public").await;

        // Vehicle 1: 4 beds at the default 2 donors per bed-hour, 30-minute slots: 4 places
        // a slot, 5 slots from 09:00 to 11:30.
        let (_, stop) = published_stop(
            &app,
            vehicles[0],
            points[1],
            date + Duration::days(1),
            "09:00",
            "11:30",
        )
        .await;
        let view = app.get_ok(&format!("/api/v1/public/stops/{stop}")).await;
        let starts: Vec<&str> = view["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["starts"].as_str().unwrap())
            .collect();
        assert_eq!(starts, ["09:00", "09:30", "10:00", "10:30", "11:00"]);
        assert!(
            view["slots"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["places"] == 4)
        );
        assert_eq!(view["places_left"], 20);
        assert_eq!(view["name"], "南塘镇献血点");

        // Near the point (南塘镇, 114.0687, 33.5162): listed, with its distance.
        let near = app
            .get_ok(&format!(
                "/api/v1/public/drives?near=114.07,33.52&radius_km=5&from={date}&to={}",
                date + Duration::days(3)
            ))
            .await;
        let items = near["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{near}");
        assert_eq!(items[0]["stop_id"], stop);
        let km = items[0]["distance_km"].as_f64().unwrap();
        assert!(km > 0.0 && km < 1.0, "{km}");
        // Far away, or another fortnight: nothing.
        let far = app
            .get_ok(&format!(
                "/api/v1/public/drives?near=113.0,33.0&radius_km=5&from={date}"
            ))
            .await;
        assert_eq!(far["items"].as_array().unwrap().len(), 0);
        let later = app
            .get_ok(&format!(
                "/api/v1/public/drives?from={}",
                date + Duration::days(5)
            ))
            .await;
        assert_eq!(later["items"].as_array().unwrap().len(), 0);

        // iCalendar.
        let ics = app
            .anonymous
            .get(app.url(&format!("/api/v1/public/drives?format=ics&from={date}")))
            .send()
            .await
            .unwrap();
        assert_eq!(ics.status().as_u16(), 200);
        assert!(
            ics.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/calendar")
        );
        let text = ics.text().await.unwrap().replace("\r\n ", "");
        let day = (date + Duration::days(1)).format("%Y%m%d");
        assert!(
            text.contains(&format!("UID:stop-{stop}@donornet\r\n")),
            "{text}"
        );
        assert!(text.contains(&format!("DTSTART;TZID=Asia/Shanghai:{day}T090000\r\n")));
        assert!(text.contains(&format!("DTEND;TZID=Asia/Shanghai:{day}T113000\r\n")));
        assert!(text.contains("GEO:33.516200;114.068700"));
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 1);
        // In Chinese by default, linking to the stop's page; English by `lang` or the header.
        assert!(text.contains("X-WR-CALNAME:献血车日程\r\n"), "{text}");
        assert!(text.contains(&format!("/stops/{stop}\r\n")), "{text}");
        for (query, accept) in [("&lang=en", "zh-CN"), ("", "en-US")] {
            let english = app
                .anonymous
                .get(app.url(&format!(
                    "/api/v1/public/drives?format=ics&from={date}{query}"
                )))
                .header("accept-language", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(english.headers()["vary"], "accept-language");
            let english = english.text().await.unwrap();
            assert!(
                english.contains("X-WR-CALNAME:Bloodmobile schedule\r\n"),
                "{english}"
            );
        }

        for (query, field) in [
            ("near=abc", "near"),
            ("radius_km=3", "radius_km"),
            ("from=2027-01-10&to=2027-01-01", "to"),
            ("from=2027-01-01&to=2027-12-01", "to"),
            ("format=xml", "format"),
            ("format=ics&lang=fr", "lang"),
        ] {
            let response = app
                .anonymous
                .get(app.url(&format!("/api/v1/public/drives?{query}")))
                .send()
                .await
                .unwrap();
            let problem = expect_problem(response, 400, query).await;
            assert_eq!(problem["errors"][0]["field"], field, "{query}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn a_person_books_moves_and_cancels_with_code_and_token() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let date = today() + Duration::days(10);
        let (drive, stop) =
            published_stop(&app, net.vehicles[0], net.points[0], date, "09:00", "11:30").await;

        let response = book(&app, stop, "张三", "138 0000 0001", "09:00").await;
        assert_eq!(response.status().as_u16(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let first: Value = response.json().await.unwrap();
        let code = first["code"].as_str().unwrap().to_owned();
        let token = first["token"].as_str().unwrap().to_owned();
        assert_eq!(location, format!("/api/v1/public/bookings/{code}"));
        assert_eq!(code.len(), 8);
        assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
        assert_eq!(token.len(), 64);
        assert_eq!(first["mobile"], "138****0001");
        assert_eq!(first["kind"], "individual");
        assert_eq!(first["status"], "active");
        assert_eq!(first["slots"], json!([{"starts": "09:00", "places": 1}]));

        // One active booking per mobile per stop.
        let again = book(&app, stop, "张三", "13800000001", "10:00").await;
        let problem = expect_problem(again, 409, "same mobile").await;
        assert!(problem["detail"].as_str().unwrap().contains("already has an active booking"));

        // Field errors, all at once.
        let bad = post(
            &app,
            &app.anonymous,
            &format!("/api/v1/public/stops/{stop}/bookings"),
            &json!({"name": " ", "mobile": "12345", "blood_type": "C", "slot": "9am"}),
        )
        .await;
        let problem = expect_problem(bad, 400, "bad fields").await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["name", "mobile", "blood_type", "slot"]);
        let no_slot = expect_problem(book(&app, stop, "李四", "13800000002", "09:10").await, 400, "no such slot").await;
        assert_eq!(no_slot["errors"][0]["field"], "slot");
        assert!(no_slot["errors"][0]["message"].as_str().unwrap().contains("09:00, 09:30"));
        let missing = app
            .anonymous
            .post(app.url("/api/v1/public/stops/999999/bookings"))
            .json(&json!({"name": "李四", "mobile": "13800000002", "slot": "09:00"}))
            .send()
            .await
            .unwrap();
        expect_problem(missing, 404, "no such stop").await;

        // The 09:00 slot holds 4: three more fill it; the fifth is refused, told where
        // places are left.
        let typed = post(
            &app,
            &app.anonymous,
            &format!("/api/v1/public/stops/{stop}/bookings"),
            &json!({"name": "王五", "mobile": "13800000003", "slot": "09:00", "blood_type": "ab型阴性"}),
        )
        .await;
        assert_eq!(typed.status().as_u16(), 201);
        let typed: Value = typed.json().await.unwrap();
        assert_eq!(typed["blood_type"], "AB-");
        for n in [4, 5] {
            booked(&app, stop, "赵六", &format!("1380000000{n}"), "09:00").await;
        }
        let full = expect_problem(book(&app, stop, "钱七", "13800000006", "09:00").await, 409, "full").await;
        assert!(full["detail"].as_str().unwrap().contains("09:30 (4 left)"), "{full}");
        assert_eq!(left(&app, stop).await[0], ("09:00".to_owned(), 0));

        // The holder reads, moves and cancels it with the token; without it, nothing.
        let path = format!("/api/v1/public/bookings/{}", code.to_lowercase());
        let read = with_token(&app, reqwest::Method::GET, &path, &token).send().await.unwrap();
        assert_eq!(read.status().as_u16(), 200);
        let read: Value = read.json().await.unwrap();
        assert_eq!(read["code"], code.as_str());
        assert!(read.get("token").is_none());
        let wrong = with_token(&app, reqwest::Method::GET, &path, &"0".repeat(64)).send().await.unwrap();
        expect_problem(wrong, 404, "wrong token").await;
        let none = app.anonymous.get(app.url(&path)).send().await.unwrap();
        let problem = expect_problem(none, 400, "no token").await;
        assert_eq!(problem["errors"][0]["field"], "X-Booking-Token");

        let moved = with_token(&app, reqwest::Method::POST, &format!("{path}/reschedule"), &token)
            .json(&json!({"slot": "10:30"}))
            .send()
            .await
            .unwrap();
        assert_eq!(moved.status().as_u16(), 200);
        let moved: Value = moved.json().await.unwrap();
        assert_eq!(moved["slots"], json!([{"starts": "10:30", "places": 1}]));
        let slots = left(&app, stop).await;
        assert_eq!(slots[0], ("09:00".to_owned(), 1));
        assert_eq!(slots[3], ("10:30".to_owned(), 3));
        // A move into a full slot changes nothing.
        booked(&app, stop, "孙八", "13800000007", "09:00").await;
        let into_full = with_token(&app, reqwest::Method::POST, &format!("{path}/reschedule"), &token)
            .json(&json!({"slot": "09:00"}))
            .send()
            .await
            .unwrap();
        expect_problem(into_full, 409, "move into a full slot").await;
        assert_eq!(left(&app, stop).await[3], ("10:30".to_owned(), 3));

        let cancelled = with_token(&app, reqwest::Method::POST, &format!("{path}/cancel"), &token)
            .send()
            .await
            .unwrap();
        assert_eq!(cancelled.status().as_u16(), 200);
        let cancelled: Value = cancelled.json().await.unwrap();
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(left(&app, stop).await[3], ("10:30".to_owned(), 4));
        let twice = with_token(&app, reqwest::Method::POST, &format!("{path}/cancel"), &token)
            .send()
            .await
            .unwrap();
        expect_problem(twice, 409, "cancelled twice").await;
        // Once cancelled, the mobile may book the stop again.
        booked(&app, stop, "张三", "13800000001", "11:00").await;

        // Every message written once: a confirmation each, a reschedule notice, a
        // cancellation; recipients masked.
        let messages = outbox(&app, "").await;
        let count = |kind: &str| messages.iter().filter(|m| m["kind"] == kind).count();
        assert_eq!(count("confirmation"), 6);
        assert_eq!(count("rescheduled"), 1);
        assert_eq!(count("cancellation"), 1);
        assert!(messages.iter().all(|m| m["recipient"].as_str().unwrap().contains("****")));
        let confirmation = messages
            .iter()
            .find(|m| m["kind"] == "confirmation" && m["body"].as_str().unwrap().contains(&code))
            .unwrap();
        let body = confirmation["body"].as_str().unwrap();
        assert!(body.contains(&format!("{date} 09:00")), "{body}");
        assert!(body.contains("东岭村献血点"), "{body}");
        // In Chinese, from the catalogue; without --public-url, the code and no link.
        assert!(body.starts_with("张三您好：您已预约"), "{body}");
        assert!(body.contains(&format!("预约码{code}。请携带身份证")), "{body}");
        assert!(!body.contains("http") && !body.contains(&token), "{body}");

        // Staff see who booked, masked; the drive totals.
        let list = app.get_ok(&format!("/api/v1/drives/{drive}/bookings")).await;
        let stop_list = &list["stops"][0];
        assert_eq!(stop_list["booked"], 5);
        assert_eq!(stop_list["bookings"].as_array().unwrap().len(), 6);
        assert!(stop_list["bookings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["mobile"].as_str().unwrap().contains("****")));
        let anonymous = app
            .anonymous
            .get(app.url(&format!("/api/v1/drives/{drive}/bookings")))
            .send()
            .await
            .unwrap();
        expect_problem(anonymous, 401, "staff list needs sign-in").await;
        app
    })
    .await;
}

#[tokio::test]
async fn a_group_is_spread_over_its_slots_and_a_cancelled_drive_takes_every_booking() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let date = today() + Duration::days(12);
        let (drive, stop) =
            published_stop(&app, net.vehicles[0], net.points[0], date, "09:00", "11:30").await;
        booked(&app, stop, "张三", "13800000001", "10:00").await;
        let group = post(
            &app,
            &app.anonymous,
            &format!("/api/v1/public/stops/{stop}/group-bookings"),
            &json!({"organisation": "城关镇中学", "contact_name": "李老师",
                    "contact_mobile": "13900000001", "headcount": 6,
                    "preferred_slots": ["10:00", "10:30"]}),
        )
        .await;
        assert_eq!(group.status().as_u16(), 201);
        let group: Value = group.json().await.unwrap();
        // 10:00 has 3 left, 10:30 has 4: spread so that the slots end as evenly filled as
        // they can (the emptier slot takes the first place).
        assert_eq!(
            group["slots"],
            json!([{"starts": "10:00", "places": 3}, {"starts": "10:30", "places": 3}])
        );
        assert_eq!(group["headcount"], 6);
        assert_eq!(group["kind"], "group");
        assert_eq!(group["organisation"], "城关镇中学");
        let slots = left(&app, stop).await;
        assert_eq!(slots[2], ("10:00".to_owned(), 0));
        assert_eq!(slots[3], ("10:30".to_owned(), 1));

        // Too many for the chosen slots: all or nothing, told how many are left.
        let too_many = post(
            &app,
            &app.anonymous,
            &format!("/api/v1/public/stops/{stop}/group-bookings"),
            &json!({"organisation": "村委会", "contact_name": "王主任",
                    "contact_mobile": "13900000002", "headcount": 3,
                    "preferred_slots": ["10:00", "10:30"]}),
        )
        .await;
        let problem = expect_problem(too_many, 409, "too many").await;
        assert!(problem["detail"].as_str().unwrap().contains("1 left"), "{problem}");
        // Without preferences: every slot (10 people: the most booked without a request).
        let anywhere = post(
            &app,
            &app.anonymous,
            &format!("/api/v1/public/stops/{stop}/group-bookings"),
            &json!({"organisation": "村委会", "contact_name": "王主任",
                    "contact_mobile": "13900000002", "headcount": 10}),
        )
        .await;
        assert_eq!(anywhere.status().as_u16(), 201);
        let anywhere: Value = anywhere.json().await.unwrap();
        let placed: i64 = anywhere["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["places"].as_i64().unwrap())
            .sum();
        assert_eq!(placed, 10);
        for (body, field) in [
            (json!({"organisation": "x", "contact_name": "y", "contact_mobile": "13900000003", "headcount": 1}), "headcount"),
            (json!({"organisation": "x", "contact_name": "y", "contact_mobile": "13900000003", "headcount": 2, "preferred_slots": ["25:00"]}), "preferred_slots[0]"),
            (json!({"organisation": "x", "contact_name": "y", "contact_mobile": "13900000003", "headcount": 2, "preferred_slots": ["09:00", "09:00"]}), "preferred_slots[1]"),
            (json!({"organisation": "", "contact_name": "y", "contact_mobile": "13900000003", "headcount": 2}), "organisation"),
        ] {
            let response = post(&app, &app.anonymous, &format!("/api/v1/public/stops/{stop}/group-bookings"), &body).await;
            let problem = expect_problem(response, 400, field).await;
            assert_eq!(problem["errors"][0]["field"], field);
        }

        // Cancelling the drive cancels all three bookings and lists them, masked.
        let cancel = app
            .client
            .post(app.url(&format!("/api/v1/drives/{drive}/transition")))
            .header("If-Match", "\"2\"")
            .json(&json!({"to": "cancelled", "reason": "大雪封路"}))
            .send()
            .await
            .unwrap();
        assert_eq!(cancel.status().as_u16(), 200);
        let cancelled: Value = cancel.json().await.unwrap();
        let listed = cancelled["booked"].as_array().unwrap();
        assert_eq!(listed.len(), 3);
        let people: i64 = listed.iter().map(|b| b["headcount"].as_i64().unwrap()).sum();
        assert_eq!(people, 17);
        assert!(listed.iter().all(|b| b["mobile"].as_str().unwrap().contains("****")));
        assert!(listed.iter().any(|b| b["code"] == group["code"]));
        let messages = outbox(&app, "").await;
        let notices: Vec<&Value> = messages.iter().filter(|m| m["kind"] == "cancellation").collect();
        assert_eq!(notices.len(), 3);
        assert!(notices.iter().all(|m| m["body"].as_str().unwrap().contains("大雪封路")));
        // The stop is closed to booking.
        let closed = book(&app, stop, "赵六", "13800000009", "09:00").await;
        expect_problem(closed, 409, "cancelled drive").await;
        let list = app.get_ok(&format!("/api/v1/drives/{drive}/bookings")).await;
        assert_eq!(list["stops"][0]["booked"], 0);
        // Cancelled bookings hold no places: every slot has all its places again.
        let slots = list["stops"][0]["slots"].as_array().unwrap();
        assert!(!slots.is_empty());
        for slot in slots {
            assert_eq!(slot["places_left"], slot["places"], "{slot}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn anonymous_booking_is_rate_limited_per_address() {
    for backend in backends() {
        let http = HttpConfig {
            booking_rate_limit: 3,
            ..HttpConfig::default()
        };
        let app = TestApp::spawn_with(backend, http).await;
        let net = network(&app).await;
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(9),
            "09:00",
            "11:30",
        )
        .await;
        // A second instance on the same database, with its own pool and memory: the limit
        // counts the address's requests to both.
        let other_db = app.database.connect().await;
        let other = donornet::build_app(
            other_db,
            HttpConfig {
                booking_rate_limit: 3,
                ..HttpConfig::default()
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let other_url = format!("http://{}", listener.local_addr().unwrap());
        let other_server = tokio::spawn(async move {
            donornet::serve(listener, other, std::future::pending())
                .await
                .unwrap();
        });
        for n in 1..=2 {
            booked(&app, stop, "张三", &format!("1380000000{n}"), "09:30").await;
        }
        let third = app
            .anonymous
            .post(format!("{other_url}/api/v1/public/stops/{stop}/bookings"))
            .json(&json!({"name": "张三", "mobile": "13800000003", "slot": "09:30"}))
            .send()
            .await
            .unwrap();
        assert_eq!(third.status().as_u16(), 201);
        let on_other = app
            .anonymous
            .post(format!("{other_url}/api/v1/public/stops/{stop}/bookings"))
            .json(&json!({"name": "张三", "mobile": "13800000005", "slot": "09:30"}))
            .send()
            .await
            .unwrap();
        expect_problem(on_other, 429, "fourth in a minute, on the other instance").await;
        other_server.abort();
        let limited = book(&app, stop, "张三", "13800000004", "09:30").await;
        let retry: u64 = limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        let problem = expect_problem(limited, 429, "fourth in a minute").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("too many bookings")
        );
        // Reading is not limited.
        app.get_ok(&format!("/api/v1/public/stops/{stop}")).await;
        app.stop().await;
    }
}

#[tokio::test]
async fn two_hundred_simultaneous_bookings_for_fifty_places_admit_exactly_fifty() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, unlimited()).await;
        network(&app).await;
        let station = app.get_ok("/api/v1/stations").await["items"][0]["id"].clone();
        // 25 beds × 4 donors per bed-hour × 30 minutes: one slot of 50 places.
        let vehicle = post(
            &app,
            &app.client,
            "/api/v1/vehicles",
            &json!({"name": "大采血车", "plate": "豫LD9999", "station_id": station, "beds": 25,
                    "staff": 30, "max_donors_per_day": 400, "day_start": "07:00",
                    "day_end": "18:00", "setup_min": 30, "teardown_min": 20,
                    "cost_per_km": 3.0, "donors_per_bed_hour": 4.0, "slot_minutes": 30}),
        )
        .await;
        assert_eq!(vehicle.status().as_u16(), 201);
        let vehicle: Value = vehicle.json().await.unwrap();
        let points = app.get_ok("/api/v1/points?limit=1").await;
        let point = points["items"][0]["id"].as_i64().unwrap();
        let (drive, stop) = published_stop(
            &app,
            vehicle["id"].as_i64().unwrap(),
            point,
            today() + Duration::days(7),
            "09:00",
            "09:30",
        )
        .await;
        assert_eq!(left(&app, stop).await, [("09:00".to_owned(), 50)]);

        let url = app.url(&format!("/api/v1/public/stops/{stop}/bookings"));
        let gate = Arc::new(tokio::sync::Barrier::new(200));
        let tasks: Vec<_> = (0..200)
            .map(|n| {
                let url = url.clone();
                let gate = gate.clone();
                tokio::spawn(async move {
                    // A client each: separate connections, as separate phones.
                    let client = Client::new();
                    let body = json!({"name": format!("献血者{n}"),
                                      "mobile": format!("137{n:08}"), "slot": "09:00"});
                    gate.wait().await;
                    client
                        .post(&url)
                        .json(&body)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        let accepted = statuses.iter().filter(|s| **s == 201).count();
        let refused = statuses.iter().filter(|s| **s == 409).count();
        assert_eq!((accepted, refused), (50, 150), "{statuses:?}");

        // Counts agree afterwards: the slot, the bookings, the confirmations.
        assert_eq!(left(&app, stop).await, [("09:00".to_owned(), 0)]);
        let list = app
            .get_ok(&format!("/api/v1/drives/{drive}/bookings"))
            .await;
        assert_eq!(list["stops"][0]["booked"], 50);
        assert_eq!(list["stops"][0]["bookings"].as_array().unwrap().len(), 50);
        let slot = entity::booking_slot::Entity::find()
            .filter(entity::booking_slot::Column::StopId.eq(stop))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((slot.booked, slot.capacity), (50, 50));
        let confirmations = outbox(&app, "").await;
        assert_eq!(
            confirmations
                .iter()
                .filter(|m| m["kind"] == "confirmation")
                .count(),
            50
        );
        app.stop().await;
    }
}

/// A webhook receiver: every message it was sent, with its `Idempotency-Key`; answers
/// `status` (500 to refuse).
#[derive(Clone, Default)]
struct Gateway {
    received: Arc<Mutex<Vec<(String, Value)>>>,
    refuse: Arc<Mutex<bool>>,
    /// Milliseconds each delivery takes (so that concurrent dispatchers overlap).
    delay_ms: Arc<Mutex<u64>>,
}

async fn gateway(gateway: Gateway) -> String {
    async fn receive(
        State(g): State<Gateway>,
        headers: HeaderMap,
        axum::Json(body): axum::Json<Value>,
    ) -> StatusCode {
        let delay = *g.delay_ms.lock().unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        if *g.refuse.lock().unwrap() {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        let key = headers["idempotency-key"].to_str().unwrap().to_owned();
        g.received.lock().unwrap().push((key, body));
        StatusCode::NO_CONTENT
    }
    let router = axum::Router::new()
        .route("/sms", axum::routing::post(receive))
        .with_state(gateway);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

#[tokio::test]
async fn dispatchers_running_at_once_deliver_each_message_exactly_once() {
    for backend in backends() {
        let gate = Gateway::default();
        *gate.delay_ms.lock().unwrap() = 15;
        let url = gateway(gate.clone()).await;
        let sender = Arc::new(donornet::outbox::WebhookSender::new(url).unwrap());
        let app = TestApp::spawn_with_sender(backend, unlimited(), sender).await;
        let net = network(&app).await;
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(10),
            "08:00",
            "17:00",
        )
        .await;
        for i in 0..24 {
            let minutes = 8 * 60 + (i % 12) * 30;
            let slot = format!("{:02}:{:02}", minutes / 60, minutes % 60);
            booked(&app, stop, "王五", &format!("1390000{i:04}"), &slot).await;
        }
        // Four runs at once, as four instances' outbox loops would.
        let (a, b, c, d) = tokio::join!(
            run_outbox(&app),
            run_outbox(&app),
            run_outbox(&app),
            run_outbox(&app)
        );
        let runs = [a, b, c, d];
        let sent: i64 = runs
            .iter()
            .map(|r| r["dispatched"]["sent"].as_i64().unwrap())
            .sum();
        let keys: Vec<String> = gate
            .received
            .lock()
            .unwrap()
            .iter()
            .map(|(k, _)| k.clone())
            .collect();
        let distinct: std::collections::HashSet<&String> = keys.iter().collect();
        assert_eq!(keys.len(), 24, "{backend:?}: {runs:?}");
        assert_eq!(distinct.len(), 24, "{backend:?}: a message went out twice");
        assert_eq!(sent, 24, "{backend:?}: {runs:?}");
        assert!(outbox(&app, "&status=pending").await.is_empty());
        app.stop().await;
    }
}

#[tokio::test]
async fn the_outbox_writes_and_delivers_each_message_once_across_a_restart() {
    for backend in backends() {
        let gate = Gateway::default();
        let url = gateway(gate.clone()).await;
        let sender = || -> Arc<dyn donornet::outbox::Sender> {
            Arc::new(donornet::outbox::WebhookSender::new(url.clone()).unwrap())
        };
        let app = TestApp::spawn_with_sender(backend, HttpConfig::default(), sender()).await;
        let net = network(&app).await;
        // Tomorrow, at a time 14 hours or more from now: the day-before reminder is due.
        let now = Utc::now() + Duration::hours(8);
        let minutes = i64::from(now.hour() * 60 + now.minute());
        let start = ((minutes - 600).max(0) / 30) * 30;
        let clock = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(1),
            &clock(start),
            &clock(start + 60),
        )
        .await;
        let first = booked(&app, stop, "张三", "13800000001", &clock(start)).await;
        let second = booked(&app, stop, "李四", "13800000002", &clock(start)).await;
        // Both booked three days ago (a booking made within the last day gets no day-before
        // reminder: its confirmation is fresh).
        entity::booking::Entity::update_many()
            .col_expr(
                entity::booking::Column::CreatedAt,
                Expr::value(Utc::now() - Duration::days(3)),
            )
            .exec(&app.db)
            .await
            .unwrap();
        // The gateway is down: the run tries the two confirmations, and keeps them pending.
        *gate.refuse.lock().unwrap() = true;
        let run = run_outbox(&app).await;
        assert_eq!(run["reminders"], 2);
        assert_eq!(
            run["dispatched"],
            json!({"sent": 0, "failed": 4, "by_hand": 0})
        );
        let pending = outbox(&app, "&status=pending").await;
        assert_eq!(pending.len(), 4);
        assert!(pending.iter().all(|m| m["attempts"] == 1));
        assert!(pending[0]["last_error"].as_str().unwrap().contains("500"));

        // Restart; the gateway is back. Retries wait for their backoff, so make them due now.
        let app = app.restart(HttpConfig::default(), sender()).await;
        *gate.refuse.lock().unwrap() = false;
        entity::outbox_message::Entity::update_many()
            .col_expr(
                entity::outbox_message::Column::NextAttemptAt,
                Expr::value(Utc::now() - Duration::minutes(1)),
            )
            .exec(&app.db)
            .await
            .unwrap();
        for round in 0..3 {
            let run: Value = run_outbox(&app).await;
            // The reminders exist already: written once, however often the outbox runs.
            assert_eq!(run["reminders"], 0, "round {round}");
            let sent = if round == 0 { 4 } else { 0 };
            assert_eq!(
                run["dispatched"],
                json!({"sent": sent, "failed": 0, "by_hand": 0}),
                "round {round}"
            );
        }
        let received = gate.received.lock().unwrap().clone();
        assert_eq!(received.len(), 4);
        let mut keys: Vec<&str> = received.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 4, "each message delivered once");
        for booking in [&first, &second] {
            let code = booking["code"].as_str().unwrap();
            let mine: Vec<&Value> = received
                .iter()
                .map(|(_, body)| body)
                .filter(|b| b["body"].as_str().unwrap().contains(code))
                .collect();
            let mut kinds: Vec<&str> = mine.iter().map(|b| b["kind"].as_str().unwrap()).collect();
            kinds.sort_unstable();
            assert_eq!(kinds, ["confirmation", "day_before"], "{code}");
            assert!(
                mine.iter()
                    .all(|b| b["recipient"].as_str().unwrap().len() == 11)
            );
        }
        let messages = outbox(&app, "").await;
        assert_eq!(messages.len(), 4);
        assert!(
            messages
                .iter()
                .all(|m| m["status"] == "sent" && m["attempts"] == 2)
        );

        // Only unbounded admins see the outbox.
        let staff = app.client_for("zhou", "station_staff", &[COUNTY]).await;
        let refused = staff.get(app.url("/api/v1/outbox")).send().await.unwrap();
        expect_problem(refused, 403, "staff").await;
        app.stop().await;
    }
}

#[tokio::test]
async fn vehicles_carry_their_slot_figures_and_the_bookings_migration_rolls_back() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    on_each_backend(|app| async move {
        let db = app.schema_connection().await;
        let net = network(&app).await;
        let vehicle = app
            .get_ok(&format!("/api/v1/vehicles/{}", net.vehicles[0]))
            .await;
        assert_eq!(vehicle["donors_per_bed_hour"], 2.0);
        assert_eq!(vehicle["slot_minutes"], 30);
        for (patch, field) in [
            (json!({"donors_per_bed_hour": 0.1}), "donors_per_bed_hour"),
            (json!({"slot_minutes": 5}), "slot_minutes"),
            (json!({"slot_minutes": null}), "slot_minutes"),
        ] {
            let response = app
                .client
                .patch(app.url(&format!("/api/v1/vehicles/{}", net.vehicles[0])))
                .header("If-Match", "\"1\"")
                .json(&patch)
                .send()
                .await
                .unwrap();
            let problem = expect_problem(response, 400, field).await;
            assert_eq!(problem["errors"][0]["field"], field);
        }
        // 4 beds at 3 an hour in 20-minute slots: 4 places a slot, 09:00-10:00 in three.
        let patched = app
            .client
            .patch(app.url(&format!("/api/v1/vehicles/{}", net.vehicles[0])))
            .header("If-Match", "\"1\"")
            .json(&json!({"donors_per_bed_hour": 3.0, "slot_minutes": 20}))
            .send()
            .await
            .unwrap();
        assert_eq!(patched.status().as_u16(), 200);
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(8),
            "09:00",
            "10:00",
        )
        .await;
        assert_eq!(
            left(&app, stop).await,
            [
                ("09:00".to_owned(), 4),
                ("09:20".to_owned(), 4),
                ("09:40".to_owned(), 4)
            ]
        );
        booked(&app, stop, "张三", "13800000001", "09:20").await;

        // Down to before the bookings migration, whatever came after it, and up again.
        let applied = Migrator::get_applied_migrations(&db).await.unwrap();
        let at = applied
            .iter()
            .position(|m| m.name() == "m20261126_000009_create_bookings")
            .expect("the bookings migration is applied");
        let steps = (applied.len() - at) as u32;
        Migrator::down(&db, Some(steps)).await.expect("down");
        for gone in [
            "SELECT id FROM bookings",
            "SELECT id FROM booking_slots",
            "SELECT id FROM outbox_messages",
            "SELECT id FROM attendances",
            "SELECT slot_minutes FROM vehicles",
        ] {
            assert!(db.execute_unprepared(gone).await.is_err(), "{gone}");
        }
        Migrator::up(&db, None).await.expect("up again");
        let vehicle = app
            .get_ok(&format!("/api/v1/vehicles/{}", net.vehicles[0]))
            .await;
        assert_eq!(vehicle["slot_minutes"], 30, "the default again");
        app
    })
    .await;
}

#[tokio::test]
async fn mobiles_are_erased_once_no_drive_needs_them() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let (drive, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(5),
            "09:00",
            "11:30",
        )
        .await;
        booked(&app, stop, "张三", "13800000001", "09:00").await;
        // A group request too (above 10: it holds no places).
        assert_eq!(
            group(&app, stop, "13900000001", 15).await.status().as_u16(),
            202
        );
        let run: Value = run_outbox(&app).await;
        assert_eq!(run["erased"], 0, "a drive to come keeps its mobiles");
        // The drive was 31 days ago: a booking's mobile is kept 30 days after its drive.
        entity::drive::Entity::update_many()
            .col_expr(
                entity::drive::Column::Date,
                Expr::value(today() - Duration::days(31)),
            )
            .filter(entity::drive::Column::Id.eq(drive))
            .exec(&app.db)
            .await
            .unwrap();
        let run: Value = run_outbox(&app).await;
        // The booking's mobile (and address) and its confirmation's recipient; the request's
        // mobile (and address) and its receipt's recipient.
        assert_eq!(run["erased"], 4, "{run}");
        let requests = entity::group_request::Entity::find()
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(requests.len(), 1);
        assert!(
            requests
                .iter()
                .all(|r| r.mobile.is_none() && r.client_address.is_none())
        );
        let list = app
            .get_ok(&format!("/api/v1/drives/{drive}/bookings"))
            .await;
        assert_eq!(list["stops"][0]["bookings"][0]["mobile"], Value::Null);
        let stored = entity::booking::Entity::find().all(&app.db).await.unwrap();
        assert!(stored.iter().all(|b| b.mobile.is_none()
            && b.active_mobile.is_none()
            && b.client_address.is_none()));
        let messages = entity::outbox_message::Entity::find()
            .all(&app.db)
            .await
            .unwrap();
        assert!(messages.iter().all(|m| m.recipient == "erased"));
        let again: Value = run_outbox(&app).await;
        assert_eq!(again["erased"], 0);
        app
    })
    .await;
}

/// Starts of a public stop's slots, with their places.
async fn slot_starts(app: &TestApp, stop: i64) -> Vec<(String, i64)> {
    let view = app.get_ok(&format!("/api/v1/public/stops/{stop}")).await;
    view["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["starts"].as_str().unwrap().to_owned(),
                s["places"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn slots_lie_on_the_half_hour_grid_and_none_is_offered_without_places() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        // A planner's odd times: 10:27 to 11:33, vehicle 1 (4 beds at 2 per bed-hour, 30-minute
        // slots). Slots at 10:30 and 11:00 (4 places each); 11:30-11:33 would hold
        // 4 × 2 × 3 / 60 = 0.4 places, so it is not offered, and nothing starts at 10:27.
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(10),
            "10:27",
            "11:33",
        )
        .await;
        assert_eq!(
            slot_starts(&app, stop).await,
            [("10:30".to_owned(), 4), ("11:00".to_owned(), 4)]
        );
        let odd = book(&app, stop, "张三", "13800000001", "10:27").await;
        let problem = expect_problem(odd, 400, "10:27 is not a slot").await;
        assert_eq!(problem["errors"][0]["field"], "slot");
        booked(&app, stop, "张三", "13800000001", "10:30").await;
        app
    })
    .await;
}

/// `POST` a public group booking.
async fn group(app: &TestApp, stop: i64, mobile: &str, headcount: i64) -> reqwest::Response {
    post(
        app,
        &app.anonymous,
        &format!("/api/v1/public/stops/{stop}/group-bookings"),
        &json!({"organisation": "fake", "contact_name": "x", "contact_mobile": mobile,
                "headcount": headcount}),
    )
    .await
}

/// Places left at a stop, over all its slots.
async fn places_left(app: &TestApp, stop: i64) -> i64 {
    app.get_ok(&format!("/api/v1/public/stops/{stop}")).await["places_left"]
        .as_i64()
        .unwrap()
}

/// `POST` as `client` with `If-Match`.
pub(crate) async fn post_if_match(
    app: &TestApp,
    client: &Client,
    path: &str,
    version: Option<i64>,
    body: &Value,
) -> reqwest::Response {
    let mut request = client.post(app.url(path)).json(body);
    if let Some(v) = version {
        request = request.header("If-Match", format!("\"{v}\""));
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_large_anonymous_group_is_a_request_that_holds_no_places_until_staff_confirm_it() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        // 09:00-12:00, 4 beds at 2 an hour: 6 slots of 4, 24 places.
        let (drive, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(12),
            "09:00",
            "12:00",
        )
        .await;
        assert_eq!(places_left(&app, stop).await, 24);

        // The reproduction: 23 anonymous places were booked at once. Now a request (202),
        // and the stop keeps its places.
        let asked = group(&app, stop, "18600000001", 23).await;
        assert_eq!(asked.status().as_u16(), 202);
        let asked: Value = asked.json().await.unwrap();
        assert_eq!(asked["status"], "requested");
        assert_eq!(asked["slots"], json!([]));
        assert_eq!(places_left(&app, stop).await, 24);
        let code = asked["code"].as_str().unwrap().to_owned();
        let token = asked["token"].as_str().unwrap().to_owned();
        let seen: Value = with_token(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/public/bookings/{code}"),
            &token,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(seen["status"], "requested");
        // One pending request per mobile per stop.
        let again = group(&app, stop, "18600000001", 15).await;
        let problem = expect_problem(again, 409, "a second request").await;
        assert_eq!(problem["errors"][0]["field"], "contact_mobile");
        // A group of up to 10 still books at once; more than the stop has is refused outright.
        let small = group(&app, stop, "18600000002", 10).await;
        assert_eq!(small.status().as_u16(), 201);
        assert_eq!(places_left(&app, stop).await, 14);
        let huge = group(&app, stop, "18600000003", 30).await;
        expect_problem(huge, 409, "more than the stop has").await;
        // A second request, to be declined.
        let second = group(&app, stop, "18600000004", 12).await;
        assert_eq!(second.status().as_u16(), 202);
        let second: Value = second.json().await.unwrap();
        let receipts = outbox(&app, "").await;
        assert!(
            receipts.iter().any(|m| m["kind"] == "request_received"
                && m["body"].as_str().unwrap().contains("不占名额")),
            "{receipts:?}"
        );

        // Staff see it with the drive's bookings, holding nothing.
        let list = app
            .get_ok(&format!("/api/v1/drives/{drive}/bookings"))
            .await;
        let requests = list["stops"][0]["requests"].as_array().unwrap().clone();
        assert_eq!(requests.len(), 2);
        let first = requests
            .iter()
            .find(|r| r["code"] == code.as_str())
            .unwrap();
        assert_eq!(first["status"], "pending");
        assert_eq!(first["headcount"], 23);
        assert_eq!(list["stops"][0]["booked"], 10);
        let id = first["id"].as_i64().unwrap();
        let confirm = format!("/api/v1/group-requests/{id}/confirm");

        // Confirming needs If-Match, and takes the places through the same check as a
        // booking: 23 asked for, 14 left.
        let bare = post_if_match(&app, &app.client, &confirm, None, &json!({})).await;
        expect_problem(bare, 428, "no If-Match").await;
        let too_few = post_if_match(&app, &app.client, &confirm, Some(1), &json!({})).await;
        let problem = expect_problem(too_few, 409, "too few places").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("14 left"),
            "{problem}"
        );
        assert_eq!(places_left(&app, stop).await, 14);

        // Once the small group cancels, there is room: the request becomes a booking with its
        // code and token, holding 23 places, and its contact is told.
        let small_view: Value = app
            .get_ok(&format!("/api/v1/drives/{drive}/bookings"))
            .await;
        let small_code = small_view["stops"][0]["bookings"][0]["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let cancel = post_if_match(
            &app,
            &app.client,
            &format!("/api/v1/bookings/{small_code}/cancel"),
            Some(1),
            &json!({"reason": "腾出名额"}),
        )
        .await;
        assert_eq!(cancel.status().as_u16(), 200);
        let confirmed = post_if_match(&app, &app.client, &confirm, Some(1), &json!({})).await;
        assert_eq!(confirmed.status().as_u16(), 200);
        let confirmed: Value = confirmed.json().await.unwrap();
        assert_eq!(confirmed["status"], "active");
        assert_eq!(confirmed["code"], code.as_str());
        assert_eq!(places_left(&app, stop).await, 1);
        let held: Value = with_token(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/public/bookings/{code}"),
            &token,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(held["status"], "active");
        assert_eq!(held["headcount"], 23);
        let decided = post_if_match(&app, &app.client, &confirm, Some(2), &json!({})).await;
        expect_problem(decided, 409, "decided already").await;

        // The other request, declined with a reason the contact is told.
        let list = app
            .get_ok(&format!("/api/v1/drives/{drive}/bookings"))
            .await;
        let id = list["stops"][0]["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == second["code"])
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let declined = post_if_match(
            &app,
            &app.client,
            &format!("/api/v1/group-requests/{id}/decline"),
            Some(1),
            &json!({"reason": "名额已满"}),
        )
        .await;
        assert_eq!(declined.status().as_u16(), 200);
        let declined: Value = declined.json().await.unwrap();
        assert_eq!(declined["status"], "declined");
        let notices = outbox(&app, "").await;
        assert!(
            notices.iter().any(|m| m["kind"] == "request_declined"
                && m["body"].as_str().unwrap().contains("名额已满")),
            "{notices:?}"
        );
        let audit = app.get_ok("/api/v1/audit?entity=group_request").await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.contains(&"confirm") && actions.contains(&"decline"),
            "{actions:?}"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn the_request_threshold_is_a_station_setting() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let vehicle = app
            .get_ok(&format!("/api/v1/vehicles/{}", net.vehicles[0]))
            .await;
        let station_path = format!("/api/v1/stations/{}", vehicle["station_id"]);
        let station = app.get_ok(&station_path).await;
        assert_eq!(station["group_request_threshold"], 10);
        let version = station["version"].as_i64().unwrap();
        let bad = app
            .client
            .patch(app.url(&station_path))
            .header("If-Match", format!("\"{version}\""))
            .json(&json!({"group_request_threshold": 1}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(bad, 400, "threshold 1").await;
        assert_eq!(problem["errors"][0]["field"], "group_request_threshold");
        let patched = app
            .client
            .patch(app.url(&station_path))
            .header("If-Match", format!("\"{version}\""))
            .json(&json!({"group_request_threshold": 3}))
            .send()
            .await
            .unwrap();
        assert_eq!(patched.status().as_u16(), 200);
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(12),
            "09:00",
            "11:30",
        )
        .await;
        assert_eq!(
            group(&app, stop, "13900000001", 3).await.status().as_u16(),
            201
        );
        let asked = group(&app, stop, "13900000002", 4).await;
        assert_eq!(asked.status().as_u16(), 202);
        // Its contact may withdraw it with the token, once.
        let asked: Value = asked.json().await.unwrap();
        let path = format!(
            "/api/v1/public/bookings/{}/cancel",
            asked["code"].as_str().unwrap()
        );
        let token = asked["token"].as_str().unwrap();
        let withdrawn = with_token(&app, reqwest::Method::POST, &path, token)
            .send()
            .await
            .unwrap();
        assert_eq!(withdrawn.status().as_u16(), 200);
        let withdrawn: Value = withdrawn.json().await.unwrap();
        assert_eq!(withdrawn["status"], "cancelled");
        let again = with_token(&app, reqwest::Method::POST, &path, token)
            .send()
            .await
            .unwrap();
        expect_problem(again, 409, "withdrawn already").await;
        app
    })
    .await;
}

#[tokio::test]
async fn the_places_one_mobile_or_one_address_holds_publicly_are_capped() {
    on_each_backend_with(
        || HttpConfig {
            booking_rate_limit: 0,
            booking_places_per_mobile: 3,
            booking_places_per_address: 5,
            ..HttpConfig::default()
        },
        |app| async move {
            let net = network(&app).await;
            let mut stops = Vec::new();
            for day in 10..12 {
                let (_, stop) = published_stop(
                    &app,
                    net.vehicles[0],
                    net.points[0],
                    today() + Duration::days(day),
                    "09:00",
                    "11:30",
                )
                .await;
                stops.push(stop);
            }
            // One mobile: 2 places in a group, then 2 more at another stop would be 4 > 3.
            assert_eq!(
                group(&app, stops[0], "13900000001", 2)
                    .await
                    .status()
                    .as_u16(),
                201
            );
            let over = group(&app, stops[1], "13900000001", 2).await;
            let problem = expect_problem(over, 409, "a mobile over its cap").await;
            assert_eq!(problem["errors"][0]["field"], "contact_mobile");
            let mine = booked(&app, stops[1], "张三", "13900000001", "09:00").await;
            let person = book(&app, stops[0], "张三", "13900000001", "09:00").await;
            let problem = expect_problem(person, 409, "a person over the mobile's cap").await;
            assert_eq!(problem["errors"][0]["field"], "mobile");
            // One address (every test client is 127.0.0.1): 3 held, 2 more make 5, a sixth no.
            assert_eq!(
                group(&app, stops[1], "13900000002", 2)
                    .await
                    .status()
                    .as_u16(),
                201
            );
            let sixth = book(&app, stops[1], "李四", "13900000003", "09:30").await;
            let problem = expect_problem(sixth, 409, "an address over its cap").await;
            assert_eq!(problem["errors"][0]["field"], "client_address");
            assert_eq!(places_left(&app, stops[1]).await, 20 - 3);
            // Cancelling gives the allowance back.
            let cancelled = with_token(
                &app,
                reqwest::Method::POST,
                &format!(
                    "/api/v1/public/bookings/{}/cancel",
                    mine["code"].as_str().unwrap()
                ),
                mine["token"].as_str().unwrap(),
            )
            .send()
            .await
            .unwrap();
            assert_eq!(cancelled.status().as_u16(), 200);
            booked(&app, stops[1], "李四", "13900000003", "09:30").await;
            app
        },
    )
    .await;
}

#[tokio::test]
async fn staff_cancel_or_move_one_booking_within_their_scope_audited_and_notified() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(12),
            "09:00",
            "11:30",
        )
        .await;
        let one = booked(&app, stop, "张三", "13800000001", "09:30").await;
        let code = one["code"].as_str().unwrap().to_owned();
        assert_eq!(one["version"], 1);
        let moving = format!("/api/v1/bookings/{code}/reschedule");
        let cancelling = format!("/api/v1/bookings/{code}/cancel");

        // Outside the drive's scope it does not exist; a viewer in scope may not change it.
        let elsewhere = app
            .client_for("xihe.staff", "station_staff", &[crate::plans::XIHE])
            .await;
        let hidden = post_if_match(&app, &elsewhere, &cancelling, Some(1), &json!({})).await;
        expect_problem(hidden, 404, "outside the scope").await;
        let viewer = app.client_for("county.viewer", "viewer", &[COUNTY]).await;
        let forbidden = post_if_match(&app, &viewer, &cancelling, Some(1), &json!({})).await;
        expect_problem(forbidden, 403, "a viewer").await;
        let anonymous = post_if_match(&app, &app.anonymous, &cancelling, Some(1), &json!({})).await;
        expect_problem(anonymous, 401, "anonymous").await;

        // Staff of the county move it (If-Match required, stale refused with the booking).
        let staff = app
            .client_for("county.staff", "station_staff", &[COUNTY])
            .await;
        let bare = post_if_match(&app, &staff, &moving, None, &json!({"slot": "10:00"})).await;
        expect_problem(bare, 428, "no If-Match").await;
        let stale = post_if_match(&app, &staff, &moving, Some(7), &json!({"slot": "10:00"})).await;
        assert_eq!(stale.status().as_u16(), 412);
        let moved = post_if_match(&app, &staff, &moving, Some(1), &json!({"slot": "10:00"})).await;
        assert_eq!(moved.status().as_u16(), 200);
        assert_eq!(moved.headers()["etag"], "\"2\"");
        let moved: Value = moved.json().await.unwrap();
        assert_eq!(moved["slots"], json!([{"starts": "10:00", "places": 1}]));
        let slots = left(&app, stop).await;
        assert_eq!(slots[1], ("09:30".to_owned(), 4));
        assert_eq!(slots[2], ("10:00".to_owned(), 3));

        // And cancel it, with a reason the person is told; the places come back.
        let cancelled = post_if_match(
            &app,
            &staff,
            &cancelling,
            Some(2),
            &json!({"reason": "重复预约"}),
        )
        .await;
        assert_eq!(cancelled.status().as_u16(), 200);
        let cancelled: Value = cancelled.json().await.unwrap();
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(left(&app, stop).await[2], ("10:00".to_owned(), 4));
        let again = post_if_match(&app, &staff, &cancelling, Some(3), &json!({})).await;
        expect_problem(again, 409, "cancelled already").await;
        let messages = outbox(&app, "").await;
        let kinds: Vec<&str> = messages
            .iter()
            .map(|m| m["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"rescheduled"), "{kinds:?}");
        let notice = messages
            .iter()
            .find(|m| m["kind"] == "cancelled_by_station")
            .expect("a cancellation notice");
        assert!(
            notice["body"]
                .as_str()
                .unwrap()
                .contains("已由献血站取消（重复预约）")
        );
        let audit = app.get_ok("/api/v1/audit?entity=booking").await;
        let entries: Vec<(&str, &str)> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["action"].as_str().unwrap(),
                    a["actor"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert!(
            entries
                .iter()
                .any(|(a, who)| *a == "move" && who.contains("county.staff")),
            "{entries:?}"
        );
        assert!(
            entries
                .iter()
                .any(|(a, who)| *a == "cancel" && who.contains("county.staff")),
            "{entries:?}"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn messages_caused_by_anonymous_requests_are_capped_per_recipient_and_day() {
    on_each_backend_with(
        || HttpConfig {
            booking_rate_limit: 0,
            ..HttpConfig::default()
        },
        |app| async move {
            let net = network(&app).await;
            let (_, stop) = published_stop(
                &app,
                net.vehicles[0],
                net.points[0],
                today() + Duration::days(12),
                "09:00",
                "11:30",
            )
            .await;
            // 12 book/cancel cycles on one number made 24 messages for it.
            for _ in 0..12 {
                let b = booked(&app, stop, "张三", "13800000001", "09:00").await;
                let cancelled = with_token(
                    &app,
                    reqwest::Method::POST,
                    &format!(
                        "/api/v1/public/bookings/{}/cancel",
                        b["code"].as_str().unwrap()
                    ),
                    b["token"].as_str().unwrap(),
                )
                .send()
                .await
                .unwrap();
                assert_eq!(cancelled.status().as_u16(), 200);
            }
            let all = outbox(&app, "").await;
            assert_eq!(all.len(), 24, "every message is recorded");
            let suppressed = outbox(&app, "&status=suppressed").await;
            assert_eq!(suppressed.len(), 24 - 5, "beyond 5 a day: suppressed");
            let pending = outbox(&app, "&status=pending").await;
            assert_eq!(pending.len(), 5);
            // Only those go to the sender.
            let run = run_outbox(&app).await;
            assert_eq!(run["dispatched"]["by_hand"], 5);
            // Another number is not held back.
            booked(&app, stop, "李四", "13800000002", "09:00").await;
            assert_eq!(outbox(&app, "&status=pending").await.len(), 1);
            // What staff cause is always sent: a 13th booking's confirmation is suppressed, the
            // station's cancellation of it is not.
            let thirteenth = booked(&app, stop, "张三", "13800000001", "09:00").await;
            let code = thirteenth["code"].as_str().unwrap();
            let cancelled = post_if_match(
                &app,
                &app.client,
                &format!("/api/v1/bookings/{code}/cancel"),
                Some(1),
                &json!({"reason": "重复预约"}),
            )
            .await;
            assert_eq!(cancelled.status().as_u16(), 200);
            let pending = outbox(&app, "&status=pending").await;
            assert_eq!(pending.len(), 2);
            assert!(pending.iter().any(|m| m["kind"] == "cancelled_by_station"));
            assert_eq!(outbox(&app, "&status=suppressed").await.len(), 24 - 5 + 1);
            app
        },
    )
    .await;
}

#[tokio::test]
async fn the_log_sender_leaves_messages_for_staff_to_send_by_hand_and_mark_sent() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(12),
            "09:00",
            "11:30",
        )
        .await;
        booked(&app, stop, "张三", "13800000001", "09:00").await;
        let run = run_outbox(&app).await;
        assert_eq!(
            run["dispatched"],
            json!({"sent": 0, "failed": 0, "by_hand": 1})
        );
        let waiting = outbox(&app, "&status=to_send_by_hand").await;
        assert_eq!(waiting.len(), 1);
        assert_eq!(
            waiting[0]["recipient"], "138****0001",
            "the admin list stays masked"
        );
        assert!(
            outbox(&app, "&status=sent").await.is_empty(),
            "nothing left the station"
        );

        // Station staff of the county see the whole number; the listing is audited.
        let staff = app
            .client_for("county.staff", "station_staff", &[COUNTY])
            .await;
        let list: Value = staff
            .get(app.url("/api/v1/outbox/by-hand"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["recipient"], "13800000001");
        let id = items[0]["id"].as_i64().unwrap();
        let audit = app.get_ok("/api/v1/audit?entity=outbox_message").await;
        assert!(
            audit["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["action"] == "reveal"
                    && a["actor"].as_str().unwrap().contains("county.staff")),
            "{audit}"
        );

        // Staff elsewhere see nothing of it; viewers may not list.
        let elsewhere = app
            .client_for("xihe.staff", "station_staff", &[crate::plans::XIHE])
            .await;
        let theirs: Value = elsewhere
            .get(app.url("/api/v1/outbox/by-hand"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(theirs["items"], json!([]));
        let hidden = elsewhere
            .post(app.url(&format!("/api/v1/outbox/{id}/sent")))
            .send()
            .await
            .unwrap();
        expect_problem(hidden, 404, "outside the scope").await;
        let viewer = app.client_for("county.viewer", "viewer", &[COUNTY]).await;
        let refused = viewer
            .get(app.url("/api/v1/outbox/by-hand"))
            .send()
            .await
            .unwrap();
        expect_problem(refused, 403, "a viewer").await;

        // Marked sent once.
        let marked = staff
            .post(app.url(&format!("/api/v1/outbox/{id}/sent")))
            .send()
            .await
            .unwrap();
        assert_eq!(marked.status().as_u16(), 200);
        let marked: Value = marked.json().await.unwrap();
        assert_eq!(marked["status"], "sent");
        assert!(marked["sent_at"].is_string());
        let twice = staff
            .post(app.url(&format!("/api/v1/outbox/{id}/sent")))
            .send()
            .await
            .unwrap();
        expect_problem(twice, 409, "sent already").await;
        assert_eq!(outbox(&app, "&status=sent").await.len(), 1);
        app
    })
    .await;
}

#[tokio::test]
async fn the_outbox_status_migration_keeps_messages_and_rolls_back() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    on_each_backend_with(unlimited, |app| async move {
        let db = app.schema_connection().await;
        let net = network(&app).await;
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(12),
            "09:00",
            "11:30",
        )
        .await;
        booked(&app, stop, "张三", "13800000001", "09:00").await;
        booked(&app, stop, "李四", "13800000002", "09:00").await;
        run_outbox(&app).await;
        booked(&app, stop, "王五", "13800000003", "09:00").await;
        // Down past the outbox migration: by hand becomes `sent` (as the log sender said before).
        let applied = Migrator::get_applied_migrations(&db).await.unwrap();
        let at = applied
            .iter()
            .position(|m| m.name() == "m20261207_000012_outbox_by_hand")
            .expect("applied");
        Migrator::down(&db, Some((applied.len() - at) as u32))
            .await
            .expect("down");
        let count = |status: &'static str| {
            let db = db.clone();
            async move {
                let row = db
                    .query_one_raw(sea_orm::Statement::from_string(
                        db.get_database_backend(),
                        format!(
                            "SELECT COUNT(*) AS n FROM outbox_messages WHERE status = '{status}'"
                        ),
                    ))
                    .await
                    .unwrap()
                    .unwrap();
                row.try_get::<i64>("", "n").unwrap()
            }
        };
        assert_eq!(count("sent").await, 2);
        assert_eq!(count("pending").await, 1);
        Migrator::up(&db, None).await.expect("up again");
        assert_eq!(outbox(&app, "").await.len(), 3);
        // Messages are written after the rebuild (the id sequence goes on).
        booked(&app, stop, "赵六", "13800000004", "09:00").await;
        assert_eq!(outbox(&app, "").await.len(), 4);
        app
    })
    .await;
}

/// With `--public-url`, the confirmation, a group request's receipt and a move by the holder
/// end with the link to the booking's page (in Chinese, whatever language the request asked
/// for), and the link opens that page; reminders, cancellations and moves by staff give the
/// code only. The token stays in the outbox only until the message has left.
#[tokio::test]
async fn messages_to_donors_link_to_the_booking_page_when_the_public_address_is_known() {
    let http = || HttpConfig {
        public_url: Some("https://donors.example.cn".to_owned()),
        ..unlimited()
    };
    on_each_backend_with(http, |app| async move {
        let net = network(&app).await;
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(12),
            "09:00",
            "12:00",
        )
        .await;
        let made: Value = app
            .anonymous
            .post(app.url(&format!("/api/v1/public/stops/{stop}/bookings")))
            .header("accept-language", "en")
            .json(&json!({"name": "张三", "mobile": "13800000001", "slot": "09:00"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let code = made["code"].as_str().unwrap().to_owned();
        let token = made["token"].as_str().unwrap().to_owned();
        let link = format!("https://donors.example.cn/bookings/{code}?t={token}");

        // Staff who send by hand get the whole message, link and all.
        let staff = app
            .client_for("county.staff", "station_staff", &[COUNTY])
            .await;
        let by_hand = || async {
            run_outbox(&app).await;
            let list: Value = staff
                .get(app.url("/api/v1/outbox/by-hand"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            list["items"].as_array().unwrap().clone()
        };
        let waiting = by_hand().await;
        assert_eq!(waiting.len(), 1);
        let body = waiting[0]["body"].as_str().unwrap();
        assert!(
            body.starts_with("张三您好：您已预约"),
            "Chinese, asked in English: {body}"
        );
        assert!(
            body.ends_with(&format!("休息好。改约或取消：{link}")),
            "{body}"
        );
        assert!(
            body.chars().count() <= 3 * 67,
            "three text-message parts at most: {body}"
        );
        // The link opens the booking's page.
        let path = link.trim_start_matches("https://donors.example.cn");
        let page = app.anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200);
        assert!(page.text().await.unwrap().contains(&code));
        // The admins' outbox listing shows the message without the token.
        let listed = outbox(&app, "").await;
        assert!(
            listed[0]["body"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/bookings/{code}?t=…")),
            "{}",
            listed[0]["body"]
        );

        // Sent by hand: from then on the outbox keeps it without the token.
        let id = waiting[0]["id"].as_i64().unwrap();
        let marked = staff
            .post(app.url(&format!("/api/v1/outbox/{id}/sent")))
            .send()
            .await
            .unwrap();
        assert_eq!(marked.status().as_u16(), 200);
        let stored = entity::outbox_message::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert!(!stored.body.contains(&token), "{}", stored.body);
        assert!(stored.body.ends_with("?t=…"), "{}", stored.body);

        // Moved by its holder: the notice links too; moved by staff: the code only.
        let moved = with_token(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/public/bookings/{code}/reschedule"),
            &token,
        )
        .json(&json!({"slot": "10:00"}))
        .send()
        .await
        .unwrap();
        assert_eq!(moved.status().as_u16(), 200);
        let by_staff = post_if_match(
            &app,
            &staff,
            &format!("/api/v1/bookings/{code}/reschedule"),
            Some(2),
            &json!({"slot": "10:30"}),
        )
        .await;
        assert_eq!(by_staff.status().as_u16(), 200);
        let cancelled = with_token(
            &app,
            reqwest::Method::POST,
            &format!("/api/v1/public/bookings/{code}/cancel"),
            &token,
        )
        .send()
        .await
        .unwrap();
        assert_eq!(cancelled.status().as_u16(), 200);
        // A group request: its receipt links to the request's page.
        let asked: Value = group(&app, stop, "18600000001", 23)
            .await
            .json()
            .await
            .unwrap();
        let request_link = format!(
            "https://donors.example.cn/bookings/{}?t={}",
            asked["code"].as_str().unwrap(),
            asked["token"].as_str().unwrap()
        );
        let waiting = by_hand().await;
        let body_of = |kind: &str| -> Vec<String> {
            waiting
                .iter()
                .filter(|m| m["kind"] == kind)
                .map(|m| m["body"].as_str().unwrap().to_owned())
                .collect()
        };
        let moves = body_of("rescheduled");
        assert_eq!(moves.len(), 2, "{waiting:?}");
        assert!(
            moves[0].contains("10:00") && moves[0].ends_with(&link),
            "{}",
            moves[0]
        );
        assert!(
            moves[1].contains("10:30") && !moves[1].contains("http"),
            "{}",
            moves[1]
        );
        let cancellation = &body_of("cancellation")[0];
        assert!(cancellation.ends_with("已取消。"), "{cancellation}");
        let receipt = &body_of("request_received")[0];
        assert!(
            receipt.contains("不占名额") && receipt.ends_with(&request_link),
            "{receipt}"
        );
        let page = app
            .anonymous
            .get(app.url(request_link.trim_start_matches("https://donors.example.cn")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 200);
        app
    })
    .await;
}
