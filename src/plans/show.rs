//! A plan as its reader sees it, for the API and the planner's pages alike: the stored plan
//! with its live progress, its result with every stop named (address, coordinators, township)
//! and the stations the reader cannot read taken out; the instance it solved; its routes
//! checked against its problem, as sent (`POST /api/v1/plans/check`) or as a person edited
//! them on the planner's page; and a finished plan as route sheets.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use entity::plan;
use sea_orm::DatabaseConnection;
use serde_json::Value;

use super::PlansError;
use super::edit::{self, Edit};
use super::export::{Sheet, SheetRoute};
use super::reads;
use super::result::{PlanResult, StopAbout, StopCoordinator};
use super::runs::PlanRuns;
use crate::domain::account::Principal;
use crate::domain::plan::PlanStatus;
use crate::domain::point::mask_phone;
use crate::domain::policy::{self, Action, Decision, Resource};
use crate::domain::region::RegionCode;
use crate::planning::evaluate::{self, CheckedPlan};
use crate::planning::instance::{Instance, PlanInput};
use crate::planning::problem::Problem;
use crate::plans::build::{self, SiteRef};
use crate::plans::request::{FixedRequest, ForbiddenRequest, PlanRequest};

/// A stored plan as its reader may see it.
#[derive(Debug)]
pub struct ShownPlan {
    pub id: i64,
    pub region_code: String,
    pub status: PlanStatus,
    /// 0 to 100 (live while the plan runs).
    pub progress: u8,
    /// Done: the objective; running: the best found so far (unrounded).
    pub objective: Option<f64>,
    pub error: Option<String>,
    pub seed: i64,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// The request as accepted, the vehicles of stations out of reach taken out.
    pub request: Value,
    /// The instance's name (region and dates).
    pub title: String,
    /// Once done: named, redacted and rounded.
    pub result: Option<PlanResult>,
    /// The days of the plan (the instance's planning days).
    pub days: Vec<NaiveDate>,
    /// The vehicles the reader may see (instance id, name), in the instance's order.
    pub vehicles: Vec<(String, String)>,
    /// Each of those vehicles' station (instance ids).
    pub vehicle_stations: Vec<(String, String)>,
    /// The stations the reader may see: instance id, name, longitude, latitude (WGS-84).
    pub stations: Vec<(String, String, f64, f64)>,
    /// Every candidate site of the plan, by instance id.
    pub sites: HashMap<String, SitePlace>,
    /// Drives were made from this plan (it has been accepted).
    pub accepted: bool,
    /// The reader may plan its region (make plans, edit and accept this one).
    pub may_plan: bool,
    /// The reader may try edits on it: they may plan, it is done, and they read every station
    /// in its instance.
    pub editable: bool,
    /// True when the instance holds stations the reader cannot read (then the plan cannot be
    /// checked or edited by them, and its instance is not theirs to read).
    pub beyond_reach: bool,
}

/// A candidate site of a plan: its name, township (when the plan's result names it) and
/// position (WGS-84).
#[derive(Debug, Clone)]
pub struct SitePlace {
    pub name: String,
    pub township: String,
    pub lon: f64,
    pub lat: f64,
}

/// The plan's routes checked as stored and as edited, against its problem.
#[derive(Debug)]
pub struct EditChecked {
    pub before: CheckedPlan,
    pub after: CheckedPlan,
    /// The edits that applied (an edit naming a site, vehicle or day the plan does not have is
    /// left out).
    pub applied: Vec<Edit>,
}

/// What routes are checked against: a stored plan's instance, or one given inline.
#[derive(Debug)]
pub enum CheckAgainst {
    Plan(i64),
    Inline(Box<Instance>),
}

fn percent(stored: i32) -> u8 {
    u8::try_from(stored.clamp(0, 100)).unwrap_or(0)
}

fn corrupt(id: i64, what: &str, e: impl std::fmt::Display) -> PlansError {
    PlansError::Corrupt(anyhow::anyhow!("plan {id}: {what}: {e}"))
}

fn parse_json<T: serde::de::DeserializeOwned>(
    id: i64,
    what: &str,
    text: &str,
) -> Result<T, PlansError> {
    serde_json::from_str(text).map_err(|e| corrupt(id, &format!("stored {what}"), e))
}

/// Plan `id` if `reader` may read it (else it does not exist for them).
///
/// # Errors
/// Not signed in; no such plan, or out of reach; the database fails.
pub async fn load(
    db: &DatabaseConnection,
    reader: Option<&Principal>,
    id: i64,
) -> Result<plan::Model, PlansError> {
    if reader.is_none() {
        return Err(PlansError::Denied(policy::Denied::Unauthenticated));
    }
    let model = reads::find(db, id)
        .await?
        .ok_or_else(|| PlansError::NotFound(format!("no plan with id {id}")))?;
    let code = RegionCode::parse(&model.region_code).map_err(|e| corrupt(id, "region", e))?;
    policy::can(reader, Action::Read, Resource::Plan(&code))
        .check(|| format!("plan with id {id}"))
        .map_err(PlansError::Denied)?;
    Ok(model)
}

/// May `reader` make (and accept) plans of the region `code`?
pub fn may_plan(reader: Option<&Principal>, code: &RegionCode) -> bool {
    policy::can(reader, Action::Create, Resource::Plan(code)) == Decision::Allow
}

/// Plan `id` as `reader` sees it.
///
/// # Errors
/// Not signed in; no such plan, or out of reach; a stored plan that does not read back; the
/// database fails.
pub async fn show(
    db: &DatabaseConnection,
    runs: &PlanRuns,
    reader: Option<&Principal>,
    id: i64,
) -> Result<ShownPlan, PlansError> {
    let m = load(db, reader, id).await?;
    shown(db, runs, reader, m).await
}

/// `m` as `reader` sees it (`m` already read under [`load`]).
///
/// # Errors
/// A stored plan that does not read back; the database fails.
pub async fn shown(
    db: &DatabaseConnection,
    runs: &PlanRuns,
    reader: Option<&Principal>,
    m: plan::Model,
) -> Result<ShownPlan, PlansError> {
    let mut status: PlanStatus = m
        .status
        .parse()
        .map_err(|e: String| corrupt(m.id, "status", e))?;
    let mut progress = percent(m.progress);
    let mut objective = m.objective;
    if let Some(live) = runs.progress(m.id)
        && !status.is_finished()
    {
        status = live.status;
        progress = live.percent;
        objective = live.best_objective;
    }
    let instance: Option<Instance> = match &m.instance {
        Some(text) => Some(parse_json(m.id, "instance", text)?),
        None => None,
    };
    let hidden = match &instance {
        Some(instance) => hidden_stations(db, reader, instance).await?,
        None => HashSet::new(),
    };
    let result = match (&m.result, &instance) {
        (Some(result), Some(instance)) => {
            let mut result: PlanResult = parse_json(m.id, "result", result)?;
            let about = about_stops(db, reader, &result).await?;
            result.name_things(instance, &about);
            result.redact(instance, &hidden);
            result.round();
            Some(result)
        }
        _ => None,
    };
    let may_plan = RegionCode::parse(&m.region_code).is_ok_and(|code| may_plan(reader, &code));
    let mut request: Value = parse_json(m.id, "request", &m.request)?;
    if let Some(instance) = &instance {
        redact_request(instance, &hidden, &mut request);
    }
    let mut townships: HashMap<&str, String> = HashMap::new();
    for stop in result.iter().flat_map(|r| &r.routes).flat_map(|r| &r.stops) {
        if let Some(t) = stop.about.as_ref().and_then(|a| a.township.clone()) {
            townships.insert(stop.site.as_str(), t);
        }
    }
    let (title, days) = instance
        .as_ref()
        .map(|i| (i.name.clone(), i.days.clone()))
        .unwrap_or_default();
    let visible: Vec<&crate::planning::instance::Vehicle> = instance
        .iter()
        .flat_map(|i| &i.vehicles)
        .filter(|v| !hidden.contains(&v.station))
        .collect();
    let vehicles = visible
        .iter()
        .map(|v| (v.id.clone(), v.name.clone()))
        .collect();
    let vehicle_stations = visible
        .iter()
        .map(|v| (v.id.clone(), v.station.clone()))
        .collect();
    let stations = instance
        .iter()
        .flat_map(|i| &i.stations)
        .filter(|s| !hidden.contains(&s.id))
        .map(|s| (s.id.clone(), s.name.clone(), s.lon, s.lat))
        .collect();
    let sites = instance
        .iter()
        .flat_map(|i| &i.sites)
        .map(|s| {
            (
                s.id.clone(),
                SitePlace {
                    name: s.name.clone(),
                    township: townships.get(s.id.as_str()).cloned().unwrap_or_default(),
                    lon: s.lon,
                    lat: s.lat,
                },
            )
        })
        .collect();
    Ok(ShownPlan {
        id: m.id,
        region_code: m.region_code,
        status,
        progress,
        objective,
        error: m.error,
        seed: m.seed,
        created_by: m.created_by,
        created_at: m.created_at,
        finished_at: m.finished_at,
        version: m.version,
        request,
        title,
        result,
        days,
        vehicles,
        vehicle_stations,
        stations,
        sites,
        accepted: crate::store::drives::plan_accepted(db, m.id).await?,
        may_plan,
        editable: may_plan && status == PlanStatus::Done && hidden.is_empty(),
        beyond_reach: !hidden.is_empty(),
    })
}

/// The instance plan `id` solved, as stored (format `donornet.plan-instance.v2`; v1 for a plan
/// stored before v2).
///
/// # Errors
/// As [`load`]; [`PlansError::Conflict`] when the plan has none; [`PlansError::BeyondReach`]
/// when it holds stations the reader cannot read.
pub async fn instance_text(
    db: &DatabaseConnection,
    reader: Option<&Principal>,
    id: i64,
) -> Result<String, PlansError> {
    let (_, text, _) = readable_instance(db, reader, id).await?;
    Ok(text)
}

/// Plan `id`'s model, stored instance text and instance, for a reader who reads every station
/// in it: the instance is the whole problem, the fleet's stations, plates and costs with it.
async fn readable_instance(
    db: &DatabaseConnection,
    reader: Option<&Principal>,
    id: i64,
) -> Result<(plan::Model, String, Instance), PlansError> {
    let mut model = load(db, reader, id).await?;
    let text = model
        .instance
        .take()
        .ok_or_else(|| PlansError::Conflict(format!("plan {id} has no instance")))?;
    let instance: Instance = parse_json(id, "instance", &text)?;
    if !hidden_stations(db, reader, &instance).await?.is_empty() {
        return Err(PlansError::BeyondReach(id));
    }
    Ok((model, text, instance))
}

/// Checks `plan` (its routes, hand-edited or from any solver) against `against`: times,
/// totals and every broken rule.
///
/// # Errors
/// As [`instance_text`] for a stored plan; an inline instance too large or inconsistent
/// (`instance.…`).
pub async fn check(
    db: &DatabaseConnection,
    runs: &PlanRuns,
    reader: Option<&Principal>,
    against: CheckAgainst,
    plan: PlanInput,
) -> Result<CheckedPlan, PlansError> {
    if reader.is_none() {
        return Err(PlansError::Denied(policy::Denied::Unauthenticated));
    }
    let (instance, inline) = match against {
        CheckAgainst::Plan(id) => (readable_instance(db, reader, id).await?.2, false),
        CheckAgainst::Inline(instance) => {
            if instance.sites.len() + instance.stations.len() > build::MAX_PLACES {
                return Err(PlansError::invalid(
                    "instance.sites",
                    format!("at most {} stations and sites", build::MAX_PLACES),
                ));
            }
            super::request::check_instance_bounds(&instance).map_err(PlansError::InlineInstance)?;
            (*instance, true)
        }
    };
    let mut checked = checked_all(runs, instance, vec![plan]).await?;
    match checked.pop() {
        Some(Ok(checked)) => Ok(checked),
        Some(Err(e)) if inline => Err(PlansError::InlineInstance(e)),
        Some(Err(e)) => Err(PlansError::Corrupt(anyhow::anyhow!(
            "stored instance is invalid: {e}"
        ))),
        None => Err(PlansError::Corrupt(anyhow::anyhow!(
            "plan check: no answer"
        ))),
    }
}

/// Compiles `instance` once (one compilation per core at a time) and checks each of `plans`
/// against it.
async fn checked_all(
    runs: &PlanRuns,
    instance: Instance,
    plans: Vec<PlanInput>,
) -> Result<Vec<Result<CheckedPlan, crate::planning::instance::InvalidInstance>>, PlansError> {
    let turn = runs.compile_turn().await;
    tokio::task::spawn_blocking(move || {
        let problem = Problem::new(instance);
        drop(turn);
        plans
            .iter()
            .map(|plan| match &problem {
                Ok(problem) => Ok(evaluate::check(problem, plan)),
                Err(e) => Err(e.clone()),
            })
            .collect()
    })
    .await
    .map_err(|e| PlansError::Corrupt(anyhow::anyhow!("plan check: {e}")))
}

/// A plan as its reader sees it, and when they may edit it and `edits` are given, its routes
/// as stored and as edited, checked ([`check_edits`]).
#[derive(Debug)]
pub struct EditedPlan {
    pub plan: ShownPlan,
    pub checked: Option<EditChecked>,
}

/// Plan `id` as `reader` sees it with `edits` tried on it: what the planner's page shows.
///
/// # Errors
/// As [`show`] and [`check_edits`].
pub async fn show_edited(
    db: &DatabaseConnection,
    runs: &PlanRuns,
    reader: Option<&Principal>,
    id: i64,
    edits: &[Edit],
) -> Result<EditedPlan, PlansError> {
    let model = load(db, reader, id).await?;
    let status = model.status.clone();
    let texts = (model.instance.clone(), model.result.clone());
    let plan = shown(db, runs, reader, model).await?;
    // Editable: done, and every station in the instance readable (no second check needed).
    let checked = match texts {
        (Some(instance), result) if plan.editable && !edits.is_empty() => {
            let instance: Instance = parse_json(id, "instance", &instance)?;
            Some(edits_checked(runs, id, &status, instance, result.as_deref(), edits).await?)
        }
        _ => None,
    };
    Ok(EditedPlan { plan, checked })
}

/// Plan `id`'s routes as stored and with `edits` applied, each checked against its problem:
/// what the planner's page shows while a person moves, drops and adds stops (no re-solve).
///
/// # Errors
/// As [`instance_text`]; [`PlansError::Conflict`] when the plan is not done.
pub async fn check_edits(
    db: &DatabaseConnection,
    runs: &PlanRuns,
    reader: Option<&Principal>,
    id: i64,
    edits: &[Edit],
) -> Result<EditChecked, PlansError> {
    let (model, _, instance) = readable_instance(db, reader, id).await?;
    edits_checked(
        runs,
        id,
        &model.status,
        instance,
        model.result.as_deref(),
        edits,
    )
    .await
}

/// Plan `id`'s stored routes (`result`, its status `status`) and the routes with `edits`,
/// checked against `instance`.
async fn edits_checked(
    runs: &PlanRuns,
    id: i64,
    status: &str,
    instance: Instance,
    result: Option<&str>,
    edits: &[Edit],
) -> Result<EditChecked, PlansError> {
    let result = match result {
        Some(text) if status == PlanStatus::Done.as_str() => {
            parse_json::<PlanResult>(id, "result", text)?
        }
        _ => {
            return Err(PlansError::Conflict(format!(
                "plan {id} is {status}; only a done plan can be edited"
            )));
        }
    };
    let stored = edit::routes_of(&result).map_err(|e| corrupt(id, "result", e))?;
    let (edited, applied) = edit::apply(&instance, &stored, edits);
    let plans = vec![
        PlanInput {
            format: None,
            routes: stored,
        },
        PlanInput {
            format: None,
            routes: edited,
        },
    ];
    let mut checked = checked_all(runs, instance, plans)
        .await?
        .into_iter()
        .map(|c| c.map_err(|e| corrupt(id, "instance", e)));
    let (Some(before), Some(after)) = (checked.next(), checked.next()) else {
        return Err(PlansError::Corrupt(anyhow::anyhow!(
            "plan check: no answer"
        )));
    };
    Ok(EditChecked {
        before: before?,
        after: after?,
        applied,
    })
}

/// A done plan as route sheets (a page per vehicle-day), CSV rows or calendar events.
///
/// # Errors
/// As [`show`]; [`PlansError::Conflict`] when the plan is not done.
pub async fn sheet(
    db: &DatabaseConnection,
    runs: &PlanRuns,
    reader: Option<&Principal>,
    id: i64,
) -> Result<Sheet, PlansError> {
    let model = load(db, reader, id).await?;
    if model.status != PlanStatus::Done.as_str() {
        return Err(PlansError::Conflict(format!(
            "plan {id} is {}; only a done plan can be exported",
            model.status
        )));
    }
    let plan = shown(db, runs, reader, model).await?;
    let result = plan
        .result
        .ok_or_else(|| PlansError::Corrupt(anyhow::anyhow!("plan {id}: no result")))?;
    Ok(Sheet {
        plan_id: id,
        title: plan.title,
        finished_at: plan.finished_at.unwrap_or(plan.created_at),
        routes: result.routes.iter().map(SheetRoute::from).collect(),
    })
}

/// What the people driving a plan need besides it, by site id: for stops at points their
/// address and coordinators (phones masked for coordinators outside the reader's reach, as
/// elsewhere), for stops at hosts their address, and for every stop its township's name. Vehicle, station and coordinates come
/// from the instance ([`PlanResult::name_things`]).
async fn about_stops(
    db: &DatabaseConnection,
    reader: Option<&Principal>,
    result: &PlanResult,
) -> Result<HashMap<String, StopAbout>, PlansError> {
    let sites: Vec<&str> = result
        .routes
        .iter()
        .flat_map(|r| &r.stops)
        .map(|s| s.site.as_str())
        .collect();
    let mut point_ids: Vec<i64> = sites
        .iter()
        .filter_map(|site| match SiteRef::parse(site) {
            Ok(SiteRef::Point(id)) => Some(id),
            _ => None,
        })
        .collect();
    point_ids.sort_unstable();
    point_ids.dedup();
    let mut about: HashMap<String, StopAbout> = HashMap::new();
    // The township of every stop (people know a site by its name and township, not its id).
    let mut site_region: HashMap<String, RegionCode> = HashMap::new();
    for id in point_ids {
        let Some(point) = reads::point(db, id).await? else {
            continue;
        };
        if let Ok(code) = RegionCode::parse(&point.region_code) {
            site_region.insert(format!("point-{id}"), code);
        }
        let coordinators = reads::coordinators_of_point(db, id)
            .await?
            .into_iter()
            .map(|(link, person)| {
                let code = person
                    .region_code
                    .as_deref()
                    .and_then(|c| RegionCode::parse(c).ok());
                let readable = policy::can(reader, Action::Read, Resource::Registry(code.as_ref()))
                    == Decision::Allow;
                StopCoordinator {
                    id: person.id,
                    mobile: if readable {
                        person.mobile.clone()
                    } else {
                        mask_phone(&person.mobile)
                    },
                    name: person.name,
                    role: person.role,
                    is_primary: link.is_primary,
                }
            })
            .collect();
        about.insert(
            format!("point-{id}"),
            StopAbout {
                address: point.address,
                coordinators,
                ..StopAbout::default()
            },
        );
    }
    for site in &sites {
        match SiteRef::parse(site) {
            Ok(SiteRef::Region(code)) => {
                site_region.insert((*site).to_owned(), code);
            }
            // A host's stop: its address, and its township like any other stop's.
            Ok(SiteRef::Host(id)) if !about.contains_key(*site) => {
                let Some(host) = reads::host(db, id).await? else {
                    continue;
                };
                if let Ok(code) = RegionCode::parse(&host.region_code) {
                    site_region.insert((*site).to_owned(), code);
                }
                about.insert(
                    (*site).to_owned(),
                    StopAbout {
                        address: host.address,
                        ..StopAbout::default()
                    },
                );
            }
            _ => {}
        }
    }
    let mut townships: HashMap<RegionCode, Option<String>> = HashMap::new();
    for code in site_region.values() {
        let Some(township) = code.township() else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(entry) = townships.entry(township) {
            let name = reads::region_name(db, entry.key()).await?;
            entry.insert(name);
        }
    }
    for (site, code) in &site_region {
        let township = code
            .township()
            .and_then(|t| townships.get(&t).cloned().flatten());
        about.entry(site.clone()).or_default().township = township;
    }
    Ok(about)
}

/// The stations of `instance` (instance ids, `station-<id>`) the reader cannot read: for them
/// they do not exist, and neither do their vehicles.
async fn hidden_stations(
    db: &DatabaseConnection,
    reader: Option<&Principal>,
    instance: &Instance,
) -> Result<HashSet<String>, PlansError> {
    let mut hidden = HashSet::new();
    for station in &instance.stations {
        let readable = match station
            .id
            .strip_prefix("station-")
            .and_then(|n| n.parse::<i64>().ok())
        {
            Some(id) => match reads::station(db, id).await? {
                Some(s) => {
                    let code = crate::fleet::station_region(&s);
                    policy::can(reader, Action::Read, Resource::Registry(code.as_ref()))
                        == Decision::Allow
                }
                None => false,
            },
            None => false,
        };
        if !readable {
            hidden.insert(station.id.clone());
        }
    }
    Ok(hidden)
}

/// Takes the vehicles of the stations in `hidden` out of the request's `vehicles` (the ids of
/// the vehicles used).
fn redact_request(instance: &Instance, hidden: &HashSet<String>, request: &mut Value) {
    if hidden.is_empty() {
        return;
    }
    let hidden_ids: HashSet<i64> = instance
        .vehicles
        .iter()
        .filter(|v| hidden.contains(&v.station))
        .filter_map(|v| v.id.strip_prefix("vehicle-")?.parse().ok())
        .collect();
    if let Some(ids) = request.get_mut("vehicles").and_then(Value::as_array_mut) {
        ids.retain(|id| id.as_i64().is_none_or(|id| !hidden_ids.contains(&id)));
    }
}

/// A plan as listed, with its live progress.
#[derive(Debug, Clone)]
pub struct ListedPlan {
    pub id: i64,
    pub region_code: String,
    /// The region's name, when it has one.
    pub region_name: String,
    pub status: PlanStatus,
    pub progress: u8,
    pub objective: Option<f64>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The newest `limit` plans `reader` may read, newest first.
///
/// # Errors
/// Not signed in; a stored status that does not read back; the database fails.
pub async fn recent(
    db: &DatabaseConnection,
    runs: &PlanRuns,
    reader: Option<&Principal>,
    limit: u64,
) -> Result<Vec<ListedPlan>, PlansError> {
    let Some(principal) = reader else {
        return Err(PlansError::Denied(policy::Denied::Unauthenticated));
    };
    let filter = reads::PlanFilter {
        limit,
        reach: Some(policy::read_scope(principal)),
        ..reads::PlanFilter::default()
    };
    let mut names: HashMap<String, String> = HashMap::new();
    let mut listed = Vec::new();
    for p in reads::list(db, &filter).await? {
        let mut status: PlanStatus = p
            .status
            .parse()
            .map_err(|e: String| corrupt(p.id, "status", e))?;
        let mut progress = percent(p.progress);
        if let Some(live) = runs.progress(p.id)
            && !status.is_finished()
        {
            status = live.status;
            progress = live.percent;
        }
        if !names.contains_key(&p.region_code)
            && let Ok(code) = RegionCode::parse(&p.region_code)
        {
            let name = reads::region_name(db, &code).await?.unwrap_or_default();
            names.insert(p.region_code.clone(), name);
        }
        listed.push(ListedPlan {
            id: p.id,
            region_name: names.get(&p.region_code).cloned().unwrap_or_default(),
            region_code: p.region_code,
            status,
            progress,
            objective: p.objective,
            created_by: p.created_by,
            created_at: p.created_at,
        });
    }
    Ok(listed)
}

/// Plan `id`'s request with `edits` made its rules: each site put on a vehicle-day a fixed
/// stop there, each site dropped forbidden on every day (replacing any rule the request had
/// for that site). Planning it again gives a plan made with the edits, which can be accepted.
#[must_use]
pub fn request_with_edits(request: &PlanRequest, edits: &[Edit]) -> PlanRequest {
    let mut request = request.clone();
    for edit in edits {
        let site = edit.site();
        request.fixed.retain(|f| f.site != site);
        request.forbidden.retain(|f| f.site != site);
        match edit {
            Edit::Put {
                site,
                vehicle,
                date,
            } => request.fixed.push(FixedRequest {
                site: site.clone(),
                date: *date,
                vehicle: vehicle
                    .strip_prefix("vehicle-")
                    .and_then(|v| v.parse().ok()),
            }),
            Edit::Drop { site } => request.forbidden.push(ForbiddenRequest {
                site: site.clone(),
                date: None,
            }),
        }
    }
    request
}

/// Makes a new plan of plan `id`'s request with `edits` as its rules
/// ([`request_with_edits`]), by `reader` (who must be able to plan the region).
///
/// # Errors
/// As [`load`]; [`PlansError::Denied`] for a reader who may not plan the region; as
/// [`super::submit`].
pub async fn replan(
    db: &DatabaseConnection,
    runs: &Arc<PlanRuns>,
    reader: Option<&Principal>,
    id: i64,
    edits: &[Edit],
    created_by: Option<String>,
    now: DateTime<Utc>,
) -> Result<super::Submitted, PlansError> {
    let (model, _, instance) = readable_instance(db, reader, id).await?;
    let code = RegionCode::parse(&model.region_code).map_err(|e| corrupt(id, "region", e))?;
    policy::can(reader, Action::Create, Resource::Plan(&code))
        .check(|| format!("plan with id {id}"))
        .map_err(PlansError::Denied)?;
    let Some(principal) = reader else {
        return Err(PlansError::Denied(policy::Denied::Unauthenticated));
    };
    let stored: PlanRequest = parse_json(id, "request", &model.request)?;
    // Only the edits that name the plan's sites, vehicles and days (as the page applied them).
    let (_, applied) = edit::apply(&instance, &[], edits);
    let request = request_with_edits(&stored, &applied);
    super::submit(
        db,
        runs,
        &request,
        &policy::read_scope(principal),
        created_by,
        now,
    )
    .await
}
