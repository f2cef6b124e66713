//! The station's appeals pages over HTTP (the browser walks them in `browser::appeals`):
//! staff make an appeal from the form (a bad choice shown beside the field, a draft drive
//! refused) and read its text, QR code and downloads; the template is edited against its
//! version (a stale save shows the conflict); chat groups are added (the robot's key never
//! shown back, not even after a refused form), sent to and deleted after a confirmation; and
//! another township's appeal does not exist.

use chrono::Duration;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;

use crate::appeals::{appeal, station_id};
use crate::bookings::{published_stop, today, unlimited};
use crate::helpers::on_each_backend_with;
use crate::page_client::{get, input_value, post, signed_in};
use crate::plans::{CITY, COUNTY, DONGLING, XIHE, network};

/// A robot's key, as WeCom gives it.
const KEY: &str = "5c1e7a90-3b2d-4f4e-9a8b-7d6c5e4f3a2b";

/// The id at the end of `/station/appeals/7?done=made`.
fn appeal_id_in(location: &str) -> i64 {
    location
        .trim_start_matches("/station/appeals/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("an appeal's address: {location}"))
}

#[tokio::test]
async fn staff_make_an_appeal_from_the_form_and_read_its_text_and_qr_code() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let date = today() + Duration::days(5);
        let (drive, _stop) =
            published_stop(&app, net.vehicles[0], net.points[0], date, "09:00", "11:00").await;
        let staff = signed_in(&app, "zhou", "station_staff", &[COUNTY]).await;

        // The drive's page leads to its appeals, where the form offers the drive.
        let (status, html) = get(&app, &staff, &format!("/station/drives/{drive}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(&format!("href=\"/station/appeals?drive={drive}\"")),
            "{html}"
        );
        let (status, html) = get(&app, &staff, &format!("/station/appeals?drive={drive}")).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("还没有倡议书"), "{html}");
        assert!(html.contains("href=\"/station/recruitment\""), "{html}");
        assert!(
            html.contains(&format!("<option value=\"d-{drive}\" selected>")),
            "{html}"
        );

        // A form with nothing chosen: the problem beside the field.
        let (status, _, html) = post(&app, &staff, "/station/appeals", &[("target", "")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("id=\"problem\""), "{html}");
        assert!(
            html.contains("aria-invalid=\"true\" aria-describedby=\"target-error\""),
            "{html}"
        );
        assert!(
            html.contains("<p class=\"error\" id=\"target-error\">请选择一趟已发布的献血车或其中一站。</p>"),
            "{html}"
        );
        // A drive not published gets no appeal (said beside the field).
        let draft = app
            .client
            .post(app.url("/api/v1/drives"))
            .json(&json!({"vehicle_id": net.vehicles[1], "date": date, "region": COUNTY,
                "stops": [{"site": format!("point-{}", net.points[2]), "planned_start": "10:00",
                           "planned_end": "12:00", "expected_donors": 10.0}]}))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        let target = format!("d-{}", draft["id"]);
        let (status, _, html) =
            post(&app, &staff, "/station/appeals", &[("target", &target)]).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(html.contains("还没有发布"), "{html}");

        // Made: on to its page.
        let target = format!("d-{drive}");
        let (status, location, _) =
            post(&app, &staff, "/station/appeals", &[("target", &target)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location.ends_with("?done=made"), "{location}");
        let id = appeal_id_in(&location);
        let stored = entity::appeal::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let (status, html) = get(&app, &staff, &location).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("倡议书已生成"), "{html}");
        // The text, read-only, with its copy button (shown by the page's script).
        assert!(
            html.contains(&format!(
                "<textarea id=\"appeal-text\" class=\"sapp-text\" rows=\"9\" readonly>{}</textarea>",
                stored.body
            )),
            "{html}"
        );
        assert!(html.contains("data-copy=\"appeal-text\""));
        assert!(html.contains("/assets/appeals."), "{html}");
        assert!(!html.contains("<script>"), "no inline script");
        // The QR code inline, the downloads.
        assert!(html.contains("<svg aria-hidden=\"true\" focusable=\"false\""), "{html}");
        for download in ["text", "qr.png", "qr.svg"] {
            assert!(
                html.contains(&format!("href=\"/station/appeals/{id}/{download}\"")),
                "{download}"
            );
        }
        assert!(html.contains(&stored.code));
        assert!(html.contains("还没有人通过这份倡议书预约"), "{html}");
        let response = staff
            .get(app.url(&format!("/station/appeals/{id}/text")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
        assert_eq!(response.text().await.unwrap(), stored.body);
        let response = staff
            .get(app.url(&format!("/station/appeals/{id}/qr.png")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-type"], "image/png");
        assert_eq!(&response.bytes().await.unwrap()[..8], b"\x89PNG\r\n\x1a\n");

        // The list shows it, with its code and the bookings it brought.
        let (_, html) = get(&app, &staff, "/station/appeals").await;
        assert!(
            html.contains(&format!("<td><code>{}</code></td>", stored.code)),
            "{html}"
        );
        assert!(html.contains(&format!("href=\"/station/appeals/{id}\"")));

        // A viewer reads it, with no form to make or send one.
        let viewer = signed_in(&app, "kan", "viewer", &[COUNTY]).await;
        let (status, html) = get(&app, &viewer, "/station/appeals").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(!html.contains("action=\"/station/appeals\""), "{html}");
        let (status, html) = get(&app, &viewer, &format!("/station/appeals/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(!html.contains("/send\""), "{html}");
        app
    })
    .await;
}

#[tokio::test]
async fn another_townships_appeal_does_not_exist() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let date = today() + Duration::days(5);
        let (drive, stop) =
            published_stop(&app, net.vehicles[0], net.points[0], date, "09:00", "11:00").await;
        let made = appeal(&app, &json!({"drive_id": drive, "stop_id": stop})).await;
        let id = made["id"].as_i64().unwrap();
        let outsider = signed_in(&app, "xihe", "station_staff", &[XIHE]).await;
        for path in [
            format!("/station/appeals/{id}"),
            format!("/station/appeals/{id}/text"),
            format!("/station/appeals/{id}/qr.svg"),
            format!("/station/appeals?drive={drive}"),
        ] {
            let (status, _) = get(&app, &outsider, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let (status, html) = get(&app, &outsider, "/station/appeals").await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains(made["code"].as_str().unwrap()), "{html}");
        let (status, _, _) = post(
            &app,
            &outsider,
            &format!("/station/appeals/{id}/send"),
            &[("group_ids", "1")],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

#[tokio::test]
async fn the_template_is_edited_against_its_version_with_a_preview() {
    on_each_backend_with(unlimited, |app| async move {
        network(&app).await;
        let station = station_id(&app).await;
        // The station is the city's: its staff keep its template.
        let staff = signed_in(&app, "zhou", "station_staff", &[CITY]).await;
        let (status, html) = get(&app, &staff, "/station/appeals/template").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("系统自带的模板"), "{html}");
        assert!(html.contains("<code>{link}</code>"), "{html}");
        assert_eq!(input_value(&html, "version"), "0");
        // The preview: the built-in text filled in for an example drive.
        assert!(html.contains("东岭村献血点"), "{html}");
        assert!(html.contains("via=K7M3QX"), "{html}");

        let station = station.to_string();
        let mine = "【倡议】{date}，{place}（{times}）。{who}请带{bring}。预约：{link}";
        let fields = |body: &'static str, version: &'static str| {
            [
                ("station", station.clone()),
                ("version", version.to_owned()),
                ("body", body.to_owned()),
                ("who_may_donate", "18至55周岁的健康村民".to_owned()),
                ("what_to_bring", "身份证".to_owned()),
            ]
        };
        let save = async |body: &'static str, version: &'static str| {
            let f = fields(body, version);
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(&app, &staff, "/station/appeals/template", &f).await
        };
        // No {link}: the problem beside the body, the text as typed.
        let (status, _, html) = save("{date} 没有链接", "0").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("id=\"body-error\""), "{html}");
        assert!(
            html.contains("{date} 没有链接</textarea>"),
            "the text typed: {html}"
        );

        let (status, location, _) = save(mine, "0").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, html) = get(&app, &staff, &location).await;
        assert!(html.contains("模板已保存"), "{html}");
        assert_eq!(input_value(&html, "version"), "1");
        assert!(html.contains("【倡议】"), "{html}");

        // Saved again from the page read at version 0: the conflict, mine beside current.
        let (status, _, html) = save("【新】{date}{place}{link}", "0").await;
        assert_eq!(status, StatusCode::CONFLICT, "{html}");
        assert!(html.contains("class=\"panel conflict\""), "{html}");
        assert!(
            html.contains("<td class=\"mine\">【新】{date}{place}{link}</td>"),
            "{html}"
        );
        assert!(
            html.contains(&format!("<td class=\"current\">{mine}</td>")),
            "{html}"
        );
        assert_eq!(input_value(&html, "version"), "1");
        app
    })
    .await;
}

#[tokio::test]
async fn a_chat_groups_key_never_appears_in_the_pages_and_appeals_are_sent_to_groups() {
    on_each_backend_with(unlimited, |app| async move {
        let net = network(&app).await;
        let date = today() + Duration::days(5);
        let (drive, stop) =
            published_stop(&app, net.vehicles[0], net.points[0], date, "09:00", "11:00").await;
        let made = appeal(&app, &json!({"drive_id": drive, "stop_id": stop})).await;
        let id = made["id"].as_i64().unwrap();
        let staff = signed_in(&app, "zhou", "station_staff", &[COUNTY]).await;
        let (status, html) = get(&app, &staff, "/station/chat-groups").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("还没有登记工作群"), "{html}");

        // Every field wrong: each error beside its field, and the key typed not shown back.
        let (status, _, html) = post(
            &app,
            &staff,
            "/station/chat-groups",
            &[
                ("name", " "),
                ("audience", "coordinators"),
                ("region_code", ""),
                ("webhook_key", "短key!"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        for field in ["name", "region_code", "webhook_key"] {
            assert!(
                html.contains(&format!("<p class=\"error\" id=\"{field}-error\">")),
                "{field}: {html}"
            );
        }
        assert!(!html.contains("短key!"), "{html}");

        // Added from the robot's webhook address: only the last 4 characters shown.
        let webhook = format!("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}");
        let (status, location, _) = post(
            &app,
            &staff,
            "/station/chat-groups",
            &[
                ("name", "东岭镇村医群"),
                ("audience", "coordinators"),
                ("region_code", DONGLING),
                ("webhook_key", &webhook),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, html) = get(&app, &staff, &location).await;
        assert!(html.contains("工作群已添加"), "{html}");
        assert!(html.contains("东岭镇村医群"), "{html}");
        assert!(
            html.contains(&format!("…{}", &KEY[KEY.len() - 4..])),
            "{html}"
        );
        assert!(
            !html.contains(KEY) && !html.contains(&KEY[..8]),
            "the key: {html}"
        );
        let group = entity::chat_group::Entity::find()
            .order_by_desc(entity::chat_group::Column::Id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(group.webhook_key, KEY, "the key taken from the address");

        // The appeal's page offers it; sending nothing is refused beside the boxes.
        let page = format!("/station/appeals/{id}");
        let (_, html) = get(&app, &staff, &page).await;
        assert!(!html.contains(KEY), "{html}");
        assert!(
            html.contains(&format!("name=\"group_ids\" value=\"{}\"", group.id)),
            "{html}"
        );
        let send = format!("/station/appeals/{id}/send");
        let (status, _, html) = post(&app, &staff, &send, &[("format", "text")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            html.contains("<p class=\"error\" id=\"group_ids-error\">"),
            "{html}"
        );
        let gid = group.id.to_string();
        let (status, location, _) = post(
            &app,
            &staff,
            &send,
            &[("group_ids", &gid), ("format", "text"), ("with_qr", "1")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, html) = get(&app, &staff, &location).await;
        assert!(html.contains("已排队发送"), "{html}");
        assert_eq!(
            html.matches("badge sapp-pending").count(),
            2,
            "text and QR: {html}"
        );
        assert!(html.contains("二维码图片"), "{html}");
        assert!(!html.contains(KEY));

        // Deleted after a confirmation page.
        let delete = format!("/station/chat-groups/{}/delete", group.id);
        let (status, html) = get(&app, &staff, &delete).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("确定删除"), "{html}");
        assert!(!html.contains(KEY));
        let (status, location, _) = post(&app, &staff, &delete, &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, html) = get(&app, &staff, &location).await;
        assert!(html.contains("工作群已删除"), "{html}");
        assert!(html.contains("还没有登记工作群"), "{html}");
        app
    })
    .await;
}
