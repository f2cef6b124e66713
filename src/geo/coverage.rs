//! Which places lie within a radius of a set of sites (villages within 5 km of an active
//! point): an R-tree over the sites, then the exact great-circle distance on the candidates.

use rstar::primitives::GeomWithData;
use rstar::{AABB, RTree};

use super::Wgs84Point;

/// Kilometres per degree of latitude, and of longitude at the equator.
const KM_PER_DEG_LAT: f64 = 110.574;
const KM_PER_DEG_LON: f64 = 111.320;

/// Sites indexed for "is anything within r km of this place?" queries.
pub struct SiteIndex {
    /// Projected positions, each with its index in `sites`.
    tree: RTree<GeomWithData<[f64; 2], usize>>,
    sites: Vec<Wgs84Point>,
    /// Longitude scale of the local projection (cos of the reference latitude).
    lon_scale: f64,
}

impl SiteIndex {
    /// Indexes `sites`. The projection is equirectangular around the sites' mean latitude,
    /// accurate to well under 1% across a city; candidates are confirmed with the exact
    /// distance, so the projection only has to never miss one (the search box is padded).
    pub fn new(sites: Vec<Wgs84Point>) -> SiteIndex {
        let mean_lat = if sites.is_empty() {
            0.0
        } else {
            sites.iter().map(|p| p.lat()).sum::<f64>() / sites.len() as f64
        };
        let lon_scale = mean_lat.to_radians().cos();
        let tree = RTree::bulk_load(
            sites
                .iter()
                .enumerate()
                .map(|(i, p)| GeomWithData::new(project(*p, lon_scale), i))
                .collect(),
        );
        SiteIndex {
            tree,
            sites,
            lon_scale,
        }
    }

    /// The indices (in the order given to [`SiteIndex::new`]) of the sites within `radius_km`
    /// of `place`, ascending.
    pub fn within(&self, place: Wgs84Point, radius_km: f64) -> Vec<usize> {
        let [x, y] = project(place, self.lon_scale);
        let pad = radius_km * 1.05 + 0.1;
        let envelope = AABB::from_corners([x - pad, y - pad], [x + pad, y + pad]);
        let mut out: Vec<usize> = self
            .tree
            .locate_in_envelope(&envelope)
            .map(|candidate| candidate.data)
            .filter(|i| place.distance_km(self.sites[*i]) <= radius_km)
            .collect();
        out.sort_unstable();
        out
    }

    /// The distance in km from `place` to the nearest site within `radius_km`, if any.
    pub fn nearest_within(&self, place: Wgs84Point, radius_km: f64) -> Option<f64> {
        if self.sites.is_empty() {
            return None;
        }
        let [x, y] = project(place, self.lon_scale);
        // Padded: the projection's scale drifts a little away from the mean latitude.
        let pad = radius_km * 1.05 + 0.1;
        let envelope = AABB::from_corners([x - pad, y - pad], [x + pad, y + pad]);
        self.tree
            .locate_in_envelope(&envelope)
            .map(|candidate| place.distance_km(self.sites[candidate.data]))
            .filter(|d| *d <= radius_km)
            .min_by(f64::total_cmp)
    }
}

fn project(p: Wgs84Point, lon_scale: f64) -> [f64; 2] {
    [
        p.lon() * KM_PER_DEG_LON * lon_scale,
        p.lat() * KM_PER_DEG_LAT,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_agrees_with_brute_force() {
        // A deterministic scatter of sites and places over a city-sized area.
        let mut seed = 42u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let sites: Vec<Wgs84Point> = (0..200)
            .map(|_| Wgs84Point::stored(113.5 + next(), 33.0 + next()))
            .collect();
        let index = SiteIndex::new(sites.clone());
        for _ in 0..2000 {
            let place = Wgs84Point::stored(113.4 + 1.2 * next(), 32.9 + 1.2 * next());
            let brute = sites
                .iter()
                .map(|s| place.distance_km(*s))
                .filter(|d| *d <= 5.0)
                .min_by(f64::total_cmp);
            assert_eq!(index.nearest_within(place, 5.0), brute, "{place}");
        }
    }

    #[test]
    fn no_sites_cover_nothing() {
        let index = SiteIndex::new(vec![]);
        assert_eq!(
            index.nearest_within(Wgs84Point::stored(114.0, 33.0), 5.0),
            None
        );
    }
}
