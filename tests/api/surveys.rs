//! Village donor surveys through the HTTP API.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, on_each_backend};

const VILLAGE: &str = "411103101201";

fn survey(total: i64, date: &str) -> Value {
    json!({
        "eligible_total": total, "male": total / 2, "female": total - total / 2,
        "away_for_work": total / 4, "known_donors": total / 10,
        "surveyed_on": date, "source": "village_doctor", "surveyed_by": "李医生"
    })
}

async fn post(app: &TestApp, code: &str, body: &Value) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/api/v1/regions/{code}/surveys"),
        body,
        None,
    )
    .await
}

#[tokio::test]
async fn the_current_survey_is_the_latest_by_date_and_history_is_kept() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let response = post(&app, VILLAGE, &survey(600, "2026-10-01")).await;
        assert_eq!(response.status().as_u16(), 201);
        let first: Value = response.json().await.unwrap();
        assert_eq!(first["current"], true);
        // An older survey recorded later: kept, but not current.
        let older: Value = post(&app, VILLAGE, &survey(580, "2025-09-01"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(older["current"], false, "{older}");
        let newer: Value = post(&app, VILLAGE, &survey(640, "2026-11-01"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(newer["current"], true);

        let history = app
            .get_ok(&format!("/api/v1/regions/{VILLAGE}/surveys"))
            .await;
        let totals: Vec<i64> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["eligible_total"].as_i64().unwrap())
            .collect();
        assert_eq!(totals, [640, 600, 580]);
        let current: Vec<bool> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["current"].as_bool().unwrap())
            .collect();
        assert_eq!(current, [true, false, false]);
        assert_eq!(history[0]["surveyed_by"], "李医生");
        let audit = app.get_ok("/api/v1/audit?entity=survey").await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 3);
        app
    })
    .await;
}

#[tokio::test]
async fn every_survey_rule_is_a_400_naming_its_field_and_stores_nothing() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
        let cases: Vec<(Value, &str, &str)> = vec![
            (json!({"eligible_total": -5, "male": null, "female": null, "away_for_work": null, "known_donors": null}), "eligible_total", "a negative total"),
            (json!({"male": 100}), "male", "sexes that do not add up"),
            (json!({"female": null}), "female", "one sex only"),
            (json!({"age_18_34": 100, "age_35_54": 100, "age_55_60": 100}), "age_18_34", "age bands that do not add up"),
            (json!({"age_18_34": 600}), "age_35_54", "one age band only"),
            (json!({"away_for_work": 601}), "away_for_work", "more away than eligible"),
            (json!({"known_donors": 700}), "known_donors", "more donors than eligible"),
            (json!({"surveyed_on": tomorrow}), "surveyed_on", "a date in the future"),
            (json!({"surveyed_on": "2026-02-30"}), "surveyed_on", "an impossible date"),
            (json!({"surveyed_on": "-5000-01-01"}), "surveyed_on", "a date before 1949"),
            (json!({"notes": "a\u{0}b"}), "notes", "a NUL in the notes"),
            (json!({"surveyed_by": "x".repeat(101)}), "surveyed_by", "a surveyor name over 100 characters"),
            (json!({"source": "rumour"}), "source", "an unknown source"),
            (json!({"eligible_total": "many"}), "eligible_total", "a total that is not a number"),
            (json!({"households": 12}), "households", "an unknown member"),
        ];
        for (change, field, what) in cases {
            let mut body = survey(600, "2026-10-01");
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let problem = expect_problem(post(&app, VILLAGE, &body).await, 400, what).await;
            let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert!(fields.contains(&field), "{what}: {problem}");
        }
        // Not a village; no such region.
        let problem = expect_problem(post(&app, "411103101000", &survey(600, "2026-10-01")).await, 400, "a township").await;
        assert_eq!(problem["errors"][0]["field"], "code");
        expect_problem(post(&app, "411103101999", &survey(600, "2026-10-01")).await, 404, "an unknown village").await;
        assert_eq!(app.get_ok(&format!("/api/v1/regions/{VILLAGE}/surveys")).await, json!([]));
        app
    })
    .await;
}

#[tokio::test]
async fn a_large_change_needs_confirmation() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        assert_eq!(
            post(&app, VILLAGE, &survey(600, "2026-09-01"))
                .await
                .status()
                .as_u16(),
            201
        );
        for total in [199, 1801] {
            let problem = expect_problem(
                post(&app, VILLAGE, &survey(total, "2026-10-01")).await,
                400,
                "a large change",
            )
            .await;
            assert_eq!(problem["errors"][0]["field"], "eligible_total", "{problem}");
            assert!(
                problem["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("confirm_large_change")
            );
        }
        // Three times is not more than three times.
        assert_eq!(
            post(&app, VILLAGE, &survey(200, "2026-10-01"))
                .await
                .status()
                .as_u16(),
            201
        );
        let mut confirmed = survey(1500, "2026-11-01");
        confirmed["confirm_large_change"] = json!(true);
        assert_eq!(post(&app, VILLAGE, &confirmed).await.status().as_u16(), 201);
        let history = app
            .get_ok(&format!("/api/v1/regions/{VILLAGE}/surveys"))
            .await;
        assert_eq!(history.as_array().unwrap().len(), 3);
        app
    })
    .await;
}

#[tokio::test]
async fn a_survey_based_on_a_survey_no_longer_current_is_a_409_naming_the_current_one() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let based = |total: i64, date: &str, on: Value| {
            let mut body = survey(total, date);
            body["based_on"] = on;
            body
        };
        // `0`: entered when the village had no survey. Right the first time.
        let first: Value = post(&app, VILLAGE, &based(600, "2026-09-01", json!(0)))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(first["current"], true, "{first}");
        // Someone else's survey becomes current; an entry still based on none, or on the
        // first, is refused and stores nothing.
        let theirs: Value = post(&app, VILLAGE, &survey(640, "2026-10-01"))
            .await
            .json()
            .await
            .unwrap();
        for stale in [json!(0), first["id"].clone()] {
            let problem = expect_problem(
                post(&app, VILLAGE, &based(620, "2026-10-02", stale)).await,
                409,
                "a stale survey",
            )
            .await;
            let detail = problem["detail"].as_str().unwrap();
            assert!(
                detail.contains(&format!("id {}", theirs["id"])) && detail.contains("640"),
                "{problem}"
            );
            assert!(detail.contains("based_on"), "{problem}");
        }
        // An older survey recorded later does not change what is current: no conflict.
        let older = post(&app, VILLAGE, &survey(580, "2025-09-01")).await;
        assert_eq!(older.status().as_u16(), 201);
        let mine: Value = post(
            &app,
            VILLAGE,
            &based(620, "2026-10-02", theirs["id"].clone()),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(mine["current"], true, "{mine}");
        // A based_on that is no survey id at all names the field.
        let problem = expect_problem(
            post(&app, VILLAGE, &based(620, "2026-10-03", json!(-3))).await,
            400,
            "a negative based_on",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "based_on", "{problem}");
        let history = app
            .get_ok(&format!("/api/v1/regions/{VILLAGE}/surveys"))
            .await;
        assert_eq!(history.as_array().unwrap().len(), 4, "{history}");
        app
    })
    .await;
}

/// Sets a region's centre (WGS-84).
async fn place(app: &TestApp, code: &str, lon: f64, lat: f64) {
    let path = format!("/api/v1/regions/{code}");
    let version = app.get_ok(&path).await["version"].clone();
    let response = app
        .send_json(
            Method::PATCH,
            &path,
            &json!({"longitude": lon, "latitude": lat}),
            Some(&format!("\"{version}\"")),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
}

fn km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lat2) = (a.1.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((b.0 - a.0).to_radians() / 2.0).sin().powi(2);
    2.0 * 6_371.008_8 * h.sqrt().asin()
}

#[tokio::test]
async fn the_summary_matches_figures_computed_independently() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let township = "411103101000";
        let villages = app.list_all(&format!("parent={township}"), 500).await;
        let code = |i: usize| villages[i]["code"].as_str().unwrap().to_owned();
        // Four villages placed; the fourth is far from every point.
        let spots = [(114.080, 33.500), (114.100, 33.520), (114.200, 33.500), (114.500, 33.800)];
        for (i, (lon, lat)) in spots.iter().enumerate() {
            place(&app, &code(i), *lon, *lat).await;
        }
        // Surveys: villages 0..3, the third one stale; village 0 surveyed twice (only the
        // latest counts).
        let old = (chrono::Utc::now().date_naive() - chrono::Days::new(400)).to_string();
        // Dates relative to today, so that "fresh" stays fresh whenever the suite runs.
        let days_ago = |n: u64| (chrono::Utc::now().date_naive() - chrono::Days::new(n)).to_string();
        let (d300, d60, d59) = (days_ago(300), days_ago(60), days_ago(59));
        for (i, total, date) in [(0, 500, d300.as_str()), (0, 520, d60.as_str()), (1, 300, d59.as_str()), (2, 800, old.as_str())] {
            let mut body = survey(total, date);
            body["confirm_large_change"] = json!(true);
            assert_eq!(post(&app, &code(i), &body).await.status().as_u16(), 201);
        }
        // Points: an active one in the township, a planned and a closed one there too, and an
        // active one registered in another township but near village 2.
        let point = |name: &str, region: &str, lon: f64, lat: f64, status: &str| {
            json!({"name": name, "kind": "township", "region_code": region, "longitude": lon, "latitude": lat, "status": status})
        };
        let active = (114.083, 33.502);
        app.create_point(&point("孟庙镇点", township, active.0, active.1, "active")).await;
        app.create_point(&point("规划点", township, 114.09, 33.51, "planned")).await;
        let closed = app.create_point(&point("旧点", township, 114.5, 33.8, "active")).await;
        app.client.delete(app.url(&format!("/api/v1/points/{}", closed["id"]))).send().await.unwrap();
        let neighbour = (114.210, 33.505);
        app.create_point(&point("商桥镇点", "411103102000", neighbour.0, neighbour.1, "active")).await;

        let summary = app.get_ok(&format!("/api/v1/regions/{township}/summary")).await;
        // Independently: which placed villages lie within 5 km of an active point.
        let actives = [active, neighbour];
        let totals = [520i64, 300, 800, 0];
        let covered: Vec<usize> = (0..4).filter(|i| actives.iter().any(|a| km(spots[*i], *a) <= 5.0)).collect();
        assert_eq!(covered, [0, 1, 2], "the fixture should cover villages 0-2 only");
        let eligible_within: i64 = covered.iter().map(|i| totals[*i]).sum();
        assert_eq!(summary["villages"].as_u64().unwrap() as usize, villages.len());
        assert_eq!(summary["villages_located"], 4);
        assert_eq!(summary["villages_without_location"].as_u64().unwrap() as usize, villages.len() - 4);
        assert_eq!(summary["villages_surveyed"], 3);
        assert_eq!(summary["surveys_older_than_12_months"], 1);
        assert_eq!(summary["eligible_total"], 520 + 300 + 800);
        assert_eq!(summary["away_for_work"], 520 / 4 + 300 / 4 + 800 / 4);
        assert_eq!(summary["known_donors"], 52 + 30 + 80);
        assert_eq!(summary["points_by_status"], json!({"planned": 1, "active": 1, "suspended": 0, "closed": 1}));
        assert_eq!(summary["points_by_kind"], json!({"township": 2}));
        assert_eq!(summary["coverage"]["villages_within"], 3);
        assert_eq!(summary["coverage"]["eligible_within"], eligible_within);
        let share = summary["coverage"]["eligible_share"].as_f64().unwrap();
        assert!((share - eligible_within as f64 / 1620.0).abs() < 1e-9);
        // A district sums its townships; a village summarises itself.
        let district = app.get_ok("/api/v1/regions/411103000000/summary").await;
        assert_eq!(district["eligible_total"], 1620);
        assert_eq!(district["points_by_status"]["active"], 2);
        let village = app.get_ok(&format!("/api/v1/regions/{}/summary", code(1))).await;
        assert_eq!((village["villages"].clone(), village["eligible_total"].clone()), (json!(1), json!(300)));
        app
    })
    .await;
}

#[tokio::test]
async fn the_gaps_report_lists_what_to_fix_and_downloads_as_csv() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let township = "411103101000";
        let villages = app.list_all(&format!("parent={township}"), 500).await;
        let code = |i: usize| villages[i]["code"].as_str().unwrap().to_owned();
        let old = (chrono::Utc::now().date_naive() - chrono::Days::new(400)).to_string();
        // Village 0: fresh survey, near the active point. 1: stale, far. 2: fresh, far, big.
        let days_ago = |n: u64| (chrono::Utc::now().date_naive() - chrono::Days::new(n)).to_string();
        let (d60, d59) = (days_ago(60), days_ago(59));
        for (i, total, date) in [(0, 500, d60.as_str()), (1, 100, old.as_str()), (2, 800, d59.as_str())] {
            assert_eq!(post(&app, &code(i), &survey(total, date)).await.status().as_u16(), 201);
        }
        for (i, spot) in [(114.080, 33.500), (114.400, 33.700), (114.500, 33.800)].iter().enumerate() {
            place(&app, &code(i), spot.0, spot.1).await;
        }
        let signed = app
            .create_point(&json!({"name": "有牌点", "kind": "township", "region_code": township, "longitude": 114.081, "latitude": 33.501, "status": "active", "signage_installed_on": "2026-01-05"}))
            .await;
        let bare = app
            .create_point(&json!({"name": "无牌点", "kind": "township", "region_code": township, "longitude": 114.09, "latitude": 33.51, "status": "active"}))
            .await;
        let doctor: Value = app
            .send_json(Method::POST, "/api/v1/coordinators", &json!({"name": "王医生", "mobile": "13812345678", "role": "village_doctor", "region_code": township}), None)
            .await
            .json()
            .await
            .unwrap();
        let assign = format!("/api/v1/points/{}/coordinators/{}", signed["id"], doctor["id"]);
        assert_eq!(app.send_json(Method::PUT, &assign, &json!({"primary": true}), None).await.status().as_u16(), 200);

        let report = app.get_ok(&format!("/api/v1/reports/gaps?region={township}")).await;
        let names = |list: &str, key: &str| -> Vec<String> {
            report[list]["items"].as_array().unwrap().iter().map(|x| x[key].to_string().trim_matches('"').to_owned()).collect()
        };
        assert_eq!(names("points_without_primary", "id"), [bare["id"].to_string()]);
        assert_eq!(names("active_points_without_signage", "id"), [bare["id"].to_string()]);
        assert_eq!(report["villages_never_surveyed"]["total"].as_u64().unwrap() as usize, villages.len() - 3);
        assert_eq!(names("villages_survey_stale", "code"), [code(1)]);
        assert_eq!(names("villages_uncovered", "code"), [code(2), code(1)], "most eligible donors first");

        let response = app
            .client
            .get(app.url(&format!("/api/v1/reports/gaps?region={township}&format=csv&list=villages_never_surveyed")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(response.headers()["content-disposition"].to_str().unwrap().contains("villages_never_surveyed"));
        let bytes = response.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
        let mut reader = csv::Reader::from_reader(&bytes[3..]);
        assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), ["村代码", "村名", "适龄人数", "调查日期"]);
        assert_eq!(reader.records().count(), villages.len() - 3);
        // In English by Accept-Language or `lang`; point statuses too.
        for (query, accept) in [("", "en"), ("&lang=en", "zh-CN")] {
            let text = app
                .client
                .get(app.url(&format!("/api/v1/reports/gaps?region={township}&format=csv&list=points_without_primary{query}")))
                .header("accept-language", accept)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(text, format!("\u{feff}Point id,Point,Status,Region code\n{},无牌点,Active,{township}\n", bare["id"]), "{query} {accept}");
        }
        let text = app
            .client
            .get(app.url(&format!("/api/v1/reports/gaps?region={township}&format=csv&list=points_without_primary")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(text, format!("\u{feff}献血点编号,献血点,状态,区划代码\n{},无牌点,使用中,{township}\n", bare["id"]));
        for (query, field) in [("format=csv", "list"), ("format=xml", "format"), ("list=villages_uncovered", "list")] {
            let (status, body) = app.get_json(&format!("/api/v1/reports/gaps?region={township}&{query}")).await;
            assert_eq!(status, 400, "{query}: {body}");
            assert_eq!(body["errors"][0]["field"], field, "{body}");
        }
        app
    })
    .await;
}

/// Uploads a sheet.
async fn upload(
    app: &TestApp,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/surveys/import?{query}")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The Chinese header of a column in a downloaded sheet (its default language).
fn zh(column: &str) -> &'static str {
    match column {
        "village_code" => "村代码",
        "village_name" => "村名",
        "eligible_total" => "适龄人数",
        "male" => "男",
        "female" => "女",
        "surveyed_on" => "调查日期",
        "source" => "来源",
        "longitude" => "经度",
        "latitude" => "纬度",
        other => panic!("no Chinese header listed for {other}"),
    }
}

/// The exported CSV of a region (in its default language, Chinese), as records (header
/// first), without the BOM.
async fn exported(app: &TestApp, region: &str) -> Vec<Vec<String>> {
    exported_as(app, region, "", None).await
}

/// The exported CSV of a region with `query` added (`&lang=en`) and an `Accept-Language`.
async fn exported_as(
    app: &TestApp,
    region: &str,
    query: &str,
    accept_language: Option<&str>,
) -> Vec<Vec<String>> {
    let mut request = app
        .client
        .get(app.url(&format!("/api/v1/surveys/export?region={region}{query}")));
    if let Some(accept) = accept_language {
        request = request.header("accept-language", accept);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = response.bytes().await.unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..]);
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn to_csv(records: &[Vec<String>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for r in records {
        writer.write_record(r).unwrap();
    }
    writer.into_inner().unwrap()
}

#[tokio::test]
async fn a_downloaded_sheet_filled_in_and_uploaded_records_surveys_and_locations() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let township = "411103101000";
        let mut sheet = exported(&app, township).await;
        let header = sheet[0].clone();
        let col = |name: &str| header.iter().position(|h| h == zh(name)).unwrap();
        let villages = app.list_all(&format!("parent={township}"), 500).await;
        assert_eq!(sheet.len() - 1, villages.len(), "one row per village");
        // Fill in two rows; the others stay as downloaded (skipped).
        for (i, total, lon, lat) in [(1, "640", "114.0851", "33.5032"), (2, "380", "", "")] {
            sheet[i][col("eligible_total")] = total.to_owned();
            sheet[i][col("surveyed_on")] = "2026-11-01".to_owned();
            sheet[i][col("source")] = "村医".to_owned();
            sheet[i][col("longitude")] = lon.to_owned();
            sheet[i][col("latitude")] = lat.to_owned();
        }
        let first_code = sheet[1][col("village_code")].clone();
        let body = to_csv(&sheet);

        // A dry run says what would change and changes nothing.
        let response = upload(
            &app,
            &format!("region={township}&dry_run=true&crs=gcj02"),
            "text/csv",
            body.clone(),
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        let report: Value = response.json().await.unwrap();
        assert_eq!(
            (
                report["dry_run"].clone(),
                report["surveys_recorded"].clone(),
                report["locations_set"].clone()
            ),
            (json!(true), json!(2), json!(1))
        );
        assert_eq!(
            app.get_ok(&format!("/api/v1/regions/{first_code}/surveys"))
                .await,
            json!([])
        );
        assert!(app.get_ok(&format!("/api/v1/regions/{first_code}")).await["longitude"].is_null());

        let response = upload(
            &app,
            &format!("region={township}&crs=gcj02"),
            "text/csv",
            body,
        )
        .await;
        assert_eq!(response.status().as_u16(), 200);
        let history = app
            .get_ok(&format!("/api/v1/regions/{first_code}/surveys"))
            .await;
        assert_eq!(history[0]["eligible_total"], 640);
        assert_eq!(history[0]["source"], "village_doctor");
        let located = app.get_ok(&format!("/api/v1/regions/{first_code}")).await;
        let lon = located["longitude"].as_f64().unwrap();
        assert!(
            lon < 114.0851 && lon > 114.07,
            "converted from GCJ-02: {lon}"
        );

        // The next download carries what was recorded.
        let again = exported(&app, township).await;
        assert_eq!(again[1][col("eligible_total")], "640");
        assert_eq!(
            again[1][col("source")],
            "村医",
            "sources in the sheet's language"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_sheet_with_bad_rows_changes_nothing_and_lists_every_bad_row() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let township = "411103101000";
        let villages = app.list_all(&format!("parent={township}"), 500).await;
        let (a, b) = (
            villages[0]["code"].as_str().unwrap(),
            villages[1]["name"].as_str().unwrap(),
        );
        let csv = format!(
            "village_code,village_name,eligible_total,male,female,surveyed_on,source\n\
             {a},,500,250,250,2026-11-01,village_doctor\n\
             ,{b},300,100,100,2026-11-01,other\n\
             411102001001,,200,,,2026-11-01,other\n\
             ,没有这个村,100,,,2026-11-01,other\n\
             {a},,510,,,2026-11-02,other\n"
        );
        let response = upload(
            &app,
            &format!("region={township}"),
            "text/csv",
            csv.into_bytes(),
        )
        .await;
        let problem = expect_problem(response, 400, "a sheet with bad rows").await;
        let places: Vec<(u64, &str)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap()))
            .collect();
        assert_eq!(
            places,
            [
                (3, "male"),
                (4, "village_code"),
                (5, "village_name"),
                (6, "village_code")
            ],
            "{problem}"
        );
        // Row 2 was fine, but nothing was stored.
        assert_eq!(
            app.get_ok(&format!("/api/v1/regions/{a}/surveys")).await,
            json!([])
        );
        // Cell-level errors come back the same way, with their rows.
        let response = upload(
            &app,
            &format!("region={township}"),
            "text/csv",
            b"village_code,eligible_total,surveyed_on,source\nx,-1,2026-11-01,other\n".to_vec(),
        )
        .await;
        let problem = expect_problem(response, 400, "bad cells").await;
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["row"] == 2),
            "{problem}"
        );
        let response = upload(
            &app,
            &format!("region={township}"),
            "application/json",
            b"{}".to_vec(),
        )
        .await;
        let problem = expect_problem(response, 400, "not a sheet").await;
        assert_eq!(problem["errors"][0]["field"], "format");
        app
    })
    .await;
}

#[tokio::test]
async fn the_xlsx_sheet_round_trips_through_the_api() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let township = "411103101000";
        let code = app.list_all(&format!("parent={township}"), 500).await[0]["code"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            post(&app, &code, &survey(600, "2026-10-01"))
                .await
                .status()
                .as_u16(),
            201
        );
        let response = app
            .client
            .get(app.url(&format!(
                "/api/v1/surveys/export?region={township}&format=xlsx"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        assert_eq!(response.headers()["content-type"], xlsx_type);
        let bytes = response.bytes().await.unwrap().to_vec();
        assert!(bytes.starts_with(b"PK"), "a zip container");
        // Uploading it back as it is records nothing: the filled row repeats the survey.
        let report: Value = upload(&app, &format!("region={township}"), xlsx_type, bytes)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(report["surveys_recorded"], 0, "{report}");
        assert_eq!(report["unchanged"], 1, "{report}");
        assert_eq!(report["rows"][0]["village_code"], code);
        assert_eq!(report["rows"][0]["outcome"], "unchanged");
        assert_eq!(report["rows"][0]["previous_total"], 600);
        let history = app.get_ok(&format!("/api/v1/regions/{code}/surveys")).await;
        assert_eq!(history.as_array().unwrap().len(), 1, "not recorded twice");
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_surveys_never_record_an_unconfirmed_large_change() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let days_ago =
            |n: u64| (chrono::Utc::now().date_naive() - chrono::Days::new(n)).to_string();
        for round in 0..4 {
            let code = app.list_all("parent=411103101000", 500).await[round]["code"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(
                post(&app, &code, &survey(600, &days_ago(30)))
                    .await
                    .status()
                    .as_u16(),
                201
            );
            // A: a confirmed jump to 1900. B: 620, fine against 600 but a large change against
            // 1900, and dated later, so it would become current.
            let mut a = survey(1900, &days_ago(20));
            a["confirm_large_change"] = json!(true);
            let b = survey(620, &days_ago(10));
            let url = app.url(&format!("/api/v1/regions/{code}/surveys"));
            let send = |body: Value| {
                let (client, url) = (app.client.clone(), url.clone());
                tokio::spawn(async move {
                    let r = client.post(url).json(&body).send().await.unwrap();
                    let status = r.status().as_u16();
                    (status, r.json::<Value>().await.unwrap())
                })
            };
            let (ta, tb) = (send(a), send(b));
            let ((sa, ra), (sb, rb)) = (ta.await.unwrap(), tb.await.unwrap());
            assert_eq!(sa, 201, "{ra}");
            match sb {
                // B came second and was compared with 1900: refused.
                400 => assert_eq!(rb["errors"][0]["field"], "eligible_total", "{rb}"),
                // B came first (compared with 600): it must have been recorded before A.
                201 => assert!(
                    rb["id"].as_i64() < ra["id"].as_i64(),
                    "B was recorded after A without confirmation"
                ),
                other => panic!("unexpected status {other}: {rb}"),
            }
        }
        app
    })
    .await;
}

/// A workbook whose first cell is one shared string of `len` letters: tiny on disk (zip
/// compresses repetition a thousandfold), huge once read. Built from a real workbook with its
/// shared strings part replaced.
fn workbook_with_long_text_in_a1(len: usize) -> Vec<u8> {
    use std::io::{Cursor, Read, Write};
    let mut workbook = rust_xlsxwriter::Workbook::new();
    workbook
        .add_worksheet()
        .write_string(0, 0, "placeholder")
        .unwrap();
    let original = workbook.save_to_buffer().unwrap();
    let mut source = zip::ZipArchive::new(Cursor::new(original)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..source.len() {
        let mut entry = source.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        out.start_file(name.as_str(), options).unwrap();
        if name == "xl/sharedStrings.xml" {
            out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"1\" uniqueCount=\"1\"><si><t>")
                .unwrap();
            let chunk = vec![b'A'; 1024 * 1024];
            let mut left = len;
            while left > 0 {
                let n = left.min(chunk.len());
                out.write_all(&chunk[..n]).unwrap();
                left -= n;
            }
            out.write_all(b"</t></si></sst>").unwrap();
        } else {
            let mut body = Vec::new();
            entry.read_to_end(&mut body).unwrap();
            out.write_all(&body).unwrap();
        }
    }
    out.finish().unwrap().into_inner()
}

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[tokio::test]
async fn a_small_workbook_holding_a_huge_text_is_refused_with_a_short_answer() {
    // 40 MB of text in A1, a few tens of KB on disk: read whole, it would be an unknown header
    // repeated twice in the error (the reported case was 900 MB, answered with 1.8 GB).
    let bomb = workbook_with_long_text_in_a1(40 * 1024 * 1024);
    assert!(
        bomb.len() < 200 * 1024,
        "small on disk: {} bytes",
        bomb.len()
    );
    on_each_backend(|app| {
        let bomb = bomb.clone();
        async move {
            app.import_luohe().await;
            let response = upload(&app, "region=411103101000&dry_run=true", XLSX_TYPE, bomb).await;
            assert_eq!(response.status().as_u16(), 400);
            let body = response.bytes().await.unwrap();
            assert!(body.len() < 2_000, "a short answer: {} bytes", body.len());
            let problem: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(problem["errors"][0]["field"], "file", "{problem}");
            let message = problem["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("xl/sharedStrings.xml"), "{message}");
            app
        }
    })
    .await;
}

#[tokio::test]
async fn long_values_are_cut_short_in_error_messages() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let township = "411103101000";
        // Within Excel's limits (32,767 characters a cell), but far too long to repeat.
        let long = "长".repeat(30_000);
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        for (c, h) in [
            "village_name",
            "eligible_total",
            "surveyed_on",
            "source",
            &long,
        ]
        .into_iter()
        .enumerate()
        {
            sheet.write_string(0, c as u16, h).unwrap();
        }
        let bytes = workbook.save_to_buffer().unwrap();
        let response = upload(&app, &format!("region={township}"), XLSX_TYPE, bytes).await;
        assert_eq!(response.status().as_u16(), 400);
        let body = response.bytes().await.unwrap();
        assert!(body.len() < 2_000, "unknown header: {} bytes", body.len());
        let problem: Value = serde_json::from_slice(&body).unwrap();
        let error = &problem["errors"][0];
        assert!(
            error["field"].as_str().unwrap().starts_with("长长长"),
            "{problem}"
        );
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("(30000 characters)"),
            "{problem}"
        );
        // The same for every kind of cell that is quoted back: a CSV with long bad cells.
        let csv = format!(
            "village_name,eligible_total,surveyed_on,source,longitude,latitude\n\
             {long},{long},{long},{long},{long},{long}\n"
        );
        let response = upload(
            &app,
            &format!("region={township}"),
            "text/csv",
            csv.into_bytes(),
        )
        .await;
        assert_eq!(response.status().as_u16(), 400);
        let body = response.bytes().await.unwrap();
        let problem: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["errors"].as_array().unwrap().len(), 5, "{problem}");
        assert!(body.len() < 4_000, "bad cells: {} bytes", body.len());
        // A village name that is not found.
        let csv =
            format!("village_name,eligible_total,surveyed_on,source\n{long},1,2026-11-01,other\n");
        let response = upload(
            &app,
            &format!("region={township}"),
            "text/csv",
            csv.into_bytes(),
        )
        .await;
        let problem = expect_problem(response, 400, "unknown village").await;
        assert_eq!(problem["errors"][0]["field"], "village_name");
        assert!(problem.to_string().len() < 2_000, "{problem}");
        app
    })
    .await;
}

/// Sends the head of an upload and `first` bytes of its body, leaving the rest for later.
async fn start_upload(
    app: &TestApp,
    token: &str,
    query: &str,
    body: &[u8],
    first: usize,
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /api/v1/surveys/import?{query} HTTP/1.1\r\nHost: {host}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: text/csv\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..first]).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

#[tokio::test]
async fn an_account_uploads_one_sheet_at_a_time() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let township = "411103101000";
        let token = crate::helpers::user_with_token(
            &app.db,
            "uploader",
            "township_official",
            &[township],
            None,
        )
        .await;
        let official = crate::helpers::bearer_client(&token);
        let colleague = app
            .client_for("colleague", "township_official", &[township])
            .await;
        let code = app.list_all(&format!("parent={township}"), 500).await[0]["code"]
            .as_str()
            .unwrap()
            .to_owned();
        let sheet = format!(
            "village_code,eligible_total,surveyed_on,source\n{code},120,2026-11-01,other\n"
        );
        let query = format!("region={township}&dry_run=true");
        let send = |client: reqwest::Client| {
            let (url, body) = (
                app.url(&format!("/api/v1/surveys/import?{query}")),
                sheet.clone(),
            );
            async move {
                client
                    .post(url)
                    .header("content-type", "text/csv")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        // The first upload is under way: its body has not all arrived. Once the server has it
        // in hand, a second one by the same account is turned away. (A probe can overtake the
        // slow upload on its way in, and then the slow one is the upload turned away: start
        // again.)
        let mut found = None;
        'attempts: for _ in 0..10 {
            let slow = start_upload(&app, &token, &query, sheet.as_bytes(), 20).await;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            for _ in 0..50 {
                let response = send(official.clone()).await;
                if response.status().as_u16() == 429 {
                    found = Some((slow, response));
                    break 'attempts;
                }
                assert_eq!(response.status().as_u16(), 200, "before the first is read");
                let mut peek = [0u8; 1];
                let answered = tokio::time::timeout(
                    std::time::Duration::from_millis(20),
                    slow.peek(&mut peek),
                )
                .await;
                if matches!(answered, Ok(Ok(n)) if n > 0) {
                    continue 'attempts;
                }
            }
        }
        let (mut slow, refused) = found.expect("a second concurrent upload is refused");
        assert_eq!(refused.headers()["retry-after"], "5");
        let problem = expect_problem(refused, 429, "second upload").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("another sheet upload"),
            "{problem}"
        );
        // Another account is not held up.
        assert_eq!(send(colleague).await.status().as_u16(), 200);
        // The first upload completes normally, and then the account may upload again.
        slow.write_all(&sheet.as_bytes()[20..]).await.unwrap();
        let mut answer = Vec::new();
        slow.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"surveys_recorded\":1"), "{answer}");
        assert_eq!(send(official).await.status().as_u16(), 200);
        app
    })
    .await;
}

#[tokio::test]
async fn a_sheet_sent_back_records_only_what_changed_and_older_rows_need_confirming() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let township = "411103101000";
        let days_ago =
            |n: u64| (chrono::Utc::now().date_naive() - chrono::Days::new(n)).to_string();
        let villages = app.list_all(&format!("parent={township}"), 500).await;
        let codes: Vec<String> = villages[..3]
            .iter()
            .map(|v| v["code"].as_str().unwrap().to_owned())
            .collect();
        for code in &codes {
            assert_eq!(
                post(&app, code, &survey(600, &days_ago(30)))
                    .await
                    .status()
                    .as_u16(),
                201
            );
        }
        let history_len = |code: String| {
            let app = &app;
            async move {
                app.get_ok(&format!("/api/v1/regions/{code}/surveys"))
                    .await
                    .as_array()
                    .unwrap()
                    .len()
            }
        };
        // Export, edit one row, send it back: only that row is recorded.
        let mut sheet = exported(&app, township).await;
        let header = sheet[0].clone();
        let col = |name: &str| header.iter().position(|h| h == zh(name)).unwrap();
        let row_of = |sheet: &[Vec<String>], code: &str| {
            sheet
                .iter()
                .position(|r| r[col("village_code")] == code)
                .unwrap()
        };
        let edited = row_of(&sheet, &codes[0]);
        sheet[edited][col("eligible_total")] = "640".to_owned();
        sheet[edited][col("male")] = "320".to_owned();
        sheet[edited][col("female")] = "320".to_owned();
        sheet[edited][col("surveyed_on")] = days_ago(1);
        let report: Value = upload(
            &app,
            &format!("region={township}"),
            "text/csv",
            to_csv(&sheet),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(
            (
                &report["surveys_recorded"],
                &report["unchanged"],
                &report["older"]
            ),
            (&json!(1), &json!(2), &json!(0)),
            "{report}"
        );
        let outcome = |report: &Value, code: &str| {
            report["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["village_code"] == code)
                .map(|r| r["outcome"].clone())
                .unwrap_or(Value::Null)
        };
        assert_eq!(outcome(&report, &codes[0]), "recorded");
        assert_eq!(outcome(&report, &codes[1]), "unchanged");
        assert_eq!(
            (
                history_len(codes[0].clone()).await,
                history_len(codes[1].clone()).await
            ),
            (2, 1),
            "nothing recorded twice"
        );

        // A row dated before the current survey: flagged by the dry run, refused unconfirmed,
        // recorded as history when confirmed.
        let mut sheet = exported(&app, township).await;
        let older = row_of(&sheet, &codes[2]);
        sheet[older][col("eligible_total")] = "580".to_owned();
        sheet[older][col("male")] = "290".to_owned();
        sheet[older][col("female")] = "290".to_owned();
        sheet[older][col("surveyed_on")] = days_ago(400);
        let body = to_csv(&sheet);
        let report: Value = upload(
            &app,
            &format!("region={township}&dry_run=true"),
            "text/csv",
            body.clone(),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(
            (&report["older"], &report["surveys_recorded"]),
            (&json!(1), &json!(0)),
            "{report}"
        );
        assert_eq!(outcome(&report, &codes[2]), "older");
        assert_eq!(outcome(&report, &codes[0]), "unchanged");
        let response = upload(
            &app,
            &format!("region={township}"),
            "text/csv",
            body.clone(),
        )
        .await;
        let problem = expect_problem(response, 400, "unconfirmed older row").await;
        assert_eq!(problem["errors"][0]["field"], "surveyed_on", "{problem}");
        assert_eq!(problem["errors"][0]["row"], older + 1, "{problem}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("confirm_older")
        );
        assert_eq!(history_len(codes[2].clone()).await, 1, "nothing recorded");
        let report: Value = upload(
            &app,
            &format!("region={township}&confirm_older=true"),
            "text/csv",
            body,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(outcome(&report, &codes[2]), "history", "{report}");
        assert_eq!(report["surveys_recorded"], 1, "{report}");
        let history = app
            .get_ok(&format!("/api/v1/regions/{}/surveys", codes[2]))
            .await;
        assert_eq!(history.as_array().unwrap().len(), 2);
        assert_eq!(
            history[0]["eligible_total"], 600,
            "the current survey stays current"
        );
        assert_eq!(history[1]["eligible_total"], 580);
        app
    })
    .await;
}

#[tokio::test]
async fn the_import_offers_both_csv_and_xlsx_in_the_api_description() {
    on_each_backend(|app| async move {
        let spec = app.get_ok("/openapi.json").await;
        let content = &spec["paths"]["/api/v1/surveys/import"]["post"]["requestBody"]["content"];
        for media in ["text/csv", XLSX_TYPE] {
            assert_eq!(
                content[media]["schema"]["type"], "string",
                "{media}: {content}"
            );
        }
        assert_eq!(
            content[XLSX_TYPE]["schema"]["format"], "binary",
            "a file picker: {content}"
        );
        app
    })
    .await;
}

/// The headers of a downloaded sheet in each language, in order.
const ZH_HEADER: [&str; 16] = [
    "村代码",
    "村名",
    "适龄人数",
    "男",
    "女",
    "18-34岁",
    "35-54岁",
    "55-60岁",
    "外出务工",
    "献过血人数",
    "调查日期",
    "来源",
    "调查人",
    "备注",
    "经度",
    "纬度",
];
const EN_HEADER: [&str; 16] = [
    "Village code",
    "Village name",
    "Eligible (18-60)",
    "Male",
    "Female",
    "Aged 18-34",
    "Aged 35-54",
    "Aged 55-60",
    "Away for work",
    "Known donors",
    "Surveyed on",
    "Source",
    "Surveyed by",
    "Notes",
    "Longitude",
    "Latitude",
];

#[tokio::test]
async fn a_sheet_downloaded_in_chinese_or_english_is_filled_in_and_read_back() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let township = "411103101000";
        let days_ago =
            |n: u64| (chrono::Utc::now().date_naive() - chrono::Days::new(n)).to_string();
        // Chinese by default; English by `lang=en` or by Accept-Language; `lang` wins.
        let chinese = exported(&app, township).await;
        assert_eq!(chinese[0], ZH_HEADER);
        let by_header = exported_as(&app, township, "", Some("en-US,en;q=0.9")).await;
        assert_eq!(by_header[0], EN_HEADER);
        let by_query = exported_as(&app, township, "&lang=en", Some("zh-CN")).await;
        assert_eq!(by_query, by_header);
        let asked_chinese = exported_as(&app, township, "&lang=zh-CN", Some("en")).await;
        assert_eq!(asked_chinese, chinese);

        let spare = chinese[3][0].clone();
        // Each sheet filled in as an official would, in its own language, and sent back.
        for (mut sheet, source, row) in [(chinese, "村医", 1), (by_header, "Village doctor", 2)] {
            // The columns as the headers above list them.
            let (code, total, date, from) = (0, 2, 10, 11);
            sheet[row][total] = "420".to_owned();
            sheet[row][date] = days_ago(3);
            sheet[row][from] = source.to_owned();
            let village = sheet[row][code].clone();
            let response = upload(
                &app,
                &format!("region={township}"),
                "text/csv",
                to_csv(&sheet),
            )
            .await;
            assert_eq!(response.status().as_u16(), 200, "{source}");
            let report: Value = response.json().await.unwrap();
            assert_eq!(report["surveys_recorded"], 1, "{source}: {report}");
            let history = app
                .get_ok(&format!("/api/v1/regions/{village}/surveys"))
                .await;
            assert_eq!(history[0]["eligible_total"], 420, "{source}");
            assert_eq!(history[0]["source"], "village_doctor", "{source}");
        }

        // The English XLSX sheet too: uploaded back as it is, it repeats what is recorded.
        let response = app
            .client
            .get(app.url(&format!(
                "/api/v1/surveys/export?region={township}&format=xlsx&lang=en"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["vary"], "accept-language");
        let bytes = response.bytes().await.unwrap().to_vec();
        use calamine::{Reader, Xlsx};
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
        assert_eq!(book.sheet_names(), ["Surveys"]);
        let range = book.worksheet_range("Surveys").unwrap();
        assert_eq!(
            range.get_value((0, 2)).unwrap().to_string(),
            "Eligible (18-60)"
        );
        let xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        let report: Value = upload(&app, &format!("region={township}"), xlsx_type, bytes)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            (&report["surveys_recorded"], &report["unchanged"]),
            (&json!(0), &json!(2)),
            "{report}"
        );

        // The headers of before (the canonical names) are still read.
        let old = format!(
            "village_code,eligible_total,surveyed_on,source\n{spare},77,{},household_register\n",
            days_ago(2)
        );
        let report: Value = upload(
            &app,
            &format!("region={township}"),
            "text/csv",
            old.into_bytes(),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(report["surveys_recorded"], 1, "{report}");

        let response = app
            .client
            .get(app.url(&format!("/api/v1/surveys/export?region={township}&lang=fr")))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, "an unknown language").await;
        assert_eq!(problem["errors"][0]["field"], "lang");
        app
    })
    .await;
}
