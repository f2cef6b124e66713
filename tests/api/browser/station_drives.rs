//! The station's drive pages in a real browser on a desk's 1366x768 screen, in Chinese: staff
//! sign in, open the drives' calendar from the navigation, filter it by status, open a draft
//! drive and publish it, tick a checklist item, open a published drive with its bookings per
//! slot (a person and a group spread over two slots), cancel it (the page listing whom it will
//! tell, the reason asked for, then cancelled and told); the calendar again as a list on a
//! phone. Every page visited is screenshotted and checked with axe-core.
//!
//! The network is the planning tests' (`crate::plans::network`); the drives are made through
//! the API as the admin, on days after today (bookings take the real clock).

use chrono::{Datelike, Duration};
use serde_json::json;

use super::{DESKTOP, Driver, PHONE, clear_screenshots};
use crate::bookings::{booked, published_stop, today, unlimited};
use crate::helpers::{on_each_backend_with, user_with_token};
use crate::pages_station_drives::drive;
use crate::plans::{CITY, network};

const PASSWORD: &str = "long enough passphrase";

#[tokio::test]
async fn staff_at_a_desk_read_the_calendar_publish_tick_and_cancel_a_drive() {
    const TEST: &str = "station_drives";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend_with(unlimited, |app| {
        let driver = &driver;
        async move {
            let net = network(&app).await;
            let [p1, p2, p3, _] = net.points;
            let day = today() + Duration::days(3);
            // A published drive at P3 with three bookings (one a group over two slots), and
            // a draft two days later at P1 and P2.
            let (busy, stop) =
                published_stop(&app, net.vehicles[1], p3, day, "09:00", "11:00").await;
            booked(&app, stop, "张三", "13800001234", "09:00").await;
            booked(&app, stop, "李四", "13900005678", "09:30").await;
            let group = app
                .anonymous
                .post(app.url(&format!("/api/v1/public/stops/{stop}/group-bookings")))
                .json(
                    &json!({"organisation": "北冈村委会", "contact_name": "王会计",
                              "contact_mobile": "13700009999", "headcount": 3,
                              "preferred_slots": ["10:00", "10:30"]}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(group.status().as_u16(), 201);
            let later = day + Duration::days(2);
            let draft = drive(&app, net.vehicles[0], &later.to_string(), &[p1, p2]).await;
            let draft = draft["id"].as_i64().unwrap();
            user_with_token(
                &app.db,
                "chen.station",
                "station_staff",
                &[CITY],
                Some(PASSWORD),
            )
            .await;

            let mut b = driver.browser(&app, "").await;
            b.resize(DESKTOP).await;
            b.goto("/login").await;
            b.fill("#username", "chen.station").await;
            b.fill("#password", PASSWORD).await;
            b.click_to_load("form button[type=submit]").await;

            // The calendar, from the navigation; the month of the draft.
            b.click_to_load("nav a[href='/station/drives']").await;
            assert_eq!(b.text("h1").await, "出车安排");
            let month = format!("{}-{:02}", later.year(), later.month());
            b.goto(&format!("/station/drives?month={month}")).await;
            b.find(&format!("a[href='/station/drives/{draft}']")).await;
            b.check("calendar").await;

            // Only the published ones.
            b.click("input[name=status][value=published]").await;
            b.click_to_load(".sdrive-filter button[type=submit]").await;
            assert!(!b.has(&format!("a[href='/station/drives/{draft}']")).await);
            if later.month() == day.month() {
                b.find(&format!("a[href='/station/drives/{busy}']")).await;
            }
            b.check("calendar-published").await;

            // The draft: publish it.
            b.goto(&format!("/station/drives/{draft}")).await;
            b.check("draft").await;
            b.click_to_load("#move-published").await;
            assert!(b.text(".notice").await.contains("已发布"));
            assert_eq!(b.text("#drive-status").await, "已发布");
            let stored = app.get_ok(&format!("/api/v1/drives/{draft}")).await;
            assert_eq!(stored["status"], "published");
            b.check("published").await;

            // Tick the first item of its checklist.
            b.click_to_load(".sdrive-items form button[type=submit]")
                .await;
            assert!(b.text(".sdrive-just").await.contains("已记为完成"));
            let list = app
                .get_ok(&format!("/api/v1/drives/{draft}/checklist"))
                .await;
            assert_eq!(list["stops"][0]["items"][0]["done"], true);
            b.check("ticked").await;

            // The busy drive's bookings per slot, then cancelling it.
            b.goto(&format!("/station/drives/{busy}")).await;
            let text = b.visible_text().await;
            assert!(text.contains("138****1234"), "{text}");
            assert!(text.contains("北冈村委会（联系人 王会计）"), "{text}");
            assert!(!text.contains("13800001234"), "{text}");
            b.scroll_to(".sdrive-slots").await;
            b.check("bookings").await;
            b.click_to_load("#cancel-drive").await;
            let text = b.visible_text().await;
            assert!(text.contains("张三") && text.contains("李四") && text.contains("王会计"));
            assert!(text.contains("共 5 人"), "{text}");
            b.check("cancel").await;
            b.click_to_load("#confirm-cancel").await;
            assert!(b.has("#reason[aria-invalid=true]").await);
            b.check("cancel-no-reason").await;
            b.fill("#reason", "车辆故障，改期另行通知").await;
            b.click_to_load("#confirm-cancel").await;
            assert!(
                b.text(".notice")
                    .await
                    .contains("已给 3 个预约发出取消通知")
            );
            let stored = app.get_ok(&format!("/api/v1/drives/{busy}")).await;
            assert_eq!(stored["status"], "cancelled");
            b.check("cancelled").await;

            // The calendar as a list on a phone.
            b.resize(PHONE).await;
            b.goto(&format!("/station/drives?month={month}")).await;
            b.check("calendar-phone").await;
            app
        }
    })
    .await;
}
