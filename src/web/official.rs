//! The township health official's pages (phone first, 360 px): "my township" (the summary,
//! the gaps to fix, the checklist items due), the points of the township with their map, and a
//! point's page (its details, the versioned edit with the map pin or the phone's location, its
//! coordinators). Each page asks the policy the API asks (`page.caller.authorize`) and reads
//! through the services the API reads through; a record outside the reader's reach reads as
//! not found.
//!
//! The map's data comes as JSON from `/township/map.json` (read by `assets/map.js`, never an
//! inline script): WGS-84 as stored, or shifted to GCJ-02 when the station's tiles are drawn in
//! it (`--tiles amap`); a position picked on such a map comes back with `crs=gcj02` and the
//! registry shifts it back.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use entity::point;
use serde::Deserialize;

use super::context::Page;
use super::errors::PageError;
use super::forms::{FormFields, FormState, field_errors};
use super::maps;
use super::templates::{
    Choice, ConflictRow, CoordinatorRow, DueEntry, Figure, GapEntry, GapGroup, PickRegionPage,
    PlaceLink, PointPage, PointRow, PointsPage, RegionOptions, StatusCount, TownshipPage, date,
    html,
};
use crate::auth::Caller;
use crate::domain::checklist as checklist_rules;
use crate::domain::drive::DriveStatus;
use crate::domain::point::{CoordinatorRole, PointKind, PointStatus, mask_phone};
use crate::domain::policy::{Action, Resource};
use crate::domain::region::{Level, RegionCode};
use crate::drives::checklists::{self, DueFilter};
use crate::error::FieldError;
use crate::geo::Crs;
use crate::registry::coordinators::{self, Assign, CoordinatorInput, Serving};
use crate::registry::points::{self, PointChange, PointDetail};
use crate::registry::regions::{self, RegionQuery};
use crate::registry::{Acting, RegistryError, Written};
use crate::reports::{gaps, map, summary};
use crate::state::AppState;

/// At most this many entries of each list of gaps are shown (the API's CSV has them all).
const GAPS_SHOWN: usize = 8;
/// At most this many checklist items due are listed.
const DUE_SHOWN: u64 = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/township", get(township))
        .route("/township/points", get(township_points))
        .route("/township/map.json", get(map_json))
        .route("/regions/townships", get(township_options))
        .route("/points/{id}", get(point_page).post(edit_point))
        .route("/points/{id}/coordinators", post(add_coordinator))
        .route(
            "/points/{id}/coordinators/{coordinator}/primary",
            post(make_primary),
        )
}

/// The signed-in reader, or "sign in first".
fn signed_in(page: &Page) -> Result<&Caller, PageError> {
    if page.signed_in() {
        Ok(&page.caller)
    } else {
        Err(PageError::SignIn)
    }
}

/// Who acts for the registry and the reports: the reader, checked by the policy.
fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

/// `?code=` of the township pages.
#[derive(Debug, Default, Deserialize)]
pub struct Where {
    code: Option<String>,
    county: Option<String>,
}

/// The region a township page shows: `code` when given (404 when malformed or out of reach),
/// else the first the reader is bound to; `None` for a reader bound to none (an admin of the
/// whole database), who picks one.
fn chosen(page: &Page, code: Option<&str>) -> Result<Option<RegionCode>, PageError> {
    let caller = signed_in(page)?;
    let code = match code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(raw) => {
            RegionCode::parse(raw).map_err(|_| PageError::Status(StatusCode::NOT_FOUND))?
        }
        None => match caller
            .principal
            .as_ref()
            .and_then(|p| p.scopes.first())
            .map(|s| s.code.clone())
        {
            Some(code) => code,
            None => return Ok(None),
        },
    };
    caller.authorize(Action::Read, Resource::Registry(Some(&code)), || {
        format!("region with code {code}")
    })?;
    Ok(Some(code))
}

/// `GET /township[?code=]`: the reader's township: its figures, what to fix, what is due.
async fn township(
    State(state): State<AppState>,
    page: Page,
    Query(asked): Query<Where>,
) -> Result<Response, PageError> {
    let Some(code) = chosen(&page, asked.code.as_deref())? else {
        return pick_region(&state, &page, asked.county.as_deref()).await;
    };
    let lang = page.lang;
    let now = state.clock.now();
    let acting = acting(&page.caller);
    let summary = summary::of_region(&state.db, &code, &acting, now).await?;
    let gaps = gaps::of_region(&state.db, &code, &acting, now).await?;
    let today = checklist_rules::station_date(now);
    let filter = DueFilter {
        region_range: code.subtree_bounds(summary.region.level),
        reach: None,
        due_until: checklist_rules::due_until(today),
        drive_statuses: DriveStatus::ALL
            .iter()
            .filter(|s| !s.is_final())
            .map(|s| s.as_str())
            .collect(),
        after: None,
        limit: DUE_SHOWN + 1,
    };
    let drives_acting =
        crate::drives::Acting::caller(page.caller.principal.as_ref(), page.caller.actor());
    let mut due = checklists::due(&state.db, &drives_acting, filter).await?;
    let due_more = due.len() as u64 > DUE_SHOWN;
    due.truncate(DUE_SHOWN as usize);

    let percent = |part: u64, whole: u64| {
        if whole == 0 {
            "—".to_owned()
        } else {
            format!("{:.0}%", part as f64 * 100.0 / whole as f64)
        }
    };
    let figures = vec![
        Figure {
            label: page.t("township-villages"),
            value: summary.villages.to_string(),
        },
        Figure {
            label: page.t("township-surveyed"),
            value: lang.tn(
                "township-surveyed-value",
                &[
                    ("count", summary.villages_surveyed.into()),
                    (
                        "share",
                        percent(summary.villages_surveyed, summary.villages).into(),
                    ),
                ],
            ),
        },
        Figure {
            label: page.t("township-stale-surveys"),
            value: summary.surveys_older_than_12_months.to_string(),
        },
        Figure {
            label: page.t("township-eligible"),
            value: summary.eligible_total.to_string(),
        },
        Figure {
            label: page.t("township-covered"),
            value: lang.tn(
                "township-covered-value",
                &[
                    ("count", summary.coverage.eligible_within.into()),
                    (
                        "share",
                        summary
                            .coverage
                            .eligible_share
                            .map_or_else(|| "—".to_owned(), |s| format!("{:.0}%", s * 100.0))
                            .into(),
                    ),
                ],
            ),
        },
    ];
    let statuses = PointStatus::ALL
        .iter()
        .map(|s| StatusCount {
            status: s.as_str().to_owned(),
            label: page.t(&format!("point-status-{}", s.as_str())),
            count: summary
                .points_by_status
                .get(s.as_str())
                .copied()
                .unwrap_or(0),
        })
        .collect();
    let point_entries = |list: &[gaps::PointGap]| {
        list.iter()
            .take(GAPS_SHOWN)
            .map(|p| GapEntry {
                name: p.name.clone(),
                detail: page.t(&format!("point-status-{}", p.status)),
                href: format!("/points/{}", p.id),
            })
            .collect::<Vec<_>>()
    };
    let village_entries = |list: &[gaps::VillageGap]| {
        list.iter()
            .take(GAPS_SHOWN)
            .map(|v| GapEntry {
                name: v.name.clone(),
                detail: match (v.eligible_total, v.surveyed_on) {
                    (Some(n), Some(on)) => lang.tn(
                        "gap-village-surveyed",
                        &[("count", n.into()), ("date", on.to_string().into())],
                    ),
                    _ => page.t("gap-village-never"),
                },
                href: String::new(),
            })
            .collect::<Vec<_>>()
    };
    let group = |id: &str, total: usize, items: Vec<GapEntry>| GapGroup {
        title: page.t(&format!("gap-{id}")),
        hint: page.t(&format!("gap-{id}-hint")),
        total,
        more: total.saturating_sub(items.len()),
        items,
    };
    let gap_groups = vec![
        group(
            "points-without-primary",
            gaps.points_without_primary.len(),
            point_entries(&gaps.points_without_primary),
        ),
        group(
            "points-without-signage",
            gaps.active_points_without_signage.len(),
            point_entries(&gaps.active_points_without_signage),
        ),
        group(
            "villages-uncovered",
            gaps.villages_uncovered.len(),
            village_entries(&gaps.villages_uncovered),
        ),
        group(
            "villages-never-surveyed",
            gaps.villages_never_surveyed.len(),
            village_entries(&gaps.villages_never_surveyed),
        ),
        group(
            "villages-survey-stale",
            gaps.villages_survey_stale.len(),
            village_entries(&gaps.villages_survey_stale),
        ),
    ];
    let due = due
        .into_iter()
        .map(|row| {
            let late = checklist_rules::days_late(row.done, row.due_date, today);
            DueEntry {
                title: row.title,
                stop: row.stop_name,
                drive_date: date(lang, row.drive_date),
                due: if late > 0 {
                    lang.t1("due-late", "days", late)
                } else {
                    lang.t1("due-by", "date", date(lang, row.due_date))
                },
                late: late > 0,
            }
        })
        .collect();
    let places = bound_places(&state, &page, &code).await?;
    let body = TownshipPage {
        page: &page,
        code: code.to_string(),
        name: summary.region.name.clone(),
        places,
        figures,
        statuses,
        no_gaps: gap_groups.iter().all(|g| g.total == 0),
        gaps: gap_groups,
        due,
        due_more,
    };
    Ok(html(&body))
}

/// The regions the reader is bound to, by name, `current` marking the one shown.
async fn bound_places(
    state: &AppState,
    page: &Page,
    current: &RegionCode,
) -> Result<Vec<PlaceLink>, PageError> {
    let mut places = Vec::new();
    let scopes = page
        .caller
        .principal
        .as_ref()
        .map(|p| p.scopes.clone())
        .unwrap_or_default();
    for scope in scopes {
        if let Some(region) = regions::get(&state.db, &scope.code).await? {
            places.push(PlaceLink {
                current: region.code == *current,
                code: region.code.to_string(),
                name: region.name,
            });
        }
    }
    Ok(places)
}

/// The counties the reader reaches and, when one is picked, its townships.
async fn counties_and_townships(
    state: &AppState,
    page: &Page,
    county: Option<&str>,
) -> Result<(Vec<PlaceLink>, Vec<PlaceLink>), PageError> {
    let acting = acting(&page.caller);
    let county = county
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let counties = regions::list(
        &state.db,
        RegionQuery {
            level: Some(Level::County),
            limit: 1000,
            ..RegionQuery::default()
        },
        &acting,
    )
    .await?
    .into_iter()
    .map(|r| PlaceLink {
        current: county.as_deref() == Some(r.code.as_str()),
        code: r.code.to_string(),
        name: r.name,
    })
    .collect::<Vec<_>>();
    let townships = match counties.iter().find(|c| c.current) {
        Some(c) => townships_of(state, &acting, &c.code).await?,
        None => vec![],
    };
    Ok((counties, townships))
}

/// The townships of `county` (a county the reader reaches), by code.
async fn townships_of(
    state: &AppState,
    acting: &Acting<'_>,
    county: &str,
) -> Result<Vec<PlaceLink>, PageError> {
    let Ok(code) = RegionCode::parse(county) else {
        return Ok(vec![]);
    };
    let found = regions::list(
        &state.db,
        RegionQuery {
            parent: Some(code),
            level: Some(Level::Township),
            limit: 1000,
            ..RegionQuery::default()
        },
        acting,
    )
    .await;
    match found {
        Ok(list) => Ok(list
            .into_iter()
            .map(|r| PlaceLink {
                current: false,
                code: r.code.to_string(),
                name: r.name,
            })
            .collect()),
        // A county out of reach or gone offers no townships.
        Err(RegistryError::Denied { .. } | RegistryError::NotFound(_)) => Ok(vec![]),
        Err(e) => Err(e.into()),
    }
}

/// The township page of a reader bound to no region: pick a county, then a township.
async fn pick_region(
    state: &AppState,
    page: &Page,
    county: Option<&str>,
) -> Result<Response, PageError> {
    let (counties, townships) = counties_and_townships(state, page, county).await?;
    Ok(html(&PickRegionPage {
        page,
        counties,
        townships,
    }))
}

/// `GET /regions/townships?county=`: the township choices of a county (htmx swaps them in).
async fn township_options(
    State(state): State<AppState>,
    page: Page,
    Query(asked): Query<Where>,
) -> Result<Response, PageError> {
    signed_in(&page)?;
    let townships = match asked.county.as_deref() {
        Some(county) => townships_of(&state, &acting(&page.caller), county).await?,
        None => vec![],
    };
    Ok(html(&RegionOptions {
        page: &page,
        townships,
    }))
}

/// The order points are listed in: active first, closed last, then by name.
fn status_rank(status: &str) -> usize {
    PointStatus::ALL
        .iter()
        .position(|s| s.as_str() == status)
        .map_or(usize::MAX, |i| match i {
            1 => 0,
            0 => 1,
            other => other,
        })
}

/// `GET /township/points[?code=]`: the township's points, listed and on the map.
async fn township_points(
    State(state): State<AppState>,
    page: Page,
    Query(asked): Query<Where>,
) -> Result<Response, PageError> {
    let Some(code) = chosen(&page, asked.code.as_deref())? else {
        return pick_region(&state, &page, asked.county.as_deref()).await;
    };
    let now = state.clock.now();
    let acting = acting(&page.caller);
    let drawn = map::of_region(&state.db, &code, &acting).await?;
    let gaps = gaps::of_region(&state.db, &code, &acting, now).await?;
    let mut points = drawn.points;
    points.sort_by(|a, b| {
        (status_rank(&a.status), &a.name, a.id).cmp(&(status_rank(&b.status), &b.name, b.id))
    });
    let rows: Vec<PointRow> = points
        .into_iter()
        .map(|p| {
            let mut flags = Vec::new();
            if gaps.points_without_primary.iter().any(|g| g.id == p.id) {
                flags.push(page.t("flag-no-primary"));
            }
            if gaps
                .active_points_without_signage
                .iter()
                .any(|g| g.id == p.id)
            {
                flags.push(page.t("flag-no-signage"));
            }
            PointRow {
                id: p.id,
                status_label: page.t(&format!("point-status-{}", p.status)),
                kind_label: page.t(&format!("point-kind-{}", p.kind)),
                address: p.address.clone().unwrap_or_default(),
                name: p.name,
                status: p.status,
                flags,
            }
        })
        .collect();
    let map_src = format!("/township/map.json?code={code}");
    let keep_ahead = rows
        .iter()
        .map(|r: &PointRow| format!("/points/{}", r.id))
        .chain([map_src.clone()])
        .collect::<Vec<_>>()
        .join(" ");
    let body = PointsPage {
        page: &page,
        keep_ahead,
        map_src,
        code: code.to_string(),
        name: drawn.region.name,
        points: rows,
        legend: maps::legend(&page),
    };
    Ok(html(&body))
}

/// `GET /township/map.json?code=`: what the map of a region draws, in the tiles' datum.
async fn map_json(
    State(state): State<AppState>,
    page: Page,
    Query(asked): Query<Where>,
) -> Result<Response, PageError> {
    let Some(code) = chosen(&page, asked.code.as_deref())? else {
        return Err(PageError::Status(StatusCode::NOT_FOUND));
    };
    let drawn = map::of_region(&state.db, &code, &acting(&page.caller)).await?;
    let today = checklist_rules::station_date(state.clock.now());
    Ok(maps::json(&maps::data(
        &state.http.tiles,
        &page,
        &drawn,
        today,
    )))
}

// ---------------------------------------------------------------------------------------------
// A point's page

/// The point's editable fields as its form shows them.
fn point_fields(p: &point::Model) -> FormFields {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
    let tick = |b: bool| if b { "on".to_owned() } else { String::new() };
    FormFields::of(&[
        ("name", p.name.clone()),
        ("kind", p.kind.clone()),
        ("status", p.status.clone()),
        ("address", opt(&p.address)),
        (
            "signage_installed_on",
            p.signage_installed_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
        ("market_days", opt(&p.market_days)),
        ("contact_phone", opt(&p.contact_phone)),
        ("beds", num(p.beds)),
        ("donors_per_hour", num(p.donors_per_hour)),
        ("bloodmobile_parking", tick(p.bloodmobile_parking)),
        ("power_hookup", tick(p.power_hookup)),
        ("notes", opt(&p.notes)),
        ("version", p.version.to_string()),
    ])
}

/// The fields compared in a conflict, in the form's order.
const COMPARED: &[&str] = &[
    "name",
    "kind",
    "status",
    "address",
    "signage_installed_on",
    "market_days",
    "contact_phone",
    "beds",
    "donors_per_hour",
    "bloodmobile_parking",
    "power_hookup",
    "notes",
];

/// A field's value as people read it (a kind's name, yes/no).
fn readable(page: &Page, field: &str, value: &str) -> String {
    match field {
        "kind" if !value.is_empty() => page.t(&format!("point-kind-{value}")),
        "status" if !value.is_empty() => page.t(&format!("point-status-{value}")),
        "bloodmobile_parking" | "power_hookup" => {
            page.t(if value.is_empty() { "no" } else { "yes" })
        }
        _ if value.trim().is_empty() => page.t("empty-value"),
        _ => value.to_owned(),
    }
}

/// Where the point's township is (for the back link and the map).
fn township_code(p: &point::Model) -> String {
    RegionCode::parse(&p.region_code)
        .ok()
        .map(|c| c.township().unwrap_or(c))
        .map_or_else(|| p.region_code.clone(), |c| c.to_string())
}

/// What the point page shows besides its forms.
struct PointView {
    notice: String,
    problem: String,
    conflict: Vec<ConflictRow>,
    form: Option<FormState>,
    coordinator_form: FormState,
    coordinator_problem: String,
}

impl Default for PointView {
    fn default() -> Self {
        PointView {
            notice: String::new(),
            problem: String::new(),
            conflict: vec![],
            form: None,
            coordinator_form: FormState::new(FormFields::of(&[(
                "role",
                CoordinatorRole::VillageDoctor.as_str().to_owned(),
            )])),
            coordinator_problem: String::new(),
        }
    }
}

fn choices<T: Copy>(
    page: &Page,
    all: &[T],
    id: &str,
    name: impl Fn(T) -> &'static str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            value: name(*v).to_owned(),
            label: page.t(&format!("{id}-{}", name(*v))),
        })
        .collect()
}

/// Renders the point's page.
fn render_point(page: &Page, detail: &PointDetail, view: PointView) -> Response {
    let p = &detail.point;
    let lang = page.lang;
    let yes_no = |b: bool| page.t(if b { "yes" } else { "no" });
    let dash = |v: &Option<String>| {
        v.clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "—".to_owned())
    };
    let facts = vec![
        Figure {
            label: page.t("point-kind"),
            value: page.t(&format!("point-kind-{}", p.kind)),
        },
        Figure {
            label: page.t("point-region"),
            value: detail
                .region
                .as_ref()
                .map_or_else(|| p.region_code.clone(), |r| r.name.clone()),
        },
        Figure {
            label: page.t("point-address"),
            value: dash(&p.address),
        },
        Figure {
            label: page.t("point-location"),
            value: format!("{:.5}, {:.5}", p.longitude, p.latitude),
        },
        Figure {
            label: page.t("point-signage"),
            value: p
                .signage_installed_on
                .map_or_else(|| page.t("point-no-signage"), |d| date(lang, d)),
        },
        Figure {
            label: page.t("point-market-days"),
            value: dash(&p.market_days),
        },
        Figure {
            label: page.t("point-contact-phone"),
            value: dash(&p.contact_phone),
        },
        Figure {
            label: page.t("point-parking"),
            value: yes_no(p.bloodmobile_parking),
        },
        Figure {
            label: page.t("point-power"),
            value: yes_no(p.power_hookup),
        },
        Figure {
            label: page.t("point-updated"),
            value: lang.tn(
                "point-updated-value",
                &[
                    (
                        "date",
                        date(lang, crate::domain::checklist::station_date(p.updated_at)).into(),
                    ),
                    (
                        "by",
                        p.updated_by
                            .clone()
                            .unwrap_or_else(|| "—".to_owned())
                            .into(),
                    ),
                ],
            ),
        },
    ];
    let coordinators = detail
        .coordinators
        .iter()
        .map(|s: &Serving| CoordinatorRow {
            id: s.person.id,
            name: s.person.name.clone(),
            role: page.t(&format!("coordinator-role-{}", s.person.role)),
            mobile: if s.readable {
                s.person.mobile.clone()
            } else {
                mask_phone(&s.person.mobile)
            },
            primary: s.link.is_primary,
        })
        .collect();
    let body = PointPage {
        page,
        id: p.id,
        name: p.name.clone(),
        status: p.status.clone(),
        status_label: page.t(&format!("point-status-{}", p.status)),
        back: format!("/township/points?code={}", township_code(p)),
        facts,
        map_src: format!("/township/map.json?code={}", township_code(p)),
        may_update: detail.may_update,
        form: view.form.unwrap_or_else(|| FormState::new(point_fields(p))),
        kinds: choices(page, PointKind::ALL, "point-kind", PointKind::as_str),
        statuses: choices(page, PointStatus::ALL, "point-status", PointStatus::as_str),
        notice: view.notice,
        problem: view.problem,
        conflict: view.conflict,
        coordinators,
        coordinator_form: view.coordinator_form,
        coordinator_problem: view.coordinator_problem,
        roles: choices(
            page,
            CoordinatorRole::ALL,
            "coordinator-role",
            CoordinatorRole::as_str,
        ),
    };
    html(&body)
}

/// The point `id` with what its page shows, if the reader may read it (404 otherwise).
async fn point_detail(state: &AppState, page: &Page, id: i64) -> Result<PointDetail, PageError> {
    signed_in(page)?;
    Ok(points::detail(&state.db, id, &acting(&page.caller)).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    /// What just happened: `saved`, `far` (saved, far from the region's centre), `added`,
    /// `primary`.
    done: Option<String>,
}

/// `GET /points/{id}`: the point, its map, its edit form and its coordinators.
async fn point_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let detail = point_detail(&state, &page, id).await?;
    page.caller.authorize(
        Action::Read,
        Resource::Registry(RegionCode::parse(&detail.point.region_code).ok().as_ref()),
        || format!("point with id {id}"),
    )?;
    let notice = match done.done.as_deref() {
        Some("saved") => page.t("notice-point-saved"),
        Some("far") => page.t("notice-point-saved-far"),
        Some("added") => page.t("notice-coordinator-added"),
        Some("primary") => page.t("notice-coordinator-primary"),
        _ => String::new(),
    };
    Ok(render_point(
        &page,
        &detail,
        PointView {
            notice,
            ..PointView::default()
        },
    ))
}

/// The change a posted edit form asks for, or the fields that could not be read.
fn change_of(form: &FormFields) -> Result<PointChange, Vec<FieldError>> {
    let mut errors = Vec::new();
    let text = |name: &str| Some(form.get(name));
    let mut parsed = |name: &str, message: &str| -> Option<Option<i32>> {
        match form.get(name) {
            None => Some(None),
            Some(raw) => match raw.parse::<i32>() {
                Ok(n) => Some(Some(n)),
                Err(_) => {
                    errors.push(FieldError::new(name, message));
                    None
                }
            },
        }
    };
    let beds = parsed("beds", "must be a whole number");
    let donors_per_hour = parsed("donors_per_hour", "must be a whole number");
    let kind = match form.get("kind").map(|k| k.parse::<PointKind>()) {
        Some(Ok(kind)) => Some(Some(kind)),
        _ => {
            errors.push(FieldError::new("kind", "pick one"));
            None
        }
    };
    let status = match form.get("status").map(|s| s.parse::<PointStatus>()) {
        Some(Ok(status)) => Some(Some(status)),
        _ => {
            errors.push(FieldError::new("status", "pick one"));
            None
        }
    };
    let signage = match form.get("signage_installed_on") {
        None => Some(None),
        Some(raw) => match NaiveDate::parse_from_str(&raw, "%Y-%m-%d") {
            Ok(d) => Some(Some(d)),
            Err(_) => {
                errors.push(FieldError::new(
                    "signage_installed_on",
                    "must be a date (YYYY-MM-DD)",
                ));
                None
            }
        },
    };
    let (longitude, latitude, crs) = match (form.get("longitude"), form.get("latitude")) {
        (None, None) => (None, None, None),
        (lon, lat) => {
            let number = |v: Option<String>| v.and_then(|v| v.parse::<f64>().ok());
            match (number(lon), number(lat)) {
                (Some(lon), Some(lat)) => {
                    let crs = match form.get("crs").as_deref() {
                        Some("gcj02") => Crs::Gcj02,
                        _ => Crs::Wgs84,
                    };
                    (Some(Some(lon)), Some(Some(lat)), Some(crs))
                }
                _ => {
                    errors.push(FieldError::new("longitude", "pick the place on the map"));
                    (None, None, None)
                }
            }
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(PointChange {
        name: Some(Some(form.raw("name"))),
        kind,
        region_code: None,
        address: text("address"),
        longitude,
        latitude,
        crs,
        status,
        signage_installed_on: signage,
        bloodmobile_parking: Some(Some(form.get("bloodmobile_parking").is_some())),
        power_hookup: Some(Some(form.get("power_hookup").is_some())),
        beds,
        donors_per_hour,
        contact_phone: text("contact_phone"),
        notes: text("notes"),
        market_days: text("market_days"),
    })
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

/// `POST /points/{id}`: the edit form. Saved: back to the page; refused: the form again as
/// typed, with the errors beside the fields (400); stale (someone saved meanwhile): the form
/// as typed, the stored values beside it ("mine / current"), and the new version, so that
/// saving again keeps what was typed (409).
async fn edit_point(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let caller = signed_in(&page)?;
    let acting = acting(caller);
    let current = points::find_for(&state.db, id, Action::Update, &acting).await?;
    caller.authorize(
        Action::Update,
        Resource::Registry(RegionCode::parse(&current.region_code).ok().as_ref()),
        || format!("point with id {id}"),
    )?;
    let refused = async |status: StatusCode, errors: Vec<FieldError>, form: &FormFields| {
        let detail = point_detail(&state, &page, id).await?;
        let mut response = render_point(
            &page,
            &detail,
            PointView {
                problem: page.t("refused-fields"),
                form: Some(FormState {
                    values: form.clone(),
                    errors: field_errors(&page, "point", &errors),
                }),
                ..PointView::default()
            },
        );
        *response.status_mut() = status;
        Ok::<Response, PageError>(response)
    };
    let Some(expected) = form.get("version").and_then(|v| v.parse::<i32>().ok()) else {
        return refused(
            StatusCode::BAD_REQUEST,
            vec![FieldError::new("version", "missing")],
            &form,
        )
        .await;
    };
    let change = match change_of(&form) {
        Ok(change) => change,
        Err(errors) => return refused(StatusCode::BAD_REQUEST, errors, &form).await,
    };
    let now: DateTime<Utc> = state.clock.now();
    match points::update(&state.db, &current, expected, change, &acting, now).await {
        Ok(Written::Done(saved)) => {
            let done = if saved.warnings.is_empty() {
                "saved"
            } else {
                "far"
            };
            Ok(Redirect::to(&format!("/points/{id}?done={done}")).into_response())
        }
        Ok(Written::Stale(latest)) => {
            let stored = point_fields(&latest);
            let conflict = COMPARED
                .iter()
                .filter(|f| form.raw(f).trim() != stored.raw(f).trim())
                .map(|f| ConflictRow {
                    label: page.t(&format!("point-field-{f}")),
                    mine: readable(&page, f, &form.raw(f)),
                    current: readable(&page, f, &stored.raw(f)),
                })
                .collect();
            let detail = point_detail(&state, &page, id).await?;
            let mut response = render_point(
                &page,
                &detail,
                PointView {
                    problem: page.t("point-conflict"),
                    conflict,
                    form: Some(FormState::new(with_version(&form, latest.version))),
                    ..PointView::default()
                },
            );
            *response.status_mut() = StatusCode::CONFLICT;
            Ok(response)
        }
        Err(RegistryError::Invalid(errors)) => {
            refused(StatusCode::BAD_REQUEST, errors, &form).await
        }
        Err(RegistryError::InvalidField { field, message }) => {
            refused(
                StatusCode::BAD_REQUEST,
                vec![FieldError::new(field.as_str(), message.as_str())],
                &form,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /points/{id}/coordinators`: a new coordinator for the point (homed in the point's
/// region), made its primary when asked.
async fn add_coordinator(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    form: FormFields,
) -> Result<Response, PageError> {
    let caller = signed_in(&page)?;
    let acting = acting(caller);
    let current = points::find_for(&state.db, id, Action::Update, &acting).await?;
    caller.authorize(
        Action::Update,
        Resource::Registry(RegionCode::parse(&current.region_code).ok().as_ref()),
        || format!("point with id {id}"),
    )?;
    let role = form
        .get("role")
        .and_then(|r| r.parse::<CoordinatorRole>().ok());
    let input = role.map(|role| CoordinatorInput {
        name: form.raw("name"),
        mobile: form.raw("mobile"),
        wechat_id: form.get("wechat_id"),
        role,
        notes: None,
        region_code: current.region_code.clone(),
    });
    let primary = form.get("primary").is_some();
    let result = match input {
        Some(input) => {
            coordinators::add_to_point(&state.db, id, input, primary, &acting, state.clock.now())
                .await
        }
        None => Err(RegistryError::Invalid(vec![FieldError::new(
            "role", "pick one",
        )])),
    };
    let (status, errors) = match result {
        Ok(_) => {
            return Ok(
                Redirect::to(&format!("/points/{id}?done=added#coordinators")).into_response(),
            );
        }
        Err(RegistryError::Invalid(errors)) => (StatusCode::BAD_REQUEST, errors),
        Err(RegistryError::InvalidField { field, message }) => (
            StatusCode::BAD_REQUEST,
            vec![FieldError::new(field.as_str(), message.as_str())],
        ),
        Err(RegistryError::MobileTaken) => (
            StatusCode::CONFLICT,
            vec![FieldError::new("mobile-taken", "taken")],
        ),
        Err(e) => return Err(e.into()),
    };
    let mut shown = field_errors(&page, "coordinator", &errors);
    // The taken number is shown at the mobile field.
    for (field, _) in &mut shown {
        if field == "mobile-taken" {
            *field = "mobile".to_owned();
        }
    }
    let detail = point_detail(&state, &page, id).await?;
    let mut response = render_point(
        &page,
        &detail,
        PointView {
            coordinator_form: FormState {
                values: form,
                errors: shown,
            },
            coordinator_problem: page.t("refused-fields"),
            ..PointView::default()
        },
    );
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /points/{id}/coordinators/{coordinator}/primary`: makes a coordinator serving the
/// point (or one the reader may read) its primary, demoting the current one.
async fn make_primary(
    State(state): State<AppState>,
    page: Page,
    Path((id, coordinator)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let caller = signed_in(&page)?;
    let acting = acting(caller);
    let command = Assign {
        point_id: id,
        coordinator_id: coordinator,
        primary: true,
    };
    coordinators::assign(&state.db, command, &acting, state.clock.now()).await?;
    Ok(Redirect::to(&format!("/points/{id}?done=primary#coordinators")).into_response())
}
