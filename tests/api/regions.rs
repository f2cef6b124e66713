use std::collections::HashSet;

use serde_json::Value;

use crate::helpers::{codes, expect_problem, names, on_each_backend};

#[tokio::test]
async fn luohe_has_58_township_level_and_1334_village_level_units() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let city = app.get_ok("/api/v1/regions/411100000000").await;
        assert_eq!(city["name"], "漯河市");
        assert_eq!(city["level"], "city");
        let counts = &city["descendant_counts"];
        assert_eq!(counts["county"], 6, "{city}");
        assert_eq!(counts["township"], 58, "{city}");
        assert_eq!(counts["village"], 1334, "{city}");
        let kinds = &city["village_kinds"];
        assert_eq!(
            kinds["village"].as_u64().unwrap() + kinds["community"].as_u64().unwrap(),
            1334
        );
        // The same figures by listing: every township of the city, across pages.
        let townships = app.list_all("parent=411100000000&level=township", 50).await;
        assert_eq!(townships.len(), 58);
        assert!(townships.iter().all(|t| t["level"] == "township"));
        app
    })
    .await;
}

#[tokio::test]
async fn yancheng_district_contains_mengmiao_and_shangqiao() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let page = app.get_ok("/api/v1/regions?parent=411103000000").await;
        let items = page["items"].as_array().unwrap();
        let names = names(items);
        assert!(names.contains(&"孟庙镇"), "{names:?}");
        assert!(names.contains(&"商桥镇"), "{names:?}");
        // Direct children only, all pointing at the district.
        assert!(
            items
                .iter()
                .all(|i| i["parent_code"] == "411103000000" && i["level"] == "township")
        );
        let district = app.get_ok("/api/v1/regions/411103000000").await;
        assert_eq!(district["name"], "郾城区");
        assert_eq!(
            district["descendant_counts"]["township"].as_u64().unwrap() as usize,
            items.len()
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_village_shows_its_breadcrumb_from_the_province_down() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let village = app.get_ok("/api/v1/regions/411103101001").await;
        assert_eq!(village["name"], "李村居民委员会");
        assert_eq!(village["level"], "village");
        assert_eq!(village["kind"], "community");
        assert_eq!(village["parent_code"], "411103101000");
        let crumbs: Vec<(&str, &str)> = village["ancestors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["name"].as_str().unwrap(), a["level"].as_str().unwrap()))
            .collect();
        assert_eq!(
            crumbs,
            [
                ("河南省", "province"),
                ("漯河市", "city"),
                ("郾城区", "county"),
                ("孟庙镇", "township")
            ]
        );
        assert_eq!(village["descendant_counts"]["village"], 0);
        app
    })
    .await;
}

#[tokio::test]
async fn village_kind_follows_the_name() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let villages = app.list_all("parent=411103101000", 500).await;
        assert!(!villages.is_empty());
        for v in &villages {
            let name = v["name"].as_str().unwrap();
            let expected = if name.contains("社区") || name.contains("居民委员会") {
                "community"
            } else {
                "village"
            };
            assert_eq!(v["kind"], expected, "{name}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn search_by_name_stays_within_the_subtree() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        app.import(&donornet_demo_csv()).await;
        // Anywhere: the township and the 孟庙 villages.
        let everywhere = app.list_all("q=孟庙", 500).await;
        assert!(names(&everywhere).contains(&"孟庙镇"), "{everywhere:?}");
        assert!(
            everywhere
                .iter()
                .all(|i| i["name"].as_str().unwrap().contains("孟庙"))
        );
        // Within 源汇区 (411102): only its communities, none from 郾城区.
        let within = app.list_all("parent=411102000000&q=社区", 500).await;
        assert!(!within.is_empty());
        for item in &within {
            assert!(
                item["code"].as_str().unwrap().starts_with("411102"),
                "{item}"
            );
            assert!(item["name"].as_str().unwrap().contains("社区"));
        }
        // Combined with a level.
        let townships = app
            .list_all("parent=411100000000&level=township&q=镇", 500)
            .await;
        assert!(!townships.is_empty());
        assert!(
            townships
                .iter()
                .all(|t| t["level"] == "township" && t["name"].as_str().unwrap().contains('镇'))
        );
        // Wildcards are literal text, not patterns.
        let none = app.get_ok("/api/v1/regions?q=%25").await;
        assert_eq!(none["items"].as_array().unwrap().len(), 0, "{none}");
        app
    })
    .await;
}

fn donornet_demo_csv() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data/demo-divisions.csv")
}

#[tokio::test]
async fn pagination_returns_every_village_once_in_code_order() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let all = app.list_all("parent=411100000000&level=village", 37).await;
        let codes = codes(&all);
        assert_eq!(codes.len(), 1334);
        let unique: HashSet<&str> = codes.iter().copied().collect();
        assert_eq!(unique.len(), 1334, "a village appeared twice");
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "not in code order");
        // The last page has no cursor; a page of exactly the remainder works too.
        let path = format!(
            "/api/v1/regions?parent=411100000000&level=village&limit=500&cursor={}",
            codes[833]
        );
        let page = app.get_ok(&path).await;
        assert_eq!(page["items"].as_array().unwrap().len(), 500);
        assert!(page["next_cursor"].is_null(), "{}", page["next_cursor"]);
        app
    })
    .await;
}

#[tokio::test]
async fn the_top_level_lists_the_provinces() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let page = app.get_ok("/api/v1/regions").await;
        let items = page["items"].as_array().unwrap();
        assert_eq!(names(items), ["河南省"]);
        app
    })
    .await;
}

#[tokio::test]
async fn bad_parameters_are_400_problems_naming_the_field() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let cases: &[(&str, &str, &str)] = &[
            ("/api/v1/regions/41110310100", "code", "an 11-digit code"),
            (
                "/api/v1/regions/41110310100x",
                "code",
                "a code with a letter",
            ),
            ("/api/v1/regions?parent=4111", "parent", "a short parent"),
            ("/api/v1/regions?limit=0", "limit", "a zero limit"),
            (
                "/api/v1/regions?limit=501",
                "limit",
                "a limit above the maximum",
            ),
            (
                "/api/v1/regions?limit=many",
                "limit",
                "a limit that is not a number",
            ),
            ("/api/v1/regions?limit=-1", "limit", "a negative limit"),
            ("/api/v1/regions?level=hamlet", "level", "an unknown level"),
            ("/api/v1/regions?cursor=abc", "cursor", "a malformed cursor"),
        ];
        for (path, field, what) in cases {
            let response = app.client.get(app.url(path)).send().await.unwrap();
            let body = expect_problem(response, 400, &format!("{what}: {path}")).await;
            let fields: Vec<&str> = body["errors"]
                .as_array()
                .unwrap_or_else(|| panic!("{what}: {body}"))
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert_eq!(fields, [*field], "{what}: {body}");
        }
        let more: &[(&str, &str, &str)] = &[
            ("/api/v1/regions?q=%00", "q", "a NUL in the search text"),
            (
                "/api/v1/regions?q=a%07b",
                "q",
                "a control character in the search text",
            ),
            (
                "/api/v1/regions?parent_code=411100000000",
                "parent_code",
                "an unknown parameter",
            ),
            (
                "/api/v1/regions?limit=1&limit=2",
                "limit",
                "a repeated parameter",
            ),
            (
                "/api/v1/regions/%FF%FE",
                "code",
                "invalid UTF-8 in the path",
            ),
        ];
        for (path, field, what) in more {
            let (status, body) = app.get_json(path).await;
            assert_eq!(status, 400, "{what}: {body}");
            assert_eq!(body["errors"][0]["field"], *field, "{what}: {body}");
        }
        let long_q = "村".repeat(51);
        let (status, body) = app.get_json(&format!("/api/v1/regions?q={long_q}")).await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"][0]["field"], "q");
        app
    })
    .await;
}

#[tokio::test]
async fn unknown_regions_and_routes_are_404_problems() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        for path in [
            "/api/v1/regions/419999999999",
            "/api/v1/regions?parent=419900000000",
            "/api/v1/nothing-here",
        ] {
            let response = app.client.get(app.url(path)).send().await.unwrap();
            expect_problem(response, 404, path).await;
        }
        let response = app
            .client
            .delete(app.url("/api/v1/regions/411100000000"))
            .send()
            .await
            .unwrap();
        expect_problem(response, 405, "DELETE on a region").await;
        app
    })
    .await;
}

#[tokio::test]
async fn large_listings_are_gzip_compressed_when_the_client_accepts_it() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let path = "/api/v1/regions?parent=411100000000&level=village&limit=500";
        let plain = app.client.get(app.url(path)).send().await.unwrap();
        assert!(plain.headers().get("content-encoding").is_none());
        let plain_len = plain.bytes().await.unwrap().len();
        let gzipped = app
            .client
            .get(app.url(path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(gzipped.headers()["content-encoding"], "gzip");
        let body = gzipped.bytes().await.unwrap();
        assert!(body.len() < plain_len / 2, "{} vs {plain_len}", body.len());
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut text)
            .unwrap();
        let page: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), 500);
        app
    })
    .await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_a_413_problem() {
    on_each_backend(|app| async move {
        let response = app
            .client
            .post(app.url("/api/v1/regions"))
            .header("content-type", "application/json")
            .body(vec![b' '; 2 * 1024 * 1024])
            .send()
            .await
            .unwrap();
        expect_problem(response, 413, "a 2 MiB body").await;
        app
    })
    .await;
}

#[tokio::test]
async fn search_ignores_ascii_case_on_both_backends() {
    on_each_backend(|app| async move {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin.csv");
        std::fs::write(
            &path,
            "code,name,level,parent_code\n980000000000,Demo Province,province,\n980100000000,Riverside City,city,980000000000\n",
        )
        .unwrap();
        app.import(&path).await;
        for q in ["riverside", "RIVERSIDE", "RiverSide"] {
            let page = app.get_ok(&format!("/api/v1/regions?q={q}")).await;
            assert_eq!(names(page["items"].as_array().unwrap()), ["Riverside City"], "q={q}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn a_village_centre_population_and_kind_are_edited_with_if_match() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let path = "/api/v1/regions/411103101201";
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.headers()["etag"], "\"1\"");
        let before: Value = response.json().await.unwrap();
        assert!(before["longitude"].is_null());
        let name = before["name"].as_str().unwrap().to_owned();

        let body = serde_json::json!({"longitude": 114.0851, "latitude": 33.5032, "crs": "gcj02", "population": 2150, "kind": "community"});
        let response = app.send_json(reqwest::Method::PATCH, path, &body, None).await;
        expect_problem(response, 428, "no If-Match").await;
        let response = app.send_json(reqwest::Method::PATCH, path, &body, Some("\"1\"")).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["etag"], "\"2\"");
        let after: Value = response.json().await.unwrap();
        assert_eq!(after["population"], 2150);
        assert_eq!(after["kind"], "community");
        assert_eq!(after["kind_overridden"], true);
        // Stored in WGS-84: west and north of the GCJ-02 input by a few hundred metres.
        let (lon, lat) = (after["longitude"].as_f64().unwrap(), after["latitude"].as_f64().unwrap());
        assert!(lon < 114.0851 && lon > 114.07 && (lat - 33.5032).abs() < 0.01, "{lon},{lat}");

        // Stale version: 412 with the region as it is.
        let response = app.send_json(reqwest::Method::PATCH, path, &serde_json::json!({"population": 1}), Some("\"1\"")).await;
        assert_eq!(response.status().as_u16(), 412);
        let current: Value = response.json().await.unwrap();
        assert_eq!(current["population"], 2150);

        // A re-import keeps the hand-set kind and location.
        app.import_luohe().await;
        let again = app.get_ok(path).await;
        assert_eq!(again["kind"], "community");
        assert_eq!(again["longitude"], after["longitude"]);
        // null returns the kind to the one derived from the name.
        let response = app.send_json(reqwest::Method::PATCH, path, &serde_json::json!({"kind": null}), Some("\"2\"")).await;
        let reverted: Value = response.json().await.unwrap();
        assert_eq!(reverted["kind_overridden"], false);
        assert_eq!(reverted["kind"], if name.contains("社区") { "community" } else { "village" });

        // Audited with before and after.
        let audit = app.get_ok("/api/v1/audit?entity=region&id=411103101201").await;
        let records = audit["items"].as_array().unwrap();
        assert_eq!(records.len(), 2);
        assert!(records[0]["before"]["population"].is_null());
        assert_eq!(records[0]["after"]["population"], 2150);
        app
    })
    .await;
}

#[tokio::test]
async fn region_edits_are_validated_field_by_field() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        for (path, body, field) in [
            (
                "/api/v1/regions/411103000000",
                serde_json::json!({"population": 5}),
                "code",
            ),
            (
                "/api/v1/regions/411103101000",
                serde_json::json!({"kind": "village"}),
                "kind",
            ),
            (
                "/api/v1/regions/411103101201",
                serde_json::json!({"longitude": 114.0}),
                "latitude",
            ),
            (
                "/api/v1/regions/411103101201",
                serde_json::json!({"longitude": 14.0, "latitude": 33.0}),
                "longitude",
            ),
            (
                "/api/v1/regions/411103101201",
                serde_json::json!({"population": -1}),
                "population",
            ),
            (
                "/api/v1/regions/411103101201",
                serde_json::json!({"crs": "gcj02"}),
                "crs",
            ),
            (
                "/api/v1/regions/411103101201",
                serde_json::json!({"name": "x"}),
                "name",
            ),
        ] {
            let response = app
                .send_json(reqwest::Method::PATCH, path, &body, Some("\"1\""))
                .await;
            let problem = expect_problem(response, 400, &body.to_string()).await;
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
        // Nothing changed.
        assert_eq!(
            app.get_ok("/api/v1/regions/411103101201").await["version"],
            1
        );
        app
    })
    .await;
}
