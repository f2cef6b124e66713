use crate::helpers::{Backend, expect_problem, on_each_backend};

#[tokio::test]
async fn health_reports_the_backend_and_version() {
    on_each_backend(|app| async move {
        let body = app.get_ok("/health").await;
        assert_eq!(body["status"], "ok");
        let expected = match app.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        assert_eq!(body["database"], expected);
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
        app
    })
    .await;
}

#[tokio::test]
async fn health_is_503_when_the_database_is_unreachable() {
    on_each_backend(|app| async move {
        app.db.close_by_ref().await.expect("close the pool");
        let (status, body) = app.get_json("/health").await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["status"], "unavailable");
        // Other routes answer with a problem, not a 500.
        let response = app
            .client
            .get(app.url("/api/v1/regions"))
            .send()
            .await
            .unwrap();
        expect_problem(response, 503, "a listing while the database is down").await;
        app
    })
    .await;
}

/// A run without `TEST_DATABASE_URL` says once that PostgreSQL was skipped: this test binary
/// is run again on the two tests above, without it.
#[test]
fn a_run_without_test_database_url_says_once_that_postgresql_was_skipped() {
    let out = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["health::health_", "--test-threads", "2"])
        .env_remove("TEST_DATABASE_URL")
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("2 passed"), "{stdout}");
    assert_eq!(
        stderr.matches("PostgreSQL skipped").count(),
        1,
        "stderr: {stderr}"
    );
}
