//! The station's administration pages in a real browser on a 1366x768 desk, in Chinese: an
//! admin signs in, opens the administration from the navigation, changes a staff member's role
//! and regions (after a refused region), makes an API token (its secret shown once) and
//! revokes it, filters the audit log, marks a message sent by hand and sends a failed one
//! again. Every page is screenshotted and checked with axe-core.

use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use super::{DESKTOP, Driver, clear_screenshots};
use crate::bookings::{booked, published_stop, today};
use crate::helpers::{on_each_backend, user_with_token};
use crate::plans::{COUNTY, DONGLING, network};

const PASSWORD: &str = "long enough passphrase";

#[tokio::test]
async fn an_admin_at_a_desk_manages_accounts_tokens_the_audit_log_and_the_outbox() {
    const TEST: &str = "station_admin";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            // Two bookings, handed to staff to send by hand; the second then given up on.
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
            assert_eq!(run.status().as_u16(), 200);
            let messages = app.get_ok("/api/v1/outbox").await["items"].clone();
            let failed = messages[0]["id"].as_i64().unwrap();
            entity::outbox_message::Entity::update_many()
                .col_expr(
                    entity::outbox_message::Column::Status,
                    Expr::value("failed"),
                )
                .col_expr(
                    entity::outbox_message::Column::LastError,
                    Expr::value("webhook answered 502 Bad Gateway"),
                )
                .filter(entity::outbox_message::Column::Id.eq(failed))
                .exec(&app.db)
                .await
                .unwrap();
            user_with_token(&app.db, "chief", "admin", &[], Some(PASSWORD)).await;
            user_with_token(
                &app.db,
                "zhou.ming",
                "station_staff",
                &[COUNTY],
                Some(PASSWORD),
            )
            .await;

            let mut b = driver.browser(&app, "").await;
            b.resize(DESKTOP).await;
            b.goto("/login").await;
            b.fill("#username", "chief").await;
            b.fill("#password", PASSWORD).await;
            b.click_to_load("form button[type=submit]").await;
            b.wait_for_path("signed in", |p| !p.starts_with("/login"))
                .await;

            // The administration, from the navigation.
            b.click_to_load("#nav-station-admin").await;
            assert_eq!(b.path().await, "/station/admin");
            assert_eq!(b.text("h1").await, "系统管理");
            b.check("index").await;

            // Accounts: zhou.ming's page; a region that does not exist is refused beside the
            // field; then a viewer of 东岭镇.
            b.click_to_load("a[href='/station/admin/accounts']").await;
            b.check("accounts").await;
            let users = app.get_ok("/api/v1/users").await;
            let zhou = users["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["username"] == "zhou.ming")
                .unwrap()["id"]
                .clone();
            let account = format!("/station/admin/accounts/{zhou}");
            b.click_to_load(&format!("#accounts a[href='{account}']"))
                .await;
            assert!(b.text("h1").await.contains("zhou.ming"));
            b.fill("#regions", "990199000000").await;
            b.click_to_load("form.account-change button[type=submit]")
                .await;
            b.find("#regions-error").await;
            b.check("account-refused").await;
            b.pick("#role", "viewer").await;
            b.fill("#regions", DONGLING).await;
            b.click_to_load("form.account-change button[type=submit]")
                .await;
            let saved = b
                .wait_for_path("the account saved", |p| p.ends_with("done=saved"))
                .await;
            assert!(saved.starts_with(&account), "{saved}");
            let users = app.get_ok("/api/v1/users").await;
            let stored: &Value = users["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["username"] == "zhou.ming")
                .unwrap();
            assert_eq!(stored["role"], "viewer");
            assert_eq!(stored["regions"][0], DONGLING);
            b.check("account-saved").await;

            // A token: its secret shown once, then revoked.
            b.goto("/station/admin/tokens").await;
            b.fill("#name", "nightly sync").await;
            b.fill("#expires_in_days", "30").await;
            b.click_to_load("form.token-new button[type=submit]").await;
            let secret = b.value("#secret").await;
            assert!(secret.starts_with("dn_"), "{secret}");
            b.check("token-created").await;
            b.goto("/station/admin/tokens").await;
            assert!(!b.visible_text().await.contains(&secret));
            assert!(!b.has("#secret").await);
            b.click_to_load("#tokens button[aria-label='作废令牌 nightly sync']")
                .await;
            b.wait_for_path("the token revoked", |p| p.ends_with("done=revoked"))
                .await;
            b.check("token-revoked").await;

            // The audit log, narrowed to accounts.
            b.goto("/station/admin/audit").await;
            b.check("audit").await;
            b.pick("#entity", "user").await;
            b.click_to_load("form.sadmin-filters button[type=submit]")
                .await;
            assert!(b.path().await.contains("entity=user"));
            let kinds = b
                .run(
                    "return [...document.querySelectorAll('#audit > tbody > tr > th')]\
                     .map(th => th.textContent.trim());",
                )
                .await;
            let kinds = kinds.as_array().expect("a list");
            assert!(!kinds.is_empty());
            assert!(
                kinds
                    .iter()
                    .all(|k| k.as_str().unwrap_or_default().starts_with("账号")),
                "{kinds:?}"
            );
            b.check("audit-accounts").await;

            // The outbox: one message to send by hand, marked sent; the failed one sent again.
            b.goto("/station/admin/outbox").await;
            assert!(b.text("#messages").await.contains("13800000001"));
            b.check("outbox-by-hand").await;
            b.click_to_load("#messages form[action$='/sent'] button")
                .await;
            b.wait_for_path("marked sent", |p| p.ends_with("done=sent"))
                .await;
            b.find("#outbox-empty").await;
            b.click_to_load("a[href='/station/admin/outbox?status=failed']")
                .await;
            assert!(b.text("#messages").await.contains("502"));
            b.check("outbox-failed").await;
            b.click_to_load(&format!("#message-{failed} form[action$='/retry'] button"))
                .await;
            b.wait_for_path("sent again", |p| p.ends_with("done=retried"))
                .await;
            b.check("outbox-retried").await;
            let pending = app.get_ok("/api/v1/outbox?status=pending").await;
            assert_eq!(pending["items"][0]["id"], failed);
            b.close().await;
            app
        }
    })
    .await;
}
