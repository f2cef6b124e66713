//! The appeals pages in a real browser, on a phone (360 px) and a laptop (1366 px), in
//! Chinese, with axe-core clean at both sizes: staff go from a drive's page to its appeals,
//! make one, copy its text, and — once people have booked through its link over the first
//! hours — read the first-hours chart (bars per hour, the running total as a line); then the
//! template and the chat groups pages.
//!
//! The public booking takes the system's time, so the appeal is made with the server's clock
//! 4½ hours back (`app.clock`), the bookings are made through its link, and their booking
//! times are then spread over those hours in the database: the chart has something to draw in
//! several hours, as after a real appeal.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::{DESKTOP, Driver, PHONE, clear_screenshots};
use crate::bookings::{published_stop, today, unlimited};
use crate::helpers::{on_each_backend_with, user_with_token};
use crate::plans::{CITY, DONGLING, network};

const PASSWORD: &str = "long enough passphrase";

#[tokio::test]
async fn staff_make_an_appeal_and_read_its_first_hours_on_a_phone_and_a_laptop() {
    const TEST: &str = "appeals";
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
                published_stop(&app, net.vehicles[0], net.points[0], day, "09:00", "12:00").await;
            app.client
                .post(app.url("/api/v1/chat-groups"))
                .json(&json!({"name": "东岭镇村医群", "region_code": DONGLING,
                              "audience": "coordinators",
                              "webhook_key": "5c1e7a90-3b2d-4f4e-9a8b-7d6c5e4f3a2b"}))
                .send()
                .await
                .unwrap();
            user_with_token(
                &app.db,
                "chen.station",
                "station_staff",
                &[CITY],
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

            // From the drive's page to its appeals; made 4½ hours ago.
            let made_at = Utc::now() - Duration::minutes(270);
            app.clock.set(made_at);
            b.goto(&format!("/station/drives/{drive}")).await;
            b.click_to_load("#drive-appeals").await;
            let list = format!("/station/appeals?drive={drive}");
            b.wait_for_path("the drive's appeals", |p| p == list).await;
            b.check("appeals-empty").await;
            b.pick("#target", &format!("d-{drive}")).await;
            b.click_to_load("#make-appeal").await;
            let made = b
                .wait_for_path("the appeal", |p| p.ends_with("?done=made"))
                .await;
            app.clock.set(Utc::now());
            let path = made.trim_end_matches("?done=made").to_owned();
            let id: i64 = path
                .trim_start_matches("/station/appeals/")
                .parse()
                .unwrap();
            let appeal = entity::appeal::Entity::find_by_id(id)
                .one(&app.db)
                .await
                .unwrap()
                .unwrap();

            // The copy button, shown by the script, says what it did.
            b.wait_for_script().await;
            b.click("#copy-text").await;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while b.text("#copy-status").await.trim().is_empty() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the copy says nothing"
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            assert!(
                !b.has("svg.sapp-chart").await,
                "no chart before any booking"
            );
            b.check("appeal-new").await;

            // People book through its link: eight in person, and a group of four.
            for n in 1..=8 {
                let slot = ["09:00", "09:30", "10:00", "10:30"][n % 4];
                let response = app
                    .anonymous
                    .post(app.url(&format!("/api/v1/public/stops/{stop}/bookings")))
                    .json(&json!({"name": "张三", "mobile": format!("1380000000{n}"),
                                  "slot": slot, "via": appeal.code}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 201);
            }
            let response = app
                .anonymous
                .post(app.url(&format!("/api/v1/public/stops/{stop}/group-bookings")))
                .json(
                    &json!({"organisation": "东岭中学", "contact_name": "王老师",
                              "contact_mobile": "13700000009", "headcount": 4,
                              "via": appeal.code}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 201);
            // … over the first hours: 3 people in the first, the group and 2 in the second,
            // 2 in the third, 1 in the fifth.
            let minutes = [10, 25, 40, 70, 80, 130, 150, 250];
            let mut booked = entity::booking::Entity::find()
                .filter(entity::booking::Column::AppealId.eq(id))
                .all(&app.db)
                .await
                .unwrap();
            booked.sort_by_key(|b| b.id);
            assert_eq!(booked.len(), 9);
            for (b, offset) in booked.iter().zip(minutes.iter().chain([65].iter())) {
                entity::booking::Entity::update_many()
                    .col_expr(
                        entity::booking::Column::CreatedAt,
                        Expr::value(made_at + Duration::minutes(*offset)),
                    )
                    .filter(entity::booking::Column::Id.eq(b.id))
                    .exec(&app.db)
                    .await
                    .unwrap();
            }

            b.goto(&path).await;
            b.find("svg.sapp-chart").await;
            assert_eq!(
                b.text("#chart-summary").await,
                "前 5 小时共 12 人预约；最多的是第 2 小时，6 人。"
            );
            b.check("appeal-chart").await;
            b.scroll_to("svg.sapp-chart").await;
            b.check("appeal-chart-figures").await;
            b.resize(DESKTOP).await;
            b.goto(&path).await;
            b.scroll_to("svg.sapp-chart").await;
            b.check("appeal-chart-wide").await;

            // Sent to the group: its message waits to be posted.
            b.scroll_to("#send-h").await;
            b.click("input[name=group_ids]").await;
            b.click_to_load("#send-appeal").await;
            b.find("#sent").await;
            assert!(b.text("#sent").await.contains("等待发送"));
            b.scroll_to("#send-h").await;
            b.check("appeal-sent-wide").await;

            // The list, the template and the chat groups, on the laptop and the phone.
            for (page, name) in [
                ("/station/appeals", "list"),
                ("/station/appeals/template", "template"),
                ("/station/chat-groups", "groups"),
            ] {
                b.resize(DESKTOP).await;
                b.goto(page).await;
                b.check(&format!("{name}-wide")).await;
                b.resize(PHONE).await;
                b.goto(page).await;
                b.check(name).await;
            }
            assert!(b.visible_text().await.contains("…3a2b"));
            b.close().await;
            app
        }
    })
    .await;
}
