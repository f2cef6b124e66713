//! Host organisations (issue 16) through the HTTP API: registered, read, listed by region,
//! kind and timetable, changed under If-Match, their contacts added and removed; scoped and
//! audited like points.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_problem, ok_json, on_each_backend, send};

/// 东岭镇 of the demo county.
const DONGLING: &str = "990101101000";
/// 柳湾村委会, a village of 东岭镇.
const LIUWAN: &str = "990101101202";
/// 西河乡, another township of the demo county.
const XIHE: &str = "990101102000";
/// The demo county.
const COUNTY: &str = "990101000000";

fn school() -> Value {
    json!({
        "name": "东岭镇中心小学", "kind": "school", "region_code": DONGLING,
        "address": "东岭镇文化路 1 号", "longitude": 114.0259, "latitude": 33.6588,
        "crs": "gcj02", "typical_headcount": 60, "preferred_months": [9, 3],
        "contacts": [
            {"name": "王敏", "mobile": "138-1234-5678", "role": "校医"},
            {"name": "李强", "mobile": "13900001111"}
        ],
        "notes": "开学后两周内为宜"
    })
}

fn host(name: &str, kind: &str, region: &str, months: &[u32]) -> Value {
    json!({
        "name": name, "kind": kind, "region_code": region,
        "longitude": 114.02, "latitude": 33.66, "preferred_months": months
    })
}

async fn with_demo(app: &TestApp) {
    donornet::seed::load_demo_divisions(&app.db).await.unwrap();
}

async fn create(app: &TestApp, client: &Client, body: &Value) -> Value {
    let response = send(app, client, Method::POST, "/api/v1/hosts", Some(body), None).await;
    ok_json(response, 201, &format!("creating {body}")).await
}

/// The ids of every host a listing gives, walking its pages `limit` at a time.
async fn ids_listed(app: &TestApp, client: &Client, query: &str, limit: u32) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/hosts?{query}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let response = send(app, client, Method::GET, &path, None, None).await;
        let page = ok_json(response, 200, &path).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit as usize, "{path}: {page}");
        ids.extend(items.iter().map(|h| h["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    ids
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
async fn a_created_host_reads_back_with_its_contacts_timetable_and_version() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let response = app
            .send_json(Method::POST, "/api/v1/hosts", &school(), None)
            .await;
        assert_eq!(response.status().as_u16(), 201);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = response.json().await.unwrap();
        assert_eq!(location, format!("/api/v1/hosts/{}", created["id"]));
        assert_eq!(created["crs"], "gcj02");

        let response = send(&app, &app.client, Method::GET, &location, None, None).await;
        assert_eq!(response.headers()["etag"], "\"1\"");
        let stored = ok_json(response, 200, "reading the host").await;
        assert_eq!(stored["kind"], "school");
        assert_eq!(stored["region_code"], DONGLING);
        assert_eq!(stored["typical_headcount"], 60);
        // The timetable in calendar order, whatever order it was given in.
        assert_eq!(stored["preferred_months"], json!([3, 9]));
        assert_eq!(stored["crs"], "wgs84");
        // Stored as WGS-84: not the GCJ-02 numbers sent, and back in GCJ-02 on request.
        assert_ne!(stored["longitude"], json!(114.0259));
        let gcj = app.get_ok(&format!("{location}?crs=gcj02")).await;
        assert!(
            (gcj["longitude"].as_f64().unwrap() - 114.0259).abs() < 1e-6,
            "{gcj}"
        );
        assert!(
            (gcj["latitude"].as_f64().unwrap() - 33.6588).abs() < 1e-6,
            "{gcj}"
        );
        // Contacts in the order given, mobiles in their 11 digits.
        let contacts = stored["contacts"].as_array().unwrap();
        let names: Vec<&str> = contacts
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["王敏", "李强"]);
        assert_eq!(contacts[0]["mobile"], "13812345678");
        assert_eq!(contacts[0]["role"], "校医");
        assert_eq!(contacts[1]["role"], Value::Null);
        let listed = app.get_ok(&format!("{location}/contacts")).await;
        assert_eq!(&listed, &stored["contacts"]);
        app
    })
    .await;
}

#[tokio::test]
async fn hosts_are_listed_by_region_subtree_kind_and_month_and_due_by_their_timetable() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let admin = app.client.clone();
        let school = create(&app, &admin, &host("小学", "school", DONGLING, &[3, 9])).await;
        let factory = create(&app, &admin, &host("纺织厂", "enterprise", LIUWAN, &[3])).await;
        let clinic = create(&app, &admin, &host("乡卫生院", "hospital", XIHE, &[10])).await;
        let office = create(&app, &admin, &host("县政府", "agency", COUNTY, &[])).await;
        let id = |h: &Value| h["id"].as_i64().unwrap();

        // Every page size walks the same hosts, in id order.
        let all = vec![id(&school), id(&factory), id(&clinic), id(&office)];
        for limit in [1, 3, 50] {
            assert_eq!(
                ids_listed(&app, &admin, "", limit).await,
                all,
                "limit {limit}"
            );
        }
        // A township's subtree holds its villages' hosts, not its neighbour's or the county's.
        assert_eq!(
            ids_listed(&app, &admin, &format!("region={DONGLING}"), 1).await,
            [id(&school), id(&factory)]
        );
        assert_eq!(
            ids_listed(&app, &admin, "kind=enterprise", 50).await,
            [id(&factory)]
        );
        assert_eq!(
            ids_listed(&app, &admin, "month=3", 50).await,
            [id(&school), id(&factory)]
        );
        // Due in a month: the timetable names it (any year).
        assert_eq!(
            ids_listed(&app, &admin, "due=2027-09", 50).await,
            [id(&school)]
        );
        assert_eq!(
            ids_listed(&app, &admin, "due=2026-10", 50).await,
            [id(&clinic)]
        );
        assert!(ids_listed(&app, &admin, "due=2027-01", 50).await.is_empty());
        assert_eq!(
            ids_listed(
                &app,
                &admin,
                &format!("due=2027-03&region={DONGLING}&kind=school"),
                50
            )
            .await,
            [id(&school)]
        );
        // Bad parameters are named.
        for (query, field) in [
            ("due=2027-13", "due"),
            ("due=March", "due"),
            ("due=2027-3", "due"),
            ("month=0", "month"),
            ("month=13", "month"),
            ("month=3&due=2027-03", "due"),
            ("region=9901", "region"),
            ("kind=bank", "kind"),
            ("limit=0", "limit"),
            ("cursor=x", "cursor"),
        ] {
            let path = format!("/api/v1/hosts?{query}");
            let response = send(&app, &admin, Method::GET, &path, None, None).await;
            let problem = expect_problem(response, 400, &path).await;
            let named = problem["errors"][0]["field"].as_str().map(str::to_owned);
            let detail = problem["detail"].as_str().unwrap_or_default().to_owned();
            assert!(
                named.as_deref() == Some(field) || detail.contains(field),
                "{path}: {problem}"
            );
        }
        // A region that does not exist.
        let response = send(
            &app,
            &admin,
            Method::GET,
            "/api/v1/hosts?region=990101109000",
            None,
            None,
        )
        .await;
        expect_problem(response, 404, "an unknown region").await;
        // Nobody anonymous lists hosts.
        let anonymous = Client::new();
        let response = send(&app, &anonymous, Method::GET, "/api/v1/hosts", None, None).await;
        expect_problem(response, 401, "anonymous").await;
        app
    })
    .await;
}

#[tokio::test]
async fn every_invalid_field_of_a_host_and_its_contacts_is_named() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let cases: Vec<(&str, Value, &str)> = vec![
            ("name", json!({"name": "  "}), "an empty name"),
            ("name", json!({"name": "校".repeat(201)}), "a name over 200 characters"),
            ("kind", json!({"kind": "bank"}), "an unknown kind"),
            ("region_code", json!({"region_code": "990101109000"}), "an unknown region"),
            ("region_code", json!({"region_code": "9901"}), "a malformed region code"),
            ("longitude", json!({"longitude": 2.35}), "a longitude outside China"),
            ("latitude", json!({"latitude": 60.0}), "a latitude outside China"),
            ("crs", json!({"crs": "bd09"}), "an unknown datum"),
            ("address", json!({"address": "一\n二"}), "a line break in the address"),
            ("notes", json!({"notes": "a\u{0}b"}), "a NUL in the notes"),
            ("typical_headcount", json!({"typical_headcount": 0}), "no people"),
            ("typical_headcount", json!({"typical_headcount": 100001}), "too many"),
            ("preferred_months[1]", json!({"preferred_months": [3, 13]}), "month 13"),
            ("preferred_months[0]", json!({"preferred_months": [0]}), "month 0"),
            ("preferred_months[2]", json!({"preferred_months": [3, 4, 3]}), "a month twice"),
            ("contacts[0].mobile", json!({"contacts": [{"name": "王", "mobile": "12345"}]}), "a short mobile"),
            (
                "contacts[1].mobile",
                json!({"contacts": [{"name": "王", "mobile": "13800001111"}, {"name": "李", "mobile": "0395-1234567"}]}),
                "a landline",
            ),
            ("contacts[0].name", json!({"contacts": [{"name": " ", "mobile": "13800001111"}]}), "a contact without a name"),
            (
                "contacts[0].role",
                json!({"contacts": [{"name": "王", "mobile": "13800001111", "role": "职".repeat(101)}]}),
                "a role over 100 characters",
            ),
            (
                "contacts",
                json!({"contacts": vec![json!({"name": "王", "mobile": "13800001111"}); 21]}),
                "21 contacts",
            ),
            ("colour", json!({"colour": "red"}), "an unknown member"),
        ];
        for (field, change, what) in cases {
            let mut body = school();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let response = app
                .send_json(Method::POST, "/api/v1/hosts", &body, None)
                .await;
            let problem = expect_problem(response, 400, what).await;
            assert!(fields(&problem).contains(&field), "{what}: {problem}");
        }
        // Several mistakes at once are all named.
        let mut body = school();
        body["typical_headcount"] = json!(-1);
        body["preferred_months"] = json!([12, 14]);
        body["contacts"][1]["mobile"] = json!("x");
        let response = app
            .send_json(Method::POST, "/api/v1/hosts", &body, None)
            .await;
        let problem = expect_problem(response, 400, "three mistakes").await;
        let named = fields(&problem);
        for field in ["typical_headcount", "preferred_months[1]", "contacts[1].mobile"] {
            assert!(named.contains(&field), "{field}: {problem}");
        }
        // Nothing was stored by any of them.
        assert!(ids_listed(&app, &app.client, "", 50).await.is_empty());

        // A change is checked the same way; required members cannot be cleared.
        let created = create(&app, &app.client, &school()).await;
        let path = format!("/api/v1/hosts/{}", created["id"]);
        for (field, change) in [
            ("name", json!({"name": null})),
            ("kind", json!({"kind": null})),
            ("preferred_months[0]", json!({"preferred_months": [13]})),
            ("latitude", json!({"longitude": 114.1})),
            ("region_code", json!({"region_code": "990101109000"})),
        ] {
            let response = app
                .send_json(Method::PATCH, &path, &change, Some("\"1\""))
                .await;
            let problem = expect_problem(response, 400, &change.to_string()).await;
            assert!(fields(&problem).contains(&field), "{change}: {problem}");
        }
        // A contact added on its own is checked by the same rules, named without a prefix.
        let response = app
            .send_json(
                Method::POST,
                &format!("{path}/contacts"),
                &json!({"name": "", "mobile": "1380000111"}),
                None,
            )
            .await;
        let problem = expect_problem(response, 400, "a bad contact").await;
        assert_eq!(fields(&problem), ["mobile", "name"], "{problem}");
        assert_eq!(app.get_ok(&path).await["version"], 1);
        app
    })
    .await;
}

#[tokio::test]
async fn hosts_are_seen_within_the_read_scope_and_changed_only_within_the_write_scope() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let admin = app.client.clone();
        let dongling = create(&app, &admin, &school()).await;
        let xihe = create(&app, &admin, &host("乡卫生院", "hospital", XIHE, &[10])).await;
        let xihe_path = format!("/api/v1/hosts/{}", xihe["id"]);
        let dongling_path = format!("/api/v1/hosts/{}", dongling["id"]);

        // Station staff of 西河乡: 东岭镇's host does not exist for them.
        let staff = app.client_for("xihe.staff", "station_staff", &[XIHE]).await;
        let nobody = format!("/api/v1/hosts/{}", xihe["id"].as_i64().unwrap() + 1000);
        let mut answers = Vec::new();
        for path in [&dongling_path, &nobody] {
            let response = send(&app, &staff, Method::GET, path, None, None).await;
            answers.push(expect_problem(response, 404, path).await["status"].clone());
            let response = send(
                &app,
                &staff,
                Method::POST,
                &format!("{path}/contacts"),
                Some(&json!({"name": "王", "mobile": "13800001111"})),
                None,
            )
            .await;
            expect_problem(response, 404, "a contact for a host beyond reach").await;
        }
        assert_eq!(answers[0], answers[1]);
        assert_eq!(
            ids_listed(&app, &staff, "", 50).await,
            [xihe["id"].as_i64().unwrap()]
        );
        let response = send(
            &app,
            &staff,
            Method::GET,
            &format!("/api/v1/hosts?region={DONGLING}"),
            None,
            None,
        )
        .await;
        expect_problem(response, 404, "a region beyond reach").await;
        // Their own host they change.
        let response = send(
            &app,
            &staff,
            Method::PATCH,
            &xihe_path,
            Some(&json!({"typical_headcount": 30})),
            Some("\"1\""),
        )
        .await;
        ok_json(response, 200, "staff change their own host").await;

        // A township official of 东岭镇 reads the county (as for points) but changes only
        // its township.
        let official = app
            .client_for("dongling.official", "township_official", &[DONGLING])
            .await;
        let read = ok_json(
            send(&app, &official, Method::GET, &xihe_path, None, None).await,
            200,
            "the official reads the county",
        )
        .await;
        let response = send(
            &app,
            &official,
            Method::PATCH,
            &xihe_path,
            Some(&json!({"notes": "x"})),
            Some(&format!("\"{}\"", read["version"])),
        )
        .await;
        expect_problem(
            response,
            403,
            "the official changes another township's host",
        )
        .await;
        let response = send(
            &app,
            &official,
            Method::POST,
            "/api/v1/hosts",
            Some(&host("西河中学", "school", XIHE, &[])),
            None,
        )
        .await;
        expect_problem(response, 403, "the official registers in another township").await;
        let own = create(
            &app,
            &official,
            &host("东岭卫生院", "hospital", LIUWAN, &[5]),
        )
        .await;
        assert!(
            own["created_by"]
                .as_str()
                .unwrap()
                .starts_with("dongling.official"),
            "{own}"
        );
        // Nor may it move its own host into another township.
        let response = send(
            &app,
            &official,
            Method::PATCH,
            &format!("/api/v1/hosts/{}", own["id"]),
            Some(&json!({"region_code": XIHE})),
            Some("\"1\""),
        )
        .await;
        expect_problem(response, 403, "the official moves its host away").await;

        // A viewer of the county reads everything there and writes nothing.
        let viewer = app.client_for("county.viewer", "viewer", &[COUNTY]).await;
        assert_eq!(ids_listed(&app, &viewer, "", 50).await.len(), 3);
        let response = send(
            &app,
            &viewer,
            Method::POST,
            "/api/v1/hosts",
            Some(&school()),
            None,
        )
        .await;
        expect_problem(response, 403, "a viewer registers a host").await;
        let response = send(
            &app,
            &viewer,
            Method::PATCH,
            &dongling_path,
            Some(&json!({"notes": "x"})),
            Some("\"1\""),
        )
        .await;
        expect_problem(response, 403, "a viewer changes a host").await;
        let contact = dongling["contacts"][0]["id"].as_i64().unwrap();
        let response = send(
            &app,
            &viewer,
            Method::DELETE,
            &format!("{dongling_path}/contacts/{contact}"),
            None,
            None,
        )
        .await;
        expect_problem(response, 403, "a viewer removes a contact").await;
        // Anonymous callers see no host.
        let response = send(
            &app,
            &Client::new(),
            Method::GET,
            &dongling_path,
            None,
            None,
        )
        .await;
        expect_problem(response, 401, "anonymous").await;
        // Nothing the refused calls tried was written.
        let after = app.get_ok(&dongling_path).await;
        assert_eq!(after["version"], 1);
        assert_eq!(after["contacts"].as_array().unwrap().len(), 2);
        app
    })
    .await;
}

#[tokio::test]
async fn a_stale_change_gets_412_with_the_current_host_and_contacts_move_the_version_on() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let created = create(&app, &app.client, &school()).await;
        let id = created["id"].as_i64().unwrap();
        let path = format!("/api/v1/hosts/{id}");

        let response = app
            .send_json(Method::PATCH, &path, &json!({"notes": "x"}), None)
            .await;
        expect_problem(response, 428, "no If-Match").await;

        // Two editors read version 1; the first change wins, the second gets the current host.
        let response = app
            .send_json(
                Method::PATCH,
                &path,
                &json!({"preferred_months": [4], "typical_headcount": 80}),
                Some("\"1\""),
            )
            .await;
        assert_eq!(response.headers()["etag"], "\"2\"");
        let first = ok_json(response, 200, "the first change").await;
        assert_eq!(first["preferred_months"], json!([4]));
        assert_eq!(first["typical_headcount"], 80);
        assert_eq!(first["name"], created["name"]);
        let response = app
            .send_json(
                Method::PATCH,
                &path,
                &json!({"name": "另一个名字"}),
                Some("\"1\""),
            )
            .await;
        assert_eq!(response.status().as_u16(), 412);
        assert_eq!(response.headers()["etag"], "\"2\"");
        let current: Value = response.json().await.unwrap();
        assert_eq!(current, app.get_ok(&path).await);
        assert_eq!(current["name"], created["name"]);

        // Concurrent changes from one version: exactly one is written.
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let (client, url) = (app.client.clone(), app.url(&path));
                tokio::spawn(async move {
                    client
                        .patch(url)
                        .header("If-Match", "\"2\"")
                        .json(&json!({"typical_headcount": 100 + i}))
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 412).count(),
            5,
            "{statuses:?}"
        );
        let host = app.get_ok(&path).await;
        assert_eq!(host["version"], 3);

        // Adding and removing a contact changes the host's representation: the version moves on.
        let response = app
            .send_json(
                Method::POST,
                &format!("{path}/contacts"),
                &json!({"name": "赵工", "mobile": "13700002222", "role": "工会主席"}),
                None,
            )
            .await;
        let added = ok_json(response, 201, "adding a contact").await;
        let host = app.get_ok(&path).await;
        assert_eq!(host["version"], 4);
        assert_eq!(host["contacts"].as_array().unwrap().last().unwrap(), &added);
        let response = app
            .send_json(Method::PATCH, &path, &json!({"notes": "y"}), Some("\"3\""))
            .await;
        assert_eq!(response.status().as_u16(), 412);
        let removed = created["contacts"][0]["id"].as_i64().unwrap();
        let contact_path = format!("{path}/contacts/{removed}");
        let response = send(&app, &app.client, Method::DELETE, &contact_path, None, None).await;
        assert_eq!(response.status().as_u16(), 204);
        let response = send(&app, &app.client, Method::DELETE, &contact_path, None, None).await;
        expect_problem(response, 404, "removing it again").await;
        // A contact of another host is not one of this host's.
        let other = create(&app, &app.client, &school()).await;
        let foreign = other["contacts"][0]["id"].as_i64().unwrap();
        let response = send(
            &app,
            &app.client,
            Method::DELETE,
            &format!("{path}/contacts/{foreign}"),
            None,
            None,
        )
        .await;
        expect_problem(response, 404, "another host's contact").await;
        let host = app.get_ok(&path).await;
        assert_eq!(host["version"], 5);
        let left: Vec<i64> = host["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        assert_eq!(
            left,
            [
                created["contacts"][1]["id"].as_i64().unwrap(),
                added["id"].as_i64().unwrap()
            ]
        );
        app
    })
    .await;
}

#[tokio::test]
async fn every_change_to_a_host_and_its_contacts_is_audited() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let created = create(&app, &app.client, &school()).await;
        let id = created["id"].as_i64().unwrap();
        let path = format!("/api/v1/hosts/{id}");
        let response = app
            .send_json(
                Method::PATCH,
                &path,
                &json!({"typical_headcount": 90}),
                Some("\"1\""),
            )
            .await;
        ok_json(response, 200, "a change").await;
        // A refused change is not audited.
        let response = app
            .send_json(
                Method::PATCH,
                &path,
                &json!({"typical_headcount": 0}),
                Some("\"2\""),
            )
            .await;
        expect_problem(response, 400, "a bad change").await;
        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=host&id={id}"))
            .await;
        let records = audit["items"].as_array().unwrap();
        let actions: Vec<&str> = records
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["create", "update"]);
        let update = &records[1];
        assert_eq!(update["before"]["typical_headcount"], 60);
        assert_eq!(update["after"]["typical_headcount"], 90);
        assert_eq!(update["region_code"], DONGLING);

        let removed = created["contacts"][0]["id"].as_i64().unwrap();
        let response = send(
            &app,
            &app.client,
            Method::DELETE,
            &format!("{path}/contacts/{removed}"),
            None,
            None,
        )
        .await;
        assert_eq!(response.status().as_u16(), 204);
        let audit = app
            .get_ok(&format!("/api/v1/audit?entity=host_contact&id={removed}"))
            .await;
        let records = audit["items"].as_array().unwrap();
        let actions: Vec<&str> = records
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["create", "delete"]);
        assert_eq!(
            records[1]["before"]["mobile"],
            created["contacts"][0]["mobile"]
        );
        assert_eq!(records[1]["before"]["host_id"], id);
        app
    })
    .await;
}

#[tokio::test]
async fn the_hosts_migration_rolls_back_and_reapplies() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    on_each_backend(|app| async move {
        let db = app.schema_connection().await;
        with_demo(&app).await;
        create(&app, &app.client, &school()).await;
        let applied = Migrator::get_applied_migrations(&db).await.unwrap();
        let at = applied
            .iter()
            .position(|m| m.name() == "m20261207_000013_create_hosts")
            .expect("the hosts migration is applied");
        let steps = (applied.len() - at) as u32;
        Migrator::down(&db, Some(steps)).await.expect("down");
        for gone in ["SELECT id FROM hosts", "SELECT id FROM host_contacts"] {
            assert!(db.execute_unprepared(gone).await.is_err(), "{gone}");
        }
        Migrator::up(&db, None).await.expect("up again");
        assert!(ids_listed(&app, &app.client, "", 50).await.is_empty());
        create(&app, &app.client, &school()).await;
        assert_eq!(ids_listed(&app, &app.client, "", 50).await.len(), 1);
        app
    })
    .await;
}

#[tokio::test]
async fn contacts_added_at_once_never_pass_the_most_a_host_may_have() {
    on_each_backend(|app| async move {
        with_demo(&app).await;
        let max = donornet::registry::hosts::MAX_CONTACTS;
        let contacts: Vec<Value> = (0..max - 2)
            .map(|i| json!({"name": format!("联系人{i}"), "mobile": format!("139{i:08}")}))
            .collect();
        let mut body = host("漯河市第二高级中学", "school", DONGLING, &[9]);
        body["contacts"] = json!(contacts);
        let made = create(&app, &app.client, &body).await;
        let path = format!("/api/v1/hosts/{}/contacts", made["id"]);
        // Two places left, six asking at once (spawned, so that they overlap): exactly two
        // get one.
        let url = app.url(&path);
        let adds: Vec<_> = (0..6)
            .map(|i| {
                let client = app.client.clone();
                let url = url.clone();
                tokio::spawn(async move {
                    let body =
                        json!({"name": format!("新联系人{i}"), "mobile": format!("137{i:08}")});
                    client
                        .post(url)
                        .json(&body)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for add in adds {
            statuses.push(add.await.unwrap());
        }
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 201, 409, 409, 409, 409], "{statuses:?}");
        let listed = app.get_ok(&path).await;
        assert_eq!(listed.as_array().map_or(0, Vec::len), max, "{listed}");
        app
    })
    .await;
}
