//! The station's network map in a real browser on a desk's screen (1366x768): staff sign in
//! and land on it; the villages are drawn on one canvas; the shading switches to survey age (the
//! legend with it); a village picked from the list beside the map opens its card there (htmx),
//! with its survey chart; a point's turnout forecast. Screenshots and axe-core at each step.

use super::{DESKTOP, Driver, clear_screenshots};
use crate::helpers::{on_each_backend, user_with_token};
use crate::plans::{CITY, network};

const PASSWORD: &str = "long enough passphrase";

#[tokio::test]
async fn staff_see_the_network_switch_the_shading_and_open_a_villages_card() {
    const TEST: &str = "station_network";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            let net = network(&app).await;
            // 西河村 (no point within 5 km) surveyed: listed beside the map, and suggested.
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
            let mut b = driver.browser(&app, "").await;
            b.resize(DESKTOP).await;
            b.goto("/login").await;
            b.fill("#username", "chen.staff").await;
            b.fill("#password", PASSWORD).await;
            b.click_to_load("form button[type=submit]").await;
            b.wait_for_path("the network map", |p| p.starts_with("/station/map"))
                .await;
            assert_eq!(b.text("h1").await, "演示市献血网络");
            b.wait_for_script().await;
            // One canvas holds the villages, points and rings.
            b.find("#map.leaflet-container canvas").await;
            b.find(".suggest-label").await;
            b.check("network").await;

            // Shaded by survey age: the other legend shows.
            let shown = async |css: &str| b.find(css).await.is_displayed().await.unwrap();
            assert!(shown(".villages-legend").await && !shown(".age-legend").await);
            b.click("input[name=shade][value=age]").await;
            assert!(!shown(".villages-legend").await && shown(".age-legend").await);
            b.check("network-by-age").await;

            // 西河村 from the list: its card beside the map, the page unchanged.
            b.click("ol.uncovered a[href='/station/map/village/990101102201']")
                .await;
            b.find("#card #card-h").await;
            assert_eq!(b.text("#card #card-h").await, "西河村委会");
            assert!(b.path().await.starts_with("/station/map"));
            assert_eq!(b.text("#card svg.chart text.value").await, "1200");
            b.check("network-card").await;

            // A point's forecast, village by village.
            b.goto(&format!(
                "/station/forecast?site=point-{}&date=2026-12-10",
                net.points[0]
            ))
            .await;
            b.find("table#villages tbody tr").await;
            b.find("svg.hbars rect").await;
            b.check("forecast").await;
            b.close().await;
            app
        }
    })
    .await;
}
