//! Booking throughput benchmark (issue 6): sustained concurrent `POST
//! /api/v1/public/stops/{id}/bookings` against the real app, and the same load against a bare
//! axum handler returning a fixed JSON (the floor), measured in the same run.
//!
//! Run with `cargo bench --bench booking`. SQLite (a temporary file) always; PostgreSQL in a
//! fresh database made at `BENCH_DATABASE_URL`, else `TEST_DATABASE_URL`, else the local
//! server when reachable (dropped after). For each backend it:
//! - migrates, loads the demo divisions, and through the HTTP API (an admin token) makes a
//!   station, a vehicle (50 beds, 12 donors per bed-hour, 60-minute slots: 600 places a
//!   slot), points, and drives 8 days ahead and on, each with 5 stops of three slots, enough
//!   places for the whole run, and publishes them (which opens the slots);
//! - serves the app (`booking_rate_limit: 0`, no place or message caps) and the floor handler on loopback, in this
//!   process;
//! - runs `BOOK_BENCH_CLIENTS` (default 200) workers for `BOOK_BENCH_WARMUP_SECS` (default 2)
//!   plus `BOOK_BENCH_SECS` (default 10) seconds, each on its own keep-alive HTTP/1.1
//!   connection (hyper), booking one person after the other with a unique mobile, rotating
//!   over every slot; only requests started after the warm-up are measured;
//! - then `BOOK_BENCH_RATE` (default 1,000) bookings/s offered at a fixed pace over the same
//!   clients, latency counted from when each request was due (no coordinated omission): the
//!   p99 at the target rate, where the closed loop above measures the most the service does;
//! - then the same closed-loop load against the floor handler;
//! - then 200 workers racing for the 600 places of one fresh slot (exactly 600 accepted), and
//!   the first 200 bookings sent again at once (all refused 409, no place taken);
//! - checks in the database that no slot is overbooked, and that active bookings, the sum of
//!   the slots' `booked`, the booking parts and the confirmations in the outbox all equal the
//!   number of 201 answers;
//! - prints the figures and whether each target is met: at least 1,000 accepted bookings/s,
//!   p99 under 50 ms at 200 clients, no overbooking, no 5xx.
//!
//! The load generator, the app, the database driver and the floor handler share the machine
//! (and one tokio runtime): the figures are a lower bound of what the service does alone.
//! `BOOK_BENCH_DB_CONNECTIONS` overrides the pool size (default: the service's).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use donornet::config::DatabaseArgs;
use donornet::{HttpConfig, db};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

const CITY: &str = "990100000000";
/// Demo villages (with their places) for the points.
const VILLAGES: [(&str, f64, f64); 5] = [
    ("990101101201", 114.0132, 33.6737),
    ("990101101006", 114.0219, 33.6565),
    ("990101103006", 114.0687, 33.5162),
    ("990101104201", 114.1415, 33.7260),
    ("990101101202", 114.0458, 33.6726),
];
/// Each drive's stops: three hours each, three 60-minute slots of 600 places.
const STOPS: [(&str, &str); 5] = [
    ("07:00", "10:00"),
    ("10:00", "13:00"),
    ("13:00", "16:00"),
    ("16:00", "19:00"),
    ("19:00", "22:00"),
];
const PLACES_PER_SLOT: u64 = 600;
const SLOTS_PER_DRIVE: u64 = 15;
/// Places provided per second of the run (above any rate this machine reaches).
const PLACES_PER_SEC: u64 = 6_000;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Settings {
    clients: usize,
    warmup: Duration,
    measured: Duration,
    pool: Option<u32>,
    /// The offered rate of the paced phase, bookings/s over all clients.
    rate: f64,
}

/// What one phase of load saw.
#[derive(Default)]
struct Tally {
    /// Latencies of the measured requests (started after the warm-up).
    latencies: Vec<Duration>,
    /// Status counts of the measured requests: 201/200, 409, 429, other 4xx, 5xx.
    ok: u64,
    conflict: u64,
    too_many: u64,
    other_4xx: u64,
    server_5xx: u64,
    /// Transport failures (connection refused or reset) during the measured window.
    failed: u64,
    /// 201/200 answers over the whole run, warm-up included (for the database check).
    ok_all: u64,
    /// 5xx over the whole run, warm-up included.
    server_5xx_all: u64,
    /// Requests answered over the whole run, warm-up included.
    all: u64,
    /// A sample of the bodies of unexpected answers.
    samples: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.ok += other.ok;
        self.conflict += other.conflict;
        self.too_many += other.too_many;
        self.other_4xx += other.other_4xx;
        self.server_5xx += other.server_5xx;
        self.failed += other.failed;
        self.ok_all += other.ok_all;
        self.server_5xx_all += other.server_5xx_all;
        self.all += other.all;
        if self.samples.len() < 5 {
            self.samples.extend(other.samples.into_iter().take(2));
        }
    }

    fn requests(&self) -> u64 {
        self.latencies.len() as u64
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[i - 1].as_secs_f64() * 1000.0
    }
}

/// One request to make: path and JSON body.
type Next = Arc<dyn Fn(u64) -> (String, String) + Send + Sync>;

/// `clients` workers, each on its own connection, sending `next(n)` (n unique across all
/// workers) until `warmup + measured` has passed, or until `stop_after_conflicts` 409s in a
/// row when given (the fill race).
async fn load(
    addr: SocketAddr,
    clients: usize,
    warmup: Duration,
    measured: Duration,
    next: Next,
    until_full: bool,
    rate: Option<f64>,
) -> (Tally, Duration) {
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let measure_from = started + warmup;
    let deadline = measure_from + measured;
    // At a fixed rate each worker sends every `clients / rate` seconds, the workers staggered;
    // latency counts from when a request was due (a late send is the service's delay).
    let every = rate.map(|r| Duration::from_secs_f64(clients as f64 / r));
    let mut workers = Vec::with_capacity(clients);
    for w in 0..clients {
        let (counter, next) = (counter.clone(), next.clone());
        let mut due = rate.map(|r| started + Duration::from_secs_f64(w as f64 / r));
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut sender = None;
            while Instant::now() < deadline {
                if let Some(at) = due {
                    tokio::time::sleep_until(at.into()).await;
                    if at >= deadline {
                        break;
                    }
                }
                let mut conn = match sender.take() {
                    Some(s) => s,
                    None => match connect(addr).await {
                        Ok(s) => s,
                        Err(_) => {
                            if Instant::now() >= measure_from {
                                tally.failed += 1;
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    },
                };
                if conn.ready().await.is_err() {
                    continue;
                }
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let (path, body) = next(n);
                let request = hyper::Request::post(path)
                    .header(hyper::header::HOST, addr.to_string())
                    .header(hyper::header::CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from(body)))
                    .expect("request");
                let sent = due.unwrap_or_else(Instant::now);
                if let (Some(at), Some(every)) = (due.as_mut(), every) {
                    *at += every;
                }
                let answer = match conn.send_request(request).await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        match response.into_body().collect().await {
                            Ok(body) => Some((status, body.to_bytes())),
                            Err(_) => None,
                        }
                    }
                    Err(_) => None,
                };
                let took = sent.elapsed();
                let measuring = sent >= measure_from;
                let Some((status, body)) = answer else {
                    if measuring {
                        tally.failed += 1;
                    }
                    continue;
                };
                sender = Some(conn);
                tally.all += 1;
                if status == 200 || status == 201 {
                    tally.ok_all += 1;
                } else if status >= 500 {
                    tally.server_5xx_all += 1;
                }
                let unexpected = !(status == 200 || status == 201 || (until_full && status == 409));
                if unexpected && tally.samples.len() < 2 {
                    tally
                        .samples
                        .push(format!("{status}: {}", String::from_utf8_lossy(&body)));
                }
                if until_full && status == 409 {
                    // The slot is full: this worker is done.
                    tally.conflict += 1;
                    tally.latencies.push(took);
                    break;
                }
                if !measuring {
                    continue;
                }
                tally.latencies.push(took);
                match status {
                    200 | 201 => tally.ok += 1,
                    409 => tally.conflict += 1,
                    429 => tally.too_many += 1,
                    400..=499 => tally.other_4xx += 1,
                    _ => tally.server_5xx += 1,
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for w in workers {
        total.merge(w.await.expect("worker"));
    }
    let elapsed = started.elapsed().saturating_sub(warmup);
    total.latencies.sort_unstable();
    (total, elapsed)
}

async fn connect(
    addr: SocketAddr,
) -> Result<
    hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    Box<dyn std::error::Error + Send + Sync>,
> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// The floor: a bare axum router with one handler answering a fixed small JSON.
async fn floor_server() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    async fn fixed() -> impl axum::response::IntoResponse {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            r#"{"ok":true}"#,
        )
    }
    let app = axum::Router::new().route("/floor", axum::routing::post(fixed).get(fixed));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, handle)
}

async fn post(client: &reqwest::Client, url: &str, body: &Value) -> Value {
    let response = client.post(url).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "POST {url} {body}: {answer}");
    answer
}

/// A drive of `vehicle` on `date` with the stops at `points` (cycled), published; returns
/// the bookable (stop id, slot start) pairs.
async fn published_drive(
    client: &reqwest::Client,
    base: &str,
    vehicle: i64,
    date: chrono::NaiveDate,
    points: &[i64],
    stops: &[(&str, &str)],
) -> Vec<(i64, String)> {
    let stop_inputs: Vec<Value> = stops
        .iter()
        .enumerate()
        .map(|(i, (start, end))| {
            json!({"site": format!("point-{}", points[i % points.len()]),
                   "planned_start": start, "planned_end": end, "expected_donors": 0.0})
        })
        .collect();
    let drive = post(
        client,
        &format!("{base}/api/v1/drives"),
        &json!({"vehicle_id": vehicle, "date": date, "stops": stop_inputs}),
    )
    .await;
    let id = drive["id"].as_i64().unwrap();
    let response = client
        .post(format!("{base}/api/v1/drives/{id}/transition"))
        .header("If-Match", format!("\"{}\"", drive["version"]))
        .json(&json!({"to": "published"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "publish drive {id}");
    let mut slots = Vec::new();
    for stop in drive["stops"].as_array().unwrap() {
        let stop_id = stop["id"].as_i64().unwrap();
        let view: Value = client
            .get(format!("{base}/api/v1/public/stops/{stop_id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for slot in view["slots"].as_array().unwrap() {
            assert_eq!(slot["places"], PLACES_PER_SLOT, "{view}");
            slots.push((stop_id, slot["starts"].as_str().unwrap().to_owned()));
        }
    }
    slots
}

/// The network: a station, one vehicle, five points; `drives` drives from 8 days on, and
/// one more for the fill race. Returns the bookable slots and the fill race's slot.
async fn network(
    client: &reqwest::Client,
    base: &str,
    drives: u64,
) -> (Vec<(i64, String)>, (i64, String)) {
    let station = post(
        client,
        &format!("{base}/api/v1/stations"),
        &json!({"name": "压测中心血站", "region_code": CITY, "address": "人民路 1 号",
                "longitude": 114.02, "latitude": 33.58}),
    )
    .await;
    let vehicle = post(
        client,
        &format!("{base}/api/v1/vehicles"),
        &json!({"name": "压测采血车", "plate": "豫LB0001", "station_id": station["id"],
                "beds": 50, "staff": 60, "max_donors_per_day": 2000,
                "day_start": "06:00", "day_end": "23:00", "setup_min": 0, "teardown_min": 0,
                "cost_per_km": 2.5, "donors_per_bed_hour": 12.0, "slot_minutes": 60}),
    )
    .await;
    let vehicle = vehicle["id"].as_i64().unwrap();
    let mut points = Vec::new();
    for (i, (village, lon, lat)) in VILLAGES.iter().enumerate() {
        let p = post(
            client,
            &format!("{base}/api/v1/points"),
            &json!({"name": format!("压测献血点{}", i + 1), "kind": "village",
                    "region_code": village, "address": format!("主街 {}号", i + 1),
                    "longitude": lon, "latitude": lat, "status": "active"}),
        )
        .await;
        points.push(p["id"].as_i64().unwrap());
    }
    let first = donornet::domain::booking::today_in_china(Utc::now()) + chrono::Days::new(8);
    let mut slots = Vec::new();
    for d in 0..drives {
        slots.extend(
            published_drive(
                client,
                base,
                vehicle,
                first + chrono::Days::new(d),
                &points,
                &STOPS,
            )
            .await,
        );
    }
    let fill = published_drive(
        client,
        base,
        vehicle,
        first + chrono::Days::new(drives),
        &points,
        &[("08:00", "09:00")],
    )
    .await;
    (slots, fill[0].clone())
}

async fn scalar(conn: &DatabaseConnection, sql: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .expect(sql)
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect(sql)
}

/// The database's account of the run.
struct Check {
    overbooked_slots: i64,
    booked: i64,
    active: i64,
    parts: i64,
    confirmations: i64,
    slots_off: i64,
    fill_booked: i64,
}

async fn check(conn: &DatabaseConnection, fill_stop: i64) -> Check {
    Check {
        overbooked_slots: scalar(
            conn,
            "SELECT COUNT(*) FROM booking_slots WHERE booked > capacity OR booked < 0",
        )
        .await,
        booked: scalar(
            conn,
            "SELECT CAST(COALESCE(SUM(booked), 0) AS BIGINT) FROM booking_slots",
        )
        .await,
        active: scalar(
            conn,
            "SELECT COUNT(*) FROM bookings WHERE status = 'active'",
        )
        .await,
        parts: scalar(conn, "SELECT COUNT(*) FROM booking_parts").await,
        confirmations: scalar(
            conn,
            "SELECT COUNT(*) FROM outbox_messages WHERE kind = 'confirmation'",
        )
        .await,
        // Slots whose count differs from the places their active bookings hold.
        slots_off: scalar(
            conn,
            "SELECT COUNT(*) FROM booking_slots s WHERE s.booked <> \
               (SELECT COALESCE(SUM(p.places), 0) FROM booking_parts p \
                JOIN bookings b ON b.id = p.booking_id \
                WHERE p.slot_id = s.id AND b.status = 'active')",
        )
        .await,
        fill_booked: scalar(
            conn,
            &format!(
                "SELECT CAST(COALESCE(SUM(booked), 0) AS BIGINT) FROM booking_slots WHERE stop_id = {fill_stop}"
            ),
        )
        .await,
    }
}

fn booking_next(slots: Arc<Vec<(i64, String)>>, mobile_base: u64) -> Next {
    Arc::new(move |n| {
        let (stop, slot) = &slots[(n as usize) % slots.len()];
        (
            format!("/api/v1/public/stops/{stop}/bookings"),
            format!(
                r#"{{"name":"压测{n}","mobile":"1{:010}","blood_type":"O+","slot":"{slot}"}}"#,
                mobile_base + n
            ),
        )
    })
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// CPU time of this process, and the machine's busy and total jiffies (`/proc/stat`).
#[derive(Clone, Copy)]
struct Usage {
    process: Duration,
    busy: u64,
    total: u64,
}

fn usage() -> Usage {
    // SAFETY: getrusage writes the struct it is given.
    let process = unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut r);
        let tv = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
        };
        tv(r.ru_utime) + tv(r.ru_stime)
    };
    let (busy, total) = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().next()?.to_owned();
            let v: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            let total: u64 = v.iter().take(8).sum();
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            Some((total - idle, total))
        })
        .unwrap_or((0, 0));
    Usage {
        process,
        busy,
        total,
    }
}

/// One phase's figures.
struct Phase {
    tally: Tally,
    elapsed: Duration,
    /// This process's CPU per request, over the whole phase (warm-up included).
    cpu_per_request_ms: f64,
    /// The machine's busy share, and this process's share of the machine, over the phase.
    machine_busy: f64,
    process_share: f64,
}

impl Phase {
    fn ok_per_sec(&self) -> f64 {
        self.tally.ok as f64 / self.elapsed.as_secs_f64()
    }
    fn per_sec(&self) -> f64 {
        self.tally.requests() as f64 / self.elapsed.as_secs_f64()
    }
}

#[allow(clippy::too_many_arguments)]
async fn phase(
    addr: SocketAddr,
    settings: &Settings,
    warmup: Duration,
    measured: Duration,
    next: Next,
    until_full: bool,
    rate: Option<f64>,
) -> Phase {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let before = usage();
    let (tally, elapsed) = load(
        addr,
        settings.clients,
        warmup,
        measured,
        next,
        until_full,
        rate,
    )
    .await;
    let after = usage();
    let sent = tally.all.max(1) as f64;
    let jiffies = (after.total - before.total).max(1) as f64;
    let wall = (warmup + elapsed).as_secs_f64();
    Phase {
        cpu_per_request_ms: (after.process - before.process).as_secs_f64() * 1000.0 / sent,
        machine_busy: (after.busy - before.busy) as f64 / jiffies,
        process_share: (after.process - before.process).as_secs_f64() / (wall * cores),
        tally,
        elapsed,
    }
}

fn print_phase(what: &str, p: &Phase) {
    let t = &p.tally;
    println!(
        "{what:<17} {:>7.0} req/s {:>7.0} ok/s  p50 {:>7.2}  p90 {:>7.2}  p99 {:>7.2}  max {:>7.2} ms",
        p.per_sec(),
        p.ok_per_sec(),
        t.percentile(0.50),
        t.percentile(0.90),
        t.percentile(0.99),
        t.percentile(1.0),
    );
    println!(
        "{:<17} {} requests: {} ok, {} 409, {} 429, {} other 4xx, {} 5xx, {} transport errors; \
         {:.3} ms of this process's CPU per request; machine {:.0}% busy, this process {:.0}%",
        "",
        t.requests(),
        t.ok,
        t.conflict,
        t.too_many,
        t.other_4xx,
        t.server_5xx,
        t.failed,
        p.cpu_per_request_ms,
        p.machine_busy * 100.0,
        p.process_share * 100.0,
    );
    for s in &t.samples {
        println!(
            "{:<17} e.g. {}",
            "",
            s.chars().take(300).collect::<String>()
        );
    }
}

async fn run(backend: &str, url: &str, settings: &Settings) {
    let conn = db::connect(&DatabaseArgs {
        database_url: url.to_owned(),
        db_max_connections: settings.pool,
    })
    .await
    .expect("connect");
    db::migrate(&conn).await.expect("migrate");
    donornet::seed::load_demo_divisions(&conn)
        .await
        .expect("demo divisions");
    let app = donornet::build_app(
        conn.clone(),
        // No per-address, per-mobile or message caps: the load generator books from one
        // address (issue 12's caps would refuse it after 40 places).
        HttpConfig {
            booking_rate_limit: 0,
            booking_places_per_mobile: 0,
            booking_places_per_address: 0,
            messages_per_recipient_per_day: 0,
            ..Default::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let server = tokio::spawn(donornet::serve(listener, app, std::future::pending()));
    let client = common::admin_client(&conn).await;

    let total_secs = (settings.warmup + settings.measured).as_secs().max(1);
    let per_sec = PLACES_PER_SEC + settings.rate as u64;
    let drives = (per_sec * total_secs).div_ceil(PLACES_PER_SLOT * SLOTS_PER_DRIVE);
    let started = Instant::now();
    let (slots, fill) = network(&client, &base, drives).await;
    let capacity = slots.len() as u64 * PLACES_PER_SLOT;
    println!(
        "\n== {backend} ==\nset up through the API in {:.2} s: {drives} published drives, {} stops, \
         {} slots, {capacity} places (+ one 600-place slot for the fill race); pool {} connections",
        started.elapsed().as_secs_f64(),
        slots.len() / 3,
        slots.len(),
        settings
            .pool
            .map_or_else(|| "the service's default".to_owned(), |n| n.to_string()),
    );
    let slots = Arc::new(slots);

    let (w, m) = (settings.warmup, settings.measured);
    let booking = phase(
        addr,
        settings,
        w,
        m,
        booking_next(slots.clone(), 3_000_000_000),
        false,
        None,
    )
    .await;
    print_phase("booking (max)", &booking);
    let paced = phase(
        addr,
        settings,
        w,
        m,
        booking_next(slots.clone(), 5_000_000_000),
        false,
        Some(settings.rate),
    )
    .await;
    print_phase(&format!("booking @{}/s", settings.rate), &paced);

    let (floor_addr, floor_handle) = floor_server().await;
    let floor = phase(
        floor_addr,
        settings,
        w,
        m,
        Arc::new(|n| {
            (
                "/floor".to_owned(),
                format!(
                    r#"{{"name":"压测{n}","mobile":"1{:010}","blood_type":"O+","slot":"08:00"}}"#,
                    n
                ),
            )
        }),
        false,
        None,
    )
    .await;
    floor_handle.abort();
    print_phase("floor (max)", &floor);

    // The fill race: everyone at one slot until it is full.
    let race = phase(
        addr,
        settings,
        Duration::ZERO,
        Duration::from_secs(60),
        booking_next(Arc::new(vec![fill.clone()]), 4_000_000_000),
        true,
        None,
    )
    .await
    .tally;
    println!(
        "fill race: {} workers at one {}-place slot: {} booked (201), {} told full (409), {} 5xx",
        settings.clients, PLACES_PER_SLOT, race.ok_all, race.conflict, race.server_5xx_all
    );

    // Duplicates: the first bookings of the closed loop sent again, all at once (same stop,
    // slot and mobile): each must be refused 409 and hold no place.
    let duplicates = phase(
        addr,
        settings,
        Duration::ZERO,
        Duration::from_secs(60),
        booking_next(slots.clone(), 3_000_000_000),
        true,
        None,
    )
    .await
    .tally;
    println!(
        "duplicates: {} bookings sent again at once: {} refused 409, {} booked (201), {} 5xx",
        settings.clients, duplicates.conflict, duplicates.ok_all, duplicates.server_5xx_all
    );

    let accepted = booking.tally.ok_all + paced.tally.ok_all + race.ok_all;
    let c = check(&conn, fill.0).await;
    let consistent = c.overbooked_slots == 0
        && c.slots_off == 0
        && c.booked == accepted as i64
        && c.active == accepted as i64
        && c.parts == accepted as i64
        && c.confirmations == accepted as i64
        && c.fill_booked == PLACES_PER_SLOT as i64
        && race.ok_all == PLACES_PER_SLOT
        && duplicates.ok_all == 0
        && duplicates.conflict == settings.clients as u64;
    println!(
        "database: {} overbooked slots, {} slots whose count differs from their bookings; \
         201 answers {accepted} = active bookings {} = sum of booked {} = parts {} = confirmations {}; \
         fill slot booked {}/{}: {}",
        c.overbooked_slots,
        c.slots_off,
        c.active,
        c.booked,
        c.parts,
        c.confirmations,
        c.fill_booked,
        PLACES_PER_SLOT,
        if consistent {
            "consistent"
        } else {
            "INCONSISTENT"
        }
    );

    let accepted_per_sec = booking.ok_per_sec();
    let floor_rps = floor.per_sec();
    let server_errors = booking.tally.server_5xx_all
        + paced.tally.server_5xx_all
        + race.server_5xx_all
        + duplicates.server_5xx_all;
    let transport = booking.tally.failed + paced.tally.failed + race.failed + duplicates.failed;
    println!(
        "ratio: booking accepted/s / floor req/s = {accepted_per_sec:.0} / {floor_rps:.0} = {:.4}; \
         CPU per request {:.3} / {:.3} ms = {:.0}x",
        accepted_per_sec / floor_rps,
        booking.cpu_per_request_ms,
        floor.cpu_per_request_ms,
        booking.cpu_per_request_ms / floor.cpu_per_request_ms,
    );
    let p99_max = booking.tally.percentile(0.99);
    let p99_paced = paced.tally.percentile(0.99);
    println!(
        "targets at {} clients: accepted >= 1,000/s: {} ({accepted_per_sec:.0}/s); \
         p99 < 50 ms: at full load {} ({p99_max:.2} ms), at {}/s offered {} ({p99_paced:.2} ms, \
         {:.0}/s accepted); no overbooking: {}; no 5xx: {} ({server_errors} 5xx, {transport} transport errors)",
        settings.clients,
        verdict(accepted_per_sec >= 1000.0),
        verdict(p99_max < 50.0),
        settings.rate,
        verdict(p99_paced < 50.0),
        paced.ok_per_sec(),
        verdict(consistent),
        verdict(server_errors + transport == 0),
    );
    println!(
        "(a closed loop of {} clients waits {:.0} ms on average at {accepted_per_sec:.0}/s: \
         Little's law, clients / throughput; a p99 under 50 ms at full load needs well over {:.0}/s)",
        settings.clients,
        settings.clients as f64 / booking.per_sec() * 1000.0,
        settings.clients as f64 / 0.05,
    );
    if booking.tally.conflict + paced.tally.conflict > 0 {
        println!(
            "note: {} bookings were refused 409 in the measured windows (capacity {capacity})",
            booking.tally.conflict + paced.tally.conflict
        );
    }
    server.abort();
    conn.close().await.ok();
}

#[tokio::main]
async fn main() {
    let settings = Settings {
        clients: env_u64("BOOK_BENCH_CLIENTS", 200) as usize,
        warmup: Duration::from_secs(env_u64("BOOK_BENCH_WARMUP_SECS", 2)),
        measured: Duration::from_secs(env_u64("BOOK_BENCH_SECS", 10)),
        pool: std::env::var("BOOK_BENCH_DB_CONNECTIONS")
            .ok()
            .and_then(|v| v.parse().ok()),
        rate: env_u64("BOOK_BENCH_RATE", 1000) as f64,
    };
    println!(
        "booking benchmark: {} clients, {} s warm-up + {} s measured per phase; load generator, \
         app, database driver and floor handler share this machine's {} cores (one tokio runtime); \
         no log subscriber, the outbox worker not running",
        settings.clients,
        settings.warmup.as_secs(),
        settings.measured.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let only = std::env::var("BOOK_BENCH_ONLY").unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    if only.is_empty() || only.eq_ignore_ascii_case("sqlite") {
        run(
            "SQLite",
            &format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("booking.db").display()
            ),
            &settings,
        )
        .await;
    }
    if !(only.is_empty() || only.eq_ignore_ascii_case("postgres")) {
        return;
    }

    let admin = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("donornet_booking_bench_{}", std::process::id());
    let Ok(conn) = sea_orm::Database::connect(&admin).await else {
        println!("\n== PostgreSQL ==\nnot reachable at {admin}: skipped");
        return;
    };
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    run("PostgreSQL", url.as_str(), &settings).await;
    conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .ok();
}
