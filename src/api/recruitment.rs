//! `/api/v1/recruitment`: one-to-one recruitment (issue 16): the roster of donors who agreed
//! to be contacted, the rules (intervals between donations, days between calls), needs, their
//! ranked call lists, assignment to recruiters and each call's outcome. Admins and station
//! staff only, inside their area: for anyone else a donor, a need or a call does not exist.
//! `POST /api/v1/public/roster/withdraw` is the link every message to a donor carries.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use entity::recruitment_call;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, id_cursor, if_match, page_limit, paginate,
};
use crate::domain::recruitment::Rules;
use crate::domain::region::RegionCode;
use crate::error::{AppError, Problem};
use crate::recruitment::Acting;
use crate::recruitment::calls::{
    self, Assign, BookFromCall, CallView, Candidate, NeedView, NewNeed, Outcome,
};
use crate::recruitment::roster::{self, DonorView, NewDonor, RosterQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_donors, enrol_donor))
        .routes(routes!(import_donors))
        .routes(routes!(get_donor, delete_donor))
        .routes(routes!(reveal_mobile))
        .routes(routes!(withdraw))
        .routes(routes!(get_rules, put_rules))
        .routes(routes!(list_needs, create_need))
        .routes(routes!(get_need, change_need))
        .routes(routes!(need_candidates))
        .routes(routes!(assign_calls))
        .routes(routes!(need_calls))
        .routes(routes!(record_outcome))
        .routes(routes!(book_from_call))
}

fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

/// The body of `POST /api/v1/recruitment/donors`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolDonor {
    #[schema(example = "王芳")]
    pub name: String,
    #[schema(example = "13800138000")]
    pub mobile: String,
    /// `O+`, `AB-`; absent when unknown.
    #[schema(example = "O+")]
    pub blood_group: Option<String>,
    /// The village the donor lives in.
    #[schema(example = "990101101202")]
    pub village_code: String,
    pub last_donation_on: Option<NaiveDate>,
    /// `whole_blood` or `platelets`; required with `last_donation_on`.
    pub last_donation_kind: Option<String>,
    /// When the donor agreed (default now; not in the future).
    pub consent_at: Option<DateTime<Utc>>,
    /// `check_in`, `paper`, `phone` or `online`.
    #[schema(example = "paper")]
    pub consent_channel: String,
    /// The words agreed to (default: the station's standard wording).
    pub consent_wording: Option<String>,
}

impl From<EnrolDonor> for NewDonor {
    fn from(b: EnrolDonor) -> Self {
        NewDonor {
            name: b.name,
            mobile: b.mobile,
            blood_group: b.blood_group,
            village_code: b.village_code,
            last_donation_on: b.last_donation_on,
            last_donation_kind: b.last_donation_kind,
            consent_at: b.consent_at,
            consent_channel: b.consent_channel,
            consent_wording: b.consent_wording,
        }
    }
}

/// A donor just enrolled.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolled {
    pub donor: DonorView,
    /// The path of the donor's withdrawal link (also in the message sent to them); shown once.
    pub withdraw_path: String,
}

/// Enrols a donor who agreed to be contacted; sends them what they agreed to, with the link that
/// withdraws it.
#[utoipa::path(
    post,
    path = "/recruitment/donors",
    tag = "recruitment",
    request_body = EnrolDonor,
    responses(
        (status = 201, description = "Enrolled", body = Enrolled),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not station staff, or the village is outside the caller's area", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The mobile is on the roster already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn enrol_donor(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<EnrolDonor>,
) -> Result<Response, AppError> {
    caller.require()?;
    let enrolled = roster::enrol(
        &state.db,
        body.into(),
        &acting(&caller),
        state.http.public_url.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Enrolled {
            donor: DonorView::from(&enrolled.donor),
            withdraw_path: roster::withdraw_path(&enrolled.withdraw_token),
        }),
    )
        .into_response())
}

/// A roster sheet sent as the request body (a UTF-8 CSV), as it is.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // a schema only: the handler reads the body as bytes
pub struct RosterSheet(Vec<u8>);

/// Enrols every donor of a roster sheet (a UTF-8 CSV with a header row: 姓名/name,
/// 手机/mobile, 血型/abo, Rh/rh, 村/village, 末次献血日期/last_donation, 献血类型/kind,
/// 同意日期/consented_on, 同意方式/channel), all in one transaction, or none: every bad row
/// and column is named. A mobile on the roster already is updated. At most 1 MiB and 5,000
/// donors.
#[utoipa::path(
    post,
    path = "/recruitment/donors/import",
    tag = "recruitment",
    request_body(content = RosterSheet, content_type = "text/csv",
        description = "The sheet: a CSV file (UTF-8), as the request body"),
    responses(
        (status = 200, description = "Every row enrolled: how many added, how many updated", body = roster::SheetImported),
        (status = 400, description = "Every bad row and column (`errors[].row`, `errors[].field`); nothing written", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not station staff", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The sheet is larger than the limit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn import_donors(
    State(state): State<AppState>,
    caller: Caller,
    request: axum::extract::Request,
) -> Result<Json<roster::SheetImported>, AppError> {
    caller.require()?;
    // Never more than the sheet's limit is read, whatever the body limit is.
    let limit = crate::surveys::roster_sheet::MAX_SHEET_BYTES.min(state.http.body_limit);
    let body = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    Ok(Json(
        roster::import_sheet(
            &state.db,
            &body,
            &acting(&caller),
            state.http.public_url.as_deref(),
            state.clock.now(),
        )
        .await?,
    ))
}

/// Filters of the roster.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DonorListParams {
    /// Donors of villages in this region's subtree.
    #[param(pattern = r"^[0-9]{12}$")]
    pub region: Option<String>,
    /// `O+`, `A-`, …
    pub blood_group: Option<String>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DonorPage {
    pub items: Vec<DonorView>,
    pub next_cursor: Option<String>,
}

/// Lists the roster (mobiles masked) by id.
#[utoipa::path(
    get,
    path = "/recruitment/donors",
    tag = "recruitment",
    params(DonorListParams),
    responses(
        (status = 200, description = "A page of donors", body = DonorPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not station staff", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_donors(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<DonorListParams>,
) -> Result<Response, AppError> {
    caller.require()?;
    let limit = page_limit(params.limit, 100, roster::MAX_PAGE)?;
    let region = params
        .region
        .as_deref()
        .map(|raw| {
            RegionCode::parse(raw)
                .map_err(|_| AppError::invalid("region", "must be a 12-digit region code"))
        })
        .transpose()?;
    let after = id_cursor(params.cursor.as_deref())?;
    let rows = roster::list(
        &state.db,
        RosterQuery {
            region,
            blood_group: params.blood_group,
            after,
            limit: limit + 1,
        },
        &acting(&caller),
    )
    .await?;
    let (items, next_cursor) = paginate(rows, limit, |d| d.id.to_string());
    Ok(Json(DonorPage { items, next_cursor }).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    pub id: i64,
}

/// One donor, masked.
#[utoipa::path(
    get,
    path = "/recruitment/donors/{id}",
    tag = "recruitment",
    params(IdPath),
    responses(
        (status = 200, description = "The donor", body = DonorView),
        (status = 404, description = "No such donor in the caller's area", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(donor_id = path.id))]
async fn get_donor(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Json<DonorView>, AppError> {
    caller.require()?;
    Ok(Json(
        roster::get(&state.db, path.id, &acting(&caller)).await?,
    ))
}

/// Deletes a donor at their request (their calls stay, without them).
#[utoipa::path(
    delete,
    path = "/recruitment/donors/{id}",
    tag = "recruitment",
    params(IdPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such donor in the caller's area", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(donor_id = path.id))]
async fn delete_donor(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<StatusCode, AppError> {
    caller.require()?;
    roster::delete(&state.db, path.id, &acting(&caller), state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A whole mobile number.
#[derive(Debug, Serialize, ToSchema)]
pub struct Mobile {
    pub mobile: String,
}

/// Shows a donor's whole mobile, for a call; every view is in the audit log.
#[utoipa::path(
    post,
    path = "/recruitment/donors/{id}/mobile",
    tag = "recruitment",
    params(IdPath),
    responses(
        (status = 200, description = "The number (the view is audited)", body = Mobile),
        (status = 404, description = "No such donor in the caller's area", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(donor_id = path.id))]
async fn reveal_mobile(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Json<Mobile>, AppError> {
    caller.require()?;
    let mobile =
        roster::reveal_mobile(&state.db, path.id, &acting(&caller), state.clock.now()).await?;
    Ok(Json(Mobile { mobile }))
}

/// The body of a withdrawal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdraw {
    /// The `t` of the link in the donor's message.
    pub token: String,
}

/// Withdraws a donor's consent through the link in their messages: their details are deleted
/// at once. No sign-in: the link is the proof.
#[utoipa::path(
    post,
    path = "/public/roster/withdraw",
    tag = "recruitment",
    request_body = Withdraw,
    responses(
        (status = 204, description = "Withdrawn: the donor's details are deleted"),
        (status = 404, description = "No consent for this link (withdrawn already, or not whole)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn withdraw(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Withdraw>,
) -> Result<StatusCode, AppError> {
    roster::withdraw(&state.db, body.token.trim(), state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The rules in force.
#[utoipa::path(
    get,
    path = "/recruitment/rules",
    tag = "recruitment",
    responses((status = 200, description = "The rules", body = Rules))
)]
#[tracing::instrument(skip_all)]
async fn get_rules(State(state): State<AppState>, caller: Caller) -> Result<Json<Rules>, AppError> {
    caller.require()?;
    Ok(Json(calls::rules(&state.db).await?))
}

/// Replaces the rules (admins without region bounds).
#[utoipa::path(
    put,
    path = "/recruitment/rules",
    tag = "recruitment",
    request_body = Rules,
    responses(
        (status = 200, description = "The rules now", body = Rules),
        (status = 400, description = "A value out of range, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of the whole service", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn put_rules(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Rules>,
) -> Result<Json<Rules>, AppError> {
    caller.require()?;
    Ok(Json(
        calls::set_rules(&state.db, body, &acting(&caller), state.clock.now()).await?,
    ))
}

/// The body of `POST /api/v1/recruitment/needs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNeed {
    /// The area whose donors are called.
    #[schema(example = "990100000000")]
    pub region_code: String,
    #[schema(example = "O+,O-")]
    pub blood_groups: String,
    /// `whole_blood` (default) or `platelets`.
    pub kind: Option<String>,
    #[schema(example = 20)]
    pub target: i64,
    pub needed_by: NaiveDate,
    pub stop_id: Option<i64>,
    pub station_id: Option<i64>,
    pub notes: Option<String>,
}

impl From<CreateNeed> for NewNeed {
    fn from(b: CreateNeed) -> Self {
        NewNeed {
            region_code: b.region_code,
            blood_groups: b.blood_groups,
            kind: b.kind,
            target: b.target,
            needed_by: b.needed_by,
            stop_id: b.stop_id,
            station_id: b.station_id,
            notes: b.notes,
        }
    }
}

/// Records a need for donors.
#[utoipa::path(
    post,
    path = "/recruitment/needs",
    tag = "recruitment",
    request_body = CreateNeed,
    responses(
        (status = 201, description = "Recorded", body = NeedView),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not station staff, or outside the caller's area", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn create_need(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateNeed>,
) -> Result<Response, AppError> {
    caller.require()?;
    let acting = acting(&caller);
    let need = calls::create_need(&state.db, body.into(), &acting, state.clock.now()).await?;
    let view = calls::get_need(&state.db, need.id, &acting).await?;
    Ok(crate::api::extract::with_etag(
        StatusCode::CREATED,
        view.version,
        Json(view),
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NeedListParams {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NeedPage {
    pub items: Vec<NeedView>,
    pub next_cursor: Option<String>,
}

/// The needs in the caller's area, newest first, with their progress.
#[utoipa::path(
    get,
    path = "/recruitment/needs",
    tag = "recruitment",
    params(NeedListParams),
    responses((status = 200, description = "A page of needs", body = NeedPage))
)]
#[tracing::instrument(skip_all)]
async fn list_needs(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<NeedListParams>,
) -> Result<Response, AppError> {
    caller.require()?;
    let limit = page_limit(params.limit, 20, 100)?;
    let before = id_cursor(params.cursor.as_deref())?;
    let rows = calls::list_needs(&state.db, before, limit + 1, &acting(&caller)).await?;
    let (items, next_cursor) = paginate(rows, limit, |n| n.id.to_string());
    Ok(Json(NeedPage { items, next_cursor }).into_response())
}

/// A need with its progress.
#[utoipa::path(
    get,
    path = "/recruitment/needs/{id}",
    tag = "recruitment",
    params(IdPath),
    responses(
        (status = 200, description = "The need", body = NeedView),
        (status = 404, description = "No such need in the caller's area", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(need_id = path.id))]
async fn get_need(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Response, AppError> {
    caller.require()?;
    let view = calls::get_need(&state.db, path.id, &acting(&caller)).await?;
    Ok(crate::api::extract::with_etag(
        StatusCode::OK,
        view.version,
        Json(view),
    ))
}

/// The body of `PATCH /api/v1/recruitment/needs/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeNeed {
    /// `open` or `closed`.
    pub status: String,
}

/// Closes or reopens a need (`If-Match` with its ETag).
#[utoipa::path(
    patch,
    path = "/recruitment/needs/{id}",
    tag = "recruitment",
    params(IdPath),
    request_body = ChangeNeed,
    responses(
        (status = 200, description = "The need now", body = NeedView),
        (status = 400, description = "Invalid status", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(need_id = path.id))]
async fn change_need(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ChangeNeed>,
) -> Result<Response, AppError> {
    caller.require()?;
    let open = match body.status.as_str() {
        "open" => true,
        "closed" => false,
        _ => return Err(AppError::invalid("status", "must be open or closed")),
    };
    if !headers.contains_key(axum::http::header::IF_MATCH) {
        return Err(AppError::PreconditionRequired(
            "send If-Match with the need's ETag to change it".to_owned(),
        ));
    }
    // `*` (any version) reads as `None`.
    let version = if_match(&headers, -1)?.filter(|v| *v >= 0);
    let view = calls::set_open(
        &state.db,
        path.id,
        open,
        version,
        &acting(&caller),
        state.clock.now(),
    )
    .await?;
    Ok(crate::api::extract::with_etag(
        StatusCode::OK,
        view.version,
        Json(view),
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CandidateParams {
    /// How many, 1 to 1000 (default 50).
    pub limit: Option<u64>,
}

/// The donors the need would call next, in call order (nearest ring first, then the longest
/// since their last donation), eligible by the rules, masked; nobody is assigned.
#[utoipa::path(
    get,
    path = "/recruitment/needs/{id}/candidates",
    tag = "recruitment",
    params(IdPath, CandidateParams),
    responses(
        (status = 200, description = "The donors in call order", body = Vec<Candidate>),
        (status = 404, description = "No such need in the caller's area", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(need_id = path.id))]
async fn need_candidates(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    Query(params): Query<CandidateParams>,
) -> Result<Json<Vec<Candidate>>, AppError> {
    caller.require()?;
    let limit = page_limit(params.limit, 50, calls::MAX_CANDIDATES as u64)?;
    Ok(Json(
        calls::candidates(
            &state.db,
            path.id,
            usize::try_from(limit).unwrap_or(50),
            &acting(&caller),
            state.clock.now(),
        )
        .await?,
    ))
}

/// The body of an assignment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignCalls {
    /// How many donors to give out (1 to 500).
    pub count: i64,
    /// Usernames of the staff who call, in turn.
    pub recruiters: Vec<String>,
}

/// A call as made by an assignment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignedCall {
    pub id: i64,
    pub donor_id: Option<i64>,
    pub recruiter: String,
}

impl From<recruitment_call::Model> for AssignedCall {
    fn from(c: recruitment_call::Model) -> Self {
        AssignedCall {
            id: c.id,
            donor_id: c.donor_id,
            recruiter: c.recruiter,
        }
    }
}

/// Gives the next donors of the need's list to recruiters in turn.
#[utoipa::path(
    post,
    path = "/recruitment/needs/{id}/assign",
    tag = "recruitment",
    params(IdPath),
    request_body = AssignCalls,
    responses(
        (status = 201, description = "The calls given out", body = Vec<AssignedCall>),
        (status = 400, description = "Invalid count or recruiters, each named", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The need is closed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(need_id = path.id))]
async fn assign_calls(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    JsonBody(body): JsonBody<AssignCalls>,
) -> Result<Response, AppError> {
    caller.require()?;
    let made = calls::assign(
        &state.db,
        path.id,
        Assign {
            count: body.count,
            recruiters: body.recruiters,
        },
        &acting(&caller),
        state.clock.now(),
    )
    .await?;
    let made: Vec<AssignedCall> = made.into_iter().map(AssignedCall::from).collect();
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CallListParams {
    /// Only this recruiter's calls; `me` for the caller's.
    pub recruiter: Option<String>,
}

/// The need's calls, waiting ones first, donors masked.
#[utoipa::path(
    get,
    path = "/recruitment/needs/{id}/calls",
    tag = "recruitment",
    params(IdPath, CallListParams),
    responses(
        (status = 200, description = "The calls", body = Vec<CallView>),
        (status = 404, description = "No such need in the caller's area", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(need_id = path.id))]
async fn need_calls(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    Query(params): Query<CallListParams>,
) -> Result<Json<Vec<CallView>>, AppError> {
    caller.require()?;
    let me = caller.principal.as_ref().map(|p| p.username.clone());
    let recruiter = match params.recruiter.as_deref() {
        Some("me") => me,
        other => other.map(str::to_owned),
    };
    Ok(Json(
        calls::calls(&state.db, path.id, recruiter.as_deref(), &acting(&caller)).await?,
    ))
}

/// The body of `POST /api/v1/recruitment/calls/{id}/outcome`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOutcome {
    /// `booked`, `declined`, `no_answer`, `not_eligible` or `do_not_call`.
    pub outcome: String,
    pub notes: Option<String>,
    /// With `booked`: the code of the booking made for the donor.
    pub booking_code: Option<String>,
}

/// A call as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallRecorded {
    pub id: i64,
    pub need_id: i64,
    pub outcome: Option<String>,
    pub called_at: Option<DateTime<Utc>>,
    pub booking_id: Option<i64>,
}

/// Records what came of a call (once).
#[utoipa::path(
    post,
    path = "/recruitment/calls/{id}/outcome",
    tag = "recruitment",
    params(IdPath),
    request_body = RecordOutcome,
    responses(
        (status = 200, description = "Recorded", body = CallRecorded),
        (status = 400, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such call in the caller's area", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Recorded already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(call_id = path.id))]
async fn record_outcome(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    JsonBody(body): JsonBody<RecordOutcome>,
) -> Result<Json<CallRecorded>, AppError> {
    caller.require()?;
    let call = calls::record(
        &state.db,
        path.id,
        Outcome {
            outcome: body.outcome,
            notes: body.notes,
            booking_code: body.booking_code,
        },
        &acting(&caller),
        state.clock.now(),
    )
    .await?;
    Ok(Json(CallRecorded {
        id: call.id,
        need_id: call.need_id,
        outcome: call.outcome,
        called_at: call.called_at,
        booking_id: call.booking_id,
    }))
}

/// The body of `POST /api/v1/recruitment/calls/{id}/booking`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookCall {
    /// The start of a slot at the need's stop, `HH:MM`.
    #[schema(example = "09:30")]
    pub slot: String,
    pub notes: Option<String>,
}

/// A call booked: the call as recorded and the booking made for its donor.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallBooked {
    pub call: CallRecorded,
    pub booking_id: i64,
    pub booking_code: String,
    pub stop_id: i64,
}

/// Books the call's donor into a slot of the need's stop and records the call `booked` with
/// that booking, in one transaction (the donor gets the booking's confirmation message).
#[utoipa::path(
    post,
    path = "/recruitment/calls/{id}/booking",
    tag = "recruitment",
    params(IdPath),
    request_body = BookCall,
    responses(
        (status = 201, description = "Booked and recorded", body = CallBooked),
        (status = 400, description = "Invalid slot or notes", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such call in the caller's area", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Recorded already; the slot is full or has begun; the need is not at a published drive's stop; the donor gave blood too recently or has booked there", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(call_id = path.id))]
async fn book_from_call(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    JsonBody(body): JsonBody<BookCall>,
) -> Result<Response, AppError> {
    caller.require()?;
    let booked = calls::book_from_call(
        &state.db,
        path.id,
        BookFromCall {
            slot: body.slot,
            notes: body.notes,
        },
        &acting(&caller),
        state.http.public_url.as_deref(),
        state.clock.now(),
    )
    .await?;
    let call = booked.call;
    Ok((
        StatusCode::CREATED,
        Json(CallBooked {
            call: CallRecorded {
                id: call.id,
                need_id: call.need_id,
                outcome: call.outcome,
                called_at: call.called_at,
                booking_id: call.booking_id,
            },
            booking_id: booked.booking.id,
            booking_code: booked.booking.code,
            stop_id: booked.booking.stop_id,
        }),
    )
        .into_response())
}
