//! Donation points through the HTTP API.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, on_each_backend};

/// 东岭镇 of the demo county: centre 114.02, 33.66.
const DONGLING: &str = "990101101000";
/// 东岭村委会, a village of 东岭镇.
const DONGLING_VILLAGE: &str = "990101101201";

fn township_point() -> Value {
    json!({
        "name": "东岭镇献血点", "kind": "township", "region_code": DONGLING,
        "address": "东岭镇卫生院", "longitude": 114.0259, "latitude": 33.6588, "crs": "gcj02",
        "status": "active", "beds": 4, "donors_per_hour": 12, "bloodmobile_parking": true,
        "contact_phone": "0395-1234567"
    })
}

async fn with_demo(app: &TestApp) {
    donornet::seed::load_demo_divisions(&app.db).await.unwrap();
}

/// Great-circle distance in km, computed here independently of the service.
fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lat2) = (a.1.to_radians(), b.1.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.0 - a.0).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6_371.008_8 * h.sqrt().asin()
}

#[tokio::test]
async fn a_created_point_is_stored_in_wgs84_and_shown_in_either_datum() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let response = app
            .send_json(Method::POST, "/api/v1/points", &township_point(), None)
            .await;
        assert_eq!(response.status().as_u16(), 201);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = response.json().await.unwrap();
        assert_eq!(location, format!("/api/v1/points/{}", created["id"]));
        assert_eq!(created["version"], 1);
        assert_eq!(created["crs"], "gcj02");
        assert!(created.get("warnings").is_none(), "{created}");

        // Stored as WGS-84: a few hundred metres from the GCJ-02 input.
        let stored = app.get_ok(&location).await;
        assert_eq!(stored["crs"], "wgs84");
        let shift_km = haversine_km(
            (
                stored["longitude"].as_f64().unwrap(),
                stored["latitude"].as_f64().unwrap(),
            ),
            (114.0259, 33.6588),
        );
        assert!((0.1..1.0).contains(&shift_km), "{shift_km}");
        // And back in GCJ-02 to within a millimetre.
        let gcj = app.get_ok(&format!("{location}?crs=gcj02")).await;
        let back_km = haversine_km(
            (
                gcj["longitude"].as_f64().unwrap(),
                gcj["latitude"].as_f64().unwrap(),
            ),
            (114.0259, 33.6588),
        );
        assert!(back_km < 1e-6, "{back_km} km");
        assert_eq!(stored["contact_phone"], "0395-1234567");
        app
    })
    .await;
}

#[tokio::test]
async fn every_invalid_field_is_named_in_the_problem() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
        let cases: Vec<(&str, Value, &str)> = vec![
            ("name", json!({"name": "  "}), "an empty name"),
            (
                "name",
                json!({"name": "站".repeat(201)}),
                "a name over 200 characters",
            ),
            ("kind", json!({"kind": "bus_stop"}), "an unknown kind"),
            (
                "region_code",
                json!({"region_code": "990101109000"}),
                "a region that does not exist",
            ),
            (
                "region_code",
                json!({"region_code": "9901"}),
                "a malformed region code",
            ),
            (
                "region_code",
                json!({"kind": "village"}),
                "a village point on a township",
            ),
            (
                "region_code",
                json!({"region_code": "990101000000"}),
                "a township point on a county",
            ),
            (
                "longitude",
                json!({"longitude": 2.35}),
                "a longitude outside China",
            ),
            (
                "latitude",
                json!({"latitude": 60.0}),
                "a latitude outside China",
            ),
            (
                "longitude",
                json!({"longitude": "east"}),
                "a longitude that is not a number",
            ),
            ("crs", json!({"crs": "bd09"}), "an unknown datum"),
            ("status", json!({"status": "open"}), "an unknown status"),
            ("beds", json!({"beds": -1}), "negative beds"),
            (
                "donors_per_hour",
                json!({"donors_per_hour": 100000}),
                "an absurd throughput",
            ),
            (
                "contact_phone",
                json!({"contact_phone": "12345"}),
                "a bad phone",
            ),
            (
                "signage_installed_on",
                json!({"signage_installed_on": tomorrow}),
                "signage in the future",
            ),
            (
                "signage_installed_on",
                json!({"signage_installed_on": "2025-13-01"}),
                "a bad date",
            ),
            ("colour", json!({"colour": "red"}), "an unknown member"),
            ("notes", json!({"notes": "a\u{0}b"}), "a NUL in the notes"),
            (
                "address",
                json!({"address": "一\n二"}),
                "a line break in the address",
            ),
            (
                "contact_phone",
                json!({"contact_phone": "01中"}),
                "a phone with a letter",
            ),
            (
                "signage_installed_on",
                json!({"signage_installed_on": "1900-01-01"}),
                "signage before 1949",
            ),
        ];
        for (field, change, what) in cases {
            let mut body = township_point();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let response = app
                .send_json(Method::POST, "/api/v1/points", &body, None)
                .await;
            let problem = expect_problem(response, 400, what).await;
            let fields: Vec<&str> = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert!(fields.contains(&field), "{what}: {problem}");
        }
        // A body missing a required member names it.
        let mut body = township_point();
        body.as_object_mut().unwrap().remove("region_code");
        let response = app
            .send_json(Method::POST, "/api/v1/points", &body, None)
            .await;
        let problem = expect_problem(response, 400, "no region_code").await;
        assert_eq!(problem["errors"][0]["field"], "region_code", "{problem}");
        // Several mistakes at once are all reported.
        let mut body = township_point();
        body["beds"] = json!(-3);
        body["contact_phone"] = json!("x");
        body["longitude"] = json!(0.5);
        let response = app
            .send_json(Method::POST, "/api/v1/points", &body, None)
            .await;
        let problem = expect_problem(response, 400, "three mistakes").await;
        assert_eq!(problem["errors"].as_array().unwrap().len(), 3, "{problem}");
        // Nothing was stored by any of these.
        let page = app
            .get_ok("/api/v1/points?status=planned,active,suspended,closed")
            .await;
        assert_eq!(page["items"], json!([]));
        app
    })
    .await;
}

#[tokio::test]
async fn a_point_far_from_its_region_centre_is_stored_with_a_warning() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let mut body = township_point();
        body["crs"] = json!("wgs84");
        body["longitude"] = json!(114.30); // about 26 km east of 东岭镇's centre
        body["latitude"] = json!(33.66);
        let created = app.create_point(&body).await;
        let warnings = created["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{created}");
        assert_eq!(warnings[0]["field"], "longitude");
        assert!(
            warnings[0]["message"]
                .as_str()
                .unwrap()
                .contains("km from the centre")
        );
        // A village point next to its village: no warning.
        let mut near = township_point();
        near["kind"] = json!("village");
        near["region_code"] = json!(DONGLING_VILLAGE);
        near["crs"] = json!("wgs84");
        near["longitude"] = json!(114.0135);
        near["latitude"] = json!(33.6735);
        assert!(app.create_point(&near).await.get("warnings").is_none());
        app
    })
    .await;
}

#[tokio::test]
async fn patch_needs_if_match_and_a_stale_version_gets_412_with_the_current_point() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let created = app.create_point(&township_point()).await;
        let path = format!("/api/v1/points/{}", created["id"]);

        let response = app
            .send_json(Method::PATCH, &path, &json!({"beds": 6}), None)
            .await;
        expect_problem(response, 428, "PATCH without If-Match").await;

        let response = app
            .send_json(
                Method::PATCH,
                &path,
                &json!({"beds": 6, "notes": "周三集市"}),
                Some("\"1\""),
            )
            .await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["etag"], "\"2\"");
        let updated: Value = response.json().await.unwrap();
        assert_eq!(
            (updated["beds"].clone(), updated["version"].clone()),
            (json!(6), json!(2))
        );
        assert_eq!(updated["name"], "东岭镇献血点", "untouched members stay");

        // The same old version again: 412, and the body is the point as it now is.
        let response = app
            .send_json(Method::PATCH, &path, &json!({"beds": 9}), Some("\"1\""))
            .await;
        assert_eq!(response.status().as_u16(), 412);
        assert_eq!(response.headers()["etag"], "\"2\"");
        let current: Value = response.json().await.unwrap();
        assert_eq!(current["beds"], 6);
        assert_eq!(
            app.get_ok(&path).await["beds"],
            6,
            "the stale change was not applied"
        );

        // null clears an optional member; a required one cannot be cleared.
        let response = app
            .send_json(Method::PATCH, &path, &json!({"notes": null}), Some("\"2\""))
            .await;
        let cleared: Value = response.json().await.unwrap();
        assert!(cleared["notes"].is_null(), "{cleared}");
        for (body, field) in [
            (json!({"name": null}), "name"),
            (json!({"longitude": 114.1}), "latitude"),
            (json!({"crs": "gcj02"}), "crs"),
            (json!({"beds": 1000}), "beds"),
            (json!({"version": 7}), "version"),
        ] {
            let response = app
                .send_json(Method::PATCH, &path, &body, Some("\"3\""))
                .await;
            let problem = expect_problem(response, 400, &body.to_string()).await;
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
        let response = app
            .send_json(Method::PATCH, &path, &json!({"beds": 1}), Some("three"))
            .await;
        expect_problem(response, 400, "a malformed If-Match").await;
        let response = app
            .send_json(
                Method::PATCH,
                "/api/v1/points/999999",
                &json!({"beds": 1}),
                Some("\"1\""),
            )
            .await;
        expect_problem(response, 404, "an unknown point").await;
        app
    })
    .await;
}

#[tokio::test]
async fn an_if_match_naming_no_version_of_ours_is_412_not_400() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let created = app.create_point(&township_point()).await;
        let path = format!("/api/v1/points/{}", created["id"]);
        // Well-formed entity-tags this server never issued match nothing (RFC 9110): 412 with
        // the current point, and nothing changes.
        for tag in ["\"stale-0\"", "W/\"abc\"", "\"\"", "\"x\", \"7\""] {
            let response = app
                .send_json(Method::PATCH, &path, &json!({"beds": 9}), Some(tag))
                .await;
            assert_eq!(response.status().as_u16(), 412, "If-Match: {tag}");
            assert_eq!(response.headers()["etag"], "\"1\"", "If-Match: {tag}");
            let current: Value = response.json().await.unwrap();
            assert_eq!(current["beds"], 4, "If-Match: {tag}: {current}");
        }
        let response = app
            .send_json(Method::DELETE, &path, &json!({}), Some("\"stale-0\""))
            .await;
        assert_eq!(
            response.status().as_u16(),
            412,
            "closing with a foreign tag"
        );
        assert_eq!(app.get_ok(&path).await["status"], "active");
        // Malformed headers stay 400 naming If-Match.
        for tag in ["stale-0", "\"unclosed", "W/", ","] {
            let response = app
                .send_json(Method::PATCH, &path, &json!({"beds": 9}), Some(tag))
                .await;
            let problem = expect_problem(response, 400, tag).await;
            assert_eq!(problem["errors"][0]["field"], "If-Match", "{problem}");
        }
        // A list naming the current version matches, and so does `*`.
        let response = app
            .send_json(
                Method::PATCH,
                &path,
                &json!({"beds": 5}),
                Some("\"stale-0\", \"1\""),
            )
            .await;
        assert_eq!(response.status().as_u16(), 200);
        let response = app
            .send_json(Method::PATCH, &path, &json!({"beds": 6}), Some("*"))
            .await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(app.get_ok(&path).await["beds"], 6);
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_patches_with_the_same_version_exactly_one_wins() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let created = app.create_point(&township_point()).await;
        let path = format!("/api/v1/points/{}", created["id"]);
        // Eight clients, all holding version 1, change the point at the same moment.
        let url = app.url(&path);
        let tasks: Vec<_> = (0..8)
            .map(|beds| {
                let (client, url) = (app.client.clone(), url.clone());
                tokio::spawn(async move {
                    let response = client
                        .patch(&url)
                        .header("if-match", "\"1\"")
                        .json(&json!({"beds": beds}))
                        .send()
                        .await
                        .unwrap();
                    response.status().as_u16()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 412).count(),
            7,
            "{statuses:?}"
        );
        let point = app.get_ok(&path).await;
        assert_eq!(point["version"], 2);
        // The audit shows one creation and one update, no more.
        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=point&id={}", created["id"]))
            .await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["create", "update"]);
        app
    })
    .await;
}

#[tokio::test]
async fn closing_keeps_the_point_hides_it_by_default_and_is_audited() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let created = app.create_point(&township_point()).await;
        let id = created["id"].as_i64().unwrap();
        let response = app
            .client
            .delete(app.url(&format!("/api/v1/points/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let closed: Value = response.json().await.unwrap();
        assert_eq!(
            (closed["status"].clone(), closed["version"].clone()),
            (json!("closed"), json!(2))
        );

        assert_eq!(app.get_ok("/api/v1/points").await["items"], json!([]));
        let shown = app.get_ok("/api/v1/points?status=closed").await;
        assert_eq!(shown["items"][0]["id"], id);
        assert_eq!(
            app.get_ok(&format!("/api/v1/points/{id}")).await["status"],
            "closed"
        );

        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=point&id={id}"))
            .await;
        let records = audit["items"].as_array().unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0]["action"], "create");
        assert!(records[0]["before"].is_null());
        assert_eq!(records[1]["action"], "close");
        assert_eq!(records[1]["before"]["status"], "active");
        assert_eq!(records[1]["after"]["status"], "closed");
        assert_eq!(records[1]["region_code"], DONGLING);
        app
    })
    .await;
}

/// Points in Luohe: two in 郾城区 (孟庙镇, 商桥镇), one in 源汇区.
async fn luohe_points(app: &TestApp) -> Vec<Value> {
    app.import_luohe().await;
    let townships = app.get_ok("/api/v1/regions?parent=411102000000").await;
    let yuanhui_township = townships["items"][0]["code"].as_str().unwrap().to_owned();
    let mut out = Vec::new();
    for (name, code, lon, lat, kind) in [
        (
            "孟庙镇献血点",
            "411103101000",
            114.0795,
            33.5004,
            "township",
        ),
        (
            "商桥镇献血点",
            "411103102000",
            113.9700,
            33.6100,
            "township",
        ),
        (
            "源汇区献血屋",
            yuanhui_township.as_str(),
            114.0100,
            33.5700,
            "donation_house",
        ),
    ] {
        out.push(
            app.create_point(&json!({"name": name, "kind": kind, "region_code": code, "longitude": lon, "latitude": lat, "status": "active"}))
                .await,
        );
    }
    out
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn listings_filter_by_subtree_kind_and_bounding_box() {
    on_each_backend(|app| async move {
        let points = luohe_points(&app).await;
        let id = |i: usize| points[i]["id"].as_i64().unwrap();
        assert_eq!(
            ids(&app.get_ok("/api/v1/points?region=411103000000").await),
            [id(0), id(1)]
        );
        assert_eq!(
            ids(&app.get_ok("/api/v1/points?region=411103101000").await),
            [id(0)]
        );
        assert_eq!(
            ids(&app.get_ok("/api/v1/points?region=411100000000").await),
            [id(0), id(1), id(2)]
        );
        assert_eq!(
            ids(&app.get_ok("/api/v1/points?kind=donation_house").await),
            [id(2)]
        );
        assert_eq!(
            ids(&app
                .get_ok("/api/v1/points?bbox=114.0,33.45,114.1,33.55")
                .await),
            [id(0)]
        );
        // Pages of one, without gaps or repeats.
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = app.get_ok(&format!("/api/v1/points?limit=1{cursor}")).await;
            seen.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, [id(0), id(1), id(2)]);
        for (path, field) in [
            ("/api/v1/points?region=4111", "region"),
            ("/api/v1/points?bbox=1,2,3", "bbox"),
            ("/api/v1/points?bbox=114.1,33.5,114.0,33.6", "bbox"),
            ("/api/v1/points?near=114,33.5&radius_km=0", "radius_km"),
            ("/api/v1/points?near=114", "near"),
            ("/api/v1/points?radius_km=5", "radius_km"),
            ("/api/v1/points?status=open", "status"),
            ("/api/v1/points?limit=501", "limit"),
            ("/api/v1/points?cursor=x", "cursor"),
        ] {
            let (status, body) = app.get_json(path).await;
            assert_eq!(status, 400, "{path}: {body}");
            assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn near_lists_points_within_the_radius_nearest_first() {
    on_each_backend(|app| async move {
        let points = luohe_points(&app).await;
        let centre = (114.02, 33.56);
        let page = app
            .get_ok("/api/v1/points?near=114.02,33.56&radius_km=8")
            .await;
        let items = page["items"].as_array().unwrap();
        // Expected independently: every point within 8 km, by distance.
        let mut expected: Vec<(f64, i64)> = points
            .iter()
            .map(|p| {
                (
                    haversine_km(
                        centre,
                        (
                            p["longitude"].as_f64().unwrap(),
                            p["latitude"].as_f64().unwrap(),
                        ),
                    ),
                    p["id"].as_i64().unwrap(),
                )
            })
            .filter(|(d, _)| *d <= 8.0)
            .collect();
        expected.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(
            !expected.is_empty() && expected.len() < points.len(),
            "the test needs points on both sides of the radius"
        );
        assert_eq!(ids(&page), expected.iter().map(|e| e.1).collect::<Vec<_>>());
        for (item, (d, _)) in items.iter().zip(&expected) {
            assert!(
                (item["distance_km"].as_f64().unwrap() - d).abs() < 0.01,
                "{item}"
            );
        }
        // Paging a near query keeps the order.
        let first = app
            .get_ok("/api/v1/points?near=114.02,33.56&radius_km=50&limit=2")
            .await;
        let cursor = first["next_cursor"].as_str().unwrap();
        let rest = app
            .get_ok(&format!(
                "/api/v1/points?near=114.02,33.56&radius_km=50&limit=2&cursor={cursor}"
            ))
            .await;
        let all = app
            .get_ok("/api/v1/points?near=114.02,33.56&radius_km=50")
            .await;
        assert_eq!([ids(&first), ids(&rest)].concat(), ids(&all));
        app
    })
    .await;
}

#[tokio::test]
async fn the_geojson_view_is_a_valid_feature_collection() {
    on_each_backend(|app| async move {
        let points = luohe_points(&app).await;
        let response = app
            .client
            .get(app.url("/api/v1/points.geojson?region=411100000000"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], "application/geo+json");
        let doc: Value = response.json().await.unwrap();
        assert_eq!(doc["type"], "FeatureCollection");
        let features = doc["features"].as_array().unwrap();
        assert_eq!(features.len(), points.len());
        for (feature, point) in features.iter().zip(&points) {
            assert_eq!(feature["type"], "Feature");
            assert_eq!(feature["geometry"]["type"], "Point");
            let coordinates = feature["geometry"]["coordinates"].as_array().unwrap();
            assert_eq!(coordinates.len(), 2);
            // RFC 7946: longitude first, WGS-84.
            assert_eq!(coordinates[0], point["longitude"]);
            assert_eq!(coordinates[1], point["latitude"]);
            assert!(feature["properties"].is_object());
            assert_eq!(feature["properties"]["name"], point["name"]);
            assert!(feature["properties"].get("longitude").is_none());
        }
        let (status, body) = app.get_json("/api/v1/points.geojson?crs=gcj02").await;
        assert_eq!(status, 400, "{body}");
        app
    })
    .await;
}
