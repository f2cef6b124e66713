//! The station's network map of a city the size of 保定市 (130600000000: 6,899 villages in the
//! 2023 national division table) with 1,000 points, in headless Chromium (issue 15's target:
//! it opens in at most 2 s on loopback and stays responsive).
//!
//! The divisions are the national table's rows of that city (`DONORNET_NATIONAL_DIVISIONS`, else
//! `../shared/seed-data-source/china-divisions-2023.csv.gz`); the table has no centres, so each
//! unit gets a synthetic one (counties on a grid over the city, townships around their county,
//! villages around their township: deterministic, from the code). Every village gets a survey
//! (200 to 3,000 eligible, dated over the last two years) and 1,000 of them a point (mostly
//! active). Then, in a temporary SQLite database, as a station's staff signed in:
//!
//! - the map's data (`/station/map.json`): its size (gzip, as sent) and time;
//! - the page in Chromium (1366x768), opened afresh 5 times: from navigation to the data read
//!   (`map-data`) and to everything drawn (`map-drawn`, both marked by `map.js`);
//! - responsiveness: reshading all 6,899 villages by survey age and back (`map-shade`).
//!
//! Needs chromedriver and chromium (Debian `chromium chromium-driver`). Prints its figures;
//! BENCHMARKS.md keeps them. Run with `cargo bench --bench network_map`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use donornet::config::DatabaseArgs;
use donornet::domain::point::{PointKind, PointStatus};
use donornet::domain::survey::SurveySource;
use donornet::import::divisions::{self, ImportOptions, Source};
use donornet::registry::points::NewPoint;
use donornet::registry::surveys::NewSurvey;
use donornet::store::audit::Actor;
use donornet::{HttpConfig, db};
use fantoccini::{ClientBuilder, Locator};
use serde_json::{Value, json};

const CITY: &str = "130600000000";
const POINTS: usize = 1000;
const STAFF: &str = "bench.staff";
const PASSWORD: &str = "bench-staff-2026";
const OPENINGS: usize = 5;
/// Synthetic centres: the city's box (about 保定市's).
const WEST: f64 = 113.6;
const EAST: f64 = 116.2;
const SOUTH: f64 = 38.2;
const NORTH: f64 = 39.9;

fn national_table() -> PathBuf {
    std::env::var_os("DONORNET_NATIONAL_DIVISIONS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/seed-data-source/china-divisions-2023.csv.gz")
        })
}

/// A number in [0, 1) from `code` and `salt` (splitmix64).
fn unit(code: u64, salt: u64) -> f64 {
    let mut z = code.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The city's rows of the national table with synthetic centres, as a CSV the import reads.
fn city_table(out: &Path) -> usize {
    let path = national_table();
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!(
            "the national division table {} ({e}): set DONORNET_NATIONAL_DIVISIONS",
            path.display()
        )
    });
    let reader = BufReader::new(flate2::read::MultiGzDecoder::new(file));
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    for line in reader.lines().skip(1) {
        let line = line.expect("a line");
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 4 {
            continue;
        }
        if f[0] == "130000000000" || f[0].starts_with("1306") {
            rows.push((f[0].into(), f[1].into(), f[2].into(), f[3].into()));
        }
    }
    let counties: Vec<&String> = rows
        .iter()
        .filter(|r| r.2 == "county")
        .map(|r| &r.0)
        .collect();
    let side = (counties.len() as f64).sqrt().ceil() as usize;
    let mut centre: HashMap<String, (f64, f64)> = HashMap::new();
    centre.insert(
        CITY.to_owned(),
        ((WEST + EAST) / 2.0, (SOUTH + NORTH) / 2.0),
    );
    for (i, c) in counties.iter().enumerate() {
        let (col, row) = (i % side, i / side);
        let lon = WEST + (col as f64 + 0.5) * (EAST - WEST) / side as f64;
        let lat = SOUTH + (row as f64 + 0.5) * (NORTH - SOUTH) / side as f64;
        centre.insert((*c).clone(), (lon, lat));
    }
    let mut csv = String::from("code,name,level,parent_code,longitude,latitude,population\n");
    for (code, name, level, parent) in &rows {
        let n: u64 = code.parse().unwrap_or(0);
        let spread = match level.as_str() {
            "township" => 0.14,
            "village" => 0.05,
            _ => 0.0,
        };
        let place = match level.as_str() {
            "province" => None,
            "city" | "county" => centre.get(code).copied(),
            _ => centre.get(parent).map(|(lon, lat)| {
                (
                    lon + (unit(n, 1) - 0.5) * 2.0 * spread,
                    lat + (unit(n, 2) - 0.5) * 2.0 * spread,
                )
            }),
        };
        if let Some(p) = place {
            centre.insert(code.clone(), p);
        }
        let (lon, lat) = place.map_or((String::new(), String::new()), |(a, b)| {
            (format!("{a:.5}"), format!("{b:.5}"))
        });
        csv.push_str(&format!("{code},{name},{level},{parent},{lon},{lat},\n"));
    }
    std::fs::write(out, csv).expect("write the city's table");
    rows.iter().filter(|r| r.2 == "village").count()
}

/// A running chromedriver (killed when dropped).
struct Chromedriver(Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let table = dir.path().join("city.csv");
    let villages = city_table(&table);
    println!("network map benchmark: 保定市 ({CITY}), {villages} villages, {POINTS} points");
    let args = DatabaseArgs {
        database_url: format!("sqlite://{}?mode=rwc", dir.path().join("map.db").display()),
        db_max_connections: None,
    };
    let conn = db::connect(&args).await.expect("connect");
    db::migrate(&conn).await.expect("migrate");
    divisions::import(&conn, Source::File(&table), ImportOptions::default())
        .await
        .expect("import the city");
    load_network(&conn, &table).await;
    donornet::admin::add_user(
        &conn,
        STAFF,
        None,
        "station_staff",
        &[CITY.to_owned()],
        PASSWORD,
    )
    .await
    .expect("the staff's account");

    let app = donornet::build_app(conn.clone(), HttpConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(donornet::serve(listener, app, std::future::pending()));

    json_figures(&base).await;
    browser_figures(&base).await;
}

/// Surveys for every village and 1,000 points, through the services (one transaction).
async fn load_network(conn: &sea_orm::DatabaseConnection, table: &Path) {
    let started = Instant::now();
    let now = Utc::now();
    let today = now.date_naive();
    let acting = donornet::registry::Acting::trusted(Actor::command_line());
    let mut villages: Vec<(String, f64, f64)> = Vec::new();
    for line in std::fs::read_to_string(table).unwrap().lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[2] == "village" {
            villages.push((
                f[0].to_owned(),
                f[4].parse().unwrap(),
                f[5].parse().unwrap(),
            ));
        }
    }
    let txn = db::begin_write(conn).await.expect("a transaction");
    for (code, _, _) in &villages {
        let n: u64 = code.parse().unwrap();
        let survey = NewSurvey {
            eligible_total: 200 + (unit(n, 3) * 2800.0) as i64,
            male: None,
            female: None,
            age_18_34: None,
            age_35_54: None,
            age_55_60: None,
            away_for_work: None,
            known_donors: None,
            surveyed_on: today - Days::new((unit(n, 4) * 720.0) as u64),
            source: SurveySource::VillageDoctor,
            surveyed_by: None,
            notes: None,
            confirm_large_change: false,
            based_on: None,
        };
        donornet::registry::surveys::record_in(&txn, code, survey, &acting, now)
            .await
            .expect("a survey");
    }
    let mut chosen: Vec<&(String, f64, f64)> = villages.iter().collect();
    chosen.sort_by(|a, b| {
        let (x, y) = (a.0.parse().unwrap(), b.0.parse().unwrap());
        unit(x, 5).total_cmp(&unit(y, 5))
    });
    for (i, (code, lon, lat)) in chosen.into_iter().take(POINTS).enumerate() {
        let status = match i % 20 {
            0 => PointStatus::Planned,
            1 => PointStatus::Suspended,
            _ => PointStatus::Active,
        };
        let point = NewPoint {
            name: format!("献血点 {}", i + 1),
            kind: PointKind::Village,
            region_code: code.clone(),
            address: None,
            longitude: lon + 0.002,
            latitude: *lat,
            crs: Default::default(),
            status: Some(status),
            signage_installed_on: None,
            bloodmobile_parking: false,
            power_hookup: false,
            beds: None,
            donors_per_hour: None,
            contact_phone: None,
            notes: None,
            market_days: None,
        };
        donornet::registry::points::create_in(&txn, point, &acting, now)
            .await
            .expect("a point");
    }
    txn.commit().await.expect("commit");
    println!(
        "  loaded {} surveys and {POINTS} points in {:.1} s",
        villages.len(),
        started.elapsed().as_secs_f64()
    );
}

/// A client signed in as the staff (the session cookie on every request).
async fn signed_in(base: &str) -> reqwest::Client {
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = plain
        .post(format!("{base}/login"))
        .header("origin", base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={STAFF}&password={PASSWORD}&next=%2F"))
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("donornet_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", cookie.parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn json_figures(base: &str) {
    let client = signed_in(base).await;
    let mut times = Vec::new();
    let mut body = Value::Null;
    for _ in 0..5 {
        let started = Instant::now();
        let response = client
            .get(format!("{base}/station/map.json"))
            .send()
            .await
            .unwrap();
        let bytes = response.bytes().await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        body = serde_json::from_slice(&bytes).expect("the map's JSON");
    }
    let raw = serde_json::to_vec(&body).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    let gz = gz.finish().unwrap();
    times.sort_by(f64::total_cmp);
    println!(
        "  /station/map.json: {} villages, {} points, {} suggestions; {:.0} KB ({:.0} KB gzip); median {:.0} ms of 5",
        body["villages"].as_array().map_or(0, Vec::len),
        body["points"].as_array().map_or(0, Vec::len),
        body["suggestions"].as_array().map_or(0, Vec::len),
        raw.len() as f64 / 1024.0,
        gz.len() as f64 / 1024.0,
        times[2]
    );
}

async fn browser_figures(base: &str) {
    let Some(driver) = on_path("chromedriver") else {
        println!("  no chromedriver on the PATH: the browser figures are skipped");
        return;
    };
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(on_path)
        .expect("chromium on the PATH");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let _driver = Chromedriver(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1366,768", "--lang=zh-CN"],
        },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => break c,
            Err(e) if Instant::now() > deadline => panic!("chromedriver: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    client.goto(&format!("{base}/login")).await.unwrap();
    client
        .find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys(STAFF)
        .await
        .unwrap();
    client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mark = |name: &'static str| {
        format!(
            "const m = performance.getEntriesByName('{name}'); \
             return m.length ? m[m.length - 1].startTime + (m[m.length - 1].duration || 0) : null;"
        )
    };
    let mut data = Vec::new();
    let mut drawn = Vec::new();
    for _ in 0..OPENINGS {
        client.goto(&format!("{base}/station/map")).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let at = loop {
            if let Some(t) = client
                .execute(&mark("map-drawn"), vec![])
                .await
                .unwrap()
                .as_f64()
            {
                break t;
            }
            assert!(Instant::now() < deadline, "the map was never drawn");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        drawn.push(at);
        data.push(
            client
                .execute(&mark("map-data"), vec![])
                .await
                .unwrap()
                .as_f64()
                .unwrap_or(f64::NAN),
        );
    }
    let mut shade = Vec::new();
    for value in ["age", "eligible", "age", "eligible"] {
        client
            .find(Locator::Css(&format!("input[name=shade][value={value}]")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let d = client
            .execute(
                "const m = performance.getEntriesByName('map-shade'); \
                 return m.length ? m[m.length - 1].duration : null;",
                vec![],
            )
            .await
            .unwrap();
        shade.push(d.as_f64().unwrap_or(f64::NAN));
    }
    let _ = client.close().await;
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "  the page in Chromium (1366x768), {OPENINGS} openings: data read at median {:.0} ms, \
         map drawn at median {:.0} ms (max {:.0} ms) after navigation start (target 2000 ms)",
        median(&mut data),
        median(&mut drawn.clone()),
        drawn.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "  reshading every village (by survey age, and back): median {:.0} ms of 4 switches",
        median(&mut shade)
    );
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}
