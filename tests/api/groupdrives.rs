//! Group drives at host organisations (issue 16) through the HTTP API and the pages: a drive
//! stop at a host (`host-<id>`) made by hand and by the planner (a fixed stop or a candidate,
//! its expected donors the sign-up goal or a share of the headcount), the sign-up goal with
//! `If-Match`, the contact's private link (shown once, replaced, revoked: 404), colleagues
//! booking their own places on the link's page against the goal, and "due this month" leaving
//! out hosts with a drive planned. The network is the planning tests' (`crate::plans`).

use chrono::Duration;
use reqwest::{Client, Method, redirect};
use serde_json::{Value, json};

use crate::bookings::{published_stop, today, unlimited};
use crate::helpers::{
    TestApp, expect_problem, ok_json, on_each_backend, on_each_backend_with, send,
};
use crate::plans::{COUNTY, DONGLING, XIHE, make_plan, network};

/// A host in 东岭镇, 400 people, preferring December and March.
pub(crate) fn school_body(headcount: Option<i32>) -> Value {
    json!({
        "name": "东岭镇中心小学", "kind": "school", "region_code": DONGLING,
        "address": "东岭镇学府路 8 号", "longitude": 114.02, "latitude": 33.66,
        "typical_headcount": headcount, "preferred_months": [3, 12],
        "contacts": [{"name": "王敏", "mobile": "13812345678", "role": "工会主席"}]
    })
}

pub(crate) async fn host(app: &TestApp, body: &Value) -> i64 {
    let response = send(
        app,
        &app.client,
        Method::POST,
        "/api/v1/hosts",
        Some(body),
        None,
    )
    .await;
    ok_json(response, 201, "creating a host").await["id"]
        .as_i64()
        .unwrap()
}

async fn post_drive(app: &TestApp, client: &Client, body: &Value) -> reqwest::Response {
    send(
        app,
        client,
        Method::POST,
        "/api/v1/drives",
        Some(body),
        None,
    )
    .await
}

pub(crate) fn at_host(vehicle: i64, host: i64, date: &str, goal: Option<i32>) -> Value {
    let mut stop = json!({"site": format!("host-{host}"), "planned_start": "09:00",
                          "planned_end": "11:00", "expected_donors": 50.0});
    if let Some(goal) = goal {
        stop["signup_goal"] = json!(goal);
    }
    json!({"vehicle_id": vehicle, "date": date, "region": COUNTY, "stops": [stop]})
}

pub(crate) async fn made(app: &TestApp, body: &Value) -> Value {
    ok_json(
        post_drive(app, &app.client, body).await,
        201,
        &format!("drive {body}"),
    )
    .await
}

pub(crate) async fn transition(app: &TestApp, id: i64, version: i64, to: &str) -> Value {
    let mut body = json!({"to": to});
    if to == "cancelled" {
        body["reason"] = json!("下雪");
    }
    let response = send(
        app,
        &app.client,
        Method::POST,
        &format!("/api/v1/drives/{id}/transition"),
        Some(&body),
        Some(&format!("\"{version}\"")),
    )
    .await;
    ok_json(response, 200, &format!("moving drive {id} to {to}")).await
}

async fn set_goal(
    app: &TestApp,
    client: &Client,
    drive: i64,
    stop: i64,
    goal: Value,
    if_match: Option<&str>,
) -> reqwest::Response {
    send(
        app,
        client,
        Method::PUT,
        &format!("/api/v1/drives/{drive}/stops/{stop}/signup-goal"),
        Some(&json!({ "signup_goal": goal })),
        if_match,
    )
    .await
}

async fn make_link(app: &TestApp, client: &Client, drive: i64, stop: i64) -> reqwest::Response {
    send(
        app,
        client,
        Method::POST,
        &format!("/api/v1/drives/{drive}/stops/{stop}/signup-link"),
        None,
        None,
    )
    .await
}

async fn token_of(app: &TestApp, drive: i64, stop: i64) -> String {
    let link = ok_json(
        make_link(app, &app.client, drive, stop).await,
        201,
        "a link",
    )
    .await;
    let token = link["token"].as_str().unwrap().to_owned();
    assert_eq!(link["url"], format!("/signup/{token}"));
    assert_eq!(token.len(), 64, "256 random bits: {link}");
    token
}

fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

async fn audit_actions(app: &TestApp, entity: &str) -> Vec<String> {
    let log = app
        .get_ok(&format!("/api/v1/audit?entity={entity}&limit=100"))
        .await;
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_drive_stops_at_a_host_named_by_its_site_with_a_sign_up_goal() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let school = host(&app, &school_body(Some(400))).await;
        let drive = made(
            &app,
            &at_host(net.vehicles[0], school, "2026-12-21", Some(60)),
        )
        .await;
        let stop = &drive["stops"][0];
        assert_eq!(stop["site"], format!("host-{school}"));
        assert_eq!(stop["host_id"], school);
        assert_eq!(stop["point_id"], Value::Null);
        assert_eq!(stop["name"], "东岭镇中心小学");
        assert_eq!(stop["region_code"], DONGLING);
        assert_eq!(stop["signup_goal"], 60);
        assert_eq!(stop["signup_link"], false);
        let read = app.get_ok(&format!("/api/v1/drives/{}", drive["id"])).await;
        assert_eq!(read["stops"][0], *stop);

        // A goal on a point's stop, a goal out of range, a host that is not there: each named.
        let body = json!({"vehicle_id": net.vehicles[1], "date": "2026-12-22", "region": COUNTY,
        "stops": [
            {"site": net.site(1), "planned_start": "08:00", "planned_end": "09:00",
             "expected_donors": 10.0, "signup_goal": 20},
            {"site": format!("host-{school}"), "planned_start": "10:00",
             "planned_end": "11:00", "expected_donors": 10.0, "signup_goal": 0},
            {"site": "host-999999", "planned_start": "12:00", "planned_end": "13:00",
             "expected_donors": 10.0},
            {"site": "host-x", "planned_start": "14:00", "planned_end": "15:00",
             "expected_donors": 10.0}
        ]});
        let problem = expect_problem(post_drive(&app, &app.client, &body).await, 400, "bad").await;
        assert_eq!(
            fields(&problem),
            [
                "stops[1].signup_goal",
                "stops[3].site",
                "stops[0].signup_goal",
                "stops[2].site",
            ],
            "{problem}"
        );
        assert!(
            problem.to_string().contains("no host with id 999999"),
            "{problem}"
        );

        // A host outside the caller's read scope does not exist for them.
        let xihe_staff = app.client_for("xihe", "station_staff", &[XIHE]).await;
        let body = json!({"vehicle_id": net.vehicles[1], "date": "2026-12-22", "region": XIHE,
            "stops": [{"site": format!("host-{school}"), "planned_start": "10:00",
                       "planned_end": "11:00", "expected_donors": 10.0}]});
        let problem =
            expect_problem(post_drive(&app, &xihe_staff, &body).await, 400, "scope").await;
        assert!(fields(&problem).contains(&"stops[0].site"), "{problem}");
        assert!(
            problem
                .to_string()
                .contains(&format!("no host with id {school}"))
        );
        // A host outside the drive's region: 422 naming the stop.
        let other = host(
            &app,
            &json!({"name": "西河乡卫生院", "kind": "hospital", "region_code": XIHE,
                    "longitude": 114.05, "latitude": 33.60, "typical_headcount": 80}),
        )
        .await;
        let body = json!({"vehicle_id": net.vehicles[1], "date": "2026-12-22",
            "region": DONGLING,
            "stops": [{"site": format!("host-{other}"), "planned_start": "10:00",
                       "planned_end": "11:00", "expected_donors": 10.0}]});
        let problem =
            expect_problem(post_drive(&app, &app.client, &body).await, 422, "outside").await;
        assert_eq!(fields(&problem), ["stops[0].site"]);
        app
    })
    .await;
}

#[tokio::test]
async fn the_planner_takes_hosts_as_candidates_and_fixed_stops_and_accepting_makes_host_stops() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let school = host(&app, &school_body(Some(400))).await;
        let site = format!("host-{school}");
        // A fixed stop at the host, its goal agreed: 60 expected on that day.
        let request = json!({"region": COUNTY, "from": "2026-12-07", "to": "2026-12-11",
            "iterations": 300, "hosts": [{"host": school, "signup_goal": 60}],
            "fixed": [{"site": site, "date": "2026-12-08", "vehicle": net.vehicles[0]}]});
        let plan = make_plan(&app, &app.client, &request).await;
        let stops: Vec<&Value> = plan["result"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["date"] == "2026-12-08")
            .flat_map(|r| r["stops"].as_array().unwrap())
            .filter(|s| s["site"] == site.as_str())
            .collect();
        assert_eq!(stops.len(), 1, "{plan}");
        assert_eq!(stops[0]["expected"], 60.0, "{plan}");
        assert_eq!(stops[0]["name"], "东岭镇中心小学");
        // Named like any stop: the host's address and township.
        assert_eq!(stops[0]["address"], "东岭镇学府路 8 号", "{plan}");
        assert_eq!(stops[0]["township"], "东岭镇", "{plan}");
        assert_eq!(plan["request"]["hosts"][0]["signup_goal"], 60, "{plan}");
        // Accepted: the stop is at the host, with the request's goal.
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &format!("/api/v1/plans/{}/accept", plan["id"]),
            None,
            None,
        )
        .await;
        assert_eq!(response.status().as_u16(), 201);
        let drives: Vec<Value> = response.json().await.unwrap();
        let at: Vec<&Value> = drives
            .iter()
            .flat_map(|d| d["stops"].as_array().unwrap())
            .filter(|s| s["site"] == site.as_str())
            .collect();
        assert_eq!(at.len(), 1, "{drives:?}");
        assert_eq!(at[0]["host_id"], school);
        assert_eq!(at[0]["signup_goal"], 60);
        assert_eq!(at[0]["region_code"], DONGLING);

        // Without a goal, the headcount times the participation share (400 x 0.25), on a day
        // the vehicles are free; named only in `fixed`, it is a candidate all the same.
        let request = json!({"region": COUNTY, "from": "2026-12-14", "to": "2026-12-18",
            "iterations": 300, "fixed": [{"site": site, "date": "2026-12-15", "vehicle": net.vehicles[0]}]});
        let plan = make_plan(&app, &app.client, &request).await;
        let expected: Vec<f64> = plan["result"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["stops"].as_array().unwrap())
            .filter(|s| s["site"] == site.as_str())
            .map(|s| s["expected"].as_f64().unwrap())
            .collect();
        assert_eq!(expected, [100.0], "{plan}");

        // Refused, each named: a host unknown, one without a headcount or goal, one outside
        // the region, one repeated, a goal out of range.
        let bare = host(&app, &school_body(None)).await;
        let outside = host(
            &app,
            &json!({"name": "西河乡卫生院", "kind": "hospital", "region_code": XIHE,
                    "longitude": 114.05, "latitude": 33.60, "typical_headcount": 90}),
        )
        .await;
        let request = json!({"region": COUNTY, "from": "2026-12-14", "to": "2026-12-18",
            "hosts": [{"host": 999999}, {"host": bare}, {"host": outside},
                      {"host": school, "signup_goal": 0}, {"host": school}],
            "fixed": [{"site": "host-424242", "date": "2026-12-15"}]});
        let response = app
            .client
            .post(app.url("/api/v1/plans"))
            .json(&request)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, "bad hosts").await;
        let named = fields(&problem);
        for field in [
            "hosts[3].signup_goal",
            "hosts[4].host",
        ] {
            assert!(named.contains(&field), "{field}: {problem}");
        }
        // The checks that need no database come first; then those that do (planning 东岭镇:
        // the hospital of 西河乡 lies outside it).
        let request = json!({"region": DONGLING, "from": "2026-12-14", "to": "2026-12-18",
            "hosts": [{"host": 999999}, {"host": bare}, {"host": outside}],
            "fixed": [{"site": "host-424242", "date": "2026-12-15"}]});
        let response = app
            .client
            .post(app.url("/api/v1/plans"))
            .json(&request)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, "bad hosts").await;
        let text = problem.to_string();
        assert_eq!(
            fields(&problem),
            ["hosts[0].host", "hosts[1].host", "hosts[2].host", "fixed[0].site", "fixed[0].site"],
            "{problem}"
        );
        assert!(text.contains("no host with id 999999"), "{text}");
        assert!(text.contains("no typical headcount"), "{text}");
        assert!(text.contains("outside the plan's region"), "{text}");
        // The forecast is of villages: a host's is refused, naming the field.
        let (status, body) = app.get_json(&format!("/api/v1/forecast?site={site}&date=2026-12-15")).await;
        assert_eq!(status, 400, "{body}");
        app
    })
    .await;
}

#[tokio::test]
async fn staff_set_the_goal_with_if_match_and_make_replace_and_revoke_the_link() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let school = host(&app, &school_body(Some(400))).await;
        let made = made(&app, &at_host(net.vehicles[0], school, "2026-12-21", None)).await;
        let id = made["id"].as_i64().unwrap();
        let stop = made["stops"][0]["id"].as_i64().unwrap();

        // The goal: If-Match required, a stale one gets the stop as it is, a good one moves
        // the drive's version on.
        let response = set_goal(&app, &app.client, id, stop, json!(80), None).await;
        expect_problem(response, 428, "no If-Match").await;
        let response = set_goal(&app, &app.client, id, stop, json!(0), Some("\"1\"")).await;
        let problem = expect_problem(response, 400, "goal 0").await;
        assert_eq!(fields(&problem), ["signup_goal"]);
        let response = set_goal(&app, &app.client, id, stop, json!(80), Some("\"1\"")).await;
        assert_eq!(response.headers()["etag"], "\"2\"");
        let set = ok_json(response, 200, "the goal").await;
        assert_eq!(set["signup_goal"], 80);
        assert_eq!(set["drive_version"], 2);
        let response = set_goal(&app, &app.client, id, stop, json!(90), Some("\"1\"")).await;
        let stale = ok_json(response, 412, "stale").await;
        assert_eq!(stale["signup_goal"], 80);
        let read = app.get_ok(&format!("/api/v1/drives/{id}")).await;
        assert_eq!(read["version"], 2);
        assert_eq!(read["stops"][0]["signup_goal"], 80);

        // Only a host's stop has a goal and a link.
        let point_drive = made_point(&app, net.vehicles[1], net.points[0]).await;
        let (pid, pstop) = (
            point_drive["id"].as_i64().unwrap(),
            point_drive["stops"][0]["id"].as_i64().unwrap(),
        );
        let response = set_goal(&app, &app.client, pid, pstop, json!(10), Some("\"1\"")).await;
        expect_problem(response, 409, "a point's stop").await;
        expect_problem(
            make_link(&app, &app.client, pid, pstop).await,
            409,
            "a point's link",
        )
        .await;
        // A stop of another drive is not this drive's.
        expect_problem(
            make_link(&app, &app.client, id, pstop).await,
            404,
            "not its stop",
        )
        .await;

        // Outside the caller's reach, the drive does not exist.
        let xihe_staff = app.client_for("xihe", "station_staff", &[XIHE]).await;
        expect_problem(
            make_link(&app, &xihe_staff, id, stop).await,
            404,
            "out of reach",
        )
        .await;
        let response = set_goal(&app, &xihe_staff, id, stop, json!(10), Some("\"2\"")).await;
        expect_problem(response, 404, "out of reach").await;
        expect_problem(
            make_link(&app, &app.anonymous, id, stop).await,
            401,
            "anonymous",
        )
        .await;

        // The link: shown once; its JSON gives the goal and the count.
        let first = token_of(&app, id, stop).await;
        let (status, sheet) = app
            .get_json(&format!("/api/v1/public/signups/{first}"))
            .await;
        assert_eq!(status, 200, "{sheet}");
        assert_eq!(sheet["host"], "东岭镇中心小学");
        assert_eq!(sheet["date"], "2026-12-21");
        assert_eq!(sheet["planned_start"], "09:00");
        assert_eq!(sheet["signup_goal"], 80);
        assert_eq!(sheet["signed_up"], 0);
        let read = app.get_ok(&format!("/api/v1/drives/{id}")).await;
        assert_eq!(read["stops"][0]["signup_link"], true);
        assert!(
            !read.to_string().contains(&first),
            "the token is never shown again"
        );
        // Replaced: the old link opens nothing.
        let second = token_of(&app, id, stop).await;
        assert_ne!(first, second);
        let (status, _) = app
            .get_json(&format!("/api/v1/public/signups/{first}"))
            .await;
        assert_eq!(status, 404);
        let (status, _) = app
            .get_json(&format!("/api/v1/public/signups/{second}"))
            .await;
        assert_eq!(status, 200);
        // Revoked: neither does the new one, nor its page.
        let response = send(
            &app,
            &app.client,
            Method::DELETE,
            &format!("/api/v1/drives/{id}/stops/{stop}/signup-link"),
            None,
            None,
        )
        .await;
        assert_eq!(response.status().as_u16(), 204);
        let (status, _) = app
            .get_json(&format!("/api/v1/public/signups/{second}"))
            .await;
        assert_eq!(status, 404);
        let page = app
            .anonymous
            .get(app.url(&format!("/signup/{second}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 404);
        let response = send(
            &app,
            &app.client,
            Method::DELETE,
            &format!("/api/v1/drives/{id}/stops/{stop}/signup-link"),
            None,
            None,
        )
        .await;
        expect_problem(response, 404, "no live link").await;

        // Every change audited as a change of the stop; no token in the log.
        let actions = audit_actions(&app, "drive_stop").await;
        for action in ["signup_goal", "signup_link", "signup_revoke"] {
            assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
        }
        let log = app
            .get_ok("/api/v1/audit?entity=drive_stop&limit=100")
            .await
            .to_string();
        assert!(!log.contains(&first) && !log.contains(&second), "{log}");

        // A cancelled drive takes no more links.
        let current = app.get_ok(&format!("/api/v1/drives/{id}")).await;
        transition(&app, id, current["version"].as_i64().unwrap(), "cancelled").await;
        expect_problem(
            make_link(&app, &app.client, id, stop).await,
            409,
            "cancelled",
        )
        .await;
        app
    })
    .await;
}

async fn made_point(app: &TestApp, vehicle: i64, point: i64) -> Value {
    made(
        app,
        &json!({"vehicle_id": vehicle, "date": "2026-12-21", "region": COUNTY,
                "stops": [{"site": format!("point-{point}"), "planned_start": "09:00",
                           "planned_end": "11:00", "expected_donors": 20.0}]}),
    )
    .await
}

/// A browser-like client: no redirects followed, `Origin` of the site on every request.
fn browser(app: &TestApp) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", app.address.parse().unwrap());
    headers.insert("accept-language", "zh-CN".parse().unwrap());
    Client::builder()
        .redirect(redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn sign_up(
    client: &Client,
    app: &TestApp,
    token: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    client
        .post(app.url(&format!("/signup/{token}/book")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A published drive at a new host, 6 days from today, goal 3: (drive, stop, token).
pub(crate) async fn published_at_host(app: &TestApp, vehicle: i64) -> (i64, i64, String) {
    let school = host(app, &school_body(Some(400))).await;
    let date = (today() + Duration::days(6)).to_string();
    let made = made(app, &at_host(vehicle, school, &date, Some(3))).await;
    let id = made["id"].as_i64().unwrap();
    let stop = made["stops"][0]["id"].as_i64().unwrap();
    transition(app, id, 1, "published").await;
    let token = token_of(app, id, stop).await;
    (id, stop, token)
}

#[tokio::test]
async fn colleagues_sign_up_on_the_hosts_page_each_for_their_own_place() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let (_, stop, token) = published_at_host(&app, net.vehicles[0]).await;
        let client = browser(&app);
        let page = client
            .get(app.url(&format!("/signup/{token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 200);
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains("东岭镇中心小学 献血报名"), "{html}");
        assert!(html.contains("东岭镇学府路 8 号"), "{html}");
        assert!(html.contains("09:00–11:00"), "{html}");
        assert!(html.contains("已报名 0 人"), "{html}");
        assert!(html.contains("目标 3 人"), "{html}");
        assert!(html.contains("还没有人报名"), "{html}");
        assert!(html.contains("value=\"09:00\""), "slots to pick: {html}");
        // One person per booking: no group, no headcount.
        assert!(!html.contains("name=\"headcount\""), "{html}");
        assert!(!html.contains("name=\"kind\""), "{html}");

        // A mistake is named beside its field; nothing booked.
        let bad = sign_up(
            &client,
            &app,
            &token,
            &[("name", ""), ("mobile", "12345"), ("slot", "09:00")],
        )
        .await;
        assert_eq!(bad.status().as_u16(), 400);
        let bad = bad.text().await.unwrap();
        assert!(bad.contains("请填写 11 位手机号码"), "{bad}");
        assert!(bad.contains("已报名 0 人"), "{bad}");

        // Two colleagues, each their own place; on to their booking's page.
        for (name, mobile, slot) in [
            ("王小明", "13900000001", "09:00"),
            ("李华", "13900000002", "09:30"),
        ] {
            let done = sign_up(
                &client,
                &app,
                &token,
                &[("name", name), ("mobile", mobile), ("slot", slot)],
            )
            .await;
            assert_eq!(done.status().as_u16(), 303, "{name}");
            let to = done.headers()["location"].to_str().unwrap();
            assert!(
                to.starts_with("/bookings/") && to.contains("done=booked"),
                "{to}"
            );
        }
        // The same mobile twice is refused in words.
        let again = sign_up(
            &client,
            &app,
            &token,
            &[
                ("name", "王小明"),
                ("mobile", "13900000001"),
                ("slot", "10:00"),
            ],
        )
        .await;
        assert_eq!(again.status().as_u16(), 409);
        assert!(
            again
                .text()
                .await
                .unwrap()
                .contains("这个手机号已经预约过这个站点了")
        );

        // The contact watches: the count against the goal, names masked, no mobiles.
        let html = client
            .get(app.url(&format!("/signup/{token}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("已报名 2 人"), "{html}");
        assert!(
            html.contains("<li>王**</li>") && html.contains("<li>李*</li>"),
            "{html}"
        );
        assert!(
            !html.contains("王小明") && !html.contains("13900000001") && !html.contains("0001"),
            "{html}"
        );
        let (_, sheet) = app
            .get_json(&format!("/api/v1/public/signups/{token}"))
            .await;
        assert_eq!(sheet["signed_up"], 2);
        assert_eq!(sheet["names"], json!(["王**", "李*"]));
        assert_eq!(sheet["signup_goal"], 3);
        assert!(!sheet.to_string().contains("1390000"), "{sheet}");
        // A group drive is not on the public schedule, nor counted in its places; a point's
        // drive that day is.
        let day = today() + Duration::days(6);
        let (_, open) =
            published_stop(&app, net.vehicles[1], net.points[1], day, "09:00", "11:00").await;
        let (_, schedule) = app.get_json("/api/v1/public/drives").await;
        assert!(schedule.to_string().contains("南塘镇献血点"), "{schedule}");
        assert!(
            !schedule.to_string().contains("东岭镇中心小学"),
            "{schedule}"
        );
        let listed = client
            .get(app.url("/drives"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(listed.contains(&format!("/stops/{open}")), "{listed}");
        assert!(!listed.contains(&format!("/stops/{stop}")), "{listed}");
        assert!(!listed.contains("东岭镇中心小学"), "{listed}");
        // They are bookings of the stop like any other.
        let (_, public) = app.get_json(&format!("/api/v1/public/stops/{stop}")).await;
        let places: i64 = public["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["places"].as_i64().unwrap())
            .sum();
        assert_eq!(
            public["places_left"].as_i64().unwrap(),
            places - 2,
            "{public}"
        );
        // English by the browser's language.
        let english = app
            .anonymous
            .get(app.url(&format!("/signup/{token}")))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            english.contains("Sign up to give blood at 东岭镇中心小学"),
            "{english}"
        );
        // A token that opens nothing: a 404 page in words.
        let wrong = client
            .get(app.url("/signup/0123456789abcdef"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status().as_u16(), 404);
        assert!(
            wrong
                .text()
                .await
                .unwrap()
                .contains("这个报名链接无效或已失效")
        );
        let wrong = sign_up(
            &client,
            &app,
            "0123456789abcdef",
            &[
                ("name", "张三"),
                ("mobile", "13900000003"),
                ("slot", "09:00"),
            ],
        )
        .await;
        assert_eq!(wrong.status().as_u16(), 404);
        app
    })
    .await;
}

#[tokio::test]
async fn a_draft_drives_page_says_sign_up_has_not_opened() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let school = host(&app, &school_body(Some(400))).await;
        let made = made(
            &app,
            &at_host(net.vehicles[0], school, "2026-12-21", Some(30)),
        )
        .await;
        let token = token_of(
            &app,
            made["id"].as_i64().unwrap(),
            made["stops"][0]["id"].as_i64().unwrap(),
        )
        .await;
        let html = browser(&app)
            .get(app.url(&format!("/signup/{token}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("报名尚未开始或已经结束"), "{html}");
        assert!(!html.contains("name=\"mobile\""), "no form: {html}");
        assert!(html.contains("目标 30 人"), "{html}");
        app
    })
    .await;
}

async fn due(app: &TestApp, month: &str) -> Vec<i64> {
    app.get_ok(&format!("/api/v1/hosts?due={month}")).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_host_with_a_drive_planned_that_month_or_later_is_not_due() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let school = host(&app, &school_body(Some(400))).await;
        let other = host(&app, &school_named("东岭镇中学")).await;
        assert_eq!(due(&app, "2027-03").await, [school, other]);
        assert_eq!(due(&app, "2027-12").await, [school, other]);
        assert!(
            due(&app, "2027-04").await.is_empty(),
            "not in the timetable"
        );

        // A drive at the school in March 2027: not due in March, nor before it (planned
        // later); due again from April (before it is not "that month or later").
        let march = made(&app, &at_host(net.vehicles[0], school, "2027-03-16", None)).await;
        assert_eq!(due(&app, "2027-03").await, [other]);
        assert_eq!(
            due(&app, "2026-12").await,
            [other],
            "a drive planned later counts"
        );
        assert_eq!(due(&app, "2027-12").await, [school, other]);
        // On the month's first and last day alike.
        let first = made(&app, &at_host(net.vehicles[1], other, "2027-12-01", None)).await;
        assert_eq!(due(&app, "2027-12").await, [school]);
        let first_id = first["id"].as_i64().unwrap();
        transition(&app, first_id, 1, "cancelled").await;
        // Cancelled: planned no more.
        assert_eq!(due(&app, "2027-12").await, [school, other]);
        transition(&app, march["id"].as_i64().unwrap(), 1, "cancelled").await;
        assert_eq!(due(&app, "2027-03").await, [school, other]);
        // A drive at a point does not make a host planned.
        made_point(&app, net.vehicles[1], net.points[0]).await;
        assert_eq!(due(&app, "2026-12").await, [school, other]);
        let problem = expect_problem(
            send(
                &app,
                &app.client,
                Method::GET,
                "/api/v1/hosts?due=2027-13",
                None,
                None,
            )
            .await,
            400,
            "month 13",
        )
        .await;
        assert_eq!(fields(&problem), ["due"]);
        app
    })
    .await;
}

pub(crate) fn school_named(name: &str) -> Value {
    let mut body = school_body(Some(300));
    body["name"] = json!(name);
    body["contacts"] = json!([]);
    body
}

#[tokio::test]
async fn the_group_drives_migration_rolls_back_and_reapplies() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    on_each_backend(|app| async move {
        let db = app.schema_connection().await;
        let net = network(&app).await;
        let school = host(&app, &school_body(Some(400))).await;
        made(
            &app,
            &at_host(net.vehicles[0], school, "2026-12-21", Some(5)),
        )
        .await;
        let applied = Migrator::get_applied_migrations(&db).await.unwrap();
        let at = applied
            .iter()
            .position(|m| m.name() == "m20261207_000017_group_drives")
            .expect("the group drives migration is applied");
        let steps = (applied.len() - at) as u32;
        Migrator::down(&db, Some(steps)).await.expect("down");
        assert!(
            db.execute_unprepared("SELECT host_id FROM drive_stops")
                .await
                .is_err()
        );
        assert!(
            db.execute_unprepared("SELECT site_id FROM drive_stops")
                .await
                .is_ok()
        );
        Migrator::up(&db, None).await.expect("up again");
        let drives = app.get_ok("/api/v1/drives").await;
        assert_eq!(drives["items"][0]["stops"][0]["host_id"], Value::Null);
        made(
            &app,
            &at_host(net.vehicles[1], school, "2026-12-21", Some(5)),
        )
        .await;
        app
    })
    .await;
}
