//! Small hand-made instances for the planning tests.

use chrono::NaiveDate;

use crate::planning::instance::{INSTANCE_FORMAT, Instance, Rules, Site, Station, Travel, Vehicle};

pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, d).expect("a December day")
}

pub fn vehicle(id: &str) -> Vehicle {
    Vehicle {
        id: id.to_owned(),
        name: String::new(),
        station: "st".to_owned(),
        beds: 5,
        max_donors: 150,
        day_start: 8 * 60,
        day_end: 17 * 60,
        setup_min: 20.0,
        teardown_min: 10.0,
        cost_per_km: 3.0,
        unavailable: Vec::new(),
    }
}

pub fn site(id: &str, expected: &[f64]) -> Site {
    Site {
        id: id.to_owned(),
        name: format!("site {id}"),
        lon: 114.0,
        lat: 33.6,
        expected: expected.to_vec(),
        last_visit: None,
        value: None,
        extra_service_min: None,
    }
}

/// A station `st` and `sites`, with travel from a matrix: `legs` lists (from, to, km,
/// minutes), both directions; unlisted pairs are 1,000 km and 1,000 minutes apart.
pub fn with_matrix(days: usize, sites: Vec<Site>, legs: &[(&str, &str, f64, f64)]) -> Instance {
    let mut ids = vec!["st".to_owned()];
    ids.extend(sites.iter().map(|s| s.id.clone()));
    let n = ids.len();
    let mut km = vec![vec![1000.0; n]; n];
    let mut minutes = vec![vec![1000.0; n]; n];
    for i in 0..n {
        km[i][i] = 0.0;
        minutes[i][i] = 0.0;
    }
    let at = |id: &str| ids.iter().position(|x| x == id).expect("a known id");
    for &(a, b, k, m) in legs {
        let (i, j) = (at(a), at(b));
        km[i][j] = k;
        km[j][i] = k;
        minutes[i][j] = m;
        minutes[j][i] = m;
    }
    Instance {
        format: INSTANCE_FORMAT.to_owned(),
        name: "test".to_owned(),
        days: (1..=days as u32).map(day).collect(),
        stations: vec![Station {
            id: "st".to_owned(),
            name: "station".to_owned(),
            lon: 114.0,
            lat: 33.6,
        }],
        vehicles: vec![vehicle("v1")],
        sites,
        travel: Travel::Matrix { ids, km, minutes },
        rules: Rules::default(),
        fixed: Vec::new(),
        forbidden: Vec::new(),
    }
}
