//! The server's clock: the system's, or, in tests, one that can be set to a day, so that what
//! depends on the date (a drive is started and people are checked in on its day, not before)
//! can be tried on any date.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

/// Where handlers take `now` from. Cheap to clone; clones share a set time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: a settable clock (the system's until set).
    set: Option<Arc<RwLock<Option<DateTime<Utc>>>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that reads the system's until [`Clock::set`] stops it at an instant.
    pub fn settable() -> Clock {
        Clock {
            set: Some(Arc::new(RwLock::new(None))),
        }
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.set
            .as_ref()
            .and_then(|at| *at.read().unwrap_or_else(std::sync::PoisonError::into_inner))
            .unwrap_or_else(Utc::now)
    }

    /// Stops a settable clock at `at` (no effect on the system clock).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(cell) = &self.set {
            *cell
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settable_clock_stays_where_it_was_set_and_its_clones_follow() {
        let clock = Clock::settable();
        let copy = clock.clone();
        let at = DateTime::parse_from_rfc3339("2026-12-15T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        clock.set(at);
        assert_eq!(copy.now(), at);
        let system = Clock::system();
        system.set(at);
        assert_ne!(system.now(), at);
    }
}
