//! Numbers as they leave the service: rounded once, at the boundary (API responses, exports),
//! to what their measure means. Arithmetic inside (the planner, the forecast) keeps every bit;
//! what people and other programs read does not carry floating-point noise such as
//! `33.500400000000006` or `123.39999961853027`.
//!
//! [`round`] is the one rounding; [`Measure`] says how many decimals each kind of number keeps,
//! [`round_json`] applies them to a JSON document by member name, and [`ser`] to typed fields.

use serde_json::Value;

/// What a number measures, and so how many decimals it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Degrees of longitude or latitude: 7 decimals (about a centimetre).
    Coordinate,
    /// Kilometres: 0.1 km.
    Km,
    /// Millilitres of blood (and objectives counted in mL): 0.1 mL.
    Ml,
    /// A share such as a deferral rate (0.1667): 3 decimals, as `16.7%` shows it.
    Rate,
    /// Expected donors and forecast errors: 2 decimals.
    Forecast,
}

impl Measure {
    pub const fn decimals(self) -> i32 {
        match self {
            Measure::Coordinate => 7,
            Measure::Km | Measure::Ml => 1,
            Measure::Rate => 3,
            Measure::Forecast => 2,
        }
    }

    /// The measure of a JSON member, by its name (`None`: left as it is).
    pub fn of_member(name: &str) -> Option<Measure> {
        match name {
            "longitude" | "latitude" | "lon" | "lat" => Some(Measure::Coordinate),
            "km" | "travel_km" | "distance_km" => Some(Measure::Km),
            // `value`: what a plan's stop, route or totals are worth, in mL (instance v2).
            "ml"
            | "value"
            | "cost_ml"
            | "objective"
            | "construction_objective"
            | "best_objective" => Some(Measure::Ml),
            _ => None,
        }
    }
}

/// `x` to the decimals of `measure`, nearest (ties away from zero); `-0` becomes `0`, and
/// non-finite numbers and numbers too large to carry those decimals are left as they are.
pub fn round(x: f64, measure: Measure) -> f64 {
    let scale = 10f64.powi(measure.decimals());
    let scaled = x * scale;
    if !scaled.is_finite() || scaled.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    // An integer divided by a power of ten is the double nearest the decimal, so it prints
    // with no more digits than the decimals kept.
    scaled.round() / scale + 0.0
}

/// Rounds, in place, every number in `value` whose member name has a [`Measure`] (at any
/// depth; arrays of numbers under such a member too).
pub fn round_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, member) in map.iter_mut() {
                match Measure::of_member(name) {
                    Some(measure) => round_numbers(member, measure),
                    None => round_json(member),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(round_json),
        _ => {}
    }
}

fn round_numbers(value: &mut Value, measure: Measure) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(rounded) = n
                .as_f64()
                .and_then(|x| serde_json::Number::from_f64(round(x, measure)))
            {
                *n = rounded;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| round_numbers(v, measure)),
        other => round_json(other),
    }
}

/// `serialize_with` helpers for typed views: `#[serde(serialize_with = "rounding::ser::coordinate")]`.
pub mod ser {
    use serde::Serializer;

    use super::{Measure, round};

    pub fn coordinate<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(round(*x, Measure::Coordinate))
    }

    pub fn opt_coordinate<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match x {
            Some(x) => s.serialize_some(&round(*x, Measure::Coordinate)),
            None => s.serialize_none(),
        }
    }

    pub fn opt_km<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match x {
            Some(x) => s.serialize_some(&round(*x, Measure::Km)),
            None => s.serialize_none(),
        }
    }

    pub fn km<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(round(*x, Measure::Km))
    }

    pub fn opt_ml<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match x {
            Some(x) => s.serialize_some(&round(*x, Measure::Ml)),
            None => s.serialize_none(),
        }
    }
}

/// A number for a CSV cell: rounded to its measure and printed without noise (`16.43`, `0.167`,
/// `12`).
pub fn csv_number(x: f64, measure: Option<Measure>) -> String {
    match measure {
        Some(measure) => round(x, measure).to_string(),
        None => (x + 0.0).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_reported_noise_is_gone() {
        assert_eq!(
            round(33.500400000000006, Measure::Coordinate).to_string(),
            "33.5004"
        );
        assert_eq!(round(123.39999961853027, Measure::Km).to_string(), "123.4");
        assert_eq!(
            round(117673.20000076294, Measure::Ml).to_string(),
            "117673.2"
        );
        assert_eq!(
            round(0.16666666666666666, Measure::Rate).to_string(),
            "0.167"
        );
        assert_eq!(
            round(16.428163158292122, Measure::Forecast).to_string(),
            "16.43"
        );
    }

    #[test]
    fn rounding_is_to_nearest_and_leaves_odd_values_alone() {
        assert_eq!(round(114.01653912345678, Measure::Coordinate), 114.0165391);
        assert_eq!(round(-0.04, Measure::Km).to_string(), "0");
        assert_eq!(round(2.25, Measure::Km), 2.3);
        assert_eq!(round(-2.25, Measure::Km), -2.3);
        assert!(round(f64::NAN, Measure::Km).is_nan());
        assert_eq!(round(1e300, Measure::Coordinate), 1e300);
        assert_eq!(round(12.0, Measure::Rate).to_string(), "12");
    }

    #[test]
    fn json_members_are_rounded_by_name_at_any_depth() {
        let mut doc = json!({
            "objective": 117673.20000076294,
            "routes": [{"km": 123.39999961853027, "ml": 400.00000000001, "donors": 1.23456,
                        "stops": [{"latitude": 33.500400000000006, "longitude": 114.0,
                                   "expected": 16.428163158292122, "site": "point-1"}]}],
            "totals": {"km": [1.04999, 2.0], "count": 3},
            "cost_per_km": 2.345
        });
        round_json(&mut doc);
        assert_eq!(
            doc,
            json!({
                "objective": 117673.2,
                "routes": [{"km": 123.4, "ml": 400.0, "donors": 1.23456,
                            "stops": [{"latitude": 33.5004, "longitude": 114.0,
                                       "expected": 16.428163158292122, "site": "point-1"}]}],
                "totals": {"km": [1.0, 2.0], "count": 3},
                "cost_per_km": 2.345
            })
        );
        assert_eq!(
            doc["routes"][0]["stops"][0]["latitude"].to_string(),
            "33.5004"
        );
    }

    #[test]
    fn csv_numbers_print_without_noise() {
        assert_eq!(
            csv_number(0.16666666666666666, Some(Measure::Rate)),
            "0.167"
        );
        assert_eq!(
            csv_number(16.428163158292122, Some(Measure::Forecast)),
            "16.43"
        );
        assert_eq!(csv_number(-0.0, None), "0");
        assert_eq!(csv_number(450.0, None), "450");
    }
}
