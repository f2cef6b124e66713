//! The recruiter's call screen in a real browser, in Chinese, on a 360 px phone and a 1366 px
//! laptop: a staff member opens the recruitment hub, then their calls for a need at a drive
//! stop; on the phone they show 甲一's number (a `tel:` link) and book them into the stop's
//! 09:30 slot from the card; on the laptop they record 乙二's call as no answer; then the
//! need's page shows the progress. Each step is screenshotted and checked with axe-core.

use super::{DESKTOP, Driver, PHONE, clear_screenshots};
use crate::helpers::{on_each_backend, user_with_token};
use crate::pages_recruitment::need_with_calls;
use crate::recruitment::{COUNTY, setup};

const PASSWORD: &str = "long enough passphrase";

#[tokio::test]
async fn a_recruiter_shows_a_number_books_a_donor_and_records_no_answer_on_a_phone_and_a_laptop() {
    const TEST: &str = "recruitment";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            let station = setup(&app).await;
            user_with_token(
                &app.db,
                "chen.station",
                "station_staff",
                &[COUNTY],
                Some(PASSWORD),
            )
            .await;
            let (need, stop, call_a, call_b) = need_with_calls(&app, station, "chen.station").await;
            let mut b = driver.browser(&app, "").await;
            b.goto("/login").await;
            b.fill("#username", "chen.station").await;
            b.fill("#password", PASSWORD).await;
            b.click_to_load("form button[type=submit]").await;
            b.wait_for_path("signed in", |p| !p.starts_with("/login"))
                .await;

            // The hub, from the top bar.
            b.click_to_load("#nav-station-recruitment").await;
            b.wait_for_path("the hub", |p| p == "/station/recruitment")
                .await;
            b.find(&format!("#need-{need}")).await;
            b.check("hub").await;
            b.resize(DESKTOP).await;
            b.check("hub-wide").await;
            b.resize(PHONE).await;

            // My calls on the phone: masked until shown on purpose.
            b.goto(&format!("/station/recruitment/calls?need={need}"))
                .await;
            assert_eq!(b.text(&format!("#masked-{call_a}")).await, "138****0001");
            b.check("calls").await;
            b.click_to_load(&format!("#reveal-{call_a}")).await;
            let tel = b.find(&format!("#tel-{call_a}")).await;
            assert_eq!(
                tel.attr("href").await.unwrap().as_deref(),
                Some("tel:13800000001")
            );
            b.check("number-shown").await;

            // 甲一 agrees: booked into 09:30 from the card.
            b.pick(&format!("#slot-{call_a}"), "09:30").await;
            b.click_to_load(&format!("#book-{call_a}")).await;
            let notice = b.text("#notice").await;
            assert!(notice.contains("预约码"), "{notice}");
            assert!(!b.has(&format!("#card-{call_a}")).await);
            assert_eq!(
                crate::bookings::left(&app, stop).await,
                [("09:00".to_owned(), 1), ("09:30".to_owned(), 0)]
            );
            b.check("booked").await;

            // On the laptop: 乙二 does not answer.
            b.resize(DESKTOP).await;
            b.check("calls-wide").await;
            b.click(&format!("#outcome-{call_b}-no_answer")).await;
            b.click_to_load(&format!("#record-{call_b}")).await;
            b.find("#notice").await;
            b.find("#no-cards").await;
            b.check("recorded-wide").await;

            // The need's progress.
            b.goto(&format!("/station/recruitment/needs/{need}")).await;
            assert_eq!(b.text("#fig-booked dd").await, "1 / 2");
            assert_eq!(b.text("#fig-no_answer dd").await, "1");
            b.check("need-wide").await;
            b.resize(PHONE).await;
            b.check("need").await;
            b.close().await;
            app
        }
    })
    .await;
}
