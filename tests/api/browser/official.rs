//! A township official's day on a 360x740 phone, in Chinese, in a real browser: signs in,
//! moves a point by tapping the map, adds a coordinator and makes them primary, enters the
//! surveys of five villages (one a more-than-3x change, confirmed inline), loses the signal,
//! enters two more and edits the point (all kept on the phone), gets the signal back and sees
//! them sent, and settles
//! the one that met a survey recorded meanwhile through the API (mine / current side by side).
//!
//! The signal is a relay in front of the app that the test cuts ([`Signal`]): the page and
//! its service worker both lose the server, while the test's own API calls still reach it.
//! The network is the planning tests' (`crate::plans::network`): 东岭镇 has six villages, three
//! surveyed (东岭社区 3000, 东岭村 5000, 柳湾村 2500), and point P1 at 东岭村 with 李医生 as
//! its primary coordinator.

use serde_json::{Value, json};

use super::{Driver, Signal, clear_screenshots};
use crate::helpers::{TestApp, on_each_backend, user_with_token};
use crate::plans::{DONGLING, network};

const PASSWORD: &str = "long enough passphrase";

/// 东岭镇's villages in code order: the order of the entry flow.
const VILLAGES: [&str; 6] = [
    "990101101006", // 东岭社区居民委员会, 3000
    "990101101201", // 东岭村委会, 5000
    "990101101202", // 柳湾村委会, 2500
    "990101101203", // 石桥村委会
    "990101101204", // 北坡村委会
    "990101101205", // 杏园村委会
];

const SAVE_SURVEY: &str = "form.survey .actions button[type=submit]";

/// The village's surveys through the API, the current first.
async fn history(app: &TestApp, village: &str) -> Vec<Value> {
    app.get_ok(&format!("/api/v1/regions/{village}/surveys"))
        .await
        .as_array()
        .expect("a list")
        .clone()
}

/// Today in China, as the survey form fills it in.
fn today() -> String {
    donornet::domain::booking::today_in_china(chrono::Utc::now()).to_string()
}

#[tokio::test]
async fn an_official_on_a_phone_edits_a_point_enters_surveys_offline_and_settles_a_conflict() {
    const TEST: &str = "official_day_offline";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend(|app| {
        let driver = &driver;
        async move {
            let net = network(&app).await;
            let p1 = net.points[0];
            user_with_token(
                &app.db,
                "dongling",
                "township_official",
                &[DONGLING],
                Some(PASSWORD),
            )
            .await;
            let signal = Signal::to(&app).await;
            let mut b = driver.browser_through(&app, &signal, "").await;

            // Signing in leads to "my township".
            b.goto("/login").await;
            b.fill("#username", "dongling").await;
            b.fill("#password", PASSWORD).await;
            b.click_to_load("form button[type=submit]").await;
            b.wait_for_path("my township", |p| p.starts_with("/township"))
                .await;
            assert_eq!(b.text("h1").await, "东岭镇");
            b.wait_for_script().await;
            b.wait_for_service_worker().await;
            b.check_wide("township").await;

            // The points list and map, then P1.
            b.click_to_load("a[href^='/township/points']").await;
            b.find("#map.leaflet-container").await;
            b.check("points").await;
            b.click_to_load(&format!(".cards a[href='/points/{p1}']"))
                .await;
            b.find("#map .pt-focus").await;
            assert_eq!(b.value("#longitude").await, "");

            // A tap up and to the right of the pin moves the point north-east.
            b.scroll_to("#map").await;
            b.tap("#map", 60.0, -40.0).await;
            let lon: f64 = b.value("#longitude").await.parse().expect("a longitude");
            let lat: f64 = b.value("#latitude").await.parse().expect("a latitude");
            assert!(lon > 114.0132 + 0.001 && lon < 114.0132 + 0.05, "{lon}");
            assert!(lat > 33.6737 + 0.001 && lat < 33.6737 + 0.05, "{lat}");
            assert!(
                b.text("#location-status")
                    .await
                    .contains(&format!("{lon:.6}"))
            );
            b.check("point-tapped").await;
            b.click_to_load("form.point-form button[type=submit]").await;
            let path = b
                .wait_for_path("the point saved", |p| p.contains("done="))
                .await;
            assert!(path.starts_with(&format!("/points/{p1}?done=")), "{path}");
            let point = app.get_ok(&format!("/api/v1/points/{p1}")).await;
            let stored = |k: &str| point[k].as_f64().unwrap_or(f64::NAN);
            assert!((stored("longitude") - lon).abs() < 1e-6, "{point}");
            assert!((stored("latitude") - lat).abs() < 1e-6, "{point}");
            b.check("point-moved").await;

            // A coordinator added, then made the primary in 李医生's place.
            b.fill("#c-name", "赵村医").await;
            b.fill("#c-mobile", "13700003333").await;
            b.pick("#c-role", "village_doctor").await;
            b.click_to_load("form.coordinator-form button[type=submit]")
                .await;
            b.wait_for_path("the coordinator added", |p| p.contains("done=added"))
                .await;
            let serving = app
                .get_ok(&format!("/api/v1/points/{p1}/coordinators"))
                .await;
            let primary = |serving: &Value| {
                serving
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|s| s["is_primary"] == true)
                    .map(|s| s["name"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            };
            assert_eq!(primary(&serving), ["李医生"], "{serving}");
            assert!(b.visible_text().await.contains("赵村医"));
            b.check("coordinator-added").await;
            b.click_to_load("form[action$='/primary'] button[type=submit]")
                .await;
            b.wait_for_path("the primary replaced", |p| p.contains("done=primary"))
                .await;
            let serving = app
                .get_ok(&format!("/api/v1/points/{p1}/coordinators"))
                .await;
            assert_eq!(primary(&serving), ["赵村医"], "{serving}");
            b.check("primary-replaced").await;

            // Five villages in a row; the second a more-than-3x change, asked inline.
            b.goto("/township/surveys").await;
            b.check("survey-desk").await;
            b.click_to_load(&format!(
                "a.button[href='/township/surveys/{}']",
                VILLAGES[0]
            ))
            .await;
            for (i, total) in ["3100", "1500", "2600", "1900", "1250"].iter().enumerate() {
                assert!(
                    b.path()
                        .await
                        .starts_with(&format!("/township/surveys/{}", VILLAGES[i])),
                    "village {i}"
                );
                b.fill("#eligible_total", total).await;
                if i == 0 {
                    b.fill("#surveyed_by", "李医生").await;
                    b.check("survey-first").await;
                }
                b.click_to_load(SAVE_SURVEY).await;
                if i == 1 {
                    let question = b.text("#question").await;
                    assert!(
                        question.contains("5000") && question.contains("1500"),
                        "{question}"
                    );
                    b.check("survey-large-change").await;
                    b.click_to_load("button[name=confirm_large_change]").await;
                }
            }
            b.wait_for_path("the sixth village", |p| {
                p.starts_with(&format!(
                    "/township/surveys/{}?saved={}",
                    VILLAGES[5], VILLAGES[4]
                ))
            })
            .await;
            for (village, total) in VILLAGES.iter().zip([3100, 1500, 2600, 1900, 1250]) {
                let h = history(&app, village).await;
                assert_eq!(h[0]["eligible_total"], total, "{village}: {h:?}");
                assert_eq!(h[0]["created_by"], "dongling");
            }
            b.check("survey-sixth").await;

            // The signal goes. The sixth village is entered and kept on the phone; the phone
            // goes on to the desk as it was kept.
            b.lose_signal(&signal).await;
            b.fill("#eligible_total", "1180").await;
            b.click_to_load(SAVE_SURVEY).await;
            b.wait_for_path("the desk, offline", |p| {
                p.starts_with("/township/surveys?") && p.contains("queued=1")
            })
            .await;
            b.wait_for_text("#offline-banner [data-waiting]", "1").await;
            b.check("offline-one-kept").await;

            // Meanwhile someone records another survey of the first village.
            let response = app
                .client
                .post(app.url(&format!("/api/v1/regions/{}/surveys", VILLAGES[0])))
                .json(&json!({"eligible_total": 3300, "surveyed_on": today(),
                              "source": "household_register", "surveyed_by": "王会计"}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 201);

            // Still without signal, the official corrects the first village from its kept
            // screen, which shows their own survey as the last.
            b.click_to_load(&format!(
                "ul.villages a[href='/township/surveys/{}']",
                VILLAGES[0]
            ))
            .await;
            assert!(b.text("section.last").await.contains("3100"));
            b.fill("#eligible_total", "3150").await;
            b.click_to_load(SAVE_SURVEY).await;
            b.wait_for_path("the second village, offline", |p| {
                p.starts_with(&format!("/township/surveys/{}", VILLAGES[1]))
                    && p.contains("queued=1")
            })
            .await;
            b.wait_for_text("#offline-banner [data-waiting]", "2").await;
            b.check("offline-two-kept").await;
            assert_eq!(history(&app, VILLAGES[5]).await, Vec::<Value>::new());

            // And the point's beds, from its kept page.
            b.goto(&format!("/points/{p1}")).await;
            b.fill("#beds", "3").await;
            b.click_to_load("form.point-form button[type=submit]").await;
            b.wait_for_path("the point's page, offline", |p| p.contains("queued=1"))
                .await;
            b.wait_for_text("#offline-banner [data-waiting]", "3").await;
            let point = app.get_ok(&format!("/api/v1/points/{p1}")).await;
            assert_eq!(point["beds"], Value::Null, "not sent yet: {point}");

            // The signal is back: both are sent; the sixth is stored, the first is refused
            // because another survey became current after the one it was typed beside.
            b.regain_signal(&signal).await;
            b.wait_for_text("#offline-banner [data-refused]", "1").await;
            b.wait_for_text("#offline-banner [data-waiting]", "0").await;
            let sixth = history(&app, VILLAGES[5]).await;
            assert_eq!(sixth.len(), 1, "{sixth:?}");
            assert_eq!(sixth[0]["eligible_total"], 1180);
            assert_eq!(sixth[0]["created_by"], "dongling");
            assert_eq!(history(&app, VILLAGES[0]).await[0]["eligible_total"], 3300);
            let point = app.get_ok(&format!("/api/v1/points/{p1}")).await;
            assert_eq!(point["beds"], 3, "{point}");

            // The list of what waits shows theirs and the current one side by side.
            b.click_to_load("#offline-banner a[href='/sync']").await;
            b.find(".sync-item.refused").await;
            let mine = b
                .text(".sync-item.refused .conflict tbody tr td.mine")
                .await;
            let current = b
                .text(".sync-item.refused .conflict tbody tr td.current")
                .await;
            assert_eq!((mine.as_str(), current.as_str()), ("3150", "3300"));
            assert!(b.visible_text().await.contains("王会计"));
            b.check("sync-conflict").await;

            // Saving again records theirs, now over the current one.
            b.click_to_load(&format!(".sync-refusal {SAVE_SURVEY}"))
                .await;
            b.wait_for_path("the next village after the settled one", |p| {
                p.starts_with(&format!(
                    "/township/surveys/{}?saved={}",
                    VILLAGES[1], VILLAGES[0]
                ))
            })
            .await;
            let first = history(&app, VILLAGES[0]).await;
            assert_eq!(first[0]["eligible_total"], 3150, "{first:?}");
            assert_eq!(first[1]["eligible_total"], 3300, "{first:?}");
            assert_eq!(first.len(), 4, "3000, 3100, 3300, 3150: {first:?}");
            b.goto("/sync").await;
            b.wait_for_script().await;
            assert_eq!(b.kept_on_phone().await, 0, "nothing left on the phone");
            assert!(!b.has(".sync-item").await);
            b.check("sync-empty").await;
            b.close().await;
            app
        }
    })
    .await;
}
