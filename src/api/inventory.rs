//! Blood inventory and emergency linkage between stations (issue 17): the province-wide board
//! (`/api/v1/inventory`), a station's stock sheet, warning levels, history and supply
//! (`/api/v1/stations/{id}/inventory…`), and the flow of a blood request: offers, acceptance,
//! dispatch and receipt (`/api/v1/blood-requests`, `/api/v1/blood-offers`). Admins and station
//! staff of every region read everything; a station's figures, requests and offers are changed
//! only by callers whose scope holds the station's region (403 otherwise). Township officials
//! and viewers get 403.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{Json as JsonBody, Path, Query, if_match, with_etag};
use crate::error::{AppError, Problem};
use crate::inventory::linkage::{self, Moved, NewOffer, NewRequest, RequestQuery, RequestView};
use crate::inventory::stock::{
    self, Board, GroupSupply, HistoryPoint, HistoryQuery, LevelsChange, LevelsView, PostResult,
    Sheet, StationInventory,
};
use crate::inventory::{Acting, Written};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_board))
        .routes(routes!(get_inventory, post_inventory))
        .routes(routes!(get_levels, put_levels))
        .routes(routes!(get_history))
        .routes(routes!(get_supply))
        .routes(routes!(list_requests, create_request))
        .routes(routes!(get_request))
        .routes(routes!(cancel_request))
        .routes(routes!(make_offer))
        .routes(routes!(accept_offer))
        .routes(routes!(withdraw_offer))
        .routes(routes!(dispatch_offer))
        .routes(routes!(receive_offer))
}

fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    pub id: i64,
}

/// The version `If-Match` names; 428 without it.
fn expected(headers: &HeaderMap, what: &str) -> Result<i32, AppError> {
    if_match(headers, i32::MIN)?.ok_or_else(|| {
        AppError::PreconditionRequired(format!(
            "send If-Match with the {what}'s ETag (as last read) to change it"
        ))
    })
}

/// The linkage board: every active station's stock per component and group with days of
/// supply and level, who is short and who can spare what, and the requests not yet settled
/// with their offers.
#[utoipa::path(
    get,
    path = "/inventory",
    tag = "inventory",
    responses(
        (status = 200, description = "The board", body = Board),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or station staff", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn get_board(State(state): State<AppState>, caller: Caller) -> Result<Json<Board>, AppError> {
    caller.require()?;
    Ok(Json(stock::board(&state.db, &acting(&caller)).await?))
}

/// A station's inventory; the `ETag` is what a posting sends as `If-Match`.
#[utoipa::path(
    get,
    path = "/stations/{id}/inventory",
    tag = "inventory",
    params(IdPath),
    responses(
        (status = 200, description = "The inventory", body = StationInventory),
        (status = 403, description = "Not an admin or station staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(station_id = path.id))]
async fn get_inventory(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Response, AppError> {
    caller.require()?;
    let view = stock::get(&state.db, path.id, &acting(&caller)).await?;
    Ok(with_etag(StatusCode::OK, view.version, Json(view)))
}

/// Posts a sheet of the station's stocks (`If-Match`: the inventory's ETag). Rows not in the
/// sheet stay as they were; every bad row and field is named (`rows[2].units`). A red whole
/// blood or red-cell stock raises a recruitment need for its group (unless one is open at the
/// station): `needs_raised`.
#[utoipa::path(
    put,
    path = "/stations/{id}/inventory",
    tag = "inventory",
    params(IdPath),
    request_body = Sheet,
    responses(
        (status = 200, description = "Posted", body = PostResult),
        (status = 400, description = "Every bad row and field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the station's staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The station is closed", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale: the inventory as it now is", body = PostResult),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(station_id = path.id))]
async fn post_inventory(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Sheet>,
) -> Result<Response, AppError> {
    caller.require()?;
    let version = expected(&headers, "inventory")?;
    let (status, result) = match stock::post(
        &state.db,
        path.id,
        body,
        version,
        &acting(&caller),
        state.clock.now(),
    )
    .await?
    {
        Written::Done(r) => (StatusCode::OK, r),
        Written::Stale(r) => (StatusCode::PRECONDITION_FAILED, r),
    };
    Ok(with_etag(status, result.inventory.version, Json(result)))
}

/// A station's warning levels for every group (defaults 3 and 1 days).
#[utoipa::path(
    get,
    path = "/stations/{id}/inventory/levels",
    tag = "inventory",
    params(IdPath),
    responses(
        (status = 200, description = "The levels", body = LevelsView),
        (status = 403, description = "Not an admin or station staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(station_id = path.id))]
async fn get_levels(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Response, AppError> {
    caller.require()?;
    let view = stock::levels(&state.db, path.id, &acting(&caller)).await?;
    Ok(with_etag(StatusCode::OK, view.version, Json(view)))
}

/// Sets the warning levels of the groups given (`If-Match`: the levels' ETag); red below
/// amber.
#[utoipa::path(
    put,
    path = "/stations/{id}/inventory/levels",
    tag = "inventory",
    params(IdPath),
    request_body = LevelsChange,
    responses(
        (status = 200, description = "Set", body = LevelsView),
        (status = 400, description = "Every bad field (`levels[1].red_days`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the station's staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale: the levels as they now are", body = LevelsView),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(station_id = path.id))]
async fn put_levels(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LevelsChange>,
) -> Result<Response, AppError> {
    caller.require()?;
    let version = expected(&headers, "levels")?;
    let (status, view) = match stock::set_levels(
        &state.db,
        path.id,
        body,
        version,
        &acting(&caller),
        state.clock.now(),
    )
    .await?
    {
        Written::Done(v) => (StatusCode::OK, v),
        Written::Stale(v) => (StatusCode::PRECONDITION_FAILED, v),
    };
    Ok(with_etag(status, view.version, Json(view)))
}

/// Filters of a station's history.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// `whole_blood`, `red_cells`, `plasma`, `platelets` or `cryo`.
    pub component: Option<String>,
    /// `O+`, `AB-`, …
    pub blood_group: Option<String>,
    /// From this day (China's), inclusive.
    pub from: Option<NaiveDate>,
    /// To this day (China's), inclusive.
    pub to: Option<NaiveDate>,
}

/// A station's history, oldest first (at most 5,000 points): what each stock stood at after
/// each posting, dispatch and receipt, with its days of supply and level, for a chart.
#[utoipa::path(
    get,
    path = "/stations/{id}/inventory/history",
    tag = "inventory",
    params(IdPath, HistoryParams),
    responses(
        (status = 200, description = "The history", body = [HistoryPoint]),
        (status = 400, description = "A bad filter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or station staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(station_id = path.id))]
async fn get_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    Query(params): Query<HistoryParams>,
) -> Result<Json<Vec<HistoryPoint>>, AppError> {
    caller.require()?;
    let query = HistoryQuery {
        component: params.component,
        blood_group: params.blood_group,
        from: params.from,
        to: params.to,
    };
    Ok(Json(
        stock::history(&state.db, path.id, query, &acting(&caller)).await?,
    ))
}

/// Each group's days of supply over whole blood and red cells, with the station's levels (what
/// the planner weighs shortages by).
#[utoipa::path(
    get,
    path = "/stations/{id}/inventory/supply",
    tag = "inventory",
    params(IdPath),
    responses(
        (status = 200, description = "Per group", body = [GroupSupply]),
        (status = 403, description = "Not an admin or station staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(station_id = path.id))]
async fn get_supply(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Json<Vec<GroupSupply>>, AppError> {
    caller.require()?;
    // Read like the station's inventory, then the planner's function.
    stock::get(&state.db, path.id, &acting(&caller)).await?;
    Ok(Json(
        crate::inventory::supply_by_group(&state.db, path.id).await?,
    ))
}

/// Filters of the requests.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestParams {
    /// `open`, `accepted`, `dispatched`, `received` or `cancelled`.
    pub status: Option<String>,
    /// Only this station's requests.
    pub station_id: Option<i64>,
}

/// Blood requests with their offers, newest first (at most 500).
#[utoipa::path(
    get,
    path = "/blood-requests",
    tag = "inventory",
    params(RequestParams),
    responses(
        (status = 200, description = "The requests", body = [RequestView]),
        (status = 400, description = "A bad filter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or station staff", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<RequestParams>,
) -> Result<Json<Vec<RequestView>>, AppError> {
    caller.require()?;
    let query = RequestQuery {
        status: params.status,
        station_id: params.station_id,
    };
    Ok(Json(
        linkage::list_requests(&state.db, query, &acting(&caller)).await?,
    ))
}

/// Requests blood from the other stations (the requesting station's staff).
#[utoipa::path(
    post,
    path = "/blood-requests",
    tag = "inventory",
    request_body = NewRequest,
    responses(
        (status = 201, description = "Requested", body = RequestView),
        (status = 400, description = "Every bad field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the station's staff", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn create_request(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewRequest>,
) -> Result<Response, AppError> {
    caller.require()?;
    let view =
        linkage::create_request(&state.db, body, &acting(&caller), state.clock.now()).await?;
    Ok(with_etag(StatusCode::CREATED, view.version, Json(view)))
}

/// A request with its offers; the `ETag` is what an accept sends as `If-Match`.
#[utoipa::path(
    get,
    path = "/blood-requests/{id}",
    tag = "inventory",
    params(IdPath),
    responses(
        (status = 200, description = "The request", body = RequestView),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(request_id = path.id))]
async fn get_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Response, AppError> {
    caller.require()?;
    let view = linkage::get_request(&state.db, path.id, &acting(&caller)).await?;
    Ok(with_etag(StatusCode::OK, view.version, Json(view)))
}

/// Cancels a request before its dispatch (the requesting station's staff); its offers are
/// declined.
#[utoipa::path(
    post,
    path = "/blood-requests/{id}/cancel",
    tag = "inventory",
    params(IdPath),
    responses(
        (status = 200, description = "Cancelled", body = RequestView),
        (status = 403, description = "Not the requesting station's staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Dispatched, received or cancelled already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(request_id = path.id))]
async fn cancel_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Response, AppError> {
    caller.require()?;
    let view =
        linkage::cancel_request(&state.db, path.id, &acting(&caller), state.clock.now()).await?;
    Ok(with_etag(StatusCode::OK, view.version, Json(view)))
}

/// Offers blood for an open request (another station's staff; no more than the station holds).
#[utoipa::path(
    post,
    path = "/blood-requests/{id}/offers",
    tag = "inventory",
    params(IdPath),
    request_body = NewOffer,
    responses(
        (status = 201, description = "Offered: the request with its offers", body = RequestView),
        (status = 400, description = "Every bad field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the offering station's staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request is no longer open", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(request_id = path.id))]
async fn make_offer(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    JsonBody(body): JsonBody<NewOffer>,
) -> Result<Response, AppError> {
    caller.require()?;
    let view = linkage::make_offer(
        &state.db,
        path.id,
        body,
        &acting(&caller),
        state.clock.now(),
    )
    .await?;
    Ok(with_etag(StatusCode::CREATED, view.version, Json(view)))
}

/// The body of `POST /api/v1/blood-requests/{id}/accept`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptOffer {
    pub offer_id: i64,
}

/// Accepts one offer (the requesting station's staff; `If-Match`: the request's ETag). Of two
/// accepts at once one wins; the other gets 412 with the request as it now is.
#[utoipa::path(
    post,
    path = "/blood-requests/{id}/accept",
    tag = "inventory",
    params(IdPath),
    request_body = AcceptOffer,
    responses(
        (status = 200, description = "Accepted", body = RequestView),
        (status = 400, description = "No such open offer for this request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the requesting station's staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request is no longer open", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale: the request as it now is", body = RequestView),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(request_id = path.id))]
async fn accept_offer(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AcceptOffer>,
) -> Result<Response, AppError> {
    caller.require()?;
    let version = expected(&headers, "request")?;
    let (status, view) = match linkage::accept(
        &state.db,
        path.id,
        body.offer_id,
        version,
        &acting(&caller),
        state.clock.now(),
    )
    .await?
    {
        Written::Done(v) => (StatusCode::OK, v),
        Written::Stale(v) => (StatusCode::PRECONDITION_FAILED, v),
    };
    Ok(with_etag(status, view.version, Json(view)))
}

/// Withdraws an offer before it is accepted (the offering station's staff).
#[utoipa::path(
    post,
    path = "/blood-offers/{id}/withdraw",
    tag = "inventory",
    params(IdPath),
    responses(
        (status = 200, description = "Withdrawn: the request with its offers", body = RequestView),
        (status = 403, description = "Not the offering station's staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The offer is no longer open", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(offer_id = path.id))]
async fn withdraw_offer(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Json<RequestView>, AppError> {
    caller.require()?;
    Ok(Json(
        linkage::withdraw_offer(&state.db, path.id, &acting(&caller), state.clock.now()).await?,
    ))
}

/// Dispatches an accepted offer (the offering station's staff): its stock goes down and the
/// requester's incoming up, in one transaction; refused (409, nothing written) when the stock
/// is short now.
#[utoipa::path(
    post,
    path = "/blood-offers/{id}/dispatch",
    tag = "inventory",
    params(IdPath),
    responses(
        (status = 200, description = "Dispatched", body = Moved),
        (status = 403, description = "Not the offering station's staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not accepted, or the stock is short now", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(offer_id = path.id))]
async fn dispatch_offer(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Json<Moved>, AppError> {
    caller.require()?;
    Ok(Json(
        linkage::dispatch(&state.db, path.id, &acting(&caller), state.clock.now()).await?,
    ))
}

/// Receives a dispatched offer (the requesting station's staff): what was on its way moves
/// into the stock.
#[utoipa::path(
    post,
    path = "/blood-offers/{id}/receive",
    tag = "inventory",
    params(IdPath),
    responses(
        (status = 200, description = "Received", body = Moved),
        (status = 403, description = "Not the requesting station's staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not dispatched", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(offer_id = path.id))]
async fn receive_offer(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Json<Moved>, AppError> {
    caller.require()?;
    Ok(Json(
        linkage::receive(&state.db, path.id, &acting(&caller), state.clock.now()).await?,
    ))
}
