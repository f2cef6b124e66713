//! Drive planning (issue 5) through the HTTP API and the command line: the turnout forecast,
//! plans made in the background, plan check, exports, `donornet plan --export-instance`,
//! who may plan, and plans cut off by a restart.
//!
//! The network: the demo county (青禾县) with a station in the demo city and two vehicles,
//! and four active points, each at a surveyed village:
//!
//! | point | village | eligible | away for work | notes |
//! |---|---|---|---|---|
//! | P1 东岭村献血点 | 东岭村委会 (114.0132, 33.6737) | 5000 | 1000 | markets on lunar days 1, 4, 7 |
//! | P4 东岭社区<流动>献血点 & 服务站 | 东岭社区 (114.0219, 33.6565), 2.1 km from P1 | 3000 | 0 | |
//! | P2 南塘镇献血点 | 南塘社区 (114.0687, 33.5162), 18 km from P1 | 8000 | 0 | |
//! | P3 北冈村献血点 | 北冈村委会 (114.1415, 33.7260), 13 km from P1 | 200 | 0 | too few donors |
//!
//! and 柳湾村委会 (114.0458, 33.6726), 2500 eligible, no point: 2.9 km from P4, 3.0 km from P1.
//! In December presence is 0.1 (the Spring Festival of 2027 is on 6 February), so P1's
//! available people are 4000 + 1000 x 0.1 = 4100 and its forecast on a plain weekday is
//! 4100 x 0.006 = 24.6. December 2026: the 9th (Wednesday) is lunar day 1 and the 12th
//! (Saturday) lunar day 4, market days at P1; the 10th (Thursday) is lunar day 2.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, on_each_backend};

pub(crate) const COUNTY: &str = "990101000000";
pub(crate) const CITY: &str = "990100000000";
pub(crate) const DONGLING: &str = "990101101000";
pub(crate) const XIHE: &str = "990101102000";

pub(crate) struct Network {
    pub(crate) vehicles: [i64; 2],
    /// P1, P2, P3, P4.
    pub(crate) points: [i64; 4],
}

impl Network {
    pub(crate) fn site(&self, n: usize) -> String {
        format!("point-{}", self.points[n - 1])
    }
}

async fn post(app: &TestApp, client: &Client, path: &str, body: &Value) -> (u16, Value) {
    let response = client.post(app.url(path)).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn create(app: &TestApp, path: &str, body: &Value) -> Value {
    let (status, created) = post(app, &app.client, path, body).await;
    assert_eq!(status, 201, "POST {path} {body}: {created}");
    created
}

pub(crate) async fn network(app: &TestApp) -> Network {
    donornet::seed::load_demo_divisions(&app.db).await.unwrap();
    for (village, eligible, away) in [
        ("990101101201", 5000, 1000),
        ("990101101006", 3000, 0),
        ("990101103006", 8000, 0),
        ("990101104201", 200, 0),
        ("990101101202", 2500, 0),
    ] {
        create(
            app,
            &format!("/api/v1/regions/{village}/surveys"),
            &json!({"eligible_total": eligible, "away_for_work": away,
                    "surveyed_on": "2026-10-01", "source": "village_doctor"}),
        )
        .await;
    }
    let station = create(
        app,
        "/api/v1/stations",
        &json!({"name": "演示市中心血站", "region_code": CITY, "address": "人民路 1 号",
                "longitude": 114.02, "latitude": 33.58}),
    )
    .await;
    let mut vehicles = [0; 2];
    for (i, (plate, beds, max)) in [("豫LD1234", 4, 120), ("豫LD5678", 2, 20)]
        .into_iter()
        .enumerate()
    {
        let v = create(
            app,
            "/api/v1/vehicles",
            &json!({"name": format!("{}号采血车", i + 1), "plate": plate,
                    "station_id": station["id"], "beds": beds, "staff": 6,
                    "max_donors_per_day": max, "day_start": "08:00", "day_end": "17:00",
                    "setup_min": 30, "teardown_min": 20, "cost_per_km": 2.5}),
        )
        .await;
        vehicles[i] = v["id"].as_i64().unwrap();
    }
    let mut points = [0; 4];
    for (i, (name, kind, region, lon, lat, market)) in [
        (
            "东岭村献血点",
            "village",
            "990101101201",
            114.0132,
            33.6737,
            Some("1,4,7"),
        ),
        (
            "南塘镇献血点",
            "township",
            "990101103000",
            114.0687,
            33.5162,
            None,
        ),
        (
            "北冈村献血点",
            "village",
            "990101104201",
            114.1415,
            33.7260,
            None,
        ),
        (
            "东岭社区<流动>献血点 & 服务站",
            "village",
            "990101101006",
            114.0219,
            33.6565,
            None,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let p = app
            .create_point(&json!({"name": name, "kind": kind, "region_code": region,
                                  "address": format!("{name}门前, 主街 {}号", i + 1),
                                  "longitude": lon, "latitude": lat, "status": "active",
                                  "market_days": market}))
            .await;
        points[i] = p["id"].as_i64().unwrap();
    }
    // Coordinators: P1's is homed in its township; P2's in the city (outside a county
    // viewer's reach, so its phone shows masked to them).
    for (point, name, mobile, home) in [
        (points[0], "李医生", "13800001111", DONGLING),
        (points[1], "王主任", "13900002222", CITY),
    ] {
        let c = create(
            app,
            "/api/v1/coordinators",
            &json!({"name": name, "mobile": mobile, "role": "village_doctor",
                    "region_code": home}),
        )
        .await;
        let response = app
            .send_json(
                Method::PUT,
                &format!("/api/v1/points/{point}/coordinators/{}", c["id"]),
                &json!({"primary": true}),
                None,
            )
            .await;
        assert_eq!(response.status().as_u16(), 200);
    }
    Network { vehicles, points }
}

fn approx(a: &Value, b: f64, what: &str) {
    let a = a
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {a}"));
    assert!((a - b).abs() < 1e-9, "{what}: {a} != {b}");
}

pub(crate) fn base_request() -> Value {
    json!({"region": COUNTY, "from": "2026-12-07", "to": "2026-12-11", "iterations": 300})
}

/// POSTs a plan as `client`, expecting 201 or 202, and returns it once done.
pub(crate) async fn make_plan(app: &TestApp, client: &Client, body: &Value) -> Value {
    let response = client
        .post(app.url("/api/v1/plans"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let plan: Value = response.json().await.unwrap();
    assert!(status == 201 || status == 202, "{status}: {plan}");
    let location = location.expect("Location");
    assert_eq!(location, format!("/api/v1/plans/{}", plan["id"]));
    if status == 201 {
        assert_eq!(plan["status"], "done", "{plan}");
        return plan;
    }
    wait_done(app, client, &location).await
}

async fn wait_done(app: &TestApp, client: &Client, location: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let plan: Value = client
            .get(app.url(location))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match plan["status"].as_str() {
            Some("done") => return plan,
            Some("queued" | "running") => {}
            _ => panic!("{plan}"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the plan never finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn stops(plan: &Value) -> Vec<&Value> {
    plan["result"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["stops"].as_array().unwrap())
        .collect()
}

#[tokio::test]
async fn a_forecast_explains_every_number_village_by_village() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let p1 = net.site(1);
        // A plain Thursday: 4100 available x 0.006.
        let f = app
            .get_ok(&format!("/api/v1/forecast?site={p1}&date=2026-12-10"))
            .await;
        approx(&f["total"], 4100.0 * 0.006, "total");
        approx(&f["uncapped"], 4100.0 * 0.006, "uncapped");
        assert!(f["capacity"].is_null());
        approx(&f["presence"], 0.1, "presence");
        assert_eq!(f["spring_festival"], "2027-02-06");
        assert_eq!(
            f["day"],
            json!({"weekend": false, "market_day": false, "factor": 1.0})
        );
        assert_eq!(f["site"]["name"], "东岭村献血点");
        assert_eq!(f["site"]["market_days"], "1,4,7");
        let villages = f["villages"].as_array().unwrap();
        assert_eq!(villages.len(), 1, "{f}");
        let v = &villages[0];
        assert_eq!(v["code"], "990101101201");
        approx(&v["distance_km"], 0.0, "distance");
        approx(&v["resident_eligible"], 4000.0, "resident");
        approx(&v["away_present"], 100.0, "away present");
        approx(&v["available"], 4100.0, "available");
        approx(&v["decay"], 1.0, "decay");
        approx(&v["expected"], 24.6, "expected");
        // 东岭社区 counts at P4 (its own point), 柳湾 at P4 too (2.9 km against 3.0 km).
        let elsewhere: Vec<(&str, &str)> = f["elsewhere"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["code"].as_str().unwrap(),
                    e["counted_at"].as_str().unwrap(),
                )
            })
            .collect();
        let p4 = net.site(4);
        assert_eq!(
            elsewhere,
            [("990101101006", p4.as_str()), ("990101101202", p4.as_str())]
        );
        assert_eq!(f["calibration"]["source"], "defaults");
        assert_eq!(f["calibration"]["stops"], 0);
        assert!(
            f["calibration"]["note"]
                .as_str()
                .unwrap()
                .contains("drive results")
        );
        approx(&f["params"]["rate"], 0.006, "rate");
        approx(&f["params"]["market_factor"], 1.3, "market factor");

        // Wednesday the 9th is lunar day 1: a market day.
        let f = app
            .get_ok(&format!("/api/v1/forecast?site={p1}&date=2026-12-09"))
            .await;
        assert_eq!(
            f["day"],
            json!({"weekend": false, "market_day": true, "factor": 1.3})
        );
        approx(&f["total"], 4100.0 * 0.006 * 1.3, "market day total");
        // Saturday the 12th is lunar day 4: weekend and market day.
        let f = app
            .get_ok(&format!("/api/v1/forecast?site={p1}&date=2026-12-12"))
            .await;
        assert_eq!(f["day"]["weekend"], true);
        assert_eq!(f["day"]["market_day"], true);
        approx(
            &f["total"],
            4100.0 * 0.006 * 1.2 * 1.3,
            "weekend market total",
        );
        // The small vehicle takes 20 a day.
        let f = app
            .get_ok(&format!(
                "/api/v1/forecast?site={p1}&date=2026-12-10&vehicle={}",
                net.vehicles[1]
            ))
            .await;
        approx(&f["total"], 20.0, "capped");
        approx(&f["uncapped"], 24.6, "uncapped");
        approx(&f["capacity"], 20.0, "capacity");
        assert_eq!(f["vehicle"]["max_donors_per_day"], 20);

        // A village without a point, at its centre: 柳湾 itself, and nothing else is nearer to it
        // than to an active point (东岭社区 and 东岭村 have their own).
        let f = app
            .get_ok("/api/v1/forecast?site=region-990101101202&date=2026-12-10")
            .await;
        assert_eq!(f["site"]["kind"], "village");
        approx(&f["total"], 2500.0 * 0.006, "unserved village");

        // Other turnout parameters, for this forecast only: a doubled rate doubles the total,
        // and the parameters shown are those used.
        let f = app
            .get_ok(&format!(
                "/api/v1/forecast?site={p1}&date=2026-12-10&rate=0.012&decay_km=5"
            ))
            .await;
        approx(&f["total"], 4100.0 * 0.012, "overridden rate");
        approx(&f["params"]["decay_km"], 5.0, "overridden decay");
        approx(&f["decay_km"], 5.0, "decay in use");

        // Mistakes and reach.
        for (query, status, field) in [
            ("site=p1&date=2026-12-10", 400, Some("site")),
            (
                &format!("site={p1}&date=2026-13-01") as &str,
                400,
                Some("date"),
            ),
            (&format!("site={p1}") as &str, 400, Some("date")),
            (
                "site=region-990101000000&date=2026-12-10",
                400,
                Some("site"),
            ),
            ("site=point-999999&date=2026-12-10", 404, None),
            (
                &format!("site={p1}&date=2026-12-10&decay_km=0") as &str,
                400,
                Some("decay_km"),
            ),
            (
                &format!("site={p1}&date=2026-12-10&rate=2") as &str,
                400,
                Some("rate"),
            ),
            (
                &format!("site={p1}&date=2026-12-10&vehicle=999999") as &str,
                404,
                None,
            ),
        ] {
            let response = app
                .client
                .get(app.url(&format!("/api/v1/forecast?{query}")))
                .send()
                .await
                .unwrap();
            let problem = expect_problem(response, status, query).await;
            if let Some(field) = field {
                assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
            }
        }
        let outsider = app.client_for("xihe", "viewer", &[XIHE]).await;
        let response = outsider
            .get(app.url(&format!("/api/v1/forecast?site={p1}&date=2026-12-10")))
            .send()
            .await
            .unwrap();
        expect_problem(response, 404, "a point outside the caller's reach").await;
        let response = app
            .anonymous
            .get(app.url(&format!("/api/v1/forecast?site={p1}&date=2026-12-10")))
            .send()
            .await
            .unwrap();
        expect_problem(response, 401, "anonymous").await;
        app
    })
    .await;
}

#[tokio::test]
async fn a_plan_keeps_every_rule_and_says_why_a_site_is_left_out() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let id = plan["id"].as_i64().unwrap();
        assert_eq!(plan["region_code"], COUNTY);
        assert_eq!(plan["progress"], 100);
        assert_eq!(plan["created_by"], "root (token: tests)");
        // The request as accepted: defaults and the vehicles used filled in.
        let request = &plan["request"];
        assert_eq!(request["vehicles"], json!(net.vehicles));
        assert_eq!(request["candidates"], "points");
        assert_eq!(request["min_expected_donors"], 10.0);
        assert_eq!(request["min_days_between_visits"], 180);
        assert_eq!(
            request["travel"],
            json!({"model": "straight_line", "detour": 1.3, "speed_kmh": 40.0})
        );
        assert_eq!(request["seed"], 1);

        let result = &plan["result"];
        assert_eq!(result["violations"], json!([]), "{result}");
        let instance = app.get_ok(&format!("/api/v1/plans/{id}/instance")).await;
        assert_eq!(instance["format"], "donornet.plan-instance.v2");
        // No site values: every stop is worth its millilitres.
        assert!(instance["sites"][0].get("value").is_none(), "{instance}");
        assert_eq!(result["totals"]["value"], result["totals"]["ml"]);
        for stop in stops(&plan) {
            assert_eq!(stop["value"], stop["ml"], "{stop}");
        }
        let sites: Vec<&str> = instance["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        let expected_sites: Vec<String> = (1..=4).map(|n| net.site(n)).collect();
        assert_eq!(sites, expected_sites);
        // The instance's expected donors are the forecast's: P1 on Thursday the 10th (index 3).
        let p1 = &instance["sites"][0];
        approx(&p1["expected"][3], 24.6, "P1 on the 10th");
        approx(&p1["expected"][2], 24.6 * 1.3, "P1 on market day the 9th");
        for day in ["2026-12-09", "2026-12-10"] {
            let f = app
                .get_ok(&format!("/api/v1/forecast?site={}&date={day}", net.site(1)))
                .await;
            let i = if day == "2026-12-09" { 2 } else { 3 };
            approx(&p1["expected"][i], f["total"].as_f64().unwrap(), day);
        }
        // Every route within its vehicle's window and capacity; every stop a candidate, once.
        let vehicles = instance["vehicles"].as_array().unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for route in result["routes"].as_array().unwrap() {
            let vehicle = vehicles
                .iter()
                .find(|v| v["id"] == route["vehicle"])
                .unwrap_or_else(|| panic!("unknown vehicle in {route}"));
            assert!(route["depart"].as_str().unwrap() >= vehicle["day_start"].as_str().unwrap());
            assert!(route["return"].as_str().unwrap() <= vehicle["day_end"].as_str().unwrap());
            assert!(
                route["donors"].as_f64().unwrap() <= vehicle["max_donors"].as_f64().unwrap() + 1e-9,
                "{route}"
            );
            assert!(route["vehicle_name"].as_str().unwrap().contains("号采血车"));
            assert_eq!(route["station_name"], "演示市中心血站");
            for stop in route["stops"].as_array().unwrap() {
                let site = stop["site"].as_str().unwrap();
                assert!(sites.contains(&site), "{site}");
                assert!(seen.insert(site.to_owned()), "{site} twice within 180 days");
                assert!(stop["arrive"].as_str().unwrap() <= stop["opens"].as_str().unwrap());
                assert!(stop["closes"].as_str().unwrap() <= stop["leave"].as_str().unwrap());
            }
        }
        // P1, P2 and P4 are worth a stop; P3 (1.2 donors) is not.
        for n in [1, 2, 4] {
            assert!(seen.contains(&net.site(n)), "P{n} not planned: {result}");
        }
        let unscheduled = result["unscheduled"].as_array().unwrap();
        assert_eq!(unscheduled.len(), 1, "{result}");
        assert_eq!(unscheduled[0]["site"], net.site(3));
        assert_eq!(unscheduled[0]["reason"], "below_minimum_donors");
        assert!(
            unscheduled[0]["message"]
                .as_str()
                .unwrap()
                .contains("below the minimum")
        );
        // P1 goes on its market day, the 9th, when it draws the most.
        let p1_stop = stops(&plan)
            .into_iter()
            .find(|s| s["site"] == net.site(1))
            .unwrap();
        approx(&p1_stop["expected"], 24.6 * 1.3, "P1's stop");
        // Stops at points carry their address and coordinators.
        assert_eq!(p1_stop["address"], "东岭村献血点门前, 主街 1号");
        assert_eq!(p1_stop["coordinators"][0]["name"], "李医生");
        assert_eq!(p1_stop["coordinators"][0]["mobile"], "13800001111");
        assert_eq!(p1_stop["coordinators"][0]["is_primary"], true);
        let totals = &result["totals"];
        approx(
            &totals["donors"],
            stops(&plan)
                .iter()
                .map(|s| s["donors"].as_f64().unwrap())
                .sum(),
            "totals",
        );
        approx(
            &plan["objective"],
            totals["objective"].as_f64().unwrap(),
            "objective",
        );
        assert_eq!(result["solver"]["seed"], 1);

        // The same again, by id, and in the listing.
        let again = app.get_ok(&format!("/api/v1/plans/{id}")).await;
        assert_eq!(again["result"]["routes"], result["routes"]);
        let other = make_plan(&app, &app.client, &base_request()).await;
        let page = app.get_ok("/api/v1/plans").await;
        let ids: Vec<i64> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [other["id"].as_i64().unwrap(), id], "newest first");
        assert_eq!(page["items"][1]["status"], "done");
        let first = app.get_ok("/api/v1/plans?limit=1").await;
        assert_eq!(first["items"].as_array().unwrap().len(), 1);
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = app
            .get_ok(&format!("/api/v1/plans?limit=1&cursor={cursor}"))
            .await;
        assert_eq!(second["items"][0]["id"], id);
        assert!(second["next_cursor"].is_null());
        let by_region = app
            .get_ok(&format!("/api/v1/plans?region={DONGLING}"))
            .await;
        assert_eq!(
            by_region["items"],
            json!([]),
            "a plan of the county is not 东岭镇's"
        );
        let done = app.get_ok("/api/v1/plans?status=done,failed").await;
        assert_eq!(done["items"].as_array().unwrap().len(), 2);
        let (status, _) = app.get_json("/api/v1/plans?status=finished").await;
        assert_eq!(status, 400);
        let (status, _) = app.get_json("/api/v1/plans/999999").await;
        assert_eq!(status, 404);
        app
    })
    .await;
}

#[tokio::test]
async fn the_same_request_and_seed_give_the_same_plan() {
    on_each_backend(|app| async move {
        network(&app).await;
        let mut body = base_request();
        body["seed"] = json!(7);
        body["to"] = json!("2026-12-20");
        let a = make_plan(&app, &app.client, &body).await;
        let b = make_plan(&app, &app.client, &body).await;
        assert_ne!(a["id"], b["id"]);
        assert_eq!(a["result"]["routes"], b["result"]["routes"]);
        assert_eq!(a["result"]["totals"], b["result"]["totals"]);
        assert_eq!(a["result"]["unscheduled"], b["result"]["unscheduled"]);
        assert_eq!(a["result"]["solver"]["iterations"], 300);
        let ia = app
            .get_ok(&format!("/api/v1/plans/{}/instance", a["id"]))
            .await;
        let ib = app
            .get_ok(&format!("/api/v1/plans/{}/instance", b["id"]))
            .await;
        assert_eq!(ia, ib);

        // Turnout parameters for this plan only: a doubled rate doubles every expected figure
        // of the instance, and the stored request keeps the override.
        let mut doubled = body.clone();
        doubled["turnout"] = json!({"rate": 0.012});
        let c = make_plan(&app, &app.client, &doubled).await;
        assert_eq!(c["request"]["turnout"], json!({"rate": 0.012}));
        let ic = app
            .get_ok(&format!("/api/v1/plans/{}/instance", c["id"]))
            .await;
        let figures = |i: &Value| -> Vec<f64> {
            i["sites"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| {
                    s["expected"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e.as_f64().unwrap())
                })
                .collect()
        };
        let (base, twice) = (figures(&ia), figures(&ic));
        assert_eq!(base.len(), twice.len());
        assert!(base.iter().any(|&e| e > 0.0));
        for (x, y) in base.iter().zip(&twice) {
            assert!((2.0 * x - y).abs() < 1e-9, "{x} doubled is not {y}");
        }
        let mut bad = body.clone();
        bad["turnout"] = json!({"decay_km": -1, "market_factor": 7});
        let response = app
            .client
            .post(app.url("/api/v1/plans"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, "bad turnout overrides").await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["turnout.decay_km", "turnout.market_factor"]);
        app
    })
    .await;
}

#[tokio::test]
async fn fixed_forbidden_blackout_and_unserved_candidates_shape_the_plan() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let mut body = base_request();
        body["fixed"] =
            json!([{"site": net.site(2), "date": "2026-12-11", "vehicle": net.vehicles[0]}]);
        body["forbidden"] = json!([{"site": net.site(1)}]);
        body["blackout_dates"] = json!(["2026-12-08"]);
        body["candidates"] = json!("points_and_unserved");
        let plan = make_plan(&app, &app.client, &body).await;
        let result = &plan["result"];
        assert_eq!(result["violations"], json!([]), "{result}");
        let routes = result["routes"].as_array().unwrap();
        let fixed = routes
            .iter()
            .find(|r| {
                r["date"] == "2026-12-11" && r["vehicle"] == format!("vehicle-{}", net.vehicles[0])
            })
            .expect("the fixed day's route");
        assert!(
            fixed["stops"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["site"] == net.site(2))
        );
        assert!(
            routes.iter().all(|r| r["date"] != "2026-12-08"),
            "a blackout day"
        );
        let unscheduled = result["unscheduled"].as_array().unwrap();
        let p1 = unscheduled
            .iter()
            .find(|u| u["site"] == net.site(1))
            .unwrap();
        assert_eq!(p1["reason"], "forbidden");
        // The unserved: 柳湾 (2500 eligible, no point within 2 km) and 北冈乡 (its centre is
        // 2.9 km from P3), after the points.
        let instance = app
            .get_ok(&format!("/api/v1/plans/{}/instance", plan["id"]))
            .await;
        let sites: Vec<&str> = instance["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        let mut expected: Vec<String> = (1..=4).map(|n| net.site(n)).collect();
        expected.extend([
            "region-990101101202".to_owned(),
            "region-990101104000".to_owned(),
        ]);
        assert_eq!(sites, expected);
        assert_eq!(instance["days"].as_array().unwrap().len(), 4);
        // 柳湾 now counts toward its own site, not P4's: 2500 x 0.006 on Thursday the 10th.
        approx(&instance["sites"][4]["expected"][2], 15.0, "柳湾");
        approx(
            &instance["sites"][3]["expected"][2],
            3000.0 * 0.006,
            "P4 without 柳湾",
        );
        let liuwan = stops(&plan)
            .into_iter()
            .find(|s| s["site"] == "region-990101101202");
        if let Some(stop) = liuwan {
            assert!(stop["address"].is_null());
            assert_eq!(stop["coordinators"], json!([]));
        }
        app
    })
    .await;
}

#[tokio::test]
async fn a_long_plan_answers_202_and_reports_progress() {
    on_each_backend(|app| async move {
        network(&app).await;
        let mut body = base_request();
        body["iterations"] = json!(1_000_000);
        body["time_limit_secs"] = json!(2);
        let response = app
            .client
            .post(app.url("/api/v1/plans"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let accepted: Value = response.json().await.unwrap();
        assert!(
            accepted["status"] == "queued" || accepted["status"] == "running",
            "{accepted}"
        );
        assert!(accepted["progress"].as_u64().unwrap() <= 100);
        let running = app.get_ok(&location).await;
        assert!(running["result"].is_null());
        assert!(running["progress"].as_u64().unwrap() < 100, "{running}");
        let listed = app.get_ok("/api/v1/plans").await;
        assert_ne!(listed["items"][0]["status"], "done");
        let id = accepted["id"].as_i64().unwrap();
        let response = app
            .client
            .get(app.url(&format!("/api/v1/plans/{id}/export?format=csv")))
            .send()
            .await
            .unwrap();
        expect_problem(response, 409, "exporting a plan not done").await;
        let done = wait_done(&app, &app.client, &location).await;
        assert_eq!(done["progress"], 100);
        assert_eq!(done["result"]["solver"]["stopped_by"], "time_limit");
        assert!(done["finished_at"].is_string());
        app
    })
    .await;
}

#[tokio::test]
async fn plan_check_passes_the_planners_plan_and_catches_hand_made_violations() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let id = plan["id"].as_i64().unwrap();
        // The planner's own routes, sent back as they are.
        let (status, checked) = post(
            &app,
            &app.client,
            "/api/v1/plans/check",
            &json!({"plan_id": id, "routes": plan["result"]["routes"]}),
        )
        .await;
        assert_eq!(status, 200, "{checked}");
        assert_eq!(checked["feasible"], true, "{checked}");
        assert_eq!(checked["violations"], json!([]));
        assert_eq!(checked["totals"], plan["result"]["totals"]);

        // A hand-made day: leaving at 16:30, an unknown site, and P3 with too few donors.
        let v1 = format!("vehicle-{}", net.vehicles[0]);
        let bad = json!([{"vehicle": v1, "date": "2026-12-10", "depart": "16:30",
                          "stops": [{"site": net.site(2)}, {"site": "point-999999"}, {"site": net.site(3)}]},
                         {"vehicle": "vehicle-999999", "date": "2026-12-10", "stops": []}]);
        let (status, checked) = post(
            &app,
            &app.client,
            "/api/v1/plans/check",
            &json!({"plan_id": id, "routes": bad}),
        )
        .await;
        assert_eq!(status, 200, "{checked}");
        assert_eq!(checked["feasible"], false);
        let kinds: Vec<&str> = checked["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["kind"].as_str().unwrap())
            .collect();
        for kind in ["unknown_site", "late_return", "below_minimum_donors", "unknown_vehicle"] {
            assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
        }
        // Over capacity: the small vehicle (20 a day) at P2 (48 expected, capped at 20) and P1.
        let v2 = format!("vehicle-{}", net.vehicles[1]);
        let (_, checked) = post(
            &app,
            &app.client,
            "/api/v1/plans/check",
            &json!({"plan_id": id, "routes": [{"vehicle": v2, "date": "2026-12-10",
                    "stops": [{"site": net.site(1)}, {"site": net.site(2)}]}]}),
        )
        .await;
        assert!(
            checked["violations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["kind"] == "over_capacity"),
            "{checked}"
        );

        // The same against the instance given inline.
        let instance = app.get_ok(&format!("/api/v1/plans/{id}/instance")).await;
        let (status, inline) = post(
            &app,
            &app.client,
            "/api/v1/plans/check",
            &json!({"instance": instance, "routes": plan["result"]["routes"]}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(inline["feasible"], true);
        let mut broken = instance.clone();
        broken["sites"][0]["expected"] = json!([1.0]);
        let response = app
            .client
            .post(app.url("/api/v1/plans/check"))
            .json(&json!({"instance": broken, "routes": []}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 422, "an inconsistent inline instance").await;
        assert_eq!(problem["errors"][0]["field"], "instance.sites[0].expected");

        // Format v2: every site worth twice its donors' mL on every day, and 5 more minutes a
        // stop. The plan's millilitres stay; its worth doubles, and so does the objective's
        // first term.
        let mut valued = instance.clone();
        for site in valued["sites"].as_array_mut().unwrap() {
            let value: Vec<f64> = site["expected"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_f64().unwrap() * 800.0)
                .collect();
            site["value"] = json!(value);
            site["extra_service_min"] = json!(5);
        }
        let (status, checked) = post(
            &app,
            &app.client,
            "/api/v1/plans/check",
            &json!({"instance": valued, "routes": plan["result"]["routes"]}),
        )
        .await;
        assert_eq!(status, 200, "{checked}");
        let totals = &checked["totals"];
        let number = |v: &Value| v.as_f64().unwrap();
        assert_eq!(totals["ml"], inline["totals"]["ml"]);
        assert!((number(&totals["value"]) - 2.0 * number(&totals["ml"])).abs() < 0.2, "{totals}");
        assert!(
            (number(&totals["objective"]) - (number(&totals["value"]) - number(&totals["cost_ml"])))
                .abs()
                < 0.2,
            "{totals}"
        );
        let first = &checked["routes"][0]["stops"][0];
        let before = &inline["routes"][0]["stops"][0];
        assert_eq!(first["arrive"], before["arrive"]);
        assert_ne!(first["opens"], before["opens"], "5 more minutes of setup");
        // The fields v2 added are refused in a v1 instance, naming the field.
        let mut old = valued.clone();
        old["format"] = json!("donornet.plan-instance.v1");
        let response = app
            .client
            .post(app.url("/api/v1/plans/check"))
            .json(&json!({"instance": old, "routes": []}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 422, "a v1 instance with values").await;
        assert_eq!(problem["errors"][0]["field"], "instance.sites[0].value");
        // A v1 instance without them is still read.
        let mut old = instance.clone();
        old["format"] = json!("donornet.plan-instance.v1");
        let (status, checked) = post(
            &app,
            &app.client,
            "/api/v1/plans/check",
            &json!({"instance": old, "routes": plan["result"]["routes"]}),
        )
        .await;
        assert_eq!(status, 200, "{checked}");
        assert_eq!(checked["totals"], inline["totals"]);
        for (body, status, field) in [
            (json!({"routes": []}), 400, Some("plan_id")),
            (json!({"plan_id": id, "instance": instance, "routes": []}), 400, Some("instance")),
            (json!({"plan_id": 999999, "routes": []}), 404, None),
            (json!({"plan_id": id}), 400, Some("routes")),
        ] {
            let response = app
                .client
                .post(app.url("/api/v1/plans/check"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let problem = expect_problem(response, status, &format!("{field:?}")).await;
            if let Some(field) = field {
                assert_eq!(problem["errors"][0]["field"], field, "{problem}");
            }
        }
        app
    })
    .await;
}

#[tokio::test]
async fn exports_render_the_plan_as_csv_ics_and_html() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let id = plan["id"].as_i64().unwrap();
        let all_stops = stops(&plan);
        let export = |format: &'static str| {
            let request = app
                .client
                .get(app.url(&format!("/api/v1/plans/{id}/export?format={format}")));
            async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status().as_u16(), 200, "{format}");
                let headers = response.headers().clone();
                (headers, response.text().await.unwrap())
            }
        };

        let (headers, csv) = export("csv").await;
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        assert_eq!(
            headers["content-disposition"],
            format!("attachment; filename=\"plan-{id}.csv\"")
        );
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        // Headed in Chinese, the default.
        assert_eq!(
            header,
            [
                "日期",
                "车辆编号",
                "车辆",
                "顺序",
                "地点编号",
                "地点",
                "地址",
                "到达",
                "开始采血",
                "结束采血",
                "离开",
                "预计献血人数",
                "计划献血人数",
                "联络员",
                "电话"
            ]
        );
        assert_eq!(headers["vary"], "accept-language");
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), all_stops.len());
        let p1_row = rows.iter().find(|r| r[4] == net.site(1)).unwrap();
        assert_eq!(&p1_row[5], "东岭村献血点");
        assert_eq!(&p1_row[6], "东岭村献血点门前, 主街 1号");
        assert_eq!((&p1_row[13], &p1_row[14]), ("李医生", "13800001111"));

        let (headers, ics) = export("ics").await;
        assert_eq!(headers["content-type"], "text/calendar; charset=utf-8");
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(
            !ics.replace("\r\n", "").contains('\n'),
            "every line ends in CRLF"
        );
        assert!(
            ics.split("\r\n").all(|l| l.len() <= 75),
            "folded at 75 octets"
        );
        let unfolded = ics.replace("\r\n ", "");
        assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), all_stops.len());
        assert!(unfolded.contains("TZID:Asia/Shanghai"));
        assert!(unfolded.contains("LOCATION:东岭村献血点门前\\, 主街 1号\r\n"));
        assert!(
            unfolded.contains("\\n联络员：李医生 13800001111"),
            "{unfolded}"
        );
        assert!(unfolded.contains("人献血。"), "{unfolded}");
        let (_, again) = export("ics").await;
        assert_eq!(again, ics, "UIDs and stamps are stable across exports");

        let (headers, html) = export("html").await;
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("inline")
        );
        for stop in &all_stops {
            let name = stop["name"].as_str().unwrap();
            let escaped = name
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            assert!(html.contains(&escaped), "{name}");
        }
        assert!(html.contains("东岭社区&lt;流动&gt;献血点 &amp; 服务站"));
        assert!(!html.contains("<流动>"));
        assert_eq!(
            html.matches("<section class=\"sheet\">").count(),
            plan["result"]["routes"].as_array().unwrap().len()
        );
        assert!(html.contains("李医生 13800001111"));
        assert!(html.contains("<html lang=\"zh-CN\">"));
        assert!(
            html.contains("<th>到达</th>") && html.contains("公里 · 预计"),
            "{html}"
        );
        // Readable on a phone, and sites by name and township, never by internal id.
        assert!(html.contains("<meta name=\"viewport\" content=\"width=device-width"));
        assert!(!html.contains("point-"), "no internal ids");
        assert!(html.contains("东岭镇"), "the township of P1");
        assert!(all_stops[0]["township"].is_string(), "{}", all_stops[0]);

        // The CSV opens in Excel with its names: a byte-order mark, like every CSV.
        let bytes = app
            .client
            .get(app.url(&format!("/api/v1/plans/{id}/export?format=csv")))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(
            bytes.starts_with("\u{feff}日期,".as_bytes()),
            "a byte-order mark"
        );

        // In English by Accept-Language, or by `lang` (which wins over the header).
        for (query, accept) in [
            ("", "en-US,en;q=0.9"),
            ("&lang=en", "zh-CN"),
            ("&lang=en", ""),
        ] {
            let get = |format: &str| {
                app.client
                    .get(app.url(&format!("/api/v1/plans/{id}/export?format={format}{query}")))
                    .header("accept-language", accept)
                    .send()
            };
            let csv = get("csv").await.unwrap().text().await.unwrap();
            assert!(
                csv.starts_with(
                    "\u{feff}Date,Vehicle id,Vehicle,Stop,Site id,Site,Address,Arrive,"
                ),
                "{query} {accept}: {csv}"
            );
            let html = get("html").await.unwrap().text().await.unwrap();
            assert!(html.contains("<html lang=\"en\">"), "{query} {accept}");
            assert!(html.contains("<th>Arrive</th>") && html.contains("donors expected"));
            assert!(!html.contains("公里"), "no Chinese words: {html}");
            let ics = get("ics").await.unwrap().text().await.unwrap();
            assert!(
                ics.replace("\r\n ", "")
                    .contains("\\nCoordinator: 李医生 13800001111")
            );
        }
        // Chinese when asked, whatever the header says.
        let html = app
            .client
            .get(app.url(&format!("/api/v1/plans/{id}/export?format=html&lang=zh-CN")))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("<th>到达</th>"));
        let response = app
            .client
            .get(app.url(&format!("/api/v1/plans/{id}/export?format=csv&lang=fr")))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, "an unknown language").await;
        assert_eq!(problem["errors"][0]["field"], "lang");

        let response = app
            .client
            .get(app.url(&format!("/api/v1/plans/{id}/export?format=pdf")))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, "an unknown format").await;
        assert_eq!(problem["errors"][0]["field"], "format");
        app
    })
    .await;
}

#[tokio::test]
async fn plan_requests_are_validated_field_by_field() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let with = |changes: Value| {
            let mut body = base_request();
            for (k, v) in changes.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        let cases = [
            (
                with(json!({"to": "2026-12-01"})),
                400,
                "to",
                "to before from",
            ),
            (
                with(json!({"to": "2027-02-05"})),
                400,
                "to",
                "more than 60 days",
            ),
            (
                with(json!({"region": "12"})),
                400,
                "region",
                "a malformed region",
            ),
            (
                with(json!({"region": "990199000000"})),
                400,
                "region",
                "an unknown region",
            ),
            (
                with(json!({"vehicles": [net.vehicles[0], 999999]})),
                400,
                "vehicles[1]",
                "an unknown vehicle",
            ),
            (
                with(json!({"fixed": [{"site": "point-999999", "date": "2026-12-08"}]})),
                400,
                "fixed[0].site",
                "an unknown site",
            ),
            (
                with(json!({"fixed": [{"site": net.site(1), "date": "2026-12-20"}]})),
                400,
                "fixed[0].date",
                "a fixed stop outside the plan",
            ),
            (
                with(json!({"forbidden": [{"site": "region-990101101202"}]})),
                400,
                "forbidden[0].site",
                "an unserved village without points_and_unserved",
            ),
            (
                with(json!({"time_limit_secs": 500})),
                400,
                "time_limit_secs",
                "too long a time limit",
            ),
            (
                with(json!({"candidates": "all"})),
                400,
                "candidates",
                "an unknown candidate set",
            ),
            (
                with(json!({"colour": "red"})),
                400,
                "colour",
                "an unknown member",
            ),
            (
                with(
                    json!({"travel": {"model": "matrix", "ids": ["a", "b"], "km": [[0.0]],
                                       "minutes": [[0.0, 1.0], [1.0, 0.0]]}}),
                ),
                422,
                "travel.km",
                "a travel matrix of the wrong size",
            ),
        ];
        for (body, status, field, what) in cases {
            let response = app
                .client
                .post(app.url("/api/v1/plans"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let problem = expect_problem(response, status, what).await;
            let fields: Vec<&str> = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert!(fields.contains(&field), "{what}: {problem}");
        }
        // Nothing was stored.
        assert_eq!(app.get_ok("/api/v1/plans").await["items"], json!([]));
        app
    })
    .await;
}

#[tokio::test]
async fn a_travel_matrix_with_one_id_short_is_a_fault_of_ids_naming_the_length() {
    on_each_backend(|app| async move {
        network(&app).await;
        let mut body = base_request();
        // Both matrices are 3 x 3 and agree; the list of ids is one short.
        let three = json!([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]]);
        body["travel"] = json!({"model": "matrix", "ids": ["a", "b"], "km": three,
                                "minutes": three});
        let response = app
            .client
            .post(app.url("/api/v1/plans"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 422, "a short ids list").await;
        assert_eq!(problem["errors"][0]["field"], "travel.ids", "{problem}");
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("3 ids expected"), "{message}");
        assert!(message.contains("got 2"), "{message}");
        assert_eq!(app.get_ok("/api/v1/plans").await["items"], json!([]));
        app
    })
    .await;
}

#[tokio::test]
async fn the_command_line_and_the_api_default_to_the_same_time_limit() {
    use crate::cli::{donornet, stdout_of_success};
    on_each_backend(|app| async move {
        network(&app).await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let api_default = plan["request"]["time_limit_secs"].as_u64().unwrap();
        let help = stdout_of_success(&donornet().args(["plan", "--help"]).output().unwrap());
        let option = help
            .split("--time-limit")
            .nth(1)
            .expect("--time-limit in plan --help");
        let option = &option[..option.find("\n  -").unwrap_or(option.len())];
        assert!(
            option.contains(&format!("[default: {api_default}]")),
            "the API defaults to {api_default} s; plan --help says: {option}"
        );
        app
    })
    .await;
}

/// `plan --exact` on a travel matrix where the shortest order does not fit the day: from the
/// station, A then B is 3 km but 300 minutes, B then A 6 km and 30 minutes; each stop takes
/// 60 minutes and the day 240. The optimum makes both stops, the quicker way round.
#[test]
fn exact_on_a_matrix_finds_the_order_that_keeps_the_day() {
    use crate::cli::{donornet, stdout_of_success};
    let site = |id: &str| json!({"id": id, "lon": 114.0, "lat": 33.6, "expected": [10.0]});
    let instance = json!({
        "format": "donornet.plan-instance.v1",
        "days": ["2026-12-08"],
        "stations": [{"id": "st", "lon": 114.0, "lat": 33.6}],
        "vehicles": [{"id": "v1", "station": "st", "beds": 5, "max_donors": 150,
                      "day_start": "08:00", "day_end": "12:00", "setup_min": 20,
                      "teardown_min": 10, "cost_per_km": 3.0}],
        "sites": [site("A"), site("B")],
        "travel": {"model": "matrix", "ids": ["st", "A", "B"],
                   "km": [[0, 1, 2], [2, 0, 1], [1, 2, 0]],
                   "minutes": [[0, 100, 10], [10, 0, 100], [100, 10, 0]]}
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("instance.json");
    std::fs::write(&file, instance.to_string()).unwrap();
    let out = donornet()
        .args(["plan", "--exact", "--instance"])
        .arg(&file)
        .output()
        .unwrap();
    let plan: Value = serde_json::from_str(&stdout_of_success(&out)).unwrap();
    let stops: Vec<&str> = plan["routes"][0]["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["site"].as_str().unwrap())
        .collect();
    assert_eq!(stops, ["B", "A"], "{plan}");
    // 20 donors x 400 mL, less 6 km x 3 yuan x 1.5 mL a yuan.
    let objective = plan["totals"]["objective"].as_f64().unwrap();
    assert!((objective - 7973.0).abs() < 0.01, "{plan}");
}

#[tokio::test]
async fn only_staff_make_plans_and_plans_stay_within_reach() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let staff = app.client_for("staff", "station_staff", &[CITY]).await;
        let official = app
            .client_for("official", "township_official", &[DONGLING])
            .await;
        let viewer = app.client_for("viewer", "viewer", &[COUNTY]).await;
        let elsewhere = app.client_for("xihe.staff", "station_staff", &[XIHE]).await;

        let plan = make_plan(&app, &staff, &base_request()).await;
        let id = plan["id"].as_i64().unwrap();
        assert_eq!(plan["created_by"], "staff (token: tests)");
        for (client, body, status, what) in [
            (
                &official,
                base_request(),
                403,
                "an official, for the county",
            ),
            (
                &official,
                json!({"region": DONGLING, "from": "2026-12-07", "to": "2026-12-11"}),
                403,
                "an official, for its own township",
            ),
            (&viewer, base_request(), 403, "a viewer"),
            (&elsewhere, base_request(), 404, "staff of another township"),
            (&app.anonymous, base_request(), 401, "anonymous"),
        ] {
            let response = client
                .post(app.url("/api/v1/plans"))
                .json(&body)
                .send()
                .await
                .unwrap();
            expect_problem(response, status, what).await;
        }
        // Reading follows the read scope; the instance holds the fleet's data, and the
        // station (the city's) is beyond the county's viewer and official.
        let path = format!("/api/v1/plans/{id}");
        for (client, status, instance) in [
            (&staff, 200, 200),
            (&viewer, 200, 403),
            (&official, 200, 403),
            (&elsewhere, 404, 404),
        ] {
            for (p, status) in [
                (path.clone(), status),
                (format!("{path}/instance"), instance),
                (format!("{path}/export?format=html"), status),
            ] {
                let got = client
                    .get(app.url(&p))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                assert_eq!(got, status, "{p}");
            }
        }
        let (status, _) = post(
            &app,
            &elsewhere,
            "/api/v1/plans/check",
            &json!({"plan_id": id, "routes": []}),
        )
        .await;
        assert_eq!(status, 404);
        let listed: Value = elsewhere
            .get(app.url("/api/v1/plans"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["items"], json!([]));
        let listed: Value = viewer
            .get(app.url("/api/v1/plans"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["items"][0]["id"], id);
        // A coordinator homed outside the viewer's reach shows with the phone masked.
        let seen: Value = viewer
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let p2 = stops(&seen)
            .into_iter()
            .find(|s| s["site"] == net.site(2))
            .unwrap();
        assert_eq!(p2["coordinators"][0]["mobile"], "139****2222");
        let p1 = stops(&seen)
            .into_iter()
            .find(|s| s["site"] == net.site(1))
            .unwrap();
        assert_eq!(p1["coordinators"][0]["mobile"], "13800001111");
        app
    })
    .await;
}

#[tokio::test]
async fn export_instance_writes_the_instance_the_api_solved() {
    use crate::cli::{donornet, stdout_of_success};
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let mut body = base_request();
        body["candidates"] = json!("points_and_unserved");
        body["fixed"] =
            json!([{"site": net.site(2), "date": "2026-12-11", "vehicle": net.vehicles[0]}]);
        let plan = make_plan(&app, &app.client, &body).await;
        let stored = app
            .get_ok(&format!("/api/v1/plans/{}/instance", plan["id"]))
            .await;
        let dir = tempfile::tempdir().unwrap();
        let request = dir.path().join("request.json");
        std::fs::write(&request, body.to_string()).unwrap();
        let out = donornet()
            .args(["plan", "--export-instance"])
            .arg(&request)
            .args(["--database-url", &app.database.url])
            .output()
            .unwrap();
        let written: Value = serde_json::from_str(&stdout_of_success(&out)).unwrap();
        assert_eq!(written, stored);
        // --out, and the file solves with --instance.
        let file = dir.path().join("instance.json");
        let out = donornet()
            .args(["plan", "--export-instance"])
            .arg(&request)
            .arg("--out")
            .arg(&file)
            .args(["--database-url", &app.database.url])
            .output()
            .unwrap();
        stdout_of_success(&out);
        let solved = donornet()
            .args(["plan", "--iterations", "300", "--instance"])
            .arg(&file)
            .output()
            .unwrap();
        let solved: Value = serde_json::from_str(&stdout_of_success(&solved)).unwrap();
        assert_eq!(
            solved["routes"].as_array().unwrap().len(),
            plan["result"]["routes"].as_array().unwrap().len()
        );
        // An unknown region is refused, naming it; the two modes exclude each other.
        std::fs::write(
            &request,
            json!({"region": "990199000000", "from": "2026-12-07", "to": "2026-12-11"}).to_string(),
        )
        .unwrap();
        let out = donornet()
            .args(["plan", "--export-instance"])
            .arg(&request)
            .args(["--database-url", &app.database.url])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("region: no region with code 990199000000"),
            "{stderr}"
        );
        let out = donornet()
            .args(["plan", "--export-instance"])
            .arg(&request)
            .arg("--instance")
            .arg(&file)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let out = donornet().args(["plan"]).output().unwrap();
        assert!(!out.status.success(), "one of the two modes is required");
        app
    })
    .await;
}

#[tokio::test]
async fn serve_marks_plans_cut_off_by_a_stop_failed() {
    use crate::cli::Server;
    use crate::helpers::{TestDb, backends};
    use donornet::store::plans::{self, NewPlan};
    for backend in backends() {
        let db = TestDb::create(backend).await;
        let conn = db.connect().await;
        donornet::seed::load_demo_divisions(&conn).await.unwrap();
        let mut ids = Vec::new();
        for _ in 0..3 {
            let plan = plans::insert(
                &conn,
                NewPlan {
                    region_code: COUNTY.to_owned(),
                    request: "{}".to_owned(),
                    instance: "{}".to_owned(),
                    seed: 1,
                    created_by: None,
                },
                chrono::Utc::now(),
            )
            .await
            .unwrap();
            ids.push(plan.id);
        }
        plans::set_running(&conn, ids[1]).await.unwrap();
        plans::set_done(&conn, ids[2], "{}".to_owned(), 1.0, chrono::Utc::now())
            .await
            .unwrap();
        let server = Server::start(&db.url, &[]).await;
        for (id, status) in [(ids[0], "failed"), (ids[1], "failed"), (ids[2], "done")] {
            let row = plans::find(&conn, id).await.unwrap().unwrap();
            assert_eq!(row.status, status, "{backend:?}: plan {id}");
            if status == "failed" {
                assert_eq!(row.error.as_deref(), Some("interrupted by a restart"));
                assert!(row.finished_at.is_some());
            }
        }
        assert!(server.terminate().await);
        conn.close().await.unwrap();
        db.drop_database().await;
    }
}

#[tokio::test]
async fn the_plans_migration_rolls_back_and_reapplies() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    on_each_backend(|app| async move {
        let db = app.schema_connection().await;
        network(&app).await;
        make_plan(&app, &app.client, &base_request()).await;
        let applied = Migrator::get_applied_migrations(&db).await.unwrap();
        let at = applied
            .iter()
            .position(|m| m.name() == "m20261126_000007_create_plans")
            .expect("the plans migration is applied");
        let steps = (applied.len() - at) as u32;
        Migrator::down(&db, Some(steps)).await.expect("down");
        assert!(db.execute_unprepared("SELECT id FROM plans").await.is_err());
        assert!(
            db.execute_unprepared("SELECT id FROM vehicles")
                .await
                .is_ok()
        );
        Migrator::up(&db, None).await.expect("up again");
        assert_eq!(app.get_ok("/api/v1/plans").await["items"], json!([]));
        app
    })
    .await;
}

#[tokio::test]
async fn csv_exports_neutralise_formulas_and_absurd_numbers_are_refused() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let evil = app
            .create_point(&json!({"name": "=HYPERLINK(\"http://evil.example\",\"x\")",
                                  "kind": "village", "region_code": "990101101202",
                                  "address": "+1-2@3", "longitude": 114.0458,
                                  "latitude": 33.6726, "status": "active"}))
            .await;
        let site = format!("point-{}", evil["id"]);
        let mut body = base_request();
        body["fixed"] = json!([{"site": site, "date": "2026-12-08"}]);
        let plan = make_plan(&app, &app.client, &body).await;
        let id = plan["id"].as_i64().unwrap();
        let response = app
            .client
            .get(app.url(&format!("/api/v1/plans/{id}/export?format=csv")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let text = response.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let row = rows.iter().find(|r| r[4] == site).expect("the fixed stop");
        assert_eq!(&row[5], "'=HYPERLINK(\"http://evil.example\",\"x\")");
        assert_eq!(&row[6], "'+1-2@3");
        for row in &rows {
            for cell in row {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@']),
                    "a cell starts a formula: {cell}"
                );
            }
        }
        let p1 = rows.iter().find(|r| r[4] == net.site(1)).unwrap();
        assert_eq!(&p1[5], "东岭村献血点", "plain text is left alone");

        // Travel numbers so large that every total overflows are refused, naming the field.
        for (travel, field) in [
            (
                json!({"model": "straight_line", "detour": 1e308, "speed_kmh": 40}),
                "travel.detour",
            ),
            (
                json!({"model": "straight_line", "detour": 1.3, "speed_kmh": 1e-300}),
                "travel.speed_kmh",
            ),
        ] {
            let mut body = base_request();
            body["travel"] = travel;
            let response = app
                .client
                .post(app.url("/api/v1/plans"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let problem = expect_problem(response, 400, field).await;
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
        let listed = app.get_ok("/api/v1/plans").await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");

        // So are an inline instance's.
        let instance = app.get_ok(&format!("/api/v1/plans/{id}/instance")).await;
        for (path, value, field) in [
            (
                "/vehicles/0/setup_min",
                json!(1e308),
                "instance.vehicles[0].setup_min",
            ),
            (
                "/vehicles/0/cost_per_km",
                json!(1e300),
                "instance.vehicles[0].cost_per_km",
            ),
            (
                "/rules/ml_per_yuan",
                json!(1e308),
                "instance.rules.ml_per_yuan",
            ),
            ("/travel/detour", json!(1e308), "instance.travel.detour"),
        ] {
            let mut instance = instance.clone();
            *instance.pointer_mut(path).unwrap() = value;
            let (status, problem) = post(
                &app,
                &app.client,
                "/api/v1/plans/check",
                &json!({"instance": instance, "routes": plan["result"]["routes"]}),
            )
            .await;
            assert_eq!(status, 422, "{field}: {problem}");
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
        // And the fields of format v2.
        let days = instance["days"].as_array().unwrap().len();
        for (member, value, field) in [
            (
                "value",
                json!(vec![1e300; days]),
                "instance.sites[0].value[0]",
            ),
            (
                "extra_service_min",
                json!(1e308),
                "instance.sites[0].extra_service_min",
            ),
        ] {
            let mut instance = instance.clone();
            instance["sites"][0][member] = value;
            let (status, problem) = post(
                &app,
                &app.client,
                "/api/v1/plans/check",
                &json!({"instance": instance, "routes": plan["result"]["routes"]}),
            )
            .await;
            assert_eq!(status, 422, "{field}: {problem}");
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn dates_outside_the_lunar_calendar_are_refused() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        for date in [
            "9999-12-31",
            "1900-06-01",
            "1901-02-18",
            "2101-01-29",
            "0001-01-01",
        ] {
            let response = app
                .client
                .get(app.url(&format!(
                    "/api/v1/forecast?site={}&date={date}",
                    net.site(1)
                )))
                .send()
                .await
                .unwrap();
            let problem = expect_problem(response, 400, date).await;
            assert_eq!(problem["errors"][0]["field"], "date", "{problem}");
        }
        let edge = app
            .get_ok(&format!(
                "/api/v1/forecast?site={}&date=2101-01-28",
                net.site(1)
            ))
            .await;
        assert_eq!(edge["date"], "2101-01-28");
        let mut body = base_request();
        body["from"] = json!("2101-01-20");
        body["to"] = json!("2101-02-03");
        let (status, problem) = post(&app, &app.client, "/api/v1/plans", &body).await;
        assert_eq!(status, 400, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "to", "{problem}");
        app
    })
    .await;
}

/// The decimals a JSON number is written with.
fn decimals(n: &Value) -> usize {
    let text = n.to_string();
    text.split_once('.').map_or(0, |(_, f)| f.len())
}

/// Every number under a member named one of `names`, at any depth.
fn numbers_named<'a>(value: &'a Value, names: &[&str], out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if names.contains(&k.as_str()) && v.is_number() {
                    out.push((k.clone(), v));
                }
                numbers_named(v, names, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| numbers_named(v, names, out)),
        _ => {}
    }
}

#[tokio::test]
async fn plans_and_points_carry_no_floating_point_noise() {
    on_each_backend(|app| async move {
        network(&app).await;
        // GCJ-02 input is converted: the converted degrees carry noise inside.
        let point = app
            .create_point(&json!({"name": "噪声村献血点", "kind": "village",
                                  "region_code": "990101101201", "longitude": 114.0185,
                                  "latitude": 33.6712, "crs": "gcj02", "status": "active"}))
            .await;
        let id = point["id"].as_i64().unwrap();
        for shown in [
            point.clone(),
            app.get_ok(&format!("/api/v1/points/{id}")).await,
        ] {
            for member in ["longitude", "latitude"] {
                assert!(decimals(&shown[member]) <= 7, "{member}: {}", shown[member]);
            }
        }
        let geojson = app.get_ok("/api/v1/points.geojson").await;
        let feature = geojson["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .unwrap();
        for n in feature["geometry"]["coordinates"].as_array().unwrap() {
            assert!(decimals(n) <= 7, "GeoJSON: {n}");
        }
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let mut found = Vec::new();
        numbers_named(&plan, &["km", "ml", "objective", "cost_ml"], &mut found);
        assert!(found.iter().any(|(k, _)| k == "km"), "{plan}");
        for (name, n) in &found {
            assert!(decimals(n) <= 1, "{name}: {n}");
        }
        let mut found = Vec::new();
        numbers_named(&plan, &["longitude", "latitude"], &mut found);
        assert!(!found.is_empty());
        for (name, n) in &found {
            assert!(decimals(n) <= 7, "{name}: {n}");
        }
        // The forecast of the GCJ-02 point: its coordinates and the villages' distances.
        let forecast = app
            .get_ok(&format!("/api/v1/forecast?site=point-{id}&date=2027-01-19"))
            .await;
        let mut found = Vec::new();
        numbers_named(&forecast, &["longitude", "latitude"], &mut found);
        assert!(!found.is_empty(), "{forecast}");
        for (name, n) in &found {
            assert!(decimals(n) <= 7, "forecast {name}: {n}");
        }
        let mut found = Vec::new();
        numbers_named(&forecast, &["distance_km"], &mut found);
        assert!(!found.is_empty(), "{forecast}");
        for (name, n) in &found {
            assert!(decimals(n) <= 1, "forecast {name}: {n}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn a_vehicle_already_out_on_a_day_is_not_planned_on_it_so_the_plan_can_be_accepted() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        // Without drives: the plan uses each vehicle on some days.
        let free = make_plan(&app, &app.client, &base_request()).await;
        let used: Vec<(String, String)> = free["result"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["vehicle"].as_str().unwrap().to_owned(),
                    r["date"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(!used.is_empty(), "{free}");
        // A drive already made for the first of those vehicle-days (by hand, not from a plan).
        let (vehicle, day) = used[0].clone();
        let vehicle_id: i64 = vehicle.trim_start_matches("vehicle-").parse().unwrap();
        assert!(net.vehicles.contains(&vehicle_id));
        let made = app
            .client
            .post(app.url("/api/v1/drives"))
            .json(
                &json!({"vehicle_id": vehicle_id, "date": day, "region": COUNTY,
                    "stops": [{"site": net.site(1), "planned_start": "09:00",
                               "planned_end": "11:30", "expected_donors": 20.0}]}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            made.status().as_u16(),
            201,
            "{}",
            made.text().await.unwrap()
        );

        let plan = make_plan(&app, &app.client, &base_request()).await;
        let id = plan["id"].as_i64().unwrap();
        let instance = app.get_ok(&format!("/api/v1/plans/{id}/instance")).await;
        let v = instance["vehicles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == vehicle.as_str())
            .unwrap();
        assert_eq!(v["unavailable"], json!([day]), "{v}");
        for r in plan["result"]["routes"].as_array().unwrap() {
            assert!(
                !(r["vehicle"] == vehicle.as_str() && r["date"] == day.as_str()),
                "{vehicle} planned on {day}, where it already has a drive: {r}"
            );
        }
        // So the plan can be accepted: every route becomes a drive.
        let accepted = app
            .client
            .post(app.url(&format!("/api/v1/plans/{id}/accept")))
            .send()
            .await
            .unwrap();
        let status = accepted.status().as_u16();
        let body: Value = accepted.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_plan_on_a_station_beyond_the_readers_area_is_not_theirs_to_accept() {
    on_each_backend(|app| async move {
        network(&app).await;
        // The station is the city's; staff of the county read the county's plans but not the
        // station, so its vehicles are not theirs to send out.
        let county_staff = app
            .client_for("county.staff", "station_staff", &[COUNTY])
            .await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let id = plan["id"].as_i64().unwrap();
        let read = county_staff
            .get(app.url(&format!("/api/v1/plans/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(read.status().as_u16(), 200);
        let refused = county_staff
            .post(app.url(&format!("/api/v1/plans/{id}/accept")))
            .send()
            .await
            .unwrap();
        expect_problem(refused, 403, "vehicles of a station beyond the county").await;
        let drives = app.get_ok("/api/v1/drives").await;
        assert_eq!(drives["items"], json!([]), "{drives}");
        // Staff of the city accept it.
        let accepted = app
            .client
            .post(app.url(&format!("/api/v1/plans/{id}/accept")))
            .send()
            .await
            .unwrap();
        assert_eq!(accepted.status().as_u16(), 201);
        app
    })
    .await;
}
