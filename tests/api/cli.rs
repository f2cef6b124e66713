//! The `donornet` binary itself: import refusals, `serve` with the demo data, graceful
//! shutdown, and an import while `serve` is up.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{TestDb, backends, luohe_csv};

fn donornet() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_donornet"));
    cmd.env_remove("DONORNET_DATABASE_URL")
        .env_remove("DONORNET_BIND");
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_until_up(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{base}/health")).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "serve did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn import_divisions_refuses_a_bad_file_with_the_line_and_exit_status() {
    for backend in backends() {
        let db = TestDb::create(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.csv");
        let mut lines: Vec<String> = std::fs::read_to_string(luohe_csv())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        lines[99] = lines[99].replacen(",village,", ",hamlet,", 1);
        std::fs::write(&bad, lines.join("\n")).unwrap();

        let out = donornet()
            .args(["import-divisions", "--database-url", &db.url])
            .arg(&bad)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{backend:?}: a bad file was accepted"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("line 100: unknown level \"hamlet\""),
            "{backend:?}: {stderr}"
        );
        assert!(stderr.contains("nothing was changed"), "{stderr}");

        // The good file imports, and a second run says nothing changed.
        let out = donornet()
            .args(["import-divisions", "--database-url", &db.url])
            .arg(luohe_csv())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["village", "1334", "0", "0"]),
            "{stdout}"
        );
        let out = donornet()
            .args(["import-divisions", "--database-url", &db.url])
            .arg(luohe_csv())
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));

        // The environment variable works in place of the flag.
        let out = donornet()
            .env("DONORNET_DATABASE_URL", &db.url)
            .args(["migrate", "--status"])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Applied"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        db.drop_database().await;
    }
}

#[tokio::test]
async fn serve_loads_the_demo_shows_imports_at_once_and_stops_on_sigterm() {
    let client = reqwest::Client::new();
    for backend in backends() {
        let db = TestDb::create(backend).await;
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut server = donornet()
            .args(["serve", "--database-url", &db.url])
            .env("DONORNET_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until_up(&client, &base).await;

        // The demo county was loaded into the empty database.
        let roots: serde_json::Value = client
            .get(format!("{base}/api/v1/regions"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            roots["items"][0]["code"], "990000000000",
            "{backend:?}: {roots}"
        );

        // An import while serving: requests keep succeeding while it runs, and the new
        // regions show as soon as it has finished.
        let mut importer = donornet()
            .args(["import-divisions", "--database-url", &db.url])
            .arg(luohe_csv())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut served_during_import = 0;
        let import_status = loop {
            if let Some(status) = importer.try_wait().unwrap() {
                break status;
            }
            let r = client
                .get(format!("{base}/api/v1/regions/990101000000"))
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status().as_u16(),
                200,
                "{backend:?}: a read failed during the import"
            );
            served_during_import += 1;
        };
        assert!(import_status.success(), "{backend:?}: the import failed");
        assert!(
            served_during_import > 0,
            "no request was made while the import ran"
        );
        let city: serde_json::Value = client
            .get(format!("{base}/api/v1/regions/411100000000"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            city["descendant_counts"]["township"], 58,
            "{backend:?}: {city}"
        );

        // SIGTERM: the server finishes and exits cleanly.
        // SAFETY: kill(2) with a pid we spawned and a valid signal number.
        assert_eq!(unsafe { libc::kill(server.id() as i32, libc::SIGTERM) }, 0);
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = server.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(status.success(), "{backend:?}: serve exited with {status}");
        db.drop_database().await;
    }
}

#[tokio::test]
async fn serve_no_demo_leaves_an_empty_database_empty_and_seed_demo_is_idempotent() {
    let client = reqwest::Client::new();
    for backend in backends() {
        let db = TestDb::create(backend).await;
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut server = donornet()
            .args(["serve", "--no-demo", "--database-url", &db.url, "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until_up(&client, &base).await;
        let roots: serde_json::Value = client
            .get(format!("{base}/api/v1/regions"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            roots["items"],
            serde_json::json!([]),
            "{backend:?}: {roots}"
        );
        server.kill().unwrap();
        server.wait().unwrap();

        let first = donornet()
            .args(["seed-demo", "--database-url", &db.url])
            .output()
            .unwrap();
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        let first = String::from_utf8_lossy(&first.stdout);
        assert!(
            first
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["township", "4", "0", "0"]),
            "{first}"
        );
        let second = donornet()
            .args(["seed-demo", "--database-url", &db.url])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&second.stdout).contains("nothing changed"));
        db.drop_database().await;
    }
}
