//! The `donornet` binary itself: import refusals, `serve` with the demo data, graceful
//! shutdown, and an import while `serve` is up.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{TestDb, backends, luohe_csv};

pub(crate) fn donornet() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_donornet"));
    cmd.env_remove("DONORNET_DATABASE_URL")
        .env_remove("DONORNET_BIND");
    cmd
}

/// Runs `donornet ARGS… --database-url URL` to completion.
pub(crate) fn run(args: &[&str], url: &str) -> Output {
    donornet()
        .args(args)
        .args(["--database-url", url])
        .output()
        .unwrap()
}

/// The standard output of a run that must have succeeded.
pub(crate) fn stdout_of_success(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// True when the import summary has the row `level inserted updated unchanged`.
fn summary_has(stdout: &str, row: [&str; 4]) -> bool {
    stdout
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == row)
}

/// A child process that is killed (and reaped) when dropped, so that a failing test never
/// leaves it running after the test binary has exited.
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl std::ops::Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// A `donornet serve` child process on a free port, up and answering; killed when dropped.
pub(crate) struct Server {
    child: KillOnDrop,
    /// Where the server's standard output and error go.
    log: tempfile::NamedTempFile,
    base: String,
    client: reqwest::Client,
    /// Sent as a bearer token once set.
    token: Option<String>,
}

/// `donornet token create` for `user`: the token it prints.
fn token_for(url: &str, user: &str) -> String {
    let out = run(&["token", "create", "cli tests", "--user", user], url);
    let token = stdout_of_success(&out).trim().to_owned();
    assert!(token.starts_with("dn_"), "{token}");
    token
}

impl Server {
    /// Starts `serve` on `url` with `extra` arguments; the address comes through
    /// `DONORNET_BIND`, so the environment variable is exercised too.
    pub(crate) async fn start(url: &str, extra: &[&str]) -> Server {
        Self::start_with_env(url, extra, &[]).await
    }

    async fn start_with_env(url: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = donornet()
            .args(["serve", "--database-url", url])
            .args(extra)
            .env("DONORNET_BIND", format!("127.0.0.1:{port}"))
            .envs(env.iter().copied())
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        let server = Server {
            child: KillOnDrop(child),
            log,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            token: None,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = server.client.get(server.url("/health")).send().await
                && r.status().is_success()
            {
                return server;
            }
            assert!(Instant::now() < deadline, "serve did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited cleanly.
    pub(crate) async fn terminate(mut self) -> bool {
        // SAFETY: kill(2) with the pid of a child we spawned and a valid signal number.
        assert_eq!(
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) },
            0
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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
        let luohe = luohe_csv().display().to_string();
        // Only serve and migrate create a database.
        stdout_of_success(&run(&["migrate"], &db.url));

        let out = run(&["import-divisions", bad.to_str().unwrap()], &db.url);
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
        let first = stdout_of_success(&run(&["import-divisions", &luohe], &db.url));
        assert!(
            summary_has(&first, ["village", "1334", "0", "0"]),
            "{first}"
        );
        let second = stdout_of_success(&run(&["import-divisions", &luohe], &db.url));
        assert!(
            summary_has(&second, ["village", "0", "0", "1334"]),
            "{second}"
        );
        assert!(second.contains("nothing changed"), "{second}");

        // The environment variable works in place of the flag.
        let out = donornet()
            .env("DONORNET_DATABASE_URL", &db.url)
            .args(["migrate", "--status"])
            .output()
            .unwrap();
        assert!(stdout_of_success(&out).contains("Applied"));
        db.drop_database().await;
    }
}

#[tokio::test]
async fn serve_loads_the_demo_shows_imports_at_once_and_stops_on_sigterm() {
    for backend in backends() {
        let db = TestDb::create(backend).await;
        let mut server = Server::start(&db.url, &[]).await;

        // The registry is not public…
        let (status, _) = server.get("/api/v1/regions").await;
        assert_eq!(status, 401, "{backend:?}");
        // …and the demo data came with a demo admin.
        server.token = Some(token_for(&db.url, "demo-admin"));

        // The demo county was loaded into the empty database.
        let (_, roots) = server.get("/api/v1/regions").await;
        assert_eq!(
            roots["items"][0]["code"], "990000000000",
            "{backend:?}: {roots}"
        );
        // …with its donation network.
        let (_, points) = server.get("/api/v1/points?region=990101000000").await;
        assert_eq!(
            points["items"].as_array().map(Vec::len),
            Some(6),
            "{backend:?}: {points}"
        );
        let (_, vehicles) = server.get("/api/v1/vehicles").await;
        assert_eq!(
            vehicles["items"].as_array().map(Vec::len),
            Some(2),
            "{backend:?}: {vehicles}"
        );

        // An import while serving: requests keep succeeding while it runs, and the new
        // regions show as soon as it has finished.
        let mut importer = KillOnDrop(
            donornet()
                .args(["import-divisions", "--database-url", &db.url])
                .arg(luohe_csv())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let mut served_during_import = 0;
        let import_status = loop {
            if let Some(status) = importer.try_wait().unwrap() {
                break status;
            }
            let (status, _) = server.get("/api/v1/regions/990101000000").await;
            assert_eq!(status, 200, "{backend:?}: a read failed during the import");
            served_during_import += 1;
        };
        assert!(import_status.success(), "{backend:?}: the import failed");
        assert!(
            served_during_import > 0,
            "no request was made while the import ran"
        );
        let (_, city) = server.get("/api/v1/regions/411100000000").await;
        assert_eq!(
            city["descendant_counts"]["township"], 58,
            "{backend:?}: {city}"
        );

        assert!(
            server.terminate().await,
            "{backend:?}: serve did not exit cleanly on SIGTERM"
        );
        db.drop_database().await;
    }
}

#[tokio::test]
async fn serve_no_demo_leaves_an_empty_database_empty_and_seed_demo_is_idempotent() {
    for backend in backends() {
        let db = TestDb::create(backend).await;
        let mut server = Server::start(&db.url, &["--no-demo"]).await;
        // No demo data, so no demo admin: the start-up says how to create the first one…
        let log = std::fs::read_to_string(server.log.path()).unwrap();
        assert!(
            log.contains("user add NAME --role admin --password-stdin"),
            "{log}"
        );
        // …and it comes from the command line.
        let out = run(&["user", "list"], &db.url);
        assert_eq!(
            stdout_of_success(&out).lines().count(),
            1,
            "only the header"
        );
        let mut add = donornet()
            .args([
                "user",
                "add",
                "chief",
                "--role",
                "admin",
                "--password-stdin",
            ])
            .args(["--database-url", &db.url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        add.stdin
            .take()
            .unwrap()
            .write_all(b"a long enough password\n")
            .unwrap();
        stdout_of_success(&add.wait_with_output().unwrap());
        server.token = Some(token_for(&db.url, "chief"));
        let (_, roots) = server.get("/api/v1/regions").await;
        assert_eq!(
            roots["items"],
            serde_json::json!([]),
            "{backend:?}: {roots}"
        );
        assert!(server.terminate().await);

        let first = stdout_of_success(&run(&["seed-demo"], &db.url));
        assert!(summary_has(&first, ["township", "4", "0", "0"]), "{first}");
        assert!(
            first.contains(
                "created 1 station, 2 vehicles, 6 points, 6 coordinators, 22 village surveys"
            ),
            "{first}"
        );
        let conn = db.connect().await;
        let after_first = crate::demo::row_counts(&conn).await;
        let second = stdout_of_success(&run(&["seed-demo"], &db.url));
        assert!(second.contains("nothing changed"), "{second}");
        assert!(
            second.contains("network (seed-data/demo-network.json): nothing changed"),
            "{second}"
        );
        assert_eq!(
            crate::demo::row_counts(&conn).await,
            after_first,
            "{backend:?}: the second seed-demo changed something"
        );
        conn.close().await.unwrap();
        db.drop_database().await;
    }
}

/// Runs `donornet ARGS… --database-url URL` with `stdin` on its standard input.
fn run_with_stdin(args: &[&str], url: &str, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = donornet()
        .args(args)
        .args(["--database-url", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn accounts_are_managed_from_the_command_line_and_no_secret_reaches_a_log() {
    const CHIEF_PASSWORD: &str = "chief's first password";
    const NEW_PASSWORD: &str = "chief's second password";
    const OFFICIAL_PASSWORD: &str = "official's password";
    for backend in backends() {
        let db = TestDb::create(backend).await;
        stdout_of_success(&run(&["migrate"], &db.url));
        let mut outputs = Vec::new();
        // Passwords come only on standard input.
        let out = run(&["user", "add", "chief", "--role", "admin"], &db.url);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("--password-stdin"));
        let out = run_with_stdin(
            &[
                "user",
                "add",
                "chief",
                "--role",
                "admin",
                "--password-stdin",
            ],
            &db.url,
            &format!("{CHIEF_PASSWORD}\n"),
        );
        outputs.push(stdout_of_success(&out));
        let out = run_with_stdin(
            &["user", "add", "weak", "--role", "admin", "--password-stdin"],
            &db.url,
            "short\n",
        );
        assert!(!out.status.success(), "a weak password is refused");
        // So are the username and the commonest passwords, from the command line as from the
        // API.
        for (name, password, says) in [
            ("wang.fang", "wang.fang2024", "username"),
            ("wang.fang", "1234567890", "commonest"),
        ] {
            let out = run_with_stdin(
                &["user", "add", name, "--role", "admin", "--password-stdin"],
                &db.url,
                &format!("{password}\n"),
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{password} was accepted");
            assert!(stderr.contains(says), "{password}: {stderr}");
        }
        let out = run_with_stdin(
            &["user", "passwd", "chief", "--password-stdin"],
            &db.url,
            "Chief2026!\n",
        );
        assert!(!out.status.success(), "a password too short is refused");
        let out = run_with_stdin(
            &["user", "passwd", "chief", "--password-stdin"],
            &db.url,
            "qwertyuiop\n",
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("commonest"),
            "passwd applies the rule too"
        );
        let out = run_with_stdin(
            &[
                "user",
                "add",
                "nowhere",
                "--role",
                "viewer",
                "--password-stdin",
            ],
            &db.url,
            &format!("{CHIEF_PASSWORD}\n"),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("at least one region"),
            "a viewer needs a region: {stderr}"
        );

        let server = Server::start_with_env(&db.url, &[], &[("RUST_LOG", "debug")]).await;
        let client = reqwest::Client::new();
        let login = |user: &str, password: &str| {
            client
                .post(server.url("/api/v1/auth/login"))
                .json(&serde_json::json!({"username": user, "password": password}))
                .send()
        };
        assert_eq!(
            login("chief", "a wrong password").await.unwrap().status(),
            401
        );
        let response = login("chief", CHIEF_PASSWORD).await.unwrap();
        assert_eq!(response.status(), 200);
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        outputs.push(response.text().await.unwrap());
        // An official, created through the API with the session.
        let response = client
            .post(server.url("/api/v1/users"))
            .header("cookie", &cookie)
            .header("origin", &server.base)
            .json(&serde_json::json!({"username": "official", "display_name": "乡镇专干", "role": "township_official", "regions": ["990101101000"], "password": OFFICIAL_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        outputs.push(response.text().await.unwrap());
        assert_eq!(
            login("official", OFFICIAL_PASSWORD).await.unwrap().status(),
            200
        );
        for path in [
            "/api/v1/users",
            "/api/v1/auth/me",
            "/api/v1/audit",
            "/api/v1/tokens",
        ] {
            let response = client
                .get(server.url(path))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            outputs.push(response.text().await.unwrap());
        }

        // passwd and disable from the command line.
        let out = run_with_stdin(
            &["user", "passwd", "chief", "--password-stdin"],
            &db.url,
            &format!("{NEW_PASSWORD}\n"),
        );
        outputs.push(stdout_of_success(&out));
        assert_eq!(login("chief", CHIEF_PASSWORD).await.unwrap().status(), 401);
        assert_eq!(login("chief", NEW_PASSWORD).await.unwrap().status(), 200);
        let token = token_for(&db.url, "official");
        outputs.push(stdout_of_success(&run(
            &["user", "disable", "official"],
            &db.url,
        )));
        let response = client
            .get(server.url("/api/v1/points"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "a disabled user's token");
        assert_eq!(
            login("official", OFFICIAL_PASSWORD).await.unwrap().status(),
            401
        );
        let list = stdout_of_success(&run(&["user", "list"], &db.url));
        assert!(
            list.lines()
                .any(|l| l.starts_with("2\tofficial\ttownship_official\t990101101000\ttrue")),
            "{list}"
        );
        assert!(
            list.lines()
                .any(|l| l.starts_with("1\tchief\tadmin\t*\tfalse")),
            "{list}"
        );
        outputs.push(list);
        let out = run(&["token", "create", "x", "--user", "official"], &db.url);
        assert!(!out.status.success(), "no tokens for a disabled account");

        let session_value = cookie.split('=').nth(1).unwrap().to_owned();
        // A handle that outlives the temporary file's name (removed with the server).
        let mut log_file = server.log.reopen().unwrap();
        assert!(server.terminate().await);
        let mut log = String::new();
        std::io::Read::read_to_string(&mut log_file, &mut log).unwrap();
        assert!(log.contains("signed in"), "the log was captured: {log}");
        outputs.push(log);
        for text in &outputs {
            for secret in [
                "argon2",
                CHIEF_PASSWORD,
                NEW_PASSWORD,
                OFFICIAL_PASSWORD,
                &session_value,
                &token[3..],
            ] {
                assert!(
                    !text.contains(secret),
                    "{backend:?}: {secret:?} appears in: {text}"
                );
            }
        }
        db.drop_database().await;
    }
}

#[test]
fn serve_refuses_an_unusable_outbox_sender_before_touching_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("never.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let without_url = donornet()
        .args([
            "serve",
            "--database-url",
            &url,
            "--outbox-sender",
            "webhook",
        ])
        .output()
        .unwrap();
    assert!(!without_url.status.success());
    let stderr = String::from_utf8_lossy(&without_url.stderr);
    assert!(stderr.contains("--outbox-webhook-url"), "{stderr}");
    let https = donornet()
        .args([
            "serve",
            "--database-url",
            &url,
            "--bind",
            "127.0.0.1:0",
            "--outbox-sender",
            "webhook",
            "--outbox-webhook-url",
            "https://gateway.example/sms",
        ])
        .output()
        .unwrap();
    assert!(!https.status.success());
    let stderr = String::from_utf8_lossy(&https.stderr);
    assert!(stderr.contains("must be an http:// URL"), "{stderr}");
    assert!(!file.exists(), "nothing was created");
}

#[test]
fn serve_help_says_a_timed_out_request_is_answered_503() {
    let out = donornet().args(["serve", "--help"]).output().unwrap();
    let help = stdout_of_success(&out);
    let timeout = help
        .split("--request-timeout-secs")
        .nth(1)
        .and_then(|rest| rest.split("\n      --").next())
        .expect("--request-timeout-secs is documented");
    assert!(timeout.contains("503"), "{timeout}");
    assert!(!timeout.contains("408"), "{timeout}");
    // The README's configuration table says the same.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `--request-timeout-secs`"))
        .expect("the README documents --request-timeout-secs");
    assert!(row.contains("503") && !row.contains("408"), "{row}");
}

#[tokio::test]
async fn commands_other_than_serve_and_migrate_never_create_a_database_and_name_the_one_used() {
    // Run in a folder without a database, with the default URL: each refuses, naming the
    // database and how to make it, and leaves no file behind.
    let dir = tempfile::tempdir().unwrap();
    let request = dir.path().join("request.json");
    std::fs::write(
        &request,
        r#"{"region":"990101000000","from":"2027-01-18","to":"2027-01-20"}"#,
    )
    .unwrap();
    let luohe = luohe_csv().display().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["token", "create", "x", "--user", "demo-admin"],
        vec!["user", "list"],
        vec!["user", "disable", "demo-admin"],
        vec!["user", "unlock", "demo-admin"],
        vec!["seed-demo"],
        vec!["import-divisions", &luohe],
        vec!["plan", "--export-instance", request.to_str().unwrap()],
        vec!["backup", "copy.db"],
    ];
    for args in &commands {
        let out = donornet()
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            stderr.contains("database sqlite://donornet.db?mode=rwc does not exist")
                && stderr.contains("donornet migrate"),
            "{args:?}: {stderr}"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("request.json")],
            "{args:?}"
        );
    }
    // `user add` reads its password first, then refuses the same way.
    let mut add = donornet()
        .args([
            "user",
            "add",
            "chief",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        add.stdin
            .take()
            .unwrap()
            .write_all(b"a long enough password\n")
            .unwrap();
    }
    let out = add.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    assert!(!dir.path().join("donornet.db").exists());

    // migrate creates it; then an unknown user is named with the database looked in.
    let out = donornet()
        .args(["migrate"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    stdout_of_success(&out);
    assert!(dir.path().join("donornet.db").exists());
    let out = donornet()
        .args(["token", "create", "x", "--user", "demo-admin"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("in the database sqlite://donornet.db?mode=rwc: no user named demo-admin"),
        "{stderr}"
    );

    for backend in backends() {
        let db = TestDb::create(backend).await;
        stdout_of_success(&run(&["migrate"], &db.url));
        let out = run(&["user", "disable", "nobody"], &db.url);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("in the database {}: no user named nobody", db.url)),
            "{backend:?}: {stderr}"
        );
        db.drop_database().await;
    }
    // A PostgreSQL database is named without the password in its URL.
    if let Ok(admin) = std::env::var("TEST_DATABASE_URL") {
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_password(Some("pw-never-shown")).unwrap();
        url.set_path("/donornet_no_such_database");
        let out = run(&["user", "list"], url.as_str());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("donornet_no_such_database"), "{stderr}");
        assert!(stderr.contains(":***@"), "{stderr}");
        assert!(!stderr.contains("pw-never-shown"), "{stderr}");
    }
}

#[tokio::test]
async fn an_admin_lifts_a_sign_in_lock_from_the_command_line() {
    const PASSWORD: &str = "the owner's own passphrase";
    for backend in backends() {
        let db = TestDb::create(backend).await;
        let server = Server::start(&db.url, &["--no-demo"]).await;
        let out = run_with_stdin(
            &[
                "user",
                "add",
                "zhao.lei",
                "--role",
                "admin",
                "--password-stdin",
            ],
            &db.url,
            &format!("{PASSWORD}\n"),
        );
        stdout_of_success(&out);
        let client = reqwest::Client::new();
        let login = |password: &str| {
            client
                .post(server.url("/api/v1/auth/login"))
                .json(&serde_json::json!({"username": "zhao.lei", "password": password}))
                .send()
        };
        let out = stdout_of_success(&run(&["user", "unlock", "zhao.lei"], &db.url));
        assert!(out.contains("was not locked"), "{out}");
        for _ in 0..5 {
            assert_eq!(login("a wrong guess").await.unwrap().status(), 401);
        }
        // Locked: the owner too, with the right password…
        assert_eq!(login(PASSWORD).await.unwrap().status(), 429, "{backend:?}");
        // …until an admin lifts the lock.
        let out = stdout_of_success(&run(&["user", "unlock", "zhao.lei"], &db.url));
        assert!(out.contains("5 failed sign-ins forgotten"), "{out}");
        assert_eq!(login(PASSWORD).await.unwrap().status(), 200, "{backend:?}");
        let out = run(&["user", "unlock", "nobody"], &db.url);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("no user named nobody"),
            "{backend:?}: {stderr}"
        );
        // The lifting is in the audit log, made from the command line.
        let token = token_for(&db.url, "zhao.lei");
        let audit: Value = client
            .get(server.url("/api/v1/audit?entity=user"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let unlocks: Vec<&Value> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] == "unlock")
            .collect();
        assert_eq!(unlocks.len(), 2, "{backend:?}: {audit}");
        assert_eq!(unlocks[0]["actor"], "command line", "{audit}");
        assert!(server.terminate().await);
        db.drop_database().await;
    }
}

/// The words of a shell command line: split at spaces, with '…' and "…" quoting.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, ' ') => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

#[tokio::test]
async fn the_readmes_first_admin_commands_work_on_the_demo_database_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("**The first admin**")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("the README shows how to make the first admin");
    for backend in backends() {
        let db = TestDb::create(backend).await;
        stdout_of_success(&run(&["migrate"], &db.url));
        stdout_of_success(&run(&["seed-demo"], &db.url));
        let mut ran = 0;
        for line in block.lines().filter(|l| !l.trim().is_empty()) {
            let line = line.split("  #").next().unwrap().trim();
            // `printf '%s\n' 'PASSWORD' | donornet …`, or `donornet …`.
            let (stdin, command) = match line.split_once(" | ") {
                Some((printf, command)) => {
                    let words = shell_words(printf);
                    assert_eq!(words[..2], ["printf", "%s\\n"], "{line}");
                    (Some(format!("{}\n", words[2])), command)
                }
                None => (None, line),
            };
            let words = shell_words(command);
            assert_eq!(words[0], "donornet", "{line}");
            let child = donornet()
                .args(&words[1..])
                .args(["--database-url", &db.url])
                // Nothing on standard input unless the line gives it: a command that waits
                // for it sees the end at once.
                .stdin(if stdin.is_some() {
                    Stdio::piped()
                } else {
                    Stdio::null()
                })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut child = KillOnDrop(child);
            if let Some(text) = &stdin {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(text.as_bytes())
                    .unwrap();
            }
            // The outputs are a few lines: the pipes cannot fill up before it exits.
            let status = child.wait().unwrap();
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            assert!(status.success(), "{backend:?}: `{line}` failed: {stderr}");
            ran += 1;
        }
        assert_eq!(ran, 3, "{block}");
        let list = stdout_of_success(&run(&["user", "list"], &db.url));
        assert!(
            list.lines()
                .any(|l| l.contains("\twang.fang\ttownship_official\t990101101000\t")),
            "{list}"
        );
        db.drop_database().await;
    }
}

/// Every table of a database (migrations' own included), each as its rows in a fixed order.
async fn every_table(conn: &sea_orm::DatabaseConnection) -> Vec<(String, Vec<String>)> {
    use sea_orm::{DbBackend, FromQueryResult, JsonValue, Statement};
    let backend = conn.get_database_backend();
    let list = match backend {
        DbBackend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        _ => {
            "SELECT tablename::text AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        }
    };
    let names: Vec<String> = JsonValue::find_by_statement(Statement::from_string(backend, list))
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row["t"].as_str().unwrap().to_owned())
        .collect();
    let mut out = Vec::new();
    for name in names {
        let sql = format!("SELECT * FROM \"{name}\"");
        let mut rows: Vec<String> =
            JsonValue::find_by_statement(Statement::from_string(backend, sql))
                .all(conn)
                .await
                .unwrap_or_else(|e| panic!("read {name}: {e}"))
                .into_iter()
                .map(|row| row.to_string())
                .collect();
        rows.sort();
        out.push((name, rows));
    }
    out
}

#[tokio::test]
async fn a_backup_restores_to_the_same_rows_in_every_table_and_never_overwrites() {
    for backend in backends() {
        let db = TestDb::create(backend).await;
        stdout_of_success(&run(&["migrate"], &db.url));
        stdout_of_success(&run(&["seed-demo"], &db.url));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("donornet.backup");
        let file_arg = file.to_str().unwrap();
        let said = stdout_of_success(&run(&["backup", file_arg], &db.url));
        assert!(said.contains("backed up"), "{backend:?}: {said}");
        let size = std::fs::metadata(&file).unwrap().len();
        assert!(size > 0, "{backend:?}");

        // A second backup to the same name is refused and leaves the first as it was.
        let again = run(&["backup", file_arg], &db.url);
        assert!(!again.status.success(), "{backend:?}");
        assert!(
            String::from_utf8_lossy(&again.stderr).contains("already exists"),
            "{backend:?}: {}",
            String::from_utf8_lossy(&again.stderr)
        );
        assert_eq!(std::fs::metadata(&file).unwrap().len(), size);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("donornet.backup")]);

        // Restore as the README says, into a new database.
        let restored = TestDb::create(backend).await;
        match backend {
            crate::helpers::Backend::Sqlite => {
                let target = donornet::db::sqlite_file(&restored.url).unwrap().unwrap();
                std::fs::copy(&file, &target).unwrap();
            }
            crate::helpers::Backend::Postgres => {
                let out = Command::new("pg_restore")
                    .args(["--no-owner", "--exit-on-error", "--dbname", &restored.url])
                    .arg(&file)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "pg_restore: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        let original = db.connect().await;
        let copy = restored.connect().await;
        let before = every_table(&original).await;
        let after = every_table(&copy).await;
        let names: Vec<&str> = before.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            names.contains(&"regions") && names.contains(&"audit_log") && names.len() > 30,
            "{backend:?}: {names:?}"
        );
        assert!(
            before.iter().filter(|(_, rows)| !rows.is_empty()).count() >= 8,
            "{backend:?}: the demo fills several tables"
        );
        assert_eq!(
            before.iter().map(|(n, r)| (n, r.len())).collect::<Vec<_>>(),
            after.iter().map(|(n, r)| (n, r.len())).collect::<Vec<_>>(),
            "{backend:?}"
        );
        assert!(before == after, "{backend:?}: a restored row differs");
        original.close().await.unwrap();
        copy.close().await.unwrap();
        restored.drop_database().await;
        db.drop_database().await;
    }
}
