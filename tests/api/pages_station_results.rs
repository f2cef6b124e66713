//! The station's results pages over HTTP (the browser test is `browser::station_results`): a
//! completed drive's results and a stop's, against the API's report of the same drive (by
//! stop, blood group, village and deferral reason); the drive's page linking them; the
//! results report by drive, township, season and month with its filters, and its CSV/XLSX
//! downloads (the API's own file, Chinese headers by default); the calibration page; and who
//! reads what: an official reads their own county's drive, a reader outside the region gets
//! 404. The network is the planning tests' (`crate::plans::network`).

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, ok_json, on_each_backend, send};
use crate::plans::{COUNTY, DONGLING, Network, network};

use crate::page_client::{get, signed_in};
/// 东岭村委会, P1's village.
const P1_VILLAGE: &str = "990101101201";
/// 南塘镇, P2's township.
const NANTANG: &str = "990101103000";

/// A drive (by hand, as admin) of vehicle 1 on `date` with stops at the network's points `at`
/// (1-based), each expecting its donors.
async fn drive(app: &TestApp, net: &Network, date: &str, at: &[(usize, f64)]) -> Value {
    app.set_today(date);
    let stops: Vec<Value> = at
        .iter()
        .enumerate()
        .map(|(i, (n, expected))| {
            json!({"site": net.site(*n),
                   "planned_start": format!("{:02}:00", 8 + 2 * i),
                   "planned_end": format!("{:02}:00", 9 + 2 * i),
                   "expected_donors": expected})
        })
        .collect();
    let body =
        json!({"vehicle_id": net.vehicles[0], "date": date, "region": COUNTY, "stops": stops});
    let response = send(
        app,
        &app.client,
        Method::POST,
        "/api/v1/drives",
        Some(&body),
        None,
    )
    .await;
    ok_json(response, 201, "making a drive").await
}

/// Moves drive `id` through `to` in turn (as admin), on its day.
async fn move_to(app: &TestApp, id: &Value, to: &[&str]) {
    for step in to {
        let current = app.get_ok(&format!("/api/v1/drives/{id}")).await;
        let response = send(
            app,
            &app.client,
            Method::POST,
            &format!("/api/v1/drives/{id}/transition"),
            Some(&json!({"to": step})),
            Some(&format!("\"{}\"", current["version"])),
        )
        .await;
        ok_json(response, 200, &format!("moving to {step}")).await;
    }
}

async fn checked_in(app: &TestApp, stop: i64, body: &Value) {
    let response = send(
        app,
        &app.client,
        Method::POST,
        &format!("/api/v1/stops/{stop}/attendances"),
        Some(body),
        None,
    )
    .await;
    ok_json(response, 201, &format!("checking in {body}")).await;
}

/// A completed drive on 2026-11-20 at P1 (expecting 6) and P2 (expecting 3): at P1 two
/// donors (A+ 400 mL from 东岭村委会, O- 300 mL) and one deferred for weight; at P2 one
/// donor (B+ 200 mL) and one deferred for low haemoglobin. Returns the drive and its stops.
pub(crate) async fn completed(app: &TestApp, net: &Network) -> (Value, i64, i64) {
    let d = drive(app, net, "2026-11-20", &[(1, 6.0), (2, 3.0)]).await;
    let (s1, s2) = (
        d["stops"][0]["id"].as_i64().unwrap(),
        d["stops"][1]["id"].as_i64().unwrap(),
    );
    move_to(app, &d["id"], &["published", "in_progress"]).await;
    for (stop, body) in [
        (
            s1,
            json!({"name": "甲", "village_code": P1_VILLAGE, "outcome": "donated", "volume_ml": 400, "abo": "A", "rh": "+"}),
        ),
        (
            s1,
            json!({"name": "乙", "outcome": "donated", "volume_ml": 300, "abo": "O", "rh": "-"}),
        ),
        (
            s1,
            json!({"name": "丙", "village_code": P1_VILLAGE, "outcome": "deferred", "deferral_category": "weight"}),
        ),
        (
            s2,
            json!({"name": "丁", "outcome": "donated", "volume_ml": 200, "abo": "B", "rh": "+"}),
        ),
        (
            s2,
            json!({"name": "戊", "outcome": "deferred", "deferral_category": "low_hemoglobin"}),
        ),
    ] {
        checked_in(app, stop, &body).await;
    }
    move_to(app, &d["id"], &["completed"]).await;
    (d, s1, s2)
}

/// The text of the `<dd>` after the `<dt>` reading `label` in `page`.
fn fact(page: &str, label: &str) -> String {
    let at = page
        .find(&format!("<dt>{label}</dt>"))
        .unwrap_or_else(|| panic!("no {label} in {page}"));
    let rest = &page[at..];
    let start = rest.find("<dd>").unwrap() + 4;
    let end = rest.find("</dd>").unwrap();
    rest[start..end].to_owned()
}

/// The cells of the row headed `label` in the table with id `table`.
fn row(page: &str, table: &str, label: &str) -> Vec<String> {
    let at = page
        .find(&format!("id=\"{table}\""))
        .unwrap_or_else(|| panic!("no table {table} in {page}"));
    let rest = &page[at..];
    let rest = &rest[..rest.find("</table>").unwrap()];
    let tr = rest
        .split("<tr")
        .find(|tr| tr.contains(&format!(">{label}<")))
        .unwrap_or_else(|| panic!("no row {label} in {rest}"));
    tr.split("<td")
        .skip(1)
        .map(|td| {
            let inner = &td[td.find('>').unwrap() + 1..];
            inner[..inner.find("</td>").unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_completed_drives_results_match_the_apis_report() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let (d, s1, s2) = completed(&app, &net).await;
        let id = d["id"].as_i64().unwrap();
        let api = app.get_ok(&format!("/api/v1/drives/{id}/report")).await;
        let staff = signed_in(&app, "staff.one", "station_staff", &[COUNTY]).await;

        // The drive's page links its results and each stop's.
        let (status, page) = get(&app, &staff, &format!("/station/drives/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(&format!("href=\"/station/drives/{id}/results\"")),
            "{page}"
        );
        assert!(
            page.contains(&format!("href=\"/station/stops/{s2}/results\"")),
            "{page}"
        );
        assert!(page.contains("id=\"nav-station-reports\""), "{page}");

        let (status, page) = get(&app, &staff, &format!("/station/drives/{id}/results")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let totals = &api["totals"];
        assert_eq!(totals["donated"], 3);
        assert_eq!(fact(&page, "献血"), totals["donated"].to_string());
        assert_eq!(fact(&page, "登记"), totals["registered"].to_string());
        assert_eq!(
            fact(&page, "献血量"),
            format!("{} 毫升", totals["total_ml"])
        );
        assert_eq!(fact(&page, "预计献血人数"), "9.0");
        // 3 donated against 9 expected: -6, -66.7%.
        assert_eq!(fact(&page, "与预计相差"), "-6.0（-66.7%）");
        assert_eq!(fact(&page, "暂缓"), "2（40.0%）");
        assert!(!page.contains("结果还可能变化"), "completed: final");
        // Stop by stop, as the API's report.
        for stop in api["stops"].as_array().unwrap() {
            let name = stop["stop"]["name"].as_str().unwrap();
            let link = format!(
                "<a href=\"/station/stops/{}/results\">{name}</a>",
                stop["stop"]["id"]
            );
            let cells = row(&page, "by-stop", &link);
            assert_eq!(
                cells[2],
                stop["results"]["registered"].to_string(),
                "{name}"
            );
            assert_eq!(cells[3], stop["results"]["donated"].to_string(), "{name}");
            assert_eq!(cells[4], stop["results"]["deferred"].to_string(), "{name}");
            assert_eq!(cells[5], stop["results"]["total_ml"].to_string(), "{name}");
        }
        // By blood group and deferral reason, as the API counts them; villages by name.
        for (group, n) in api["by_blood_group"].as_object().unwrap() {
            assert_eq!(row(&page, "by-blood", group), [n.to_string()], "{group}");
        }
        assert_eq!(api["by_deferral_category"]["weight"], 1);
        assert_eq!(row(&page, "by-deferral", "体重不足"), ["1"]);
        assert_eq!(row(&page, "by-deferral", "血红蛋白偏低"), ["1"]);
        assert_eq!(row(&page, "by-village", "东岭村委会"), ["2", "1"]);
        assert_eq!(row(&page, "by-village", "未填村庄"), ["3", "2"]);
        // The charts, each with its words for a screen reader.
        for chart in [
            "chart-stops",
            "chart-blood",
            "chart-village",
            "chart-deferral",
        ] {
            assert!(page.contains(&format!("id=\"{chart}\"")), "{chart}");
        }
        assert!(
            page.contains("role=\"img\" aria-label=\"按血型: A+: 1; B+: 1; O-: 1\""),
            "{page}"
        );

        // A stop's results, as the API's.
        let api_stop = app.get_ok(&format!("/api/v1/stops/{s1}/results")).await;
        let (status, page) = get(&app, &staff, &format!("/station/stops/{s1}/results")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(
            fact(&page, "献血"),
            api_stop["results"]["donated"].to_string()
        );
        assert_eq!(fact(&page, "献血量"), "700 毫升");
        assert_eq!(row(&page, "by-village", "东岭村委会"), ["2", "1"]);
        assert!(!page.contains("血红蛋白偏低"), "P2's deferral is not P1's");

        // The drive's download is the API's file, headed in Chinese.
        let mine = staff
            .get(app.url(&format!("/station/drives/{id}/results?format=csv")))
            .send()
            .await
            .unwrap();
        assert_eq!(mine.status(), StatusCode::OK);
        assert!(
            mine.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let mine = mine.text().await.unwrap();
        assert!(
            mine.starts_with("\u{feff}分组,名称,出车次数,站点数,"),
            "{mine}"
        );
        let theirs = app
            .client
            .get(app.url(&format!("/api/v1/drives/{id}/report?format=csv&lang=zh-CN")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(mine, theirs);
        let (status, _) = get(
            &app,
            &staff,
            &format!("/station/drives/{id}/results?format=pdf"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        for missing in [
            format!("/station/drives/{}/results", id + 100),
            format!("/station/stops/{}/results", s2 + 100),
        ] {
            let (status, _) = get(&app, &staff, &missing).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn the_report_filters_by_group_dates_and_region_and_downloads_the_apis_files() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let (d, _, _) = completed(&app, &net).await;
        // A second completed drive in December at P4 (东岭镇): 1 donor.
        let e = drive(&app, &net, "2026-12-03", &[(4, 2.0)]).await;
        move_to(&app, &e["id"], &["published", "in_progress"]).await;
        checked_in(
            &app,
            e["stops"][0]["id"].as_i64().unwrap(),
            &json!({"name": "己", "outcome": "donated", "volume_ml": 400}),
        )
        .await;
        move_to(&app, &e["id"], &["completed"]).await;
        let staff = signed_in(&app, "staff.one", "station_staff", &[COUNTY]).await;

        // By drive (the default): each drive a row linking its results, and the total.
        let (status, page) = get(&app, &staff, "/station/reports").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains(&format!("href=\"/station/drives/{}/results\"", d["id"])),
            "{page}"
        );
        assert!(
            page.contains(&format!("href=\"/station/drives/{}/results\"", e["id"])),
            "{page}"
        );
        let api = app.get_ok("/api/v1/reports/results").await;
        assert_eq!(
            row(&page, "report", "合计")[3],
            api["totals"]["donated"].to_string()
        );
        assert_eq!(api["totals"]["donated"], 4);
        assert!(page.contains("id=\"chart-report\""), "{page}");
        // A drive's row is named by its date with the year (a report may span years).
        assert!(page.contains("2026年12月3日 星期四"), "{page}");
        // Regions are picked by name from the reader's regions (the county and its townships).
        let choices = &page[page
            .find("<datalist id=\"region-choices\">")
            .expect("region choices")..];
        let choices = &choices[..choices.find("</datalist>").unwrap()];
        let county = app.get_ok(&format!("/api/v1/regions/{COUNTY}")).await;
        assert!(
            choices.contains(&format!(
                "<option value=\"{COUNTY}\">{}</option>",
                county["name"].as_str().unwrap()
            )),
            "{choices}"
        );
        let townships = app
            .get_ok(&format!("/api/v1/regions?parent={COUNTY}"))
            .await;
        for t in townships["items"].as_array().unwrap() {
            assert!(
                choices.contains(&format!(
                    "<option value=\"{}\">",
                    t["code"].as_str().unwrap()
                )),
                "{t}: {choices}"
            );
        }

        // By township, as the API groups them.
        let (_, page) = get(&app, &staff, "/station/reports?group=township").await;
        let api = app.get_ok("/api/v1/reports/results?group=township").await;
        for r in api["rows"].as_array().unwrap() {
            let cells = row(&page, "report", r["label"].as_str().unwrap());
            assert_eq!(cells[0], r["drives"].to_string());
            assert_eq!(cells[3], r["donated"].to_string());
        }
        assert_eq!(row(&page, "report", "东岭镇")[3], "3", "P1's 2 and P4's 1");
        // By season and month.
        let (_, page) = get(&app, &staff, "/station/reports?group=season").await;
        assert_eq!(row(&page, "report", "2026年9月至11月")[3], "3");
        assert_eq!(row(&page, "report", "2026年12月至2027年2月")[3], "1");
        let (_, page) = get(&app, &staff, "/station/reports?group=month&from=2026-12-01").await;
        assert_eq!(row(&page, "report", "2026-12")[3], "1");
        assert!(!page.contains(">2026-11<"), "{page}");
        // A region within reach: only its stops.
        let (_, page) = get(
            &app,
            &staff,
            &format!("/station/reports?group=township&region={NANTANG}"),
        )
        .await;
        assert_eq!(row(&page, "report", "合计")[3], "1", "P2's one donor");
        let report = &page[page.find("id=\"report\"").expect("the report")..];
        assert!(!report.contains(">东岭镇<"), "{page}");
        // Dates with nothing in them.
        let (status, page) = get(&app, &staff, "/station/reports?from=2027-01-01").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("id=\"report-empty\""), "{page}");
        // Wrong filters come back beside their fields, as typed.
        let (status, page) = get(
            &app,
            &staff,
            "/station/reports?from=2026-12-01&to=2026-11-01&region=12",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("结束日期不能早于开始日期"), "{page}");
        assert!(page.contains("地区代码应为 12 位数字"), "{page}");
        assert!(page.contains("value=\"2026-12-01\""), "{page}");
        let (status, page) = get(&app, &staff, "/station/reports?from=someday&group=week").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("请按 年-月-日 填写日期"), "{page}");
        let (status, page) = get(&app, &staff, "/station/reports?region=411103000000").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(page.contains("没有这个地区"), "{page}");

        // The downloads: the API's own files, Chinese headers by default.
        let mine = staff
            .get(app.url("/station/reports?group=township&format=csv"))
            .send()
            .await
            .unwrap();
        assert_eq!(mine.status(), StatusCode::OK);
        assert!(
            mine.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("results-by-township.csv")
        );
        let mine = mine.text().await.unwrap();
        assert!(
            mine.starts_with("\u{feff}分组,名称,出车次数,站点数,登记人数,"),
            "{mine}"
        );
        assert!(
            mine.lines().last().unwrap().starts_with("total,合计,"),
            "{mine}"
        );
        let theirs = app
            .client
            .get(app.url("/api/v1/reports/results?group=township&format=csv&lang=zh-CN"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(mine, theirs);
        // A reader who reads English gets English headers.
        let english = staff
            .get(app.url("/station/reports?group=month&format=csv"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            english.starts_with("\u{feff}Group,Name,Drives,Stops,"),
            "{english}"
        );
        let xlsx = staff
            .get(app.url("/station/reports?group=season&format=xlsx"))
            .send()
            .await
            .unwrap();
        assert_eq!(xlsx.status(), StatusCode::OK);
        let bytes = xlsx.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "a workbook");
        app
    })
    .await;
}

#[tokio::test]
async fn an_official_reads_their_own_and_outside_the_region_nothing_exists() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let (d, s1, _) = completed(&app, &net).await;
        let id = d["id"].as_i64().unwrap();
        let official = signed_in(&app, "dongling.official", "township_official", &[DONGLING]).await;
        let (status, page) = get(&app, &official, &format!("/station/drives/{id}/results")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("东岭村委会"), "{page}");
        let (status, _) = get(&app, &official, &format!("/station/stops/{s1}/results")).await;
        assert_eq!(status, StatusCode::OK);
        let (status, page) = get(&app, &official, "/station/reports").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(&format!("/station/drives/{id}/results")),
            "{page}"
        );

        app.import_luohe().await;
        let elsewhere = signed_in(&app, "far.away", "station_staff", &["411103000000"]).await;
        for target in [
            format!("/station/drives/{id}/results"),
            format!("/station/stops/{s1}/results"),
            format!("/station/drives/{id}/results?format=csv"),
        ] {
            let (status, page) = get(&app, &elsewhere, &target).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{target}: {page}");
            assert!(!page.contains("东岭"), "{page}");
        }
        let (status, page) = get(&app, &elsewhere, "/station/reports").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("id=\"report-empty\""), "{page}");
        let (status, _) = get(
            &app,
            &elsewhere,
            &format!("/station/reports?region={COUNTY}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Signed out: sign in first.
        let plain = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        for target in [
            format!("/station/drives/{id}/results"),
            "/station/reports".to_owned(),
            "/station/calibration".to_owned(),
        ] {
            let response = plain.get(app.url(&target)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{target}");
        }

        // The calibration: one completed drive's two stops, too few to fit; the defaults.
        let staff = signed_in(&app, "staff.one", "station_staff", &[COUNTY]).await;
        let (status, page) = get(&app, &staff, "/station/calibration").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(fact(&page, "参数来源"), "默认值");
        assert_eq!(fact(&page, "已记录站点（累计）"), "2");
        assert!(page.contains("至少要 8 个才能拟合"), "{page}");
        assert_eq!(row(&page, "cal-history", "2026年11月")[..2], ["2", "2"]);
        assert!(page.contains("id=\"chart-rate\""), "{page}");
        app
    })
    .await;
}
