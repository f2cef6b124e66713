//! Calibration of the turnout model from recorded drive results: the `rate` and the decay
//! scale `decay_km` that best explain how many donors actually came.
//!
//! Each recorded stop gives its actual donors `y` and, for every village in its catchment, the
//! available people on that day times the day factor, `a_v`, and the distance `d_v`. The model
//! says `y ~ Poisson(rate x sum_v a_v x exp(-d_v / decay_km))`. For a given `decay_km` the
//! maximum-likelihood rate has a closed form, `rate = sum y / sum x` with
//! `x = sum_v a_v exp(-d_v / decay_km)`; `decay_km` is then chosen on a grid (0.5 to 15 km in
//! steps of 0.25 km) by the highest Poisson log-likelihood. A Poisson fit suits counts that are
//! small and whose spread grows with their size, as donors at a stop do.
//!
//! With fewer than [`MIN_STOPS`] recorded stops (or no donors at all) the defaults stand.

use serde::Serialize;

use crate::planning::turnout::TurnoutParams;

/// Recorded stops needed before the fit replaces the defaults.
pub const MIN_STOPS: usize = 8;

/// One village's share of a recorded stop.
#[derive(Clone, Debug, PartialEq)]
pub struct Exposure {
    /// Available eligible people on the day, times the day factor.
    pub weighted_available: f64,
    pub distance_km: f64,
}

/// A recorded stop: who could have come, and how many did.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub villages: Vec<Exposure>,
    pub donors: f64,
}

/// Where the parameters in use came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calibration {
    /// `"defaults"` or `"fitted"`.
    pub source: &'static str,
    pub stops: usize,
    pub rate: f64,
    pub decay_km: f64,
    /// Poisson log-likelihood of the fit (without the constant `ln y!` terms), when fitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_likelihood: Option<f64>,
    pub note: String,
}

fn exposure(o: &Observation, decay_km: f64) -> f64 {
    o.villages
        .iter()
        .map(|v| v.weighted_available * (-v.distance_km / decay_km).exp())
        .sum()
}

/// Fits `rate` and `decay_km` to `observations`, or keeps `defaults` when there are too few.
/// Returns the parameters to use and how they were obtained.
pub fn calibrate(
    observations: &[Observation],
    defaults: &TurnoutParams,
) -> (TurnoutParams, Calibration) {
    let keep = |note: String| {
        (
            defaults.clone(),
            Calibration {
                source: "defaults",
                stops: observations.len(),
                rate: defaults.rate,
                decay_km: defaults.decay_km,
                log_likelihood: None,
                note,
            },
        )
    };
    let total: f64 = observations.iter().map(|o| o.donors).sum();
    if observations.len() < MIN_STOPS {
        return keep(format!(
            "{} recorded stop(s); calibration needs at least {MIN_STOPS}",
            observations.len()
        ));
    }
    if total <= 0.0 {
        return keep("no donors recorded yet".to_owned());
    }
    let mut best: Option<(f64, f64, f64)> = None;
    for step in 0..=58 {
        let decay_km = 0.5 + 0.25 * f64::from(step);
        let xs: Vec<f64> = observations.iter().map(|o| exposure(o, decay_km)).collect();
        let sum_x: f64 = xs.iter().sum();
        if sum_x <= 0.0 {
            continue;
        }
        let rate = total / sum_x;
        let mut ll = 0.0;
        let mut possible = true;
        for (o, x) in observations.iter().zip(&xs) {
            let mean = rate * x;
            if mean <= 0.0 {
                if o.donors > 0.0 {
                    possible = false;
                    break;
                }
                continue;
            }
            ll += o.donors * mean.ln() - mean;
        }
        if possible && best.is_none_or(|(_, _, b)| ll > b) {
            best = Some((rate, decay_km, ll));
        }
    }
    let Some((rate, decay_km, ll)) = best else {
        return keep("the recorded stops had nobody in reach".to_owned());
    };
    (
        TurnoutParams {
            rate,
            decay_km,
            ..defaults.clone()
        },
        Calibration {
            source: "fitted",
            stops: observations.len(),
            rate,
            decay_km,
            log_likelihood: Some(ll),
            note: format!(
                "Poisson maximum likelihood over {} recorded stops",
                observations.len()
            ),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stops with villages at 0, 2, 5 and 8 km, actual donors exactly as the model says for
    /// `rate` and `decay_km`.
    fn observed(rate: f64, decay_km: f64, stops: usize) -> Vec<Observation> {
        (0..stops)
            .map(|i| {
                let villages: Vec<Exposure> = [0.0, 2.0, 5.0, 8.0]
                    .iter()
                    .enumerate()
                    .map(|(k, &d)| Exposure {
                        weighted_available: 400.0 + 150.0 * ((i * 7 + k * 3) % 5) as f64,
                        distance_km: d + 0.3 * (i % 3) as f64,
                    })
                    .collect();
                let donors = rate
                    * villages
                        .iter()
                        .map(|v| v.weighted_available * (-v.distance_km / decay_km).exp())
                        .sum::<f64>();
                Observation { villages, donors }
            })
            .collect()
    }

    #[test]
    fn too_few_stops_keep_the_defaults() {
        let defaults = TurnoutParams::default();
        let (params, how) = calibrate(&observed(0.01, 2.0, MIN_STOPS - 1), &defaults);
        assert_eq!(params, defaults);
        assert_eq!(how.source, "defaults");
        assert!(how.note.contains("at least 8"), "{}", how.note);
    }

    #[test]
    fn the_fit_recovers_the_rate_and_decay_that_made_the_data() {
        let defaults = TurnoutParams::default();
        let (params, how) = calibrate(&observed(0.01, 2.0, 12), &defaults);
        assert_eq!(how.source, "fitted");
        assert!((params.decay_km - 2.0).abs() < 1e-9, "{}", params.decay_km);
        assert!((params.rate - 0.01).abs() < 1e-9, "{}", params.rate);
        // Everything else is left as it was.
        assert_eq!(params.catchment_km, defaults.catchment_km);
        let (params, _) = calibrate(&observed(0.004, 6.5, 20), &defaults);
        assert!((params.decay_km - 6.5).abs() < 1e-9);
        assert!((params.rate - 0.004).abs() < 1e-9);
    }

    #[test]
    fn no_donors_at_all_keeps_the_defaults() {
        let mut stops = observed(0.01, 2.0, 10);
        for s in &mut stops {
            s.donors = 0.0;
        }
        let (_, how) = calibrate(&stops, &TurnoutParams::default());
        assert_eq!(how.source, "defaults");
    }
}
