//! What a township official should fix next: points without a primary coordinator or
//! signage, villages never (or long ago) surveyed, and the villages with the most eligible
//! donors and no active point within reach. Each list also as CSV, its headers (and point
//! statuses) in the reader's language ([`points_csv`], [`villages_csv`]; pure).

use std::collections::HashSet;

use chrono::{DateTime, Days, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;

use super::{STALE_SURVEY_DAYS, location, nearest_active_points};
use crate::domain::point::PointStatus;
use crate::domain::region::RegionCode;
use crate::i18n::Lang;
use crate::registry::regions;
use crate::registry::{Acting, RegistryError};
use crate::store::coordinators;
use crate::store::points::{self, PointFilter};
use crate::store::surveys::{self, VillageFact};

/// A point that needs attention.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PointGap {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub region_code: String,
}

/// A village that needs attention.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VillageGap {
    pub code: String,
    pub name: String,
    /// The current survey's eligible total, when surveyed.
    pub eligible_total: Option<i64>,
    pub surveyed_on: Option<NaiveDate>,
}

/// Every list of the report, whole. Names that a spreadsheet would run as a formula are
/// defused (see [`defuse`]).
#[derive(Debug)]
pub struct Gaps {
    /// Points (not closed) without a primary coordinator.
    pub points_without_primary: Vec<PointGap>,
    /// Active points without an installed sign.
    pub active_points_without_signage: Vec<PointGap>,
    pub villages_never_surveyed: Vec<VillageGap>,
    /// Villages whose current survey is more than 12 months old, oldest first.
    pub villages_survey_stale: Vec<VillageGap>,
    /// Located villages with no active point within 5 km, most eligible donors first.
    pub villages_uncovered: Vec<VillageGap>,
}

/// The gaps of region `code`'s network, when the acting account may read the region.
///
/// # Errors
/// [`RegistryError::Denied`] outside its reach, [`RegistryError::NotFound`] when there is no
/// such region.
pub async fn of_region(
    db: &impl ConnectionTrait,
    code: &RegionCode,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Gaps, RegistryError> {
    let region = regions::read(db, code, acting).await?;
    let (lo, hi) = code.subtree_bounds(region.level);
    let open: Vec<PointStatus> = PointStatus::ALL
        .iter()
        .copied()
        .filter(|s| *s != PointStatus::Closed)
        .collect();
    let serving = points::list(
        db,
        &PointFilter {
            region_range: Some((lo.clone(), hi.clone())),
            statuses: open,
            ..PointFilter::default()
        },
    )
    .await?;
    let ids: Vec<i64> = serving.iter().map(|p| p.id).collect();
    let with_primary: HashSet<i64> = coordinators::with_primary(db, &ids)
        .await?
        .into_iter()
        .collect();
    let gap = |p: &entity::point::Model| PointGap {
        id: p.id,
        name: defuse(&p.name),
        status: p.status.clone(),
        region_code: p.region_code.clone(),
    };
    let points_without_primary = serving
        .iter()
        .filter(|p| !with_primary.contains(&p.id))
        .map(gap)
        .collect();
    let active_points_without_signage = serving
        .iter()
        .filter(|p| p.status == PointStatus::Active.as_str() && p.signage_installed_on.is_none())
        .map(gap)
        .collect();

    let villages = surveys::village_facts(db, &lo, &hi).await?;
    let today = now.date_naive();
    let stale_before = today
        .checked_sub_days(Days::new(STALE_SURVEY_DAYS))
        .unwrap_or(today);
    let entry = |v: &VillageFact| VillageGap {
        code: v.code.clone(),
        name: defuse(&v.name),
        eligible_total: v.eligible_total.map(i64::from),
        surveyed_on: v.surveyed_on,
    };
    let villages_never_surveyed = villages
        .iter()
        .filter(|v| v.surveyed_on.is_none())
        .map(entry)
        .collect();
    let mut villages_survey_stale: Vec<VillageGap> = villages
        .iter()
        .filter(|v| v.surveyed_on.is_some_and(|d| d < stale_before))
        .map(entry)
        .collect();
    villages_survey_stale.sort_by_key(|g| (g.surveyed_on, g.code.clone()));
    let places: Vec<_> = villages.iter().map(location).collect();
    let nearest = nearest_active_points(db, &places).await?;
    let mut villages_uncovered: Vec<VillageGap> = villages
        .iter()
        .zip(places.iter().zip(&nearest))
        .filter(|(_, (place, d))| place.is_some() && d.is_none())
        .map(|(v, _)| entry(v))
        .collect();
    villages_uncovered.sort_by(|a, b| {
        b.eligible_total
            .unwrap_or(0)
            .cmp(&a.eligible_total.unwrap_or(0))
            .then(a.code.cmp(&b.code))
    });
    Ok(Gaps {
        points_without_primary,
        active_points_without_signage,
        villages_never_surveyed,
        villages_survey_stale,
        villages_uncovered,
    })
}

/// Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a leading
/// apostrophe, the usual defence for CSV opened in Excel.
#[must_use]
pub fn defuse(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Rows under catalogue headers (`gaps-col-<id>`) as CSV, UTF-8 with a byte-order mark so that
/// Excel opens the Chinese names correctly.
fn csv_of<const N: usize>(
    header: [&str; N],
    rows: impl Iterator<Item = [String; N]>,
    lang: Lang,
) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(header.map(|h| lang.t(&format!("gaps-col-{h}"))))?;
    for row in rows {
        writer.write_record(row)?;
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

/// A list of points as CSV: id, name, status (in `lang`) and region code.
///
/// # Errors
/// Only if writing to memory fails.
pub fn points_csv(rows: &[PointGap], lang: Lang) -> Result<Vec<u8>, csv::Error> {
    csv_of(
        ["id", "point", "status", "region_code"],
        rows.iter().map(|p| {
            [
                p.id.to_string(),
                p.name.clone(),
                lang.t(&format!("point-status-{}", p.status)),
                p.region_code.clone(),
            ]
        }),
        lang,
    )
}

/// A list of villages as CSV: code, name, eligible total and survey date (blank when none).
///
/// # Errors
/// Only if writing to memory fails.
pub fn villages_csv(rows: &[VillageGap], lang: Lang) -> Result<Vec<u8>, csv::Error> {
    csv_of(
        ["code", "village", "eligible_total", "surveyed_on"],
        rows.iter().map(|v| {
            [
                v.code.clone(),
                v.name.clone(),
                v.eligible_total.map(|n| n.to_string()).unwrap_or_default(),
                v.surveyed_on.map(|d| d.to_string()).unwrap_or_default(),
            ]
        }),
        lang,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_download_with_headers_in_the_readers_language() {
        let points = [PointGap {
            id: 7,
            name: defuse("=东岭点"),
            status: "active".to_owned(),
            region_code: "411103101000".to_owned(),
        }];
        let text = String::from_utf8(points_csv(&points, Lang::ZhCn).unwrap()).unwrap();
        assert_eq!(
            text,
            "\u{feff}献血点编号,献血点,状态,区划代码\n7,'=东岭点,使用中,411103101000\n"
        );
        let text = String::from_utf8(points_csv(&points, Lang::English).unwrap()).unwrap();
        assert!(text.starts_with("\u{feff}Point id,Point,Status,Region code\n7,'=东岭点,Active,"));
        let villages = [VillageGap {
            code: "411103101201".to_owned(),
            name: "东岭村".to_owned(),
            eligible_total: None,
            surveyed_on: None,
        }];
        let text = String::from_utf8(villages_csv(&villages, Lang::ZhCn).unwrap()).unwrap();
        assert_eq!(
            text,
            "\u{feff}村代码,村名,适龄人数,调查日期\n411103101201,东岭村,,\n"
        );
    }
}
