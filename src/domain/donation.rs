//! Rules of donating that several parts share.

/// Days between two whole-blood donations (China's national standard, GB 18467): a donor is
/// eligible again this many days after a donation; donations within it make a person "recent"
/// (not available to a forecast or a plan); attendances' mobiles are kept this long.
///
/// Not the planner's days between two visits to a site (`min_days_between_visits`), which a
/// plan request sets and which only defaults to the same number.
pub const DONATION_INTERVAL_DAYS: i64 = 180;
