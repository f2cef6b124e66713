//! Preparation checklists (issue 6): items made for every stop of a new drive from the
//! station's template or the defaults, templates replaced with `If-Match`, items ticked done
//! and undone with who and when, who may tick what, and the due listing. The network is the
//! planning tests' (`crate::plans::network`): the station lies in the demo city; P1 and P4 in
//! 东岭 (`DONGLING`), P2 at the township of 南塘 (990101103000), P3 in 北冈 (990101104201).

use chrono::{Days, NaiveDate};
use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, on_each_backend, send};
use crate::plans::{CITY, COUNTY, DONGLING, XIHE, base_request, make_plan, network};

const NANTANG: &str = "990101103000";

async fn get(app: &TestApp, client: &Client, path: &str) -> (u16, Value) {
    let response = send(app, client, Method::GET, path, None, None).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A drive by hand on `date` with vehicle `vehicle`, one stop per point in order; its body.
async fn drive(app: &TestApp, vehicle: i64, date: &str, points: &[i64]) -> Value {
    let stops: Vec<Value> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({"site": format!("point-{p}"),
                   "planned_start": format!("{:02}:00", 9 + 2 * i),
                   "planned_end": format!("{:02}:30", 9 + 2 * i),
                   "expected_donors": 10})
        })
        .collect();
    let response = send(
        app,
        &app.client,
        Method::POST,
        "/api/v1/drives",
        Some(&json!({"vehicle_id": vehicle, "date": date, "region": COUNTY, "stops": stops})),
        None,
    )
    .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn checklist(app: &TestApp, drive_id: &Value, date: &str) -> Value {
    app.get_ok(&format!("/api/v1/drives/{drive_id}/checklist?date={date}"))
        .await
}

/// Ticks item `id` done (`done`) or undone as `client`, with `If-Match: "version"` if given.
async fn tick(
    app: &TestApp,
    client: &Client,
    id: &Value,
    done: bool,
    version: Option<i64>,
) -> reqwest::Response {
    let verb = if done { "done" } else { "undone" };
    let tag = version.map(|v| format!("\"{v}\""));
    send(
        app,
        client,
        Method::POST,
        &format!("/api/v1/checklist-items/{id}/{verb}"),
        None,
        tag.as_deref(),
    )
    .await
}

fn titles_and_dues(items: &Value) -> Vec<(String, String)> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["title"].as_str().unwrap().to_owned(),
                i["due_date"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

async fn station_id(app: &TestApp) -> i64 {
    app.get_ok("/api/v1/stations").await["items"][0]["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn new_drives_get_the_default_checklist_at_every_stop() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let station = station_id(&app).await;
        let response = send(
            &app,
            &app.client,
            Method::GET,
            &format!("/api/v1/stations/{station}/checklist-template"),
            None,
            None,
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["etag"], "\"0\"");
        let template: Value = response.json().await.unwrap();
        assert_eq!(template["source"], "default");
        assert_eq!(template["version"], 0);
        assert_eq!(
            template["items"],
            json!([
                {"seq": 1, "title": "确认场地和联络员", "days_before": 14},
                {"seq": 2, "title": "通知各村并张贴通知", "days_before": 7},
                {"seq": 3, "title": "确认预约情况和天气", "days_before": 1},
            ])
        );

        // By hand: Tuesday 15 December 2026 (after the plan's week, accepted below), two stops.
        let d = drive(
            &app,
            net.vehicles[0],
            "2026-12-15",
            &[net.points[0], net.points[1]],
        )
        .await;
        let list = checklist(&app, &d["id"], "2026-12-08").await;
        assert_eq!(list["drive_id"], d["id"]);
        assert_eq!(list["drive_date"], "2026-12-15");
        assert_eq!(list["drive_status"], "draft");
        assert_eq!(list["date"], "2026-12-08");
        let stops = list["stops"].as_array().unwrap();
        assert_eq!(stops.len(), 2);
        assert_eq!(stops[0]["stop_id"], d["stops"][0]["id"]);
        assert_eq!(stops[0]["region_code"], "990101101201");
        assert_eq!(stops[0]["township_code"], DONGLING);
        assert_eq!(stops[1]["township_code"], NANTANG);
        for stop in stops {
            assert_eq!(
                titles_and_dues(&stop["items"]),
                pairs(&[
                    ("确认场地和联络员", "2026-12-01"),
                    ("通知各村并张贴通知", "2026-12-08"),
                    ("确认预约情况和天气", "2026-12-14"),
                ])
            );
            let items = stop["items"].as_array().unwrap();
            // On 8 December: the 14-day item is 7 days late, the 7-day one due today, the
            // 1-day one (14 December) upcoming.
            let states: Vec<(&str, i64)> = items
                .iter()
                .map(|i| {
                    (
                        i["state"].as_str().unwrap(),
                        i["days_late"].as_i64().unwrap(),
                    )
                })
                .collect();
            assert_eq!(states, [("late", 7), ("due", 0), ("upcoming", 0)]);
            for (n, item) in items.iter().enumerate() {
                assert_eq!(item["seq"], n + 1);
                assert_eq!(item["done"], false);
                assert_eq!(item["done_at"], Value::Null);
                assert_eq!(item["done_by"], Value::Null);
                assert_eq!(item["version"], 1);
                assert_eq!(item["stop_id"], stop["stop_id"]);
                assert_eq!(item["drive_id"], d["id"]);
            }
        }
        // Three days before its due date the 1-day item is still upcoming; two days before,
        // due.
        let list = checklist(&app, &d["id"], "2026-12-11").await;
        assert_eq!(list["stops"][0]["items"][2]["state"], "upcoming");
        let list = checklist(&app, &d["id"], "2026-12-12").await;
        assert_eq!(list["stops"][0]["items"][2]["state"], "due");

        // Accepting a plan: every stop of every drive gets the three items, counted back
        // from its drive's date.
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &format!("/api/v1/plans/{}/accept", plan["id"]),
            None,
            None,
        )
        .await;
        assert_eq!(response.status().as_u16(), 201);
        let drives: Vec<Value> = response.json().await.unwrap();
        assert!(!drives.is_empty());
        for accepted in &drives {
            let date: NaiveDate = accepted["date"].as_str().unwrap().parse().unwrap();
            let before = |n: u64| date.checked_sub_days(Days::new(n)).unwrap().to_string();
            let list = checklist(&app, &accepted["id"], "2026-12-01").await;
            let stops = list["stops"].as_array().unwrap();
            assert_eq!(stops.len(), accepted["stops"].as_array().unwrap().len());
            for stop in stops {
                assert_eq!(
                    titles_and_dues(&stop["items"]),
                    vec![
                        ("确认场地和联络员".to_owned(), before(14)),
                        ("通知各村并张贴通知".to_owned(), before(7)),
                        ("确认预约情况和天气".to_owned(), before(1)),
                    ]
                );
            }
        }
        let (status, _) = get(&app, &app.client, "/api/v1/drives/99999/checklist").await;
        assert_eq!(status, 404);
        let response = send(
            &app,
            &app.client,
            Method::GET,
            &format!("/api/v1/drives/{}/checklist?date=2026-02-30", d["id"]),
            None,
            None,
        )
        .await;
        expect_problem(response, 400, "bad date").await;
        app
    })
    .await;
}

#[tokio::test]
async fn a_station_template_replaces_the_defaults_for_later_drives_only() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let station = station_id(&app).await;
        let path = format!("/api/v1/stations/{station}/checklist-template");
        let before = drive(&app, net.vehicles[0], "2026-12-08", &[net.points[0]]).await;
        let body = json!({"items": [
            {"title": "  Book the school hall  ", "days_before": 21},
            {"title": "Call the village doctor", "days_before": 3},
        ]});

        let response = send(&app, &app.client, Method::PUT, &path, Some(&body), None).await;
        let problem = expect_problem(response, 428, "no If-Match").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("\"0\""),
            "{problem}"
        );
        let response = send(
            &app,
            &app.client,
            Method::PUT,
            &path,
            Some(&body),
            Some("\"4\""),
        )
        .await;
        assert_eq!(response.status().as_u16(), 412);
        assert_eq!(response.headers()["etag"], "\"0\"");
        let current: Value = response.json().await.unwrap();
        assert_eq!(current["source"], "default");

        let response = send(
            &app,
            &app.client,
            Method::PUT,
            &path,
            Some(&body),
            Some("\"0\""),
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let template: Value = response.json().await.unwrap();
        assert_eq!(template["source"], "station");
        assert_eq!(template["version"], 1);
        assert_eq!(template["updated_by"], "root (token: tests)");
        assert_eq!(
            template["items"],
            json!([
                {"seq": 1, "title": "Book the school hall", "days_before": 21},
                {"seq": 2, "title": "Call the village doctor", "days_before": 3},
            ])
        );
        assert_eq!(app.get_ok(&path).await, template);

        // A drive made now gets the station's items; the one made before keeps the defaults.
        let after = drive(&app, net.vehicles[0], "2026-12-09", &[net.points[0]]).await;
        let list = checklist(&app, &after["id"], "2026-12-01").await;
        assert_eq!(
            titles_and_dues(&list["stops"][0]["items"]),
            pairs(&[
                ("Book the school hall", "2026-11-18"),
                ("Call the village doctor", "2026-12-06"),
            ])
        );
        let list = checklist(&app, &before["id"], "2026-12-01").await;
        assert_eq!(list["stops"][0]["items"].as_array().unwrap().len(), 3);
        assert_eq!(list["stops"][0]["items"][0]["title"], "确认场地和联络员");

        // Two editors who both read version 1: the second is refused, nothing overwritten.
        let first = json!({"items": [{"title": "First editor", "days_before": 10}]});
        let second = json!({"items": [{"title": "Second editor", "days_before": 5}]});
        let response = send(
            &app,
            &app.client,
            Method::PUT,
            &path,
            Some(&first),
            Some("\"1\""),
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        let response = send(
            &app,
            &app.client,
            Method::PUT,
            &path,
            Some(&second),
            Some("\"1\""),
        )
        .await;
        assert_eq!(response.status().as_u16(), 412);
        let current: Value = response.json().await.unwrap();
        assert_eq!(current["version"], 2);
        assert_eq!(current["items"][0]["title"], "First editor");

        let audit = app
            .get_ok(&format!(
                "/api/v1/audit?entity=checklist_template&id={station}"
            ))
            .await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["create", "update"]);
        assert_eq!(
            audit["items"][1]["after"]["items"][0]["title"],
            "First editor"
        );

        // Validation names every field.
        let long = "长".repeat(201);
        let bad = json!({"items": [
            {"title": "", "days_before": 3},
            {"title": "Fine", "days_before": 91},
            {"title": long, "days_before": -1},
            {"days_before": 2},
            {"title": "No days"},
        ]});
        let response = send(
            &app,
            &app.client,
            Method::PUT,
            &path,
            Some(&bad),
            Some("\"2\""),
        )
        .await;
        let problem = expect_problem(response, 400, "bad items").await;
        assert_eq!(
            fields(&problem),
            [
                "items[0].title",
                "items[1].days_before",
                "items[2].title",
                "items[2].days_before",
                "items[3].title",
                "items[4].days_before",
            ]
        );
        let response = send(
            &app,
            &app.client,
            Method::PUT,
            &path,
            Some(&json!({"items": []})),
            Some("\"2\""),
        )
        .await;
        let problem = expect_problem(response, 400, "no items").await;
        assert_eq!(fields(&problem), ["items"]);
        let many: Vec<Value> = (0..21)
            .map(|i| json!({"title": format!("Item {i}"), "days_before": i}))
            .collect();
        let response = send(
            &app,
            &app.client,
            Method::PUT,
            &path,
            Some(&json!({"items": many})),
            Some("\"2\""),
        )
        .await;
        let problem = expect_problem(response, 400, "too many").await;
        assert_eq!(fields(&problem), ["items"]);
        assert_eq!(app.get_ok(&path).await["version"], 2);

        // Who: station staff of the city replace it; viewers and township officials do not.
        let staff = app.client_for("staff", "station_staff", &[CITY]).await;
        let viewer = app.client_for("viewer", "viewer", &[CITY]).await;
        let official = app
            .client_for("official", "township_official", &[DONGLING])
            .await;
        let outsider = app.client_for("xihe.staff", "station_staff", &[XIHE]).await;
        let response = send(
            &app,
            &staff,
            Method::PUT,
            &path,
            Some(&first),
            Some("\"2\""),
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        let response = send(
            &app,
            &viewer,
            Method::PUT,
            &path,
            Some(&first),
            Some("\"3\""),
        )
        .await;
        expect_problem(response, 403, "viewer").await;
        assert_eq!(get(&app, &viewer, &path).await.0, 200);
        // The station lies in the city, outside the official's county and the outsider's
        // township: hidden.
        for client in [&official, &outsider] {
            let response = send(
                &app,
                client,
                Method::PUT,
                &path,
                Some(&first),
                Some("\"3\""),
            )
            .await;
            expect_problem(response, 404, "outside").await;
            assert_eq!(get(&app, client, &path).await.0, 404);
        }
        let response = send(
            &app,
            &app.client,
            Method::PUT,
            "/api/v1/stations/99999/checklist-template",
            Some(&first),
            Some("\"0\""),
        )
        .await;
        expect_problem(response, 404, "no station").await;
        app
    })
    .await;
}

#[tokio::test]
async fn ticking_an_item_records_who_and_when_with_if_match() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let d = drive(&app, net.vehicles[0], "2026-12-08", &[net.points[0]]).await;
        let list = checklist(&app, &d["id"], "2026-12-01").await;
        let item = list["stops"][0]["items"][1].clone();
        let id = &item["id"];

        let response = tick(&app, &app.client, id, true, None).await;
        let problem = expect_problem(response, 428, "no If-Match").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("\"1\""),
            "{problem}"
        );
        let response = tick(&app, &app.client, id, true, Some(9)).await;
        assert_eq!(response.status().as_u16(), 412);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let current: Value = response.json().await.unwrap();
        assert_eq!(current["done"], false);

        let started = chrono::Utc::now() - chrono::Duration::seconds(5);
        let response = tick(&app, &app.client, id, true, Some(1)).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["etag"], "\"2\"");
        let done: Value = response.json().await.unwrap();
        assert_eq!(done["done"], true);
        assert_eq!(done["state"], "done");
        assert_eq!(done["done_by"], "root (token: tests)");
        assert_eq!(done["version"], 2);
        let at: chrono::DateTime<chrono::Utc> = done["done_at"].as_str().unwrap().parse().unwrap();
        assert!(at >= started && at <= chrono::Utc::now(), "{at}");
        let list = checklist(&app, &d["id"], "2026-12-01").await;
        assert_eq!(list["stops"][0]["items"][1], done);
        // The other items are untouched.
        assert_eq!(list["stops"][0]["items"][0]["done"], false);

        // A second editor who still holds version 1 cannot undo it unseen.
        let response = tick(&app, &app.client, id, false, Some(1)).await;
        assert_eq!(response.status().as_u16(), 412);
        let current: Value = response.json().await.unwrap();
        assert_eq!(current["done"], true);
        // Done again at the current version: answered as it is, nothing written.
        let response = tick(&app, &app.client, id, true, Some(2)).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.json::<Value>().await.unwrap(), done);

        let response = tick(&app, &app.client, id, false, Some(2)).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["etag"], "\"3\"");
        let undone: Value = response.json().await.unwrap();
        assert_eq!(undone["done"], false);
        assert_eq!(undone["done_at"], Value::Null);
        assert_eq!(undone["done_by"], Value::Null);
        assert_eq!(undone["version"], 3);

        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=checklist_item&id={id}"))
            .await;
        let records = audit["items"].as_array().unwrap();
        let actions: Vec<&str> = records
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["done", "undone"]);
        assert_eq!(records[0]["region_code"], "990101101201");
        assert_eq!(records[0]["after"]["done_by"], "root (token: tests)");

        // A cancelled drive's checklist no longer changes.
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &format!("/api/v1/drives/{}/transition", d["id"]),
            Some(&json!({"to": "cancelled", "reason": "snow"})),
            Some("\"1\""),
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        let problem = expect_problem(
            tick(&app, &app.client, id, true, Some(3)).await,
            409,
            "cancelled",
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains("cancelled"),
            "{problem}"
        );
        let response = tick(&app, &app.client, &json!(99999), true, Some(1)).await;
        expect_problem(response, 404, "no item").await;
        app
    })
    .await;
}

#[tokio::test]
async fn township_officials_tick_the_items_of_their_township_only() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        // P1 in 东岭, P2 at 南塘 (same county).
        let d = drive(
            &app,
            net.vehicles[0],
            "2026-12-08",
            &[net.points[0], net.points[1]],
        )
        .await;
        let official = app
            .client_for("official", "township_official", &[DONGLING])
            .await;
        let viewer = app.client_for("viewer", "viewer", &[COUNTY]).await;
        let outsider = app.client_for("xihe.staff", "station_staff", &[XIHE]).await;
        let staff = app.client_for("staff", "station_staff", &[CITY]).await;

        let (status, list) = get(
            &app,
            &official,
            &format!("/api/v1/drives/{}/checklist", d["id"]),
        )
        .await;
        assert_eq!(status, 200);
        let dongling = list["stops"][0]["items"][0]["id"].clone();
        let nantang = list["stops"][1]["items"][0]["id"].clone();

        let response = tick(&app, &official, &dongling, true, Some(1)).await;
        assert_eq!(response.status().as_u16(), 200);
        let done: Value = response.json().await.unwrap();
        assert_eq!(done["done_by"], "official (token: tests)");
        // 南塘 is in the official's county (readable) but not its township.
        expect_problem(
            tick(&app, &official, &nantang, true, Some(1)).await,
            403,
            "neighbour",
        )
        .await;
        expect_problem(
            tick(&app, &viewer, &nantang, true, Some(1)).await,
            403,
            "viewer",
        )
        .await;
        expect_problem(
            tick(&app, &outsider, &nantang, true, Some(1)).await,
            404,
            "outsider",
        )
        .await;
        let (status, _) = get(
            &app,
            &outsider,
            &format!("/api/v1/drives/{}/checklist", d["id"]),
        )
        .await;
        assert_eq!(status, 404);
        // Station staff of the city tick anywhere in it, undoing the official's tick too.
        let response = tick(&app, &staff, &nantang, true, Some(1)).await;
        assert_eq!(response.status().as_u16(), 200);
        let response = tick(&app, &staff, &dongling, false, Some(2)).await;
        assert_eq!(response.status().as_u16(), 200);
        let response = Client::new()
            .post(app.url(&format!("/api/v1/checklist-items/{dongling}/done")))
            .header("If-Match", "\"3\"")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401);
        app
    })
    .await;
}

/// The (item id, state, days late) of a due listing.
fn due_rows(page: &Value) -> Vec<(i64, String, i64)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["item_id"].as_i64().unwrap(),
                r["state"].as_str().unwrap().to_owned(),
                r["days_late"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn item_id(list: &Value, stop: usize, item: usize) -> i64 {
    list["stops"][stop]["items"][item]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn the_due_listing_shows_what_is_due_or_late_per_township() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let [v1, v2] = net.vehicles;
        let [p1, p2, p3, _] = net.points;
        // D1 on 8 Dec (P1 in 东岭, P2 at 南塘), D4 on 10 Dec (P3 in 北冈), D2 on 20 Dec (P1),
        // D3 on 9 Dec (P1), cancelled.
        let d1 = drive(&app, v1, "2026-12-08", &[p1, p2]).await;
        let d4 = drive(&app, v1, "2026-12-10", &[p3]).await;
        let d2 = drive(&app, v1, "2026-12-20", &[p1]).await;
        let d3 = drive(&app, v2, "2026-12-09", &[p1]).await;
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &format!("/api/v1/drives/{}/transition", d3["id"]),
            Some(&json!({"to": "cancelled", "reason": "flooded road"})),
            Some("\"1\""),
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        let c1 = checklist(&app, &d1["id"], "2026-12-01").await;
        let c4 = checklist(&app, &d4["id"], "2026-12-01").await;
        let c2 = checklist(&app, &d2["id"], "2026-12-01").await;

        // On 1 December. D1: 24 Nov (late 7), 1 Dec (due today), 7 Dec (upcoming: not listed).
        // D4: 26 Nov (late 5), 3 Dec (due in 2 days), 9 Dec (not listed). D2: 6 Dec and later
        // (not listed). D3: cancelled.
        let page = app
            .get_ok(&format!(
                "/api/v1/checklists/due?region={COUNTY}&date=2026-12-01"
            ))
            .await;
        assert_eq!(page["date"], "2026-12-01");
        let expected = vec![
            (item_id(&c1, 0, 0), "late".to_owned(), 7),
            (item_id(&c1, 1, 0), "late".to_owned(), 7),
            (item_id(&c4, 0, 0), "late".to_owned(), 5),
            (item_id(&c1, 0, 1), "due".to_owned(), 0),
            (item_id(&c1, 1, 1), "due".to_owned(), 0),
            (item_id(&c4, 0, 1), "due".to_owned(), 0),
        ];
        assert_eq!(due_rows(&page), expected);
        assert!(page["next_cursor"].is_null());
        let first = &page["items"][0];
        assert_eq!(first["title"], "确认场地和联络员");
        assert_eq!(first["due_date"], "2026-11-24");
        assert_eq!(first["done"], false);
        assert_eq!(first["version"], 1);
        assert_eq!(first["drive_id"], d1["id"]);
        assert_eq!(first["drive_date"], "2026-12-08");
        assert_eq!(first["drive_status"], "draft");
        assert_eq!(first["stop_id"], d1["stops"][0]["id"]);
        assert_eq!(first["stop_seq"], 1);
        assert_eq!(first["stop_name"], "东岭村献血点");
        assert_eq!(first["region_code"], "990101101201");
        assert_eq!(first["township_code"], DONGLING);
        assert!(first["township_name"].is_string(), "{first}");
        assert_eq!(page["items"][1]["township_code"], NANTANG);
        assert_eq!(page["items"][2]["township_code"], "990101104000");

        // Pages of two walk the same rows.
        let mut walked = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path =
                format!("/api/v1/checklists/due?region={COUNTY}&date=2026-12-01&limit=2");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = app.get_ok(&path).await;
            let rows = due_rows(&page);
            assert!(rows.len() <= 2);
            walked.extend(rows);
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(walked, expected);

        // Done items leave the listing; one township's official sees its own with region=.
        let response = tick(&app, &app.client, &json!(item_id(&c1, 0, 0)), true, Some(1)).await;
        assert_eq!(response.status().as_u16(), 200);
        let official = app
            .client_for("official", "township_official", &[DONGLING])
            .await;
        let (status, page) = get(
            &app,
            &official,
            &format!("/api/v1/checklists/due?region={DONGLING}&date=2026-12-01"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            due_rows(&page),
            vec![(item_id(&c1, 0, 1), "due".to_owned(), 0)]
        );

        // The window's edge: D1's 7 Dec item is not listed three days ahead; two days ahead
        // it is due.
        for (date, listed) in [("2026-12-04", false), ("2026-12-05", true)] {
            let page = app
                .get_ok(&format!(
                    "/api/v1/checklists/due?region={DONGLING}&date={date}"
                ))
                .await;
            let rows = due_rows(&page);
            assert_eq!(
                rows.contains(&(item_id(&c1, 0, 2), "due".to_owned(), 0)),
                listed,
                "{date}: {rows:?}"
            );
        }

        // A week later: D1's 7 Dec item is late, D2's 20 Dec one still not listed; D4 moves on
        // to in progress (still listed), then completed (gone).
        let page = app
            .get_ok(&format!(
                "/api/v1/checklists/due?region={COUNTY}&date=2026-12-08"
            ))
            .await;
        let rows = due_rows(&page);
        // D1: five (one is done), D4: three, D2: its 6 Dec item.
        assert_eq!(rows.len(), 5 + 3 + 1);
        assert!(rows.contains(&(item_id(&c1, 0, 2), "late".to_owned(), 1)));
        assert!(rows.contains(&(item_id(&c4, 0, 2), "due".to_owned(), 0)));
        assert!(rows.contains(&(item_id(&c2, 0, 0), "late".to_owned(), 2)));
        // On D4's day (started and completed then, not before).
        app.set_today("2026-12-10");
        for (version, to) in [(1, "published"), (2, "in_progress"), (3, "completed")] {
            let response = send(
                &app,
                &app.client,
                Method::POST,
                &format!("/api/v1/drives/{}/transition", d4["id"]),
                Some(&json!({"to": to})),
                Some(&format!("\"{version}\"")),
            )
            .await;
            assert_eq!(response.status().as_u16(), 200);
            let page = app
                .get_ok(&format!(
                    "/api/v1/checklists/due?region={COUNTY}&date=2026-12-08"
                ))
                .await;
            let listed = due_rows(&page).iter().any(|r| r.0 == item_id(&c4, 0, 0));
            assert_eq!(listed, to != "completed", "{to}");
        }

        // Other regions and reach.
        let outsider = app.client_for("xihe.staff", "station_staff", &[XIHE]).await;
        let (status, page) = get(
            &app,
            &outsider,
            &format!("/api/v1/checklists/due?region={XIHE}&date=2026-12-08"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(page["items"], json!([]));
        let response = send(
            &app,
            &outsider,
            Method::GET,
            &format!("/api/v1/checklists/due?region={COUNTY}"),
            None,
            None,
        )
        .await;
        expect_problem(response, 404, "outside reach").await;

        // Parameters.
        for (query, status, field) in [
            ("", 400, Some("region")),
            ("region=12345", 400, Some("region")),
            ("region=990101999000", 404, None),
            ("region=990101000000&date=2026-13-01", 400, None),
            ("region=990101000000&cursor=nonsense", 400, Some("cursor")),
            ("region=990101000000&limit=0", 400, Some("limit")),
        ] {
            let response = send(
                &app,
                &app.client,
                Method::GET,
                &format!("/api/v1/checklists/due?{query}"),
                None,
                None,
            )
            .await;
            let problem = expect_problem(response, status, query).await;
            if let Some(field) = field {
                assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
            }
        }
        app
    })
    .await;
}

#[tokio::test]
async fn the_checklists_migration_rolls_back_and_reapplies() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    on_each_backend(|app| async move {
        let db = app.schema_connection().await;
        let net = network(&app).await;
        drive(&app, net.vehicles[0], "2026-12-08", &[net.points[0]]).await;
        let applied = Migrator::get_applied_migrations(&db).await.unwrap();
        let at = applied
            .iter()
            .position(|m| m.name() == "m20261126_000010_create_checklists")
            .expect("the checklists migration is applied");
        let steps = (applied.len() - at) as u32;
        Migrator::down(&db, Some(steps)).await.expect("down");
        for table in ["checklist_items", "checklist_templates"] {
            let gone = db
                .execute_unprepared(&format!("SELECT id FROM {table}"))
                .await;
            assert!(gone.is_err(), "{table}");
        }
        assert!(
            db.execute_unprepared("SELECT id FROM drive_stops")
                .await
                .is_ok()
        );
        Migrator::up(&db, None).await.expect("up again");
        assert!(
            db.execute_unprepared("SELECT id FROM checklist_items")
                .await
                .is_ok()
        );
        app
    })
    .await;
}

/// Sends `count` copies of one request at once; their statuses, sorted.
async fn at_once(
    client: &Client,
    method: Method,
    url: String,
    body: Option<Value>,
    tag: &str,
    count: usize,
) -> Vec<u16> {
    let mut tasks = Vec::new();
    for _ in 0..count {
        let mut request = client
            .request(method.clone(), url.clone())
            .header("If-Match", tag);
        if let Some(body) = &body {
            request = request.json(body);
        }
        tasks.push(tokio::spawn(async move {
            request.send().await.unwrap().status().as_u16()
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out.sort_unstable();
    out
}

#[tokio::test]
async fn simultaneous_edits_of_one_version_let_exactly_one_win() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let station = station_id(&app).await;
        let path = format!("/api/v1/stations/{station}/checklist-template");
        let body = json!({"items": [{"title": "Check the generator", "days_before": 2}]});
        let statuses = at_once(
            &app.client,
            Method::PUT,
            app.url(&path),
            Some(body),
            "\"0\"",
            4,
        )
        .await;
        assert_eq!(statuses, [200, 412, 412, 412]);
        let template = app.get_ok(&path).await;
        assert_eq!(template["version"], 1);
        assert_eq!(template["items"].as_array().unwrap().len(), 1);

        let d = drive(&app, net.vehicles[0], "2026-12-08", &[net.points[0]]).await;
        let list = checklist(&app, &d["id"], "2026-12-01").await;
        let id = &list["stops"][0]["items"][0]["id"];
        let url = app.url(&format!("/api/v1/checklist-items/{id}/done"));
        let statuses = at_once(&app.client, Method::POST, url, None, "\"1\"", 4).await;
        assert_eq!(statuses, [200, 412, 412, 412]);
        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=checklist_item&id={id}"))
            .await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 1);
        let list = checklist(&app, &d["id"], "2026-12-01").await;
        assert_eq!(list["stops"][0]["items"][0]["version"], 2);
        app
    })
    .await;
}
