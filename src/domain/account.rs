//! Accounts as the rules see them: roles, the regions a user is bound to, and who is calling.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::region::{Level, RegionCode};

/// What a user does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, users included; bound to regions, only inside them.
    Admin,
    /// A blood station's staff: read and edit the registry of their station's region (a city).
    StationStaff,
    /// A township's health official: edits inside their townships, reads the rest of the county.
    TownshipOfficial,
    /// Reads inside their regions.
    Viewer,
}

string_enum!(Role {
    Admin => "admin",
    StationStaff => "station_staff",
    TownshipOfficial => "township_official",
    Viewer => "viewer",
});

/// A region subtree a user is bound to: the region's code and level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub code: RegionCode,
    pub level: Level,
}

impl Scope {
    pub fn new(code: RegionCode, level: Level) -> Self {
        Self { code, level }
    }

    /// True for the root itself and every unit below it.
    pub fn contains(&self, code: &RegionCode) -> bool {
        code == &self.code || code.is_under(&self.code, self.level)
    }

    /// True when `other`'s whole subtree lies inside this one.
    pub fn covers(&self, other: &Scope) -> bool {
        other.level >= self.level && self.contains(&other.code)
    }

    /// The county this scope lies in (itself when it is a county or above). Works where a city
    /// has no counties, since a code's county digits are then zeros and the prefix still holds.
    pub fn county(&self) -> Scope {
        if self.level <= Level::County {
            return self.clone();
        }
        let prefix = &self.code.as_str()[..Level::County.prefix_len()];
        let code = RegionCode::parse(&format!("{prefix:0<12}"))
            .expect("a 6-digit prefix padded with zeros is a code");
        Scope::new(code, Level::County)
    }

    /// The inclusive code range of the subtree, for queries.
    pub fn bounds(&self) -> (String, String) {
        self.code.subtree_bounds(self.level)
    }
}

/// The signed-in caller: who, in which role, bound to which regions, and through what.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// Empty means unbound: the whole database (allowed for admins only).
    pub scopes: Vec<Scope>,
    /// The API token used, when the call came with one: its id and name.
    pub token: Option<(i64, String)>,
}

impl Principal {
    /// How this caller is named in the audit log: the username, and the token's name when a
    /// token made the call.
    pub fn actor(&self) -> String {
        match &self.token {
            Some((_, name)) => format!("{} (token: {name})", self.username),
            None => self.username.clone(),
        }
    }
}
