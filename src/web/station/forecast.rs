//! The turnout forecast of any site on any date (`GET /station/forecast?site=&date=`): the
//! expected donors, the day's factors, the village-by-village explanation as a table and a bar
//! chart, and the model's parameters with their source (the documented defaults, or fitted to
//! recorded results), and what the site is worth when blood groups run short (the value
//! factor, the short groups' weights, the expected mix, where each village's mix comes from).
//! On `plans::forecast::explain`, the service behind `/api/v1/forecast`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::checklist as checklist_rules;
use crate::domain::point::PointStatus;
use crate::domain::policy;
use crate::domain::shortage::{SupplyLevel, WEIGHT_AT_AMBER};
use crate::plans::PlansError;
use crate::plans::forecast::{self, ForecastParams, ForecastValue, ForecastView};
use crate::registry::points::{self, PointFilter};
use crate::state::AppState;
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::forms::{FormFields, FormState};
use crate::web::templates::{Figure, date, html, whole};

/// At most this many points are offered in the site list.
const SITES_OFFERED: u64 = 2000;
/// At most this many villages are drawn in the chart (the nearest; the table has them all).
const CHART_VILLAGES: usize = 12;

pub fn routes() -> Router<AppState> {
    Router::new().route("/station/forecast", get(forecast_page))
}

#[derive(Debug, Default, Deserialize)]
pub struct Asked {
    site: Option<String>,
    date: Option<String>,
}

struct SiteChoice {
    id: String,
    name: String,
}

struct VillageRow {
    name: String,
    distance: String,
    resident: String,
    away: String,
    recent: String,
    available: String,
    decay: String,
    expected: String,
}

/// One horizontal bar of the chart: a village's expected donors.
struct Bar {
    label: String,
    value: String,
    y: u32,
    w: u32,
    text_y: u32,
}

struct Explained {
    title: String,
    total: String,
    figures: Vec<Figure>,
    villages: Vec<VillageRow>,
    bars: Vec<Bar>,
    chart_height: u32,
    chart_summary: String,
    params: Vec<Figure>,
    source: String,
    value: ValueSection,
}

/// A blood group that weighs more than 1: its days of supply, level and weight.
struct WeightRow {
    group: String,
    days: String,
    level: String,
    weight: String,
}

/// What the site is worth when blood groups run short (issue 17), in words and tables.
struct ValueSection {
    /// Some group weighs more than 1 (else `none` says so and nothing else is shown).
    weighs: bool,
    none: String,
    figures: Vec<Figure>,
    weights: Vec<WeightRow>,
    /// The site's expected mix: group and share, the 8 groups.
    mix: Vec<Figure>,
    /// The villages that used their own recorded results, and those that used the prior.
    own: String,
    prior: String,
    prior_source: String,
    rule: String,
}

#[derive(Template)]
#[template(path = "station_forecast.html")]
struct ForecastPage<'a> {
    page: &'a Page,
    sites: Vec<SiteChoice>,
    form: FormState,
    problem: String,
    result: Option<Explained>,
}

/// `GET /station/forecast[?site=&date=]`: the form, and the forecast once asked.
async fn forecast_page(
    State(state): State<AppState>,
    page: Page,
    Query(asked): Query<Asked>,
) -> Result<Response, PageError> {
    let Some(principal) = page.caller.principal.as_ref() else {
        return Err(PageError::SignIn);
    };
    let today = checklist_rules::station_date(state.clock.now());
    let sites = points::list(
        &state.db,
        &PointFilter {
            statuses: vec![PointStatus::Active, PointStatus::Planned],
            limit: Some(SITES_OFFERED),
            reach: Some(policy::read_scope(principal)),
            ..PointFilter::default()
        },
    )
    .await
    .map_err(crate::error::AppError::from)?
    .into_iter()
    .map(|p| SiteChoice {
        id: format!("point-{}", p.id),
        name: p.name,
    })
    .collect();
    let site = asked.site.clone().unwrap_or_default();
    let day = asked.date.clone().unwrap_or_else(|| today.to_string());
    let form = FormFields(vec![
        ("site".to_owned(), site.clone()),
        ("date".to_owned(), day.clone()),
    ]);
    let mut body = ForecastPage {
        page: &page,
        sites,
        form: FormState::new(form),
        problem: String::new(),
        result: None,
    };
    if site.trim().is_empty() {
        return Ok(html(&body));
    }
    let Ok(on) = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d") else {
        body.form.errors = vec![("date".to_owned(), page.t("sfc-hint-date"))];
        body.problem = page.t("refused-fields");
        return Ok(refused(&body));
    };
    let params = ForecastParams {
        site: site.trim().to_owned(),
        date: on,
        vehicle: None,
        rate: None,
        decay_km: None,
        catchment_km: None,
        weekend_factor: None,
        market_factor: None,
    };
    match forecast::explain(&state.db, &params, principal).await {
        Ok(view) => {
            body.result = Some(explained(&page, &view));
            Ok(html(&body))
        }
        Err(PlansError::Invalid(errors)) => {
            body.form.errors = errors
                .iter()
                .map(|e| {
                    let hint = page.t(&format!("sfc-hint-{}", e.field));
                    (e.field.clone(), hint)
                })
                .collect();
            body.problem = page.t("refused-fields");
            Ok(refused(&body))
        }
        Err(PlansError::NotFound(_)) => Err(PageError::Status(StatusCode::NOT_FOUND)),
        Err(other) => Err(crate::error::AppError::from(other).into()),
    }
}

fn refused(body: &ForecastPage<'_>) -> Response {
    let mut response = html(body);
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

fn one(v: f64) -> String {
    format!("{v:.1}")
}

/// The forecast in words, a table and a chart.
fn explained(page: &Page, f: &ForecastView) -> Explained {
    let yes_no = |b: bool| page.t(if b { "sfc-yes" } else { "sfc-no" });
    let mut figures = vec![
        Figure {
            label: page.t("sfc-day"),
            value: date(page.lang, f.date),
        },
        Figure {
            label: page.t("sfc-weekend"),
            value: yes_no(f.day.weekend),
        },
        Figure {
            label: page.t("sfc-market-day"),
            value: yes_no(f.day.market_day),
        },
        Figure {
            label: page.t("sfc-day-factor"),
            value: format!("× {:.2}", f.day.factor),
        },
        Figure {
            label: page.t("sfc-presence"),
            value: format!("{:.0}%", f.presence * 100.0),
        },
    ];
    if let Some(festival) = f.spring_festival {
        figures.push(Figure {
            label: page.t("sfc-spring-festival"),
            value: date(page.lang, festival),
        });
    }
    if f.outside.villages > 0 {
        figures.push(Figure {
            label: page.t("sfc-outside"),
            value: page.lang.tn(
                "sfc-outside-value",
                &[
                    ("count", f.outside.villages.into()),
                    ("expected", one(f.outside.expected).into()),
                ],
            ),
        });
    }
    let villages: Vec<VillageRow> = f
        .villages
        .iter()
        .map(|v| VillageRow {
            name: v.name.clone(),
            distance: format!("{:.1}", v.distance_km),
            resident: format!("{:.0}", v.resident_eligible),
            away: one(v.away_present),
            recent: format!("{:.0}", v.recent_donors),
            available: one(v.available),
            decay: format!("{:.2}", v.decay),
            expected: one(v.expected),
        })
        .collect();
    // The chart: the nearest villages' expected donors, one bar each.
    const ROW: u32 = 22;
    const LABEL: u32 = 120;
    const WIDTH: u32 = 480;
    let drawn = &f.villages[..f.villages.len().min(CHART_VILLAGES)];
    let max = drawn.iter().map(|v| v.expected).fold(0.0_f64, f64::max);
    let bars = drawn
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let room = f64::from(WIDTH - LABEL - 50);
            let w = if max > 0.0 {
                (v.expected / max * room).round() as u32
            } else {
                0
            };
            Bar {
                label: v.name.clone(),
                value: one(v.expected),
                y: i as u32 * ROW + 4,
                w: w.max(1),
                text_y: i as u32 * ROW + 17,
            }
        })
        .collect::<Vec<_>>();
    let chart_summary = drawn
        .iter()
        .map(|v| format!("{} {}", v.name, one(v.expected)))
        .collect::<Vec<_>>()
        .join("; ");
    let p = &f.params;
    let params = vec![
        Figure {
            label: page.t("sfc-rate"),
            value: format!("{:.4}", p.rate),
        },
        Figure {
            label: page.t("sfc-decay"),
            value: format!("{:.1} km", p.decay_km),
        },
        Figure {
            label: page.t("sfc-catchment"),
            value: format!("{:.1} km", p.catchment_km),
        },
        Figure {
            label: page.t("sfc-weekend-factor"),
            value: format!("× {:.2}", p.weekend_factor),
        },
        Figure {
            label: page.t("sfc-market-factor"),
            value: format!("× {:.2}", p.market_factor),
        },
        Figure {
            label: page.t("sfc-presence-festival"),
            value: format!("{:.0}%", p.presence_festival * 100.0),
        },
        Figure {
            label: page.t("sfc-presence-normal"),
            value: format!("{:.0}%", p.presence_normal * 100.0),
        },
    ];
    Explained {
        title: f.site.name.clone(),
        total: page.t1("sfc-total", "count", one(f.total)),
        figures,
        chart_height: bars.len() as u32 * ROW + 8,
        villages,
        bars,
        chart_summary,
        params,
        source: page.lang.tn(
            if f.calibration.source == "fitted" {
                "sfc-source-fitted"
            } else {
                "sfc-source-defaults"
            },
            &[("stops", f.calibration.stops.into())],
        ),
        value: value_section(page, f),
    }
}

/// The value section: the factor and value against plain mL, the groups that weigh more than
/// 1, the expected mix, where each village's mix comes from, the rule.
fn value_section(page: &Page, f: &ForecastView) -> ValueSection {
    let v: &ForecastValue = &f.value;
    let plain = f.total * v.ml_per_donor;
    let weights: Vec<WeightRow> = v
        .weights
        .iter()
        .filter(|w| w.weight > WEIGHT_AT_AMBER + 1e-9)
        .map(|w| WeightRow {
            group: w.group.clone(),
            days: w.days.map_or_else(
                || page.t("sval-days-unknown"),
                |d| page.t1("sval-days", "days", one(d)),
            ),
            level: page.t(match w.level {
                SupplyLevel::Unknown => "sval-level-unknown",
                SupplyLevel::Ok => "sval-level-ok",
                SupplyLevel::Amber => "sval-level-amber",
                SupplyLevel::Red => "sval-level-red",
            }),
            weight: format!("× {:.2}", w.weight),
        })
        .collect();
    let names: std::collections::HashMap<&str, &str> = f
        .villages
        .iter()
        .map(|v| (v.code.as_str(), v.name.as_str()))
        .collect();
    let name = |code: &str| names.get(code).map_or(code, |n| *n).to_owned();
    let own: Vec<String> = v
        .villages
        .iter()
        .filter(|x| x.source == crate::domain::shortage::MixSource::Village)
        .map(|x| {
            page.lang.tn(
                "sval-village-results",
                &[("name", name(&x.code).into()), ("n", x.results.into())],
            )
        })
        .collect();
    let prior: Vec<String> = v
        .villages
        .iter()
        .filter(|x| x.source == crate::domain::shortage::MixSource::Prior)
        .map(|x| name(&x.code))
        .collect();
    ValueSection {
        weighs: !weights.is_empty(),
        none: page.t1("sval-none", "ml", whole(plain)),
        figures: vec![
            Figure {
                label: page.t("sval-factor"),
                value: format!("× {:.3}", v.factor),
            },
            Figure {
                label: page.t("sval-value"),
                value: page.t1("sval-value-ml", "ml", whole(v.value_ml)),
            },
            Figure {
                label: page.t("sval-plain"),
                value: format!("{} mL", whole(plain)),
            },
        ],
        weights,
        mix: crate::domain::shortage::GROUPS
            .iter()
            .zip(v.mix.shares())
            .map(|(g, share)| Figure {
                label: g.to_string(),
                value: format!("{:.1}%", share * 100.0),
            })
            .collect(),
        own: if own.is_empty() {
            page.t("sval-own-none")
        } else {
            page.t1("sval-own", "villages", own.join("、"))
        },
        prior: if prior.is_empty() {
            String::new()
        } else {
            page.t1("sval-prior", "villages", prior.join("、"))
        },
        prior_source: page.t1("sval-prior-source", "n", v.prior_results),
        rule: page.t1("sval-rule", "k", format!("{:.0}", v.shrink_k)),
    }
}
