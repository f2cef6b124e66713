//! One-to-one recruitment (issue 16) through the HTTP API: the roster of donors who agreed to
//! be contacted (masked, every whole-number view audited, deleted on withdrawal or request),
//! the interval rules at their boundary days, call lists ranked and split among recruiters,
//! nobody called twice, outcomes recorded once, and the roster kept to station staff of its
//! area.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, bearer_client, expect_problem, ok_json, on_each_backend, send, user_with_token,
};

/// The demo county.
pub(crate) const COUNTY: &str = "990101000000";
/// 石桥村委会 (113.9837, 33.6392): where the tests' station stands.
pub(crate) const SHIQIAO: &str = "990101101203";
/// 王家湾村委会, 3.4 km from the station.
pub(crate) const WANGJIAWAN: &str = "990101102203";
/// 柳湾村委会, 6.8 km away.
pub(crate) const LIUWAN: &str = "990101101202";
/// 南塘村委会, 15.9 km away.
const NANTANG: &str = "990101103201";
/// 东岭镇, a township.
const DONGLING: &str = "990101101000";
/// A village of 漯河市, another city.
pub(crate) const OTHER_CITY_VILLAGE: &str = "411103101001";
pub(crate) const TODAY: &str = "2026-12-07";

pub(crate) async fn setup(app: &TestApp) -> i64 {
    donornet::seed::load_demo_divisions(&app.db).await.unwrap();
    app.set_today(TODAY);
    let station = json!({"name": "青禾县献血站", "region_code": COUNTY,
        "longitude": 113.9837, "latitude": 33.6392});
    let response = send(
        app,
        &app.client,
        Method::POST,
        "/api/v1/stations",
        Some(&station),
        None,
    )
    .await;
    ok_json(response, 201, "a station").await["id"]
        .as_i64()
        .unwrap()
}

pub(crate) fn donor(
    name: &str,
    mobile: &str,
    group: &str,
    village: &str,
    last: Option<(&str, &str)>,
) -> Value {
    let mut body = json!({"name": name, "mobile": mobile, "blood_group": group,
        "village_code": village, "consent_channel": "paper"});
    if let Some((on, kind)) = last {
        body["last_donation_on"] = json!(on);
        body["last_donation_kind"] = json!(kind);
    }
    body
}

pub(crate) async fn enrol(app: &TestApp, client: &Client, body: &Value) -> Value {
    let response = send(
        app,
        client,
        Method::POST,
        "/api/v1/recruitment/donors",
        Some(body),
        None,
    )
    .await;
    ok_json(response, 201, &format!("enrolling {body}")).await
}

pub(crate) async fn need(app: &TestApp, client: &Client, body: &Value) -> Value {
    let response = send(
        app,
        client,
        Method::POST,
        "/api/v1/recruitment/needs",
        Some(body),
        None,
    )
    .await;
    ok_json(response, 201, &format!("a need {body}")).await
}

pub(crate) fn station_need(station: i64, groups: &str, kind: &str, needed_by: &str) -> Value {
    json!({"region_code": COUNTY, "blood_groups": groups, "kind": kind, "target": 10,
        "needed_by": needed_by, "station_id": station})
}

async fn candidate_ids(app: &TestApp, client: &Client, need: i64) -> Vec<i64> {
    let path = format!("/api/v1/recruitment/needs/{need}/candidates?limit=100");
    let response = send(app, client, Method::GET, &path, None, None).await;
    ok_json(response, 200, &path)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["donor_id"].as_i64().unwrap())
        .collect()
}

pub(crate) fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

pub(crate) fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

pub(crate) async fn staff(app: &TestApp, name: &str, regions: &[&str]) -> Client {
    bearer_client(&user_with_token(&app.db, name, "station_staff", regions, None).await)
}

#[tokio::test]
async fn a_donor_is_enrolled_with_consent_listed_masked_and_a_whole_number_view_is_audited() {
    on_each_backend(|app| async move {
        setup(&app).await;
        let enrolled = enrol(
            &app,
            &app.client,
            &donor(
                "王芳",
                "13800138000",
                "O+",
                SHIQIAO,
                Some(("2026-05-01", "whole_blood")),
            ),
        )
        .await;
        let d = &enrolled["donor"];
        assert_eq!(d["mobile"], "138****8000", "{enrolled}");
        assert_eq!(d["blood_group"], "O+");
        assert_eq!(d["consent_channel"], "paper");
        assert!(
            d["consent_wording"].as_str().unwrap().contains("撤回同意"),
            "the standard wording is recorded: {d}"
        );
        let path = enrolled["withdraw_path"].as_str().unwrap();
        assert!(path.starts_with("/roster/withdraw?t="), "{path}");

        // The donor is told what they agreed to, with the link that withdraws it.
        let messages = app.get_ok("/api/v1/outbox?limit=500").await;
        let consent: Vec<&Value> = messages["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "roster_consent")
            .collect();
        assert_eq!(consent.len(), 1, "{messages}");
        assert!(
            consent[0]["recipient"].as_str().unwrap().ends_with("8000"),
            "{messages}"
        );
        assert!(
            consent[0]["body"]
                .as_str()
                .unwrap()
                .contains("/roster/withdraw?t=")
        );

        // Listed masked; the whole number only on purpose, and that view is audited.
        let list = app.get_ok("/api/v1/recruitment/donors").await;
        assert_eq!(list["items"][0]["mobile"], "138****8000");
        assert!(!list.to_string().contains("13800138000"), "{list}");
        let donor_id = id(d);
        let path = format!("/api/v1/recruitment/donors/{donor_id}/mobile");
        let response = send(&app, &app.client, Method::POST, &path, None, None).await;
        assert_eq!(
            ok_json(response, 200, "the whole number").await["mobile"],
            "13800138000"
        );
        let audit = app.get_ok("/api/v1/audit?entity=donor").await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.contains(&"view_mobile") && actions.contains(&"create"),
            "{audit}"
        );
        assert!(
            !audit.to_string().contains("13800138000") && !audit.to_string().contains("王芳"),
            "the audit log keeps no name or number: {audit}"
        );

        // A number is enrolled once.
        let again = send(
            &app,
            &app.client,
            Method::POST,
            "/api/v1/recruitment/donors",
            Some(&donor("王芳二", "138 0013 8000", "A+", LIUWAN, None)),
            None,
        )
        .await;
        let problem = expect_problem(again, 409, "the same mobile twice").await;
        assert!(problem.to_string().contains("mobile"), "{problem}");
        app
    })
    .await;
}

#[tokio::test]
async fn every_invalid_field_of_a_donor_is_named_and_nothing_is_enrolled() {
    on_each_backend(|app| async move {
        setup(&app).await;
        let body = json!({"name": " ", "mobile": "12345", "blood_group": "C+",
            "village_code": DONGLING, "last_donation_on": "2026-12-08",
            "last_donation_kind": "plasma", "consent_channel": "shouted"});
        let response = send(
            &app,
            &app.client,
            Method::POST,
            "/api/v1/recruitment/donors",
            Some(&body),
            None,
        )
        .await;
        let problem = expect_problem(response, 400, "a donor with every field wrong").await;
        let mut named = fields(&problem);
        named.sort_unstable();
        assert_eq!(
            named,
            [
                "blood_group",
                "consent_channel",
                "last_donation_kind",
                "last_donation_on",
                "mobile",
                "name",
                "village_code"
            ],
            "{problem}"
        );
        // A last donation needs its kind.
        let body = donor("李四", "13900139000", "O+", SHIQIAO, None);
        let mut body = body;
        body["last_donation_on"] = json!("2026-06-01");
        let response = send(
            &app,
            &app.client,
            Method::POST,
            "/api/v1/recruitment/donors",
            Some(&body),
            None,
        )
        .await;
        let problem = expect_problem(response, 400, "a last donation without its kind").await;
        assert_eq!(fields(&problem), ["last_donation_kind"]);
        assert_eq!(
            app.get_ok("/api/v1/recruitment/donors").await["items"],
            json!([])
        );
        app
    })
    .await;
}

#[tokio::test]
async fn only_station_staff_of_the_donors_area_see_the_roster() {
    on_each_backend(|app| async move {
        setup(&app).await;
        let d = enrol(
            &app,
            &app.client,
            &donor("王芳", "13800138000", "O+", SHIQIAO, None),
        )
        .await;
        let donor_id = id(&d["donor"]);
        let official = bearer_client(
            &user_with_token(&app.db, "official", "township_official", &[DONGLING], None).await,
        );
        let viewer =
            bearer_client(&user_with_token(&app.db, "viewer", "viewer", &[COUNTY], None).await);
        for (who, client) in [("an official", &official), ("a viewer", &viewer)] {
            let response = send(
                &app,
                client,
                Method::GET,
                "/api/v1/recruitment/donors",
                None,
                None,
            )
            .await;
            expect_problem(response, 403, &format!("{who} lists the roster")).await;
        }
        // Staff of another city: the donor does not exist for them, nor do they enrol in this
        // county.
        app.import_luohe().await;
        let elsewhere = staff(&app, "luohe-staff", &["411100000000"]).await;
        let path = format!("/api/v1/recruitment/donors/{donor_id}");
        let response = send(&app, &elsewhere, Method::GET, &path, None, None).await;
        let problem = expect_problem(response, 404, "a donor beyond reach").await;
        assert!(!problem.to_string().contains("王芳"));
        let response = send(
            &app,
            &elsewhere,
            Method::POST,
            &format!("{path}/mobile"),
            None,
            None,
        )
        .await;
        expect_problem(response, 404, "a number beyond reach").await;
        let list = send(
            &app,
            &elsewhere,
            Method::GET,
            "/api/v1/recruitment/donors",
            None,
            None,
        )
        .await;
        assert_eq!(
            ok_json(list, 200, "their own roster").await["items"],
            json!([])
        );
        let response = send(
            &app,
            &elsewhere,
            Method::POST,
            "/api/v1/recruitment/donors",
            Some(&donor("赵六", "13700137000", "B+", LIUWAN, None)),
            None,
        )
        .await;
        expect_problem(response, 404, "enrolling beyond reach").await;
        // Staff of the county see them.
        let county = staff(&app, "county-staff", &[COUNTY]).await;
        let response = send(&app, &county, Method::GET, &path, None, None).await;
        assert_eq!(
            ok_json(response, 200, "a donor of their area").await["name"],
            "王芳"
        );
        let response = send(
            &app,
            &app.client,
            Method::POST,
            "/api/v1/recruitment/donors",
            Some(&donor(
                "钱七",
                "13600136000",
                "AB-",
                OTHER_CITY_VILLAGE,
                None,
            )),
            None,
        )
        .await;
        ok_json(response, 201, "the unbound admin enrols anywhere").await;
        let response = send(
            &app,
            &county,
            Method::GET,
            "/api/v1/recruitment/donors",
            None,
            None,
        )
        .await;
        let names: Vec<String> = ok_json(response, 200, "the county's roster").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["王芳"], "the county's staff list their county only");
        app
    })
    .await;
}

#[tokio::test]
async fn whole_blood_and_platelet_intervals_hold_at_their_boundary_days_and_the_station_may_change_them()
 {
    on_each_backend(|app| async move {
        let station = setup(&app).await;
        // Needed on 2026-12-20: whole blood after whole blood waits 180 days (2026-06-23 is
        // the latest last donation), platelets after platelets 14 (2026-12-06), platelets after
        // whole blood 90 (2026-09-21).
        let on_day = id(&enrol(
            &app,
            &app.client,
            &donor(
                "甲",
                "13800000001",
                "O+",
                SHIQIAO,
                Some(("2026-06-23", "whole_blood")),
            ),
        )
        .await["donor"]);
        let day_early = id(&enrol(
            &app,
            &app.client,
            &donor(
                "乙",
                "13800000002",
                "O+",
                SHIQIAO,
                Some(("2026-06-24", "whole_blood")),
            ),
        )
        .await["donor"]);
        let platelets_ok = id(&enrol(
            &app,
            &app.client,
            &donor(
                "丙",
                "13800000003",
                "O+",
                SHIQIAO,
                Some(("2026-12-06", "platelets")),
            ),
        )
        .await["donor"]);
        let platelets_early = id(&enrol(
            &app,
            &app.client,
            &donor(
                "丁",
                "13800000004",
                "O+",
                SHIQIAO,
                Some(("2026-12-07", "platelets")),
            ),
        )
        .await["donor"]);
        let whole_90 = id(&enrol(
            &app,
            &app.client,
            &donor(
                "戊",
                "13800000005",
                "O+",
                SHIQIAO,
                Some(("2026-09-21", "whole_blood")),
            ),
        )
        .await["donor"]);
        let never = id(&enrol(
            &app,
            &app.client,
            &donor("己", "13800000006", "O+", SHIQIAO, None),
        )
        .await["donor"]);
        let other_group = id(&enrol(
            &app,
            &app.client,
            &donor("庚", "13800000007", "A+", SHIQIAO, None),
        )
        .await["donor"]);

        let whole = id(&need(
            &app,
            &app.client,
            &station_need(station, "O+", "whole_blood", "2026-12-20"),
        )
        .await);
        let mut listed = candidate_ids(&app, &app.client, whole).await;
        listed.sort_unstable();
        // Platelets 28 days before whole blood: 2026-12-06 and -07 are too recent; whole blood
        // on 2026-09-21 is 90 days, not 180.
        let mut expected = vec![on_day, never];
        expected.sort_unstable();
        assert_eq!(listed, expected, "whole blood on 2026-12-20");
        assert!(!listed.contains(&day_early) && !listed.contains(&other_group));

        let platelets = id(&need(
            &app,
            &app.client,
            &station_need(station, "O+", "platelets", "2026-12-20"),
        )
        .await);
        let mut listed = candidate_ids(&app, &app.client, platelets).await;
        listed.sort_unstable();
        let mut expected = vec![on_day, day_early, platelets_ok, whole_90, never];
        expected.sort_unstable();
        assert_eq!(listed, expected, "platelets on 2026-12-20");
        assert!(!listed.contains(&platelets_early));

        // The station waits longer between whole-blood donations: 2026-06-23 is too recent.
        let mut rules = app.get_ok("/api/v1/recruitment/rules").await;
        assert_eq!(rules["whole_blood_to_whole_blood"], 180);
        rules["whole_blood_to_whole_blood"] = json!(181);
        let response = send(
            &app,
            &app.client,
            Method::PUT,
            "/api/v1/recruitment/rules",
            Some(&rules),
            None,
        )
        .await;
        ok_json(response, 200, "the rules changed").await;
        assert!(
            !candidate_ids(&app, &app.client, whole)
                .await
                .contains(&on_day)
        );
        // Out of range, named; staff may not change them.
        rules["platelets_to_platelets"] = json!(-1);
        let response = send(
            &app,
            &app.client,
            Method::PUT,
            "/api/v1/recruitment/rules",
            Some(&rules),
            None,
        )
        .await;
        assert_eq!(
            fields(&expect_problem(response, 400, "a negative interval").await),
            ["platelets_to_platelets"]
        );
        let county = staff(&app, "county-staff", &[COUNTY]).await;
        rules["platelets_to_platelets"] = json!(14);
        let response = send(
            &app,
            &county,
            Method::PUT,
            "/api/v1/recruitment/rules",
            Some(&rules),
            None,
        )
        .await;
        expect_problem(response, 403, "staff change the rules").await;
        app
    })
    .await;
}

#[tokio::test]
async fn a_call_list_is_ranked_by_distance_ring_then_time_since_donating_and_split_among_recruiters()
 {
    on_each_backend(|app| async move {
        let station = setup(&app).await;
        let a = id(&enrol(
            &app,
            &app.client,
            &donor(
                "甲",
                "13800000001",
                "O+",
                SHIQIAO,
                Some(("2025-01-01", "whole_blood")),
            ),
        )
        .await["donor"]);
        let b = id(&enrol(
            &app,
            &app.client,
            &donor(
                "乙",
                "13800000002",
                "O+",
                WANGJIAWAN,
                Some(("2024-01-01", "whole_blood")),
            ),
        )
        .await["donor"]);
        let c = id(&enrol(
            &app,
            &app.client,
            &donor("丙", "13800000003", "O+", SHIQIAO, None),
        )
        .await["donor"]);
        let d = id(&enrol(
            &app,
            &app.client,
            &donor(
                "丁",
                "13800000004",
                "O-",
                LIUWAN,
                Some(("2020-01-01", "whole_blood")),
            ),
        )
        .await["donor"]);
        let e = id(&enrol(
            &app,
            &app.client,
            &donor(
                "戊",
                "13800000005",
                "O+",
                NANTANG,
                Some(("2019-01-01", "whole_blood")),
            ),
        )
        .await["donor"]);
        let n = need(
            &app,
            &app.client,
            &station_need(station, "O+,O-", "whole_blood", "2026-12-20"),
        )
        .await;
        assert_eq!(n["blood_groups"], "O+,O-");
        let n = id(&n);
        assert_eq!(
            candidate_ids(&app, &app.client, n).await,
            vec![b, a, c, d, e]
        );
        let path = format!("/api/v1/recruitment/needs/{n}/candidates?limit=2");
        let first = ok_json(
            send(&app, &app.client, Method::GET, &path, None, None).await,
            200,
            &path,
        )
        .await;
        assert_eq!(first[0]["mobile"], "138****0002");
        assert!(first[0]["distance_km"].as_f64().unwrap() < 5.0, "{first}");

        // Split between two recruiters in turn.
        user_with_token(&app.db, "r1", "station_staff", &[COUNTY], None).await;
        let r2 =
            bearer_client(&user_with_token(&app.db, "r2", "station_staff", &[COUNTY], None).await);
        let path = format!("/api/v1/recruitment/needs/{n}/assign");
        let body = json!({"count": 4, "recruiters": ["r1", "r2"]});
        let made = ok_json(
            send(&app, &app.client, Method::POST, &path, Some(&body), None).await,
            201,
            "assigning",
        )
        .await;
        let given: Vec<(i64, &str)> = made
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["donor_id"].as_i64().unwrap(),
                    c["recruiter"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(given, vec![(b, "r1"), (a, "r2"), (c, "r1"), (d, "r2")]);
        // The list goes on from where it stopped.
        assert_eq!(candidate_ids(&app, &app.client, n).await, vec![e]);
        let mine = format!("/api/v1/recruitment/needs/{n}/calls?recruiter=me");
        let calls = ok_json(
            send(&app, &r2, Method::GET, &mine, None, None).await,
            200,
            "r2's calls",
        )
        .await;
        let theirs: Vec<i64> = calls
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["donor"]["donor_id"].as_i64().unwrap())
            .collect();
        assert_eq!(theirs, vec![a, d]);
        assert_eq!(calls[0]["donor"]["mobile"], "138****0001");

        // Recruiters must be accounts that recruit here.
        user_with_token(&app.db, "official", "township_official", &[DONGLING], None).await;
        let body = json!({"count": 1, "recruiters": ["official", "nobody"]});
        let response = send(&app, &app.client, Method::POST, &path, Some(&body), None).await;
        let problem = expect_problem(response, 400, "recruiters who cannot recruit").await;
        assert_eq!(fields(&problem), ["recruiters[0]", "recruiters[1]"]);
        app
    })
    .await;
}

#[tokio::test]
async fn nobody_is_called_twice_within_the_recall_days_or_given_to_two_lists_at_once() {
    on_each_backend(|app| async move {
        let station = setup(&app).await;
        user_with_token(&app.db, "r1", "station_staff", &[COUNTY], None).await;
        let mut donors = Vec::new();
        for i in 0..6 {
            let body = donor("献血者", &format!("1380000001{i}"), "O+", SHIQIAO, None);
            donors.push(id(&enrol(&app, &app.client, &body).await["donor"]));
        }
        let first = id(&need(
            &app,
            &app.client,
            &station_need(station, "O+", "whole_blood", "2026-12-20"),
        )
        .await);
        let second = id(&need(
            &app,
            &app.client,
            &station_need(station, "O+", "whole_blood", "2026-12-21"),
        )
        .await);
        // Both lists given out at the same instant: each donor lands on one of them.
        let assign = |need: i64| {
            let app = &app;
            async move {
                let path = format!("/api/v1/recruitment/needs/{need}/assign");
                let body = json!({"count": 6, "recruiters": ["r1"]});
                let response = send(app, &app.client, Method::POST, &path, Some(&body), None).await;
                ok_json(response, 201, "assigning")
                    .await
                    .as_array()
                    .unwrap()
                    .len()
            }
        };
        let (x, y) = tokio::join!(assign(first), assign(second));
        assert_eq!(x + y, 6, "every donor given out once: {x} + {y}");

        // Called: not listed again for 30 days, whatever came of it.
        let calls = app
            .get_ok(&format!("/api/v1/recruitment/needs/{first}/calls"))
            .await;
        let second_calls = app
            .get_ok(&format!("/api/v1/recruitment/needs/{second}/calls"))
            .await;
        for call in calls
            .as_array()
            .unwrap()
            .iter()
            .chain(second_calls.as_array().unwrap())
        {
            let path = format!("/api/v1/recruitment/calls/{}/outcome", call["id"]);
            let body = json!({"outcome": "no_answer"});
            ok_json(
                send(&app, &app.client, Method::POST, &path, Some(&body), None).await,
                200,
                "no answer",
            )
            .await;
        }
        let third = id(&need(
            &app,
            &app.client,
            &station_need(station, "O+", "whole_blood", "2026-12-30"),
        )
        .await);
        assert_eq!(
            candidate_ids(&app, &app.client, third).await,
            Vec::<i64>::new()
        );
        app.clock.set("2027-01-06T12:00:00Z".parse().unwrap());
        let mut again = candidate_ids(&app, &app.client, third).await;
        again.sort_unstable();
        assert_eq!(again, donors, "30 days on, everyone may be called again");
        app
    })
    .await;
}

#[tokio::test]
async fn outcomes_are_recorded_once_a_booked_call_links_its_booking_and_progress_counts_them() {
    on_each_backend(|app| async move {
        let station = setup(&app).await;
        let a = id(&enrol(
            &app,
            &app.client,
            &donor("甲", "13800000001", "O+", SHIQIAO, None),
        )
        .await["donor"]);
        let b = id(&enrol(
            &app,
            &app.client,
            &donor("乙", "13800000002", "O+", SHIQIAO, None),
        )
        .await["donor"]);
        let n = id(&need(
            &app,
            &app.client,
            &station_need(station, "O+", "whole_blood", "2026-12-20"),
        )
        .await);
        let path = format!("/api/v1/recruitment/needs/{n}/assign");
        let body = json!({"count": 2, "recruiters": ["root"]});
        let made = send(&app, &app.client, Method::POST, &path, Some(&body), None).await;
        let made = ok_json(made, 201, "assigning").await;
        let call_of = |donor: i64| {
            made.as_array()
                .unwrap()
                .iter()
                .find(|c| c["donor_id"] == donor)
                .unwrap()["id"]
                .as_i64()
                .unwrap()
        };
        // Booked needs the booking's code, and it must be this donor's.
        let outcome = |call: i64| format!("/api/v1/recruitment/calls/{call}/outcome");
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &outcome(call_of(a)),
            Some(&json!({"outcome": "booked"})),
            None,
        )
        .await;
        assert_eq!(
            fields(&expect_problem(response, 400, "booked without a code").await),
            ["booking_code"]
        );
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &outcome(call_of(a)),
            Some(&json!({"outcome": "maybe"})),
            None,
        )
        .await;
        assert_eq!(
            fields(&expect_problem(response, 400, "an unknown outcome").await),
            ["outcome"]
        );
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &outcome(call_of(a)),
            Some(&json!({"outcome": "booked", "booking_code": "NOPE1234"})),
            None,
        )
        .await;
        assert_eq!(
            fields(&expect_problem(response, 400, "an unknown booking").await),
            ["booking_code"]
        );

        // Declined; then asked never to be called again: off every future list.
        let body = json!({"outcome": "declined", "notes": "下周出差"});
        ok_json(
            send(
                &app,
                &app.client,
                Method::POST,
                &outcome(call_of(a)),
                Some(&body),
                None,
            )
            .await,
            200,
            "declined",
        )
        .await;
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &outcome(call_of(a)),
            Some(&json!({"outcome": "no_answer"})),
            None,
        )
        .await;
        expect_problem(response, 409, "a call recorded twice").await;
        let body = json!({"outcome": "do_not_call"});
        ok_json(
            send(
                &app,
                &app.client,
                Method::POST,
                &outcome(call_of(b)),
                Some(&body),
                None,
            )
            .await,
            200,
            "do not call",
        )
        .await;
        let progress = app.get_ok(&format!("/api/v1/recruitment/needs/{n}")).await;
        assert_eq!(
            progress["progress"]["outcomes"],
            json!({"declined": 1, "do_not_call": 1}),
            "{progress}"
        );
        assert_eq!(progress["progress"]["waiting"], 0);
        assert_eq!(progress["progress"]["booked"], 0);
        assert_eq!(progress["progress"]["recruiters"][0]["called"], 2);
        app.clock.set("2027-03-01T12:00:00Z".parse().unwrap());
        let later = id(&need(
            &app,
            &app.client,
            &station_need(station, "O+", "whole_blood", "2027-03-10"),
        )
        .await);
        assert_eq!(candidate_ids(&app, &app.client, later).await, vec![a]);
        app
    })
    .await;
}

#[tokio::test]
async fn withdrawing_consent_deletes_the_donor_and_takes_them_off_every_list_at_once() {
    on_each_backend(|app| async move {
        let station = setup(&app).await;
        let enrolled = enrol(
            &app,
            &app.client,
            &donor("王芳", "13800138000", "O+", SHIQIAO, None),
        )
        .await;
        let donor_id = id(&enrolled["donor"]);
        let other = id(&enrol(
            &app,
            &app.client,
            &donor("李四", "13900139000", "O+", SHIQIAO, None),
        )
        .await["donor"]);
        let first = id(&need(
            &app,
            &app.client,
            &station_need(station, "O+", "whole_blood", "2026-12-20"),
        )
        .await);
        let second = id(&need(
            &app,
            &app.client,
            &station_need(station, "O+", "platelets", "2026-12-21"),
        )
        .await);
        // On one list as a call waiting, on the other as a candidate.
        let path = format!("/api/v1/recruitment/needs/{first}/assign");
        let body = json!({"count": 1, "recruiters": ["root"]});
        let made = ok_json(
            send(&app, &app.client, Method::POST, &path, Some(&body), None).await,
            201,
            "assign",
        )
        .await;
        let waiting = made[0]["donor_id"].as_i64().unwrap();
        assert_eq!(waiting, donor_id, "the first in call order (ids tie-break)");
        assert!(
            candidate_ids(&app, &app.client, second)
                .await
                .contains(&other)
        );

        let token = enrolled["withdraw_path"]
            .as_str()
            .unwrap()
            .split("t=")
            .nth(1)
            .unwrap()
            .to_owned();
        let response = send(
            &app,
            &app.anonymous,
            Method::POST,
            "/api/v1/public/roster/withdraw",
            Some(&json!({"token": token})),
            None,
        )
        .await;
        assert_eq!(response.status().as_u16(), 204);
        assert!(
            !candidate_ids(&app, &app.client, second)
                .await
                .contains(&donor_id)
        );
        let calls = app
            .get_ok(&format!("/api/v1/recruitment/needs/{first}/calls"))
            .await;
        assert_eq!(
            calls[0]["donor"],
            Value::Null,
            "the call stays without the donor: {calls}"
        );
        let (status, _) = app
            .get_json(&format!("/api/v1/recruitment/donors/{donor_id}"))
            .await;
        assert_eq!(status, 404);
        let response = send(
            &app,
            &app.anonymous,
            Method::POST,
            "/api/v1/public/roster/withdraw",
            Some(&json!({"token": token})),
            None,
        )
        .await;
        expect_problem(response, 404, "a link used twice").await;
        let audit = app
            .get_ok("/api/v1/audit?entity=donor&action=withdraw")
            .await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
        assert!(!audit.to_string().contains("王芳"));

        // Staff delete on request the same way.
        let path = format!("/api/v1/recruitment/donors/{other}");
        let response = send(&app, &app.client, Method::DELETE, &path, None, None).await;
        assert_eq!(response.status().as_u16(), 204);
        assert_eq!(
            candidate_ids(&app, &app.client, second).await,
            Vec::<i64>::new()
        );

        // An older consent (the paper sheet typed or imported again) does not bring either
        // back; a consent given since does.
        for mobile in ["13800138000", "13900139000"] {
            let mut old = donor("王芳", mobile, "O+", SHIQIAO, None);
            old["consent_at"] = json!("2026-12-01T00:00:00Z");
            let response = send(
                &app,
                &app.client,
                Method::POST,
                "/api/v1/recruitment/donors",
                Some(&old),
                None,
            )
            .await;
            let problem = expect_problem(response, 400, "an old consent").await;
            assert_eq!(problem["errors"][0]["field"], "consent_at", "{problem}");
        }
        let sheet = "姓名,手机,村,同意日期\n王芳,13800138000,990101101203,2026-12-01\n";
        let response = app
            .client
            .post(app.url("/api/v1/recruitment/donors/import"))
            .header("content-type", "text/csv")
            .body(sheet)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, 400, "an old sheet").await;
        assert_eq!(problem["errors"][0]["field"], "consented_on", "{problem}");
        assert!(roster_is_empty(&app).await);
        enrol(
            &app,
            &app.client,
            &donor("王芳", "13800138000", "O+", SHIQIAO, None),
        )
        .await;
        app
    })
    .await;
}

async fn roster_is_empty(app: &TestApp) -> bool {
    app.get_ok("/api/v1/recruitment/donors").await["items"]
        .as_array()
        .unwrap()
        .is_empty()
}

/// A published drive of the demo county today with one stop at a point of 石桥村; the stop.
pub(crate) async fn drive_today(app: &TestApp, station: i64) -> i64 {
    drive_on(app, station, TODAY, 4, "12:00").await
}

/// A published drive of the demo county on `date` with one stop at a point of 石桥村 from
/// 09:00 to `end`, its vehicle's `beds` giving `beds` places a half-hour slot; the stop.
pub(crate) async fn drive_on(app: &TestApp, station: i64, date: &str, beds: i32, end: &str) -> i64 {
    let vehicle = json!({"name": "1号采血车", "plate": format!("豫L1234{beds}"), "station_id": station,
        "beds": beds, "staff": 6, "max_donors_per_day": 120, "day_start": "08:00",
        "day_end": "17:00", "setup_min": 30, "teardown_min": 20, "cost_per_km": 2.5,
        "donors_per_bed_hour": 2.0, "slot_minutes": 30});
    let response = send(
        app,
        &app.client,
        Method::POST,
        "/api/v1/vehicles",
        Some(&vehicle),
        None,
    )
    .await;
    let vehicle = ok_json(response, 201, "a vehicle").await;
    let point = app
        .create_point(
            &json!({"name": "石桥村献血点", "kind": "village", "region_code": SHIQIAO,
            "longitude": 113.9837, "latitude": 33.6392, "status": "active"}),
        )
        .await;
    let body = json!({"vehicle_id": vehicle["id"], "date": date, "region": COUNTY,
        "stops": [{"site": format!("point-{}", point["id"]), "planned_start": "09:00",
                   "planned_end": end, "expected_donors": 30}]});
    let response = send(
        app,
        &app.client,
        Method::POST,
        "/api/v1/drives",
        Some(&body),
        None,
    )
    .await;
    let drive = ok_json(response, 201, "a drive").await;
    let path = format!("/api/v1/drives/{}/transition", drive["id"]);
    let response = send(
        app,
        &app.client,
        Method::POST,
        &path,
        Some(&json!({"to": "published"})),
        Some(&format!("\"{}\"", drive["version"])),
    )
    .await;
    ok_json(response, 200, "published").await;
    drive["stops"][0]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_donor_who_consents_at_check_in_joins_the_roster_and_donations_there_become_their_last() {
    on_each_backend(|app| async move {
        let station = setup(&app).await;
        let stop = drive_today(&app, station).await;
        let path = format!("/api/v1/stops/{stop}/attendances");
        // Consent needs the mobile and the village.
        let body = json!({"name": "王芳", "consent": true});
        let response = send(&app, &app.client, Method::POST, &path, Some(&body), None).await;
        let problem = expect_problem(response, 400, "consent without a mobile").await;
        let mut named = fields(&problem);
        named.sort_unstable();
        assert_eq!(named, ["mobile", "village_code"]);

        let body = json!({"name": "王芳", "mobile": "13800138000", "village_code": LIUWAN,
            "outcome": "donated", "volume_ml": 400, "abo": "O", "rh": "+", "consent": true});
        ok_json(send(&app, &app.client, Method::POST, &path, Some(&body), None).await, 201, "checked in").await;
        let roster = app.get_ok("/api/v1/recruitment/donors").await;
        let d = &roster["items"][0];
        assert_eq!(d["name"], "王芳", "{roster}");
        assert_eq!(d["blood_group"], "O+");
        assert_eq!(d["village_code"], LIUWAN);
        assert_eq!(d["village_name"], "柳湾村委会");
        assert_eq!(d["last_donation_on"], TODAY);
        assert_eq!(d["last_donation_kind"], "whole_blood");
        assert_eq!(d["consent_channel"], "check_in");
        assert_eq!(d["source"], "check_in");

        // Someone already on the roster checks in without consenting again: their donation is
        // recorded when the outcome comes.
        enrol(&app, &app.client, &donor("李四", "13900139000", "A+", SHIQIAO, Some(("2025-01-01", "whole_blood")))).await;
        let body = json!({"name": "李四", "mobile": "13900139000"});
        let attendance = ok_json(send(&app, &app.client, Method::POST, &path, Some(&body), None).await, 201, "checked in").await;
        let response = send(
            &app,
            &app.client,
            Method::PATCH,
            &format!("/api/v1/attendances/{}", attendance["id"]),
            Some(&json!({"outcome": "donated", "volume_ml": 300})),
            Some(&format!("\"{}\"", attendance["version"])),
        )
        .await;
        ok_json(response, 200, "donated").await;
        let roster = app.get_ok("/api/v1/recruitment/donors?blood_group=A%2B").await;
        assert_eq!(roster["items"][0]["last_donation_on"], TODAY, "{roster}");
        // Someone not on the roster who did not consent is not added.
        let body = json!({"name": "赵六", "mobile": "13700137000", "outcome": "donated", "volume_ml": 200});
        ok_json(send(&app, &app.client, Method::POST, &path, Some(&body), None).await, 201, "checked in").await;
        let all = app.get_ok("/api/v1/recruitment/donors").await;
        assert_eq!(all["items"].as_array().unwrap().len(), 2, "{all}");
        app
    })
    .await;
}

#[tokio::test]
async fn the_withdrawal_page_says_what_withdrawing_means_and_withdraws_with_one_button() {
    on_each_backend(|app| async move {
        setup(&app).await;
        let enrolled = enrol(
            &app,
            &app.client,
            &donor("王芳", "13800138000", "O+", SHIQIAO, None),
        )
        .await;
        let link = enrolled["withdraw_path"].as_str().unwrap().to_owned();
        let token = link.split("t=").nth(1).unwrap().to_owned();
        let page = app.anonymous.get(app.url(&link)).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("撤回同意并删除我的信息") && html.contains(&token),
            "{html}"
        );
        let done = app
            .anonymous
            .post(app.url("/roster/withdraw"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("t={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status().as_u16(), 200);
        assert!(done.text().await.unwrap().contains("已撤回"));
        assert_eq!(
            app.get_ok("/api/v1/recruitment/donors").await["items"],
            json!([])
        );
        let again = app.anonymous.get(app.url(&link)).send().await.unwrap();
        assert_eq!(again.status().as_u16(), 404);
        assert!(again.text().await.unwrap().contains("此链接已失效"));
        app
    })
    .await;
}

#[tokio::test]
async fn a_call_books_its_donor_into_a_free_slot_once_and_a_refused_booking_writes_nothing() {
    on_each_backend(|app| async move {
        let station = setup(&app).await;
        // One place a slot: 09:00 and 09:30.
        let stop = drive_on(&app, station, "2026-12-10", 1, "10:00").await;
        let a = id(&enrol(
            &app,
            &app.client,
            &donor("甲", "13800000001", "O+", SHIQIAO, None),
        )
        .await["donor"]);
        enrol(
            &app,
            &app.client,
            &donor("乙", "13800000002", "O+", SHIQIAO, None),
        )
        .await;
        let body = json!({"region_code": COUNTY, "blood_groups": "O+", "target": 2,
            "needed_by": "2026-12-10", "stop_id": stop});
        let n = id(&need(&app, &app.client, &body).await);
        let path = format!("/api/v1/recruitment/needs/{n}/assign");
        let body = json!({"count": 2, "recruiters": ["root"]});
        let made = send(&app, &app.client, Method::POST, &path, Some(&body), None).await;
        let made = ok_json(made, 201, "assigning").await;
        let call_a = made
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["donor_id"] == a)
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let book = |call: i64| format!("/api/v1/recruitment/calls/{call}/booking");
        // Someone else takes 09:00.
        crate::bookings::booked(&app, stop, "路人", "13900000009", "09:00").await;

        // A full slot: 409, and neither a booking nor an outcome is written.
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &book(call_a),
            Some(&json!({"slot": "09:00"})),
            None,
        )
        .await;
        expect_problem(response, 409, "a full slot").await;
        // No such slot, or no slot at all: 400 naming it.
        for slot in ["11:00", ""] {
            let response = send(
                &app,
                &app.client,
                Method::POST,
                &book(call_a),
                Some(&json!({"slot": slot})),
                None,
            )
            .await;
            let problem = expect_problem(response, 400, "a bad slot").await;
            assert_eq!(fields(&problem), ["slot"], "{slot}: {problem}");
        }
        let progress = app.get_ok(&format!("/api/v1/recruitment/needs/{n}")).await;
        assert_eq!(progress["progress"]["waiting"], 2, "{progress}");
        assert_eq!(progress["progress"]["booked"], 0);
        assert_eq!(
            crate::bookings::left(&app, stop).await,
            [("09:00".to_owned(), 0), ("09:30".to_owned(), 1)]
        );

        // 09:30: booked with the donor's name and whole mobile, the call linked to it.
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &book(call_a),
            Some(&json!({"slot": "09:30", "notes": "周四上午来"})),
            None,
        )
        .await;
        let booked = ok_json(response, 201, "booked from the call").await;
        assert_eq!(booked["call"]["outcome"], "booked", "{booked}");
        assert_eq!(booked["call"]["booking_id"], booked["booking_id"]);
        assert_eq!(booked["stop_id"], stop);
        let code = booked["booking_code"].as_str().unwrap();
        assert_eq!(
            crate::bookings::left(&app, stop).await,
            [("09:00".to_owned(), 0), ("09:30".to_owned(), 0)]
        );
        let progress = app.get_ok(&format!("/api/v1/recruitment/needs/{n}")).await;
        assert_eq!(progress["progress"]["booked"], 1, "{progress}");
        assert_eq!(progress["progress"]["waiting"], 1);
        // The donor is told, as any booking tells its holder.
        let messages = app.get_ok("/api/v1/outbox?limit=500").await;
        assert!(
            messages["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["kind"] == "confirmation"
                    && m["recipient"].as_str().unwrap().ends_with("0001")
                    && m["body"].as_str().unwrap().contains(code)),
            "{messages}"
        );
        let audit = app.get_ok("/api/v1/audit?entity=recruitment_call").await;
        assert!(
            audit["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["action"] == "book"),
            "{audit}"
        );
        let audit = app.get_ok("/api/v1/audit?entity=booking").await;
        assert!(
            audit["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["action"] == "staff_book" && a["actor_user_id"] == 1),
            "{audit}"
        );

        // Once: the call is recorded; booking or recording again is a conflict.
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &book(call_a),
            Some(&json!({"slot": "09:30"})),
            None,
        )
        .await;
        expect_problem(response, 409, "booked twice").await;
        let response = send(
            &app,
            &app.client,
            Method::POST,
            &format!("/api/v1/recruitment/calls/{call_a}/outcome"),
            Some(&json!({"outcome": "no_answer"})),
            None,
        )
        .await;
        expect_problem(response, 409, "recorded after booking").await;

        // Beyond the caller's area the call does not exist.
        app.import_luohe().await;
        let other = staff(&app, "zhou", &["411100000000"]).await;
        let response = send(
            &app,
            &other,
            Method::POST,
            &book(call_a),
            Some(&json!({"slot": "09:30"})),
            None,
        )
        .await;
        expect_problem(response, 404, "another city's call").await;
        app
    })
    .await;
}
