//! The recruiter's pages over HTTP (the browser test is `browser::recruitment`): the hub with
//! its links, its needs and the form that records one (a refused form names each faulty field
//! beside it); a need's page (progress, the call list made, close and reopen with a stale
//! version shown as mine / current); the call screen (donors masked, a number shown on purpose
//! and audited, a donor booked from a call, an outcome recorded once); officials are refused
//! and beyond the caller's area a need or a call does not exist.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, ok_json, on_each_backend, send};
use crate::page_client::{get, post, signed_in};
use crate::recruitment::{COUNTY, SHIQIAO, donor, drive_on, enrol, id, need, setup};

/// A need for O+ at a stop on 2026-12-10 (one place a slot, 09:00 and 09:30) with two donors
/// given to `recruiter`; (need, stop, the calls of 甲 and 乙).
pub(crate) async fn need_with_calls(
    app: &TestApp,
    station: i64,
    recruiter: &str,
) -> (i64, i64, i64, i64) {
    let stop = drive_on(app, station, "2026-12-10", 1, "10:00").await;
    let a = id(&enrol(
        app,
        &app.client,
        &donor(
            "甲一",
            "13800000001",
            "O+",
            SHIQIAO,
            Some(("2026-03-01", "whole_blood")),
        ),
    )
    .await["donor"]);
    let b = id(&enrol(
        app,
        &app.client,
        &donor("乙二", "13800000002", "O+", SHIQIAO, None),
    )
    .await["donor"]);
    let body = json!({"region_code": COUNTY, "blood_groups": "O+", "target": 2,
        "needed_by": "2026-12-10", "stop_id": stop});
    let n = id(&need(app, &app.client, &body).await);
    let path = format!("/api/v1/recruitment/needs/{n}/assign");
    let body = json!({"count": 2, "recruiters": [recruiter]});
    let made = send(app, &app.client, Method::POST, &path, Some(&body), None).await;
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
    (n, stop, call_of(a), call_of(b))
}

#[tokio::test]
async fn staff_see_the_hub_and_make_a_need_with_each_fault_named_beside_its_field() {
    on_each_backend(|app| async move {
        let station = setup(&app).await;
        let staff = signed_in(&app, "chen.station", "station_staff", &[COUNTY]).await;
        let (status, hub) = get(&app, &staff, "/station/recruitment").await;
        assert_eq!(status, StatusCode::OK, "{hub}");
        for link in [
            "href=\"/station/recruitment/roster\"",
            "href=\"/station/appeals\"",
            "href=\"/station/chat-groups\"",
            "href=\"/hosts\"",
            "href=\"/talks\"",
            "id=\"nav-station-recruitment\"",
            "id=\"no-needs\"",
        ] {
            assert!(hub.contains(link), "{link} in {hub}");
        }
        assert!(
            hub.contains(&format!("value=\"station-{station}\"")),
            "{hub}"
        );

        // No group ticked, a target that is no number, no place: each named beside its field,
        // what was typed kept.
        let (status, _, page) = post(
            &app,
            &staff,
            "/station/recruitment/needs",
            &[
                ("kind", "whole_blood"),
                ("target", "很多"),
                ("needed_by", "2026-12-20"),
                ("place", ""),
                ("region_code", COUNTY),
                ("notes", "医院急需"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("id=\"problem\""), "{page}");
        for field in ["blood_groups", "target", "place"] {
            assert!(
                page.contains(&format!("id=\"{field}-error\"")),
                "{field} named in {page}"
            );
        }
        assert!(page.contains("请至少勾选一个血型"), "{page}");
        assert!(page.contains("aria-describedby=\"target-error\""), "{page}");
        assert!(!page.contains("id=\"needed_by-error\""), "{page}");
        assert!(page.contains("医院急需"), "the notes are kept: {page}");

        // A day gone by is named too.
        let (status, _, page) = post(
            &app,
            &staff,
            "/station/recruitment/needs",
            &[
                ("blood_groups", "O+"),
                ("kind", "whole_blood"),
                ("target", "5"),
                ("needed_by", "2026-12-01"),
                ("place", &format!("station-{station}")),
                ("region_code", COUNTY),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("id=\"needed_by-error\""), "{page}");

        let place = format!("station-{station}");
        let (status, location, _) = post(
            &app,
            &staff,
            "/station/recruitment/needs",
            &[
                ("blood_groups", "O+"),
                ("blood_groups", "O-"),
                ("kind", "platelets"),
                ("target", "5"),
                ("needed_by", "2026-12-20"),
                ("place", &place),
                ("region_code", COUNTY),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            location.starts_with("/station/recruitment/needs/"),
            "{location}"
        );
        let stored = app.get_ok("/api/v1/recruitment/needs").await;
        let n = &stored["items"][0];
        assert_eq!(n["blood_groups"], "O+,O-", "{stored}");
        assert_eq!(n["kind"], "platelets");
        assert_eq!(n["station_id"], station);
        assert_eq!(location, format!("/station/recruitment/needs/{}", n["id"]));
        let (status, page) = get(&app, &staff, &location).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("0 / 5"), "{page}");
        assert!(page.contains("id=\"close-need\""), "{page}");
        let (_, hub) = get(&app, &staff, "/station/recruitment").await;
        assert!(hub.contains(&format!("id=\"need-{}\"", n["id"])), "{hub}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_need_is_closed_at_the_version_shown_and_a_stale_close_shows_the_current_status() {
    on_each_backend(|app| async move {
        let station = setup(&app).await;
        let staff = signed_in(&app, "chen.station", "station_staff", &[COUNTY]).await;
        let (n, _, _, _) = need_with_calls(&app, station, "chen.station").await;
        let path = format!("/station/recruitment/needs/{n}");
        let (_, page) = get(&app, &staff, &path).await;
        assert!(page.contains("id=\"fig-waiting\""), "{page}");
        assert!(page.contains("甲*"), "donors masked: {page}");
        assert!(!page.contains("13800000001"), "{page}");
        // The assign form offers the accounts that recruit here, me ticked.
        assert!(
            page.contains("value=\"chen.station\" id=\"recruiter-"),
            "{page}"
        );
        let status_path = format!("{path}/status");
        let (status, location, _) = post(
            &app,
            &staff,
            &status_path,
            &[("status", "closed"), ("version", "1")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("{path}?done=closed"));
        let (status, _, page) = post(
            &app,
            &staff,
            &status_path,
            &[("status", "closed"), ("version", "1")],
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("class=\"panel conflict\""), "{page}");
        assert!(page.contains("id=\"reopen-need\""), "{page}");
        let (status, _, page) = post(
            &app,
            &staff,
            &format!("{path}/assign"),
            &[("count", "1"), ("recruiters", "chen.station")],
        )
        .await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "a closed need gives out no calls"
        );
        assert!(page.contains("需求已关闭"), "{page}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_recruiter_shows_a_number_books_a_donor_from_a_call_and_records_another_once() {
    on_each_backend(|app| async move {
        let station = setup(&app).await;
        let staff = signed_in(&app, "chen.station", "station_staff", &[COUNTY]).await;
        let (n, stop, call_a, call_b) = need_with_calls(&app, station, "chen.station").await;
        let (status, screen) = get(&app, &staff, "/station/recruitment/calls").await;
        // A link cannot put its own words in the notice: only a booking code is shown back.
        let (_, spoofed) = get(
            &app,
            &staff,
            "/station/recruitment/calls?done=booked&code=%E8%AF%B7%E6%94%B9%E6%8B%A8139",
        )
        .await;
        assert!(!spoofed.contains("请改拨139"), "{spoofed}");
        assert!(!spoofed.contains("id=\"notice\""), "{spoofed}");
        assert_eq!(status, StatusCode::OK, "{screen}");
        for call in [call_a, call_b] {
            assert!(screen.contains(&format!("id=\"card-{call}\"")), "{screen}");
        }
        assert!(screen.contains("138****0001"), "{screen}");
        assert!(!screen.contains("13800000001"), "masked: {screen}");
        assert!(
            screen.contains("value=\"09:30\""),
            "the free slot: {screen}"
        );

        // The whole number, on purpose: a tel: link, and the view is audited.
        let (status, _, shown) = post(
            &app,
            &staff,
            &format!("/station/recruitment/calls/{call_a}/mobile"),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{shown}");
        assert!(shown.contains("href=\"tel:13800000001\""), "{shown}");
        assert!(!shown.contains("tel:13800000002"), "{shown}");
        let audit = app.get_ok("/api/v1/audit?entity=donor").await;
        assert!(
            audit["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["action"] == "view_mobile" && a["actor"] == "chen.station"),
            "{audit}"
        );

        // Booked from the call: the booking and the outcome together.
        let (status, location, page) = post(
            &app,
            &staff,
            &format!("/station/recruitment/calls/{call_a}/booking"),
            &[("slot", "09:30"), ("need", &n.to_string())],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        assert!(location.contains("done=booked&code="), "{location}");
        assert!(location.ends_with(&format!("&need={n}")), "{location}");
        assert_eq!(
            crate::bookings::left(&app, stop).await,
            [("09:00".to_owned(), 1), ("09:30".to_owned(), 0)]
        );
        let (_, screen) = get(&app, &staff, &location).await;
        assert!(screen.contains("id=\"notice\""), "{screen}");
        assert!(
            !screen.contains(&format!("id=\"card-{call_a}\"")),
            "{screen}"
        );

        // No answer, recorded once: a second post shows the conflict, not a 500.
        let outcome = format!("/station/recruitment/calls/{call_b}/outcome");
        let (status, _, page) = post(&app, &staff, &outcome, &[("notes", "")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "no outcome chosen");
        assert!(
            page.contains(&format!("id=\"outcome-{call_b}-error\"")),
            "{page}"
        );
        let (status, location, _) = post(&app, &staff, &outcome, &[("outcome", "no_answer")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, "/station/recruitment/calls?done=recorded");
        let (status, _, page) = post(&app, &staff, &outcome, &[("outcome", "declined")]).await;
        assert_eq!(status, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("已经记录过"), "{page}");
        let progress = app.get_ok(&format!("/api/v1/recruitment/needs/{n}")).await;
        assert_eq!(
            progress["progress"]["outcomes"],
            json!({"booked": 1, "no_answer": 1}),
            "{progress}"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn officials_are_refused_and_a_need_of_another_area_does_not_exist() {
    on_each_backend(|app| async move {
        let station = setup(&app).await;
        let (n, _, call_a, _) = need_with_calls(&app, station, "root").await;
        let official = signed_in(&app, "li.township", "township_official", &["990101101000"]).await;
        for path in [
            "/station/recruitment".to_owned(),
            format!("/station/recruitment/needs/{n}"),
            "/station/recruitment/calls".to_owned(),
        ] {
            let (status, _) = get(&app, &official, &path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        }
        let (_, township) = get(&app, &official, "/township").await;
        assert!(!township.contains("nav-station-recruitment"));

        app.import_luohe().await;
        let elsewhere = signed_in(&app, "luohe.staff", "station_staff", &["411100000000"]).await;
        let (status, _) = get(&app, &elsewhere, "/station/recruitment").await;
        assert_eq!(status, StatusCode::OK);
        for path in [
            format!("/station/recruitment/needs/{n}"),
            format!("/station/recruitment/calls?need={n}"),
        ] {
            let (status, _) = get(&app, &elsewhere, &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let (status, _, _) = post(
            &app,
            &elsewhere,
            &format!("/station/recruitment/calls/{call_a}/outcome"),
            &[("outcome", "declined")],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) = post(
            &app,
            &elsewhere,
            &format!("/station/recruitment/needs/{n}/status"),
            &[("status", "closed"), ("version", "1")],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        app
    })
    .await;
}
