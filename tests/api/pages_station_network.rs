//! The station's network map over HTTP (the browser test walks it too): staff land on it; its
//! figures, uncovered villages and suggested sites are the coverage report's (`/api/v1/coverage`,
//! read as the admin); the map's JSON draws every located village with its survey age, every
//! point and the suggestions; a village's card shows its survey history as a chart and the
//! drives held there, a point's card its coordinators and drives (htmx gets the card alone);
//! outside the reader's reach the map, its JSON and the cards do not exist.
//!
//! The network is the planning tests' (`crate::plans::network`): the demo city (演示市) with
//! one county, four active points and five surveyed villages.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::Value;

use crate::bookings::{published_stop, today};
use crate::helpers::{TestApp, on_each_backend, user_with_token};
use crate::page_client::{PASSWORD, get, sign_in};
use crate::plans::{CITY, COUNTY, network};

/// The JSON of a page address, as the map's script reads it.
async fn json(app: &TestApp, client: &reqwest::Client, path: &str) -> (StatusCode, Value) {
    let response = client.get(app.url(path)).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn staff_land_on_the_network_map_whose_figures_and_lists_are_the_coverage_reports() {
    on_each_backend(|app| async move {
        network(&app).await;
        // 西河村 (no point within 5 km) surveyed: a site worth suggesting.
        let response = app
            .client
            .post(app.url("/api/v1/regions/990101102201/surveys"))
            .json(
                &serde_json::json!({"eligible_total": 1200, "surveyed_on": "2026-11-01",
                                      "source": "village_doctor"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        user_with_token(
            &app.db,
            "chen.staff",
            "station_staff",
            &[CITY],
            Some(PASSWORD),
        )
        .await;
        let staff = sign_in(&app, "chen.staff", PASSWORD).await;
        let home = staff.get(app.url("/")).send().await.unwrap();
        assert_eq!(home.headers()["location"], "/station/map");

        let (status, page) = get(&app, &staff, "/station/map").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("<h1>演示市献血网络</h1>"), "{page}");
        assert!(
            page.contains("href=\"/station/map?code=990101000000\""),
            "the county"
        );
        let report = app
            .get_ok(&format!(
                "/api/v1/coverage?region={CITY}&suggest=5&limit=30"
            ))
            .await;
        // The figures.
        for figure in [
            format!("<dd>{}</dd>", report["villages"]),
            format!("<dd>{}</dd>", report["eligible_total"]),
        ] {
            assert!(page.contains(&figure), "{figure} in {page}");
        }
        let covered = report["villages_covered"].as_i64().unwrap();
        assert!(page.contains(&format!("<dd>{covered} (")), "{page}");
        // Uncovered villages and suggestions, in the report's order.
        let in_order = |names: Vec<&str>| {
            let mut at = 0;
            for name in &names {
                let found = page[at..]
                    .find(&format!(">{name}<"))
                    .unwrap_or_else(|| panic!("{name} after {at} in {names:?}"));
                at += found + 1;
            }
        };
        let uncovered: Vec<&str> = report["uncovered"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert!(!uncovered.is_empty(), "{report}");
        in_order(uncovered);
        let suggested: Vec<&str> = report["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert!(!suggested.is_empty(), "{report}");
        in_order(suggested);
        let first = &report["uncovered"][0];
        assert!(page.contains(&format!(
            "hx-get=\"/station/map/village/{}\" hx-target=\"#card\"",
            first["code"].as_str().unwrap()
        )));

        // The map's data: located villages (with their survey's age), points, suggestions.
        let (status, data) = json(&app, &staff, "/station/map.json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(data["crs"], "wgs84");
        let villages = data["villages"].as_array().unwrap();
        let located = report["villages"].as_u64().unwrap()
            - report["villages_without_location"].as_u64().unwrap();
        assert_eq!(villages.len() as u64, located);
        let dongling = villages
            .iter()
            .find(|v| v["code"] == "990101101201")
            .unwrap();
        assert_eq!(dongling["eligible"], 5000);
        // Surveyed on 2026-10-01: within a year until 2027-10-01.
        let age = if today() <= chrono::NaiveDate::from_ymd_opt(2027, 10, 1).unwrap() {
            "recent"
        } else {
            "old"
        };
        assert_eq!(dongling["age"], age, "{dongling}");
        assert!(
            villages.iter().any(|v| v["age"] == "none"),
            "unsurveyed ones"
        );
        assert_eq!(data["points"].as_array().unwrap().len(), 4);
        assert_eq!(
            data["suggestions"].as_array().unwrap().len(),
            report["suggestions"].as_array().unwrap().len()
        );
        assert_eq!(
            data["suggestions"][0]["code"],
            report["suggestions"][0]["code"]
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_cards_show_a_villages_surveys_and_a_points_coordinators_and_drives_held_there() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let p1 = net.points[0];
        let date = today() + Duration::days(3);
        published_stop(&app, net.vehicles[0], p1, date, "09:00", "11:00").await;
        // A second survey of 东岭村 (5000 on 2026-10-01 before).
        let response = app
            .client
            .post(app.url("/api/v1/regions/990101101201/surveys"))
            .json(
                &serde_json::json!({"eligible_total": 4800, "surveyed_on": today().to_string(),
                                      "source": "village_doctor"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        user_with_token(
            &app.db,
            "chen.staff",
            "station_staff",
            &[CITY],
            Some(PASSWORD),
        )
        .await;
        let staff = sign_in(&app, "chen.staff", PASSWORD).await;

        let (status, card) = get(&app, &staff, "/station/map/village/990101101201").await;
        assert_eq!(status, StatusCode::OK, "{card}");
        assert!(card.contains("<html"), "a page of its own without htmx");
        assert!(
            card.contains("东岭村委会") && card.contains("4800 人"),
            "{card}"
        );
        assert_eq!(
            card.matches("<rect ").count(),
            2,
            "one bar a survey: {card}"
        );
        assert!(card.contains("5000") && card.contains("2026.10"), "{card}");
        assert!(
            card.contains("东岭村献血点"),
            "the drive held at P1: {card}"
        );
        assert!(card.contains("已发布"), "{card}");

        // With htmx: the card alone.
        let fragment = staff
            .get(app.url(&format!("/station/map/point/{p1}")))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(fragment.status(), StatusCode::OK);
        let fragment = fragment.text().await.unwrap();
        assert!(!fragment.contains("<html"), "{fragment}");
        assert!(fragment.contains("李医生 · 主要联系人"), "{fragment}");
        assert!(
            fragment.contains("13800001111"),
            "staff read the number: {fragment}"
        );
        assert!(fragment.contains(&format!("href=\"/points/{p1}\"")));
        assert!(fragment.contains("预计 20 人"), "{fragment}");

        // Not a village; not a point.
        let (status, _) = get(&app, &staff, "/station/map/village/990101101000").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = get(&app, &staff, "/station/map/point/99999").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

#[tokio::test]
async fn outside_the_readers_reach_the_map_its_data_and_cards_do_not_exist() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        app.import_luohe().await;
        // Staff of another city (漯河市).
        user_with_token(
            &app.db,
            "luohe.staff",
            "station_staff",
            &["411100000000"],
            Some(PASSWORD),
        )
        .await;
        let other = sign_in(&app, "luohe.staff", PASSWORD).await;
        for path in [
            format!("/station/map?code={CITY}"),
            format!("/station/map?code={COUNTY}"),
            format!("/station/map.json?code={CITY}"),
            "/station/map/village/990101101201".to_owned(),
            format!("/station/map/point/{}", net.points[0]),
        ] {
            let (status, page) = get(&app, &other, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {page}");
            assert!(
                !page.contains("东岭") && !page.contains("演示市"),
                "{path}: {page}"
            );
        }
        // Their own city is theirs.
        let (status, page) = get(&app, &other, "/station/map").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<h1>漯河市献血网络</h1>"), "{page}");
        // Nobody signed in goes to sign in.
        let anonymous = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = anonymous.get(app.url("/station/map")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert!(
            response.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login")
        );
        app
    })
    .await;
}
