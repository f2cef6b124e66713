//! Shared by the benchmarks.

use sea_orm::DatabaseConnection;

/// A client acting as an unbound admin, through a fresh API token (the API needs
/// credentials; the token check is part of every measured request, as in production).
pub async fn admin_client(conn: &DatabaseConnection) -> reqwest::Client {
    const NAME: &str = "bench-admin";
    if donornet::store::accounts::find_user_by_name(conn, NAME)
        .await
        .expect("look up the bench account")
        .is_none()
    {
        let password = donornet::auth::secret::random_hex().expect("random");
        donornet::admin::add_user(conn, NAME, None, "admin", &[], &password)
            .await
            .expect("create the bench account");
    }
    let name = format!(
        "bench {}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    let token = donornet::admin::create_token(conn, &name, NAME, Some(1))
        .await
        .expect("create the bench token");
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

/// The national division table (665,271 rows): `DONORNET_NATIONAL_DIVISIONS` if set, else
/// `../shared/seed-data-source/china-divisions-2023.csv.gz` beside the repository (BENCHMARKS.md
/// says where to get it). `None`, after saying so on standard error, when the file is missing:
/// the benchmark then stops without measuring anything.
#[allow(dead_code)] // not every benchmark reads the national table
pub fn national_divisions() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("DONORNET_NATIONAL_DIVISIONS").map_or_else(
        || {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/seed-data-source/china-divisions-2023.csv.gz")
        },
        std::path::PathBuf::from,
    );
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "skipped: the national division table {} is missing; set DONORNET_NATIONAL_DIVISIONS \
             to china-divisions-2023.csv.gz (BENCHMARKS.md says where to get it)",
            path.display()
        );
        None
    }
}
