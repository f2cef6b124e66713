//! The station's forecast page over HTTP: the points the reader reaches offered; a point's
//! forecast on a date is the API's (`/api/v1/forecast`, the same service), its villages in a
//! table and a chart, the parameters' source said; a date that is not one is named beside its
//! field; a point outside the reader's reach does not exist.

use reqwest::StatusCode;

use crate::page_client::{get, signed_in};
use crate::plans::{CITY, network};

/// A whole number with thousands separated, as the page writes mL: `12,400`.
pub(crate) fn whole(v: f64) -> String {
    let digits = format!("{:.0}", v);
    let bytes: Vec<char> = digits.chars().collect();
    let mut out = String::new();
    for (i, c) in bytes.iter().enumerate() {
        if i > 0
            && (bytes.len() - i).is_multiple_of(3)
            && c.is_ascii_digit()
            && bytes[i - 1].is_ascii_digit()
        {
            out.push(',');
        }
        out.push(*c);
    }
    out
}

#[tokio::test]
async fn a_points_forecast_is_the_apis_explained_village_by_village() {
    crate::helpers::on_each_backend(|app| async move {
        let net = network(&app).await;
        let p1 = net.points[0];
        let staff = signed_in(&app, "chen.staff", "station_staff", &[CITY]).await;

        let (status, page) = get(&app, &staff, "/station/forecast").await;
        assert_eq!(status, StatusCode::OK);
        for p in net.points {
            assert!(
                page.contains(&format!("<option value=\"point-{p}\"")),
                "{page}"
            );
        }
        assert!(
            !page.contains("id=\"villages\""),
            "no forecast before one is asked"
        );

        // 2026-12-10: a plain Thursday at P1 (see the network's notes).
        let api = app
            .get_ok(&format!("/api/v1/forecast?site=point-{p1}&date=2026-12-10"))
            .await;
        let (status, page) = get(
            &app,
            &staff,
            &format!("/station/forecast?site=point-{p1}&date=2026-12-10"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let total = format!("{:.1}", api["total"].as_f64().unwrap());
        assert!(
            page.contains(&format!("预计 {total} 人献血")),
            "{total}: {page}"
        );
        let villages = api["villages"].as_array().unwrap();
        assert!(!villages.is_empty());
        let table = &page[page.find("id=\"villages\"").unwrap()..];
        assert_eq!(table.matches("<th scope=\"row\">").count(), villages.len());
        for v in villages {
            let name = v["name"].as_str().unwrap();
            assert!(
                table.contains(&format!("<th scope=\"row\">{name}</th>")),
                "{name}"
            );
            let expected = format!("{:.1}", v["expected"].as_f64().unwrap());
            assert!(
                page.contains(&format!(">{expected}</text>")),
                "{name}'s bar"
            );
        }
        assert!(
            page.contains("用的是默认参数"),
            "the defaults, no results yet: {page}"
        );

        // A date that is not one; a site outside the reader's reach.
        let (status, page) = get(
            &app,
            &staff,
            &format!("/station/forecast?site=point-{p1}&date=2026-13-40"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("id=\"date-error\""), "{page}");
        assert!(page.contains("<option value=\"point-"), "the form again");
        app.import_luohe().await;
        let other = signed_in(&app, "elsewhere", "viewer", &["411100000000"]).await;
        let (status, page) = get(
            &app,
            &other,
            &format!("/station/forecast?site=point-{p1}&date=2026-12-10"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
        assert!(!page.contains("东岭"), "{page}");
        app
    })
    .await;
}

/// What the stop is worth (issue 17): with no inventory every weight is 1 and the page says
/// the value is the mL; once the city's station is short of O+ and P1's village has recorded
/// O+ donors, the page shows O+'s weight, its days and level, a factor above 1 and the value
/// in mL-equivalents beside the plain mL, the API's figures; P1's village used its own results.
#[tokio::test]
async fn the_forecast_shows_what_a_stop_is_worth_when_a_group_is_short() {
    crate::helpers::on_each_backend(|app| async move {
        let net = network(&app).await;
        let staff = signed_in(&app, "chen.staff", "station_staff", &[CITY]).await;
        let path = format!("/station/forecast?site={}&date=2026-12-10", net.site(1));
        let api_path = format!("/api/v1/forecast?site={}&date=2026-12-10", net.site(1));

        let (status, page) = get(&app, &staff, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("这一站的价值"), "{page}");
        let api = app.get_ok(&api_path).await;
        let plain = api["total"].as_f64().unwrap() * api["value"]["ml_per_donor"].as_f64().unwrap();
        assert!(
            page.contains(&format!(
                "目前没有血型库存紧缺，各血型的权重都是 1，这一站的价值就等于预计采血量（{} mL）。",
                whole(plain)
            )),
            "{page}"
        );
        assert!(!page.contains("id=\"value-weights\""), "{page}");

        crate::weights::short_of_o_positive(&app, &net).await;
        let api = app.get_ok(&api_path).await;
        let value = &api["value"];
        // The drive's donors are recent donors now: fewer available, a new total.
        let plain = api["total"].as_f64().unwrap() * value["ml_per_donor"].as_f64().unwrap();
        let factor = value["factor"].as_f64().unwrap();
        assert!(factor > 1.0, "{value}");
        let (status, page) = get(&app, &staff, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(!page.contains("id=\"value-none\""), "{page}");
        let section = &page[page.find("id=\"value\"").unwrap()..];
        assert!(
            section.contains(&format!("<dt>价值系数</dt><dd>× {factor:.3}</dd>")),
            "{section}"
        );
        assert!(
            section.contains(&format!(
                "<dt>按血型加权的价值</dt><dd>{} mL当量</dd>",
                whole(value["value_ml"].as_f64().unwrap())
            )),
            "{section}"
        );
        assert!(
            section.contains(&format!("<dt>按采血量计</dt><dd>{} mL</dd>", whole(plain))),
            "{section}"
        );
        // Only O+ weighs more than 1: half a day of supply, red.
        let weights = &section[section.find("id=\"value-weights\"").unwrap()..];
        let weights = &weights[..weights.find("</table>").unwrap()];
        assert_eq!(weights.matches("<th scope=\"row\">").count(), 1, "{weights}");
        let o = value["weights"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["group"] == "O+")
            .unwrap();
        let w = o["weight"].as_f64().unwrap();
        assert!(w > 1.0, "{o}");
        assert!(
            weights.contains(&format!(
                "<tr><th scope=\"row\">O+</th><td class=\"num\">0.5 天</td><td>紧缺（红色预警）</td><td class=\"num\">× {w:.2}</td></tr>"
            )),
            "{weights}"
        );
        // The mix of the 8 groups; P1's village from its own 6 results, the others the prior.
        let mix = &section[section.find("id=\"value-mix\"").unwrap()..];
        assert!(
            mix.contains(&format!(
                "{:.1}%",
                value["mix"]["O+"].as_f64().unwrap() * 100.0
            )),
            "{mix}"
        );
        let p1 = api["villages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["code"] == crate::weights::P1_VILLAGE)
            .unwrap();
        assert!(
            section.contains(&format!(
                "按本村带血型的献血记录：{}（6 条记录）",
                p1["name"].as_str().unwrap()
            )),
            "{section}"
        );
        // Every other village counted used the prior.
        let names: std::collections::HashMap<&str, &str> = api["villages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["code"].as_str().unwrap(), v["name"].as_str().unwrap()))
            .collect();
        let prior: Vec<&str> = value["villages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["source"] == "prior")
            .map(|v| names[v["code"].as_str().unwrap()])
            .collect();
        if prior.is_empty() {
            assert!(!section.contains("按全省构成（本村没有记录）"), "{section}");
        } else {
            assert!(
                section.contains(&format!("按全省构成（本村没有记录）：{}", prior.join("、"))),
                "{section}"
            );
        }
        assert!(
            section.contains("全省构成来自 6 条带血型的献血记录"),
            "{section}"
        );
        assert!(section.contains("id=\"value-rule\""), "{section}");
        app
    })
    .await;
}
