//! `GET /api/v1/reports/gaps`: what a township official should fix next: points without a
//! primary coordinator or signage, villages never (or long ago) surveyed, and the villages with
//! the most eligible donors and no active point within reach. Each list also comes as CSV.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::extract::Query;
use crate::api::summary::{STALE_SURVEY_DAYS, location, nearest_active_points};
use crate::domain::point::PointStatus;
use crate::domain::region::RegionCode;
use crate::error::{AppError, Problem};
use crate::state::AppState;
use crate::store::points::{self, PointFilter};
use crate::store::surveys::{self, VillageFact};
use crate::store::{coordinators, regions};

/// How many entries each JSON list carries at most (the CSV carries all).
pub const JSON_LIST_LIMIT: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(gaps))
}

/// A point that needs attention.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PointGap {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub region_code: String,
}

/// A village that needs attention.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VillageGap {
    pub code: String,
    pub name: String,
    /// The current survey's eligible total, when surveyed.
    pub eligible_total: Option<i64>,
    pub surveyed_on: Option<NaiveDate>,
}

/// One list of the report: its full length and its first entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct GapList<T> {
    pub total: usize,
    pub items: Vec<T>,
}

impl<T> GapList<T> {
    fn of(mut all: Vec<T>) -> Self {
        let total = all.len();
        all.truncate(JSON_LIST_LIMIT);
        GapList { total, items: all }
    }
}

/// The gaps of a region's network.
#[derive(Debug, Serialize, ToSchema)]
pub struct GapsReport {
    pub region_code: String,
    /// Points (not closed) without a primary coordinator.
    pub points_without_primary: GapList<PointGap>,
    /// Active points without an installed sign.
    pub active_points_without_signage: GapList<PointGap>,
    pub villages_never_surveyed: GapList<VillageGap>,
    /// Villages whose current survey is more than 12 months old, oldest first.
    pub villages_survey_stale: GapList<VillageGap>,
    /// Located villages with no active point within 5 km, most eligible donors first.
    pub villages_uncovered: GapList<VillageGap>,
}

/// Which list to download as CSV.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GapListName {
    PointsWithoutPrimary,
    ActivePointsWithoutSignage,
    VillagesNeverSurveyed,
    VillagesSurveyStale,
    VillagesUncovered,
}

/// Parameters of the report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GapsParams {
    /// The region (12 digits): everything in its subtree.
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: String,
    /// `json` (default: every list, the first 200 entries of each) or `csv` (one whole list,
    /// named by `list`).
    pub format: Option<String>,
    /// With `format=csv`: which list.
    #[param(inline)]
    pub list: Option<GapListName>,
}

struct Gaps {
    points_without_primary: Vec<PointGap>,
    active_points_without_signage: Vec<PointGap>,
    villages_never_surveyed: Vec<VillageGap>,
    villages_survey_stale: Vec<VillageGap>,
    villages_uncovered: Vec<VillageGap>,
}

async fn compute(state: &AppState, code: &RegionCode) -> Result<Gaps, AppError> {
    let region = regions::find(&state.db, code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no region with code {code}")))?;
    let (lo, hi) = code.subtree_bounds(region.level);
    let open: Vec<PointStatus> = PointStatus::ALL
        .iter()
        .copied()
        .filter(|s| *s != PointStatus::Closed)
        .collect();
    let serving = points::list(
        &state.db,
        &PointFilter {
            region_range: Some((lo.clone(), hi.clone())),
            statuses: open,
            ..PointFilter::default()
        },
    )
    .await?;
    let ids: Vec<i64> = serving.iter().map(|p| p.id).collect();
    let with_primary: HashSet<i64> = coordinators::with_primary(&state.db, &ids)
        .await?
        .into_iter()
        .collect();
    let gap = |p: &entity::point::Model| PointGap {
        id: p.id,
        name: defuse(&p.name),
        status: p.status.clone(),
        region_code: p.region_code.clone(),
    };
    let points_without_primary = serving
        .iter()
        .filter(|p| !with_primary.contains(&p.id))
        .map(gap)
        .collect();
    let active_points_without_signage = serving
        .iter()
        .filter(|p| p.status == PointStatus::Active.as_str() && p.signage_installed_on.is_none())
        .map(gap)
        .collect();

    let villages = surveys::village_facts(&state.db, &lo, &hi).await?;
    let today = Utc::now().date_naive();
    let stale_before = today
        .checked_sub_days(Days::new(STALE_SURVEY_DAYS))
        .unwrap_or(today);
    let entry = |v: &VillageFact| VillageGap {
        code: v.code.clone(),
        name: defuse(&v.name),
        eligible_total: v.eligible_total.map(i64::from),
        surveyed_on: v.surveyed_on,
    };
    let villages_never_surveyed = villages
        .iter()
        .filter(|v| v.surveyed_on.is_none())
        .map(entry)
        .collect();
    let mut villages_survey_stale: Vec<VillageGap> = villages
        .iter()
        .filter(|v| v.surveyed_on.is_some_and(|d| d < stale_before))
        .map(entry)
        .collect();
    villages_survey_stale.sort_by_key(|g| (g.surveyed_on, g.code.clone()));
    let places: Vec<_> = villages.iter().map(location).collect();
    let nearest = nearest_active_points(state, &places).await?;
    let mut villages_uncovered: Vec<VillageGap> = villages
        .iter()
        .zip(places.iter().zip(&nearest))
        .filter(|(_, (place, d))| place.is_some() && d.is_none())
        .map(|(v, _)| entry(v))
        .collect();
    villages_uncovered.sort_by(|a, b| {
        b.eligible_total
            .unwrap_or(0)
            .cmp(&a.eligible_total.unwrap_or(0))
            .then(a.code.cmp(&b.code))
    });
    Ok(Gaps {
        points_without_primary,
        active_points_without_signage,
        villages_never_surveyed,
        villages_survey_stale,
        villages_uncovered,
    })
}

/// Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a leading
/// apostrophe, the usual defence for CSV opened in Excel.
fn defuse(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn csv_of<T: Serialize>(rows: &[T]) -> Result<Vec<u8>, AppError> {
    // A UTF-8 byte-order mark, so that Excel opens the Chinese names correctly.
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        for row in rows {
            writer
                .serialize(row)
                .map_err(|e| AppError::Internal(e.into()))?;
        }
        writer.flush().map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(out)
}

/// The gaps of a region's network, as JSON or one list as CSV.
#[utoipa::path(
    get,
    path = "/reports/gaps",
    tag = "reports",
    params(GapsParams),
    responses(
        (status = 200, description = "The report (JSON), or one list (`format=csv`, text/csv)", body = GapsReport),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such region", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(region = %params.region))]
async fn gaps(
    State(state): State<AppState>,
    caller: crate::api::auth::Caller,
    Query(params): Query<GapsParams>,
) -> Result<Response, AppError> {
    let code = RegionCode::parse(&params.region)
        .map_err(|_| AppError::invalid("region", "must be a 12-digit region code"))?;
    crate::api::regions::read(&caller, &code)?;
    let csv_list = match (params.format.as_deref(), params.list) {
        (None | Some("json"), None) => None,
        (None | Some("json"), Some(_)) => {
            return Err(AppError::invalid("list", "applies with format=csv"));
        }
        (Some("csv"), Some(list)) => Some(list),
        (Some("csv"), None) => {
            return Err(AppError::invalid(
                "list",
                "format=csv needs the list to download",
            ));
        }
        (Some(_), _) => return Err(AppError::invalid("format", "must be json or csv")),
    };
    let gaps = compute(&state, &code).await?;
    let Some(list) = csv_list else {
        return Ok(Json(GapsReport {
            region_code: code.to_string(),
            points_without_primary: GapList::of(gaps.points_without_primary),
            active_points_without_signage: GapList::of(gaps.active_points_without_signage),
            villages_never_surveyed: GapList::of(gaps.villages_never_surveyed),
            villages_survey_stale: GapList::of(gaps.villages_survey_stale),
            villages_uncovered: GapList::of(gaps.villages_uncovered),
        })
        .into_response());
    };
    let (name, body) = match list {
        GapListName::PointsWithoutPrimary => (
            "points_without_primary",
            csv_of(&gaps.points_without_primary)?,
        ),
        GapListName::ActivePointsWithoutSignage => (
            "active_points_without_signage",
            csv_of(&gaps.active_points_without_signage)?,
        ),
        GapListName::VillagesNeverSurveyed => (
            "villages_never_surveyed",
            csv_of(&gaps.villages_never_surveyed)?,
        ),
        GapListName::VillagesSurveyStale => (
            "villages_survey_stale",
            csv_of(&gaps.villages_survey_stale)?,
        ),
        GapListName::VillagesUncovered => ("villages_uncovered", csv_of(&gaps.villages_uncovered)?),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}-{code}.csv\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
