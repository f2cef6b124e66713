//! The public pages (issue 14) at the HTTP level: the schedule by county and township, the
//! stop page and its booking form (a person, a group), the booking's own page reached by its
//! link, moving and cancelling there, refusals in plain words, the language switch, signing in
//! and changing a password, the CSRF rule, error pages and the security headers. (The same
//! journeys in a real browser are in `browser`.)

use chrono::Duration;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Client, redirect};

use crate::bookings::{published_stop, today, unlimited};
use crate::helpers::{TestApp, on_each_backend, on_each_backend_with, user_with_token};
use crate::plans::network;

const TOWNSHIP: &str = "990101103000";
const COUNTY_CODE: &str = "990101000000";

/// A browser-like client: no redirects followed, cookies kept, `Origin` of the site on every
/// request (as browsers send with form posts), Chinese first.
fn browser(app: &TestApp, lang: &str) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert("origin", HeaderValue::from_str(&app.address).unwrap());
    headers.insert("accept-language", HeaderValue::from_str(lang).unwrap());
    Client::builder()
        .redirect(redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn page(client: &Client, app: &TestApp, path: &str) -> (u16, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn post_form(
    client: &Client,
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The text a reader sees: the body without tags and attribute values.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn the_home_page_sends_readers_to_the_schedule_and_unknown_pages_are_404_pages() {
    on_each_backend(|app| async move {
        let client = browser(&app, "zh-CN");
        let home = client.get(app.url("/")).send().await.unwrap();
        assert_eq!(home.status().as_u16(), 303);
        assert_eq!(location(&home), "/drives");
        let (status, body) = page(&client, &app, "/no/such/page").await;
        assert_eq!(status, 404);
        assert!(body.contains("找不到页面"), "{body}");
        // The API keeps answering problems.
        let api = client.get(app.url("/api/v1/nothing")).send().await.unwrap();
        assert_eq!(
            api.headers()["content-type"].to_str().unwrap(),
            "application/problem+json"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn pages_carry_a_strict_content_security_policy_and_no_inline_script_or_style() {
    on_each_backend(|app| async move {
        let client = browser(&app, "zh-CN");
        for path in ["/drives", "/login", "/no/such/page"] {
            let response = client.get(app.url(path)).send().await.unwrap();
            let csp = response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
            assert!(csp.contains("style-src 'self'"), "{path}: {csp}");
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            assert_eq!(response.headers()["referrer-policy"], "same-origin");
            assert_eq!(response.headers()["x-frame-options"], "DENY");
            let body = response.text().await.unwrap();
            assert!(!body.contains("<script>"), "{path}: inline script");
            assert!(!body.contains(" style="), "{path}: inline style");
            assert!(!body.contains(" onclick="), "{path}: inline handler");
            // Every script and stylesheet comes from this site.
            for src in body
                .split("src=\"")
                .skip(1)
                .chain(body.split("href=\"").skip(1))
            {
                assert!(!src.starts_with("http"), "{path}: {src}");
            }
        }
        // Assets are this site's, cached for ever under their hash.
        let (_, body) = page(&client, &app, "/drives").await;
        let css = body
            .split("href=\"")
            .skip(1)
            .map(|h| h.split('"').next().unwrap())
            .find(|h| h.starts_with("/assets/app.css"))
            .expect("the stylesheet");
        assert!(css.starts_with("/assets/app.css?v="), "{css}");
        let asset = client.get(app.url(css)).send().await.unwrap();
        assert_eq!(asset.status().as_u16(), 200);
        assert_eq!(asset.headers()["content-type"], "text/css");
        assert!(
            asset.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let htmx = client.get(app.url("/assets/htmx.js")).send().await.unwrap();
        assert_eq!(htmx.status().as_u16(), 200);
        assert!(htmx.text().await.unwrap().contains("htmx"));
        let missing = client
            .get(app.url("/assets/nothing.js"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status().as_u16(), 404);
        app
    })
    .await;
}

#[tokio::test]
async fn the_schedule_lists_announced_stops_by_county_and_township_in_the_readers_language() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let date = today() + Duration::days(5);
        // Point 2 (南塘镇献血点) lies in 南塘镇 (990101103000).
        let (_, stop) =
            published_stop(&app, net.vehicles[0], net.points[1], date, "09:00", "11:00").await;
        let client = browser(&app, "zh-CN,zh;q=0.9");
        let (status, body) = page(&client, &app, "/drives").await;
        assert_eq!(status, 200);
        assert!(body.contains("<html lang=\"zh-CN\">"));
        assert!(body.contains("南塘镇献血点"), "{body}");
        assert!(body.contains(&format!("href=\"/stops/{stop}\"")));
        assert!(body.contains("剩余"), "places left in Chinese: {body}");
        // The county to pick from, with its count of stops.
        assert!(body.contains(&format!("value=\"{COUNTY_CODE}\"")), "{body}");
        assert!(body.contains("青禾县（演示）（1 个站点）"), "{body}");

        // The township choices of the county (what htmx swaps in).
        let (_, options) = page(
            &client,
            &app,
            &format!("/drives/townships?county={COUNTY_CODE}"),
        )
        .await;
        assert!(
            options.contains(&format!("value=\"{TOWNSHIP}\"")),
            "{options}"
        );
        assert!(options.contains("南塘镇"), "{options}");
        assert!(!options.contains("<html"), "a partial: {options}");

        // Picked: the township's stops; another township of the county: none.
        let (_, picked) = page(
            &client,
            &app,
            &format!("/drives?county={COUNTY_CODE}&township={TOWNSHIP}"),
        )
        .await;
        assert!(picked.contains("南塘镇 近 30 天的献血车"), "{picked}");
        assert!(picked.contains("南塘镇献血点"));
        let (_, other) = page(
            &client,
            &app,
            &format!("/drives?county={COUNTY_CODE}&township=990101101000"),
        )
        .await;
        assert!(
            !other.contains(&format!("href=\"/stops/{stop}\"")),
            "{other}"
        );
        assert!(other.contains("这段时间没有安排献血车"), "{other}");
        // Near the phone (about 1 km from the point), and far from it.
        let (_, near) = page(&client, &app, "/drives?near=114.0700,33.5250").await;
        assert!(near.contains(&format!("href=\"/stops/{stop}\"")), "{near}");
        assert!(near.contains("距您约"), "{near}");
        let (_, far) = page(&client, &app, "/drives?near=116.4,39.9").await;
        assert!(!far.contains(&format!("href=\"/stops/{stop}\"")));
        // Nonsense is explained, not a 500.
        let (status, bad) = page(&client, &app, "/drives?county=12345").await;
        assert_eq!(status, 200);
        assert!(bad.contains("没能按这个地点查找"), "{bad}");

        // English by the browser's language, and by the switch (remembered in a cookie).
        let english = browser(&app, "en-GB,en;q=0.9");
        let (_, body) = page(&english, &app, "/drives").await;
        assert!(body.contains("<html lang=\"en\">"));
        assert!(body.contains("Bloodmobile schedule"), "{body}");
        assert!(body.contains("places left") || body.contains("place left"));
        let switch = client
            .get(app.url("/lang?to=en&next=%2Fdrives"))
            .send()
            .await
            .unwrap();
        assert_eq!(switch.status().as_u16(), 303);
        assert_eq!(location(&switch), "/drives");
        let cookie = switch.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.starts_with("donornet_lang=en"), "{cookie}");
        let switched = client
            .get(app.url("/drives"))
            .header("cookie", cookie.split(';').next().unwrap())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(switched.contains("<html lang=\"en\">"));
        // The switch goes back only to this site.
        let away = client
            .get(app.url("/lang?to=en&next=https://evil.example/"))
            .send()
            .await
            .unwrap();
        assert_eq!(location(&away), "/");
        app
    })
    .await;
}

#[tokio::test]
async fn a_donor_books_moves_and_cancels_through_the_pages() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let date = today() + Duration::days(6);
        let (_, stop) =
            published_stop(&app, net.vehicles[0], net.points[1], date, "09:00", "11:00").await;
        let client = browser(&app, "zh-CN");
        let (status, form) = page(&client, &app, &format!("/stops/{stop}")).await;
        assert_eq!(status, 200);
        assert!(form.contains("南塘镇献血点"));
        assert!(form.contains("value=\"09:30\""), "slots to pick: {form}");

        // Mistakes: named next to their fields, what was typed kept, nothing booked.
        let bad = post_form(
            &client,
            &app,
            &format!("/stops/{stop}/book"),
            &[
                ("kind", "person"),
                ("name", ""),
                ("mobile", "12345"),
                ("slot", "09:00"),
            ],
        )
        .await;
        assert_eq!(bad.status().as_u16(), 400);
        let bad = bad.text().await.unwrap();
        assert!(bad.contains("请填写姓名"), "{bad}");
        assert!(bad.contains("请填写 11 位手机号码"), "{bad}");
        assert!(
            bad.contains("value=\"12345\""),
            "the typed mobile is kept: {bad}"
        );
        assert!(bad.contains("有几项需要修改"), "{bad}");
        let (_, api_stop) = app.get_json(&format!("/api/v1/public/stops/{stop}")).await;
        assert_eq!(
            api_stop["places_left"],
            api_stop["slots"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["places"].as_i64().unwrap())
                .sum::<i64>()
        );

        // Booked: on to the booking's page; its address carries the token, the page does
        // not show it.
        let booked = post_form(
            &client,
            &app,
            &format!("/stops/{stop}/book"),
            &[
                ("kind", "person"),
                ("name", "张三"),
                ("mobile", "138 0000 0001"),
                ("slot", "09:00"),
            ],
        )
        .await;
        assert_eq!(booked.status().as_u16(), 303);
        let link = location(&booked);
        assert!(
            link.starts_with("/bookings/") && link.contains("?t="),
            "{link}"
        );
        let token = link
            .split("t=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned();
        let code = link["/bookings/".len()..link.find('?').unwrap()].to_owned();
        let (status, mine) = page(&client, &app, &link).await;
        assert_eq!(status, 200);
        assert!(mine.contains("预约成功"), "{mine}");
        assert!(mine.contains(&code));
        assert!(mine.contains("09:00–09:30"), "{mine}");
        assert!(
            !visible_text(&mine).contains(&token),
            "the token is not shown"
        );

        // A second booking of the stop with that mobile, in plain words.
        let again = post_form(
            &client,
            &app,
            &format!("/stops/{stop}/book"),
            &[
                ("kind", "person"),
                ("name", "张三"),
                ("mobile", "13800000001"),
                ("slot", "10:00"),
            ],
        )
        .await;
        assert_eq!(again.status().as_u16(), 409);
        let again = again.text().await.unwrap();
        assert!(again.contains("这个手机号已经预约过这个站点了"), "{again}");
        assert!(again.contains("value=\"张三\""), "what was typed is kept");

        // Moved, then cancelled, with the token from the link.
        let moved = post_form(
            &client,
            &app,
            &format!("/bookings/{code}/move"),
            &[("t", &token), ("slot", "10:00")],
        )
        .await;
        assert_eq!(moved.status().as_u16(), 303);
        let (_, after) = page(&client, &app, &location(&moved)).await;
        assert!(after.contains("已改约到新的时段"), "{after}");
        assert!(after.contains("10:00–10:30"), "{after}");
        let wrong = post_form(
            &client,
            &app,
            &format!("/bookings/{code}/cancel"),
            &[("t", "0000")],
        )
        .await;
        assert_eq!(wrong.status().as_u16(), 404);
        assert!(wrong.text().await.unwrap().contains("找不到这个预约"));
        let cancelled = post_form(
            &client,
            &app,
            &format!("/bookings/{code}/cancel"),
            &[("t", &token)],
        )
        .await;
        assert_eq!(cancelled.status().as_u16(), 303);
        let (_, gone) = page(&client, &app, &location(&cancelled)).await;
        assert!(gone.contains("预约已取消"), "{gone}");
        assert!(gone.contains("已取消"));
        assert!(
            !gone.contains("/move\""),
            "a cancelled booking offers no move"
        );
        let (_, api) = app.get_json(&format!("/api/v1/public/stops/{stop}")).await;
        let left: i64 = api["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["places_left"].as_i64().unwrap())
            .sum();
        let places: i64 = api["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["places"].as_i64().unwrap())
            .sum();
        assert_eq!(left, places, "the place went back");

        // The stop's calendar file links to its page.
        let ics = client
            .get(app.url(&format!("/stops/{stop}/calendar.ics")))
            .send()
            .await
            .unwrap();
        assert!(
            ics.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/calendar")
        );
        let text = ics.text().await.unwrap().replace("\r\n ", "");
        assert!(
            text.contains(&format!("URL:{}/stops/{stop}", app.address)),
            "{text}"
        );
        assert!(text.contains("SUMMARY:献血车 · 南塘镇献血点"), "{text}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_full_slot_is_explained_and_the_form_offers_the_slots_left() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let date = today() + Duration::days(7);
        // Vehicle 2: 2 beds, so 09:00-09:30 holds few places.
        let (_, stop) =
            published_stop(&app, net.vehicles[1], net.points[1], date, "09:00", "10:00").await;
        let (_, api) = app.get_json(&format!("/api/v1/public/stops/{stop}")).await;
        let first = api["slots"][0]["places"].as_i64().unwrap();
        let client = browser(&app, "zh-CN");
        for n in 0..first {
            let mobile = format!("1390000{n:04}");
            let ok = post_form(
                &client,
                &app,
                &format!("/stops/{stop}/book"),
                &[
                    ("kind", "person"),
                    ("name", "李四"),
                    ("mobile", &mobile),
                    ("slot", "09:00"),
                ],
            )
            .await;
            assert_eq!(ok.status().as_u16(), 303, "booking {n}");
        }
        let full = post_form(
            &client,
            &app,
            &format!("/stops/{stop}/book"),
            &[
                ("kind", "person"),
                ("name", "王五"),
                ("mobile", "13700000000"),
                ("slot", "09:00"),
            ],
        )
        .await;
        assert_eq!(full.status().as_u16(), 409);
        let full = full.text().await.unwrap();
        assert!(full.contains("您选的时段刚刚约满了"), "{full}");
        assert!(
            !full.contains("<option value=\"09:00\""),
            "the full slot is not offered again"
        );
        assert!(full.contains("<option value=\"09:30\""), "{full}");

        // A group: too few places for its headcount reads the same way.
        let group = post_form(
            &client,
            &app,
            &format!("/stops/{stop}/book"),
            &[
                ("kind", "group"),
                ("organisation", "南塘镇中学"),
                ("contact_name", "赵老师"),
                ("contact_mobile", "13600000000"),
                ("headcount", "x"),
            ],
        )
        .await;
        assert_eq!(group.status().as_u16(), 400);
        let group = group.text().await.unwrap();
        assert!(group.contains("团体人数为 2 到 100 人"), "{group}");
        assert!(group.contains("value=\"南塘镇中学\""));
        app
    })
    .await;
}

#[tokio::test]
async fn staff_sign_in_change_their_password_and_sign_out_through_the_pages() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        user_with_token(
            &app.db,
            "wang.fang",
            "township_official",
            &[TOWNSHIP],
            Some("lotus-pond-1937"),
        )
        .await;
        let client = browser(&app, "zh-CN");
        let (status, form) = page(&client, &app, "/login?next=%2Faccount%2Fpassword").await;
        assert_eq!(status, 200);
        assert!(form.contains("工作人员登录"));
        let wrong = post_form(
            &client,
            &app,
            "/login",
            &[
                ("username", "wang.fang"),
                ("password", "nope-nope-nope"),
                ("next", "/account/password"),
            ],
        )
        .await;
        assert_eq!(wrong.status().as_u16(), 401);
        let wrong = wrong.text().await.unwrap();
        assert!(wrong.contains("用户名或密码不对"), "{wrong}");
        assert!(wrong.contains("value=\"wang.fang\""));

        let signed_in = post_form(
            &client,
            &app,
            "/login",
            &[
                ("username", "wang.fang"),
                ("password", "lotus-pond-1937"),
                ("next", "/account/password"),
            ],
        )
        .await;
        assert_eq!(signed_in.status().as_u16(), 303);
        assert_eq!(location(&signed_in), "/account/password");
        let cookie = signed_in.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let session = cookie.split(';').next().unwrap().to_owned();
        let with_session =
            |request: reqwest::RequestBuilder| request.header("cookie", session.clone());

        let account = with_session(client.get(app.url("/account/password")))
            .send()
            .await
            .unwrap();
        assert_eq!(account.status().as_u16(), 200);
        let account = account.text().await.unwrap();
        assert!(account.contains("当前账号：wang.fang"), "{account}");

        // A change from another site is refused (the CSRF rule), whatever the cookie.
        let body = "current_password=lotus-pond-1937&new_password=x&repeat_password=x";
        let forged = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .build()
            .unwrap()
            .post(app.url("/account/password"))
            .header("origin", "http://evil.example")
            .header("cookie", session.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status().as_u16(), 403);
        assert!(forged.text().await.unwrap().contains("您没有权限"));

        let post = |fields: Vec<(&'static str, &'static str)>| {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish();
            with_session(client.post(app.url("/account/password")))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let mismatch = post(vec![
            ("current_password", "lotus-pond-1937"),
            ("new_password", "river-stone-2048"),
            ("repeat_password", "river-stone-2049"),
        ])
        .await
        .unwrap();
        let status = mismatch.status().as_u16();
        let text = mismatch.text().await.unwrap();
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("两次输入的新密码不一样"));
        let wrong_current = post(vec![
            ("current_password", "not-my-password"),
            ("new_password", "river-stone-2048"),
            ("repeat_password", "river-stone-2048"),
        ])
        .await
        .unwrap();
        assert_eq!(wrong_current.status().as_u16(), 400);
        assert!(wrong_current.text().await.unwrap().contains("当前密码不对"));
        let weak = post(vec![
            ("current_password", "lotus-pond-1937"),
            ("new_password", "short"),
            ("repeat_password", "short"),
        ])
        .await
        .unwrap();
        assert_eq!(weak.status().as_u16(), 400);
        assert!(weak.text().await.unwrap().contains("新密码至少 10 个字符"));
        let changed = post(vec![
            ("current_password", "lotus-pond-1937"),
            ("new_password", "river-stone-2048"),
            ("repeat_password", "river-stone-2048"),
        ])
        .await
        .unwrap();
        assert_eq!(changed.status().as_u16(), 303);
        assert_eq!(location(&changed), "/login?changed=1");
        // The session ended with the change; the new password signs in, the old does not.
        let after = with_session(client.get(app.url("/account/password")))
            .send()
            .await
            .unwrap();
        assert_eq!(after.status().as_u16(), 303);
        assert!(location(&after).starts_with("/login?next="));
        let old = post_form(
            &client,
            &app,
            "/login",
            &[("username", "wang.fang"), ("password", "lotus-pond-1937")],
        )
        .await;
        assert_eq!(old.status().as_u16(), 401);
        let new = post_form(
            &client,
            &app,
            "/login",
            &[("username", "wang.fang"), ("password", "river-stone-2048")],
        )
        .await;
        assert_eq!(new.status().as_u16(), 303);
        let session = new.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        // Signing out clears the cookie and ends the session.
        let out = client
            .post(app.url("/logout"))
            .header("cookie", session.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(out.status().as_u16(), 303);
        assert!(
            out.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
        let gone = client
            .get(app.url("/account/password"))
            .header("cookie", session)
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status().as_u16(), 303);
        // Only paths on this site are followed after signing in.
        let away = post_form(
            &client,
            &app,
            "/login",
            &[
                ("username", "wang.fang"),
                ("password", "river-stone-2048"),
                ("next", "//evil.example/"),
            ],
        )
        .await;
        assert_eq!(location(&away), "/");
        app
    })
    .await;
}
