//! Who may do what, where: the one place access is decided.
//!
//! [`can`] is pure: it looks only at the caller (role and bound regions), the action and the
//! region the resource lives in. Handlers ask it and turn its [`Decision`] into a status:
//! outside the caller's read scope a resource is *hidden* (404, so that its existence does not
//! leak); inside read scope but outside write scope it is *forbidden* (403).
//!
//! | role                | reads                               | writes (create, update, close) | users |
//! |---------------------|-------------------------------------|--------------------------------|-------|
//! | `admin`             | its regions (all when unbound)      | same                           | those bound inside its regions |
//! | `station_staff`     | its regions                         | same                           | no    |
//! | `township_official` | the counties its regions lie in     | its regions                    | no    |
//! | `viewer`            | its regions                         | nothing                        | no    |
//! | anonymous           | public views only (active points)   | nothing                        | no    |
//!
//! Drive plans ([`Resource::Plan`]) are read like the registry and made only by admins and
//! station staff, within their write scope.
//! Drives (issue 6) are decided as plans of the drive's region: made and moved by admins and
//! station staff within their write scope, read within the read scope.
//! So are check-in and results: admins and station staff within their write scope check
//! people in and record outcomes; results are read within the read scope; once a drive is
//! completed only admins correct its results (decided in `checkin::attendances`).
//! Preparation checklists (issue 6): a station's template ([`Resource::ChecklistTemplate`], by
//! the station's region) is read like the station and written by admins and station staff
//! within their write scope; a stop's item ([`Resource::ChecklistItem`], by the stop's region)
//! is ticked by them and also by township officials whose write scope holds the stop (they
//! confirm venues and coordinators and post notices locally); viewers never tick.

use crate::domain::account::{Principal, Role, Scope};
use crate::domain::region::RegionCode;

/// The part of the hierarchy a caller can reach for some purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// The whole database (an unbound admin).
    All,
    /// These subtrees.
    Within(Vec<Scope>),
}

impl Visibility {
    pub fn contains(&self, code: &RegionCode) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Within(scopes) => scopes.iter().any(|s| s.contains(code)),
        }
    }

    /// For records that may have no region (coordinators from before regions were required):
    /// those are reachable only by callers who reach everything.
    pub fn contains_opt(&self, code: Option<&RegionCode>) -> bool {
        match code {
            Some(code) => self.contains(code),
            None => *self == Visibility::All,
        }
    }

    /// True when every unit of `scope` is reachable.
    pub fn covers(&self, scope: &Scope) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Within(scopes) => scopes.iter().any(|s| s.covers(scope)),
        }
    }
}

/// Where a caller may read.
pub fn read_scope(caller: &Principal) -> Visibility {
    reach(caller.role, &caller.scopes)
}

/// Where an account of `role` bound to `scopes` reads.
pub fn reach(role: Role, scopes: &[Scope]) -> Visibility {
    match role {
        Role::Admin if scopes.is_empty() => Visibility::All,
        Role::TownshipOfficial => {
            let mut counties: Vec<Scope> = Vec::new();
            for county in scopes.iter().map(Scope::county) {
                if !counties.contains(&county) {
                    counties.push(county);
                }
            }
            Visibility::Within(counties)
        }
        Role::Admin | Role::StationStaff | Role::Viewer => Visibility::Within(scopes.to_vec()),
    }
}

/// True for the roles that manage accounts (which ones: [`can`] with [`Resource::User`]).
pub fn manages_accounts(caller: &Principal) -> bool {
    caller.role == Role::Admin
}

/// Where a caller may change the registry.
pub fn write_scope(caller: &Principal) -> Visibility {
    match caller.role {
        Role::Viewer => Visibility::Within(vec![]),
        Role::Admin if caller.scopes.is_empty() => Visibility::All,
        Role::Admin | Role::StationStaff | Role::TownshipOfficial => {
            Visibility::Within(caller.scopes.clone())
        }
    }
}

/// What the caller wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    /// Close a point, delete a coordinator, unassign.
    Close,
}

/// What the action is on.
#[derive(Clone, Copy, Debug)]
pub enum Resource<'a> {
    /// A registry record (region, point, coordinator, survey, station; a vehicle by its
    /// station's) by the region it lives in; `None` for a record with no region.
    Registry(Option<&'a RegionCode>),
    /// A user account, by the role and regions it has (or would have); `scopes` empty for
    /// unbound. An admin manages an account only when everything the account can read lies
    /// inside what the admin can read: binding a township official to a township gives it the
    /// whole county, so only an admin reaching that county may do so.
    User { role: Role, scopes: &'a [Scope] },
    /// The audit log as a whole: everyone signed in reads their own changes; see
    /// [`audit_scope`] for whose changes beyond those.
    Audit,
    /// A drive plan of a region. Reading one follows the read scope; making one is the blood
    /// station's work: admins and station staff, within their write scope (township officials
    /// and viewers may read plans of their reach, not make them).
    Plan(&'a RegionCode),
    /// A blood station's checklist template, by the station's region: read like the station,
    /// written (replaced) like plans are made: admins and station staff within write scope.
    ChecklistTemplate(&'a RegionCode),
    /// The outbox of messages to donors (names, mobiles, texts across every drive): admins
    /// without region bounds only, since it is not split by region.
    Outbox,
    /// A drive stop's checklist item, by the stop's region: read within the read scope; marked
    /// done or undone by admins, station staff and township officials within their write scope
    /// (not viewers).
    ChecklistItem(&'a RegionCode),
    /// Recruitment (issue 16): the roster of consenting donors, by the donor's village, and
    /// the needs and calls made for them, by the need's region. Personal information on
    /// consent: admins and station staff only, inside their write scope, for reading as for
    /// writing (township officials and viewers do not see donors at all).
    Recruitment(&'a RegionCode),
    /// A station's blood inventory, warning levels, requests and offers (issue 17), by the
    /// station's region. The linkage board is province-wide: admins and station staff read
    /// every station's figures whatever their regions; they change only a station inside
    /// their write scope (403 elsewhere, as the figures are visible). Township officials and
    /// viewers do not see inventories (403).
    Inventory(&'a RegionCode),
}

/// The answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No credentials: 401.
    Unauthenticated,
    /// Visible but not allowed: 403.
    Forbidden,
    /// Not visible to this caller: 404, as if it did not exist.
    Hidden,
}

/// Why an action was refused, with the text the caller is told: what [`Decision::check`]
/// makes of a decision that is not [`Decision::Allow`]. Free of HTTP: `crate::error` maps it
/// to 401 / 403 / 404 in one place, for the handlers and for the services alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    /// No credentials (401).
    Unauthenticated,
    /// Visible but not allowed (403); names the resource.
    Forbidden(String),
    /// Not visible to this caller (404, as if it did not exist); names the resource.
    Hidden(String),
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denied::Unauthenticated => f.write_str(
                "sign in (POST /api/v1/auth/login) or send an API token (Authorization: Bearer dn_…)",
            ),
            Denied::Forbidden(what) => write!(f, "your account may not do this to {what}"),
            Denied::Hidden(what) => write!(f, "no {what}"),
        }
    }
}

impl std::error::Error for Denied {}

impl Decision {
    /// `Ok` when allowed, else why not; `what` names the resource (`point 7`) and is only
    /// called when a refusal needs it.
    ///
    /// # Errors
    /// [`Denied`] for every decision but [`Decision::Allow`].
    pub fn check(self, what: impl FnOnce() -> String) -> Result<(), Denied> {
        match self {
            Decision::Allow => Ok(()),
            Decision::Unauthenticated => Err(Denied::Unauthenticated),
            Decision::Forbidden => Err(Denied::Forbidden(what())),
            Decision::Hidden => Err(Denied::Hidden(what())),
        }
    }
}

/// May `caller` (none when anonymous) do `action` on `resource`?
pub fn can(caller: Option<&Principal>, action: Action, resource: Resource<'_>) -> Decision {
    let Some(caller) = caller else {
        return Decision::Unauthenticated;
    };
    match resource {
        Resource::Registry(region) => {
            if !read_scope(caller).contains_opt(region) {
                Decision::Hidden
            } else if action == Action::Read || write_scope(caller).contains_opt(region) {
                Decision::Allow
            } else {
                Decision::Forbidden
            }
        }
        Resource::User { role, scopes } => {
            if !manages_accounts(caller) {
                return Decision::Forbidden;
            }
            let mine = read_scope(caller);
            let inside = match (&mine, reach(role, scopes)) {
                (Visibility::All, _) => true,
                (Visibility::Within(_), Visibility::All) => false,
                (Visibility::Within(_), Visibility::Within(theirs)) => {
                    !theirs.is_empty() && theirs.iter().all(|s| mine.covers(s))
                }
            };
            if inside {
                Decision::Allow
            } else {
                Decision::Hidden
            }
        }
        Resource::Plan(region) | Resource::ChecklistTemplate(region) => {
            if !read_scope(caller).contains(region) {
                Decision::Hidden
            } else if action == Action::Read
                || (matches!(caller.role, Role::Admin | Role::StationStaff)
                    && write_scope(caller).contains(region))
            {
                Decision::Allow
            } else {
                Decision::Forbidden
            }
        }
        Resource::ChecklistItem(region) => {
            if !read_scope(caller).contains(region) {
                Decision::Hidden
            } else if action == Action::Read
                || (matches!(
                    caller.role,
                    Role::Admin | Role::StationStaff | Role::TownshipOfficial
                ) && write_scope(caller).contains(region))
            {
                Decision::Allow
            } else {
                Decision::Forbidden
            }
        }
        Resource::Recruitment(region) => {
            if !read_scope(caller).contains(region) {
                Decision::Hidden
            } else if matches!(caller.role, Role::Admin | Role::StationStaff)
                && write_scope(caller).contains(region)
            {
                Decision::Allow
            } else {
                Decision::Forbidden
            }
        }
        Resource::Inventory(region) => {
            if !matches!(caller.role, Role::Admin | Role::StationStaff) {
                Decision::Forbidden
            } else if action == Action::Read || write_scope(caller).contains(region) {
                Decision::Allow
            } else {
                Decision::Forbidden
            }
        }
        Resource::Outbox => {
            if caller.role == Role::Admin && read_scope(caller) == Visibility::All {
                Decision::Allow
            } else {
                Decision::Forbidden
            }
        }
        Resource::Audit => {
            if action == Action::Read {
                Decision::Allow
            } else {
                Decision::Forbidden
            }
        }
    }
}

/// Whose changes a caller sees in the audit log, beyond their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditScope {
    /// Everyone's changes to records inside this visibility (admins, station staff).
    Everyone(Visibility),
    /// Only the caller's own changes (township officials, viewers).
    Own,
}

pub fn audit_scope(caller: &Principal) -> AuditScope {
    match caller.role {
        Role::Admin | Role::StationStaff => AuditScope::Everyone(read_scope(caller)),
        Role::TownshipOfficial | Role::Viewer => AuditScope::Own,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::region::Level;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    fn scope(s: &str, level: Level) -> Scope {
        Scope::new(code(s), level)
    }

    fn user(role: Role, scopes: Vec<Scope>) -> Principal {
        Principal {
            user_id: 1,
            username: "u".into(),
            role,
            scopes,
            token: None,
        }
    }

    const CITY: &str = "411100000000";
    const COUNTY: &str = "411102000000";
    const TOWNSHIP: &str = "411102001000";
    const VILLAGE: &str = "411102001201";
    const SIBLING_VILLAGE: &str = "411102002201";
    const OTHER_COUNTY_VILLAGE: &str = "411103100201";
    const OTHER_CITY_VILLAGE: &str = "411200100201";

    fn at(region: &str) -> Resource<'static> {
        let leaked: &'static RegionCode = Box::leak(Box::new(code(region)));
        Resource::Registry(Some(leaked))
    }

    #[test]
    fn a_township_official_writes_its_township_and_reads_its_county() {
        let official = user(
            Role::TownshipOfficial,
            vec![scope(TOWNSHIP, Level::Township)],
        );
        let me = Some(&official);
        assert_eq!(can(me, Action::Update, at(VILLAGE)), Decision::Allow);
        assert_eq!(can(me, Action::Create, at(TOWNSHIP)), Decision::Allow);
        assert_eq!(can(me, Action::Read, at(SIBLING_VILLAGE)), Decision::Allow);
        assert_eq!(
            can(me, Action::Update, at(SIBLING_VILLAGE)),
            Decision::Forbidden
        );
        assert_eq!(can(me, Action::Update, at(COUNTY)), Decision::Forbidden);
        assert_eq!(
            can(me, Action::Read, at(OTHER_COUNTY_VILLAGE)),
            Decision::Hidden
        );
        assert_eq!(
            can(me, Action::Close, at(OTHER_COUNTY_VILLAGE)),
            Decision::Hidden
        );
        assert_eq!(
            can(me, Action::Read, Resource::Registry(None)),
            Decision::Hidden
        );
    }

    #[test]
    fn station_staff_reach_their_city_only() {
        let staff = user(Role::StationStaff, vec![scope(CITY, Level::City)]);
        let me = Some(&staff);
        assert_eq!(
            can(me, Action::Close, at(OTHER_COUNTY_VILLAGE)),
            Decision::Allow
        );
        assert_eq!(
            can(me, Action::Read, at(OTHER_CITY_VILLAGE)),
            Decision::Hidden
        );
        assert_eq!(
            can(
                me,
                Action::Create,
                Resource::User {
                    role: Role::Viewer,
                    scopes: &[]
                }
            ),
            Decision::Forbidden
        );
    }

    #[test]
    fn viewers_read_only_inside() {
        let viewer = user(Role::Viewer, vec![scope(COUNTY, Level::County)]);
        let me = Some(&viewer);
        assert_eq!(can(me, Action::Read, at(VILLAGE)), Decision::Allow);
        assert_eq!(can(me, Action::Update, at(VILLAGE)), Decision::Forbidden);
        assert_eq!(
            can(me, Action::Read, at(OTHER_COUNTY_VILLAGE)),
            Decision::Hidden
        );
    }

    #[test]
    fn anonymous_callers_must_authenticate() {
        assert_eq!(
            can(None, Action::Read, at(VILLAGE)),
            Decision::Unauthenticated
        );
        assert_eq!(
            can(None, Action::Create, at(VILLAGE)),
            Decision::Unauthenticated
        );
    }

    #[test]
    fn admins_manage_users_inside_their_regions() {
        let root = user(Role::Admin, vec![]);
        let city_admin = user(Role::Admin, vec![scope(CITY, Level::City)]);
        let township = [scope(TOWNSHIP, Level::Township)];
        let other_city = [scope("411200000000", Level::City)];
        let mixed = [township[0].clone(), other_city[0].clone()];
        let account = |role, scopes| Resource::User { role, scopes };
        assert_eq!(
            can(Some(&root), Action::Create, account(Role::Admin, &[])),
            Decision::Allow
        );
        assert_eq!(
            can(
                Some(&city_admin),
                Action::Create,
                account(Role::Viewer, &township)
            ),
            Decision::Allow
        );
        assert_eq!(
            can(
                Some(&city_admin),
                Action::Update,
                account(Role::Viewer, &other_city)
            ),
            Decision::Hidden
        );
        assert_eq!(
            can(
                Some(&city_admin),
                Action::Update,
                account(Role::Viewer, &mixed)
            ),
            Decision::Hidden
        );
        // An unbound user reaches everything: only an unbound admin manages one.
        assert_eq!(
            can(Some(&city_admin), Action::Read, account(Role::Admin, &[])),
            Decision::Hidden
        );
        // Binding a user to the whole city is inside the city.
        let whole_city = [scope(CITY, Level::City)];
        assert_eq!(
            can(
                Some(&city_admin),
                Action::Create,
                account(Role::Viewer, &whole_city)
            ),
            Decision::Allow
        );
        // A township's admin may make viewers of its township, but not an official there:
        // an official reads the whole county, beyond the admin's reach.
        let township_admin = user(Role::Admin, vec![scope(TOWNSHIP, Level::Township)]);
        assert_eq!(
            can(
                Some(&township_admin),
                Action::Create,
                account(Role::Viewer, &township)
            ),
            Decision::Allow
        );
        assert_eq!(
            can(
                Some(&township_admin),
                Action::Create,
                account(Role::TownshipOfficial, &township)
            ),
            Decision::Hidden
        );
        let county_admin = user(Role::Admin, vec![scope(COUNTY, Level::County)]);
        assert_eq!(
            can(
                Some(&county_admin),
                Action::Create,
                account(Role::TownshipOfficial, &township)
            ),
            Decision::Allow
        );
        let staff = user(Role::StationStaff, vec![scope(CITY, Level::City)]);
        assert_eq!(
            can(Some(&staff), Action::Read, account(Role::Viewer, &township)),
            Decision::Forbidden
        );
    }

    #[test]
    fn county_of_a_township_directly_under_a_city_is_the_city_prefix() {
        // Dongguan-style: townships right under the city, county digits zero.
        let township = scope("441900003000", Level::Township);
        let county = township.county();
        assert_eq!(county.code.as_str(), "441900000000");
        assert!(county.contains(&code("441900004001")));
        assert!(!county.contains(&code("442000004001")));
    }

    #[test]
    fn only_admins_and_station_staff_make_plans() {
        let county = code(COUNTY);
        let plan = Resource::Plan(&county);
        let staff = user(Role::StationStaff, vec![scope(CITY, Level::City)]);
        let admin = user(Role::Admin, vec![]);
        let official = user(
            Role::TownshipOfficial,
            vec![scope(TOWNSHIP, Level::Township)],
        );
        let township_plan = code(TOWNSHIP);
        let viewer = user(Role::Viewer, vec![scope(COUNTY, Level::County)]);
        let elsewhere = user(Role::StationStaff, vec![scope("411200000000", Level::City)]);
        assert_eq!(can(Some(&staff), Action::Create, plan), Decision::Allow);
        assert_eq!(can(Some(&admin), Action::Create, plan), Decision::Allow);
        assert_eq!(
            can(Some(&viewer), Action::Create, plan),
            Decision::Forbidden
        );
        assert_eq!(can(Some(&viewer), Action::Read, plan), Decision::Allow);
        // Even in its own township, where it writes the registry.
        assert_eq!(
            can(
                Some(&official),
                Action::Create,
                Resource::Plan(&township_plan)
            ),
            Decision::Forbidden
        );
        assert_eq!(can(Some(&official), Action::Read, plan), Decision::Allow);
        assert_eq!(can(Some(&elsewhere), Action::Read, plan), Decision::Hidden);
        assert_eq!(
            can(Some(&elsewhere), Action::Create, plan),
            Decision::Hidden
        );
        assert_eq!(can(None, Action::Read, plan), Decision::Unauthenticated);
    }

    #[test]
    fn checklist_templates_are_written_by_the_station_only() {
        let city = code(CITY);
        let template = Resource::ChecklistTemplate(&city);
        let staff = user(Role::StationStaff, vec![scope(CITY, Level::City)]);
        let admin = user(Role::Admin, vec![]);
        let elsewhere = user(Role::StationStaff, vec![scope("411200000000", Level::City)]);
        let viewer = user(Role::Viewer, vec![scope(CITY, Level::City)]);
        assert_eq!(can(Some(&staff), Action::Update, template), Decision::Allow);
        assert_eq!(can(Some(&admin), Action::Update, template), Decision::Allow);
        assert_eq!(can(Some(&viewer), Action::Read, template), Decision::Allow);
        assert_eq!(
            can(Some(&viewer), Action::Update, template),
            Decision::Forbidden
        );
        assert_eq!(
            can(Some(&elsewhere), Action::Update, template),
            Decision::Hidden
        );
        // A station inside a township official's own township: read, never written.
        let township = code(TOWNSHIP);
        let official = user(
            Role::TownshipOfficial,
            vec![scope(TOWNSHIP, Level::Township)],
        );
        let local = Resource::ChecklistTemplate(&township);
        assert_eq!(can(Some(&official), Action::Read, local), Decision::Allow);
        assert_eq!(
            can(Some(&official), Action::Update, local),
            Decision::Forbidden
        );
        assert_eq!(can(None, Action::Read, local), Decision::Unauthenticated);
    }

    #[test]
    fn checklist_items_are_ticked_by_the_station_and_the_township() {
        let item = |region: &str| {
            let leaked: &'static RegionCode = Box::leak(Box::new(code(region)));
            Resource::ChecklistItem(leaked)
        };
        let official = user(
            Role::TownshipOfficial,
            vec![scope(TOWNSHIP, Level::Township)],
        );
        let staff = user(Role::StationStaff, vec![scope(CITY, Level::City)]);
        let admin = user(Role::Admin, vec![]);
        let viewer = user(Role::Viewer, vec![scope(CITY, Level::City)]);
        // The official: its township's stops, not its neighbours' (readable: same county),
        // nothing of another county.
        assert_eq!(
            can(Some(&official), Action::Update, item(VILLAGE)),
            Decision::Allow
        );
        assert_eq!(
            can(Some(&official), Action::Update, item(TOWNSHIP)),
            Decision::Allow
        );
        assert_eq!(
            can(Some(&official), Action::Update, item(SIBLING_VILLAGE)),
            Decision::Forbidden
        );
        assert_eq!(
            can(Some(&official), Action::Read, item(SIBLING_VILLAGE)),
            Decision::Allow
        );
        assert_eq!(
            can(Some(&official), Action::Update, item(OTHER_COUNTY_VILLAGE)),
            Decision::Hidden
        );
        // Station staff and admins within their reach.
        assert_eq!(
            can(Some(&staff), Action::Update, item(OTHER_COUNTY_VILLAGE)),
            Decision::Allow
        );
        assert_eq!(
            can(Some(&staff), Action::Update, item(OTHER_CITY_VILLAGE)),
            Decision::Hidden
        );
        assert_eq!(
            can(Some(&admin), Action::Update, item(OTHER_CITY_VILLAGE)),
            Decision::Allow
        );
        // Viewers read, never tick.
        assert_eq!(
            can(Some(&viewer), Action::Read, item(VILLAGE)),
            Decision::Allow
        );
        assert_eq!(
            can(Some(&viewer), Action::Update, item(VILLAGE)),
            Decision::Forbidden
        );
        assert_eq!(
            can(None, Action::Update, item(VILLAGE)),
            Decision::Unauthenticated
        );
    }

    #[test]
    fn inventories_are_read_by_all_staff_and_changed_by_the_station_s_own() {
        let other = code(OTHER_CITY_VILLAGE);
        let inventory = Resource::Inventory(&other);
        let staff = user(Role::StationStaff, vec![scope(CITY, Level::City)]);
        let there = user(Role::StationStaff, vec![scope("411200000000", Level::City)]);
        let official = user(
            Role::TownshipOfficial,
            vec![scope(TOWNSHIP, Level::Township)],
        );
        let viewer = user(Role::Viewer, vec![]);
        assert_eq!(can(Some(&staff), Action::Read, inventory), Decision::Allow);
        assert_eq!(
            can(Some(&staff), Action::Update, inventory),
            Decision::Forbidden
        );
        assert_eq!(
            can(Some(&there), Action::Update, inventory),
            Decision::Allow
        );
        assert_eq!(
            can(Some(&official), Action::Read, inventory),
            Decision::Forbidden
        );
        assert_eq!(
            can(Some(&viewer), Action::Read, inventory),
            Decision::Forbidden
        );
        assert_eq!(
            can(None, Action::Read, inventory),
            Decision::Unauthenticated
        );
    }

    #[test]
    fn audit_scope_follows_the_role() {
        assert_eq!(audit_scope(&user(Role::Viewer, vec![])), AuditScope::Own);
        assert_eq!(
            audit_scope(&user(Role::Admin, vec![])),
            AuditScope::Everyone(Visibility::All)
        );
    }

    #[test]
    fn refusals_name_the_resource_and_allow_passes() {
        assert_eq!(Decision::Allow.check(|| unreachable!()), Ok(()));
        assert_eq!(
            Decision::Unauthenticated.check(|| unreachable!()),
            Err(Denied::Unauthenticated)
        );
        assert_eq!(
            Decision::Forbidden.check(|| "point 7".into()),
            Err(Denied::Forbidden("point 7".into()))
        );
        let hidden = Decision::Hidden.check(|| "point 7".into()).unwrap_err();
        assert_eq!(hidden.to_string(), "no point 7");
    }
}
