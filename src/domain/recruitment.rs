//! One-to-one recruitment (issue 16): who may be called for a need, and in which order.
//!
//! A donor may give again once the interval the national standard sets between their last
//! donation's kind and the kind wanted has passed (GB 18467-2011: whole blood after whole blood
//! 180 days, apheresis platelets after platelets 14 days, …; the station may change each in
//! [`Rules`]). Day `interval` after the last donation is the first day they may give.
//!
//! The call list is ranked by distance to where the donors are asked to come, in rings of
//! [`RING_KM`] (a donor 2 km away and one 4 km away are as near), and within a ring by time
//! since the last donation, longest first: those are the most certainly eligible and the least
//! often asked. Donors with no known last donation come after those with one in their ring,
//! donors of a village with no known position after every ring.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::attendance::{Abo, Rh};

/// Distances closer than this are treated as equal when ranking.
pub const RING_KM: f64 = 5.0;

/// The path of a donor's withdrawal link, before its token (`/roster/withdraw?t=<token>`).
pub const WITHDRAW_PATH: &str = "/roster/withdraw?t=";

/// `body` with every withdrawal link written as a bare path (where it was written, the site's
/// public address was not known: a staff change, a group request's answer) made whole with
/// `site` (no trailing slash), so the donor can open it from a text message. A link already
/// whole (the path straight after its host) is left as it is; without `site` nothing changes.
pub fn with_site(body: &str, site: Option<&str>) -> String {
    let Some(site) = site.filter(|s| !s.is_empty()) else {
        return body.to_owned();
    };
    let mut out = String::with_capacity(body.len() + site.len());
    let mut rest = body;
    while let Some(at) = rest.find(WITHDRAW_PATH) {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        // A bare path starts the text or follows a space or punctuation (`：`, `: `); a whole
        // link has its host (or port, or base path) right before it.
        let bare = !before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':'));
        if bare {
            out.push_str(site);
        }
        out.push_str(WITHDRAW_PATH);
        rest = &after[WITHDRAW_PATH.len()..];
    }
    out.push_str(rest);
    out
}

/// What a donation was, or what a need asks for.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DonationKind {
    WholeBlood,
    /// Apheresis platelets (机采血小板).
    Platelets,
}

string_enum!(DonationKind {
    WholeBlood => "whole_blood",
    Platelets => "platelets",
});

/// An ABO group with its Rh(D) type: `O+`, `AB-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BloodGroup {
    pub abo: Abo,
    pub rh: Rh,
}

impl std::str::FromStr for BloodGroup {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let split = s
            .char_indices()
            .last()
            .map(|(i, _)| i)
            .ok_or_else(|| "is empty (expected a blood group such as O+)".to_owned())?;
        let (abo, rh) = s.split_at(split);
        match (abo.parse::<Abo>(), rh.parse::<Rh>()) {
            (Ok(abo), Ok(rh)) => Ok(BloodGroup { abo, rh }),
            _ => Err(format!(
                "{s:?} is not a blood group (expected A+, A-, B+, B-, AB+, AB-, O+ or O-)"
            )),
        }
    }
}

impl std::fmt::Display for BloodGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.abo, self.rh)
    }
}

/// Parses `O+,O-` (each once, in a fixed order).
///
/// # Errors
/// Empty, or a member that is not a blood group.
pub fn parse_groups(raw: &str) -> Result<Vec<BloodGroup>, String> {
    let mut groups = raw
        .split(',')
        .map(str::parse::<BloodGroup>)
        .collect::<Result<Vec<_>, _>>()?;
    groups.sort();
    groups.dedup();
    Ok(groups)
}

/// The stored form of a list of groups: `O+,O-`.
pub fn groups_text(groups: &[BloodGroup]) -> String {
    groups
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// What came of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Agreed, and a booking was made (linked to the call).
    Booked,
    Declined,
    NoAnswer,
    /// Not eligible now (illness, medication, travel, …).
    NotEligible,
    /// Asked never to be called again: taken off every future list.
    DoNotCall,
}

string_enum!(CallOutcome {
    Booked => "booked",
    Declined => "declined",
    NoAnswer => "no_answer",
    NotEligible => "not_eligible",
    DoNotCall => "do_not_call",
});

/// How a donor gave consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentChannel {
    /// Ticked at check-in at a drive stop.
    CheckIn,
    /// Signed on paper (a sheet imported later).
    Paper,
    /// Said on the phone, recorded by staff.
    Phone,
    /// Agreed online.
    Online,
}

string_enum!(ConsentChannel {
    CheckIn => "check_in",
    Paper => "paper",
    Phone => "phone",
    Online => "online",
});

/// The intervals between donations and the days before a donor may be called again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rules {
    /// Days from a donation of the first kind to the first day of a donation of the second.
    pub whole_blood_to_whole_blood: i32,
    pub whole_blood_to_platelets: i32,
    pub platelets_to_platelets: i32,
    pub platelets_to_whole_blood: i32,
    /// A donor called (whatever came of it) is not listed again for this many days.
    pub no_recall_days: i32,
}

impl Default for Rules {
    /// The national standard's intervals and a month between calls.
    fn default() -> Self {
        Rules {
            whole_blood_to_whole_blood: 180,
            whole_blood_to_platelets: 90,
            platelets_to_platelets: 14,
            platelets_to_whole_blood: 28,
            no_recall_days: 30,
        }
    }
}

/// The longest interval or recall period taken, in days (three years).
pub const MAX_RULE_DAYS: i32 = 1095;

impl Rules {
    /// The stored names and values.
    pub fn named(&self) -> [(&'static str, i32); 5] {
        [
            (
                "interval.whole_blood.whole_blood",
                self.whole_blood_to_whole_blood,
            ),
            (
                "interval.whole_blood.platelets",
                self.whole_blood_to_platelets,
            ),
            ("interval.platelets.platelets", self.platelets_to_platelets),
            (
                "interval.platelets.whole_blood",
                self.platelets_to_whole_blood,
            ),
            ("no_recall_days", self.no_recall_days),
        ]
    }

    /// The rules from their stored names; a name missing keeps the default.
    pub fn from_named(stored: &BTreeMap<String, i32>) -> Rules {
        let mut rules = Rules::default();
        let get = |name: &str, default: i32| stored.get(name).copied().unwrap_or(default);
        rules.whole_blood_to_whole_blood = get(
            "interval.whole_blood.whole_blood",
            rules.whole_blood_to_whole_blood,
        );
        rules.whole_blood_to_platelets = get(
            "interval.whole_blood.platelets",
            rules.whole_blood_to_platelets,
        );
        rules.platelets_to_platelets =
            get("interval.platelets.platelets", rules.platelets_to_platelets);
        rules.platelets_to_whole_blood = get(
            "interval.platelets.whole_blood",
            rules.platelets_to_whole_blood,
        );
        rules.no_recall_days = get("no_recall_days", rules.no_recall_days);
        rules
    }

    /// Each value out of range, by its field name.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let fields = [
            (
                "whole_blood_to_whole_blood",
                self.whole_blood_to_whole_blood,
            ),
            ("whole_blood_to_platelets", self.whole_blood_to_platelets),
            ("platelets_to_platelets", self.platelets_to_platelets),
            ("platelets_to_whole_blood", self.platelets_to_whole_blood),
            ("no_recall_days", self.no_recall_days),
        ];
        fields
            .into_iter()
            .filter(|(_, days)| !(0..=MAX_RULE_DAYS).contains(days))
            .map(|(name, _)| (name, format!("must be between 0 and {MAX_RULE_DAYS} days")))
            .collect()
    }

    /// Days from a donation of kind `last` to the first day a donation of kind `next` may be.
    pub fn interval(&self, last: DonationKind, next: DonationKind) -> i32 {
        match (last, next) {
            (DonationKind::WholeBlood, DonationKind::WholeBlood) => self.whole_blood_to_whole_blood,
            (DonationKind::WholeBlood, DonationKind::Platelets) => self.whole_blood_to_platelets,
            (DonationKind::Platelets, DonationKind::Platelets) => self.platelets_to_platelets,
            (DonationKind::Platelets, DonationKind::WholeBlood) => self.platelets_to_whole_blood,
        }
    }

    /// The latest day a donation of kind `last` may have been on for its donor to give `next`
    /// on `on`: the interval has passed on `on` exactly when the last donation was on or
    /// before this day.
    pub fn latest_last_donation(
        &self,
        last: DonationKind,
        next: DonationKind,
        on: NaiveDate,
    ) -> NaiveDate {
        on - Duration::days(i64::from(self.interval(last, next)))
    }

    /// May a donor whose last donation was `last` (none known: yes) give `next` on `on`?
    pub fn eligible(
        &self,
        last: Option<(NaiveDate, DonationKind)>,
        next: DonationKind,
        on: NaiveDate,
    ) -> bool {
        last.is_none_or(|(day, kind)| day <= self.latest_last_donation(kind, next, on))
    }
}

/// A donor as the ranking sees them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ranked {
    pub id: i64,
    /// Km to where the need asks donors to come; `None` when either position is unknown.
    pub distance_km: Option<f64>,
    pub last_donation_on: Option<NaiveDate>,
}

/// The ring a distance falls in; unknown after every ring.
fn ring(distance_km: Option<f64>) -> u64 {
    distance_km.map_or(u64::MAX, |km| {
        // Distances are small and non-negative: the cast keeps the whole rings.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ring = (km.max(0.0) / RING_KM).floor() as u64;
        ring
    })
}

/// The call order (see the module's text): nearer ring first, then the longest since the last
/// donation, unknown last donation after known, then nearer, then the smaller id.
pub fn call_order(a: &Ranked, b: &Ranked) -> Ordering {
    ring(a.distance_km)
        .cmp(&ring(b.distance_km))
        .then_with(|| match (a.last_donation_on, b.last_donation_on) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then_with(|| {
            a.distance_km
                .unwrap_or(f64::MAX)
                .total_cmp(&b.distance_km.unwrap_or(f64::MAX))
        })
        .then_with(|| a.id.cmp(&b.id))
}

/// The first `n` of `donors` in call order (a partial sort: the whole list is not ordered).
pub fn first_in_call_order(mut donors: Vec<Ranked>, n: usize) -> Vec<Ranked> {
    if n == 0 {
        return Vec::new();
    }
    if donors.len() > n {
        donors.select_nth_unstable_by(n - 1, call_order);
        donors.truncate(n);
    }
    donors.sort_by(call_order);
    donors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn whole_blood_may_be_given_again_on_the_180th_day_and_not_the_179th() {
        let rules = Rules::default();
        let last = Some((day("2026-06-01"), DonationKind::WholeBlood));
        let day_180 = day("2026-06-01") + Duration::days(180);
        assert!(rules.eligible(last, DonationKind::WholeBlood, day_180));
        assert!(!rules.eligible(last, DonationKind::WholeBlood, day_180 - Duration::days(1)));
        // Platelets after whole blood wait 90 days, after platelets 14.
        assert!(rules.eligible(last, DonationKind::Platelets, day("2026-08-30")));
        assert!(!rules.eligible(last, DonationKind::Platelets, day("2026-08-29")));
        let platelets = Some((day("2026-12-01"), DonationKind::Platelets));
        assert!(rules.eligible(platelets, DonationKind::Platelets, day("2026-12-15")));
        assert!(!rules.eligible(platelets, DonationKind::Platelets, day("2026-12-14")));
        assert!(rules.eligible(None, DonationKind::WholeBlood, day("2026-12-14")));
    }

    #[test]
    fn rules_round_trip_through_their_names_and_refuse_values_out_of_range() {
        let rules = Rules {
            platelets_to_platelets: 21,
            ..Rules::default()
        };
        let stored: BTreeMap<String, i32> = rules
            .named()
            .iter()
            .map(|(n, d)| ((*n).to_owned(), *d))
            .collect();
        assert_eq!(Rules::from_named(&stored), rules);
        let bad = Rules {
            no_recall_days: -1,
            whole_blood_to_whole_blood: 5000,
            ..Rules::default()
        };
        let named: Vec<_> = bad.problems().into_iter().map(|(n, _)| n).collect();
        assert_eq!(named, vec!["whole_blood_to_whole_blood", "no_recall_days"]);
    }

    #[test]
    fn blood_groups_parse_in_a_fixed_order_once_each() {
        let groups = parse_groups("O-, AB+,O-,A+").unwrap();
        assert_eq!(groups_text(&groups), "A+,AB+,O-");
        assert!(parse_groups("O").is_err());
        assert!(parse_groups("").is_err());
        assert!(parse_groups("C+").is_err());
    }

    #[test]
    fn the_nearer_ring_comes_first_then_the_longest_since_donating() {
        let r = |id, km: Option<f64>, last: Option<&str>| Ranked {
            id,
            distance_km: km,
            last_donation_on: last.map(day),
        };
        let donors = vec![
            r(1, Some(12.0), Some("2020-01-01")),
            r(2, Some(1.0), Some("2026-01-01")),
            r(3, Some(4.5), Some("2025-01-01")),
            r(4, None, Some("2019-01-01")),
            r(5, Some(3.0), None),
            r(6, Some(6.0), Some("2026-02-01")),
        ];
        let ids: Vec<i64> = first_in_call_order(donors.clone(), 10)
            .iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(ids, vec![3, 2, 5, 6, 1, 4]);
        let first_two: Vec<i64> = first_in_call_order(donors, 2)
            .iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(first_two, vec![3, 2]);
    }
    #[test]
    fn a_bare_withdrawal_path_is_made_whole_with_the_site_and_a_whole_link_is_kept() {
        let site = Some("https://donors.example.cn");
        let token = "ab".repeat(32);
        let zh = format!("您已取消预约。点此退出：/roster/withdraw?t={token}");
        assert_eq!(
            with_site(&zh, site),
            format!("您已取消预约。点此退出：https://donors.example.cn/roster/withdraw?t={token}")
        );
        let en = format!("Withdraw here: /roster/withdraw?t={token}");
        assert_eq!(
            with_site(&en, site),
            format!("Withdraw here: https://donors.example.cn/roster/withdraw?t={token}")
        );
        let whole = format!("退出：http://10.0.0.2:8080/donornet/roster/withdraw?t={token}");
        assert_eq!(with_site(&whole, site), whole);
        let port = format!("退出：http://10.0.0.2:8080/roster/withdraw?t={token}");
        assert_eq!(with_site(&port, site), port);
        assert_eq!(with_site(&zh, None), zh);
        assert_eq!(with_site("no link", site), "no link");
    }
}
