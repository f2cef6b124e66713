//! The web app's weight and speed (issue 14), on the demo data in a temporary SQLite database:
//!
//! - **weight**: the JS and CSS each page loads, gzip-compressed as the server sends them
//!   (target: at most 150 KB per page, map pages 300 KB);
//! - **time to first byte** of a page against the same data as the API's JSON, measured in the
//!   same run, request after request on one keep-alive connection (target: a page at most 2x);
//! - **Lighthouse** (the npm package pinned in `benches/lighthouse/`, installed with `npm ci`
//!   into `target/lighthouse/` on first use, run against the system Chromium, its default
//!   mobile preset): performance, accessibility and best practices of the public schedule, a
//!   stop's booking page, a booking's page and, once it exists, the official's township page
//!   (targets 90, 95, 95). `WEB_BENCH_LIGHTHOUSE=skip` leaves it out.
//!
//! - the station staff's pages (issue 15) on a desk's screen: their weight, and Lighthouse's
//!   desktop preset on the network map, the drives' calendar and a done plan of the demo
//!   county on the planner's page (target: performance 85).
//!
//! Prints its figures; BENCHMARKS.md keeps them. Run with `cargo bench --bench web`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use donornet::config::DatabaseArgs;
use donornet::{HttpConfig, db};
use serde_json::Value;

const TTFB_REQUESTS: usize = 300;
const OFFICIAL: &str = "bench.official";
const OFFICIAL_PASSWORD: &str = "bench-official-2026";
const TOWNSHIP: &str = "990101103000";
const STAFF: &str = "bench.staff";
const STAFF_PASSWORD: &str = "bench-staff-2026";
const CITY: &str = "990100000000";
const COUNTY: &str = "990101000000";

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let args = DatabaseArgs {
        database_url: format!("sqlite://{}?mode=rwc", dir.path().join("web.db").display()),
        db_max_connections: None,
    };
    let conn = db::connect(&args).await.expect("connect");
    db::migrate(&conn).await.expect("migrate");
    donornet::seed::load_demo(&conn)
        .await
        .expect("the demo data");
    donornet::admin::add_user(
        &conn,
        OFFICIAL,
        None,
        "township_official",
        &[TOWNSHIP.to_owned()],
        OFFICIAL_PASSWORD,
    )
    .await
    .expect("the official's account");
    donornet::admin::add_user(
        &conn,
        STAFF,
        None,
        "station_staff",
        &[CITY.to_owned()],
        STAFF_PASSWORD,
    )
    .await
    .expect("the staff's account");
    let app = donornet::build_app(
        conn.clone(),
        HttpConfig {
            booking_rate_limit: 0,
            ..HttpConfig::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(donornet::serve(listener, app, std::future::pending()));

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let schedule: Value = client
        .get(format!("{base}/api/v1/public/drives"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stop = schedule["items"][0]["stop_id"]
        .as_i64()
        .expect("the demo has published stops");
    let booked: Value = client
        .post(format!("{base}/api/v1/public/stops/{stop}/bookings"))
        .json(&serde_json::json!({"name": "测试", "mobile": "13800009999", "slot": "09:30"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let booking_page = format!(
        "/bookings/{}?t={}",
        booked["code"].as_str().expect("booked"),
        booked["token"].as_str().expect("a token")
    );
    let cookie = sign_in(&client, &base, OFFICIAL, OFFICIAL_PASSWORD).await;
    let staff = sign_in(&client, &base, STAFF, STAFF_PASSWORD).await;
    let plan = done_plan(&client, &base, &staff).await;

    let pages: Vec<(&str, String, Option<&str>, bool)> = vec![
        ("public schedule", "/drives".to_owned(), None, false),
        (
            "stop and booking form",
            format!("/stops/{stop}"),
            None,
            false,
        ),
        ("a booking's page", booking_page.clone(), None, false),
        (
            "official: my township",
            "/township".to_owned(),
            Some(cookie.as_str()),
            false,
        ),
        (
            "official: points and map",
            format!("/township/points?code={TOWNSHIP}"),
            Some(cookie.as_str()),
            true,
        ),
    ];
    // The station's pages, on a desk's screen.
    let desk: Vec<(&str, String, Option<&str>, bool)> = vec![
        (
            "staff: network map",
            "/station/map".to_owned(),
            Some(staff.as_str()),
            true,
        ),
        (
            "staff: drives",
            "/station/drives".to_owned(),
            Some(staff.as_str()),
            false,
        ),
        (
            "staff: a plan",
            format!("/station/plans/{plan}"),
            Some(staff.as_str()),
            true,
        ),
    ];

    println!("== weight: JS + CSS each page loads, gzip as sent ==");
    for (name, path, cookie, map) in pages.iter().chain(&desk) {
        // The booking's token stays out of the output.
        let shown = path.split("?t=").next().unwrap_or(path);
        match weight(&client, &base, path, *cookie).await {
            Some((html, assets, files)) => {
                let limit = if *map { 300.0 } else { 150.0 };
                println!(
                    "{name:<24} {shown:<28} html {html:>6.1} KB  js+css {assets:>6.1} KB in {files} files  (target <= {limit} KB: {})",
                    if assets <= limit { "met" } else { "MISSED" }
                );
            }
            None => println!("{name:<24} {shown:<28} not served yet: skipped"),
        }
    }

    println!(
        "\n== time to first byte: page against the same data as JSON ({TTFB_REQUESTS} each, alternating) =="
    );
    let pairs: Vec<(&str, String, Vec<String>, Option<&str>)> = vec![
        (
            "schedule",
            "/drives".to_owned(),
            vec!["/api/v1/public/drives".to_owned()],
            None,
        ),
        (
            "stop",
            format!("/stops/{stop}"),
            vec![format!("/api/v1/public/stops/{stop}")],
            None,
        ),
        // The township page shows the summary, the gaps and the checklist items due: the same
        // data as JSON is those three reads, their times added up.
        (
            "township",
            "/township".to_owned(),
            vec![
                format!("/api/v1/regions/{TOWNSHIP}/summary"),
                format!("/api/v1/reports/gaps?region={TOWNSHIP}"),
                format!("/api/v1/checklists/due?region={TOWNSHIP}"),
            ],
            Some(cookie.as_str()),
        ),
    ];
    for (name, page, json, cookie) in &pairs {
        match ttfb_pair(&client, &base, page, json, *cookie).await {
            Some((p, j)) => {
                let ratio = median(&p) / median(&j);
                let json = json.join(" + ");
                println!(
                    "{name:<10} page {page:<22} median {:>6.2} ms p90 {:>6.2} ms | JSON {json} median {:>6.2} ms p90 {:>6.2} ms | page/JSON {ratio:.2}x (target <= 2x: {})",
                    median(&p),
                    pct(&p, 0.9),
                    median(&j),
                    pct(&j, 0.9),
                    if ratio <= 2.0 { "met" } else { "MISSED" }
                );
            }
            None => println!("{name:<10} {page}: not served yet: skipped"),
        }
    }

    if std::env::var("WEB_BENCH_LIGHTHOUSE").as_deref() == Ok("skip") {
        println!("\n(Lighthouse skipped: WEB_BENCH_LIGHTHOUSE=skip)");
        return;
    }
    println!("\n== Lighthouse (mobile preset, system Chromium) ==");
    let Some(cli) = lighthouse() else {
        println!("Lighthouse could not be installed (npm ci in target/lighthouse failed): skipped");
        return;
    };
    let runs = pages
        .iter()
        .map(|p| (p, false))
        .chain(desk.iter().map(|p| (p, true)));
    for ((name, path, cookie, _), desktop) in runs {
        let status = client
            .get(format!("{base}{path}"))
            .header("cookie", cookie.unwrap_or(""))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if status != 200 {
            println!("{name:<24} {path}: not served yet ({status}): skipped");
            continue;
        }
        match run_lighthouse(&cli, &format!("{base}{path}"), *cookie, desktop) {
            // The officials' and donors' pages: mobile, 90/95/95; the station's: desktop, 85.
            Some((perf, a11y, practices)) if desktop => println!(
                "{name:<24} (desktop) performance {perf:>3}  accessibility {a11y:>3}  best practices {practices:>3}  (target performance 85: {})",
                if perf >= 85 { "met" } else { "MISSED" }
            ),
            Some((perf, a11y, practices)) => println!(
                "{name:<24} performance {perf:>3}  accessibility {a11y:>3}  best practices {practices:>3}  (targets 90/95/95: {})",
                if perf >= 90 && a11y >= 95 && practices >= 95 {
                    "met"
                } else {
                    "MISSED"
                }
            ),
            None => println!("{name:<24} Lighthouse failed on {path}"),
        }
    }
}

/// A session cookie (`name=value`) of `username`, through the API's sign-in.
async fn sign_in(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{username} signs in");
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// A plan of the demo county for the next fortnight, made as `cookie`'s staff through the API
/// and waited for until done: its id.
async fn done_plan(client: &reqwest::Client, base: &str, cookie: &str) -> i64 {
    let tomorrow =
        (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive() + chrono::Duration::days(1);
    let made: Value = client
        .post(format!("{base}/api/v1/plans"))
        .header("cookie", cookie)
        .header("origin", base)
        .json(&serde_json::json!({"region": COUNTY, "from": tomorrow,
                                  "to": tomorrow + chrono::Duration::days(13)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = made["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("a plan: {made}"));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let plan: Value = client
            .get(format!("{base}/api/v1/plans/{id}"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match plan["status"].as_str() {
            Some("done") => return id,
            Some("queued" | "running") if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => panic!("the demo plan was not made: {plan}"),
        }
    }
}

/// The page's HTML and the JS + CSS it loads, in KB as sent with gzip, and how many files.
async fn weight(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    cookie: Option<&str>,
) -> Option<(f64, f64, usize)> {
    let get = |p: String| {
        client
            .get(format!("{base}{p}"))
            .header("accept-encoding", "gzip")
            .header("cookie", cookie.unwrap_or(""))
            .send()
    };
    let page = get(path.to_owned()).await.ok()?;
    if page.status().as_u16() != 200 {
        return None;
    }
    let gz = page.bytes().await.ok()?;
    let html = gunzip(&gz);
    let mut assets = Vec::new();
    for (tag, attr) in [("<script", "src=\""), ("<link", "href=\"")] {
        for piece in html.split(tag).skip(1) {
            let element = piece.split('>').next().unwrap_or("");
            if tag == "<link" && !element.contains("stylesheet") {
                continue;
            }
            if let Some(url) = element.split(attr).nth(1).and_then(|r| r.split('"').next()) {
                assets.push(url.replace("&amp;", "&").replace("&#38;", "&"));
            }
        }
    }
    let mut total = 0usize;
    for url in &assets {
        let body = get(url.clone()).await.ok()?.bytes().await.ok()?;
        total += body.len();
    }
    Some((
        gz.len() as f64 / 1024.0,
        total as f64 / 1024.0,
        assets.len(),
    ))
}

fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut out = String::new();
    if flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .is_err()
    {
        out = String::from_utf8_lossy(bytes).into_owned();
    }
    out
}

/// Times to the response headers (ms) of `page` and of the reads of `json` added up, request
/// after request.
async fn ttfb_pair(
    client: &reqwest::Client,
    base: &str,
    page: &str,
    json: &[String],
    cookie: Option<&str>,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let once = |path: &str| {
        let request = client
            .get(format!("{base}{path}"))
            .header("cookie", cookie.unwrap_or(""));
        async move {
            let started = Instant::now();
            let response = request.send().await.ok()?;
            let at = started.elapsed();
            let ok = response.status().as_u16() == 200;
            let _ = response.bytes().await;
            ok.then_some(at)
        }
    };
    // Warm both up.
    for _ in 0..20 {
        once(page).await?;
        for path in json {
            once(path).await?;
        }
    }
    let (mut p, mut j) = (Vec::new(), Vec::new());
    for _ in 0..TTFB_REQUESTS {
        p.push(ms(once(page).await?));
        let mut sum = 0.0;
        for path in json {
            sum += ms(once(path).await?);
        }
        j.push(sum);
    }
    Some((p, j))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &[f64]) -> f64 {
    pct(v, 0.5)
}

fn pct(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * q).round() as usize]
}

/// Lighthouse's command line, installed from `benches/lighthouse/package-lock.json` into
/// `target/lighthouse/` on first use.
fn lighthouse() -> Option<PathBuf> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/lighthouse");
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/lighthouse");
    let cli = target.join("node_modules/lighthouse/cli/index.js");
    let lock = std::fs::read(source.join("package-lock.json")).ok()?;
    if cli.exists() && std::fs::read(target.join("package-lock.json")).ok()? == lock {
        return Some(cli);
    }
    std::fs::create_dir_all(&target).ok()?;
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(source.join(file), target.join(file)).ok()?;
    }
    let ok = Command::new("npm")
        .args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&target)
        .status()
        .is_ok_and(|s| s.success());
    (ok && cli.exists()).then_some(cli)
}

/// Performance, accessibility and best-practices scores (0-100) of `url`.
fn run_lighthouse(
    cli: &Path,
    url: &str,
    cookie: Option<&str>,
    desktop: bool,
) -> Option<(u32, u32, u32)> {
    let mut command = Command::new("node");
    if desktop {
        command.arg(cli).arg("--preset=desktop");
    } else {
        command.arg(cli);
    }
    command
        .arg(url)
        .args([
            "--quiet",
            "--output=json",
            "--output-path=stdout",
            "--only-categories=performance,accessibility,best-practices",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ])
        .env(
            "CHROME_PATH",
            std::env::var("CHROME_PATH").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()),
        );
    if let Some(cookie) = cookie {
        command.arg(format!(
            "--extra-headers={}",
            serde_json::json!({ "Cookie": cookie })
        ));
    }
    let output = command.output().ok()?;
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    let report: Value = serde_json::from_slice(&output.stdout).ok()?;
    let score = |c: &str| {
        report["categories"][c]["score"]
            .as_f64()
            .map(|s| (s * 100.0).round() as u32)
    };
    Some((
        score("performance")?,
        score("accessibility")?,
        score("best-practices")?,
    ))
}
