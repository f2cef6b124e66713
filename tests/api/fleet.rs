//! The fleet (issue 5): blood stations and bloodmobiles through the HTTP API, who may see and
//! change them, and the market days of points.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, on_each_backend};

/// The demo city (演示市): centre 114.02, 33.58.
const DEMO_CITY: &str = "990100000000";
/// 东岭镇 of the demo county.
const DONGLING: &str = "990101101000";

async fn with_demo(app: &TestApp) {
    donornet::seed::load_demo_divisions(&app.db).await.unwrap();
}

fn station_body(name: &str, region: &str) -> Value {
    json!({"name": name, "region_code": region, "address": "人民路 1 号",
           "longitude": 114.02, "latitude": 33.58})
}

fn vehicle_body(station: &Value, plate: &str) -> Value {
    json!({"name": "1号采血车", "plate": plate, "station_id": station["id"],
           "beds": 4, "staff": 6, "max_donors_per_day": 120,
           "day_start": "08:00", "day_end": "17:00", "setup_min": 30, "teardown_min": 20,
           "cost_per_km": 2.5})
}

/// POSTs `body` to `path` as `client`; returns the status and the JSON body.
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

async fn patch(
    app: &TestApp,
    path: &str,
    body: &Value,
    if_match: Option<&str>,
) -> reqwest::Response {
    app.send_json(Method::PATCH, path, body, if_match).await
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

/// The audit records of one entity, oldest first: (action, region).
async fn audit_of(app: &TestApp, entity: &str, id: &Value) -> Vec<(String, String)> {
    let audit = app
        .get_ok(&format!("/api/v1/audit?entity={entity}&id={id}"))
        .await;
    audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["actor"], "root (token: tests)", "{r}");
            (
                r["action"].as_str().unwrap().to_owned(),
                r["region_code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn stations_are_created_listed_changed_and_closed() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        // A map app's GCJ-02 position is stored as WGS-84 and shown in either datum.
        let mut body = station_body("演示市中心血站", DEMO_CITY);
        body["crs"] = json!("gcj02");
        let response = app
            .send_json(Method::POST, "/api/v1/stations", &body, None)
            .await;
        assert_eq!(response.status().as_u16(), 201);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let station: Value = response.json().await.unwrap();
        assert_eq!(location, format!("/api/v1/stations/{}", station["id"]));
        assert_eq!(station["status"], "active");
        assert_eq!(station["crs"], "gcj02");
        assert!((station["longitude"].as_f64().unwrap() - 114.02).abs() < 1e-6);
        let id = station["id"].as_i64().unwrap();
        let path = format!("/api/v1/stations/{id}");
        let stored = app.get_ok(&path).await;
        assert_eq!(stored["crs"], "wgs84");
        let shift = 114.02 - stored["longitude"].as_f64().unwrap();
        assert!((0.001..0.02).contains(&shift), "GCJ-02 offset {shift}");
        assert_eq!(stored["created_by"], "root (token: tests)");
        let county = create(
            &app,
            "/api/v1/stations",
            &station_body("青禾县储血点", "990101000000"),
        )
        .await;

        // Listings: by subtree, in id order, paged.
        assert_eq!(
            ids(&app.get_ok("/api/v1/stations").await),
            [id, county["id"].as_i64().unwrap()]
        );
        assert_eq!(
            ids(&app.get_ok("/api/v1/stations?region=990101000000").await),
            [county["id"].as_i64().unwrap()]
        );
        let first = app.get_ok("/api/v1/stations?limit=1").await;
        assert_eq!(ids(&first), [id]);
        let next = first["next_cursor"].as_str().unwrap();
        let second = app
            .get_ok(&format!("/api/v1/stations?limit=1&cursor={next}"))
            .await;
        assert_eq!(ids(&second), [county["id"].as_i64().unwrap()]);
        assert!(second["next_cursor"].is_null());
        let (status, _) = app.get_json("/api/v1/stations?region=990199000000").await;
        assert_eq!(status, 404, "an unknown region");

        // PATCH needs If-Match; a stale one gets 412 with the current station.
        let response = patch(&app, &path, &json!({"name": "演示市血液中心"}), None).await;
        expect_problem(response, 428, "no If-Match").await;
        let response = patch(
            &app,
            &path,
            &json!({"name": "演示市血液中心", "address": null}),
            Some("\"1\""),
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["etag"], "\"2\"");
        let changed: Value = response.json().await.unwrap();
        assert_eq!(
            (changed["name"].as_str(), changed["address"].as_str()),
            (Some("演示市血液中心"), None)
        );
        let response = patch(&app, &path, &json!({"name": "旧名"}), Some("\"1\"")).await;
        assert_eq!(response.status().as_u16(), 412);
        let current: Value = response.json().await.unwrap();
        assert_eq!(current["version"], 2);
        assert_eq!(current["name"], "演示市血液中心");

        // A station with an active vehicle does not close; once the vehicle is retired it does.
        let vehicle = create(
            &app,
            "/api/v1/vehicles",
            &vehicle_body(&changed, "豫L12345"),
        )
        .await;
        let response = app.client.delete(app.url(&path)).send().await.unwrap();
        let problem = expect_problem(response, 409, "closing with an active vehicle").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("vehicle"),
            "{problem}"
        );
        let response = patch(&app, &path, &json!({"status": "closed"}), Some("\"2\"")).await;
        expect_problem(response, 409, "closing by PATCH with an active vehicle").await;
        let vehicle_path = format!("/api/v1/vehicles/{}", vehicle["id"]);
        let response = app
            .client
            .delete(app.url(&vehicle_path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let response = app
            .client
            .delete(app.url(&path))
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 412, "a stale If-Match on close");
        let response = app.client.delete(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let closed: Value = response.json().await.unwrap();
        assert_eq!(
            (closed["status"].as_str(), closed["version"].as_i64()),
            (Some("closed"), Some(3))
        );
        // Closing again changes nothing.
        let again: Value = app
            .client
            .delete(app.url(&path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(again["version"], 3);
        assert_eq!(
            ids(&app.get_ok("/api/v1/stations").await),
            [county["id"].as_i64().unwrap()]
        );
        assert_eq!(
            ids(&app.get_ok("/api/v1/stations?status=closed").await),
            [id]
        );
        // A closed station takes no active vehicle.
        let (status, problem) = post(
            &app,
            &app.client,
            "/api/v1/vehicles",
            &vehicle_body(&closed, "豫L99999"),
        )
        .await;
        assert_eq!(status, 400, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "station_id", "{problem}");

        assert_eq!(
            audit_of(&app, "station", &json!(id)).await,
            [
                ("create", DEMO_CITY),
                ("update", DEMO_CITY),
                ("close", DEMO_CITY)
            ]
            .map(|(a, r)| (a.to_owned(), r.to_owned()))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn invalid_stations_and_vehicles_are_refused_naming_the_field() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let station = create(
            &app,
            "/api/v1/stations",
            &station_body("演示市中心血站", DEMO_CITY),
        )
        .await;
        let station_cases = [
            (json!({"name": ""}), "name"),
            (json!({"name": "x\u{202E}y"}), "name"),
            (json!({"region_code": "12345"}), "region_code"),
            (json!({"region_code": "990199000000"}), "region_code"),
            (json!({"longitude": 10.0}), "longitude"),
            (json!({"latitude": 60.0}), "latitude"),
            (json!({"status": "open"}), "status"),
            (json!({"colour": "red"}), "colour"),
        ];
        for (change, field) in station_cases {
            let mut body = station_body("血站", DEMO_CITY);
            body.as_object_mut()
                .unwrap()
                .extend(change.as_object().unwrap().clone());
            let response = app
                .send_json(Method::POST, "/api/v1/stations", &body, None)
                .await;
            let problem = expect_problem(response, 400, &body.to_string()).await;
            assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
        }
        let response = patch(
            &app,
            &format!("/api/v1/stations/{}", station["id"]),
            &json!({"name": null}),
            Some("\"1\""),
        )
        .await;
        let problem = expect_problem(response, 400, "a null name").await;
        assert_eq!(problem["errors"][0]["field"], "name");

        let vehicle_cases = [
            (json!({"name": " "}), "name"),
            (json!({"plate": ""}), "plate"),
            (json!({"plate": "豫L/12345"}), "plate"),
            (json!({"beds": 0}), "beds"),
            (json!({"staff": 0}), "staff"),
            (json!({"max_donors_per_day": 0}), "max_donors_per_day"),
            (json!({"setup_min": 241}), "setup_min"),
            (json!({"teardown_min": -1}), "teardown_min"),
            (json!({"cost_per_km": -0.5}), "cost_per_km"),
            (json!({"day_start": "8am"}), "day_start"),
            (json!({"day_end": "25:00"}), "day_end"),
            (json!({"day_start": "17:00", "day_end": "08:00"}), "day_end"),
            (json!({"day_start": "08:00", "day_end": "08:00"}), "day_end"),
            (json!({"station_id": 9999}), "station_id"),
            (json!({"beds": "four"}), "beds"),
            (json!({"status": "broken"}), "status"),
        ];
        for (change, field) in vehicle_cases {
            let mut body = vehicle_body(&station, "豫L00001");
            body.as_object_mut()
                .unwrap()
                .extend(change.as_object().unwrap().clone());
            let response = app
                .send_json(Method::POST, "/api/v1/vehicles", &body, None)
                .await;
            let problem = expect_problem(response, 400, &body.to_string()).await;
            assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
        }
        // Every broken rule at once.
        let mut body = vehicle_body(&station, "");
        body["beds"] = json!(0);
        body["cost_per_km"] = json!(-1);
        let response = app
            .send_json(Method::POST, "/api/v1/vehicles", &body, None)
            .await;
        let problem = expect_problem(response, 400, "three errors").await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["plate", "beds", "cost_per_km"], "{problem}");
        assert_eq!(
            ids(&app.get_ok("/api/v1/vehicles").await),
            Vec::<i64>::new()
        );

        // Plates are unique however they are written.
        let first = create(
            &app,
            "/api/v1/vehicles",
            &vehicle_body(&station, "豫L·D1234"),
        )
        .await;
        assert_eq!(first["plate"], "豫LD1234");
        let response = app
            .send_json(
                Method::POST,
                "/api/v1/vehicles",
                &vehicle_body(&station, "豫l d1234"),
                None,
            )
            .await;
        let problem = expect_problem(response, 409, "a taken plate").await;
        assert_eq!(problem["errors"][0]["field"], "plate", "{problem}");
        let second = create(
            &app,
            "/api/v1/vehicles",
            &vehicle_body(&station, "豫L-D5678"),
        )
        .await;
        let path = format!("/api/v1/vehicles/{}", second["id"]);
        let response = patch(&app, &path, &json!({"plate": "豫LD1234"}), Some("\"1\"")).await;
        let problem = expect_problem(response, 409, "a PATCH to a taken plate").await;
        assert_eq!(problem["errors"][0]["field"], "plate", "{problem}");
        // The working window is checked as a whole after a PATCH too.
        let response = patch(&app, &path, &json!({"day_end": "07:30"}), Some("\"1\"")).await;
        let problem = expect_problem(response, 400, "an end before the stored start").await;
        assert_eq!(problem["errors"][0]["field"], "day_end", "{problem}");
        let response = patch(&app, &path, &json!({"beds": null}), Some("\"1\"")).await;
        let problem = expect_problem(response, 400, "a null beds").await;
        assert_eq!(problem["errors"][0]["field"], "beds", "{problem}");
        assert_eq!(app.get_ok(&path).await["version"], 1, "nothing was written");
        app
    })
    .await;
}

#[tokio::test]
async fn vehicles_are_changed_with_if_match_moved_retired_and_audited() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let city = create(
            &app,
            "/api/v1/stations",
            &station_body("演示市中心血站", DEMO_CITY),
        )
        .await;
        let county = create(
            &app,
            "/api/v1/stations",
            &station_body("青禾县储血点", "990101000000"),
        )
        .await;
        let vehicle = create(&app, "/api/v1/vehicles", &vehicle_body(&city, "豫L12345")).await;
        for (member, value) in [
            ("station_id", city["id"].clone()),
            ("region_code", json!(DEMO_CITY)),
            ("beds", json!(4)),
            ("staff", json!(6)),
            ("max_donors_per_day", json!(120)),
            ("day_start", json!("08:00")),
            ("day_end", json!("17:00")),
            ("setup_min", json!(30)),
            ("teardown_min", json!(20)),
            ("cost_per_km", json!(2.5)),
            ("status", json!("active")),
            ("version", json!(1)),
        ] {
            assert_eq!(vehicle[member], value, "{member}: {vehicle}");
        }
        let id = vehicle["id"].as_i64().unwrap();
        let path = format!("/api/v1/vehicles/{id}");
        assert_eq!(app.get_ok(&path).await, vehicle);

        let response = patch(&app, &path, &json!({"beds": 6}), None).await;
        expect_problem(response, 428, "no If-Match").await;
        // Moving it to another station moves it to that station's region.
        let response = patch(
            &app,
            &path,
            &json!({"station_id": county["id"], "day_start": "7:30", "notes": "新换轮胎"}),
            Some("\"1\""),
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        let moved: Value = response.json().await.unwrap();
        assert_eq!(moved["station_id"], county["id"]);
        assert_eq!(moved["region_code"], "990101000000");
        assert_eq!(moved["day_start"], "07:30");
        assert_eq!(moved["notes"], "新换轮胎");
        assert_eq!(moved["version"], 2);
        let response = patch(&app, &path, &json!({"beds": 6}), Some("\"1\"")).await;
        assert_eq!(response.status().as_u16(), 412);
        assert_eq!(response.headers()["etag"], "\"2\"");
        let current: Value = response.json().await.unwrap();
        assert_eq!(current, moved);

        // Listings: by region (the station's), by station, by status.
        let other = create(&app, "/api/v1/vehicles", &vehicle_body(&city, "豫L54321")).await;
        let other_id = other["id"].as_i64().unwrap();
        assert_eq!(ids(&app.get_ok("/api/v1/vehicles").await), [id, other_id]);
        assert_eq!(
            ids(&app.get_ok("/api/v1/vehicles?region=990101000000").await),
            [id]
        );
        assert_eq!(
            ids(&app
                .get_ok(&format!("/api/v1/vehicles?station={}", city["id"]))
                .await),
            [other_id]
        );
        let (status, _) = app.get_json("/api/v1/vehicles?station=9999").await;
        assert_eq!(status, 404);
        let (status, problem) = app.get_json("/api/v1/vehicles?status=parked").await;
        assert_eq!(status, 400);
        assert_eq!(problem["errors"][0]["field"], "status");

        // Retiring keeps the vehicle and hides it from the default listing.
        let response = app.client.delete(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let retired: Value = response.json().await.unwrap();
        assert_eq!(retired["status"], "retired");
        assert_eq!(ids(&app.get_ok("/api/v1/vehicles").await), [other_id]);
        assert_eq!(
            ids(&app.get_ok("/api/v1/vehicles?status=retired").await),
            [id]
        );
        assert_eq!(
            ids(&app.get_ok("/api/v1/vehicles?status=active,retired").await),
            [id, other_id]
        );

        // What a drive plan of the demo city can use: active stations and active vehicles.
        let fleet = donornet::store::fleet::active_fleet(&app.db, "990100000000", "990199999999")
            .await
            .unwrap();
        assert_eq!(
            fleet.stations.iter().map(|s| s.id).collect::<Vec<_>>(),
            [city["id"].as_i64().unwrap(), county["id"].as_i64().unwrap()]
        );
        assert_eq!(
            fleet.vehicles.iter().map(|v| v.id).collect::<Vec<_>>(),
            [other_id]
        );
        assert_eq!(
            (fleet.vehicles[0].day_start, fleet.vehicles[0].day_end),
            (480, 1020)
        );

        assert_eq!(
            audit_of(&app, "vehicle", &json!(id)).await,
            [
                ("create", DEMO_CITY),
                ("update", "990101000000"),
                ("close", "990101000000")
            ]
            .map(|(a, r)| (a.to_owned(), r.to_owned()))
        );
        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=vehicle&id={id}"))
            .await;
        assert_eq!(audit["items"][1]["before"]["station_id"], city["id"]);
        assert_eq!(audit["items"][1]["after"]["station_id"], county["id"]);
        app
    })
    .await;
}

/// 孟庙镇 (Mengmiao) and 商桥镇 of 郾城区, and 召陵镇 of another county (召陵区), as in the access
/// matrix.
const INSIDE: &str = "411103101000";
const SIBLING: &str = "411103102000";
const OTHER_COUNTY: &str = "411104100000";

#[tokio::test]
async fn stations_and_vehicles_are_scoped_by_the_station_region() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let mut stations = Vec::new();
        let mut vehicles = Vec::new();
        for (n, region) in [INSIDE, SIBLING, OTHER_COUNTY].into_iter().enumerate() {
            let station = create(
                &app,
                "/api/v1/stations",
                &station_body(&format!("血站{n}"), region),
            )
            .await;
            vehicles.push(
                create(
                    &app,
                    "/api/v1/vehicles",
                    &vehicle_body(&station, &format!("豫L0000{n}")),
                )
                .await,
            );
            stations.push(station);
        }
        let station_path = |i: usize| format!("/api/v1/stations/{}", stations[i]["id"]);
        let vehicle_path = |i: usize| format!("/api/v1/vehicles/{}", vehicles[i]["id"]);
        let official = app
            .client_for("official", "township_official", &[INSIDE])
            .await;
        let viewer = app.client_for("viewer", "viewer", &[INSIDE]).await;
        let status_of = |client: &Client, method: Method, path: String, body: Option<Value>| {
            let mut request = client
                .request(method, app.url(&path))
                .header("if-match", "\"1\"");
            if let Some(body) = body {
                request = request.json(&body);
            }
            async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                if status >= 400 {
                    assert_eq!(
                        response.headers()["content-type"],
                        "application/problem+json",
                        "{path}"
                    );
                }
                status
            }
        };
        let rename = || Some(json!({"name": "改名"}));

        // The official reads its county and writes its township; the other county is hidden.
        let listed = official
            .get(app.url("/api/v1/stations"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(
            ids(&listed),
            [
                stations[0]["id"].as_i64().unwrap(),
                stations[1]["id"].as_i64().unwrap()
            ]
        );
        let listed = official
            .get(app.url("/api/v1/vehicles"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(
            ids(&listed),
            [
                vehicles[0]["id"].as_i64().unwrap(),
                vehicles[1]["id"].as_i64().unwrap()
            ]
        );
        // It cannot move its own vehicle, or station, out of its reach: a station beyond it
        // is answered as one that does not exist.
        let body = Some(json!({"station_id": stations[2]["id"]}));
        assert_eq!(
            status_of(&official, Method::PATCH, vehicle_path(0), body).await,
            400
        );
        let body = Some(json!({"station_id": 99_999}));
        assert_eq!(
            status_of(&official, Method::PATCH, vehicle_path(0), body).await,
            400
        );
        let body = Some(json!({"station_id": stations[1]["id"]}));
        assert_eq!(
            status_of(&official, Method::PATCH, vehicle_path(0), body).await,
            403
        );
        let body = Some(json!({"region_code": SIBLING}));
        assert_eq!(
            status_of(&official, Method::PATCH, station_path(0), body).await,
            403
        );
        let path = "/api/v1/vehicles?region=411104000000".to_owned();
        assert_eq!(
            status_of(&official, Method::GET, path, None).await,
            404,
            "a region outside its reach"
        );
        for (i, read, write) in [(0, 200, 200), (1, 200, 403), (2, 404, 404)] {
            assert_eq!(
                status_of(&official, Method::GET, station_path(i), None).await,
                read,
                "station {i}"
            );
            assert_eq!(
                status_of(&official, Method::GET, vehicle_path(i), None).await,
                read,
                "vehicle {i}"
            );
            assert_eq!(
                status_of(&official, Method::PATCH, station_path(i), rename()).await,
                write,
                "station {i}"
            );
            assert_eq!(
                status_of(&official, Method::PATCH, vehicle_path(i), rename()).await,
                write,
                "vehicle {i}"
            );
        }
        for (i, want) in [(1, 403), (2, 404)] {
            assert_eq!(
                status_of(&official, Method::DELETE, vehicle_path(i), None).await,
                want,
                "retire {i}"
            );
            assert_eq!(
                status_of(&official, Method::DELETE, station_path(i), None).await,
                want,
                "close {i}"
            );
        }
        for (region, want) in [(INSIDE, 201), (SIBLING, 403), (OTHER_COUNTY, 404)] {
            let body = Some(station_body("新血站", region));
            assert_eq!(
                status_of(&official, Method::POST, "/api/v1/stations".to_owned(), body).await,
                want,
                "{region}"
            );
        }
        // A station beyond reach is answered as one that does not exist (400 naming
        // `station_id`).
        for (i, want) in [(0, 201), (1, 403), (2, 400)] {
            let body = Some(vehicle_body(&stations[i], &format!("豫L1000{i}")));
            assert_eq!(
                status_of(&official, Method::POST, "/api/v1/vehicles".to_owned(), body).await,
                want,
                "vehicle at {i}"
            );
        }

        // A viewer reads its township and changes nothing.
        assert_eq!(
            status_of(&viewer, Method::GET, station_path(0), None).await,
            200
        );
        assert_eq!(
            status_of(&viewer, Method::GET, vehicle_path(0), None).await,
            200
        );
        assert_eq!(
            status_of(&viewer, Method::GET, station_path(1), None).await,
            404
        );
        assert_eq!(
            status_of(&viewer, Method::PATCH, station_path(0), rename()).await,
            403
        );
        assert_eq!(
            status_of(&viewer, Method::PATCH, vehicle_path(0), rename()).await,
            403
        );
        assert_eq!(
            status_of(&viewer, Method::DELETE, vehicle_path(0), None).await,
            403
        );
        assert_eq!(
            status_of(&viewer, Method::DELETE, station_path(0), None).await,
            403
        );
        let body = Some(station_body("新血站", INSIDE));
        assert_eq!(
            status_of(&viewer, Method::POST, "/api/v1/stations".to_owned(), body).await,
            403
        );
        let body = Some(vehicle_body(&stations[0], "豫L20000"));
        assert_eq!(
            status_of(&viewer, Method::POST, "/api/v1/vehicles".to_owned(), body).await,
            403
        );

        // Nothing of the fleet is public.
        for (method, path, body) in [
            (Method::GET, "/api/v1/stations".to_owned(), None),
            (Method::GET, "/api/v1/vehicles".to_owned(), None),
            (Method::GET, station_path(0), None),
            (Method::GET, vehicle_path(0), None),
            (
                Method::POST,
                "/api/v1/stations".to_owned(),
                Some(station_body("x", INSIDE)),
            ),
            (Method::PATCH, vehicle_path(0), rename()),
            (Method::DELETE, station_path(0), None),
        ] {
            assert_eq!(
                status_of(&app.anonymous, method.clone(), path.clone(), body).await,
                401,
                "{method} {path}"
            );
        }
        app
    })
    .await;
}

#[tokio::test]
async fn points_record_their_market_days() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let mut body = json!({"name": "东岭镇献血点", "kind": "township", "region_code": DONGLING,
                              "longitude": 114.02, "latitude": 33.66, "status": "active",
                              "market_days": "7， 4,1"});
        let point = app.create_point(&body).await;
        assert_eq!(point["market_days"], "1,4,7");
        let path = format!("/api/v1/points/{}", point["id"]);
        assert_eq!(app.get_ok(&path).await["market_days"], "1,4,7");
        // Market days are public information.
        let public: Value = app
            .anonymous
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(public["market_days"], "1,4,7");
        let listed = app.get_ok("/api/v1/points").await;
        assert_eq!(listed["items"][0]["market_days"], "1,4,7");

        for bad in ["1,4,x", "12", "147", "1,1", "1,,4"] {
            body["market_days"] = json!(bad);
            let response = app
                .send_json(Method::POST, "/api/v1/points", &body, None)
                .await;
            let problem = expect_problem(response, 400, bad).await;
            assert_eq!(
                problem["errors"][0]["field"], "market_days",
                "{bad}: {problem}"
            );
            let response = patch(&app, &path, &json!({"market_days": bad}), Some("\"1\"")).await;
            let problem = expect_problem(response, 400, bad).await;
            assert_eq!(
                problem["errors"][0]["field"], "market_days",
                "{bad}: {problem}"
            );
        }
        let response = patch(&app, &path, &json!({"market_days": "3,8"}), Some("\"1\"")).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response.json::<Value>().await.unwrap()["market_days"],
            "3,8"
        );
        // Other changes keep them; null (or blank) clears them.
        let response = patch(&app, &path, &json!({"notes": "逢三八赶集"}), Some("\"2\"")).await;
        assert_eq!(
            response.json::<Value>().await.unwrap()["market_days"],
            "3,8"
        );
        let response = patch(&app, &path, &json!({"market_days": null}), Some("\"3\"")).await;
        assert!(response.json::<Value>().await.unwrap()["market_days"].is_null());
        let response = patch(&app, &path, &json!({"market_days": "0"}), Some("\"4\"")).await;
        assert_eq!(response.json::<Value>().await.unwrap()["market_days"], "0");
        let response = patch(&app, &path, &json!({"market_days": " "}), Some("\"5\"")).await;
        assert!(response.json::<Value>().await.unwrap()["market_days"].is_null());
        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=point&id={}", point["id"]))
            .await;
        assert_eq!(audit["items"][1]["before"]["market_days"], "1,4,7");
        assert_eq!(audit["items"][1]["after"]["market_days"], "3,8");
        app
    })
    .await;
}

#[tokio::test]
async fn the_fleet_migration_rolls_back_and_reapplies() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    on_each_backend(|app| async move {
        let db = app.schema_connection().await;
        with_demo(&app).await;
        create(
            &app,
            "/api/v1/stations",
            &station_body("演示市中心血站", DEMO_CITY),
        )
        .await;
        // Down to before the fleet migration, whatever came after it.
        let applied = Migrator::get_applied_migrations(&db).await.unwrap();
        let fleet = applied
            .iter()
            .position(|m| m.name() == "m20261126_000006_create_fleet")
            .expect("the fleet migration is applied");
        let steps = (applied.len() - fleet) as u32;
        Migrator::down(&db, Some(steps)).await.expect("down");
        assert_eq!(
            Migrator::get_pending_migrations(&db).await.unwrap().len(),
            steps as usize
        );
        for gone in [
            "SELECT id FROM stations",
            "SELECT id FROM vehicles",
            "SELECT market_days FROM points",
        ] {
            assert!(db.execute_unprepared(gone).await.is_err(), "{gone}");
        }
        Migrator::up(&db, None).await.expect("up again");
        assert_eq!(
            ids(&app.get_ok("/api/v1/stations").await),
            Vec::<i64>::new()
        );
        app
    })
    .await;
}
