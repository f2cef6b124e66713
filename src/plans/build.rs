//! From a request and the database to a plan instance: the one function behind both
//! `POST /api/v1/plans` and `donornet plan --export-instance`, so both solve the same problem.
//! Also the facts `GET /api/v1/forecast` needs (village supplies, nearby active points).
//!
//! Where turnout comes from: the villages of the city the plan's region lies in (the region
//! itself when it is a city or a province), from their current surveys. Villages across a
//! city border are not counted: a city's blood station plans its own city.
//!
//! Recorded drive results (issue 6) feed the model three ways: a site's last completed drive
//! is its `last_visit` (no new stop there within `min_days_between_visits`); a village's
//! donations in the 180 days before the date are its `recent_donors` (not available again
//! yet); and every stop of a completed drive is an observation for
//! [`crate::planning::calibrate`], its exposure computed exactly as the forecast of that site
//! on that day would be ([`observations`]).

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, Days, Months, NaiveDate};
use entity::{point, station, vehicle};
use sea_orm::ConnectionTrait;

use super::{PlansError, all_valid};
use crate::domain::donation::DONATION_INTERVAL_DAYS;
use crate::domain::fleet::{StationStatus, VehicleStatus};
use crate::domain::point::PointStatus;
use crate::domain::policy::Visibility;
use crate::domain::region::{Level, Region, RegionCode};
use crate::domain::shortage;
use crate::error::FieldErrors;
use crate::geo::Wgs84Point;
use crate::geo::coverage::SiteIndex;
use crate::i18n::Lang;
use crate::planning::assemble::{self, Assembly, CandidateSite, HostSite, OtherSite, attribute};
use crate::planning::calibrate::{Calibration, Exposure, Observation, calibrate};
use crate::planning::instance::{self, FixedStop, ForbiddenStop, Instance, Rules};
use crate::planning::turnout::{self, TurnoutParams, VillageSupply};
use crate::plans::request::{Candidates, PlanRequest};
use crate::plans::value::{self, Draw, GroupCounts, SupplyDays};
use crate::store::attendances;
use crate::store::drives::DriveFilter;
use crate::store::fleet::{self, FleetFilter};
use crate::store::hosts as host_store;
use crate::store::points::{self, PointFilter};
use crate::store::regions::{self, RegionFilter};
use crate::store::surveys::{self, VillageFact};

/// A township or village without an active point this close is "unserved".
pub const UNSERVED_RADIUS_KM: f64 = 2.0;
/// At most this many unserved candidates (those with the most eligible donors).
pub const MAX_UNSERVED: usize = 2000;
/// At most this many places (stations and sites) in an instance the API solves or checks: the
/// travel matrix grows with the square (4,000 places: 128 MB).
pub const MAX_PLACES: usize = 4000;

/// The id of an active point as a site.
pub fn point_site_id(id: i64) -> String {
    format!("point-{id}")
}

/// The id of a host organisation as a site (a group drive there).
pub fn host_site_id(id: i64) -> String {
    format!("host-{id}")
}

/// The id of a township or village as a site.
pub fn region_site_id(code: &RegionCode) -> String {
    format!("region-{code}")
}

pub fn vehicle_id(id: i64) -> String {
    format!("vehicle-{id}")
}

pub fn station_id(id: i64) -> String {
    format!("station-{id}")
}

/// A site id as the API takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteRef {
    Point(i64),
    /// A host organisation (issue 16): a group drive there.
    Host(i64),
    Region(RegionCode),
}

impl SiteRef {
    /// `point-12`, `host-3` or `region-411102100000`.
    ///
    /// # Errors
    /// A message for the field.
    pub fn parse(raw: &str) -> Result<SiteRef, String> {
        let invalid =
            || format!("must be point-<id>, host-<id> or region-<12-digit code>, got {raw:?}");
        let id = |digits: &str| digits.parse::<i64>().ok().filter(|id| *id > 0);
        if let Some(digits) = raw.strip_prefix("point-") {
            return id(digits).map(SiteRef::Point).ok_or_else(invalid);
        }
        if let Some(digits) = raw.strip_prefix("host-") {
            return id(digits).map(SiteRef::Host).ok_or_else(invalid);
        }
        if let Some(code) = raw.strip_prefix("region-") {
            return RegionCode::parse(code)
                .map(SiteRef::Region)
                .map_err(|_| invalid());
        }
        Err(invalid())
    }
}

/// The range of region codes whose villages supply turnout for sites in `code`'s region:
/// the city it lies in (or the region itself, when a city or a province).
pub fn supply_range(code: &RegionCode, level: Level) -> (String, String) {
    if level <= Level::City {
        return code.subtree_bounds(level);
    }
    let city = RegionCode::parse(&format!("{:0<12}", &code.as_str()[..4])).expect("12 digits");
    city.subtree_bounds(Level::City)
}

/// What a village offers, from its current survey: nothing when it is not located or never
/// surveyed. Recent donors are 0 here; [`with_recent_donors`] fills them in for a date.
pub fn supply(fact: &VillageFact) -> Option<VillageSupply> {
    let location = Wgs84Point::stored(fact.longitude?, fact.latitude?);
    let eligible = f64::from(fact.eligible_total?.max(0));
    let away = f64::from(fact.away_for_work.unwrap_or(0).max(0)).min(eligible);
    Some(VillageSupply {
        code: fact.code.clone(),
        name: fact.name.clone(),
        location,
        resident_eligible: eligible - away,
        away_for_work: away,
        recent_donors: 0.0,
    })
}

/// `villages` with their recent donors as of `date`: the recorded donations (`donations`, as
/// village and drive date) in the [`DONATION_INTERVAL_DAYS`] days before `date`.
pub fn with_recent_donors(
    villages: &[VillageSupply],
    donations: &[(String, NaiveDate)],
    date: NaiveDate,
) -> Vec<VillageSupply> {
    let since = date
        .checked_sub_days(Days::new(DONATION_INTERVAL_DAYS.unsigned_abs()))
        .unwrap_or(NaiveDate::MIN);
    let mut recent: HashMap<&str, f64> = HashMap::new();
    for (village, day) in donations {
        if (since..date).contains(day) {
            *recent.entry(village.as_str()).or_insert(0.0) += 1.0;
        }
    }
    villages
        .iter()
        .map(|v| VillageSupply {
            recent_donors: recent.get(v.code.as_str()).copied().unwrap_or(0.0),
            ..v.clone()
        })
        .collect()
}

/// The located, surveyed villages in the code range `[lo, hi]`, with their recent donors as
/// of `date`.
pub async fn village_supplies(
    db: &impl ConnectionTrait,
    lo: &str,
    hi: &str,
    date: NaiveDate,
) -> Result<Vec<VillageSupply>, PlansError> {
    let villages: Vec<VillageSupply> = surveys::village_facts(db, lo, hi)
        .await?
        .iter()
        .filter_map(supply)
        .collect();
    let donations = attendances::donations_by_village(db, lo, hi).await?;
    Ok(with_recent_donors(&villages, &donations, date))
}

/// Which of `villages` count toward `site` when it stands among the active points (the
/// attribution rule of `crate::planning::assemble`): the indices of its own villages, and the
/// others with the point (`point-<id>`) each counts toward instead.
pub async fn attributed(
    db: &impl ConnectionTrait,
    site: &CandidateSite,
    villages: &[VillageSupply],
    catchment_km: f64,
) -> Result<(Vec<usize>, Vec<(String, usize)>), PlansError> {
    let points: Vec<(String, Wgs84Point)> =
        active_points_near(db, &[site.location], 2.0 * catchment_km)
            .await?
            .into_iter()
            .map(|p| {
                (
                    point_site_id(p.id),
                    Wgs84Point::stored(p.longitude, p.latitude),
                )
            })
            .collect();
    Ok(attribute_among(site, &points, villages, catchment_km))
}

/// [`attributed`] with the active points given (`point-<id>` and location; the site itself
/// among them is skipped). Points farther than twice the catchment from the site change
/// nothing, so any superset of those within it gives the same answer.
pub fn attribute_among(
    site: &CandidateSite,
    points: &[(String, Wgs84Point)],
    villages: &[VillageSupply],
    catchment_km: f64,
) -> (Vec<usize>, Vec<(String, usize)>) {
    let places: Vec<(&str, Wgs84Point)> = std::iter::once((site.id.as_str(), site.location))
        .chain(
            points
                .iter()
                .filter(|(id, _)| *id != site.id)
                .map(|(id, p)| (id.as_str(), *p)),
        )
        .collect();
    let mut shares = attribute(&places, villages, catchment_km);
    let own = std::mem::take(&mut shares[0]);
    let elsewhere = shares
        .into_iter()
        .enumerate()
        .skip(1)
        .flat_map(|(s, share)| {
            let id = places[s].0.to_owned();
            share.into_iter().map(move |v| (id.clone(), v))
        })
        .collect();
    (own, elsewhere)
}

/// The active points within `margin_km` of any of `places`, in id order.
pub async fn active_points_near(
    db: &impl ConnectionTrait,
    places: &[Wgs84Point],
    margin_km: f64,
) -> Result<Vec<point::Model>, PlansError> {
    let Some(first) = places.first() else {
        return Ok(vec![]);
    };
    let mut bbox = first.bounding_box(margin_km);
    for p in &places[1..] {
        let (a, b, c, d) = p.bounding_box(margin_km);
        bbox = (bbox.0.min(a), bbox.1.min(b), bbox.2.max(c), bbox.3.max(d));
    }
    Ok(points::list(
        db,
        &PointFilter {
            statuses: vec![PointStatus::Active],
            bbox: Some(bbox),
            ..PointFilter::default()
        },
    )
    .await?)
}

/// A point as a candidate site.
pub fn point_candidate(p: &point::Model) -> CandidateSite {
    CandidateSite {
        id: point_site_id(p.id),
        name: p.name.clone(),
        location: Wgs84Point::stored(p.longitude, p.latitude),
        market_days: p.market_days.as_deref().and_then(|m| m.parse().ok()),
        // Filled in from completed drives by `build`.
        last_visit: None,
    }
}

/// The site a drive stopped at, as a candidate (its point, or its township or village at the
/// recorded centre); `None` when it can no longer be placed (no such point, no centre) and for
/// a host (a group drive's turnout is not the villages').
pub async fn stop_site(
    db: &impl ConnectionTrait,
    site_id: &str,
) -> Result<Option<(CandidateSite, RegionCode)>, PlansError> {
    Ok(match SiteRef::parse(site_id) {
        Ok(SiteRef::Point(id)) => points::find(db, id).await?.and_then(|p| {
            let code = RegionCode::parse(&p.region_code).ok()?;
            Some((point_candidate(&p), code))
        }),
        Ok(SiteRef::Region(code)) => regions::find(db, &code).await?.and_then(|r| {
            Some((
                CandidateSite {
                    id: region_site_id(&code),
                    name: r.name.clone(),
                    location: Wgs84Point::stored(r.longitude?, r.latitude?),
                    market_days: None,
                    last_visit: None,
                },
                code,
            ))
        }),
        // A group drive's donors are the host's colleagues, not the villages around it: its
        // stops are no site of the village model (no observation, no forecast).
        Ok(SiteRef::Host(_)) | Err(_) => None,
    })
}

/// Every stop of a completed drive with results recorded (at least one check-in: a stop
/// where nobody was checked in is taken as unrecorded, not as a stop nobody came to) as an
/// observation for [`calibrate`]: the donors recorded there, and for each village that counts
/// toward the site (attributed among the active points, as the forecast does) its available
/// people that day, with the recent donors as of that day taken off, times the day factor,
/// and its distance. Exactly what `GET /api/v1/forecast` of that site on that date multiplies
/// by the rate and the decay.
///
/// # Errors
/// Database errors.
pub async fn observations(
    db: &impl ConnectionTrait,
    params: &TurnoutParams,
) -> Result<Vec<Observation>, PlansError> {
    Ok(dated_observations(db, params)
        .await?
        .into_iter()
        .map(|(_, o)| o)
        .collect())
}

/// As [`observations`], each with its drive's date.
async fn dated_observations(
    db: &impl ConnectionTrait,
    params: &TurnoutParams,
) -> Result<Vec<(NaiveDate, Observation)>, PlansError> {
    let drives = attendances::completed_drives(db, &DriveFilter::default()).await?;
    let stop_ids: Vec<i64> = drives
        .iter()
        .flat_map(|(_, stops)| stops.iter().map(|s| s.id))
        .collect();
    let recorded = attendances::recorded_per_stop(db, &stop_ids).await?;
    // Each site, city and the active points near them read once.
    let mut sites: HashMap<String, Option<(CandidateSite, RegionCode)>> = HashMap::new();
    for (_, stops) in &drives {
        for stop in stops.iter().filter(|s| recorded.contains_key(&s.id)) {
            if !sites.contains_key(&stop.site_id) {
                let site = stop_site(db, &stop.site_id).await?;
                sites.insert(stop.site_id.clone(), site);
            }
        }
    }
    let locations: Vec<Wgs84Point> = sites.values().flatten().map(|(c, _)| c.location).collect();
    let points: Vec<(String, Wgs84Point)> =
        active_points_near(db, &locations, 2.0 * params.catchment_km)
            .await?
            .into_iter()
            .map(|p| {
                (
                    point_site_id(p.id),
                    Wgs84Point::stored(p.longitude, p.latitude),
                )
            })
            .collect();
    type Supply = (Vec<VillageSupply>, Vec<(String, NaiveDate)>);
    let mut cities: HashMap<(String, String), Supply> = HashMap::new();
    let mut out = Vec::with_capacity(recorded.len());
    for (drive, stops) in &drives {
        for stop in stops {
            let Some(&(_, donated)) = recorded.get(&stop.id) else {
                continue;
            };
            let Some(Some((site, code))) = sites.get(&stop.site_id) else {
                continue;
            };
            let range = supply_range(code, Level::Village);
            if !cities.contains_key(&range) {
                let villages: Vec<VillageSupply> = surveys::village_facts(db, &range.0, &range.1)
                    .await?
                    .iter()
                    .filter_map(supply)
                    .collect();
                let donations = attendances::donations_by_village(db, &range.0, &range.1).await?;
                cities.insert(range.clone(), (villages, donations));
            }
            let (villages, donations) = &cities[&range];
            let villages = with_recent_donors(villages, donations, drive.date);
            let (own, _) = attribute_among(site, &points, &villages, params.catchment_km);
            let own: Vec<VillageSupply> = own.into_iter().map(|v| villages[v].clone()).collect();
            let at = turnout::Site {
                location: site.location,
                market_days: site.market_days,
            };
            let f = turnout::forecast(&at, drive.date, &own, params, None);
            out.push((
                drive.date,
                Observation {
                    villages: f
                        .villages
                        .iter()
                        .map(|t| Exposure {
                            weighted_available: t.available * f.day.factor,
                            distance_km: t.distance_km,
                        })
                        .collect(),
                    donors: donated as f64,
                },
            ));
        }
    }
    Ok(out)
}

/// The calibration as it stood at the end of a month.
#[derive(Clone, Debug)]
pub struct CalibrationAt {
    /// The month's last day: drives completed up to then count (by their date).
    pub through: NaiveDate,
    /// Recorded stops in that month alone.
    pub new_stops: usize,
    pub calibration: Calibration,
}

/// The calibration's fitted parameters over time: for each month with recorded stops of
/// completed drives, [`calibrate`] over every recorded stop up to that month's end, as
/// [`turnout_params`] would have answered then with today's records (oldest first). The last
/// entry is what the forecast uses now.
///
/// # Errors
/// Database errors.
pub async fn calibration_history(
    db: &impl ConnectionTrait,
) -> Result<Vec<CalibrationAt>, PlansError> {
    let defaults = TurnoutParams::default();
    let mut observed = dated_observations(db, &defaults).await?;
    observed.sort_by_key(|(on, _)| *on);
    let mut out: Vec<CalibrationAt> = Vec::new();
    let mut start = 0;
    while start < observed.len() {
        let first = observed[start].0;
        let next_month = first
            .with_day(1)
            .and_then(|d| d.checked_add_months(Months::new(1)))
            .unwrap_or(NaiveDate::MAX);
        let end = observed[start..]
            .iter()
            .position(|(on, _)| *on >= next_month)
            .map_or(observed.len(), |k| start + k);
        let so_far: Vec<Observation> = observed[..end].iter().map(|(_, o)| o.clone()).collect();
        let (_, calibration) = calibrate(&so_far, &defaults);
        out.push(CalibrationAt {
            through: next_month.pred_opt().unwrap_or(first),
            new_stops: end - start,
            calibration,
        });
        start = end;
    }
    Ok(out)
}

/// The turnout parameters in use and where they come from: fitted to the recorded results of
/// completed drives once there are enough of them (`planning::calibrate`, at least
/// [`crate::planning::calibrate::MIN_STOPS`] stops); until then the documented defaults.
///
/// # Errors
/// Database errors.
pub async fn turnout_params(
    db: &impl ConnectionTrait,
) -> Result<(TurnoutParams, Calibration), PlansError> {
    let defaults = TurnoutParams::default();
    let observed = observations(db, &defaults).await?;
    let (params, mut calibration) = calibrate(&observed, &defaults);
    if calibration.source == "defaults" {
        calibration.note = format!(
            "{}: the documented defaults are used until then (drive results count once their drive is completed)",
            calibration.note
        );
    }
    Ok((params, calibration))
}

/// A built instance, with the request as accepted (defaults and vehicles filled in).
#[derive(Clone, Debug)]
pub struct Built {
    pub request: PlanRequest,
    pub region: Region,
    pub instance: Instance,
}

/// Checks `request` against the database and builds its instance. `reach` limits the
/// vehicles to those a caller may read (`None`: all, for the command line).
///
/// # Errors
/// 400 naming the field for anything the request gets wrong (an unknown region, vehicle or
/// site); database errors.
pub async fn build(
    db: &impl ConnectionTrait,
    request: &PlanRequest,
    reach: Option<&Visibility>,
) -> Result<Built, PlansError> {
    let checked = request.check()?;
    let code = checked.region;
    let region = regions::find(db, &code)
        .await?
        .ok_or_else(|| PlansError::invalid("region", format!("no region with code {code}")))?;
    let mut errors = FieldErrors::default();

    // The fleet.
    let fleet: Vec<(vehicle::Model, station::Model)> = match &request.vehicles {
        Some(ids) => {
            let mut out = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                let field = format!("vehicles[{i}]");
                let found = fleet::find_vehicle_with_station(db, *id)
                    .await?
                    .filter(|(_, s)| readable(reach, &s.region_code));
                match found {
                    None => errors.add(&field, format!("no vehicle with id {id}")),
                    Some((v, _)) if v.status != VehicleStatus::Active.as_str() => {
                        errors.add(&field, format!("vehicle {id} is {}", v.status));
                    }
                    Some((_, s)) if s.status != StationStatus::Active.as_str() => errors.add(
                        &field,
                        format!("vehicle {id}'s station ({}) is {}", s.name, s.status),
                    ),
                    Some(pair) => out.push(pair),
                }
            }
            out
        }
        None => {
            let ancestors = code.ancestor_candidates();
            let (lo, hi) = code.subtree_bounds(region.level);
            fleet::list_vehicles(
                db,
                &FleetFilter {
                    statuses: vec![VehicleStatus::Active.as_str()],
                    reach: reach.cloned(),
                    ..FleetFilter::default()
                },
            )
            .await?
            .into_iter()
            .filter(|(_, s)| {
                s.status == StationStatus::Active.as_str()
                    && ((lo.as_str()..=hi.as_str()).contains(&s.region_code.as_str())
                        || ancestors.contains(&s.region_code))
            })
            .collect()
        }
    };
    if request.vehicles.is_none() && fleet.is_empty() {
        errors.add(
            "vehicles",
            "no active vehicle at an active station in or above this region; name the vehicles",
        );
    }

    // The candidates: the region's active points, then (when asked) the unserved places.
    let (lo, hi) = code.subtree_bounds(region.level);
    let region_points = points::list(
        db,
        &PointFilter {
            region_range: Some((lo.clone(), hi.clone())),
            statuses: vec![PointStatus::Active],
            ..PointFilter::default()
        },
    )
    .await?;
    let mut candidates: Vec<CandidateSite> = region_points.iter().map(point_candidate).collect();
    let (supply_lo, supply_hi) = supply_range(&code, region.level);
    let facts = surveys::village_facts(db, &supply_lo, &supply_hi).await?;
    if request.candidates == Candidates::PointsAndUnserved {
        candidates.extend(unserved(db, &region, &facts).await?);
    }
    // Recorded results: the last completed drive at each site (no stop there within the
    // interval).
    let visits = attendances::last_visits(db, request.from).await?;
    for c in &mut candidates {
        c.last_visit = visits.get(&c.id).copied();
    }
    // Host organisations (group drives): those listed, and those a fixed stop names.
    let hosts = host_sites(db, request, &lo, &hi, reach, &mut errors).await?;
    let hosts: Vec<HostSite> = hosts
        .into_iter()
        .map(|mut h| {
            h.last_visit = visits.get(&h.id).copied();
            h
        })
        .collect();
    if candidates.len() + hosts.len() + fleet.len() > MAX_PLACES {
        errors.add(
            "region",
            format!(
                "{} candidate sites: at most {MAX_PLACES} places in a plan; plan a smaller region",
                candidates.len()
            ),
        );
    }
    let ids: BTreeSet<&str> = candidates
        .iter()
        .map(|c| c.id.as_str())
        .chain(hosts.iter().map(|h| h.id.as_str()))
        .collect();
    for (i, f) in request.fixed.iter().enumerate() {
        if !ids.contains(f.site.as_str()) {
            errors.add(&format!("fixed[{i}].site"), not_a_candidate(&f.site));
        }
        if let Some(v) = f.vehicle
            && request.vehicles.is_none()
            && !fleet.iter().any(|(x, _)| x.id == v)
        {
            errors.add(
                &format!("fixed[{i}].vehicle"),
                format!("vehicle {v} is not among the plan's vehicles"),
            );
        }
    }
    for (i, f) in request.forbidden.iter().enumerate() {
        if !ids.contains(f.site.as_str()) {
            errors.add(&format!("forbidden[{i}].site"), not_a_candidate(&f.site));
        }
    }
    all_valid(errors)?;

    // Turnout: the villages (less their recent donors), and the active points that are not
    // candidates but draw theirs.
    let (params, _) = turnout_params(db).await?;
    let params = request.turnout.apply(&params);
    let villages: Vec<VillageSupply> = facts.iter().filter_map(supply).collect();
    let donations = attendances::donations_by_village(db, &supply_lo, &supply_hi).await?;
    let villages = with_recent_donors(&villages, &donations, request.from);
    let locations: Vec<Wgs84Point> = candidates.iter().map(|c| c.location).collect();
    let others: Vec<OtherSite> = active_points_near(db, &locations, 2.0 * params.catchment_km)
        .await?
        .into_iter()
        .map(|p| OtherSite {
            id: point_site_id(p.id),
            location: Wgs84Point::stored(p.longitude, p.latitude),
        })
        .filter(|o| !ids.contains(o.id.as_str()))
        .collect();

    // A vehicle that already has a drive on a day is not free that day: a plan that used it
    // could not be accepted.
    let vehicle_ids: Vec<i64> = fleet.iter().map(|(v, _)| v.id).collect();
    let busy = crate::store::drives::busy_days(db, &vehicle_ids, request.from, request.to).await?;
    let mut stations: Vec<&station::Model> = fleet.iter().map(|(_, s)| s).collect();
    stations.sort_by_key(|s| s.id);
    stations.dedup_by_key(|s| s.id);
    let station_ids: Vec<i64> = stations.iter().map(|s| s.id).collect();
    let assembly = Assembly {
        // Stored with the plan and printed on its sheets: in the station's language, zh-CN.
        name: Lang::ZhCn.tn(
            "plan-name",
            &[
                ("region", region.name.as_str().into()),
                ("from", request.from.to_string().into()),
                ("to", request.to.to_string().into()),
            ],
        ),
        from: request.from,
        to: request.to,
        blackout: request.blackout_dates.clone(),
        stations: stations
            .into_iter()
            .map(|s| instance::Station {
                id: station_id(s.id),
                name: s.name.clone(),
                lon: s.longitude,
                lat: s.latitude,
            })
            .collect(),
        vehicles: fleet
            .iter()
            .map(|(v, _)| {
                let days = busy
                    .iter()
                    .filter(|(id, _)| *id == v.id)
                    .map(|(_, day)| *day)
                    .collect();
                instance_vehicle(v, days)
            })
            .collect::<Result<_, _>>()?,
        candidates,
        hosts,
        others,
        villages,
        params,
        rules: Rules {
            min_expected_donors: request.min_expected_donors,
            min_days_between_visits: request.min_days_between_visits,
            ..Rules::default()
        },
        travel: request.travel.clone(),
        fixed: request
            .fixed
            .iter()
            .map(|f| FixedStop {
                site: f.site.clone(),
                date: f.date,
                vehicle: f.vehicle.map(vehicle_id),
            })
            .collect(),
        forbidden: request
            .forbidden
            .iter()
            .map(|f| ForbiddenStop {
                site: f.site.clone(),
                date: f.date,
            })
            .collect(),
    };
    // Blood groups the stations are short of make the sites whose villages give them worth
    // more than their mL (README, "What the donors are worth by blood group").
    let supply = value::station_supply(db, &station_ids).await?;
    let factors = if value::weighs_anything(&supply) {
        value_factors(db, &assembly, &supply).await?
    } else {
        Vec::new()
    };
    let mut instance = assemble::assemble(assembly);
    with_values(&mut instance, &factors);
    let mut accepted = request.clone();
    accepted.region = code.to_string();
    accepted.vehicles = Some(fleet.iter().map(|(v, _)| v.id).collect());
    Ok(Built {
        request: accepted,
        region,
        instance,
    })
}

/// The value factor ([`crate::domain::shortage`]) of every site of the instance `assembly`
/// makes, per planning day, in the instance's order (the candidates, then the hosts): for a
/// candidate, its villages' blood-group mixes (from their recorded donations) weighted by
/// their expected donors there that day, times the groups' weights from `supply`; for a host
/// (its own colleagues, no villages), the prior's. A site's value that day is its expected
/// donors x `ml_per_donor` x this factor. With no days of supply every factor is 1.
///
/// # Errors
/// The database fails.
pub async fn value_factors(
    db: &impl ConnectionTrait,
    assembly: &Assembly,
    supply: &SupplyDays,
) -> Result<Vec<(String, Vec<f64>)>, PlansError> {
    let codes: Vec<String> = assembly.villages.iter().map(|v| v.code.clone()).collect();
    let (counts, all) = value::recorded_groups(db, &codes).await?;
    Ok(factors_of(assembly, &counts, &all, supply))
}

/// Gives each site of `instance` its `value` per day from its factors (by site id): expected
/// donors x mL per donor x factor. A site whose factors are all 1 keeps no `value` (the
/// default is the same).
pub fn with_values(instance: &mut Instance, factors: &[(String, Vec<f64>)]) {
    let ml = instance.rules.ml_per_donor;
    let by_site: HashMap<&str, &Vec<f64>> =
        factors.iter().map(|(id, f)| (id.as_str(), f)).collect();
    for site in &mut instance.sites {
        let Some(f) = by_site.get(site.id.as_str()) else {
            continue;
        };
        if f.len() != site.expected.len() || f.iter().all(|x| (x - 1.0).abs() < 1e-9) {
            continue;
        }
        site.value = Some(
            site.expected
                .iter()
                .zip(f.iter())
                .map(|(e, x)| (e * ml * x * 10.0).round() / 10.0)
                .collect(),
        );
    }
}

/// [`value_factors`] with the recorded donations by group given: those of each village and
/// the deployment's.
pub fn factors_of(
    assembly: &Assembly,
    counts: &HashMap<String, GroupCounts>,
    all: &GroupCounts,
    supply: &SupplyDays,
) -> Vec<(String, Vec<f64>)> {
    let days = assemble::planning_days(assembly.from, assembly.to, &assembly.blackout);
    // The attribution of `assemble::assemble`: candidates and the other active points.
    let places: Vec<(&str, Wgs84Point)> = assembly
        .candidates
        .iter()
        .map(|c| (c.id.as_str(), c.location))
        .chain(assembly.others.iter().map(|o| (o.id.as_str(), o.location)))
        .collect();
    let shares = attribute(&places, &assembly.villages, assembly.params.catchment_km);
    let candidates = assembly.candidates.iter().zip(&shares).map(|(c, share)| {
        let own: Vec<VillageSupply> = share
            .iter()
            .map(|&v| assembly.villages[v].clone())
            .collect();
        let site = turnout::Site {
            location: c.location,
            market_days: c.market_days,
        };
        let per_day = days
            .iter()
            .map(|d| {
                let f = turnout::forecast(&site, *d, &own, &assembly.params, None);
                let draws: Vec<Draw> = f
                    .villages
                    .into_iter()
                    .map(|v| Draw {
                        code: v.code,
                        expected: v.expected,
                    })
                    .collect();
                shortage::explain(&value::with_counts(&draws, counts), all, supply).factor
            })
            .collect();
        (c.id.clone(), per_day)
    });
    let host_factor = shortage::explain(&[], all, supply).factor;
    let hosts = assembly
        .hosts
        .iter()
        .map(|h| (h.id.clone(), vec![host_factor; days.len()]));
    candidates.chain(hosts).collect()
}

fn readable(reach: Option<&Visibility>, region_code: &str) -> bool {
    reach.is_none_or(|r| RegionCode::parse(region_code).is_ok_and(|c| r.contains(&c)))
}

fn not_a_candidate(site: &str) -> String {
    match SiteRef::parse(site) {
        Err(message) => message,
        Ok(SiteRef::Point(_)) => {
            format!("{site} is not an active point of the plan's region")
        }
        Ok(SiteRef::Host(_)) => {
            format!("{site} is not a host of the plan's region that the caller reads")
        }
        Ok(SiteRef::Region(_)) => format!(
            "{site} is not a candidate: a township or village of the region with surveyed \
             donors and no active point within {UNSERVED_RADIUS_KM} km, with \
             \"candidates\": \"points_and_unserved\""
        ),
    }
}

/// The host organisations a plan may stop at: each of `request.hosts` (field
/// `hosts[i].host`), then each host a fixed stop names that is not listed (`fixed[i].site`),
/// once. A host must be one the caller reads, in the region's code range `[lo, hi]`, and have
/// an expected number of donors: the request's sign-up goal, else its typical headcount times
/// [`crate::domain::host::PARTICIPATION_SHARE`]. Faults are added to `errors`.
async fn host_sites(
    db: &impl ConnectionTrait,
    request: &PlanRequest,
    lo: &str,
    hi: &str,
    reach: Option<&Visibility>,
    errors: &mut FieldErrors,
) -> Result<Vec<HostSite>, PlansError> {
    let mut wanted: Vec<(String, i64, Option<i32>)> = request
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("hosts[{i}].host"), h.host, h.signup_goal))
        .collect();
    for (i, f) in request.fixed.iter().enumerate() {
        if let Ok(SiteRef::Host(id)) = SiteRef::parse(&f.site)
            && !wanted.iter().any(|(_, h, _)| *h == id)
        {
            wanted.push((format!("fixed[{i}].site"), id, None));
        }
    }
    let mut out = Vec::with_capacity(wanted.len());
    for (field, id, goal) in wanted {
        let found = host_store::find(db, id)
            .await?
            .filter(|h| readable(reach, &h.region_code));
        let Some(host) = found else {
            errors.add(&field, format!("no host with id {id}"));
            continue;
        };
        if !(lo..=hi).contains(&host.region_code.as_str()) {
            errors.add(
                &field,
                format!(
                    "host {id} ({}) lies outside the plan's region",
                    host.region_code
                ),
            );
            continue;
        }
        let Some(expected) = crate::domain::host::expected_donors(goal, host.typical_headcount)
        else {
            errors.add(
                &field,
                format!(
                    "host {id} has no typical headcount: give its signup_goal in `hosts`, or \
                     record its headcount"
                ),
            );
            continue;
        };
        out.push(HostSite {
            id: host_site_id(id),
            name: host.name,
            location: Wgs84Point::stored(host.longitude, host.latitude),
            expected,
            last_visit: None,
        });
    }
    Ok(out)
}

/// `v` as the planner sees it, not free on `unavailable` (the days it has a drive already).
fn instance_vehicle(
    v: &vehicle::Model,
    unavailable: Vec<NaiveDate>,
) -> Result<instance::Vehicle, PlansError> {
    let count = |n: i32| {
        u32::try_from(n)
            .map_err(|_| PlansError::Corrupt(anyhow::anyhow!("vehicle {}: {n} is negative", v.id)))
    };
    Ok(instance::Vehicle {
        id: vehicle_id(v.id),
        name: format!("{} {}", v.name, v.plate),
        station: station_id(v.station_id),
        beds: count(v.beds)?,
        max_donors: count(v.max_donors_per_day)?,
        day_start: count(v.day_start)?,
        day_end: count(v.day_end)?,
        setup_min: f64::from(v.setup_min),
        teardown_min: f64::from(v.teardown_min),
        cost_per_km: v.cost_per_km,
        unavailable,
    })
}

/// The townships and villages of `region` with surveyed eligible donors, a known centre and no
/// active point within [`UNSERVED_RADIUS_KM`]: at most [`MAX_UNSERVED`], those with the most
/// eligible donors, in code order. A township's eligible donors are its villages'.
async fn unserved(
    db: &impl ConnectionTrait,
    region: &Region,
    facts: &[VillageFact],
) -> Result<Vec<CandidateSite>, PlansError> {
    let in_region = |code: &str| {
        RegionCode::parse(code)
            .is_ok_and(|c| c == region.code || c.is_under(&region.code, region.level))
    };
    let mut units: Vec<(String, String, Wgs84Point, i64)> = Vec::new();
    let mut townships = regions::list(
        db,
        &RegionFilter {
            parent: Some((region.code.clone(), region.level)),
            level: Some(Level::Township),
            name_contains: None,
            after: None,
            limit: 1_000_000,
            reach: None,
        },
    )
    .await?;
    if region.level == Level::Township {
        townships.push(region.clone());
    }
    for t in townships {
        let (Some(lon), Some(lat)) = (t.longitude, t.latitude) else {
            continue;
        };
        let prefix = &t.code.as_str()[..Level::Township.prefix_len()];
        let eligible: i64 = facts
            .iter()
            .filter(|f| f.code.starts_with(prefix))
            .filter_map(|f| f.eligible_total)
            .map(i64::from)
            .sum();
        units.push((
            t.code.to_string(),
            t.name,
            Wgs84Point::stored(lon, lat),
            eligible,
        ));
    }
    for f in facts.iter().filter(|f| in_region(&f.code)) {
        if let (Some(lon), Some(lat), Some(eligible)) = (f.longitude, f.latitude, f.eligible_total)
        {
            units.push((
                f.code.clone(),
                f.name.clone(),
                Wgs84Point::stored(lon, lat),
                i64::from(eligible),
            ));
        }
    }
    units.retain(|u| u.3 > 0);
    let places: Vec<Wgs84Point> = units.iter().map(|u| u.2).collect();
    let active = SiteIndex::new(
        active_points_near(db, &places, UNSERVED_RADIUS_KM)
            .await?
            .iter()
            .map(|p| Wgs84Point::stored(p.longitude, p.latitude))
            .collect(),
    );
    units.retain(|u| active.nearest_within(u.2, UNSERVED_RADIUS_KM).is_none());
    units.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| a.0.cmp(&b.0)));
    units.truncate(MAX_UNSERVED);
    units.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(units
        .into_iter()
        .map(|(code, name, location, _)| CandidateSite {
            id: format!("region-{code}"),
            name,
            location,
            market_days: None,
            last_visit: None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn village(code: &str, lon: f64) -> VillageSupply {
        VillageSupply {
            code: code.to_owned(),
            name: code.to_owned(),
            location: Wgs84Point::stored(lon, 33.5),
            resident_eligible: 1000.0,
            away_for_work: 0.0,
            recent_donors: 0.0,
        }
    }

    #[test]
    fn recent_donors_are_the_donations_of_the_180_days_before_the_date() {
        let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let villages = [village("a", 114.0), village("b", 114.1)];
        let donations = vec![
            ("a".to_owned(), day(6, 1)), // 183 days before 1 December: too old
            ("a".to_owned(), day(6, 4)), // exactly 180 days before: counts
            ("a".to_owned(), day(11, 30)),
            ("a".to_owned(), day(12, 1)), // the day itself: not before
            ("b".to_owned(), day(11, 2)),
            ("c".to_owned(), day(11, 2)), // not among the villages
        ];
        let out = with_recent_donors(&villages, &donations, day(12, 1));
        assert_eq!(out[0].recent_donors, 2.0);
        assert_eq!(out[1].recent_donors, 1.0);
        assert_eq!(out[0].resident_eligible, 1000.0, "nothing else changes");
    }

    #[test]
    fn a_site_among_points_keeps_the_villages_nearest_to_it() {
        let site = CandidateSite {
            id: "point-1".to_owned(),
            name: String::new(),
            location: Wgs84Point::stored(114.0, 33.5),
            market_days: None,
            last_visit: None,
        };
        // About 0.93 km per 0.01 degree of longitude at 33.5 degrees north.
        let villages = [
            village("near", 114.01),
            village("between", 114.04),
            village("far", 114.2),
        ];
        let points = vec![
            ("point-1".to_owned(), site.location), // the site itself is skipped
            ("point-2".to_owned(), Wgs84Point::stored(114.06, 33.5)),
        ];
        let (own, elsewhere) = attribute_among(&site, &points, &villages, 10.0);
        assert_eq!(own, vec![0]);
        assert_eq!(elsewhere, vec![("point-2".to_owned(), 1)]);
        // Without the other point, both near villages are the site's (the far one is out of
        // the catchment).
        let (own, elsewhere) = attribute_among(&site, &[], &villages, 10.0);
        assert_eq!(own, vec![0, 1]);
        assert!(elsewhere.is_empty());
    }

    #[test]
    fn site_ids_parse() {
        assert_eq!(SiteRef::parse("point-12"), Ok(SiteRef::Point(12)));
        assert_eq!(
            SiteRef::parse("region-411102100000"),
            Ok(SiteRef::Region(RegionCode::parse("411102100000").unwrap()))
        );
        for bad in [
            "point-",
            "point-0",
            "point-x",
            "region-4111",
            "12",
            "vehicle-1",
        ] {
            assert!(SiteRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn turnout_comes_from_the_city() {
        let code = |s: &str| RegionCode::parse(s).unwrap();
        assert_eq!(
            supply_range(&code("411102100000"), Level::Township),
            ("411100000000".to_owned(), "411199999999".to_owned())
        );
        assert_eq!(
            supply_range(&code("410000000000"), Level::Province),
            ("410000000000".to_owned(), "419999999999".to_owned())
        );
    }

    #[test]
    fn value_factors_weigh_each_sites_villages_and_are_one_without_shortage() {
        use crate::domain::shortage::{GroupDays, GroupMix, index, prior_mix, village_mix};
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let site = |id: &str, lon: f64| CandidateSite {
            id: id.to_owned(),
            name: id.to_owned(),
            location: Wgs84Point::stored(lon, 33.5),
            market_days: None,
            last_visit: None,
        };
        let assembly = Assembly {
            name: String::new(),
            from: day(7),
            to: day(9),
            blackout: vec![day(8)],
            stations: vec![],
            vehicles: vec![],
            candidates: vec![site("point-1", 114.0), site("point-2", 114.3)],
            hosts: vec![HostSite {
                id: "host-1".to_owned(),
                name: String::new(),
                location: Wgs84Point::stored(114.1, 33.5),
                expected: 20.0,
                last_visit: None,
            }],
            others: vec![],
            villages: vec![village("a", 114.01), village("b", 114.31)],
            params: TurnoutParams::default(),
            rules: instance::Rules::default(),
            travel: instance::Travel::default(),
            fixed: vec![],
            forbidden: vec![],
        };
        let o_neg: crate::domain::recruitment::BloodGroup = "O-".parse().unwrap();
        let mut a = [0; 8];
        a[index(o_neg)] = 10;
        let counts = HashMap::from([("a".to_owned(), a)]);
        let none = factors_of(&assembly, &counts, &a, &SupplyDays::new());
        assert_eq!(none.len(), 3);
        for (id, per_day) in &none {
            assert_eq!(per_day.len(), 2, "{id}: two planning days");
            assert!(per_day.iter().all(|f| (f - 1.0).abs() < 1e-12), "{id}");
        }
        let empty = GroupDays {
            days: Some(0.0),
            amber_days: 7.0,
            red_days: 3.0,
        };
        let supply = SupplyDays::from([(o_neg, empty)]);
        let out = factors_of(&assembly, &counts, &a, &supply);
        let prior = prior_mix(&a);
        let (mix_a, _) = village_mix(&a, &prior);
        let expect = |mix: &GroupMix| 1.0 + 2.0 * mix.share(o_neg);
        assert_eq!(out[0].0, "point-1");
        assert!((out[0].1[0] - expect(&mix_a)).abs() < 1e-12, "{out:?}");
        assert!((out[1].1[1] - expect(&prior)).abs() < 1e-12, "{out:?}");
        assert!(
            (out[2].1[0] - expect(&prior)).abs() < 1e-12,
            "the host: {out:?}"
        );
        assert!(out[0].1[0] > out[1].1[0]);
    }
}
