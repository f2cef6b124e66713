//! Data that goes wrong quietly (issue 12, §5): a drive is started, people checked in and the
//! drive completed on its date (China time) or later, never before; stops where nobody was
//! checked in are unrecorded, not forecast errors of -100%. The server's clock is set by the
//! test (`TestApp::set_today`).

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, created, expect_problem, ok_json, on_each_backend, send};

/// 漯河市.
const CITY: &str = "411100000000";

/// A station and vehicle of 漯河市 and two active points (孟庙镇, 大刘镇); the vehicle's id
/// and the points' ids.
async fn network(app: &TestApp) -> (i64, [i64; 2]) {
    app.import_luohe().await;
    let station = created(
        app,
        "/api/v1/stations",
        &json!({"name": "漯河市中心血站", "region_code": CITY, "address": "人民路 1 号",
                "longitude": 114.02, "latitude": 33.58}),
    )
    .await;
    let vehicle = created(
        app,
        "/api/v1/vehicles",
        &json!({"name": "1号采血车", "plate": "豫L12345", "station_id": station["id"],
                "beds": 4, "staff": 6, "max_donors_per_day": 120, "day_start": "08:00",
                "day_end": "17:00", "setup_min": 30, "teardown_min": 20, "cost_per_km": 2.5}),
    )
    .await;
    let mut points = [0; 2];
    for (i, (name, region, lon)) in [
        ("孟庙镇献血点", "411103101000", 114.0),
        ("大刘镇献血点", "411102100000", 114.05),
    ]
    .into_iter()
    .enumerate()
    {
        let p = app
            .create_point(
                &json!({"name": name, "kind": "township", "region_code": region,
                                  "longitude": lon, "latitude": 33.6, "status": "active"}),
            )
            .await;
        points[i] = p["id"].as_i64().unwrap();
    }
    (vehicle["id"].as_i64().unwrap(), points)
}

/// A drive of 漯河市 on `date` with one stop per `(point, expected donors)`.
async fn drive(app: &TestApp, vehicle: i64, date: &str, stops: &[(i64, f64)]) -> Value {
    let stops: Vec<Value> = stops
        .iter()
        .enumerate()
        .map(|(i, (point, expected))| {
            json!({"site": format!("point-{point}"),
                   "planned_start": format!("{:02}:00", 8 + 2 * i),
                   "planned_end": format!("{:02}:00", 9 + 2 * i),
                   "expected_donors": expected})
        })
        .collect();
    created(
        app,
        "/api/v1/drives",
        &json!({"vehicle_id": vehicle, "date": date, "region": CITY, "stops": stops}),
    )
    .await
}

async fn transition(app: &TestApp, drive: &Value, to: &str) -> reqwest::Response {
    send(
        app,
        &app.client,
        Method::POST,
        &format!("/api/v1/drives/{}/transition", drive["id"]),
        Some(&json!({"to": to})),
        Some(&format!("\"{}\"", drive["version"])),
    )
    .await
}

async fn moved(app: &TestApp, drive: &Value, to: &str) -> Value {
    ok_json(
        transition(app, drive, to).await,
        200,
        &format!("moving to {to}"),
    )
    .await
}

async fn check_in(app: &TestApp, stop: &Value, name: &str) -> reqwest::Response {
    send(
        app,
        &app.client,
        Method::POST,
        &format!("/api/v1/stops/{stop}/attendances"),
        Some(&json!({"name": name, "outcome": "donated", "volume_ml": 400})),
        None,
    )
    .await
}

fn at(instant: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(instant)
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_drive_is_started_and_people_checked_in_on_its_day_not_before() {
    on_each_backend(|app| async move {
        let (vehicle, [mengmiao, _]) = network(&app).await;
        let d = drive(&app, vehicle, "2026-12-15", &[(mengmiao, 10.0)]).await;
        let stop = d["stops"][0]["id"].clone();

        // On 7 December it may be announced, not run.
        app.set_today("2026-12-07");
        let d = moved(&app, &d, "published").await;
        let problem =
            expect_problem(check_in(&app, &stop, "张三").await, 409, "early check-in").await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("2026-12-15") && detail.contains("2026-12-07"),
            "{detail}"
        );
        let screen = app.get_ok(&format!("/api/v1/stops/{stop}/check-in")).await;
        assert_eq!(screen["open"], false, "{screen}");
        let problem = expect_problem(
            transition(&app, &d, "in_progress").await,
            409,
            "early start",
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains("2026-12-15"),
            "{problem}"
        );
        let current = app.get_ok(&format!("/api/v1/drives/{}", d["id"])).await;
        assert_eq!(current["status"], "published");
        assert_eq!(current["version"], d["version"]);
        let attendances = app
            .get_ok(&format!("/api/v1/stops/{stop}/attendances"))
            .await;
        assert_eq!(attendances["items"], json!([]));

        // 23:59 on the 14th in China is still the day before; 00:30 on the 15th (16:30 UTC
        // on the 14th) is the day.
        app.clock.set(at("2026-12-14T15:59:00Z"));
        expect_problem(
            check_in(&app, &stop, "张三").await,
            409,
            "the evening before",
        )
        .await;
        app.clock.set(at("2026-12-14T16:30:00Z"));
        let screen = app.get_ok(&format!("/api/v1/stops/{stop}/check-in")).await;
        assert_eq!(screen["open"], true, "{screen}");
        ok_json(
            check_in(&app, &stop, "张三").await,
            201,
            "check-in on the day",
        )
        .await;
        let d = moved(&app, &d, "in_progress").await;
        let d = moved(&app, &d, "completed").await;
        assert_eq!(d["status"], "completed");

        // A past drive's paper forms are entered later.
        let past = drive(&app, vehicle, "2026-12-01", &[(mengmiao, 10.0)]).await;
        app.set_today("2026-12-07");
        let past = moved(&app, &past, "published").await;
        let past = moved(&app, &past, "in_progress").await;
        ok_json(
            check_in(&app, &past["stops"][0]["id"], "李四").await,
            201,
            "a paper form",
        )
        .await;
        moved(&app, &past, "completed").await;
        app
    })
    .await;
}

#[tokio::test]
async fn stops_where_nobody_was_checked_in_are_unrecorded_not_misses() {
    on_each_backend(|app| async move {
        let (vehicle, [mengmiao, daliu]) = network(&app).await;
        let d = drive(
            &app,
            vehicle,
            "2026-11-20",
            &[(mengmiao, 5.0), (daliu, 7.0)],
        )
        .await;
        app.set_today("2026-11-20");
        let d = moved(&app, &d, "published").await;
        let d = moved(&app, &d, "in_progress").await;
        for name in ["甲", "乙", "丙"] {
            ok_json(check_in(&app, &d["stops"][0]["id"], name).await, 201, name).await;
        }
        moved(&app, &d, "completed").await;

        // The drive: 3 donors against the 5 forecast where results were recorded; the other
        // stop's 7 apart, not a miss of 7.
        let report = app
            .get_ok(&format!("/api/v1/drives/{}/report", d["id"]))
            .await;
        let totals = &report["totals"];
        assert_eq!(totals["stops"], 2, "{report}");
        assert_eq!(totals["donated"], 3);
        assert_eq!(totals["expected_donors"], 5.0);
        assert_eq!(totals["forecast_error"], -2.0);
        assert_eq!(totals["relative_error"], -0.4);
        assert_eq!(totals["abs_error"], 2.0);
        assert_eq!(totals["unrecorded_stops"], 1);
        assert_eq!(totals["unrecorded_expected"], 7.0);
        let empty = &report["stops"][1]["results"];
        assert_eq!(empty["unrecorded_stops"], 1, "{report}");
        assert_eq!(empty["forecast_error"], Value::Null);
        assert_eq!(empty["relative_error"], Value::Null);
        assert_eq!(empty["abs_error"], 0.0);
        let stop = app
            .get_ok(&format!("/api/v1/stops/{}/results", d["stops"][1]["id"]))
            .await;
        assert_eq!(stop["results"]["forecast_error"], Value::Null, "{stop}");

        // The results report says the same, in JSON and in the CSV's own columns.
        let results = app.get_ok("/api/v1/reports/results?group=drive").await;
        assert_eq!(results["totals"]["forecast_error"], -2.0, "{results}");
        assert_eq!(results["totals"]["abs_error"], 2.0);
        assert_eq!(results["totals"]["unrecorded_stops"], 1);
        assert_eq!(results["rows"][0]["unrecorded_expected"], 7.0);
        let response = send(
            &app,
            &app.client,
            Method::GET,
            "/api/v1/reports/results?group=drive&format=csv",
            None,
            None,
        )
        .await;
        let text = response.text().await.unwrap();
        let mut lines = text.trim_start_matches('\u{feff}').lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let total: Vec<&str> = lines.last().unwrap().split(',').collect();
        // Headed in Chinese, the default: unrecorded stops, the sum of absolute errors, the
        // forecast error.
        let cell = |name: &str| total[header.iter().position(|h| *h == name).unwrap()];
        assert_eq!(cell("未登记站点数"), "1", "{text}");
        assert_eq!(
            cell("各站绝对误差之和").parse::<f64>().unwrap(),
            2.0,
            "{text}"
        );
        assert_eq!(cell("预测误差").parse::<f64>().unwrap(), -2.0, "{text}");
        app
    })
    .await;
}
