//! Host organisations (issue 16) in a real browser, in Chinese, on a 360x740 phone and a
//! 1366x768 laptop: a township official opens the hosts from their township page (cards on the
//! phone, a table on the laptop), registers one with a field error first (explained beside the
//! field), and reads a host's page with its contacts; station staff make a group drive's
//! sign-up link on the host's page and see it once, with its copy button. Every step is
//! screenshotted and checked with axe-core at both sizes.

use donornet::i18n::Lang;

use super::{Browser, DESKTOP, Driver, PHONE, clear_screenshots};
use crate::bookings::unlimited;
use crate::groupdrives::published_at_host;
use crate::helpers::{TestApp, on_each_backend_with, user_with_token};
use crate::plans::{CITY, DONGLING, network};

const PASSWORD: &str = "long enough passphrase";

/// Checks the page on the phone and on the laptop (axe-core at both), back on the phone.
async fn check_both(b: &mut Browser, step: &str) {
    b.check(step).await;
    b.resize(DESKTOP).await;
    b.check(&format!("{step}-wide")).await;
    b.resize(PHONE).await;
}

async fn sign_in(b: &Browser, app: &TestApp, username: &str, role: &str, region: &str) {
    user_with_token(&app.db, username, role, &[region], Some(PASSWORD)).await;
    b.goto("/login").await;
    b.fill("#username", username).await;
    b.fill("#password", PASSWORD).await;
    b.click_to_load("form button[type=submit]").await;
    b.wait_for_path("signed in", |p| !p.starts_with("/login"))
        .await;
}

#[tokio::test]
async fn an_official_keeps_the_townships_hosts_on_a_phone_and_staff_make_a_link() {
    const TEST: &str = "hosts";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend_with(unlimited, |app| {
        let driver = &driver;
        async move {
            let zh = Lang::ZhCn;
            let net = network(&app).await;
            // A school with a contact and a published group drive (its link made by the API).
            let (_, stop, _) = published_at_host(&app, net.vehicles[0]).await;
            let school = app.get_ok("/api/v1/hosts").await["items"][0]["id"]
                .as_i64()
                .unwrap();

            let mut b = driver.browser(&app, "official-").await;
            sign_in(&b, &app, "dongling.official", "township_official", DONGLING).await;
            b.goto("/township").await;
            b.click_to_load("#township-hosts").await;
            assert_eq!(b.path().await, "/hosts");
            assert_eq!(b.text("h1").await, zh.t("shost-list-title"));
            assert!(b.text(".shost-cards").await.contains("东岭镇中心小学"));
            check_both(&mut b, "list").await;

            // A new host: no name and a longitude outside China, explained beside the fields.
            b.click_to_load("#new-host").await;
            b.wait_for_script().await;
            b.fill("#name", "").await;
            b.pick("#kind", "enterprise").await;
            b.fill("#address", "东岭镇工业路 9 号").await;
            b.fill("#longitude", "14.02").await;
            b.fill("#latitude", "33.66").await;
            b.fill("#typical_headcount", "300").await;
            b.click("#month-4").await;
            b.click_to_load("#save").await;
            assert_eq!(b.text("#problem").await, zh.t("refused-fields"));
            assert_eq!(b.text("#name-error").await, zh.t("shost-hint-name"));
            assert_eq!(
                b.text("#longitude-error").await,
                zh.t("shost-hint-longitude")
            );
            assert_eq!(b.value("#address").await, "东岭镇工业路 9 号");
            check_both(&mut b, "form-error").await;

            b.fill("#name", "东岭纺织厂").await;
            b.fill("#longitude", "114.02").await;
            b.click_to_load("#save").await;
            b.wait_for_path("the new host", |p| p.starts_with("/hosts/"))
                .await;
            assert_eq!(b.text("h1").await, "东岭纺织厂");
            b.fill("#c-name", "赵工").await;
            b.fill("#c-mobile", "13700001111").await;
            b.fill("#c-role", "工会主席").await;
            b.click_to_load(".shost-contact-form button[type=submit]")
                .await;
            assert!(b.text(".shost-contacts").await.contains("赵工"));
            check_both(&mut b, "host").await;

            // The school's page: its contact and its group drive, read only for the official.
            b.goto(&format!("/hosts/{school}")).await;
            assert!(b.text(".shost-contacts").await.contains("王敏"));
            assert!(!b.has(&format!("#make-link-{stop}")).await);
            check_both(&mut b, "school").await;

            // A talk at the school, logged from its page; then the list.
            b.click_to_load("a[href^='/talks?host=']").await;
            assert_eq!(b.value("#place").await, format!("host-{school}"));
            b.fill("#speaker", "李老师").await;
            b.fill("#audience", "120").await;
            b.fill("#audience_description", "教职工").await;
            b.fill("#materials", "倡议书、宣传单").await;
            b.click_to_load("#log-talk").await;
            assert_eq!(b.text("#notice").await, zh.t("shost-done-talk-logged"));
            assert!(b.text("#talk-list").await.contains("东岭镇中心小学"));
            check_both(&mut b, "talks").await;
            b.close().await;

            // Station staff at a desk: a new link, shown once, with its copy button.
            let mut b = driver.browser(&app, "staff-").await;
            b.resize(DESKTOP).await;
            sign_in(&b, &app, "chen.station", "station_staff", CITY).await;
            b.goto(&format!("/hosts/{school}")).await;
            b.wait_for_script().await;
            b.scroll_to("#drives").await;
            b.check("drive-wide").await;
            // A link exists already: replacing it is asked first.
            b.click(&format!("#make-link-{stop}")).await;
            assert_eq!(b.dialog_text().await, zh.t("shost-link-replace-confirm"));
            b.accept_dialog().await;
            b.wait_for_path("the link", |p| p.ends_with("/link")).await;
            b.wait_for_script().await;
            let link = b.value(&format!("#link-{stop}")).await;
            assert!(link.contains("/signup/"), "{link}");
            b.click("button[data-copy]").await;
            b.check("link-wide").await;
            b.resize(PHONE).await;
            b.check("link").await;
            b.close().await;
            app
        }
    })
    .await;
}
