//! Real browsers for the page tests: headless Chromium driven through WebDriver (chromedriver)
//! by fantoccini. [`Driver`] starts one chromedriver per test and kills it (and the browsers it
//! started) when dropped; [`Browser`] is one browser window on the app, phone-sized (360x740),
//! with the steps a person takes: open, click, type, pick, read. [`Browser::check`] saves a
//! screenshot of the page under `target/screenshots/<backend>/<test>/` and runs axe-core in it:
//! a serious or critical accessibility violation fails the test.
//!
//! Chromium, ChromeDriver and a CJK font come from the Debian packages `chromium
//! chromium-driver fonts-noto-cjk` (`.ci/run` installs them). Without them the browser tests
//! fail saying so, unless `DONORNET_BROWSER_TESTS=skip` is set.

mod appeals;
mod hosts;
mod inventory;
mod official;
mod public;
mod recruitment;
mod signup;
mod station_admin;
mod station_checkin;
mod station_drives;
mod station_journey;
mod station_network;
mod station_results;
mod station_roster;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::Method;
use fantoccini::actions::{InputSource, PointerAction, TouchActions};
use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{Backend, TestApp};

/// axe-core, installed from the web assets' lockfile by build.rs.
const AXE: &str = include_str!(concat!(
    env!("OUT_DIR"),
    "/npm/node_modules/axe-core/axe.min.js"
));

/// The phone the public pages are designed for.
pub const PHONE: (u32, u32) = (360, 740);
/// A laptop, for the main pages' second screenshot.
pub const DESKTOP: (u32, u32) = (1366, 768);

/// How long a step may take before the test gives up on it (not a speed check: a generous
/// bound, so that a page that never shows what is expected fails instead of hanging).
const PATIENCE: Duration = Duration::from_secs(30);

const INSTALL: &str = "the browser tests need Chromium, ChromeDriver and a Chinese font: \
    install the Debian packages `chromium chromium-driver fonts-noto-cjk` \
    (apt-get install chromium chromium-driver fonts-noto-cjk), \
    or set DONORNET_BROWSER_TESTS=skip to skip them";

/// `name` on the `PATH`, if it is there.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// The build's `target` directory: `CARGO_TARGET_DIR`, else three levels above this test
/// binary (`target/debug/deps/api-…`).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)
        };
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// A running chromedriver, in a process group of its own so that dropping it ends it and the
/// browsers it started, also when a test fails half-way.
pub struct Driver {
    child: Child,
    url: String,
    chromium: PathBuf,
    test: &'static str,
}

impl Driver {
    /// Starts chromedriver for the test `test` and waits until it answers. `None` (after
    /// saying so) when `DONORNET_BROWSER_TESTS=skip`; a failure when Chromium or ChromeDriver
    /// is missing.
    pub async fn start(test: &'static str) -> Option<Driver> {
        if std::env::var("DONORNET_BROWSER_TESTS").as_deref() == Ok("skip") {
            // Straight to standard error: the harness would show `eprintln!` only on failure.
            let _ = writeln!(
                std::io::stderr(),
                "{test}: skipped (DONORNET_BROWSER_TESTS=skip)"
            );
            return None;
        }
        let driver = on_path("chromedriver")
            .unwrap_or_else(|| panic!("{test}: no chromedriver on the PATH: {INSTALL}"));
        let chromium = ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find_map(on_path)
            .unwrap_or_else(|| panic!("{test}: no chromium on the PATH: {INSTALL}"));
        // Without a Chinese font the pages draw boxes: screenshots no one can read.
        if let Ok(fonts) = Command::new("fc-list")
            .args([":lang=zh", "family"])
            .output()
        {
            assert!(
                fonts.status.success() && !fonts.stdout.is_empty(),
                "{test}: no Chinese font (fc-list :lang=zh finds none): {INSTALL}"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut command = Command::new(&driver);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{test}: cannot start {}: {e}", driver.display()));
        let mut driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            chromium,
            test,
        };
        driver.wait_until_ready().await;
        Some(driver)
    }

    async fn wait_until_ready(&mut self) {
        let status = format!("{}/status", self.url);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("{}: chromedriver stopped at once ({exit})", self.test);
            }
            if let Ok(response) = client.get(&status).send().await
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: chromedriver did not answer on {}",
                self.test,
                self.url
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new phone-sized browser window on `app` (script on), its screenshots under
    /// `<backend>/<test>/` with `label` before each step's name (`""` for a test's only one).
    pub async fn browser(&self, app: &TestApp, label: &str) -> Browser {
        self.open(app, &app.address, label, true).await
    }

    /// As [`Driver::browser`], with JavaScript turned off: a browser where no script runs.
    pub async fn browser_without_script(&self, app: &TestApp, label: &str) -> Browser {
        self.open(app, &app.address, label, false).await
    }

    /// As [`Driver::browser`], reaching the app through `signal` (which the test can cut).
    pub async fn browser_through(&self, app: &TestApp, signal: &Signal, label: &str) -> Browser {
        self.open(app, &signal.address, label, true).await
    }

    async fn open(&self, app: &TestApp, base: &str, label: &str, script: bool) -> Browser {
        let mut prefs = json!({"intl.accept_languages": "zh-CN,zh"});
        if !script {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let capabilities = json!({
            "browserName": "chrome",
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=360,740",
                    "--lang=zh-CN",
                    "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                ],
                "prefs": prefs,
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{}: chromedriver could not start {}: {e} ({INSTALL})",
                    self.test,
                    self.chromium.display()
                )
            });
        let backend = match app.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let shots = target_dir()
            .join("screenshots")
            .join(backend)
            .join(self.test);
        std::fs::create_dir_all(&shots)
            .unwrap_or_else(|e| panic!("create {}: {e}", shots.display()));
        let browser = Browser {
            client,
            base: base.to_owned(),
            shots,
            label: label.to_owned(),
            step: 0,
            script,
        };
        browser.resize(PHONE).await;
        browser
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the browsers it started.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) with the negative id of the group this process made for it.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The phone's signal to the app: a TCP relay in front of it that the test can cut, so that
/// every request of the browser fails as without a signal (the page's and its service
/// worker's alike: the browser's own offline switch reaches only the page). The app itself
/// stays up for the test's API calls.
pub struct Signal {
    /// `http://127.0.0.1:port`: the address the browser uses.
    pub address: String,
    cut: watch::Sender<bool>,
    relay: tokio::task::JoinHandle<()>,
}

impl Signal {
    /// A relay to `app`, carrying traffic until [`Signal::cut`].
    pub async fn to(app: &TestApp) -> Signal {
        let upstream = app.address.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("an address"));
        let (cut, watching) = watch::channel(false);
        let relay = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *watching.borrow() {
                    continue; // dropped at once: the connection closes unanswered
                }
                let mut watching = watching.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        // Kept-alive connections end too when the signal goes.
                        _ = watching.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Signal {
            address,
            cut,
            relay,
        }
    }

    /// No more signal: open connections end, new ones close unanswered.
    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    /// The signal is back.
    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.relay.abort();
    }
}

/// ChromeDriver's network emulation of the page (`navigator.onLine`, the `online` and
/// `offline` events): offline with `Some(true)`, cleared with `None`.
#[derive(Debug)]
struct NetworkConditions(Option<bool>);

impl WebDriverCompatibleCommand for NetworkConditions {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/chromium/network_conditions",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        match self.0 {
            Some(offline) => (
                Method::POST,
                Some(
                    json!({"network_conditions": {
                        "offline": offline, "latency": 0,
                        "download_throughput": 1_000_000, "upload_throughput": 1_000_000}})
                    .to_string(),
                ),
            ),
            None => (Method::DELETE, None),
        }
    }
}

/// Empties the screenshot folder of `test` on every backend before it runs again, so that
/// what is there was taken by the last run.
pub fn clear_screenshots(test: &str) {
    for backend in ["sqlite", "postgres"] {
        let dir = target_dir().join("screenshots").join(backend).join(test);
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// One browser window on the app.
pub struct Browser {
    client: Client,
    base: String,
    shots: PathBuf,
    label: String,
    step: u32,
    /// Whether the pages' scripts run (JavaScript on).
    script: bool,
}

/// What a failed WebDriver step says.
fn failed(what: &str, e: impl std::fmt::Display) -> ! {
    panic!("{what}: {e}")
}

impl Browser {
    /// Opens `path` on the app (`/drives`) and waits until it has loaded.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| failed(&format!("open {path}"), e));
    }

    /// The element `css` names, once it is on the page.
    pub async fn find(&self, css: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => self.give_up(&format!("no `{css}` on the page ({e})")).await,
        }
    }

    /// Fails the test saying `what`, with the page's address and text, and a screenshot of it
    /// (`failed.png`) to look at.
    pub async fn give_up(&self, what: &str) -> ! {
        let path = self.path().await;
        let text = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let shot = self.shots.join(format!("{}failed.png", self.label));
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(&shot, png);
        }
        panic!(
            "{what}\nat {path}, which reads:\n{text}\n(screenshot: {})",
            shot.display()
        )
    }

    /// Whether the page has an element `css` now (no waiting).
    pub async fn has(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
            .is_empty()
    }

    /// Clicks (taps) the element `css` (see [`Browser::click_to_load`] for one that leaves the
    /// page).
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| failed(&format!("click `{css}`"), e));
    }

    /// Clicks the link or button `css` that loads another page (a form post, a link), and
    /// waits until that page has replaced this one (its address may be the same: a refused
    /// form comes back at the address it was posted to).
    pub async fn click_to_load(&self, css: &str) {
        let old = self.find("html").await;
        self.click(css).await;
        let deadline = Instant::now() + PATIENCE;
        // The old page's root goes stale once the new page is in.
        while old.tag_name().await.is_ok() {
            if Instant::now() > deadline {
                self.give_up(&format!("clicking `{css}` loaded no page"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.find("body").await;
    }

    /// Types `text` into the field `css`, replacing what was there.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| failed(&format!("clear `{css}`"), e));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| failed(&format!("type into `{css}`"), e));
    }

    /// Picks the option with `value` in the select `css`.
    pub async fn pick(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| failed(&format!("pick {value} in `{css}`"), e));
    }

    /// The visible text of the element `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| failed(&format!("read `{css}`"), e))
    }

    /// The current value of the field `css`.
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .unwrap_or_else(|e| failed(&format!("read the value of `{css}`"), e))
            .unwrap_or_default()
    }

    /// The attribute `name` of the element `css`.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css)
            .await
            .attr(name)
            .await
            .unwrap_or_else(|e| failed(&format!("read {name} of `{css}`"), e))
    }

    /// The values of the options of the select `css`.
    pub async fn options(&self, css: &str) -> Vec<String> {
        let select = self.find(css).await;
        let mut values = Vec::new();
        for option in select
            .find_all(Locator::Css("option"))
            .await
            .unwrap_or_else(|e| failed(&format!("options of `{css}`"), e))
        {
            values.push(
                option
                    .attr("value")
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
            );
        }
        values
    }

    /// All the text a person sees on the page.
    pub async fn visible_text(&self) -> String {
        self.text("body").await
    }

    /// The page's address now.
    pub async fn url(&self) -> url::Url {
        self.client
            .current_url()
            .await
            .unwrap_or_else(|e| failed("read the address", e))
    }

    /// The page's path and query now (`/bookings/ABC?t=…`).
    pub async fn path(&self) -> String {
        let url = self.url().await;
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the address's path and query satisfy `wanted` (after a click that posts a
    /// form or a dialog that submits one); the address then.
    pub async fn wait_for_path(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let path = self.path().await;
            if wanted(&path) {
                return path;
            }
            if Instant::now() > deadline {
                self.give_up(&format!("never reached {what}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's script has run (`<html class="js">`): htmx and app.js are on.
    pub async fn wait_for_script(&self) {
        self.find("html.js").await;
    }

    /// The text of the dialog the page opened (`window.confirm`), once it is open.
    pub async fn dialog_text(&self) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.client.get_alert_text().await {
                Ok(text) => return text,
                Err(e) => assert!(Instant::now() < deadline, "no dialog opened: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Answers OK to the dialog the page opened.
    pub async fn accept_dialog(&self) {
        self.client
            .accept_alert()
            .await
            .unwrap_or_else(|e| failed("accept the dialog", e));
    }

    /// Answers Cancel to the dialog the page opened.
    pub async fn dismiss_dialog(&self) {
        self.client
            .dismiss_alert()
            .await
            .unwrap_or_else(|e| failed("dismiss the dialog", e));
    }

    /// Scrolls the page until the element `css` is in the middle of the screen.
    pub async fn scroll_to(&self, css: &str) {
        let element = serde_json::to_value(self.find(css).await).expect("an element as JSON");
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![element],
            )
            .await
            .unwrap_or_else(|e| failed(&format!("scroll to `{css}`"), e));
    }

    /// How far below the top of the screen the element `css` is now, in CSS pixels (negative
    /// when scrolled past).
    pub async fn top_of(&self, css: &str) -> f64 {
        let element = serde_json::to_value(self.find(css).await).expect("an element as JSON");
        let top = self
            .client
            .execute(
                "return arguments[0].getBoundingClientRect().top;",
                vec![element],
            )
            .await
            .unwrap_or_else(|e| failed(&format!("locate `{css}`"), e));
        top.as_f64().unwrap_or(f64::NAN)
    }

    /// Runs `script` in the page and returns what it returns.
    pub async fn run(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| {
                let start: String = script.chars().take(80).collect();
                failed(&format!("run `{start}…`"), e)
            })
    }

    /// Sizes the window so that the page gets exactly `size` (the viewport, not the frame).
    /// A busy machine may apply a new size late, so the page's size is waited for (and the
    /// size asked again), never read once and trusted.
    pub async fn resize(&self, (width, height): (u32, u32)) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            // The frame around the page, as the window is now.
            let frame = self
                .run("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];")
                .await;
            let f = |i: usize| frame[i].as_i64().unwrap_or(0).clamp(0, 400) as u32;
            self.client
                .set_window_size(width + f(0), height + f(1))
                .await
                .unwrap_or_else(|e| failed("size the window", e));
            let settle = Instant::now() + Duration::from_secs(1);
            while Instant::now() < settle {
                if self.inner_size().await == (width, height) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let inner = self.inner_size().await;
            assert!(
                Instant::now() < deadline,
                "the page should be {width}x{height}, it is {}x{}",
                inner.0,
                inner.1
            );
        }
    }

    async fn inner_size(&self) -> (u32, u32) {
        let size = self
            .run("return [window.innerWidth, window.innerHeight];")
            .await;
        let n = |i: usize| size[i].as_u64().and_then(|n| u32::try_from(n).ok());
        (n(0).unwrap_or(0), n(1).unwrap_or(0))
    }

    /// Saves a screenshot of what the window shows as `<nn>-<label><step>.png`.
    pub async fn screenshot(&mut self, step: &str) -> PathBuf {
        self.step += 1;
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| failed("take a screenshot", e));
        let path = self
            .shots
            .join(format!("{:02}-{}{step}.png", self.step, self.label));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// The page as a person on the phone sees it: a screenshot, nothing wider than the
    /// screen, and no serious or critical accessibility violation (axe-core).
    pub async fn check(&mut self, step: &str) {
        self.screenshot(step).await;
        let overflow = self
            .run("return document.documentElement.scrollWidth - window.innerWidth;")
            .await;
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "{step}: the page is wider than the screen by {overflow} px"
        );
        self.axe(step).await;
    }

    /// As [`Browser::check`], and a screenshot on a laptop's screen too.
    pub async fn check_wide(&mut self, step: &str) {
        self.check(step).await;
        self.resize(DESKTOP).await;
        self.screenshot(&format!("{step}-wide")).await;
        self.resize(PHONE).await;
    }

    /// Runs axe-core in the page and fails on serious or critical violations, listing them.
    pub async fn axe(&self, step: &str) {
        if !self.script {
            // axe-core's checks wait on the page's timers, which do not run with JavaScript
            // off; the same pages are checked with it on in the other tests.
            return;
        }
        let found = self.axe_violations().await;
        let path = self.path().await;
        assert!(
            found.is_empty(),
            "{step}: serious or critical accessibility violations on {path}:\n{}",
            serde_json::to_string_pretty(&found).unwrap_or_default()
        );
    }

    /// The serious and critical violations axe-core finds in the page: id, impact, help and
    /// the elements. (WebDriver's scripts are not subject to the page's
    /// Content-Security-Policy: axe is injected whatever the page allows.)
    pub async fn axe_violations(&self) -> Vec<Value> {
        self.run(AXE).await;
        let found = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, {resultTypes: ["violations"]})
                  .then((r) => done(r.violations
                    .filter((v) => v.impact === "serious" || v.impact === "critical")
                    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                                  nodes: v.nodes.map((n) => n.target.join(" ") + " — " + n.failureSummary)}))))
                  .catch((e) => done({error: String(e)}));"#,
                vec![],
            )
            .await
            .unwrap_or_else(|e| failed("run axe-core", e));
        match found {
            Value::Array(found) => found,
            other => panic!("axe-core did not run: {other}"),
        }
    }

    /// The phone loses its signal: `signal` is cut and the page is told it is offline.
    pub async fn lose_signal(&self, signal: &Signal) {
        signal.cut();
        self.client
            .issue_cmd(NetworkConditions(Some(true)))
            .await
            .unwrap_or_else(|e| failed("go offline", e));
    }

    /// The signal comes back: `signal` carries traffic again and the page is told it is
    /// online (its `online` event fires).
    pub async fn regain_signal(&self, signal: &Signal) {
        signal.restore();
        self.client
            .issue_cmd(NetworkConditions(None))
            .await
            .unwrap_or_else(|e| failed("go online", e));
    }

    /// Waits until the page's service worker controls it (pages it serves are kept from then).
    pub async fn wait_for_service_worker(&self) {
        let deadline = Instant::now() + PATIENCE;
        while self
            .run("return !!(navigator.serviceWorker && navigator.serviceWorker.controller);")
            .await
            != Value::Bool(true)
        {
            if Instant::now() > deadline {
                self.give_up("no service worker took control of the page")
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many forms wait on the phone (offline.js's queue in IndexedDB), sent or refused.
    pub async fn kept_on_phone(&self) -> i64 {
        let count = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                const open = indexedDB.open("donornet-offline", 1);
                open.onupgradeneeded = () => open.result.createObjectStore("queue",
                  {keyPath: "id", autoIncrement: true});
                open.onerror = () => done(-1);
                open.onsuccess = () => {
                  const count = open.result.transaction("queue").objectStore("queue").count();
                  count.onsuccess = () => { open.result.close(); done(count.result); };
                  count.onerror = () => done(-1);
                };"#,
                vec![],
            )
            .await
            .unwrap_or_else(|e| failed("count the forms kept on the phone", e));
        count.as_i64().unwrap_or(-1)
    }

    /// Taps the element `css` with a finger, `dx` and `dy` CSS pixels right of and below its
    /// centre.
    pub async fn tap(&self, css: &str, dx: f64, dy: f64) {
        let element = self.find(css).await;
        let finger = TouchActions::new("finger".to_owned())
            .then(PointerAction::MoveToElement {
                element,
                duration: None,
                x: dx,
                y: dy,
            })
            .then(PointerAction::Down { button: 0 })
            .then(PointerAction::Up { button: 0 });
        self.client
            .perform_actions(finger)
            .await
            .unwrap_or_else(|e| failed(&format!("tap `{css}`"), e));
    }

    /// Waits until the element `css` reads `wanted` (text that a script changes).
    pub async fn wait_for_text(&self, css: &str, wanted: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let now = self.text(css).await;
            if now.trim() == wanted {
                return;
            }
            if Instant::now() > deadline {
                self.give_up(&format!("`{css}` reads {now:?}, never {wanted:?}"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the browser.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
