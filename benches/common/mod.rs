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
