//! Preparation checklists (issue 6): each blood station's template
//! (`/api/v1/stations/{id}/checklist-template`), the items of every stop of a drive
//! (`/api/v1/drives/{id}/checklist`), ticking them done or undone
//! (`/api/v1/checklist-items/{id}/done`, `…/undone`), and what is due or late in a region
//! (`/api/v1/checklists/due`). Rules and dates: `crate::domain::checklist`.
//!
//! Items are made for every stop when the drive is made (`api::drives`), from the template of
//! the drive's vehicle's station as it is then, or the built-in defaults; replacing a
//! template changes only drives made afterwards.
//!
//! Access (`crate::domain::policy`): a template is read like its station and replaced by admins
//! and station staff within their write scope ([`Resource::ChecklistTemplate`]). A drive's
//! checklist is read like the drive. An item is decided by its stop's region
//! ([`Resource::ChecklistItem`]): ticked by admins, station staff and township officials within
//! their write scope; the due listing shows the stops inside the caller's read scope.
//!
//! Dates: "today" is the blood station's date (Asia/Shanghai, UTC+8); the checklist and the due
//! listing take `date=YYYY-MM-DD` to see them as on another day.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use entity::checklist_item;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::Caller;
use crate::api::extract::{
    Json as JsonBody, Path, Query, page_limit, paginate, required_if_match, with_etag,
};
use crate::domain::checklist::{self as rules, ItemState};
use crate::domain::drive::DriveStatus;
use crate::domain::policy::Action;
use crate::domain::region::RegionCode;
use crate::drives::Acting;
use crate::drives::checklists::{
    self as service, DueCursor, DueFilter, DueRow, NewTemplate, Template,
    TemplateItemInput as ItemCommand,
};
use crate::drives::lifecycle;
use crate::error::{AppError, Problem};
use crate::state::AppState;
use crate::versioned::Outcome;

const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_template, put_template))
        .routes(routes!(get_drive_checklist))
        .routes(routes!(mark_done))
        .routes(routes!(mark_undone))
        .routes(routes!(list_due))
}

fn internal(what: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("checklists: {what}"))
}

/// Who acts for the checklist service: the caller, checked by the policy.
fn acting(caller: &Caller) -> Acting<'_> {
    Acting::caller(caller.principal.as_ref(), caller.actor())
}

/// The blood station's date now.
fn today() -> NaiveDate {
    rules::station_date(Utc::now())
}

// ---------------------------------------------------------------------------------------------
// Templates

/// Where a station's template comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateSource {
    /// The built-in defaults: the station has not written its own.
    Default,
    /// The station's own.
    Station,
}

/// One item of a template.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateItemView {
    /// 1, 2, … in order.
    pub seq: i32,
    #[schema(example = "确认场地和联络员")]
    pub title: String,
    /// Due this many days before the drive (0 to 90).
    #[schema(example = 14)]
    pub days_before: i32,
}

/// A station's checklist template.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateView {
    pub station_id: i64,
    pub source: TemplateSource,
    /// 0 while the station uses the defaults; bumped by every replacement. Send it back in
    /// `If-Match`.
    pub version: i32,
    pub items: Vec<TemplateItemView>,
    /// When and by whom the station's own template was last written (`null` for the defaults).
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
}

impl From<service::TemplateSource> for TemplateSource {
    fn from(source: service::TemplateSource) -> Self {
        match source {
            service::TemplateSource::Default => TemplateSource::Default,
            service::TemplateSource::Station => TemplateSource::Station,
        }
    }
}

impl From<Template> for TemplateView {
    fn from(t: Template) -> Self {
        TemplateView {
            station_id: t.station_id,
            source: t.source.into(),
            version: t.version,
            items: t
                .items
                .into_iter()
                .map(|i| TemplateItemView {
                    seq: i.seq,
                    title: i.title,
                    days_before: i.days_before,
                })
                .collect(),
            updated_at: t.updated_at,
            updated_by: t.updated_by,
        }
    }
}

/// A station's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StationPath {
    pub id: i64,
}

/// A station's checklist template: its own, or the built-in defaults (`source` says which).
/// New drives of the station's vehicles get these items at every stop.
#[utoipa::path(
    get,
    path = "/stations/{id}/checklist-template",
    tag = "checklists",
    params(StationPath),
    responses(
        (status = 200, description = "The template; `ETag` carries its version (\"0\" for the defaults)", body = TemplateView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(station_id = path.id))]
async fn get_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StationPath>,
) -> Result<Response, AppError> {
    caller.require()?;
    let (_, template) =
        service::template_for(&state.db, &acting(&caller), Action::Read, path.id).await?;
    let view = TemplateView::from(template);
    Ok(with_etag(StatusCode::OK, view.version, Json(view)))
}

/// One item of a new template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateItemInput {
    /// Required, at most 200 characters.
    #[schema(example = "Book the school hall")]
    pub title: Option<String>,
    /// 0 to 90.
    #[schema(example = 21)]
    pub days_before: Option<i64>,
}

/// The body of `PUT /api/v1/stations/{id}/checklist-template`: the whole new list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutTemplate {
    /// 1 to 20 items, in the order drives list them.
    pub items: Vec<TemplateItemInput>,
}

/// Replaces a station's checklist template as a whole. Needs `If-Match` with the template's
/// version (`"0"` while it is the defaults). Drives made from now on get the new items; drives
/// already made keep theirs. Audited (entity `checklist_template`, id the station's).
#[utoipa::path(
    put,
    path = "/stations/{id}/checklist-template",
    tag = "checklists",
    params(StationPath, ("If-Match" = String, Header, description = "The template's ETag last seen, e.g. \"0\"")),
    request_body = PutTemplate,
    responses(
        (status = 200, description = "Replaced; `ETag` carries the new version", body = TemplateView),
        (status = 400, description = "Invalid items, each named (`items`, `items[2].title`, `items[0].days_before`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins and station staff change templates, within their write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The template changed since: the body is the current template", body = TemplateView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(station_id = path.id))]
async fn put_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<StationPath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PutTemplate>,
) -> Result<Response, AppError> {
    caller.require()?;
    let acting = acting(&caller);
    let (station, current) =
        service::template_for(&state.db, &acting, Action::Update, path.id).await?;
    let expected = required_if_match(&headers, "checklist template", current.version)?;
    let (status, template) = match service::replace_template(
        &state.db,
        &station,
        current,
        expected,
        body.into(),
        &acting,
        Utc::now(),
    )
    .await?
    {
        Outcome::Updated(t) => (StatusCode::OK, t),
        Outcome::Stale(t) => (StatusCode::PRECONDITION_FAILED, t),
    };
    let view = TemplateView::from(template);
    Ok(with_etag(status, view.version, Json(view)))
}

impl From<PutTemplate> for NewTemplate {
    fn from(body: PutTemplate) -> Self {
        NewTemplate {
            items: body
                .items
                .into_iter()
                .map(|i| ItemCommand {
                    title: i.title,
                    days_before: i.days_before,
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Items

/// One checklist item of a stop.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    pub id: i64,
    pub drive_id: i64,
    pub stop_id: i64,
    /// 1, 2, … in the template's order.
    pub seq: i32,
    pub title: String,
    pub days_before: i32,
    /// The drive's date minus `days_before`.
    pub due_date: NaiveDate,
    pub done: bool,
    /// When it was marked done (`null` while not done).
    pub done_at: Option<DateTime<Utc>>,
    /// Who marked it done (`null` while not done).
    pub done_by: Option<String>,
    /// On the day the answer is about: `done`, `upcoming`, `due` (today or within the next
    /// two days) or `late`.
    pub state: ItemState,
    /// Days past `due_date` (0 unless `late`).
    pub days_late: i64,
    /// Bumped by every change; send it back in `If-Match`.
    pub version: i32,
}

fn item_view(m: checklist_item::Model, drive_id: i64, today: NaiveDate) -> ItemView {
    ItemView {
        state: rules::state(m.done, m.due_date, today),
        days_late: rules::days_late(m.done, m.due_date, today),
        id: m.id,
        drive_id,
        stop_id: m.stop_id,
        seq: m.seq,
        title: m.title,
        days_before: m.days_before,
        due_date: m.due_date,
        done: m.done,
        done_at: m.done_at,
        done_by: m.done_by,
        version: m.version,
    }
}

/// A stop with its checklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct StopChecklist {
    pub stop_id: i64,
    pub seq: i32,
    pub name: String,
    pub region_code: String,
    /// The township the stop lies in (`null` for a stop above township level).
    pub township_code: Option<String>,
    pub items: Vec<ItemView>,
}

/// A drive's checklists, stop by stop.
#[derive(Debug, Serialize, ToSchema)]
pub struct DriveChecklist {
    pub drive_id: i64,
    pub drive_date: NaiveDate,
    pub drive_status: DriveStatus,
    /// The day the states are computed for (today at the station unless `date` was given).
    pub date: NaiveDate,
    pub stops: Vec<StopChecklist>,
}

/// `?date=`: the day to compute states for.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DateParam {
    /// `YYYY-MM-DD`; default: today at the blood station (Asia/Shanghai).
    pub date: Option<NaiveDate>,
}

/// A drive's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DrivePath {
    pub id: i64,
}

/// The checklist of every stop of a drive, each item with its state on `date`.
#[utoipa::path(
    get,
    path = "/drives/{id}/checklist",
    tag = "checklists",
    params(DrivePath, DateParam),
    responses(
        (status = 200, description = "The drive's stops with their items, in order", body = DriveChecklist),
        (status = 400, description = "Malformed id or date", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such drive (or outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(drive_id = path.id))]
async fn get_drive_checklist(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<DrivePath>,
    Query(params): Query<DateParam>,
) -> Result<Json<DriveChecklist>, AppError> {
    caller.require()?;
    let checklist = service::drive_checklist(&state.db, &acting(&caller), path.id).await?;
    let drive = checklist.drive;
    let date = params.date.unwrap_or_else(today);
    Ok(Json(DriveChecklist {
        drive_id: drive.id,
        drive_date: drive.date,
        drive_status: lifecycle::status_of(&drive)?,
        date,
        stops: checklist
            .stops
            .into_iter()
            .map(|(s, items)| StopChecklist {
                items: items
                    .into_iter()
                    .map(|item| item_view(item, drive.id, date))
                    .collect(),
                township_code: township_of(&s.region_code),
                stop_id: s.id,
                seq: s.seq,
                name: s.name,
                region_code: s.region_code,
            })
            .collect(),
    }))
}

fn township_of(code: &str) -> Option<String> {
    RegionCode::parse(code)
        .ok()
        .and_then(|c| c.township())
        .map(|c| c.to_string())
}

/// A checklist item's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ItemPath {
    pub id: i64,
}

/// Marks an item done, recording who and when. Needs `If-Match` with the item's version;
/// audited (entity `checklist_item`, action `done`). An item already done is answered as it is.
#[utoipa::path(
    post,
    path = "/checklist-items/{id}/done",
    tag = "checklists",
    params(ItemPath, ("If-Match" = String, Header, description = "The item's ETag last seen, e.g. \"1\"")),
    responses(
        (status = 200, description = "The item; `ETag` carries its version", body = ItemView),
        (status = 400, description = "Malformed id or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins, station staff and township officials tick items, within their write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item (or its stop is outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The drive is cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The item changed since: the body is the current item", body = ItemView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(item_id = path.id))]
async fn mark_done(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ItemPath>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    set_done(&state, &caller, path.id, &headers, true).await
}

/// Marks an item not done again, clearing who and when. Needs `If-Match` with the item's
/// version; audited (entity `checklist_item`, action `undone`). An item not done is answered as
/// it is.
#[utoipa::path(
    post,
    path = "/checklist-items/{id}/undone",
    tag = "checklists",
    params(ItemPath, ("If-Match" = String, Header, description = "The item's ETag last seen, e.g. \"2\"")),
    responses(
        (status = 200, description = "The item; `ETag` carries its version", body = ItemView),
        (status = 400, description = "Malformed id or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only admins, station staff and township officials tick items, within their write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item (or its stop is outside the caller's reach)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The drive is cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The item changed since: the body is the current item", body = ItemView),
        (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(item_id = path.id))]
async fn mark_undone(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ItemPath>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    set_done(&state, &caller, path.id, &headers, false).await
}

async fn set_done(
    state: &AppState,
    caller: &Caller,
    id: i64,
    headers: &HeaderMap,
    done: bool,
) -> Result<Response, AppError> {
    caller.require()?;
    let acting = acting(caller);
    let found = service::item_for(&state.db, &acting, id).await?;
    let expected = required_if_match(headers, "checklist item", found.item.version)?;
    let date = today();
    let drive_id = found.drive.id;
    let (status, item) =
        match service::tick(&state.db, found, expected, done, &acting, Utc::now()).await? {
            Outcome::Updated(item) => (StatusCode::OK, item),
            Outcome::Stale(item) => (StatusCode::PRECONDITION_FAILED, item),
        };
    let view = item_view(item, drive_id, date);
    Ok(with_etag(status, view.version, Json(view)))
}

// ---------------------------------------------------------------------------------------------
// What is due

/// Filters of the due listing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DueParams {
    /// Stops in this region or anything below it (12-digit code); required.
    #[param(pattern = r"^[0-9]{12}$", example = "990101101000")]
    pub region: Option<String>,
    /// The day to list for, `YYYY-MM-DD`; default: today at the blood station (Asia/Shanghai).
    pub date: Option<NaiveDate>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An item due or late.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueItem {
    pub item_id: i64,
    pub title: String,
    pub due_date: NaiveDate,
    /// `due` or `late`.
    pub state: ItemState,
    /// Days past `due_date` (0 when `due`).
    pub days_late: i64,
    /// Always `false` here (done items are not listed).
    pub done: bool,
    /// The item's version, for `If-Match` when ticking it.
    pub version: i32,
    pub drive_id: i64,
    pub drive_date: NaiveDate,
    pub drive_status: DriveStatus,
    pub stop_id: i64,
    pub stop_seq: i32,
    pub stop_name: String,
    /// The stop's region.
    pub region_code: String,
    /// The township the stop lies in, whose official sees to it (`null` above township level).
    pub township_code: Option<String>,
    pub township_name: Option<String>,
}

/// One page of the due listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuePage {
    /// The day listed for.
    pub date: NaiveDate,
    pub items: Vec<DueItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn due_cursor(raw: Option<&str>) -> Result<Option<DueCursor>, AppError> {
    let Some(raw) = raw else { return Ok(None) };
    let bad = || AppError::invalid("cursor", "is not a cursor of this listing");
    let parts: Vec<&str> = raw.split('.').collect();
    let [date, drive, stop, item] = parts.as_slice() else {
        return Err(bad());
    };
    Ok(Some(DueCursor {
        due_date: date.parse().map_err(|_| bad())?,
        drive_id: drive.parse().map_err(|_| bad())?,
        stop_seq: stop.parse().map_err(|_| bad())?,
        item_seq: item.parse().map_err(|_| bad())?,
    }))
}

fn cursor_of(row: &DueRow) -> String {
    format!(
        "{}.{}.{}.{}",
        row.due_date, row.drive_id, row.stop_seq, row.item_seq
    )
}

/// What is due (today or within the next two days) or late on `date`, not done, at the stops
/// of drives not completed or cancelled in `region` and the caller's reach: by due date, then
/// drive, stop and item. Each row names the stop's township, whose official sees to it.
#[utoipa::path(
    get,
    path = "/checklists/due",
    tag = "checklists",
    params(DueParams),
    responses(
        (status = 200, description = "A page of items due or late, by due date", body = DuePage),
        (status = 400, description = "Missing or malformed `region`, or another invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`region` does not exist (or is outside what the caller may read)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
async fn list_due(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<DueParams>,
) -> Result<Json<DuePage>, AppError> {
    caller.require()?;
    let limit = page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let raw = params
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| AppError::invalid("region", "is required (a 12-digit region code)"))?;
    let region_range = crate::api::extract::region_filter(&state, &caller, raw).await?;
    let date = params.date.unwrap_or_else(today);
    let filter = DueFilter {
        region_range,
        reach: None,
        due_until: rules::due_until(date),
        drive_statuses: DriveStatus::ALL
            .iter()
            .filter(|s| !s.is_final())
            .map(|s| s.as_str())
            .collect(),
        after: due_cursor(params.cursor.as_deref())?,
        limit: limit + 1,
    };
    let acting = acting(&caller);
    let rows = service::due(&state.db, &acting, filter).await?;
    let (rows, next_cursor) = paginate(rows, limit, cursor_of);
    let townships = service::township_names(&state.db, &rows).await?;
    let items = rows
        .into_iter()
        .map(|row| {
            let township_code = township_of(&row.region_code);
            let township_name = township_code
                .as_ref()
                .and_then(|c| townships.get(c).cloned().flatten());
            Ok(DueItem {
                state: rules::state(row.done, row.due_date, date),
                days_late: rules::days_late(row.done, row.due_date, date),
                drive_status: row.drive_status.parse().map_err(internal)?,
                item_id: row.item_id,
                title: row.title,
                due_date: row.due_date,
                done: row.done,
                version: row.version,
                drive_id: row.drive_id,
                drive_date: row.drive_date,
                stop_id: row.stop_id,
                stop_seq: row.stop_seq,
                stop_name: row.stop_name,
                region_code: row.region_code,
                township_code,
                township_name,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(Json(DuePage {
        date,
        items,
        next_cursor,
    }))
}
