//! The network map of a region (a city by default): every point by status, the villages shaded
//! by eligible donors or by the age of their survey, 5 km rings, the uncovered villages beside
//! the map (most eligible first), the suggested new sites with what each would bring within
//! reach, and a card for a village or a point (its survey history as a small chart, its
//! coordinators, the drives held there).
//!
//! - `GET /station/map[?code=]`: the page (the reader's first region, or a city to pick);
//! - `GET /station/map.json?code=`: what the map draws (`assets/map.js`, canvas mode);
//! - `GET /station/map/village/{code}`, `GET /station/map/point/{id}`: a card (htmx puts it
//!   beside the map; without script it is a page of its own).
//!
//! On the services the API reads through: `reports::coverage::report` (as
//! `/api/v1/coverage`), `reports::map::of_region`, `registry::surveys::history`,
//! `registry::points::detail`, `drives::held_at`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::auth::Caller;
use crate::domain::checklist as checklist_rules;
use crate::domain::point::mask_phone;
use crate::domain::policy::{Action, Resource};
use crate::domain::region::{Level, RegionCode};
use crate::drives::{self, StopsAt};
use crate::registry::regions::{self, RegionQuery};
use crate::registry::{Acting, RegistryError, points, surveys};
use crate::reports::coverage::{self, CoverageQuery, CoverageReport};
use crate::reports::{COVERAGE_RADIUS_KM, map};
use crate::state::AppState;
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::maps::{self, MapSuggestion};
use crate::web::templates::{Figure, LegendEntry, PlaceLink, date, html};

/// Suggested new sites drawn and listed.
const SUGGESTIONS: usize = 5;
/// Uncovered villages listed beside the map.
const UNCOVERED_LISTED: usize = 30;
/// Drives listed on a card.
const DRIVES_ON_A_CARD: u64 = 10;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/station/map", get(network_page))
        .route("/station/map.json", get(network_json))
        .route("/station/map/village/{code}", get(village_card))
        .route("/station/map/point/{id}", get(point_card))
}

fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

fn drives_acting(caller: &Caller) -> drives::Acting<'_> {
    drives::Acting::caller(caller.principal.as_ref(), caller.actor())
}

#[derive(Debug, Default, Deserialize)]
pub struct Where {
    code: Option<String>,
}

/// The region the map shows: `code` when given (404 when malformed or out of reach), else the
/// reader's first region; `None` for a reader bound to none, who picks a city.
fn chosen(page: &Page, code: Option<&str>) -> Result<Option<RegionCode>, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    let code = match code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(raw) => {
            RegionCode::parse(raw).map_err(|_| PageError::Status(StatusCode::NOT_FOUND))?
        }
        None => match page
            .caller
            .principal
            .as_ref()
            .and_then(|p| p.scopes.first())
        {
            Some(scope) => scope.code.clone(),
            None => return Ok(None),
        },
    };
    page.caller
        .authorize(Action::Read, Resource::Registry(Some(&code)), || {
            format!("region with code {code}")
        })
        .map_err(|_| PageError::Status(StatusCode::NOT_FOUND))?;
    Ok(Some(code))
}

/// A service's refusal as a page: outside the reader's reach a region does not exist.
fn not_here(err: RegistryError) -> PageError {
    match err {
        RegistryError::Denied { .. } | RegistryError::NotFound(_) => {
            PageError::Status(StatusCode::NOT_FOUND)
        }
        other => other.into(),
    }
}

#[derive(Template)]
#[template(path = "station_map.html")]
struct NetworkPage<'a> {
    page: &'a Page,
    name: String,
    /// Up the tree (the county's city), and down (a city's counties).
    up: Option<PlaceLink>,
    down: Vec<PlaceLink>,
    map_src: String,
    figures: Vec<Figure>,
    legend: Vec<LegendEntry>,
    age_legend: Vec<LegendEntry>,
    suggestions: Vec<SuggestionRow>,
    uncovered: Vec<UncoveredRow>,
    /// Uncovered villages not listed.
    more_uncovered: u64,
}

struct SuggestionRow {
    name: String,
    /// `新覆盖 2500 人，3 个村`.
    gain: String,
    /// A village's card (a township has none).
    card: String,
}

struct UncoveredRow {
    code: String,
    name: String,
    eligible: String,
}

#[derive(Template)]
#[template(path = "station_pick_city.html")]
struct PickCityPage<'a> {
    page: &'a Page,
    cities: Vec<PlaceLink>,
}

/// `GET /station/map[?code=]`: the network map page.
async fn network_page(
    State(state): State<AppState>,
    page: Page,
    Query(asked): Query<Where>,
) -> Result<Response, PageError> {
    let Some(code) = chosen(&page, asked.code.as_deref())? else {
        return pick_city(&state, &page).await;
    };
    let acting = acting(&page.caller);
    let region = regions::read(&state.db, &code, &acting)
        .await
        .map_err(not_here)?;
    let report = coverage::report(
        &state.db,
        &CoverageQuery {
            region: code.clone(),
            radius_km: COVERAGE_RADIUS_KM,
            suggest: SUGGESTIONS,
            limit: UNCOVERED_LISTED,
        },
        &acting,
    )
    .await
    .map_err(not_here)?;
    // One level up, when the reader reaches it (a county's city).
    let up = match &region.parent_code {
        Some(parent) if region.level != Level::Village => regions::read(&state.db, parent, &acting)
            .await
            .ok()
            .map(|r| PlaceLink {
                code: r.code.to_string(),
                name: r.name,
                current: false,
            }),
        _ => None,
    };
    let down = match region.level {
        Level::Province | Level::City => regions::list(
            &state.db,
            RegionQuery {
                parent: Some(code.clone()),
                level: Some(Level::County),
                limit: 1000,
                ..RegionQuery::default()
            },
            &acting,
        )
        .await
        .map_err(not_here)?
        .into_iter()
        .map(|r| PlaceLink {
            code: r.code.to_string(),
            name: r.name,
            current: false,
        })
        .collect(),
        _ => vec![],
    };
    let body = NetworkPage {
        page: &page,
        name: region.name,
        up,
        down,
        map_src: format!("/station/map.json?code={code}"),
        figures: figures(&page, &report),
        legend: maps::legend(&page),
        age_legend: ["recent", "old", "none"]
            .iter()
            .map(|a| LegendEntry {
                class: format!("age-{a}"),
                label: page.t(&format!("snet-age-{a}")),
            })
            .collect(),
        suggestions: report
            .suggestions
            .iter()
            .map(|s| SuggestionRow {
                name: s.name.clone(),
                gain: page.lang.tn(
                    "snet-suggestion-gain",
                    &[
                        ("count", s.gain_eligible.into()),
                        ("villages", s.covers.len().into()),
                    ],
                ),
                card: if s.level == Level::Village {
                    format!("/station/map/village/{}", s.code)
                } else {
                    String::new()
                },
            })
            .collect(),
        more_uncovered: report
            .villages_uncovered
            .saturating_sub(report.uncovered.len() as u64),
        uncovered: report
            .uncovered
            .iter()
            .map(|v| UncoveredRow {
                code: v.code.clone(),
                name: v.name.clone(),
                eligible: page.t1("survey-people", "count", v.eligible_total),
            })
            .collect(),
    };
    Ok(html(&body))
}

/// The coverage in figures: villages, surveyed, eligible donors and how many live near a point.
fn figures(page: &Page, r: &CoverageReport) -> Vec<Figure> {
    let percent = |part: i64, whole: i64| {
        if whole > 0 {
            format!("{:.0}%", part as f64 * 100.0 / whole as f64)
        } else {
            "—".to_owned()
        }
    };
    vec![
        Figure {
            label: page.t("snet-villages"),
            value: r.villages.to_string(),
        },
        Figure {
            label: page.t("snet-villages-covered"),
            value: format!(
                "{} ({})",
                r.villages_covered,
                percent(r.villages_covered as i64, r.villages as i64)
            ),
        },
        Figure {
            label: page.t("snet-eligible"),
            value: r.eligible_total.to_string(),
        },
        Figure {
            label: page.t("snet-eligible-covered"),
            value: format!(
                "{} ({})",
                r.eligible_covered,
                percent(r.eligible_covered, r.eligible_total)
            ),
        },
    ]
}

/// The reader bound to no region picks a city.
async fn pick_city(state: &AppState, page: &Page) -> Result<Response, PageError> {
    let cities = regions::list(
        &state.db,
        RegionQuery {
            level: Some(Level::City),
            limit: 1000,
            ..RegionQuery::default()
        },
        &acting(&page.caller),
    )
    .await?
    .into_iter()
    .map(|r| PlaceLink {
        code: r.code.to_string(),
        name: r.name,
        current: false,
    })
    .collect();
    Ok(html(&PickCityPage { page, cities }))
}

/// `GET /station/map.json?code=`: the map of the region with the suggested sites.
async fn network_json(
    State(state): State<AppState>,
    page: Page,
    Query(asked): Query<Where>,
) -> Result<Response, PageError> {
    let Some(code) = chosen(&page, asked.code.as_deref())? else {
        return Err(PageError::Status(StatusCode::NOT_FOUND));
    };
    let acting = acting(&page.caller);
    let drawn = map::of_region(&state.db, &code, &acting)
        .await
        .map_err(not_here)?;
    let report = coverage::report(
        &state.db,
        &CoverageQuery {
            region: code,
            radius_km: COVERAGE_RADIUS_KM,
            suggest: SUGGESTIONS,
            limit: 0,
        },
        &acting,
    )
    .await
    .map_err(not_here)?;
    let today = checklist_rules::station_date(state.clock.now());
    let mut data = maps::data(&state.http.tiles, &page, &drawn, today);
    data.suggestions = report
        .suggestions
        .into_iter()
        .map(|s| {
            let (lon, lat) = maps::shown(s.longitude, s.latitude, data.crs);
            MapSuggestion {
                rank: s.rank,
                label: page.lang.tn(
                    "snet-suggestion-label",
                    &[
                        ("rank", s.rank.into()),
                        ("name", s.name.clone().into()),
                        ("count", s.gain_eligible.into()),
                    ],
                ),
                code: s.code,
                name: s.name,
                lon,
                lat,
                covers: s.covers,
            }
        })
        .collect();
    Ok(maps::json(&data))
}

/// A village's or a point's card.
struct Card {
    title: String,
    /// What it is (`村（社区）`, `村级献血点`).
    kicker: String,
    facts: Vec<Figure>,
    /// A village's survey history as a chart (oldest first).
    chart: Option<SurveyChart>,
    coordinators: Vec<CardPerson>,
    drives: Vec<CardDrive>,
    /// The map of the region the card belongs to, to go back to.
    back: String,
    /// The point's own page (to edit it), for a point.
    more: String,
    /// Its turnout forecast, for a point.
    forecast: String,
}

/// The card as a page of its own (without script).
#[derive(Template)]
#[template(path = "station_card.html")]
struct CardPage<'a> {
    page: &'a Page,
    card: Card,
}

/// The card alone (htmx puts it beside the map).
#[derive(Template)]
#[template(path = "station_card_body.html")]
struct CardFragment<'a> {
    page: &'a Page,
    card: Card,
}

struct CardPerson {
    name: String,
    meta: String,
}

struct CardDrive {
    date: String,
    place: String,
    status: String,
    status_label: String,
    expected: String,
}

/// A small bar chart of a village's surveys (server-drawn SVG: no script, no library).
pub struct SurveyChart {
    pub width: u32,
    pub height: u32,
    pub bars: Vec<ChartBar>,
    /// The words a screen reader reads for it.
    pub summary: String,
}

pub struct ChartBar {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// The figure above the bar, and the date below it.
    pub value: String,
    pub label: String,
    pub value_y: u32,
    pub label_x: u32,
}

impl SurveyChart {
    const WIDTH: u32 = 320;
    const HEIGHT: u32 = 140;
    /// Room above the bars (their figures) and below (their dates).
    const TOP: u32 = 18;
    const BOTTOM: u32 = 20;
    /// At most this many surveys, the latest.
    const MAX_BARS: usize = 8;
    /// The widest bar (one survey alone is not a wall).
    const MAX_BAR: u32 = 36;

    /// The chart of `surveys` (date, eligible donors), oldest first.
    fn of(lang: crate::i18n::Lang, surveys: &[(NaiveDate, i32)], summary: String) -> Self {
        let shown = &surveys[surveys.len().saturating_sub(Self::MAX_BARS)..];
        let max = shown.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
        let slot = Self::WIDTH / (shown.len().max(1) as u32);
        let w = (slot * 3 / 5).clamp(4, Self::MAX_BAR);
        let room = Self::HEIGHT - Self::TOP - Self::BOTTOM;
        let bars = shown
            .iter()
            .enumerate()
            .map(|(i, (on, n))| {
                let h = ((i64::from(*n) * i64::from(room)) / i64::from(max)) as u32;
                let x = i as u32 * slot + (slot - w) / 2;
                let y = Self::TOP + room - h;
                ChartBar {
                    x,
                    y,
                    w,
                    h: h.max(1),
                    value: n.to_string(),
                    label: match lang {
                        crate::i18n::Lang::ZhCn => on.format("%Y.%-m").to_string(),
                        crate::i18n::Lang::English => on.format("%b %Y").to_string(),
                    },
                    value_y: y.saturating_sub(4).max(10),
                    label_x: x + w / 2,
                }
            })
            .collect();
        SurveyChart {
            width: Self::WIDTH,
            height: Self::HEIGHT,
            bars,
            summary,
        }
    }

    /// The baseline's height.
    pub fn base(&self) -> u32 {
        self.height - Self::BOTTOM
    }

    /// Where the dates sit.
    pub fn label_y(&self) -> u32 {
        self.height - 5
    }
}

/// The drives held at a place, as a card lists them.
fn card_drives(
    page: &Page,
    held: Vec<(entity::drive_stop::Model, entity::drive::Model)>,
) -> Vec<CardDrive> {
    held.into_iter()
        .map(|(stop, drive)| CardDrive {
            date: date(page.lang, drive.date),
            place: stop.name,
            status_label: page.t(&format!("snet-drive-{}", drive.status)),
            status: drive.status,
            expected: page.t1(
                "snet-expected",
                "count",
                stop.expected_donors.round() as i64,
            ),
        })
        .collect()
}

fn card(page: &Page, card: Card) -> Response {
    if page.htmx {
        html(&CardFragment { page, card })
    } else {
        html(&CardPage { page, card })
    }
}

/// `GET /station/map/village/{code}`: a village's card.
async fn village_card(
    State(state): State<AppState>,
    page: Page,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let Some(code) = chosen(&page, Some(&raw))? else {
        return Err(PageError::Status(StatusCode::NOT_FOUND));
    };
    let acting = acting(&page.caller);
    let village = regions::read(&state.db, &code, &acting)
        .await
        .map_err(not_here)?;
    if village.level != Level::Village {
        return Err(PageError::Status(StatusCode::NOT_FOUND));
    }
    let history = surveys::history(&state.db, code.as_str(), &acting)
        .await
        .map_err(not_here)?;
    let held = drives::held_at(
        &state.db,
        &drives_acting(&page.caller),
        &StopsAt::Range(code.to_string(), code.to_string()),
        DRIVES_ON_A_CARD,
    )
    .await?;
    let mut facts = Vec::new();
    if let Some(current) = history.first() {
        facts.push(Figure {
            label: page.t("snet-card-eligible"),
            value: page.t1("survey-people", "count", current.eligible_total),
        });
        facts.push(Figure {
            label: page.t("snet-card-surveyed"),
            value: date(page.lang, current.surveyed_on),
        });
    } else {
        facts.push(Figure {
            label: page.t("snet-card-eligible"),
            value: page.t("survey-none-yet"),
        });
    }
    let mut series: Vec<(NaiveDate, i32)> = history
        .iter()
        .map(|s| (s.surveyed_on, s.eligible_total))
        .collect();
    series.reverse();
    let chart = (!series.is_empty()).then(|| {
        let summary = series
            .iter()
            .map(|(on, n)| format!("{}: {n}", date(page.lang, *on)))
            .collect::<Vec<_>>()
            .join("; ");
        SurveyChart::of(page.lang, &series, summary)
    });
    let township = village.parent_code.as_ref().unwrap_or(&code).to_string();
    let body = Card {
        title: village.name,
        kicker: page.t("snet-card-village"),
        facts,
        chart,
        coordinators: vec![],
        drives: card_drives(&page, held),
        back: format!("/station/map?code={township}"),
        more: String::new(),
        forecast: String::new(),
    };
    Ok(card(&page, body))
}

/// `GET /station/map/point/{id}`: a point's card.
async fn point_card(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    let acting = acting(&page.caller);
    let detail = points::detail(&state.db, id, &acting)
        .await
        .map_err(not_here)?;
    let held = drives::held_at(
        &state.db,
        &drives_acting(&page.caller),
        &StopsAt::Point(id),
        DRIVES_ON_A_CARD,
    )
    .await?;
    let p = &detail.point;
    let mut facts = vec![Figure {
        label: page.t("snet-card-status"),
        value: page.t(&format!("point-status-{}", p.status)),
    }];
    if let Some(address) = &p.address {
        facts.push(Figure {
            label: page.t("point-field-address"),
            value: address.clone(),
        });
    }
    if let Some(region) = &detail.region {
        facts.push(Figure {
            label: page.t("snet-card-region"),
            value: region.name.clone(),
        });
    }
    let body = Card {
        title: p.name.clone(),
        kicker: page.t(&format!("point-kind-{}", p.kind)),
        facts,
        chart: None,
        coordinators: detail
            .coordinators
            .iter()
            .map(|c| CardPerson {
                name: if c.link.is_primary {
                    format!("{} · {}", c.person.name, page.t("coordinator-primary"))
                } else {
                    c.person.name.clone()
                },
                meta: format!(
                    "{} · {}",
                    page.t(&format!("coordinator-role-{}", c.person.role)),
                    if c.readable {
                        c.person.mobile.clone()
                    } else {
                        mask_phone(&c.person.mobile)
                    }
                ),
            })
            .collect(),
        drives: card_drives(&page, held),
        back: format!("/station/map?code={}", p.region_code),
        more: format!("/points/{id}"),
        forecast: format!("/station/forecast?site=point-{id}"),
    };
    Ok(card(&page, body))
}
