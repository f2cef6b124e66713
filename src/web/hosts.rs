//! Host organisations and publicity talks (issue 16), for township officials on a phone and
//! station staff at a desk alike: `/hosts` (the hosts the reader sees, filtered by kind, region
//! and "due this month", with the next group drive at each), `/hosts/new` and
//! `/hosts/{id}/edit` (the versioned form), `/hosts/{id}` (the host, its contacts, its group
//! drives with their sign-up goal and the contact's private link, its talks) and `/talks`
//! (talks logged per village or host, and the form to log one).
//!
//! Hosts and talks are scoped and audited like points (`registry::hosts`, `registry::talks`):
//! outside the reader's read scope a host does not exist, and only who may write in its region
//! sees the buttons that change it. A group drive's goal and link are the station's (the
//! policy of drives: admins and station staff within their write scope, `drives::signup`).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, NaiveDate};
use entity::{host, publicity_talk};
use serde::Deserialize;

use super::context::Page;
use super::errors::PageError;
use super::forms::{FormFields, FormState, field_errors};
use super::templates::{Choice, ConflictRow, Figure, PlaceLink, date, html};
use crate::domain::checklist::station_date;
use crate::domain::drive::DriveStatus;
use crate::domain::host::{HostKind, Months};
use crate::domain::policy::{Action, Resource};
use crate::domain::region::{Level, RegionCode};
use crate::drives::signup::{self, HostStop};
use crate::error::FieldError;
use crate::geo::Crs;
use crate::registry::hosts::{self, HostChange, HostDetail, HostQuery, NewContact, NewHost};
use crate::registry::regions::{self, RegionQuery};
use crate::registry::talks::{self, NewTalk, TalkCursor, TalkQuery};
use crate::registry::{Acting, RegistryError, Written};
use crate::state::AppState;
use crate::versioned::Outcome;

/// At most this many hosts are listed at once (the filters narrow it down).
const HOSTS_SHOWN: u64 = 200;
/// At most this many talks are listed on a page (then "older").
const TALKS_SHOWN: u64 = 50;
/// At most this many group drives and talks are shown on a host's page.
const ON_HOST_PAGE: u64 = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hosts", get(list_page))
        .route("/hosts/new", get(new_page).post(create))
        .route("/hosts/{id}", get(host_page))
        .route("/hosts/{id}/edit", get(edit_page).post(edit))
        .route("/hosts/{id}/contacts", post(add_contact))
        .route(
            "/hosts/{id}/contacts/{contact}/remove",
            post(remove_contact),
        )
        .route(
            "/hosts/{id}/drives/{drive}/stops/{stop}/goal",
            post(set_goal),
        )
        .route(
            "/hosts/{id}/drives/{drive}/stops/{stop}/link",
            post(make_link),
        )
        .route(
            "/hosts/{id}/drives/{drive}/stops/{stop}/revoke",
            post(revoke_link),
        )
        .route("/talks", get(talks_page).post(record_talk))
        .route("/talks/{id}/delete", post(delete_talk))
}

/// Who acts for the registry: the reader, checked by the policy; "sign in first" for nobody.
fn acting(page: &Page) -> Result<Acting<'_>, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    Ok(Acting::caller(
        page.caller.principal.as_ref(),
        page.caller.actor(),
    ))
}

fn drives_acting(page: &Page) -> crate::drives::Acting<'_> {
    crate::drives::Acting::caller(page.caller.principal.as_ref(), page.caller.actor())
}

/// True when the policy lets the reader do `action` in the region `code` (as text).
fn allowed(page: &Page, action: Action, code: &str) -> bool {
    RegionCode::parse(code).is_ok_and(|c| {
        page.caller
            .authorize(action, Resource::Registry(Some(&c)), String::new)
            .is_ok()
    })
}

/// Field errors as the forms here show them: the catalogue's `shost-hint-<field>` for the
/// host's fields, else the shared hints (`hint-mobile`), else the service's message.
fn hints(page: &Page, errors: &[FieldError]) -> Vec<(String, String)> {
    field_errors(page, "", errors)
        .into_iter()
        .map(|(field, shown)| {
            let id = format!("shost-hint-{field}");
            let hint = page.t(&id);
            if hint == id {
                (field, shown)
            } else {
                (field, hint)
            }
        })
        .collect()
}

fn kind_label(page: &Page, kind: &str) -> String {
    page.t(&format!("shost-kind-{kind}"))
}

fn kind_choices(page: &Page) -> Vec<Choice> {
    HostKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str().to_owned(),
            label: kind_label(page, k.as_str()),
        })
        .collect()
}

/// `3月、9月`, or a dash for no timetable.
fn months_text(page: &Page, bits: i32) -> String {
    let months = Months::from_bits(bits).list();
    if months.is_empty() {
        return "—".to_owned();
    }
    months
        .iter()
        .map(|m| page.t(&format!("month-{m}")))
        .collect::<Vec<_>>()
        .join(&page.t("shost-list-separator"))
}

fn minutes(m: i32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// The names of these regions (codes as text), each looked up once.
async fn region_names(
    state: &AppState,
    codes: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, String>, PageError> {
    let mut names = HashMap::new();
    for code in codes {
        if names.contains_key(&code) {
            continue;
        }
        let name = match RegionCode::parse(&code) {
            Ok(c) => regions::get(&state.db, &c).await?.map(|r| r.name),
            Err(_) => None,
        };
        names.insert(code.clone(), name.unwrap_or(code));
    }
    Ok(names)
}

/// The township a region lies in (itself for a township or above), as text.
fn township_of(code: &str) -> String {
    RegionCode::parse(code)
        .ok()
        .map(|c| c.township().unwrap_or(c).to_string())
        .unwrap_or_else(|| code.to_owned())
}

/// The regions the reader picks from (the shared choices), those it may `action` in.
async fn region_options(
    state: &AppState,
    page: &Page,
    action: Action,
) -> Result<Vec<PlaceLink>, PageError> {
    let acting = acting(page)?;
    Ok(regions::choices(&state.db, &acting)
        .await?
        .into_iter()
        .filter(|r| action == Action::Read || allowed(page, action, r.code.as_str()))
        .map(|r| PlaceLink {
            code: r.code.to_string(),
            name: r.name,
            current: false,
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Debug, Default, Deserialize)]
struct ListAsked {
    kind: Option<String>,
    region: Option<String>,
    due: Option<String>,
}

struct HostRow {
    id: i64,
    name: String,
    kind: String,
    township: String,
    headcount: String,
    months: String,
    /// The next group drive (`12月21日 星期一 09:00`), or empty.
    next: String,
}

#[derive(Template)]
#[template(path = "shost_list.html")]
struct HostsPage<'a> {
    page: &'a Page,
    rows: Vec<HostRow>,
    kinds: Vec<Choice>,
    regions: Vec<PlaceLink>,
    kind: String,
    region: String,
    due: bool,
    /// `2026年12月`: the month "due" speaks of.
    month: String,
    more: bool,
    may_create: bool,
    township_link: bool,
}

/// `GET /hosts[?kind=&region=&due=1]`: the hosts the reader sees.
async fn list_page(
    State(state): State<AppState>,
    page: Page,
    Query(asked): Query<ListAsked>,
) -> Result<Response, PageError> {
    let acting = acting(&page)?;
    let today = station_date(state.clock.now());
    let kind = asked
        .kind
        .as_deref()
        .and_then(|k| k.parse::<HostKind>().ok());
    let region = asked
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(RegionCode::parse)
        .transpose()
        .map_err(|_| PageError::Status(StatusCode::NOT_FOUND))?;
    let due = asked.due.as_deref().is_some_and(|d| !d.is_empty());
    let first_of_month = today.with_day(1).unwrap_or(today);
    let query = HostQuery {
        region: region.clone(),
        kind,
        month: due.then(|| today.month()),
        unplanned_from: due.then_some(first_of_month),
        after_id: None,
        limit: HOSTS_SHOWN + 1,
    };
    let mut found = hosts::list(&state.db, query, &acting).await?;
    let more = found.len() as u64 > HOSTS_SHOWN;
    found.truncate(HOSTS_SHOWN as usize);
    let ids: Vec<i64> = found.iter().map(|d| d.host.id).collect();
    let next = signup::next_at_hosts(&state.db, &drives_acting(&page), &ids, today).await?;
    let codes: Vec<String> = found
        .iter()
        .map(|d| township_of(&d.host.region_code))
        .collect();
    let townships = region_names(&state, codes).await?;
    let lang = page.lang;
    let rows = found
        .into_iter()
        .map(|d| {
            let h = d.host;
            let next = next
                .iter()
                .find(|(id, _, _)| *id == h.id)
                .map(|(_, drive, stop)| {
                    format!("{} {}", date(lang, drive.date), minutes(stop.planned_start))
                })
                .unwrap_or_default();
            HostRow {
                id: h.id,
                kind: kind_label(&page, &h.kind),
                township: townships
                    .get(&township_of(&h.region_code))
                    .cloned()
                    .unwrap_or_default(),
                headcount: h
                    .typical_headcount
                    .map_or_else(|| "—".to_owned(), |n| n.to_string()),
                months: months_text(&page, h.preferred_months),
                name: h.name,
                next,
            }
        })
        .collect();
    let may_create = !region_options(&state, &page, Action::Create)
        .await?
        .is_empty();
    let body = HostsPage {
        kinds: kind_choices(&page),
        regions: region_options(&state, &page, Action::Read).await?,
        kind: kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
        region: region.map(|r| r.to_string()).unwrap_or_default(),
        due,
        month: lang.tn(
            "shost-month",
            &[
                ("year", today.year().to_string().into()),
                ("month", today.month().into()),
                (
                    "monthname",
                    page.t(&format!("month-{}", today.month())).into(),
                ),
            ],
        ),
        more,
        may_create,
        township_link: !page.is_staff(),
        rows,
        page: &page,
    };
    Ok(html(&body))
}

// ---------------------------------------------------------------------------------------------
// The form: a new host, a host changed

#[derive(Template)]
#[template(path = "shost_form.html")]
struct HostFormPage<'a> {
    page: &'a Page,
    /// `None` for a new host.
    id: Option<i64>,
    name: String,
    form: FormState,
    kinds: Vec<Choice>,
    regions: Vec<PlaceLink>,
    problem: String,
    conflict: Vec<ConflictRow>,
}

impl HostFormPage<'_> {
    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/hosts/{id}/edit"),
            None => "/hosts/new".to_owned(),
        }
    }

    fn back(&self) -> String {
        match self.id {
            Some(id) => format!("/hosts/{id}"),
            None => "/hosts".to_owned(),
        }
    }

    fn months(&self) -> Vec<(String, String)> {
        (1..=12)
            .map(|m| (m.to_string(), self.page.t(&format!("month-{m}"))))
            .collect()
    }
}

/// A stored host's fields as its form shows them (WGS-84, six decimals).
fn host_fields(h: &host::Model) -> FormFields {
    let mut fields = vec![
        ("name".to_owned(), h.name.clone()),
        ("kind".to_owned(), h.kind.clone()),
        ("region_code".to_owned(), h.region_code.clone()),
        ("address".to_owned(), h.address.clone().unwrap_or_default()),
        ("longitude".to_owned(), format!("{:.6}", h.longitude)),
        ("latitude".to_owned(), format!("{:.6}", h.latitude)),
        ("crs".to_owned(), "wgs84".to_owned()),
        (
            "typical_headcount".to_owned(),
            h.typical_headcount
                .map(|n| n.to_string())
                .unwrap_or_default(),
        ),
        ("notes".to_owned(), h.notes.clone().unwrap_or_default()),
        ("version".to_owned(), h.version.to_string()),
    ];
    for m in Months::from_bits(h.preferred_months).list() {
        fields.push(("preferred_months".to_owned(), m.to_string()));
    }
    FormFields(fields)
}

/// What a posted host form says, read as far as it can be: the values for the service and
/// the fields that could not be read (shown first; the service's rules add the rest).
struct Typed {
    kind: Option<HostKind>,
    longitude: f64,
    latitude: f64,
    crs: Crs,
    headcount: Option<i32>,
    months: Vec<i64>,
    errors: Vec<FieldError>,
}

fn typed(form: &FormFields) -> Typed {
    let mut errors = Vec::new();
    let kind = form.get("kind").and_then(|k| k.parse::<HostKind>().ok());
    if kind.is_none() {
        errors.push(FieldError::new("kind", "pick one"));
    }
    // A blank or unreadable coordinate reaches the service as NaN, which its location rule
    // refuses (so nothing is written); the page names the field here first.
    let mut coordinate = |name: &str| match form.get(name).map(|v| v.replace(',', ".")) {
        None => {
            errors.push(FieldError::new(name, "is required"));
            f64::NAN
        }
        Some(raw) => raw.parse::<f64>().unwrap_or_else(|_| {
            errors.push(FieldError::new(name, "must be a number"));
            f64::NAN
        }),
    };
    let longitude = coordinate("longitude");
    let latitude = coordinate("latitude");
    let crs = match form.get("crs").as_deref() {
        Some("gcj02") => Crs::Gcj02,
        _ => Crs::Wgs84,
    };
    // Unreadable: 0, which the headcount's range refuses.
    let headcount = form.get("typical_headcount").map(|raw| {
        raw.parse::<i32>().unwrap_or_else(|_| {
            errors.push(FieldError::new(
                "typical_headcount",
                "must be a whole number",
            ));
            0
        })
    });
    let months = form
        .all("preferred_months")
        .iter()
        .map(|m| m.parse::<i64>().unwrap_or(0))
        .collect();
    Typed {
        kind,
        longitude,
        latitude,
        crs,
        headcount,
        months,
        errors,
    }
}

/// The page's errors first, then the service's (a field named by both shows the page's).
fn merged(mut first: Vec<FieldError>, then: Vec<FieldError>) -> Vec<FieldError> {
    first.extend(then);
    first
}

async fn render_form(
    state: &AppState,
    page: &Page,
    id: Option<i64>,
    name: String,
    form: FormState,
    problem: String,
    conflict: Vec<ConflictRow>,
) -> Result<Response, PageError> {
    let mut regions = region_options(state, page, Action::Create).await?;
    // A host kept in a region not offered (a village) keeps it as a choice.
    let current = form.value("region_code");
    if !current.is_empty() && !regions.iter().any(|r| r.code == current) {
        let names = region_names(state, [current.clone()]).await?;
        regions.insert(
            0,
            PlaceLink {
                name: names.get(&current).cloned().unwrap_or_default(),
                code: current,
                current: false,
            },
        );
    }
    Ok(html(&HostFormPage {
        page,
        id,
        name,
        form,
        kinds: kind_choices(page),
        regions,
        problem,
        conflict,
    }))
}

fn refused(mut response: Response, status: StatusCode) -> Response {
    *response.status_mut() = status;
    response
}

/// `GET /hosts/new`: the form for a new host, in the reader's (first) region.
async fn new_page(State(state): State<AppState>, page: Page) -> Result<Response, PageError> {
    acting(&page)?;
    let regions = region_options(&state, &page, Action::Create).await?;
    let Some(first) = regions.first() else {
        return Err(PageError::Status(StatusCode::FORBIDDEN));
    };
    let form = FormState::new(FormFields::of(&[
        ("region_code", first.code.clone()),
        ("crs", "wgs84".to_owned()),
    ]));
    render_form(
        &state,
        &page,
        None,
        String::new(),
        form,
        String::new(),
        vec![],
    )
    .await
}

/// `POST /hosts/new`: registers the host; refused, the form again as typed with every error
/// beside its field (400).
async fn create(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    let acting = acting(&page)?;
    let typed = typed(&form);
    let result = match typed.kind {
        Some(kind) => {
            let command = NewHost {
                name: form.raw("name"),
                kind,
                region_code: form.raw("region_code"),
                address: form.get("address"),
                longitude: typed.longitude,
                latitude: typed.latitude,
                crs: typed.crs,
                typical_headcount: typed.headcount,
                preferred_months: typed.months,
                contacts: vec![],
                notes: form.get("notes"),
            };
            hosts::create(&state.db, command, &acting, state.clock.now()).await
        }
        None => Err(RegistryError::Invalid(vec![])),
    };
    let errors = match result {
        Ok(created) if typed.errors.is_empty() => {
            return Ok(
                Redirect::to(&format!("/hosts/{}?done=created", created.host.id)).into_response(),
            );
        }
        Ok(_) => unreachable!("a form with unreadable fields is refused by the service"),
        Err(RegistryError::Invalid(errors)) => errors,
        Err(RegistryError::InvalidField { field, message }) => {
            vec![FieldError::new(field.as_str(), message.as_str())]
        }
        Err(e) => return Err(e.into()),
    };
    let state_of = FormState {
        errors: hints(&page, &merged(typed.errors, errors)),
        values: form,
    };
    let response = render_form(
        &state,
        &page,
        None,
        String::new(),
        state_of,
        page.t("refused-fields"),
        vec![],
    )
    .await?;
    Ok(refused(response, StatusCode::BAD_REQUEST))
}

/// `GET /hosts/{id}/edit`: the form with the stored host (403 for who may only read it).
async fn edit_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let acting = acting(&page)?;
    let current = hosts::find_for(&state.db, id, Action::Update, &acting).await?;
    render_form(
        &state,
        &page,
        Some(id),
        current.name.clone(),
        FormState::new(host_fields(&current)),
        String::new(),
        vec![],
    )
    .await
}

/// The fields compared in a conflict, in the form's order.
const COMPARED: &[&str] = &[
    "name",
    "kind",
    "region_code",
    "address",
    "longitude",
    "latitude",
    "typical_headcount",
    "preferred_months",
    "notes",
];

/// A field's value as people read it.
fn readable(
    page: &Page,
    names: &HashMap<String, String>,
    field: &str,
    form: &FormFields,
) -> String {
    let value = form.raw(field);
    match field {
        "kind" if !value.is_empty() => kind_label(page, &value),
        "region_code" => names.get(&value).cloned().unwrap_or(value),
        "preferred_months" => {
            let months: Vec<u32> = form
                .all(field)
                .iter()
                .filter_map(|m| m.parse().ok())
                .collect();
            months_text(page, Months::of(&months).bits())
        }
        _ if value.trim().is_empty() => page.t("empty-value"),
        _ => value,
    }
}

fn months_of(form: &FormFields) -> Vec<String> {
    let mut months = form.all("preferred_months");
    months.sort_by_key(|m| m.parse::<u32>().unwrap_or(0));
    months
}

fn same(field: &str, mine: &FormFields, stored: &FormFields) -> bool {
    match field {
        "preferred_months" => months_of(mine) == months_of(stored),
        "longitude" | "latitude" => {
            let n = |f: &FormFields| f.raw(field).trim().parse::<f64>().ok();
            match (n(mine), n(stored)) {
                (Some(a), Some(b)) => (a - b).abs() < 5e-7,
                _ => mine.raw(field).trim() == stored.raw(field).trim(),
            }
        }
        _ => mine.raw(field).trim() == stored.raw(field).trim(),
    }
}

/// The form as typed, carrying `version` instead of the one it was typed against.
fn with_version(form: &FormFields, version: i32) -> FormFields {
    let mut fields: Vec<(String, String)> = form
        .0
        .iter()
        .filter(|(k, _)| k != "version")
        .cloned()
        .collect();
    fields.push(("version".to_owned(), version.to_string()));
    FormFields(fields)
}

/// `POST /hosts/{id}/edit`: saves the change. Refused: the form as typed with the errors
/// beside the fields (400); stale (someone saved meanwhile): the form as typed, the stored
/// values beside it, and the new version, so that saving again keeps what was typed (409).
async fn edit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let acting = acting(&page)?;
    let current = hosts::find_for(&state.db, id, Action::Update, &acting).await?;
    let typed = typed(&form);
    let Some(expected) = form.get("version").and_then(|v| v.parse::<i32>().ok()) else {
        return Err(PageError::Status(StatusCode::BAD_REQUEST));
    };
    let stored = host_fields(&current);
    // Coordinates left as shown keep the stored location (no rounding to six decimals).
    let moved = !(typed.crs == Crs::Wgs84
        && same("longitude", &form, &stored)
        && same("latitude", &form, &stored));
    let result = match typed.kind {
        Some(kind) => {
            let change = HostChange {
                name: Some(Some(form.raw("name"))),
                kind: Some(Some(kind)),
                region_code: Some(Some(form.raw("region_code"))),
                address: Some(form.get("address")),
                longitude: moved.then_some(Some(typed.longitude)),
                latitude: moved.then_some(Some(typed.latitude)),
                crs: moved.then_some(typed.crs),
                typical_headcount: Some(typed.headcount),
                preferred_months: Some(Some(typed.months)),
                notes: Some(form.get("notes")),
            };
            hosts::update(
                &state.db,
                &current,
                expected,
                change,
                &acting,
                state.clock.now(),
            )
            .await
        }
        None => Err(RegistryError::Invalid(vec![])),
    };
    let errors = match result {
        Ok(Written::Done(_)) if typed.errors.is_empty() => {
            return Ok(Redirect::to(&format!("/hosts/{id}?done=saved")).into_response());
        }
        Ok(Written::Done(_)) => unreachable!("a form with unreadable fields is refused"),
        Ok(Written::Stale(latest)) => {
            let latest_fields = host_fields(&latest.host);
            let names = region_names(
                &state,
                [form.raw("region_code"), latest.host.region_code.clone()],
            )
            .await?;
            let conflict = COMPARED
                .iter()
                .filter(|f| !same(f, &form, &latest_fields))
                .map(|f| ConflictRow {
                    label: page.t(&format!("shost-field-{f}")),
                    mine: readable(&page, &names, f, &form),
                    current: readable(&page, &names, f, &latest_fields),
                })
                .collect();
            let response = render_form(
                &state,
                &page,
                Some(id),
                latest.host.name.clone(),
                FormState {
                    values: with_version(&form, latest.host.version),
                    errors: hints(&page, &typed.errors),
                },
                page.t("shost-conflict"),
                conflict,
            )
            .await?;
            return Ok(refused(response, StatusCode::CONFLICT));
        }
        Err(RegistryError::Invalid(errors)) => errors,
        Err(RegistryError::InvalidField { field, message }) => {
            vec![FieldError::new(field.as_str(), message.as_str())]
        }
        Err(e) => return Err(e.into()),
    };
    let response = render_form(
        &state,
        &page,
        Some(id),
        current.name.clone(),
        FormState {
            errors: hints(&page, &merged(typed.errors, errors)),
            values: form,
        },
        page.t("refused-fields"),
        vec![],
    )
    .await?;
    Ok(refused(response, StatusCode::BAD_REQUEST))
}

// ---------------------------------------------------------------------------------------------
// A host's page

struct ContactRow {
    id: i64,
    name: String,
    role: String,
    mobile: String,
}

struct DriveRow {
    drive_id: i64,
    stop_id: i64,
    drive_version: i32,
    date: String,
    times: String,
    status: String,
    status_label: String,
    goal: String,
    /// "3 of 60 signed up", or "3 signed up" without a goal.
    progress: String,
    link: bool,
    /// The reader may set the goal and make or revoke the link (the drive is not over).
    may_update: bool,
}

struct TalkRow {
    id: i64,
    date: String,
    place: String,
    speaker: String,
    audience: String,
    materials: String,
    notes: String,
    may_delete: bool,
}

/// A link just made: shown on this page only, this once.
struct NewLink {
    stop_id: i64,
    url: String,
}

#[derive(Template)]
#[template(path = "shost_host.html")]
struct HostPage<'a> {
    page: &'a Page,
    id: i64,
    name: String,
    kind: String,
    facts: Vec<Figure>,
    may_update: bool,
    notice: String,
    problem: String,
    contacts: Vec<ContactRow>,
    contact_form: FormState,
    contact_problem: String,
    drives: Vec<DriveRow>,
    new_link: Option<NewLink>,
    talks: Vec<TalkRow>,
    may_log_talk: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
}

/// What a host's page shows besides the host.
#[derive(Default)]
struct HostView {
    notice: String,
    problem: String,
    contact_form: Option<FormState>,
    contact_problem: String,
    new_link: Option<NewLink>,
}

async fn render_host(
    state: &AppState,
    page: &Page,
    id: i64,
    view: HostView,
) -> Result<Response, PageError> {
    let acting = acting(page)?;
    let detail: HostDetail = hosts::get(&state.db, id, &acting).await?;
    let stops: Vec<HostStop> =
        signup::at_host(&state.db, &drives_acting(page), id, ON_HOST_PAGE).await?;
    let talks = talks::list(
        &state.db,
        TalkQuery {
            host_id: Some(id),
            limit: ON_HOST_PAGE,
            ..TalkQuery::default()
        },
        &acting,
    )
    .await?;
    let h = &detail.host;
    let lang = page.lang;
    let may_update = allowed(page, Action::Update, &h.region_code);
    let names = region_names(state, [h.region_code.clone()]).await?;
    let dash = |v: &Option<String>| {
        v.clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "—".to_owned())
    };
    let facts = vec![
        Figure {
            label: page.t("shost-field-kind"),
            value: kind_label(page, &h.kind),
        },
        Figure {
            label: page.t("shost-field-region_code"),
            value: names.get(&h.region_code).cloned().unwrap_or_default(),
        },
        Figure {
            label: page.t("shost-field-address"),
            value: dash(&h.address),
        },
        Figure {
            label: page.t("shost-location"),
            value: format!("{:.5}, {:.5}", h.longitude, h.latitude),
        },
        Figure {
            label: page.t("shost-field-typical_headcount"),
            value: h
                .typical_headcount
                .map_or_else(|| "—".to_owned(), |n| n.to_string()),
        },
        Figure {
            label: page.t("shost-field-preferred_months"),
            value: months_text(page, h.preferred_months),
        },
        Figure {
            label: page.t("shost-field-notes"),
            value: dash(&h.notes),
        },
        Figure {
            label: page.t("shost-updated"),
            value: lang.tn(
                "shost-updated-value",
                &[
                    ("date", date(lang, station_date(h.updated_at)).into()),
                    (
                        "by",
                        h.updated_by
                            .clone()
                            .unwrap_or_else(|| "—".to_owned())
                            .into(),
                    ),
                ],
            ),
        },
    ];
    let contacts = detail
        .contacts
        .iter()
        .map(|c| ContactRow {
            id: c.id,
            name: c.name.clone(),
            role: c.role.clone().unwrap_or_default(),
            mobile: c.mobile.clone(),
        })
        .collect();
    let drives = stops
        .into_iter()
        .map(|s| {
            let status = s.drive.status.clone();
            let over = status
                .parse::<DriveStatus>()
                .map_or(true, |st| st.is_final());
            DriveRow {
                drive_id: s.drive.id,
                stop_id: s.stop.id,
                drive_version: s.drive.version,
                date: date(lang, s.drive.date),
                times: format!(
                    "{}–{}",
                    minutes(s.stop.planned_start),
                    minutes(s.stop.planned_end)
                ),
                status_label: page.t(&format!("sdrive-status-{status}")),
                status,
                goal: s
                    .stop
                    .signup_goal
                    .map(|g| g.to_string())
                    .unwrap_or_default(),
                progress: match s.stop.signup_goal {
                    Some(goal) => lang.tn(
                        "shost-progress-goal",
                        &[("count", s.signed_up.into()), ("goal", goal.into())],
                    ),
                    None => lang.t1("shost-progress", "count", s.signed_up),
                },
                link: s.stop.signup_token_hash.is_some(),
                may_update: s.may_update && !over,
            }
        })
        .collect();
    let talks = talks
        .into_iter()
        .map(|t| talk_row(page, t, h.name.clone()))
        .collect();
    let body = HostPage {
        page,
        id,
        name: h.name.clone(),
        kind: kind_label(page, &h.kind),
        facts,
        may_update,
        notice: view.notice,
        problem: view.problem,
        contacts,
        contact_form: view.contact_form.unwrap_or_default(),
        contact_problem: view.contact_problem,
        drives,
        new_link: view.new_link,
        talks,
        may_log_talk: allowed(page, Action::Create, &h.region_code),
    };
    Ok(html(&body))
}

fn talk_row(page: &Page, t: publicity_talk::Model, place: String) -> TalkRow {
    let audience = match &t.audience_description {
        Some(who) if !who.trim().is_empty() => page.lang.tn(
            "shost-talk-audience-who",
            &[("count", t.audience.into()), ("who", who.clone().into())],
        ),
        _ => page
            .lang
            .t1("shost-talk-audience-count", "count", t.audience),
    };
    TalkRow {
        id: t.id,
        date: date(page.lang, t.held_on),
        may_delete: allowed(page, Action::Close, &t.region_code),
        place,
        speaker: t.speaker,
        audience,
        materials: t.materials,
        notes: t.notes.unwrap_or_default(),
    }
}

/// `GET /hosts/{id}`: the host, its contacts, its group drives, its talks.
async fn host_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let notice = match done.done.as_deref() {
        Some(
            what @ ("created" | "saved" | "contact-added" | "contact-removed" | "goal" | "revoked"),
        ) => page.t(&format!("shost-done-{what}")),
        _ => String::new(),
    };
    render_host(
        &state,
        &page,
        id,
        HostView {
            notice,
            ..HostView::default()
        },
    )
    .await
}

/// `POST /hosts/{id}/contacts`: adds a contact (name, mobile, role); refused, the page with
/// the form as typed and the errors beside its fields (400).
async fn add_contact(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let acting = acting(&page)?;
    let command = NewContact {
        name: form.raw("name"),
        mobile: form.raw("mobile"),
        role: form.get("role"),
    };
    let (status, problem, errors) =
        match hosts::add_contact(&state.db, id, command, &acting, state.clock.now()).await {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/hosts/{id}?done=contact-added#contacts"))
                        .into_response(),
                );
            }
            Err(RegistryError::Invalid(errors)) => {
                (StatusCode::BAD_REQUEST, page.t("refused-fields"), errors)
            }
            Err(RegistryError::InvalidField { field, message }) => (
                StatusCode::BAD_REQUEST,
                page.t("refused-fields"),
                vec![FieldError::new(field.as_str(), message.as_str())],
            ),
            Err(RegistryError::Conflict(_)) => {
                (StatusCode::CONFLICT, page.t("shost-contacts-full"), vec![])
            }
            Err(e) => return Err(e.into()),
        };
    let response = render_host(
        &state,
        &page,
        id,
        HostView {
            contact_form: Some(FormState {
                errors: field_errors(&page, "", &errors),
                values: form,
            }),
            contact_problem: problem,
            ..HostView::default()
        },
    )
    .await?;
    Ok(refused(response, status))
}

/// `POST /hosts/{id}/contacts/{contact}/remove`: removes a contact.
async fn remove_contact(
    State(state): State<AppState>,
    page: Page,
    Path((id, contact)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let acting = acting(&page)?;
    hosts::remove_contact(&state.db, id, contact, &acting, state.clock.now()).await?;
    Ok(Redirect::to(&format!("/hosts/{id}?done=contact-removed#contacts")).into_response())
}

/// The host's page after a refused change of a group drive: the sentence at the top (409).
async fn drive_refused(
    state: &AppState,
    page: &Page,
    id: i64,
    status: StatusCode,
    problem: String,
) -> Result<Response, PageError> {
    let response = render_host(
        state,
        page,
        id,
        HostView {
            problem,
            ..HostView::default()
        },
    )
    .await?;
    Ok(refused(response, status))
}

/// The drive of a host's stop, if the stop is at this host (else it does not exist here).
async fn stop_here(
    state: &AppState,
    page: &Page,
    id: i64,
    drive: i64,
    stop: i64,
) -> Result<(), PageError> {
    let acting = acting(page)?;
    hosts::find_for(&state.db, id, Action::Read, &acting).await?;
    let here = signup::at_host(&state.db, &drives_acting(page), id, 10_000)
        .await?
        .into_iter()
        .any(|s| s.drive.id == drive && s.stop.id == stop);
    if here {
        Ok(())
    } else {
        Err(PageError::Status(StatusCode::NOT_FOUND))
    }
}

/// `POST /hosts/{id}/drives/{drive}/stops/{stop}/goal` (`signup_goal`, `version` of the
/// drive): sets or clears the stop's sign-up goal.
async fn set_goal(
    State(state): State<AppState>,
    page: Page,
    Path((id, drive, stop)): Path<(i64, i64, i64)>,
    form: FormFields,
) -> Result<Response, PageError> {
    stop_here(&state, &page, id, drive, stop).await?;
    let acting = drives_acting(&page);
    let current = crate::drives::find_for(&state.db, &acting, Action::Update, drive).await?;
    let Some(expected) = form.get("version").and_then(|v| v.parse::<i32>().ok()) else {
        return Err(PageError::Status(StatusCode::BAD_REQUEST));
    };
    let goal = match form.get("signup_goal").map(|g| g.parse::<i32>()) {
        None => None,
        Some(Ok(goal)) => Some(goal),
        Some(Err(_)) => {
            return drive_refused(
                &state,
                &page,
                id,
                StatusCode::BAD_REQUEST,
                page.t("shost-goal-invalid"),
            )
            .await;
        }
    };
    let outcome = signup::set_goal(
        &state.db,
        current,
        expected,
        stop,
        goal,
        &acting,
        state.clock.now(),
    )
    .await;
    match outcome {
        Ok(Outcome::Updated(_)) => {
            Ok(Redirect::to(&format!("/hosts/{id}?done=goal#drives")).into_response())
        }
        Ok(Outcome::Stale(_)) => {
            drive_refused(
                &state,
                &page,
                id,
                StatusCode::CONFLICT,
                page.t("shost-goal-stale"),
            )
            .await
        }
        Err(crate::drives::DrivesError::InvalidField { .. }) => {
            drive_refused(
                &state,
                &page,
                id,
                StatusCode::BAD_REQUEST,
                page.t("shost-goal-invalid"),
            )
            .await
        }
        Err(crate::drives::DrivesError::Conflict(_)) => {
            drive_refused(
                &state,
                &page,
                id,
                StatusCode::CONFLICT,
                page.t("shost-drive-over"),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /hosts/{id}/drives/{drive}/stops/{stop}/link`: makes (or replaces) the contact's
/// private sign-up link and shows it this once, on the page this answers with.
async fn make_link(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path((id, drive, stop)): Path<(i64, i64, i64)>,
) -> Result<Response, PageError> {
    stop_here(&state, &page, id, drive, stop).await?;
    let made = signup::make_link(
        &state.db,
        drive,
        stop,
        &drives_acting(&page),
        state.clock.now(),
    )
    .await;
    let token = match made {
        Ok((_, token)) => token,
        Err(crate::drives::DrivesError::Conflict(_)) => {
            return drive_refused(
                &state,
                &page,
                id,
                StatusCode::CONFLICT,
                page.t("shost-drive-over"),
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let site = state
        .http
        .public_url
        .clone()
        .unwrap_or_else(|| crate::auth::caller::site_origin(&headers, &state.http));
    render_host(
        &state,
        &page,
        id,
        HostView {
            notice: page.t("shost-done-link"),
            new_link: Some(NewLink {
                stop_id: stop,
                url: format!("{site}/signup/{token}"),
            }),
            ..HostView::default()
        },
    )
    .await
}

/// `POST /hosts/{id}/drives/{drive}/stops/{stop}/revoke`: revokes the link (it opens nothing).
async fn revoke_link(
    State(state): State<AppState>,
    page: Page,
    Path((id, drive, stop)): Path<(i64, i64, i64)>,
) -> Result<Response, PageError> {
    stop_here(&state, &page, id, drive, stop).await?;
    signup::revoke_link(
        &state.db,
        drive,
        stop,
        &drives_acting(&page),
        state.clock.now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/hosts/{id}?done=revoked#drives")).into_response())
}

// ---------------------------------------------------------------------------------------------
// Publicity talks

#[derive(Debug, Default, Deserialize)]
struct TalksAsked {
    region: Option<String>,
    host: Option<i64>,
    /// `YYYY-MM-DD.id` of the last talk shown: the older ones.
    after: Option<String>,
    done: Option<String>,
}

/// A place a talk is about, as the form offers it: `region-<code>` or `host-<id>`.
struct PlaceChoice {
    value: String,
    label: String,
}

struct PlaceGroup {
    label: String,
    places: Vec<PlaceChoice>,
}

#[derive(Template)]
#[template(path = "shost_talks.html")]
struct TalksPage<'a> {
    page: &'a Page,
    rows: Vec<TalkRow>,
    regions: Vec<PlaceLink>,
    region: String,
    older: String,
    groups: Vec<PlaceGroup>,
    form: FormState,
    notice: String,
    problem: String,
}

fn cursor(raw: Option<&str>) -> Option<TalkCursor> {
    let (day, id) = raw?.split_once('.')?;
    Some(TalkCursor {
        held_on: NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?,
        id: id.parse().ok()?,
    })
}

/// The places the reader may log a talk for: the hosts and the townships (with their
/// villages) in their write scope; and every host's name they read (for the list).
async fn talk_places(
    state: &AppState,
    page: &Page,
) -> Result<(Vec<PlaceGroup>, HashMap<i64, String>), PageError> {
    let acting = acting(page)?;
    let readable = hosts::list(
        &state.db,
        HostQuery {
            limit: 1000,
            ..HostQuery::default()
        },
        &acting,
    )
    .await?;
    let host_names: HashMap<i64, String> = readable
        .iter()
        .map(|d| (d.host.id, d.host.name.clone()))
        .collect();
    let mut groups = Vec::new();
    let writable_hosts: Vec<PlaceChoice> = readable
        .iter()
        .filter(|d| allowed(page, Action::Create, &d.host.region_code))
        .map(|d| PlaceChoice {
            value: format!("host-{}", d.host.id),
            label: d.host.name.clone(),
        })
        .collect();
    if !writable_hosts.is_empty() {
        groups.push(PlaceGroup {
            label: page.t("shost-talk-hosts"),
            places: writable_hosts,
        });
    }
    let townships: Vec<_> = regions::choices(&state.db, &acting)
        .await?
        .into_iter()
        .filter(|r| r.level == Level::Township && allowed(page, Action::Create, r.code.as_str()))
        .collect();
    for township in townships {
        let villages = regions::list(
            &state.db,
            RegionQuery {
                parent: Some(township.code.clone()),
                level: Some(Level::Village),
                limit: regions::CHOICES,
                ..RegionQuery::default()
            },
            &acting,
        )
        .await?;
        let mut places = vec![PlaceChoice {
            value: format!("region-{}", township.code),
            label: page.t1("shost-talk-whole", "name", township.name.as_str()),
        }];
        places.extend(villages.into_iter().map(|v| PlaceChoice {
            value: format!("region-{}", v.code),
            label: v.name,
        }));
        groups.push(PlaceGroup {
            label: township.name,
            places,
        });
    }
    Ok((groups, host_names))
}

async fn render_talks(
    state: &AppState,
    page: &Page,
    asked: &TalksAsked,
    form: FormState,
    notice: String,
    problem: String,
) -> Result<Response, PageError> {
    let acting = acting(page)?;
    let region = asked
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(RegionCode::parse)
        .transpose()
        .map_err(|_| PageError::Status(StatusCode::NOT_FOUND))?;
    let mut found = talks::list(
        &state.db,
        TalkQuery {
            region: region.clone(),
            host_id: asked.host,
            after: cursor(asked.after.as_deref()),
            limit: TALKS_SHOWN + 1,
            ..TalkQuery::default()
        },
        &acting,
    )
    .await?;
    let older = if found.len() as u64 > TALKS_SHOWN {
        found.truncate(TALKS_SHOWN as usize);
        found.last().map_or_else(String::new, |t| {
            let mut query = vec![format!("after={}.{}", t.held_on, t.id)];
            if let Some(r) = &region {
                query.push(format!("region={r}"));
            }
            if let Some(h) = asked.host {
                query.push(format!("host={h}"));
            }
            format!("/talks?{}", query.join("&"))
        })
    } else {
        String::new()
    };
    let (groups, host_names) = talk_places(state, page).await?;
    let names = region_names(
        state,
        found
            .iter()
            .filter(|t| t.host_id.is_none())
            .map(|t| t.region_code.clone())
            .collect::<Vec<_>>(),
    )
    .await?;
    let rows = found
        .into_iter()
        .map(|t| {
            let place = match t.host_id {
                Some(h) => host_names.get(&h).cloned().unwrap_or_default(),
                None => names.get(&t.region_code).cloned().unwrap_or_default(),
            };
            talk_row(page, t, place)
        })
        .collect();
    Ok(html(&TalksPage {
        page,
        rows,
        regions: region_options(state, page, Action::Read).await?,
        region: region.map(|r| r.to_string()).unwrap_or_default(),
        older,
        groups,
        form,
        notice,
        problem,
    }))
}

/// `GET /talks[?region=&host=&after=]`: the talks the reader sees, newest first, and the form
/// to log one.
async fn talks_page(
    State(state): State<AppState>,
    page: Page,
    Query(asked): Query<TalksAsked>,
) -> Result<Response, PageError> {
    let today = station_date(state.clock.now());
    let mut fields = vec![("held_on", today.to_string())];
    if let Some(host) = asked.host {
        fields.push(("place", format!("host-{host}")));
    }
    let notice = match asked.done.as_deref() {
        Some(what @ ("logged" | "deleted")) => page.t(&format!("shost-done-talk-{what}")),
        _ => String::new(),
    };
    render_talks(
        &state,
        &page,
        &asked,
        FormState::new(FormFields::of(&fields)),
        notice,
        String::new(),
    )
    .await
}

/// `POST /talks`: logs a talk; refused, the form as typed with every error beside its field.
async fn record_talk(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    let acting = acting(&page)?;
    let mut errors = Vec::new();
    let place = form.get("place").unwrap_or_default();
    let (region_code, host_id) = if let Some(code) = place.strip_prefix("region-") {
        (Some(code.to_owned()), None)
    } else if let Some(id) = place.strip_prefix("host-").and_then(|h| h.parse().ok()) {
        (None, Some(id))
    } else {
        errors.push(FieldError::new("place", "pick one"));
        (None, None)
    };
    let held_on = form
        .get("held_on")
        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
    if held_on.is_none() {
        errors.push(FieldError::new("held_on", "must be a date"));
    }
    let audience = match form.get("audience").map(|a| a.parse::<i64>()) {
        Some(Ok(n)) => n,
        _ => {
            errors.push(FieldError::new("audience", "must be a whole number"));
            0
        }
    };
    let command = NewTalk {
        region_code,
        host_id,
        // An unreadable day stops the talk below; the service still names the other fields.
        held_on: held_on.unwrap_or(NaiveDate::MIN),
        speaker: form.raw("speaker"),
        audience,
        audience_description: form.get("audience_description"),
        materials: form.raw("materials"),
        notes: form.get("notes"),
    };
    let outcome = if errors.is_empty() {
        talks::record(&state.db, command, &acting, state.clock.now()).await
    } else {
        // Only the field rules: nothing is recorded with a field the page could not read.
        let mut found = crate::error::FieldErrors::default();
        crate::validation::check(&command, &mut found);
        Err(RegistryError::Invalid(found.0))
    };
    let service_errors = match outcome {
        Ok(_) => return Ok(Redirect::to("/talks?done=logged").into_response()),
        Err(RegistryError::Invalid(found)) => found,
        Err(RegistryError::InvalidField { field, message }) => {
            vec![FieldError::new(field.as_str(), message.as_str())]
        }
        // A host beyond reach, or a region outside the write scope: the place is not one to
        // pick.
        Err(RegistryError::NotFound(_) | RegistryError::Denied { .. }) => {
            vec![FieldError::new("place", "not yours")]
        }
        Err(e) => return Err(e.into()),
    };
    // The service names the place `region_code` or `host_id`: the form's field is `place`.
    let all: Vec<FieldError> = merged(errors, service_errors)
        .into_iter()
        .map(|e| {
            if e.field == "region_code" || e.field == "host_id" {
                FieldError::new("place", &e.message)
            } else {
                e
            }
        })
        .collect();
    let response = render_talks(
        &state,
        &page,
        &TalksAsked::default(),
        FormState {
            errors: hints(&page, &all),
            values: form,
        },
        String::new(),
        page.t("refused-fields"),
    )
    .await?;
    Ok(refused(response, StatusCode::BAD_REQUEST))
}

/// `POST /talks/{id}/delete`: deletes a talk logged by mistake.
async fn delete_talk(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let acting = acting(&page)?;
    talks::delete(&state.db, id, &acting, state.clock.now()).await?;
    Ok(Redirect::to("/talks?done=deleted").into_response())
}
