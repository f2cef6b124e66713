//! Coordinates: validated WGS-84 points, the GCJ-02 datum of Chinese map apps, and distances.
//!
//! Pure functions, no I/O. Everything stored is WGS-84; GCJ-02 exists only at the API's edge
//! (`"crs": "gcj02"` on input, `?crs=gcj02` on output).

pub mod coverage;
pub mod gcj02;

use std::fmt;
use std::str::FromStr;

use geo::{Distance, Haversine, Point};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A coordinate reference system the API accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    /// WGS-84 (GPS), what is stored.
    #[default]
    Wgs84,
    /// GCJ-02, the obfuscated datum of Chinese map apps (Amap/Gaode, Tencent, Google China).
    Gcj02,
}

impl FromStr for Crs {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "wgs84" => Ok(Crs::Wgs84),
            "gcj02" => Ok(Crs::Gcj02),
            _ => Err(format!("unknown crs {s:?} (expected wgs84 or gcj02)")),
        }
    }
}

/// China's bounding box (mainland and islands), the area where GCJ-02 applies and where a
/// donation point can be.
pub const CHINA_MIN_LON: f64 = 73.4;
pub const CHINA_MAX_LON: f64 = 135.1;
pub const CHINA_MIN_LAT: f64 = 3.8;
pub const CHINA_MAX_LAT: f64 = 53.6;

/// A WGS-84 position inside China's bounding box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wgs84Point {
    lon: f64,
    lat: f64,
}

/// Why a coordinate pair was refused, with the field to blame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidPoint {
    pub field: &'static str,
    pub message: String,
}

impl Wgs84Point {
    /// Reads a position given in `crs`, converting GCJ-02 to WGS-84.
    ///
    /// # Errors
    /// A coordinate that is not finite or lies outside China's bounding box.
    pub fn from_crs(lon: f64, lat: f64, crs: Crs) -> Result<Self, InvalidPoint> {
        let in_china = |v: f64, lo: f64, hi: f64| v.is_finite() && (lo..=hi).contains(&v);
        if !in_china(lon, CHINA_MIN_LON, CHINA_MAX_LON) {
            return Err(InvalidPoint {
                field: "longitude",
                message: format!("must lie in China ({CHINA_MIN_LON} to {CHINA_MAX_LON})"),
            });
        }
        if !in_china(lat, CHINA_MIN_LAT, CHINA_MAX_LAT) {
            return Err(InvalidPoint {
                field: "latitude",
                message: format!("must lie in China ({CHINA_MIN_LAT} to {CHINA_MAX_LAT})"),
            });
        }
        let (lon, lat) = match crs {
            Crs::Wgs84 => (lon, lat),
            Crs::Gcj02 => gcj02::to_wgs84(lon, lat),
        };
        Ok(Wgs84Point { lon, lat })
    }

    pub fn lon(self) -> f64 {
        self.lon
    }

    pub fn lat(self) -> f64 {
        self.lat
    }

    /// The position expressed in `crs`, as (longitude, latitude).
    pub fn in_crs(self, crs: Crs) -> (f64, f64) {
        match crs {
            Crs::Wgs84 => (self.lon, self.lat),
            Crs::Gcj02 => gcj02::from_wgs84(self.lon, self.lat),
        }
    }

    /// Great-circle distance in kilometres.
    pub fn distance_km(self, other: Wgs84Point) -> f64 {
        Haversine.distance(
            Point::new(self.lon, self.lat),
            Point::new(other.lon, other.lat),
        ) / 1000.0
    }

    /// The (min_lon, min_lat, max_lon, max_lat) box that holds every point within `km`.
    pub fn bounding_box(self, km: f64) -> (f64, f64, f64, f64) {
        // One degree of latitude is ~111.2 km; a degree of longitude shrinks with cos(lat).
        let dlat = km / 111.0;
        let dlon = km / (111.0 * self.lat.to_radians().cos().max(0.01));
        (
            self.lon - dlon,
            self.lat - dlat,
            self.lon + dlon,
            self.lat + dlat,
        )
    }

    /// A stored position, trusted as WGS-84 (no bounding-box check).
    pub fn stored(lon: f64, lat: f64) -> Self {
        Wgs84Point { lon, lat }
    }
}

impl fmt::Display for Wgs84Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6},{:.6}", self.lon, self.lat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_outside_china_are_refused_naming_the_field() {
        assert_eq!(
            Wgs84Point::from_crs(2.35, 33.0, Crs::Wgs84)
                .unwrap_err()
                .field,
            "longitude"
        );
        assert_eq!(
            Wgs84Point::from_crs(114.0, -33.0, Crs::Wgs84)
                .unwrap_err()
                .field,
            "latitude"
        );
        assert_eq!(
            Wgs84Point::from_crs(f64::NAN, 33.0, Crs::Wgs84)
                .unwrap_err()
                .field,
            "longitude"
        );
        assert!(Wgs84Point::from_crs(114.0795, 33.5004, Crs::Wgs84).is_ok());
    }

    #[test]
    fn distances_are_symmetric_and_plausible() {
        let luohe = Wgs84Point::stored(114.0166, 33.5815);
        let zhengzhou = Wgs84Point::stored(113.6254, 34.7466);
        let d = luohe.distance_km(zhengzhou);
        assert!((d - zhengzhou.distance_km(luohe)).abs() < 1e-9);
        // About 134 km apart.
        assert!((125.0..140.0).contains(&d), "{d}");
        assert_eq!(luohe.distance_km(luohe), 0.0);
    }

    #[test]
    fn the_bounding_box_holds_the_radius() {
        let p = Wgs84Point::stored(114.0, 33.5);
        let (min_lon, min_lat, max_lon, max_lat) = p.bounding_box(10.0);
        for corner in [
            Wgs84Point::stored(min_lon, p.lat()),
            Wgs84Point::stored(max_lon, p.lat()),
            Wgs84Point::stored(p.lon(), min_lat),
            Wgs84Point::stored(p.lon(), max_lat),
        ] {
            assert!(p.distance_km(corner) >= 10.0, "{corner}");
        }
    }
}
