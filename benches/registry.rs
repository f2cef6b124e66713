//! Registry benchmark: the national division table with 60,000 donation points and 620,572
//! village surveys (one per village), generated here, then the latency of the map and summary
//! queries through the real HTTP API.
//!
//! Run with `cargo bench --bench registry`. SQLite always; PostgreSQL at `BENCH_DATABASE_URL`,
//! else `TEST_DATABASE_URL`, else the local server when reachable. Prints median and p99 of:
//! - `GET /api/v1/points?near=<lon,lat>&radius_km=10` (1,000 requests around 100 places;
//!   target p99 < 10 ms),
//! - `GET /api/v1/points?region=<county>` (1,000 requests; target p99 < 10 ms),
//! - `GET /api/v1/regions/<city>/summary` (100 requests each for Luohe and a large city;
//!   target < 50 ms).
//!
//! The coordinates are synthetic (the official table has none): each city gets a deterministic
//! centre inside China, counties lie within ~60 km of it, townships within ~15 km of their
//! county, villages within ~4 km of their township.

mod common;

use std::path::Path;
use std::time::Instant;

use chrono::Utc;
use donornet::config::DatabaseArgs;
use donornet::import::divisions::{self, ImportOptions, Source};
use donornet::{HttpConfig, db};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

const POINTS: usize = 60_000;
const LUOHE: &str = "411100000000";
/// 保定市: one of the cities with the most villages.
const LARGE_CITY: &str = "130600000000";
const COUNTY: &str = "411103000000";

/// A deterministic pseudo-random number in [0, 1) from a code and a salt.
fn unit(code: u64, salt: u64) -> f64 {
    let mut x = code.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Cities at deterministic places inside China; counties within ~60 km of their city.
fn county_centre(code: &str) -> (f64, f64) {
    let city: u64 = code[..4].parse().unwrap();
    let centre = (100.0 + 20.0 * unit(city, 1), 23.0 + 17.0 * unit(city, 2));
    offset(centre, &format!("{:0<12}", &code[..6]), 60.0)
}

fn offset((lon, lat): (f64, f64), code: &str, km: f64) -> (f64, f64) {
    let c: u64 = code.parse().unwrap();
    let (dx, dy) = ((unit(c, 3) - 0.5) * 2.0 * km, (unit(c, 4) - 0.5) * 2.0 * km);
    (
        lon + dx / (111.0 * lat.to_radians().cos()),
        lat + dy / 111.0,
    )
}

async fn exec(
    db: &DatabaseConnection,
    sql_sqlite: &str,
    sql_pg: &str,
    batch: &str,
    now: chrono::DateTime<Utc>,
) {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        sql_pg
    } else {
        sql_sqlite
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [batch.into(), now.into()],
    ))
    .await
    .expect("bulk statement");
}

/// Generates coordinates, points and surveys. Returns the places of 100 points spread over
/// the country (every `points / 100`-th point in the table's order, which goes province by
/// province) and how many provinces they lie in.
async fn populate(db: &DatabaseConnection, file: &Path) -> (Vec<(f64, f64)>, usize) {
    let started = Instant::now();
    let now = Utc::now();
    let gz = flate2::read::MultiGzDecoder::new(std::fs::File::open(file).unwrap());
    let mut reader = csv::Reader::from_reader(gz);
    let mut places: Vec<(String, f64, f64)> = Vec::new();
    let mut points: Vec<serde_json::Value> = Vec::new();
    let mut surveys: Vec<serde_json::Value> = Vec::new();
    let mut township_centre = std::collections::HashMap::new();
    for record in reader.records() {
        let r = record.unwrap();
        let (code, name, level) = (&r[0], &r[1], &r[2]);
        match level {
            "township" => {
                let centre = offset(county_centre(code), code, 15.0);
                township_centre.insert(code[..9].to_owned(), centre);
                places.push((code.to_owned(), centre.0, centre.1));
                if points.len() < POINTS {
                    let at = offset(centre, code, 0.5);
                    points.push(serde_json::json!([
                        format!("{name}献血点"),
                        "township",
                        code,
                        at.0,
                        at.1,
                        "active"
                    ]));
                }
            }
            "village" => {
                let centre = township_centre
                    .get(&code[..9])
                    .copied()
                    .unwrap_or_else(|| county_centre(code));
                let at = offset(centre, code, 4.0);
                places.push((code.to_owned(), at.0, at.1));
                let c: u64 = code.parse().unwrap();
                let total = 200 + (unit(c, 5) * 1800.0) as i64;
                surveys.push(serde_json::json!([
                    code,
                    total,
                    total / 4,
                    total / 10,
                    "2026-10-01"
                ]));
                // Every 30th village also gets a village point, up to 60,000 points in all.
                if c.is_multiple_of(30) && points.len() < POINTS {
                    points.push(serde_json::json!([
                        format!("{name}点"),
                        "village",
                        code,
                        at.0,
                        at.1,
                        "active"
                    ]));
                }
            }
            _ => {}
        }
    }
    let located = places.len();
    for chunk in places.chunks(20_000) {
        let batch = serde_json::to_string(
            &chunk
                .iter()
                .map(|(c, lon, lat)| serde_json::json!([c, lon, lat]))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        exec(
            db,
            "UPDATE regions SET longitude = j.value->>1, latitude = j.value->>2 FROM json_each(?1) AS j WHERE regions.code = j.value->>0",
            "UPDATE regions SET longitude = (v->>1)::float8, latitude = (v->>2)::float8 FROM jsonb_array_elements($1::jsonb) AS e(v) WHERE regions.code = v->>0",
            &batch,
            now,
        )
        .await;
    }
    for chunk in points.chunks(20_000) {
        let batch = serde_json::to_string(chunk).unwrap();
        exec(
            db,
            "INSERT INTO points (name, kind, region_code, longitude, latitude, status, bloodmobile_parking, power_hookup, version, created_at, updated_at) \
             SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, false, false, 1, ?2, ?2 FROM json_each(?1)",
            "INSERT INTO points (name, kind, region_code, longitude, latitude, status, bloodmobile_parking, power_hookup, version, created_at, updated_at) \
             SELECT v->>0, v->>1, v->>2, (v->>3)::float8, (v->>4)::float8, v->>5, false, false, 1, $2, $2 FROM jsonb_array_elements($1::jsonb) AS e(v)",
            &batch,
            now,
        )
        .await;
    }
    for chunk in surveys.chunks(20_000) {
        let batch = serde_json::to_string(chunk).unwrap();
        exec(
            db,
            "INSERT INTO village_surveys (region_code, eligible_total, away_for_work, known_donors, surveyed_on, source, created_at) \
             SELECT value->>0, value->>1, value->>2, value->>3, value->>4, 'village_doctor', ?2 FROM json_each(?1)",
            "INSERT INTO village_surveys (region_code, eligible_total, away_for_work, known_donors, surveyed_on, source, created_at) \
             SELECT v->>0, (v->>1)::int, (v->>2)::int, (v->>3)::int, (v->>4)::date, 'village_doctor', $2 FROM jsonb_array_elements($1::jsonb) AS e(v)",
            &batch,
            now,
        )
        .await;
    }
    // Fresh statistics and (PostgreSQL) a vacuumed table, as a live database would have; else
    // autovacuum wakes up on the bulk-loaded tables in the middle of the measurement.
    let maintenance = match db.get_database_backend() {
        DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_unprepared(maintenance).await.ok();
    println!(
        "generated: {located} located regions, {} points, {} surveys in {:.1} s",
        points.len(),
        surveys.len(),
        started.elapsed().as_secs_f64()
    );
    let step = (points.len() / 100).max(1);
    let spread: Vec<&serde_json::Value> = points.iter().step_by(step).take(100).collect();
    let mut provinces: Vec<&str> = spread
        .iter()
        .map(|p| &p[2].as_str().expect("a region code")[..2])
        .collect();
    provinces.sort_unstable();
    provinces.dedup();
    let places = spread
        .iter()
        .map(|p| (p[3].as_f64().expect("lon"), p[4].as_f64().expect("lat")))
        .collect();
    (places, provinces.len())
}

async fn latency(client: &reqwest::Client, urls: &[String], requests: usize) -> (f64, f64) {
    // Twenty warm-up requests whatever the number of URLs (PostgreSQL switches a prepared
    // statement to its generic plan after five executions; that one-off is not steady state).
    for url in urls.iter().cycle().take(20) {
        client.get(url).send().await.unwrap().bytes().await.unwrap();
    }
    let mut samples = Vec::with_capacity(requests);
    for i in 0..requests {
        let url = &urls[i % urls.len()];
        let started = Instant::now();
        let response = client.get(url).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        response.bytes().await.unwrap();
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    (samples[requests / 2], samples[requests * 99 / 100])
}

async fn run(backend: &str, url: &str, file: &Path) {
    let conn = db::connect(&DatabaseArgs {
        database_url: url.to_owned(),
        db_max_connections: None,
    })
    .await
    .expect("connect");
    db::migrate(&conn).await.expect("migrate");
    let started = Instant::now();
    divisions::import(&conn, Source::File(file), ImportOptions::default())
        .await
        .expect("import");
    println!(
        "\n== {backend} ==\nimported the national table in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (places, provinces) = populate(&conn, file).await;

    let app = donornet::build_app(conn.clone(), HttpConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(donornet::serve(listener, app, std::future::pending()));
    let client = common::admin_client(&conn).await;

    // 100 places: the locations of points spread over the country.
    let near: Vec<String> = places
        .iter()
        .map(|(lon, lat)| format!("{base}/api/v1/points?near={lon},{lat}&radius_km=10"))
        .collect();
    println!(
        "near queries around {} points in {provinces} provinces",
        near.len()
    );
    let report = |what: &str, (median, p99): (f64, f64), target: &str| {
        println!("{what:<52} median {median:>7.2} ms  p99 {p99:>7.2} ms  ({target})");
    };
    let found: serde_json::Value = client
        .get(&near[0])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    println!(
        "(a near query finds {} points within 10 km)",
        found["items"].as_array().unwrap().len()
    );
    report(
        "GET /points?near=lon,lat&radius_km=10",
        latency(&client, &near, 1000).await,
        "target p99 < 10 ms",
    );
    let county = vec![format!("{base}/api/v1/points?region={COUNTY}")];
    report(
        &format!("GET /points?region={COUNTY}"),
        latency(&client, &county, 1000).await,
        "target p99 < 10 ms",
    );
    for city in [LUOHE, LARGE_CITY] {
        let url = vec![format!("{base}/api/v1/regions/{city}/summary")];
        let summary: serde_json::Value = client
            .get(&url[0])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        report(
            &format!(
                "GET /regions/{city}/summary ({} villages)",
                summary["villages"]
            ),
            latency(&client, &url, 100).await,
            "target < 50 ms",
        );
    }
    server.abort();
    conn.close().await.ok();
}

#[tokio::main]
async fn main() {
    let Some(file) = common::national_divisions() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    run(
        "SQLite",
        &format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("registry.db").display()
        ),
        &file,
    )
    .await;

    let admin = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("donornet_registry_bench_{}", std::process::id());
    let Ok(conn) = sea_orm::Database::connect(&admin).await else {
        println!("\n== PostgreSQL ==\nnot reachable at {admin}: skipped");
        return;
    };
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    run("PostgreSQL", url.as_str(), &file).await;
    conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .ok();
}
