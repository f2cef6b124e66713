//! Coordinators and their assignment to points.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, on_each_backend};

/// The demo township every coordinator here belongs to.
const TOWNSHIP: &str = "990101101000";

async fn coordinator(app: &TestApp, name: &str, mobile: &str) -> Value {
    donornet::seed::load_demo_divisions(&app.db).await.unwrap();
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/coordinators",
            &json!({"name": name, "mobile": mobile, "role": "village_doctor", "region_code": TOWNSHIP}),
            None,
        )
        .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn point(app: &TestApp) -> Value {
    donornet::seed::load_demo_divisions(&app.db).await.unwrap();
    app.create_point(&json!({"name": "东岭镇献血点", "kind": "township", "region_code": "990101101000", "longitude": 114.02, "latitude": 33.66, "status": "active"}))
        .await
}

#[tokio::test]
async fn coordinators_are_validated_searched_and_unique_by_mobile() {
    on_each_backend(|app| async move {
        let wang = coordinator(&app, "王建国", "138-1234-5678").await;
        assert_eq!(wang["mobile"], "13812345678");
        coordinator(&app, "李秀英", "13900001111").await;
        for (body, field) in [
            (
                json!({"name": "", "mobile": "13800000000", "role": "volunteer", "region_code": TOWNSHIP}),
                "name",
            ),
            (
                json!({"name": "张三", "mobile": "0395-1234567", "role": "volunteer", "region_code": TOWNSHIP}),
                "mobile",
            ),
            (
                json!({"name": "张三", "mobile": "1380000000", "role": "volunteer", "region_code": TOWNSHIP}),
                "mobile",
            ),
            (
                json!({"name": "张三", "mobile": "13800000000", "role": "mayor", "region_code": TOWNSHIP}),
                "role",
            ),
        ] {
            let response = app
                .send_json(Method::POST, "/api/v1/coordinators", &body, None)
                .await;
            let problem = expect_problem(response, 400, &body.to_string()).await;
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
        let response = app
            .send_json(
                Method::POST,
                "/api/v1/coordinators",
                &json!({"name": "王建国", "mobile": "13812345678", "role": "other", "region_code": TOWNSHIP}),
                None,
            )
            .await;
        let problem = expect_problem(response, 409, "a duplicate mobile").await;
        assert_eq!(problem["errors"][0]["field"], "mobile");

        let by_name = app.get_ok("/api/v1/coordinators?q=建国").await;
        assert_eq!(by_name["items"].as_array().unwrap().len(), 1);
        let by_phone = app.get_ok("/api/v1/coordinators?q=0000111").await;
        assert_eq!(by_phone["items"][0]["name"], "李秀英");
        assert_eq!(
            app.get_ok("/api/v1/coordinators").await["items"]
                .as_array()
                .unwrap()
                .len(),
            2
        );

        // PATCH with If-Match; a stale one gets 412.
        let path = format!("/api/v1/coordinators/{}", wang["id"]);
        let response = app
            .send_json(
                Method::PATCH,
                &path,
                &json!({"wechat_id": "wjg1970"}),
                Some("\"1\""),
            )
            .await;
        assert_eq!(response.status().as_u16(), 200);
        let response = app
            .send_json(Method::PATCH, &path, &json!({"notes": "x"}), Some("\"1\""))
            .await;
        assert_eq!(response.status().as_u16(), 412);
        let response = app
            .send_json(Method::PATCH, &path, &json!({"notes": "x"}), None)
            .await;
        expect_problem(response, 428, "no If-Match").await;
        app
    })
    .await;
}

#[tokio::test]
async fn a_new_primary_demotes_the_old_one() {
    on_each_backend(|app| async move {
        let p = point(&app).await;
        let (a, b) = (
            coordinator(&app, "王建国", "13812345678").await,
            coordinator(&app, "李秀英", "13900001111").await,
        );
        let assign = |c: &Value, primary: bool| {
            let path = format!("/api/v1/points/{}/coordinators/{}", p["id"], c["id"]);
            let app = &app;
            async move {
                app.send_json(Method::PUT, &path, &json!({"primary": primary}), None)
                    .await
            }
        };
        assert_eq!(assign(&a, true).await.status().as_u16(), 200);
        let after: Value = assign(&b, true).await.json().await.unwrap();
        let primaries: Vec<&str> = after
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["is_primary"] == true)
            .map(|x| x["name"].as_str().unwrap())
            .collect();
        assert_eq!(primaries, ["李秀英"], "{after}");
        assert_eq!(
            after.as_array().unwrap().len(),
            2,
            "the old primary still serves"
        );
        // Assigning again is idempotent.
        let again: Value = assign(&b, true).await.json().await.unwrap();
        assert_eq!(again, after);

        // A coordinator who serves a point cannot be deleted; after unassigning, they can.
        let response = app
            .client
            .delete(app.url(&format!("/api/v1/coordinators/{}", a["id"])))
            .send()
            .await
            .unwrap();
        expect_problem(response, 409, "deleting an assigned coordinator").await;
        let response = app
            .client
            .delete(app.url(&format!(
                "/api/v1/points/{}/coordinators/{}",
                p["id"], a["id"]
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let response = app
            .client
            .delete(app.url(&format!("/api/v1/coordinators/{}", a["id"])))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 204);
        let response = app
            .send_json(
                Method::PUT,
                &format!("/api/v1/points/{}/coordinators/999", p["id"]),
                &json!({}),
                None,
            )
            .await;
        expect_problem(response, 404, "an unknown coordinator").await;
        let audit = app
            .get_ok(&format!(
                "/api/v1/audit?entity=point_coordinators&id={}",
                p["id"]
            ))
            .await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 4);
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_primaries_leave_exactly_one() {
    on_each_backend(|app| async move {
        let p = point(&app).await;
        let mut people = Vec::new();
        for i in 0..6 {
            people.push(coordinator(&app, &format!("协调员{i}"), &format!("1380000000{i}")).await);
        }
        let tasks: Vec<_> = people
            .iter()
            .map(|c| {
                let url = app.url(&format!(
                    "/api/v1/points/{}/coordinators/{}",
                    p["id"], c["id"]
                ));
                let client = app.client.clone();
                tokio::spawn(async move {
                    client
                        .put(url)
                        .json(&json!({"primary": true}))
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 200);
        }
        let after = app
            .get_ok(&format!("/api/v1/points/{}/coordinators", p["id"]))
            .await;
        let items = after.as_array().unwrap();
        assert_eq!(items.len(), 6);
        assert_eq!(
            items.iter().filter(|x| x["is_primary"] == true).count(),
            1,
            "{after}"
        );
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleting_a_coordinator_while_assigning_them_never_fails_with_a_500() {
    on_each_backend(|app| async move {
        let p = point(&app).await;
        for i in 0..5 {
            let c = coordinator(&app, &format!("协调员{i}"), &format!("1390000000{i}")).await;
            let delete_url = app.url(&format!("/api/v1/coordinators/{}", c["id"]));
            let assign_url = app.url(&format!(
                "/api/v1/points/{}/coordinators/{}",
                p["id"], c["id"]
            ));
            let (c1, c2) = (app.client.clone(), app.client.clone());
            let delete = tokio::spawn(async move {
                c1.delete(delete_url)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            });
            let assign = tokio::spawn(async move {
                c2.put(assign_url)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            });
            let (deleted, assigned) = (delete.await.unwrap(), assign.await.unwrap());
            let serving = app
                .get_ok(&format!("/api/v1/points/{}/coordinators", p["id"]))
                .await;
            let still_assigned = serving
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == c["id"]);
            match (deleted, assigned) {
                (204, 404) | (204, 409) => assert!(!still_assigned),
                (409, 200) => assert!(still_assigned),
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        app
    })
    .await;
}
