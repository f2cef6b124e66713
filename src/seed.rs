//! The demo data, fictional and built into the binary (see `seed-data/README.md`): the demo
//! county (`seed-data/demo-divisions.csv`) and its donation network
//! (`seed-data/demo-network.json`: a blood station with two bloodmobiles, donation points with
//! their coordinators, and a survey of every village).
//!
//! The network goes in through the same validation and store functions as the API's `POST`s
//! (so demo data that breaks a rule cannot be loaded: the whole network is refused), in one
//! transaction, audited as made by "demo data".

use std::collections::BTreeMap;
use std::fmt;

use anyhow::Context;
use chrono::Utc;
use entity::{coordinator, point, station, village_survey};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::region::{Level, RegionCode};
use crate::error::AppError;
use crate::fleet::{self, NewStation, NewVehicle};
use crate::import::divisions::{self, ImportError, ImportOptions, ImportSummary, Source};
use crate::registry::surveys::NewSurvey;
use crate::registry::{self, Acting};
use crate::store;
use crate::store::audit::Actor;

/// The demo division table, fictional (codes under the unused province prefix 99).
pub const DEMO_DIVISIONS: Source<'static> = Source::Embedded {
    name: "seed-data/demo-divisions.csv",
    csv: include_bytes!("../seed-data/demo-divisions.csv"),
};

/// Where the demo network comes from (for messages).
pub const DEMO_NETWORK_NAME: &str = "seed-data/demo-network.json";
const DEMO_NETWORK: &str = include_str!("../seed-data/demo-network.json");

/// The demo province: every demo record lies under it.
pub const DEMO_PROVINCE: &str = "990000000000";
/// The demo county (青禾县（演示）), the region to plan.
pub const DEMO_COUNTY: &str = "990101000000";

/// `seed-data/demo-network.json`: the bodies of the API's `POST`s, except that vehicles take
/// the station's id from the loader and surveys are keyed by village code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkFile {
    #[serde(rename = "about")]
    _about: String,
    station: NewStation,
    /// `POST /api/v1/vehicles` bodies without `station_id`.
    vehicles: Vec<Map<String, Value>>,
    points: Vec<DemoPoint>,
    /// `POST /api/v1/regions/{code}/surveys` bodies by village code.
    surveys: BTreeMap<String, NewSurvey>,
}

/// A point and its primary coordinator.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoPoint {
    point: registry::points::NewPoint,
    coordinator: registry::coordinators::CoordinatorInput,
}

/// What [`load_demo_network`] created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkSummary {
    pub stations: usize,
    pub vehicles: usize,
    pub points: usize,
    pub coordinators: usize,
    pub surveys: usize,
    /// Published drives for donors to book (dated from the day of the load).
    pub drives: usize,
}

impl fmt::Display for NetworkSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} station, {} vehicles, {} points, {} coordinators, {} village surveys, {} published drives",
            self.stations, self.vehicles, self.points, self.coordinators, self.surveys, self.drives
        )
    }
}

/// What [`load_demo`] did: the division import, and the network unless the demo county
/// already had one.
#[derive(Debug)]
pub struct DemoSummary {
    pub divisions: ImportSummary,
    pub network: Option<NetworkSummary>,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let divisions = match DEMO_DIVISIONS {
            Source::Embedded { name, .. } => name,
            Source::File(_) => "file",
        };
        writeln!(f, "divisions ({divisions}):\n{}", self.divisions)?;
        match &self.network {
            Some(network) => write!(f, "network ({DEMO_NETWORK_NAME}): created {network}"),
            None => write!(
                f,
                "network ({DEMO_NETWORK_NAME}): nothing changed: the demo county already has \
                 points, coordinators, surveys or a station"
            ),
        }
    }
}

/// Loads the demo division table (idempotent: a second run changes nothing).
///
/// # Errors
/// Database errors; the embedded file itself is checked by the test suite.
pub async fn load_demo_divisions(db: &DatabaseConnection) -> Result<ImportSummary, ImportError> {
    divisions::import(db, DEMO_DIVISIONS, ImportOptions::default()).await
}

/// Loads the demo network into the demo county, which must be loaded, unless the county
/// already holds a station, a point, a coordinator or a survey (so a second run changes
/// nothing). All or nothing, in one transaction. Returns what was created, or `None`.
///
/// # Errors
/// Database errors, or a demo record that breaks a rule of the API (the test suite loads the
/// file, so this does not happen in a release).
pub async fn load_demo_network(db: &DatabaseConnection) -> anyhow::Result<Option<NetworkSummary>> {
    let file: NetworkFile = serde_json::from_str(DEMO_NETWORK)
        .with_context(|| format!("{DEMO_NETWORK_NAME} is not a demo network file"))?;
    let txn = crate::db::begin_write(db).await?;
    if has_network(&txn).await? {
        txn.rollback().await?;
        return Ok(None);
    }
    let (mut summary, sites) = insert_network(&txn, file)
        .await
        .map_err(crate::admin::explain)
        .with_context(|| format!("the demo network ({DEMO_NETWORK_NAME}) was refused"))?;
    txn.commit().await?;
    summary.drives = insert_drives(db, &sites)
        .await
        .map_err(crate::admin::explain)
        .context("the demo drives were refused")?;
    Ok(Some(summary))
}

/// The first vehicle and the points of the demo network, for its drives.
struct DemoSites {
    vehicle: i64,
    points: Vec<i64>,
}

/// Two published drives of the first vehicle, 3 and 10 days after the load (China time), at
/// the first two points, so that the public schedule has stops to book on a fresh install.
async fn insert_drives(db: &DatabaseConnection, sites: &DemoSites) -> Result<usize, AppError> {
    let acting = crate::drives::Acting::trusted(Actor::demo_data());
    let now = Utc::now();
    let today = crate::domain::booking::today_in_china(now);
    let mut made = 0;
    for (days, point, (start, end)) in [
        (3, sites.points.first(), ("09:00", "11:30")),
        (10, sites.points.get(1), ("08:30", "12:00")),
    ] {
        let Some(point) = point else { continue };
        let cmd = crate::drives::lifecycle::NewDrive {
            vehicle_id: sites.vehicle,
            date: today + chrono::Duration::days(days),
            region: None,
            stops: vec![crate::drives::lifecycle::NewStop {
                site: format!("point-{point}"),
                planned_start: start.to_owned(),
                planned_end: end.to_owned(),
                expected_donors: 40.0,
                signup_goal: None,
            }],
        };
        let (drive, _) = crate::drives::lifecycle::create(db, cmd, &acting, now).await?;
        let version = drive.version;
        let publish = crate::drives::lifecycle::Transition {
            to: "published".to_owned(),
            reason: None,
        };
        crate::drives::lifecycle::transition(db, drive, version, publish, &acting, now).await?;
        made += 1;
    }
    Ok(made)
}

/// Whether the demo province holds any station, point, coordinator or survey.
async fn has_network(db: &impl ConnectionTrait) -> Result<bool, sea_orm::DbErr> {
    let province = RegionCode::parse(DEMO_PROVINCE).expect("a valid code");
    let (lo, hi) = province.subtree_bounds(Level::Province);
    let (lo, hi) = (lo.as_str(), hi.as_str());
    let counts = [
        station::Entity::find()
            .filter(station::Column::RegionCode.between(lo, hi))
            .count(db)
            .await?,
        point::Entity::find()
            .filter(point::Column::RegionCode.between(lo, hi))
            .count(db)
            .await?,
        coordinator::Entity::find()
            .filter(coordinator::Column::RegionCode.between(lo, hi))
            .count(db)
            .await?,
        village_survey::Entity::find()
            .filter(village_survey::Column::RegionCode.between(lo, hi))
            .count(db)
            .await?,
    ];
    Ok(counts.iter().any(|&n| n > 0))
}

/// Creates the network through the fleet and registry services, as [`Actor::demo_data`].
async fn insert_network(
    txn: &impl ConnectionTrait,
    file: NetworkFile,
) -> Result<(NetworkSummary, DemoSites), AppError> {
    let actor = Actor::demo_data();
    let now = Utc::now();
    let mut summary = NetworkSummary::default();
    let station = fleet::stations::create(txn, file.station, &actor, now).await?;
    summary.stations += 1;
    let mut sites = DemoSites {
        vehicle: 0,
        points: vec![],
    };
    for mut body in file.vehicles {
        body.insert("station_id".to_owned(), Value::from(station.id));
        let body: NewVehicle = serde_json::from_value(Value::Object(body))
            .map_err(|e| AppError::invalid("vehicles", e.to_string()))?;
        let vehicle = fleet::vehicles::create(txn, body, &actor, now).await?;
        if sites.vehicle == 0 {
            sites.vehicle = vehicle.0.id;
        }
        summary.vehicles += 1;
    }
    let acting = Acting::trusted(actor.clone());
    for DemoPoint { point, coordinator } in file.points {
        let name = point.name.clone();
        let created = registry::points::create_in(txn, point, &acting, now).await?;
        if !created.warnings.is_empty() {
            // Demo data should not need checking.
            return Err(AppError::Validation {
                detail: format!("the demo point {name} draws warnings"),
                errors: created.warnings,
            });
        }
        summary.points += 1;
        sites.points.push(created.point.id);
        let fields = registry::coordinators::validated(coordinator)?;
        let person = registry::coordinators::create_in(txn, fields, &acting, now).await?;
        summary.coordinators += 1;
        let assign = registry::coordinators::Assign {
            point_id: created.point.id,
            coordinator_id: person.id,
            primary: true,
        };
        registry::coordinators::assign_in(txn, &created.point, assign, &acting, now).await?;
    }
    for (code, survey) in file.surveys {
        registry::surveys::record_in(txn, &code, survey, &acting, now).await?;
        summary.surveys += 1;
    }
    Ok((summary, sites))
}

/// Loads the demo county and then its network (both idempotent: a second run changes
/// nothing).
///
/// # Errors
/// As [`load_demo_divisions`] and [`load_demo_network`].
pub async fn load_demo(db: &DatabaseConnection) -> anyhow::Result<DemoSummary> {
    let divisions = load_demo_divisions(db).await?;
    let network = load_demo_network(db).await?;
    Ok(DemoSummary { divisions, network })
}

/// Loads the demo data only into an empty database (no regions). Returns whether it did.
///
/// # Errors
/// As [`load_demo`].
pub async fn load_demo_if_empty(db: &DatabaseConnection) -> anyhow::Result<bool> {
    if store::regions::count(db).await? > 0 {
        return Ok(false);
    }
    load_demo(db).await?;
    Ok(true)
}
