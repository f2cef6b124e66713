//! What the pages' maps draw (`assets/map.js` reads it): a region's townships, villages
//! (coloured by eligible donors, and by how old their survey is) and points (coloured by
//! status), with the tiles the station configured, every coordinate already in the tiles'
//! datum (GCJ-02 on AMap tiles). Shared by the officials' township map and the station's
//! network map.

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Serialize;

use super::context::Page;
use super::templates::LegendEntry;
use crate::config::TileSource;
use crate::domain::point::PointStatus;
use crate::domain::rounding::{self, Measure};
use crate::geo::{Crs, Wgs84Point};
use crate::reports::map::RegionMap;

/// The map's colours, explained.
pub fn legend(page: &Page) -> Vec<LegendEntry> {
    let mut legend: Vec<LegendEntry> = PointStatus::ALL
        .iter()
        .map(|s| LegendEntry {
            class: format!("pt-{}", s.as_str()),
            label: page.t(&format!("point-status-{}", s.as_str())),
        })
        .collect();
    for band in VillageBand::ALL {
        legend.push(LegendEntry {
            class: format!("vg-{}", band.as_str()),
            label: page.t(&format!("map-village-{}", band.as_str())),
        });
    }
    legend.push(LegendEntry {
        class: "ring".to_owned(),
        label: page.t1("map-ring", "km", 5),
    });
    legend
}

/// How many eligible donors a village has, as the map colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VillageBand {
    /// Not surveyed.
    Unknown,
    Few,
    Some,
    Many,
}

impl VillageBand {
    pub const ALL: [VillageBand; 4] = [
        VillageBand::Unknown,
        VillageBand::Few,
        VillageBand::Some,
        VillageBand::Many,
    ];

    pub fn of(eligible: Option<i32>) -> Self {
        match eligible {
            None => VillageBand::Unknown,
            Some(n) if n < 500 => VillageBand::Few,
            Some(n) if n < 2000 => VillageBand::Some,
            Some(_) => VillageBand::Many,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VillageBand::Unknown => "unknown",
            VillageBand::Few => "few",
            VillageBand::Some => "some",
            VillageBand::Many => "many",
        }
    }
}

/// The map as `map.js` reads it.
#[derive(Debug, Serialize)]
pub struct MapData {
    /// The datum of every coordinate here (the tiles'): `wgs84` or `gcj02`.
    pub crs: Crs,
    /// Tile layers, bottom first; empty: a plain background.
    pub tiles: Vec<MapTiles>,
    /// Active points cover villages within this many metres.
    pub radius_m: f64,
    /// Where to look when nothing is located: the region's centre.
    pub centre: Option<[f64; 2]>,
    pub townships: Vec<MapPlace>,
    pub villages: Vec<MapVillage>,
    pub points: Vec<MapPoint>,
    /// Suggested new points, best first (the station's network map only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<MapSuggestion>,
}

/// A suggested new point and what it would bring within reach.
#[derive(Debug, Serialize)]
pub struct MapSuggestion {
    pub rank: usize,
    pub code: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    /// `1. 柳湾村委会 · 新覆盖 2500 人`.
    pub label: String,
    /// The codes of the villages it would cover.
    pub covers: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct MapTiles {
    pub url: String,
    pub subdomains: String,
    pub attribution: String,
}

#[derive(Debug, Serialize)]
pub struct MapPlace {
    pub code: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
}

#[derive(Debug, Serialize)]
pub struct MapVillage {
    pub code: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    pub eligible: Option<i32>,
    /// `unknown`, `few`, `some`, `many` (the colour).
    pub band: &'static str,
    /// How old its current survey is: `none`, `recent` (a year or less), `old` (the colour
    /// when the map is shaded by survey age).
    pub age: &'static str,
    /// `东岭村委会 · 适龄献血人数 5000`.
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct MapPoint {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub label: String,
    pub lon: f64,
    pub lat: f64,
    pub href: String,
}

/// A stored (WGS-84) position as the map draws it, in `crs`, rounded as the API rounds
/// coordinates.
pub fn shown(lon: f64, lat: f64, crs: Crs) -> (f64, f64) {
    let (lon, lat) = Wgs84Point::stored(lon, lat).in_crs(crs);
    let round = |v: f64| rounding::round(v, Measure::Coordinate);
    (round(lon), round(lat))
}

/// The tile layers the station configured, bottom first (none: a plain background).
pub fn tiles(tiles: &TileSource) -> Vec<MapTiles> {
    tiles
        .layers()
        .into_iter()
        .map(|l| MapTiles {
            url: l.template,
            subdomains: l.subdomains,
            attribution: l.attribution,
        })
        .collect()
}

/// The map of `drawn` for `page`'s reader, on `tiles`.
pub fn data(tiles: &TileSource, page: &Page, drawn: &RegionMap, today: NaiveDate) -> MapData {
    let crs = if tiles.gcj02() {
        Crs::Gcj02
    } else {
        Crs::Wgs84
    };
    let lang = page.lang;
    let located = |lon: Option<f64>, lat: Option<f64>| Some(shown(lon?, lat?, crs));
    MapData {
        crs,
        tiles: self::tiles(tiles),
        radius_m: drawn.radius_km * 1000.0,
        centre: located(drawn.region.longitude, drawn.region.latitude).map(|(a, b)| [a, b]),
        townships: drawn
            .townships
            .iter()
            .filter_map(|t| {
                let (lon, lat) = located(t.longitude, t.latitude)?;
                Some(MapPlace {
                    code: t.code.to_string(),
                    name: t.name.clone(),
                    lon,
                    lat,
                })
            })
            .collect(),
        villages: drawn
            .villages
            .iter()
            .filter_map(|v| {
                let (lon, lat) = located(v.longitude, v.latitude)?;
                let label = match v.eligible_total {
                    Some(n) => lang.tn(
                        "map-village-label",
                        &[("name", v.name.clone().into()), ("count", n.into())],
                    ),
                    None => lang.t1("map-village-unsurveyed", "name", v.name.clone()),
                };
                Some(MapVillage {
                    code: v.code.clone(),
                    name: v.name.clone(),
                    lon,
                    lat,
                    eligible: v.eligible_total,
                    band: VillageBand::of(v.eligible_total).as_str(),
                    age: survey_age(v.surveyed_on, today),
                    label,
                })
            })
            .collect(),
        points: drawn
            .points
            .iter()
            .map(|p| {
                let (lon, lat) = shown(p.longitude, p.latitude, crs);
                MapPoint {
                    id: p.id,
                    name: p.name.clone(),
                    label: page.t(&format!("point-status-{}", p.status)),
                    status: p.status.clone(),
                    lon,
                    lat,
                    href: format!("/points/{}", p.id),
                }
            })
            .collect(),
        suggestions: vec![],
    }
}

/// How old a survey of `on` is `today`, as the map shades it: a year or less is recent (the
/// gaps report asks for a survey at least every 12 months).
pub fn survey_age(on: Option<NaiveDate>, today: NaiveDate) -> &'static str {
    match on {
        None => "none",
        Some(on) if on >= today - chrono::Months::new(12) => "recent",
        Some(_) => "old",
    }
}

/// `data` as the answer to the map's request: JSON, never kept by a cache (the registry
/// changes with every edit).
pub fn json(data: &MapData) -> Response {
    let mut response = Json(data).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
