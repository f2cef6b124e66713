//! The township official's village survey pages (phone first): the survey desk of their
//! township (a picker when they have several), the entry flow that walks through the
//! township's villages one screen each (the last survey beside the form, the 3x change asked
//! inline, Save & next, Skip), and the survey sheet: download, upload, the dry-run preview of
//! what it would change, then confirm or cancel.
//!
//! On the registry's services, asked as the API asks them (`registry::surveys::record`,
//! `registry::sheets::{export, import}`): the same policy, the same rules, the same upload
//! limits (the API's body limit, the workbook checks inside the import, one upload per account
//! at a time). A village or township outside the reader's townships reads as not found.

use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, NaiveDate, Utc};
use serde::Deserialize;

use super::context::Page;
use super::errors::PageError;
use super::forms::{FormFields, FormState};
use super::templates::{
    ConflictRow, DeskTownship, DeskVillage, LastSurvey, PreviewRow, SheetPreviewPage, SheetProblem,
    SurveyDeskPage, SurveyEntryPage, SurveyForm, TownshipChoice, html,
};
use crate::domain::policy::{Action, Decision, Resource};
use crate::domain::region::RegionCode;
use crate::domain::survey::{MAX_COUNT, SurveySource, is_large_change};
use crate::error::{AppError, FieldError};
use crate::i18n::Lang;
use crate::registry::sheets::{self, ExportSheet, ImportReport, ImportSheet, RowOutcome};
use crate::registry::surveys::{self, NewSurvey, TownshipEntry};
use crate::registry::{Acting, RegistryError};
use crate::state::{AppState, KeptSheet, Slot};
use crate::surveys::sheet::SheetFormat;

/// The survey pages; the sheet upload takes bodies up to `upload_limit` bytes (the API's
/// limit), every other form the pages' small one.
pub fn routes(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/township/surveys", get(desk))
        .route(
            "/township/surveys/sheet",
            post(upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/township/surveys/sheet/download", get(download))
        .route("/township/surveys/sheet/{key}", get(preview))
        .route("/township/surveys/sheet/{key}/apply", post(apply))
        .route("/township/surveys/sheet/{key}/cancel", post(cancel))
        .route("/township/surveys/{code}", get(entry).post(save))
}

/// The sources a survey's figures come from, in the order the form offers them.
const SOURCES: [SurveySource; 4] = [
    SurveySource::VillageDoctor,
    SurveySource::HouseholdRegister,
    SurveySource::CommitteeEstimate,
    SurveySource::Other,
];

/// Who acts for the registry service: the reader, checked by the policy.
fn acting(page: &Page) -> Acting<'_> {
    Acting::caller(page.caller.principal.as_ref(), page.caller.actor())
}

/// These pages are the reader's own townships: nobody signed in goes to sign in, and a
/// village or township they do not enter surveys for (403 or 404 to the API), or a code that
/// names none, reads as not found.
fn not_here(err: RegistryError) -> PageError {
    match err {
        RegistryError::Denied {
            decision: Decision::Unauthenticated,
            ..
        } => PageError::SignIn,
        RegistryError::Denied { .. }
        | RegistryError::NotFound(_)
        | RegistryError::InvalidField { .. }
        | RegistryError::Invalid(_) => PageError::Status(StatusCode::NOT_FOUND),
        other => AppError::from(other).into(),
    }
}

/// May the reader record surveys in `raw` (a village or township code)? The API's question
/// for `POST /regions/{code}/surveys` and the sheet import: [`Action::Create`] in the
/// registry there.
fn may_enter(page: &Page, raw: &str) -> Result<RegionCode, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    let code =
        RegionCode::parse(raw.trim()).map_err(|_| PageError::Status(StatusCode::NOT_FOUND))?;
    page.caller
        .authorize(Action::Create, Resource::Registry(Some(&code)), || {
            format!("region with code {code}")
        })
        .map_err(|e| match e {
            AppError::Unauthorized(_) => PageError::SignIn,
            _ => PageError::Status(StatusCode::NOT_FOUND),
        })?;
    Ok(code)
}

/// The reader's turn to have a sheet read (one at a time per account, as the API's).
fn upload_turn(state: &AppState, page: &Page) -> Result<Slot, PageError> {
    let account = page
        .caller
        .principal
        .as_ref()
        .ok_or(PageError::SignIn)?
        .user_id;
    state
        .sheet_uploads
        .try_start(account)
        .ok_or_else(|| PageError::Said(StatusCode::TOO_MANY_REQUESTS, page.t("sheet-busy")))
}

/// A date with its year, as the last survey and the sheet preview show it.
fn full_date(lang: Lang, day: NaiveDate) -> String {
    lang.tn(
        "survey-date",
        &[
            ("year", day.year().into()),
            ("month", day.month().into()),
            ("day", day.day().into()),
            (
                "monthname",
                lang.t(&format!("month-{}", day.month())).into(),
            ),
        ],
    )
}

fn percent_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A 12-digit code as sent back by a form or a query (to build an address from it).
fn code_like(text: Option<String>) -> Option<String> {
    text.filter(|c| c.len() == 12 && c.bytes().all(|b| b.is_ascii_digit()))
}

// ---------------------------------------------------------------------------------------
// The desk: the reader's township, its villages, the sheet.

#[derive(Debug, Default, Deserialize)]
pub struct DeskQuery {
    township: Option<String>,
    /// The village just saved (the last of the flow).
    saved: Option<String>,
    /// How many surveys a confirmed sheet recorded.
    applied: Option<usize>,
    /// A sheet preview that is no longer kept.
    expired: Option<String>,
    /// A sheet preview cancelled.
    cancelled: Option<String>,
}

/// `GET /township/surveys`: the townships the reader enters surveys for (a picker when
/// several) and the chosen one's villages with their last surveys, the start of the entry
/// flow, and the sheet to download and upload.
async fn desk(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<DeskQuery>,
) -> Result<Response, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    let township = query.township.as_deref().filter(|t| !t.trim().is_empty());
    let found = surveys::desk(&state.db, township, &acting(&page))
        .await
        .map_err(not_here)?;
    let notice = if let Some(n) = query.applied {
        page.t1("sheet-applied", "count", n)
    } else if query.saved.is_some() {
        page.t("survey-all-done")
    } else if query.cancelled.is_some() {
        page.t("sheet-cancelled")
    } else {
        String::new()
    };
    let problem = if query.expired.is_some() {
        page.t("sheet-expired")
    } else {
        String::new()
    };
    Ok(desk_page(&page, found, notice, problem, StatusCode::OK))
}

fn desk_page(
    page: &Page,
    found: surveys::SurveyDesk,
    notice: String,
    problem: String,
    status: StatusCode,
) -> Response {
    let lang = page.lang;
    let chosen = found.chosen.map(|flow| {
        let villages: Vec<DeskVillage> = flow
            .villages
            .iter()
            .map(|v| DeskVillage {
                code: v.village.code.to_string(),
                name: v.village.name.clone(),
                total: v
                    .current
                    .as_ref()
                    .map(|s| page.t1("survey-people", "count", s.eligible_total))
                    .unwrap_or_default(),
                date: v
                    .current
                    .as_ref()
                    .map(|s| full_date(lang, s.surveyed_on))
                    .unwrap_or_default(),
            })
            .collect();
        let surveyed = flow.villages.iter().filter(|v| v.current.is_some()).count();
        DeskTownship {
            code: flow.township.code.to_string(),
            name: flow.township.name.clone(),
            start: villages.first().map(|v| v.code.clone()).unwrap_or_default(),
            summary: lang.tn(
                "survey-desk-count",
                &[("done", surveyed.into()), ("count", villages.len().into())],
            ),
            villages,
        }
    });
    let chosen_code = chosen.as_ref().map(|c| c.code.clone()).unwrap_or_default();
    let body = SurveyDeskPage {
        page,
        townships: found
            .townships
            .iter()
            .map(|t| TownshipChoice {
                code: t.code.to_string(),
                name: t.name.clone(),
                chosen: t.code.as_str() == chosen_code,
            })
            .collect(),
        chosen,
        notice,
        problem,
    };
    let mut response = html(&body);
    *response.status_mut() = status;
    response
}

// ---------------------------------------------------------------------------------------
// The entry flow: one screen per village.

/// What the previous screen carries to the next, so that 30 villages in a row need the date,
/// the source and the surveyor typed once.
#[derive(Debug, Default, Deserialize)]
pub struct Carried {
    on: Option<String>,
    source: Option<String>,
    by: Option<String>,
    /// The village just saved, to say so.
    saved: Option<String>,
}

impl Carried {
    /// The query that carries these on (without `saved`).
    fn query(on: &str, source: &str, by: &str) -> String {
        format!(
            "on={}&source={}&by={}",
            percent_encode(on),
            percent_encode(source),
            percent_encode(by)
        )
    }
}

/// `GET /township/surveys/{village}`: the village's screen.
async fn entry(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(carried): Query<Carried>,
) -> Result<Response, PageError> {
    may_enter(&page, &code)?;
    let flow = surveys::township_entry(&state.db, &code, &acting(&page))
        .await
        .map_err(not_here)?;
    let at = flow
        .position(&code)
        .ok_or(PageError::Status(StatusCode::NOT_FOUND))?;
    let today = crate::domain::booking::today_in_china(Utc::now());
    let on = carried
        .on
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .filter(|d| *d <= today)
        .unwrap_or(today);
    let source = carried
        .source
        .as_deref()
        .and_then(SurveySource::parse)
        .or_else(|| {
            flow.villages[at]
                .current
                .as_ref()
                .and_then(|s| SurveySource::parse(&s.source))
        })
        .unwrap_or(SurveySource::VillageDoctor);
    let by = carried.by.unwrap_or_default();
    // The survey this screen shows as the last: a form kept on the phone and sent later is
    // refused if another has become current meanwhile.
    let based_on = flow.villages[at].current.as_ref().map_or(0, |s| s.id);
    let form = SurveyForm {
        state: FormState::new(FormFields(vec![
            ("surveyed_on".to_owned(), on.to_string()),
            ("source".to_owned(), source.as_str().to_owned()),
            ("surveyed_by".to_owned(), by.trim().to_owned()),
            ("based_on".to_owned(), based_on.to_string()),
        ])),
        ..SurveyForm::default()
    };
    let saved = code_like(carried.saved);
    let notice = saved
        .clone()
        .and_then(|saved| {
            let i = flow.position(&saved)?;
            let v = &flow.villages[i];
            let total = v.current.as_ref()?.eligible_total;
            Some(page.lang.tn(
                "survey-saved",
                &[
                    ("village", v.village.name.clone().into()),
                    ("count", total.into()),
                ],
            ))
        })
        .unwrap_or_default();
    let said = Said {
        saved: saved.as_deref().filter(|s| flow.position(s).is_some()),
        notice,
        problem: String::new(),
    };
    Ok(entry_page(&page, &flow, at, form, said, StatusCode::OK))
}

/// What a village's screen says above its form.
#[derive(Default)]
struct Said<'a> {
    /// The village just saved (its kept screen is fetched again).
    saved: Option<&'a str>,
    /// What just happened.
    notice: String,
    /// Why the entry was not taken.
    problem: String,
}

/// The screen of village number `at` of `flow`.
fn entry_page(
    page: &Page,
    flow: &TownshipEntry,
    at: usize,
    form: SurveyForm,
    said: Said<'_>,
    status: StatusCode,
) -> Response {
    let Said {
        saved,
        notice,
        problem,
    } = said;
    let lang = page.lang;
    let here = &flow.villages[at];
    let last = here.current.as_ref().map(|s| LastSurvey {
        total: page.t1("survey-people", "count", s.eligible_total),
        date: full_date(lang, s.surveyed_on),
        who: s
            .surveyed_by
            .clone()
            .or_else(|| s.created_by.clone())
            .unwrap_or_default(),
        source: SurveySource::parse(&s.source)
            .map(|src| page.t(&format!("survey-source-{}", src.as_str())))
            .unwrap_or_default(),
    });
    let carry = Carried::query(
        &form.value("surveyed_on"),
        &form.value("source"),
        form.value("surveyed_by").trim(),
    );
    let code_at = |i: usize| flow.villages.get(i).map(|v| v.village.code.to_string());
    // Kept on the phone for a lost signal: the next village's screen, and the one just saved
    // (its kept copy still shows the survey before).
    let keep_ahead = saved
        .map(str::to_owned)
        .into_iter()
        .chain(code_at(at + 1))
        .map(|c| format!("/township/surveys/{c}"))
        .collect::<Vec<_>>()
        .join(" ");
    let body = SurveyEntryPage {
        page,
        township_code: flow.township.code.to_string(),
        township_name: flow.township.name.clone(),
        village_code: here.village.code.to_string(),
        village_name: here.village.name.clone(),
        progress: page.lang.tn(
            "survey-progress",
            &[
                ("at", (at + 1).into()),
                ("count", flow.villages.len().into()),
            ],
        ),
        last,
        previous: at.checked_sub(1).and_then(code_at).unwrap_or_default(),
        next: code_at(at + 1).unwrap_or_default(),
        carry,
        keep_ahead,
        sources: SOURCES
            .iter()
            .map(|s| {
                (
                    s.as_str().to_owned(),
                    page.t(&format!("survey-source-{}", s.as_str())),
                )
            })
            .collect(),
        today: crate::domain::booking::today_in_china(Utc::now()).to_string(),
        form,
        notice,
        problem,
    };
    let mut response = html(&body);
    *response.status_mut() = status;
    response
}

/// A count as typed: blank is none; full-width digits (a Chinese keyboard's) are digits.
fn count(form: &FormFields, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let typed = form.get(field)?;
    let ascii: String = typed
        .chars()
        .map(|c| match c {
            '０'..='９' => {
                char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c)
            }
            c => c,
        })
        .collect();
    match ascii.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FieldError::new(field, "must be a whole number"));
            None
        }
    }
}

/// The survey the form describes, or the fields that cannot be read at all (a total that is
/// not a number, a date that is not a date). The service checks every rule of what can.
fn survey_of(form: &FormFields) -> Result<NewSurvey, Vec<FieldError>> {
    let mut errors = Vec::new();
    let total = count(form, "eligible_total", &mut errors);
    if total.is_none() && form.get("eligible_total").is_none() {
        errors.push(FieldError::new("eligible_total", "is required"));
    }
    let male = count(form, "male", &mut errors);
    let female = count(form, "female", &mut errors);
    let age_18_34 = count(form, "age_18_34", &mut errors);
    let age_35_54 = count(form, "age_35_54", &mut errors);
    let age_55_60 = count(form, "age_55_60", &mut errors);
    let away_for_work = count(form, "away_for_work", &mut errors);
    let known_donors = count(form, "known_donors", &mut errors);
    let surveyed_on = form
        .get("surveyed_on")
        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
    if surveyed_on.is_none() {
        errors.push(FieldError::new("surveyed_on", "must be a date"));
    }
    let source = form.get("source").as_deref().and_then(SurveySource::parse);
    if source.is_none() {
        errors.push(FieldError::new("source", "unknown source"));
    }
    // The confirmation answers the question about one figure: it holds only for that one.
    let confirmed =
        total.is_some() && count(form, "confirm_large_change", &mut Vec::new()) == total;
    match (total, surveyed_on, source) {
        (Some(eligible_total), Some(surveyed_on), Some(source)) if errors.is_empty() => {
            Ok(NewSurvey {
                eligible_total,
                male,
                female,
                age_18_34,
                age_35_54,
                age_55_60,
                away_for_work,
                known_donors,
                surveyed_on,
                source,
                surveyed_by: form.get("surveyed_by"),
                notes: form.get("notes"),
                confirm_large_change: confirmed,
                // A hidden field: one that does not read (tampered with) is not checked.
                based_on: form.get("based_on").and_then(|v| v.parse().ok()),
            })
        }
        _ => Err(errors),
    }
}

/// Field errors as the form shows them: the catalogue's plain words for the field.
fn field_errors(page: &Page, errors: &[FieldError]) -> Vec<(String, String)> {
    let mut shown: Vec<(String, String)> = Vec::new();
    for e in errors {
        if shown.iter().any(|(f, _)| *f == e.field) {
            continue;
        }
        let id = format!("survey-hint-{}", e.field);
        let hint = page.t(&id);
        shown.push((
            e.field.clone(),
            if hint == id { e.message.clone() } else { hint },
        ));
    }
    shown
}

/// `POST /township/surveys/{village}`: records the village's survey and goes on to the next
/// village (the carried date, source and surveyor with it); else the screen again with what
/// was typed, the errors beside their fields, and a large change asked about in words.
async fn save(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    let village = may_enter(&page, &code)?;
    let outcome = match survey_of(&form) {
        Ok(survey) => surveys::record(&state.db, &code, survey, &acting(&page), Utc::now())
            .await
            .map(Some),
        Err(fields) => Err(RegistryError::Invalid(fields)),
    };
    let errors = match outcome {
        Ok(_) => {
            tracing::info!(village = %code, "survey entered on the page");
            let carry = Carried::query(
                &form.raw("surveyed_on"),
                &form.raw("source"),
                form.raw("surveyed_by").trim(),
            );
            let to = match code_like(form.get("next")) {
                Some(next) => format!("/township/surveys/{next}?saved={code}&{carry}"),
                None => format!(
                    "/township/surveys?township={}&saved={code}",
                    village
                        .township()
                        .map(|t| t.to_string())
                        .unwrap_or_default()
                ),
            };
            return Ok(Redirect::to(&to).into_response());
        }
        Err(RegistryError::Invalid(errors)) => errors,
        Err(RegistryError::InvalidField { field, message }) => {
            vec![FieldError::new(field, message)]
        }
        Err(RegistryError::SurveyOutdated(current)) => {
            return outdated(&state, &page, &code, form, &current).await;
        }
        Err(other) => return Err(not_here(other)),
    };
    // The village's screen as it is now, with the form as it was typed.
    let flow = surveys::township_entry(&state.db, &code, &acting(&page))
        .await
        .map_err(not_here)?;
    let at = flow
        .position(&code)
        .ok_or(PageError::Status(StatusCode::NOT_FOUND))?;
    let here = &flow.villages[at];
    let typed = count(&form, "eligible_total", &mut Vec::new());
    let confirmed =
        typed.is_some() && count(&form, "confirm_large_change", &mut Vec::new()) == typed;
    // The 3x rule broke when the total is in range and more than 3x away from the current
    // survey's (the service names `eligible_total` then): asked about, not shown as an error.
    let large = match (here.current.as_ref(), typed) {
        (Some(current), Some(total))
            if !confirmed
                && (0..=MAX_COUNT).contains(&total)
                && is_large_change(i64::from(current.eligible_total), total)
                && errors.iter().any(|e| e.field == "eligible_total") =>
        {
            Some((current, total))
        }
        _ => None,
    };
    let shown: Vec<FieldError> = errors
        .into_iter()
        .filter(|e| !(large.is_some() && e.field == "eligible_total"))
        .collect();
    let (question, asked_total) = match large {
        Some((current, total)) => (
            page.lang.tn(
                "survey-large-change",
                &[
                    ("village", here.village.name.clone().into()),
                    ("previous", current.eligible_total.into()),
                    ("date", full_date(page.lang, current.surveyed_on).into()),
                    ("count", total.into()),
                ],
            ),
            total.to_string(),
        ),
        None => (String::new(), String::new()),
    };
    let problem = if shown.is_empty() {
        String::new()
    } else {
        page.t("refused-fields")
    };
    let form = SurveyForm {
        state: FormState {
            values: form,
            errors: field_errors(&page, &shown),
        },
        question,
        asked_total,
        conflict: vec![],
    };
    let said = Said {
        problem,
        ..Said::default()
    };
    Ok(entry_page(
        &page,
        &flow,
        at,
        form,
        said,
        StatusCode::BAD_REQUEST,
    ))
}

/// The answer when another survey became the village's current one after the screen the
/// official typed on (a form kept on the phone without signal, sent later): theirs and the
/// current one side by side, what was typed kept, and the form now based on the current
/// survey, so that saving again records theirs and Skip keeps the current one.
async fn outdated(
    state: &AppState,
    page: &Page,
    code: &str,
    mut form: FormFields,
    current: &entity::village_survey::Model,
) -> Result<Response, PageError> {
    let flow = surveys::township_entry(&state.db, code, &acting(page))
        .await
        .map_err(not_here)?;
    let at = flow
        .position(code)
        .ok_or(PageError::Status(StatusCode::NOT_FOUND))?;
    let here = &flow.villages[at];
    let source_words = |raw: &str| {
        SurveySource::parse(raw)
            .map(|src| page.t(&format!("survey-source-{}", src.as_str())))
            .unwrap_or_else(|| raw.to_owned())
    };
    let date_words = |raw: &str| {
        NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .map(|d| full_date(page.lang, d))
            .unwrap_or_else(|_| raw.to_owned())
    };
    let who = current
        .surveyed_by
        .clone()
        .or_else(|| current.created_by.clone())
        .unwrap_or_default();
    let conflict = vec![
        ConflictRow {
            label: page.t("survey-eligible"),
            mine: form.raw("eligible_total").trim().to_owned(),
            current: current.eligible_total.to_string(),
        },
        ConflictRow {
            label: page.t("survey-surveyed-on"),
            mine: date_words(&form.raw("surveyed_on")),
            current: full_date(page.lang, current.surveyed_on),
        },
        ConflictRow {
            label: page.t("survey-source"),
            mine: source_words(form.raw("source").trim()),
            current: source_words(&current.source),
        },
        ConflictRow {
            label: page.t("survey-surveyed-by"),
            mine: form.raw("surveyed_by").trim().to_owned(),
            current: who.clone(),
        },
    ];
    let problem = page.lang.tn(
        "survey-outdated",
        &[
            ("village", here.village.name.clone().into()),
            ("count", current.eligible_total.into()),
            ("date", full_date(page.lang, current.surveyed_on).into()),
        ],
    );
    form.set("based_on", current.id.to_string());
    let form = SurveyForm {
        state: FormState::new(form),
        conflict,
        ..SurveyForm::default()
    };
    let said = Said {
        problem,
        ..Said::default()
    };
    Ok(entry_page(
        page,
        &flow,
        at,
        form,
        said,
        StatusCode::CONFLICT,
    ))
}

// ---------------------------------------------------------------------------------------
// The survey sheet: download, upload, preview, apply or cancel.

#[derive(Debug, Default, Deserialize)]
pub struct SheetQuery {
    township: Option<String>,
    format: Option<String>,
}

/// `GET /township/surveys/sheet/download?township=&format=csv|xlsx`: the township's sheet, as
/// the API's export makes it (each village with its current survey, or blank to fill in).
async fn download(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<SheetQuery>,
) -> Result<Response, PageError> {
    // The reader's own townships only (the API also lets a township official read the rest of
    // the county; these pages are for entering).
    let township = query.township.unwrap_or_default();
    may_enter(&page, &township)?;
    let command = ExportSheet {
        region: township,
        format: query.format,
        lang: page.lang,
    };
    let file = sheets::export(&state.db, command, &acting(&page))
        .await
        .map_err(not_here)?;
    let (content_type, ext) = match file.format {
        SheetFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        SheetFormat::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let disposition = format!("attachment; filename=\"surveys-{}.{ext}\"", file.region);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        file.bytes,
    )
        .into_response())
}

/// The desk again, with why the upload was not taken (status 400).
async fn desk_refusal(
    state: &AppState,
    page: &Page,
    township: &str,
    problem: String,
) -> Result<Response, PageError> {
    let found = surveys::desk(&state.db, Some(township), &acting(page))
        .await
        .map_err(not_here)?;
    Ok(desk_page(
        page,
        found,
        String::new(),
        problem,
        StatusCode::BAD_REQUEST,
    ))
}

/// `POST /township/surveys/sheet?township=` (a multipart form with the file as `sheet`):
/// keeps the sheet and goes to its preview. Asked before the body is read, like the API's
/// import: may the reader import there, and is no other sheet of theirs being read.
async fn upload(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<SheetQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let township = query.township.unwrap_or_default();
    may_enter(&page, &township)?;
    let _turn = upload_turn(&state, &page)?;
    let Ok(mut multipart) = multipart else {
        return desk_refusal(&state, &page, &township, page.t("sheet-choose-file")).await;
    };
    let mut file: Option<(String, Option<String>, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(unreadable(&page, e.status())),
        };
        if field.name() != Some("sheet") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let content_type = field.content_type().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| unreadable(&page, e.status()))?;
        file = Some((name, content_type, bytes.to_vec()));
    }
    let Some((name, content_type, bytes)) = file.filter(|(_, _, b)| !b.is_empty()) else {
        return desk_refusal(&state, &page, &township, page.t("sheet-choose-file")).await;
    };
    let Some(format) =
        SheetFormat::from_content_type_or_name(content_type.as_deref(), Some(name.as_str()))
    else {
        return desk_refusal(&state, &page, &township, page.t("sheet-not-a-sheet")).await;
    };
    let key = crate::auth::secret::random_hex().map_err(AppError::Internal)?;
    let account = page
        .caller
        .principal
        .as_ref()
        .ok_or(PageError::SignIn)?
        .user_id;
    state.kept_sheets.keep(
        key.clone(),
        KeptSheet {
            account,
            region: township,
            format: match format {
                SheetFormat::Csv => "csv",
                SheetFormat::Xlsx => "xlsx",
            }
            .to_owned(),
            file_name: name,
            bytes: std::sync::Arc::new(bytes),
        },
    );
    Ok(Redirect::to(&format!("/township/surveys/sheet/{key}")).into_response())
}

/// An upload that could not be read: too large (413, saying the limit) or broken (400).
fn unreadable(page: &Page, status: StatusCode) -> PageError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        PageError::Said(status, page.t("sheet-too-large"))
    } else {
        PageError::Said(StatusCode::BAD_REQUEST, page.t("sheet-unreadable"))
    }
}

/// The reader's kept sheet `key` (none once forgotten or expired, or another's).
fn kept(state: &AppState, page: &Page, key: &str) -> Option<KeptSheet> {
    let account = page.caller.principal.as_ref()?.user_id;
    state.kept_sheets.get(key, account)
}

/// Where a preview that is gone leads: the desk, saying so.
fn gone() -> Response {
    Redirect::to("/township/surveys?expired=1").into_response()
}

/// The sheet's import, dry or not.
fn import_of(sheet: &KeptSheet, dry_run: bool, confirm_older: bool) -> ImportSheet {
    ImportSheet {
        region: sheet.region.clone(),
        bytes: sheet.bytes.to_vec(),
        format: Some(sheet.format.clone()),
        content_type: None,
        crs: crate::geo::Crs::default(),
        dry_run,
        confirm_older,
    }
}

/// `GET /township/surveys/sheet/{key}`: what the kept sheet would change (the import's dry
/// run, against the surveys as they are now), or every row it cannot take and why.
async fn preview(
    State(state): State<AppState>,
    page: Page,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    let Some(sheet) = kept(&state, &page, &key) else {
        return Ok(gone());
    };
    may_enter(&page, &sheet.region)?;
    let _turn = upload_turn(&state, &page)?;
    let outcome = sheets::import(
        &state.db,
        import_of(&sheet, true, false),
        &acting(&page),
        Utc::now(),
    )
    .await;
    preview_page(&page, &key, &sheet, outcome, StatusCode::OK)
}

/// The preview of `outcome` (a dry run's report, or the sheet's problems).
fn preview_page(
    page: &Page,
    key: &str,
    sheet: &KeptSheet,
    outcome: Result<ImportReport, RegistryError>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = page.lang;
    let mut body = SheetPreviewPage {
        page,
        key: key.to_owned(),
        township: sheet.region.clone(),
        file_name: sheet.file_name.clone(),
        rows: vec![],
        unchanged: 0,
        older: 0,
        summary: String::new(),
        problems: vec![],
        problems_total: 0,
        can_apply: false,
    };
    match outcome {
        Ok(report) => {
            body.rows = report
                .rows
                .iter()
                .filter(|r| r.outcome != RowOutcome::Unchanged || r.sets_location)
                .map(|r| preview_row(page, r))
                .collect();
            body.unchanged = report.unchanged;
            body.older = report.older;
            body.summary = page.t1(
                "sheet-summary",
                "count",
                report.surveys_recorded + report.older,
            );
            if report.locations_set > 0 {
                body.summary.push(' ');
                body.summary.push_str(&page.t1(
                    "sheet-summary-places",
                    "count",
                    report.locations_set,
                ));
            }
            body.can_apply = report.surveys_recorded + report.older + report.locations_set > 0;
        }
        Err(RegistryError::BadSheet { total, errors }) => {
            body.problems_total = total;
            body.problems = errors.iter().map(|e| sheet_problem(lang, e)).collect();
        }
        Err(other) => return Err(not_here(other)),
    }
    let mut response = html(&body);
    *response.status_mut() = status;
    Ok(response)
}

fn preview_row(page: &Page, r: &sheets::ImportedRow) -> PreviewRow {
    let lang = page.lang;
    let mut warnings = Vec::new();
    if r.outcome == RowOutcome::Older || r.outcome == RowOutcome::History {
        warnings.push(
            page.t1(
                "sheet-row-older",
                "date",
                r.previous_surveyed_on
                    .map(|d| full_date(lang, d))
                    .unwrap_or_default(),
            ),
        );
    }
    if r.outcome != RowOutcome::Unchanged
        && r.previous_total
            .is_some_and(|p| is_large_change(p, r.eligible_total))
    {
        warnings.push(page.t("sheet-row-large-change"));
    }
    if r.sets_location {
        warnings.push(page.t("sheet-row-location"));
    }
    PreviewRow {
        village: r.village_name.clone(),
        before: r
            .previous_total
            .map(|p| p.to_string())
            .unwrap_or_else(|| page.t("sheet-none-before")),
        after: if r.outcome == RowOutcome::Unchanged {
            page.t("sheet-row-same")
        } else {
            page.t1("survey-people", "count", r.eligible_total)
        },
        date: full_date(lang, r.surveyed_on),
        warnings,
    }
}

/// A problem of the sheet in plain words: the row, the column as people name it, what to do.
fn sheet_problem(lang: Lang, e: &FieldError) -> SheetProblem {
    let field = e.field.as_str();
    let column_id = format!("sheet-column-{field}");
    let column = lang.t(&column_id);
    let hint_id = format!("sheet-hint-{field}");
    let hint = lang.t(&hint_id);
    let known = hint != hint_id;
    SheetProblem {
        row: e
            .row
            .map(|r| lang.t1("sheet-row", "row", r))
            .unwrap_or_default(),
        column: if column == column_id {
            field.to_owned()
        } else {
            column
        },
        message: if known { hint } else { e.message.clone() },
        // The service's words too, when ours are general (which village, which value).
        detail: if known {
            e.message.clone()
        } else {
            String::new()
        },
    }
}

/// `POST /township/surveys/sheet/{key}/apply`: imports the kept sheet for real (all rows or
/// none, as the API's import), then back to the desk saying how many surveys were recorded;
/// or the preview again with what stops it.
async fn apply(
    State(state): State<AppState>,
    page: Page,
    Path(key): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    let Some(sheet) = kept(&state, &page, &key) else {
        return Ok(gone());
    };
    let township = may_enter(&page, &sheet.region)?;
    let _turn = upload_turn(&state, &page)?;
    let confirm_older = form.get("confirm_older").is_some();
    let outcome = sheets::import(
        &state.db,
        import_of(&sheet, false, confirm_older),
        &acting(&page),
        Utc::now(),
    )
    .await;
    match outcome {
        Ok(report) => {
            if let Some(p) = page.caller.principal.as_ref() {
                state.kept_sheets.forget(&key, p.user_id);
            }
            tracing::info!(region = %township, recorded = report.surveys_recorded, "sheet applied from the page");
            Ok(Redirect::to(&format!(
                "/township/surveys?township={township}&applied={}",
                report.surveys_recorded
            ))
            .into_response())
        }
        Err(RegistryError::Conflict(_)) => Err(PageError::Said(
            StatusCode::CONFLICT,
            page.t("sheet-conflict"),
        )),
        Err(err @ RegistryError::BadSheet { .. }) => {
            preview_page(&page, &key, &sheet, Err(err), StatusCode::BAD_REQUEST)
        }
        Err(other) => Err(not_here(other)),
    }
}

/// `POST /township/surveys/sheet/{key}/cancel`: forgets the kept sheet; nothing was changed.
async fn cancel(
    State(state): State<AppState>,
    page: Page,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    let Some(principal) = page.caller.principal.as_ref() else {
        return Err(PageError::SignIn);
    };
    let township = state
        .kept_sheets
        .get(&key, principal.user_id)
        .map(|s| s.region)
        .unwrap_or_default();
    state.kept_sheets.forget(&key, principal.user_id);
    Ok(Redirect::to(&format!(
        "/township/surveys?township={}&cancelled=1",
        percent_encode(&township)
    ))
    .into_response())
}
