//! Drives (issue 6, first step): accepting a plan into drafts, drives made by hand, the state
//! machine with `If-Match`, the audit trail and who may do what. The network is the planning
//! tests' (`crate::plans::network`).

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, on_each_backend, send};
use crate::plans::{COUNTY, DONGLING, XIHE, base_request, make_plan, network};

async fn accept(app: &TestApp, client: &Client, plan_id: i64) -> reqwest::Response {
    send(
        app,
        client,
        Method::POST,
        &format!("/api/v1/plans/{plan_id}/accept"),
        None,
        None,
    )
    .await
}

async fn by_hand(app: &TestApp, body: &Value) -> reqwest::Response {
    send(
        app,
        &app.client,
        Method::POST,
        "/api/v1/drives",
        Some(body),
        None,
    )
    .await
}

/// Moves drive `id` to `to` with `If-Match: "version"`.
async fn transition(
    app: &TestApp,
    client: &Client,
    id: i64,
    version: i64,
    to: &str,
    reason: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({"to": to});
    if let Some(reason) = reason {
        body["reason"] = json!(reason);
    }
    send(
        app,
        client,
        Method::POST,
        &format!("/api/v1/drives/{id}/transition"),
        Some(&body),
        Some(&format!("\"{version}\"")),
    )
    .await
}

fn one_stop(point: i64) -> Value {
    json!([{"site": format!("point-{point}"), "planned_start": "09:00",
            "planned_end": "11:30", "expected_donors": 20.0}])
}

#[tokio::test]
async fn accepting_a_plan_makes_one_draft_drive_per_route_once() {
    on_each_backend(|app| async move {
        network(&app).await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let plan_id = plan["id"].as_i64().unwrap();
        let routes = plan["result"]["routes"].as_array().unwrap().clone();
        assert!(!routes.is_empty(), "{plan}");

        let response = accept(&app, &app.client, plan_id).await;
        assert_eq!(response.status().as_u16(), 201);
        let drives: Vec<Value> = response.json().await.unwrap();
        assert_eq!(drives.len(), routes.len());
        for (drive, route) in drives.iter().zip(&routes) {
            assert_eq!(drive["plan_id"], plan_id);
            assert_eq!(drive["status"], "draft");
            assert_eq!(drive["version"], 1);
            assert_eq!(drive["region_code"], COUNTY);
            assert_eq!(
                format!("vehicle-{}", drive["vehicle_id"]),
                route["vehicle"].as_str().unwrap()
            );
            assert_eq!(drive["date"], route["date"]);
            let stops = drive["stops"].as_array().unwrap();
            let planned = route["stops"].as_array().unwrap();
            assert_eq!(stops.len(), planned.len());
            for (i, (stop, p)) in stops.iter().zip(planned).enumerate() {
                assert_eq!(stop["seq"], i + 1);
                assert_eq!(stop["site"], p["site"]);
                assert_eq!(stop["name"], p["name"]);
                assert_eq!(stop["planned_start"], p["opens"]);
                assert_eq!(stop["planned_end"], p["closes"]);
                assert_eq!(stop["expected_donors"], p["expected"]);
                let point = p["site"].as_str().unwrap().strip_prefix("point-").unwrap();
                assert_eq!(stop["point_id"].to_string(), point);
                assert!(stop["region_code"].as_str().unwrap().starts_with("990101"));
            }
            // The same drive read back, with its ETag.
            let response = app
                .client
                .get(app.url(&format!("/api/v1/drives/{}", drive["id"])))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            assert_eq!(response.headers()["etag"], "\"1\"");
            let read: Value = response.json().await.unwrap();
            assert_eq!(&read, drive);
        }

        let response = accept(&app, &app.client, plan_id).await;
        let problem = expect_problem(response, 409, "accepting twice").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("already been accepted")
        );

        let listed = app.get_ok("/api/v1/drives").await;
        assert_eq!(listed["items"].as_array().unwrap().len(), drives.len());
        let first_date = routes[0]["date"].as_str().unwrap();
        let listed = app
            .get_ok(&format!(
                "/api/v1/drives?region={COUNTY}&from={first_date}&to={first_date}&status=draft"
            ))
            .await;
        assert!(
            listed["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["date"] == first_date)
        );
        assert!(!listed["items"].as_array().unwrap().is_empty());
        let none = app.get_ok("/api/v1/drives?status=published").await;
        assert_eq!(none["items"], json!([]));
        let page = app.get_ok("/api/v1/drives?limit=1").await;
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        if drives.len() > 1 {
            assert!(page["next_cursor"].is_string());
        }
        let response = app
            .client
            .get(app.url("/api/v1/drives?status=done"))
            .send()
            .await
            .unwrap();
        expect_problem(response, 400, "unknown status").await;

        // A plan not done yet cannot be accepted; an unknown plan is 404.
        let response = accept(&app, &app.client, plan_id + 1000).await;
        expect_problem(response, 404, "no such plan").await;
        app
    })
    .await;
}

#[tokio::test]
async fn a_vehicle_has_one_drive_a_day_until_it_is_cancelled() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let plan_id = plan["id"].as_i64().unwrap();
        let route = &plan["result"]["routes"][0];
        let vehicle: i64 = route["vehicle"].as_str().unwrap()[8..].parse().unwrap();
        let date = route["date"].as_str().unwrap();

        let response = by_hand(
            &app,
            &json!({"vehicle_id": vehicle, "date": date, "stops": one_stop(net.points[0])}),
        )
        .await;
        assert_eq!(response.status().as_u16(), 201);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let hand: Value = response.json().await.unwrap();

        // The plan clashes with it: refused, naming the vehicle and the day, nothing made.
        let problem = expect_problem(accept(&app, &app.client, plan_id).await, 409, "clash").await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("vehicle {vehicle}")) && detail.contains(date),
            "{detail}"
        );
        let listed = app.get_ok("/api/v1/drives").await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);

        // A second drive by hand that day is refused too.
        let response = by_hand(
            &app,
            &json!({"vehicle_id": vehicle, "date": date, "stops": one_stop(net.points[1])}),
        )
        .await;
        expect_problem(response, 409, "same vehicle-day").await;

        // Once cancelled, the day is free again.
        let response = transition(
            &app,
            &app.client,
            hand["id"].as_i64().unwrap(),
            1,
            "cancelled",
            Some("plan instead"),
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        let response = accept(&app, &app.client, plan_id).await;
        assert_eq!(response.status().as_u16(), 201);
        app
    })
    .await;
}

#[tokio::test]
async fn drives_by_hand_are_checked_field_by_field() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let vehicle = net.vehicles[0];
        let body = json!({"vehicle_id": vehicle, "date": "2026-12-08", "region": COUNTY,
            "stops": [
                {"site": net.site(1), "planned_start": "08:30", "planned_end": "10:00", "expected_donors": 12.5},
                {"site": net.site(4), "planned_start": "10:45", "planned_end": "12:30", "expected_donors": 8},
            ]});
        let response = by_hand(&app, &body).await;
        assert_eq!(response.status().as_u16(), 201);
        let drive: Value = response.json().await.unwrap();
        assert_eq!(drive["plan_id"], Value::Null);
        assert_eq!(drive["status"], "draft");
        assert_eq!(drive["region_code"], COUNTY);
        assert_eq!(drive["stops"][0]["name"], "东岭村献血点");
        assert_eq!(drive["stops"][0]["region_code"], "990101101201");
        assert_eq!(drive["stops"][1]["planned_start"], "10:45");
        assert_eq!(drive["stops"][1]["planned_end"], "12:30");
        assert_eq!(drive["stops"][1]["expected_donors"], 8.0);
        assert_eq!(drive["created_by"], "root (token: tests)");

        let bad = json!({"vehicle_id": 99999, "date": "2026-12-09", "region": COUNTY,
            "stops": [
                {"site": "point-99999", "planned_start": "9", "planned_end": "10:00", "expected_donors": 1},
                {"site": net.site(2), "planned_start": "11:00", "planned_end": "10:30", "expected_donors": -1},
                {"site": "region-990101101000", "planned_start": "12:00", "planned_end": "25:00", "expected_donors": 1},
            ]});
        let problem = expect_problem(by_hand(&app, &bad).await, 400, "invalid stops").await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        for field in [
            "vehicle_id",
            "stops[0].site",
            "stops[0].planned_start",
            "stops[1].planned_end",
            "stops[1].expected_donors",
            "stops[2].site",
            "stops[2].planned_end",
        ] {
            assert!(fields.contains(&field), "{field} in {fields:?}");
        }
        let empty = json!({"vehicle_id": vehicle, "date": "2026-12-09", "stops": []});
        let problem = expect_problem(by_hand(&app, &empty).await, 400, "no stops").await;
        assert_eq!(problem["errors"][0]["field"], "stops");
        let overlapping = json!({"vehicle_id": vehicle, "date": "2026-12-09", "stops": [
            {"site": net.site(1), "planned_start": "09:00", "planned_end": "11:00", "expected_donors": 1},
            {"site": net.site(4), "planned_start": "10:00", "planned_end": "12:00", "expected_donors": 1},
        ]});
        let problem = expect_problem(by_hand(&app, &overlapping).await, 400, "overlap").await;
        assert_eq!(problem["errors"][0]["field"], "stops[1].planned_start");
        let response = by_hand(&app, &json!({"vehicle_id": vehicle, "date": "2026-13-01", "stops": []})).await;
        expect_problem(response, 400, "bad date").await;
        app
    })
    .await;
}

#[tokio::test]
async fn drives_move_only_along_the_state_machine_with_if_match_and_audit() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let make = |date: &'static str| {
            let app = &app;
            let point = net.points[0];
            let vehicle = net.vehicles[0];
            async move {
                let response = by_hand(
                    app,
                    &json!({"vehicle_id": vehicle, "date": date, "region": COUNTY,
                            "stops": one_stop(point)}),
                )
                .await;
                assert_eq!(response.status().as_u16(), 201);
                let drive: Value = response.json().await.unwrap();
                drive["id"].as_i64().unwrap()
            }
        };
        let id = make("2026-12-07").await;
        // Started and completed on the day (the day rule itself: `drive_day`).
        app.set_today("2026-12-07");
        let path = format!("/api/v1/drives/{id}/transition");

        // Without If-Match: 428; with a stale one: 412 and the current drive.
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &path,
            Some(&json!({"to": "published"})),
            None,
        )
        .await;
        expect_problem(response, 428, "no If-Match").await;
        let response = transition(&app, &app.client, id, 7, "published", None).await;
        assert_eq!(response.status().as_u16(), 412);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let current: Value = response.json().await.unwrap();
        assert_eq!(current["status"], "draft");

        // Invalid moves: 409 naming `to`; unknown status: 400.
        for to in ["in_progress", "completed", "draft"] {
            let problem = expect_problem(
                transition(&app, &app.client, id, 1, to, None).await,
                409,
                to,
            )
            .await;
            assert!(
                problem["detail"].as_str().unwrap().contains("to"),
                "{problem}"
            );
        }
        let problem = expect_problem(
            transition(&app, &app.client, id, 1, "done", None).await,
            400,
            "unknown",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "to");

        // The whole way.
        for (version, to) in [(1, "published"), (2, "in_progress"), (3, "completed")] {
            let response = transition(&app, &app.client, id, version, to, None).await;
            assert_eq!(response.status().as_u16(), 200, "{to}");
            assert_eq!(
                response.headers()["etag"],
                format!("\"{}\"", version + 1).as_str()
            );
            let drive: Value = response.json().await.unwrap();
            assert_eq!(drive["status"], to);
            assert!(drive.get("booked").is_none());
        }
        // Completed is final.
        for to in ["cancelled", "published", "in_progress", "draft"] {
            let response = transition(&app, &app.client, id, 4, to, Some("late")).await;
            let problem = expect_problem(response, 409, to).await;
            assert!(
                problem["detail"].as_str().unwrap().contains("final"),
                "{problem}"
            );
        }
        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=drive&id={id}"))
            .await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["create", "published", "in_progress", "completed"]);

        // Cancelling needs a reason, from draft, published or in progress; lists who booked.
        for (date, path_to) in [
            ("2026-12-08", &[][..]),
            ("2026-12-09", &["published"][..]),
            ("2026-12-10", &["published", "in_progress"][..]),
        ] {
            let id = make(date).await;
            app.set_today(date);
            let mut version = 1;
            for to in path_to {
                let response = transition(&app, &app.client, id, version, to, None).await;
                assert_eq!(response.status().as_u16(), 200);
                version += 1;
            }
            for reason in [None, Some("  ")] {
                let response =
                    transition(&app, &app.client, id, version, "cancelled", reason).await;
                let problem = expect_problem(response, 400, "no reason").await;
                assert_eq!(problem["errors"][0]["field"], "reason");
            }
            let response = transition(
                &app,
                &app.client,
                id,
                version,
                "cancelled",
                Some("road flooded"),
            )
            .await;
            assert_eq!(response.status().as_u16(), 200);
            let drive: Value = response.json().await.unwrap();
            assert_eq!(drive["status"], "cancelled");
            assert_eq!(drive["cancel_reason"], "road flooded");
            assert_eq!(drive["booked"], json!([]));
            let response = transition(&app, &app.client, id, version + 1, "published", None).await;
            expect_problem(response, 409, "cancelled is final").await;
            let audit = app
                .get_ok(&format!("/api/v1/audit?entity=drive&id={id}"))
                .await;
            let last = audit["items"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(last["action"], "cancelled");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn drives_follow_plan_access() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let response = by_hand(
            &app,
            &json!({"vehicle_id": net.vehicles[0], "date": "2026-12-20", "region": COUNTY,
                    "stops": one_stop(net.points[0])}),
        )
        .await;
        let drive: Value = response.json().await.unwrap();
        let id = drive["id"].as_i64().unwrap();
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let plan_id = plan["id"].as_i64().unwrap();

        let viewer = app.client_for("viewer", "viewer", &[COUNTY]).await;
        let official = app
            .client_for("official", "township_official", &[DONGLING])
            .await;
        let outsider = app.client_for("xihe.staff", "station_staff", &[XIHE]).await;
        for (client, status) in [(&viewer, 200), (&official, 200), (&outsider, 404)] {
            let response = client
                .get(app.url(&format!("/api/v1/drives/{id}")))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), status);
        }
        let listed: Value = outsider
            .get(app.url("/api/v1/drives"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["items"], json!([]));
        let listed: Value = official
            .get(app.url("/api/v1/drives"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);

        for (client, status) in [(&viewer, 403), (&official, 403), (&outsider, 404)] {
            let response = transition(&app, client, id, 1, "published", None).await;
            expect_problem(response, status, "transition").await;
            let response = accept(&app, client, plan_id).await;
            expect_problem(response, status, "accept").await;
        }
        for client in [&viewer, &official] {
            let response = send(
                &app,
                client,
                Method::POST,
                "/api/v1/drives",
                Some(
                    &json!({"vehicle_id": net.vehicles[1], "date": "2026-12-21", "region": COUNTY,
                            "stops": one_stop(net.points[0])}),
                ),
                None,
            )
            .await;
            expect_problem(response, 403, "by hand").await;
        }
        let anonymous = Client::new();
        let response = anonymous
            .get(app.url("/api/v1/drives"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401);
        // Station staff of the city make and move them.
        let staff = app
            .client_for("staff", "station_staff", &[crate::plans::CITY])
            .await;
        let response = transition(&app, &staff, id, 1, "published", None).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(accept(&app, &staff, plan_id).await.status().as_u16(), 201);
        app
    })
    .await;
}

#[tokio::test]
async fn only_a_done_feasible_plan_with_routes_is_accepted() {
    use donornet::store::plans::{self, NewPlan};
    on_each_backend(|app| async move {
        network(&app).await;
        let now = chrono::Utc::now();
        let plan = plans::insert(
            &app.db,
            NewPlan {
                region_code: COUNTY.to_owned(),
                request: "{}".to_owned(),
                instance: "{}".to_owned(),
                seed: 1,
                created_by: None,
            },
            now,
        )
        .await
        .unwrap();
        let problem = expect_problem(accept(&app, &app.client, plan.id).await, 409, "queued").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("only a done plan"),
            "{problem}"
        );

        let broken =
            json!({"routes": [], "violations": [{"kind": "capacity", "message": "too many"}]});
        plans::set_done(&app.db, plan.id, broken.to_string(), 0.0, now)
            .await
            .unwrap();
        let problem =
            expect_problem(accept(&app, &app.client, plan.id).await, 409, "infeasible").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("breaks 1 rule"),
            "{problem}"
        );

        let empty = json!({"routes": [], "violations": []});
        plans::set_done(&app.db, plan.id, empty.to_string(), 0.0, now)
            .await
            .unwrap();
        let problem =
            expect_problem(accept(&app, &app.client, plan.id).await, 409, "no routes").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("no routes"),
            "{problem}"
        );
        assert_eq!(app.get_ok("/api/v1/drives").await["items"], json!([]));
        app
    })
    .await;
}

#[tokio::test]
async fn the_drives_migration_rolls_back_and_reapplies() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    on_each_backend(|app| async move {
        let db = app.schema_connection().await;
        let net = network(&app).await;
        let response = by_hand(
            &app,
            &json!({"vehicle_id": net.vehicles[0], "date": "2026-12-07", "stops": one_stop(net.points[0])}),
        )
        .await;
        assert_eq!(response.status().as_u16(), 201);
        let applied = Migrator::get_applied_migrations(&db).await.unwrap();
        let at = applied
            .iter()
            .position(|m| m.name() == "m20261126_000008_create_drives")
            .expect("the drives migration is applied");
        let steps = (applied.len() - at) as u32;
        Migrator::down(&db, Some(steps)).await.expect("down");
        for table in ["drives", "drive_stops"] {
            let gone = db
                .execute_unprepared(&format!("SELECT id FROM {table}"))
                .await;
            assert!(gone.is_err(), "{table}");
        }
        assert!(db.execute_unprepared("SELECT id FROM plans").await.is_ok());
        Migrator::up(&db, None).await.expect("up again");
        assert_eq!(app.get_ok("/api/v1/drives").await["items"], json!([]));
        app
    })
    .await;
}

#[tokio::test]
async fn a_plan_accepted_twice_at_once_makes_its_drives_once() {
    on_each_backend(|app| async move {
        network(&app).await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let plan_id = plan["id"].as_i64().unwrap();
        let routes = plan["result"]["routes"].as_array().unwrap().len();
        let attempts = accept_at_once(&app, plan_id).await;
        let mut statuses: Vec<u16> = attempts.clone();
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409, 409, 409], "{attempts:?}");
        let listed = app.get_ok("/api/v1/drives").await;
        assert_eq!(listed["items"].as_array().unwrap().len(), routes);
        app
    })
    .await;
}

/// Four accepts of `plan_id` at once; their statuses.
async fn accept_at_once(app: &TestApp, plan_id: i64) -> Vec<u16> {
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let client = app.client.clone();
        let url = app.url(&format!("/api/v1/plans/{plan_id}/accept"));
        tasks.push(tokio::spawn(async move {
            client.post(url).send().await.unwrap().status().as_u16()
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}
