//! A station's stock (posted as a sheet, with `If-Match` on the station's inventory version),
//! its warning levels per group (versioned too), its history, the province-wide board, the
//! planner's supply per group, and the recruitment need a red level raises by itself.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use entity::{inventory_stock, station};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Acting, InventoryError, Written, station_for};
use crate::domain::inventory::{
    self as rules, Component, Level, MAX_DAILY_USE, MAX_ML, MAX_UNITS, Thresholds,
};
use crate::domain::policy::Action;
use crate::domain::recruitment::{BloodGroup, DonationKind};
use crate::error::FieldErrors;
use crate::i18n::Lang;
use crate::store::audit::{self, Change};
use crate::store::inventory::{self as store, HistoryFilter, HistoryRow, Posted, VersionOf};

/// The most rows one sheet posts (every component of every group).
pub const MAX_ROWS: usize = 40;
/// The most history rows one read returns.
pub const MAX_HISTORY: u64 = 5000;

/// One stock as shown: what is held, on its way, days of supply, level and what can be spared.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockView {
    pub component: Component,
    /// `O+`, `AB-`.
    #[schema(example = "O+")]
    pub blood_group: String,
    pub units: i32,
    pub ml: i32,
    /// Average daily use, units.
    pub daily_use_units: f64,
    /// Dispatched to the station, not yet received.
    pub incoming_units: i32,
    pub incoming_ml: i32,
    /// Units over daily use; absent when nothing is used.
    pub days_of_supply: Option<f64>,
    pub level: Level,
    /// What the station can spare: units beyond `ceil(amber_days × daily use)` when the days of
    /// supply are above twice `amber_days`; else 0.
    pub surplus_units: i64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<String>,
}

/// A group's warning levels at a station.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupLevels {
    #[schema(example = "O+")]
    pub blood_group: String,
    /// Below this many days of supply a stock is amber (default 3).
    pub amber_days: f64,
    /// Below this many days it is red (default 1; less than `amber_days`).
    pub red_days: f64,
}

/// A station's inventory: its stocks (every component and group posted so far) and levels.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StationInventory {
    pub station_id: i64,
    pub station_name: String,
    pub region_code: String,
    /// The ETag of a posting (0 before the first).
    pub version: i32,
    pub stocks: Vec<StockView>,
    /// Every group's levels (defaults where none were set).
    pub levels: Vec<GroupLevels>,
    /// Whether the reader may post this station's figures (for pages).
    pub editable: bool,
}

/// The levels of every group at a station, with their version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LevelsView {
    pub station_id: i64,
    /// The ETag of a change of levels (0 before the first).
    pub version: i32,
    pub levels: Vec<GroupLevels>,
}

/// The levels a station keeps, by group (defaults for groups not set).
pub(super) struct LevelTable(HashMap<String, Thresholds>);

impl LevelTable {
    pub(super) fn of(&self, group: &str) -> Thresholds {
        self.0.get(group).copied().unwrap_or_default()
    }

    fn rows(&self) -> Vec<GroupLevels> {
        rules::all_groups()
            .iter()
            .map(|g| {
                let t = self.of(&g.to_string());
                GroupLevels {
                    blood_group: g.to_string(),
                    amber_days: t.amber_days,
                    red_days: t.red_days,
                }
            })
            .collect()
    }
}

pub(super) async fn level_table(
    db: &impl ConnectionTrait,
    station_id: i64,
) -> Result<LevelTable, InventoryError> {
    Ok(LevelTable(
        store::levels(db, Some(station_id))
            .await?
            .into_iter()
            .map(|l| {
                (
                    l.blood_group,
                    Thresholds {
                        amber_days: l.amber_days,
                        red_days: l.red_days,
                    },
                )
            })
            .collect(),
    ))
}

/// A stock with its days, level and surplus under `levels`.
pub(super) fn view(stock: &inventory_stock::Model, levels: Thresholds) -> StockView {
    let days = rules::days_of_supply(i64::from(stock.units), stock.daily_use_units);
    StockView {
        component: stock.component.parse().unwrap_or(Component::WholeBlood),
        blood_group: stock.blood_group.clone(),
        units: stock.units,
        ml: stock.ml,
        daily_use_units: stock.daily_use_units,
        incoming_units: stock.incoming_units,
        incoming_ml: stock.incoming_ml,
        days_of_supply: days,
        level: rules::level(days, levels),
        surplus_units: rules::surplus_units(i64::from(stock.units), stock.daily_use_units, levels),
        updated_at: stock.updated_at,
        updated_by: stock.updated_by.clone(),
    }
}

async fn inventory_of(
    db: &impl ConnectionTrait,
    station: &station::Model,
    acting: &Acting<'_>,
) -> Result<StationInventory, InventoryError> {
    let levels = level_table(db, station.id).await?;
    let version = store::versions(db, station.id)
        .await?
        .map_or(0, |v| v.version);
    let stocks = store::stocks(db, Some(station.id))
        .await?
        .iter()
        .map(|s| view(s, levels.of(&s.blood_group)))
        .collect();
    Ok(StationInventory {
        station_id: station.id,
        station_name: station.name.clone(),
        region_code: station.region_code.clone(),
        version,
        stocks,
        levels: levels.rows(),
        editable: acting.may_edit(&station.region_code),
    })
}

/// A station's inventory (any admin or station staff).
///
/// # Errors
/// Denied, no such station.
pub async fn get(
    db: &DatabaseConnection,
    station_id: i64,
    acting: &Acting<'_>,
) -> Result<StationInventory, InventoryError> {
    let station = station_for(db, station_id, Action::Read, acting).await?;
    inventory_of(db, &station, acting).await
}

/// One row of a posted sheet, as the client sent it (checked by [`post`]).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SheetRow {
    /// `whole_blood`, `red_cells`, `plasma`, `platelets` or `cryo`.
    #[schema(example = "red_cells")]
    pub component: String,
    #[schema(example = "O+")]
    pub blood_group: String,
    /// Units held (China's U), 0 or more.
    pub units: i64,
    /// mL held, 0 or more.
    pub ml: i64,
    /// Average daily use, units (0 or more; decimals allowed).
    pub daily_use_units: f64,
}

/// A sheet of stocks: rows not in it stay as they were.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sheet {
    pub rows: Vec<SheetRow>,
}

/// A recruitment need raised by a red level.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RaisedNeed {
    pub need_id: i64,
    #[schema(example = "O+")]
    pub blood_group: String,
    /// Donors wanted.
    pub target: i32,
    pub needed_by: NaiveDate,
}

/// A posting's result: the inventory as it now is, and the needs it raised.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PostResult {
    pub inventory: StationInventory,
    pub needs_raised: Vec<RaisedNeed>,
}

fn check_sheet(sheet: &Sheet) -> Result<Vec<Posted>, InventoryError> {
    let mut errors = FieldErrors::default();
    if sheet.rows.is_empty() {
        errors.add("rows", "give at least one row");
    }
    if sheet.rows.len() > MAX_ROWS {
        errors.add("rows", format!("at most {MAX_ROWS} rows"));
    }
    let mut seen: HashMap<(Component, BloodGroup), usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, row) in sheet.rows.iter().enumerate() {
        let field = |name: &str| format!("rows[{i}].{name}");
        let component = match row.component.trim().parse::<Component>() {
            Ok(c) => Some(c),
            Err(m) => {
                errors.add(&field("component"), m);
                None
            }
        };
        let group = match row.blood_group.parse::<BloodGroup>() {
            Ok(g) => Some(g),
            Err(m) => {
                errors.add(&field("blood_group"), m);
                None
            }
        };
        if !(0..=MAX_UNITS).contains(&row.units) {
            errors.add(
                &field("units"),
                format!("must be between 0 and {MAX_UNITS}"),
            );
        }
        if !(0..=MAX_ML).contains(&row.ml) {
            errors.add(&field("ml"), format!("must be between 0 and {MAX_ML}"));
        }
        if !(row.daily_use_units.is_finite()
            && (0.0..=MAX_DAILY_USE).contains(&row.daily_use_units))
        {
            errors.add(
                &field("daily_use_units"),
                format!("must be between 0 and {MAX_DAILY_USE}"),
            );
        }
        if let (Some(c), Some(g)) = (component, group) {
            if let Some(first) = seen.insert((c, g), i) {
                errors.add(
                    &field("blood_group"),
                    format!("{c} {g} is given twice (rows[{first}] too)"),
                );
            }
            out.push(Posted {
                component: c.as_str().to_owned(),
                blood_group: g.to_string(),
                units: i32::try_from(row.units).unwrap_or(0),
                ml: i32::try_from(row.ml).unwrap_or(0),
                daily_use_units: row.daily_use_units,
            });
        }
    }
    errors.check_with(InventoryError::Invalid)?;
    Ok(out)
}

/// Posts a sheet of a station's stocks (the station's own staff), if the station's inventory
/// is still at version `expected`: each row written, a history row appended for each, and a
/// recruitment need raised for a group whose whole blood or red cells it puts at red (unless
/// one is open there already). Rows not in the sheet stay as they were.
///
/// # Errors
/// Denied, no such station, every bad row and field named (`rows[2].units`), a closed station.
pub async fn post(
    db: &DatabaseConnection,
    station_id: i64,
    sheet: Sheet,
    expected: i32,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Written<PostResult>, InventoryError> {
    let station = station_for(db, station_id, Action::Update, acting).await?;
    let rows = check_sheet(&sheet)?;
    if station.status != "active" {
        return Err(InventoryError::Conflict(format!(
            "station {station_id} is closed"
        )));
    }
    let txn = crate::db::begin_write(db).await?;
    if !store::bump_version(&txn, station_id, VersionOf::Stock, expected, now).await? {
        txn.rollback().await?;
        return Ok(Written::Stale(PostResult {
            inventory: inventory_of(db, &station, acting).await?,
            needs_raised: Vec::new(),
        }));
    }
    let levels = level_table(&txn, station_id).await?;
    let before = store::stocks(&txn, Some(station_id)).await?;
    let mut written = Vec::with_capacity(rows.len());
    for row in &rows {
        let stock = store::put_stock(&txn, station_id, row, acting.username(), now).await?;
        append_history(&txn, &stock, &levels, "posted", None, acting, now).await?;
        written.push(stock);
    }
    let after = store::stocks(&txn, Some(station_id)).await?;
    audit::record(
        &txn,
        Change {
            entity: "inventory",
            entity_id: station_id.to_string(),
            action: "post",
            region_code: Some(station.region_code.clone()),
            before: Some(&before),
            after: Some(&after),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    let needs_raised = raise_needs(&txn, &station, &written, &levels, acting, now).await?;
    txn.commit().await?;
    Ok(Written::Done(PostResult {
        inventory: inventory_of(db, &station, acting).await?,
        needs_raised,
    }))
}

/// Appends what `stock` stands at to the history.
pub(super) async fn append_history(
    txn: &DatabaseTransaction,
    stock: &inventory_stock::Model,
    levels: &LevelTable,
    reason: &'static str,
    offer_id: Option<i64>,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), InventoryError> {
    let shown = view(stock, levels.of(&stock.blood_group));
    store::insert_history(
        txn,
        HistoryRow {
            station_id: stock.station_id,
            component: stock.component.clone(),
            blood_group: stock.blood_group.clone(),
            units: stock.units,
            ml: stock.ml,
            daily_use_units: stock.daily_use_units,
            days_of_supply: shown.days_of_supply,
            level: shown.level.as_str(),
            reason,
            offer_id,
            at: now,
            actor: acting.username(),
        },
    )
    .await?;
    Ok(())
}

/// The recruitment needs the red whole-blood or red-cell stocks among `changed` raise: one per
/// group, for donors enough to get the group's red stocks back to amber, unless the station
/// has an open need for the group already. Audited as the need's creation.
pub(super) async fn raise_needs(
    txn: &DatabaseTransaction,
    station: &station::Model,
    changed: &[inventory_stock::Model],
    levels: &LevelTable,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<RaisedNeed>, InventoryError> {
    // The red red-cell-bearing stocks of each group: (units, daily use), pooled.
    let mut red: BTreeMap<String, (i64, f64, Vec<Component>)> = BTreeMap::new();
    for stock in changed {
        let Ok(component) = stock.component.parse::<Component>() else {
            continue;
        };
        if !component.bears_red_cells() {
            continue;
        }
        if view(stock, levels.of(&stock.blood_group)).level != Level::Red {
            continue;
        }
        let entry = red.entry(stock.blood_group.clone()).or_default();
        entry.0 += i64::from(stock.units);
        entry.1 += stock.daily_use_units;
        if !entry.2.contains(&component) {
            entry.2.push(component);
        }
    }
    if red.is_empty() {
        return Ok(Vec::new());
    }
    let open = store::open_needs_at(txn, station.id).await?;
    let today = crate::domain::booking::today_in_china(now);
    let mut raised = Vec::new();
    for (group, (units, daily_use, components)) in red {
        let covered = open.iter().any(|n| {
            crate::domain::recruitment::parse_groups(&n.blood_groups)
                .is_ok_and(|gs| gs.iter().any(|g| g.to_string() == group))
        });
        if covered {
            continue;
        }
        let target = rules::need_target(units, daily_use, levels.of(&group).amber_days);
        let component_names: Vec<String> = components
            .iter()
            .map(|c| Lang::ZhCn.t(&format!("inv-component-{}", c.as_str())))
            .collect();
        let note = Lang::ZhCn.tn(
            "inv-auto-need-note",
            &[
                ("group", group.clone().into()),
                ("components", component_names.join("、").into()),
            ],
        );
        let needed_by = today + Duration::days(3);
        let need = crate::store::recruitment::insert_need(
            txn,
            crate::store::recruitment::NeedFields {
                region_code: station.region_code.clone(),
                blood_groups: group.clone(),
                kind: DonationKind::WholeBlood,
                target,
                needed_by,
                stop_id: None,
                station_id: Some(station.id),
                position: Some((station.longitude, station.latitude)),
                place_name: station.name.clone(),
                notes: Some(note),
            },
            acting.username(),
            now,
        )
        .await?;
        audit::record(
            txn,
            Change {
                entity: "recruitment_need",
                entity_id: need.id.to_string(),
                action: "create",
                region_code: Some(need.region_code.clone()),
                before: None,
                after: Some(&need),
                actor: acting.actor.clone(),
                at: now,
            },
        )
        .await?;
        raised.push(RaisedNeed {
            need_id: need.id,
            blood_group: group,
            target,
            needed_by,
        });
    }
    Ok(raised)
}

/// A station's warning levels (any admin or station staff).
///
/// # Errors
/// Denied, no such station.
pub async fn levels(
    db: &DatabaseConnection,
    station_id: i64,
    acting: &Acting<'_>,
) -> Result<LevelsView, InventoryError> {
    station_for(db, station_id, Action::Read, acting).await?;
    levels_view(db, station_id).await
}

async fn levels_view(
    db: &impl ConnectionTrait,
    station_id: i64,
) -> Result<LevelsView, InventoryError> {
    Ok(LevelsView {
        station_id,
        version: store::versions(db, station_id)
            .await?
            .map_or(0, |v| v.levels_version),
        levels: level_table(db, station_id).await?.rows(),
    })
}

/// New levels for some groups (the others stay).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelsChange {
    pub levels: Vec<GroupLevels>,
}

/// Sets a station's warning levels for the groups given (the station's own staff), if its
/// levels are still at version `expected`.
///
/// # Errors
/// Denied, no such station, every bad field named (`levels[1].red_days`).
pub async fn set_levels(
    db: &DatabaseConnection,
    station_id: i64,
    change: LevelsChange,
    expected: i32,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Written<LevelsView>, InventoryError> {
    let station = station_for(db, station_id, Action::Update, acting).await?;
    let mut errors = FieldErrors::default();
    if change.levels.is_empty() {
        errors.add("levels", "give at least one group's levels");
    }
    let mut seen = Vec::new();
    let mut rows = Vec::new();
    for (i, l) in change.levels.iter().enumerate() {
        let group = match l.blood_group.parse::<BloodGroup>() {
            Ok(g) if seen.contains(&g) => {
                errors.add(
                    &format!("levels[{i}].blood_group"),
                    format!("{g} is given twice"),
                );
                None
            }
            Ok(g) => {
                seen.push(g);
                Some(g)
            }
            Err(m) => {
                errors.add(&format!("levels[{i}].blood_group"), m);
                None
            }
        };
        let t = Thresholds {
            amber_days: l.amber_days,
            red_days: l.red_days,
        };
        for (field, message) in t.problems() {
            errors.add(&format!("levels[{i}].{field}"), message);
        }
        if let Some(g) = group {
            rows.push((g.to_string(), t));
        }
    }
    errors.check_with(InventoryError::Invalid)?;
    let txn = crate::db::begin_write(db).await?;
    if !store::bump_version(&txn, station_id, VersionOf::Levels, expected, now).await? {
        txn.rollback().await?;
        return Ok(Written::Stale(levels_view(db, station_id).await?));
    }
    let before = level_table(&txn, station_id).await?.rows();
    for (group, t) in &rows {
        store::put_level(&txn, station_id, group, t.amber_days, t.red_days).await?;
    }
    let after = levels_view(&txn, station_id).await?;
    audit::record(
        &txn,
        Change {
            entity: "inventory_levels",
            entity_id: station_id.to_string(),
            action: "update",
            region_code: Some(station.region_code.clone()),
            before: Some(&before),
            after: Some(&after.levels),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Written::Done(after))
}

/// What to read of a station's history; the days are China's.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    pub component: Option<String>,
    pub blood_group: Option<String>,
    /// From this day (inclusive).
    pub from: Option<NaiveDate>,
    /// To this day (inclusive).
    pub to: Option<NaiveDate>,
}

/// What one stock stood at after a change, for the trend's chart.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryPoint {
    pub at: DateTime<Utc>,
    pub component: Component,
    #[schema(example = "O+")]
    pub blood_group: String,
    pub units: i32,
    pub ml: i32,
    pub daily_use_units: f64,
    pub days_of_supply: Option<f64>,
    pub level: Level,
    /// `posted`, `dispatched` or `received`.
    #[schema(example = "posted")]
    pub reason: String,
    /// The offer a dispatch or a receipt moved.
    pub offer_id: Option<i64>,
    pub by: Option<String>,
}

fn china_midnight(day: NaiveDate) -> DateTime<Utc> {
    crate::domain::booking::china()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map_or_else(
            || day.and_time(chrono::NaiveTime::MIN).and_utc(),
            |d| d.to_utc(),
        )
}

/// A station's history, oldest first, by component, group and days (any admin or station
/// staff); at most [`MAX_HISTORY`] points.
///
/// # Errors
/// Denied, no such station, a component or group that is not one, `from` after `to`.
pub async fn history(
    db: &DatabaseConnection,
    station_id: i64,
    query: HistoryQuery,
    acting: &Acting<'_>,
) -> Result<Vec<HistoryPoint>, InventoryError> {
    station_for(db, station_id, Action::Read, acting).await?;
    let mut errors = FieldErrors::default();
    let component = match query.component.as_deref() {
        None => None,
        Some(raw) => match raw.parse::<Component>() {
            Ok(c) => Some(c.as_str().to_owned()),
            Err(m) => {
                errors.add("component", m);
                None
            }
        },
    };
    let blood_group = match query.blood_group.as_deref() {
        None => None,
        Some(raw) => match raw.parse::<BloodGroup>() {
            Ok(g) => Some(g.to_string()),
            Err(m) => {
                errors.add("blood_group", m);
                None
            }
        },
    };
    use chrono::Datelike;
    for (field, date) in [("from", query.from), ("to", query.to)] {
        if date.is_some_and(|d| !(1900..=9999).contains(&d.year())) {
            errors.add(field, "a date between the years 1900 and 9999");
        }
    }
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        errors.add("from", "must not be after to");
    }
    errors.check_with(InventoryError::Invalid)?;
    let filter = HistoryFilter {
        component,
        blood_group,
        from: query.from.map(china_midnight),
        until: query.to.map(|d| china_midnight(d + Duration::days(1))),
        limit: MAX_HISTORY,
    };
    Ok(store::history(db, station_id, &filter)
        .await?
        .into_iter()
        .map(|h| HistoryPoint {
            at: h.at,
            component: h.component.parse().unwrap_or(Component::WholeBlood),
            blood_group: h.blood_group,
            units: h.units,
            ml: h.ml,
            daily_use_units: h.daily_use_units,
            days_of_supply: h.days_of_supply,
            level: h.level.parse().unwrap_or(Level::Ok),
            reason: h.reason,
            offer_id: h.offer_id,
            by: h.actor,
        })
        .collect())
}

/// A station short of a component and group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Short {
    pub station_id: i64,
    pub station_name: String,
    pub level: Level,
    pub units: i32,
    pub days_of_supply: Option<f64>,
}

/// A station able to spare some of a component and group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Spare {
    pub station_id: i64,
    pub station_name: String,
    pub surplus_units: i64,
    pub days_of_supply: Option<f64>,
}

/// Who is short of a component and group, and who could spare some.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Balance {
    pub component: Component,
    #[schema(example = "O+")]
    pub blood_group: String,
    /// Amber and red stations, red first.
    pub short: Vec<Short>,
    /// Stations with surplus, the most first.
    pub surplus: Vec<Spare>,
}

/// The linkage board: every active station's inventory, the balance per component and group,
/// and the requests not yet settled with their offers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Board {
    pub stations: Vec<StationInventory>,
    /// Only the components and groups someone is short of or can spare.
    pub balances: Vec<Balance>,
    /// Requests open, accepted or dispatched, newest first.
    pub requests: Vec<super::linkage::RequestView>,
}

/// The board (any admin or station staff, whatever their regions).
///
/// # Errors
/// Denied (township officials, viewers).
pub async fn board(db: &DatabaseConnection, acting: &Acting<'_>) -> Result<Board, InventoryError> {
    acting.require_reader()?;
    let stations = crate::store::fleet::list_stations(
        db,
        &crate::store::fleet::FleetFilter {
            statuses: vec!["active"],
            ..Default::default()
        },
    )
    .await?;
    let versions: HashMap<i64, i32> = {
        let mut out = HashMap::new();
        for s in &stations {
            if let Some(v) = store::versions(db, s.id).await? {
                out.insert(s.id, v.version);
            }
        }
        out
    };
    let mut levels: HashMap<i64, HashMap<String, Thresholds>> = HashMap::new();
    for l in store::levels(db, None).await? {
        levels.entry(l.station_id).or_default().insert(
            l.blood_group,
            Thresholds {
                amber_days: l.amber_days,
                red_days: l.red_days,
            },
        );
    }
    let mut stocks: HashMap<i64, Vec<inventory_stock::Model>> = HashMap::new();
    for s in store::stocks(db, None).await? {
        stocks.entry(s.station_id).or_default().push(s);
    }
    let mut balances: BTreeMap<(Component, String), Balance> = BTreeMap::new();
    let mut out = Vec::with_capacity(stations.len());
    for station in &stations {
        let table = LevelTable(levels.remove(&station.id).unwrap_or_default());
        let views: Vec<StockView> = stocks
            .remove(&station.id)
            .unwrap_or_default()
            .iter()
            .map(|s| view(s, table.of(&s.blood_group)))
            .collect();
        for v in &views {
            let short = v.level != Level::Ok;
            if !short && v.surplus_units == 0 {
                continue;
            }
            let balance = balances
                .entry((v.component, v.blood_group.clone()))
                .or_insert_with(|| Balance {
                    component: v.component,
                    blood_group: v.blood_group.clone(),
                    short: Vec::new(),
                    surplus: Vec::new(),
                });
            if short {
                balance.short.push(Short {
                    station_id: station.id,
                    station_name: station.name.clone(),
                    level: v.level,
                    units: v.units,
                    days_of_supply: v.days_of_supply,
                });
            } else {
                balance.surplus.push(Spare {
                    station_id: station.id,
                    station_name: station.name.clone(),
                    surplus_units: v.surplus_units,
                    days_of_supply: v.days_of_supply,
                });
            }
        }
        out.push(StationInventory {
            station_id: station.id,
            station_name: station.name.clone(),
            region_code: station.region_code.clone(),
            version: versions.get(&station.id).copied().unwrap_or(0),
            stocks: views,
            levels: table.rows(),
            editable: acting.may_edit(&station.region_code),
        });
    }
    let balances = balances
        .into_values()
        .map(|mut b| {
            b.short.sort_by_key(|s| (s.level, s.units));
            b.surplus
                .sort_by_key(|s| std::cmp::Reverse(s.surplus_units));
            b
        })
        .collect();
    let requests = super::linkage::unsettled(db, acting).await?;
    Ok(Board {
        stations: out,
        balances,
        requests,
    })
}

/// A group's supply at a station over its red-cell-bearing components (whole blood and red
/// cells), for the planner.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroupSupply {
    #[schema(example = "O+")]
    pub blood_group: String,
    /// Sum of units over sum of daily use; absent when nothing is used.
    pub days_of_supply: Option<f64>,
    pub amber_days: f64,
    pub red_days: f64,
    pub level: Level,
}

/// Every group's supply at a station (whole blood and red cells pooled: units summed over
/// daily use summed), with the station's levels: what the planner weighs a group's shortage
/// by. No caller check: the planner calls it for a station it already may plan for.
///
/// # Errors
/// No such station; database errors.
pub async fn supply_by_group(
    db: &impl ConnectionTrait,
    station_id: i64,
) -> Result<Vec<GroupSupply>, InventoryError> {
    if crate::store::fleet::find_station(db, station_id)
        .await?
        .is_none()
    {
        return Err(InventoryError::NotFound(format!(
            "no station with id {station_id}"
        )));
    }
    let levels = level_table(db, station_id).await?;
    let stocks = store::stocks(db, Some(station_id)).await?;
    Ok(rules::all_groups()
        .iter()
        .map(|g| {
            let group = g.to_string();
            let pooled: Vec<(i64, f64)> = stocks
                .iter()
                .filter(|s| {
                    s.blood_group == group
                        && s.component
                            .parse::<Component>()
                            .is_ok_and(Component::bears_red_cells)
                })
                .map(|s| (i64::from(s.units), s.daily_use_units))
                .collect();
            let t = levels.of(&group);
            let days = rules::pooled_days(&pooled);
            GroupSupply {
                blood_group: group,
                days_of_supply: days,
                amber_days: t.amber_days,
                red_days: t.red_days,
                level: rules::level(days, t),
            }
        })
        .collect())
}
