//! Command line and environment configuration (clap). Flags win over environment variables,
//! which win over the defaults.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The default database: a SQLite file in the working directory, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://donornet.db?mode=rwc";

#[derive(Debug, Parser)]
#[command(
    name = "donornet",
    version,
    about = "The rural blood-donor network of a city blood station"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, load the demo data into an empty database, and serve HTTP.
    Serve(ServeArgs),
    /// Apply pending migrations (or list them with --status).
    Migrate {
        #[command(flatten)]
        db: DatabaseArgs,
        /// List applied and pending migrations instead of applying them.
        #[arg(long)]
        status: bool,
    },
    /// Load the demo county from seed-data/ (idempotent).
    SeedDemo {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Load a division table (code,name,level,parent_code; .csv or .csv.gz): all or nothing.
    ImportDivisions {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The CSV file, optionally gzip-compressed (`.gz`).
        file: PathBuf,
        /// Never draw a progress bar, even on a terminal.
        #[arg(long)]
        no_progress: bool,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Solve a plan instance file and print the plan as JSON, or check a plan against it; or
    /// write the instance the API would solve for a plan request (--export-instance).
    Plan(PlanArgs),
    /// Copy the whole database to FILE while `serve` may keep running: SQLite's `VACUUM INTO`,
    /// or `pg_dump --format=custom` for PostgreSQL (README, "Backups"). Never overwrites FILE.
    Backup {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Where to write the copy (must not exist yet).
        file: PathBuf,
        /// The `pg_dump` program to run for PostgreSQL (a path or a name on the PATH).
        #[arg(long, default_value = "pg_dump", value_name = "PROGRAM")]
        pg_dump: String,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["instance", "export_instance"])))]
pub struct PlanArgs {
    /// The instance to solve (JSON, format `donornet.plan-instance.v2` or v1; see the README).
    #[arg(long, value_name = "FILE.json")]
    pub instance: Option<PathBuf>,
    /// Instead of solving: read a plan request (the body of `POST /api/v1/plans`), build its
    /// instance from the database exactly as the API does, and write the instance JSON.
    #[arg(long, value_name = "REQUEST.json", conflicts_with_all = ["check", "exact"])]
    pub export_instance: Option<PathBuf>,
    /// The database --export-instance reads.
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Check this plan (format `donornet.plan.v1`) against the instance instead of solving:
    /// print its times, totals and every broken rule; exit status 1 when it breaks any.
    #[arg(long, value_name = "PLAN.json")]
    pub check: Option<PathBuf>,
    /// The search's random seed: the same instance and seed give the same plan.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Improvement iterations (default: chosen from the instance's size).
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Stop the search after this many seconds, whatever the iterations (the same default as
    /// `time_limit_secs` of `POST /api/v1/plans`).
    #[arg(long, default_value_t = crate::plans::request::DEFAULT_TIME_LIMIT_SECS)]
    pub time_limit: u64,
    /// Write the JSON here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Solve exactly by exhaustive search (tiny instances only: at most 16 sites, each visited
    /// at most once, no fixed stops), to measure the planner against the optimum.
    #[arg(long, conflicts_with = "check")]
    pub exact: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from standard input.
    Add {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The username (3-32 of a-z 0-9 . _ -).
        name: String,
        /// admin, station_staff, township_official or viewer.
        #[arg(long)]
        role: String,
        /// A region (12-digit code) the account is bound to; repeat for several. Required for
        /// every role but admin (an admin without regions reaches everything).
        #[arg(long = "region")]
        regions: Vec<String>,
        /// The name shown in the interface (default: the username).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input (required: passwords are
        /// never taken as arguments, which other users can see).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Disable an account: it cannot sign in, its sessions end and its tokens stop working.
    Disable {
        #[command(flatten)]
        db: DatabaseArgs,
        name: String,
    },
    /// Lift the sign-in lock that 5 failed sign-ins within 15 minutes put on an account, so its
    /// owner may sign in again at once.
    Unlock {
        #[command(flatten)]
        db: DatabaseArgs,
        name: String,
    },
    /// Set an account's password, read from standard input; ends its sessions.
    Passwd {
        #[command(flatten)]
        db: DatabaseArgs,
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it (once: only its digest is stored).
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// What the token is for, e.g. "nightly survey sync".
        name: String,
        /// The account the token acts as.
        #[arg(long)]
        user: String,
        /// Days until the token stops working (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
    },
}

/// Where the database is. Every subcommand that touches it takes these.
#[derive(Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DONORNET_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Maximum pooled connections (default: 8 for SQLite, 16 for PostgreSQL).
    #[arg(long, env = "DONORNET_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<u32>,
}

impl fmt::Debug for DatabaseArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseArgs")
            .field("database_url", &redact_url(&self.database_url))
            .field("db_max_connections", &self.db_max_connections)
            .finish()
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "DONORNET_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Do not load the demo data, even into an empty database.
    #[arg(long, env = "DONORNET_NO_DEMO")]
    pub no_demo: bool,
    #[command(flatten)]
    pub http: HttpConfig,
    #[command(flatten)]
    pub outbox: OutboxConfig,
}

/// How messages to donors (booking confirmations, reminders, cancellations) leave.
#[derive(Debug, Clone, Args)]
pub struct OutboxConfig {
    /// `log`: messages stay in the outbox table and are written to the log (for a station
    /// that sends them by hand or has no gateway yet); `webhook`: each is POSTed as JSON to
    /// --outbox-webhook-url (an SMS gateway).
    #[arg(long, env = "DONORNET_OUTBOX_SENDER", default_value = "log", value_parser = ["log", "webhook"])]
    pub outbox_sender: String,
    /// Where the webhook sender posts (plain `http://`, e.g. a gateway on the station's
    /// network).
    #[arg(
        long,
        env = "DONORNET_OUTBOX_WEBHOOK_URL",
        required_if_eq("outbox_sender", "webhook")
    )]
    pub outbox_webhook_url: Option<String>,
    /// Seconds between two runs of the outbox (reminders due, messages to send).
    #[arg(long, env = "DONORNET_OUTBOX_INTERVAL_SECS", default_value_t = 30)]
    pub outbox_interval_secs: u64,
    /// Where appeals to chat groups are posted: WeCom's group-robot webhook (`https://`; each
    /// group's key is added as `?key=`). Whatever --outbox-sender is, these go here.
    #[arg(
        long,
        env = "DONORNET_WECOM_WEBHOOK_URL",
        default_value = crate::appeals::wecom::DEFAULT_URL
    )]
    pub wecom_webhook_url: String,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            outbox_sender: "log".to_owned(),
            outbox_webhook_url: None,
            outbox_interval_secs: 30,
            wecom_webhook_url: crate::appeals::wecom::DEFAULT_URL.to_owned(),
        }
    }
}

/// Limits of the HTTP layer.
#[derive(Debug, Clone, Args)]
pub struct HttpConfig {
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "DONORNET_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// Longest a request may take before it is answered 503 Service Unavailable, in seconds.
    #[arg(long, env = "DONORNET_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Mark the session cookie `Secure` and expect `https://` origins in the CSRF Origin check
    /// (set it when users reach the service over HTTPS). With --trust-forwarded both also apply
    /// to requests a proxy says came over HTTPS.
    #[arg(long, env = "DONORNET_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Behind a reverse proxy: take the client's address from the last `X-Forwarded-For`
    /// entry, and the scheme and host from `X-Forwarded-Proto` / `X-Forwarded-Host` (login
    /// throttling, `Secure` cookies, the Origin check). Only set this when the proxy sets them.
    #[arg(long, env = "DONORNET_TRUST_FORWARDED")]
    pub trust_forwarded: bool,
    /// Anonymous bookings (new, cancel, reschedule) each client address may make per minute;
    /// beyond it 429 with `Retry-After`. Mobile carriers put many phones behind one address,
    /// so keep it well above one person's needs. 0 turns the limit off (load tests).
    #[arg(long, env = "DONORNET_BOOKING_RATE_LIMIT", default_value_t = 30)]
    pub booking_rate_limit: u32,
    /// Places one mobile may hold at once through the public booking (active bookings at
    /// drives not yet over, groups counted by headcount; bookings staff confirmed do not
    /// count); beyond it 409 naming the mobile. 0 turns the cap off.
    #[arg(long, env = "DONORNET_BOOKING_PLACES_PER_MOBILE", default_value_t = 20)]
    pub booking_places_per_mobile: u32,
    /// Places one client address may hold at once through the public booking, counted as
    /// for a mobile; beyond it 409 naming `client_address`. Many phones share a carrier's
    /// address, so keep it above one village's needs. 0 turns the cap off.
    #[arg(
        long,
        env = "DONORNET_BOOKING_PLACES_PER_ADDRESS",
        default_value_t = 40
    )]
    pub booking_places_per_address: u32,
    /// Messages one mobile may be sent in 24 hours because of public requests (confirmations,
    /// moves, cancellations, request receipts); beyond it they are recorded as `suppressed`
    /// and never sent. Reminders and messages caused by staff are always sent (and count).
    /// 0 turns the cap off.
    #[arg(
        long,
        env = "DONORNET_MESSAGES_PER_RECIPIENT_PER_DAY",
        default_value_t = 5
    )]
    pub messages_per_recipient_per_day: u32,
    /// The pages' map background: `none` (townships, villages and points on a plain
    /// background with a scale bar; nothing is loaded from elsewhere), `osm`,
    /// `tianditu:KEY`, `amap` (GCJ-02 tiles: points are shifted for display), or a URL
    /// template with its coordinate system, `wgs84:https://…/{z}/{x}/{y}.png` or
    /// `gcj02:https://…`.
    #[arg(long, env = "DONORNET_TILES", default_value = "none", value_parser = TileSource::parse)]
    pub tiles: TileSource,
    /// The address donors reach this site at (`https://donors.example.cn`, or with a path
    /// prefix): the text messages written when a booking is made or moved then carry the link
    /// to its page (`/bookings/{code}?t=…`). Without it they give the booking code only.
    #[arg(long, env = "DONORNET_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// The bearer token a Prometheus scraper sends to read `GET /metrics`
    /// (`Authorization: Bearer …`; 16 characters or more). Without it `/metrics` answers 404.
    #[arg(long, env = "DONORNET_METRICS_TOKEN", value_parser = parse_metrics_token)]
    pub metrics_token: Option<Secret>,
}

/// A secret from the configuration: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// True when `offered` is the secret, comparing every byte whatever differs first.
    pub fn matches(&self, offered: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), offered.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

fn parse_metrics_token(raw: &str) -> Result<Secret, String> {
    let raw = raw.trim();
    if raw.chars().count() < 16 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("at least 16 characters, without spaces".to_owned());
    }
    Ok(Secret(raw.to_owned()))
}

/// Reads `--public-url`: an absolute `http://` or `https://` address with a host and no query
/// or fragment; any trailing `/` is dropped.
///
/// # Errors
/// Anything else, saying what.
pub fn parse_public_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let parsed = url::Url::parse(raw).map_err(|e| format!("{raw:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!("{raw:?}: must be an http:// or https:// address"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err(format!(
            "{raw:?}: must be the site's address alone (no user, query or fragment)"
        ));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// Where the pages' maps take their background from (`--tiles`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TileSource {
    /// No tiles.
    #[default]
    None,
    /// OpenStreetMap's tile servers.
    Osm,
    /// Tianditu (天地图): vector tiles and their annotation layer; needs the station's key.
    Tianditu { key: String },
    /// AMap (高德), in GCJ-02.
    Amap,
    /// A URL template (`{z}`, `{x}`, `{y}`, optionally `{s}`) in WGS-84 or GCJ-02.
    Custom { template: String, gcj02: bool },
}

/// One tile layer as Leaflet takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileLayer {
    pub template: String,
    /// Leaflet's `subdomains` (each character one), empty for none.
    pub subdomains: String,
    pub attribution: String,
}

impl TileSource {
    /// Reads `--tiles`.
    ///
    /// # Errors
    /// Anything but the forms listed on the flag.
    pub fn parse(raw: &str) -> Result<TileSource, String> {
        let raw = raw.trim();
        let template = |t: &str, gcj02: bool| {
            let ok = (t.starts_with("https://") || t.starts_with("http://"))
                && ["{z}", "{x}", "{y}"].iter().all(|p| t.contains(p));
            if ok {
                Ok(TileSource::Custom {
                    template: t.to_owned(),
                    gcj02,
                })
            } else {
                Err(format!(
                    "a tile URL template must be http(s) and hold {{z}}, {{x}} and {{y}}: {t}"
                ))
            }
        };
        match raw {
            "none" | "" => Ok(TileSource::None),
            "osm" => Ok(TileSource::Osm),
            "amap" => Ok(TileSource::Amap),
            _ => {
                if let Some(key) = raw.strip_prefix("tianditu:") {
                    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                        return Err("tianditu:KEY needs the station's Tianditu key".to_owned());
                    }
                    Ok(TileSource::Tianditu {
                        key: key.to_owned(),
                    })
                } else if let Some(t) = raw.strip_prefix("wgs84:") {
                    template(t, false)
                } else if let Some(t) = raw.strip_prefix("gcj02:") {
                    template(t, true)
                } else {
                    Err(format!(
                        "--tiles takes none, osm, tianditu:KEY, amap, wgs84:URL or gcj02:URL, not {raw:?}"
                    ))
                }
            }
        }
    }

    /// True when the tiles are drawn in GCJ-02 (points are shifted to it for display, and
    /// clicks shifted back).
    pub fn gcj02(&self) -> bool {
        matches!(
            self,
            TileSource::Amap | TileSource::Custom { gcj02: true, .. }
        )
    }

    /// The layers to draw, bottom first (none for `none`).
    pub fn layers(&self) -> Vec<TileLayer> {
        let layer = |template: String, subdomains: &str, attribution: &str| TileLayer {
            template,
            subdomains: subdomains.to_owned(),
            attribution: attribution.to_owned(),
        };
        match self {
            TileSource::None => vec![],
            TileSource::Osm => vec![layer(
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png".to_owned(),
                "",
                "© OpenStreetMap contributors",
            )],
            TileSource::Tianditu { key } => ["vec", "cva"]
                .iter()
                .map(|name| {
                    layer(
                        format!(
                            "https://t{{s}}.tianditu.gov.cn/{name}_w/wmts?SERVICE=WMTS&REQUEST=GetTile\
                             &VERSION=1.0.0&LAYER={name}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles\
                             &TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
                        ),
                        "01234567",
                        "© 天地图",
                    )
                })
                .collect(),
            TileSource::Amap => vec![layer(
                "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
                    .to_owned(),
                "1234",
                "© 高德地图",
            )],
            TileSource::Custom { template, .. } => vec![layer(template.clone(), "abc", "")],
        }
    }

    /// The origins the pages' Content-Security-Policy lets images come from.
    pub fn image_sources(&self) -> Vec<String> {
        match self {
            TileSource::None => vec![],
            TileSource::Osm => vec!["https://tile.openstreetmap.org".to_owned()],
            TileSource::Tianditu { .. } => vec!["https://*.tianditu.gov.cn".to_owned()],
            TileSource::Amap => vec!["https://*.is.autonavi.com".to_owned()],
            TileSource::Custom { template, .. } => {
                url::Url::parse(&template.replace("{s}", "a").replace(['{', '}'], ""))
                    .ok()
                    .and_then(|u| {
                        let host = template
                            .split("://")
                            .nth(1)?
                            .split('/')
                            .next()?
                            .replace("{s}", "*");
                        Some(format!("{}://{host}", u.scheme()))
                    })
                    .into_iter()
                    .collect()
            }
        }
    }
}

impl HttpConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            request_timeout_secs: 30,
            secure_cookies: false,
            trust_forwarded: false,
            booking_rate_limit: 30,
            booking_places_per_mobile: 20,
            booking_places_per_address: 40,
            messages_per_recipient_per_day: 5,
            tiles: TileSource::None,
            public_url: None,
            metrics_token: None,
        }
    }
}

/// The URL with any password replaced by `***`, for logs and `Debug`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example/donornet"),
            "postgres://app:***@db.example/donornet"
        );
        assert_eq!(redact_url(DEFAULT_DATABASE_URL), DEFAULT_DATABASE_URL);
    }

    #[test]
    fn tile_sources_read_as_documented() {
        assert_eq!(TileSource::parse("none"), Ok(TileSource::None));
        assert_eq!(TileSource::parse("osm"), Ok(TileSource::Osm));
        assert!(TileSource::parse("amap").unwrap().gcj02());
        let t = TileSource::parse("tianditu:abc123").unwrap();
        assert_eq!(t.layers().len(), 2);
        assert!(
            t.layers()[0].template.ends_with("tk=abc123"),
            "{:?}",
            t.layers()
        );
        assert_eq!(t.image_sources(), ["https://*.tianditu.gov.cn"]);
        let c = TileSource::parse("gcj02:https://{s}.tiles.example.cn/{z}/{x}/{y}.png").unwrap();
        assert!(c.gcj02());
        assert_eq!(c.image_sources(), ["https://*.tiles.example.cn"]);
        for bad in [
            "tianditu:",
            "google",
            "wgs84:ftp://x/{z}/{x}/{y}",
            "wgs84:https://x/{z}",
        ] {
            assert!(TileSource::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_public_url_is_an_address_without_a_trailing_slash() {
        assert_eq!(
            parse_public_url(" https://donors.example.cn/ "),
            Ok("https://donors.example.cn".to_owned())
        );
        assert_eq!(
            parse_public_url("http://10.0.0.2:8080/donornet/"),
            Ok("http://10.0.0.2:8080/donornet".to_owned())
        );
        for bad in [
            "donors.example.cn",
            "ftp://donors.example.cn",
            "https://donors.example.cn/?a=1",
            "https://u@donors.example.cn",
            "",
        ] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
