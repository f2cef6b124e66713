//! Host organisations (issue 16): their kinds and their yearly timetable.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The share of a host's typical headcount expected to donate at a group drive there, when no
/// sign-up goal is given: the planner's estimate of a host's expected donors is its typical
/// headcount times this share. A workplace drive that was announced ahead and given time off
/// for typically sees a quarter to a third of the staff donate; the lower end is taken, so a
/// plan does not count on donors a host may not bring.
pub const PARTICIPATION_SHARE: f64 = 0.25;

/// A host's expected donors at a group drive: the sign-up goal when one is set, else its
/// typical headcount times [`PARTICIPATION_SHARE`]; `None` when neither is known.
pub fn expected_donors(signup_goal: Option<i32>, typical_headcount: Option<i32>) -> Option<f64> {
    signup_goal
        .map(f64::from)
        .or_else(|| typical_headcount.map(|h| f64::from(h) * PARTICIPATION_SHARE))
}

/// A colleague's name as the host's sign-up page shows it: the first character, the rest
/// starred (`张**`), so the contact can count and recognise without a list of names to copy.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => "*".to_owned(),
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
    }
}

/// What a host organisation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HostKind {
    /// A government agency or public institution (机关事业单位).
    Agency,
    Enterprise,
    School,
    Hospital,
    /// A residential community (社区).
    Community,
    Other,
}

string_enum!(HostKind {
    Agency => "agency",
    Enterprise => "enterprise",
    School => "school",
    Hospital => "hospital",
    Community => "community",
    Other => "other",
});

/// The months a host prefers for its drives, as stored: bit `m - 1` for month `m`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Months(u16);

impl Months {
    /// The months given, each 1 to 12 (checked by the caller's rules; others are ignored).
    pub fn of(months: &[u32]) -> Months {
        Months(
            months
                .iter()
                .filter(|m| (1..=12).contains(*m))
                .fold(0, |bits, m| bits | (1 << (m - 1))),
        )
    }

    /// The stored bits (anything above the 12 months' bits is dropped).
    pub fn from_bits(bits: i32) -> Months {
        Months(u16::try_from(bits & 0x0fff).unwrap_or(0))
    }

    pub fn bits(self) -> i32 {
        i32::from(self.0)
    }

    /// The bit of month `month` (1 to 12).
    pub fn bit(month: u32) -> i32 {
        Months::of(&[month]).bits()
    }

    /// The months, in calendar order.
    pub fn list(self) -> Vec<u32> {
        (1..=12).filter(|m| self.0 & (1 << (m - 1)) != 0).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_round_trip_through_their_bits_in_calendar_order() {
        let months = Months::of(&[12, 3, 9, 3]);
        assert_eq!(months.bits(), (1 << 2) | (1 << 8) | (1 << 11));
        assert_eq!(Months::from_bits(months.bits()).list(), vec![3, 9, 12]);
        assert_eq!(Months::bit(1), 1);
        assert_eq!(Months::bit(12), 2048);
        assert!(Months::of(&[0, 13]).list().is_empty());
    }

    #[test]
    fn a_host_expects_its_goal_else_a_share_of_its_headcount() {
        assert_eq!(expected_donors(Some(60), Some(400)), Some(60.0));
        assert_eq!(expected_donors(None, Some(400)), Some(100.0));
        assert_eq!(expected_donors(None, None), None);
    }

    #[test]
    fn names_keep_their_first_character_only() {
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_name(" 欧阳晓明 "), "欧***");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_name(""), "*");
    }

    #[test]
    fn kinds_round_trip_through_text() {
        for kind in HostKind::ALL {
            assert_eq!(kind.as_str().parse::<HostKind>(), Ok(*kind));
        }
        assert!("bank".parse::<HostKind>().is_err());
    }
}
