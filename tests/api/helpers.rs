//! The test harness: a fresh database and the real router per test, on SQLite always and on
//! PostgreSQL too when `TEST_DATABASE_URL` is set.

use std::path::{Path, PathBuf};
use std::sync::Once;

use donornet::config::DatabaseArgs;
use donornet::import::divisions::{self, ImportOptions, ImportSummary, Source};
use donornet::{HttpConfig, db};
use reqwest::{Client, Method};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::Value;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty (but migrated) database of one backend. PostgreSQL databases are dropped by
/// [`TestDb::drop_database`]; SQLite files go with their temporary directory.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    pub async fn create(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                TestDb {
                    backend,
                    url,
                    _dir: Some(dir),
                    pg_admin: None,
                }
            }
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
                let name = format!("donornet_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create the test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                TestDb {
                    backend,
                    url: url.to_string(),
                    _dir: None,
                    pg_admin: Some((admin_url, name)),
                }
            }
        }
    }

    pub fn args(&self) -> DatabaseArgs {
        DatabaseArgs {
            database_url: self.url.clone(),
            db_max_connections: None,
        }
    }

    pub async fn connect(&self) -> DatabaseConnection {
        let conn = db::connect(&self.args())
            .await
            .expect("connect to the test database");
        db::migrate(&conn).await.expect("migrate the test database");
        conn
    }

    pub async fn drop_database(&self) {
        if let Some((admin_url, name)) = &self.pg_admin {
            let admin = Database::connect(admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .expect("drop the test database");
            admin.close().await.ok();
        }
    }
}

/// The real application, served on an ephemeral port over a fresh database.
///
/// `client` acts as an unbound admin (`root`, through an API token), so that tests of the
/// registry need no ceremony; `anonymous` sends no credentials; [`TestApp::client_for`] makes
/// a client for any role.
pub struct TestApp {
    pub address: String,
    pub db: DatabaseConnection,
    pub database: TestDb,
    pub client: reqwest::Client,
    pub anonymous: reqwest::Client,
    /// The server's clock: the system's until [`TestApp::set_today`].
    pub clock: donornet::clock::Clock,
    server: tokio::task::JoinHandle<()>,
}

/// A client that sends `Authorization: Bearer <token>` with every request.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

impl TestApp {
    /// A connection of its own to the test's database, for migrating it down and up. One
    /// connection, so that on SQLite each statement sees the schema the one before left: a
    /// pooled connection that has run nothing since another dropped an index may still hold
    /// it in its schema, and `CREATE INDEX` then fails with "already exists".
    pub async fn schema_connection(&self) -> DatabaseConnection {
        let mut args = self.database.args();
        args.db_max_connections = Some(1);
        db::connect(&args)
            .await
            .expect("a schema connection to the test database")
    }

    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, HttpConfig::default()).await
    }

    /// As [`TestApp::spawn`], with other HTTP limits.
    pub async fn spawn_with(backend: Backend, http: HttpConfig) -> TestApp {
        Self::spawn_with_sender(
            backend,
            http,
            std::sync::Arc::new(donornet::outbox::LogSender),
        )
        .await
    }

    /// As [`TestApp::spawn_with`], with messages to donors going to `sender`.
    pub async fn spawn_with_sender(
        backend: Backend,
        http: HttpConfig,
        sender: std::sync::Arc<dyn donornet::outbox::Sender>,
    ) -> TestApp {
        let wecom = donornet::appeals::wecom::WeCom::new(donornet::appeals::wecom::DEFAULT_URL)
            .expect("a WeCom client");
        Self::spawn_full(backend, http, sender, std::sync::Arc::new(wecom)).await
    }

    /// As [`TestApp::spawn`], with appeals to chat groups posted to `wecom_url` (a stub).
    pub async fn spawn_with_wecom(backend: Backend, http: HttpConfig, wecom_url: &str) -> TestApp {
        let wecom = donornet::appeals::wecom::WeCom::new(wecom_url).expect("a WeCom client");
        Self::spawn_full(
            backend,
            http,
            std::sync::Arc::new(donornet::outbox::LogSender),
            std::sync::Arc::new(wecom),
        )
        .await
    }

    async fn spawn_full(
        backend: Backend,
        http: HttpConfig,
        sender: std::sync::Arc<dyn donornet::outbox::Sender>,
        wecom: std::sync::Arc<donornet::appeals::wecom::WeCom>,
    ) -> TestApp {
        init_logging();
        let database = TestDb::create(backend).await;
        let db = database.connect().await;
        let clock = donornet::clock::Clock::settable();
        let app = donornet::build_app_full(db.clone(), http, sender, wecom, clock.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("local addr"));
        let server = tokio::spawn(async move {
            donornet::serve(listener, app, std::future::pending())
                .await
                .expect("server");
        });
        let admin_token = user_with_token(&db, "root", "admin", &[], None).await;
        TestApp {
            address,
            db,
            database,
            client: bearer_client(&admin_token),
            anonymous: reqwest::Client::new(),
            clock,
            server,
        }
    }

    /// A new account (straight into the database, with `password` hashed when given, else one
    /// that can never sign in) and a bearer client acting as it.
    pub async fn client_for(
        &self,
        username: &str,
        role: &str,
        regions: &[&str],
    ) -> reqwest::Client {
        bearer_client(&user_with_token(&self.db, username, role, regions, None).await)
    }

    /// Sets the server's clock to 10:00 China time on `date` (`2026-12-15`).
    pub fn set_today(&self, date: &str) {
        let day: chrono::NaiveDate = date.parse().expect("a date");
        let at = day.and_hms_opt(2, 0, 0).expect("a time").and_utc();
        self.clock.set(at);
    }

    pub fn backend(&self) -> Backend {
        self.database.backend
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// GETs `path` and returns the status and the JSON body (Null when the body is not JSON).
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// GETs `path`, expecting 200, and returns the JSON body.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get_json(path).await;
        assert_eq!(status, 200, "GET {path} on {:?}: {body}", self.backend());
        body
    }

    /// Imports a division table through the library (the code behind `import-divisions`).
    pub async fn import(&self, path: &Path) -> ImportSummary {
        divisions::import(&self.db, Source::File(path), ImportOptions::default())
            .await
            .unwrap_or_else(|e| panic!("import of {} failed: {e}", path.display()))
    }

    pub async fn import_luohe(&self) -> ImportSummary {
        self.import(&luohe_csv()).await
    }

    /// Walks every page of a listing and returns all items.
    pub async fn list_all(&self, query: &str, limit: u32) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/regions?{query}&limit={limit}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = self.get_ok(&path).await;
            let batch = page["items"].as_array().expect("items").clone();
            assert!(batch.len() <= limit as usize, "page larger than limit");
            items.extend(batch);
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        items
    }

    /// Stops the server and starts a new one (fresh state: no plans in memory, new rate
    /// limits) on the same database, as a restart does; the admin client keeps working.
    pub async fn restart(
        mut self,
        http: HttpConfig,
        sender: std::sync::Arc<dyn donornet::outbox::Sender>,
    ) -> TestApp {
        self.server.abort();
        let _ = (&mut self.server).await;
        let app = donornet::build_app_with_clock(self.db.clone(), http, sender, self.clock.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        self.address = format!("http://{}", listener.local_addr().expect("local addr"));
        self.server = tokio::spawn(async move {
            donornet::serve(listener, app, std::future::pending())
                .await
                .expect("server");
        });
        self
    }

    pub async fn stop(self) {
        self.server.abort();
        let _ = self.server.await;
        self.db.close_by_ref().await.ok();
        self.database.drop_database().await;
    }
}

/// Creates an account and an API token for it; returns the token's secret.
pub async fn user_with_token(
    db: &DatabaseConnection,
    username: &str,
    role: &str,
    regions: &[&str],
    password: Option<&str>,
) -> String {
    use donornet::store::accounts::{self, NewUser};
    let password_hash = match password {
        Some(p) => donornet::auth::secret::hash_password(p).expect("hash"),
        None => "!no password".to_owned(),
    };
    let user = accounts::insert_user(
        db,
        NewUser {
            username: username.to_owned(),
            display_name: username.to_owned(),
            role: role.parse().expect("role"),
            password_hash,
            scopes: regions
                .iter()
                .map(|r| donornet::domain::region::RegionCode::parse(r).expect("code"))
                .collect(),
        },
        chrono::Utc::now(),
    )
    .await
    .expect("create the user");
    let command = donornet::accounts::IssueToken {
        owner: user.id,
        name: "tests".to_owned(),
        expires_in_days: None,
    };
    let (_, secret) = donornet::accounts::issue_token(
        db,
        command,
        donornet::store::audit::Actor::default(),
        chrono::Utc::now(),
    )
    .await
    .expect("create the token");
    secret
}

/// The backends this run covers: SQLite, and PostgreSQL when `TEST_DATABASE_URL` is set.
/// Without it, the run says once, on standard error, that PostgreSQL was skipped.
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if std::env::var_os("TEST_DATABASE_URL").is_some() {
        out.push(Backend::Postgres);
    } else {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            // Written to the process's standard error directly: the test harness captures
            // `eprintln!` and would show it only for a failing test.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "TEST_DATABASE_URL is not set: PostgreSQL skipped, these tests ran on SQLite only"
            );
        });
    }
    out
}

/// Runs `test` against a fresh app on each backend in turn.
pub async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = TestApp>,
{
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let app = test(app).await;
        app.stop().await;
    }
}

/// As [`on_each_backend`], with the HTTP configuration `http` makes.
pub async fn on_each_backend_with<F, Fut>(http: impl Fn() -> HttpConfig, test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = TestApp>,
{
    for backend in backends() {
        let app = TestApp::spawn_with(backend, http()).await;
        let app = test(app).await;
        app.stop().await;
    }
}

/// `tests/data/`: the official division tables the tests read (its README gives their source
/// and licence), inside the repository so that a fresh clone's tests need nothing beside it.
pub fn test_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The Luohe city table (1,400 rows).
pub fn luohe_csv() -> PathBuf {
    test_data().join("luohe-divisions-2023.csv")
}

/// Asserts that `response` is an RFC 9457 problem with `status` and returns its body.
pub async fn expect_problem(response: reqwest::Response, status: u16, context: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "{context}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "{context}"
    );
    let body: Value = response.json().await.expect("a JSON problem body");
    assert_eq!(body["status"], status, "{context}: {body}");
    for member in ["type", "title", "detail"] {
        assert!(body[member].is_string(), "{context}: no {member} in {body}");
    }
    body
}

/// Names of the items of a listing.
pub fn names(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|i| i["name"].as_str().expect("name"))
        .collect()
}

/// Codes of the items of a listing.
pub fn codes(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|i| i["code"].as_str().expect("code"))
        .collect()
}

fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            donornet::telemetry::init();
        }
    });
}

impl TestApp {
    /// Sends a JSON body with `method` and returns the raw response.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, self.url(path)).json(body);
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        request.send().await.expect("request")
    }

    /// Creates a point, expecting 201, and returns its body.
    pub async fn create_point(&self, body: &Value) -> Value {
        let response = self
            .send_json(reqwest::Method::POST, "/api/v1/points", body, None)
            .await;
        let status = response.status().as_u16();
        let json: Value = response.json().await.expect("JSON");
        assert_eq!(status, 201, "{json}");
        json
    }
}

/// Sends `method path` with `client`, the JSON `body` and `If-Match: if_match` when given.
pub async fn send(
    app: &TestApp,
    client: &Client,
    method: Method,
    path: &str,
    body: Option<&Value>,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut request = client.request(method, app.url(path));
    if let Some(body) = body {
        request = request.json(body);
    }
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    request.send().await.unwrap()
}

/// The JSON body of `response`, which must have `status` (`what` names it on failure).
pub async fn ok_json(response: reqwest::Response, status: u16, what: &str) -> Value {
    let got = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{what}: {body}");
    body
}

/// `POST path` with `body` as the app's client; must answer 201. The created record.
pub async fn created(app: &TestApp, path: &str, body: &Value) -> Value {
    let response = send(app, &app.client, Method::POST, path, Some(body), None).await;
    ok_json(response, 201, &format!("POST {path} {body}")).await
}
