//! Check-in and results (issue 6, on the day and after): booked and walk-in check-ins,
//! outcomes validated field by field, `If-Match`, who may do what, masked mobiles, results
//! locked by completion and corrected by admins (audited), stop and drive results and the
//! results report (JSON, CSV, XLSX) checked against sums computed here from the attendances
//! the tests create, and recorded results feeding the forecast and the planner (recent donors,
//! the 180-day interval, calibration). The network is the planning tests'
//! (`crate::plans::network`).

use std::collections::BTreeMap;

use chrono::Utc;
use reqwest::{Client, Method};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, ok_json, on_each_backend, send};
use crate::plans::{COUNTY, DONGLING, Network, XIHE, base_request, make_plan, network};

/// 东岭村委会, P1's village (5000 eligible, 1000 away).
const P1_VILLAGE: &str = "990101101201";
/// 东岭社区, P4's village.
const P4_VILLAGE: &str = "990101101006";
/// 南塘镇, P2's township.
const NANTANG: &str = "990101103000";

/// A drive (by hand, as admin) of vehicle 1 on `date` with stops at the network's points `at`
/// (1-based), one hour each from 08:00, each expecting `expected` donors; returns its JSON.
async fn drive(app: &TestApp, net: &Network, date: &str, at: &[(usize, f64)]) -> Value {
    let stops: Vec<Value> = at
        .iter()
        .enumerate()
        .map(|(i, (n, expected))| {
            json!({"site": net.site(*n),
                   "planned_start": format!("{:02}:00", 8 + 2 * i),
                   "planned_end": format!("{:02}:00", 9 + 2 * i),
                   "expected_donors": expected})
        })
        .collect();
    let body =
        json!({"vehicle_id": net.vehicles[0], "date": date, "region": COUNTY, "stops": stops});
    let response = send(
        app,
        &app.client,
        Method::POST,
        "/api/v1/drives",
        Some(&body),
        None,
    )
    .await;
    ok_json(response, 201, "making a drive").await
}

/// Moves `drive` through `to` in turn (as admin); returns the drive as it ends up. The
/// server's clock is set to the drive's date: these drives are run, and people checked in, on
/// their day (the day rule itself is tested in `drive_day`).
async fn move_to(app: &TestApp, drive: &Value, to: &[&str]) -> Value {
    app.set_today(drive["date"].as_str().unwrap());
    let mut current = drive.clone();
    for step in to {
        let response = send(
            app,
            &app.client,
            Method::POST,
            &format!("/api/v1/drives/{}/transition", current["id"]),
            Some(&json!({"to": step})),
            Some(&format!("\"{}\"", current["version"])),
        )
        .await;
        current = ok_json(response, 200, &format!("moving to {step}")).await;
    }
    current
}

fn stop_id(drive: &Value, i: usize) -> i64 {
    drive["stops"][i]["id"].as_i64().unwrap()
}

async fn check_in(app: &TestApp, client: &Client, stop: i64, body: &Value) -> reqwest::Response {
    send(
        app,
        client,
        Method::POST,
        &format!("/api/v1/stops/{stop}/attendances"),
        Some(body),
        None,
    )
    .await
}

async fn checked_in(app: &TestApp, stop: i64, body: &Value) -> Value {
    let response = check_in(app, &app.client, stop, body).await;
    ok_json(response, 201, &format!("checking in {body}")).await
}

async fn patch(
    app: &TestApp,
    client: &Client,
    id: &Value,
    version: Option<i64>,
    body: &Value,
) -> reqwest::Response {
    let tag = version.map(|v| format!("\"{v}\""));
    send(
        app,
        client,
        Method::PATCH,
        &format!("/api/v1/attendances/{id}"),
        Some(body),
        tag.as_deref(),
    )
    .await
}

/// A booking written straight into the database (the public booking endpoints are another
/// step of issue 6; check-in only reads bookings).
/// `who` is the name and mobile, `places` the kind (`individual`, `group`) and headcount.
pub(crate) async fn booking(
    app: &TestApp,
    stop: i64,
    code: &str,
    who: (&str, Option<&str>),
    places: (&str, i32),
    status: &str,
) -> i64 {
    let ((name, mobile), (kind, headcount)) = (who, places);
    let now = Utc::now();
    let row = entity::booking::Entity::insert(entity::booking::ActiveModel {
        code: Set(code.to_owned()),
        token_hash: Set("0".repeat(64)),
        stop_id: Set(stop),
        kind: Set(kind.to_owned()),
        name: Set(name.to_owned()),
        mobile: Set(mobile.map(str::to_owned)),
        active_mobile: Set((status == "active")
            .then(|| mobile.map(str::to_owned))
            .flatten()),
        blood_type: Set(None),
        organisation: Set((kind == "group").then(|| "青禾中学".to_owned())),
        headcount: Set(headcount),
        status: Set(status.to_owned()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        cancelled_at: Set((status == "cancelled").then_some(now)),
        ..Default::default()
    })
    .exec_with_returning(&app.db)
    .await
    .unwrap();
    row.id
}

/// What the tests expect of a set of attendances, computed independently of the service.
#[derive(Debug, Default, Clone, PartialEq)]
struct Expect {
    registered: u64,
    deferred: u64,
    donated: u64,
    total_ml: u64,
    walk_ins: u64,
    booked_attended: u64,
    booked_places: u64,
    expected: f64,
    abs_error: f64,
    groups: BTreeMap<String, u64>,
    deferrals: BTreeMap<String, u64>,
}

impl Expect {
    fn of(attendances: &[&Value], booked_places: u64, expected: f64) -> Expect {
        let mut e = Expect {
            booked_places,
            expected,
            ..Expect::default()
        };
        for a in attendances {
            e.registered += 1;
            if a["kind"] == "walk_in" {
                e.walk_ins += 1;
            } else {
                e.booked_attended += 1;
            }
            match a["outcome"].as_str().unwrap() {
                "deferred" => {
                    e.deferred += 1;
                    let category = a["deferral_category"].as_str().unwrap().to_owned();
                    *e.deferrals.entry(category).or_insert(0) += 1;
                }
                "donated" => {
                    e.donated += 1;
                    e.total_ml += a["volume_ml"].as_u64().unwrap();
                    let group = match (a["abo"].as_str(), a["rh"].as_str()) {
                        (Some(abo), Some(rh)) => format!("{abo}{rh}"),
                        (Some(abo), None) => abo.to_owned(),
                        (None, Some(rh)) => format!("unknown{rh}"),
                        (None, None) => "unknown".to_owned(),
                    };
                    *e.groups.entry(group).or_insert(0) += 1;
                }
                _ => {}
            }
        }
        e.abs_error = (e.donated as f64 - expected).abs();
        e
    }

    fn add(&mut self, other: &Expect) {
        self.registered += other.registered;
        self.deferred += other.deferred;
        self.donated += other.donated;
        self.total_ml += other.total_ml;
        self.walk_ins += other.walk_ins;
        self.booked_attended += other.booked_attended;
        self.booked_places += other.booked_places;
        self.expected += other.expected;
        self.abs_error += other.abs_error;
        for (g, n) in &other.groups {
            *self.groups.entry(g.clone()).or_insert(0) += n;
        }
        for (c, n) in &other.deferrals {
            *self.deferrals.entry(c.clone()).or_insert(0) += n;
        }
    }

    /// No-shows summed stop by stop (each at least 0) are `no_shows`; a single stop's here.
    fn no_shows(&self) -> u64 {
        self.booked_places.saturating_sub(self.booked_attended)
    }

    /// Checks `totals` (a `ResultsTotals`) against these sums; `no_shows` given by the caller
    /// (stop by stop).
    fn check(&self, totals: &Value, no_shows: u64, what: &str) {
        let n = |k: &str| {
            totals[k]
                .as_u64()
                .unwrap_or_else(|| panic!("{what}: {k}: {totals}"))
        };
        let f = |k: &str| {
            totals[k]
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: {k}: {totals}"))
        };
        assert_eq!(n("registered"), self.registered, "{what}: registered");
        assert_eq!(n("deferred"), self.deferred, "{what}: deferred");
        assert_eq!(n("donated"), self.donated, "{what}: donated");
        assert_eq!(n("total_ml"), self.total_ml, "{what}: total_ml");
        assert_eq!(n("walk_ins"), self.walk_ins, "{what}: walk_ins");
        assert_eq!(n("booked_attended"), self.booked_attended, "{what}");
        assert_eq!(n("booked_places"), self.booked_places, "{what}");
        assert_eq!(n("no_shows"), no_shows, "{what}: no_shows");
        // A CSV prints rates with 3 decimals and forecasts with 2, as the XLSX shows them.
        let csv = what.starts_with("CSV");
        let close = |a: f64, b: f64, k: &str| {
            let within = match (csv, k.ends_with("_rate")) {
                (false, _) => 1e-9,
                (true, true) => 0.0005 + 1e-9,
                (true, false) => 0.005 + 1e-9,
            };
            assert!((a - b).abs() < within, "{what}: {k} {a} != {b}");
        };
        close(f("expected_donors"), self.expected, "expected_donors");
        close(
            f("forecast_error"),
            self.donated as f64 - self.expected,
            "forecast_error",
        );
        close(f("abs_error"), self.abs_error, "abs_error");
        let seen = self.deferred + self.donated;
        if seen == 0 {
            assert!(totals["deferral_rate"].is_null(), "{what}");
        } else {
            close(
                f("deferral_rate"),
                self.deferred as f64 / seen as f64,
                "deferral_rate",
            );
        }
        if self.booked_places == 0 {
            assert!(totals["no_show_rate"].is_null(), "{what}");
        } else {
            close(
                f("no_show_rate"),
                no_shows as f64 / self.booked_places as f64,
                "no_show_rate",
            );
        }
    }
}

#[tokio::test]
async fn booked_and_walk_in_check_ins_add_up_to_the_stop_and_drive_results() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let d = drive(&app, &net, "2026-12-10", &[(1, 10.0), (4, 4.5)]).await;
        let (s1, s2) = (stop_id(&d, 0), stop_id(&d, 1));
        booking(
            &app,
            s1,
            "IND001",
            ("张三", Some("13700001111")),
            ("individual", 1),
            "active",
        )
        .await;
        booking(
            &app,
            s1,
            "GRP001",
            ("刘老师", Some("13700002222")),
            ("group", 3),
            "active",
        )
        .await;
        booking(
            &app,
            s1,
            "CAN001",
            ("赵六", Some("13700003333")),
            ("individual", 1),
            "cancelled",
        )
        .await;
        booking(
            &app,
            s2,
            "OTH001",
            ("钱七", Some("13700004444")),
            ("individual", 1),
            "active",
        )
        .await;
        booking(
            &app,
            s2,
            "NOS001",
            ("孙八", Some("13700005555")),
            ("individual", 2),
            "active",
        )
        .await;

        // A draft drive takes nobody.
        let response = check_in(&app, &app.client, s1, &json!({"name": "早到者"})).await;
        let problem = expect_problem(response, 409, "draft drive").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("draft"),
            "{problem}"
        );
        let d = move_to(&app, &d, &["published"]).await;

        let mut made: Vec<Value> = Vec::new();
        // An individual booking: name and mobile from the booking.
        let a = checked_in(
            &app,
            s1,
            &json!({"booking_code": "IND001",
            "outcome": "donated", "volume_ml": 400, "abo": "A", "rh": "+",
            "village_code": P1_VILLAGE}),
        )
        .await;
        assert_eq!(a["kind"], "booked");
        assert_eq!(a["name"], "张三");
        assert_eq!(
            a["mobile"], "137****1111",
            "masked outside the check-in screen"
        );
        assert_eq!(a["version"], 1);
        made.push(a);
        // Once is all an individual booking admits.
        let response = check_in(&app, &app.client, s1, &json!({"booking_code": "IND001"})).await;
        let problem = expect_problem(response, 409, "twice").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("fully checked in"),
            "{problem}"
        );
        // A group: each person by name, up to its headcount.
        let response = check_in(&app, &app.client, s1, &json!({"booking_code": "GRP001"})).await;
        let problem = expect_problem(response, 400, "group member without a name").await;
        assert_eq!(problem["errors"][0]["field"], "name", "{problem}");
        for (name, outcome) in [
            (
                "学生甲",
                json!({"outcome": "deferred", "deferral_category": "low_hemoglobin"}),
            ),
            (
                "学生乙",
                json!({"outcome": "donated", "volume_ml": 200, "abo": "O"}),
            ),
        ] {
            let mut body = json!({"booking_code": "GRP001", "name": name});
            for (k, v) in outcome.as_object().unwrap() {
                body[k] = v.clone();
            }
            let a = checked_in(&app, s1, &body).await;
            assert_eq!(a["name"], name);
            assert_eq!(a["mobile"], Value::Null);
            made.push(a);
        }
        // Cancelled, or for another stop: 409.
        for (code, says) in [("CAN001", "cancelled"), ("OTH001", "another stop")] {
            let response = check_in(&app, &app.client, s1, &json!({"booking_code": code})).await;
            let problem = expect_problem(response, 409, code).await;
            assert!(
                problem["detail"].as_str().unwrap().contains(says),
                "{problem}"
            );
        }
        let response = check_in(&app, &app.client, s1, &json!({"booking_code": "NOPE99"})).await;
        let problem = expect_problem(response, 400, "unknown code").await;
        assert_eq!(problem["errors"][0]["field"], "booking_code");
        // Walk-ins, then the drive goes out and more come.
        for body in [
            json!({"name": "王五", "mobile": "139 0000 3333", "village_code": P4_VILLAGE,
                   "outcome": "donated", "volume_ml": 300, "abo": "B", "rh": "-"}),
            json!({"name": "路人"}),
        ] {
            made.push(checked_in(&app, s1, &body).await);
        }
        assert_eq!(made[3]["mobile"], "139****3333");
        let d = move_to(&app, &d, &["in_progress"]).await;
        made.push(
            checked_in(
                &app,
                s2,
                &json!({"booking_code": "OTH001", "outcome": "donated",
            "volume_ml": 400, "abo": "AB", "rh": "+"}),
            )
            .await,
        );
        made.push(
            checked_in(
                &app,
                s2,
                &json!({"name": "李四", "outcome": "deferred",
            "deferral_category": "blood_pressure"}),
            )
            .await,
        );
        made.push(
            checked_in(
                &app,
                s2,
                &json!({"name": "周九", "outcome": "donated",
            "volume_ml": 400}),
            )
            .await,
        );

        // The check-in screen: bookings with whole mobiles and how many came.
        let screen = app.get_ok(&format!("/api/v1/stops/{s1}/check-in")).await;
        assert_eq!(screen["stop"]["id"], s1);
        assert_eq!(screen["open"], true);
        let bookings = screen["bookings"].as_array().unwrap();
        let codes: Vec<&str> = bookings
            .iter()
            .map(|b| b["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            ["IND001", "GRP001"],
            "active bookings of this stop only"
        );
        assert_eq!(bookings[0]["mobile"], "13700001111");
        assert_eq!(bookings[0]["checked_in"], 1);
        assert_eq!(bookings[1]["checked_in"], 2);
        assert_eq!(bookings[1]["headcount"], 3);
        let screen_people = screen["attendances"].as_array().unwrap();
        assert_eq!(screen_people.len(), 5);
        assert_eq!(screen_people[0]["mobile"], "13700001111", "the booking's");
        assert_eq!(screen_people[3]["mobile"], "13900003333", "normalised");
        // The listing masks them.
        let list = app.get_ok(&format!("/api/v1/stops/{s1}/attendances")).await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(items[0]["mobile"], "137****1111");
        assert_eq!(items[3]["mobile"], "139****3333");
        assert!(!list.to_string().contains("13900003333"));

        // Results, against sums computed here.
        let at =
            |stop: i64| -> Vec<&Value> { made.iter().filter(|a| a["stop_id"] == stop).collect() };
        let e1 = Expect::of(&at(s1), 4, 10.0); // IND001 (1) + GRP001 (3)
        let e2 = Expect::of(&at(s2), 3, 4.5); // OTH001 (1) + NOS001 (2)
        assert_eq!((e1.no_shows(), e2.no_shows()), (1, 2));
        let r1 = app.get_ok(&format!("/api/v1/stops/{s1}/results")).await;
        e1.check(&r1["results"], e1.no_shows(), "stop 1");
        assert_eq!(r1["locked"], false);
        let groups: BTreeMap<String, u64> =
            serde_json::from_value(r1["by_blood_group"].clone()).unwrap();
        assert_eq!(groups, e1.groups);
        assert_eq!(
            r1["by_village"][P1_VILLAGE],
            json!({"registered": 1, "donated": 1})
        );
        assert_eq!(
            r1["by_village"][P4_VILLAGE],
            json!({"registered": 1, "donated": 1})
        );
        assert_eq!(
            r1["by_village"]["unknown"],
            json!({"registered": 3, "donated": 1})
        );

        let report = app
            .get_ok(&format!("/api/v1/drives/{}/report", d["id"]))
            .await;
        let stops = report["stops"].as_array().unwrap();
        assert_eq!(stops.len(), 2);
        e1.check(&stops[0]["results"], e1.no_shows(), "report stop 1");
        e2.check(&stops[1]["results"], e2.no_shows(), "report stop 2");
        for (stop, e) in stops.iter().zip([&e1, &e2]) {
            let error = stop["results"]["forecast_error"].as_f64().unwrap();
            assert!((error - (e.donated as f64 - e.expected)).abs() < 1e-9);
            let relative = stop["results"]["relative_error"].as_f64().unwrap();
            assert!((relative - error / e.expected).abs() < 1e-9);
        }
        let mut all = e1.clone();
        all.add(&e2);
        all.check(
            &report["totals"],
            e1.no_shows() + e2.no_shows(),
            "drive totals",
        );
        assert_eq!(report["totals"]["stops"], 2);
        let groups: BTreeMap<String, u64> =
            serde_json::from_value(report["by_blood_group"].clone()).unwrap();
        assert_eq!(groups, all.groups);
        let deferrals: BTreeMap<String, u64> =
            serde_json::from_value(report["by_deferral_category"].clone()).unwrap();
        assert_eq!(deferrals, all.deferrals);
        assert_eq!(deferrals.len(), 2, "low_hemoglobin and blood_pressure");

        // The same report as CSV: a row per stop and the total, against the same sums.
        let response = app
            .client
            .get(app.url(&format!("/api/v1/drives/{}/report?format=csv", d["id"])))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains(&format!("drive-{}.csv", d["id"]))
        );
        let text = response.text().await.unwrap();
        let rows = csv_rows(&text);
        assert_eq!(rows.len(), 3, "two stops and the total");
        assert_eq!(rows[0].0, format!("stop-{}", stops[0]["stop"]["id"]));
        e1.check(&rows[0].1, e1.no_shows(), "CSV stop 1");
        e2.check(&rows[1].1, e2.no_shows(), "CSV stop 2");
        assert_eq!(rows[2].0, "total");
        assert_eq!(rows[2].1["label"], "合计");
        all.check(&rows[2].1, e1.no_shows() + e2.no_shows(), "CSV total");
        assert_no_long_decimals(&text);
        let bad = app
            .client
            .get(app.url(&format!("/api/v1/drives/{}/report?format=pdf", d["id"])))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(bad, 400, "format=pdf").await;
        assert_eq!(problem["errors"][0]["field"], "format");
        app
    })
    .await;
}

#[tokio::test]
async fn outcomes_and_people_are_validated_field_by_field() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let d = drive(&app, &net, "2026-12-10", &[(1, 10.0)]).await;
        let s = stop_id(&d, 0);
        move_to(&app, &d, &["published"]).await;
        let cases = [
            (json!({"name": "a", "outcome": "donated"}), "volume_ml", "a donation needs its volume"),
            (json!({"name": "a", "outcome": "donated", "volume_ml": 250}), "volume_ml", "250 mL"),
            (json!({"name": "a", "outcome": "deferred"}), "deferral_category", "a deferral needs its category"),
            (json!({"name": "a", "outcome": "deferred", "deferral_category": "tired"}), "deferral_category", "unknown category"),
            (json!({"name": "a", "outcome": "deferred", "deferral_category": "weight", "volume_ml": 200}), "volume_ml", "a deferral with a volume"),
            (json!({"name": "a", "outcome": "donated", "volume_ml": 200, "deferral_category": "weight"}), "deferral_category", "a donation with a category"),
            (json!({"name": "a", "volume_ml": 200}), "volume_ml", "registered with a volume"),
            (json!({"name": "a", "outcome": "fainted"}), "outcome", "unknown outcome"),
            (json!({"name": "a", "outcome": "donated", "volume_ml": 200, "abo": "C"}), "abo", "unknown ABO"),
            (json!({"name": "a", "outcome": "donated", "volume_ml": 200, "rh": "positive"}), "rh", "unknown Rh"),
            (json!({"name": "a", "mobile": "12345"}), "mobile", "not a mobile"),
            (json!({"name": "a", "village_code": DONGLING}), "village_code", "a township is not a village"),
            (json!({"name": "a", "village_code": "99"}), "village_code", "not a code"),
            (json!({"name": "a", "village_code": "990101101299"}), "village_code", "no such village"),
            (json!({"name": "  "}), "name", "a blank name"),
            (json!({}), "name", "a walk-in without a name"),
        ];
        for (body, field, why) in cases {
            let response = check_in(&app, &app.client, s, &body).await;
            let problem = expect_problem(response, 400, why).await;
            let fields: Vec<&str> = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert_eq!(fields, [field], "{why}: {problem}");
        }
        let response = check_in(&app, &app.client, s, &json!({"name": "a", "colour": "red"})).await;
        expect_problem(response, 400, "unknown member").await;
        let list = app.get_ok(&format!("/api/v1/stops/{s}/attendances")).await;
        assert_eq!(list["items"], json!([]), "nothing was stored");
        app
    })
    .await;
}

#[tokio::test]
async fn edits_need_if_match_and_completed_results_are_corrected_only_by_admins() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let staff = app.client_for("desk", "station_staff", &[COUNTY]).await;
        let d = drive(&app, &net, "2026-12-10", &[(1, 10.0)]).await;
        let s = stop_id(&d, 0);
        let d = move_to(&app, &d, &["published", "in_progress"]).await;
        let response = check_in(
            &app,
            &staff,
            s,
            &json!({"name": "王五", "mobile": "13900003333"}),
        )
        .await;
        let a = ok_json(response, 201, "staff checks in").await;
        assert_eq!(a["created_by"], "desk (token: tests)");
        let id = a["id"].clone();
        // The same mobile again at this stop is the same person: corrected, not added.
        let twice = check_in(
            &app,
            &staff,
            s,
            &json!({"name": "王五", "mobile": "139 0000 3333"}),
        )
        .await;
        let problem = expect_problem(twice, 409, "checked in twice").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("attendance {id}")),
            "{problem}"
        );
        let donated = json!({"outcome": "donated", "volume_ml": 400, "abo": "O", "rh": "+"});

        let response = patch(&app, &staff, &id, None, &donated).await;
        let problem = expect_problem(response, 428, "no If-Match").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("\"1\""),
            "{problem}"
        );
        let response = patch(&app, &staff, &id, Some(1), &donated).await;
        assert_eq!(response.headers()["etag"], "\"2\"");
        let a = ok_json(response, 200, "recording a donation").await;
        assert_eq!(
            (
                a["outcome"].as_str(),
                a["volume_ml"].as_i64(),
                a["version"].as_i64()
            ),
            (Some("donated"), Some(400), Some(2))
        );
        let response = patch(&app, &staff, &id, Some(1), &json!({"name": "王五五"})).await;
        let current = ok_json(response, 412, "stale").await;
        assert_eq!(current["version"], 2);
        assert_eq!(current["name"], "王五");
        // A wrong field names it; a new outcome drops the old one's details.
        let response = patch(&app, &staff, &id, Some(2), &json!({"outcome": "deferred"})).await;
        let problem = expect_problem(response, 400, "deferral without category").await;
        assert_eq!(problem["errors"][0]["field"], "deferral_category");
        let response = patch(
            &app,
            &staff,
            &id,
            Some(2),
            &json!({"outcome": "deferred", "deferral_category": "recent_illness"}),
        )
        .await;
        let a = ok_json(response, 200, "now deferred").await;
        assert_eq!(a["volume_ml"], Value::Null);
        assert_eq!(a["abo"], "O", "the blood group stays");
        let response = patch(&app, &staff, &id, Some(3), &donated).await;
        ok_json(response, 200, "donated after all").await;

        // Completed: locked for staff, corrected by an admin, audited.
        move_to(&app, &d, &["completed"]).await;
        let response = check_in(&app, &app.client, s, &json!({"name": "迟到者"})).await;
        let problem = expect_problem(response, 409, "checking in after completion").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("completed"),
            "{problem}"
        );
        let response = patch(&app, &staff, &id, Some(4), &json!({"volume_ml": 300})).await;
        let problem = expect_problem(response, 403, "staff after completion").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("locked"),
            "{problem}"
        );
        let response = patch(&app, &app.client, &id, Some(4), &json!({"volume_ml": 300})).await;
        let a = ok_json(response, 200, "admin correction").await;
        assert_eq!(a["volume_ml"], 300);
        assert_eq!(a["updated_by"], "root (token: tests)");
        let results = app.get_ok(&format!("/api/v1/stops/{s}/results")).await;
        assert_eq!(results["locked"], true);
        assert_eq!(results["results"]["total_ml"], 300);

        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=attendance&id={id}"))
            .await;
        let items = audit["items"].as_array().unwrap();
        let actions: Vec<&str> = items
            .iter()
            .map(|i| i["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["create", "update", "update", "update", "correct"]);
        let correction = items.last().unwrap();
        assert_eq!(correction["before"]["volume_ml"], 400);
        assert_eq!(correction["after"]["volume_ml"], 300);
        assert_eq!(correction["actor"], "root (token: tests)");
        assert_eq!(correction["region_code"], COUNTY);
        assert_eq!(
            correction["after"]["mobile"], "139****3333",
            "the log is a listing too"
        );
        assert!(!audit.to_string().contains("13900003333"));
        app
    })
    .await;
}

#[tokio::test]
async fn only_staff_check_in_readers_see_masked_lists_and_other_regions_see_nothing() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let d = drive(&app, &net, "2026-12-10", &[(1, 10.0)]).await;
        let s = stop_id(&d, 0);
        move_to(&app, &d, &["published"]).await;
        let a = checked_in(&app, s, &json!({"name": "王五", "mobile": "13900003333"})).await;
        let viewer = app.client_for("v", "viewer", &[COUNTY]).await;
        let official = app.client_for("o", "township_official", &[DONGLING]).await;
        let elsewhere = app.client_for("x", "station_staff", &[XIHE]).await;
        for (client, who) in [(&viewer, "viewer"), (&official, "official")] {
            let response = send(
                &app,
                client,
                Method::GET,
                &format!("/api/v1/stops/{s}/check-in"),
                None,
                None,
            )
            .await;
            expect_problem(response, 403, who).await;
            let response = check_in(&app, client, s, &json!({"name": "x"})).await;
            expect_problem(response, 403, who).await;
            let response = patch(&app, client, &a["id"], Some(1), &json!({"name": "y"})).await;
            expect_problem(response, 403, who).await;
            let response = send(
                &app,
                client,
                Method::GET,
                &format!("/api/v1/stops/{s}/attendances"),
                None,
                None,
            )
            .await;
            let list = ok_json(response, 200, who).await;
            assert_eq!(list["items"][0]["mobile"], "139****3333", "{who}");
            let response = send(
                &app,
                client,
                Method::GET,
                &format!("/api/v1/drives/{}/report", d["id"]),
                None,
                None,
            )
            .await;
            ok_json(response, 200, who).await;
        }
        for path in [
            format!("/api/v1/stops/{s}/check-in"),
            format!("/api/v1/stops/{s}/attendances"),
            format!("/api/v1/stops/{s}/results"),
            format!("/api/v1/drives/{}/report", d["id"]),
        ] {
            let response = send(&app, &elsewhere, Method::GET, &path, None, None).await;
            expect_problem(response, 404, &path).await;
        }
        let response = check_in(&app, &elsewhere, s, &json!({"name": "x"})).await;
        expect_problem(response, 404, "outside").await;
        let response = patch(&app, &elsewhere, &a["id"], Some(1), &json!({"name": "y"})).await;
        expect_problem(response, 404, "outside").await;
        let response = app
            .anonymous
            .get(app.url(&format!("/api/v1/stops/{s}/attendances")))
            .send()
            .await
            .unwrap();
        expect_problem(response, 401, "anonymous").await;
        // Reports only count what the caller reads.
        let report = send(
            &app,
            &elsewhere,
            Method::GET,
            "/api/v1/reports/results",
            None,
            None,
        )
        .await;
        let report = ok_json(report, 200, "elsewhere").await;
        assert_eq!(report["rows"], json!([]));
        app
    })
    .await;
}

/// Two completed drives (autumn and winter) and one still in progress; the report counts the
/// completed ones, by drive, township and season, as JSON, CSV and XLSX.
#[tokio::test]
async fn the_results_report_sums_completed_drives_by_drive_township_and_season() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        // Drive A, 2026-11-20 (autumn): P1 (东岭乡) and P2 (南塘镇).
        let a = drive(&app, &net, "2026-11-20", &[(1, 6.0), (2, 3.0)]).await;
        // Drive B, 2026-12-03 (winter): P4 (东岭乡).
        let b = drive(&app, &net, "2026-12-03", &[(4, 2.0)]).await;
        // Drive C, 2026-12-04: not completed, not counted.
        let c = drive(&app, &net, "2026-12-04", &[(1, 5.0)]).await;
        let (a1, a2, b1, c1) = (stop_id(&a, 0), stop_id(&a, 1), stop_id(&b, 0), stop_id(&c, 0));
        booking(&app, a1, "BKA001", ("甲", Some("13700001111")), ("individual", 1), "active").await;
        booking(&app, a2, "BKA002", ("乙", Some("13700002222")), ("group", 4), "active").await;
        for d in [&a, &b, &c] {
            move_to(&app, d, &["published"]).await;
        }
        let mut made: Vec<Value> = Vec::new();
        for (stop, body) in [
            (a1, json!({"booking_code": "BKA001", "outcome": "donated", "volume_ml": 400, "abo": "A", "rh": "+"})),
            (a1, json!({"name": "w1", "outcome": "donated", "volume_ml": 300})),
            (a1, json!({"name": "w2", "outcome": "deferred", "deferral_category": "weight"})),
            (a2, json!({"booking_code": "BKA002", "name": "g1", "outcome": "donated", "volume_ml": 200, "abo": "O", "rh": "-"})),
            (a2, json!({"name": "w3"})),
            (b1, json!({"name": "w4", "outcome": "donated", "volume_ml": 400, "abo": "B", "rh": "+"})),
            (b1, json!({"name": "w5", "outcome": "donated", "volume_ml": 400})),
            (b1, json!({"name": "w6", "outcome": "donated", "volume_ml": 200})),
            (c1, json!({"name": "w7", "outcome": "donated", "volume_ml": 400})),
        ] {
            made.push(checked_in(&app, stop, &body).await);
        }
        for d in [&a, &b] {
            let d = app.get_ok(&format!("/api/v1/drives/{}", d["id"])).await;
            move_to(&app, &d, &["in_progress", "completed"]).await;
        }
        let at = |stop: i64| -> Vec<&Value> { made.iter().filter(|x| x["stop_id"] == stop).collect() };
        let ea1 = Expect::of(&at(a1), 1, 6.0);
        let ea2 = Expect::of(&at(a2), 4, 3.0);
        let eb1 = Expect::of(&at(b1), 0, 2.0);
        let sum = |parts: &[&Expect]| {
            let mut e = Expect::default();
            for p in parts {
                e.add(p);
            }
            e
        };
        let no_shows = |parts: &[&Expect]| parts.iter().map(|p| p.no_shows()).sum::<u64>();

        // By drive (the default), in date order.
        let report = app.get_ok("/api/v1/reports/results").await;
        assert_eq!(report["group"], "drive");
        let rows = report["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{report}");
        assert_eq!(rows[0]["group"], a["id"].to_string());
        assert_eq!(rows[0]["label"], "2026-11-20");
        sum(&[&ea1, &ea2]).check(&rows[0], no_shows(&[&ea1, &ea2]), "drive A");
        sum(&[&eb1]).check(&rows[1], 0, "drive B");
        let everything = sum(&[&ea1, &ea2, &eb1]);
        everything.check(&report["totals"], no_shows(&[&ea1, &ea2, &eb1]), "total");
        assert_eq!(report["drives"], 2);

        // By township: 东岭乡 (P1, P4) and 南塘镇 (P2).
        let report = app.get_ok("/api/v1/reports/results?group=township").await;
        let rows = report["rows"].as_array().unwrap();
        let keys: Vec<&str> = rows.iter().map(|r| r["group"].as_str().unwrap()).collect();
        assert_eq!(keys, [DONGLING, NANTANG]);
        sum(&[&ea1, &eb1]).check(&rows[0], ea1.no_shows(), "东岭乡");
        assert_eq!(rows[0]["drives"], 2);
        sum(&[&ea2]).check(&rows[1], ea2.no_shows(), "南塘镇");

        // By season, and within a region and dates.
        let report = app.get_ok("/api/v1/reports/results?group=season").await;
        let rows = report["rows"].as_array().unwrap();
        let keys: Vec<&str> = rows.iter().map(|r| r["group"].as_str().unwrap()).collect();
        assert_eq!(keys, ["2026-autumn", "2026-winter"]);
        assert_eq!(rows[1]["label"], "2026年12月至2027年2月");
        // Season names follow the reader's language.
        let english = app
            .client
            .get(app.url("/api/v1/reports/results?group=season"))
            .header("accept-language", "en-GB,en;q=0.9")
            .send()
            .await
            .unwrap();
        assert_eq!(english.headers()["vary"], "accept-language");
        let english: Value = english.json().await.unwrap();
        assert_eq!(english["rows"][1]["label"], "Dec 2026 to Feb 2027");
        assert_eq!(english["rows"][0]["label"], "Sep to Nov 2026");
        sum(&[&ea1, &ea2]).check(&rows[0], no_shows(&[&ea1, &ea2]), "autumn");
        let report = app.get_ok("/api/v1/reports/results?group=month").await;
        let keys: Vec<&str> = report["rows"].as_array().unwrap().iter().map(|r| r["group"].as_str().unwrap()).collect();
        assert_eq!(keys, ["2026-11", "2026-12"]);
        sum(&[&eb1]).check(&report["rows"][1], 0, "December");
        let report = app
            .get_ok(&format!("/api/v1/reports/results?region={NANTANG}&from=2026-11-01&to=2026-11-30"))
            .await;
        sum(&[&ea2]).check(&report["totals"], ea2.no_shows(), "南塘镇 in November");

        // CSV: the same numbers, a total row, and a BOM.
        let response = app.client.get(app.url("/api/v1/reports/results?group=township&format=csv")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let bytes = response.bytes().await.unwrap();
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        let rows = csv_rows(text);
        assert_eq!(rows.len(), 3, "two townships and the total");
        assert_eq!(rows[0].0, DONGLING);
        sum(&[&ea1, &eb1]).check(&rows[0].1, ea1.no_shows(), "CSV 东岭乡");
        sum(&[&ea2]).check(&rows[1].1, ea2.no_shows(), "CSV 南塘镇");
        assert_eq!(rows[2].0, "total");
        everything.check(&rows[2].1, no_shows(&[&ea1, &ea2, &eb1]), "CSV total");
        assert_no_long_decimals(text);
        // In English when asked, by `lang` or by Accept-Language (`lang` wins).
        for request in [
            app.client.get(app.url("/api/v1/reports/results?group=township&format=csv&lang=en")),
            app.client
                .get(app.url("/api/v1/reports/results?group=township&format=csv"))
                .header("accept-language", "en"),
            app.client
                .get(app.url("/api/v1/reports/results?group=township&format=csv&lang=en"))
                .header("accept-language", "zh-CN"),
        ] {
            let text = request.send().await.unwrap().text().await.unwrap();
            let mut lines = text.trim_start_matches('\u{feff}').lines();
            assert!(
                lines.next().unwrap().starts_with("Group,Name,Drives,Stops,Registered,Deferred,Donated,Total mL,"),
                "{text}"
            );
            assert!(lines.last().unwrap().starts_with("total,Total,"), "{text}");
        }

        // XLSX: parsed back with calamine.
        let response = app.client.get(app.url("/api/v1/reports/results?group=season&format=xlsx")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let bytes = response.bytes().await.unwrap().to_vec();
        use calamine::{Data, Reader, Xlsx};
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["采血结果"]);
        let range = book.worksheet_range("采血结果").unwrap();
        let cells: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
        let header: Vec<String> = cells[0].iter().map(|c| c.to_string()).collect();
        let row = |r: &[Data]| -> Value {
            let mut v = json!({});
            for (h, c) in header.iter().zip(r) {
                v[member(h)] = match c {
                    Data::Float(f) if f.fract() == 0.0 && *f >= 0.0 => json!(*f as u64),
                    Data::Float(f) => json!(f),
                    Data::Int(i) => json!(i),
                    Data::String(s) => json!(s),
                    _ => Value::Null,
                };
            }
            v
        };
        assert_eq!(cells.len(), 4, "header, two seasons, total");
        assert_eq!(cells[1][0].to_string(), "2026-autumn");
        assert_eq!(cells[1][1].to_string(), "2026年9月至11月");
        assert_eq!(cells[3][1].to_string(), "合计");
        sum(&[&ea1, &ea2]).check(&row(&cells[1]), no_shows(&[&ea1, &ea2]), "XLSX autumn");
        sum(&[&eb1]).check(&row(&cells[2]), 0, "XLSX winter");
        everything.check(&row(&cells[3]), no_shows(&[&ea1, &ea2, &eb1]), "XLSX total");

        for (query, field) in [("format=pdf", "format"), ("group=week", "group"),
                               ("from=2026-12-01&to=2026-11-01", "to"), ("region=12", "region"),
                               ("format=csv&lang=fr", "lang")] {
            let response = app.client.get(app.url(&format!("/api/v1/reports/results?{query}"))).send().await.unwrap();
            let problem = expect_problem(response, 400, query).await;
            assert!(problem.to_string().contains(field), "{query}: {problem}");
        }
        app
    })
    .await;
}

/// Completes a drive of vehicle 1 on `date` at the points `at`, with `donors` walk-in
/// donations at each stop, from `village` when given.
async fn completed_drive(
    app: &TestApp,
    net: &Network,
    date: &str,
    at: &[(usize, u32)],
    village: Option<&str>,
) -> Value {
    let stops: Vec<(usize, f64)> = at.iter().map(|(n, _)| (*n, 5.0)).collect();
    let d = drive(app, net, date, &stops).await;
    let d = move_to(app, &d, &["published", "in_progress"]).await;
    for (i, (_, donors)) in at.iter().enumerate() {
        for k in 0..*donors {
            let mut body =
                json!({"name": format!("donor {k}"), "outcome": "donated", "volume_ml": 400});
            if let Some(v) = village {
                body["village_code"] = json!(v);
            }
            checked_in(app, stop_id(&d, i), &body).await;
        }
    }
    move_to(app, &d, &["completed"]).await
}

#[tokio::test]
async fn recorded_results_feed_availability_the_visit_interval_and_calibration() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let forecast = |date: &str| format!("/api/v1/forecast?site={}&date={date}", net.site(1));
        let before = app.get_ok(&forecast("2026-12-10")).await;
        assert_eq!(before["calibration"]["source"], "defaults");
        let village = |f: &Value| {
            f["villages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["code"] == P1_VILLAGE)
                .unwrap()
                .clone()
        };
        assert_eq!(village(&before)["recent_donors"], 0.0);

        // 30 people of P1's village gave at P1 on 1 December.
        completed_drive(&app, &net, "2026-12-01", &[(1, 30)], Some(P1_VILLAGE)).await;
        let after = app.get_ok(&forecast("2026-12-10")).await;
        let v = village(&after);
        assert_eq!(v["recent_donors"], 30.0);
        let available = |v: &Value| v["available"].as_f64().unwrap();
        assert!((available(&village(&before)) - available(&v) - 30.0).abs() < 1e-9);
        assert!(after["total"].as_f64().unwrap() < before["total"].as_f64().unwrap());
        assert_eq!(after["calibration"]["source"], "defaults");
        assert_eq!(after["calibration"]["stops"], 1);
        // 181 days later they count again; the day itself is not "before".
        let later = app.get_ok(&forecast("2027-05-31")).await;
        assert_eq!(village(&later)["recent_donors"], 0.0);
        let same_day = app.get_ok(&forecast("2026-12-01")).await;
        assert_eq!(village(&same_day)["recent_donors"], 0.0);

        // The plan of 7 to 11 December does not go back to P1 (visited on the 1st).
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let result = &plan["result"];
        let planned: Vec<&str> = result["routes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                r["stops"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["site"].as_str().unwrap())
            })
            .collect();
        assert!(!planned.contains(&net.site(1).as_str()), "{result}");
        let p1 = result["unscheduled"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["site"] == net.site(1))
            .unwrap();
        assert_eq!(p1["reason"], "interval_not_elapsed", "{p1}");
        let instance = app
            .get_ok(&format!("/api/v1/plans/{}/instance", plan["id"]))
            .await;
        let site = instance["sites"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == net.site(1))
            .unwrap();
        assert_eq!(site["last_visit"], "2026-12-01");

        // A completed drive where nobody was checked in is taken as unrecorded.
        completed_drive(&app, &net, "2026-11-01", &[(2, 0)], None).await;
        let unrecorded = app.get_ok(&forecast("2026-12-10")).await;
        assert_eq!(unrecorded["calibration"]["stops"], 1);

        // Eight recorded stops: the forecast's parameters are fitted.
        completed_drive(&app, &net, "2026-11-02", &[(1, 20), (4, 12), (2, 30)], None).await;
        completed_drive(
            &app,
            &net,
            "2026-11-03",
            &[(1, 25), (4, 9), (2, 41), (3, 1)],
            None,
        )
        .await;
        let fitted = app.get_ok(&forecast("2026-12-10")).await;
        assert_eq!(fitted["calibration"]["stops"], 8);
        assert_eq!(
            fitted["calibration"]["source"], "fitted",
            "{}",
            fitted["calibration"]
        );
        assert!(fitted["rate"].as_f64().unwrap() != 0.006);
        app
    })
    .await;
}

/// What a donor books through the public API is what the desk checks in, by its code as the
/// donor reads it out; a donation recorded at a completed drive then holds the donor's next
/// booking back for 180 days (the booking rule reads the attendances recorded here).
#[tokio::test]
async fn public_bookings_are_checked_in_by_their_code_and_donations_start_the_180_days() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
        let day = today + chrono::Duration::days(10);
        let d = drive(&app, &net, &day.to_string(), &[(1, 10.0)]).await;
        let s = stop_id(&d, 0);
        let d = move_to(&app, &d, &["published"]).await;
        let public = |path: String, body: Value| {
            let app = &app;
            async move {
                let response = app
                    .anonymous
                    .post(app.url(&path))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                ok_json(response, 201, &path).await
            }
        };
        let one = public(
            format!("/api/v1/public/stops/{s}/bookings"),
            json!({"name": "张三", "mobile": "13800001234", "blood_type": "O+", "slot": "08:00"}),
        )
        .await;
        let group = public(
            format!("/api/v1/public/stops/{s}/group-bookings"),
            json!({"organisation": "城关镇中学", "contact_name": "李老师",
                   "contact_mobile": "13900001234", "headcount": 3,
                   "preferred_slots": ["08:00", "08:30"]}),
        )
        .await;
        let gone = public(
            format!("/api/v1/public/stops/{s}/bookings"),
            json!({"name": "王五", "mobile": "13700001234", "slot": "08:30"}),
        )
        .await;
        let gone_code = gone["code"].as_str().unwrap();
        let response = app
            .anonymous
            .post(app.url(&format!("/api/v1/public/bookings/{gone_code}/cancel")))
            .header("X-Booking-Token", gone["token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);

        let screen = app.get_ok(&format!("/api/v1/stops/{s}/check-in")).await;
        let bookings = screen["bookings"].as_array().unwrap();
        let codes: Vec<&Value> = bookings.iter().map(|b| &b["code"]).collect();
        assert_eq!(
            codes,
            [&one["code"], &group["code"]],
            "active bookings only"
        );
        assert_eq!(
            bookings[0]["mobile"], "13800001234",
            "whole on the check-in screen"
        );
        assert_eq!(bookings[0]["slots"], json!(["08:00-08:30"]));
        assert_eq!(bookings[0]["blood_type"], "O+");
        assert_eq!(bookings[1]["headcount"], 3);
        assert_eq!(bookings[1]["kind"], "group");

        // The code as read out: lower case, with a hyphen.
        let code = one["code"].as_str().unwrap();
        let typed = format!("{}-{}", code[..4].to_lowercase(), &code[4..]);
        let a = checked_in(
            &app,
            s,
            &json!({"booking_code": typed, "outcome": "donated",
                                           "volume_ml": 400, "abo": "O", "rh": "+"}),
        )
        .await;
        assert_eq!(
            (a["kind"].as_str(), a["name"].as_str(), a["mobile"].as_str()),
            (Some("booked"), Some("张三"), Some("138****1234"))
        );
        for name in ["学生甲", "学生乙", "学生丙"] {
            checked_in(
                &app,
                s,
                &json!({"booking_code": group["code"], "name": name}),
            )
            .await;
        }
        let response = check_in(
            &app,
            &app.client,
            s,
            &json!({"booking_code": group["code"], "name": "学生丁"}),
        )
        .await;
        expect_problem(response, 409, "a fourth on a group of three").await;
        let response = check_in(&app, &app.client, s, &json!({"booking_code": gone_code})).await;
        let problem = expect_problem(response, 409, "cancelled booking").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("cancelled"),
            "{problem}"
        );
        let screen = app.get_ok(&format!("/api/v1/stops/{s}/check-in")).await;
        let counts: Vec<&Value> = screen["bookings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| &b["checked_in"])
            .collect();
        assert_eq!(counts, [&json!(1), &json!(3)]);
        let results = app.get_ok(&format!("/api/v1/stops/{s}/results")).await;
        let r = &results["results"];
        assert_eq!(
            (
                r["booked_places"].as_u64(),
                r["booked_attended"].as_u64(),
                r["no_shows"].as_u64()
            ),
            (Some(4), Some(4), Some(0)),
            "the cancelled booking's place is not counted"
        );
        assert_eq!(r["no_show_rate"], 0.0);

        // Completed: 张三 may not book again within 180 days of the donation.
        move_to(&app, &d, &["in_progress", "completed"]).await;
        let later = drive(
            &app,
            &net,
            &(day + chrono::Duration::days(20)).to_string(),
            &[(4, 5.0)],
        )
        .await;
        let later = move_to(&app, &later, &["published"]).await;
        let response = app
            .anonymous
            .post(app.url(&format!(
                "/api/v1/public/stops/{}/bookings",
                stop_id(&later, 0)
            )))
            .json(&json!({"name": "张三", "mobile": "13800001234", "slot": "08:00"}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 409, "within 180 days of a donation").await;
        assert_eq!(problem["type"], "urn:donornet:problem:not-yet-eligible");
        assert_eq!(
            problem["next_eligible_date"],
            (day + chrono::Duration::days(180)).to_string()
        );
        app
    })
    .await;
}

/// Twenty desks checking in people of a group of five at once admit exactly five.
#[tokio::test]
async fn simultaneous_check_ins_never_admit_more_than_a_group_booked() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let d = drive(&app, &net, "2026-12-10", &[(1, 10.0)]).await;
        let s = stop_id(&d, 0);
        move_to(&app, &d, &["published"]).await;
        booking(
            &app,
            s,
            "GRP555",
            ("刘老师", Some("13700002222")),
            ("group", 5),
            "active",
        )
        .await;
        let url = app.url(&format!("/api/v1/stops/{s}/attendances"));
        let gate = std::sync::Arc::new(tokio::sync::Barrier::new(20));
        let tasks: Vec<_> = (0..20)
            .map(|n| {
                let (client, url, gate) = (app.client.clone(), url.clone(), gate.clone());
                tokio::spawn(async move {
                    let body = json!({"booking_code": "GRP555", "name": format!("学生{n}")});
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
        let admitted = statuses.iter().filter(|s| **s == 201).count();
        let refused = statuses.iter().filter(|s| **s == 409).count();
        assert_eq!((admitted, refused), (5, 15), "{statuses:?}");
        let list = app.get_ok(&format!("/api/v1/stops/{s}/attendances")).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 5);
        app
    })
    .await;
}

/// The Chinese headers of the results downloads (their default language), in order, with the
/// members of `ResultsTotals` (and `group`, `label`, `drives`) they head.
const ZH_COLUMNS: [(&str, &str); 20] = [
    ("分组", "group"),
    ("名称", "label"),
    ("出车次数", "drives"),
    ("站点数", "stops"),
    ("登记人数", "registered"),
    ("暂缓献血人数", "deferred"),
    ("献血人数", "donated"),
    ("采血量（mL）", "total_ml"),
    ("未预约到场人数", "walk_ins"),
    ("预约名额", "booked_places"),
    ("预约到场人数", "booked_attended"),
    ("预约未到人数", "no_shows"),
    ("暂缓率", "deferral_rate"),
    ("预约未到率", "no_show_rate"),
    ("预计献血人数", "expected_donors"),
    ("预测误差", "forecast_error"),
    ("相对误差", "relative_error"),
    ("各站绝对误差之和", "abs_error"),
    ("未登记站点数", "unrecorded_stops"),
    ("未登记站点预计人数", "unrecorded_expected"),
];

/// The member a Chinese download header names (panics on any other header).
fn member(header: &str) -> &'static str {
    ZH_COLUMNS
        .iter()
        .find(|(zh, _)| *zh == header)
        .map(|(_, member)| *member)
        .unwrap_or_else(|| panic!("not a Chinese results header: {header}"))
}

/// The rows of a CSV download (a byte-order mark allowed; Chinese headers, the default): each
/// row's first cell, and the row as JSON by member name (numbers as numbers, empty cells as
/// null).
fn csv_rows(text: &str) -> Vec<(String, Value)> {
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        ZH_COLUMNS.map(|(zh, _)| zh),
        "the headers, in Chinese by default"
    );
    reader
        .records()
        .map(Result::unwrap)
        .map(|r| {
            let mut v = json!({});
            for (h, cell) in header.iter().zip(r.iter()) {
                v[member(h)] = if cell.is_empty() {
                    Value::Null
                } else if let Ok(n) = cell.parse::<u64>() {
                    json!(n)
                } else if let Ok(f) = cell.parse::<f64>() {
                    json!(f)
                } else {
                    json!(cell)
                };
            }
            (r[0].to_owned(), v)
        })
        .collect()
}

/// No number in a CSV download has more than 3 decimals (rates; forecasts have 2).
fn assert_no_long_decimals(text: &str) {
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            if cell.parse::<f64>().is_ok() {
                let decimals = cell.split_once('.').map_or(0, |(_, f)| f.len());
                assert!(decimals <= 3, "{cell} in {text}");
            }
        }
    }
}
