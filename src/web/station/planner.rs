//! The planner's desk (`/station/plans`): the plans made so far (newest first, live progress),
//! the form that makes one (region, days, vehicles, blackout days, candidates, stops the plan
//! must make or must not make; `plans::submit`, as `POST /api/v1/plans`), and two plans side
//! by side (`/station/plans/compare?a=&b=`: objective, donors, mL, km, vehicle-days, and the
//! sites only one of them visits). One plan's page is `plan.rs`.
//!
//! Staff and admins plan within their write scope; officials and viewers read the plans of
//! their regions and see no form.

use std::collections::BTreeSet;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{Days, NaiveDate};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::checklist as checklist_rules;
use crate::domain::plan::PlanStatus;
use crate::domain::point::PointStatus;
use crate::domain::policy;
use crate::domain::region::{Level, RegionCode};
use crate::error::FieldError;
use crate::fleet::vehicles;
use crate::plans::request::PlanRequest;
use crate::plans::show::{self, ListedPlan, ShownPlan};
use crate::plans::{self, PlansError};
use crate::registry::Acting;
use crate::registry::points::{self, PointFilter};
use crate::registry::regions;
use crate::state::AppState;
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::forms::{FormFields, FormState, field_errors};
use crate::web::templates::{date, html};

/// Plans listed on the desk.
const LISTED: u64 = 50;
/// Points offered as fixed or forbidden stops.
const SITES_OFFERED: u64 = 2000;
/// Rows of fixed and of forbidden stops on the form.
const STOP_ROWS: usize = 4;
/// The first plan's days: from tomorrow, a fortnight.
const DEFAULT_DAYS: u64 = 14;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/station/plans", get(desk).post(make))
        .route("/station/plans/compare", get(compare))
}

fn plans_error(err: PlansError) -> PageError {
    match err {
        PlansError::Denied(policy::Denied::Unauthenticated) => PageError::SignIn,
        PlansError::Denied(_) | PlansError::NotFound(_) => PageError::Status(StatusCode::NOT_FOUND),
        other => crate::error::AppError::from(other).into(),
    }
}

struct PlanRow {
    id: i64,
    region: String,
    status: &'static str,
    status_label: String,
    objective: String,
    made: String,
}

struct RegionChoice {
    code: String,
    name: String,
}

struct VehicleChoice {
    id: String,
    name: String,
}

struct SiteChoice {
    id: String,
    name: String,
}

/// A host organisation the plan may stop at (a group drive there).
struct HostChoice {
    id: String,
    name: String,
    /// What the planner expects there: the typical headcount, when known.
    headcount: String,
}

#[derive(Template)]
#[template(path = "splan_desk.html")]
struct DeskPage<'a> {
    page: &'a Page,
    plans: Vec<PlanRow>,
    done: Vec<PlanRow>,
    may_plan: bool,
    regions: Vec<RegionChoice>,
    vehicles: Vec<VehicleChoice>,
    sites: Vec<SiteChoice>,
    hosts: Vec<HostChoice>,
    form: FormState,
    rows: Vec<usize>,
    problem: String,
}

impl DeskPage<'_> {
    fn value_at(&self, name: &str, row: &usize) -> String {
        self.form
            .values
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .nth(*row)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

fn plan_row(page: &Page, p: &ListedPlan) -> PlanRow {
    PlanRow {
        id: p.id,
        region: if p.region_name.is_empty() {
            p.region_code.clone()
        } else {
            p.region_name.clone()
        },
        status: p.status.as_str(),
        status_label: if p.status.is_finished() {
            page.t(&format!("splan-status-{}", p.status.as_str()))
        } else {
            format!(
                "{} {}%",
                page.t(&format!("splan-status-{}", p.status.as_str())),
                p.progress
            )
        },
        objective: p
            .objective
            .filter(|_| p.status == PlanStatus::Done)
            .map(|o| format!("{o:.1} mL"))
            .unwrap_or_default(),
        made: format!(
            "{} {}",
            p.created_at
                .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                .format("%Y-%m-%d %H:%M"),
            p.created_by.clone().unwrap_or_default()
        ),
    }
}

/// Regions the reader may plan, from the regions they pick from (indented by level).
async fn plannable_regions(state: &AppState, page: &Page) -> Result<Vec<RegionChoice>, PageError> {
    let acting = Acting::caller(page.caller.principal.as_ref(), page.caller.actor());
    Ok(regions::choices(&state.db, &acting)
        .await?
        .into_iter()
        .filter(|r| show::may_plan(page.caller.principal.as_ref(), &r.code))
        .map(|r| {
            let indent = match r.level {
                Level::Province | Level::City => "",
                Level::County => "　",
                _ => "　　",
            };
            RegionChoice {
                code: r.code.to_string(),
                name: format!("{indent}{}", r.name),
            }
        })
        .collect())
}

async fn desk_page(
    state: &AppState,
    page: &Page,
    form: FormState,
    problem: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    let reader = page.caller.principal.as_ref();
    let listed = show::recent(&state.db, &state.plans, reader, LISTED)
        .await
        .map_err(plans_error)?;
    let regions = plannable_regions(state, page).await?;
    let may_plan = !regions.is_empty();
    let (vehicles, mut sites, hosts) = if may_plan {
        let reach = reader.map(policy::read_scope);
        let vehicles = vehicles::list(
            &state.db,
            &crate::fleet::FleetFilter {
                statuses: vec!["active"],
                limit: Some(500),
                reach: reach.clone(),
                ..Default::default()
            },
        )
        .await
        .map_err(PageError::from)?
        .into_iter()
        .map(|(v, s)| VehicleChoice {
            id: v.id.to_string(),
            name: format!("{}（{}，{}）", v.name, v.plate, s.name),
        })
        .collect();
        let sites = points::list(
            &state.db,
            &PointFilter {
                statuses: vec![PointStatus::Active],
                limit: Some(SITES_OFFERED),
                reach,
                ..PointFilter::default()
            },
        )
        .await
        .map_err(crate::error::AppError::from)?
        .into_iter()
        .map(|p| SiteChoice {
            id: format!("point-{}", p.id),
            name: p.name,
        })
        .collect();
        let acting = Acting::caller(reader, page.caller.actor());
        let query = crate::registry::hosts::HostQuery {
            limit: SITES_OFFERED,
            ..Default::default()
        };
        let hosts = crate::registry::hosts::list(&state.db, query, &acting)
            .await
            .map_err(crate::error::AppError::from)?
            .into_iter()
            .map(|h| HostChoice {
                id: h.host.id.to_string(),
                name: h.host.name,
                headcount: h
                    .host
                    .typical_headcount
                    .map(|n| page.t1("splan-host-headcount", "count", n))
                    .unwrap_or_default(),
            })
            .collect();
        (vehicles, sites, hosts)
    } else {
        (vec![], vec![], vec![])
    };
    sites.extend(hosts.iter().map(|h| SiteChoice {
        id: format!("host-{}", h.id),
        name: h.name.clone(),
    }));
    let body = DeskPage {
        page,
        done: listed
            .iter()
            .filter(|p| p.status == PlanStatus::Done)
            .map(|p| plan_row(page, p))
            .collect(),
        plans: listed.iter().map(|p| plan_row(page, p)).collect(),
        may_plan,
        regions,
        vehicles,
        sites,
        hosts,
        form,
        rows: (0..STOP_ROWS).collect(),
        problem,
    };
    let mut response = html(&body);
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /station/plans`: the plans, and the form to make one.
async fn desk(State(state): State<AppState>, page: Page) -> Result<Response, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    let today = checklist_rules::station_date(state.clock.now());
    let from = today + Days::new(1);
    let to = from + Days::new(DEFAULT_DAYS - 1);
    let region = page
        .caller
        .principal
        .as_ref()
        .and_then(|p| p.scopes.first())
        .map(|s| s.code.to_string())
        .unwrap_or_default();
    let form = FormState::new(FormFields::of(&[
        ("region", region),
        ("from", from.to_string()),
        ("to", to.to_string()),
        ("candidates", "points".to_owned()),
        ("min_expected_donors", "10".to_owned()),
    ]));
    desk_page(&state, &page, form, String::new(), StatusCode::OK).await
}

/// The request the form describes, or every field it gets wrong.
fn request_of(form: &FormFields) -> Result<PlanRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let day = |raw: &str, field: String, errors: &mut Vec<FieldError>| -> Option<NaiveDate> {
        match NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(FieldError::new(&field, "must be a date"));
                None
            }
        }
    };
    let from = day(&form.raw("from"), "from".to_owned(), &mut errors);
    let to = day(&form.raw("to"), "to".to_owned(), &mut errors);
    let blackout: Vec<NaiveDate> = form
        .raw("blackout_dates")
        .split(|c: char| c.is_whitespace() || c == ',' || c == '，' || c == '、')
        .filter(|s| !s.is_empty())
        .enumerate()
        .filter_map(|(i, s)| day(s, format!("blackout_dates[{i}]"), &mut errors))
        .collect();
    let vehicles: Vec<i64> = form
        .all("vehicles")
        .iter()
        .enumerate()
        .filter_map(|(i, v)| match v.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new(format!("vehicles[{i}]"), "unknown vehicle"));
                None
            }
        })
        .collect();
    let hosts: Vec<Value> = form
        .all("hosts")
        .iter()
        .enumerate()
        .filter_map(|(i, h)| match h.parse::<i64>() {
            Ok(id) => Some(json!({ "host": id })),
            Err(_) => {
                errors.push(FieldError::new(format!("hosts[{i}]"), "unknown host"));
                None
            }
        })
        .collect();
    let column = |name: &str| -> Vec<String> {
        form.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    };
    let (fixed_sites, fixed_dates, fixed_vehicles) = (
        column("fixed_site"),
        column("fixed_date"),
        column("fixed_vehicle"),
    );
    let mut fixed: Vec<Value> = Vec::new();
    for (i, site) in fixed_sites.iter().enumerate() {
        let date_raw = fixed_dates.get(i).cloned().unwrap_or_default();
        if site.is_empty() && date_raw.is_empty() {
            continue;
        }
        let n = fixed.len();
        let date = day(&date_raw, format!("fixed[{n}].date"), &mut errors);
        let mut stop = json!({ "site": site, "date": date });
        if let Some(v) = fixed_vehicles.get(i).filter(|v| !v.is_empty()) {
            match v.parse::<i64>() {
                Ok(id) => stop["vehicle"] = json!(id),
                Err(_) => errors.push(FieldError::new(
                    format!("fixed[{n}].vehicle"),
                    "unknown vehicle",
                )),
            }
        }
        fixed.push(stop);
    }
    let (forbidden_sites, forbidden_dates) = (column("forbidden_site"), column("forbidden_date"));
    let mut forbidden: Vec<Value> = Vec::new();
    for (i, site) in forbidden_sites.iter().enumerate() {
        let date_raw = forbidden_dates.get(i).cloned().unwrap_or_default();
        if site.is_empty() && date_raw.is_empty() {
            continue;
        }
        let n = forbidden.len();
        let mut stop = json!({ "site": site });
        if !date_raw.is_empty() {
            stop["date"] = json!(day(&date_raw, format!("forbidden[{n}].date"), &mut errors));
        }
        forbidden.push(stop);
    }
    let min_expected: f64 = match form.get("min_expected_donors") {
        None => plans::request::DEFAULT_MIN_EXPECTED_DONORS,
        Some(raw) => raw.parse().unwrap_or_else(|_| {
            errors.push(FieldError::new("min_expected_donors", "must be a number"));
            0.0
        }),
    };
    let candidates = match form.raw("candidates").as_str() {
        "points_and_unserved" => "points_and_unserved",
        _ => "points",
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut request = json!({
        "region": form.raw("region").trim(),
        "from": from,
        "to": to,
        "candidates": candidates,
        "blackout_dates": blackout,
        "min_expected_donors": min_expected,
        "hosts": hosts,
        "fixed": fixed,
        "forbidden": forbidden,
    });
    if !vehicles.is_empty() {
        request["vehicles"] = json!(vehicles);
    }
    serde_json::from_value(request).map_err(|e| vec![FieldError::new("region", e.to_string())])
}

/// `POST /station/plans`: makes a plan and goes to its page (where its progress shows).
async fn make(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    let Some(principal) = page.caller.principal.as_ref() else {
        return Err(PageError::SignIn);
    };
    // Who may plan no region at all (officials, viewers) has no form to correct: refused, as
    // the API refuses them (403), not sent back to fields they were never shown.
    if plannable_regions(&state, &page).await?.is_empty() {
        return Err(PageError::Status(StatusCode::FORBIDDEN));
    }
    let refused = |errors: Vec<FieldError>| {
        let mut shown = FormState::new(form.clone());
        shown.errors = field_errors(&page, "splan", &errors);
        shown
    };
    let request = match request_of(&form) {
        Ok(request) => request,
        Err(errors) => {
            let shown = refused(errors);
            return desk_page(
                &state,
                &page,
                shown,
                page.t("refused-fields"),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    match RegionCode::parse(request.region.trim()) {
        Ok(code) if !show::may_plan(Some(principal), &code) => {
            let shown = refused(vec![FieldError::new("region", "out of reach")]);
            return desk_page(
                &state,
                &page,
                shown,
                page.t("refused-fields"),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
        _ => {}
    }
    let reach = policy::read_scope(principal);
    match plans::submit(
        &state.db,
        &state.plans,
        &request,
        &reach,
        page.caller.username(),
        state.clock.now(),
    )
    .await
    {
        Ok(submitted) => {
            Ok(Redirect::to(&format!("/station/plans/{}", submitted.id)).into_response())
        }
        Err(PlansError::Invalid(errors)) => {
            let shown = refused(errors);
            desk_page(
                &state,
                &page,
                shown,
                page.t("refused-fields"),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(PlansError::Instance(e)) => {
            let problem = page.t1(
                "splan-cannot",
                "detail",
                format!("{}: {}", e.field, e.message),
            );
            desk_page(
                &state,
                &page,
                FormState::new(form.clone()),
                problem,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(PlansError::Busy { .. }) => {
            let problem = page.t("splan-busy");
            desk_page(
                &state,
                &page,
                FormState::new(form.clone()),
                problem,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await
        }
        Err(other) => Err(plans_error(other)),
    }
}

// ---------------------------------------------------------------------------------------------
// Two plans side by side

#[derive(Debug, Default, Deserialize)]
pub struct Pair {
    a: Option<String>,
    b: Option<String>,
}

struct CompareRow {
    label: String,
    a: String,
    b: String,
    diff: String,
}

struct Side {
    id: i64,
    title: String,
}

#[derive(Template)]
#[template(path = "splan_compare.html")]
struct ComparePage<'a> {
    page: &'a Page,
    done: Vec<PlanRow>,
    a: String,
    b: String,
    sides: Option<(Side, Side)>,
    rows: Vec<CompareRow>,
    only_a: Vec<String>,
    only_b: Vec<String>,
    both: usize,
}

struct Totals {
    objective: f64,
    ml: f64,
    donors: f64,
    km: f64,
    stops: usize,
    routes: usize,
    sites: BTreeSet<(String, String)>,
}

fn totals(p: &ShownPlan) -> Option<Totals> {
    let r = p.result.as_ref()?;
    Some(Totals {
        objective: r.totals.objective,
        ml: r.totals.ml,
        donors: r.totals.donors,
        km: r.totals.km,
        stops: r.totals.stops,
        routes: r.totals.routes,
        sites: r
            .routes
            .iter()
            .flat_map(|r| &r.stops)
            .map(|s| (s.site.clone(), s.name.clone()))
            .collect(),
    })
}

/// `GET /station/plans/compare?a=&b=`: two done plans side by side.
async fn compare(
    State(state): State<AppState>,
    page: Page,
    Query(pair): Query<Pair>,
) -> Result<Response, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    let reader = page.caller.principal.as_ref();
    let listed = show::recent(&state.db, &state.plans, reader, LISTED)
        .await
        .map_err(plans_error)?;
    let done: Vec<PlanRow> = listed
        .iter()
        .filter(|p| p.status == PlanStatus::Done)
        .map(|p| plan_row(&page, p))
        .collect();
    let pick = |raw: &Option<String>| raw.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    let mut body = ComparePage {
        page: &page,
        done,
        a: pair.a.clone().unwrap_or_default(),
        b: pair.b.clone().unwrap_or_default(),
        sides: None,
        rows: vec![],
        only_a: vec![],
        only_b: vec![],
        both: 0,
    };
    if let (Some(a), Some(b)) = (pick(&pair.a), pick(&pair.b)) {
        let pa = show::show(&state.db, &state.plans, reader, a)
            .await
            .map_err(plans_error)?;
        let pb = show::show(&state.db, &state.plans, reader, b)
            .await
            .map_err(plans_error)?;
        let (Some(ta), Some(tb)) = (totals(&pa), totals(&pb)) else {
            return Err(PageError::Said(
                StatusCode::CONFLICT,
                page.t("splan-compare-not-done"),
            ));
        };
        let row = |label: &str, a: f64, b: f64, unit: &str| CompareRow {
            label: page.t(label),
            a: format!("{a:.1}{unit}"),
            b: format!("{b:.1}{unit}"),
            diff: if (b - a).abs() < 0.05 {
                "±0".to_owned()
            } else {
                format!("{:+.1}{unit}", b - a)
            },
        };
        body.rows = vec![
            row("splan-objective", ta.objective, tb.objective, " mL"),
            row("splan-ml", ta.ml, tb.ml, " mL"),
            row("splan-donors", ta.donors, tb.donors, ""),
            row("splan-km", ta.km, tb.km, " km"),
            row("splan-stops", ta.stops as f64, tb.stops as f64, ""),
            row("splan-routes", ta.routes as f64, tb.routes as f64, ""),
        ];
        let ids_a: BTreeSet<&String> = ta.sites.iter().map(|(id, _)| id).collect();
        let ids_b: BTreeSet<&String> = tb.sites.iter().map(|(id, _)| id).collect();
        body.only_a = ta
            .sites
            .iter()
            .filter(|(id, _)| !ids_b.contains(id))
            .map(|(_, n)| n.clone())
            .collect();
        body.only_b = tb
            .sites
            .iter()
            .filter(|(id, _)| !ids_a.contains(id))
            .map(|(_, n)| n.clone())
            .collect();
        body.both = ids_a.intersection(&ids_b).count();
        let title = |p: &ShownPlan| {
            let first = p
                .days
                .first()
                .map(|d| date(page.lang, *d))
                .unwrap_or_default();
            format!(
                "#{} {}",
                p.id,
                if p.title.is_empty() {
                    first
                } else {
                    p.title.clone()
                }
            )
        };
        body.sides = Some((
            Side {
                id: pa.id,
                title: title(&pa),
            },
            Side {
                id: pb.id,
                title: title(&pb),
            },
        ));
    }
    Ok(html(&body))
}
