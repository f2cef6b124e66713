//! Village donor surveys through the HTTP API.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, on_each_backend};

const VILLAGE: &str = "411103101201";

fn survey(total: i64, date: &str) -> Value {
    json!({
        "eligible_total": total, "male": total / 2, "female": total - total / 2,
        "away_for_work": total / 4, "known_donors": total / 10,
        "surveyed_on": date, "source": "village_doctor", "surveyed_by": "李医生"
    })
}

async fn post(app: &TestApp, code: &str, body: &Value) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/api/v1/regions/{code}/surveys"),
        body,
        None,
    )
    .await
}

#[tokio::test]
async fn the_current_survey_is_the_latest_by_date_and_history_is_kept() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let response = post(&app, VILLAGE, &survey(600, "2026-10-01")).await;
        assert_eq!(response.status().as_u16(), 201);
        let first: Value = response.json().await.unwrap();
        assert_eq!(first["current"], true);
        // An older survey recorded later: kept, but not current.
        let older: Value = post(&app, VILLAGE, &survey(580, "2025-09-01"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(older["current"], false, "{older}");
        let newer: Value = post(&app, VILLAGE, &survey(640, "2026-11-01"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(newer["current"], true);

        let history = app
            .get_ok(&format!("/api/v1/regions/{VILLAGE}/surveys"))
            .await;
        let totals: Vec<i64> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["eligible_total"].as_i64().unwrap())
            .collect();
        assert_eq!(totals, [640, 600, 580]);
        let current: Vec<bool> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["current"].as_bool().unwrap())
            .collect();
        assert_eq!(current, [true, false, false]);
        assert_eq!(history[0]["surveyed_by"], "李医生");
        let audit = app.get_ok("/api/v1/audit?entity=survey").await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 3);
        app
    })
    .await;
}

#[tokio::test]
async fn every_survey_rule_is_a_400_naming_its_field_and_stores_nothing() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
        let cases: Vec<(Value, &str, &str)> = vec![
            (json!({"eligible_total": -5, "male": null, "female": null, "away_for_work": null, "known_donors": null}), "eligible_total", "a negative total"),
            (json!({"male": 100}), "male", "sexes that do not add up"),
            (json!({"female": null}), "female", "one sex only"),
            (json!({"age_18_34": 100, "age_35_54": 100, "age_55_60": 100}), "age_18_34", "age bands that do not add up"),
            (json!({"age_18_34": 600}), "age_35_54", "one age band only"),
            (json!({"away_for_work": 601}), "away_for_work", "more away than eligible"),
            (json!({"known_donors": 700}), "known_donors", "more donors than eligible"),
            (json!({"surveyed_on": tomorrow}), "surveyed_on", "a date in the future"),
            (json!({"surveyed_on": "2026-02-30"}), "surveyed_on", "an impossible date"),
            (json!({"source": "rumour"}), "source", "an unknown source"),
            (json!({"eligible_total": "many"}), "eligible_total", "a total that is not a number"),
            (json!({"households": 12}), "households", "an unknown member"),
        ];
        for (change, field, what) in cases {
            let mut body = survey(600, "2026-10-01");
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let problem = expect_problem(post(&app, VILLAGE, &body).await, 400, what).await;
            let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert!(fields.contains(&field), "{what}: {problem}");
        }
        // Not a village; no such region.
        let problem = expect_problem(post(&app, "411103101000", &survey(600, "2026-10-01")).await, 400, "a township").await;
        assert_eq!(problem["errors"][0]["field"], "code");
        expect_problem(post(&app, "411103101999", &survey(600, "2026-10-01")).await, 404, "an unknown village").await;
        assert_eq!(app.get_ok(&format!("/api/v1/regions/{VILLAGE}/surveys")).await, json!([]));
        app
    })
    .await;
}

#[tokio::test]
async fn a_large_change_needs_confirmation() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        assert_eq!(
            post(&app, VILLAGE, &survey(600, "2026-09-01"))
                .await
                .status()
                .as_u16(),
            201
        );
        for total in [199, 1801] {
            let problem = expect_problem(
                post(&app, VILLAGE, &survey(total, "2026-10-01")).await,
                400,
                "a large change",
            )
            .await;
            assert_eq!(problem["errors"][0]["field"], "eligible_total", "{problem}");
            assert!(
                problem["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("confirm_large_change")
            );
        }
        // Three times is not more than three times.
        assert_eq!(
            post(&app, VILLAGE, &survey(200, "2026-10-01"))
                .await
                .status()
                .as_u16(),
            201
        );
        let mut confirmed = survey(1500, "2026-11-01");
        confirmed["confirm_large_change"] = json!(true);
        assert_eq!(post(&app, VILLAGE, &confirmed).await.status().as_u16(), 201);
        let history = app
            .get_ok(&format!("/api/v1/regions/{VILLAGE}/surveys"))
            .await;
        assert_eq!(history.as_array().unwrap().len(), 3);
        app
    })
    .await;
}
