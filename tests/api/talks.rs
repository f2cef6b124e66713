//! Publicity talks (宣讲, issue 16) through the HTTP API: recorded for a village, a township or
//! a host, listed newest first by region, host and date in pages, deleted; every field rule
//! named; scoped and audited like points.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, ok_json, on_each_backend, send};

/// 东岭镇 of the demo county.
const DONGLING: &str = "990101101000";
/// 柳湾村委会, a village of 东岭镇.
const LIUWAN: &str = "990101101202";
/// 西河乡, another township of the demo county.
const XIHE: &str = "990101102000";
/// 西河村委会, a village of 西河乡.
const XIHE_VILLAGE: &str = "990101102201";
/// The demo county.
const COUNTY: &str = "990101000000";
/// 李村居民委员会, a village of 孟庙镇 in another county (漯河市's 郾城区).
const OTHER_COUNTY_VILLAGE: &str = "411103101001";
/// The day the tests run on (in China).
const TODAY: &str = "2026-12-07";

fn talk(region: &str, held_on: &str) -> Value {
    json!({
        "region_code": region, "held_on": held_on, "speaker": "张医生（村医）",
        "audience": 45, "audience_description": "村民、返乡青年",
        "materials": "倡议书、宣传单、展板", "notes": "村委会大院"
    })
}

fn at_host(host_id: i64, held_on: &str) -> Value {
    json!({
        "host_id": host_id, "held_on": held_on, "speaker": "李老师",
        "audience": 300, "materials": "宣传单"
    })
}

async fn setup(app: &TestApp) {
    donornet::seed::load_demo_divisions(&app.db).await.unwrap();
    app.set_today(TODAY);
}

async fn create_host(app: &TestApp, region: &str) -> i64 {
    let body = json!({
        "name": "东岭镇中心小学", "kind": "school", "region_code": region,
        "longitude": 114.02, "latitude": 33.66
    });
    let response = send(
        app,
        &app.client,
        Method::POST,
        "/api/v1/hosts",
        Some(&body),
        None,
    )
    .await;
    ok_json(response, 201, "creating a host").await["id"]
        .as_i64()
        .unwrap()
}

async fn record(app: &TestApp, client: &Client, body: &Value) -> Value {
    let response = send(app, client, Method::POST, "/api/v1/talks", Some(body), None).await;
    ok_json(response, 201, &format!("recording {body}")).await
}

/// Every talk a listing gives, walking its pages `limit` at a time.
async fn listed(app: &TestApp, client: &Client, query: &str, limit: u32) -> Vec<Value> {
    let mut talks = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/talks?{query}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let response = send(app, client, Method::GET, &path, None, None).await;
        let page = ok_json(response, 200, &path).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit as usize, "{path}: {page}");
        talks.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    talks
}

async fn ids_listed(app: &TestApp, client: &Client, query: &str, limit: u32) -> Vec<i64> {
    listed(app, client, query, limit)
        .await
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

/// The ids of `talks`, newest first: by the day held, then the latest recorded.
fn newest_first(talks: &[&Value]) -> Vec<i64> {
    let mut sorted: Vec<(String, i64)> = talks
        .iter()
        .map(|t| {
            (
                t["held_on"].as_str().unwrap().to_owned(),
                t["id"].as_i64().unwrap(),
            )
        })
        .collect();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.into_iter().map(|(_, id)| id).collect()
}

fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_talk_is_recorded_for_a_village_a_township_or_a_host_whose_region_it_takes() {
    on_each_backend(|app| async move {
        setup(&app).await;
        let body = talk(LIUWAN, "2026-12-01");
        let village = record(&app, &app.client, &body).await;
        for member in [
            "region_code",
            "held_on",
            "speaker",
            "audience",
            "audience_description",
            "materials",
            "notes",
        ] {
            assert_eq!(village[member], body[member], "{member}");
        }
        assert_eq!(village["host_id"], Value::Null);
        assert!(village["created_by"].as_str().is_some(), "{village}");
        let township = record(&app, &app.client, &talk(DONGLING, TODAY)).await;
        assert_eq!(township["region_code"], DONGLING);

        // At a host: the talk is in the host's region, given or not.
        let host = create_host(&app, LIUWAN).await;
        let at = record(&app, &app.client, &at_host(host, "2026-11-20")).await;
        assert_eq!(at["host_id"], host);
        assert_eq!(at["region_code"], LIUWAN);
        assert_eq!(at["audience_description"], Value::Null);
        let mut named = at_host(host, "2026-11-21");
        named["region_code"] = json!(LIUWAN);
        assert_eq!(
            record(&app, &app.client, &named).await["region_code"],
            LIUWAN
        );

        // Text is kept trimmed.
        let mut spaced = talk(LIUWAN, "2026-12-02");
        spaced["speaker"] = json!("  王书记  ");
        assert_eq!(
            record(&app, &app.client, &spaced).await["speaker"],
            "王书记"
        );

        // Today is China's: at 01:00 there it is still yesterday in UTC, and today's talk is
        // taken; tomorrow's is not.
        app.clock.set("2026-12-07T17:00:00Z".parse().unwrap());
        record(&app, &app.client, &talk(LIUWAN, "2026-12-08")).await;
        let response = send(
            &app,
            &app.client,
            Method::POST,
            "/api/v1/talks",
            Some(&talk(LIUWAN, "2026-12-09")),
            None,
        )
        .await;
        let problem = expect_problem(response, 400, "a talk tomorrow in China").await;
        assert_eq!(fields(&problem), ["held_on"]);
        app
    })
    .await;
}

#[tokio::test]
async fn every_invalid_field_of_a_talk_is_named_and_nothing_is_recorded() {
    on_each_backend(|app| async move {
        setup(&app).await;
        let host = create_host(&app, LIUWAN).await;
        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "a talk tomorrow",
                json!({"held_on": "2026-12-08"}),
                "held_on",
            ),
            ("nobody listened", json!({"audience": 0}), "audience"),
            ("a negative audience", json!({"audience": -3}), "audience"),
            (
                "too many to count",
                json!({"audience": 100_001}),
                "audience",
            ),
            ("no speaker", json!({"speaker": "  "}), "speaker"),
            (
                "a speaker of 101 characters",
                json!({"speaker": "张".repeat(101)}),
                "speaker",
            ),
            ("no materials", json!({"materials": ""}), "materials"),
            (
                "a control character in the notes",
                json!({"notes": "a\u{7}b"}),
                "notes",
            ),
            ("a county", json!({"region_code": COUNTY}), "region_code"),
            (
                "a short code",
                json!({"region_code": "9901"}),
                "region_code",
            ),
            (
                "an unknown region",
                json!({"region_code": "990101101299"}),
                "region_code",
            ),
            ("no place", json!({"region_code": null}), "region_code"),
            ("host id 0", json!({"host_id": 0}), "host_id"),
            (
                "a host with another region",
                json!({"host_id": host, "region_code": XIHE}),
                "region_code",
            ),
        ];
        for (case, change, field) in cases {
            let mut body = talk(LIUWAN, "2026-12-01");
            for (member, value) in change.as_object().unwrap() {
                body[member] = value.clone();
            }
            let response = send(
                &app,
                &app.client,
                Method::POST,
                "/api/v1/talks",
                Some(&body),
                None,
            )
            .await;
            let problem = expect_problem(response, 400, case).await;
            assert_eq!(fields(&problem), [field], "{case}: {problem}");
        }
        // Every broken field at once.
        let body = json!({
            "region_code": COUNTY, "held_on": "2027-01-01", "speaker": "",
            "audience": 0, "materials": " "
        });
        let response = send(
            &app,
            &app.client,
            Method::POST,
            "/api/v1/talks",
            Some(&body),
            None,
        )
        .await;
        let problem = expect_problem(response, 400, "everything broken").await;
        let mut named = fields(&problem);
        named.sort_unstable();
        assert_eq!(
            named,
            ["audience", "held_on", "materials", "region_code", "speaker"]
        );
        // A host that does not exist is not found, naming host_id.
        let response = send(
            &app,
            &app.client,
            Method::POST,
            "/api/v1/talks",
            Some(&at_host(host + 1000, "2026-12-01")),
            None,
        )
        .await;
        let problem = expect_problem(response, 404, "an unknown host").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("host_id"),
            "{problem}"
        );
        assert!(ids_listed(&app, &app.client, "", 50).await.is_empty());
        app
    })
    .await;
}

#[tokio::test]
async fn talks_are_listed_newest_first_by_region_host_and_days_in_pages() {
    on_each_backend(|app| async move {
        setup(&app).await;
        let admin = app.client.clone();
        let host = create_host(&app, LIUWAN).await;
        let liuwan_1 = record(&app, &admin, &talk(LIUWAN, "2026-11-03")).await;
        let dongling = record(&app, &admin, &talk(DONGLING, "2026-12-01")).await;
        let xihe = record(&app, &admin, &talk(XIHE_VILLAGE, "2026-11-03")).await;
        let at_host_1 = record(&app, &admin, &at_host(host, "2026-10-15")).await;
        // The same day as the first: the later recorded comes first.
        let liuwan_2 = record(&app, &admin, &talk(LIUWAN, "2026-11-03")).await;
        let at_host_2 = record(&app, &admin, &at_host(host, TODAY)).await;
        let all = [
            &liuwan_1, &dongling, &xihe, &at_host_1, &liuwan_2, &at_host_2,
        ];

        let expected = newest_first(&all);
        for limit in [1, 2, 50] {
            assert_eq!(
                ids_listed(&app, &admin, "", limit).await,
                expected,
                "limit {limit}"
            );
        }
        let days: Vec<String> = listed(&app, &admin, "", 50)
            .await
            .iter()
            .map(|t| t["held_on"].as_str().unwrap().to_owned())
            .collect();
        assert!(days.windows(2).all(|w| w[0] >= w[1]), "{days:?}");

        // A township's subtree: its own talks, its villages' and its hosts', not 西河乡's.
        assert_eq!(
            ids_listed(&app, &admin, &format!("region={DONGLING}"), 1).await,
            newest_first(&[&liuwan_1, &dongling, &at_host_1, &liuwan_2, &at_host_2])
        );
        assert_eq!(
            ids_listed(&app, &admin, &format!("region={XIHE}"), 50).await,
            newest_first(&[&xihe])
        );
        assert_eq!(
            ids_listed(&app, &admin, &format!("host_id={host}"), 1).await,
            newest_first(&[&at_host_1, &at_host_2])
        );
        // Days, inclusive at both ends.
        assert_eq!(
            ids_listed(&app, &admin, "from=2026-11-03&to=2026-12-01", 2).await,
            newest_first(&[&liuwan_1, &dongling, &xihe, &liuwan_2])
        );
        assert_eq!(
            ids_listed(&app, &admin, "to=2026-11-02", 50).await,
            newest_first(&[&at_host_1])
        );
        assert_eq!(
            ids_listed(
                &app,
                &admin,
                &format!("from=2026-11-04&region={LIUWAN}&host_id={host}"),
                50
            )
            .await,
            newest_first(&[&at_host_2])
        );
        // Bad parameters are named.
        for (query, field) in [
            ("from=2026-12-02&to=2026-12-01", "to"),
            ("region=9901", "region"),
            ("limit=0", "limit"),
            ("cursor=x", "cursor"),
            ("cursor=2026-12-01", "cursor"),
        ] {
            let path = format!("/api/v1/talks?{query}");
            let response = send(&app, &admin, Method::GET, &path, None, None).await;
            let problem = expect_problem(response, 400, &path).await;
            assert_eq!(fields(&problem), [field], "{path}: {problem}");
        }
        for query in [
            format!("host_id={}", host + 1000),
            "region=990101101299".to_owned(),
        ] {
            let path = format!("/api/v1/talks?{query}");
            let response = send(&app, &admin, Method::GET, &path, None, None).await;
            expect_problem(response, 404, &path).await;
        }
        app
    })
    .await;
}

#[tokio::test]
async fn talks_are_seen_within_the_read_scope_and_recorded_only_within_the_write_scope() {
    on_each_backend(|app| async move {
        setup(&app).await;
        app.import_luohe().await;
        let admin = app.client.clone();
        let dongling_host = create_host(&app, LIUWAN).await;
        let xihe_host = create_host(&app, XIHE_VILLAGE).await;
        let dongling_talk = record(&app, &admin, &talk(LIUWAN, "2026-12-01")).await;
        let xihe_talk = record(&app, &admin, &talk(XIHE_VILLAGE, "2026-12-01")).await;

        // Station staff of 西河乡: 东岭镇's host and talks do not exist for them.
        let staff = app.client_for("xihe.staff", "station_staff", &[XIHE]).await;
        let mut details = Vec::new();
        for host in [dongling_host, xihe_host + 1000] {
            let response = send(
                &app,
                &staff,
                Method::POST,
                "/api/v1/talks",
                Some(&at_host(host, "2026-12-01")),
                None,
            )
            .await;
            let problem = expect_problem(response, 404, "a host beyond reach").await;
            details.push(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .replace(&host.to_string(), "#"),
            );
        }
        assert_eq!(details[0], details[1], "beyond reach reads as not there");
        assert_eq!(
            ids_listed(&app, &staff, "", 50).await,
            [xihe_talk["id"].as_i64().unwrap()]
        );
        for path in [
            format!("/api/v1/talks?region={DONGLING}"),
            format!("/api/v1/talks?host_id={dongling_host}"),
        ] {
            let response = send(&app, &staff, Method::GET, &path, None, None).await;
            expect_problem(response, 404, &path).await;
        }
        let response = send(
            &app,
            &staff,
            Method::DELETE,
            &format!("/api/v1/talks/{}", dongling_talk["id"]),
            None,
            None,
        )
        .await;
        expect_problem(response, 404, "deleting a talk beyond reach").await;
        record(&app, &staff, &at_host(xihe_host, "2026-12-01")).await;

        // A township official of 东岭镇 reads the county but records only in its township.
        let official = app
            .client_for("dongling.official", "township_official", &[DONGLING])
            .await;
        let mine = record(&app, &official, &talk(LIUWAN, "2026-12-02")).await;
        assert!(
            mine["created_by"]
                .as_str()
                .unwrap()
                .starts_with("dongling.official"),
            "{mine}"
        );
        record(&app, &official, &at_host(dongling_host, "2026-12-02")).await;
        for (body, status, case) in [
            (talk(XIHE_VILLAGE, "2026-12-02"), 403, "another township"),
            (
                at_host(xihe_host, "2026-12-02"),
                403,
                "another township's host",
            ),
            (
                talk(OTHER_COUNTY_VILLAGE, "2026-12-02"),
                404,
                "another county",
            ),
        ] {
            let response = send(
                &app,
                &official,
                Method::POST,
                "/api/v1/talks",
                Some(&body),
                None,
            )
            .await;
            expect_problem(response, status, case).await;
        }
        let response = send(
            &app,
            &official,
            Method::DELETE,
            &format!("/api/v1/talks/{}", xihe_talk["id"]),
            None,
            None,
        )
        .await;
        expect_problem(
            response,
            403,
            "the official deletes another township's talk",
        )
        .await;

        // A viewer of the county reads every talk there and records nothing.
        let viewer = app.client_for("county.viewer", "viewer", &[COUNTY]).await;
        let everything = ids_listed(&app, &admin, "", 50).await;
        assert_eq!(ids_listed(&app, &viewer, "", 50).await, everything);
        let response = send(
            &app,
            &viewer,
            Method::POST,
            "/api/v1/talks",
            Some(&talk(LIUWAN, "2026-12-03")),
            None,
        )
        .await;
        expect_problem(response, 403, "a viewer records a talk").await;
        let response = send(
            &app,
            &viewer,
            Method::DELETE,
            &format!("/api/v1/talks/{}", mine["id"]),
            None,
            None,
        )
        .await;
        expect_problem(response, 403, "a viewer deletes a talk").await;
        assert_eq!(ids_listed(&app, &admin, "", 50).await, everything);

        // Anonymous callers see none and record none.
        let anonymous = Client::new();
        let response = send(&app, &anonymous, Method::GET, "/api/v1/talks", None, None).await;
        expect_problem(response, 401, "an anonymous listing").await;
        let response = send(
            &app,
            &anonymous,
            Method::POST,
            "/api/v1/talks",
            Some(&talk(LIUWAN, "2026-12-03")),
            None,
        )
        .await;
        expect_problem(response, 401, "an anonymous talk").await;
        app
    })
    .await;
}

#[tokio::test]
async fn recording_and_deleting_a_talk_are_audited_and_a_deleted_talk_is_gone() {
    on_each_backend(|app| async move {
        setup(&app).await;
        let created = record(&app, &app.client, &talk(LIUWAN, "2026-12-01")).await;
        let id = created["id"].as_i64().unwrap();
        // A refused talk is not audited.
        let response = send(
            &app,
            &app.client,
            Method::POST,
            "/api/v1/talks",
            Some(&talk(LIUWAN, "2027-01-01")),
            None,
        )
        .await;
        expect_problem(response, 400, "a talk in the future").await;
        let audit = app.get_ok("/api/v1/audit?entity=publicity_talk").await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");

        let path = format!("/api/v1/talks/{id}");
        let response = send(&app, &app.client, Method::DELETE, &path, None, None).await;
        assert_eq!(response.status().as_u16(), 204);
        assert!(ids_listed(&app, &app.client, "", 50).await.is_empty());
        let response = send(&app, &app.client, Method::DELETE, &path, None, None).await;
        expect_problem(response, 404, "deleting it again").await;

        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=publicity_talk&id={id}"))
            .await;
        let records = audit["items"].as_array().unwrap();
        let actions: Vec<&str> = records
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["create", "delete"]);
        assert_eq!(records[0]["after"]["speaker"], created["speaker"]);
        assert_eq!(records[0]["region_code"], LIUWAN);
        assert_eq!(records[1]["before"]["audience"], created["audience"]);
        assert_eq!(records[1]["before"]["materials"], created["materials"]);
        assert_eq!(records[1]["after"], Value::Null);
        app
    })
    .await;
}

#[tokio::test]
async fn the_talks_migration_rolls_back_and_reapplies() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    on_each_backend(|app| async move {
        let db = app.schema_connection().await;
        setup(&app).await;
        record(&app, &app.client, &talk(LIUWAN, "2026-12-01")).await;
        let applied = Migrator::get_applied_migrations(&db).await.unwrap();
        let at = applied
            .iter()
            .position(|m| m.name() == "m20261207_000014_create_publicity_talks")
            .expect("the talks migration is applied");
        let steps = (applied.len() - at) as u32;
        Migrator::down(&db, Some(steps)).await.expect("down");
        assert!(
            db.execute_unprepared("SELECT id FROM publicity_talks")
                .await
                .is_err()
        );
        // The hosts it refers to stay.
        db.execute_unprepared("SELECT id FROM hosts").await.unwrap();
        Migrator::up(&db, None).await.expect("up again");
        assert!(ids_listed(&app, &app.client, "", 50).await.is_empty());
        record(&app, &app.client, &talk(LIUWAN, "2026-12-01")).await;
        assert_eq!(ids_listed(&app, &app.client, "", 50).await.len(), 1);
        app
    })
    .await;
}
