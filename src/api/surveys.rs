//! `/api/v1/regions/{code}/surveys`: the eligible-donor survey history of a village.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use entity::village_survey;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Json as JsonBody, Path};
use crate::domain::survey::SurveySource;
use crate::error::{AppError, Problem};
use crate::registry::Acting;
use crate::registry::surveys::{self, NewSurvey};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_surveys, create_survey))
}

/// The path of `/api/v1/regions/{code}/surveys`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CodePath {
    /// 12-digit division code.
    #[param(example = "411103101000", pattern = r"^[0-9]{12}$")]
    pub code: String,
}

/// One recorded survey.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyView {
    pub id: i64,
    pub region_code: String,
    pub surveyed_on: NaiveDate,
    pub eligible_total: i32,
    pub male: Option<i32>,
    pub female: Option<i32>,
    pub age_18_34: Option<i32>,
    pub age_35_54: Option<i32>,
    pub age_55_60: Option<i32>,
    pub away_for_work: Option<i32>,
    pub known_donors: Option<i32>,
    pub source: SurveySource,
    pub surveyed_by: Option<String>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    /// True for the village's current survey (the latest by `surveyed_on`).
    pub current: bool,
}

fn to_view(m: village_survey::Model, current: bool) -> Result<SurveyView, AppError> {
    let source = surveys::source_of(&m)?;
    Ok(SurveyView {
        id: m.id,
        region_code: m.region_code,
        surveyed_on: m.surveyed_on,
        eligible_total: m.eligible_total,
        male: m.male,
        female: m.female,
        age_18_34: m.age_18_34,
        age_35_54: m.age_35_54,
        age_55_60: m.age_55_60,
        away_for_work: m.away_for_work,
        known_donors: m.known_donors,
        source,
        surveyed_by: m.surveyed_by,
        notes: m.notes,
        created_at: m.created_at,
        created_by: m.created_by,
        current,
    })
}

/// The body of `POST /api/v1/regions/{code}/surveys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    /// Residents aged 18-60.
    #[schema(example = 620)]
    pub eligible_total: i64,
    pub male: Option<i64>,
    pub female: Option<i64>,
    pub age_18_34: Option<i64>,
    pub age_35_54: Option<i64>,
    pub age_55_60: Option<i64>,
    /// Eligible residents working elsewhere.
    pub away_for_work: Option<i64>,
    /// People who have donated before.
    pub known_donors: Option<i64>,
    #[schema(example = "2026-11-01")]
    pub surveyed_on: NaiveDate,
    pub source: SurveySource,
    pub surveyed_by: Option<String>,
    pub notes: Option<String>,
    /// Needed when the total is more than 3x or under a third of the current survey's.
    #[serde(default)]
    pub confirm_large_change: bool,
    /// The id of the village's current survey the figures were entered beside, `0` when it
    /// had none. When another survey has become current since, nothing is recorded and the
    /// answer is 409 naming it (a form kept offline meets a newer survey). Absent: not checked.
    #[schema(example = 17)]
    pub based_on: Option<i64>,
}

impl From<SurveyInput> for NewSurvey {
    fn from(body: SurveyInput) -> Self {
        NewSurvey {
            eligible_total: body.eligible_total,
            male: body.male,
            female: body.female,
            age_18_34: body.age_18_34,
            age_35_54: body.age_35_54,
            age_55_60: body.age_55_60,
            away_for_work: body.away_for_work,
            known_donors: body.known_donors,
            surveyed_on: body.surveyed_on,
            source: body.source,
            surveyed_by: body.surveyed_by,
            notes: body.notes,
            confirm_large_change: body.confirm_large_change,
            based_on: body.based_on,
        }
    }
}

/// Who acts for the registry service: the caller, checked by the policy.
fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

/// Records a village's survey. The history is append-only: a new survey never overwrites an
/// old one, and the current value is the latest by `surveyed_on`.
#[utoipa::path(
    post,
    path = "/regions/{code}/surveys",
    tag = "surveys",
    params(CodePath),
    request_body = SurveyInput,
    responses(
        (status = 201, description = "Recorded", body = SurveyView),
        (status = 400, description = "Broken rules, each naming its field", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such region", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`based_on` names a survey that is no longer the village's current one", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(code = %path.code))]
async fn create_survey(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CodePath>,
    JsonBody(input): JsonBody<SurveyInput>,
) -> Result<Response, AppError> {
    let recorded = surveys::record(
        &state.db,
        &path.code,
        input.into(),
        &acting(&caller),
        Utc::now(),
    )
    .await?;
    let view = to_view(recorded.survey, recorded.current)?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// A village's survey history, the current survey first.
#[utoipa::path(
    get,
    path = "/regions/{code}/surveys",
    tag = "surveys",
    params(CodePath),
    responses(
        (status = 200, description = "Every survey of the village, newest first", body = [SurveyView]),
        (status = 400, description = "Not a village-level code", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such region", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_surveys(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CodePath>,
) -> Result<Json<Vec<SurveyView>>, AppError> {
    let history = surveys::history(&state.db, &path.code, &acting(&caller)).await?;
    let views = history
        .into_iter()
        .enumerate()
        .map(|(i, m)| to_view(m, i == 0))
        .collect::<Result<_, _>>()?;
    Ok(Json(views))
}
