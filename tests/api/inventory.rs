//! Blood inventory and linkage between stations (issue 17) through the HTTP API: posting a
//! stock sheet (every bad row named, If-Match), days of supply and levels, the levels per
//! group, history, the province-wide board and who may change what, the request → offer →
//! accept → dispatch → receive flow with both stocks checked, concurrent accepts (one wins),
//! a dispatch beyond the stock refused with nothing written, and the recruitment need a red
//! level raises once.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, ok_json, on_each_backend, send};

/// 东岭镇 and 西河乡 of the demo county: two stations' regions, as two cities of a province.
const EAST: &str = "990101101000";
const WEST: &str = "990101102000";
const TODAY: &str = "2026-12-07";

struct Setup {
    east: i64,
    west: i64,
    /// Staff of the east station's region, and of the west's.
    east_staff: Client,
    west_staff: Client,
}

async fn station(app: &TestApp, name: &str, region: &str) -> i64 {
    let body = json!({"name": name, "region_code": region,
        "longitude": 114.02, "latitude": 33.66});
    let response = send(
        app,
        &app.client,
        Method::POST,
        "/api/v1/stations",
        Some(&body),
        None,
    )
    .await;
    ok_json(response, 201, "a station").await["id"]
        .as_i64()
        .unwrap()
}

async fn setup(app: &TestApp) -> Setup {
    donornet::seed::load_demo_divisions(&app.db).await.unwrap();
    app.set_today(TODAY);
    Setup {
        east: station(app, "东岭血站", EAST).await,
        west: station(app, "西河血站", WEST).await,
        east_staff: app.client_for("east", "station_staff", &[EAST]).await,
        west_staff: app.client_for("west", "station_staff", &[WEST]).await,
    }
}

fn row(component: &str, group: &str, units: i64, ml: i64, daily: f64) -> Value {
    json!({"component": component, "blood_group": group, "units": units, "ml": ml,
        "daily_use_units": daily})
}

async fn post_sheet(
    app: &TestApp,
    client: &Client,
    station: i64,
    rows: Vec<Value>,
    if_match: Option<&str>,
) -> reqwest::Response {
    send(
        app,
        client,
        Method::PUT,
        &format!("/api/v1/stations/{station}/inventory"),
        Some(&json!({"rows": rows})),
        if_match,
    )
    .await
}

/// Posts with the current ETag; must answer 200.
async fn post_ok(app: &TestApp, client: &Client, station: i64, rows: Vec<Value>) -> Value {
    let current = inventory(app, client, station).await;
    let tag = format!("\"{}\"", current["version"]);
    ok_json(
        post_sheet(app, client, station, rows, Some(&tag)).await,
        200,
        "posting",
    )
    .await
}

async fn inventory(app: &TestApp, client: &Client, station: i64) -> Value {
    let response = send(
        app,
        client,
        Method::GET,
        &format!("/api/v1/stations/{station}/inventory"),
        None,
        None,
    )
    .await;
    ok_json(response, 200, "the inventory").await
}

fn stock<'a>(inventory: &'a Value, component: &str, group: &str) -> &'a Value {
    inventory["stocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["component"] == component && s["blood_group"] == group)
        .unwrap_or_else(|| panic!("no {component} {group} in {inventory}"))
}

fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

async fn get(app: &TestApp, client: &Client, path: &str) -> reqwest::Response {
    send(app, client, Method::GET, path, None, None).await
}

async fn post(app: &TestApp, client: &Client, path: &str, body: &Value) -> reqwest::Response {
    send(app, client, Method::POST, path, Some(body), None).await
}

#[tokio::test]
async fn a_sheet_is_posted_with_if_match_every_bad_row_named_and_days_levels_and_history_kept() {
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        let empty = inventory(&app, &s.east_staff, s.east).await;
        assert_eq!(empty["version"], 0);
        assert_eq!(empty["stocks"], json!([]));
        assert_eq!(empty["editable"], true);

        let good = vec![row("red_cells", "O+", 20, 4000, 10.0)];
        let response = post_sheet(&app, &s.east_staff, s.east, good.clone(), None).await;
        expect_problem(response, 428, "no If-Match").await;

        let bad = vec![
            row("blood", "X", -1, -5, -1.0),
            row("plasma", "A+", 1, 100, 1.0),
            row("plasma", "A+", 2, 200, 1.0),
        ];
        let response = post_sheet(&app, &s.east_staff, s.east, bad, Some("\"0\"")).await;
        let problem = expect_problem(response, 400, "bad rows").await;
        assert_eq!(
            fields(&problem),
            [
                "rows[0].component",
                "rows[0].blood_group",
                "rows[0].units",
                "rows[0].ml",
                "rows[0].daily_use_units",
                "rows[2].blood_group"
            ],
            "{problem}"
        );
        let response = post_sheet(&app, &s.east_staff, s.east, vec![], Some("\"0\"")).await;
        let problem = expect_problem(response, 400, "no rows").await;
        assert_eq!(fields(&problem), ["rows"]);
        assert_eq!(inventory(&app, &s.east_staff, s.east).await["version"], 0);

        let first = vec![
            row("red_cells", "O+", 20, 4000, 10.0),
            row("plasma", "A+", 70, 14000, 10.0),
            row("platelets", "B-", 5, 1250, 0.0),
        ];
        let response = post_sheet(&app, &s.east_staff, s.east, first, Some("\"0\"")).await;
        assert_eq!(response.headers()["etag"], "\"1\"");
        let posted = ok_json(response, 200, "the first posting").await;
        assert_eq!(posted["needs_raised"], json!([]));
        let inv = &posted["inventory"];
        let rc = stock(inv, "red_cells", "O+");
        assert_eq!(rc["days_of_supply"], 2.0);
        assert_eq!(rc["level"], "amber");
        assert_eq!(rc["surplus_units"], 0);
        let plasma = stock(inv, "plasma", "A+");
        assert_eq!(plasma["days_of_supply"], 7.0);
        assert_eq!(plasma["level"], "ok");
        assert_eq!(plasma["surplus_units"], 40);
        let platelets = stock(inv, "platelets", "B-");
        assert!(platelets["days_of_supply"].is_null());
        assert_eq!(platelets["level"], "ok");

        // Stale: the inventory as it is.
        let response = post_sheet(&app, &s.east_staff, s.east, good, Some("\"0\"")).await;
        let stale = ok_json(response, 412, "a stale posting").await;
        assert_eq!(stale["inventory"]["version"], 1);
        assert_eq!(stock(&stale["inventory"], "red_cells", "O+")["units"], 20);

        // Rows not in the sheet stay as they were.
        let response = post_sheet(
            &app,
            &s.east_staff,
            s.east,
            vec![row("plasma", "A+", 5, 1000, 10.0)],
            Some("\"1\""),
        )
        .await;
        let second = ok_json(response, 200, "the second posting").await;
        let inv = &second["inventory"];
        assert_eq!(inv["version"], 2);
        assert_eq!(stock(inv, "plasma", "A+")["level"], "red");
        assert_eq!(stock(inv, "red_cells", "O+")["units"], 20);
        // Plasma is not a red-cell component: no need.
        assert_eq!(second["needs_raised"], json!([]));

        let path = format!("/api/v1/stations/{}/inventory/history", s.east);
        let plasma: Value = ok_json(
            get(&app, &s.west_staff, &format!("{path}?component=plasma")).await,
            200,
            "history",
        )
        .await;
        let points = plasma.as_array().unwrap();
        assert_eq!(points.len(), 2, "{plasma}");
        assert_eq!(points[0]["units"], 70);
        assert_eq!(points[0]["level"], "ok");
        assert_eq!(points[1]["units"], 5);
        assert_eq!(points[1]["level"], "red");
        assert_eq!(points[1]["days_of_supply"], 0.5);
        assert_eq!(points[1]["reason"], "posted");
        assert!(
            points[1]["by"].as_str().unwrap().starts_with("east"),
            "{plasma}"
        );
        let o_pos = ok_json(
            get(
                &app,
                &s.east_staff,
                &format!("{path}?blood_group=O%2B&from={TODAY}&to={TODAY}"),
            )
            .await,
            200,
            "history of O+",
        )
        .await;
        assert_eq!(o_pos.as_array().unwrap().len(), 1, "{o_pos}");
        let later = ok_json(
            get(&app, &s.east_staff, &format!("{path}?from=2026-12-08")).await,
            200,
            "history from tomorrow",
        )
        .await;
        assert_eq!(later, json!([]));
        let problem = expect_problem(
            get(
                &app,
                &s.east_staff,
                &format!("{path}?from=2026-12-08&to=2026-12-01&component=x"),
            )
            .await,
            400,
            "bad history filters",
        )
        .await;
        assert_eq!(fields(&problem), ["component", "from"]);

        let audit = app.get_ok("/api/v1/audit?entity=inventory").await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 2, "{audit}");
        app
    })
    .await;
}

#[tokio::test]
async fn warning_levels_are_set_per_group_versioned_checked_and_move_the_level() {
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        post_ok(
            &app,
            &s.east_staff,
            s.east,
            vec![row("red_cells", "O+", 20, 4000, 10.0)],
        )
        .await;
        let path = format!("/api/v1/stations/{}/inventory/levels", s.east);
        let levels = ok_json(get(&app, &s.east_staff, &path).await, 200, "levels").await;
        assert_eq!(levels["version"], 0);
        assert_eq!(levels["levels"].as_array().unwrap().len(), 8);
        assert!(
            levels["levels"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["amber_days"] == 3.0 && l["red_days"] == 1.0)
        );

        let bad = json!({"levels": [
            {"blood_group": "O+", "amber_days": 2.0, "red_days": 2.0},
            {"blood_group": "Q", "amber_days": 0.0, "red_days": 1.0},
        ]});
        let response = send(
            &app,
            &s.east_staff,
            Method::PUT,
            &path,
            Some(&bad),
            Some("\"0\""),
        )
        .await;
        let problem = expect_problem(response, 400, "bad levels").await;
        assert_eq!(
            fields(&problem),
            [
                "levels[0].red_days",
                "levels[1].blood_group",
                "levels[1].amber_days"
            ]
        );
        let response = send(&app, &s.east_staff, Method::PUT, &path, Some(&bad), None).await;
        expect_problem(response, 428, "no If-Match").await;

        let change = json!({"levels": [{"blood_group": "O+", "amber_days": 5.0, "red_days": 3.0}]});
        let response = send(
            &app,
            &s.east_staff,
            Method::PUT,
            &path,
            Some(&change),
            Some("\"0\""),
        )
        .await;
        assert_eq!(response.headers()["etag"], "\"1\"");
        let set = ok_json(response, 200, "levels set").await;
        let o_pos = set["levels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["blood_group"] == "O+")
            .unwrap();
        assert_eq!(o_pos["amber_days"], 5.0);
        // 2 days of supply is now red (below 3).
        let inv = inventory(&app, &s.east_staff, s.east).await;
        assert_eq!(stock(&inv, "red_cells", "O+")["level"], "red");
        // The inventory's version is its own.
        assert_eq!(inv["version"], 1);

        let response = send(
            &app,
            &s.east_staff,
            Method::PUT,
            &path,
            Some(&change),
            Some("\"0\""),
        )
        .await;
        let stale = ok_json(response, 412, "stale levels").await;
        assert_eq!(stale["version"], 1);

        // Someone else's station: read, not changed.
        let response = send(
            &app,
            &s.west_staff,
            Method::PUT,
            &path,
            Some(&change),
            Some("\"1\""),
        )
        .await;
        expect_problem(response, 403, "another station's levels").await;

        let supply: Value = ok_json(
            get(
                &app,
                &s.west_staff,
                &format!("/api/v1/stations/{}/inventory/supply", s.east),
            )
            .await,
            200,
            "supply",
        )
        .await;
        let o = supply
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["blood_group"] == "O+")
            .unwrap();
        assert_eq!(o["days_of_supply"], 2.0);
        assert_eq!(o["level"], "red");
        assert_eq!(o["amber_days"], 5.0);
        app
    })
    .await;
}

#[tokio::test]
async fn every_station_staff_reads_the_board_but_changes_only_their_own_and_officials_are_refused()
{
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        post_ok(
            &app,
            &s.east_staff,
            s.east,
            vec![row("red_cells", "O+", 4, 800, 10.0)],
        )
        .await;
        post_ok(
            &app,
            &s.west_staff,
            s.west,
            vec![row("red_cells", "O+", 100, 20000, 10.0)],
        )
        .await;

        // The west's staff read the east's figures, and may not post them.
        let east = inventory(&app, &s.west_staff, s.east).await;
        assert_eq!(east["editable"], false);
        let response = post_sheet(
            &app,
            &s.west_staff,
            s.east,
            vec![row("red_cells", "O+", 1, 200, 1.0)],
            Some("\"1\""),
        )
        .await;
        expect_problem(response, 403, "posting another station's stock").await;
        assert_eq!(
            stock(
                &inventory(&app, &s.east_staff, s.east).await,
                "red_cells",
                "O+"
            )["units"],
            4
        );

        let board = ok_json(
            get(&app, &s.west_staff, "/api/v1/inventory").await,
            200,
            "the board",
        )
        .await;
        let stations = board["stations"].as_array().unwrap();
        assert_eq!(stations.len(), 2);
        let editable: Vec<(i64, bool)> = stations
            .iter()
            .map(|st| {
                (
                    st["station_id"].as_i64().unwrap(),
                    st["editable"].as_bool().unwrap(),
                )
            })
            .collect();
        assert!(
            editable.contains(&(s.east, false)) && editable.contains(&(s.west, true)),
            "{editable:?}"
        );
        let balance = board["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["component"] == "red_cells" && b["blood_group"] == "O+")
            .expect("a balance for red cells O+");
        assert_eq!(balance["short"][0]["station_id"], s.east);
        assert_eq!(balance["short"][0]["level"], "red");
        assert_eq!(balance["surplus"][0]["station_id"], s.west);
        assert_eq!(balance["surplus"][0]["surplus_units"], 70);

        let official = app
            .client_for("official", "township_official", &[EAST])
            .await;
        let viewer = app.client_for("viewer", "viewer", &[EAST]).await;
        for (who, client) in [("official", &official), ("viewer", &viewer)] {
            expect_problem(get(&app, client, "/api/v1/inventory").await, 403, who).await;
            expect_problem(
                get(
                    &app,
                    client,
                    &format!("/api/v1/stations/{}/inventory", s.east),
                )
                .await,
                403,
                who,
            )
            .await;
            expect_problem(get(&app, client, "/api/v1/blood-requests").await, 403, who).await;
        }
        expect_problem(
            get(&app, &app.anonymous, "/api/v1/inventory").await,
            401,
            "anonymous",
        )
        .await;
        expect_problem(
            get(&app, &s.east_staff, "/api/v1/stations/999999/inventory").await,
            404,
            "no station",
        )
        .await;
        app
    })
    .await;
}

async fn request(app: &TestApp, client: &Client, station: i64, units: i64, ml: i64) -> Value {
    let body = json!({"station_id": station, "component": "red_cells", "blood_group": "O+",
        "units": units, "ml": ml, "needed_by": TODAY, "note": "急需"});
    ok_json(
        post(app, client, "/api/v1/blood-requests", &body).await,
        201,
        "a request",
    )
    .await
}

async fn offer(
    app: &TestApp,
    client: &Client,
    request: i64,
    station: i64,
    units: i64,
    ml: i64,
) -> Value {
    let body = json!({"station_id": station, "units": units, "ml": ml});
    ok_json(
        post(
            app,
            client,
            &format!("/api/v1/blood-requests/{request}/offers"),
            &body,
        )
        .await,
        201,
        "an offer",
    )
    .await
}

async fn accept(
    app: &TestApp,
    client: &Client,
    request: i64,
    offer: i64,
    tag: &str,
) -> reqwest::Response {
    send(
        app,
        client,
        Method::POST,
        &format!("/api/v1/blood-requests/{request}/accept"),
        Some(&json!({"offer_id": offer})),
        Some(tag),
    )
    .await
}

fn last_offer_id(request: &Value) -> i64 {
    request["offers"].as_array().unwrap().last().unwrap()["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_request_is_offered_accepted_dispatched_and_received_moving_both_stocks() {
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        post_ok(
            &app,
            &s.east_staff,
            s.east,
            vec![row("red_cells", "O+", 4, 800, 10.0)],
        )
        .await;
        post_ok(
            &app,
            &s.west_staff,
            s.west,
            vec![row("red_cells", "O+", 100, 20000, 10.0)],
        )
        .await;

        let bad = json!({"station_id": s.east, "component": "blood", "blood_group": "O+",
            "units": 0, "ml": -1, "needed_by": "2026-12-06"});
        let problem = expect_problem(
            post(&app, &s.east_staff, "/api/v1/blood-requests", &bad).await,
            400,
            "bad request",
        )
        .await;
        assert_eq!(fields(&problem), ["component", "units", "ml", "needed_by"]);
        let theirs = json!({"station_id": s.west, "component": "red_cells", "blood_group": "O+",
            "units": 5, "ml": 1000, "needed_by": TODAY});
        expect_problem(
            post(&app, &s.east_staff, "/api/v1/blood-requests", &theirs).await,
            403,
            "a request for another station",
        )
        .await;

        let req = request(&app, &s.east_staff, s.east, 30, 6000).await;
        let id = req["id"].as_i64().unwrap();
        assert_eq!(req["status"], "open");

        // Offers: not more than held, not to oneself, not for another's station.
        let path = format!("/api/v1/blood-requests/{id}/offers");
        let problem = expect_problem(
            post(
                &app,
                &s.west_staff,
                &path,
                &json!({"station_id": s.west, "units": 200, "ml": 30000}),
            )
            .await,
            400,
            "more than held",
        )
        .await;
        assert_eq!(fields(&problem), ["units", "ml"]);
        let problem = expect_problem(
            post(
                &app,
                &s.east_staff,
                &path,
                &json!({"station_id": s.east, "units": 1, "ml": 200}),
            )
            .await,
            400,
            "to its own request",
        )
        .await;
        assert_eq!(fields(&problem), ["station_id"]);
        expect_problem(
            post(
                &app,
                &s.east_staff,
                &path,
                &json!({"station_id": s.west, "units": 1, "ml": 200}),
            )
            .await,
            403,
            "for another's station",
        )
        .await;
        let offered = offer(&app, &s.west_staff, id, s.west, 30, 6000).await;
        let offer_id = last_offer_id(&offered);

        // Only the requester accepts, with If-Match.
        let tag = format!("\"{}\"", offered["version"]);
        expect_problem(
            accept(&app, &s.west_staff, id, offer_id, &tag).await,
            403,
            "the offerer accepting",
        )
        .await;
        let response = send(
            &app,
            &s.east_staff,
            Method::POST,
            &format!("/api/v1/blood-requests/{id}/accept"),
            Some(&json!({"offer_id": offer_id})),
            None,
        )
        .await;
        expect_problem(response, 428, "no If-Match").await;
        let accepted = ok_json(
            accept(&app, &s.east_staff, id, offer_id, &tag).await,
            200,
            "accepted",
        )
        .await;
        assert_eq!(accepted["status"], "accepted");
        assert_eq!(accepted["accepted_offer_id"], offer_id);
        assert_eq!(accepted["offers"][0]["status"], "accepted");
        expect_problem(
            post(
                &app,
                &s.west_staff,
                &format!("/api/v1/blood-offers/{offer_id}/withdraw"),
                &json!({}),
            )
            .await,
            409,
            "withdrawing an accepted offer",
        )
        .await;

        // A sheet the offerer loaded before the dispatch cannot undo it afterwards.
        let west_before = inventory(&app, &s.west_staff, s.west).await;
        let stale_tag = format!("\"{}\"", west_before["version"]);
        // Only the offerer dispatches.
        expect_problem(
            post(
                &app,
                &s.east_staff,
                &format!("/api/v1/blood-offers/{offer_id}/dispatch"),
                &json!({}),
            )
            .await,
            403,
            "the requester dispatching",
        )
        .await;
        let moved = ok_json(
            post(
                &app,
                &s.west_staff,
                &format!("/api/v1/blood-offers/{offer_id}/dispatch"),
                &json!({}),
            )
            .await,
            200,
            "dispatched",
        )
        .await;
        assert_eq!(moved["request"]["status"], "dispatched");
        let undo = vec![row("red_cells", "O+", 100, 20000, 10.0)];
        let current = ok_json(
            post_sheet(&app, &s.west_staff, s.west, undo, Some(&stale_tag)).await,
            412,
            "a sheet loaded before the dispatch",
        )
        .await;
        // The answer is the inventory as it now is: the dispatch stands.
        assert_eq!(
            stock(&current["inventory"], "red_cells", "O+")["units"],
            70,
            "{current}"
        );
        let west = stock(
            &inventory(&app, &s.west_staff, s.west).await,
            "red_cells",
            "O+",
        )
        .clone();
        assert_eq!(
            (west["units"].as_i64(), west["ml"].as_i64()),
            (Some(70), Some(14000))
        );
        let east = stock(
            &inventory(&app, &s.east_staff, s.east).await,
            "red_cells",
            "O+",
        )
        .clone();
        assert_eq!(
            (
                east["units"].as_i64(),
                east["incoming_units"].as_i64(),
                east["incoming_ml"].as_i64()
            ),
            (Some(4), Some(30), Some(6000))
        );

        // Only the requester receives.
        expect_problem(
            post(
                &app,
                &s.west_staff,
                &format!("/api/v1/blood-offers/{offer_id}/receive"),
                &json!({}),
            )
            .await,
            403,
            "the offerer receiving",
        )
        .await;
        let received = ok_json(
            post(
                &app,
                &s.east_staff,
                &format!("/api/v1/blood-offers/{offer_id}/receive"),
                &json!({}),
            )
            .await,
            200,
            "received",
        )
        .await;
        assert_eq!(received["request"]["status"], "received");
        assert_eq!(received["request"]["offers"][0]["status"], "received");
        let east = stock(
            &inventory(&app, &s.east_staff, s.east).await,
            "red_cells",
            "O+",
        )
        .clone();
        assert_eq!(
            (
                east["units"].as_i64(),
                east["ml"].as_i64(),
                east["incoming_units"].as_i64()
            ),
            (Some(34), Some(6800), Some(0))
        );
        expect_problem(
            post(
                &app,
                &s.east_staff,
                &format!("/api/v1/blood-offers/{offer_id}/receive"),
                &json!({}),
            )
            .await,
            409,
            "received twice",
        )
        .await;

        // History on both sides.
        let reasons = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|p| p["reason"].as_str().unwrap().to_owned())
                .collect()
        };
        let east_history = ok_json(
            get(
                &app,
                &s.east_staff,
                &format!("/api/v1/stations/{}/inventory/history", s.east),
            )
            .await,
            200,
            "east history",
        )
        .await;
        assert_eq!(reasons(&east_history), ["posted", "dispatched", "received"]);
        let west_history = ok_json(
            get(
                &app,
                &s.east_staff,
                &format!("/api/v1/stations/{}/inventory/history", s.west),
            )
            .await,
            200,
            "west history",
        )
        .await;
        assert_eq!(reasons(&west_history), ["posted", "dispatched"]);
        assert_eq!(west_history[1]["units"], 70);

        let audit = app.get_ok("/api/v1/audit?entity=blood_request").await;
        let mut actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["action"].as_str().unwrap())
            .collect();
        actions.sort_unstable();
        assert_eq!(actions, ["accept", "create", "dispatch", "receive"]);
        let done = ok_json(
            get(
                &app,
                &s.west_staff,
                "/api/v1/blood-requests?status=received",
            )
            .await,
            200,
            "received requests",
        )
        .await;
        assert_eq!(done.as_array().unwrap().len(), 1);
        app
    })
    .await;
}

#[tokio::test]
async fn of_two_concurrent_accepts_exactly_one_wins() {
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        post_ok(
            &app,
            &s.west_staff,
            s.west,
            vec![row("red_cells", "O+", 100, 20000, 10.0)],
        )
        .await;
        let third = station(&app, "南塘血站", "990101103000").await;
        let south_staff = app
            .client_for("south", "station_staff", &["990101103000"])
            .await;
        post_ok(
            &app,
            &south_staff,
            third,
            vec![row("red_cells", "O+", 50, 10000, 5.0)],
        )
        .await;
        for round in 0..3 {
            let req = request(&app, &s.east_staff, s.east, 10, 2000).await;
            let id = req["id"].as_i64().unwrap();
            let first = last_offer_id(&offer(&app, &s.west_staff, id, s.west, 10, 2000).await);
            let second = last_offer_id(&offer(&app, &south_staff, id, third, 10, 2000).await);
            let (a, b) = tokio::join!(
                accept(&app, &s.east_staff, id, first, "\"1\""),
                accept(&app, &app.client, id, second, "\"1\""),
            );
            let statuses = [a.status().as_u16(), b.status().as_u16()];
            let wins = statuses.iter().filter(|s| **s == 200).count();
            assert_eq!(wins, 1, "round {round}: {statuses:?}");
            assert!(
                statuses.iter().all(|s| [200, 409, 412].contains(s)),
                "round {round}: {statuses:?}"
            );
            let winner = if statuses[0] == 200 { first } else { second };
            let now = ok_json(
                get(&app, &s.east_staff, &format!("/api/v1/blood-requests/{id}")).await,
                200,
                "the request",
            )
            .await;
            assert_eq!(now["status"], "accepted");
            assert_eq!(now["accepted_offer_id"], winner);
            let loser = if winner == first { second } else { first };
            let status_of = |id: i64| {
                now["offers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|o| o["id"] == id)
                    .map(|o| o["status"].as_str().unwrap().to_owned())
                    .unwrap()
            };
            assert_eq!(status_of(winner), "accepted", "{now}");
            assert_eq!(status_of(loser), "declined", "{now}");
            // Cancel, so the next round starts clean; the accepted offer is declined.
            let cancelled = ok_json(
                post(
                    &app,
                    &s.east_staff,
                    &format!("/api/v1/blood-requests/{id}/cancel"),
                    &json!({}),
                )
                .await,
                200,
                "cancelled",
            )
            .await;
            assert_eq!(cancelled["status"], "cancelled");
            assert!(
                cancelled["offers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|o| o["status"] == "declined")
            );
            expect_problem(
                post(
                    &app,
                    &s.east_staff,
                    &format!("/api/v1/blood-requests/{id}/cancel"),
                    &json!({}),
                )
                .await,
                409,
                "cancelled twice",
            )
            .await;
        }
        app
    })
    .await;
}

#[tokio::test]
async fn a_dispatch_beyond_the_stock_now_is_refused_with_nothing_written() {
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        post_ok(
            &app,
            &s.west_staff,
            s.west,
            vec![row("red_cells", "O+", 100, 20000, 10.0)],
        )
        .await;
        let req = request(&app, &s.east_staff, s.east, 30, 6000).await;
        let id = req["id"].as_i64().unwrap();
        let offer_id = last_offer_id(&offer(&app, &s.west_staff, id, s.west, 30, 6000).await);
        ok_json(
            accept(&app, &s.east_staff, id, offer_id, "\"1\"").await,
            200,
            "accepted",
        )
        .await;
        // The west's stock falls meanwhile.
        post_ok(
            &app,
            &s.west_staff,
            s.west,
            vec![row("red_cells", "O+", 10, 2000, 10.0)],
        )
        .await;
        expect_problem(
            post(
                &app,
                &s.west_staff,
                &format!("/api/v1/blood-offers/{offer_id}/dispatch"),
                &json!({}),
            )
            .await,
            409,
            "dispatching more than held",
        )
        .await;
        let west = inventory(&app, &s.west_staff, s.west).await;
        assert_eq!(stock(&west, "red_cells", "O+")["units"], 10);
        let east = inventory(&app, &s.east_staff, s.east).await;
        assert_eq!(east["stocks"], json!([]), "no incoming written: {east}");
        let now = ok_json(
            get(&app, &s.east_staff, &format!("/api/v1/blood-requests/{id}")).await,
            200,
            "the request",
        )
        .await;
        assert_eq!(now["status"], "accepted");
        assert_eq!(now["offers"][0]["status"], "accepted");
        let history = ok_json(
            get(
                &app,
                &s.east_staff,
                &format!("/api/v1/stations/{}/inventory/history", s.west),
            )
            .await,
            200,
            "history",
        )
        .await;
        assert!(
            history
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["reason"] == "posted"),
            "{history}"
        );
        let audit = app.get_ok("/api/v1/audit?entity=blood_offer").await;
        assert!(
            audit["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["action"] != "dispatch")
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_red_level_of_red_cells_raises_one_recruitment_need_for_its_group() {
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        let posted = post_ok(
            &app,
            &s.east_staff,
            s.east,
            vec![
                row("whole_blood", "A+", 4, 800, 10.0),
                row("red_cells", "A+", 0, 0, 0.0),
                row("plasma", "B+", 0, 0, 10.0),
            ],
        )
        .await;
        let raised = posted["needs_raised"].as_array().unwrap();
        assert_eq!(raised.len(), 1, "{posted}");
        assert_eq!(raised[0]["blood_group"], "A+");
        // Amber needs ceil(3 × 10) = 30 U; 26 U short = 5,200 mL = 13 donors of 400 mL.
        assert_eq!(raised[0]["target"], 13);
        assert_eq!(raised[0]["needed_by"], "2026-12-10");
        let need_id = raised[0]["need_id"].as_i64().unwrap();
        let need = app
            .get_ok(&format!("/api/v1/recruitment/needs/{need_id}"))
            .await;
        assert_eq!(need["blood_groups"], "A+", "{need}");
        assert_eq!(need["station_id"], s.east);
        assert_eq!(need["region_code"], EAST);
        assert!(need["notes"].as_str().unwrap().contains("自动"), "{need}");

        // Still red, and red cells too: the open need covers the group.
        let again = post_ok(
            &app,
            &s.east_staff,
            s.east,
            vec![
                row("whole_blood", "A+", 2, 400, 10.0),
                row("red_cells", "A+", 1, 200, 5.0),
            ],
        )
        .await;
        assert_eq!(again["needs_raised"], json!([]));
        // Another group is another need.
        let other = post_ok(
            &app,
            &s.east_staff,
            s.east,
            vec![row("red_cells", "B+", 0, 0, 1.0)],
        )
        .await;
        assert_eq!(other["needs_raised"][0]["blood_group"], "B+");
        // 3 U short = 600 mL: 2 donors.
        assert_eq!(other["needs_raised"][0]["target"], 2);
        let audit = app.get_ok("/api/v1/audit?entity=recruitment_need").await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 2, "{audit}");
        app
    })
    .await;
}

#[tokio::test]
async fn an_open_offer_is_withdrawn_and_a_dispatch_that_leaves_the_offerer_red_raises_its_need() {
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        post_ok(
            &app,
            &s.west_staff,
            s.west,
            vec![row("red_cells", "O+", 40, 8000, 10.0)],
        )
        .await;
        let req = request(&app, &s.east_staff, s.east, 35, 7000).await;
        let id = req["id"].as_i64().unwrap();
        let first = last_offer_id(&offer(&app, &s.west_staff, id, s.west, 10, 2000).await);
        let withdrawn = ok_json(
            post(
                &app,
                &s.west_staff,
                &format!("/api/v1/blood-offers/{first}/withdraw"),
                &json!({}),
            )
            .await,
            200,
            "withdrawn",
        )
        .await;
        assert_eq!(withdrawn["offers"][0]["status"], "withdrawn");
        let problem = expect_problem(
            accept(&app, &s.east_staff, id, first, "\"1\"").await,
            400,
            "accepting a withdrawn offer",
        )
        .await;
        assert_eq!(fields(&problem), ["offer_id"]);
        let second = last_offer_id(&offer(&app, &s.west_staff, id, s.west, 35, 7000).await);
        ok_json(
            accept(&app, &s.east_staff, id, second, "\"1\"").await,
            200,
            "accepted",
        )
        .await;
        let moved = ok_json(
            post(
                &app,
                &s.west_staff,
                &format!("/api/v1/blood-offers/{second}/dispatch"),
                &json!({}),
            )
            .await,
            200,
            "dispatched",
        )
        .await;
        // 5 U left at 10 a day: red; amber needs 30 U, 25 U = 5,000 mL short: 13 donors.
        let raised = moved["needs_raised"].as_array().unwrap();
        assert_eq!(raised.len(), 1, "{moved}");
        assert_eq!(raised[0]["blood_group"], "O+");
        assert_eq!(raised[0]["target"], 13);
        let need = app
            .get_ok(&format!(
                "/api/v1/recruitment/needs/{}",
                raised[0]["need_id"]
            ))
            .await;
        assert_eq!(need["station_id"], s.west);
        app
    })
    .await;
}
