//! The fleet: blood stations and bloodmobiles, their statuses, licence plates and working
//! windows, and the rules a vehicle's figures must meet for a plan to make sense.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether a station still sends out vehicles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StationStatus {
    Active,
    /// Kept, with its history; its vehicles must be retired or moved first.
    Closed,
}

string_enum!(StationStatus {
    Active => "active",
    Closed => "closed",
});

/// Whether a vehicle is in service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VehicleStatus {
    Active,
    /// Kept, with its history (and its plate), never planned.
    Retired,
}

string_enum!(VehicleStatus {
    Active => "active",
    Retired => "retired",
});

/// A licence plate, normalised so that one plate is written one way: spaces, `·`, `•` and
/// `-` removed, ASCII letters upper case (`豫L·D1234` and `豫l d1234` are both `豫LD1234`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plate(String);

impl Plate {
    /// The longest plate accepted (Chinese plates have 7 or 8 characters; room for others).
    pub const MAX_CHARS: usize = 16;

    /// # Errors
    /// An empty plate, or one too long or with characters no plate has.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let plate: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '·' | '•' | '-' | '・'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if plate.is_empty() {
            return Err("is required".to_owned());
        }
        if plate.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if !plate.chars().all(char::is_alphanumeric) {
            return Err("must be letters and digits (a licence plate like 豫L12345)".to_owned());
        }
        Ok(Plate(plate))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A time of day in whole minutes after midnight, `00:00` to `24:00`, written `HH:MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// Midnight at the end of the day.
    pub const END_OF_DAY: u16 = 24 * 60;

    /// # Errors
    /// Anything but `H:MM` or `HH:MM` between `00:00` and `24:00`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let invalid = || format!("must be a time of day as HH:MM (00:00 to 24:00), got {raw:?}");
        let (h, m) = raw.trim().split_once(':').ok_or_else(invalid)?;
        let digits = |s: &str, max_len| {
            (1..=max_len).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(h, 2) || m.len() != 2 || !digits(m, 2) {
            return Err(invalid());
        }
        let (h, m): (u16, u16) = (
            h.parse().map_err(|_| invalid())?,
            m.parse().map_err(|_| invalid())?,
        );
        if m >= 60 || h * 60 + m > Self::END_OF_DAY {
            return Err(invalid());
        }
        Ok(TimeOfDay(h * 60 + m))
    }

    /// A stored value.
    ///
    /// # Errors
    /// Minutes outside a day.
    pub fn from_minutes(minutes: i32) -> Result<Self, String> {
        u16::try_from(minutes)
            .ok()
            .filter(|m| *m <= Self::END_OF_DAY)
            .map(TimeOfDay)
            .ok_or_else(|| format!("{minutes} minutes is not a time of day"))
    }

    pub fn minutes(self) -> i32 {
        i32::from(self.0)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// Bounds of a vehicle's figures: at least one bed, one crew member and one donor a day;
/// setting up or packing up takes at most four hours. The upper bounds catch typing mistakes.
pub const BEDS: (i32, i32) = (1, 50);
pub const STAFF: (i32, i32) = (1, 100);
pub const MAX_DONORS_PER_DAY: (i32, i32) = (1, 2000);
pub const SETUP_MINUTES: (i32, i32) = (0, 240);
/// Yuan per km.
pub const COST_PER_KM: (f64, f64) = (0.0, 1000.0);
/// Donors one bed takes in an hour (screening, bleeding ~10 minutes, rest).
pub const DONORS_PER_BED_HOUR: (f64, f64) = (0.5, 12.0);
pub const DEFAULT_DONORS_PER_BED_HOUR: f64 = 2.0;
/// Booking slot length, minutes.
pub const SLOT_MINUTES: (i32, i32) = (10, 240);
pub const DEFAULT_SLOT_MINUTES: i32 = 30;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plates_are_normalised() {
        assert_eq!(Plate::parse(" 豫l·d1234 ").unwrap().as_str(), "豫LD1234");
        assert_eq!(Plate::parse("豫L-12345").unwrap().as_str(), "豫L12345");
        assert!(Plate::parse("  ").is_err());
        assert!(Plate::parse("豫L/12345").is_err());
        assert!(Plate::parse(&"A".repeat(17)).is_err());
    }

    #[test]
    fn times_of_day_read_and_print_as_hh_mm() {
        assert_eq!(TimeOfDay::parse("08:00").unwrap().minutes(), 480);
        assert_eq!(TimeOfDay::parse("8:30").unwrap().minutes(), 510);
        assert_eq!(TimeOfDay::parse("24:00").unwrap().minutes(), 1440);
        assert_eq!(TimeOfDay::parse("17:05").unwrap().to_string(), "17:05");
        for bad in [
            "24:01", "12:60", "800", "8:5", "-1:00", "08:00:00", "", "ab:cd", "+8:00",
        ] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(TimeOfDay::from_minutes(1020).unwrap().to_string(), "17:00");
        assert!(TimeOfDay::from_minutes(1441).is_err());
        assert!(TimeOfDay::from_minutes(-1).is_err());
    }
}
