//! Drives (issue 6): one vehicle-day with its ordered stops, and the states it goes through.
//!
//! ```text
//! draft ──> published ──> in_progress ──> completed
//!   │           │              │
//!   └───────────┴──────────────┴──> cancelled (with a reason)
//! ```
//!
//! `completed` and `cancelled` are final.
//!
//! The drive's day ([`day_allows`]): a drive is started, people are checked in and it is
//! completed on its date (China time) or, for the results of a past drive entered later from
//! paper forms, after it; never before it. Publishing and cancelling may happen any day.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a drive is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriveStatus {
    /// Made from a plan or by hand; not announced yet.
    Draft,
    /// Announced.
    Published,
    /// The vehicle is out.
    InProgress,
    /// Done (final).
    Completed,
    /// Called off, with a reason (final).
    Cancelled,
}

string_enum!(DriveStatus {
    Draft => "draft",
    Published => "published",
    InProgress => "in_progress",
    Completed => "completed",
    Cancelled => "cancelled",
});

impl DriveStatus {
    /// Completed and cancelled drives never change again.
    pub fn is_final(self) -> bool {
        matches!(self, DriveStatus::Completed | DriveStatus::Cancelled)
    }
}

/// Whether a drive may go from `from` to `to`. Cancelling needs a non-empty `reason`.
///
/// # Errors
/// Why not, for the client (names both states).
pub fn transition(from: DriveStatus, to: DriveStatus, reason: Option<&str>) -> Result<(), String> {
    use DriveStatus::{Cancelled, Completed, Draft, InProgress, Published};
    let allowed = matches!(
        (from, to),
        (Draft, Published)
            | (Published, InProgress)
            | (InProgress, Completed)
            | (Draft | Published | InProgress, Cancelled)
    );
    if !allowed {
        return Err(if from.is_final() {
            format!("the drive is {from}, which is final; it cannot become {to}")
        } else {
            format!("a {from} drive cannot become {to}")
        });
    }
    if to == Cancelled && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err("cancelling a drive needs a reason".to_owned());
    }
    Ok(())
}

/// What needs the drive's day to have come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayBound {
    /// Moving the drive to this status.
    Move(DriveStatus),
    /// Checking someone in at one of its stops.
    CheckIn,
}

/// Whether `what` may happen on `today` (China time) to a drive dated `date`: starting,
/// completing and checking in not before the date; everything else any day.
///
/// # Errors
/// Why not, for the client (names the drive's date).
pub fn day_allows(what: DayBound, date: NaiveDate, today: NaiveDate) -> Result<(), String> {
    let doing = match what {
        DayBound::Move(DriveStatus::InProgress) => "started",
        DayBound::Move(DriveStatus::Completed) => "completed",
        DayBound::CheckIn => "checked in at",
        DayBound::Move(_) => return Ok(()),
    };
    if today < date {
        return Err(format!(
            "the drive is on {date} (China time) and today is {today}: it can be {doing} on \
             its day, not before"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_completing_and_checking_in_wait_for_the_drives_day() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 15).unwrap();
        let before = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let after = NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
        for what in [
            DayBound::Move(DriveStatus::InProgress),
            DayBound::Move(DriveStatus::Completed),
            DayBound::CheckIn,
        ] {
            let refused = day_allows(what, date, before).unwrap_err();
            assert!(refused.contains("2026-12-15"), "{refused}");
            assert!(refused.contains("2026-12-07"), "{refused}");
            assert_eq!(day_allows(what, date, date), Ok(()), "{what:?}");
            // Results of past drives are entered later, from paper forms.
            assert_eq!(day_allows(what, date, after), Ok(()), "{what:?}");
        }
        for to in [
            DriveStatus::Draft,
            DriveStatus::Published,
            DriveStatus::Cancelled,
        ] {
            assert_eq!(day_allows(DayBound::Move(to), date, before), Ok(()));
        }
    }
    use DriveStatus::{Cancelled, Completed, Draft, InProgress, Published};

    #[test]
    fn exactly_the_documented_transitions_are_allowed() {
        let allowed = [
            (Draft, Published),
            (Published, InProgress),
            (InProgress, Completed),
            (Draft, Cancelled),
            (Published, Cancelled),
            (InProgress, Cancelled),
        ];
        for &from in DriveStatus::ALL {
            for &to in DriveStatus::ALL {
                let result = transition(from, to, Some("flooded road"));
                assert_eq!(
                    result.is_ok(),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}: {result:?}"
                );
            }
        }
    }

    #[test]
    fn final_states_say_so() {
        for from in [Completed, Cancelled] {
            assert!(from.is_final());
            for &to in DriveStatus::ALL {
                let err = transition(from, to, Some("x")).unwrap_err();
                assert!(err.contains("final"), "{err}");
            }
        }
        assert!(!Draft.is_final());
    }

    #[test]
    fn cancelling_needs_a_reason() {
        for from in [Draft, Published, InProgress] {
            assert!(transition(from, Cancelled, None).is_err());
            assert!(transition(from, Cancelled, Some("  ")).is_err());
            assert!(transition(from, Cancelled, Some("snow")).is_ok());
        }
        // Other transitions do not need one.
        assert!(transition(Draft, Published, None).is_ok());
    }

    #[test]
    fn statuses_round_trip_as_text() {
        for &s in DriveStatus::ALL {
            assert_eq!(s.as_str().parse::<DriveStatus>(), Ok(s));
        }
        assert!("done".parse::<DriveStatus>().is_err());
    }
}
