use crate::helpers::{Backend, expect_problem, on_each_backend, on_each_backend_with};

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

#[tokio::test]
async fn load_balancer_probes_answer_and_readiness_follows_the_database() {
    on_each_backend(|app| async move {
        let live = app.client.get(app.url("/livez")).send().await.unwrap();
        assert_eq!(live.status(), 200);
        let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200);
        app.db.close_by_ref().await.expect("close the pool");
        let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 503);
        // Still alive: a balancer must not restart a process for its database.
        let live = app.client.get(app.url("/livez")).send().await.unwrap();
        assert_eq!(live.status(), 200);
        app
    })
    .await;
}

const METRICS_TOKEN: &str = "scrape-token-0123456789";

#[tokio::test]
async fn metrics_need_the_token_and_count_requests_by_route_and_rows_by_status() {
    let with_token = || donornet::HttpConfig {
        metrics_token: Some(donornet::config::Secret::new(METRICS_TOKEN)),
        ..donornet::HttpConfig::default()
    };
    on_each_backend_with(with_token, |app| async move {
        let scrape = |token: Option<&str>| {
            let mut request = app.client.get(app.url("/metrics"));
            if let Some(t) = token {
                request = request.bearer_auth(t);
            }
            request.send()
        };
        expect_problem(scrape(None).await.unwrap(), 401, "no token").await;
        expect_problem(scrape(Some("scrape-token-0123456780")).await.unwrap(), 401, "wrong").await;

        // Requests to a templated route are counted under the template, never the path.
        for code in ["411100000000", "411102000000", "999999999999"] {
            app.client
                .get(app.url(&format!("/api/v1/regions/{code}")))
                .send()
                .await
                .unwrap();
        }
        let response = scrape(Some(METRICS_TOKEN)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let text = response.text().await.unwrap();
        let count = |needle: &str| -> f64 {
            text.lines()
                .filter(|l| l.starts_with(needle))
                .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
                .sum()
        };
        assert_eq!(
            count("donornet_http_requests_total{method=\"GET\",route=\"/api/v1/regions/{code}\""),
            3.0,
            "{text}"
        );
        assert!(!text.contains("411102000000"), "paths never become labels");
        assert_eq!(
            count("donornet_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/regions/{code}\"}"),
            3.0
        );
        assert_eq!(count("donornet_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"401\"}"), 2.0);
        // Database counts: a queued or finished plan and a booking show by status.
        assert_eq!(count("donornet_bookings{status=\"active\"}"), 0.0, "{text}");
        assert!(text.contains("donornet_outbox_messages{status=\"pending\"} 0"), "{text}");
        let net = crate::plans::network(&app).await;
        let date = crate::bookings::today() + chrono::Duration::days(10);
        let (_, stop) = crate::bookings::published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            date,
            "09:00",
            "11:30",
        )
        .await;
        crate::bookings::booked(&app, stop, "张三", "138 0000 0001", "09:00").await;
        let text = scrape(Some(METRICS_TOKEN)).await.unwrap().text().await.unwrap();
        assert!(text.contains("donornet_bookings{status=\"active\"} 1"), "{text}");
        assert!(
            !text.contains("donornet_outbox_messages{status=\"pending\"} 0"),
            "a booking's confirmation waits in the outbox: {text}"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn metrics_are_not_served_without_a_configured_token() {
    on_each_backend(|app| async move {
        let response = app
            .client
            .get(app.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        expect_problem(response, 404, "metrics off").await;
        app
    })
    .await;
}
