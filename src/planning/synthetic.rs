//! Synthetic planning instances on a real division hierarchy, for benchmarks and tests: the
//! official table has no coordinates or survey figures, so they are generated, seeded.
//!
//! The shape is the one the peers were measured on: sites clustered around township seats,
//! 10 to 80 expected donors per site, each township holding a market on a third of the days
//! (lunar days ending in 1/4/7, 2/5/8 or 3/6/9) which raises its sites' draw by 30%, a stop
//! lasting 30 minutes plus 3 per donor (setup 20, teardown 10, 5 beds at 15 minutes a donor),
//! a 540-minute day (08:00-17:00) and 150 donors per vehicle-day.

use chrono::{Days, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::planning::calendar::MarketDays;
use crate::planning::instance::{
    INSTANCE_FORMAT, INSTANCE_FORMAT_V1, Instance, Rules, Site, Station, Travel, Vehicle,
};

/// A township and its villages, from the division table.
#[derive(Clone, Debug)]
pub struct Township {
    pub code: String,
    pub name: String,
    /// The county it belongs to (townships of a county are placed near each other).
    pub county: String,
    /// (code, name) of its villages.
    pub villages: Vec<(String, String)>,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Shape {
    pub name: String,
    /// Candidate sites: townships first (up to half of them when villages are left over),
    /// then villages; `usize::MAX` for every township and village.
    pub sites: usize,
    pub days: usize,
    pub vehicles: usize,
    pub first_day: NaiveDate,
    pub seed: u64,
}

/// The city centre the station stands at (漯河市), and how far counties spread around it.
const CENTRE: (f64, f64) = (114.02, 33.58);
const KM_PER_DEG_LAT: f64 = 111.2;

fn offset(rng: &mut Pcg64Mcg, (lon, lat): (f64, f64), min_km: f64, max_km: f64) -> (f64, f64) {
    let angle = rng.random_range(0.0..std::f64::consts::TAU);
    let r = rng.random_range(min_km..max_km);
    let dlat = r * angle.sin() / KM_PER_DEG_LAT;
    let dlon = r * angle.cos() / (KM_PER_DEG_LAT * lat.to_radians().cos());
    (lon + dlon, lat + dlat)
}

/// A seeded instance of `shape` on `townships`.
pub fn generate(townships: &[Township], shape: &Shape) -> Instance {
    let mut rng = Pcg64Mcg::seed_from_u64(shape.seed);
    let mut counties: Vec<&str> = townships.iter().map(|t| t.county.as_str()).collect();
    counties.sort_unstable();
    counties.dedup();
    let county_centres: Vec<(f64, f64)> = counties
        .iter()
        .map(|_| offset(&mut rng, CENTRE, 5.0, 22.0))
        .collect();
    let patterns: [MarketDays; 3] = [
        "1,4,7".parse().expect("pattern"),
        "2,5,8".parse().expect("pattern"),
        "3,6,9".parse().expect("pattern"),
    ];
    let days: Vec<NaiveDate> = (0..shape.days as u64)
        .map(|i| shape.first_day + Days::new(i))
        .collect();
    // Every township and village, placed, with its base draw and market pattern.
    struct Place {
        code: String,
        name: String,
        lon: f64,
        lat: f64,
        base: f64,
        market: usize,
        township: bool,
    }
    let mut seats = Vec::new();
    let mut villages = Vec::new();
    for t in townships {
        let c = counties.binary_search(&t.county.as_str()).expect("county");
        let seat = offset(&mut rng, county_centres[c], 0.0, 12.0);
        let market = rng.random_range(0..3);
        seats.push(Place {
            code: t.code.clone(),
            name: t.name.clone(),
            lon: seat.0,
            lat: seat.1,
            base: rng.random_range(30.0..80.0),
            market,
            township: true,
        });
        for (code, name) in &t.villages {
            let at = offset(&mut rng, seat, 0.5, 4.5);
            villages.push(Place {
                code: code.clone(),
                name: name.clone(),
                lon: at.0,
                lat: at.1,
                base: rng.random_range(10.0..61.5),
                market,
                township: false,
            });
        }
    }
    let total = seats.len() + villages.len();
    let chosen: Vec<Place> = if shape.sites >= total {
        seats.into_iter().chain(villages).collect()
    } else {
        let n_seats = seats.len().min(
            shape
                .sites
                .div_ceil(2)
                .max(shape.sites.saturating_sub(villages.len())),
        );
        seats.shuffle(&mut rng);
        villages.shuffle(&mut rng);
        let n_villages = shape.sites - n_seats;
        seats
            .into_iter()
            .take(n_seats)
            .chain(villages.into_iter().take(n_villages))
            .collect()
    };
    let sites = chosen
        .into_iter()
        .map(|p| Site {
            expected: days
                .iter()
                .map(|d| {
                    let boost = if patterns[p.market].includes(*d) {
                        1.3
                    } else {
                        1.0
                    };
                    (p.base * boost * 10.0).round() / 10.0
                })
                .collect(),
            id: p.code,
            name: if p.township {
                p.name
            } else {
                format!("{} (village)", p.name)
            },
            lon: (p.lon * 1e6).round() / 1e6,
            lat: (p.lat * 1e6).round() / 1e6,
            last_visit: None,
            value: None,
            extra_service_min: None,
        })
        .collect();
    // Written as format v1 (they use nothing v2 added), so that the peers reading v1 solve the
    // very same files; `with_values` makes a v2 instance of one.
    Instance {
        format: INSTANCE_FORMAT_V1.to_owned(),
        name: shape.name.clone(),
        days,
        stations: vec![Station {
            id: "station".into(),
            name: "central blood station".into(),
            lon: CENTRE.0,
            lat: CENTRE.1,
        }],
        vehicles: (1..=shape.vehicles)
            .map(|i| Vehicle {
                id: format!("v{i}"),
                name: format!("bloodmobile {i}"),
                station: "station".into(),
                beds: 5,
                max_donors: 150,
                day_start: 8 * 60,
                day_end: 17 * 60,
                setup_min: 20.0,
                teardown_min: 10.0,
                cost_per_km: 3.0,
                unavailable: Vec::new(),
            })
            .collect(),
        sites,
        travel: Travel::default(),
        rules: Rules::default(),
        fixed: Vec::new(),
        forbidden: Vec::new(),
    }
}

/// A tiny instance for exact comparison: one township's seat and some of its villages (8 to
/// 12 sites), 2 or 3 days, one vehicle, the station 10 to 25 km away.
pub fn tiny(townships: &[Township], seed: u64) -> Instance {
    small(townships, &format!("tiny-{seed}"), seed, 8..=12, 2..=3, 1)
}

/// A small instance for exact comparison that the planner's last step (which re-plans groups
/// of up to 3 routes and 12 sites exactly) cannot cover whole: 14 to 16 sites, 2 days, two
/// vehicles (4 routes).
pub fn tiny_wide(townships: &[Township], seed: u64) -> Instance {
    small(townships, &format!("wide-{seed}"), seed, 14..=16, 2..=2, 2)
}

/// One township's seat and `sites` - 1 of its villages, over `days` days, with `vehicles`
/// vehicles at a station 10 to 25 km from the seat.
fn small(
    townships: &[Township],
    name: &str,
    seed: u64,
    sites: std::ops::RangeInclusive<usize>,
    days: std::ops::RangeInclusive<usize>,
    vehicles: usize,
) -> Instance {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let fewest = sites.start() - 1;
    let candidates: Vec<&Township> = townships
        .iter()
        .filter(|t| t.villages.len() >= fewest)
        .collect();
    let t = candidates[rng.random_range(0..candidates.len())];
    let n_sites = rng.random_range(sites).min(t.villages.len() + 1);
    let days = rng.random_range(days);
    let mut villages = t.villages.clone();
    villages.shuffle(&mut rng);
    villages.truncate(n_sites - 1);
    let township = Township {
        villages,
        ..t.clone()
    };
    let mut instance = generate(
        std::slice::from_ref(&township),
        &Shape {
            name: name.to_owned(),
            sites: usize::MAX,
            days,
            vehicles,
            first_day: NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"),
            seed,
        },
    );
    let (lon, lat) = offset(
        &mut rng,
        (instance.sites[0].lon, instance.sites[0].lat),
        10.0,
        25.0,
    );
    instance.stations[0].lon = (lon * 1e6).round() / 1e6;
    instance.stations[0].lat = (lat * 1e6).round() / 1e6;
    instance
}

/// `instance` with what format v2 adds, seeded: per site and day a `value` of `expected x
/// ml_per_donor` times a random factor between 0.5 and 3 (a market-day or shortage bonus that
/// raises what a stop is worth but not the vehicle's load), and per site a random
/// `extra_service_min` of 0 to 60 minutes (a third of the sites: none). For the planner's
/// property tests and its comparison with the exact solver on instances where value and load
/// differ.
pub fn with_values(mut instance: Instance, seed: u64) -> Instance {
    let mut rng = Pcg64Mcg::seed_from_u64(seed ^ 0x7632_7632);
    let ml = instance.rules.ml_per_donor;
    instance.format = INSTANCE_FORMAT.to_owned();
    for site in &mut instance.sites {
        site.value = Some(
            site.expected
                .iter()
                .map(|e| (e * ml * rng.random_range(0.5..3.0)).round())
                .collect(),
        );
        site.extra_service_min = if rng.random::<f64>() < 1.0 / 3.0 {
            None
        } else {
            Some(f64::from(rng.random_range(0..=60u32)))
        };
    }
    instance
}
