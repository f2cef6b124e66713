//! `GET /api/v1/forecast`: the expected donors of a drive at a site on a date, with every
//! number explained (the service: `plans::forecast`).

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::Query;
use crate::error::{AppError, Problem};
use crate::plans::forecast::{self, ForecastParams, ForecastView};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(forecast))
}

/// The expected donors of a drive at a site on a date: the total and its breakdown by
/// village and factor. With `vehicle`, capped by what that vehicle takes in a day.
///
/// Each village counts toward its nearest active point (or this site) within the catchment,
/// as in plans, so a point's forecast equals its expected donors in a plan of active points.
#[utoipa::path(
    get,
    path = "/forecast",
    tag = "plans",
    params(ForecastParams),
    responses(
        (status = 200, description = "The forecast and its explanation", body = ForecastView),
        (status = 400, description = "Invalid parameter (`site`, `date`, `vehicle`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site or vehicle (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn forecast(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ForecastParams>,
) -> Result<Json<ForecastView>, AppError> {
    let principal = caller.require()?;
    Ok(Json(
        forecast::explain(&state.db, &params, principal).await?,
    ))
}
