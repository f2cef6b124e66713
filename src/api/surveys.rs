//! `/api/v1/regions/{code}/surveys`: the eligible-donor survey history of a village.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use entity::village_survey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Json as JsonBody, Path};
use crate::api::regions::CodePath;
use crate::domain::policy::{Action, Resource};
use crate::domain::region::{Level, Region, RegionCode};
use crate::domain::survey::{SurveyFigures, SurveySource};
use crate::error::{AppError, FieldError, Problem};
use crate::state::AppState;
use crate::store::audit::{self, Actor, Change};
use crate::store::regions;
use crate::store::surveys::{self as store, NewSurvey};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_surveys, create_survey))
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
    let source = SurveySource::parse(&m.source).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "survey {}: stored source {:?}",
            m.id,
            m.source
        ))
    })?;
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
}

/// The policy's answer for `action` on surveys of region `raw` (a malformed code is left to
/// validation).
pub(crate) fn authorize(caller: &Caller, action: Action, raw: &str) -> Result<(), AppError> {
    caller.require()?;
    if let Ok(code) = RegionCode::parse(raw.trim()) {
        caller.authorize(action, Resource::Registry(Some(&code)), || {
            format!("region with code {code}")
        })?;
    }
    Ok(())
}

/// The village, which must exist and be village-level.
pub(crate) async fn village(
    db: &impl sea_orm::ConnectionTrait,
    raw: &str,
    field: &str,
) -> Result<Region, AppError> {
    let code = RegionCode::parse(raw)
        .map_err(|_| AppError::invalid(field, "must be a 12-digit region code"))?;
    let region = regions::find(db, &code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no region with code {code}")))?;
    if region.level != Level::Village {
        return Err(AppError::invalid(
            field,
            format!(
                "surveys are recorded for village-level units; {} is a {}",
                region.name, region.level
            ),
        ));
    }
    Ok(region)
}

/// Checks a survey for `village` against every rule; returns what to store or the violations.
pub(crate) async fn check(
    db: &impl sea_orm::ConnectionTrait,
    village: &Region,
    input: SurveyInput,
    today: NaiveDate,
) -> Result<Result<NewSurvey, Vec<FieldError>>, AppError> {
    let figures = SurveyFigures {
        eligible_total: input.eligible_total,
        male: input.male,
        female: input.female,
        age_18_34: input.age_18_34,
        age_35_54: input.age_35_54,
        age_55_60: input.age_55_60,
        away_for_work: input.away_for_work,
        known_donors: input.known_donors,
        surveyed_on: Some(input.surveyed_on),
    };
    let previous = store::current(db, &village.code)
        .await?
        .map(|s| i64::from(s.eligible_total));
    let mut errors: Vec<FieldError> = figures
        .violations(today, previous, input.confirm_large_change)
        .into_iter()
        .map(|v| FieldError::new(v.field, v.message))
        .collect();
    let mut text = |field: &str, value: Option<String>, max: usize, multiline: bool| {
        crate::domain::text::clean(value, max, multiline).unwrap_or_else(|message| {
            errors.push(FieldError::new(field, message));
            None
        })
    };
    let surveyed_by = text("surveyed_by", input.surveyed_by, 100, false);
    let notes = text("notes", input.notes, 2000, true);
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(NewSurvey {
        region_code: village.code.clone(),
        figures,
        surveyed_on: input.surveyed_on,
        source: input.source,
        surveyed_by,
        notes,
    }))
}

/// Records a survey in an open transaction, with its audit record.
pub(crate) async fn record(
    txn: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    survey: NewSurvey,
    now: DateTime<Utc>,
) -> Result<village_survey::Model, AppError> {
    let created = store::insert(txn, survey, actor.name.clone(), now).await?;
    audit::record(
        txn,
        Change {
            entity: "survey",
            entity_id: created.id.to_string(),
            action: "create",
            region_code: Some(created.region_code.clone()),
            before: None,
            after: Some(&created),
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(created)
}

/// Checks a survey of `village` and records it with its audit record, inside the caller's
/// write transaction: what `POST /api/v1/regions/{code}/surveys` does once the caller is
/// authorised (and what the demo network is loaded with).
pub(crate) async fn create(
    txn: &impl sea_orm::ConnectionTrait,
    village: &Region,
    input: SurveyInput,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<village_survey::Model, AppError> {
    // Checked inside the transaction, with the village locked (PostgreSQL; SQLite's write
    // transaction is exclusive already), so that the "previous survey" the 3x rule compares
    // with cannot change under us.
    crate::store::regions::lock(txn, std::slice::from_ref(&village.code)).await?;
    match check(txn, village, input, now.date_naive()).await? {
        Ok(survey) => record(txn, actor, survey, now).await,
        Err(errors) => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            Err(AppError::Validation {
                detail: format!("invalid {}", fields.join(", ")),
                errors,
            })
        }
    }
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
    )
)]
#[tracing::instrument(skip_all, fields(code = %path.code))]
async fn create_survey(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CodePath>,
    JsonBody(input): JsonBody<SurveyInput>,
) -> Result<Response, AppError> {
    authorize(&caller, Action::Create, &path.code)?;
    let village = village(&state.db, &path.code, "code").await?;
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let created = create(&txn, &village, input, &caller.actor(), now).await?;
    let current = store::current(&txn, &village.code)
        .await?
        .is_some_and(|c| c.id == created.id);
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(to_view(created, current)?)).into_response())
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
    authorize(&caller, Action::Read, &path.code)?;
    let village = village(&state.db, &path.code, "code").await?;
    let history = store::history(&state.db, &village.code).await?;
    let views = history
        .into_iter()
        .enumerate()
        .map(|(i, m)| to_view(m, i == 0))
        .collect::<Result<_, _>>()?;
    Ok(Json(views))
}
