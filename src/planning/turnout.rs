//! The turnout forecast: how many donors a drive at a site can expect on a date, from the
//! village surveys around it. Every number in the result is explained, village by village
//! and factor by factor.
//!
//! For each village `v` within the catchment of the site:
//!
//! ```text
//! expected_v = max(0, eligible_v(date) - recent_donors_v) x rate x decay(d_v) x day_factor(date)
//! eligible_v(date) = resident_v + away_for_work_v x presence(date)
//! decay(d) = exp(-d / decay_km)
//! day_factor = (weekend_factor on Saturdays and Sundays) x (market_factor on market days)
//! ```
//!
//! and the forecast is the sum, capped by the vehicle's capacity for the stay when one is
//! given. `resident_v` is the survey's eligible total less those away for work; `presence` is
//! the share of those away who are home: high in the weeks around the Spring Festival, low
//! otherwise. `recent_donors_v` are the village's donors who gave whole blood in the last 180
//! days (from recorded drive results, or from earlier stops of the plan being made).
//!
//! The defaults ([`TurnoutParams::default`]) are documented with their sources in the README;
//! they are replaced by calibrated values once enough drive results are recorded.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::geo::Wgs84Point;
use crate::planning::calendar::{self, MarketDays};

/// The model's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TurnoutParams {
    /// Share of the available eligible people at distance 0 who give blood at a drive.
    pub rate: f64,
    /// Distance at which the draw falls to 1/e, km.
    pub decay_km: f64,
    /// Villages farther than this from the site are not counted, km.
    pub catchment_km: f64,
    /// Share of those away for work who are home within the festival window…
    pub presence_festival: f64,
    /// …and outside it.
    pub presence_normal: f64,
    /// The festival window: this many days before the Spring Festival…
    pub festival_days_before: i64,
    /// …to this many days after it.
    pub festival_days_after: i64,
    /// Multiplier on Saturdays and Sundays.
    pub weekend_factor: f64,
    /// Multiplier on the site's market days.
    pub market_factor: f64,
}

impl Default for TurnoutParams {
    fn default() -> Self {
        TurnoutParams {
            // A township drive drew about 50 donors (6 drives, 302 donors) from about 8,000
            // eligible people within reach once distance-weighted: 50 / 8,000 ≈ 0.006.
            rate: 0.006,
            decay_km: 3.0,
            catchment_km: 10.0,
            presence_festival: 0.8,
            presence_normal: 0.1,
            festival_days_before: 21,
            festival_days_after: 15,
            weekend_factor: 1.2,
            market_factor: 1.3,
        }
    }
}

/// Overrides of the turnout parameters for one forecast or plan ("what if the draw fell off
/// faster?"). Unset fields keep the parameters in use (calibrated, else the defaults).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TurnoutOverrides {
    /// Share of the available eligible people at distance 0 who give (0 to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Distance at which the draw falls to 1/e, km (0.1 to 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay_km: Option<f64>,
    /// Villages farther than this are not counted, km (0.5 to 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catchment_km: Option<f64>,
    /// Multiplier on Saturdays and Sundays (0.1 to 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekend_factor: Option<f64>,
    /// Multiplier on market days (0.1 to 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market_factor: Option<f64>,
}

impl TurnoutOverrides {
    pub fn is_empty(&self) -> bool {
        *self == TurnoutOverrides::default()
    }

    /// The fields out of bounds: (field name, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let bounds = [
            ("rate", self.rate, 0.0, 1.0, false),
            ("decay_km", self.decay_km, 0.1, 50.0, true),
            ("catchment_km", self.catchment_km, 0.5, 50.0, true),
            ("weekend_factor", self.weekend_factor, 0.1, 5.0, true),
            ("market_factor", self.market_factor, 0.1, 5.0, true),
        ];
        bounds
            .into_iter()
            .filter_map(|(field, value, low, high, low_inclusive)| {
                let v = value?;
                let above_low = if low_inclusive { v >= low } else { v > low };
                (!(v.is_finite() && above_low && v <= high))
                    .then(|| (field, format!("must be between {low} and {high}")))
            })
            .collect()
    }

    /// `params` with these overrides applied.
    pub fn apply(&self, params: &TurnoutParams) -> TurnoutParams {
        TurnoutParams {
            rate: self.rate.unwrap_or(params.rate),
            decay_km: self.decay_km.unwrap_or(params.decay_km),
            catchment_km: self.catchment_km.unwrap_or(params.catchment_km),
            weekend_factor: self.weekend_factor.unwrap_or(params.weekend_factor),
            market_factor: self.market_factor.unwrap_or(params.market_factor),
            ..params.clone()
        }
    }
}

/// What a village offers, from its current survey.
#[derive(Clone, Debug, PartialEq)]
pub struct VillageSupply {
    pub code: String,
    pub name: String,
    pub location: Wgs84Point,
    /// Eligible (18-60) people living in the village, those away for work not included.
    pub resident_eligible: f64,
    pub away_for_work: f64,
    /// Donors of the village who gave whole blood in the last 180 days.
    pub recent_donors: f64,
}

/// A candidate drive site.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub location: Wgs84Point,
    /// The township's market days, if it holds markets.
    pub market_days: Option<MarketDays>,
}

/// One village's share of a forecast.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VillageTerm {
    pub code: String,
    pub name: String,
    pub distance_km: f64,
    pub resident_eligible: f64,
    /// Those away for work who are home on the date (`away_for_work x presence`).
    pub away_present: f64,
    pub recent_donors: f64,
    /// `max(0, resident + away_present - recent_donors)`.
    pub available: f64,
    pub decay: f64,
    /// `available x rate x decay x day_factor`.
    pub expected: f64,
}

/// The day's factors.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayFactor {
    pub weekend: bool,
    pub market_day: bool,
    /// `weekend_factor` if a weekend, times `market_factor` if a market day.
    pub factor: f64,
}

/// A forecast with its explanation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Forecast {
    pub date: NaiveDate,
    /// Expected donors: the villages' sum, capped by `capacity`.
    pub total: f64,
    /// The villages' sum before the cap.
    pub uncapped: f64,
    pub capacity: Option<f64>,
    pub rate: f64,
    pub decay_km: f64,
    /// The share of those away for work who are home on the date.
    pub presence: f64,
    /// The Spring Festival the presence window is measured from.
    pub spring_festival: Option<NaiveDate>,
    pub day: DayFactor,
    /// The villages within the catchment, nearest first.
    pub villages: Vec<VillageTerm>,
}

/// The share of those away for work who are home on `date`.
pub fn presence(date: NaiveDate, params: &TurnoutParams) -> (f64, Option<NaiveDate>) {
    let festival = calendar::nearest_spring_festival(date);
    let inside = festival.is_some_and(|f| {
        let days = (date - f).num_days();
        (-params.festival_days_before..=params.festival_days_after).contains(&days)
    });
    let share = if inside {
        params.presence_festival
    } else {
        params.presence_normal
    };
    (share, festival)
}

/// The day factor of a drive at `site` on `date`.
pub fn day_factor(site: &Site, date: NaiveDate, params: &TurnoutParams) -> DayFactor {
    let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    let market_day = site.market_days.is_some_and(|m| m.includes(date));
    let mut factor = 1.0;
    if weekend {
        factor *= params.weekend_factor;
    }
    if market_day {
        factor *= params.market_factor;
    }
    DayFactor {
        weekend,
        market_day,
        factor,
    }
}

/// The expected donors at `site` on `date` from `villages`, capped by `capacity` (donors the
/// vehicle can take during the stay) when given.
pub fn forecast(
    site: &Site,
    date: NaiveDate,
    villages: &[VillageSupply],
    params: &TurnoutParams,
    capacity: Option<f64>,
) -> Forecast {
    let (presence, spring_festival) = presence(date, params);
    let day = day_factor(site, date, params);
    let mut terms: Vec<VillageTerm> = villages
        .iter()
        .filter_map(|v| {
            let distance_km = site.location.distance_km(v.location);
            if distance_km > params.catchment_km {
                return None;
            }
            let away_present = v.away_for_work * presence;
            let available = (v.resident_eligible + away_present - v.recent_donors).max(0.0);
            let decay = (-distance_km / params.decay_km).exp();
            Some(VillageTerm {
                code: v.code.clone(),
                name: v.name.clone(),
                distance_km,
                resident_eligible: v.resident_eligible,
                away_present,
                recent_donors: v.recent_donors,
                available,
                decay,
                expected: available * params.rate * decay * day.factor,
            })
        })
        .collect();
    terms.sort_by(|a, b| {
        a.distance_km
            .total_cmp(&b.distance_km)
            .then_with(|| a.code.cmp(&b.code))
    });
    let uncapped: f64 = terms.iter().map(|t| t.expected).sum();
    let total = capacity.map_or(uncapped, |c| uncapped.min(c.max(0.0)));
    Forecast {
        date,
        total,
        uncapped,
        capacity,
        rate: params.rate,
        decay_km: params.decay_km,
        presence,
        spring_festival,
        day,
        villages: terms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn village(
        code: &str,
        lon: f64,
        lat: f64,
        resident: f64,
        away: f64,
        recent: f64,
    ) -> VillageSupply {
        VillageSupply {
            code: code.to_owned(),
            name: code.to_owned(),
            location: Wgs84Point::stored(lon, lat),
            resident_eligible: resident,
            away_for_work: away,
            recent_donors: recent,
        }
    }

    fn approx(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn presence_is_high_only_around_the_spring_festival() {
        let p = TurnoutParams::default();
        // The 2026 festival is 2026-02-17: 21 days before is 2026-01-27, 15 after 2026-03-04.
        assert_eq!(presence(date(2026, 1, 27), &p).0, 0.8);
        assert_eq!(presence(date(2026, 1, 26), &p).0, 0.1);
        assert_eq!(presence(date(2026, 3, 4), &p).0, 0.8);
        assert_eq!(presence(date(2026, 3, 5), &p).0, 0.1);
        assert_eq!(presence(date(2026, 2, 17), &p).1, Some(date(2026, 2, 17)));
        // December looks ahead to the coming festival (2027-02-06; the window opens 01-16).
        assert_eq!(presence(date(2027, 1, 16), &p).0, 0.8);
        assert_eq!(presence(date(2026, 12, 20), &p).0, 0.1);
    }

    #[test]
    fn weekends_and_market_days_multiply() {
        let p = TurnoutParams::default();
        let site = Site {
            location: Wgs84Point::stored(114.0, 33.6),
            market_days: Some("1,4,7".parse().unwrap()),
        };
        // 2026-02-20 (Friday) is lunar 1/4: a market day. 2026-02-21 (Saturday) lunar 1/5.
        // 2026-02-24 (Tuesday) lunar 1/8. 2026-03-01 (Sunday) is lunar 1/13.
        let f = |d| day_factor(&site, d, &p);
        approx(f(date(2026, 2, 20)).factor, 1.3);
        approx(f(date(2026, 2, 21)).factor, 1.2);
        approx(f(date(2026, 2, 24)).factor, 1.0);
        approx(f(date(2026, 3, 1)).factor, 1.2);
        // 2026-04-04 is a Saturday whose lunar day ends in 7: both.
        assert_eq!(
            calendar::lunar_day(date(2026, 4, 4)).map(|d| d % 10),
            Some(7)
        );
        let both = f(date(2026, 4, 4));
        assert!(both.weekend && both.market_day, "{both:?}");
        approx(both.factor, 1.2 * 1.3);
        let no_market = Site {
            market_days: None,
            ..site.clone()
        };
        approx(day_factor(&no_market, date(2026, 2, 20), &p).factor, 1.0);
    }

    #[test]
    fn a_forecast_adds_up_village_by_village() {
        let p = TurnoutParams::default();
        let site = Site {
            location: Wgs84Point::stored(114.0, 33.6),
            market_days: None,
        };
        // At the site; about 2.8 km north (0.025 degree of latitude); beyond 10 km.
        let near = village("A", 114.0, 33.6, 500.0, 200.0, 20.0);
        let north = village("B", 114.0, 33.625, 300.0, 100.0, 0.0);
        let far = village("C", 114.0, 33.8, 9000.0, 0.0, 0.0);
        // 2026-06-09 is a Tuesday, outside the festival window: presence 0.1, factor 1.
        let when = date(2026, 6, 9);
        let result = forecast(&site, when, &[far, north, near], &p, None);
        assert_eq!(result.villages.len(), 2, "C is outside the catchment");
        let a = &result.villages[0];
        assert_eq!(a.code, "A");
        approx(a.away_present, 20.0);
        approx(a.available, 500.0 + 20.0 - 20.0);
        approx(a.decay, 1.0);
        approx(a.expected, 500.0 * 0.006);
        let b = &result.villages[1];
        let d = site.location.distance_km(Wgs84Point::stored(114.0, 33.625));
        assert!((d - 2.78).abs() < 0.01, "{d}");
        approx(b.available, 310.0);
        approx(b.expected, 310.0 * 0.006 * (-d / 3.0).exp());
        approx(result.uncapped, a.expected + b.expected);
        approx(result.total, result.uncapped);
        // Capped by what the vehicle can take.
        let capped = forecast(&site, when, &[near_again()], &p, Some(1.5));
        approx(capped.total, 1.5);
        approx(capped.uncapped, 3.0);
    }

    fn near_again() -> VillageSupply {
        village("A", 114.0, 33.6, 500.0, 0.0, 0.0)
    }

    #[test]
    fn overrides_replace_only_what_they_set_and_are_bounded() {
        let defaults = TurnoutParams::default();
        let o = TurnoutOverrides {
            decay_km: Some(5.0),
            ..TurnoutOverrides::default()
        };
        let p = o.apply(&defaults);
        assert_eq!(p.decay_km, 5.0);
        assert_eq!(p.rate, defaults.rate);
        assert!(o.problems().is_empty());
        // A village 5 km out now draws e^-1 of one at the site.
        let site = Site {
            location: Wgs84Point::stored(114.0, 33.6),
            market_days: None,
        };
        let d = 5.0 / 111.2;
        let v = village("A", 114.0, 33.6 + d, 1000.0, 0.0, 0.0);
        let f = forecast(&site, date(2026, 6, 9), &[v], &p, None);
        assert!((f.villages[0].decay - (-f.villages[0].distance_km / 5.0).exp()).abs() < 1e-12);
        let bad = TurnoutOverrides {
            rate: Some(0.0),
            decay_km: Some(f64::NAN),
            market_factor: Some(9.0),
            ..TurnoutOverrides::default()
        };
        let fields: Vec<&str> = bad.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["rate", "decay_km", "market_factor"]);
        assert!(TurnoutOverrides::default().is_empty());
    }

    #[test]
    fn recent_donors_never_make_a_village_negative() {
        let p = TurnoutParams::default();
        let site = Site {
            location: Wgs84Point::stored(114.0, 33.6),
            market_days: None,
        };
        let drained = village("A", 114.0, 33.6, 10.0, 0.0, 50.0);
        let result = forecast(&site, date(2026, 6, 9), &[drained], &p, None);
        approx(result.villages[0].available, 0.0);
        approx(result.total, 0.0);
    }
}
