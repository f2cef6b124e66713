//! The township official's pages over HTTP (no browser: the browser tests live elsewhere):
//! signing in through `/login`, "my township" with its gaps and checklist items due, the points
//! list and the map's JSON (WGS-84, and GCJ-02 on AMap tiles), a point's edit form (saved,
//! refused field by field, and stale: both versions shown, what was typed kept), moving a point
//! by a tap on a GCJ-02 map, coordinators (added, made primary), who sees what (404 outside the
//! reader's reach, 403 outside their write scope), and the admin's page that creates an
//! official's account. The network is the planning tests' (`crate::plans::network`): P1 and P4
//! in 东岭镇, P2 at 南塘镇, P3 in 北冈乡; P1 has a primary coordinator, P4 none.

use donornet::HttpConfig;
use donornet::config::TileSource;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend, on_each_backend_with, send};
use crate::plans::{COUNTY, DONGLING, XIHE, network};

pub(crate) use crate::page_client::{get, sign_in};
use crate::page_client::{input_value, post, signed_in};

/// The whole edit form of P1 as the network made it, with `changes` over it.
fn p1_form<'a>(version: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("version", version),
        ("longitude", ""),
        ("latitude", ""),
        ("crs", ""),
        ("name", "东岭村献血点"),
        ("address", "东岭村献血点门前, 主街 1号"),
        ("kind", "village"),
        ("status", "active"),
        ("signage_installed_on", ""),
        ("market_days", "1,4,7"),
        ("contact_phone", ""),
        ("beds", ""),
        ("donors_per_hour", ""),
        ("notes", ""),
    ];
    for (name, value) in changes {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => fields.push((name, value)),
        }
    }
    fields
}

/// A drive by hand on `date` with one stop at each point.
async fn drive(app: &TestApp, vehicle: i64, date: &str, points: &[i64]) -> Value {
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

#[tokio::test]
async fn my_township_shows_its_figures_gaps_points_and_checklist_items_due() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let [p1, p2, _, p4] = net.points;
        app.set_today("2026-12-01");
        // A drive on 8 December: P1 (东岭) and P2 (南塘); its first items are due by now.
        drive(&app, net.vehicles[0], "2026-12-08", &[p1, p2]).await;
        let official = signed_in(&app, "wang.dongling", "township_official", &[DONGLING]).await;

        let response = official.get(app.url("/")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], "/township");

        let (status, page) = get(&app, &official, "/township").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("<h1>东岭镇</h1>"), "{page}");
        // Figures: 2 active points in 东岭.
        assert!(page.contains("使用中 <strong>2</strong>"), "{page}");
        // Gaps: P4 has no primary coordinator (P1 has one), and neither active point a sign.
        // (Its name's `<`, `>` and `&` escaped.)
        let p4_link =
            format!("<a href=\"/points/{p4}\">东岭社区&#60;流动&#62;献血点 &#38; 服务站</a>");
        assert!(page.contains("没有主要联系人的献血点"), "{page}");
        assert!(page.contains(&p4_link), "{page}");
        assert!(page.contains("还没挂标识牌的在用献血点"), "{page}");
        assert!(page.contains(&format!("<a href=\"/points/{p1}\">东岭村献血点</a>")));
        // The checklist: P1's stop's items, not P2's (南塘 is another township).
        assert!(page.contains("确认场地和联络员"), "{page}");
        assert!(page.contains("已逾期 7 天"), "{page}");
        assert!(!page.contains("南塘镇献血点"), "{page}");

        let (status, page) = get(&app, &official, "/township/points").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&format!("href=\"/points/{p1}\"")), "{page}");
        assert!(page.contains(&format!("href=\"/points/{p4}\"")), "{page}");
        assert!(!page.contains(&format!("href=\"/points/{p2}\"")), "{page}");
        assert!(page.contains("data-src=\"/township/map.json?code=990101101000\""));
        assert!(page.contains("缺主要联系人"), "{page}");
        // No inline script, and the map's script is there.
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("/assets/map.js?v="), "{page}");

        // English when the browser asks for it.
        let page = official
            .get(app.url("/township"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Gaps to fix"), "{page}");

        // Signed out: to the sign-in page, and back here after.
        let anonymous = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = anonymous.get(app.url("/township")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], "/login?next=%2Ftownship");
        app
    })
    .await;
}

#[tokio::test]
async fn the_map_json_has_the_township_in_wgs84_on_plain_maps() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let [p1, p2, _, p4] = net.points;
        let official = signed_in(&app, "wang.dongling", "township_official", &[DONGLING]).await;
        let (status, body) = get(
            &app,
            &official,
            &format!("/township/map.json?code={DONGLING}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let map: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(map["crs"], "wgs84");
        assert_eq!(map["tiles"], json!([]));
        assert_eq!(map["radius_m"], 5000.0);
        let point = |id: i64| {
            map["points"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["id"] == id)
                .cloned()
        };
        let first = point(p1).expect("P1 on the map");
        assert_eq!(
            (first["lon"].as_f64(), first["lat"].as_f64()),
            (Some(114.0132), Some(33.6737))
        );
        assert_eq!(first["status"], "active");
        assert_eq!(first["href"], format!("/points/{p1}"));
        assert!(point(p4).is_some());
        assert!(point(p2).is_none(), "南塘's point is not 东岭's");
        let village = map["villages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["code"] == "990101101201")
            .expect("东岭村 on the map");
        assert_eq!(village["eligible"], 5000);
        assert_eq!(village["band"], "many");
        assert_eq!(map["townships"][0]["name"], "东岭镇");
        app
    })
    .await;
}

#[tokio::test]
async fn on_amap_tiles_the_map_is_gcj02_and_a_tap_is_shifted_back() {
    let amap = || HttpConfig {
        tiles: TileSource::Amap,
        ..HttpConfig::default()
    };
    on_each_backend_with(amap, |app| async move {
        let net = network(&app).await;
        let p1 = net.points[0];
        let official = signed_in(&app, "wang.dongling", "township_official", &[DONGLING]).await;
        let (_, body) = get(
            &app,
            &official,
            &format!("/township/map.json?code={DONGLING}"),
        )
        .await;
        let map: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(map["crs"], "gcj02");
        assert_eq!(map["tiles"].as_array().unwrap().len(), 1);
        assert!(
            map["tiles"][0]["url"]
                .as_str()
                .unwrap()
                .contains("autonavi.com")
        );
        let first = map["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == p1)
            .unwrap()
            .clone();
        let (lon, lat) = donornet::geo::gcj02::from_wgs84(114.0132, 33.6737);
        let (shown_lon, shown_lat) = (
            first["lon"].as_f64().unwrap(),
            first["lat"].as_f64().unwrap(),
        );
        assert!(
            (shown_lon - lon).abs() < 1e-6 && (shown_lat - lat).abs() < 1e-6,
            "{first}"
        );
        // Shifted by a few hundred metres, not left as stored.
        assert!((shown_lon - 114.0132).abs() > 1e-3, "{first}");

        // A tap on the AMap map at the GCJ-02 image of (114.02, 33.68) stores (114.02, 33.68).
        let (page_status, page) = get(&app, &official, &format!("/points/{p1}")).await;
        assert_eq!(page_status, StatusCode::OK);
        let version = input_value(&page, "version");
        let (tap_lon, tap_lat) = donornet::geo::gcj02::from_wgs84(114.02, 33.68);
        let (tap_lon, tap_lat) = (format!("{tap_lon:.7}"), format!("{tap_lat:.7}"));
        let fields = p1_form(
            &version,
            &[
                ("longitude", &tap_lon),
                ("latitude", &tap_lat),
                ("crs", "gcj02"),
            ],
        );
        let (status, location, page) =
            post(&app, &official, &format!("/points/{p1}"), &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(location, format!("/points/{p1}?done=saved"));
        let stored = app.get_ok(&format!("/api/v1/points/{p1}")).await;
        assert!(
            (stored["longitude"].as_f64().unwrap() - 114.02).abs() < 5e-7,
            "{stored}"
        );
        assert!(
            (stored["latitude"].as_f64().unwrap() - 33.68).abs() < 5e-7,
            "{stored}"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn editing_a_point_saves_refuses_field_by_field_and_shows_a_stale_edit_side_by_side() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let p1 = net.points[0];
        let official = signed_in(&app, "wang.dongling", "township_official", &[DONGLING]).await;
        let (status, page) = get(&app, &official, &format!("/points/{p1}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(input_value(&page, "name"), "东岭村献血点");
        assert!(
            page.contains("data-pick=\"1\""),
            "the map moves the point: {page}"
        );
        let version = input_value(&page, "version");
        assert_eq!(version, "1");

        // Saved: the new values, through the service.
        let fields = p1_form(
            &version,
            &[
                ("market_days", "2,5,8"),
                ("signage_installed_on", "2026-01-15"),
                ("beds", "3"),
                ("bloodmobile_parking", "on"),
            ],
        );
        let (status, location, _) = post(&app, &official, &format!("/points/{p1}"), &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("/points/{p1}?done=saved"));
        let stored = app.get_ok(&format!("/api/v1/points/{p1}")).await;
        assert_eq!(stored["market_days"], "2,5,8");
        assert_eq!(stored["signage_installed_on"], "2026-01-15");
        assert_eq!(stored["beds"], 3);
        assert_eq!(stored["bloodmobile_parking"], true);
        assert_eq!(stored["version"], 2);
        assert_eq!(stored["updated_by"], "wang.dongling");
        let (_, page) = get(&app, &official, &location).await;
        assert!(page.contains("已保存。"), "{page}");

        // Refused: each bad field named beside it in words, what was typed kept, nothing saved.
        let fields = p1_form(
            "2",
            &[
                ("name", "改了名字"),
                ("market_days", "赶集"),
                ("beds", "很多"),
            ],
        );
        let (status, _, page) = post(&app, &official, &format!("/points/{p1}"), &fields).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"beds-error\""), "{page}");
        assert!(page.contains("床位数请填 0 到 100 之间的整数。"), "{page}");
        assert_eq!(input_value(&page, "name"), "改了名字");
        assert_eq!(input_value(&page, "beds"), "很多");
        let fields = p1_form("2", &[("name", "改了名字"), ("market_days", "赶集")]);
        let (status, _, page) = post(&app, &official, &format!("/points/{p1}"), &fields).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"market_days-error\""), "{page}");
        assert!(page.contains("请填农历赶集日的尾数"), "{page}");
        assert_eq!(input_value(&page, "market_days"), "赶集");
        assert_eq!(
            app.get_ok(&format!("/api/v1/points/{p1}")).await["version"],
            2
        );

        // Stale: someone saves through the API meanwhile; the official's edit of version 2
        // shows both versions (409) and keeps what was typed, carrying the new version.
        let response = app
            .send_json(
                Method::PATCH,
                &format!("/api/v1/points/{p1}"),
                &json!({"name": "站里改的名字"}),
                Some("\"2\""),
            )
            .await;
        assert_eq!(response.status().as_u16(), 200);
        let fields = p1_form(
            "2",
            &[
                ("name", "我改的名字"),
                ("market_days", "2,5,8"),
                ("signage_installed_on", "2026-01-15"),
                ("beds", "4"),
                ("bloodmobile_parking", "on"),
            ],
        );
        let (status, _, page) = post(&app, &official, &format!("/points/{p1}"), &fields).await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert_eq!(input_value(&page, "name"), "我改的名字");
        assert_eq!(input_value(&page, "beds"), "4");
        assert_eq!(input_value(&page, "version"), "3");
        assert!(
            page.contains(
                "<td class=\"mine\">我改的名字</td><td class=\"current\">站里改的名字</td>"
            ),
            "{page}"
        );
        assert!(
            page.contains("<td class=\"mine\">4</td><td class=\"current\">3</td>"),
            "{page}"
        );
        let stored = app.get_ok(&format!("/api/v1/points/{p1}")).await;
        assert_eq!(stored["name"], "站里改的名字");
        // Saving again (the new version) keeps what was typed.
        let fields = p1_form(
            "3",
            &[
                ("name", "我改的名字"),
                ("market_days", "2,5,8"),
                ("signage_installed_on", "2026-01-15"),
                ("beds", "4"),
                ("bloodmobile_parking", "on"),
            ],
        );
        let (status, _, _) = post(&app, &official, &format!("/points/{p1}"), &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let stored = app.get_ok(&format!("/api/v1/points/{p1}")).await;
        assert_eq!(stored["name"], "我改的名字");
        assert_eq!(stored["beds"], 4);
        app
    })
    .await;
}

#[tokio::test]
async fn officials_add_coordinators_and_replace_the_primary() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let p4 = net.points[3];
        let official = signed_in(&app, "wang.dongling", "township_official", &[DONGLING]).await;
        let coordinators = async || {
            app.get_ok(&format!("/api/v1/points/{p4}/coordinators"))
                .await
        };
        // Refused: the mobile and the name, each beside its field; what was typed kept.
        let path = format!("/points/{p4}/coordinators");
        let (status, _, page) = post(
            &app,
            &official,
            &path,
            &[
                ("name", "赵村医"),
                ("mobile", "1380000"),
                ("role", "village_doctor"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"c-mobile-error\""), "{page}");
        assert!(page.contains("请填写 11 位手机号码。"), "{page}");
        assert_eq!(input_value(&page, "mobile"), "1380000");
        // A number recorded already (P1's 李医生): said so at the mobile field.
        let (status, _, page) = post(
            &app,
            &official,
            &path,
            &[
                ("name", "赵村医"),
                ("mobile", "13800001111"),
                ("role", "village_doctor"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("这个手机号已经登记过了"), "{page}");
        assert_eq!(coordinators().await, json!([]));

        // Added, not primary; then a second, as the primary.
        let (status, location, _) = post(
            &app,
            &official,
            &path,
            &[
                ("name", "赵村医"),
                ("mobile", "13700003333"),
                ("role", "village_doctor"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("/points/{p4}?done=added#coordinators"));
        let (status, _, _) = post(
            &app,
            &official,
            &path,
            &[
                ("name", "钱主任"),
                ("mobile", "13700004444"),
                ("role", "village_committee"),
                ("primary", "on"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let serving = coordinators().await;
        let primary_of = |serving: &Value, name: &str| {
            serving
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == name)
                .map(|s| s["is_primary"].as_bool().unwrap())
        };
        assert_eq!(primary_of(&serving, "赵村医"), Some(false), "{serving}");
        assert_eq!(primary_of(&serving, "钱主任"), Some(true), "{serving}");
        let zhao = serving
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "赵村医")
            .unwrap()["id"]
            .clone();
        let (_, page) = get(&app, &official, &format!("/points/{p4}")).await;
        let make_primary = format!("/points/{p4}/coordinators/{zhao}/primary");
        assert!(page.contains(&make_primary), "{page}");

        // Make 赵村医 the primary: 钱主任 is demoted.
        let (status, location, _) = post(&app, &official, &make_primary, &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("/points/{p4}?done=primary#coordinators"));
        let serving = coordinators().await;
        assert_eq!(primary_of(&serving, "赵村医"), Some(true), "{serving}");
        assert_eq!(primary_of(&serving, "钱主任"), Some(false), "{serving}");
        let (_, page) = get(&app, &official, &format!("/points/{p4}?done=primary")).await;
        assert!(page.contains("已更换主要联系人。"), "{page}");
        app
    })
    .await;
}

#[tokio::test]
async fn outside_the_readers_reach_a_point_is_not_found_and_outside_their_township_read_only() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let p1 = net.points[0];
        app.import_luohe().await;
        // 孟庙镇, in another county (郾城区): 青禾县 does not exist for its official.
        let elsewhere = signed_in(&app, "far.away", "township_official", &["411103101000"]).await;
        for path in [
            format!("/points/{p1}"),
            format!("/township/map.json?code={DONGLING}"),
            format!("/township?code={DONGLING}"),
            format!("/township/points?code={DONGLING}"),
        ] {
            let (status, page) = get(&app, &elsewhere, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {page}");
            assert!(!page.contains("东岭村献血点"), "{path}: {page}");
        }
        let (status, _, page) = post(
            &app,
            &elsewhere,
            &format!("/points/{p1}"),
            &p1_form("1", &[("name", "不该改的")]),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
        assert!(page.contains("找不到您要的页面或记录"), "{page}");
        let (status, _, _) = post(
            &app,
            &elsewhere,
            &format!("/points/{p1}/coordinators"),
            &[
                ("name", "赵村医"),
                ("mobile", "13700003333"),
                ("role", "village_doctor"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // 西河乡's official reads the county, so sees P1, but may not change it.
        let neighbour = signed_in(&app, "li.xihe", "township_official", &[XIHE]).await;
        let (status, page) = get(&app, &neighbour, &format!("/points/{p1}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !page.contains(&format!("action=\"/points/{p1}\"")),
            "no edit form: {page}"
        );
        assert!(!page.contains("data-pick"), "{page}");
        let (status, _, page) = post(
            &app,
            &neighbour,
            &format!("/points/{p1}"),
            &p1_form("1", &[("name", "不该改的")]),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        assert!(page.contains("您没有权限进行这项操作"), "{page}");
        assert_eq!(
            app.get_ok(&format!("/api/v1/points/{p1}")).await["name"],
            "东岭村献血点"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn an_admin_creates_an_officials_account_bound_to_a_township() {
    on_each_backend(|app| async move {
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        let admin = signed_in(&app, "chief", "admin", &[]).await;
        let (status, page) = get(&app, &admin, "/admin/accounts/new").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains(&format!(
                "<option value=\"{COUNTY}\">青禾县（演示）</option>"
            )),
            "{page}"
        );
        // The townships of the county picked (without script, and as htmx asks for them).
        let (_, page) = get(
            &app,
            &admin,
            &format!("/admin/accounts/new?county={COUNTY}"),
        )
        .await;
        assert!(
            page.contains(&format!("<option value=\"{DONGLING}\">东岭镇</option>")),
            "{page}"
        );
        let (status, options) =
            get(&app, &admin, &format!("/regions/townships?county={COUNTY}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            options.contains(&format!("<option value=\"{XIHE}\">西河乡</option>")),
            "{options}"
        );

        // Refused field by field: a bad username, passwords that differ; the username kept,
        // the passwords not sent back.
        let (status, _, page) = post(
            &app,
            &admin,
            "/admin/accounts/new",
            &[
                ("county", COUNTY),
                ("township", DONGLING),
                ("username", "Wang Dongling!"),
                ("display_name", "王东岭"),
                ("password", "a fine long password"),
                ("repeat_password", "another long password"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("两次输入的密码不一样。"), "{page}");
        assert!(!page.contains("a fine long password"), "{page}");
        let (status, _, page) = post(
            &app,
            &admin,
            "/admin/accounts/new",
            &[
                ("county", COUNTY),
                ("township", DONGLING),
                ("username", "Wang Dongling!"),
                ("display_name", "王东岭"),
                ("password", "a fine long password"),
                ("repeat_password", "a fine long password"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"username-error\""), "{page}");
        assert_eq!(input_value(&page, "username"), "Wang Dongling!");
        assert!(
            page.contains(&format!(
                "<option value=\"{DONGLING}\" selected>东岭镇</option>"
            )),
            "{page}"
        );

        // Created, bound to 东岭镇: the new official signs in and lands on it.
        let (status, location, _) = post(
            &app,
            &admin,
            "/admin/accounts/new",
            &[
                ("county", COUNTY),
                ("township", DONGLING),
                ("username", "wang.dongling"),
                ("display_name", "王东岭"),
                ("password", "a fine long password"),
                ("repeat_password", "a fine long password"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, "/admin/accounts/new?created=wang.dongling");
        let users = app.get_ok("/api/v1/users").await;
        let created = users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "wang.dongling")
            .cloned()
            .expect("the account");
        assert_eq!(created["role"], "township_official");
        assert_eq!(created["regions"], json!([DONGLING]));
        let official = sign_in(&app, "wang.dongling", "a fine long password").await;
        let (status, page) = get(&app, &official, "/township").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<h1>东岭镇</h1>"), "{page}");
        // The same username again: taken, said at the field.
        let (status, _, page) = post(
            &app,
            &admin,
            "/admin/accounts/new",
            &[
                ("county", COUNTY),
                ("township", XIHE),
                ("username", "wang.dongling"),
                ("password", "a fine long password"),
                ("repeat_password", "a fine long password"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("这个用户名已经有人用了"), "{page}");

        // Not an admin: a 403 page, for the page and the form alike.
        let (status, page) = get(&app, &official, "/admin/accounts/new").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        assert!(page.contains("您没有权限进行这项操作"), "{page}");
        let (status, _, _) = post(
            &app,
            &official,
            "/admin/accounts/new",
            &[
                ("township", DONGLING),
                ("username", "sneaky"),
                ("password", "a fine long password"),
                ("repeat_password", "a fine long password"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        app
    })
    .await;
}
