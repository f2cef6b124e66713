//! The station's results pages in a real browser on a desk's 1366x768 screen, in Chinese:
//! staff sign in, open a completed drive from its page, read its results (the figures, the
//! table and chart per stop, by blood group, village and deferral reason), one stop's
//! results, then the results report from the navigation (by drive, then by township, filtered
//! by dates, a wrong filter shown beside its field) and the calibration. Every page visited
//! is screenshotted and checked with axe-core.
//!
//! The network is the planning tests' (`crate::plans::network`); the drive is made, run and
//! completed through the API as the admin (`pages_station_results::completed`).

use super::{DESKTOP, Driver, clear_screenshots};
use crate::helpers::{on_each_backend, user_with_token};
use crate::pages_station_results::completed;
use crate::plans::{CITY, network};

const PASSWORD: &str = "long enough passphrase";

#[tokio::test]
async fn staff_at_a_desk_read_a_drives_results_and_the_report() {
    const TEST: &str = "station_results";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            let net = network(&app).await;
            let (d, s1, _) = completed(&app, &net).await;
            let id = d["id"].as_i64().unwrap();
            user_with_token(
                &app.db,
                "chen.station",
                "station_staff",
                &[CITY],
                Some(PASSWORD),
            )
            .await;

            let mut b = driver.browser(&app, "").await;
            b.resize(DESKTOP).await;
            b.goto("/login").await;
            b.fill("#username", "chen.station").await;
            b.fill("#password", PASSWORD).await;
            b.click_to_load("form button[type=submit]").await;

            // From the drive's page to its results.
            b.goto(&format!("/station/drives/{id}")).await;
            b.click_to_load("#drive-results").await;
            assert!(b.text("h1").await.contains("出车结果"));
            let text = b.visible_text().await;
            assert!(text.contains("东岭村委会"), "{text}");
            assert!(text.contains("体重不足"), "{text}");
            assert!(text.contains("-6.0（-66.7%）"), "{text}");
            b.find("#chart-stops svg[role=img]").await;
            b.check("drive-results").await;
            b.scroll_to("#by-blood").await;
            b.check("drive-results-breakdowns").await;

            // One stop's results.
            b.click_to_load(&format!("#by-stop a[href='/station/stops/{s1}/results']"))
                .await;
            let text = b.visible_text().await;
            assert!(text.contains("700 毫升"), "{text}");
            b.check("stop-results").await;

            // The report from the navigation: by drive, then by township within dates.
            b.click_to_load("#nav-station-reports").await;
            assert_eq!(b.text("h1").await, "采血结果报表");
            b.find(&format!("#report a[href='/station/drives/{id}/results']"))
                .await;
            b.check("report").await;
            b.goto("/station/reports?group=township&from=2026-11-01&to=2026-11-30")
                .await;
            let text = b.visible_text().await;
            assert!(text.contains("东岭镇") && text.contains("南塘镇"), "{text}");
            assert!(b.has("#download-csv").await);
            b.check("report-township").await;

            // A region code that is not one: said beside the field.
            b.fill("#region", "12").await;
            b.click_to_load("#apply").await;
            assert!(b.has("#region[aria-invalid=true]").await);
            b.check("report-wrong-region").await;

            // The calibration.
            b.click_to_load("#calibration-link").await;
            assert_eq!(b.text("h1").await, "预测参数校准");
            b.check("calibration").await;
            app
        }
    })
    .await;
}
