//! The station's administration pages over HTTP (the browser walks them in
//! `browser::station_admin`): the index and who may open it; accounts (a staff account
//! created after a refused form, its role and regions changed, a stale change shown mine /
//! current, a sign-in lock lifted, a new password, disabled; outside a bound admin's regions an
//! account does not exist); API tokens (the secret shown once, never again, revoked); the audit
//! log (newest first, filters narrowing it, before / after shown, paged); the outbox (by state,
//! whole numbers to send by hand and marked sent, a failed message sent again). The network is
//! the planning tests' (`crate::plans::network`).

use chrono::{Duration, Utc};
use reqwest::{Client, StatusCode};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::bookings::{booked, published_stop, today};
use crate::helpers::{TestApp, bearer_client, on_each_backend, user_with_token};
use crate::plans::{COUNTY, DONGLING, network};

use crate::page_client::{form, get, input_value, post, sign_in, signed_in, try_sign_in};

/// The rows of the table `id` in `html` (its body's `<tr>`s, nested tables' rows aside).
fn table_rows(html: &str, id: &str) -> Vec<String> {
    let Some(start) = html.find(&format!("id=\"{id}\"")) else {
        return vec![];
    };
    let body = &html[start..];
    let body = &body[body.find("<tbody>").expect("a body") + 7..];
    let mut rows = Vec::new();
    let mut rest = body;
    let mut depth = 0;
    let mut current = String::new();
    // Walk the top-level rows, keeping nested tables inside their row.
    while !rest.is_empty() {
        let next_tag = rest.find('<').map_or(rest.len(), |i| i);
        current.push_str(&rest[..next_tag]);
        rest = &rest[next_tag..];
        if rest.is_empty() {
            break;
        }
        let end = rest.find('>').map_or(rest.len(), |i| i + 1);
        let tag = &rest[..end];
        if tag.starts_with("<table") {
            depth += 1;
        } else if tag.starts_with("</table") {
            if depth == 0 {
                break;
            }
            depth -= 1;
        } else if tag.starts_with("</tbody") && depth == 0 {
            break;
        }
        current.push_str(tag);
        if depth == 0 && tag.starts_with("</tr") {
            rows.push(std::mem::take(&mut current));
        }
        rest = &rest[end..];
    }
    rows
}

async fn user(app: &TestApp, id: i64) -> Value {
    app.get_ok(&format!("/api/v1/users/{id}")).await
}

/// The id at the end of a `Location` like `/station/admin/accounts/7?done=created`.
fn id_in(location: &str) -> i64 {
    location
        .trim_start_matches("/station/admin/accounts/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("an account's address: {location}"))
}

#[tokio::test]
async fn the_admin_index_is_for_staff_and_links_to_each_page() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        let admin = signed_in(&app, "chief", "admin", &[]).await;
        let (status, page) = get(&app, &admin, "/station/admin").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("<h1>系统管理</h1>"), "{page}");
        for href in [
            "/station/admin/accounts",
            "/admin/accounts/new",
            "/station/admin/tokens",
            "/station/admin/audit",
            "/station/admin/outbox",
        ] {
            assert!(page.contains(&format!("href=\"{href}\"")), "{href}: {page}");
        }
        // The navigation leads here, and no longer straight to the official's account form.
        let nav = &page[page.find("<nav").unwrap()..page.find("</nav>").unwrap()];
        assert!(
            nav.contains("<a href=\"/station/admin\" id=\"nav-station-admin\">系统管理</a>"),
            "{nav}"
        );
        assert!(!nav.contains("/admin/accounts/new"), "{nav}");
        // The official's account form still works.
        let (status, _) = get(&app, &admin, "/admin/accounts/new").await;
        assert_eq!(status, StatusCode::OK);

        // Station staff: tokens, the audit log and messages to send by hand; no accounts.
        let staff = signed_in(&app, "zhou", "station_staff", &[COUNTY]).await;
        let (status, page) = get(&app, &staff, "/station/admin").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("href=\"/station/admin/tokens\""), "{page}");
        assert!(page.contains("待手工发送的短信"), "{page}");
        assert!(!page.contains("href=\"/station/admin/accounts\""), "{page}");
        assert!(page.contains("id=\"nav-station-admin\""));
        for path in ["/station/admin/accounts", "/station/admin/accounts/new"] {
            let (status, page) = get(&app, &staff, path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
            assert!(page.contains("您没有权限进行这项操作"), "{page}");
        }

        // Township officials and viewers: the plain 403 page, everywhere; no link to it.
        let official = signed_in(&app, "wang", "township_official", &[DONGLING]).await;
        let viewer = signed_in(&app, "kan", "viewer", &[COUNTY]).await;
        for client in [&official, &viewer] {
            let (_, home) = get(&app, client, "/township").await;
            assert!(!home.contains("nav-station-admin"), "{home}");
            for path in [
                "/station/admin",
                "/station/admin/accounts",
                "/station/admin/accounts/1",
                "/station/admin/tokens",
                "/station/admin/audit",
                "/station/admin/outbox",
            ] {
                let (status, page) = get(&app, client, path).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
                assert!(page.contains("您没有权限进行这项操作"), "{page}");
            }
            let (status, _, _) =
                post(&app, client, "/station/admin/tokens", &[("name", "x")]).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
        // Nobody signed in: to the sign-in page, then back.
        let plain = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let (status, _) = get(&app, &plain, "/station/admin/audit").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        app
    })
    .await;
}

#[tokio::test]
async fn an_admin_creates_changes_unlocks_and_disables_a_staff_account() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        let admin = signed_in(&app, "chief", "admin", &[]).await;

        // Refused field by field: a region that does not exist, the passwords differ; what
        // was typed kept, the passwords not sent back.
        let (status, page) = get(&app, &admin, "/station/admin/accounts/new").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let typed = [
            ("username", "zhou.ming"),
            ("display_name", "周明"),
            ("role", "station_staff"),
            ("regions", "990199000000"),
            ("password", "a fine long password"),
            ("repeat_password", "a fine long password"),
        ];
        let (status, _, page) = post(&app, &admin, "/station/admin/accounts/new", &typed).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"regions-error\""), "{page}");
        assert!(page.contains("请填您负责范围内的 12 位地区代码"), "{page}");
        assert_eq!(input_value(&page, "username"), "zhou.ming");
        assert_eq!(input_value(&page, "regions"), "990199000000");
        assert!(
            page.contains("<option value=\"station_staff\" selected>"),
            "{page}"
        );
        assert!(!page.contains("a fine long password"), "{page}");
        let mut fields = typed.to_vec();
        fields[3].1 = COUNTY;
        fields[5].1 = "another long password";
        let (status, _, page) = post(&app, &admin, "/station/admin/accounts/new", &fields).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"repeat_password-error\""), "{page}");
        assert!(page.contains("两次输入的密码不一样。"), "{page}");

        // Created: its page says so; the API reads it as made.
        fields[5].1 = "a fine long password";
        let (status, location, _) =
            post(&app, &admin, "/station/admin/accounts/new", &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let id = id_in(&location);
        assert_eq!(
            location,
            format!("/station/admin/accounts/{id}?done=created")
        );
        let stored = user(&app, id).await;
        assert_eq!(stored["role"], "station_staff");
        assert_eq!(stored["regions"], json!([COUNTY]));
        let (status, page) = get(&app, &admin, &location).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("账号已开通"), "{page}");
        assert!(page.contains("青禾县（演示） (990101000000)"), "{page}");
        // The same username again: taken, said beside it.
        let (status, _, page) = post(&app, &admin, "/station/admin/accounts/new", &fields).await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("id=\"username-error\""), "{page}");
        assert!(page.contains("这个用户名已经有人用了"), "{page}");
        // Listed, with role, regions and last sign-in.
        let (_, list) = get(&app, &admin, "/station/admin/accounts").await;
        let rows = table_rows(&list, "accounts");
        let row = rows
            .iter()
            .find(|r| r.contains("zhou.ming"))
            .expect("listed");
        assert!(row.contains("血站工作人员"), "{row}");
        assert!(row.contains("青禾县（演示）"), "{row}");
        assert!(row.contains("从未"), "{row}");
        assert!(row.contains("正常"), "{row}");

        // Role and regions changed: a viewer of 东岭镇.
        let version = stored["version"].as_i64().unwrap().to_string();
        let change =
            |version: &str, name: &'static str, role: &'static str, regions: &'static str| {
                vec![
                    ("version", version.to_owned()),
                    ("display_name", name.to_owned()),
                    ("role", role.to_owned()),
                    ("regions", regions.to_owned()),
                ]
            };
        let path = format!("/station/admin/accounts/{id}");
        let fields = change(&version, "周明", "viewer", DONGLING);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, location, _) = post(&app, &admin, &path, &pairs).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("{path}?done=saved"));
        let stored = user(&app, id).await;
        assert_eq!(stored["role"], "viewer");
        assert_eq!(stored["regions"], json!([DONGLING]));
        // A change made from the page read before: both versions shown, what was typed kept.
        let fields = change(&version, "周小明", "viewer", DONGLING);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, page) = post(&app, &admin, &path, &pairs).await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("这个账号刚被别人改过"), "{page}");
        assert!(page.contains("<td class=\"mine\">周小明</td>"), "{page}");
        assert!(page.contains("<td class=\"current\">周明</td>"), "{page}");
        assert_eq!(input_value(&page, "display_name"), "周小明");
        assert_eq!(
            input_value(&page, "version"),
            stored["version"].as_i64().unwrap().to_string()
        );
        assert_eq!(user(&app, id).await["display_name"], "周明");
        // A staff account needs a region: said beside the field.
        let version = stored["version"].as_i64().unwrap().to_string();
        let fields = change(&version, "周明", "station_staff", "");
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, page) = post(&app, &admin, &path, &pairs).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"regions-error\""), "{page}");
        assert_eq!(user(&app, id).await["role"], "viewer");

        // Five wrong passwords lock the sign-in; the admin sees it and lifts it.
        for _ in 0..5 {
            let (status, _) = try_sign_in(&app, "zhou.ming", "not the password").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let (status, _) = try_sign_in(&app, "zhou.ming", "a fine long password").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let (_, page) = get(&app, &admin, &path).await;
        assert!(page.contains("登录已锁定"), "{page}");
        assert!(page.contains("锁定到 "), "{page}");
        let (status, location, _) = post(&app, &admin, &format!("{path}/unlock"), &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("{path}?done=unlocked"));
        let (_, page) = get(&app, &admin, &location).await;
        assert!(page.contains("已解除登录锁定"), "{page}");
        assert!(!page.contains("登录已锁定"), "{page}");
        sign_in(&app, "zhou.ming", "a fine long password").await;

        // A new password: refused when too short (said beside it), then set.
        let version = user(&app, id).await["version"]
            .as_i64()
            .unwrap()
            .to_string();
        let password_path = format!("{path}/password");
        let (status, _, page) = post(
            &app,
            &admin,
            &password_path,
            &[
                ("version", &version),
                ("password", "short"),
                ("repeat_password", "short"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"new_password-error\""), "{page}");
        let (status, location, _) = post(
            &app,
            &admin,
            &password_path,
            &[
                ("version", &version),
                ("password", "a brand new passphrase"),
                ("repeat_password", "a brand new passphrase"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("{path}?done=password"));
        let (status, _) = try_sign_in(&app, "zhou.ming", "a fine long password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        sign_in(&app, "zhou.ming", "a brand new passphrase").await;

        // Disabled: it can no longer sign in; enabled again.
        let version = user(&app, id).await["version"]
            .as_i64()
            .unwrap()
            .to_string();
        let (status, location, _) = post(
            &app,
            &admin,
            &format!("{path}/disabled"),
            &[("version", &version), ("disabled", "true")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("{path}?done=disabled"));
        assert_eq!(user(&app, id).await["disabled"], true);
        let (status, _) = try_sign_in(&app, "zhou.ming", "a brand new passphrase").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (_, list) = get(&app, &admin, "/station/admin/accounts").await;
        let rows = table_rows(&list, "accounts");
        let row = rows.iter().find(|r| r.contains("zhou.ming")).unwrap();
        assert!(row.contains("已停用"), "{row}");

        // Admins cannot disable or demote themselves: no such button, and the service says so.
        let me = app.get_ok("/api/v1/users").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "chief")
            .cloned()
            .unwrap();
        let my_path = format!("/station/admin/accounts/{}", me["id"]);
        let (_, page) = get(&app, &admin, &my_path).await;
        assert!(!page.contains("/disabled\""), "{page}");
        let my_version = me["version"].as_i64().unwrap().to_string();
        let (status, _, page) = post(
            &app,
            &admin,
            &format!("{my_path}/disabled"),
            &[("version", &my_version), ("disabled", "true")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("不能停用自己的账号"), "{page}");
        let fields = change(&my_version, "chief", "viewer", COUNTY);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, page) = post(&app, &admin, &my_path, &pairs).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"role-error\""), "{page}");
        assert_eq!(
            user(&app, me["id"].as_i64().unwrap()).await["role"],
            "admin"
        );

        // An admin bound to 东岭镇 manages only accounts inside it: the county's staff account
        // does not exist for it (neither the page nor its forms), and it cannot make one.
        let bound = signed_in(&app, "dong.admin", "admin", &[DONGLING]).await;
        user_with_token(&app.db, "li.county", "station_staff", &[COUNTY], None).await;
        let county_id = app.get_ok("/api/v1/users").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "li.county")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let (status, page) = get(
            &app,
            &bound,
            &format!("/station/admin/accounts/{county_id}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
        assert!(!page.contains("li.county"), "{page}");
        let (status, _, _) = post(
            &app,
            &bound,
            &format!("/station/admin/accounts/{county_id}/unlock"),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, list) = get(&app, &bound, "/station/admin/accounts").await;
        assert!(!list.contains("li.county"), "{list}");
        assert!(list.contains("zhou.ming"), "{list}");
        let (status, _, page) = post(
            &app,
            &bound,
            "/station/admin/accounts/new",
            &[
                ("username", "wide.reader"),
                ("role", "viewer"),
                ("regions", COUNTY),
                ("password", "a fine long password"),
                ("repeat_password", "a fine long password"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        assert!(page.contains("id=\"regions-error\""), "{page}");
        // Not a number, or no such account: not found.
        for path in [
            "/station/admin/accounts/abc",
            "/station/admin/accounts/99999",
        ] {
            let (status, _) = get(&app, &admin, path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        app
    })
    .await;
}

/// The secret in the page that made a token.
fn secret_in(page: &str) -> String {
    let at = page.find("id=\"secret\"").expect("the secret's field");
    let tag = &page[at..at + page[at..].find('>').unwrap()];
    let value = tag.find("value=\"").unwrap() + 7;
    tag[value..value + tag[value..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn a_tokens_secret_is_shown_once_and_a_revoked_token_stops_working() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        let staff = signed_in(&app, "zhou", "station_staff", &[COUNTY]).await;
        let (status, page) = get(&app, &staff, "/station/admin/tokens").await;
        assert_eq!(status, StatusCode::OK, "{page}");

        // Refused: no name; a lifetime out of bounds.
        let (status, _, page) = post(
            &app,
            &staff,
            "/station/admin/tokens",
            &[("name", "  "), ("expires_in_days", "")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"name-error\""), "{page}");
        assert!(page.contains("请填名称"), "{page}");
        let (status, _, page) = post(
            &app,
            &staff,
            "/station/admin/tokens",
            &[("name", "nightly sync"), ("expires_in_days", "4000")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"expires_in_days-error\""), "{page}");
        assert_eq!(input_value(&page, "name"), "nightly sync");
        assert!(!page.contains("id=\"secret\""), "{page}");

        // Made: the secret is on this page, and works.
        let (status, _, page) = post(
            &app,
            &staff,
            "/station/admin/tokens",
            &[("name", "nightly sync"), ("expires_in_days", "30")],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{page}");
        assert!(page.contains("请现在复制保存"), "{page}");
        let secret = secret_in(&page);
        assert!(secret.starts_with("dn_"), "{secret}");
        let script = bearer_client(&secret);
        let response = script.get(app.url("/api/v1/auth/me")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let row = table_rows(&page, "tokens")
            .into_iter()
            .find(|r| r.contains("nightly sync"))
            .expect("listed");
        assert!(row.contains("有效"), "{row}");
        assert!(row.contains("zhou"), "{row}");

        // Never again: not in the list, not anywhere.
        let (_, page) = get(&app, &staff, "/station/admin/tokens").await;
        assert!(page.contains("nightly sync"), "{page}");
        assert!(!page.contains(&secret), "{page}");
        assert!(!page.contains("id=\"secret\""), "{page}");
        // The same name again while it lives: said beside the name.
        let (status, _, page) = post(
            &app,
            &staff,
            "/station/admin/tokens",
            &[("name", "nightly sync")],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("您已经有一个同名的有效令牌"), "{page}");
        assert!(page.contains("id=\"name-error\""), "{page}");
        // A token does not make tokens, through the pages either.
        let response = script
            .post(app.url("/station/admin/tokens"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("name", "minted")]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);

        // An admin of the whole database sees it and who owns it; an admin of 东岭镇 neither
        // sees nor revokes it.
        let tokens = app.get_ok("/api/v1/tokens").await;
        let token_id = tokens
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "nightly sync")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let admin = signed_in(&app, "chief", "admin", &[]).await;
        let (_, page) = get(&app, &admin, "/station/admin/tokens").await;
        assert!(page.contains(&format!("id=\"token-{token_id}\"")), "{page}");
        let bound = signed_in(&app, "dong.admin", "admin", &[DONGLING]).await;
        let (_, page) = get(&app, &bound, "/station/admin/tokens").await;
        assert!(!page.contains("nightly sync"), "{page}");
        let revoke = format!("/station/admin/tokens/{token_id}/revoke");
        let (status, _, _) = post(&app, &bound, &revoke, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Revoked by its owner: it stops working at once, and reads so.
        let (status, location, _) = post(&app, &staff, &revoke, &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, "/station/admin/tokens?done=revoked");
        let response = script.get(app.url("/api/v1/auth/me")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let (_, page) = get(&app, &staff, &location).await;
        assert!(page.contains("令牌已作废"), "{page}");
        let row = table_rows(&page, "tokens")
            .into_iter()
            .find(|r| r.contains("nightly sync"))
            .unwrap();
        assert!(row.contains("已作废"), "{row}");
        assert!(!row.contains("/revoke"), "{row}");
        app
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_reads_newest_first_and_its_filters_narrow_it() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let [p1, ..] = net.points;
        let admin = signed_in(&app, "chief", "admin", &[]).await;
        // A change to P1 (东岭镇) through the API, then an account made on the pages.
        let point = app.get_ok(&format!("/api/v1/points/{p1}")).await;
        let response = app
            .client
            .patch(app.url(&format!("/api/v1/points/{p1}")))
            .header("If-Match", format!("\"{}\"", point["version"]))
            .json(&json!({"notes": "门前可停献血车"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let (status, _, _) = post(
            &app,
            &admin,
            "/station/admin/accounts/new",
            &[
                ("username", "zhou.ming"),
                ("display_name", "周明"),
                ("role", "station_staff"),
                ("regions", COUNTY),
                ("password", "a fine long password"),
                ("repeat_password", "a fine long password"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);

        // Newest first: the account, then the point's change.
        let (status, page) = get(&app, &admin, "/station/admin/audit").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let rows = table_rows(&page, "audit");
        assert!(rows.len() > 4, "{page}");
        assert!(rows[0].contains("账号") && rows[0].contains("新建"), "{}", rows[0]);
        assert!(rows[0].contains("zhou.ming"), "{}", rows[0]);
        assert!(rows[0].contains(">chief<"), "{}", rows[0]);
        assert!(rows[1].contains("献血点") && rows[1].contains("修改"), "{}", rows[1]);
        // The change shown readably: only what differed, before and after, the field named
        // in the reader's language.
        assert!(
            rows[1].contains("<th scope=\"row\">备注</th><td class=\"before\">—</td><td class=\"after\">门前可停献血车</td>"),
            "{}",
            rows[1]
        );
        assert!(!rows[1].contains(">名称<"), "{}", rows[1]);

        // Filters narrow it: by kind, by action, by who, by region.
        let total = rows.len();
        let (_, page) = get(&app, &admin, "/station/admin/audit?entity=user").await;
        let users = table_rows(&page, "audit");
        assert!(!users.is_empty() && users.len() < total, "{page}");
        assert!(users.iter().all(|r| r.contains("账号")), "{page}");
        assert!(page.contains("<option value=\"user\" selected>"), "{page}");
        let (_, page) = get(&app, &admin, "/station/admin/audit?action=update").await;
        let updates = table_rows(&page, "audit");
        assert_eq!(updates.len(), 1, "{page}");
        assert!(updates[0].contains("门前可停献血车"));
        let (_, page) = get(&app, &admin, "/station/admin/audit?user=CHIEF").await;
        let mine = table_rows(&page, "audit");
        assert_eq!(mine.len(), 1, "{page}");
        assert!(mine[0].contains("zhou.ming"));
        let (_, page) = get(
            &app,
            &admin,
            &format!("/station/admin/audit?region={DONGLING}&entity=point"),
        )
        .await;
        let dongling = table_rows(&page, "audit");
        // P1 and P4 are in 东岭镇: two creations and P1's change.
        assert_eq!(dongling.len(), 3, "{page}");
        assert_eq!(input_value(&page, "region"), DONGLING);
        // Days: today (China) holds everything, yesterday nothing.
        let today = crate::bookings::today();
        let (_, page) = get(
            &app,
            &admin,
            &format!("/station/admin/audit?from={today}&to={today}"),
        )
        .await;
        assert_eq!(table_rows(&page, "audit").len(), total, "{page}");
        let yesterday = today - Duration::days(1);
        let (_, page) = get(&app, &admin, &format!("/station/admin/audit?to={yesterday}")).await;
        assert!(table_rows(&page, "audit").is_empty(), "{page}");
        assert!(page.contains("没有符合条件的记录"), "{page}");

        // Refused filters: errors beside the fields, what was typed kept.
        let (status, page) = get(&app, &admin, "/station/admin/audit?from=yesterday").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"from-error\""), "{page}");
        assert_eq!(input_value(&page, "from"), "yesterday");
        let (status, page) = get(
            &app,
            &admin,
            "/station/admin/audit?from=2026-12-05&to=2026-12-01",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"to-error\""), "{page}");
        let (status, page) = get(&app, &admin, "/station/admin/audit?region=99").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"region-error\""), "{page}");

        // Station staff of 东岭镇: no account records, and 西河乡 is no region for them.
        let staff = signed_in(&app, "dong.staff", "station_staff", &[DONGLING]).await;
        let (status, page) = get(&app, &staff, "/station/admin/audit").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let seen = table_rows(&page, "audit");
        assert!(!seen.is_empty(), "{page}");
        assert!(seen.iter().all(|r| !r.contains("zhou.ming")), "{page}");
        assert!(!page.contains("<option value=\"user\""), "{page}");
        let (status, page) = get(
            &app,
            &staff,
            &format!("/station/admin/audit?region={}", crate::plans::XIHE),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("不在您负责的范围内"), "{page}");

        // Paged: 60 more records make a second page, reached by the older link and back.
        let at = Utc::now();
        for n in 0..60 {
            let after = json!({"plate": format!("豫L{n:05}")});
            donornet::store::audit::record(
                &app.db,
                donornet::store::audit::Change {
                    entity: "vehicle",
                    entity_id: n.to_string(),
                    action: "update",
                    region_code: Some(COUNTY.to_owned()),
                    before: None,
                    after: Some(&after),
                    actor: donornet::store::audit::Actor::command_line(),
                    at,
                },
            )
            .await
            .unwrap();
        }
        let (_, page) = get(&app, &admin, "/station/admin/audit?entity=vehicle").await;
        let first = table_rows(&page, "audit");
        assert_eq!(first.len(), 50, "{page}");
        assert!(first[0].contains("豫L00059"), "{}", first[0]);
        assert!(!page.contains("id=\"newest\""), "{page}");
        let link_end = page.find("\" id=\"older\"").expect("an older page");
        let link_start = page[..link_end].rfind("href=\"").unwrap() + "href=\"".len();
        let older = page[link_start..link_end].replace("&#38;", "&");
        assert!(older.starts_with("/station/admin/audit?entity=vehicle&cursor="), "{older}");
        let (_, page) = get(&app, &admin, &older).await;
        let second = table_rows(&page, "audit");
        // The ten oldest vehicle records and the network's own vehicle creations.
        assert!(second.len() >= 10, "{page}");
        assert!(second[0].contains("豫L00009"), "{}", second[0]);
        assert!(page.contains("id=\"newest\""), "{page}");
        assert!(!page.contains("豫L00010"), "{page}");
        app
    })
    .await;
}

#[tokio::test]
async fn the_outbox_lists_messages_by_state_sends_by_hand_and_retries_a_failed_one() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let (_, stop) = published_stop(
            &app,
            net.vehicles[0],
            net.points[0],
            today() + Duration::days(3),
            "09:00",
            "11:00",
        )
        .await;
        booked(&app, stop, "张三", "13800000001", "09:00").await;
        booked(&app, stop, "李四", "13800000002", "09:00").await;
        let run = app
            .client
            .post(app.url("/api/v1/outbox/run"))
            .send()
            .await
            .unwrap();
        let run: Value = run.json().await.unwrap();
        assert_eq!(run["dispatched"]["by_hand"], 2, "{run}");
        let messages = app.get_ok("/api/v1/outbox?limit=500").await["items"].clone();
        let ids: Vec<i64> = messages
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        let (first, second) = (ids[1], ids[0]);

        // To send by hand: whole numbers, for the admin of the whole database.
        let admin = signed_in(&app, "chief", "admin", &[]).await;
        let (status, page) = get(&app, &admin, "/station/admin/outbox").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let rows = table_rows(&page, "messages");
        assert_eq!(rows.len(), 2, "{page}");
        assert!(rows[0].contains("13800000001"), "{}", rows[0]);
        assert!(rows[0].contains("预约确认"), "{}", rows[0]);
        for state in ["failed", "sent", "pending", "void", "suppressed"] {
            assert!(page.contains(&format!("href=\"/station/admin/outbox?status={state}\"")));
        }
        // Marked sent.
        let (status, location, _) = post(
            &app,
            &admin,
            &format!("/station/admin/outbox/{first}/sent"),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            location,
            "/station/admin/outbox?status=to_send_by_hand&done=sent"
        );
        let sent = app.get_ok("/api/v1/outbox?status=sent").await["items"].clone();
        assert_eq!(sent.as_array().unwrap().len(), 1);
        assert_eq!(sent[0]["id"], first);
        let (_, page) = get(&app, &admin, "/station/admin/outbox?status=sent").await;
        let rows = table_rows(&page, "messages");
        assert_eq!(rows.len(), 1, "{page}");
        // Numbers masked outside the by-hand list.
        assert!(!rows[0].contains("13800000001"), "{}", rows[0]);
        // Marking it again: it is not waiting any more.
        let (status, _, _) = post(
            &app,
            &admin,
            &format!("/station/admin/outbox/{first}/sent"),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);

        // A message the gateway gave up on: listed with its error, sent again.
        entity::outbox_message::Entity::update_many()
            .col_expr(
                entity::outbox_message::Column::Status,
                Expr::value("failed"),
            )
            .col_expr(entity::outbox_message::Column::Attempts, Expr::value(8))
            .col_expr(
                entity::outbox_message::Column::LastError,
                Expr::value("webhook answered 502 Bad Gateway"),
            )
            .filter(entity::outbox_message::Column::Id.eq(second))
            .exec(&app.db)
            .await
            .unwrap();
        let (status, page) = get(&app, &admin, "/station/admin/outbox?status=failed").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let rows = table_rows(&page, "messages");
        assert_eq!(rows.len(), 1, "{page}");
        assert!(rows[0].contains("webhook answered 502"), "{}", rows[0]);
        assert!(rows[0].contains(&format!("/station/admin/outbox/{second}/retry")));
        let (status, location, _) = post(
            &app,
            &admin,
            &format!("/station/admin/outbox/{second}/retry"),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, "/station/admin/outbox?status=failed&done=retried");
        let pending = app.get_ok("/api/v1/outbox?status=pending").await["items"].clone();
        assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
        assert_eq!(pending[0]["id"], second);
        assert_eq!(pending[0]["attempts"], 0);
        let (_, page) = get(&app, &admin, &location).await;
        assert!(page.contains("已放回待发送队列"), "{page}");
        assert!(table_rows(&page, "messages").is_empty(), "{page}");
        // Retried once only; a message that is not failed is not sent again.
        let (status, _, _) = post(
            &app,
            &admin,
            &format!("/station/admin/outbox/{second}/retry"),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        // The retry is audited.
        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=outbox_message&id={second}"))
            .await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["retry"]);
        // The API retries the same way: failed again, queued again once, then 409.
        entity::outbox_message::Entity::update_many()
            .col_expr(
                entity::outbox_message::Column::Status,
                Expr::value("failed"),
            )
            .filter(entity::outbox_message::Column::Id.eq(second))
            .exec(&app.db)
            .await
            .unwrap();
        let retried = app
            .client
            .post(app.url(&format!("/api/v1/outbox/{second}/retry")))
            .send()
            .await
            .unwrap();
        assert_eq!(retried.status(), StatusCode::OK);
        let retried: serde_json::Value = retried.json().await.unwrap();
        assert_eq!(retried["status"], "pending", "{retried}");
        assert_eq!(retried["attempts"], 0, "{retried}");
        let again = app
            .client
            .post(app.url(&format!("/api/v1/outbox/{second}/retry")))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::CONFLICT);

        // Station staff of the county: only the messages to send by hand; the rest is the
        // whole outbox's, for admins of the whole database.
        let run = app
            .client
            .post(app.url("/api/v1/outbox/run"))
            .send()
            .await
            .unwrap();
        assert_eq!(run.status(), StatusCode::OK);
        let staff = signed_in(&app, "zhou", "station_staff", &[COUNTY]).await;
        let (status, page) = get(&app, &staff, "/station/admin/outbox").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let rows = table_rows(&page, "messages");
        assert_eq!(rows.len(), 1, "{page}");
        assert!(rows[0].contains("13800000002"), "{}", rows[0]);
        assert!(!page.contains("status=failed"), "{page}");
        let (status, _) = get(&app, &staff, "/station/admin/outbox?status=failed").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = post(
            &app,
            &staff,
            &format!("/station/admin/outbox/{second}/retry"),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Staff of 西河乡: the county's drive is not theirs; its message does not exist.
        let other = signed_in(&app, "xi", "station_staff", &[crate::plans::XIHE]).await;
        let (_, page) = get(&app, &other, "/station/admin/outbox").await;
        assert!(table_rows(&page, "messages").is_empty(), "{page}");
        let (status, _, _) = post(
            &app,
            &other,
            &format!("/station/admin/outbox/{second}/sent"),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, location, _) = post(
            &app,
            &staff,
            &format!("/station/admin/outbox/{second}/sent"),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
        // A state that is none: not found.
        let (status, _) = get(&app, &admin, "/station/admin/outbox?status=lost").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app
    })
    .await;
}
