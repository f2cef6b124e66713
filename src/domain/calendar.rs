//! Lunar calendar facts, for points (their market days), the store and the planner's turnout: the Spring Festival (when migrant workers are home) and
//! the lunar market days of rural townships. Dates come from the `chinese-lunisolar-calendar`
//! crate (its tables cover the lunisolar years 1901 to 2100); nothing here hard-codes a year.

use std::fmt;
use std::str::FromStr;

use chinese_lunisolar_calendar::LunisolarDate;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The Spring Festival (lunar 1/1) of the lunisolar year that starts in Gregorian `year`, or
/// `None` outside the calendar tables.
pub fn spring_festival(year: i32) -> Option<NaiveDate> {
    let year = u16::try_from(year).ok()?;
    LunisolarDate::from_ymd(year, 1, false, 1)
        .ok()
        .map(LunisolarDate::to_naive_date)
}

/// The day of the lunar month (1 to 30) of `date`, or `None` outside the calendar tables.
pub fn lunar_day(date: NaiveDate) -> Option<u8> {
    LunisolarDate::from_date(date)
        .ok()
        .map(|d| d.to_lunar_day().to_u8())
}

/// True when the calendar tables cover `date` (its lunar day, market days and Spring Festival
/// are known).
pub fn covers(date: NaiveDate) -> bool {
    lunar_day(date).is_some()
}

/// Why a date outside the tables cannot be forecast, for a field's message.
pub fn not_covered(date: NaiveDate) -> String {
    format!(
        "{date} is outside the lunar calendar's tables (lunisolar years 1901 to 2100): its \
         market days and Spring Festival are unknown"
    )
}

/// The Spring Festival nearest to `date` (this year's or next year's), for presence windows
/// that straddle the Gregorian new year.
pub fn nearest_spring_festival(date: NaiveDate) -> Option<NaiveDate> {
    use chrono::Datelike;
    [date.year() - 1, date.year(), date.year() + 1]
        .into_iter()
        .filter_map(spring_festival)
        .min_by_key(|f| (*f - date).num_days().abs())
}

/// A township's market days, by the last digit of the lunar day: `1,4,7` is the common "逢一
/// 四七" pattern (lunar days 1, 4, 7, 11, 14, 17, 21, 24, 27); `0` stands for days 10, 20
/// and 30.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MarketDays {
    digits: [bool; 10],
}

impl MarketDays {
    /// The pattern of these last digits (each 0 to 9).
    ///
    /// # Errors
    /// A digit above 9.
    pub fn of_digits(digits: &[u8]) -> Result<Self, String> {
        let mut out = MarketDays::default();
        for &d in digits {
            let slot = out
                .digits
                .get_mut(usize::from(d))
                .ok_or_else(|| format!("market day digits are 0 to 9, got {d}"))?;
            *slot = true;
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        !self.digits.contains(&true)
    }

    /// True when the lunar day `day` (1 to 30) is a market day.
    pub fn includes_lunar_day(&self, day: u8) -> bool {
        self.digits[usize::from(day % 10)]
    }

    /// True when `date` is a market day (false outside the calendar tables).
    pub fn includes(&self, date: NaiveDate) -> bool {
        lunar_day(date).is_some_and(|d| self.includes_lunar_day(d))
    }
}

impl fmt::Display for MarketDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits: Vec<String> = (0..10u8)
            .filter(|d| self.digits[usize::from(*d)])
            .map(|d| d.to_string())
            .collect();
        f.write_str(&digits.join(","))
    }
}

impl FromStr for MarketDays {
    type Err = String;

    /// `1,4,7` (digits, commas and spaces optional: `147` works too); empty for none.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut digits = Vec::new();
        for c in s.chars().filter(|c| !matches!(c, ',' | ' ' | '，')) {
            let d = c
                .to_digit(10)
                .ok_or_else(|| format!("market days are lunar-day digits like 1,4,7; got {c:?}"))?;
            digits.push(u8::try_from(d).unwrap_or(0));
        }
        MarketDays::of_digits(&digits)
    }
}

impl Serialize for MarketDays {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for MarketDays {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn spring_festival_dates_match_the_published_calendar() {
        // As published (e.g. by the Purple Mountain Observatory's calendar tables).
        for (year, expected) in [
            (2020, date(2020, 1, 25)),
            (2023, date(2023, 1, 22)),
            (2024, date(2024, 2, 10)),
            (2025, date(2025, 1, 29)),
            (2026, date(2026, 2, 17)),
            (2027, date(2027, 2, 6)),
        ] {
            assert_eq!(spring_festival(year), Some(expected), "{year}");
        }
        assert_eq!(spring_festival(1800), None);
        assert!(covers(date(1901, 2, 19)) && covers(date(2101, 1, 28)));
        assert!(!covers(date(1901, 2, 18)) && !covers(date(2101, 1, 29)));
        assert!(!covers(date(9999, 12, 31)));
        assert_eq!(spring_festival(-5), None);
    }

    #[test]
    fn the_nearest_festival_straddles_the_new_year() {
        assert_eq!(
            nearest_spring_festival(date(2026, 12, 20)),
            Some(date(2027, 2, 6))
        );
        assert_eq!(
            nearest_spring_festival(date(2026, 3, 1)),
            Some(date(2026, 2, 17))
        );
    }

    #[test]
    fn lunar_days_and_market_days() {
        // 2026-02-17 is lunar 1/1; 2026-02-20 lunar 1/4; 2026-02-26 lunar 1/10.
        assert_eq!(lunar_day(date(2026, 2, 17)), Some(1));
        assert_eq!(lunar_day(date(2026, 2, 20)), Some(4));
        assert_eq!(lunar_day(date(2026, 2, 26)), Some(10));
        let one_four_seven: MarketDays = "1,4,7".parse().unwrap();
        assert!(one_four_seven.includes(date(2026, 2, 17)));
        assert!(one_four_seven.includes(date(2026, 2, 20)));
        assert!(!one_four_seven.includes(date(2026, 2, 18)));
        assert!(!one_four_seven.includes(date(2026, 2, 26)));
        for day in [1, 4, 7, 11, 14, 17, 21, 24, 27] {
            assert!(one_four_seven.includes_lunar_day(day), "{day}");
        }
        let tens: MarketDays = "0".parse().unwrap();
        assert!(tens.includes(date(2026, 2, 26)));
        assert_eq!("147".parse::<MarketDays>().unwrap(), one_four_seven);
        assert_eq!(one_four_seven.to_string(), "1,4,7");
        assert!("1,x".parse::<MarketDays>().is_err());
        assert!("".parse::<MarketDays>().unwrap().is_empty());
    }
}
