//! The station's drive pages over HTTP (the browser test is `browser::station_drives`): the
//! calendar of a month by status (filtered, previous and next month), a drive's page with its
//! stops, its lifecycle buttons (publish; start only on its day; a stale version shown as
//! mine / current), cancelling (the page that lists whom it will tell, the reason required,
//! then the drive and its bookings cancelled and told), the checklist ticked and unticked
//! (stale shown), and who sees what: a viewer reads without buttons and is refused (403) on
//! every post; a township official ticks only their township's items; outside the reader's
//! reach the drive does not exist (404). The network is the planning tests'
//! (`crate::plans::network`): P1 and P4 in 东岭镇, P2 at 南塘镇, P3 in 北冈乡; vehicles
//! 1号采血车 and 2号采血车 of the city's station.

use chrono::Duration;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::bookings::{booked, published_stop, today, unlimited};
use crate::helpers::{TestApp, on_each_backend, on_each_backend_with, send};
use crate::plans::{CITY, COUNTY, DONGLING, network};

use crate::page_client::{get, post, signed_in};

/// A drive by hand (through the API) of `vehicle` on `date` with one stop at each point.
pub(crate) async fn drive(app: &TestApp, vehicle: i64, date: &str, points: &[i64]) -> Value {
    let stops: Vec<Value> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({"site": format!("point-{p}"),
                   "planned_start": format!("{:02}:00", 9 + 2 * i),
                   "planned_end": format!("{:02}:30", 9 + 2 * i),
                   "expected_donors": 10})
        })
        .collect();
    let response = send(
        app,
        &app.client,
        Method::POST,
        "/api/v1/drives",
        Some(&json!({"vehicle_id": vehicle, "date": date, "region": COUNTY, "stops": stops})),
        None,
    )
    .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

/// Moves drive `id` through the API (`If-Match: version`).
async fn api_move(app: &TestApp, id: i64, version: i64, to: &str, reason: Option<&str>) {
    let response = send(
        app,
        &app.client,
        Method::POST,
        &format!("/api/v1/drives/{id}/transition"),
        Some(&json!({"to": to, "reason": reason})),
        Some(&format!("\"{version}\"")),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200, "{to}");
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// The links to drive pages in `page`, in order.
fn drive_links(page: &str) -> Vec<i64> {
    page.split("href=\"/station/drives/")
        .skip(1)
        .filter_map(|rest| {
            let end = rest.find('"')?;
            rest[..end].parse().ok()
        })
        .collect()
}

/// The first checklist item's form on a drive's page: its id and version.
fn first_item(page: &str) -> (i64, String) {
    let at = page
        .find("action=\"/station/checklist-items/")
        .expect("a checklist form");
    let rest = &page[at + "action=\"/station/checklist-items/".len()..];
    let id: i64 = rest[..rest.find('"').unwrap()].parse().unwrap();
    let version_at = rest.find("name=\"version\" value=\"").unwrap() + 22;
    let version = rest[version_at..version_at + rest[version_at..].find('"').unwrap()].to_owned();
    (id, version)
}

#[tokio::test]
async fn the_calendar_lists_the_months_drives_by_status_and_filters_them() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let [p1, p2, p3, _] = net.points;
        app.set_today("2027-03-02");
        let draft = drive(&app, net.vehicles[0], "2027-03-08", &[p1, p2]).await;
        let published = drive(&app, net.vehicles[1], "2027-03-09", &[p3]).await;
        api_move(&app, id_of(&published), 1, "published", None).await;
        let cancelled = drive(&app, net.vehicles[0], "2027-03-10", &[p2]).await;
        api_move(&app, id_of(&cancelled), 1, "cancelled", Some("下雪")).await;
        let april = drive(&app, net.vehicles[0], "2027-04-01", &[p1]).await;
        let staff = signed_in(&app, "chen.station", "station_staff", &[CITY]).await;

        // This month by default: the three drives of March by date, each with its words.
        let (status, page) = get(&app, &staff, "/station/drives").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("<h2 id=\"month-h\">2027年3月</h2>"), "{page}");
        assert_eq!(
            drive_links(&page),
            [id_of(&draft), id_of(&published), id_of(&cancelled)],
            "{page}"
        );
        assert!(
            page.contains("<span class=\"badge ds-draft\">草稿</span>"),
            "{page}"
        );
        assert!(page.contains("<span class=\"badge ds-published\">已发布</span>"));
        assert!(page.contains("<span class=\"badge ds-cancelled\">已取消</span>"));
        assert!(page.contains("1号采血车（豫LD1234）"), "{page}");
        assert!(page.contains("东岭村献血点 → 南塘镇献血点"), "{page}");
        assert!(page.contains("09:00–11:30"), "{page}");
        assert!(
            page.contains(
                "<time class=\"sdrive-long\" datetime=\"2027-03-08\">3月8日 星期一</time>"
            ),
            "{page}"
        );
        assert!(page.contains("共 3 次出车。"), "{page}");
        // Today is marked; the staff's navigation links here.
        assert!(page.contains("sdrive-today"), "{page}");
        assert!(
            page.contains("<a href=\"/station/drives\">出车安排</a>"),
            "{page}"
        );

        // Filtered by status: published and cancelled only, kept by the month's links.
        let (_, page) = get(
            &app,
            &staff,
            "/station/drives?month=2027-03&status=published&status=cancelled",
        )
        .await;
        assert_eq!(
            drive_links(&page),
            [id_of(&published), id_of(&cancelled)],
            "{page}"
        );
        assert!(page.contains("value=\"published\" checked"), "{page}");
        assert!(
            page.contains(
                "href=\"/station/drives?month=2027-04&#38;status=published&#38;status=cancelled\""
            ),
            "{page}"
        );
        assert!(page.contains("href=\"/station/drives?month=2027-02&#38;status=published"));

        // The next month; a month nobody can read shows this one, saying so.
        let (_, page) = get(&app, &staff, "/station/drives?month=2027-04").await;
        assert_eq!(drive_links(&page), [id_of(&april)], "{page}");
        let (status, page) = get(&app, &staff, "/station/drives?month=2027-13").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("没看懂要看哪个月"), "{page}");
        assert_eq!(drive_links(&page).len(), 3, "{page}");
        let (_, page) = get(&app, &staff, "/station/drives?month=2027-02").await;
        assert!(page.contains("这个月没有符合条件的出车。"), "{page}");

        // Signed out: to the sign-in page.
        let anonymous = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = anonymous
            .get(app.url("/station/drives"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        app
    })
    .await;
}

#[tokio::test]
async fn staff_publish_then_start_a_drive_on_its_day_and_a_stale_move_shows_both_states() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let [p1, p2, _, _] = net.points;
        app.set_today("2027-03-02");
        let d = drive(&app, net.vehicles[0], "2027-03-08", &[p1, p2]).await;
        let id = id_of(&d);
        let staff = signed_in(&app, "chen.station", "station_staff", &[CITY]).await;
        let path = format!("/station/drives/{id}");

        // The draft: its stops in order, its checklist, publish and cancel, no start yet.
        let (status, page) = get(&app, &staff, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("<h1>3月8日 星期一 · 1号采血车</h1>"),
            "{page}"
        );
        let first = page.find("1. 东岭村献血点").expect("stop 1");
        let second = page.find("2. 南塘镇献血点").expect("stop 2");
        assert!(first < second);
        assert!(page.contains("确认场地和联络员"), "{page}");
        assert!(page.contains("id=\"move-published\""), "{page}");
        assert!(!page.contains("id=\"move-in_progress\""), "{page}");
        assert!(page.contains(&format!("href=\"/station/drives/{id}/cancel\"")));
        assert!(page.contains("还没有发布，发布后才开放预约。"), "{page}");

        // Published.
        let transition = format!("{path}/transition");
        let (status, location, _) = post(
            &app,
            &staff,
            &transition,
            &[("version", "1"), ("status", "draft"), ("to", "published")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("{path}?done=published"));
        let stored = app.get_ok(&format!("/api/v1/drives/{id}")).await;
        assert_eq!(stored["status"], "published");
        let (_, page) = get(&app, &staff, &location).await;
        assert!(page.contains("已发布，群众现在可以预约了。"), "{page}");
        assert!(
            page.contains("<span class=\"badge ds-published\" id=\"drive-status\">已发布</span>")
        );
        // Its slots are open (none booked yet), and starting waits for the day.
        assert!(page.contains("这个时段还没有人预约。"), "{page}");
        assert!(
            page.contains("出车日期是 3月8日 星期一，当天才能开始出车。"),
            "{page}"
        );
        assert!(!page.contains("id=\"move-published\""), "{page}");

        // The same publish again, from the page as it was: stale, both states shown.
        let (status, _, page) = post(
            &app,
            &staff,
            &transition,
            &[("version", "1"), ("status", "draft"), ("to", "published")],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(
            page.contains("这次出车刚被别人改过，现在是“已发布”"),
            "{page}"
        );
        assert!(
            page.contains("<td class=\"mine\">草稿</td><td class=\"current\">已发布</td>"),
            "{page}"
        );

        // Starting before the day is refused in words; on the day it starts.
        let (status, _, page) = post(
            &app,
            &staff,
            &transition,
            &[
                ("version", "2"),
                ("status", "published"),
                ("to", "in_progress"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("当天才能开始出车"), "{page}");
        assert_eq!(
            app.get_ok(&format!("/api/v1/drives/{id}")).await["status"],
            "published"
        );
        app.set_today("2027-03-08");
        let (_, page) = get(&app, &staff, &path).await;
        assert!(page.contains("id=\"move-in_progress\""), "{page}");
        let (status, location, _) = post(
            &app,
            &staff,
            &transition,
            &[
                ("version", "2"),
                ("status", "published"),
                ("to", "in_progress"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("{path}?done=in_progress"));
        assert_eq!(
            app.get_ok(&format!("/api/v1/drives/{id}")).await["status"],
            "in_progress"
        );

        // A move the state machine forbids reads as a sentence; an unknown one too.
        let (status, _, page) = post(
            &app,
            &staff,
            &transition,
            &[("version", "3"), ("to", "published")],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(
            page.contains("这次出车现在是“出车中”，不能“发布”"),
            "{page}"
        );
        let (status, _, page) =
            post(&app, &staff, &transition, &[("version", "3"), ("to", "x")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("这项操作没有完成"), "{page}");
        let (status, _, page) = post(&app, &staff, &transition, &[("to", "completed")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("页面已过期，请刷新后再试。"), "{page}");
        app
    })
    .await;
}

#[tokio::test]
async fn cancelling_lists_whom_it_will_tell_needs_a_reason_then_cancels_and_tells_them() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let day = today() + Duration::days(5);
        let (id, stop) =
            published_stop(&app, net.vehicles[0], net.points[0], day, "09:00", "11:00").await;
        booked(&app, stop, "张三", "13800001234", "09:00").await;
        booked(&app, stop, "李四", "13900005678", "09:30").await;
        let staff = signed_in(&app, "chen.station", "station_staff", &[CITY]).await;
        let path = format!("/station/drives/{id}");

        // The drive's page: the bookings per slot, mobiles masked.
        let (_, page) = get(&app, &staff, &path).await;
        assert!(page.contains("张三"), "{page}");
        assert!(page.contains("138****1234"), "{page}");
        assert!(!page.contains("13800001234"), "{page}");
        let nine = page.find("09:00–09:30").expect("the 09:00 slot");
        let half = page.find("09:30–10:00").expect("the 09:30 slot");
        let zhang = page.find("张三").unwrap();
        let li = page.find("李四").unwrap();
        assert!(nine < zhang && zhang < half && half < li, "{page}");

        // The cancellation's page: whom it will tell, nothing cancelled yet.
        let cancel = format!("{path}/cancel");
        let (status, page) = get(&app, &staff, &cancel).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("取消出车会同时取消下面 2 个预约（共 2 人）"),
            "{page}"
        );
        assert!(page.contains("<th scope=\"row\">张三</th>"), "{page}");
        assert!(page.contains("139****5678"), "{page}");
        assert!(!page.contains("13900005678"), "{page}");
        assert!(page.contains("取消出车并通知 2 个预约"), "{page}");
        assert_eq!(
            app.get_ok(&format!("/api/v1/drives/{id}")).await["status"],
            "published"
        );

        // No reason: the form again, the field marked, nothing cancelled.
        let (status, _, page) = post(
            &app,
            &staff,
            &cancel,
            &[("version", "2"), ("status", "published"), ("reason", "  ")],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(
            page.contains("请写明取消原因，它会发给预约的人。"),
            "{page}"
        );
        assert!(page.contains("aria-invalid=\"true\""), "{page}");
        assert_eq!(
            app.get_ok(&format!("/api/v1/drives/{id}")).await["status"],
            "published"
        );

        // With a reason: cancelled, both bookings cancelled and told.
        let (status, location, _) = post(
            &app,
            &staff,
            &cancel,
            &[
                ("version", "2"),
                ("status", "published"),
                ("reason", "车辆故障"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("{path}?done=cancelled&told=2"));
        let stored = app.get_ok(&format!("/api/v1/drives/{id}")).await;
        assert_eq!(stored["status"], "cancelled");
        assert_eq!(stored["cancel_reason"], "车辆故障");
        let bookings = app.get_ok(&format!("/api/v1/drives/{id}/bookings")).await;
        let statuses: Vec<&str> = bookings["stops"][0]["bookings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["cancelled", "cancelled"]);
        let (_, page) = get(&app, &staff, &location).await;
        assert!(
            page.contains("已取消这次出车，已给 2 个预约发出取消通知。"),
            "{page}"
        );
        assert!(page.contains("车辆故障"), "{page}");
        assert!(!page.contains("id=\"cancel-drive\""), "{page}");
        assert!(page.contains("这次出车已经结束，不能再改动。"), "{page}");

        // Cancelling again: the page says it can no longer be, and a post is refused in words.
        let (_, page) = get(&app, &staff, &cancel).await;
        assert!(page.contains("不能再取消"), "{page}");
        let (status, _, page) = post(
            &app,
            &staff,
            &cancel,
            &[("version", "3"), ("reason", "再取消")],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(
            page.contains("这次出车现在是“已取消”，不能“取消出车”"),
            "{page}"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn staff_tick_and_untick_a_checklist_item_and_a_stale_tick_shows_both() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        app.set_today("2027-03-02");
        let d = drive(&app, net.vehicles[0], "2027-03-08", &[net.points[0]]).await;
        let id = id_of(&d);
        let staff = signed_in(&app, "chen.station", "station_staff", &[CITY]).await;
        let path = format!("/station/drives/{id}");
        let (_, page) = get(&app, &staff, &path).await;
        let (item, version) = first_item(&page);
        assert_eq!(version, "1");
        let tick = format!("/station/checklist-items/{item}");

        let (status, location, _) =
            post(&app, &staff, &tick, &[("version", "1"), ("done", "1")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            location,
            format!("{path}?done=ticked&item={item}#item-{item}")
        );
        let list = app.get_ok(&format!("/api/v1/drives/{id}/checklist")).await;
        let stored = &list["stops"][0]["items"][0];
        assert_eq!(stored["id"], item);
        assert_eq!(stored["done"], true);
        assert_eq!(stored["done_by"], "chen.station");
        // Said beside the item.
        let (_, page) = get(&app, &staff, &location).await;
        let beside = format!("id=\"item-{item}\">");
        let at = page.find(&beside).expect("the item");
        let note = page.find("已记为完成。").expect("the notice");
        let next = page[at + beside.len()..]
            .find("<li")
            .map_or(page.len(), |n| at + n);
        assert!(at < note && note < next, "{page}");
        assert!(
            page.contains("chen.station 于 3月2日 星期二 完成"),
            "{page}"
        );
        assert_eq!(first_item(&page), (item, "2".to_owned()));

        // Unticking from the page as it was before: stale, what was asked beside what is.
        let (status, _, page) = post(&app, &staff, &tick, &[("version", "1"), ("done", "0")]).await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("这一项刚被别人改过"), "{page}");
        assert!(
            page.contains("<td class=\"mine\">未完成</td><td class=\"current\">已完成</td>"),
            "{page}"
        );
        let (status, _, _) = post(&app, &staff, &tick, &[("version", "2"), ("done", "0")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let list = app.get_ok(&format!("/api/v1/drives/{id}/checklist")).await;
        assert_eq!(list["stops"][0]["items"][0]["done"], false);

        // A cancelled drive's checklist no longer changes: said in words.
        api_move(&app, id, 1, "cancelled", Some("下雪")).await;
        let (status, _, page) = post(&app, &staff, &tick, &[("version", "3"), ("done", "1")]).await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(
            page.contains("这次出车已取消，准备清单不能再改。"),
            "{page}"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn readers_without_rights_see_no_buttons_and_are_refused_and_outside_reach_nothing_exists() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let [p1, p2, _, _] = net.points;
        app.set_today("2027-03-02");
        let d = drive(&app, net.vehicles[0], "2027-03-08", &[p1, p2]).await;
        let id = id_of(&d);
        let path = format!("/station/drives/{id}");
        let staff = signed_in(&app, "chen.station", "station_staff", &[CITY]).await;
        let (_, page) = get(&app, &staff, &path).await;
        let (item, _) = first_item(&page);

        // A viewer of the county reads the drive and its calendar, with no button.
        let viewer = signed_in(&app, "zhao.viewer", "viewer", &[COUNTY]).await;
        let (status, page) = get(&app, &viewer, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("东岭村献血点"), "{page}");
        assert!(
            page.contains("您可以查看这次出车，但不能改动它。"),
            "{page}"
        );
        assert!(
            !page.contains("<form method=\"post\" action=\"/station/"),
            "{page}"
        );
        assert!(!page.contains("/cancel\""), "{page}");
        // Not staff: no station link in the navigation; the vehicle, of the city's
        // station, outside a county viewer's registry, is only a number.
        assert!(
            !page.contains("<a href=\"/station/drives\">出车安排</a>"),
            "{page}"
        );
        assert!(
            page.contains(&format!("车辆 {}", net.vehicles[0])),
            "{page}"
        );
        let (_, page) = get(&app, &viewer, "/station/drives?month=2027-03").await;
        assert_eq!(drive_links(&page), [id], "{page}");
        // Every change refused (403), nothing changed.
        for (target, fields) in [
            (
                format!("{path}/transition"),
                vec![("version", "1"), ("to", "published")],
            ),
            (
                format!("{path}/cancel"),
                vec![("version", "1"), ("reason", "不行")],
            ),
            (
                format!("/station/checklist-items/{item}"),
                vec![("version", "1"), ("done", "1")],
            ),
        ] {
            let (status, _, page) = post(&app, &viewer, &target, &fields).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{target}: {page}");
            assert!(page.contains("您没有权限进行这项操作"), "{page}");
        }
        let (status, _) = get(&app, &viewer, &format!("{path}/cancel")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.get_ok(&format!("/api/v1/drives/{id}")).await["status"],
            "draft"
        );

        // 东岭镇's official may not move the drive, but ticks 东岭's items (as the API lets
        // them), not 南塘's.
        let official = signed_in(&app, "wang.dongling", "township_official", &[DONGLING]).await;
        let (_, page) = get(&app, &official, &path).await;
        assert!(!page.contains("id=\"move-published\""), "{page}");
        let forms = page.matches("action=\"/station/checklist-items/").count();
        let items = app.get_ok(&format!("/api/v1/drives/{id}/checklist")).await;
        let dongling = items["stops"][0]["items"].as_array().unwrap().len();
        assert_eq!(forms, dongling, "only the first stop's items: {page}");
        let nantang = items["stops"][1]["items"][0]["id"].as_i64().unwrap();
        let (status, _, _) = post(
            &app,
            &official,
            &format!("/station/checklist-items/{nantang}"),
            &[("version", "1"), ("done", "1")],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = post(
            &app,
            &official,
            &format!("/station/checklist-items/{item}"),
            &[("version", "1"), ("done", "1")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);

        // Outside the reader's reach the drive does not exist.
        app.import_luohe().await;
        let elsewhere = signed_in(&app, "far.away", "station_staff", &["411103000000"]).await;
        for target in [path.clone(), format!("{path}/cancel")] {
            let (status, page) = get(&app, &elsewhere, &target).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{target}: {page}");
            assert!(!page.contains("东岭村献血点"), "{page}");
        }
        let (status, _, _) = post(
            &app,
            &elsewhere,
            &format!("{path}/transition"),
            &[("version", "1"), ("to", "published")],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) = post(
            &app,
            &elsewhere,
            &format!("/station/checklist-items/{item}"),
            &[("version", "2"), ("done", "0")],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, page) = get(&app, &elsewhere, "/station/drives?month=2027-03").await;
        assert!(drive_links(&page).is_empty(), "{page}");
        app
    })
    .await;
}
