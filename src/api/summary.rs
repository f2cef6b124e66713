//! `GET /api/v1/regions/{code}/summary`: the state of the network in any region, from a
//! village to a province (computed by `reports::summary`).

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{CodePath, Path};
use crate::domain::region::RegionCode;
use crate::error::{AppError, Problem};
use crate::registry::Acting;
use crate::reports::summary::{self, NetworkSummary};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(region_summary))
}

/// The network in a region: villages, surveys, eligible donors, points and coverage.
#[utoipa::path(
    get,
    path = "/regions/{code}/summary",
    tag = "regions",
    params(CodePath),
    responses(
        (status = 200, description = "The summary", body = NetworkSummary),
        (status = 400, description = "Malformed code", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such region", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(code = %path.code))]
async fn region_summary(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CodePath>,
) -> Result<Json<NetworkSummary>, AppError> {
    let code = RegionCode::parse(&path.code)
        .map_err(|_| AppError::invalid("code", "must be a 12-digit region code"))?;
    caller.require()?;
    let acting = Acting::caller(caller.principal.as_ref(), caller.actor());
    Ok(Json(
        summary::of_region(&state.db, &code, &acting, Utc::now()).await?,
    ))
}
