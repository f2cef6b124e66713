//! WGS-84 ⇄ GCJ-02.
//!
//! GCJ-02 is WGS-84 shifted by a published, non-linear offset of a few hundred metres (the
//! formula every open implementation uses, e.g. eviltransform, coordtransform; Krasovsky
//! ellipsoid constants). The forward direction is the formula; the inverse has no closed form,
//! so it iterates the forward formula to a fixed point (converges to well under a centimetre in
//! a handful of steps, where the common one-step inverse errs by 1-2 m).

use std::f64::consts::PI;

/// Semi-major axis of the Krasovsky 1940 ellipsoid, as the formula uses it.
const A: f64 = 6_378_245.0;
/// Eccentricity squared of the same ellipsoid.
const EE: f64 = 0.006_693_421_622_965_943;

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// The GCJ-02 offset (dlon, dlat) in degrees at a WGS-84 position.
fn offset(lon: f64, lat: f64) -> (f64, f64) {
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (dlon, dlat)
}

/// WGS-84 → GCJ-02, as (longitude, latitude).
pub fn from_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (dlon, dlat) = offset(lon, lat);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → WGS-84, as (longitude, latitude): the WGS-84 position whose GCJ-02 image is the
/// input, found by fixed-point iteration.
pub fn to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..30 {
        let (glon, glat) = from_wgs84(wlon, wlat);
        let (elon, elat) = (glon - lon, glat - lat);
        wlon -= elon;
        wlat -= elat;
        if elon.abs() < 1e-10 && elat.abs() < 1e-10 {
            break;
        }
    }
    (wlon, wlat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Wgs84Point;

    /// Published reference pairs: (WGS-84 lon, lat) → (GCJ-02 lon, lat).
    /// - Beijing, from wandergis/coordtransform's tests;
    /// - Shanghai, Shenzhen, Beijing from googollee/eviltransform's test suite.
    const REFERENCE: [((f64, f64), (f64, f64)); 4] = [
        ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
        (
            (121.5272106, 31.1774276),
            (121.531541859215, 31.17530398364597),
        ),
        (
            (113.912316, 22.543847),
            (113.9171764808363, 22.540796131694766),
        ),
        (
            (116.377817, 39.911954),
            (116.38404722455657, 39.91334545536069),
        ),
    ];

    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        Wgs84Point::stored(a.0, a.1).distance_km(Wgs84Point::stored(b.0, b.1)) * 1000.0
    }

    #[test]
    fn forward_conversion_matches_the_reference_pairs() {
        for (wgs, gcj) in REFERENCE {
            let got = from_wgs84(wgs.0, wgs.1);
            assert!(metres(got, gcj) < 0.5, "{wgs:?}: got {got:?}, want {gcj:?}");
        }
    }

    #[test]
    fn inverse_conversion_recovers_the_reference_pairs() {
        for (wgs, gcj) in REFERENCE {
            let got = to_wgs84(gcj.0, gcj.1);
            assert!(metres(got, wgs) < 0.5, "{gcj:?}: got {got:?}, want {wgs:?}");
        }
    }

    #[test]
    fn round_trips_stay_under_a_metre_across_china() {
        let mut worst: f64 = 0.0;
        let mut lon = 74.0;
        while lon < 135.0 {
            let mut lat = 18.0;
            while lat < 53.5 {
                let back = to_wgs84(from_wgs84(lon, lat).0, from_wgs84(lon, lat).1);
                worst = worst.max(metres(back, (lon, lat)));
                lat += 0.37;
            }
            lon += 0.41;
        }
        assert!(worst < 1.0, "worst round trip error {worst} m");
    }

    #[test]
    fn the_offset_is_hundreds_of_metres_not_zero() {
        let gcj = from_wgs84(114.0795, 33.5004);
        let shift = metres(gcj, (114.0795, 33.5004));
        assert!((100.0..1000.0).contains(&shift), "{shift}");
    }
}
