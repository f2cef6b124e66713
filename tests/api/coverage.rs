//! `GET /api/v1/coverage`: covered and uncovered villages, and suggested new points.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, on_each_backend};

/// 东岭镇 of the demo county, with surveys: its villages lie 1.9 km or more apart, and the
/// township's recorded centre is about 0.4 km from 东岭社区.
async fn dongling(app: &TestApp) {
    donornet::seed::load_demo_divisions(&app.db).await.unwrap();
    for (village, total) in [
        ("990101101201", 600),
        ("990101101202", 900),
        ("990101101203", 300),
        ("990101101204", 500),
        ("990101101205", 200),
        ("990101101006", 800),
    ] {
        let response = app
            .send_json(
                Method::POST,
                &format!("/api/v1/regions/{village}/surveys"),
                &json!({"eligible_total": total, "surveyed_on": "2026-10-01", "source": "village_doctor"}),
                None,
            )
            .await;
        assert_eq!(response.status().as_u16(), 201);
    }
    // An active point exactly at 东岭村委会's centre.
    app.create_point(
        &json!({"name": "东岭村献血点", "kind": "village", "region_code": "990101101201",
                              "longitude": 114.0132, "latitude": 33.6737, "status": "active"}),
    )
    .await;
}

#[tokio::test]
async fn coverage_lists_the_uncovered_and_suggests_where_to_reach_the_most() {
    on_each_backend(|app| async move {
        dongling(&app).await;
        let report = app
            .get_ok("/api/v1/coverage?region=990101101000&radius_km=0.5&suggest=3")
            .await;
        assert_eq!(report["villages"], 6);
        assert_eq!(report["villages_covered"], 1);
        assert_eq!(report["eligible_total"], 3300);
        assert_eq!(report["eligible_covered"], 600);
        let codes = |list: &Value| -> Vec<String> {
            list.as_array()
                .unwrap()
                .iter()
                .map(|v| v["code"].as_str().unwrap().to_owned())
                .collect()
        };
        // Most eligible first.
        assert_eq!(
            codes(&report["uncovered"]),
            [
                "990101101202",
                "990101101006",
                "990101101204",
                "990101101203",
                "990101101205"
            ]
        );
        // Each pick covers one village at this radius: the largest first. 东岭社区 is reached
        // from the township's centre as well as its own; the lower code (the township) wins.
        let picks = &report["suggestions"];
        assert_eq!(
            codes(picks),
            ["990101101202", "990101101000", "990101101204"]
        );
        assert_eq!(picks[0]["gain_eligible"], 900);
        assert_eq!(picks[1]["gain_eligible"], 800);
        assert_eq!(picks[1]["level"], "township");
        assert_eq!(picks[1]["covers"], json!(["990101101006"]));
        assert_eq!(picks[2]["rank"], 3);

        // 5 km from 东岭村 reaches every village of the township (the farthest, 石桥, is 4.7 km).
        let wide = app
            .get_ok("/api/v1/coverage?region=990101101000&suggest=2")
            .await;
        assert_eq!(wide["radius_km"], 5.0);
        assert_eq!(wide["villages_covered"], 6);
        assert_eq!(wide["suggestions"], json!([]));

        // The same as GeoJSON.
        let response =
            app.client
                .get(app.url(
                    "/api/v1/coverage?region=990101101000&radius_km=0.5&suggest=1&format=geojson",
                ))
                .send()
                .await
                .unwrap();
        assert_eq!(response.headers()["content-type"], "application/geo+json");
        let geo: Value = response.json().await.unwrap();
        let kinds: Vec<&str> = geo["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "uncovered",
                "uncovered",
                "uncovered",
                "uncovered",
                "uncovered",
                "suggestion"
            ]
        );
        app
    })
    .await;
}

#[tokio::test]
async fn coverage_parameters_and_access_are_checked() {
    on_each_backend(|app| async move {
        dongling(&app).await;
        for (query, field) in [
            ("region=12", "region"),
            ("region=990101101000&radius_km=0", "radius_km"),
            ("region=990101101000&radius_km=51", "radius_km"),
            ("region=990101101000&suggest=51", "suggest"),
            ("region=990101101000&limit=0", "limit"),
            ("region=990101101000&format=kml", "format"),
        ] {
            let response = app
                .client
                .get(app.url(&format!("/api/v1/coverage?{query}")))
                .send()
                .await
                .unwrap();
            let problem = expect_problem(response, 400, query).await;
            assert_eq!(problem["errors"][0]["field"], field);
        }
        let outsider = app.client_for("other", "viewer", &["990101102000"]).await;
        let response = outsider
            .get(app.url("/api/v1/coverage?region=990101101000"))
            .send()
            .await
            .unwrap();
        expect_problem(response, 404, "a region outside the caller's").await;
        let response = app
            .anonymous
            .get(app.url("/api/v1/coverage?region=990101101000"))
            .send()
            .await
            .unwrap();
        expect_problem(response, 401, "anonymous").await;
        app
    })
    .await;
}
