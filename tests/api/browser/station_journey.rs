//! The station's fortnight in a real browser, in Chinese, on the demo county (`seed-data/`, as
//! `donornet serve` loads it): staff at a desk's 1366x768 screen plan the next 14 days with at
//! least 12 expected donors a stop, move a stop to a day where it expects fewer and see the
//! check name the broken rule, undo it, accept the plan and publish its first drive; a
//! township official reads the plan but has nothing to plan or accept with; on the drive's day
//! staff start it, check in three booked people at its first stop on a tablet (1024x768), two
//! donating and one deferred, complete the drive and read its results and the results report.
//! Every page visited is screenshotted and checked with axe-core.
//!
//! The station's clock is set ten days on, past the demo's two drives (3 and 10 days after the
//! load, on the first bloodmobile), so that the fortnight planned has every vehicle free; then
//! to the drive's day. Bookings are made through the public API (they take the real clock: the
//! drive is after it). The move that breaks a rule is not assumed: the forecast turns with the
//! calendar (market days, the months before the Spring Festival), so the test asks the plan's
//! page, as a page client, which of the stops' offered moves leaves a stop below 12 and makes
//! that one in the browser.

use chrono::{Duration, NaiveDate};
use reqwest::Client;
use serde_json::Value;

use super::{DESKTOP, Driver, clear_screenshots};
use crate::bookings::{booked, left, today, unlimited};
use crate::helpers::{TestApp, on_each_backend_with, user_with_token};
use crate::page_client::{PASSWORD, form, sign_in};
use crate::plans::{CITY, COUNTY, DONGLING};

const TABLET: (u32, u32) = (1024, 768);
/// The rule a stop expecting too few people breaks, as the plan's check names it.
const TOO_FEW: &str = "预计人数少于每站最低人数";

/// The names of the rules the plan's page says the state `token` breaks (as the page reads
/// without script).
async fn broken_rules(app: &TestApp, staff: &Client, plan: i64, token: &str) -> Vec<String> {
    let page = staff
        .get(app.url(&format!("/station/plans/{plan}?{}", form(&[("e", token)]))))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let Some(at) = page.find("id=\"violations\"") else {
        return vec![];
    };
    let list = &page[at..page[at..].find("</ul>").map_or(page.len(), |end| at + end)];
    list.split("<li><strong>")
        .skip(1)
        .filter_map(|item| item.split("</strong>").next())
        .map(str::to_owned)
        .collect()
}

/// The drives accepting `plan` made, earliest first.
async fn drives_of(app: &TestApp, plan: i64, from: NaiveDate) -> Vec<Value> {
    let listed = app
        .get_ok(&format!(
            "/api/v1/drives?region={COUNTY}&from={from}&limit=500"
        ))
        .await;
    let mut drives: Vec<Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["plan_id"] == plan)
        .cloned()
        .collect();
    drives.sort_by_key(|d| d["date"].as_str().unwrap_or_default().to_owned());
    drives
}

#[tokio::test]
async fn staff_plan_the_demo_county_fix_a_broken_move_accept_run_a_drive_and_read_its_results() {
    const TEST: &str = "station_journey";
    let Some(driver) = Driver::start(TEST).await else {
        return;
    };
    clear_screenshots(TEST);
    on_each_backend_with(unlimited, |app| {
        let driver = &driver;
        async move {
            assert!(donornet::seed::load_demo_if_empty(&app.db).await.unwrap());
            let now = today() + Duration::days(10);
            app.set_today(&now.to_string());
            user_with_token(
                &app.db,
                "chen.station",
                "station_staff",
                &[CITY],
                Some(PASSWORD),
            )
            .await;
            user_with_token(
                &app.db,
                "dongling",
                "township_official",
                &[DONGLING],
                Some(PASSWORD),
            )
            .await;

            let mut b = driver.browser(&app, "").await;
            b.resize(DESKTOP).await;
            b.goto("/login").await;
            b.fill("#username", "chen.station").await;
            b.fill("#password", PASSWORD).await;
            b.click_to_load("form button[type=submit]").await;
            b.wait_for_path("signed in", |p| !p.starts_with("/login"))
                .await;

            // The planner's form: the next fortnight by default; the county, at least 12.
            b.goto("/station/plans").await;
            assert_eq!(
                b.value("#from").await,
                (now + Duration::days(1)).to_string()
            );
            assert_eq!(b.value("#to").await, (now + Duration::days(14)).to_string());
            b.pick("#region", COUNTY).await;
            b.fill("#min_expected_donors", "12").await;
            b.check("plan-form").await;
            b.click_to_load("#make-plan").await;
            let path = b
                .wait_for_path("the plan's page", |p| p.starts_with("/station/plans/"))
                .await;
            let plan: i64 = path["/station/plans/".len()..]
                .parse()
                .unwrap_or_else(|_| panic!("a plan's page: {path}"));
            // It refreshes itself until the plan is made.
            b.find("#plan-figures").await;
            let made = app.get_ok(&format!("/api/v1/plans/{plan}")).await;
            assert_eq!(made["status"], "done", "{made}");
            assert_eq!(made["request"]["min_expected_donors"], 12.0, "{made}");
            let routes = made["result"]["routes"].as_array().unwrap().clone();
            assert!(!routes.is_empty(), "{made}");
            assert_eq!(made["result"]["violations"], serde_json::json!([]));
            b.find("#accept").await;
            assert!(!b.has("#verdict").await);
            b.check("plan").await;

            // A move that leaves a stop below 12: the stops fewest-expected first, each move
            // its row offers, asked of the page.
            let staff = sign_in(&app, "chen.station", PASSWORD).await;
            let mut stops: Vec<&Value> = routes
                .iter()
                .flat_map(|r| r["stops"].as_array().unwrap())
                .collect();
            stops.sort_by(|a, b| {
                a["expected"]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&b["expected"].as_f64().unwrap())
            });
            let mut breaking = None;
            'stops: for stop in &stops {
                let site = stop["site"].as_str().unwrap();
                let row = format!("tr[data-site='{site}']");
                let days = b.options(&format!("{row} select.move-day")).await;
                let vehicles = b.options(&format!("{row} select.move-vehicle")).await;
                for day in &days {
                    for vehicle in &vehicles {
                        let token = format!("put.{site}.{vehicle}.{day}");
                        if broken_rules(&app, &staff, plan, &token)
                            .await
                            .iter()
                            .any(|rule| rule == TOO_FEW)
                        {
                            breaking = Some((
                                site.to_owned(),
                                stop["name"].clone(),
                                (day.clone(), vehicle.clone()),
                            ));
                            break 'stops;
                        }
                    }
                }
            }
            let (site, name, (day, vehicle)) =
                breaking.expect("some move leaves a stop expecting fewer than 12");
            let token = format!("put.{site}.{vehicle}.{day}");
            let name = name.as_str().unwrap();

            // Made in the browser: the check names the rule and the stop; no accepting.
            let row = format!("tr[data-site='{site}']");
            b.scroll_to(&format!("{row} select.move-day")).await;
            b.pick(&format!("{row} select.move-day"), &day).await;
            b.pick(&format!("{row} select.move-vehicle"), &vehicle)
                .await;
            b.click_to_load(&format!(
                "tr[data-site='{site}'] form.edit-stop button[type=submit]"
            ))
            .await;
            b.wait_for_path("the plan, edited", |p| p.contains("e=put."))
                .await;
            let violations = b.text("#violations").await;
            assert!(violations.contains(TOO_FEW), "{violations}");
            assert!(violations.contains(name), "{violations}");
            assert!(!b.has("#accept").await);
            b.find("#accept-note").await;
            b.scroll_to("#verdict").await;
            b.check("moved-broken").await;

            // Undone: the plan as made, acceptable again.
            b.click_to_load("#undo").await;
            b.wait_for_path("the plan, undone", |p| {
                p == format!("/station/plans/{plan}")
            })
            .await;
            assert!(!b.has("#verdict").await);
            assert!(!b.has("#violations").await);
            b.find("#accept").await;
            b.check("undone").await;

            // A township official reads the plan: no form, no moves, no accepting.
            let mut official = driver.browser(&app, "official-").await;
            official.resize(DESKTOP).await;
            official.goto("/login").await;
            official.fill("#username", "dongling").await;
            official.fill("#password", PASSWORD).await;
            official.click_to_load("form button[type=submit]").await;
            official
                .wait_for_path("signed in", |p| !p.starts_with("/login"))
                .await;
            official.goto("/station/plans").await;
            official
                .find(&format!("#plans a[href='/station/plans/{plan}']"))
                .await;
            assert!(!official.has("#new-plan").await);
            assert!(!official.has("#make-plan").await);
            official.check("plans").await;
            official
                .click_to_load(&format!("#plans a[href='/station/plans/{plan}']"))
                .await;
            official.find("#plan-figures").await;
            assert!(!official.has("select.move-day").await);
            assert!(!official.has("form.edit-stop").await);
            assert!(!official.has("#accept").await);
            official.check("plan").await;
            // Nor through the address: the edit is not checked.
            official
                .goto(&format!("/station/plans/{plan}?e={token}"))
                .await;
            official.find("#plan-figures").await;
            assert!(!official.has("#verdict").await);
            official.close().await;
            let reader = sign_in(&app, "dongling", PASSWORD).await;
            let refused = reader
                .post(app.url(&format!("/station/plans/{plan}/accept")))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&[]))
                .send()
                .await
                .unwrap();
            assert!(
                refused.status().is_client_error(),
                "an official accepting: {}",
                refused.status()
            );
            assert_eq!(drives_of(&app, plan, now).await, Vec::<Value>::new());

            // Accepted: a drive per route, in the calendar of the first one's month.
            b.click_to_load("#accept").await;
            b.wait_for_path("the drives' calendar", |p| {
                p.starts_with("/station/drives?month=")
            })
            .await;
            let drives = drives_of(&app, plan, now).await;
            assert_eq!(drives.len(), routes.len(), "{drives:?}");
            let first = &drives[0];
            let id = first["id"].as_i64().unwrap();
            let day: NaiveDate = first["date"].as_str().unwrap().parse().unwrap();
            assert_eq!(
                b.path().await,
                format!("/station/drives?month={}", day.format("%Y-%m"))
            );
            b.find(&format!("a[href='/station/drives/{id}']")).await;
            b.check("accepted").await;

            // Its first drive published; not startable before its day.
            b.click_to_load(&format!("a[href='/station/drives/{id}']"))
                .await;
            b.check("drive").await;
            b.click_to_load("#move-published").await;
            assert_eq!(b.text("#drive-status").await, "已发布");
            assert!(!b.has("#move-in_progress").await);
            assert_eq!(
                app.get_ok(&format!("/api/v1/drives/{id}")).await["status"],
                "published"
            );
            b.check("published").await;

            // Three people book its first stop.
            let stop = first["stops"][0]["id"].as_i64().unwrap();
            let slots: Vec<String> = left(&app, stop)
                .await
                .into_iter()
                .filter(|(_, places)| *places > 0)
                .map(|(start, _)| start)
                .collect();
            assert!(!slots.is_empty(), "no slot to book at stop {stop}");
            let slot = |i: usize| slots[i % slots.len()].clone();
            let mut codes = Vec::new();
            for (i, (who, mobile)) in [
                ("张三", "13800001234"),
                ("李四", "13900005678"),
                ("王芳", "13700002468"),
            ]
            .into_iter()
            .enumerate()
            {
                let booking = booked(&app, stop, who, mobile, &slot(i)).await;
                codes.push(booking["code"].as_str().unwrap().to_owned());
            }

            // The drive's day: started at the desk, then the stop's check-in on a tablet.
            app.set_today(&day.to_string());
            b.goto(&format!("/station/drives/{id}")).await;
            b.click_to_load("#move-in_progress").await;
            assert_eq!(b.text("#drive-status").await, "出车中");
            b.resize(TABLET).await;
            b.click_to_load(&format!("#checkin-stop-{stop}")).await;
            let desk = format!("/station/stops/{stop}/checkin");
            b.wait_for_path("the desk", |p| p == desk).await;
            b.check("desk").await;
            for code in &codes {
                b.click_to_load(&format!("#checkin-{code}")).await;
                b.find("#notice").await;
            }
            assert_eq!(b.text("#count-checked-in dd").await, "3");
            let people = app
                .get_ok(&format!("/api/v1/stops/{stop}/attendances"))
                .await["items"]
                .as_array()
                .unwrap()
                .clone();
            let names: Vec<&str> = people.iter().map(|p| p["name"].as_str().unwrap()).collect();
            assert_eq!(names, ["张三", "李四", "王芳"]);
            let person = |i: usize| people[i]["id"].as_i64().unwrap();
            // 张三 gives 400 mL of A+, 王芳 300 mL of O+; 李四 is deferred (blood pressure).
            for (i, ml, abo) in [(0, "400", "A"), (2, "300", "O")] {
                b.pick(&format!("#vol-{}", person(i)), ml).await;
                b.pick(&format!("#abo-{}", person(i)), abo).await;
                b.pick(&format!("#rh-{}", person(i)), "+").await;
                b.click_to_load(&format!("#donated-{}", person(i))).await;
                b.find("#notice").await;
            }
            b.pick(&format!("#cat-{}", person(1)), "blood_pressure")
                .await;
            b.click_to_load(&format!("#deferred-{}", person(1))).await;
            b.find("#notice").await;
            assert_eq!(b.text("#count-donated dd").await, "2");
            assert_eq!(b.text("#count-deferred dd").await, "1");
            assert_eq!(b.text("#count-ml dd").await, "700");
            b.check("desk-outcomes").await;

            // Completed at the desk.
            b.resize(DESKTOP).await;
            b.goto(&format!("/station/drives/{id}")).await;
            b.click_to_load("#move-completed").await;
            assert_eq!(b.text("#drive-status").await, "已完成");
            assert_eq!(
                app.get_ok(&format!("/api/v1/drives/{id}")).await["status"],
                "completed"
            );
            b.check("completed").await;

            // Its results, then the report.
            b.click_to_load("#drive-results").await;
            assert!(b.text("h1").await.contains("出车结果"));
            let stop_name = first["stops"][0]["name"].as_str().unwrap();
            let text = b.visible_text().await;
            assert!(text.contains(stop_name), "{text}");
            assert!(text.contains("700 毫升"), "{text}");
            assert!(text.contains("血压不合格"), "{text}");
            b.check("results").await;
            b.click_to_load("#nav-station-reports").await;
            assert_eq!(b.text("h1").await, "采血结果报表");
            b.find(&format!("#report a[href='/station/drives/{id}/results']"))
                .await;
            b.check("report").await;
            b.close().await;
            app
        }
    })
    .await;
}
