//! An instance compiled for solving: ids replaced by indices, the travel matrix computed once,
//! and which site may be visited on which day decided up front.
//!
//! Nodes are numbered stations first, then sites: node `stations.len() + s` is site `s`.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::geo::Wgs84Point;
use crate::planning::instance::{Instance, InvalidInstance, Travel};

/// Why a site may not be visited on a day, before any routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Barrier {
    Forbidden,
    /// The last visit before the plan was too recent.
    Interval,
    BelowMinimum,
}

#[derive(Clone, Debug)]
pub struct Vehicle {
    pub station: usize,
    pub beds: f64,
    pub max_donors: f64,
    pub day_start: f64,
    pub day_end: f64,
    pub setup: f64,
    pub teardown: f64,
    /// Objective units (mL) per km.
    pub ml_per_km: f64,
    /// Per day index.
    pub available: Vec<bool>,
}

#[derive(Clone, Debug)]
pub struct Problem {
    pub instance: Instance,
    pub n_days: usize,
    pub n_stations: usize,
    pub vehicles: Vec<Vehicle>,
    /// `expected[site][day]`: the donors a stop expects (load, bed time, the minimum rule).
    pub expected: Vec<Vec<f64>>,
    /// `value[site][day]`: what a stop is worth (mL) when it takes every expected donor.
    pub value: Vec<Vec<f64>>,
    /// `rate[site][day]`: what each donor taken is worth (mL): `ml_per_donor` unless the
    /// instance gives a `value`, then `value / expected` (0 when nobody is expected). A stop's
    /// worth is its donors times this, so that without values it is exactly donors x
    /// `ml_per_donor`, as in format v1.
    pub rate: Vec<Vec<f64>>,
    /// The highest `rate` of any site and day: bounds what a stop taking some donors is worth.
    pub max_rate: f64,
    /// `extra[site]`: minutes added to every stop at the site.
    pub extra: Vec<f64>,
    /// `barrier[site][day]`: `None` when a stop there that day is allowed before routing.
    pub barrier: Vec<Vec<Option<Barrier>>>,
    /// Minimum days between two stops at one site, and day numbers (days since the first day)
    /// of each day index, to check it.
    pub min_gap: i64,
    pub day_number: Vec<i64>,
    pub ml_per_donor: f64,
    pub bed_minutes: f64,
    /// Fixed stops: (site, day, vehicle).
    pub fixed: Vec<(usize, usize, Option<usize>)>,
    n_nodes: usize,
    km: Vec<f32>,
    minutes: Vec<f32>,
    site_index: HashMap<String, usize>,
    vehicle_index: HashMap<String, usize>,
    day_index: HashMap<NaiveDate, usize>,
}

impl Problem {
    /// Validates and compiles `instance`.
    ///
    /// # Errors
    /// What [`Instance::validate`] finds.
    pub fn new(instance: Instance) -> Result<Self, InvalidInstance> {
        instance.validate()?;
        let n_days = instance.days.len();
        let n_stations = instance.stations.len();
        let station_index: HashMap<&str, usize> = instance
            .stations
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let day_index: HashMap<NaiveDate, usize> = instance
            .days
            .iter()
            .enumerate()
            .map(|(i, d)| (*d, i))
            .collect();
        let rules = &instance.rules;
        let vehicles = instance
            .vehicles
            .iter()
            .map(|v| Vehicle {
                station: station_index[v.station.as_str()],
                beds: f64::from(v.beds),
                max_donors: f64::from(v.max_donors),
                day_start: f64::from(v.day_start),
                day_end: f64::from(v.day_end),
                setup: v.setup_min,
                teardown: v.teardown_min,
                ml_per_km: v.cost_per_km * rules.ml_per_yuan,
                available: instance
                    .days
                    .iter()
                    .map(|d| !v.unavailable.contains(d))
                    .collect(),
            })
            .collect();
        let day_number: Vec<i64> = instance
            .days
            .iter()
            .map(|d| (*d - instance.days[0]).num_days())
            .collect();
        let min_gap = i64::from(rules.min_days_between_visits);
        let site_index: HashMap<String, usize> = instance
            .sites
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let mut barrier = vec![vec![None; n_days]; instance.sites.len()];
        for (s, site) in instance.sites.iter().enumerate() {
            for (d, day) in instance.days.iter().enumerate() {
                barrier[s][d] = if site.expected[d] < rules.min_expected_donors {
                    Some(Barrier::BelowMinimum)
                } else {
                    None
                };
                if site
                    .last_visit
                    .is_some_and(|last| (*day - last).num_days() < min_gap)
                {
                    barrier[s][d] = Some(Barrier::Interval);
                }
            }
        }
        for f in &instance.forbidden {
            let s = site_index[&f.site];
            for (d, date) in instance.days.iter().enumerate() {
                if f.date.is_none_or(|forbidden| forbidden == *date) {
                    barrier[s][d] = Some(Barrier::Forbidden);
                }
            }
        }
        let vehicle_index: HashMap<String, usize> = instance
            .vehicles
            .iter()
            .enumerate()
            .map(|(i, v)| (v.id.clone(), i))
            .collect();
        let fixed = instance
            .fixed
            .iter()
            .map(|f| {
                (
                    site_index[&f.site],
                    day_index[&f.date],
                    f.vehicle.as_ref().map(|v| vehicle_index[v]),
                )
            })
            .collect();
        let (km, minutes) = travel_matrix(&instance);
        let rate: Vec<Vec<f64>> = instance
            .sites
            .iter()
            .map(|site| match &site.value {
                None => vec![rules.ml_per_donor; n_days],
                Some(value) => value
                    .iter()
                    .zip(&site.expected)
                    .map(|(&v, &e)| if e > 0.0 { v / e } else { 0.0 })
                    .collect(),
            })
            .collect();
        let value = instance
            .sites
            .iter()
            .map(|site| match &site.value {
                None => site
                    .expected
                    .iter()
                    .map(|e| e * rules.ml_per_donor)
                    .collect(),
                Some(value) => value.clone(),
            })
            .collect();
        let max_rate = rate.iter().flatten().copied().fold(0.0, f64::max);
        Ok(Problem {
            n_days,
            n_stations,
            vehicles,
            expected: instance.sites.iter().map(|s| s.expected.clone()).collect(),
            value,
            rate,
            max_rate,
            extra: instance
                .sites
                .iter()
                .map(|s| s.extra_service_min.unwrap_or(0.0))
                .collect(),
            barrier,
            min_gap,
            day_number,
            ml_per_donor: rules.ml_per_donor,
            bed_minutes: rules.bed_minutes_per_donor,
            fixed,
            n_nodes: n_stations + instance.sites.len(),
            km,
            minutes,
            site_index,
            vehicle_index,
            day_index,
            instance,
        })
    }

    pub fn n_sites(&self) -> usize {
        self.expected.len()
    }

    /// The node of site `s`.
    pub fn node(&self, s: usize) -> usize {
        self.n_stations + s
    }

    pub fn km(&self, from: usize, to: usize) -> f64 {
        f64::from(self.km[from * self.n_nodes + to])
    }

    pub fn minutes(&self, from: usize, to: usize) -> f64 {
        f64::from(self.minutes[from * self.n_nodes + to])
    }

    pub fn site(&self, id: &str) -> Option<usize> {
        self.site_index.get(id).copied()
    }

    pub fn vehicle(&self, id: &str) -> Option<usize> {
        self.vehicle_index.get(id).copied()
    }

    pub fn day(&self, date: NaiveDate) -> Option<usize> {
        self.day_index.get(&date).copied()
    }

    /// Donors vehicle `v` takes at site `s` on day `d`: the expected donors, capped by what the
    /// vehicle can take in a day.
    pub fn donors(&self, v: usize, s: usize, d: usize) -> f64 {
        self.expected[s][d].min(self.vehicles[v].max_donors)
    }

    /// What vehicle `v`'s stop at site `s` on day `d` is worth in the objective (mL): the
    /// site's value for the day in proportion to the donors taken (`value x donors /
    /// expected`), which without a `value` is donors x `ml_per_donor`.
    pub fn worth(&self, v: usize, s: usize, d: usize) -> f64 {
        self.donors(v, s, d) * self.rate[s][d]
    }

    /// What taking `donors` at site `s` on day `d` is worth (mL).
    pub fn worth_of(&self, s: usize, d: usize, donors: f64) -> f64 {
        donors * self.rate[s][d]
    }

    /// Minutes vehicle `v` spends at a stop at site `s` taking `donors`: setup, the site's
    /// extra minutes, the draw, teardown.
    pub fn stay(&self, v: usize, s: usize, donors: f64) -> f64 {
        let vehicle = &self.vehicles[v];
        vehicle.setup + self.extra[s] + donors * self.bed_minutes / vehicle.beds + vehicle.teardown
    }

    /// True when two stops at one site on these days keep the interval rule.
    pub fn far_enough(&self, d1: usize, d2: usize) -> bool {
        d1 != d2 && (self.day_number[d1] - self.day_number[d2]).abs() >= self.min_gap
    }

    /// True when a site may be visited at most once in this plan (the usual case).
    pub fn single_visit(&self) -> bool {
        self.day_number.last().copied().unwrap_or(0) < self.min_gap
    }
}

/// Distances and times between all nodes, as `f32` to halve the memory of large instances
/// (1,400 nodes: 16 MB for both).
fn travel_matrix(instance: &Instance) -> (Vec<f32>, Vec<f32>) {
    let places: Vec<(&str, f64, f64)> = instance
        .stations
        .iter()
        .map(|s| (s.id.as_str(), s.lon, s.lat))
        .chain(instance.sites.iter().map(|s| (s.id.as_str(), s.lon, s.lat)))
        .collect();
    let n = places.len();
    let mut km = vec![0f32; n * n];
    let mut minutes = vec![0f32; n * n];
    match &instance.travel {
        Travel::StraightLine { detour, speed_kmh } => {
            let points: Vec<Wgs84Point> = places
                .iter()
                .map(|(_, lon, lat)| Wgs84Point::stored(*lon, *lat))
                .collect();
            for i in 0..n {
                for j in (i + 1)..n {
                    let d = points[i].distance_km(points[j]) * detour;
                    let t = d / speed_kmh * 60.0;
                    km[i * n + j] = d as f32;
                    km[j * n + i] = d as f32;
                    minutes[i * n + j] = t as f32;
                    minutes[j * n + i] = t as f32;
                }
            }
        }
        Travel::Matrix {
            ids,
            km: km_in,
            minutes: minutes_in,
        } => {
            let at: HashMap<&str, usize> = ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.as_str(), i))
                .collect();
            let index: Vec<usize> = places.iter().map(|(id, _, _)| at[id]).collect();
            for i in 0..n {
                for j in 0..n {
                    km[i * n + j] = km_in[index[i]][index[j]] as f32;
                    minutes[i * n + j] = minutes_in[index[i]][index[j]] as f32;
                }
            }
        }
    }
    (km, minutes)
}
