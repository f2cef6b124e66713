//! Regions as a service: the scoped read (a region the acting account may see), listing and
//! searching below a region, a region's detail (breadcrumb and what lies below it), and the
//! versioned change of a township's or village's centre, population or kind.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Acting, RegistryError, checked};
use crate::domain::policy::{self, Action, Visibility};
use crate::domain::region::{Level, Region, RegionCode, VillageKind};
use crate::error::FieldErrors;
use crate::geo::{Crs, Wgs84Point};
use crate::store::audit::{self, Change};
use crate::store::regions::{self as store, RegionEdit, RegionFilter};
use crate::versioned::{self, Outcome, Versioned};

impl Versioned for Region {
    fn version(&self) -> i32 {
        self.version
    }
}

/// A region named in a breadcrumb or a report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionRef {
    pub code: String,
    pub name: String,
    pub level: Level,
}

impl From<&Region> for RegionRef {
    fn from(r: &Region) -> Self {
        RegionRef {
            code: r.code.to_string(),
            name: r.name.clone(),
            level: r.level,
        }
    }
}

/// How many units lie below a region, per level.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct DescendantCounts {
    pub city: u64,
    pub county: u64,
    pub township: u64,
    pub village: u64,
}

/// Village-level units below a region, by kind.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct VillageKinds {
    pub village: u64,
    pub community: u64,
}

/// A region with its breadcrumb (from the province down to the parent) and what lies below.
#[derive(Debug)]
pub struct RegionDetail {
    pub region: Region,
    pub ancestors: Vec<RegionRef>,
    pub descendant_counts: DescendantCounts,
    pub village_kinds: VillageKinds,
}

fn what(code: &RegionCode) -> String {
    format!("region with code {code}")
}

/// The policy's answer for `action` on region `code` (anonymous: refused as unauthenticated;
/// outside the caller's reach: not found).
///
/// # Errors
/// [`RegistryError::Denied`].
pub fn authorize(
    acting: &Acting<'_>,
    action: Action,
    code: &RegionCode,
) -> Result<(), RegistryError> {
    acting.authorize(action, Some(code), || what(code))
}

/// Region `code`, whoever asks.
///
/// # Errors
/// [`RegistryError::NotFound`] when there is no such region.
pub async fn find(db: &impl ConnectionTrait, code: &RegionCode) -> Result<Region, RegistryError> {
    store::find(db, code)
        .await?
        .ok_or_else(|| RegistryError::NotFound(format!("no region with code {code}")))
}

/// Region `code`, when the acting account may read it.
///
/// # Errors
/// [`RegistryError::Denied`] outside its reach, [`RegistryError::NotFound`] when there is no
/// such region.
pub async fn read(
    db: &impl ConnectionTrait,
    code: &RegionCode,
    acting: &Acting<'_>,
) -> Result<Region, RegistryError> {
    authorize(acting, Action::Read, code)?;
    find(db, code).await
}

/// What to list (see [`list`]).
#[derive(Debug, Clone, Default)]
pub struct RegionQuery {
    /// The region whose children (or, with `level` or `name_contains`, subtree) to list;
    /// `None`: the top of what the acting account reaches.
    pub parent: Option<RegionCode>,
    pub level: Option<Level>,
    pub name_contains: Option<String>,
    /// Only codes after this one (the cursor).
    pub after: Option<RegionCode>,
    /// At most this many rows.
    pub limit: u64,
}

/// The children of a region, or the units below it of a level or with a name fragment, in
/// code order, within the acting account's reach. Without a parent, level and name, a bound
/// account's top is the regions it is bound to.
///
/// # Errors
/// [`RegistryError::Denied`] when the parent is out of reach (or nobody signed in),
/// [`RegistryError::NotFound`] when the parent does not exist.
pub async fn list(
    db: &DatabaseConnection,
    query: RegionQuery,
    acting: &Acting<'_>,
) -> Result<Vec<Region>, RegistryError> {
    let reach = match (acting.trusted, acting.principal) {
        (true, _) => Visibility::All,
        (false, Some(principal)) => policy::read_scope(principal),
        (false, None) => {
            return Err(RegistryError::Denied {
                decision: policy::Decision::Unauthenticated,
                what: "regions".to_owned(),
            });
        }
    };
    let parent = match query.parent {
        None => None,
        Some(code) => {
            let parent = read(db, &code, acting).await?;
            Some((code, parent.level))
        }
    };
    if let (None, None, None, Visibility::Within(scopes)) =
        (&parent, query.level, &query.name_contains, &reach)
    {
        let mut roots = Vec::new();
        for scope in scopes {
            if query.after.as_ref().is_none_or(|a| scope.code > *a)
                && let Some(region) = store::find(db, &scope.code).await?
            {
                roots.push(region);
            }
        }
        roots.sort_by(|a, b| a.code.cmp(&b.code));
        roots.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
        return Ok(roots);
    }
    let filter = RegionFilter {
        parent,
        level: query.level,
        name_contains: query.name_contains,
        after: query.after,
        limit: query.limit,
        reach: Some(reach),
    };
    Ok(store::list(db, &filter).await?)
}

/// At most this many regions are offered to pick from.
pub const CHOICES: u64 = 1000;

/// The regions a reader picks from on a form: the top of what they reach (the regions they
/// are bound to, or every province for an account bound to none), then below each its cities
/// (a province's), counties and townships (a city's) or townships (a county's), each once, in
/// code order within each top, at most [`CHOICES`].
///
/// # Errors
/// [`RegistryError::Denied`] when nobody is signed in; the database fails.
pub async fn choices(
    db: &DatabaseConnection,
    acting: &Acting<'_>,
) -> Result<Vec<Region>, RegistryError> {
    let tops = list(
        db,
        RegionQuery {
            limit: CHOICES,
            ..RegionQuery::default()
        },
        acting,
    )
    .await?;
    let mut out = Vec::new();
    for top in tops {
        let below: &[Level] = match top.level {
            Level::Province => &[Level::City],
            Level::City => &[Level::County, Level::Township],
            Level::County => &[Level::Township],
            _ => &[],
        };
        let code = top.code.clone();
        out.push(top);
        let mut under = Vec::new();
        for level in below {
            let room = CHOICES.saturating_sub((out.len() + under.len()) as u64);
            if room == 0 {
                break;
            }
            under.extend(
                list(
                    db,
                    RegionQuery {
                        parent: Some(code.clone()),
                        level: Some(*level),
                        limit: room,
                        ..RegionQuery::default()
                    },
                    acting,
                )
                .await?,
            );
        }
        under.sort_by(|a, b| a.code.cmp(&b.code));
        out.extend(under);
    }
    // An account bound to a city and a county in it reaches the county twice.
    let mut seen = HashSet::new();
    out.retain(|r| seen.insert(r.code.clone()));
    out.truncate(usize::try_from(CHOICES).unwrap_or(usize::MAX));
    Ok(out)
}

/// Region `code` with its breadcrumb and the counts of what lies below it (whoever asks: the
/// caller authorises first, see [`read`]).
///
/// # Errors
/// [`RegistryError::NotFound`] when there is no such region.
pub async fn detail(
    db: &impl ConnectionTrait,
    code: &RegionCode,
) -> Result<RegionDetail, RegistryError> {
    let region = find(db, code).await?;
    let ancestors = store::ancestors(db, code).await?;
    let mut descendant_counts = DescendantCounts::default();
    let mut village_kinds = VillageKinds::default();
    for c in store::descendant_counts(db, code, region.level).await? {
        match c.level {
            Level::Province => {}
            Level::City => descendant_counts.city += c.count,
            Level::County => descendant_counts.county += c.count,
            Level::Township => descendant_counts.township += c.count,
            Level::Village => descendant_counts.village += c.count,
        }
        match c.kind {
            Some(VillageKind::Community) => village_kinds.community += c.count,
            Some(VillageKind::Village) => village_kinds.village += c.count,
            None => {}
        }
    }
    Ok(RegionDetail {
        region,
        ancestors: ancestors.iter().map(RegionRef::from).collect(),
        descendant_counts,
        village_kinds,
    })
}

/// A change of a region: only the members to change; `Some(None)` clears.
#[derive(Debug, Default, Clone)]
pub struct RegionChange {
    pub longitude: Option<Option<f64>>,
    pub latitude: Option<Option<f64>>,
    /// The datum of `longitude`/`latitude` (default WGS-84).
    pub crs: Option<Crs>,
    pub population: Option<Option<i64>>,
    /// `Some(None)` returns to the kind derived from the name.
    pub kind: Option<Option<VillageKind>>,
}

/// The region as it is after a change (or, stale, as it now is).
pub type Changed = Outcome<Region>;

/// Changes region `current` (loaded with [`find`] after [`authorize`] for
/// [`Action::Update`]), expected at version `expected`: a township's or village's centre and
/// population, a village's kind. The change is audited in the same transaction.
///
/// # Errors
/// [`RegistryError::Invalid`] naming every broken field at once.
pub async fn update(
    db: &DatabaseConnection,
    current: Region,
    change: RegionChange,
    expected: i32,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Changed, RegistryError> {
    let code = current.code.clone();
    versioned::update(
        db,
        current,
        expected,
        async |current: &Region| edit(current, change),
        async |txn, _current: &Region, edit: RegionEdit| {
            let before = store::find_model(txn, &code).await?;
            let Some(written) = store::update_if_version(txn, &code, expected, edit, now).await?
            else {
                return Ok(None);
            };
            let after = store::find_model(txn, &code).await?;
            audit::record(
                txn,
                Change {
                    entity: "region",
                    entity_id: code.to_string(),
                    action: "update",
                    region_code: Some(code.to_string()),
                    before: before.as_ref(),
                    after: after.as_ref(),
                    actor: acting.actor.clone(),
                    at: now,
                },
            )
            .await?;
            Ok(Some(written))
        },
        async || find(db, &code).await,
    )
    .await
}

/// Checks a change against the stored region; every problem is reported at once.
fn edit(current: &Region, change: RegionChange) -> Result<RegionEdit, RegistryError> {
    let mut errors = FieldErrors::default();
    let editable = matches!(current.level, Level::Township | Level::Village);
    let touches_place =
        change.longitude.is_some() || change.latitude.is_some() || change.population.is_some();
    if touches_place && !editable {
        errors.add(
            "code",
            format!(
                "only townships and villages carry a centre and population; {} is a {}",
                current.name, current.level
            ),
        );
    }
    let (mut longitude, mut latitude) = (current.longitude, current.latitude);
    match (change.longitude, change.latitude) {
        (None, None) => {
            if change.crs.is_some() {
                errors.add(
                    "crs",
                    "applies to a new longitude and latitude; send them too",
                );
            }
        }
        (Some(None), Some(None)) => (longitude, latitude) = (None, None),
        (Some(Some(lon)), Some(Some(lat))) => {
            match Wgs84Point::from_crs(lon, lat, change.crs.unwrap_or_default()) {
                Ok(p) => (longitude, latitude) = (Some(p.lon()), Some(p.lat())),
                Err(e) => errors.add(e.field, e.message),
            }
        }
        _ => errors.add(
            "latitude",
            "longitude and latitude change together; send both",
        ),
    }
    let population = match change.population {
        None => current.population,
        Some(None) => None,
        Some(Some(p)) if (0..=10_000_000).contains(&p) => Some(p),
        Some(Some(_)) => {
            errors.add("population", "must be between 0 and 10,000,000");
            None
        }
    };
    let (kind, kind_overridden) = match change.kind {
        None => (current.kind, current.kind_overridden),
        Some(_) if current.level != Level::Village => {
            errors.add("kind", "only village-level units have a kind");
            (current.kind, current.kind_overridden)
        }
        Some(None) => (Some(VillageKind::from_name(&current.name)), false),
        Some(Some(kind)) => (Some(kind), true),
    };
    checked(errors)?;
    Ok(RegionEdit {
        longitude,
        latitude,
        population,
        kind,
        kind_overridden,
    })
}
/// Region `code`, if there is one (no access check: for readers that check it themselves).
///
/// # Errors
/// The database fails.
pub async fn get(
    db: &impl ConnectionTrait,
    code: &RegionCode,
) -> Result<Option<Region>, sea_orm::DbErr> {
    store::find(db, code).await
}
