//! The blood inventory and linkage pages over HTTP (the browser walks them in
//! `browser::inventory`): staff post their station's sheet from the form and see the days of
//! supply and levels (a red level links the recruitment need it raised); a bad field is shown
//! beside its field and nothing is written; another city's staff read the board and the
//! station without a form and a forged post is refused; an official is refused the board; and
//! a request is offered, accepted (a stale accept shows the current state), dispatched and
//! received through the pages, both stocks moved.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};
use crate::page_client::{get, input_value, post, signed_in};

/// 东岭镇 and 西河乡 of the demo county: two stations' regions, as two cities.
const EAST: &str = "990101101000";
const WEST: &str = "990101102000";

async fn station(app: &TestApp, name: &str, region: &str) -> i64 {
    let response = app
        .client
        .post(app.url("/api/v1/stations"))
        .json(&json!({"name": name, "region_code": region,
            "longitude": 114.02, "latitude": 33.66}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

struct Setup {
    east: i64,
    west: i64,
    east_staff: Client,
    west_staff: Client,
}

async fn setup(app: &TestApp) -> Setup {
    donornet::seed::load_demo_divisions(&app.db).await.unwrap();
    app.set_today("2026-12-07");
    Setup {
        east: station(app, "东岭血站", EAST).await,
        west: station(app, "西河血站", WEST).await,
        east_staff: signed_in(app, "east", "station_staff", &[EAST]).await,
        west_staff: signed_in(app, "west", "station_staff", &[WEST]).await,
    }
}

/// The stock of a station as the API reads it.
async fn stock(app: &TestApp, station: i64, component: &str, group: &str) -> Option<Value> {
    let inv: Value = app
        .client
        .get(app.url(&format!("/api/v1/stations/{station}/inventory")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    inv["stocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["component"] == component && s["blood_group"] == group)
        .cloned()
}

/// The line of the sheet's form for red cells O+ (its fields are `units-{i}`, ...).
fn red_cells_o_pos(html: &str) -> usize {
    let label = html
        .find(">O+ 悬浮红细胞 单位数（U）</label>")
        .unwrap_or_else(|| panic!("the sheet's line for red cells O+: {html}"));
    let at = html[..label].rfind("for=\"units-").unwrap() + "for=\"units-".len();
    html[at..].split('"').next().unwrap().parse().unwrap()
}

/// Posts red cells O+ through the station's form; the status, location and page.
async fn post_red_cells(
    app: &TestApp,
    client: &Client,
    station: i64,
    units: &str,
    daily: &str,
) -> (StatusCode, String, String) {
    let path = format!("/station/inventory/stations/{station}");
    let (status, html) = get(app, client, &path).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let i = red_cells_o_pos(&html);
    let version = input_value(&html, "version");
    let (units_f, ml_f, daily_f) = (
        format!("units-{i}"),
        format!("ml-{i}"),
        format!("daily-{i}"),
    );
    post(
        app,
        client,
        &path,
        &[
            ("version", version.as_str()),
            (units_f.as_str(), units),
            (ml_f.as_str(), "0"),
            (daily_f.as_str(), daily),
        ],
    )
    .await
}

#[tokio::test]
async fn staff_post_their_sheet_from_the_form_and_see_days_levels_and_a_raised_need() {
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        let path = format!("/station/inventory/stations/{}", s.east);
        let (status, html) = get(&app, &s.east_staff, &path).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("id=\"sheet-form\""), "{html}");
        assert!(html.contains("id=\"levels-form\""), "{html}");
        assert_eq!(input_value(&html, "version"), "0");

        // 20 units at 10 a day: 2 days, amber under the default levels (3 and 1).
        let (status, location, html) =
            post_red_cells(&app, &s.east_staff, s.east, "20", "10").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
        assert_eq!(location, format!("{path}?done=posted"));
        let (_, html) = get(&app, &s.east_staff, &location).await;
        assert!(html.contains("库存已上报。"), "{html}");
        assert!(html.contains("可供 2.0 天"), "{html}");
        assert!(html.contains("偏紧（黄色预警）"), "{html}");
        // The chart of red cells O+ (the default), with its sentence and table.
        assert!(
            html.contains("<title id=\"chart-title\">O+ 悬浮红细胞 可供天数趋势</title>"),
            "{html}"
        );
        assert!(html.contains("共 1 条记录"), "{html}");
        assert!(html.contains("id=\"points\""), "{html}");
        let held = stock(&app, s.east, "red_cells", "O+").await.unwrap();
        assert_eq!(held["units"], 20);
        assert_eq!(held["level"], "amber");

        // The board names the east short of red cells O+, in words, with a request link.
        let (status, html) = get(&app, &s.east_staff, "/station/inventory").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("O+ 悬浮红细胞"), "{html}");
        assert!(html.contains("紧缺（预警）"), "{html}");
        assert!(
            html.contains(&format!(
                "/station/inventory/requests/new?station={}&#38;component=red_cells&#38;group=O%2B",
                s.east
            )),
            "{html}"
        );

        // Down to 5 units: red, and the need it raised is linked.
        let (status, location, _) = post_red_cells(&app, &s.east_staff, s.east, "5", "10").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location.contains("needs="), "{location}");
        let (_, html) = get(&app, &s.east_staff, &location).await;
        assert!(html.contains("紧缺（红色预警）"), "{html}");
        assert!(
            html.contains("href=\"/station/recruitment/needs/"),
            "{html}"
        );

        // The levels: amber at 5 days for O+ (the form's line for O+ is 6).
        let (_, html) = get(&app, &s.east_staff, &path).await;
        let levels_at = html.find("id=\"levels-form\"").unwrap();
        let levels_version = input_value(&html[levels_at..], "version");
        let mut fields: Vec<(String, String)> = vec![("version".into(), levels_version)];
        for i in 0..8 {
            fields.push((
                format!("amber-{i}"),
                input_value(&html, &format!("amber-{i}")),
            ));
            fields.push((format!("red-{i}"), input_value(&html, &format!("red-{i}"))));
        }
        // A red level above the amber: beside its field, nothing saved.
        let bad: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), if k == "red-6" { "9" } else { v.as_str() }))
            .collect();
        let (status, _, html) = post(&app, &s.east_staff, &format!("{path}/levels"), &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
        assert!(html.contains("id=\"red-6-error\""), "{html}");
        let good: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), if k == "amber-6" { "5" } else { v.as_str() }))
            .collect();
        let (status, location, html) =
            post(&app, &s.east_staff, &format!("{path}/levels"), &good).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
        let (_, html) = get(&app, &s.east_staff, &location).await;
        assert!(html.contains("预警线已保存。"), "{html}");
        assert!(html.contains("黄色预警线 5 天"), "{html}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_bad_field_is_shown_beside_it_and_nothing_is_written() {
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        // Not a number: the page's own check.
        let (status, _, html) = post_red_cells(&app, &s.east_staff, s.east, "abc", "10").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
        let i = red_cells_o_pos(&html);
        assert!(
            html.contains(&format!("id=\"units-{i}-error\">请填写整数。")),
            "{html}"
        );
        assert!(html.contains("value=\"abc\""), "{html}");
        // Out of range: the service's rule, shown at the same field.
        let (status, _, html) = post_red_cells(&app, &s.east_staff, s.east, "-3", "10").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
        assert!(
            html.contains(&format!("id=\"units-{i}-error\">请填写 0 到 1000000")),
            "{html}"
        );
        assert!(html.contains("id=\"problem\""), "{html}");
        assert!(stock(&app, s.east, "red_cells", "O+").await.is_none());
        // Nothing typed at all: said above the sheet, in words.
        let path = format!("/station/inventory/stations/{}", s.east);
        let (status, _, html) = post(&app, &s.east_staff, &path, &[("version", "0")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
        assert!(html.contains("id=\"sheet-error\">请至少填写一行"), "{html}");
        // A stale version: the current state with a notice, not a fault.
        post_red_cells(&app, &s.east_staff, s.east, "30", "10").await;
        let (status, _, html) = post(
            &app,
            &s.east_staff,
            &path,
            &[("version", "0"), (&format!("units-{i}"), "1")],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{html}");
        assert!(html.contains("在您提交之前"), "{html}");
        assert_eq!(
            stock(&app, s.east, "red_cells", "O+").await.unwrap()["units"],
            30
        );
        app
    })
    .await;
}

#[tokio::test]
async fn another_citys_staff_read_without_a_form_a_forged_post_is_refused_and_officials_get_403() {
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        post_red_cells(&app, &s.east_staff, s.east, "20", "10").await;
        let path = format!("/station/inventory/stations/{}", s.east);

        let (status, html) = get(&app, &s.west_staff, "/station/inventory").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("东岭血站"), "{html}");
        let (status, html) = get(&app, &s.west_staff, &path).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("id=\"read-only\""), "{html}");
        assert!(!html.contains("id=\"sheet-form\""), "{html}");
        assert!(!html.contains("id=\"levels-form\""), "{html}");
        assert!(html.contains("可供 2.0 天"), "{html}");

        // A forged post of the east's sheet by the west's staff.
        let (status, _, _) = post(
            &app,
            &s.west_staff,
            &path,
            &[("version", "1"), ("units-14", "999")],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            stock(&app, s.east, "red_cells", "O+").await.unwrap()["units"],
            20
        );

        assert!(html.contains("id=\"nav-station-inventory\""), "{html}");
        let official = signed_in(&app, "official", "township_official", &[EAST]).await;
        let (_, township) = get(&app, &official, "/township").await;
        assert!(!township.contains("nav-station-inventory"), "{township}");
        let (status, _) = get(&app, &official, "/station/inventory").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = get(&app, &official, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        app
    })
    .await;
}

/// The number after `prefix` in `html`.
fn id_after(html: &str, prefix: &str) -> i64 {
    let at = html
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {html}"))
        + prefix.len();
    html[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_request_is_offered_accepted_dispatched_and_received_through_the_pages() {
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        post_red_cells(&app, &s.east_staff, s.east, "2", "10").await;
        post_red_cells(&app, &s.west_staff, s.west, "100", "2").await;

        // The east asks for 10 units of red cells O+.
        let (status, html) = get(
            &app,
            &s.east_staff,
            &format!(
                "/station/inventory/requests/new?station={}&component=red_cells&group=O%2B",
                s.east
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(
            html.contains(&format!("<option value=\"{}\" selected>", s.east)),
            "{html}"
        );
        let east = s.east.to_string();
        let mut fields = vec![
            ("station_id", east.as_str()),
            ("component", "red_cells"),
            ("blood_group", "O+"),
            ("units", "0"),
            ("ml", "2000"),
            ("needed_by", "2026-12-09"),
        ];
        // No units: beside the field.
        let (status, _, html) =
            post(&app, &s.east_staff, "/station/inventory/requests", &fields).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
        assert!(html.contains("id=\"units-error\""), "{html}");
        fields[3] = ("units", "10");
        let (status, location, html) =
            post(&app, &s.east_staff, "/station/inventory/requests", &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
        let request = id_after(&location, "/station/inventory/requests/");
        let request_path = format!("/station/inventory/requests/{request}");

        // The west sees it on the board and offers 10 units from its page.
        let (_, html) = get(&app, &s.west_staff, "/station/inventory").await;
        assert!(html.contains(&format!("href=\"{request_path}\"")), "{html}");
        assert!(
            html.contains(&format!("href=\"{request_path}#offer-h\"")),
            "{html}"
        );
        // The requester's own staff have nothing to offer it.
        let (_, html) = get(&app, &s.east_staff, "/station/inventory").await;
        assert!(html.contains(&format!("href=\"{request_path}\"")), "{html}");
        assert!(
            !html.contains(&format!("href=\"{request_path}#offer-h\"")),
            "{html}"
        );
        let (status, html) = get(&app, &s.west_staff, &request_path).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("id=\"offer-form\""), "{html}");
        let west = s.west.to_string();
        // More than the west holds: refused beside the field.
        let (status, _, html) = post(
            &app,
            &s.west_staff,
            &format!("{request_path}/offers"),
            &[("station_id", west.as_str()), ("units", "500"), ("ml", "0")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
        assert!(html.contains("id=\"units-error\""), "{html}");
        let (status, location, html) = post(
            &app,
            &s.west_staff,
            &format!("{request_path}/offers"),
            &[("station_id", west.as_str()), ("units", "10"), ("ml", "0")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
        assert_eq!(location, format!("{request_path}?done=offered"));

        // The east accepts it, with the request's version.
        let (_, html) = get(&app, &s.east_staff, &request_path).await;
        assert!(!html.contains("id=\"offer-form\""), "{html}");
        let accept = format!("{request_path}/accept?offer=");
        let offer = id_after(&html, &accept);
        let at = html.find(&accept).unwrap();
        let version = input_value(&html[at..], "version");
        let action = format!("{accept}{offer}");
        let (status, location, html) = post(
            &app,
            &s.east_staff,
            &action,
            &[
                ("version", version.as_str()),
                ("request", &request.to_string()),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
        let (_, html) = get(&app, &s.east_staff, &location).await;
        assert!(html.contains("已选定该响应。"), "{html}");
        // The same accept again (stale): the current state with a notice.
        let (status, _, html) = post(
            &app,
            &s.east_staff,
            &action,
            &[
                ("version", version.as_str()),
                ("request", &request.to_string()),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{html}");
        assert!(html.contains("在您提交之前"), "{html}");

        // The east may not dispatch the west's offer; the west does.
        let dispatch = format!("/station/inventory/offers/{offer}/dispatch");
        let (status, html) = get(&app, &s.east_staff, &request_path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains(&dispatch), "{html}");
        let (_, html) = get(&app, &s.west_staff, &request_path).await;
        assert!(html.contains(&dispatch), "{html}");
        let (status, location, _) = post(
            &app,
            &s.west_staff,
            &dispatch,
            &[("request", &request.to_string()), ("back", "board")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            location.starts_with("/station/inventory?done=dispatched"),
            "{location}"
        );
        assert_eq!(
            stock(&app, s.west, "red_cells", "O+").await.unwrap()["units"],
            90
        );
        // Dispatching twice: the state, not a fault.
        let (status, _, html) = post(
            &app,
            &s.west_staff,
            &dispatch,
            &[("request", &request.to_string())],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{html}");

        // The east receives it.
        let receive = format!("/station/inventory/offers/{offer}/receive");
        let (_, html) = get(&app, &s.east_staff, &request_path).await;
        assert!(html.contains(&receive), "{html}");
        let (status, location, _) = post(
            &app,
            &s.east_staff,
            &receive,
            &[("request", &request.to_string())],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, html) = get(&app, &s.east_staff, &location).await;
        assert!(html.contains("已签收，已计入本站库存。"), "{html}");
        assert!(html.contains("已签收"), "{html}");
        let east_stock = stock(&app, s.east, "red_cells", "O+").await.unwrap();
        assert_eq!(east_stock["units"], 12);
        assert_eq!(east_stock["incoming_units"], 0);
        app
    })
    .await;
}
