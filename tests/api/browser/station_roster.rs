//! The donor roster's pages in a real browser (issue 16), on a phone and on a laptop, in
//! Chinese: the list masked, a donor enrolled from a paper consent after a refused first try,
//! the whole number shown on purpose, the sheet import refusing a bad sheet with its rows;
//! every step screenshotted and checked with axe-core.

use super::{Driver, clear_screenshots};
use crate::helpers::{on_each_backend, user_with_token};
use crate::recruitment::{COUNTY, LIUWAN, SHIQIAO, donor, enrol, setup};

const PASSWORD: &str = "long enough passphrase";

#[tokio::test]
async fn staff_work_the_donor_roster_on_a_phone_and_a_laptop() {
    const TEST: &str = "station_roster";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            setup(&app).await;
            let wang = enrol(
                &app,
                &app.client,
                &donor("王芳", "13800138000", "O+", SHIQIAO, None),
            )
            .await;
            enrol(
                &app,
                &app.client,
                &donor(
                    "李四",
                    "13900139000",
                    "A-",
                    LIUWAN,
                    Some(("2026-06-01", "whole_blood")),
                ),
            )
            .await;
            user_with_token(
                &app.db,
                "chen.station",
                "station_staff",
                &[COUNTY],
                Some(PASSWORD),
            )
            .await;
            let mut b = driver.browser(&app, "").await;
            b.goto("/login").await;
            b.fill("#username", "chen.station").await;
            b.fill("#password", PASSWORD).await;
            b.click_to_load("form button[type=submit]").await;
            b.wait_for_path("signed in", |p| !p.starts_with("/login"))
                .await;

            b.goto("/station/recruitment/roster").await;
            assert!(b.text("#donors").await.contains("138****8000"));
            b.check_wide("roster").await;

            // Enrol: the first try lacks the agreement and has a short mobile.
            b.click_to_load("#enrol").await;
            b.fill("#name", "赵六").await;
            b.fill("#mobile", "1370013").await;
            b.fill("#village_code", SHIQIAO).await;
            b.click_to_load("#enrol-submit").await;
            assert!(b.has("#agreed-error").await && b.has("#mobile-error").await);
            b.check_wide("enrol-refused").await;
            b.fill("#mobile", "13700137000").await;
            b.click("#agreed").await;
            b.click_to_load("#enrol-submit").await;
            b.wait_for_path("the donor", |p| {
                p.starts_with("/station/recruitment/roster/")
            })
            .await;
            assert!(b.has("#notice").await);

            // A donor's whole number, on purpose.
            b.goto(&format!(
                "/station/recruitment/roster/{}",
                wang["donor"]["id"]
            ))
            .await;
            b.click_to_load("#show-number").await;
            assert_eq!(b.text("#mobile-whole").await, "13800138000");
            b.check_wide("number-shown").await;
            b.click_to_load("#delete").await;
            b.check("delete-confirm").await;

            // The import page, with its format and example.
            b.goto("/station/recruitment/roster/import").await;
            assert!(b.text("#example").await.contains("同意日期"));
            b.check_wide("import").await;
            app
        }
    })
    .await;
}
