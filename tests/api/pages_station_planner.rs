//! The planner's pages over HTTP: the desk (`/station/plans`: the plans made and the form that
//! makes one), a plan's page (its progress while it runs; once done the API's totals, every
//! vehicle-day and stop, the timeline, the sites left out by reason), the edits made in the
//! page's address (checked as `/api/v1/plans/check` checks them, with undo), the plan's map
//! data, accepting it into drives, two plans compared, and who sees and may do what. The
//! network is the planning tests' (`crate::plans::network`): P1 东岭村 (market days), P2
//! 南塘镇, P3 北冈村 (too few donors), P4 东岭社区; 1号采血车 (120 a day) and 2号采血车 (20 a day)
//! of the city's station. Every number expected is the API's.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};
use crate::page_client::{get, post, signed_in};
use crate::plans::{CITY, COUNTY, DONGLING, base_request, make_plan, network};

/// How askama writes `text` into a page.
fn esc(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// A date as the pages write it in zh-CN (`12月9日 星期三`).
fn zh_date(day: &str) -> String {
    let d: NaiveDate = day.parse().unwrap();
    let weekday =
        ["一", "二", "三", "四", "五", "六", "日"][d.weekday().num_days_from_monday() as usize];
    format!("{}月{}日 星期{weekday}", d.month(), d.day())
}

/// The session's CSRF token, as the page gives it to scripts.
fn csrf_of(page: &str) -> String {
    let marker = "<meta name=\"csrf-token\" content=\"";
    let at = page.find(marker).expect("the CSRF token") + marker.len();
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

/// The zh-CN words for why a site was left out.
fn reason_zh(reason: &str) -> &'static str {
    match reason {
        "forbidden" => "设为不去",
        "interval_not_elapsed" => "距上次采血时间不够",
        "below_minimum_donors" => "预计人数太少",
        "no_vehicle_available" => "没有可用车辆",
        "no_day_with_enough_time" => "没有时间足够的一天",
        "not_worth_the_travel" => "路程成本超过所得",
        "displaced_by_better_stops" => "让位给更好的站点",
        other => panic!("no words for {other}"),
    }
}

/// A figure of the page's `<dl>`s, as `label: value`.
fn figure(label: &str, value: &str) -> String {
    format!("<dt>{label}</dt><dd>{value}</dd>")
}

fn routes(plan: &Value) -> &Vec<Value> {
    plan["result"]["routes"].as_array().unwrap()
}

fn all_stops(plan: &Value) -> Vec<&Value> {
    routes(plan)
        .iter()
        .flat_map(|r| r["stops"].as_array().unwrap())
        .collect()
}

/// The text of the element opened at `marker` up to the end of its section (`</section>`).
fn section<'a>(page: &'a str, marker: &str) -> &'a str {
    let at = page
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {page}"));
    let end = at + page[at..].find("</section>").expect("the section ends");
    &page[at..end]
}

/// The body rows of the sites-left-out table: (name, reason) as written.
fn left_out_rows(page: &str) -> Vec<(String, String)> {
    let Some(at) = page.find("id=\"left-out-table\"") else {
        return vec![];
    };
    let body = &page[at..at + page[at..].find("</tbody>").unwrap()];
    body.split("<th scope=\"row\">")
        .skip(1)
        .map(|row| {
            let name = &row[..row.find("</th>").unwrap()];
            let rest = &row[row.find("<td>").unwrap() + 4..];
            let reason = &rest[..rest.find("</td>").unwrap()];
            (name.to_owned(), reason.to_owned())
        })
        .collect()
}

/// The plan's page once the plan is no longer being made (a running plan's page asks to be
/// reloaded: `Refresh`).
async fn done_page(app: &TestApp, client: &Client, id: i64) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let response = client
            .get(app.url(&format!("/station/plans/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let refresh = response.headers().get("refresh").cloned();
        let page = response.text().await.unwrap();
        if refresh.is_none() {
            return page;
        }
        assert_eq!(refresh.unwrap(), "2");
        assert!(page.contains("<progress id=\"plan-progress\""), "{page}");
        assert!(std::time::Instant::now() < deadline, "never done: {page}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// `POST /api/v1/plans/check` of `routes` against plan `id` (as admin).
async fn check(app: &TestApp, id: i64, routes: &Value) -> Value {
    let response = app
        .client
        .post(app.url("/api/v1/plans/check"))
        .json(&json!({"plan_id": id, "routes": routes}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

/// The plan's stored routes with `site` taken off its route (which then loses its times, as
/// an edit leaves it) and put alone on `vehicle`'s day `date`, which has no route.
fn moved_alone(plan: &Value, site: &str, vehicle: &str, date: &str) -> Value {
    let mut out: Vec<Value> = Vec::new();
    for r in routes(plan) {
        let stops: Vec<&Value> = r["stops"].as_array().unwrap().iter().collect();
        if stops.iter().any(|s| s["site"] == site) {
            let left: Vec<Value> = stops
                .iter()
                .filter(|s| s["site"] != site)
                .map(|s| json!({"site": s["site"]}))
                .collect();
            if !left.is_empty() {
                out.push(json!({"vehicle": r["vehicle"], "date": r["date"], "stops": left}));
            }
        } else {
            out.push(r.clone());
        }
    }
    out.push(json!({"vehicle": vehicle, "date": date, "stops": [{"site": site}]}));
    Value::Array(out)
}

/// The first vehicle-day of `vehicle` within the plan's days without a route.
fn free_day(plan: &Value, vehicle: &str) -> String {
    let from: NaiveDate = plan["request"]["from"].as_str().unwrap().parse().unwrap();
    let to: NaiveDate = plan["request"]["to"].as_str().unwrap().parse().unwrap();
    from.iter_days()
        .take_while(|d| *d <= to)
        .map(|d| d.to_string())
        .find(|d| {
            !routes(plan)
                .iter()
                .any(|r| r["vehicle"] == vehicle && r["date"] == d.as_str())
        })
        .expect("a free day")
}

/// The name plan `id` gives `vehicle` (its instance's).
async fn vehicle_name(app: &TestApp, id: i64, vehicle: &str) -> String {
    let instance = app.get_ok(&format!("/api/v1/plans/{id}/instance")).await;
    instance["vehicles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == vehicle)
        .and_then(|v| v["name"].as_str())
        .unwrap_or_else(|| panic!("no {vehicle} in {instance}"))
        .to_owned()
}

/// A verdict's change in the page (`+1.2 mL`, `-3.0`, `±0`) as a number.
fn change(page: &str, label: &str) -> f64 {
    let marker = format!("<dt>{label}</dt><dd>");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no {label}")) + marker.len();
    let value = &page[at..at + page[at..].find("</dd>").unwrap()];
    let number = value.trim_end_matches(" mL").trim_end_matches(" km");
    if number == "±0" {
        0.0
    } else {
        number.parse().unwrap_or_else(|_| panic!("{value}"))
    }
}

#[tokio::test]
async fn staff_make_a_plan_through_the_form_and_its_page_shows_the_apis_plan() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let staff = signed_in(&app, "chen.planner", "station_staff", &[CITY]).await;

        // The desk: no plans yet, the form with the regions, vehicles and sites to plan.
        let (status, desk) = get(&app, &staff, "/station/plans").await;
        assert_eq!(status, StatusCode::OK, "{desk}");
        assert!(desk.contains("<form method=\"post\" action=\"/station/plans\" id=\"new-plan\""));
        assert!(desk.contains("还没有计划。"), "{desk}");
        assert!(
            desk.contains(&format!("<option value=\"{COUNTY}\"")),
            "{desk}"
        );
        for v in net.vehicles {
            assert!(
                desk.contains(&format!("name=\"vehicles\" value=\"{v}\"")),
                "{desk}"
            );
        }
        for n in 1..=4 {
            assert!(desk.contains(&format!("<option value=\"{}\">", net.site(n))));
        }

        // Made through the form: P1 must not be visited.
        let csrf = csrf_of(&desk);
        let p1 = net.site(1);
        let (status, location, body) = post(
            &app,
            &staff,
            "/station/plans",
            &[
                ("csrf", csrf.as_str()),
                ("region", COUNTY),
                ("from", "2026-12-07"),
                ("to", "2026-12-11"),
                ("candidates", "points"),
                ("blackout_dates", ""),
                ("min_expected_donors", "10"),
                ("forbidden_site", p1.as_str()),
                ("forbidden_date", ""),
                ("forbidden_site", ""),
                ("forbidden_date", ""),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let listed = app.get_ok("/api/v1/plans").await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
        let id = listed["items"][0]["id"].as_i64().unwrap();
        assert_eq!(location, format!("/station/plans/{id}"));

        let page = done_page(&app, &staff, id).await;
        let plan = app.get_ok(&format!("/api/v1/plans/{id}")).await;
        assert_eq!(plan["status"], "done", "{plan}");
        assert_eq!(plan["request"]["forbidden"][0]["site"], p1.as_str());
        assert!(page.contains("<span class=\"status plan-done\" id=\"plan-status\">已完成</span>"));
        assert!(
            page.contains(&figure("制定人", plan["created_by"].as_str().unwrap())),
            "{page}"
        );
        // The totals are the API's.
        let totals = &plan["result"]["totals"];
        for (label, value) in [
            (
                "目标值（采血量减路程成本）",
                format!("{:.1} mL", totals["objective"].as_f64().unwrap()),
            ),
            (
                "预计采血量",
                format!("{:.1} mL", totals["ml"].as_f64().unwrap()),
            ),
            ("站点数", totals["stops"].to_string()),
            ("出车车次（车·天）", routes(&plan).len().to_string()),
        ] {
            assert!(
                page.contains(&figure(label, &value)),
                "{label} {value}: {page}"
            );
        }
        // Every vehicle-day, its stops in the API's order, by name.
        assert!(!routes(&plan).is_empty());
        for r in routes(&plan) {
            let key = format!(
                "id=\"route-{}.{}\"",
                r["vehicle"].as_str().unwrap(),
                r["date"].as_str().unwrap()
            );
            let route = section(&page, &key);
            let title = format!(
                "{} · {}",
                zh_date(r["date"].as_str().unwrap()),
                r["vehicle_name"].as_str().unwrap()
            );
            assert!(
                route.contains(&format!("aria-label=\"{title}\"")),
                "{route}"
            );
            let sites: Vec<&str> = route
                .split("<tr data-site=\"")
                .skip(1)
                .map(|s| &s[..s.find('"').unwrap()])
                .collect();
            let expected: Vec<&str> = r["stops"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["site"].as_str().unwrap())
                .collect();
            assert_eq!(sites, expected, "{route}");
            for s in r["stops"].as_array().unwrap() {
                let name = esc(s["name"].as_str().unwrap());
                assert!(
                    route.contains(&format!("<th scope=\"row\">{name}")),
                    "{name}: {route}"
                );
            }
        }
        assert!(
            all_stops(&plan).iter().all(|s| s["site"] != p1.as_str()),
            "P1 is forbidden"
        );
        // The timeline: a row per vehicle-day, a donation bar per stop.
        let svg = &page[page
            .find("<svg class=\"timeline-chart\"")
            .expect("the timeline")..];
        let svg = &svg[..svg.find("</svg>").unwrap()];
        assert_eq!(
            svg.matches("class=\"label\"").count(),
            routes(&plan).len(),
            "{svg}"
        );
        assert_eq!(
            svg.matches("class=\"tl-donate\"").count(),
            all_stops(&plan).len()
        );
        // The sites left out, each with its reason in words: P1 (forbidden) and P3.
        let unscheduled = plan["result"]["unscheduled"].as_array().unwrap();
        let reasons: BTreeSet<&str> = unscheduled
            .iter()
            .map(|u| u["reason"].as_str().unwrap())
            .collect();
        assert!(reasons.contains("forbidden"), "{plan}");
        assert!(reasons.contains("below_minimum_donors"), "{plan}");
        assert!(page.contains(&format!("未安排的地点（{} 个）", unscheduled.len())));
        let rows = left_out_rows(&page);
        let expected: Vec<(String, String)> = unscheduled
            .iter()
            .map(|u| {
                (
                    esc(u["name"].as_str().unwrap()),
                    reason_zh(u["reason"].as_str().unwrap()).to_owned(),
                )
            })
            .collect();
        assert_eq!(rows, expected, "{page}");

        // Filtered by one reason: only those, the reason chosen, the total kept.
        for reason in &reasons {
            let (status, filtered) = get(
                &app,
                &staff,
                &format!("/station/plans/{id}?reason={reason}"),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            let wanted: Vec<(String, String)> = expected
                .iter()
                .filter(|(_, r)| r == reason_zh(reason))
                .cloned()
                .collect();
            assert!(!wanted.is_empty());
            assert_eq!(left_out_rows(&filtered), wanted, "{reason}");
            assert!(
                filtered.contains(&format!("<option value=\"{reason}\" selected>")),
                "{filtered}"
            );
            assert!(filtered.contains(&format!("未安排的地点（{} 个）", unscheduled.len())));
        }

        // The desk lists it, done, with its objective.
        let (_, desk) = get(&app, &staff, "/station/plans").await;
        assert!(desk.contains(&format!("<a href=\"/station/plans/{id}\">计划 #{id}</a>")));
        assert!(
            desk.contains("<span class=\"status plan-done\">已完成</span>"),
            "{desk}"
        );
        assert!(desk.contains(&format!(
            "<td class=\"num\">{:.1} mL</td>",
            totals["objective"].as_f64().unwrap()
        )));
        app
    })
    .await;
}

#[tokio::test]
async fn a_plan_being_made_shows_its_progress_and_reloads_until_done() {
    on_each_backend(|app| async move {
        network(&app).await;
        let staff = signed_in(&app, "chen.planner", "station_staff", &[CITY]).await;
        let mut body = base_request();
        body["iterations"] = json!(1_000_000);
        body["time_limit_secs"] = json!(2);
        let response = app
            .client
            .post(app.url("/api/v1/plans"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202);
        let id = response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        let response = staff
            .get(app.url(&format!("/station/plans/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["refresh"], "2");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("<progress id=\"plan-progress\" max=\"100\""),
            "{page}"
        );
        assert!(page.contains("正在制定计划"), "{page}");
        assert!(!page.contains("id=\"plan-figures\""), "no totals yet");
        assert!(!page.contains("id=\"accept\""), "nothing to accept yet");
        let page = done_page(&app, &staff, id).await;
        assert!(page.contains("id=\"plan-figures\""), "{page}");
        assert!(!page.contains("<progress"), "{page}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_form_with_a_wrong_field_comes_back_with_its_hint_and_stores_nothing() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        app.import_luohe().await;
        let staff = signed_in(&app, "chen.planner", "station_staff", &[CITY]).await;
        let (_, desk) = get(&app, &staff, "/station/plans").await;
        let csrf = csrf_of(&desk);
        let p2 = net.site(2);
        for (what, from, to, forbidden, kept, error) in [
            (
                "a date that is not one",
                "2026-13-40",
                "2026-12-11",
                "",
                "name=\"from\" id=\"from\" value=\"2026-13-40\"",
                "<p class=\"error\" id=\"from-error\">请填写第一天（日期）。</p>",
            ),
            (
                "the last day before the first",
                "2026-12-07",
                "2026-12-01",
                "",
                "name=\"to\" id=\"to\" value=\"2026-12-01\"",
                "<p class=\"error\" id=\"to-error\">请填写最后一天（日期），不早于第一天，最多 60 天。</p>",
            ),
            (
                "a forbidden site that is not a candidate",
                "2026-12-07",
                "2026-12-11",
                "point-999999",
                "name=\"forbidden_site\" list=\"sites\" value=\"point-999999\"",
                "<p class=\"error\">不去的站点须是本地区的候选地点，日期在计划期间内。</p>",
            ),
        ] {
            let (status, location, page) = post(
                &app,
                &staff,
                "/station/plans",
                &[
                    ("csrf", csrf.as_str()),
                    ("region", COUNTY),
                    ("from", from),
                    ("to", to),
                    ("candidates", "points"),
                    ("min_expected_donors", "10"),
                    ("fixed_site", p2.as_str()),
                    ("fixed_date", "2026-12-09"),
                    ("fixed_vehicle", ""),
                    ("forbidden_site", forbidden),
                    ("forbidden_date", ""),
                ],
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {page}");
            assert_eq!(location, "", "{what}");
            assert!(page.contains("有几项需要修改，请看下面的红色提示。"), "{what}: {page}");
            assert!(page.contains(error), "{what}: {page}");
            assert!(page.contains(kept), "{what}: the form as typed: {page}");
            assert!(
                page.contains(&format!("name=\"fixed_site\" list=\"sites\" value=\"{p2}\"")),
                "{what}: the other fields kept: {page}"
            );
            assert!(page.contains(&format!("<option value=\"{COUNTY}\" selected>")));
        }
        let listed = app.get_ok("/api/v1/plans").await;
        assert_eq!(listed["items"], json!([]), "nothing stored");
        app
    })
    .await;
}

#[tokio::test]
async fn edits_are_checked_as_the_api_checks_them_and_undone_one_by_one() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let id = plan["id"].as_i64().unwrap();
        let staff = signed_in(&app, "chen.planner", "station_staff", &[CITY]).await;
        let path = format!("/station/plans/{id}");
        let plain = done_page(&app, &staff, id).await;
        assert!(
            plain.contains("id=\"accept\""),
            "an unedited plan is offered: {plain}"
        );
        assert!(!plain.contains("id=\"verdict\""));

        // Move P2 alone onto a day of the big vehicle that has no route.
        let v1 = format!("vehicle-{}", net.vehicles[0]);
        let p2 = net.site(2);
        let day = free_day(&plan, &v1);
        let moved = format!("put.{p2}.{v1}.{day}");
        let v1_name = vehicle_name(&app, id, &v1).await;
        let row = section(&plain, &format!("<tr data-site=\"{p2}\">"));
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(
            row.contains(&format!(
                "<option value=\"{day}\">{}</option>",
                zh_date(&day)
            )),
            "the day is offered: {row}"
        );
        assert!(
            row.contains(&format!("<option value=\"{v1}\">{v1_name}</option>"))
                || row.contains(&format!(
                    "<option value=\"{v1}\" selected>{v1_name}</option>"
                )),
            "the vehicle is offered: {row}"
        );
        // The small form's fields come back as the edit's token, added to the address.
        let response = staff
            .get(app.url(&format!("{path}?site={p2}&to_day={day}&to_vehicle={v1}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers()["location"].to_str().unwrap(),
            format!("{path}?e={moved}#verdict")
        );
        let before = check(&app, id, &plan["result"]["routes"]).await;
        assert_eq!(before["totals"], plan["result"]["totals"]);
        let after = check(&app, id, &moved_alone(&plan, &p2, &v1, &day)).await;
        let (status, page) = get(&app, &staff, &format!("{path}?e={moved}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let verdict = section(&page, "id=\"verdict\"");
        let delta = |what: &str| {
            after["totals"][what].as_f64().unwrap() - before["totals"][what].as_f64().unwrap()
        };
        let shown = change(verdict, "目标值变化");
        assert!(
            (shown - delta("objective")).abs() < 0.11,
            "{shown} against the API's {}: {verdict}",
            delta("objective")
        );
        assert_eq!(shown.signum(), delta("objective").signum(), "{verdict}");
        assert!(
            (change(verdict, "里程变化") - delta("km")).abs() < 0.11,
            "{verdict}"
        );
        assert_eq!(change(verdict, "站点数变化"), delta("stops"));
        let broken = after["violations"].as_array().unwrap().len();
        if broken == 0 {
            assert!(verdict.contains("修改后的计划符合所有规则。"), "{verdict}");
        } else {
            assert!(verdict.contains(&format!("修改后的计划违反 {broken} 条规则：")));
        }
        assert!(verdict.contains(&format!(
            "<li>把 南塘镇献血点 安排到 {v1_name}，{}</li>",
            zh_date(&day)
        )));
        // The edited route is drawn, the move kept in the page's forms; undo goes back to the
        // plan; nothing to accept while edited.
        assert!(page.contains(&format!("id=\"route-{v1}.{day}\"")), "{page}");
        assert!(page.contains(&format!(
            "<input type=\"hidden\" name=\"e\" value=\"{moved}\">"
        )));
        assert!(
            verdict.contains(&format!("href=\"{path}#verdict\" id=\"undo\"")),
            "{verdict}"
        );
        assert!(!page.contains("id=\"accept\""), "{page}");
        assert!(page.contains("修改后的计划需重新计算后才能采用"), "{page}");

        // Then P3 (too few donors) put on the plan too: the rule it breaks, in Chinese, as
        // many as the API finds; undo drops only the last edit (the filter kept).
        let p3 = net.site(3);
        assert_eq!(plan["result"]["unscheduled"][0]["site"], p3.as_str());
        assert_eq!(
            plan["result"]["unscheduled"][0]["reason"],
            "below_minimum_donors"
        );
        let added = format!("put.{p3}.{v1}.{day}");
        let mut edited = moved_alone(&plan, &p2, &v1, &day);
        let last = edited.as_array_mut().unwrap().last_mut().unwrap();
        last["stops"]
            .as_array_mut()
            .unwrap()
            .push(json!({"site": p3}));
        let two = format!("{path}?e={moved}&e={added}&reason=below_minimum_donors");
        let (status, page) = get(&app, &staff, &two).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let verdict = section(&page, "id=\"verdict\"");
        let api = check(&app, id, &edited).await;
        let kinds: Vec<&str> = api["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"below_minimum_donors"), "{api}");
        assert!(
            verdict.contains(&format!("修改后的计划违反 {} 条规则：", kinds.len())),
            "{verdict}"
        );
        assert!(
            verdict.contains("<li><strong>预计人数少于每站最低人数</strong>"),
            "{verdict}"
        );
        assert!(verdict.contains("北冈村献血点"), "{verdict}");
        assert!(
            verdict.contains(&format!(
                "href=\"{path}?e={moved}&#38;reason=below_minimum_donors#verdict\" id=\"undo\""
            )),
            "{verdict}"
        );
        assert!(
            verdict.contains(&format!(
                "href=\"{path}?reason=below_minimum_donors\" id=\"reset\""
            )),
            "{verdict}"
        );
        assert!(page.contains("class=\"panel verdict broken\""), "{page}");
        assert!(!page.contains("id=\"accept\""));
        // P3 is on the plan now, so not among the sites left out.
        assert!(
            left_out_rows(&page)
                .iter()
                .all(|(n, _)| n != "北冈村献血点"),
            "{page}"
        );

        // P2 dropped: one stop fewer, as the API counts it, and P2 among the sites left out,
        // by hand.
        let mut dropped = moved_alone(&plan, &p2, &v1, &day);
        dropped.as_array_mut().unwrap().pop();
        let api = check(&app, id, &dropped).await;
        let (_, page) = get(&app, &staff, &format!("{path}?e=drop.{p2}")).await;
        let verdict = section(&page, "id=\"verdict\"");
        assert_eq!(
            change(verdict, "站点数变化"),
            api["totals"]["stops"].as_f64().unwrap() - before["totals"]["stops"].as_f64().unwrap()
        );
        assert_eq!(change(verdict, "站点数变化"), -1.0);
        assert!(
            (change(verdict, "目标值变化")
                - (api["totals"]["objective"].as_f64().unwrap()
                    - before["totals"]["objective"].as_f64().unwrap()))
            .abs()
                < 0.11,
            "{verdict}"
        );
        assert!(
            left_out_rows(&page).contains(&("南塘镇献血点".to_owned(), "手动去掉".to_owned())),
            "{page}"
        );
        assert!(
            !page.contains(&format!("<tr data-site=\"{p2}\">")),
            "{page}"
        );

        // Tokens that are no edit, or name nothing the plan has, are ignored.
        for garbage in [
            "e=garbage".to_owned(),
            "e=put.point-999999.vehicle-1.2026-12-09".to_owned(),
            format!("e=put.{p2}.{v1}.2027-01-01"),
            format!("e=drop.{p2}%3Cscript%3E"),
        ] {
            let (status, page) = get(&app, &staff, &format!("{path}?{garbage}")).await;
            assert_eq!(status, StatusCode::OK, "{garbage}");
            assert!(!page.contains("id=\"verdict\""), "{garbage}: {page}");
            assert!(page.contains("id=\"accept\""), "{garbage}");
            assert!(!page.contains("<script>"), "{garbage}");
        }
        let (_, page) = get(&app, &staff, &format!("{path}?e=garbage&e={moved}")).await;
        let verdict = section(&page, "id=\"verdict\"");
        assert_eq!(verdict.matches("<li>把 ").count(), 1, "{verdict}");
        assert!(verdict.contains(&format!("href=\"{path}#verdict\" id=\"undo\"")));
        app
    })
    .await;
}

#[tokio::test]
async fn the_map_data_draws_each_vehicle_day_from_the_station_and_back() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let id = plan["id"].as_i64().unwrap();
        let staff = signed_in(&app, "chen.planner", "station_staff", &[CITY]).await;

        let names = [
            vehicle_name(&app, id, &format!("vehicle-{}", net.vehicles[0])).await,
            vehicle_name(&app, id, &format!("vehicle-{}", net.vehicles[1])).await,
        ];
        let map_of = |data: &Value, plan_routes: &[Value]| {
            let stations = data["stations"].as_array().unwrap();
            assert_eq!(stations.len(), 1, "{data}");
            let home = [stations[0]["lat"].clone(), stations[0]["lon"].clone()];
            let drawn = data["routes"].as_array().unwrap();
            assert_eq!(drawn.len(), plan_routes.len(), "{data}");
            let mut colours = BTreeSet::new();
            for (route, r) in drawn.iter().zip(plan_routes) {
                let colour = route["colour"].as_str().unwrap();
                assert!(colour.starts_with('#') && colour.len() == 7, "{colour}");
                colours.insert(colour.to_owned());
                assert_eq!(
                    route["label"],
                    format!(
                        "{} · {}",
                        zh_date(r["date"].as_str().unwrap()),
                        if r["vehicle"] == format!("vehicle-{}", net.vehicles[0]) {
                            &names[0]
                        } else {
                            &names[1]
                        }
                    )
                );
                let stops = route["stops"].as_array().unwrap();
                let wanted = r["stops"].as_array().unwrap();
                assert_eq!(stops.len(), wanted.len(), "{route}");
                for (n, (s, w)) in stops.iter().zip(wanted).enumerate() {
                    assert_eq!(s["n"], n + 1);
                    let name = match w["name"].as_str() {
                        Some(name) => name.to_owned(),
                        None => w["site"].as_str().unwrap().to_owned(),
                    };
                    if w["name"].is_string() {
                        assert!(
                            s["label"]
                                .as_str()
                                .unwrap()
                                .starts_with(&format!("{}. {name} ", n + 1)),
                            "{s}"
                        );
                    }
                }
                let path = route["path"].as_array().unwrap();
                assert_eq!(path.len(), stops.len() + 2, "{route}");
                assert_eq!(path[0], json!(home), "starts at the station");
                assert_eq!(path[path.len() - 1], json!(home), "ends there");
                for (p, s) in path[1..path.len() - 1].iter().zip(stops) {
                    assert_eq!(p, &json!([s["lat"], s["lon"]]));
                }
            }
            assert_eq!(
                colours.len(),
                drawn.len().min(10),
                "a colour per vehicle-day"
            );
        };

        let (status, text) = get(&app, &staff, &format!("/station/plans/{id}/map.json")).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let data: Value = serde_json::from_str(&text).unwrap();
        map_of(&data, routes(&plan));

        // As edited: P2 alone on a free day of the big vehicle, timed as the API times it.
        let v1 = format!("vehicle-{}", net.vehicles[0]);
        let p2 = net.site(2);
        let day = free_day(&plan, &v1);
        let checked = check(&app, id, &moved_alone(&plan, &p2, &v1, &day)).await;
        let (status, text) = get(
            &app,
            &staff,
            &format!("/station/plans/{id}/map.json?e=put.{p2}.{v1}.{day}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let data: Value = serde_json::from_str(&text).unwrap();
        // The page orders vehicle-days by day, then by the plan's vehicles.
        let mut edited = checked["routes"].as_array().unwrap().clone();
        edited.sort_by_key(|r| {
            (
                r["date"].as_str().unwrap().to_owned(),
                r["vehicle"] != v1.as_str(),
            )
        });
        map_of(&data, &edited);
        let p2_route = data["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["label"] == format!("{} · {}", zh_date(&day), names[0]))
            .expect("the new vehicle-day");
        assert_eq!(p2_route["stops"].as_array().unwrap().len(), 1);
        assert!(
            p2_route["stops"][0]["label"]
                .as_str()
                .unwrap()
                .starts_with("1. 南塘镇献血点 ")
        );
        app
    })
    .await;
}

#[tokio::test]
async fn staff_accept_a_plan_into_drives_and_an_official_reads_it_without_controls() {
    on_each_backend(|app| async move {
        network(&app).await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let id = plan["id"].as_i64().unwrap();
        let path = format!("/station/plans/{id}");
        let official = signed_in(&app, "li.official", "township_official", &[DONGLING]).await;

        // The official reads the plan: no form, no edits, nothing to accept.
        let (status, desk) = get(&app, &official, "/station/plans").await;
        assert_eq!(status, StatusCode::OK, "{desk}");
        assert!(!desk.contains("id=\"new-plan\""), "{desk}");
        assert!(desk.contains(&format!("href=\"{path}\"")), "{desk}");
        let page = done_page(&app, &official, id).await;
        assert!(page.contains("id=\"plan-figures\""), "{page}");
        for name in all_stops(&plan).iter().map(|s| s["name"].as_str().unwrap()) {
            assert!(page.contains(&esc(name)), "{name}");
        }
        for control in ["id=\"accept\"", "class=\"edit-stop\"", "name=\"e\""] {
            assert!(!page.contains(control), "{control}: {page}");
        }
        let v1 = plan["request"]["vehicles"][0].as_i64().unwrap();
        let (status, page) = get(
            &app,
            &official,
            &format!(
                "{path}?e=drop.{}",
                all_stops(&plan)[0]["site"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !page.contains("id=\"verdict\""),
            "an official's edits are not checked"
        );
        // Their posts are refused, and nothing is made.
        let csrf = csrf_of(&page);
        let (status, _, body) = post(
            &app,
            &official,
            "/station/plans",
            &[
                ("csrf", csrf.as_str()),
                ("region", DONGLING),
                ("from", "2026-12-07"),
                ("to", "2026-12-11"),
                ("vehicles", &v1.to_string()),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, _, body) = post(
            &app,
            &official,
            &format!("{path}/accept"),
            &[("csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(
            app.get_ok("/api/v1/plans").await["items"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(app.get_ok("/api/v1/drives").await["items"], json!([]));

        // Staff accept it: a drive per vehicle-day, and to the drives' calendar.
        let staff = signed_in(&app, "chen.planner", "station_staff", &[CITY]).await;
        let page = done_page(&app, &staff, id).await;
        assert!(
            page.contains(&format!("action=\"{path}/accept\"")),
            "{page}"
        );
        let csrf = csrf_of(&page);
        let (status, location, body) = post(
            &app,
            &staff,
            &format!("{path}/accept"),
            &[("csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let first = routes(&plan)
            .iter()
            .map(|r| r["date"].as_str().unwrap())
            .min()
            .unwrap();
        assert_eq!(location, format!("/station/drives?month={}", &first[..7]));
        let drives = app.get_ok("/api/v1/drives").await;
        let mut made: Vec<(String, String)> = drives["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    format!("vehicle-{}", d["vehicle_id"]),
                    d["date"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        made.sort();
        let mut wanted: Vec<(String, String)> = routes(&plan)
            .iter()
            .map(|r| {
                (
                    r["vehicle"].as_str().unwrap().to_owned(),
                    r["date"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        wanted.sort();
        assert_eq!(made, wanted, "{drives}");
        let (status, calendar) = get(&app, &staff, &location).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            calendar.contains(&format!("共 {} 次出车。", wanted.len())),
            "{calendar}"
        );
        // Accepted once only.
        let (status, _, _) = post(
            &app,
            &staff,
            &format!("{path}/accept"),
            &[("csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(
            app.get_ok("/api/v1/drives").await["items"]
                .as_array()
                .unwrap()
                .len(),
            wanted.len()
        );
        app
    })
    .await;
}

#[tokio::test]
async fn two_plans_compare_by_their_totals_and_the_sites_only_one_visits() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let a = make_plan(&app, &app.client, &base_request()).await;
        let mut body = base_request();
        body["forbidden"] = json!([{"site": net.site(2)}]);
        body["candidates"] = json!("points_and_unserved");
        let b = make_plan(&app, &app.client, &body).await;
        let (ia, ib) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
        let staff = signed_in(&app, "chen.planner", "station_staff", &[CITY]).await;

        let (_, desk) = get(&app, &staff, "/station/plans").await;
        assert!(desk.contains("action=\"/station/plans/compare\""), "{desk}");
        let (status, page) =
            get(&app, &staff, &format!("/station/plans/compare?a={ia}&b={ib}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let table = section(&page, "id=\"comparison\"");
        let total = |p: &Value, what: &str| p["result"]["totals"][what].as_f64().unwrap();
        for (label, what, unit) in [
            ("目标值（采血量减路程成本）", "objective", " mL"),
            ("预计采血量", "ml", " mL"),
            ("总里程", "km", " km"),
            ("站点数", "stops", ""),
        ] {
            let (x, y) = (total(&a, what), total(&b, what));
            let diff = if (y - x).abs() < 0.05 {
                "±0".to_owned()
            } else {
                format!("{:+.1}{unit}", y - x)
            };
            let row = format!(
                "<tr><th scope=\"row\">{label}</th><td class=\"num\">{x:.1}{unit}</td><td class=\"num\">{y:.1}{unit}</td><td class=\"num\">{diff}</td></tr>"
            );
            assert!(table.contains(&row), "{row}: {table}");
        }
        let row = format!(
            "<tr><th scope=\"row\">出车车次（车·天）</th><td class=\"num\">{}.0</td><td class=\"num\">{}.0</td>",
            routes(&a).len(),
            routes(&b).len()
        );
        assert!(table.contains(&row), "{row}: {table}");

        let sites = |p: &Value| -> BTreeSet<(String, String)> {
            all_stops(p)
                .iter()
                .map(|s| {
                    (
                        s["site"].as_str().unwrap().to_owned(),
                        s["name"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        };
        let (sa, sb) = (sites(&a), sites(&b));
        let only = |x: &BTreeSet<(String, String)>, y: &BTreeSet<(String, String)>| -> Vec<String> {
            x.iter()
                .filter(|(id, _)| !y.iter().any(|(other, _)| other == id))
                .map(|(_, n)| esc(n))
                .collect()
        };
        let (only_a, only_b) = (only(&sa, &sb), only(&sb, &sa));
        assert!(only_a.contains(&"南塘镇献血点".to_owned()), "P2 is forbidden in B");
        let listed = |id: &str| -> Vec<String> {
            let Some(at) = page.find(&format!("<ul id=\"{id}\">")) else {
                return vec![];
            };
            let list = &page[at..at + page[at..].find("</ul>").unwrap()];
            list.split("<li>")
                .skip(1)
                .map(|li| li[..li.find("</li>").unwrap()].to_owned())
                .collect()
        };
        assert_eq!(listed("only-a"), only_a, "{page}");
        assert_eq!(listed("only-b"), only_b, "{page}");
        if only_b.is_empty() {
            assert!(section(&page, "id=\"only-b-h\"").contains("没有。"));
        }
        assert!(page.contains(&format!(
            "两个计划都去的站点：{} 个",
            sa.len() - only_a.len()
        )));
        assert!(page.contains(&format!("只有计划 #{ia} 去的站点")));
        assert!(page.contains(&format!("只有计划 #{ib} 去的站点")));
        app
    })
    .await;
}

#[tokio::test]
async fn a_plan_beyond_the_readers_reach_does_not_exist_for_them() {
    on_each_backend(|app| async move {
        network(&app).await;
        crate::scope::border(&app).await;
        crate::scope::fleet(&app).await;
        let plan = make_plan(
            &app,
            &app.client,
            &json!({"region": crate::scope::YANCHENG, "from": "2026-12-14",
                    "to": "2026-12-15", "iterations": 200}),
        )
        .await;
        let id = plan["id"].as_i64().unwrap();
        assert!(!routes(&plan).is_empty(), "{plan}");
        let staff = signed_in(&app, "chen.planner", "station_staff", &[CITY]).await;
        for path in [
            format!("/station/plans/{id}"),
            format!("/station/plans/{id}?e=drop.point-1"),
            format!("/station/plans/{id}/map.json"),
            format!("/station/plans/compare?a={id}&b={id}"),
        ] {
            let (status, page) = get(&app, &staff, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {page}");
            for leak in ["孟庙镇献血点", "漯河市中心血站", "豫L12345"] {
                assert!(!page.contains(leak), "{path} shows {leak}");
            }
        }
        let (_, desk) = get(&app, &staff, "/station/plans").await;
        assert!(!desk.contains(&format!("/station/plans/{id}\"")), "{desk}");
        let csrf = csrf_of(&desk);
        let (status, _, _) = post(
            &app,
            &staff,
            &format!("/station/plans/{id}/accept"),
            &[("csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(app.get_ok("/api/v1/drives").await["items"], json!([]));
        // The admin who made it reads it.
        let admin = signed_in(&app, "root.web", "admin", &[]).await;
        let (status, page) = get(&app, &admin, &format!("/station/plans/{id}/map.json")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        app
    })
    .await;
}

#[tokio::test]
async fn edits_become_the_rules_of_a_new_plan_that_can_be_accepted() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let id = plan["id"].as_i64().unwrap();
        let staff = signed_in(&app, "chen.replanner", "station_staff", &[CITY]).await;
        // Move P2 alone onto a free day of the first vehicle, and drop another stop.
        let v1 = format!("vehicle-{}", net.vehicles[0]);
        let p2 = net.site(2);
        let day = free_day(&plan, &v1);
        let dropped = all_stops(&plan)
            .iter()
            .map(|s| s["site"].as_str().unwrap().to_owned())
            .find(|s| *s != p2)
            .expect("a second stop");
        let moved = format!("put.{p2}.{v1}.{day}");
        let drop = format!("drop.{dropped}");
        let (status, page) = get(
            &app,
            &staff,
            &format!("/station/plans/{id}?e={moved}&e={drop}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let verdict = section(&page, "id=\"verdict\"");
        assert!(verdict.contains("id=\"replan\""), "{verdict}");
        assert!(!page.contains("id=\"accept\""), "{page}");

        let (status, location, body) = post(
            &app,
            &staff,
            &format!("/station/plans/{id}/replan"),
            &[("e", moved.as_str()), ("e", drop.as_str())],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let new_id: i64 = location
            .strip_prefix("/station/plans/")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{location}"));
        assert_ne!(new_id, id);
        let new_page = done_page(&app, &staff, new_id).await;
        let replanned = app.get_ok(&format!("/api/v1/plans/{new_id}")).await;
        // The old request, with the edits as its rules.
        let request = &replanned["request"];
        assert_eq!(request["from"], plan["request"]["from"]);
        assert_eq!(request["to"], plan["request"]["to"]);
        assert_eq!(
            request["fixed"],
            json!([{"site": p2, "date": day, "vehicle": net.vehicles[0]}])
        );
        assert_eq!(request["forbidden"], json!([{"site": dropped}]));
        assert_eq!(replanned["created_by"], "chen.replanner");
        // So the new plan makes the moved stop there, and not the dropped one.
        let routes = replanned["result"]["routes"].as_array().unwrap();
        assert!(
            routes.iter().any(|r| r["vehicle"] == v1.as_str()
                && r["date"] == day.as_str()
                && r["stops"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["site"] == p2.as_str())),
            "{replanned}"
        );
        assert!(
            all_stops(&replanned)
                .iter()
                .all(|s| s["site"] != dropped.as_str()),
            "{replanned}"
        );
        if replanned["result"]["violations"] == json!([]) {
            assert!(new_page.contains("id=\"accept\""), "{new_page}");
        }

        // An official may not plan: refused, nothing made.
        let official = signed_in(&app, "wang.replan", "township_official", &[DONGLING]).await;
        let before = app.get_ok("/api/v1/plans").await["items"]
            .as_array()
            .unwrap()
            .len();
        let (status, _, _) = post(
            &app,
            &official,
            &format!("/station/plans/{id}/replan"),
            &[("e", moved.as_str())],
        )
        .await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{status}"
        );
        let after = app.get_ok("/api/v1/plans").await["items"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(before, after);
        app
    })
    .await;
}

/// Host organisations are offered on the form: as candidates to tick (with their usual
/// headcount) and as sites of fixed stops. A host that is not one is named beside the hosts;
/// the plan made asks for the hosts ticked, as the API's request would.
#[tokio::test]
async fn the_form_offers_hosts_as_candidates_and_fixed_stops() {
    on_each_backend(|app| async move {
        network(&app).await;
        let body = crate::groupdrives::school_body(Some(400));
        let school = crate::groupdrives::host(&app, &body).await;
        let staff = signed_in(&app, "chen.planner", "station_staff", &[CITY]).await;
        let (status, desk) = get(&app, &staff, "/station/plans").await;
        assert_eq!(status, StatusCode::OK, "{desk}");
        assert!(
            desk.contains(&format!("name=\"hosts\" value=\"{school}\"")),
            "{desk}"
        );
        assert!(desk.contains("常规 400 人"), "{desk}");
        assert!(
            desk.contains(&format!(
                "<option value=\"host-{school}\">东岭镇中心小学</option>"
            )),
            "{desk}"
        );

        let csrf = csrf_of(&desk);
        let (status, _, refused) = post(
            &app,
            &staff,
            "/station/plans",
            &host_plan_form(&csrf, "学校"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        assert!(
            refused.contains("所选单位中有不能使用的（不在本地区，或不存在）。"),
            "{refused}"
        );
        let none = app.get_ok("/api/v1/plans").await;
        assert!(none["items"].as_array().unwrap().is_empty(), "{none}");

        let school_id = school.to_string();
        let right = host_plan_form(&csrf, &school_id);
        let (status, location, body) = post(&app, &staff, "/station/plans", &right).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let listed = app.get_ok("/api/v1/plans").await;
        let id = listed["items"][0]["id"].as_i64().unwrap();
        assert_eq!(location, format!("/station/plans/{id}"));
        let plan = app.get_ok(&format!("/api/v1/plans/{id}")).await;
        assert_eq!(
            plan["request"]["hosts"],
            json!([{ "host": school }]),
            "{plan}"
        );
        app
    })
    .await;
}

/// The plan form for the demo county over three days, with one host ticked.
fn host_plan_form<'a>(csrf: &'a str, host: &'a str) -> [(&'static str, &'a str); 7] {
    [
        ("csrf", csrf),
        ("region", COUNTY),
        ("from", "2026-12-07"),
        ("to", "2026-12-09"),
        ("candidates", "points"),
        ("min_expected_donors", "10"),
        ("hosts", host),
    ]
}

/// What the stops are worth (issue 17): with the city's station short of O+ the plan's value
/// differs from its mL, and the page shows the API's value beside the mL (totals, each route,
/// each stop whose value differs, linked to its forecast) with the note saying why.
#[tokio::test]
async fn a_plan_shows_its_value_beside_the_ml_when_a_group_is_short() {
    on_each_backend(|app| async move {
        let net = network(&app).await;
        let staff = signed_in(&app, "chen.value", "station_staff", &[CITY]).await;
        let plain = make_plan(&app, &app.client, &base_request()).await;
        let page = done_page(&app, &staff, plain["id"].as_i64().unwrap()).await;
        assert!(!page.contains("id=\"value-note\""), "no group short: {page}");
        assert!(!page.contains("mL当量"), "{page}");

        crate::weights::short_of_o_positive(&app, &net).await;
        let plan = make_plan(&app, &app.client, &base_request()).await;
        let id = plan["id"].as_i64().unwrap();
        let page = done_page(&app, &staff, id).await;
        let totals = &plan["result"]["totals"];
        let value = totals["value"].as_f64().unwrap();
        assert!(value > totals["ml"].as_f64().unwrap() + 0.5, "{totals}");
        assert!(
            page.contains(&figure(
                "价值（按血型加权）",
                &format!("{} mL当量", crate::pages_station_forecast::whole(value))
            )),
            "{page}"
        );
        assert!(page.contains("id=\"value-note\""), "{page}");
        assert!(!routes(&plan).is_empty());
        let mut valued_stops = 0;
        for r in routes(&plan) {
            let key = format!(
                "id=\"route-{}.{}\"",
                r["vehicle"].as_str().unwrap(),
                r["date"].as_str().unwrap()
            );
            let route = section(&page, &key);
            let (ml, value) = (r["ml"].as_f64().unwrap(), r["value"].as_f64().unwrap());
            if (value - ml).abs() >= 0.5 {
                assert!(
                    route.contains(&format!(
                        "价值 {} mL当量",
                        crate::pages_station_forecast::whole(value)
                    )),
                    "{route}"
                );
            }
            for s in r["stops"].as_array().unwrap() {
                let (ml, value) = (s["ml"].as_f64().unwrap(), s["value"].as_f64().unwrap());
                if (value - ml).abs() >= 0.5 {
                    let link = format!(
                        "<a class=\"sval-stop-value\" href=\"/station/forecast?site={}&#38;date={}\">价值 {}</a>",
                        s["site"].as_str().unwrap(),
                        r["date"].as_str().unwrap(),
                        crate::pages_station_forecast::whole(value)
                    );
                    assert!(route.contains(&link), "{link}: {route}");
                    valued_stops += 1;
                } else {
                    let site = s["site"].as_str().unwrap();
                    let link = format!("forecast?site={site}&#38;date={}", r["date"].as_str().unwrap());
                    assert!(!route.contains(&link), "{link}: {route}");
                }
            }
        }
        assert!(valued_stops > 0, "some stop draws O+ donors: {plan}");
        app
    })
    .await;
}
