//! Plans that weigh blood groups (issue 17): the forecast's `value` shows each village's
//! expected blood-group mix, from the donations recorded there (shrunk toward the
//! deployment's mix) or the prior when none are, and with no days of supply known every
//! weight and the factor are 1. The expected mixes are computed here from the donations the
//! test records. The network is the planning tests' (`crate::plans::network`).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, ok_json, on_each_backend, send};
use crate::plans::{COUNTY, Network, network};

/// 东岭村委会, P1's village.
pub(crate) const P1_VILLAGE: &str = "990101101201";
/// 东岭社区, P4's village.
const P4_VILLAGE: &str = "990101101006";

/// The default mix's ABO shares (A, B, AB, O) and Rh-negative share (README, "Turnout").
const DEFAULT_ABO: [(&str, f64); 4] = [("A", 0.28), ("B", 0.31), ("AB", 0.10), ("O", 0.31)];
const RH_NEGATIVE: f64 = 0.004;
const K: f64 = 20.0;

fn default_share(group: &str) -> f64 {
    let (abo, rh) = group.split_at(group.len() - 1);
    let share = DEFAULT_ABO.iter().find(|(a, _)| *a == abo).unwrap().1;
    if rh == "-" {
        share * RH_NEGATIVE
    } else {
        share * (1.0 - RH_NEGATIVE)
    }
}

const GROUPS: [&str; 8] = ["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"];

/// `(count + k x prior) / (n + k)` for `group`, with `counts` as `(group, count)`.
fn shrunk(counts: &[(&str, u32)], group: &str, prior: impl Fn(&str) -> f64) -> f64 {
    let n: u32 = counts.iter().map(|(_, c)| c).sum();
    let c = counts
        .iter()
        .filter(|(g, _)| *g == group)
        .map(|(_, c)| *c)
        .sum::<u32>();
    (f64::from(c) + K * prior(group)) / (f64::from(n) + K)
}

fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap() - b).abs() < 1e-9
}

/// A completed drive at P1 on `date` with one check-in per body, as admin.
pub(crate) async fn completed_drive(app: &TestApp, net: &Network, date: &str, donors: &[Value]) {
    let body = json!({"vehicle_id": net.vehicles[0], "date": date, "region": COUNTY,
        "stops": [{"site": net.site(1), "planned_start": "08:00", "planned_end": "12:00",
                   "expected_donors": 10}]});
    let response = send(
        app,
        &app.client,
        Method::POST,
        "/api/v1/drives",
        Some(&body),
        None,
    )
    .await;
    let mut drive = ok_json(response, 201, "making a drive").await;
    app.set_today(date);
    let stop = drive["stops"][0]["id"].as_i64().unwrap();
    for (i, step) in ["published", "in_progress", "completed"].iter().enumerate() {
        if i == 2 {
            for body in donors {
                let response = send(
                    app,
                    &app.client,
                    Method::POST,
                    &format!("/api/v1/stops/{stop}/attendances"),
                    Some(body),
                    None,
                )
                .await;
                ok_json(response, 201, &format!("checking in {body}")).await;
            }
        }
        let response = send(
            app,
            &app.client,
            Method::POST,
            &format!("/api/v1/drives/{}/transition", drive["id"]),
            Some(&json!({"to": step})),
            Some(&format!("\"{}\"", drive["version"])),
        )
        .await;
        drive = ok_json(response, 200, &format!("moving to {step}")).await;
    }
}

pub(crate) fn donor(k: usize, village: Option<&str>, group: Option<&str>) -> Value {
    let mut body = json!({"name": format!("donor {k}"), "outcome": "donated", "volume_ml": 400});
    if let Some(v) = village {
        body["village_code"] = json!(v);
    }
    if let Some(g) = group {
        let (abo, rh) = g.split_at(g.len() - 1);
        body["abo"] = json!(abo);
        body["rh"] = json!(rh);
    }
    body
}

/// The city's station short of O+ (a sheet of 1 unit against 2 a day: half a day of supply,
/// below the default red level of 1 day) after a completed drive at P1 where six donors of P1's
/// village gave, four of them O+. Returns the station's id.
pub(crate) async fn short_of_o_positive(app: &TestApp, net: &Network) -> i64 {
    let donors: Vec<Value> = ["O+", "O+", "O+", "O+", "A-", "A-"]
        .iter()
        .enumerate()
        .map(|(k, g)| donor(k, Some(P1_VILLAGE), Some(g)))
        .collect();
    completed_drive(app, net, "2026-12-01", &donors).await;
    let vehicle = app
        .get_ok(&format!("/api/v1/vehicles/{}", net.vehicles[0]))
        .await;
    let station = vehicle["station_id"].as_i64().unwrap();
    let path = format!("/api/v1/stations/{station}/inventory");
    let current = app.get_ok(&path).await;
    let rows = json!({"rows": [{"component": "red_cells", "blood_group": "O+", "units": 1,
        "ml": 200, "daily_use_units": 2.0}]});
    let response = send(
        app,
        &app.client,
        Method::PUT,
        &path,
        Some(&rows),
        Some(&format!("\"{}\"", current["version"])),
    )
    .await;
    ok_json(response, 200, "posting the sheet").await;
    station
}

fn village<'a>(forecast: &'a Value, code: &str) -> &'a Value {
    forecast["value"]["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {}", forecast["value"]))
}

#[tokio::test]
async fn the_forecast_shows_each_villages_blood_group_mix_from_recorded_results() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let path = format!("/api/v1/forecast?site={}&date=2026-12-10", net.site(1));

        // Nothing recorded: every village has the prior, which is the built-in mix.
        let before = app.get_ok(&path).await;
        let value = &before["value"];
        assert_eq!(value["prior_results"], 0, "{value}");
        assert_eq!(value["shrink_k"], K);
        for g in GROUPS {
            assert!(close(&value["prior"][g], default_share(g)), "{g}: {value}");
        }
        let v = village(&before, P1_VILLAGE);
        assert_eq!(
            (v["source"].as_str(), v["results"].as_u64()),
            (Some("prior"), Some(0))
        );
        assert_eq!(v["mix"], value["prior"]);
        // No days of supply: every weight 1, the factor 1, the value plain mL.
        let weights = value["weights"].as_array().unwrap();
        assert_eq!(weights.len(), 8);
        for w in weights {
            assert_eq!(
                (w["weight"].as_f64(), w["level"].as_str()),
                (Some(1.0), Some("unknown")),
                "{w}"
            );
            assert_eq!(w["days"], Value::Null);
        }
        assert!(close(&value["factor"], 1.0));
        let total = before["total"].as_f64().unwrap();
        assert!(total > 0.0);
        assert!(close(
            &value["value_ml"],
            total * value["ml_per_donor"].as_f64().unwrap()
        ));
        let shown: usize = before["villages"].as_array().unwrap().len();
        assert_eq!(value["villages"].as_array().unwrap().len(), shown);

        // P1's village: 4 O+ and 2 A-; one donor of it with no group recorded; P4's village
        // one B+; someone of no recorded village one AB+; a deferral, not a donation.
        let p1 = [("O+", 4), ("A-", 2)];
        let mut donors = Vec::new();
        for (g, n) in p1 {
            for _ in 0..n {
                donors.push(donor(donors.len(), Some(P1_VILLAGE), Some(g)));
            }
        }
        donors.push(donor(donors.len(), Some(P1_VILLAGE), None));
        donors.push(donor(donors.len(), Some(P4_VILLAGE), Some("B+")));
        donors.push(donor(donors.len(), None, Some("AB+")));
        donors.push(json!({"name": "deferred", "village_code": P1_VILLAGE,
                           "outcome": "deferred", "deferral_category": "weight"}));
        completed_drive(&app, &net, "2026-12-01", &donors).await;

        let after = app.get_ok(&path).await;
        let value = &after["value"];
        let all = [("O+", 4), ("A-", 2), ("B+", 1), ("AB+", 1)];
        assert_eq!(value["prior_results"], 8, "{value}");
        let prior = |g: &str| shrunk(&all, g, default_share);
        for g in GROUPS {
            assert!(close(&value["prior"][g], prior(g)), "{g}: {value}");
        }
        let v = village(&after, P1_VILLAGE);
        assert_eq!(
            (v["source"].as_str(), v["results"].as_u64()),
            (Some("village"), Some(6)),
            "{v}"
        );
        for g in GROUPS {
            assert!(close(&v["mix"][g], shrunk(&p1, g, prior)), "{g}: {v}");
        }
        // Six results move the village's O+ share part of the way from the prior.
        let o = v["mix"]["O+"].as_f64().unwrap();
        assert!(prior("O+") < o && o < 4.0 / 6.0, "{v}");
        // Villages without results keep the prior.
        for other in value["villages"].as_array().unwrap() {
            if other["code"] != P1_VILLAGE {
                assert_eq!(other["source"], "prior", "{other}");
                assert_eq!(other["mix"], value["prior"], "{other}");
            }
        }
        // The site's mix: the villages' weighted by their expected donors.
        let villages = value["villages"].as_array().unwrap();
        let sum: f64 = villages
            .iter()
            .map(|v| v["expected"].as_f64().unwrap())
            .sum();
        assert_eq!(
            after["outside"]["villages"], 0,
            "the admin reads every village"
        );
        for g in GROUPS {
            let weighted: f64 = villages
                .iter()
                .map(|v| v["expected"].as_f64().unwrap() * v["mix"][g].as_f64().unwrap())
                .sum();
            assert!(close(&value["mix"][g], weighted / sum), "{g}: {value}");
        }
        assert!(close(&value["factor"], 1.0), "still no days of supply");
        app
    })
    .await;
}

/// The station's whole blood of `group` at `units` with `daily` units used a day (posted with
/// the current version).
async fn post_stock(app: &TestApp, station: i64, group: &str, units: u32, daily: f64) {
    let path = format!("/api/v1/stations/{station}/inventory");
    let current = app.get_ok(&path).await;
    let rows = json!({"rows": [{"component": "whole_blood", "blood_group": group,
        "units": units, "ml": units * 200, "daily_use_units": daily}]});
    let response = send(
        app,
        &app.client,
        Method::PUT,
        &path,
        Some(&rows),
        Some(&format!("\"{}\"", current["version"])),
    )
    .await;
    ok_json(response, 200, "posting the stock").await;
}

#[tokio::test]
async fn a_short_group_weighs_its_villages_in_the_forecast_and_the_plans_values() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        // P1's village gives O+ (6 of 6 recorded donations); the deployment some of each.
        let mut donors: Vec<Value> = (0..6)
            .map(|k| donor(k, Some(P1_VILLAGE), Some("O+")))
            .collect();
        donors.push(donor(6, Some(P4_VILLAGE), Some("B+")));
        donors.push(donor(7, Some(P4_VILLAGE), Some("A+")));
        completed_drive(&app, &net, "2026-12-01", &donors).await;
        let path = format!(
            "/api/v1/forecast?site={}&date=2026-12-10&vehicle={}",
            net.site(1),
            net.vehicles[0]
        );
        let plain = app.get_ok(&path).await;
        assert!(close(&plain["value"]["factor"], 1.0), "{}", plain["value"]);

        // The station runs short of O+: half a day of supply, below red (1 day).
        let station = app.get_ok("/api/v1/stations").await["items"][0]["id"]
            .as_i64()
            .unwrap();
        post_stock(&app, station, "O+", 10, 20.0).await;
        let short = app.get_ok(&path).await;
        let value = &short["value"];
        let o = value["weights"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["blood_group"] == "O+" || w["group"] == "O+")
            .unwrap_or_else(|| panic!("O+ in {value}"));
        assert_eq!(o["level"], "red", "{o}");
        // Linear from 2 at red (1 day) to 3 at none: 2.5 at half a day.
        assert!(close(&o["weight"], 2.5), "{o}");
        assert!(close(&o["days"], 0.5), "{o}");
        let mix_o = value["mix"]["O+"].as_f64().unwrap();
        let factor = value["factor"].as_f64().unwrap();
        assert!((factor - (1.0 + 1.5 * mix_o)).abs() < 1e-9, "{value}");
        let total = short["total"].as_f64().unwrap();
        assert!(close(&value["value_ml"], total * 400.0 * factor), "{value}");

        // A township official reads the forecast but not the station's figures: no group
        // weighs anything for them, and no days are shown.
        let token = crate::helpers::user_with_token(
            &app.db,
            "township",
            "township_official",
            &[COUNTY],
            None,
        )
        .await;
        let official = crate::helpers::bearer_client(&token);
        let theirs_path = format!("/api/v1/forecast?site={}&date=2026-12-10", net.site(1));
        let response = send(&app, &official, Method::GET, &theirs_path, None, None).await;
        let theirs = ok_json(response, 200, "the official's forecast").await;
        assert!(
            close(&theirs["value"]["factor"], 1.0),
            "{}",
            theirs["value"]
        );
        for w in theirs["value"]["weights"].as_array().unwrap() {
            assert_eq!(
                (w["days"].clone(), w["weight"].as_f64()),
                (Value::Null, Some(1.0))
            );
        }

        // A plan's instance values each site by the same rule: P1, whose village gives O+,
        // is worth more per donor than the others.
        let plan = crate::plans::make_plan(&app, &app.client, &crate::plans::base_request()).await;
        let instance = app
            .get_ok(&format!("/api/v1/plans/{}/instance", plan["id"]))
            .await;
        let per_donor = |site: &str| -> f64 {
            let s = instance["sites"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == site)
                .unwrap_or_else(|| panic!("{site} in {instance}"));
            let (value, expected) = (&s["value"], &s["expected"]);
            let (v, e): (f64, f64) = value
                .as_array()
                .unwrap_or_else(|| panic!("{site} has no value: {s}"))
                .iter()
                .zip(expected.as_array().unwrap())
                .map(|(v, e)| (v.as_f64().unwrap(), e.as_f64().unwrap()))
                .fold((0.0, 0.0), |(a, b), (v, e)| (a + v, b + e));
            v / e / 400.0
        };
        let p1 = per_donor(&net.site(1));
        let p2 = per_donor(&net.site(2));
        assert!(p1 > p2 && p2 > 1.0, "P1 {p1}, P2 {p2}");
        // The plan's totals count that worth: its value exceeds its mL.
        let totals = &plan["result"]["totals"];
        assert!(
            totals["value"].as_f64().unwrap() > totals["ml"].as_f64().unwrap(),
            "{totals}"
        );
        app
    })
    .await;
}
