//! Outside your read scope it does not exist (issue 12, §3): what a 孟庙镇 official (郾城区)
//! learns about 源汇区 through the forecast, drives and their stops, plans, and error messages.
//! The regions are those of the Luohe import.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{TestApp, created, expect_problem, ok_json, on_each_backend, send};

/// 孟庙镇, the official's township (in 郾城区).
const MENGMIAO: &str = "411103101000";
/// 李村, a village of 孟庙镇.
const LICUN: &str = "411103101001";
/// 郾城区.
pub(crate) const YANCHENG: &str = "411103000000";
/// 源汇区, another county of the city.
const YUANHUI: &str = "411102000000";
/// 大刘镇 (源汇区).
const DALIU: &str = "411102100000";
/// 南王村 (大刘镇, 源汇区).
const NANWANG: &str = "411102100202";
/// 大刘村 (大刘镇, 源汇区).
const DALIU_VILLAGE: &str = "411102100201";
/// 漯河市.
const CITY: &str = "411100000000";

/// Gives `code` a centre (as admin).
async fn locate(app: &TestApp, code: &str, lon: f64, lat: f64) {
    let path = format!("/api/v1/regions/{code}");
    let response = send(app, &app.client, Method::GET, &path, None, None).await;
    let tag = response.headers()["etag"].to_str().unwrap().to_owned();
    let response = send(
        app,
        &app.client,
        Method::PATCH,
        &path,
        Some(&json!({"longitude": lon, "latitude": lat})),
        Some(&tag),
    )
    .await;
    ok_json(response, 200, &format!("locating {code}")).await;
}

async fn survey(app: &TestApp, code: &str, eligible: i64) {
    created(
        app,
        &format!("/api/v1/regions/{code}/surveys"),
        &json!({"eligible_total": eligible, "surveyed_on": "2026-10-01",
                "source": "village_doctor"}),
    )
    .await;
}

async fn point(app: &TestApp, name: &str, region: &str, lon: f64, lat: f64) -> i64 {
    let p = app
        .create_point(
            &json!({"name": name, "kind": "township", "region_code": region,
                              "longitude": lon, "latitude": lat, "status": "active"}),
        )
        .await;
    p["id"].as_i64().unwrap()
}

/// The Luohe divisions, with 李村 (孟庙镇) and 南王村, 大刘村 (源汇区) located and surveyed
/// near one another, an active point in 孟庙镇 (the nearest to 李村 and 南王村) and one in
/// 大刘镇 (the nearest to 大刘村); returns the two points' ids.
pub(crate) async fn border(app: &TestApp) -> (i64, i64) {
    app.import_luohe().await;
    locate(app, LICUN, 114.000, 33.610).await;
    locate(app, NANWANG, 114.015, 33.600).await;
    locate(app, DALIU_VILLAGE, 114.045, 33.600).await;
    survey(app, LICUN, 1000).await;
    survey(app, NANWANG, 4321).await;
    survey(app, DALIU_VILLAGE, 2000).await;
    let mengmiao = point(app, "孟庙镇献血点", MENGMIAO, 114.000, 33.600).await;
    let daliu = point(app, "大刘镇献血点", DALIU, 114.045, 33.601).await;
    (mengmiao, daliu)
}

fn codes_in(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_forecast_shows_villages_outside_the_callers_area_only_as_an_aggregate() {
    on_each_backend(|app| async move {
        let (mengmiao, _) = border(&app).await;
        let official = app
            .client_for("mengmiao.official", "township_official", &[MENGMIAO])
            .await;
        // The official cannot read 南王村's surveys...
        let response = send(
            &app,
            &official,
            Method::GET,
            &format!("/api/v1/regions/{NANWANG}/surveys"),
            None,
            None,
        )
        .await;
        expect_problem(response, 404, "南王村 is outside the official's reach").await;

        let path = format!("/api/v1/forecast?site=point-{mengmiao}&date=2026-12-16");
        let admin = app.get_ok(&path).await;
        assert_eq!(codes_in(&admin["villages"]), [LICUN, NANWANG], "{admin}");
        assert_eq!(
            codes_in(&admin["value"]["villages"]),
            [LICUN, NANWANG],
            "{admin}"
        );
        assert_eq!(codes_in(&admin["elsewhere"]), [DALIU_VILLAGE], "{admin}");
        assert_eq!(admin["outside"]["villages"], 0);
        assert_eq!(admin["outside"]["elsewhere"], 0);
        assert_eq!(admin["outside"]["note"], "");
        let nanwang_expected = admin["villages"][1]["expected"].as_f64().unwrap();
        assert!(nanwang_expected > 0.0, "{admin}");

        // ...nor through the forecast: it counts, but only as an aggregate.
        let response = send(&app, &official, Method::GET, &path, None, None).await;
        let text = response.text().await.unwrap();
        let mine: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(codes_in(&mine["villages"]), [LICUN], "{mine}");
        // The blood-group mixes too: only the villages the caller reads.
        assert_eq!(codes_in(&mine["value"]["villages"]), [LICUN], "{mine}");
        assert_eq!(codes_in(&mine["elsewhere"]), Vec::<String>::new(), "{mine}");
        for leak in [NANWANG, "南王村", "4321", DALIU_VILLAGE, "大刘村"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
        assert_eq!(mine["outside"]["villages"], 1, "{mine}");
        assert_eq!(mine["outside"]["elsewhere"], 1, "{mine}");
        let outside = mine["outside"]["expected"].as_f64().unwrap();
        assert!((outside - nanwang_expected).abs() < 1e-9, "{mine}");
        assert_eq!(
            mine["outside"]["note"],
            format!(
                "1 village outside your area: {nanwang_expected:.1} expected; \
                 1 village within reach outside your area count toward other points"
            )
        );
        // The total is everyone's.
        assert_eq!(mine["total"], admin["total"]);
        assert_eq!(mine["uncapped"], admin["uncapped"]);
        app
    })
    .await;
}

/// A station of the city (漯河市, beyond a 孟庙镇 official's reach) with one vehicle; the
/// vehicle's id.
pub(crate) async fn fleet(app: &TestApp) -> i64 {
    let station = created(
        app,
        "/api/v1/stations",
        &json!({"name": "漯河市中心血站", "region_code": CITY, "address": "人民路 1 号",
                "longitude": 114.02, "latitude": 33.58}),
    )
    .await;
    let vehicle = created(
        app,
        "/api/v1/vehicles",
        &json!({"name": "1号采血车", "plate": "豫L12345", "station_id": station["id"],
                "beds": 4, "staff": 6, "max_donors_per_day": 120, "day_start": "08:00",
                "day_end": "17:00", "setup_min": 30, "teardown_min": 20, "cost_per_km": 2.5}),
    )
    .await;
    vehicle["id"].as_i64().unwrap()
}

fn stop_at(point: i64, from: &str, to: &str) -> Value {
    json!({"site": format!("point-{point}"), "planned_start": from, "planned_end": to,
           "expected_donors": 5})
}

async fn make_drive(
    app: &TestApp,
    vehicle: i64,
    date: &str,
    region: &str,
    stops: &[Value],
) -> Value {
    created(
        app,
        "/api/v1/drives",
        &json!({"vehicle_id": vehicle, "date": date, "region": region, "stops": stops}),
    )
    .await
}

/// Moves the drive along `to` as admin, the server's clock on the drive's date.
async fn move_along(app: &TestApp, drive: &Value, to: &[&str]) -> Value {
    app.set_today(drive["date"].as_str().unwrap());
    let mut current = drive.clone();
    for step in to {
        let response = send(
            app,
            &app.client,
            Method::POST,
            &format!("/api/v1/drives/{}/transition", current["id"]),
            Some(&json!({"to": step})),
            Some(&format!("\"{}\"", current["version"])),
        )
        .await;
        current = ok_json(response, 200, &format!("moving to {step}")).await;
    }
    current
}

/// Moves stop `stop` to `point` (of `region`) behind the API's back: a drive as one made
/// before a drive's region had to hold its stops.
async fn move_stop(app: &TestApp, stop: i64, point: i64, region: &str) {
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!(
            "UPDATE drive_stops SET point_id = {point}, site_id = 'point-{point}', \
             region_code = '{region}' WHERE id = {stop}"
        ))
        .await
        .unwrap();
}

async fn get_as(app: &TestApp, client: &Client, path: &str) -> (u16, String) {
    let response = send(app, client, Method::GET, path, None, None).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn a_drives_region_must_hold_every_stop() {
    on_each_backend(|app| async move {
        let (mengmiao, daliu) = border(&app).await;
        let vehicle = fleet(&app).await;
        let both = [
            stop_at(mengmiao, "08:00", "09:00"),
            stop_at(daliu, "10:00", "11:00"),
        ];
        let response = send(
            &app,
            &app.client,
            Method::POST,
            "/api/v1/drives",
            Some(
                &json!({"vehicle_id": vehicle, "date": "2026-11-20", "region": YANCHENG,
                         "stops": both}),
            ),
            None,
        )
        .await;
        let problem = expect_problem(response, 422, "a 源汇区 stop on a 郾城区 drive").await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["stops[1].site"], "{problem}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(YANCHENG),
            "{problem}"
        );
        let (_, page) = get_as(&app, &app.client, "/api/v1/drives").await;
        let page: Value = serde_json::from_str(&page).unwrap();
        assert_eq!(page["items"], json!([]), "nothing was made");
        // The city holds both.
        let d = make_drive(&app, vehicle, "2026-11-20", CITY, &both).await;
        assert_eq!(d["stops"].as_array().unwrap().len(), 2);
        app
    })
    .await;
}

#[tokio::test]
async fn each_stops_records_are_read_and_written_by_its_site_not_only_its_drive() {
    on_each_backend(|app| async move {
        let (mengmiao, daliu) = border(&app).await;
        let vehicle = fleet(&app).await;
        let official = app
            .client_for("mengmiao.official", "township_official", &[MENGMIAO])
            .await;

        // A 郾城区 drive whose stop lies in 源汇区 (made before the rule), with a donor checked in.
        let d = make_drive(
            &app,
            vehicle,
            "2026-11-20",
            YANCHENG,
            &[stop_at(mengmiao, "08:00", "09:00")],
        )
        .await;
        let stop = d["stops"][0]["id"].as_i64().unwrap();
        move_stop(&app, stop, daliu, DALIU).await;
        let d = move_along(&app, &d, &["published", "in_progress"]).await;
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &format!("/api/v1/stops/{stop}/attendances"),
            Some(
                &json!({"name": "王秀英", "outcome": "donated", "volume_ml": 400,
                         "abo": "B", "rh": "+"}),
            ),
            None,
        )
        .await;
        ok_json(response, 201, "checking in at the 源汇区 stop").await;
        let (status, text) = get_as(
            &app,
            &app.client,
            &format!("/api/v1/stops/{stop}/attendances"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(text.contains("王秀英"), "{text}");

        // The official reads the drive (郾城区), but nothing of the stop.
        for path in [
            format!("/api/v1/stops/{stop}/attendances"),
            format!("/api/v1/stops/{stop}/results"),
        ] {
            let (status, text) = get_as(&app, &official, &path).await;
            assert_eq!(status, 404, "{path}: {text}");
            assert!(text.contains(&format!("no stop with id {stop}")), "{text}");
        }
        for path in [
            format!("/api/v1/drives/{}", d["id"]),
            format!("/api/v1/drives/{}/checklist", d["id"]),
            format!("/api/v1/drives/{}/report", d["id"]),
            "/api/v1/drives".to_owned(),
        ] {
            let (status, text) = get_as(&app, &official, &path).await;
            assert_eq!(status, 200, "{path}: {text}");
            for leak in ["王秀英", "大刘镇献血点", DALIU, "B+"] {
                assert!(!text.contains(leak), "{path} shows {leak}: {text}");
            }
        }
        let (_, text) = get_as(
            &app,
            &official,
            &format!("/api/v1/drives/{}/report", d["id"]),
        )
        .await;
        let report: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(report["totals"]["donated"], 0, "{report}");

        // The reverse: a 源汇区 drive with a stop in 孟庙镇. The official cannot read the
        // drive, so cannot tick its items either, nor see them due.
        let other = make_drive(
            &app,
            vehicle,
            "2026-11-21",
            YUANHUI,
            &[stop_at(daliu, "08:00", "09:00")],
        )
        .await;
        let other_stop = other["stops"][0]["id"].as_i64().unwrap();
        move_stop(&app, other_stop, mengmiao, MENGMIAO).await;
        let list = app
            .get_ok(&format!("/api/v1/drives/{}/checklist", other["id"]))
            .await;
        let item = list["stops"][0]["items"][0]["id"].as_i64().unwrap();
        let (status, _) = get_as(&app, &official, &format!("/api/v1/drives/{}", other["id"])).await;
        assert_eq!(status, 404);
        let response = send(
            &app,
            &official,
            Method::POST,
            &format!("/api/v1/checklist-items/{item}/done"),
            None,
            Some("\"1\""),
        )
        .await;
        let problem =
            expect_problem(response, 404, "an item of a drive the official cannot read").await;
        assert_eq!(
            problem["detail"],
            format!("no checklist item with id {item}")
        );
        let (status, text) = get_as(
            &app,
            &official,
            &format!("/api/v1/checklists/due?region={MENGMIAO}&date=2026-11-20"),
        )
        .await;
        assert_eq!(status, 200, "{text}");
        let due: Value = serde_json::from_str(&text).unwrap();
        assert!(
            due["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["item_id"].as_i64() != Some(item)),
            "{due}"
        );
        // Admins still do.
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &format!("/api/v1/checklist-items/{item}/done"),
            None,
            Some("\"1\""),
        )
        .await;
        ok_json(response, 200, "the admin ticks it").await;
        app
    })
    .await;
}

#[tokio::test]
async fn records_outside_the_callers_area_answer_as_records_that_do_not_exist() {
    on_each_backend(|app| async move {
        let (mengmiao, _) = border(&app).await;
        let vehicle = fleet(&app).await;
        // Station staff of another city (the demo city, 990100000000).
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        let elsewhere = app
            .client_for("demo.staff", "station_staff", &["990100000000"])
            .await;
        // The Luohe vehicle, retired: for them exactly as a vehicle that never was.
        let path = format!("/api/v1/vehicles/{vehicle}");
        let response = send(&app, &app.client, Method::GET, &path, None, None).await;
        let tag = response.headers()["etag"].to_str().unwrap().to_owned();
        let response = send(
            &app,
            &app.client,
            Method::PATCH,
            &path,
            Some(&json!({"status": "retired"})),
            Some(&tag),
        )
        .await;
        ok_json(response, 200, "retiring the vehicle").await;
        let nobody = vehicle + 1000;
        let mut answers = Vec::new();
        for id in [vehicle, nobody] {
            let response = send(
                &app,
                &elsewhere,
                Method::POST,
                "/api/v1/drives",
                Some(
                    &json!({"vehicle_id": id, "date": "2026-11-20", "region": "990100000000",
                             "stops": [stop_at(mengmiao, "08:00", "09:00")]}),
                ),
                None,
            )
            .await;
            let problem =
                expect_problem(response, 400, "a vehicle outside the caller's area").await;
            let vehicle_error = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["field"] == "vehicle_id")
                .cloned()
                .unwrap_or(Value::Null);
            answers.push(
                vehicle_error["message"]
                    .as_str()
                    .unwrap_or("")
                    .replace(&id.to_string(), "N"),
            );
            let site_error = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["field"] == "stops[0].site")
                .cloned()
                .unwrap_or(Value::Null);
            assert_eq!(
                site_error["message"],
                format!("no point with id {mengmiao}")
            );
        }
        assert_eq!(answers[0], answers[1], "{answers:?}");
        assert_eq!(answers[0], "no vehicle with id N");

        // A closed point beyond reach reads as no point at all.
        let response = send(
            &app,
            &app.client,
            Method::DELETE,
            &format!("/api/v1/points/{mengmiao}"),
            None,
            None,
        )
        .await;
        assert!(response.status().is_success(), "closing the point");
        let response = send(
            &app,
            &elsewhere,
            Method::POST,
            "/api/v1/drives",
            Some(
                &json!({"vehicle_id": nobody, "date": "2026-11-20", "region": "990100000000",
                         "stops": [stop_at(mengmiao, "08:00", "09:00")]}),
            ),
            None,
        )
        .await;
        let problem = expect_problem(response, 400, "a closed point outside the area").await;
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == "stops[0].site"
                    && e["message"] == format!("no point with id {mengmiao}")),
            "{problem}"
        );

        // A vehicle put at a station beyond reach: as for a station nobody has.
        let luohe_station = app.get_ok("/api/v1/stations").await["items"][0]["id"]
            .as_i64()
            .unwrap();
        let mut answers = Vec::new();
        for station in [luohe_station, luohe_station + 1000] {
            let response = send(
                &app,
                &elsewhere,
                Method::POST,
                "/api/v1/vehicles",
                Some(
                    &json!({"name": "2号车", "plate": "豫K00001", "station_id": station,
                             "beds": 2, "staff": 4, "max_donors_per_day": 40,
                             "day_start": "08:00", "day_end": "17:00", "setup_min": 30,
                             "teardown_min": 20, "cost_per_km": 2.0}),
                ),
                None,
            )
            .await;
            let status = response.status().as_u16();
            let problem: Value = response.json().await.unwrap();
            answers.push((
                status,
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .replace(&station.to_string(), "N"),
            ));
        }
        assert_eq!(answers[0], answers[1], "{answers:?}");
        assert_eq!(answers[0].0, 400);

        // A plate or a mobile held in another city: refused (they are unique in the whole
        // registry) without naming or confirming the record that holds it.
        let demo_station = created(
            &app,
            "/api/v1/stations",
            &json!({"name": "演示市中心血站", "region_code": "990100000000",
                    "address": "人民路 1 号", "longitude": 114.02, "latitude": 33.58}),
        )
        .await;
        let response = send(
            &app,
            &elsewhere,
            Method::POST,
            "/api/v1/vehicles",
            Some(&json!({"name": "1号采血车", "plate": "豫L12345",
                         "station_id": demo_station["id"], "beds": 2, "staff": 4,
                         "max_donors_per_day": 40, "day_start": "08:00", "day_end": "17:00",
                         "setup_min": 30, "teardown_min": 20, "cost_per_km": 2.0})),
            None,
        )
        .await;
        let problem = expect_problem(response, 409, "a plate held in another city").await;
        assert_eq!(problem["errors"][0]["field"], "plate");
        let detail = problem["detail"].as_str().unwrap();
        assert!(!detail.contains("another vehicle"), "{detail}");
        assert!(!detail.contains(&vehicle.to_string()), "{detail}");
        assert!(!detail.contains("漯河"), "{detail}");
        created(
            &app,
            "/api/v1/coordinators",
            &json!({"name": "李医生", "mobile": "13800138000", "role": "village_doctor",
                    "region_code": MENGMIAO}),
        )
        .await;
        let response = send(
            &app,
            &elsewhere,
            Method::POST,
            "/api/v1/coordinators",
            Some(
                &json!({"name": "张医生", "mobile": "13800138000", "role": "village_doctor",
                         "region_code": "990101101000"}),
            ),
            None,
        )
        .await;
        let problem = expect_problem(response, 409, "a mobile held in another city").await;
        assert_eq!(problem["errors"][0]["field"], "mobile");
        let detail = problem["detail"].as_str().unwrap();
        assert!(!detail.contains("another coordinator"), "{detail}");
        assert!(!detail.contains("李医生"), "{detail}");
        app
    })
    .await;
}

#[tokio::test]
async fn plans_name_no_station_or_vehicle_the_reader_cannot_read() {
    on_each_backend(|app| async move {
        border(&app).await;
        let vehicle = fleet(&app).await;
        let plan = crate::plans::make_plan(
            &app,
            &app.client,
            &json!({"region": YANCHENG, "from": "2026-12-14", "to": "2026-12-15",
                    "iterations": 200}),
        )
        .await;
        let id = plan["id"].as_i64().unwrap();
        let routes = plan["result"]["routes"].as_array().unwrap();
        assert!(!routes.is_empty(), "{plan}");
        let admin_text = serde_json::to_string(&plan).unwrap();
        assert!(admin_text.contains("豫L12345"), "{admin_text}");
        assert!(admin_text.contains("漯河市中心血站"), "{admin_text}");

        let official = app
            .client_for("mengmiao.official", "township_official", &[MENGMIAO])
            .await;
        // The station (漯河市) and its vehicle are beyond the official's reach...
        let station = plan["result"]["routes"][0]["station"]
            .as_str()
            .unwrap()
            .trim_start_matches("station-")
            .to_owned();
        let (status, _) = get_as(&app, &official, &format!("/api/v1/stations/{station}")).await;
        assert_eq!(status, 404);
        // ...and so they are in the plan: its stops and times, not whose vehicle it is.
        let (status, text) = get_as(&app, &official, &format!("/api/v1/plans/{id}")).await;
        assert_eq!(status, 200, "{text}");
        for leak in [
            "豫L12345",
            "漯河市中心血站",
            "1号采血车",
            "station-",
            "vehicle-",
        ] {
            assert!(!text.contains(leak), "the plan shows {leak}: {text}");
        }
        let mine: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(mine["result"]["routes"][0]["vehicle"], "outside-1");
        // The request as accepted lists the vehicles used: not those.
        assert_eq!(plan["request"]["vehicles"], json!([vehicle]), "{plan}");
        assert_eq!(mine["request"]["vehicles"], json!([]), "{mine}");
        assert_eq!(
            mine["result"]["routes"][0]["stops"],
            plan["result"]["routes"][0]["stops"]
        );
        for format in ["csv", "html", "ics"] {
            let (status, text) = get_as(
                &app,
                &official,
                &format!("/api/v1/plans/{id}/export?format={format}"),
            )
            .await;
            assert_eq!(status, 200, "{format}: {text}");
            for leak in ["豫L12345", "漯河市中心血站", "1号采血车"] {
                assert!(!text.contains(leak), "the {format} shows {leak}");
            }
        }
        // The instance is the fleet's data: not for them.
        let (status, text) = get_as(&app, &official, &format!("/api/v1/plans/{id}/instance")).await;
        assert_eq!(status, 403, "{text}");
        for leak in ["豫L12345", "漯河市中心血站", "cost_per_km"] {
            assert!(!text.contains(leak), "{text}");
        }
        // So is checking routes against it.
        let response = send(
            &app,
            &official,
            Method::POST,
            "/api/v1/plans/check",
            Some(&json!({"plan_id": id, "routes": []})),
            None,
        )
        .await;
        expect_problem(response, 403, "checking against a plan's instance").await;
        let (status, text) =
            get_as(&app, &app.client, &format!("/api/v1/plans/{id}/instance")).await;
        assert_eq!(status, 200);
        assert!(text.contains("豫L12345"), "{text}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_booking_code_of_a_stop_beyond_reach_is_answered_as_an_unknown_code() {
    on_each_backend(|app| async move {
        let (mengmiao, _) = border(&app).await;
        let vehicle = fleet(&app).await;
        let d = make_drive(
            &app,
            vehicle,
            "2026-11-20",
            CITY,
            &[stop_at(mengmiao, "08:00", "09:00")],
        )
        .await;
        move_along(&app, &d, &["published", "in_progress"]).await;
        let here = d["stops"][0]["id"].as_i64().unwrap();

        // A drive of another city (the demo city), with a booking at its stop.
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        let station = created(
            &app,
            "/api/v1/stations",
            &json!({"name": "演示市中心血站", "region_code": "990100000000",
                    "address": "人民路 1 号", "longitude": 114.02, "latitude": 33.58}),
        )
        .await;
        let far_vehicle = created(
            &app,
            "/api/v1/vehicles",
            &json!({"name": "演示车", "plate": "豫LD0001", "station_id": station["id"],
                    "beds": 2, "staff": 4, "max_donors_per_day": 40, "day_start": "08:00",
                    "day_end": "17:00", "setup_min": 30, "teardown_min": 20, "cost_per_km": 2.0}),
        )
        .await;
        let far_point = point(&app, "东岭镇献血点", "990101101000", 114.0132, 33.6737).await;
        let far = make_drive(
            &app,
            far_vehicle["id"].as_i64().unwrap(),
            "2026-11-20",
            "990100000000",
            &[stop_at(far_point, "08:00", "09:00")],
        )
        .await;
        let far_stop = far["stops"][0]["id"].as_i64().unwrap();
        crate::results::booking(
            &app,
            far_stop,
            "FAR00001",
            ("远方", Some("13700009999")),
            ("individual", 1),
            "active",
        )
        .await;

        // Luohe's staff, checking someone in with that code, learn nothing of it.
        let staff = app
            .client_for("luohe.staff", "station_staff", &[CITY])
            .await;
        let mut answers = Vec::new();
        for code in ["FAR00001", "NONE0001"] {
            let response = send(
                &app,
                &staff,
                Method::POST,
                &format!("/api/v1/stops/{here}/attendances"),
                Some(&json!({"booking_code": code})),
                None,
            )
            .await;
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert!(!text.contains(&far_stop.to_string()), "{text}");
            answers.push((status, text.replace(code, "CODE")));
        }
        assert_eq!(answers[0], answers[1], "{answers:?}");
        assert_eq!(answers[0].0, 400);
        app
    })
    .await;
}
