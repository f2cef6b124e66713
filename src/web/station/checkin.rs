//! A stop's check-in desk on a tablet (issue 15): `/station/stops/{id}/checkin`. Staff search
//! the stop's bookings by code, name or mobile and check people in (booked or walk-in), record
//! what came of it (donated with volume and blood group, deferred with a category), and read
//! the live counts against the stop's forecast.
//!
//! Reads go through `checkin::attendances::desk`; check-ins through `check_in_at` and outcomes
//! through `record_outcome` (the API's use cases, with the same policy). Every form carries
//! `_offline`: when the signal drops, the service worker keeps it on the tablet and
//! `offline.js` sends it when the signal returns; a refusal (a person already checked in, a
//! stale version) answers with this page, its form and the reason, which `/sync` shows.
//! Posting a check-in twice cannot admit a person twice: the service refuses a booking fully
//! checked in and a mobile already seen at the stop.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::checkin::attendances::{self as checkin, AttendanceChange, CheckIn, Desk};
use crate::checkin::{CheckinError, Staff};
use crate::domain::attendance::{Abo, DeferralCategory, Outcome, Rh, VOLUMES_ML};
use crate::domain::booking::{clock, normalise_code};
use crate::error::FieldError;
use crate::state::AppState;
use crate::versioned::Outcome as Written;
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::forms::{FormFields, FormState, field_errors};
use crate::web::templates::{ConflictRow, date, html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/station/stops/{id}/checkin", get(desk_page).post(check_in))
        .route(
            "/station/stops/{stop}/attendances/{id}/outcome",
            post(outcome),
        )
}

/// Who acts, for the service; "sign in first" for nobody. The site's public address makes the
/// withdrawal link in the message of a donor who joins the roster here absolute.
fn staff<'a>(page: &'a Page, state: &'a AppState) -> Result<Staff<'a>, PageError> {
    let principal = page.caller.principal.as_ref().ok_or(PageError::SignIn)?;
    Ok(Staff {
        actor: page.caller.actor(),
        principal,
        public_url: state.http.public_url.as_deref(),
    })
}

/// A booking found by the search.
#[derive(Debug, Clone)]
pub struct BookingRow {
    pub code: String,
    pub name: String,
    pub mobile: String,
    pub slots: String,
    pub headcount: i32,
    pub checked_in: u64,
    pub group: bool,
    /// Everyone on it has checked in.
    pub done: bool,
}

/// Someone checked in.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub id: i64,
    pub version: i32,
    pub name: String,
    pub mobile: String,
    pub kind_label: String,
    pub outcome: &'static str,
    pub outcome_label: String,
    /// What was recorded (`400 mL · A+`, the deferral's reason).
    pub detail: String,
}

/// A count of the desk.
#[derive(Debug, Clone)]
pub struct Count {
    pub id: &'static str,
    pub label: String,
    pub value: String,
}

/// Which form the errors and typed values belong to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Which {
    #[default]
    None,
    /// A booking's check-in (by its code).
    Booking(String),
    Walkin,
    /// An outcome of attendance id, `donated` or `deferred`.
    Outcome(i64, &'static str),
}

#[derive(askama::Template)]
#[template(path = "station_checkin.html")]
pub struct CheckinPage<'a> {
    pub page: &'a Page,
    pub stop_id: i64,
    pub drive_id: i64,
    pub title: String,
    pub when: String,
    pub open: bool,
    pub q: String,
    pub searched: bool,
    pub bookings: Vec<BookingRow>,
    pub people: Vec<PersonRow>,
    pub counts: Vec<Count>,
    pub notice: String,
    pub problem: String,
    pub conflict: Vec<ConflictRow>,
    pub which: Which,
    pub form: FormState,
    pub volumes: Vec<i32>,
    pub abos: Vec<&'static str>,
    pub rhs: Vec<(&'static str, String)>,
    pub categories: Vec<(&'static str, String)>,
    /// The label a kept form shows on `/sync`.
    pub offline_label: String,
    /// The walk-in form's fields: name, label, input mode.
    pub walkin_fields: Vec<(&'static str, String, &'static str)>,
    /// What a donor agrees to by joining the roster (`roster::standard_wording`).
    pub consent_wording: String,
}

impl CheckinPage<'_> {
    /// Whether `form` is the one shown with the errors.
    fn is_booking(&self, code: &str) -> bool {
        self.which == Which::Booking(code.to_owned())
    }

    fn is_outcome(&self, id: &i64, what: &str) -> bool {
        matches!(&self.which, Which::Outcome(i, w) if i == id && *w == what)
    }

    fn is_walkin(&self) -> bool {
        self.which == Which::Walkin
    }

    /// The typed value of `name` in the form of `which`, else `default`.
    fn typed(&self, mine: &bool, name: &str, default: &str) -> String {
        if *mine {
            self.form.value(name)
        } else {
            default.to_owned()
        }
    }

    /// The error of `name` in the form shown with errors, when `mine`.
    fn err(&self, mine: &bool, name: &str) -> String {
        if *mine {
            self.form.error(name)
        } else {
            String::new()
        }
    }
}

/// What the page shows besides the desk.
#[derive(Debug, Default)]
struct View {
    q: String,
    notice: String,
    problem: String,
    conflict: Vec<ConflictRow>,
    which: Which,
    form: FormState,
}

fn category_label(page: &Page, c: &str) -> String {
    page.t(&format!("scheck-category-{c}"))
}

/// Whether booking `b` matches the search `q` (its code, its name, its mobile).
fn matches(q: &str, code: &str, name: &str, mobile: Option<&str>) -> bool {
    let q = q.trim();
    if q.is_empty() {
        return true;
    }
    let wanted = normalise_code(q);
    (!wanted.is_empty() && normalise_code(code).contains(&wanted))
        || name.contains(q)
        || mobile.is_some_and(|m| {
            // A mobile is searched by its digits only (a code holds digits too).
            let digits: String = q.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
            digits.chars().all(|c| c.is_ascii_digit()) && m.contains(&digits)
        })
}

fn render(page: &Page, d: &Desk, view: View, status: StatusCode) -> Response {
    let lang = page.lang;
    let bookings = d
        .screen
        .bookings
        .iter()
        .filter(|((b, _), _)| matches(&view.q, &b.code, &b.name, b.mobile.as_deref()))
        .map(|((b, slots), n)| BookingRow {
            code: b.code.clone(),
            name: b.name.clone(),
            mobile: b.mobile.clone().unwrap_or_default(),
            slots: slots
                .iter()
                .map(|(_, s)| format!("{}–{}", clock(s.starts), clock(s.ends)))
                .collect::<Vec<_>>()
                .join("、"),
            headcount: b.headcount,
            checked_in: *n,
            group: b.kind == "group",
            done: *n >= u64::try_from(b.headcount).unwrap_or(0),
        })
        .collect();
    let people = d
        .screen
        .attendances
        .iter()
        .rev()
        .map(|a| {
            let outcome: Outcome = a.outcome.parse().unwrap_or(Outcome::Registered);
            let detail = match outcome {
                Outcome::Donated => {
                    let group = crate::domain::attendance::blood_group_label(
                        a.abo.as_deref().and_then(|s| s.parse().ok()),
                        a.rh.as_deref().and_then(|s| s.parse().ok()),
                    );
                    let group = if group == "unknown" {
                        page.t("scheck-group-unknown")
                    } else {
                        group
                    };
                    format!("{} mL · {group}", a.volume_ml.unwrap_or(0))
                }
                Outcome::Deferred => a
                    .deferral_category
                    .as_deref()
                    .map(|c| category_label(page, c))
                    .unwrap_or_default(),
                Outcome::Registered => String::new(),
            };
            PersonRow {
                id: a.id,
                version: a.version,
                name: a.name.clone(),
                mobile: a.mobile.clone().unwrap_or_default(),
                kind_label: page.t(&format!("scheck-kind-{}", a.kind)),
                outcome: outcome.as_str(),
                outcome_label: page.t(&format!("scheck-outcome-{}", outcome.as_str())),
                detail,
            }
        })
        .collect();
    let t = &d.results.tally;
    let counts = vec![
        Count {
            id: "checked-in",
            label: page.t("scheck-count-checked-in"),
            value: t.registered.to_string(),
        },
        Count {
            id: "donated",
            label: page.t("scheck-count-donated"),
            value: t.donated.to_string(),
        },
        Count {
            id: "deferred",
            label: page.t("scheck-count-deferred"),
            value: t.deferred.to_string(),
        },
        Count {
            id: "ml",
            label: page.t("scheck-count-ml"),
            value: t.total_ml.to_string(),
        },
        Count {
            id: "expected",
            label: page.t("scheck-count-expected"),
            value: format!("{:.0}", d.stop.expected_donors),
        },
    ];
    let body = CheckinPage {
        page,
        stop_id: d.stop.id,
        drive_id: d.drive.id,
        title: page.t1("scheck-title", "stop", d.stop.name.as_str()),
        when: format!(
            "{} · {}–{}",
            date(lang, d.drive.date),
            clock(d.stop.planned_start),
            clock(d.stop.planned_end)
        ),
        open: d.screen.open,
        searched: !view.q.trim().is_empty(),
        q: view.q,
        bookings,
        people,
        counts,
        notice: view.notice,
        problem: view.problem,
        conflict: view.conflict,
        which: view.which,
        form: view.form,
        volumes: VOLUMES_ML.to_vec(),
        abos: [Abo::A, Abo::B, Abo::AB, Abo::O]
            .iter()
            .map(|a| a.as_str())
            .collect(),
        rhs: [Rh::Positive, Rh::Negative]
            .iter()
            .map(|r| {
                (
                    r.as_str(),
                    page.t(&format!("scheck-rh-{}", r == &Rh::Positive)),
                )
            })
            .collect(),
        categories: [
            DeferralCategory::LowHemoglobin,
            DeferralCategory::BloodPressure,
            DeferralCategory::Weight,
            DeferralCategory::RecentIllness,
            DeferralCategory::Medication,
            DeferralCategory::RecentDonation,
            DeferralCategory::TravelOrExposure,
            DeferralCategory::Other,
        ]
        .iter()
        .map(|c| (c.as_str(), category_label(page, c.as_str())))
        .collect(),
        offline_label: page.t1("scheck-offline-label", "stop", d.stop.name.as_str()),
        walkin_fields: vec![
            ("name", page.t("scheck-name"), "text"),
            ("mobile", page.t("scheck-mobile"), "tel"),
            ("village_code", page.t("scheck-village"), "numeric"),
        ],
        consent_wording: crate::recruitment::roster::standard_wording(),
    };
    let mut response = html(&body);
    *response.status_mut() = status;
    response
}

/// Reads the desk of stop `id` and renders it with `view`, sent with `status`.
async fn show(
    state: &AppState,
    page: &Page,
    id: i64,
    view: View,
    status: StatusCode,
) -> Result<Response, PageError> {
    let d = checkin::desk(&state.db, id, &staff(page, state)?, state.clock.now()).await?;
    Ok(render(page, &d, view, status))
}

#[derive(Debug, Default, Deserialize)]
pub struct DeskQuery {
    q: Option<String>,
    done: Option<String>,
    queued: Option<String>,
}

/// `GET /station/stops/{id}/checkin`: the desk, the bookings matching `q`.
async fn desk_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(query): Query<DeskQuery>,
) -> Result<Response, PageError> {
    let notice = if query.queued.is_some() {
        page.t("scheck-done-queued")
    } else {
        match query.done.as_deref() {
            Some(what @ ("checked_in" | "recorded")) => page.t(&format!("scheck-done-{what}")),
            _ => String::new(),
        }
    };
    let view = View {
        q: query.q.unwrap_or_default(),
        notice,
        ..View::default()
    };
    show(&state, &page, id, view, StatusCode::OK).await
}

/// Where a taken form goes: back to the desk, saying what was done.
fn back(stop: i64, done: &str) -> Response {
    Redirect::to(&format!("/station/stops/{stop}/checkin?done={done}")).into_response()
}

/// What a refused check-in says, read against the desk as it is now.
fn check_in_refusal(page: &Page, d: &Desk, form: &FormFields) -> String {
    if !d.screen.open {
        return page.t("scheck-closed");
    }
    if let Some(code) = form.get("booking_code") {
        let code = normalise_code(&code);
        match d
            .screen
            .bookings
            .iter()
            .find(|((b, _), _)| normalise_code(&b.code) == code)
        {
            Some(((b, _), n)) if *n >= u64::try_from(b.headcount).unwrap_or(0) => {
                return page.t1("scheck-refused-full", "name", b.name.as_str());
            }
            None => return page.t("scheck-refused-booking"),
            Some(_) => {}
        }
    }
    if let Some(mobile) = form.get("mobile")
        && let Some(a) = d
            .screen
            .attendances
            .iter()
            .find(|a| a.mobile.as_deref() == Some(mobile.as_str()))
    {
        return page.t1("scheck-refused-mobile", "name", a.name.as_str());
    }
    page.t("scheck-refused")
}

/// `POST /station/stops/{id}/checkin`: checks someone in (booked by `booking_code`, or walk-in).
async fn check_in(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let who = staff(&page, &state)?;
    let booking_code = form.get("booking_code");
    let which = match &booking_code {
        Some(code) => Which::Booking(code.clone()),
        None => Which::Walkin,
    };
    let cmd = CheckIn {
        booking_code,
        name: form.get("name"),
        mobile: form.get("mobile"),
        village_code: form.get("village_code"),
        consent: form.get("consent").is_some(),
        ..CheckIn::default()
    };
    match checkin::check_in_at(&state.db, id, cmd, &who, state.clock.now()).await {
        Ok(_) => Ok(back(id, "checked_in")),
        Err(CheckinError::Invalid(errors)) => {
            refused_fields(&state, &page, id, which, form, &errors).await
        }
        Err(CheckinError::InvalidField { field, message }) => {
            let errors = [FieldError::new(field, message)];
            refused_fields(&state, &page, id, which, form, &errors).await
        }
        Err(CheckinError::Conflict(_)) => {
            let d = checkin::desk(&state.db, id, &who, state.clock.now()).await?;
            let view = View {
                problem: check_in_refusal(&page, &d, &form),
                which,
                form: FormState::new(form),
                ..View::default()
            };
            Ok(render(&page, &d, view, StatusCode::CONFLICT))
        }
        Err(e) => Err(e.into()),
    }
}

/// The desk again with `form` as typed and each faulty field named beside it.
async fn refused_fields(
    state: &AppState,
    page: &Page,
    stop: i64,
    which: Which,
    form: FormFields,
    errors: &[FieldError],
) -> Result<Response, PageError> {
    let mut shown = field_errors(page, "scheck", errors);
    // A field required only to join the roster says so.
    for e in errors {
        if e.message.contains("join the roster")
            && let Some(s) = shown.iter_mut().find(|(f, _)| *f == e.field)
        {
            s.1 = page.t(&format!("sros-consent-needs-{}", e.field));
        }
    }
    let view = View {
        problem: page.t("scheck-invalid"),
        which,
        form: FormState {
            values: form,
            errors: shown,
        },
        ..View::default()
    };
    show(state, page, stop, view, StatusCode::BAD_REQUEST).await
}

/// `POST /station/stops/{stop}/attendances/{id}/outcome`: donated (volume, blood group) or
/// deferred (category), at the version the desk showed.
async fn outcome(
    State(state): State<AppState>,
    page: Page,
    Path((stop, id)): Path<(i64, i64)>,
    form: FormFields,
) -> Result<Response, PageError> {
    let who = staff(&page, &state)?;
    let what: &'static str = match form.get("outcome").as_deref() {
        Some("donated") => "donated",
        Some("deferred") => "deferred",
        _ => return Err(PageError::status(StatusCode::BAD_REQUEST)),
    };
    let which = Which::Outcome(id, what);
    let Some(expected) = form.get("version").and_then(|v| v.parse::<i32>().ok()) else {
        return Err(PageError::status(StatusCode::BAD_REQUEST));
    };
    let mut errors = Vec::new();
    let change = if what == "donated" {
        let volume = match form.get("volume_ml") {
            None => None,
            Some(raw) => match raw.parse::<i32>() {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.push(FieldError::new("volume_ml", "must be 200, 300 or 400 (mL)"));
                    None
                }
            },
        };
        AttendanceChange {
            outcome: Some(what.to_owned()),
            volume_ml: Some(volume),
            abo: Some(form.get("abo")),
            rh: Some(form.get("rh")),
            deferral_category: Some(None),
            ..AttendanceChange::default()
        }
    } else {
        AttendanceChange {
            outcome: Some(what.to_owned()),
            deferral_category: Some(form.get("deferral_category")),
            volume_ml: Some(None),
            ..AttendanceChange::default()
        }
    };
    if !errors.is_empty() {
        return refused_fields(&state, &page, stop, which, form, &errors).await;
    }
    match checkin::record_outcome(
        &state.db,
        stop,
        id,
        expected,
        change,
        &who,
        state.clock.now(),
    )
    .await
    {
        Ok(Written::Updated(_)) => Ok(back(stop, "recorded")),
        Ok(Written::Stale(current)) => {
            let shown = |o: &str| page.t(&format!("scheck-outcome-{o}"));
            let view = View {
                problem: page.t1("scheck-stale", "name", current.name.as_str()),
                conflict: vec![ConflictRow {
                    label: current.name.clone(),
                    mine: shown(what),
                    current: shown(&current.outcome),
                }],
                which,
                form: FormState::new(form),
                ..View::default()
            };
            show(&state, &page, stop, view, StatusCode::CONFLICT).await
        }
        Err(CheckinError::Invalid(errors)) => {
            refused_fields(&state, &page, stop, which, form, &errors).await
        }
        Err(CheckinError::InvalidField { field, message }) => {
            let errors = [FieldError::new(field, message)];
            refused_fields(&state, &page, stop, which, form, &errors).await
        }
        Err(CheckinError::Conflict(_)) => {
            let view = View {
                problem: page.t("scheck-closed"),
                which,
                form: FormState::new(form),
                ..View::default()
            };
            show(&state, &page, stop, view, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}
