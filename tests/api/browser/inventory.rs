//! The blood inventory pages in a real browser, on a phone (360 px) and a laptop (1366 px), in
//! Chinese, axe-core clean at both sizes: the board (who is short, who can spare, a request
//! with an offer, each station's stock) and a station's page (the history chart with its amber
//! and red lines, the stock sheet's form and the levels), then a posting through the form.

use chrono::{Duration, NaiveDate};
use reqwest::Method;
use serde_json::{Value, json};

use super::{DESKTOP, Driver, PHONE, clear_screenshots};
use crate::helpers::{TestApp, on_each_backend, user_with_token};

const PASSWORD: &str = "long enough passphrase";
const EAST: &str = "990101101000";
const WEST: &str = "990101102000";

async fn station(app: &TestApp, name: &str, region: &str) -> i64 {
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/stations",
            &json!({"name": name, "region_code": region, "longitude": 114.02, "latitude": 33.66}),
            None,
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// Posts a sheet as the admin, with the station's current version.
async fn post(app: &TestApp, station: i64, rows: Value) {
    let path = format!("/api/v1/stations/{station}/inventory");
    let current: Value = app
        .client
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tag = format!("\"{}\"", current["version"]);
    let response = app
        .send_json(Method::PUT, &path, &json!({"rows": rows}), Some(&tag))
        .await;
    assert_eq!(
        response.status().as_u16(),
        200,
        "{}",
        response.text().await.unwrap()
    );
}

fn row(component: &str, group: &str, units: i64, daily: f64) -> Value {
    json!({"component": component, "blood_group": group, "units": units,
        "ml": units * 200, "daily_use_units": daily})
}

#[tokio::test]
async fn the_board_and_a_station_on_a_phone_and_a_laptop() {
    const TEST: &str = "inventory";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            donornet::seed::load_demo_divisions(&app.db).await.unwrap();
            let east = station(&app, "东岭血站", EAST).await;
            let west = station(&app, "西河血站", WEST).await;
            // A week of the east's red cells O+ going down, the west's plenty.
            let start: NaiveDate = "2026-12-01".parse().unwrap();
            for (day, units) in [40, 34, 30, 22, 18, 12, 8].into_iter().enumerate() {
                app.set_today(&(start + Duration::days(day as i64)).to_string());
                post(
                    &app,
                    east,
                    json!([
                        row("red_cells", "O+", units, 10.0),
                        row("plasma", "A+", 60, 4.0)
                    ]),
                )
                .await;
            }
            post(
                &app,
                west,
                json!([
                    row("red_cells", "O+", 200, 10.0),
                    row("whole_blood", "B+", 30, 3.0)
                ]),
            )
            .await;
            // The east asks, the west offers.
            let request: Value = app
                .send_json(
                    Method::POST,
                    "/api/v1/blood-requests",
                    &json!({"station_id": east, "component": "red_cells", "blood_group": "O+",
                        "units": 20, "ml": 0, "needed_by": "2026-12-09", "note": "手术备血"}),
                    None,
                )
                .await
                .json()
                .await
                .unwrap();
            let response = app
                .send_json(
                    Method::POST,
                    &format!("/api/v1/blood-requests/{}/offers", request["id"]),
                    &json!({"station_id": west, "units": 20, "ml": 0}),
                    None,
                )
                .await;
            assert_eq!(
                response.status().as_u16(),
                201,
                "{}",
                response.text().await.unwrap()
            );

            user_with_token(
                &app.db,
                "east.staff",
                "station_staff",
                &[EAST],
                Some(PASSWORD),
            )
            .await;
            let mut b = driver.browser(&app, "").await;
            b.goto("/login").await;
            b.fill("#username", "east.staff").await;
            b.fill("#password", PASSWORD).await;
            b.click_to_load("form button[type=submit]").await;
            b.wait_for_path("signed in", |p| !p.starts_with("/login"))
                .await;

            // The board, from the menu.
            b.goto("/station/map").await;
            b.click_to_load("#nav-station-inventory").await;
            b.wait_for_path("the board", |p| p == "/station/inventory")
                .await;
            let text = b.visible_text().await;
            assert!(text.contains("紧缺（红色预警）"), "{text}");
            assert!(text.contains("可调出 "), "{text}");
            assert!(text.contains("西河血站 · 20 U"), "{text}");
            b.check("board").await;
            b.scroll_to("#stations-h").await;
            b.check("board-stations").await;
            b.resize(DESKTOP).await;
            b.goto("/station/inventory").await;
            b.check("board-wide").await;

            // The east's page: the chart of red cells O+ with its lines, and the forms.
            let path = format!("/station/inventory/stations/{east}");
            b.goto(&path).await;
            b.find("svg.sinv-chart").await;
            assert!(
                b.text("#chart-summary").await.contains("共 7 条记录"),
                "{}",
                b.text("#chart-summary").await
            );
            b.check("station-wide").await;
            b.resize(PHONE).await;
            b.goto(&path).await;
            b.check("station").await;
            b.scroll_to("#sheet-h").await;
            b.check("station-sheet").await;

            // A bad field through the form, then a good one.
            b.fill("#units-14", "很多").await;
            b.click_to_load("#post-sheet").await;
            b.find("#units-14-error").await;
            b.scroll_to("#units-14").await;
            b.check("station-sheet-error").await;
            b.fill("#units-14", "50").await;
            b.click_to_load("#post-sheet").await;
            b.wait_for_path("posted", |p| p.ends_with("?done=posted"))
                .await;
            assert!(b.visible_text().await.contains("库存已上报。"));
            b.scroll_to("#levels-h").await;
            b.check("station-levels").await;

            // The request with its offer (accepted here), and the request form.
            b.goto(&format!("/station/inventory/requests/{}", request["id"]))
                .await;
            b.check_wide("request").await;
            b.click_to_load(".sinv-offers button[type=submit]").await;
            b.wait_for_path("accepted", |p| p.ends_with("?done=accepted"))
                .await;
            assert!(b.visible_text().await.contains("已选定该响应。"));
            b.check("request-accepted").await;
            b.goto("/station/inventory/requests/new").await;
            b.check_wide("request-new").await;
            b.close().await;
            app
        }
    })
    .await;
}
