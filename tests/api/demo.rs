//! The demo data (`seed-data/`): the fictional county and its donation network, loaded once,
//! complete, through the API's rules, and ready to plan.

use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

const COUNTY: &str = "990101000000";

/// Rows of every table the demo writes, the audit log included.
pub(crate) async fn row_counts(db: &DatabaseConnection) -> [u64; 8] {
    [
        entity::region::Entity::find().count(db).await.unwrap(),
        entity::station::Entity::find().count(db).await.unwrap(),
        entity::vehicle::Entity::find().count(db).await.unwrap(),
        entity::point::Entity::find().count(db).await.unwrap(),
        entity::coordinator::Entity::find().count(db).await.unwrap(),
        entity::point_coordinator::Entity::find()
            .count(db)
            .await
            .unwrap(),
        entity::village_survey::Entity::find()
            .count(db)
            .await
            .unwrap(),
        entity::audit_log::Entity::find().count(db).await.unwrap(),
    ]
}

async fn items(app: &TestApp, path: &str) -> Vec<Value> {
    app.get_ok(path).await["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_demo_network_loads_once_complete_and_plans_at_once() {
    on_each_backend(|app| async move {
        assert!(donornet::seed::load_demo_if_empty(&app.db).await.unwrap());

        // One station at the demo city, two bloodmobiles.
        let stations = items(&app, &format!("/api/v1/stations?region={COUNTY}")).await;
        assert!(
            stations.is_empty(),
            "the station is the city's, not the county's"
        );
        let stations = items(&app, "/api/v1/stations?region=990100000000").await;
        assert_eq!(stations.len(), 1, "{stations:?}");
        assert_eq!(stations[0]["status"], "active");
        assert_eq!(stations[0]["created_by"], "demo data");
        let vehicles = items(&app, "/api/v1/vehicles?region=990100000000").await;
        assert_eq!(vehicles.len(), 2, "{vehicles:?}");
        for v in &vehicles {
            assert_eq!(v["station_id"], stations[0]["id"]);
            assert_eq!(
                (&v["beds"], &v["staff"], &v["max_donors_per_day"]),
                (&json!(5), &json!(6), &json!(150)),
                "{v}"
            );
            assert_eq!(
                (&v["day_start"], &v["day_end"]),
                (&json!("08:00"), &json!("17:00"))
            );
            assert_eq!(
                (&v["setup_min"], &v["teardown_min"]),
                (&json!(20), &json!(10))
            );
            assert_eq!(v["cost_per_km"], 3.0);
            assert!(v["plate"].as_str().unwrap().starts_with('演'), "{v}");
        }

        // Active points at three of the four townships and three villages, each with a
        // primary coordinator whose mobile is in the fictional 100… range.
        let points = items(&app, &format!("/api/v1/points?region={COUNTY}")).await;
        assert_eq!(points.len(), 6, "{points:?}");
        let kinds = |kind: &str| points.iter().filter(|p| p["kind"] == kind).count();
        assert_eq!((kinds("township"), kinds("village")), (3, 3));
        for p in &points {
            assert_eq!(p["status"], "active", "{p}");
            assert!(p["address"].is_string(), "{p}");
            assert_eq!(p["created_by"], "demo data");
            if p["kind"] == "township" {
                assert!(p["market_days"].is_string(), "{p}");
                assert_eq!(p["bloodmobile_parking"], true, "{p}");
            }
            let serving = app
                .get_ok(&format!("/api/v1/points/{}/coordinators", p["id"]))
                .await;
            let serving = serving.as_array().unwrap();
            assert_eq!(serving.len(), 1, "{p}: {serving:?}");
            assert_eq!(serving[0]["is_primary"], true);
            assert!(
                serving[0]["mobile"].as_str().unwrap().starts_with("100"),
                "{serving:?}"
            );
        }
        assert_eq!(items(&app, "/api/v1/coordinators?q=10099").await.len(), 6);

        // A current survey of every demo village.
        let villages = app
            .list_all(&format!("parent={COUNTY}&level=village"), 100)
            .await;
        assert_eq!(villages.len(), 22);
        for v in &villages {
            let history = app
                .get_ok(&format!(
                    "/api/v1/regions/{}/surveys",
                    v["code"].as_str().unwrap()
                ))
                .await;
            let history = history.as_array().unwrap();
            assert_eq!(history.len(), 1, "{}: {history:?}", v["code"]);
            assert_eq!(history[0]["current"], true);
            assert!(history[0]["eligible_total"].as_i64().unwrap() > 0);
        }
        // Every record is audited as the demo's (the test client's token aside).
        let audit = app.get_ok("/api/v1/audit?limit=500").await;
        let records: Vec<&Value> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["entity"] != "token")
            .collect();
        // A station, 2 vehicles, 6 points, 6 coordinators, 6 assignments, 22 surveys, and two
        // drives made and published.
        assert_eq!(records.len(), 1 + 2 + 6 + 6 + 6 + 22 + 2 + 2);
        // Those drives are on the public schedule, 3 and 10 days on, for donors to book.
        let schedule = app.get_ok("/api/v1/public/drives").await;
        let stops = schedule["items"].as_array().unwrap();
        assert_eq!(stops.len(), 2, "{schedule}");
        assert!(stops.iter().all(|s| s["places_left"].as_i64().unwrap() > 0));
        for r in records {
            assert_eq!(r["actor"], "demo data", "{}", r["entity"]);
        }

        // A second load changes nothing.
        let before = row_counts(&app.db).await;
        let again = donornet::seed::load_demo(&app.db).await.unwrap();
        assert!(again.divisions.changed_nothing());
        assert_eq!(again.network, None);
        assert!(
            again
                .to_string()
                .contains("nothing changed: the demo county already has"),
            "{again}"
        );
        assert!(!donornet::seed::load_demo_if_empty(&app.db).await.unwrap());
        assert_eq!(row_counts(&app.db).await, before);

        // The county plans at once: no station, vehicle, point or survey to create first.
        let response = app
            .client
            .post(app.url("/api/v1/plans"))
            .json(
                &json!({"region": COUNTY, "from": "2026-12-07", "to": "2026-12-11",
                          "iterations": 300}),
            )
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let mut plan: Value = response.json().await.unwrap();
        assert!(status == 201 || status == 202, "{status}: {plan}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while plan["status"] != "done" {
            assert!(
                plan["status"] == "queued" || plan["status"] == "running",
                "{plan}"
            );
            assert!(
                std::time::Instant::now() < deadline,
                "the plan never finished"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            plan = app.get_ok(&format!("/api/v1/plans/{}", plan["id"])).await;
        }
        let result = &plan["result"];
        assert!(!result["routes"].as_array().unwrap().is_empty(), "{result}");
        assert_eq!(result["violations"], json!([]), "{result}");
        assert_eq!(plan["request"]["vehicles"].as_array().unwrap().len(), 2);
        app
    })
    .await;
}
