//! The station's forecast page over HTTP: the points the reader reaches offered; a point's
//! forecast on a date is the API's (`/api/v1/forecast`, the same service), its villages in a
//! table and a chart, the parameters' source said; a date that is not one is named beside its
//! field; a point outside the reader's reach does not exist.

use reqwest::StatusCode;

use crate::page_client::{get, signed_in};
use crate::plans::{CITY, network};

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
