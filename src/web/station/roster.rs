//! The donor roster's pages (issue 16), for admins and station staff of the donors' area:
//!
//! - `/station/recruitment/roster`: the roster, mobiles masked, filtered by blood group and
//!   area, a page at a time;
//! - `/station/recruitment/roster/new`: enrol a donor who agreed on paper or on the phone (the
//!   consent's words shown in full and recorded);
//! - `/station/recruitment/roster/import`: a roster sheet uploaded (all rows or none);
//! - `/station/recruitment/roster/{id}`: one donor, masked; "show the number" (a post, audited
//!   by the service), and deletion on the donor's request after a confirmation step.
//!
//! Every page reads and writes through `recruitment::roster`, whose policy decides: officials
//! and viewers are refused, a donor beyond the caller's area does not exist.

use askama::Template;
use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::domain::recruitment::{ConsentChannel, DonationKind};
use crate::domain::region::RegionCode;
use crate::error::FieldError;
use crate::recruitment::roster::{self, DonorView, NewDonor, RosterQuery};
use crate::recruitment::{Acting, RecruitmentError};
use crate::state::AppState;
use crate::surveys::roster_sheet::{self, Column};
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::forms::{FormFields, FormState, field_errors};
use crate::web::templates::{PlaceLink, full_date, html};

/// Donors a page lists.
const PAGE_SIZE: u64 = 50;

/// The blood groups a filter offers.
const GROUPS: [&str; 8] = ["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"];

pub fn routes(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/station/recruitment/roster", get(list))
        .route("/station/recruitment/roster/new", get(new_form).post(enrol))
        .route(
            "/station/recruitment/roster/import",
            get(import_form)
                .post(import)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/station/recruitment/roster/{id}", get(donor))
        .route(
            "/station/recruitment/roster/{id}/mobile",
            axum::routing::post(reveal),
        )
        .route(
            "/station/recruitment/roster/{id}/delete",
            get(delete_confirm).post(delete),
        )
}

fn acting(page: &Page) -> Acting<'_> {
    Acting::caller(page.caller.principal.as_ref(), page.caller.actor())
}

/// A donor as a row of the roster.
#[derive(Debug, Clone)]
pub struct DonorRow {
    pub id: i64,
    pub name: String,
    pub mobile: String,
    pub group: String,
    pub village: String,
    pub last: String,
    pub consent: String,
    pub do_not_call: bool,
}

fn row(page: &Page, d: &DonorView) -> DonorRow {
    DonorRow {
        id: d.id,
        name: d.name.clone(),
        mobile: d.mobile.clone(),
        group: d
            .blood_group
            .clone()
            .unwrap_or_else(|| page.t("sros-unknown")),
        village: if d.village_name.is_empty() {
            d.village_code.clone()
        } else {
            d.village_name.clone()
        },
        last: match (&d.last_donation_on, &d.last_donation_kind) {
            (Some(on), Some(kind)) => format!(
                "{} · {}",
                full_date(page.lang, *on),
                page.t(&format!("sros-kind-{kind}"))
            ),
            (Some(on), None) => full_date(page.lang, *on),
            _ => page.t("sros-unknown"),
        },
        consent: format!(
            "{} · {}",
            full_date(
                page.lang,
                crate::domain::booking::today_in_china(d.consent_at)
            ),
            page.t(&format!("sros-channel-{}", d.consent_channel))
        ),
        do_not_call: d.do_not_call,
    }
}

// --- the list ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "station_roster.html")]
pub struct RosterPage<'a> {
    pub page: &'a Page,
    pub rows: Vec<DonorRow>,
    pub groups: Vec<&'static str>,
    pub group: String,
    pub regions: Vec<PlaceLink>,
    /// The next page's address, when there is one.
    pub next: String,
    /// The first page's address, on a later page.
    pub first: String,
    pub notice: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    blood_group: Option<String>,
    region: Option<String>,
    after: Option<i64>,
    done: Option<String>,
    added: Option<usize>,
    updated: Option<usize>,
}

/// `GET /station/recruitment/roster`: the roster, masked, by blood group and area.
async fn list(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let group = query
        .blood_group
        .clone()
        .filter(|g| GROUPS.contains(&g.as_str()))
        .unwrap_or_default();
    let region_raw = query.region.clone().unwrap_or_default();
    let region = if region_raw.trim().is_empty() {
        None
    } else {
        Some(
            RegionCode::parse(region_raw.trim())
                .map_err(|_| PageError::status(StatusCode::NOT_FOUND))?,
        )
    };
    let mut donors = roster::list(
        &state.db,
        RosterQuery {
            region,
            blood_group: Some(group.clone()).filter(|g| !g.is_empty()),
            after: query.after,
            limit: PAGE_SIZE + 1,
        },
        &acting(&page),
    )
    .await?;
    let more = donors.len() > usize::try_from(PAGE_SIZE).unwrap_or(50);
    donors.truncate(usize::try_from(PAGE_SIZE).unwrap_or(50));
    let address = |after: Option<i64>| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        if !group.is_empty() {
            url.append_pair("blood_group", &group);
        }
        if !region_raw.is_empty() {
            url.append_pair("region", &region_raw);
        }
        if let Some(after) = after {
            url.append_pair("after", &after.to_string());
        }
        format!("/station/recruitment/roster?{}", url.finish())
    };
    let next = match donors.last() {
        Some(last) if more => address(Some(last.id)),
        _ => String::new(),
    };
    let first = if query.after.is_some() {
        address(None)
    } else {
        String::new()
    };
    let notice = match query.done.as_deref() {
        Some("deleted") => page.t("sros-done-deleted"),
        Some("enrolled") => page.t("sros-done-enrolled"),
        Some("imported") => page.lang.tn(
            "sros-done-imported",
            &[
                ("added", query.added.unwrap_or(0).into()),
                ("updated", query.updated.unwrap_or(0).into()),
            ],
        ),
        _ => String::new(),
    };
    let mut regions = super::region_choices(&state, &page).await?;
    for r in &mut regions {
        r.current = r.code == region_raw;
    }
    Ok(html(&RosterPage {
        page: &page,
        rows: donors.iter().map(|d| row(&page, d)).collect(),
        groups: GROUPS.to_vec(),
        group,

        regions,
        next,
        first,
        notice,
    }))
}

// --- enrolling one donor ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "station_roster_new.html")]
pub struct NewDonorPage<'a> {
    pub page: &'a Page,
    pub form: FormState,
    pub problem: String,
    pub wording: String,
    pub channels: Vec<(&'static str, String)>,
    pub groups: Vec<&'static str>,
    pub kinds: Vec<(&'static str, String)>,
    /// The form's text fields: name, label, input mode, hint.
    pub texts: Vec<(&'static str, String, &'static str, String)>,
}

fn new_page(page: &Page, form: FormState, problem: String, status: StatusCode) -> Response {
    let body = NewDonorPage {
        page,
        form,
        problem,
        wording: roster::standard_wording(),
        channels: [ConsentChannel::Paper, ConsentChannel::Phone]
            .iter()
            .map(|c| (c.as_str(), page.t(&format!("sros-channel-{}", c.as_str()))))
            .collect(),
        groups: GROUPS.to_vec(),
        kinds: [DonationKind::WholeBlood, DonationKind::Platelets]
            .iter()
            .map(|k| (k.as_str(), page.t(&format!("sros-kind-{}", k.as_str()))))
            .collect(),
        texts: vec![
            ("name", page.t("sros-name"), "text", String::new()),
            ("mobile", page.t("sros-mobile"), "tel", String::new()),
            (
                "village_code",
                page.t("sros-village"),
                "numeric",
                page.t("sros-village-hint"),
            ),
        ],
    };
    let mut response = html(&body);
    *response.status_mut() = status;
    response
}

/// `GET /station/recruitment/roster/new`.
async fn new_form(page: Page) -> Result<Response, PageError> {
    roster::may_recruit(&acting(&page))?;
    let form = FormState::new(FormFields::of(&[("consent_channel", "paper".to_owned())]));
    Ok(new_page(&page, form, String::new(), StatusCode::OK))
}

/// A date field of a form: `None` when blank, an error when not a date.
fn date_field(
    form: &FormFields,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<chrono::NaiveDate> {
    let raw = form.get(name)?;
    let parsed = roster_sheet::date(&raw);
    if parsed.is_none() {
        errors.push(FieldError::new(name, "must be a date such as 2026-12-01"));
    }
    parsed
}

/// `POST /station/recruitment/roster/new`: enrols the donor, or shows the form again with the
/// reason beside each field.
async fn enrol(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    roster::may_recruit(&acting(&page))?;
    let mut errors = Vec::new();
    if form.get("agreed").is_none() {
        errors.push(FieldError::new("agreed", "the donor must have agreed"));
    }
    let last_donation_on = date_field(&form, "last_donation_on", &mut errors);
    let consent_on = date_field(&form, "consent_on", &mut errors);
    let cmd = NewDonor {
        name: form.get("name").unwrap_or_default(),
        mobile: form.get("mobile").unwrap_or_default(),
        blood_group: form.get("blood_group"),
        village_code: form.get("village_code").unwrap_or_default(),
        last_donation_on,
        last_donation_kind: form.get("last_donation_kind"),
        consent_at: consent_on.map(|d| crate::domain::booking::instant(d, 0)),
        consent_channel: form.get("consent_channel").unwrap_or_default(),
        consent_wording: None,
    };
    let refused = |form_id: &str, errors: &[FieldError], problem: String| {
        let shown = FormState {
            errors: field_errors(&page, form_id, errors),
            values: form.clone(),
        };
        new_page(&page, shown, problem, StatusCode::BAD_REQUEST)
    };
    if !errors.is_empty() {
        // The service's own faults too, all at once: it checks without writing when refusing.
        if let Err(RecruitmentError::Invalid(more)) =
            roster::check(&state.db, &cmd, &acting(&page), state.clock.now()).await
        {
            errors.extend(more);
        }
        return Ok(refused("sros", &errors, page.t("sros-invalid")));
    }
    match roster::enrol(
        &state.db,
        cmd,
        &acting(&page),
        state.http.public_url.as_deref(),
        state.clock.now(),
    )
    .await
    {
        Ok(enrolled) => Ok(Redirect::to(&format!(
            "/station/recruitment/roster/{}?done=enrolled",
            enrolled.donor.id
        ))
        .into_response()),
        Err(RecruitmentError::Invalid(errors)) => {
            Ok(refused("sros", &errors, page.t("sros-invalid")))
        }
        Err(RecruitmentError::MobileTaken) => Ok(refused(
            "sros-taken",
            &[FieldError::new("mobile", "taken")],
            page.t("sros-mobile-taken"),
        )),
        Err(RecruitmentError::Denied { .. }) => {
            // A recruiter refused: a village beyond their area, as if there were none.
            Ok(refused(
                "sros",
                &[FieldError::new("village_code", "no such village")],
                page.t("sros-invalid"),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

// --- one donor -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "station_roster_donor.html")]
pub struct DonorPage<'a> {
    pub page: &'a Page,
    pub d: DonorRow,
    pub wording: String,
    /// The whole number, once asked for.
    pub whole: String,
    pub confirm_delete: bool,
    pub notice: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DonorQuery {
    done: Option<String>,
}

async fn donor_page(
    state: &AppState,
    page: &Page,
    id: i64,
    whole: String,
    confirm_delete: bool,
    notice: String,
) -> Result<Response, PageError> {
    let d = roster::get(&state.db, id, &acting(page)).await?;
    Ok(html(&DonorPage {
        page,
        d: row(page, &d),
        wording: d.consent_wording.clone(),
        whole,
        confirm_delete,
        notice,
    }))
}

/// `GET /station/recruitment/roster/{id}`: the donor, masked.
async fn donor(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(query): Query<DonorQuery>,
) -> Result<Response, PageError> {
    let notice = match query.done.as_deref() {
        Some("enrolled") => page.t("sros-done-enrolled"),
        _ => String::new(),
    };
    donor_page(&state, &page, id, String::new(), false, notice).await
}

/// `POST /station/recruitment/roster/{id}/mobile`: the donor with the whole number (the view
/// audited by the service). Answered here, not redirected, so the number is in no address.
async fn reveal(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let whole = roster::reveal_mobile(&state.db, id, &acting(&page), state.clock.now()).await?;
    donor_page(&state, &page, id, whole, false, String::new()).await
}

/// `GET /station/recruitment/roster/{id}/delete`: asks to confirm.
async fn delete_confirm(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    donor_page(&state, &page, id, String::new(), true, String::new()).await
}

/// `POST /station/recruitment/roster/{id}/delete`: deletes the donor (on their request).
async fn delete(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    roster::delete(&state.db, id, &acting(&page), state.clock.now()).await?;
    Ok(Redirect::to("/station/recruitment/roster?done=deleted").into_response())
}

// --- the sheet -------------------------------------------------------------------------------

/// A fault of a refused sheet.
#[derive(Debug, Clone)]
pub struct Fault {
    pub row: String,
    pub column: String,
    pub hint: String,
}

#[derive(Template)]
#[template(path = "station_roster_import.html")]
pub struct ImportPage<'a> {
    pub page: &'a Page,
    pub problem: String,
    pub faults: Vec<Fault>,
    pub columns: Vec<(&'static str, &'static str)>,
    pub example: &'static str,
    /// The sheet's limits, in words.
    pub limits: String,
}

/// A small sheet, as the page and the README show it.
pub const EXAMPLE_SHEET: &str = "姓名,手机,血型,Rh,村,末次献血日期,献血类型,同意日期,同意方式\n\
王芳,13800138000,O,阳性,990101101203,2026-06-01,全血,2026-12-01,纸质\n\
李强,13900139000,A,阴性,990101102203,,,2026-12-02,电话\n";

fn import_page(page: &Page, problem: String, faults: Vec<Fault>, status: StatusCode) -> Response {
    let body = ImportPage {
        page,
        problem,
        faults,
        columns: Column::ALL
            .iter()
            .map(|c| (c.chinese(), c.field()))
            .collect(),
        example: EXAMPLE_SHEET,
        limits: page.lang.tn(
            "sros-import-limits",
            &[
                ("kib", (roster_sheet::MAX_SHEET_BYTES / 1024).into()),
                ("rows", roster_sheet::MAX_SHEET_ROWS.into()),
            ],
        ),
    };
    let mut response = html(&body);
    *response.status_mut() = status;
    response
}

/// `GET /station/recruitment/roster/import`: the upload form and the sheet's format.
async fn import_form(page: Page) -> Result<Response, PageError> {
    roster::may_recruit(&acting(&page))?;
    Ok(import_page(
        &page,
        String::new(),
        Vec::new(),
        StatusCode::OK,
    ))
}

/// `POST /station/recruitment/roster/import` (a multipart form, the file as `sheet`): every
/// row enrolled, or none and each bad row named.
async fn import(
    State(state): State<AppState>,
    page: Page,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    roster::may_recruit(&acting(&page))?;
    let too_large = || {
        import_page(
            &page,
            page.t1(
                "sros-import-too-large",
                "kib",
                roster_sheet::MAX_SHEET_BYTES / 1024,
            ),
            Vec::new(),
            StatusCode::PAYLOAD_TOO_LARGE,
        )
    };
    let Ok(mut multipart) = multipart else {
        return Ok(import_page(
            &page,
            page.t("sros-import-choose"),
            Vec::new(),
            StatusCode::BAD_REQUEST,
        ));
    };
    let mut file: Option<Vec<u8>> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(too_large()),
            Err(_) => return Err(PageError::status(StatusCode::BAD_REQUEST)),
        };
        if field.name() != Some("sheet") {
            continue;
        }
        match field.bytes().await {
            Ok(bytes) => file = Some(bytes.to_vec()),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(too_large()),
            Err(_) => return Err(PageError::status(StatusCode::BAD_REQUEST)),
        }
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return Ok(import_page(
            &page,
            page.t("sros-import-choose"),
            Vec::new(),
            StatusCode::BAD_REQUEST,
        ));
    };
    match roster::import_sheet(
        &state.db,
        &bytes,
        &acting(&page),
        state.http.public_url.as_deref(),
        state.clock.now(),
    )
    .await
    {
        Ok(done) => Ok(Redirect::to(&format!(
            "/station/recruitment/roster?done=imported&added={}&updated={}",
            done.added, done.updated
        ))
        .into_response()),
        Err(RecruitmentError::TooLarge(_)) => Ok(too_large()),
        Err(RecruitmentError::Invalid(errors)) => {
            let faults = errors
                .iter()
                .map(|e| Fault {
                    row: e.row.map(|r| r.to_string()).unwrap_or_default(),
                    column: Column::ALL
                        .iter()
                        .find(|c| c.field() == e.field)
                        .map_or_else(
                            || page.t("sros-import-whole-sheet"),
                            |c| format!("{} ({})", c.chinese(), c.field()),
                        ),
                    hint: page.t(&format!("hint-sros-sheet-{}", e.field)),
                })
                .collect();
            Ok(import_page(
                &page,
                page.t1("sros-import-refused", "count", errors.len()),
                faults,
                StatusCode::BAD_REQUEST,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
