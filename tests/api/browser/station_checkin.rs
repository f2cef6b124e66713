//! The check-in desk on a tablet (1024x768 landscape, then 768x1024 portrait), in Chinese, in
//! a real browser: staff open a published drive's stop on its day from the drive's page,
//! check in three booked people (found by code, by name, and from the list), record one
//! donation and one deferral, lose the signal, record the third person's donation (kept on
//! the tablet) and 张三 again as a walk-in, get the signal back and see the donation sent and
//! counted and the second 张三 refused on `/sync`, with its form.
//!
//! The signal is a relay in front of the app that the test cuts (`super::Signal`), as in
//! `browser::official`.

use chrono::Duration;
use serde_json::Value;

use super::{Driver, Signal, clear_screenshots};
use crate::bookings::{booked, published_stop, today, unlimited};
use crate::helpers::{TestApp, on_each_backend_with, user_with_token};
use crate::plans::{CITY, network};

const PASSWORD: &str = "long enough passphrase";
const TABLET: (u32, u32) = (1024, 768);
const PORTRAIT: (u32, u32) = (768, 1024);

async fn attendances(app: &TestApp, stop: i64) -> Vec<Value> {
    app.get_ok(&format!("/api/v1/stops/{stop}/attendances"))
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn staff_check_people_in_on_a_tablet_and_record_an_outcome_offline() {
    const TEST: &str = "station_checkin";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend_with(unlimited, |app| {
        let driver = &driver;
        async move {
            let net = network(&app).await;
            let day = today() + Duration::days(5);
            let (drive, stop) =
                published_stop(&app, net.vehicles[0], net.points[0], day, "09:00", "11:00").await;
            let zhang = booked(&app, stop, "张三", "13800001234", "09:00").await;
            booked(&app, stop, "李四", "13900005678", "09:30").await;
            let wang = booked(&app, stop, "王芳", "13700002468", "10:00").await;
            let zhang = zhang["code"].as_str().unwrap().to_owned();
            let wang = wang["code"].as_str().unwrap().to_owned();
            app.set_today(&day.to_string());
            user_with_token(
                &app.db,
                "chen.station",
                "station_staff",
                &[CITY],
                Some(PASSWORD),
            )
            .await;
            let signal = Signal::to(&app).await;
            let mut b = driver.browser_through(&app, &signal, "").await;
            b.goto("/login").await;
            b.resize(TABLET).await;
            b.fill("#username", "chen.station").await;
            b.fill("#password", PASSWORD).await;
            b.click_to_load("form button[type=submit]").await;
            b.wait_for_path("signed in", |p| !p.starts_with("/login"))
                .await;

            // From the drive's page to the stop's desk.
            b.goto(&format!("/station/drives/{drive}")).await;
            b.click_to_load(&format!("#checkin-stop-{stop}")).await;
            let desk = format!("/station/stops/{stop}/checkin");
            b.wait_for_path("the desk", |p| p == desk).await;
            b.wait_for_script().await;
            b.wait_for_service_worker().await;
            assert_eq!(b.text("#count-expected dd").await, "20");
            b.check("desk").await;

            // 张三 by code (as read out, in lower case), 李四 by name, 王芳 from the list.
            b.fill("#q", &zhang.to_lowercase()).await;
            b.click_to_load("form.scheck-search button[type=submit]")
                .await;
            assert!(!b.has(&format!("#checkin-{wang}")).await);
            b.check("search-code").await;
            b.click_to_load(&format!("#checkin-{zhang}")).await;
            b.find("#notice").await;
            b.fill("#q", "李四").await;
            b.click_to_load("form.scheck-search button[type=submit]")
                .await;
            b.click_to_load("button[id^='checkin-']").await;
            b.find("#notice").await;
            b.click_to_load(&format!("#checkin-{wang}")).await;
            b.find("#notice").await;
            assert_eq!(b.text("#count-checked-in dd").await, "3");
            let people = attendances(&app, stop).await;
            let names: Vec<&str> = people.iter().map(|p| p["name"].as_str().unwrap()).collect();
            assert_eq!(names, ["张三", "李四", "王芳"]);
            let id = |i: usize| people[i]["id"].as_i64().unwrap();

            // 张三 gave 400 mL of A+; 李四 is deferred (blood pressure).
            b.pick(&format!("#vol-{}", id(0)), "400").await;
            b.pick(&format!("#abo-{}", id(0)), "A").await;
            b.pick(&format!("#rh-{}", id(0)), "+").await;
            b.click_to_load(&format!("#donated-{}", id(0))).await;
            b.find("#notice").await;
            b.pick(&format!("#cat-{}", id(1)), "blood_pressure").await;
            b.click_to_load(&format!("#deferred-{}", id(1))).await;
            b.find("#notice").await;
            assert_eq!(b.text("#count-donated dd").await, "1");
            assert_eq!(b.text("#count-deferred dd").await, "1");
            assert_eq!(b.text("#count-ml dd").await, "400");
            b.check("outcomes").await;

            // The signal goes: 王芳's donation is kept on the tablet.
            b.lose_signal(&signal).await;
            b.pick(&format!("#vol-{}", id(2)), "300").await;
            b.pick(&format!("#abo-{}", id(2)), "O").await;
            b.click_to_load(&format!("#donated-{}", id(2))).await;
            b.wait_for_path("the desk, offline", |p| p.contains("queued=1"))
                .await;
            b.wait_for_text("#offline-banner [data-waiting]", "1").await;
            b.check("offline-kept").await;
            assert_eq!(attendances(&app, stop).await[2]["outcome"], "registered");
            // 张三 again, as a walk-in by mistake: kept too.
            b.fill("#walkin-name", "张三").await;
            b.fill("#walkin-mobile", "13800001234").await;
            b.click_to_load("#walkin-submit").await;
            b.wait_for_text("#offline-banner [data-waiting]", "2").await;

            // The signal is back: the donation is sent and counted; 张三 is not admitted twice,
            // the refusal waits on /sync with its form.
            b.regain_signal(&signal).await;
            b.wait_for_text("#offline-banner [data-refused]", "1").await;
            b.wait_for_text("#offline-banner [data-waiting]", "0").await;
            assert_eq!(attendances(&app, stop).await.len(), 3);
            b.click_to_load("#offline-banner a[href='/sync']").await;
            b.find(".sync-item.refused #walkin-submit").await;
            assert!(
                b.text(".sync-item.refused")
                    .await
                    .contains("这个手机号已经在本点签到过（张三）")
            );
            b.check("sync-refused").await;
            let people = attendances(&app, stop).await;
            assert_eq!(people[2]["outcome"], "donated", "{people:?}");
            assert_eq!(people[2]["volume_ml"], 300);
            assert_eq!(people[2]["abo"], "O");
            b.goto(&desk).await;
            assert_eq!(b.text("#count-donated dd").await, "2");
            assert_eq!(b.text("#count-ml dd").await, "700");
            b.check("synced").await;

            // Held upright.
            b.resize(PORTRAIT).await;
            b.check("portrait").await;
            b.close().await;
            app
        }
    })
    .await;
}
