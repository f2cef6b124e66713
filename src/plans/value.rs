//! What a site's donors are worth when blood groups run short (issue 17): the recorded
//! donations by group of the villages a site draws from, made into its value factor and its
//! explanation by the pure rule of [`crate::domain::shortage`].
//!
//! The station's days of supply per group are a parameter ([`SupplyDays`]): with none given
//! every weight is 1 and the factor is 1, which is the true answer while the station keeps no
//! inventory figures.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use super::PlansError;
use crate::domain::attendance::{Abo, Rh};
use crate::domain::recruitment::BloodGroup;
use crate::domain::shortage::{self, VillageDraw};
pub use crate::domain::shortage::{GroupCounts, GroupDays, ValueExplanation};
use crate::store::attendances;

/// The station's days of supply per group (a group absent weighs 1).
pub type SupplyDays = HashMap<BloodGroup, GroupDays>;

/// A village a site draws from, with its expected donors there.
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    pub code: String,
    pub expected: f64,
}

/// The recorded donations by group: those of each of `villages` (villages without any are
/// absent), and the deployment's (for the prior). Rows whose stored group does not parse are
/// left out.
///
/// # Errors
/// The database fails.
pub async fn recorded_groups(
    db: &impl ConnectionTrait,
    villages: &[String],
) -> Result<(HashMap<String, GroupCounts>, GroupCounts), PlansError> {
    let mut by_village: HashMap<String, GroupCounts> = HashMap::new();
    if !villages.is_empty() {
        let mut codes = villages.to_vec();
        codes.sort();
        codes.dedup();
        for (village, abo, rh, n) in attendances::donated_groups_by_village(db, &codes).await? {
            if let Some(i) = group_index(&abo, &rh) {
                by_village.entry(village).or_insert([0; 8])[i] += u64::try_from(n).unwrap_or(0);
            }
        }
    }
    let mut all = [0; 8];
    for (abo, rh, n) in attendances::donated_groups(db).await? {
        if let Some(i) = group_index(&abo, &rh) {
            all[i] += u64::try_from(n).unwrap_or(0);
        }
    }
    Ok((by_village, all))
}

/// The position in [`shortage::GROUPS`] of a stored `abo` and `rh`.
fn group_index(abo: &str, rh: &str) -> Option<usize> {
    let group = BloodGroup {
        abo: abo.parse::<Abo>().ok()?,
        rh: rh.parse::<Rh>().ok()?,
    };
    Some(shortage::index(group))
}

/// The draws of a site with their villages' recorded donations by group.
pub fn with_counts(draws: &[Draw], counts: &HashMap<String, GroupCounts>) -> Vec<VillageDraw> {
    draws
        .iter()
        .map(|d| VillageDraw {
            code: d.code.clone(),
            expected: d.expected,
            counts: counts.get(&d.code).copied().unwrap_or([0; 8]),
        })
        .collect()
}

/// The value factor of a site drawing from `villages` (each with its expected donors there),
/// given the station's days of supply, with its explanation: each village's mix and where it
/// comes from, each group's weight.
///
/// # Errors
/// The database fails.
pub async fn site_value(
    db: &impl ConnectionTrait,
    villages: &[Draw],
    days: &SupplyDays,
) -> Result<ValueExplanation, PlansError> {
    let codes: Vec<String> = villages.iter().map(|v| v.code.clone()).collect();
    let (counts, all) = recorded_groups(db, &codes).await?;
    Ok(shortage::explain(
        &with_counts(villages, &counts),
        &all,
        days,
    ))
}

/// The days of supply per group of `stations` (their inventories, whole blood and red cells
/// pooled): per group, that of the station where it is shortest, with that station's levels,
/// so a plan serving several stations goes after what any of them lacks. A station without
/// figures adds nothing (its groups weigh 1).
///
/// # Errors
/// The database fails.
pub async fn station_supply(
    db: &impl ConnectionTrait,
    stations: &[i64],
) -> Result<SupplyDays, PlansError> {
    let mut out = SupplyDays::new();
    for &id in stations {
        let groups = match crate::inventory::supply_by_group(db, id).await {
            Ok(g) => g,
            Err(crate::inventory::InventoryError::Db(e)) => return Err(e.into()),
            // A station deleted meanwhile: nothing to weigh.
            Err(_) => continue,
        };
        for g in groups {
            let (Ok(group), Some(days)) = (g.blood_group.parse::<BloodGroup>(), g.days_of_supply)
            else {
                continue;
            };
            let here = GroupDays {
                days: Some(days),
                amber_days: g.amber_days,
                red_days: g.red_days,
            };
            let shorter = out
                .get(&group)
                .is_none_or(|known| shortage::weight(&here) > shortage::weight(known));
            if shorter {
                out.insert(group, here);
            }
        }
    }
    Ok(out)
}

/// True when some group weighs more than 1: only then is any site worth more than its mL.
pub fn weighs_anything(supply: &SupplyDays) -> bool {
    supply
        .values()
        .any(|d| shortage::weight(d) > shortage::WEIGHT_AT_AMBER)
}
