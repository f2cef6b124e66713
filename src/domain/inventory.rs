//! Blood inventory rules (issue 17), pure: the components a station stocks, days of supply,
//! the warning level a stock is at, what a station can spare ("surplus"), and how many donors
//! a red level asks for.
//!
//! Days of supply are units over the average daily use (none when nothing is used); a stock is
//! `red` below the group's `red_days`, `amber` below its `amber_days`, else `ok`. A station has
//! surplus of a stock when its days of supply are above twice `amber_days` (or nothing is
//! used); the surplus units are what it holds beyond `ceil(amber_days × daily use)`, which
//! keeps it out of amber.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::attendance::{Abo, Rh};
use crate::domain::recruitment::BloodGroup;

/// A blood component as stations stock it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// 全血.
    WholeBlood,
    /// 悬浮红细胞.
    RedCells,
    /// 新鲜冰冻血浆.
    Plasma,
    /// 单采血小板.
    Platelets,
    /// 冷沉淀.
    Cryo,
}

string_enum!(Component {
    WholeBlood => "whole_blood",
    RedCells => "red_cells",
    Plasma => "plasma",
    Platelets => "platelets",
    Cryo => "cryo",
});

impl Component {
    /// Components carrying red cells: what the planner's supply and the automatic
    /// recruitment need look at.
    pub fn bears_red_cells(self) -> bool {
        matches!(self, Component::WholeBlood | Component::RedCells)
    }
}

/// A stock's warning level.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Red,
    Amber,
    Ok,
}

string_enum!(Level {
    Red => "red",
    Amber => "amber",
    Ok => "ok",
});

/// The default amber level, days of supply.
pub const DEFAULT_AMBER_DAYS: f64 = 3.0;
/// The default red level, days of supply.
pub const DEFAULT_RED_DAYS: f64 = 1.0;
/// The largest warning level, days.
pub const MAX_LEVEL_DAYS: f64 = 365.0;
/// The most units (or mL / 1000) one stock may hold; keeps sums inside `i32`.
pub const MAX_UNITS: i64 = 1_000_000;
/// The most mL one stock may hold.
pub const MAX_ML: i64 = 1_000_000_000;
/// The largest average daily use, units.
pub const MAX_DAILY_USE: f64 = 100_000.0;
/// mL of whole blood in one of China's units (1 U = 200 mL).
pub const ML_PER_UNIT: i64 = 200;
/// mL one donor gives (the largest whole-blood donation).
pub const ML_PER_DONOR: i64 = 400;
/// The most donors one automatic need asks for (the recruitment need's own limit).
pub const MAX_NEED_TARGET: i64 = 10_000;

/// A station's warning levels for one group.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Thresholds {
    pub amber_days: f64,
    pub red_days: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            amber_days: DEFAULT_AMBER_DAYS,
            red_days: DEFAULT_RED_DAYS,
        }
    }
}

impl Thresholds {
    /// What is wrong with these levels: `(field, message)`, the field being `amber_days` or
    /// `red_days`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let ok = |d: f64| d.is_finite() && (0.0..=MAX_LEVEL_DAYS).contains(&d);
        if !ok(self.amber_days) || self.amber_days <= 0.0 {
            out.push((
                "amber_days",
                format!("must be more than 0 and at most {MAX_LEVEL_DAYS} days"),
            ));
        }
        if !ok(self.red_days) {
            out.push((
                "red_days",
                format!("must be between 0 and {MAX_LEVEL_DAYS} days"),
            ));
        } else if ok(self.amber_days) && self.amber_days > 0.0 && self.red_days >= self.amber_days {
            out.push(("red_days", "must be less than amber_days".to_owned()));
        }
        out
    }
}

/// Days of supply: `units / daily_use`, none when nothing is used.
pub fn days_of_supply(units: i64, daily_use: f64) -> Option<f64> {
    if daily_use > 0.0 {
        Some(units as f64 / daily_use)
    } else {
        None
    }
}

/// The level of a stock with these days of supply (none: nothing used, so `ok`).
pub fn level(days: Option<f64>, levels: Thresholds) -> Level {
    match days {
        Some(d) if d < levels.red_days => Level::Red,
        Some(d) if d < levels.amber_days => Level::Amber,
        _ => Level::Ok,
    }
}

/// Units that keep a stock out of amber: `ceil(amber_days × daily_use)`.
pub fn units_for_amber(daily_use: f64, amber_days: f64) -> i64 {
    (amber_days * daily_use).ceil() as i64
}

/// What a station can spare of a stock: the units beyond [`units_for_amber`], when its days
/// of supply are above twice `amber_days` (or nothing is used); else 0.
pub fn surplus_units(units: i64, daily_use: f64, levels: Thresholds) -> i64 {
    let plenty = match days_of_supply(units, daily_use) {
        None => true,
        Some(d) => d > 2.0 * levels.amber_days,
    };
    if plenty {
        (units - units_for_amber(daily_use, levels.amber_days)).max(0)
    } else {
        0
    }
}

/// Donors a red stock asks for: enough whole blood to get back to amber, `ceil(shortfall_ml
/// / 400)` with the shortfall counted at 200 mL a unit, at least 1 and at most 10,000.
pub fn need_target(units: i64, daily_use: f64, amber_days: f64) -> i32 {
    let shortfall_units = (units_for_amber(daily_use, amber_days) - units).max(0);
    let shortfall_ml = shortfall_units.saturating_mul(ML_PER_UNIT);
    let donors = (shortfall_ml + ML_PER_DONOR - 1) / ML_PER_DONOR;
    donors.clamp(1, MAX_NEED_TARGET) as i32
}

/// Days of supply over several stocks (the red-cell-bearing ones of a group): the sums of
/// units over the sums of daily use.
pub fn pooled_days(stocks: &[(i64, f64)]) -> Option<f64> {
    let units: i64 = stocks.iter().map(|s| s.0).sum();
    let use_: f64 = stocks.iter().map(|s| s.1).sum();
    days_of_supply(units, use_)
}

/// Every ABO/Rh group, in a fixed order (`A+`, `A-`, `B+`, …).
pub fn all_groups() -> Vec<BloodGroup> {
    let mut out = Vec::with_capacity(8);
    for abo in Abo::ALL {
        for rh in Rh::ALL {
            out.push(BloodGroup { abo: *abo, rh: *rh });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds {
        amber_days: 3.0,
        red_days: 1.0,
    };

    #[test]
    fn days_of_supply_are_units_over_daily_use_and_none_without_use() {
        assert_eq!(days_of_supply(30, 10.0), Some(3.0));
        assert_eq!(days_of_supply(5, 2.0), Some(2.5));
        assert_eq!(days_of_supply(5, 0.0), None);
        assert_eq!(days_of_supply(0, 4.0), Some(0.0));
    }

    #[test]
    fn levels_are_red_below_red_days_amber_below_amber_days() {
        assert_eq!(level(Some(0.0), T), Level::Red);
        assert_eq!(level(Some(0.99), T), Level::Red);
        assert_eq!(level(Some(1.0), T), Level::Amber);
        assert_eq!(level(Some(2.99), T), Level::Amber);
        assert_eq!(level(Some(3.0), T), Level::Ok);
        assert_eq!(level(None, T), Level::Ok);
        let tight = Thresholds {
            amber_days: 5.0,
            red_days: 2.0,
        };
        assert_eq!(level(Some(3.0), tight), Level::Amber);
        assert_eq!(level(Some(1.5), tight), Level::Red);
    }

    #[test]
    fn surplus_needs_more_than_twice_amber_and_keeps_what_holds_amber() {
        // 70 units, 10 a day: 7 days > 6; keeps ceil(3 × 10) = 30.
        assert_eq!(surplus_units(70, 10.0, T), 40);
        // 60 units: exactly 6 days, not above twice amber.
        assert_eq!(surplus_units(60, 10.0, T), 0);
        // Fractional use rounds the kept units up: ceil(3 × 2.5) = 8.
        assert_eq!(surplus_units(20, 2.5, T), 12);
        // Nothing used: all of it.
        assert_eq!(surplus_units(12, 0.0, T), 12);
        assert_eq!(surplus_units(0, 0.0, T), 0);
    }

    #[test]
    fn a_red_stock_asks_for_donors_to_get_back_to_amber() {
        // Amber needs 30 units; 4 held: 26 U short = 5,200 mL = 13 donors.
        assert_eq!(need_target(4, 10.0, 3.0), 13);
        // An odd shortfall rounds up: 1 U = 200 mL -> 1 donor.
        assert_eq!(need_target(29, 10.0, 3.0), 1);
        // No shortfall still asks for one.
        assert_eq!(need_target(40, 10.0, 3.0), 1);
        // Capped.
        assert_eq!(need_target(0, 100_000.0, 365.0), 10_000);
    }

    #[test]
    fn levels_need_red_below_amber_inside_bounds() {
        assert!(T.problems().is_empty());
        let same = Thresholds {
            amber_days: 2.0,
            red_days: 2.0,
        };
        assert_eq!(same.problems()[0].0, "red_days");
        let negative = Thresholds {
            amber_days: -1.0,
            red_days: -2.0,
        };
        let fields: Vec<_> = negative.problems().iter().map(|p| p.0).collect();
        assert_eq!(fields, ["amber_days", "red_days"]);
        let huge = Thresholds {
            amber_days: 400.0,
            red_days: 1.0,
        };
        assert_eq!(huge.problems()[0].0, "amber_days");
        let nan = Thresholds {
            amber_days: f64::NAN,
            red_days: 1.0,
        };
        assert_eq!(nan.problems()[0].0, "amber_days");
    }

    #[test]
    fn pooled_days_sum_units_and_use() {
        assert_eq!(pooled_days(&[(10, 2.0), (20, 8.0)]), Some(3.0));
        assert_eq!(pooled_days(&[(10, 0.0)]), None);
        assert_eq!(pooled_days(&[]), None);
    }

    #[test]
    fn components_and_groups_round_trip() {
        for c in Component::ALL {
            assert_eq!(c.as_str().parse::<Component>(), Ok(*c));
        }
        assert!(Component::WholeBlood.bears_red_cells());
        assert!(Component::RedCells.bears_red_cells());
        assert!(!Component::Plasma.bears_red_cells());
        let groups = all_groups();
        assert_eq!(groups.len(), 8);
        let text: Vec<String> = groups.iter().map(ToString::to_string).collect();
        assert_eq!(text[0], "A+");
        assert!(text.contains(&"O-".to_owned()));
    }
}
