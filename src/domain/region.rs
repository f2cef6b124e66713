//! The statistical division hierarchy: codes, levels, and what a code says about its place.
//!
//! A division code has 12 digits: province (2), city (2), county (2), township (3), village (3),
//! right-padded with zeros. A unit's *significant prefix* is the part its level owns; every
//! descendant's code starts with it, which is what makes subtree queries a range scan on the
//! primary key. Levels can be skipped (a township directly under a city without counties), but
//! the prefix rule still holds, so this module never walks parents to find a subtree.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A validated 12-digit statistical division code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode(String);

/// Why a string is not a division code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a region code has exactly 12 digits, got {0:?}")]
pub struct InvalidRegionCode(pub String);

impl RegionCode {
    /// Parses a code: exactly 12 ASCII digits.
    ///
    /// # Errors
    /// [`InvalidRegionCode`] for anything else.
    pub fn parse(s: &str) -> Result<Self, InvalidRegionCode> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidRegionCode(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code as a number, a compact key for large in-memory indexes (12 digits fit a u64).
    pub fn as_u64(&self) -> u64 {
        self.0.parse().expect("12 ASCII digits fit in a u64")
    }

    /// The inclusive code range `[lo, hi]` that holds this unit and all of its descendants,
    /// given the unit's level.
    pub fn subtree_bounds(&self, level: Level) -> (String, String) {
        let prefix = &self.0[..level.prefix_len()];
        (
            format!("{prefix:0<12}"),
            format!("{prefix}{}", "9".repeat(12 - prefix.len())),
        )
    }

    /// Codes of the units that may be this unit's ancestors, from the province down: each
    /// shorter significant prefix padded with zeros, without repeats and without the code
    /// itself. A skipped level (no county under a city) yields a code equal to an existing
    /// ancestor's, which the de-duplication removes.
    pub fn ancestor_candidates(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(4);
        for len in [2, 4, 6, 9] {
            let candidate = format!("{:0<12}", &self.0[..len]);
            if candidate != self.0 && out.last() != Some(&candidate) {
                out.push(candidate);
            }
        }
        out
    }

    /// Codes that would sit strictly between this unit and a parent of `parent_level`: the
    /// ancestor candidates longer than the parent's prefix. A row whose parent skips a level
    /// must not skip a unit that exists.
    pub fn intermediate_candidates(&self, parent_level: Level) -> Vec<String> {
        let parent_padded = format!("{:0<12}", &self.0[..parent_level.prefix_len()]);
        self.ancestor_candidates()
            .into_iter()
            .filter(|c| *c > parent_padded && c.starts_with(&self.0[..parent_level.prefix_len()]))
            .collect()
    }

    /// True when this code lies in the subtree whose root has `parent` as code and `level`.
    pub fn is_under(&self, parent: &RegionCode, parent_level: Level) -> bool {
        let n = parent_level.prefix_len();
        self.0[..n] == parent.0[..n] && self.0 != parent.0
    }

    /// The township this unit lies in (itself for a township): its first 9 digits padded with
    /// zeros. `None` above township level, where those digits end in `000`.
    pub fn township(&self) -> Option<RegionCode> {
        let prefix = &self.0[..Level::Township.prefix_len()];
        if prefix.ends_with("000") {
            None
        } else {
            Some(Self(format!("{prefix}000")))
        }
    }

    /// True when the digits after this level's prefix are all zeros, as the padding rule says.
    pub fn is_padded_for(&self, level: Level) -> bool {
        self.0[level.prefix_len()..].bytes().all(|b| b == b'0')
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A level of the hierarchy, from the top down.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Province,
    City,
    County,
    Township,
    Village,
}

/// Why a string is not a level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown level {0:?} (expected province, city, county, township or village)")]
pub struct InvalidLevel(pub String);

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Province,
        Level::City,
        Level::County,
        Level::Township,
        Level::Village,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
        }
    }

    /// 0 for a province, 4 for a village.
    pub fn rank(self) -> usize {
        self as usize
    }

    /// How many leading digits of a code this level owns.
    pub fn prefix_len(self) -> usize {
        match self {
            Level::Province => 2,
            Level::City => 4,
            Level::County => 6,
            Level::Township => 9,
            Level::Village => 12,
        }
    }
}

impl FromStr for Level {
    type Err = InvalidLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| InvalidLevel(s.to_owned()))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One unit of the hierarchy as the rest of the code sees it: typed, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    pub level: Level,
    pub parent_code: Option<RegionCode>,
    /// Village-level units only.
    pub kind: Option<VillageKind>,
    /// True when `kind` was set by hand; imports then keep it.
    pub kind_overridden: bool,
    /// WGS-84 centre, when known.
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub population: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Bumped by every change; the ETag.
    pub version: i32,
}

/// What a village-level unit is: a rural village or an urban community.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VillageKind {
    Village,
    Community,
}

/// Why a string is not a village kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown village kind {0:?} (expected village or community)")]
pub struct InvalidVillageKind(pub String);

impl FromStr for VillageKind {
    type Err = InvalidVillageKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "village" => Ok(VillageKind::Village),
            "community" => Ok(VillageKind::Community),
            _ => Err(InvalidVillageKind(s.to_owned())),
        }
    }
}

impl VillageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VillageKind::Village => "village",
            VillageKind::Community => "community",
        }
    }

    /// Derives the kind from the official name.
    ///
    /// Urban units are named `…社区`, `…居委会`, `…居民委员会` (residents' committees), and a
    /// few thousand `…生活区` / `…街委员会` (residential districts of state farms and
    /// enterprises). Everything else at village level is rural: `…村委会`, `…村民委员会`,
    /// `…村`, the `…嘎查` of Inner Mongolia, `…牧委会`, `…生产队`, `…管理区`. The rule is
    /// a default; a township official can override it where it is wrong.
    pub fn from_name(name: &str) -> VillageKind {
        const URBAN: [&str; 5] = ["社区", "居委会", "居民委员会", "生活区", "街委员会"];
        if URBAN.iter().any(|marker| name.contains(marker)) {
            VillageKind::Community
        } else {
            VillageKind::Village
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn codes_must_have_twelve_digits() {
        for bad in [
            "",
            "41110310100",
            "4111031010001",
            "41110310100a",
            "４11103101000",
        ] {
            assert!(RegionCode::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(code("411103101000").as_str(), "411103101000");
    }

    #[test]
    fn subtree_bounds_follow_the_level_prefix() {
        let (lo, hi) = code("411103000000").subtree_bounds(Level::County);
        assert_eq!((lo.as_str(), hi.as_str()), ("411103000000", "411103999999"));
        let (lo, hi) = code("441900000000").subtree_bounds(Level::City);
        assert_eq!((lo.as_str(), hi.as_str()), ("441900000000", "441999999999"));
        let (lo, hi) = code("411103101201").subtree_bounds(Level::Village);
        assert_eq!(lo, hi);
    }

    #[test]
    fn ancestor_candidates_skip_missing_levels_and_self() {
        assert_eq!(
            code("411103101201").ancestor_candidates(),
            [
                "410000000000",
                "411100000000",
                "411103000000",
                "411103101000"
            ]
        );
        // Dongguan: townships sit directly under the city; the county-level prefix pads to the
        // city's own code.
        assert_eq!(
            code("441900003000").ancestor_candidates(),
            ["440000000000", "441900000000"]
        );
        assert!(code("410000000000").ancestor_candidates().is_empty());
    }

    #[test]
    fn intermediate_candidates_lie_between_the_unit_and_its_parent() {
        // A township whose parent is the city: the county 411103 would sit between them.
        assert_eq!(
            code("411103102000").intermediate_candidates(Level::City),
            ["411103000000"]
        );
        // Dongguan: the county-level prefix pads to the city itself, so nothing is between.
        assert!(
            code("441900003000")
                .intermediate_candidates(Level::City)
                .is_empty()
        );
        assert!(
            code("411103102001")
                .intermediate_candidates(Level::Township)
                .is_empty()
        );
    }

    #[test]
    fn is_under_compares_the_parent_prefix() {
        let county = code("411103000000");
        assert!(code("411103101000").is_under(&county, Level::County));
        assert!(!code("411102101000").is_under(&county, Level::County));
        assert!(!county.is_under(&county, Level::County));
    }

    #[test]
    fn the_township_of_a_unit_is_its_nine_digit_prefix() {
        let township = |s: &str| code(s).township().map(|c| c.to_string());
        assert_eq!(township("990101101201").as_deref(), Some("990101101000"));
        assert_eq!(township("990101101000").as_deref(), Some("990101101000"));
        assert_eq!(township("990101000000"), None);
        assert_eq!(township("990100000000"), None);
        // A township directly under a city (no county digits).
        assert_eq!(township("441900003001").as_deref(), Some("441900003000"));
    }

    #[test]
    fn padding_rule() {
        assert!(code("411103101000").is_padded_for(Level::Township));
        assert!(!code("411103101001").is_padded_for(Level::Township));
        assert!(code("411103101001").is_padded_for(Level::Village));
    }

    #[test]
    fn levels_parse_and_rank() {
        assert_eq!("township".parse::<Level>().unwrap(), Level::Township);
        assert!("Township".parse::<Level>().is_err());
        assert!(Level::City.rank() < Level::Village.rank());
    }

    #[test]
    fn village_kind_from_official_names() {
        for (name, kind) in [
            ("大刘村委会", VillageKind::Village),
            ("孟庙村民委员会", VillageKind::Village),
            ("巴音哈拉嘎查村", VillageKind::Village),
            ("滨西社区居民委员会", VillageKind::Community),
            ("多福巷社区居委会", VillageKind::Community),
            (
                "万柳（集团）股份经济合作社六郎庄生活区",
                VillageKind::Community,
            ),
            ("第一街委员会", VillageKind::Community),
        ] {
            assert_eq!(VillageKind::from_name(name), kind, "{name}");
        }
    }
}
