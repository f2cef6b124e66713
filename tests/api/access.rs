//! Who may do what, where: every role × action × region through the HTTP API, with the status
//! each combination must get. The expectations are written out here from the rules,
//! not computed by the policy module under test.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_each_backend};

/// Three places, seen from an official of 孟庙镇 (Mengmiao, in 郾城区).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// 孟庙镇 itself.
    Inside,
    /// 商桥镇: another township of the same county.
    Sibling,
    /// 召陵镇: a township of another county of the same city.
    OtherCounty,
}

impl Place {
    const ALL: [Place; 3] = [Place::Inside, Place::Sibling, Place::OtherCounty];

    fn township(self) -> &'static str {
        match self {
            Place::Inside => "411103101000",
            Place::Sibling => "411103102000",
            Place::OtherCounty => "411104100000",
        }
    }

    fn village(self) -> &'static str {
        match self {
            Place::Inside => "411103101001",
            Place::Sibling => "411103102201",
            Place::OtherCounty => "411104100201",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// An admin bound to no region.
    Admin,
    /// An admin bound to the city (漯河市).
    CityAdmin,
    /// Station staff of the city.
    Staff,
    /// The township official of 孟庙镇.
    Official,
    /// A viewer bound to 孟庙镇.
    Viewer,
    /// Station staff of another city (the demo city) on the same deployment.
    OtherCityStaff,
    Anonymous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    ReadPoint,
    CreatePoint,
    UpdatePoint,
    ClosePoint,
    ReadCoordinator,
    CreateCoordinator,
    UpdateCoordinator,
    CloseCoordinator,
    ReadSurveys,
    CreateSurvey,
    /// Create an account bound to the place.
    CreateUser,
}

impl Act {
    const ALL: [Act; 11] = [
        Act::ReadPoint,
        Act::CreatePoint,
        Act::UpdatePoint,
        Act::ClosePoint,
        Act::ReadCoordinator,
        Act::CreateCoordinator,
        Act::UpdateCoordinator,
        Act::CloseCoordinator,
        Act::ReadSurveys,
        Act::CreateSurvey,
        Act::CreateUser,
    ];

    fn is_read(self) -> bool {
        matches!(
            self,
            Act::ReadPoint | Act::ReadCoordinator | Act::ReadSurveys
        )
    }

    /// The status of a permitted call.
    fn success(self) -> u16 {
        match self {
            Act::CreatePoint | Act::CreateCoordinator | Act::CreateSurvey | Act::CreateUser => 201,
            Act::CloseCoordinator => 204,
            _ => 200,
        }
    }
}

/// The rules of the issue, case by case.
fn expected(who: Who, act: Act, place: Place) -> u16 {
    let ok = act.success();
    if act == Act::CreateUser {
        return match who {
            Who::Admin | Who::CityAdmin => ok,
            Who::Anonymous => 401,
            _ => 403,
        };
    }
    match who {
        // The public sees active points, and nothing else.
        Who::Anonymous if act == Act::ReadPoint => 200,
        Who::Anonymous => 401,
        Who::Admin | Who::CityAdmin | Who::Staff => ok,
        Who::Official => match place {
            Place::Inside => ok,
            Place::Sibling if act.is_read() => 200,
            Place::Sibling => 403,
            Place::OtherCounty => 404,
        },
        Who::Viewer => match place {
            Place::Inside if act.is_read() => 200,
            Place::Inside => 403,
            _ => 404,
        },
        Who::OtherCityStaff => 404,
    }
}

/// Records made by the unbound admin at `place` for one caller to act on.
struct Fixture {
    point: i64,
    coordinator: i64,
}

async fn fixture(app: &TestApp, place: Place, n: usize) -> Fixture {
    let point = app
        .create_point(&json!({
            "name": format!("献血点{n}"), "kind": "township", "region_code": place.township(),
            "longitude": 114.0, "latitude": 33.6, "status": "active"
        }))
        .await;
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/coordinators",
            &json!({"name": format!("协调员{n}"), "mobile": format!("1380000{n:04}"),
                    "role": "village_doctor", "region_code": place.township()}),
            None,
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let coordinator: Value = response.json().await.unwrap();
    Fixture {
        point: point["id"].as_i64().unwrap(),
        coordinator: coordinator["id"].as_i64().unwrap(),
    }
}

async fn call(
    app: &TestApp,
    client: &Client,
    act: Act,
    place: Place,
    f: &Fixture,
    n: usize,
) -> u16 {
    let (method, path, body, if_match) = match act {
        Act::ReadPoint => (
            Method::GET,
            format!("/api/v1/points/{}", f.point),
            None,
            false,
        ),
        Act::CreatePoint => (
            Method::POST,
            "/api/v1/points".to_owned(),
            Some(
                json!({"name": format!("新点{n}"), "kind": "township", "region_code": place.township(),
                        "longitude": 114.0, "latitude": 33.6}),
            ),
            false,
        ),
        Act::UpdatePoint => (
            Method::PATCH,
            format!("/api/v1/points/{}", f.point),
            Some(json!({"notes": "changed"})),
            true,
        ),
        Act::ClosePoint => (
            Method::DELETE,
            format!("/api/v1/points/{}", f.point),
            None,
            false,
        ),
        Act::ReadCoordinator => (
            Method::GET,
            format!("/api/v1/coordinators/{}", f.coordinator),
            None,
            false,
        ),
        Act::CreateCoordinator => (
            Method::POST,
            "/api/v1/coordinators".to_owned(),
            Some(
                json!({"name": "新协调员", "mobile": format!("1390000{n:04}"),
                        "role": "volunteer", "region_code": place.township()}),
            ),
            false,
        ),
        Act::UpdateCoordinator => (
            Method::PATCH,
            format!("/api/v1/coordinators/{}", f.coordinator),
            Some(json!({"notes": "changed"})),
            true,
        ),
        Act::CloseCoordinator => (
            Method::DELETE,
            format!("/api/v1/coordinators/{}", f.coordinator),
            None,
            false,
        ),
        Act::ReadSurveys => (
            Method::GET,
            format!("/api/v1/regions/{}/surveys", place.village()),
            None,
            false,
        ),
        Act::CreateSurvey => (
            Method::POST,
            format!("/api/v1/regions/{}/surveys", place.village()),
            Some(
                json!({"eligible_total": 300 + n, "surveyed_on": "2026-10-01",
                        "source": "village_doctor", "confirm_large_change": true}),
            ),
            false,
        ),
        Act::CreateUser => (
            Method::POST,
            "/api/v1/users".to_owned(),
            Some(
                json!({"username": format!("official{n}"), "display_name": "新官员",
                        "role": "township_official", "regions": [place.township()],
                        "password": "a long enough password"}),
            ),
            false,
        ),
    };
    let mut request = client.request(method, app.url(&path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    if if_match {
        request = request.header("if-match", "\"1\"");
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status >= 400 {
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{act:?} at {place:?}"
        );
        if status == 401 {
            assert!(response.headers().contains_key("www-authenticate"));
        }
    }
    status
}

#[tokio::test]
async fn every_role_gets_the_status_its_scope_allows() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        donornet::seed::load_demo_divisions(&app.db).await.unwrap();
        let city = "411100000000";
        let township = Place::Inside.township();
        let callers = [
            (Who::Admin, app.client.clone()),
            (
                Who::CityAdmin,
                app.client_for("city.admin", "admin", &[city]).await,
            ),
            (
                Who::Staff,
                app.client_for("staff", "station_staff", &[city]).await,
            ),
            (
                Who::Official,
                app.client_for("official", "township_official", &[township])
                    .await,
            ),
            (
                Who::Viewer,
                app.client_for("viewer", "viewer", &[township]).await,
            ),
            (
                Who::OtherCityStaff,
                app.client_for("demo.staff", "station_staff", &["990100000000"])
                    .await,
            ),
            (Who::Anonymous, app.anonymous.clone()),
        ];
        let mut n = 0;
        let mut mismatches = Vec::new();
        for (who, client) in &callers {
            for place in Place::ALL {
                n += 1;
                let f = fixture(&app, place, n).await;
                for act in Act::ALL {
                    n += 1;
                    let got = call(&app, client, act, place, &f, n).await;
                    let want = expected(*who, act, place);
                    if got != want {
                        mismatches.push(format!(
                            "{who:?} {act:?} at {place:?}: got {got}, want {want}"
                        ));
                    }
                }
            }
        }
        assert!(
            mismatches.is_empty(),
            "{:?}:\n{}",
            app.backend(),
            mismatches.join("\n")
        );
        app
    })
    .await;
}

#[tokio::test]
async fn listings_show_only_what_the_caller_may_read() {
    on_each_backend(|app| async move {
        app.import_luohe().await;
        for (n, place) in Place::ALL.into_iter().enumerate() {
            fixture(&app, place, n).await;
        }
        let official = app
            .client_for("official", "township_official", &[Place::Inside.township()])
            .await;
        let viewer = app
            .client_for("viewer", "viewer", &[Place::Inside.township()])
            .await;
        let regions_of = |items: &Value| -> Vec<String> {
            let mut v: Vec<String> = items["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["region_code"].as_str().unwrap().to_owned())
                .collect();
            v.sort();
            v
        };
        let get = |client: &Client, path: &str| {
            let request = client.get(app.url(path));
            async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
        };
        // The official reads its county: its own township and the sibling, not the other county.
        let points = get(&official, "/api/v1/points").await;
        assert_eq!(
            regions_of(&points),
            [Place::Inside.township(), Place::Sibling.township()]
        );
        let coordinators = get(&official, "/api/v1/coordinators").await;
        assert_eq!(
            regions_of(&coordinators),
            [Place::Inside.township(), Place::Sibling.township()]
        );
        // The viewer reads only its township.
        let points = get(&viewer, "/api/v1/points").await;
        assert_eq!(regions_of(&points), [Place::Inside.township()]);
        // The top of a bound caller's tree is where it is bound.
        let roots = get(&viewer, "/api/v1/regions").await;
        assert_eq!(
            roots["items"][0]["code"],
            Place::Inside.township(),
            "{roots}"
        );
        assert_eq!(roots["items"].as_array().unwrap().len(), 1);
        // A search never reaches outside.
        let found = get(&viewer, "/api/v1/regions?level=village&limit=500").await;
        assert!(
            found["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["code"].as_str().unwrap().starts_with("411103101")),
            "{found}"
        );
        // Whole-region reports outside the caller's reach do not exist for it.
        for path in [
            "/api/v1/regions/411104000000/summary",
            "/api/v1/reports/gaps?region=411104000000",
            "/api/v1/surveys/export?region=411104000000",
            "/api/v1/points?region=411104000000",
            "/api/v1/regions?parent=411104000000",
        ] {
            let status = official
                .get(app.url(path))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            assert_eq!(status, 404, "{path}");
        }
        app
    })
    .await;
}
