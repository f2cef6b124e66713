//! Import and read benchmark on the national division table (665,271 rows in the 2023 table;
//! the rows are counted from the file itself, and every rate is per counted row).
//!
//! Run with `cargo bench --bench import`. For each backend (SQLite always; PostgreSQL at
//! `BENCH_DATABASE_URL`, else `TEST_DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/postgres`
//! when reachable) it prints:
//!
//! - the time, rows/s and peak RSS of `donornet import-divisions` into a fresh database (a child
//!   process, so its peak RSS is its own), and of a second, idempotent run;
//! - the floor measured in the same run: `sqlite3`'s `.import` and PostgreSQL's `COPY` of the
//!   same rows into a bare table with the same primary key and indexes (and, for reference,
//!   with the self-referencing foreign key too), and the ratio to it (target: within 3x). The
//!   floor reads the CSV already decompressed, outside its timing; donornet reads the `.gz`
//!   (twice: check, then write), so the comparison is, if anything, unfair to donornet;
//! - the median and p99 latency of `GET /api/v1/regions?parent=<county>` and
//!   `GET /api/v1/regions/<village>` over 1,000 requests each (target: median < 2 ms).
//!
//! Figures are printed, not asserted: timing belongs in benchmarks, not in tests.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use donornet::config::DatabaseArgs;
use donornet::{HttpConfig, db};

const REQUESTS: usize = 1_000;
const COUNTY: &str = "411103000000";
const VILLAGE: &str = "411103101001";

/// What a child process cost.
struct Run {
    wall: Duration,
    peak_rss_mb: f64,
    stdout: String,
}

/// Runs `cmd` to completion and measures its wall time and peak RSS (from `wait4`).
fn measure(cmd: &mut Command) -> Run {
    let started = Instant::now();
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    let output = child.wait_with_output_and_rusage(pid);
    let wall = started.elapsed();
    let (status, rusage, stdout, stderr) = output;
    assert!(
        status == 0,
        "{cmd:?} failed ({status}):\n{stdout}\n{stderr}"
    );
    Run {
        wall,
        // ru_maxrss is in kilobytes on Linux.
        peak_rss_mb: rusage.ru_maxrss as f64 / 1024.0,
        stdout,
    }
}

trait WaitWithRusage {
    fn wait_with_output_and_rusage(self, pid: libc::pid_t) -> (i32, libc::rusage, String, String);
}

impl WaitWithRusage for std::process::Child {
    fn wait_with_output_and_rusage(
        mut self,
        pid: libc::pid_t,
    ) -> (i32, libc::rusage, String, String) {
        use std::io::Read;
        // Drain stderr on its own thread so that neither pipe can fill and block the child.
        let stderr = self.stderr.take().map(|mut err| {
            std::thread::spawn(move || {
                let mut text = String::new();
                err.read_to_string(&mut text).ok();
                text
            })
        });
        let mut stdout = String::new();
        if let Some(mut out) = self.stdout.take() {
            out.read_to_string(&mut stdout).ok();
        }
        let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
        let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our own child, not yet reaped (std never waited on it).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
        assert_eq!(reaped, pid, "wait4 failed");
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        };
        (code, rusage, stdout, stderr)
    }
}

/// The data rows of the decompressed table (CSV records after the header).
fn count_rows(csv: &Path) -> u64 {
    let mut reader = csv::Reader::from_path(csv).expect("the decompressed table");
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    while reader.read_byte_record(&mut record).expect("a CSV record") {
        rows += 1;
    }
    rows
}

/// `donornet migrate`: the import needs a migrated database (it refuses to create one), and
/// the schema is not part of what is measured.
fn donornet_migrate(url: &str) {
    measure(
        Command::new(env!("CARGO_BIN_EXE_donornet"))
            .args(["migrate", "--database-url", url])
            .env("RUST_LOG", "warn"),
    );
}

fn donornet_import(url: &str, file: &Path) -> Run {
    measure(
        Command::new(env!("CARGO_BIN_EXE_donornet"))
            .args(["import-divisions", "--no-progress", "--database-url", url])
            .arg(file)
            .env("RUST_LOG", "warn"),
    )
}

/// The bare table of the floor: same key and indexes as `regions`.
fn floor_ddl(table: &str, with_fk: bool) -> String {
    let fk = if with_fk {
        format!(" REFERENCES {table}(code)")
    } else {
        String::new()
    };
    format!(
        "CREATE TABLE {table} (code varchar(12) NOT NULL PRIMARY KEY, name varchar(200) NOT NULL, \
         level varchar(16) NOT NULL, parent_code varchar(12){fk});\n\
         CREATE INDEX {table}_parent ON {table} (parent_code, code);\n\
         CREATE INDEX {table}_level ON {table} (level, code);\n"
    )
}

fn sqlite_floor(dir: &Path, csv: &Path) -> Option<Duration> {
    let db = dir.join("floor.db");
    let script = format!(
        "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n{}.mode csv\n.import --skip 1 {} floor\n",
        floor_ddl("floor", false),
        csv.display()
    );
    let started = Instant::now();
    let mut child = Command::new("sqlite3")
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(script.as_bytes()).ok()?;
    let status = child.wait().ok()?;
    status.success().then(|| started.elapsed())
}

fn psql(url: &str, sql: &str) -> bool {
    Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn pg_floor(url: &str, csv: &Path, with_fk: bool) -> Option<Duration> {
    let table = if with_fk { "floor_fk" } else { "floor" };
    if !psql(url, &floor_ddl(table, with_fk)) {
        return None;
    }
    let started = Instant::now();
    let copy = format!(
        "\\copy {table} FROM '{}' WITH (FORMAT csv, HEADER true)",
        csv.display()
    );
    psql(url, &copy).then(|| started.elapsed())
}

fn with_database(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("a PostgreSQL URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Median and p99 of `REQUESTS` sequential GETs of `path`, in milliseconds.
async fn latency(client: &reqwest::Client, base: &str, path: &str) -> (f64, f64) {
    let url = format!("{base}{path}");
    for _ in 0..50 {
        client
            .get(&url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
    }
    let mut samples = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let response = client.get(&url).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.bytes().await.unwrap();
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    (samples[REQUESTS / 2], samples[REQUESTS * 99 / 100])
}

async fn read_latencies(url: &str) -> Vec<(String, f64, f64)> {
    let conn = db::connect(&DatabaseArgs {
        database_url: url.to_owned(),
        db_max_connections: None,
    })
    .await
    .expect("connect");
    let app = donornet::build_app(conn.clone(), HttpConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(donornet::serve(listener, app, std::future::pending()));
    let client = common::admin_client(&conn).await;
    let mut out = Vec::new();
    for path in [
        format!("/api/v1/regions?parent={COUNTY}"),
        format!("/api/v1/regions/{VILLAGE}"),
    ] {
        let (median, p99) = latency(&client, &base, &path).await;
        out.push((path, median, p99));
    }
    server.abort();
    conn.close().await.ok();
    out
}

struct Figures {
    backend: &'static str,
    /// Data rows of the table (the header not counted).
    rows: u64,
    first: Run,
    second: Run,
    floor: Option<Duration>,
    floor_fk: Option<Duration>,
    reads: Vec<(String, f64, f64)>,
}

fn report(f: &Figures) {
    println!("\n== {} ==", f.backend);
    let rows = f.rows as f64;
    let line = |what: &str, run: &Run| {
        println!(
            "{what:<34} {:>7.2} s  {:>9.0} rows/s  peak RSS {:>6.1} MB",
            run.wall.as_secs_f64(),
            rows / run.wall.as_secs_f64(),
            run.peak_rss_mb
        );
    };
    line("donornet import (fresh database)", &f.first);
    line("donornet import again (no change)", &f.second);
    assert!(
        f.second.stdout.contains("nothing changed"),
        "the second import changed something:\n{}",
        f.second.stdout
    );
    match f.floor {
        None => println!("floor: not measured"),
        Some(_) => {
            for (what, floor) in [
                ("floor (same key + indexes)", f.floor),
                ("floor with the foreign key too", f.floor_fk),
            ] {
                let Some(d) = floor else { continue };
                println!(
                    "{what:<34} {:>7.2} s  {:>9.0} rows/s  donornet/floor = {:.2}x (target <= 3x)",
                    d.as_secs_f64(),
                    rows / d.as_secs_f64(),
                    f.first.wall.as_secs_f64() / d.as_secs_f64()
                );
            }
        }
    }
    println!(
        "peak RSS target: < 300 MB ({})",
        if f.first.peak_rss_mb < 300.0 {
            "met"
        } else {
            "MISSED"
        }
    );
    for (path, median, p99) in &f.reads {
        println!(
            "GET {path:<40} median {median:>6.3} ms  p99 {p99:>6.3} ms  (target median < 2 ms)"
        );
    }
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let Some(file) = common::national_divisions() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    println!("national division table: {}", file.display());

    // The floors read plain CSV; decompress once, outside any timing.
    let csv = dir.path().join("divisions.csv");
    {
        let mut out = std::fs::File::create(&csv).unwrap();
        let mut gz = flate2::read::MultiGzDecoder::new(std::fs::File::open(&file).unwrap());
        std::io::copy(&mut gz, &mut out).unwrap();
    }
    let rows = count_rows(&csv);
    println!("{rows} rows");

    // SQLite.
    let sqlite_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    donornet_migrate(&sqlite_url);
    let first = donornet_import(&sqlite_url, &file);
    let second = donornet_import(&sqlite_url, &file);
    let floor = sqlite_floor(dir.path(), &csv);
    if floor.is_none() {
        println!("(sqlite3 command line not found: apt-get install sqlite3)");
    }
    let reads = read_latencies(&sqlite_url).await;
    report(&Figures {
        backend: "SQLite",
        rows,
        first,
        second,
        floor,
        floor_fk: None,
        reads,
    });

    // PostgreSQL.
    let admin = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("donornet_bench_{}", std::process::id());
    if !psql(&admin, &format!("CREATE DATABASE {name}")) {
        println!("\n== PostgreSQL ==\nnot reachable at {admin}: skipped");
        return;
    }
    let floor_name = format!("{name}_floor");
    psql(&admin, &format!("CREATE DATABASE {floor_name}"));
    let pg_url = with_database(&admin, &name);
    donornet_migrate(&pg_url);
    let first = donornet_import(&pg_url, &file);
    let second = donornet_import(&pg_url, &file);
    let floor_url = with_database(&admin, &floor_name);
    let floor = pg_floor(&floor_url, &csv, false);
    let floor_fk = pg_floor(&floor_url, &csv, true);
    let reads = read_latencies(&pg_url).await;
    report(&Figures {
        backend: "PostgreSQL",
        rows,
        first,
        second,
        floor,
        floor_fk,
        reads,
    });
    psql(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    psql(
        &admin,
        &format!("DROP DATABASE IF EXISTS {floor_name} WITH (FORCE)"),
    );
}
