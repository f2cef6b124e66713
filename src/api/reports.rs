//! `GET /api/v1/reports/gaps`: what a township official should fix next: points without a
//! primary coordinator or signage, villages never (or long ago) surveyed, and the villages with
//! the most eligible donors and no active point within reach. Each list also comes as CSV,
//! its headers in the language of `lang` or `Accept-Language` (zh-CN by default).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Query, output_lang, vary_language};
use crate::domain::policy::Action;
use crate::domain::region::RegionCode;
use crate::error::{AppError, Problem};
use crate::registry::{Acting, regions};
use crate::reports::gaps::{self as service, PointGap, VillageGap, points_csv, villages_csv};
use crate::state::AppState;

/// How many entries each JSON list carries at most (the CSV carries all).
pub const JSON_LIST_LIMIT: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(gaps))
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
    /// With `format=csv`: the language of the headers, `zh-CN` or `en` (default: from
    /// `Accept-Language`, else zh-CN).
    pub lang: Option<String>,
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
    caller: Caller,
    Query(params): Query<GapsParams>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let code = RegionCode::parse(&params.region)
        .map_err(|_| AppError::invalid("region", "must be a 12-digit region code"))?;
    caller.require()?;
    let acting = Acting::caller(caller.principal.as_ref(), caller.actor());
    regions::authorize(&acting, Action::Read, &code)?;
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
    let lang = output_lang(params.lang.as_deref(), &headers)?;
    let gaps = service::of_region(&state.db, &code, &acting, Utc::now()).await?;
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
            points_csv(&gaps.points_without_primary, lang),
        ),
        GapListName::ActivePointsWithoutSignage => (
            "active_points_without_signage",
            points_csv(&gaps.active_points_without_signage, lang),
        ),
        GapListName::VillagesNeverSurveyed => (
            "villages_never_surveyed",
            villages_csv(&gaps.villages_never_surveyed, lang),
        ),
        GapListName::VillagesSurveyStale => (
            "villages_survey_stale",
            villages_csv(&gaps.villages_survey_stale, lang),
        ),
        GapListName::VillagesUncovered => (
            "villages_uncovered",
            villages_csv(&gaps.villages_uncovered, lang),
        ),
    };
    let body = body.map_err(|e| AppError::Internal(e.into()))?;
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
    Ok(vary_language(response))
}
