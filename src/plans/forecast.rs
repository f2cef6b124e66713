//! The turnout forecast as a service (`GET /api/v1/forecast`, the station's forecast page):
//! the expected donors of a drive at a site on a date, with every
//! number explained: village by village (distance, who is home, the decay) and factor by
//! factor (weekend, market day, the Spring Festival's presence window), and the villages
//! within reach that count toward a nearer active point instead (the attribution rule of
//! `crate::planning::assemble`, the same as in plans).
//!
//! Outside the caller's read scope a village does not exist for them: villages beyond it still
//! count toward the total (the forecast is the same for everyone), but appear only as an
//! aggregate (`outside`: how many and what they add), never by name, code or survey figure.
//!
//! The model's parameters are those of `plans::build::turnout_params`: fitted to the recorded
//! results of completed drives once there are enough; until then the documented defaults, and
//! the response says so. Villages' recent donors are their recorded donations in the 180 days
//! before the date.
//!
//! `value` is what the forecast's donors are worth by blood group (`plans::value`): each
//! village's expected mix from its recorded donations (else the deployment's), times the
//! groups' weights from the station's days of supply; every weight is 1, and the factor 1,
//! while no days of supply are known.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::PlansError;
use super::build::{
    SiteRef, attributed, point_candidate, point_site_id, region_site_id, supply_range,
    turnout_params, village_supplies,
};
use crate::domain::account::Principal;
use crate::domain::policy::{self, Action, Decision, Resource};
use crate::domain::region::{Level, RegionCode};
use crate::domain::shortage::{self, GroupMix, GroupWeight, VillageValue};
use crate::error::FieldErrors;
use crate::geo::Wgs84Point;
use crate::planning::assemble::CandidateSite;
use crate::planning::instance::Rules;
use crate::planning::turnout::{self, TurnoutOverrides, TurnoutParams};
use crate::plans::value::{self, Draw, SupplyDays, ValueExplanation};
use crate::registry::{points, regions};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ForecastParams {
    /// `point-<id>` (a donation point) or `region-<code>` (a township or village, at its
    /// recorded centre).
    #[param(example = "point-12")]
    pub site: String,
    /// The drive's date.
    #[param(example = "2026-12-05")]
    pub date: NaiveDate,
    /// A vehicle (id): the forecast is capped by its `max_donors_per_day`.
    pub vehicle: Option<i64>,
    /// Use this rate instead of the one in force (0 to 1).
    pub rate: Option<f64>,
    /// Use this decay scale, km, instead of the one in force (0.1 to 50).
    pub decay_km: Option<f64>,
    /// Use this catchment, km (0.5 to 50).
    pub catchment_km: Option<f64>,
    /// Use this weekend multiplier (0.1 to 5).
    pub weekend_factor: Option<f64>,
    /// Use this market-day multiplier (0.1 to 5).
    pub market_factor: Option<f64>,
}

/// The site forecast.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastSite {
    #[schema(example = "point-12")]
    pub id: String,
    pub name: String,
    /// `point`, `township` or `village`.
    pub kind: String,
    pub region_code: String,
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub longitude: f64,
    #[serde(serialize_with = "crate::domain::rounding::ser::coordinate")]
    pub latitude: f64,
    /// Lunar-day digits (`1,4,7`), for points that record them.
    pub market_days: Option<String>,
}

/// The day's factors.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastDay {
    pub weekend: bool,
    pub market_day: bool,
    /// `weekend_factor` on Saturdays and Sundays, times `market_factor` on market days.
    pub factor: f64,
}

/// One village's share.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastVillage {
    pub code: String,
    pub name: String,
    #[serde(serialize_with = "crate::domain::rounding::ser::km")]
    pub distance_km: f64,
    /// Eligible (18-60) people living there: the survey's total less those away for work.
    pub resident_eligible: f64,
    /// Those away for work who are home on the date: `away_for_work x presence`.
    pub away_present: f64,
    /// Donors who gave in the 180 days before the date (recorded drive results).
    pub recent_donors: f64,
    /// `max(0, resident_eligible + away_present - recent_donors)`.
    pub available: f64,
    /// `exp(-distance_km / decay_km)`.
    pub decay: f64,
    /// `available x rate x decay x day.factor`.
    pub expected: f64,
}

/// A village within reach that counts toward a nearer active point.
#[derive(Debug, Serialize, ToSchema)]
pub struct ElsewhereVillage {
    pub code: String,
    pub name: String,
    #[serde(serialize_with = "crate::domain::rounding::ser::km")]
    pub distance_km: f64,
    /// The site it counts toward (`point-<id>`).
    pub counted_at: String,
}

/// Villages the forecast counts (or that count elsewhere) which lie outside the caller's read
/// scope: only how many and what they add, never which.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct OutsideVillages {
    /// Villages counted at this site that lie outside the caller's area.
    pub villages: usize,
    /// What they add to `uncapped`.
    pub expected: f64,
    /// Villages within the catchment, counted toward another active point, that lie outside
    /// the caller's area (or count toward a point outside it).
    pub elsewhere: usize,
    /// `3 villages outside your area: 41.2 expected`; empty when there are none.
    pub note: String,
}

/// Where the parameters come from.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastCalibration {
    /// `defaults`: the documented defaults (README, "Turnout"); `fitted` once enough drive
    /// results are recorded to fit `rate` and `decay_km`.
    #[schema(example = "defaults")]
    pub source: String,
    /// Recorded stops of completed drives (the fit needs at least 8).
    pub stops: usize,
    pub note: String,
}

/// The vehicle that caps the forecast.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastVehicle {
    pub id: i64,
    pub name: String,
    pub max_donors_per_day: i32,
}

/// What the forecast's donors are worth when blood groups run short (the rule of
/// `crate::domain::shortage`): `value_ml = total x ml_per_donor x factor`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastValue {
    /// The rule, in one sentence.
    pub rule: String,
    /// mL per donor (the planner's default).
    pub ml_per_donor: f64,
    /// The villages' mean (weighted by their expected donors) of `sum_g mix_g x weight_g`;
    /// 1 when every weight is 1 (no days of supply known).
    pub factor: f64,
    /// `total x ml_per_donor x factor`, mL-equivalents.
    pub value_ml: f64,
    /// The site's expected blood-group mix: its villages' mixes weighted by their expected
    /// donors (the villages outside the caller's area included).
    #[schema(value_type = Object)]
    pub mix: GroupMix,
    /// The prior a village's mix is shrunk toward: the deployment's mix from every recorded
    /// result, itself shrunk toward the built-in default.
    #[schema(value_type = Object)]
    pub prior: GroupMix,
    /// Donations with a known group behind the prior.
    pub prior_results: u64,
    /// `k` in `(counts + k x prior) / (n + k)`.
    pub shrink_k: f64,
    /// Each group's days of supply, level and weight.
    pub weights: Vec<GroupWeight>,
    /// The mix of each village counted that the caller may read, nearest first, and where it
    /// comes from (`village`: its recorded donations, `results` of them; `prior`: none).
    pub villages: Vec<VillageValue>,
}

/// A forecast with its explanation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastView {
    pub site: ForecastSite,
    pub date: NaiveDate,
    /// Expected donors: `uncapped`, capped by `capacity`.
    pub total: f64,
    /// The sum of `villages[].expected` and `outside.expected`.
    pub uncapped: f64,
    /// The vehicle's `max_donors_per_day`, when a vehicle is given.
    pub capacity: Option<f64>,
    pub vehicle: Option<ForecastVehicle>,
    pub rate: f64,
    pub decay_km: f64,
    pub catchment_km: f64,
    /// The share of those away for work who are home on the date.
    pub presence: f64,
    /// The Spring Festival the presence window is measured from.
    pub spring_festival: Option<NaiveDate>,
    pub day: ForecastDay,
    /// The villages counted that the caller may read, nearest first.
    pub villages: Vec<ForecastVillage>,
    /// Villages within the catchment that count toward a nearer active point, nearest first
    /// (those the caller may read, counted toward a point the caller may read).
    pub elsewhere: Vec<ElsewhereVillage>,
    /// The villages beyond the caller's read scope, as an aggregate only.
    pub outside: OutsideVillages,
    /// The model's parameters.
    #[schema(value_type = Object)]
    pub params: TurnoutParams,
    pub calibration: ForecastCalibration,
    /// What the donors are worth by blood group.
    pub value: ForecastValue,
}

/// The sentence that stands for the villages beyond the caller's area; empty when none.
fn outside_note(counted: usize, expected: f64, elsewhere: usize) -> String {
    let mut parts = Vec::new();
    if counted > 0 {
        let s = if counted == 1 { "" } else { "s" };
        parts.push(format!(
            "{counted} village{s} outside your area: {expected:.1} expected"
        ));
    }
    if elsewhere > 0 {
        let s = if elsewhere == 1 { "" } else { "s" };
        parts.push(format!(
            "{elsewhere} village{s} within reach outside your area count toward other points"
        ));
    }
    parts.join("; ")
}

/// Reading `resource` as `principal`: outside their reach it does not exist.
fn authorize(
    principal: &Principal,
    resource: Resource<'_>,
    what: impl FnOnce() -> String,
) -> Result<(), PlansError> {
    match policy::can(Some(principal), Action::Read, resource) {
        Decision::Allow => Ok(()),
        _ => Err(PlansError::NotFound(format!("no {}", what()))),
    }
}

/// `Ok` when nothing was collected, else every broken field.
fn all_valid(errors: FieldErrors) -> Result<(), PlansError> {
    errors.check_with(PlansError::Invalid)
}

/// Loads the site named by `raw`, if the caller may read it.
async fn site(
    db: &DatabaseConnection,
    principal: &Principal,
    raw: &str,
) -> Result<(CandidateSite, ForecastSite, RegionCode, Level), PlansError> {
    let parsed = SiteRef::parse(raw.trim()).map_err(|m| PlansError::invalid("site", m))?;
    match parsed {
        SiteRef::Point(id) => {
            let point = points::get(db, id)
                .await?
                .ok_or_else(|| PlansError::NotFound(format!("no point with id {id}")))?;
            let code = RegionCode::parse(&point.region_code).ok();
            authorize(principal, Resource::Registry(code.as_ref()), || {
                format!("point with id {id}")
            })?;
            let code = code.ok_or_else(|| {
                PlansError::Corrupt(anyhow::anyhow!("point {id}: malformed region code"))
            })?;
            let level = regions::get(db, &code)
                .await?
                .map_or(Level::Village, |r| r.level);
            let view = ForecastSite {
                id: point_site_id(id),
                name: point.name.clone(),
                kind: "point".to_owned(),
                region_code: point.region_code.clone(),
                longitude: point.longitude,
                latitude: point.latitude,
                market_days: point.market_days.clone(),
            };
            Ok((point_candidate(&point), view, code, level))
        }
        SiteRef::Region(code) => {
            authorize(principal, Resource::Registry(Some(&code)), || {
                format!("region with code {code}")
            })?;
            let region = regions::get(db, &code)
                .await?
                .ok_or_else(|| PlansError::NotFound(format!("no region with code {code}")))?;
            if !matches!(region.level, Level::Township | Level::Village) {
                return Err(PlansError::invalid(
                    "site",
                    format!(
                        "{code} is a {}: a site is a township or a village",
                        region.level
                    ),
                ));
            }
            let (Some(lon), Some(lat)) = (region.longitude, region.latitude) else {
                return Err(PlansError::invalid(
                    "site",
                    format!("{code} has no recorded centre (PATCH /api/v1/regions/{code})"),
                ));
            };
            let location = Wgs84Point::stored(lon, lat);
            let candidate = CandidateSite {
                id: region_site_id(&code),
                name: region.name.clone(),
                location,
                market_days: None,
                last_visit: None,
            };
            let view = ForecastSite {
                id: candidate.id.clone(),
                name: region.name.clone(),
                kind: region.level.as_str().to_owned(),
                region_code: code.to_string(),
                longitude: lon,
                latitude: lat,
                market_days: None,
            };
            Ok((candidate, view, code, region.level))
        }
        // A group drive's turnout is its colleagues, not the villages around it.
        SiteRef::Host(id) => Err(PlansError::invalid(
            "site",
            format!(
                "host-{id} is a host organisation: its expected donors are its typical \
                 headcount times the participation share (see the plan request's `hosts`), \
                 not a village forecast"
            ),
        )),
    }
}

/// The expected donors of a drive at `params.site` on `params.date` as `principal` sees them:
/// the total and its breakdown by village and factor; with `vehicle`, capped by what that
/// vehicle takes in a day. Each village counts toward its nearest active point (or this site)
/// within the catchment, as in plans, so a point's forecast equals its expected donors in a
/// plan of active points.
///
/// # Errors
/// [`PlansError::Invalid`] naming `site`, `date`, `vehicle` or an override;
/// [`PlansError::NotFound`] for a site or vehicle that does not exist for `principal`; the
/// database fails.
#[tracing::instrument(skip_all)]
pub async fn explain(
    db: &DatabaseConnection,
    params: &ForecastParams,
    principal: &Principal,
) -> Result<ForecastView, PlansError> {
    if !crate::planning::calendar::covers(params.date) {
        return Err(PlansError::invalid(
            "date",
            crate::planning::calendar::not_covered(params.date),
        ));
    }
    let (candidate, site_view, code, level) = site(db, principal, &params.site).await?;
    let mut vehicle_station = None;
    let vehicle = match params.vehicle {
        None => None,
        Some(id) => {
            let (v, s) = crate::fleet::vehicles::find_with_station(db, id)
                .await?
                .ok_or_else(|| PlansError::NotFound(format!("no vehicle with id {id}")))?;
            let at = crate::fleet::station_region(&s);
            authorize(principal, Resource::Registry(at.as_ref()), || {
                format!("vehicle with id {id}")
            })?;
            vehicle_station = Some(s.id);
            Some(ForecastVehicle {
                id: v.id,
                name: v.name,
                max_donors_per_day: v.max_donors_per_day,
            })
        }
    };
    let overrides = TurnoutOverrides {
        rate: params.rate,
        decay_km: params.decay_km,
        catchment_km: params.catchment_km,
        weekend_factor: params.weekend_factor,
        market_factor: params.market_factor,
    };
    let mut errors = FieldErrors::default();
    for (field, message) in overrides.problems() {
        errors.add(field, message);
    }
    all_valid(errors)?;
    let (params_used, calibration) = turnout_params(db).await?;
    let params_used = overrides.apply(&params_used);
    let (lo, hi) = supply_range(&code, level);
    let villages = village_supplies(db, &lo, &hi, params.date).await?;
    let (own, others) = attributed(db, &candidate, &villages, params_used.catchment_km).await?;
    let own: Vec<_> = own.into_iter().map(|v| villages[v].clone()).collect();
    let reach = policy::read_scope(principal);
    let readable = |code: &str| RegionCode::parse(code).is_ok_and(|c| reach.contains(&c));
    // Where each village within reach counts instead: shown only when both the village and
    // that point are the caller's to read.
    let mut point_readable: HashMap<String, bool> = HashMap::new();
    let mut elsewhere: Vec<ElsewhereVillage> = Vec::new();
    let mut elsewhere_outside = 0;
    for (counted_at, v) in others {
        let distance_km = candidate.location.distance_km(villages[v].location);
        if distance_km > params_used.catchment_km {
            continue;
        }
        let at_readable = match point_readable.get(&counted_at) {
            Some(known) => *known,
            None => {
                let known = match SiteRef::parse(&counted_at) {
                    Ok(SiteRef::Point(id)) => points::get(db, id)
                        .await?
                        .is_some_and(|p| readable(&p.region_code)),
                    Ok(SiteRef::Region(code)) => reach.contains(&code),
                    Ok(SiteRef::Host(_)) | Err(_) => false,
                };
                point_readable.insert(counted_at.clone(), known);
                known
            }
        };
        if !(at_readable && readable(&villages[v].code)) {
            elsewhere_outside += 1;
            continue;
        }
        elsewhere.push(ElsewhereVillage {
            code: villages[v].code.clone(),
            name: villages[v].name.clone(),
            distance_km,
            counted_at,
        });
    }
    elsewhere.sort_by(|a, b| {
        a.distance_km
            .total_cmp(&b.distance_km)
            .then_with(|| a.code.cmp(&b.code))
    });
    let capacity = vehicle.as_ref().map(|v| f64::from(v.max_donors_per_day));
    let site = turnout::Site {
        location: candidate.location,
        market_days: candidate.market_days,
    };
    let f = turnout::forecast(&site, params.date, &own, &params_used, capacity);
    let mut outside = OutsideVillages {
        elsewhere: elsewhere_outside,
        ..OutsideVillages::default()
    };
    // The stations' days of supply are for those who read inventories (admins and station
    // staff): for anyone else the forecast weighs no group (every weight 1).
    let supply = if policy::can(Some(principal), Action::Read, Resource::Inventory(&code))
        == Decision::Allow
    {
        station_supply(db, vehicle_station, &code).await?
    } else {
        SupplyDays::new()
    };
    let draws: Vec<Draw> = f
        .villages
        .iter()
        .map(|v| Draw {
            code: v.code.clone(),
            expected: v.expected,
        })
        .collect();
    let worth = value::site_value(db, &draws, &supply).await?;
    let value = forecast_value(worth, f.total, &readable);
    let mut shown = Vec::with_capacity(f.villages.len());
    for v in f.villages {
        if !readable(&v.code) {
            outside.villages += 1;
            outside.expected += v.expected;
            continue;
        }
        shown.push(ForecastVillage {
            code: v.code,
            name: v.name,
            distance_km: v.distance_km,
            resident_eligible: v.resident_eligible,
            away_present: v.away_present,
            recent_donors: v.recent_donors,
            available: v.available,
            decay: v.decay,
            expected: v.expected,
        });
    }
    outside.note = outside_note(outside.villages, outside.expected, outside.elsewhere);
    Ok(ForecastView {
        site: site_view,
        date: f.date,
        total: f.total,
        uncapped: f.uncapped,
        capacity: f.capacity,
        vehicle,
        rate: f.rate,
        decay_km: f.decay_km,
        catchment_km: params_used.catchment_km,
        presence: f.presence,
        spring_festival: f.spring_festival,
        day: ForecastDay {
            weekend: f.day.weekend,
            market_day: f.day.market_day,
            factor: f.day.factor,
        },
        villages: shown,
        elsewhere,
        outside,
        params: params_used,
        calibration: ForecastCalibration {
            source: calibration.source.to_owned(),
            stops: calibration.stops,
            note: calibration.note,
        },
        value,
    })
}

/// The days of supply per group the forecast's value weighs by: those of the vehicle's
/// station, else of the active stations whose region holds the site (its city's).
async fn station_supply(
    db: &DatabaseConnection,
    vehicle_station: Option<i64>,
    site: &RegionCode,
) -> Result<SupplyDays, PlansError> {
    let stations: Vec<i64> = match vehicle_station {
        Some(id) => vec![id],
        None => {
            let mut holding = site.ancestor_candidates();
            holding.push(site.as_str().to_owned());
            let filter = crate::store::fleet::FleetFilter {
                statuses: vec![crate::domain::fleet::StationStatus::Active.as_str()],
                ..Default::default()
            };
            crate::store::fleet::list_stations(db, &filter)
                .await?
                .into_iter()
                .filter(|s| holding.contains(&s.region_code))
                .map(|s| s.id)
                .collect()
        }
    };
    value::station_supply(db, &stations).await
}

/// The value section of a forecast of `total` donors: `worth`'s villages only those the
/// caller may read (`readable`), in the forecast's order.
fn forecast_value(
    worth: ValueExplanation,
    total: f64,
    readable: &impl Fn(&str) -> bool,
) -> ForecastValue {
    let ml_per_donor = Rules::default().ml_per_donor;
    ForecastValue {
        rule: worth.rule,
        ml_per_donor,
        factor: worth.factor,
        value_ml: shortage::value_ml(total, ml_per_donor, worth.factor),
        mix: worth.mix,
        prior: worth.prior,
        prior_results: worth.prior_results,
        shrink_k: worth.shrink_k,
        weights: worth.weights,
        villages: worth
            .villages
            .into_iter()
            .filter(|v| readable(&v.code))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::outside_note;

    #[test]
    fn the_outside_note_says_how_many_and_what_they_add() {
        assert_eq!(outside_note(0, 0.0, 0), "");
        assert_eq!(
            outside_note(3, 41.04, 0),
            "3 villages outside your area: 41.0 expected"
        );
        assert_eq!(
            outside_note(1, 2.0, 2),
            "1 village outside your area: 2.0 expected; \
             2 villages within reach outside your area count toward other points"
        );
    }
}
