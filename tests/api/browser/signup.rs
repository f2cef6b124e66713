//! A group drive's sign-up page (issue 16) in a real browser, in Chinese, on a 360x740 phone
//! and a 1366x768 laptop: the host contact's link opens the page with the goal and nobody
//! signed up; a colleague's mistake is explained beside the field; two colleagues sign up,
//! each for their own place; the contact sees the count against the goal and the names
//! masked. Every step is screenshotted and checked with axe-core at both sizes.

use donornet::i18n::Lang;

use super::{Browser, DESKTOP, Driver, PHONE, clear_screenshots};
use crate::bookings::unlimited;
use crate::groupdrives::published_at_host;
use crate::helpers::on_each_backend_with;
use crate::plans::network;

const SIGN_UP: &str = "form.booking button[type=submit]";

/// Checks the page on the phone and on the laptop (axe-core at both), back on the phone.
async fn check_both(b: &mut Browser, step: &str) {
    b.check(step).await;
    b.resize(DESKTOP).await;
    b.check(&format!("{step}-wide")).await;
    b.resize(PHONE).await;
}

async fn fill(b: &Browser, token: &str, slot: &str, name: &str, mobile: &str) {
    b.goto(&format!("/signup/{token}")).await;
    b.wait_for_script().await;
    b.pick("#slot", slot).await;
    b.fill("#name", name).await;
    b.fill("#mobile", mobile).await;
}

#[tokio::test]
async fn colleagues_sign_up_on_the_hosts_page_on_a_phone_and_a_laptop() {
    const TEST: &str = "host_signup";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend_with(unlimited, |app| {
        let driver = &driver;
        async move {
            let zh = Lang::ZhCn;
            let net = network(&app).await;
            let (_, _, token) = published_at_host(&app, net.vehicles[0]).await;
            let mut b = driver.browser(&app, "").await;

            b.goto(&format!("/signup/{token}")).await;
            assert_eq!(b.text("h1").await, "东岭镇中心小学 献血报名");
            assert_eq!(
                b.text("#signup-count").await,
                format!(
                    "{} · {}",
                    zh.t1("signup-count", "count", 0),
                    zh.t1("signup-goal", "goal", 3)
                )
            );
            check_both(&mut b, "empty").await;

            // A short mobile number: explained under the field, the rest kept.
            fill(&b, &token, "09:00", "王小明", "1390000").await;
            b.click_to_load(SIGN_UP).await;
            assert_eq!(b.path().await, format!("/signup/{token}/book"));
            assert_eq!(b.text("#problem").await, zh.t("refused-fields"));
            assert_eq!(b.text("#mobile-error").await, zh.t("hint-mobile"));
            assert_eq!(b.value("#name").await, "王小明");
            check_both(&mut b, "wrong-mobile").await;

            // Two colleagues, each their own place.
            for (slot, name, mobile) in [
                ("09:00", "王小明", "13900000001"),
                ("09:30", "李华", "13900000002"),
            ] {
                fill(&b, &token, slot, name, mobile).await;
                b.click_to_load(SIGN_UP).await;
                b.wait_for_path("the booking page", |p| p.starts_with("/bookings/"))
                    .await;
            }
            check_both(&mut b, "booked").await;

            // The contact's view: two of three, names masked.
            b.goto(&format!("/signup/{token}")).await;
            assert!(
                b.text("#signup-count")
                    .await
                    .starts_with(&zh.t1("signup-count", "count", 2))
            );
            assert_eq!(b.text("ol.names").await, "王**\n李*");
            assert!(!b.visible_text().await.contains("13900000001"));
            check_both(&mut b, "two-of-three").await;
            b.close().await;
            app
        }
    })
    .await;
}
