//! Signing in and what comes with it: sessions and the CSRF rule, API tokens (expiry,
//! revocation), login throttling, account management, attribution in the audit log, and what
//! anonymous callers see.

use chrono::{TimeDelta, Utc};
use reqwest::{Client, Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, bearer_client, expect_problem, on_each_backend, user_with_token};

const PASSWORD: &str = "correct horse battery";

async fn login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.anonymous
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

/// The session cookie (`name=value`) a login response set, and the whole header.
fn session_cookie(response: &reqwest::Response) -> (String, String) {
    let header = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let pair = header.split(';').next().unwrap().trim().to_owned();
    (pair, header)
}

/// A client signed in as `username` (password [`PASSWORD`]) through a browser session: it
/// sends the session cookie and this site's `Origin`, as a browser would.
async fn session_client(app: &TestApp, username: &str) -> Client {
    let response = login(app, username, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (cookie, _) = session_cookie(&response);
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", cookie.parse().unwrap());
    headers.insert("origin", app.address.parse().unwrap());
    Client::builder().default_headers(headers).build().unwrap()
}

#[tokio::test]
async fn a_browser_session_signs_in_needs_origin_or_csrf_for_changes_and_signs_out() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        user_with_token(&app.db, "wang.fang", "township_official", &["990101101000"], Some(PASSWORD)).await;

        let wrong = login(&app, "wang.fang", "not the password").await;
        let problem = expect_problem(wrong, 401, "a wrong password").await;
        assert_eq!(problem["detail"], "wrong username or password");

        // Usernames are not case-sensitive.
        let response = login(&app, "Wang.Fang", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let (cookie, header) = session_cookie(&response);
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=604800"] {
            assert!(header.contains(attribute), "{header}");
        }
        assert!(!header.contains("Secure"), "plain HTTP by default: {header}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["username"], "wang.fang");
        assert_eq!(body["user"]["role"], "township_official");
        assert_eq!(body["user"]["regions"], json!(["990101101000"]));
        assert!(body["user"]["last_login_at"].is_string());
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();

        let with_cookie = |method: Method, path: &str| {
            app.anonymous
                .request(method, app.url(path))
                .header("cookie", &cookie)
        };
        let me: Value = with_cookie(Method::GET, "/api/v1/auth/me")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["via"], "session");
        assert_eq!(me["csrf_token"], csrf.as_str());

        let point = json!({"name": "东岭镇献血点", "kind": "township", "region_code": "990101101000",
                           "longitude": 114.02, "latitude": 33.66});
        // A change with the cookie alone (what a cross-site form would send) is refused…
        let response = with_cookie(Method::POST, "/api/v1/points").json(&point).send().await.unwrap();
        expect_problem(response, 403, "cookie without Origin or CSRF token").await;
        let response = with_cookie(Method::POST, "/api/v1/points")
            .header("origin", "https://evil.example")
            .json(&point)
            .send()
            .await
            .unwrap();
        expect_problem(response, 403, "a foreign Origin").await;
        let response = with_cookie(Method::POST, "/api/v1/points")
            .header("x-csrf-token", "0".repeat(64))
            .json(&point)
            .send()
            .await
            .unwrap();
        expect_problem(response, 403, "a wrong CSRF token").await;
        // …and goes through with this site's Origin, or with the session's CSRF token.
        let origin = app.address.clone();
        let response = with_cookie(Method::POST, "/api/v1/points")
            .header("origin", &origin)
            .json(&point)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["created_by"], "wang.fang");
        let response = with_cookie(Method::POST, "/api/v1/points")
            .header("x-csrf-token", &csrf)
            .json(&json!({"name": "西河乡献血点", "kind": "township", "region_code": "990101101000",
                          "longitude": 114.02, "latitude": 33.66}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);

        // Signing out ends the session and clears the cookie.
        let response = with_cookie(Method::POST, "/api/v1/auth/logout")
            .header("origin", &origin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(response.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
        let response = with_cookie(Method::GET, "/api/v1/auth/me").send().await.unwrap();
        expect_problem(response, 401, "a session after logout").await;
        let response = with_cookie(Method::POST, "/api/v1/points")
            .header("origin", &origin)
            .json(&point)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 401, "a change after logout").await;
        assert!(problem["detail"].as_str().unwrap().contains("sign in"), "{problem}");
        app
    })
    .await;
}

#[tokio::test]
async fn sessions_end_when_idle_too_long_or_past_their_lifetime() {
    on_each_backend(|app| async move {
        user_with_token(&app.db, "li.na", "admin", &[], Some(PASSWORD)).await;
        let mut cookies = Vec::new();
        for _ in 0..2 {
            let response = login(&app, "li.na", PASSWORD).await;
            cookies.push(session_cookie(&response).0);
        }
        let sessions = entity::session::Entity::find().all(&app.db).await.unwrap();
        assert_eq!(sessions.len(), 2);
        // Idle for 8 hours, and past the absolute end, respectively.
        let now = Utc::now();
        entity::session::Entity::update_many()
            .col_expr(
                entity::session::Column::LastSeenAt,
                sea_orm::sea_query::Expr::value(now - TimeDelta::hours(8)),
            )
            .filter(entity::session::Column::TokenHash.eq(sessions[0].token_hash.clone()))
            .exec(&app.db)
            .await
            .unwrap();
        entity::session::Entity::update_many()
            .col_expr(
                entity::session::Column::ExpiresAt,
                sea_orm::sea_query::Expr::value(now - TimeDelta::seconds(1)),
            )
            .filter(entity::session::Column::TokenHash.eq(sessions[1].token_hash.clone()))
            .exec(&app.db)
            .await
            .unwrap();
        for cookie in &cookies {
            let response = app
                .anonymous
                .get(app.url("/api/v1/auth/me"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            expect_problem(response, 401, "an ended session").await;
        }
        app
    })
    .await;
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_configured() {
    for backend in crate::helpers::backends() {
        let http = donornet::HttpConfig {
            secure_cookies: true,
            ..donornet::HttpConfig::default()
        };
        let app = TestApp::spawn_with(backend, http).await;
        user_with_token(&app.db, "li.na", "admin", &[], Some(PASSWORD)).await;
        let response = login(&app, "li.na", PASSWORD).await;
        let (_, header) = session_cookie(&response);
        assert!(header.contains("Secure"), "{header}");
        app.stop().await;
    }
}

#[tokio::test]
async fn api_tokens_are_shown_once_listed_without_secret_and_stop_when_revoked_or_expired() {
    on_each_backend(|app| async move {
        user_with_token(&app.db, "ops", "admin", &[], Some(PASSWORD)).await;
        let session = session_client(&app, "ops").await;
        let new_token = |body: Value| {
            let request = session.post(app.url("/api/v1/tokens")).json(&body);
            async move { request.send().await.unwrap() }
        };
        // Tokens are made from a session, not with another token.
        let response = app
            .send_json(
                Method::POST,
                "/api/v1/tokens",
                &json!({"name": "minted"}),
                None,
            )
            .await;
        expect_problem(response, 403, "a token minting a token").await;
        let response = new_token(json!({"name": "nightly sync", "expires_in_days": 30})).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let created: Value = response.json().await.unwrap();
        let secret = created["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("dn_") && secret.len() == 67, "{secret}");
        assert_eq!(created["username"], "ops");
        let expires =
            chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().unwrap()).unwrap();
        let days = (expires.with_timezone(&Utc) - Utc::now()).num_days();
        assert!((29..=30).contains(&days), "{created}");

        // A second live token of the same name is refused.
        let response = new_token(json!({"name": "nightly sync"})).await;
        let problem = expect_problem(response, 409, "a duplicate token name").await;
        assert_eq!(problem["errors"][0]["field"], "name");
        for (body, field) in [
            (json!({"name": ""}), "name"),
            (
                json!({"name": "x", "expires_in_days": 0}),
                "expires_in_days",
            ),
            (
                json!({"name": "x", "expires_in_days": 4000}),
                "expires_in_days",
            ),
            (json!({"name": "n".repeat(51)}), "name"),
            (json!({"name": "nightly\u{202E}cnys"}), "name"),
        ] {
            let response = new_token(body.clone()).await;
            let problem = expect_problem(response, 400, &body.to_string()).await;
            assert_eq!(problem["errors"][0]["field"], field);
        }

        let script = bearer_client(&secret);
        let me: Value = script
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["via"], "token");
        assert_eq!(me["user"]["username"], "ops");

        // Listed with its last use, never with its secret (nor its digest).
        let listed = app.get_ok("/api/v1/tokens").await;
        let text = listed.to_string();
        assert!(!text.contains(&secret[3..]), "{text}");
        let mine = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == created["id"])
            .unwrap();
        assert!(mine["last_used_at"].is_string(), "{mine}");
        assert!(mine.get("secret").is_none() && mine.get("token_hash").is_none());

        // Revoked: 401 at once; the name can be reused.
        let response = app
            .client
            .delete(app.url(&format!("/api/v1/tokens/{}", created["id"])))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let response = script.get(app.url("/api/v1/points")).send().await.unwrap();
        let problem = expect_problem(response, 401, "a revoked token").await;
        assert!(problem["detail"].as_str().unwrap().contains("revoked"));
        let response = new_token(json!({"name": "nightly sync", "expires_in_days": 1})).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let again: Value = response.json().await.unwrap();

        // Expired: 401.
        entity::api_token::Entity::update_many()
            .col_expr(
                entity::api_token::Column::ExpiresAt,
                sea_orm::sea_query::Expr::value(Utc::now() - TimeDelta::seconds(1)),
            )
            .filter(entity::api_token::Column::Id.eq(again["id"].as_i64().unwrap()))
            .exec(&app.db)
            .await
            .unwrap();
        let expired = bearer_client(again["secret"].as_str().unwrap());
        let response = expired.get(app.url("/api/v1/points")).send().await.unwrap();
        expect_problem(response, 401, "an expired token").await;

        // Made-up and malformed credentials: 401 with a challenge.
        for header in ["Bearer dn_0000", "Bearer not-ours", "Basic cm9vdDpyb290"] {
            let response = app
                .anonymous
                .get(app.url("/api/v1/points"))
                .header("authorization", header)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer realm=\"donornet\""
            );
            expect_problem(response, 401, header).await;
        }

        // Someone else's token is not theirs to see or revoke.
        let other = app.client_for("viewer", "viewer", &[]).await;
        let listed: Value = other
            .get(app.url("/api/v1/tokens"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["username"] == "viewer"),
            "{listed}"
        );
        let response = other
            .delete(app.url(&format!("/api/v1/tokens/{}", again["id"])))
            .send()
            .await
            .unwrap();
        expect_problem(response, 404, "another user's token").await;
        app
    })
    .await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_user_without_telling_whether_it_exists() {
    on_each_backend(|app| async move {
        user_with_token(&app.db, "zhao.lei", "viewer", &[], Some(PASSWORD)).await;
        let mut answers = Vec::new();
        for username in ["zhao.lei", "no.such.user"] {
            let mut seen = Vec::new();
            for _ in 0..5 {
                let response = login(&app, username, "wrong password").await;
                let status = response.status().as_u16();
                seen.push((status, response.text().await.unwrap()));
            }
            // The sixth attempt is refused even with the right password.
            let response = login(&app, username, PASSWORD).await;
            assert_eq!(
                response.status(),
                StatusCode::TOO_MANY_REQUESTS,
                "{username}"
            );
            let retry: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=900).contains(&retry), "{retry}");
            let status = response.status().as_u16();
            seen.push((status, response.text().await.unwrap()));
            answers.push(seen);
        }
        // An existing and a missing user get the very same answers.
        assert_eq!(answers[0], answers[1]);
        assert!(answers[0][..5].iter().all(|(s, _)| *s == 401));
        // Once the window has passed, the user can sign in again.
        entity::login_failure::Entity::update_many()
            .col_expr(
                entity::login_failure::Column::At,
                sea_orm::sea_query::Expr::value(Utc::now() - TimeDelta::minutes(16)),
            )
            .exec(&app.db)
            .await
            .unwrap();
        assert_eq!(
            login(&app, "zhao.lei", PASSWORD).await.status(),
            StatusCode::OK
        );
        app
    })
    .await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_address() {
    on_each_backend(|app| async move {
        user_with_token(&app.db, "zhao.lei", "viewer", &[], Some(PASSWORD)).await;
        // Twenty failures spread over usernames (four each: no user reaches its own limit).
        for i in 0..20 {
            let response = login(&app, &format!("guess{}", i / 4), "wrong password").await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
        }
        let response = login(&app, "zhao.lei", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(response.headers().contains_key("retry-after"));
        app
    })
    .await;
}

#[tokio::test]
async fn admins_manage_accounts_inside_their_regions() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let city_admin = app.client_for("city.admin", "admin", &["411100000000"]).await;
        let create = |client: &Client, body: Value| {
            let request = client.post(app.url("/api/v1/users")).json(&body);
            async move { request.send().await.unwrap() }
        };
        let official = json!({"username": "Sun.Li", "display_name": "孙丽", "role": "township_official",
                              "regions": ["411103101000"], "password": PASSWORD});
        let response = create(&city_admin, official.clone()).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let sun: Value = response.json().await.unwrap();
        assert_eq!(sun["username"], "sun.li");
        assert!(sun.get("password").is_none() && sun.get("password_hash").is_none());
        expect_problem(create(&city_admin, official.clone()).await, 409, "a taken username").await;

        for (body, field) in [
            (json!({"username": "x", "display_name": "x", "role": "viewer", "regions": ["411103101000"], "password": PASSWORD}), "username"),
            (json!({"username": "short.pw", "display_name": "x", "role": "viewer", "regions": ["411103101000"], "password": "short"}), "password"),
            (json!({"username": "no.region", "display_name": "x", "role": "viewer", "regions": [], "password": PASSWORD}), "regions"),
            (json!({"username": "bad.region", "display_name": "x", "role": "viewer", "regions": ["411199999999"], "password": PASSWORD}), "regions[0]"),
            (json!({"username": "bad.role", "display_name": "x", "role": "mayor", "regions": [], "password": PASSWORD}), "role"),
        ] {
            let problem = expect_problem(create(&app.client, body.clone()).await, 400, &body.to_string()).await;
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
        // A city's admin cannot create accounts beyond the city, nor unbound ones.
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        for regions in [json!(["990100000000"]), json!([])] {
            let body = json!({"username": "far.away", "display_name": "x", "role": "admin", "regions": regions, "password": PASSWORD});
            expect_problem(create(&city_admin, body).await, 403, "outside the admin's city").await;
        }
        let outsider = app.client_for("demo.viewer", "viewer", &["990100000000"]).await;
        let root_made: Value = app.client.get(app.url("/api/v1/users")).send().await.unwrap().json().await.unwrap();
        assert_eq!(root_made["items"].as_array().unwrap().len(), 4, "{root_made}");
        let listed: Value = city_admin.get(app.url("/api/v1/users")).send().await.unwrap().json().await.unwrap();
        let names: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert_eq!(names, ["city.admin", "sun.li"], "only accounts inside the city");
        let demo_id = root_made["items"][3]["id"].as_i64().unwrap();
        let response = city_admin.get(app.url(&format!("/api/v1/users/{demo_id}"))).send().await.unwrap();
        expect_problem(response, 404, "an account outside the city").await;
        expect_problem(outsider.get(app.url("/api/v1/users")).send().await.unwrap(), 403, "a viewer").await;

        // Disabling needs If-Match, ends the account's use at once, and is audited.
        let sun_token = user_token(&app, "sun.li").await;
        let sun_client = bearer_client(&sun_token);
        assert_eq!(sun_client.get(app.url("/api/v1/points")).send().await.unwrap().status(), StatusCode::OK);
        let path = format!("/api/v1/users/{}", sun["id"]);
        let response = city_admin.patch(app.url(&path)).json(&json!({"disabled": true})).send().await.unwrap();
        expect_problem(response, 428, "no If-Match").await;
        let response = city_admin
            .patch(app.url(&path))
            .header("if-match", "\"1\"")
            .json(&json!({"disabled": true, "display_name": "孙丽（调离）"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let disabled: Value = response.json().await.unwrap();
        assert_eq!(disabled["disabled"], true);
        assert_eq!(disabled["version"], 2);
        expect_problem(sun_client.get(app.url("/api/v1/points")).send().await.unwrap(), 401, "a disabled user's token").await;
        assert_eq!(login(&app, "sun.li", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
        // Stale versions get the current account.
        let response = city_admin
            .patch(app.url(&path))
            .header("if-match", "\"1\"")
            .json(&json!({"disabled": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
        // An admin cannot lock themselves out.
        let me: Value = city_admin.get(app.url("/api/v1/auth/me")).send().await.unwrap().json().await.unwrap();
        let response = city_admin
            .patch(app.url(&format!("/api/v1/users/{}", me["user"]["id"])))
            .header("if-match", "\"1\"")
            .json(&json!({"disabled": true}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, "disabling oneself").await;
        assert_eq!(problem["errors"][0]["field"], "disabled");

        // Nothing about accounts ever carries a password hash.
        let audit = app.get_ok("/api/v1/audit?entity=user").await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 2, "{audit}");
        for body in [audit.to_string(), listed.to_string(), disabled.to_string()] {
            assert!(!body.contains("argon2") && !body.contains(PASSWORD), "{body}");
        }
        app
    })
    .await;
}

/// A token for an existing account, made through the library as the command line does.
async fn user_token(app: &TestApp, username: &str) -> String {
    donornet::admin::create_token(&app.db, "test", username, None)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_audit_log_names_who_changed_what_and_shows_each_their_own() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let official = app.client_for("official", "township_official", &["411103101000"]).await;
        let staff = app.client_for("staff", "station_staff", &["411100000000"]).await;
        let create = |client: &Client, township: &str, name: &str| {
            let request = client.post(app.url("/api/v1/points")).json(&json!({
                "name": name, "kind": "township", "region_code": township, "longitude": 114.0, "latitude": 33.6
            }));
            async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), StatusCode::CREATED);
                response.json::<Value>().await.unwrap()
            }
        };
        let before = Utc::now();
        let mine = create(&official, "411103101000", "孟庙镇献血点").await;
        assert_eq!(mine["created_by"], "official (token: tests)");
        create(&staff, "411104100000", "召陵镇献血点").await;
        create(&app.client, "411103102000", "商桥镇献血点").await;

        let get = |client: &Client, query: &str| {
            let request = client.get(app.url(&format!("/api/v1/audit{query}")));
            async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let actors = |page: &Value| -> Vec<String> {
            page["items"].as_array().unwrap().iter().map(|r| r["actor"].as_str().unwrap_or("").to_owned()).collect()
        };
        // Station staff see everyone's changes in their city; the official only their own.
        assert_eq!(actors(&get(&staff, "").await), ["official (token: tests)", "staff (token: tests)", "root (token: tests)"]);
        assert_eq!(actors(&get(&official, "").await), ["official (token: tests)"]);
        let record = &get(&official, "").await["items"][0];
        assert_eq!(record["entity"], "point");
        let me: Value = official.get(app.url("/api/v1/auth/me")).send().await.unwrap().json().await.unwrap();
        assert_eq!(record["actor_user_id"], me["user"]["id"]);
        assert!(record["actor_token_id"].as_i64().is_some());
        // Filters: by user, by region, by time.
        assert_eq!(actors(&get(&staff, "?user=official").await), ["official (token: tests)"]);
        assert_eq!(actors(&get(&staff, "?region=411104000000").await), ["staff (token: tests)"]);
        assert_eq!(actors(&get(&official, "?user=staff").await), Vec::<String>::new());
        let from = (before - TimeDelta::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        assert_eq!(get(&staff, &format!("?from={from}")).await["items"].as_array().unwrap().len(), 3);
        assert_eq!(get(&staff, &format!("?to={from}")).await["items"].as_array().unwrap().len(), 0);
        let response = staff.get(app.url("/api/v1/audit?region=990100000000")).send().await.unwrap();
        expect_problem(response, 404, "a region outside the caller's").await;
        let response = staff.get(app.url(&format!("/api/v1/audit?from={from}&to={from}"))).send().await.unwrap();
        expect_problem(response, 400, "an empty time window").await;
        expect_problem(app.anonymous.get(app.url("/api/v1/audit")).send().await.unwrap(), 401, "anonymous").await;
        app
    })
    .await;
}

#[tokio::test]
async fn the_public_sees_active_points_with_masked_phones_only() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        let active = app
            .create_point(&json!({"name": "东岭镇献血点", "kind": "township", "region_code": "990101101000",
                                  "longitude": 114.02, "latitude": 33.66, "status": "active",
                                  "contact_phone": "0395-1234567", "notes": "钥匙在王医生处"}))
            .await;
        let planned = app
            .create_point(&json!({"name": "西河乡献血点", "kind": "township", "region_code": "990101102000",
                                  "longitude": 113.93, "latitude": 33.60, "status": "planned"}))
            .await;
        let doctor: Value = app
            .send_json(Method::POST, "/api/v1/coordinators",
                       &json!({"name": "王医生", "mobile": "13812345678", "role": "village_doctor", "region_code": "990101101000"}), None)
            .await
            .json()
            .await
            .unwrap();
        let assign = format!("/api/v1/points/{}/coordinators/{}", active["id"], doctor["id"]);
        assert_eq!(app.send_json(Method::PUT, &assign, &json!({"primary": true}), None).await.status(), StatusCode::OK);

        let public = app.anonymous.get(app.url("/api/v1/points")).send().await.unwrap();
        assert_eq!(public.status(), StatusCode::OK);
        let page: Value = public.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "only the active point: {page}");
        assert_eq!(items[0]["name"], "东岭镇献血点");
        assert_eq!(items[0]["coordinator_phone"], "138****5678");
        assert_eq!(items[0]["contact_phone"], "039****4567");
        let geojson: Value = app.anonymous.get(app.url("/api/v1/points.geojson")).send().await.unwrap().json().await.unwrap();
        let near: Value = app.anonymous.get(app.url("/api/v1/points?near=114.02,33.66")).send().await.unwrap().json().await.unwrap();
        let one: Value = app.anonymous.get(app.url(&format!("/api/v1/points/{}", active["id"]))).send().await.unwrap().json().await.unwrap();
        assert_eq!(one["coordinator_phone"], "138****5678");
        assert_eq!(geojson["features"].as_array().unwrap().len(), 1);
        assert_eq!(near["items"].as_array().unwrap().len(), 1);
        for body in [page.to_string(), geojson.to_string(), near.to_string(), one.to_string()] {
            for private in ["13812345678", "1234567", "钥匙", "notes", "created_by", "version", "王医生"] {
                assert!(!body.contains(private), "{private} leaked: {body}");
            }
        }
        // A point that is not active does not exist for the public; even asking for closed
        // ones gives only active points.
        let response = app.anonymous.get(app.url(&format!("/api/v1/points/{}", planned["id"]))).send().await.unwrap();
        expect_problem(response, 404, "a planned point, anonymously").await;
        let asked: Value = app.anonymous.get(app.url("/api/v1/points?status=planned,closed")).send().await.unwrap().json().await.unwrap();
        assert_eq!(asked["items"].as_array().unwrap().len(), 1);
        assert_eq!(asked["items"][0]["id"], active["id"]);
        // Signed-in callers see the full record.
        let full = app.get_ok(&format!("/api/v1/points/{}", active["id"])).await;
        assert_eq!(full["contact_phone"], "0395-1234567");
        let team = app.get_ok(&format!("/api/v1/points/{}/coordinators", active["id"])).await;
        assert_eq!(team[0]["mobile"], "13812345678");
        // Everything else needs credentials.
        for path in ["/api/v1/regions", "/api/v1/coordinators", "/api/v1/regions/990101101201/surveys", "/api/v1/users"] {
            let response = app.anonymous.get(app.url(path)).send().await.unwrap();
            expect_problem(response, 401, path).await;
        }
        app
    })
    .await;
}

#[tokio::test]
async fn an_admin_cannot_reach_beyond_its_regions_through_the_accounts_it_makes() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let township = "411103101000";
        let township_admin = app.client_for("mengmiao.admin", "admin", &[township]).await;
        let create = |role: &str, username: &str| {
            let request = township_admin.post(app.url("/api/v1/users")).json(&json!({
                "username": username, "display_name": username, "role": role,
                "regions": [township], "password": PASSWORD
            }));
            async move { request.send().await.unwrap() }
        };
        // A viewer of the township reads only the township: fine.
        let response = create("viewer", "reader").await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let reader: Value = response.json().await.unwrap();
        // An official of the township would read the whole county: beyond this admin.
        expect_problem(
            create("township_official", "official").await,
            403,
            "an official",
        )
        .await;
        // Nor can the viewer be turned into one.
        let response = township_admin
            .patch(app.url(&format!("/api/v1/users/{}", reader["id"])))
            .header("if-match", "\"1\"")
            .json(&json!({"role": "township_official"}))
            .send()
            .await
            .unwrap();
        expect_problem(response, 403, "promoting the viewer").await;
        // A county's admin may make that official.
        let county_admin = app
            .client_for("yancheng.admin", "admin", &["411103000000"])
            .await;
        let response = county_admin
            .patch(app.url(&format!("/api/v1/users/{}", reader["id"])))
            .header("if-match", "\"1\"")
            .json(&json!({"role": "township_official"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        // Now beyond the township admin, the account is hidden from it.
        let response = township_admin
            .get(app.url(&format!("/api/v1/users/{}", reader["id"])))
            .send()
            .await
            .unwrap();
        expect_problem(response, 404, "an account beyond the admin").await;
        // Non-admins learn nothing about which accounts exist.
        let viewer = app.client_for("someone", "viewer", &[township]).await;
        for id in [reader["id"].as_i64().unwrap(), 999_999] {
            let response = viewer
                .get(app.url(&format!("/api/v1/users/{id}")))
                .send()
                .await
                .unwrap();
            expect_problem(response, 403, "another account, as a viewer").await;
        }
        app
    })
    .await;
}

#[tokio::test]
async fn account_changes_in_the_audit_log_are_for_admins_who_manage_the_account() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let city_admin = app
            .client_for("city.admin", "admin", &["411100000000"])
            .await;
        let staff = app
            .client_for("staff", "station_staff", &["411100000000"])
            .await;
        let township_admin = app
            .client_for("mengmiao.admin", "admin", &["411103101000"])
            .await;
        let response = city_admin
            .post(app.url("/api/v1/users"))
            .json(
                &json!({"username": "sun.li", "display_name": "孙丽", "role": "township_official",
                          "regions": ["411103101000"], "password": PASSWORD}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let entities = |page: Value| -> Vec<String> {
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["entity"].as_str().unwrap().to_owned())
                .collect()
        };
        let get = |client: &Client| {
            let request = client.get(app.url("/api/v1/audit?entity=user"));
            async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
        };
        assert_eq!(entities(get(&city_admin).await), ["user"]);
        assert_eq!(entities(get(&app.client).await), ["user"]);
        // Station staff do not manage accounts; the township's admin does not manage an
        // official (who reads the county), although the account is bound inside its township.
        assert!(entities(get(&staff).await).is_empty());
        assert!(entities(get(&township_admin).await).is_empty());
        app
    })
    .await;
}

#[tokio::test]
async fn a_coordinator_from_beyond_the_callers_reach_shows_masked_on_its_point() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let point = app
            .create_point(
                &json!({"name": "孟庙镇献血点", "kind": "township", "region_code": "411103101000",
                                  "longitude": 114.0, "latitude": 33.6}),
            )
            .await;
        let response = app
            .send_json(
                Method::POST,
                "/api/v1/coordinators",
                &json!({"name": "召陵医生", "mobile": "13912345678", "wechat_id": "zl-doctor",
                               "role": "village_doctor", "region_code": "411104100000"}),
                None,
            )
            .await;
        let far: Value = response.json().await.unwrap();
        let assign = format!("/api/v1/points/{}/coordinators/{}", point["id"], far["id"]);
        assert_eq!(
            app.send_json(Method::PUT, &assign, &json!({}), None)
                .await
                .status(),
            StatusCode::OK
        );
        let official = app
            .client_for("official", "township_official", &["411103101000"])
            .await;
        let team: Value = official
            .get(app.url(&format!("/api/v1/points/{}/coordinators", point["id"])))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(team[0]["mobile"], "139****5678", "{team}");
        assert!(team[0]["wechat_id"].is_null());
        let response = official
            .get(app.url(&format!("/api/v1/coordinators/{}", far["id"])))
            .send()
            .await
            .unwrap();
        expect_problem(response, 404, "the coordinator itself").await;
        // Station staff of the city read both.
        let staff = app
            .client_for("staff", "station_staff", &["411100000000"])
            .await;
        let team: Value = staff
            .get(app.url(&format!("/api/v1/points/{}/coordinators", point["id"])))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(team[0]["mobile"], "13912345678");
        app
    })
    .await;
}

#[tokio::test]
async fn simultaneous_guesses_cannot_slip_under_the_limit() {
    on_each_backend(|app| async move {
        user_with_token(&app.db, "zhao.lei", "viewer", &[], Some(PASSWORD)).await;
        let guesses = (0..20).map(|i| {
            let request = app
                .anonymous
                .post(app.url("/api/v1/auth/login"))
                .json(&json!({"username": "zhao.lei", "password": format!("guess {i}")}));
            async move { request.send().await.unwrap().status().as_u16() }
        });
        let statuses = futures_join_all(guesses).await;
        let tried = statuses.iter().filter(|s| **s == 401).count();
        let refused = statuses.iter().filter(|s| **s == 429).count();
        assert_eq!(tried + refused, 20, "{statuses:?}");
        assert!(tried <= 5, "{tried} guesses were checked: {statuses:?}");
        app
    })
    .await;
}

/// Runs the futures at once (spawned, so that they really overlap) and collects their outputs.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_longest_names_fit_the_audit_log_and_authorship_columns() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        let username = "a".repeat(32);
        let name = "n".repeat(50);
        user_with_token(&app.db, &username, "admin", &[], None).await;
        let token = donornet::admin::create_token(&app.db, &name, &username, None).await.unwrap();
        let client = bearer_client(&token);
        let response = client
            .post(app.url("/api/v1/points"))
            .json(&json!({"name": "东岭镇献血点", "kind": "township", "region_code": "990101101000",
                          "longitude": 114.02, "latitude": 33.66}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let point: Value = response.json().await.unwrap();
        assert_eq!(point["created_by"], format!("{username} (token: {name})"));
        // One character more is refused where names are chosen.
        assert!(donornet::admin::create_token(&app.db, &format!("{name}n"), &username, None).await.is_err());
        let response = app
            .client
            .post(app.url("/api/v1/users"))
            .json(&json!({"username": "b".repeat(33), "display_name": "x", "role": "admin", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, "a 33-character username").await;
        assert_eq!(problem["errors"][0]["field"], "username");
        app
    })
    .await;
}

#[tokio::test]
async fn hostile_input_on_the_account_routes_is_a_clear_4xx() {
    on_each_backend(|app| async move {
        // NUL and other control characters never reach the database (PostgreSQL refuses NUL).
        let response = app
            .anonymous
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": "a\u{0}b", "password": "whatever it is"}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, "a NUL in the username").await;
        assert_eq!(problem["errors"][0]["field"], "username");
        let response = app.client.get(app.url("/api/v1/audit?user=%00")).send().await.unwrap();
        let problem = expect_problem(response, 400, "a NUL in the audit's user").await;
        assert_eq!(problem["errors"][0]["field"], "user");
        // Instants PostgreSQL cannot store.
        for (query, field) in [("from=-4713-01-01T00:00:00Z", "from"), ("to=%2B20000-01-01T00:00:00Z", "to")] {
            let response = app.client.get(app.url(&format!("/api/v1/audit?{query}"))).send().await.unwrap();
            let problem = expect_problem(response, 400, query).await;
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
        // Region lists are bounded before anything is looked up.
        let regions: Vec<String> = (0..5000).map(|i| format!("{:012}", 410_000_000_000_u64 + i)).collect();
        let response = app
            .client
            .post(app.url("/api/v1/users"))
            .json(&json!({"username": "many", "display_name": "x", "role": "viewer", "regions": regions, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, "5,000 regions").await;
        assert_eq!(problem["errors"].as_array().unwrap().len(), 1);
        // Unknown routes and wrong methods are what they are, signed in or not.
        let response = app.anonymous.post(app.url("/api/v1/nope")).send().await.unwrap();
        expect_problem(response, 404, "an unknown route").await;
        let response = app.anonymous.post(app.url("/api/v1/auth/me")).send().await.unwrap();
        expect_problem(response, 405, "POST on a GET route").await;
        app
    })
    .await;
}

#[tokio::test]
async fn a_stale_session_cookie_beside_a_fresh_one_does_not_hide_it() {
    on_each_backend(|app| async move {
        user_with_token(&app.db, "li.na", "admin", &[], Some(PASSWORD)).await;
        let response = login(&app, "li.na", PASSWORD).await;
        let (fresh, _) = session_cookie(&response);
        let stale = format!("donornet_session={}", "0".repeat(64));
        let response = app
            .anonymous
            .get(app.url("/api/v1/auth/me"))
            .header("cookie", format!("{stale}; {fresh}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        app
    })
    .await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_proxys_own_forwarded_entry_counts() {
    for backend in crate::helpers::backends() {
        let http = donornet::HttpConfig {
            trust_forwarded: true,
            ..donornet::HttpConfig::default()
        };
        let app = TestApp::spawn_with(backend, http).await;
        user_with_token(&app.db, "zhao.lei", "viewer", &[], Some(PASSWORD)).await;
        // Twenty failures that the proxy saw from 10.0.0.1, whatever the client wrote in its
        // own header line.
        for i in 0..20 {
            let response = app
                .anonymous
                .post(app.url("/api/v1/auth/login"))
                .header("x-forwarded-for", format!("192.0.2.{i}"))
                .header("x-forwarded-for", "::ffff:10.0.0.1")
                .json(&json!({"username": format!("guess{}", i / 4), "password": "wrong password"}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let from = |address: &str| {
            app.anonymous
                .post(app.url("/api/v1/auth/login"))
                .header("x-forwarded-for", address)
                .json(&json!({"username": "zhao.lei", "password": PASSWORD}))
                .send()
        };
        assert_eq!(
            from("10.0.0.1").await.unwrap().status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(from("10.0.0.2").await.unwrap().status(), StatusCode::OK);
        app.stop().await;
    }
}

#[tokio::test]
async fn the_origin_check_compares_the_scheme_the_server_is_reached_by() {
    // (configuration, X-Forwarded-Proto sent, the scheme of the Origin that passes)
    let cases = [
        (donornet::HttpConfig::default(), None, "http"),
        (
            donornet::HttpConfig {
                secure_cookies: true,
                ..donornet::HttpConfig::default()
            },
            None,
            "https",
        ),
        (
            donornet::HttpConfig {
                trust_forwarded: true,
                ..donornet::HttpConfig::default()
            },
            Some("https"),
            "https",
        ),
        (
            donornet::HttpConfig {
                trust_forwarded: true,
                ..donornet::HttpConfig::default()
            },
            None,
            "http",
        ),
        // A proxy's word counts only when it is trusted.
        (donornet::HttpConfig::default(), Some("https"), "http"),
    ];
    for backend in crate::helpers::backends() {
        for (i, (http, proto, passes)) in cases.iter().enumerate() {
            let app = TestApp::spawn_with(backend, http.clone()).await;
            user_with_token(&app.db, "li.na", "admin", &[], Some(PASSWORD)).await;
            let response = login(&app, "li.na", PASSWORD).await;
            let (cookie, _) = session_cookie(&response);
            let host = app.address.strip_prefix("http://").unwrap().to_owned();
            for scheme in ["http", "https"] {
                let mut request = app
                    .anonymous
                    .post(app.url("/api/v1/tokens"))
                    .header("cookie", &cookie)
                    .header("origin", format!("{scheme}://{host}"))
                    .json(&json!({"name": format!("from {scheme}")}));
                if let Some(proto) = proto {
                    request = request.header("x-forwarded-proto", *proto);
                }
                let response = request.send().await.unwrap();
                let context = format!("{backend:?} case {i}: Origin {scheme}://{host}");
                if scheme == *passes {
                    assert_eq!(response.status(), StatusCode::CREATED, "{context}");
                } else {
                    let problem = expect_problem(response, 403, &context).await;
                    assert!(
                        problem["detail"].as_str().unwrap().contains("Origin"),
                        "{context}: {problem}"
                    );
                }
            }
            app.stop().await;
        }
    }
}

#[tokio::test]
async fn passwords_easy_to_guess_are_refused_with_422_wherever_a_password_is_set() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        let create = |username: &str, password: &str| {
            let request = app.client.post(app.url("/api/v1/users")).json(&json!({
                "username": username, "display_name": "x", "role": "viewer",
                "regions": ["990101000000"], "password": password}));
            async move { request.send().await.unwrap() }
        };
        for (username, password, says) in [
            ("wang.fang", "1234567890", "commonest"),
            ("wang.fang", "QWERTYUIOP", "commonest"),
            ("wang.fang", "Wang.Fang!", "username"),
            ("wang.fang", "wang.fang2024!", "username"),
            ("wang.fang", "7777777777", "different characters"),
            ("wang.fang", "3456789012", "consecutive"),
        ] {
            let context = format!("{username} / {password}");
            let problem = expect_problem(create(username, password).await, 422, &context).await;
            assert_eq!(
                problem["type"], "urn:donornet:problem:weak-password",
                "{problem}"
            );
            assert_eq!(problem["errors"][0]["field"], "password", "{problem}");
            let message = problem["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains(says), "{context}: {problem}");
        }
        // A too short password is still a malformed one (400), and nothing was created.
        let problem = expect_problem(create("wang.fang", "short").await, 400, "short").await;
        assert_eq!(problem["errors"][0]["field"], "password");
        let users: Value = app.get_ok("/api/v1/users").await;
        assert_eq!(
            users["items"].as_array().unwrap().len(),
            1,
            "only root: {users}"
        );

        // The same rule when an admin sets a password.
        let response = create("wang.fang", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let created: Value = response.json().await.unwrap();
        let path = format!("/api/v1/users/{}", created["id"]);
        let response = app
            .send_json(
                Method::PATCH,
                &path,
                &json!({"password": "password123"}),
                Some("\"1\""),
            )
            .await;
        let problem = expect_problem(response, 422, "a common password by PATCH").await;
        assert_eq!(problem["errors"][0]["field"], "password");
        assert_eq!(
            login(&app, "wang.fang", "password123").await.status(),
            StatusCode::UNAUTHORIZED,
            "the refused password was not set"
        );
        let response = app
            .send_json(
                Method::PATCH,
                &path,
                &json!({"password": "a fresh passphrase"}),
                Some("\"1\""),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            login(&app, "wang.fang", "a fresh passphrase")
                .await
                .status(),
            StatusCode::OK
        );
        app
    })
    .await;
}

#[tokio::test]
async fn an_admin_lifts_the_lock_failed_sign_ins_put_on_an_account() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        user_with_token(
            &app.db,
            "zhao.lei",
            "viewer",
            &["990101101000"],
            Some(PASSWORD),
        )
        .await;
        let users: Value = app.get_ok("/api/v1/users").await;
        let id = users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "zhao.lei")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let unlock_path = format!("/api/v1/users/{id}/unlock");
        for _ in 0..5 {
            assert_eq!(
                login(&app, "zhao.lei", "a wrong guess").await.status(),
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            login(&app, "zhao.lei", PASSWORD).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );

        // Not for anyone else to lift: a viewer, an admin of another region, anonymous.
        let viewer = app
            .client_for("other.viewer", "viewer", &["990101101000"])
            .await;
        expect_problem(
            viewer.post(app.url(&unlock_path)).send().await.unwrap(),
            403,
            "a viewer",
        )
        .await;
        let elsewhere = app
            .client_for("far.admin", "admin", &["990101102000"])
            .await;
        expect_problem(
            elsewhere.post(app.url(&unlock_path)).send().await.unwrap(),
            404,
            "an admin elsewhere",
        )
        .await;
        expect_problem(
            app.anonymous
                .post(app.url(&unlock_path))
                .send()
                .await
                .unwrap(),
            401,
            "anonymous",
        )
        .await;
        expect_problem(
            app.client
                .post(app.url("/api/v1/users/999999/unlock"))
                .send()
                .await
                .unwrap(),
            404,
            "no such user",
        )
        .await;
        assert_eq!(
            login(&app, "zhao.lei", PASSWORD).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );

        let response = app.client.post(app.url(&unlock_path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["cleared_failures"], 5, "{body}");
        assert_eq!(body["user"]["username"], "zhao.lei", "{body}");
        assert_eq!(
            login(&app, "zhao.lei", PASSWORD).await.status(),
            StatusCode::OK
        );

        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=user&id={id}"))
            .await;
        let unlock = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["action"] == "unlock")
            .unwrap_or_else(|| panic!("no unlock in {audit}"));
        assert_eq!(unlock["actor"], "root (token: tests)", "{unlock}");
        app
    })
    .await;
}

/// The accounts service on its own, as the web pages and the command line call it: the same
/// reach rule as the API, and a change against a stale version writes nothing.
#[tokio::test]
async fn the_accounts_service_keeps_the_rules_without_http() {
    use donornet::accounts::{self, AccountsError, Acting, ChangeAccount, NewAccount, Update};
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        let new = |username: &str, role: &str, regions: &[&str]| NewAccount {
            username: username.to_owned(),
            display_name: None,
            role: role.parse().unwrap(),
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
            password: "a long enough passphrase".to_owned(),
        };
        let now = Utc::now();
        let township = accounts::create_user(
            &app.db,
            new("township.admin", "admin", &["990101101000"]),
            &Acting::CommandLine,
            now,
        )
        .await
        .unwrap();
        assert_eq!(township.display_name, "township.admin");
        let principal = township.principal(None);
        let by = Acting::Account {
            principal: &principal,
            actor: donornet::store::audit::Actor::default(),
        };
        // A township's admin cannot make an admin of everything.
        let refused =
            accounts::create_user(&app.db, new("everything", "admin", &[]), &by, now).await;
        assert!(
            matches!(refused, Err(AccountsError::Forbidden(_))),
            "{refused:?}"
        );
        assert!(
            accounts::find_by_username(&app.db, "everything")
                .await
                .is_err()
        );
        // The same username twice is refused by name.
        let twice = accounts::create_user(
            &app.db,
            new("Township.Admin", "admin", &[]),
            &Acting::CommandLine,
            now,
        )
        .await;
        assert!(
            matches!(twice, Err(AccountsError::UsernameTaken(ref n)) if n == "township.admin"),
            "{twice:?}"
        );
        // A change made against an old version changes nothing.
        let viewer = accounts::create_user(
            &app.db,
            new("viewer.one", "viewer", &["990101101000"]),
            &by,
            now,
        )
        .await
        .unwrap();
        let change = |version| ChangeAccount {
            account: viewer.clone(),
            version: Some(version),
            display_name: Some("新名字".to_owned()),
            role: None,
            regions: None,
            disabled: None,
            password: None,
        };
        let stale = accounts::update_user(&app.db, change(viewer.version + 1), &by, now).await;
        assert!(matches!(stale, Ok(Update::Stale)), "{stale:?}");
        let kept = accounts::find_by_username(&app.db, "viewer.one")
            .await
            .unwrap();
        assert_eq!(kept.display_name, "viewer.one");
        let done = accounts::update_user(&app.db, change(viewer.version), &by, now).await;
        assert!(
            matches!(done, Ok(Update::Done(ref u)) if u.display_name == "新名字"),
            "{done:?}"
        );
        app
    })
    .await;
}
