//! The station's administration pages (issue 15), under `/station/admin`: accounts with their
//! roles, regions and sign-in locks; API tokens (the secret shown once, on the page that made
//! it); the audit log, newest first, filtered and paged; the outbox of messages to donors by
//! state (to send by hand, pending, failed, sent…), a failed one sent again, one sent by hand
//! marked so.
//!
//! Each page asks what the API asks and calls the service the API calls: accounts are for
//! admins, and an admin bound to regions manages only the accounts inside them (any other
//! reads as not found); tokens are the reader's own and, for admins, those of the accounts
//! they manage; the audit log follows its reading rules (`audit::read`); the whole outbox is
//! for admins of the whole database, while admins and station staff send messages by hand
//! for the drives of their regions. Township officials and viewers get the plain 403 page.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::accounts::users::{self, ManagedAccount, UnlockAccount};
use crate::accounts::{
    self, AccountsError, Acting, ChangeAccount, IssueToken, NewAccount, RevokeToken, TokenView,
    Update,
};
use crate::audit::{self, AuditError, AuditQuery};
use crate::auth::Credential;
use crate::domain::account::{Principal, Role};
use crate::domain::booking::china;
use crate::domain::point::mask_phone;
use crate::domain::policy::{self, Action, Resource};
use crate::error::FieldError;
use crate::outbox::{self, by_hand};
use crate::state::AppState;
use crate::web::context::Page;
use crate::web::errors::PageError;
use crate::web::forms::{FormFields, FormState, hinted_errors};
use crate::web::templates::{Choice, ConflictRow, html};

/// Audit records per page.
const AUDIT_PAGE: u64 = 50;
/// Messages per page of the outbox.
const OUTBOX_PAGE: u64 = 50;

/// The outbox's states, in the order of its tabs: what waits for staff first.
const STATES: [&str; 6] = [
    outbox::TO_SEND_BY_HAND,
    "pending",
    "failed",
    "sent",
    "void",
    outbox::SUPPRESSED,
];

/// The kinds of record the audit log holds, for its filter.
const ENTITIES: [&str; 31] = [
    "point",
    "coordinator",
    "point_coordinators",
    "region",
    "survey",
    "station",
    "vehicle",
    "drive",
    "checklist_template",
    "checklist_item",
    "booking",
    "group_request",
    "attendance",
    "outbox_message",
    "user",
    "token",
    "drive_stop",
    "host",
    "host_contact",
    "publicity_talk",
    "donor",
    "recruitment_rules",
    "recruitment_need",
    "recruitment_call",
    "appeal",
    "appeal_template",
    "chat_group",
    "inventory",
    "inventory_levels",
    "blood_request",
    "blood_offer",
];

/// The actions the audit log records, for its filter (a drive's records name its new status).
const ACTIONS: [&str; 37] = [
    "create",
    "update",
    "close",
    "delete",
    "assign",
    "unassign",
    "published",
    "in_progress",
    "completed",
    "cancelled",
    "correct",
    "confirm",
    "decline",
    "move",
    "cancel",
    "reveal",
    "sent_by_hand",
    "retry",
    "unlock",
    "revoke",
    "done",
    "undone",
    "reopen",
    "consent",
    "withdraw",
    "view_mobile",
    "record",
    "send",
    "signup_goal",
    "signup_link",
    "signup_revoke",
    "staff_book",
    "book",
    "post",
    "accept",
    "dispatch",
    "receive",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/station/admin", get(index))
        .route("/station/admin/accounts", get(account_list))
        .route(
            "/station/admin/accounts/new",
            get(new_account).post(create_account),
        )
        .route(
            "/station/admin/accounts/{id}",
            get(account).post(change_account),
        )
        .route("/station/admin/accounts/{id}/disabled", post(set_disabled))
        .route("/station/admin/accounts/{id}/unlock", post(unlock))
        .route("/station/admin/accounts/{id}/password", post(set_password))
        .route("/station/admin/tokens", get(tokens).post(create_token))
        .route("/station/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/station/admin/audit", get(audit_log))
        .route("/station/admin/outbox", get(outbox_page))
        .route("/station/admin/outbox/{id}/retry", post(retry))
        .route("/station/admin/outbox/{id}/sent", post(mark_sent))
}

// --- who may ---

/// Admins and station staff; sign in first for nobody, 403 for everyone else.
fn staff(page: &Page) -> Result<&Principal, PageError> {
    let Some(principal) = page.caller.principal.as_ref() else {
        return Err(PageError::SignIn);
    };
    if page.is_staff() {
        Ok(principal)
    } else {
        Err(PageError::status(StatusCode::FORBIDDEN))
    }
}

/// Those who manage accounts (admins); 403 for other staff.
fn admin(page: &Page) -> Result<&Principal, PageError> {
    let principal = staff(page)?;
    if policy::manages_accounts(principal) {
        Ok(principal)
    } else {
        Err(PageError::status(StatusCode::FORBIDDEN))
    }
}

/// Whether the reader may read the whole outbox (the policy's answer for the API's listing).
fn whole_outbox(principal: &Principal) -> bool {
    policy::can(Some(principal), Action::Read, Resource::Outbox) == policy::Decision::Allow
}

fn acting<'a>(page: &Page, principal: &'a Principal) -> Acting<'a> {
    Acting::Account {
        principal,
        actor: page.caller.actor(),
    }
}

/// An id in a path: anything else is no such record.
fn id_of(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(PageError::status(StatusCode::NOT_FOUND))
}

// --- shown to people ---

/// An instant as staff read it, in China's time: `2026-12-01 10:00`.
fn when(at: DateTime<Utc>) -> String {
    at.with_timezone(&china())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn when_or_never(page: &Page, at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| page.t("sadmin-never"), when)
}

/// The catalogue's word for `value` of a kind (`sadmin-role-admin`), else the value itself.
fn label(page: &Page, kind: &str, value: &str) -> String {
    let id = format!("sadmin-{kind}-{value}");
    let text = page.t(&id);
    if text == id { value.to_owned() } else { text }
}

fn role_choices(page: &Page) -> Vec<Choice> {
    Role::ALL
        .iter()
        .map(|r| Choice {
            value: r.as_str().to_owned(),
            label: label(page, "role", r.as_str()),
        })
        .collect()
}

/// The `done=` of a redirect after a change, as the sentence saying it.
fn notice(page: &Page, done: Option<&str>) -> String {
    match done {
        Some(
            d @ ("saved" | "created" | "unlocked" | "disabled" | "enabled" | "password" | "revoked"
            | "retried" | "sent" | "unchanged"),
        ) => page.t(&format!("sadmin-done-{d}")),
        _ => String::new(),
    }
}

/// Field errors beside their fields: this area's hint for the field of this form
/// (`sadmin-hint-{form}-{field}`), else the shared hints of the account forms, else the
/// service's own message. `regions[2]` shows at `regions`, `username-taken` at `username`.
fn shown_errors(page: &Page, form: &str, errors: &[FieldError]) -> Vec<(String, String)> {
    hinted_errors(page, &format!("sadmin-hint-{form}"), "account", errors)
        .into_iter()
        // `username-taken` picked its own hint; it is shown at `username`.
        .map(|(field, text)| {
            let field = field.strip_suffix("-taken").unwrap_or(&field).to_owned();
            (field, text)
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    done: Option<String>,
}

// --- the index ---

/// A page of the administration, as the index lists it.
#[derive(Debug, Clone)]
pub struct AdminLink {
    pub href: String,
    pub title: String,
    pub lead: String,
}

#[derive(askama::Template)]
#[template(path = "sadmin_index.html")]
struct IndexPage<'a> {
    page: &'a Page,
    links: Vec<AdminLink>,
}

/// `GET /station/admin`: the administration's pages the reader may open.
async fn index(page: Page) -> Result<Response, PageError> {
    let principal = staff(&page)?;
    let link = |href: &str, key: &str| AdminLink {
        href: href.to_owned(),
        title: page.t(&format!("sadmin-index-{key}")),
        lead: page.t(&format!("sadmin-index-{key}-lead")),
    };
    let mut links = Vec::new();
    if policy::manages_accounts(principal) {
        links.push(link("/station/admin/accounts", "accounts"));
        links.push(link("/admin/accounts/new", "official"));
    }
    links.push(link("/station/admin/tokens", "tokens"));
    links.push(link("/station/admin/audit", "audit"));
    if whole_outbox(principal) {
        links.push(link("/station/admin/outbox", "outbox"));
    } else {
        links.push(link("/station/admin/outbox", "by-hand"));
    }
    Ok(html(&IndexPage { page: &page, links }))
}

// --- accounts ---

/// An account in the list and at the top of its page.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// `东岭镇 (411102101000)`, each.
    pub regions: Vec<String>,
    pub disabled: bool,
    pub locked: bool,
    pub last_sign_in: String,
}

fn account_row(page: &Page, account: &ManagedAccount) -> AccountRow {
    let user = &account.user;
    AccountRow {
        id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: label(page, "role", user.role.as_str()),
        regions: account
            .regions
            .iter()
            .map(|(code, name)| {
                if code == name {
                    code.clone()
                } else {
                    format!("{name} ({code})")
                }
            })
            .collect(),
        disabled: user.disabled,
        locked: account.locked_until.is_some(),
        last_sign_in: when_or_never(page, user.last_login_at),
    }
}

#[derive(askama::Template)]
#[template(path = "sadmin_accounts.html")]
struct AccountsPage<'a> {
    page: &'a Page,
    rows: Vec<AccountRow>,
}

/// `GET /station/admin/accounts`: the accounts the admin manages.
async fn account_list(State(state): State<AppState>, page: Page) -> Result<Response, PageError> {
    let principal = admin(&page)?;
    let by = acting(&page, principal);
    let accounts = users::managed_accounts(&state.db, &by, state.clock.now()).await?;
    let rows = accounts.iter().map(|a| account_row(&page, a)).collect();
    Ok(html(&AccountsPage { page: &page, rows }))
}

/// Region codes as typed: separated by commas, spaces, `、` or new lines.
fn regions_typed(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c == '，' || c == '、' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(askama::Template)]
#[template(path = "sadmin_account_new.html")]
struct NewAccountPage<'a> {
    page: &'a Page,
    form: FormState,
    roles: Vec<Choice>,
    problem: String,
}

/// `GET /station/admin/accounts/new`: the form for a staff account.
async fn new_account(page: Page) -> Result<Response, PageError> {
    admin(&page)?;
    Ok(html(&NewAccountPage {
        page: &page,
        form: FormState::new(FormFields::of(&[(
            "role",
            Role::StationStaff.as_str().to_owned(),
        )])),
        roles: role_choices(&page),
        problem: String::new(),
    }))
}

/// The passwords are never sent back.
fn without_passwords(form: FormFields) -> FormFields {
    FormFields(
        form.0
            .into_iter()
            .filter(|(k, _)| k != "password" && k != "repeat_password")
            .collect(),
    )
}

/// `POST /station/admin/accounts/new`: creates the account (role and regions as picked) and
/// opens its page; refused, the form as typed (the passwords aside) with the errors beside
/// the fields.
async fn create_account(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    let principal = admin(&page)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let password = form.raw("password");
    if password != form.raw("repeat_password") {
        errors.push(FieldError::new("repeat_password", "differs"));
    }
    let role = form.get("role").and_then(|r| r.parse::<Role>().ok());
    if role.is_none() {
        errors.push(FieldError::new("role", "pick one"));
    }
    let result = match role {
        Some(role) if errors.is_empty() => {
            let command = NewAccount {
                username: form.raw("username"),
                display_name: form.get("display_name"),
                role,
                regions: regions_typed(&form.raw("regions")),
                password,
            };
            let by = acting(&page, principal);
            users::create_user(&state.db, command, &by, state.clock.now()).await
        }
        _ => Err(AccountsError::Invalid {
            detail: String::new(),
            errors,
        }),
    };
    let (status, errors, problem) = match result {
        Ok(user) => {
            let to = format!("/station/admin/accounts/{}?done=created", user.id);
            return Ok(Redirect::to(&to).into_response());
        }
        Err(refusal) => refused(&page, refusal)?,
    };
    let mut response = html(&NewAccountPage {
        page: &page,
        form: FormState {
            values: without_passwords(form),
            errors: shown_errors(&page, "account", &errors),
        },
        roles: role_choices(&page),
        problem,
    });
    *response.status_mut() = status;
    Ok(response)
}

/// A refusal of the accounts service as a form shows it: the status, the fields in error and
/// the sentence at the top; any other error as it was (no refusal of the form: a page of its
/// own).
fn refused(
    page: &Page,
    err: AccountsError,
) -> Result<(StatusCode, Vec<FieldError>, String), AccountsError> {
    let fields = page.t("refused-fields");
    Ok(match err {
        AccountsError::Invalid { errors, .. } => (StatusCode::BAD_REQUEST, errors, fields),
        AccountsError::WeakPassword(message) => (
            StatusCode::BAD_REQUEST,
            vec![FieldError::new("password", message.as_str())],
            fields,
        ),
        AccountsError::UsernameTaken(_) => (
            StatusCode::CONFLICT,
            vec![FieldError::new("username-taken", "taken")],
            fields,
        ),
        AccountsError::Forbidden(_) => (
            StatusCode::FORBIDDEN,
            vec![FieldError::new("regions", "out of reach")],
            page.t("sadmin-out-of-reach"),
        ),
        other => return Err(other),
    })
}

/// What the account page shows beside the account: each form as typed (or as stored), the
/// sentence at the top, and on a stale change what was typed beside what is stored.
#[derive(Debug, Default)]
struct AccountForms {
    change: Option<FormState>,
    password: FormState,
    disabled_error: String,
    notice: String,
    problem: String,
    conflict: Vec<ConflictRow>,
}

#[derive(askama::Template)]
#[template(path = "sadmin_account.html")]
struct AccountPage<'a> {
    page: &'a Page,
    account: AccountRow,
    version: i32,
    created: String,
    failures: u64,
    locked_until: String,
    myself: bool,
    change: FormState,
    password: FormState,
    disabled_error: String,
    roles: Vec<Choice>,
    notice: String,
    problem: String,
    conflict: Vec<ConflictRow>,
}

/// The change form of `account` as stored.
fn stored_fields(account: &ManagedAccount) -> FormFields {
    let user = &account.user;
    FormFields::of(&[
        ("version", user.version.to_string()),
        ("display_name", user.display_name.clone()),
        ("role", user.role.as_str().to_owned()),
        (
            "regions",
            account
                .regions
                .iter()
                .map(|(c, _)| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ])
}

fn render_account(
    page: &Page,
    account: &ManagedAccount,
    status: StatusCode,
    forms: AccountForms,
) -> Response {
    let user = &account.user;
    let myself = page
        .caller
        .principal
        .as_ref()
        .is_some_and(|p| p.user_id == user.id);
    let mut response = html(&AccountPage {
        page,
        account: account_row(page, account),
        version: user.version,
        created: when(user.created_at),
        failures: account.failures,
        locked_until: account.locked_until.map(when).unwrap_or_default(),
        myself,
        change: forms
            .change
            .unwrap_or_else(|| FormState::new(stored_fields(account))),
        password: forms.password,
        disabled_error: forms.disabled_error,
        roles: role_choices(page),
        notice: forms.notice,
        problem: forms.problem,
        conflict: forms.conflict,
    });
    *response.status_mut() = status;
    response
}

/// `GET /station/admin/accounts/{id}`: an account the admin manages (404 for any other).
async fn account(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let principal = admin(&page)?;
    let id = id_of(&id)?;
    let by = acting(&page, principal);
    let account = users::managed_account(&state.db, id, &by, state.clock.now()).await?;
    let forms = AccountForms {
        notice: notice(&page, done.done.as_deref()),
        ..AccountForms::default()
    };
    Ok(render_account(&page, &account, StatusCode::OK, forms))
}

/// The version the form was made from (`None`: missing or not a number).
fn version_of(form: &FormFields) -> Option<i32> {
    form.get("version").and_then(|v| v.parse().ok())
}

/// `POST /station/admin/accounts/{id}`: changes the name, role and regions (only those that
/// differ from what is stored); a stale form shows what was typed beside what is stored.
async fn change_account(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    let principal = admin(&page)?;
    let id = id_of(&id)?;
    let by = acting(&page, principal);
    let now = state.clock.now();
    let current = users::managed_account(&state.db, id, &by, now).await?;
    let stored = stored_fields(&current);
    let refuse = |status: StatusCode, errors: Vec<FieldError>, problem: String| {
        let forms = AccountForms {
            change: Some(FormState {
                values: form.clone(),
                errors: shown_errors(&page, "account", &errors),
            }),
            problem,
            ..AccountForms::default()
        };
        render_account(&page, &current, status, forms)
    };
    let Some(version) = version_of(&form) else {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            vec![FieldError::new("version", "missing")],
            page.t("refused-fields"),
        ));
    };
    let role = match form.get("role").map(|r| r.parse::<Role>()) {
        Some(Ok(role)) => role,
        _ => {
            return Ok(refuse(
                StatusCode::BAD_REQUEST,
                vec![FieldError::new("role", "pick one")],
                page.t("refused-fields"),
            ));
        }
    };
    let typed_regions = regions_typed(&form.raw("regions"));
    let stored_regions = regions_typed(&stored.raw("regions"));
    let display_name = form.raw("display_name");
    let command = ChangeAccount {
        account: current.user.clone(),
        version: Some(version),
        display_name: (display_name.trim() != current.user.display_name).then_some(display_name),
        role: (role != current.user.role).then_some(role),
        regions: (typed_regions != stored_regions).then_some(typed_regions),
        disabled: None,
        password: None,
    };
    if command.display_name.is_none() && command.role.is_none() && command.regions.is_none() {
        let to = format!("/station/admin/accounts/{id}?done=unchanged");
        return Ok(Redirect::to(&to).into_response());
    }
    match users::update_user(&state.db, command, &by, now).await {
        Ok(Update::Done(_)) => {
            Ok(Redirect::to(&format!("/station/admin/accounts/{id}?done=saved")).into_response())
        }
        Ok(Update::Stale) => {
            let latest = users::managed_account(&state.db, id, &by, now).await?;
            let now_stored = stored_fields(&latest);
            let conflict = ["display_name", "role", "regions"]
                .into_iter()
                .filter(|f| form.raw(f).trim() != now_stored.raw(f).trim())
                .map(|f| {
                    let shown = |v: String| match f {
                        "role" => label(&page, "role", &v),
                        _ => v,
                    };
                    ConflictRow {
                        label: page.t(&format!("sadmin-account-{f}")),
                        mine: shown(form.raw(f)),
                        current: shown(now_stored.raw(f)),
                    }
                })
                .collect();
            let mut kept = form.clone();
            kept.set("version", latest.user.version.to_string());
            let forms = AccountForms {
                change: Some(FormState::new(kept)),
                problem: page.t("sadmin-account-stale"),
                conflict,
                ..AccountForms::default()
            };
            Ok(render_account(&page, &latest, StatusCode::CONFLICT, forms))
        }
        Err(err) => {
            let (status, errors, problem) = refused(&page, err)?;
            Ok(refuse(status, errors, problem))
        }
    }
}

/// A change of one thing to an account (disabled, password), made against `version`.
fn change_of(current: &ManagedAccount, version: i32) -> ChangeAccount {
    ChangeAccount {
        account: current.user.clone(),
        version: Some(version),
        display_name: None,
        role: None,
        regions: None,
        disabled: None,
        password: None,
    }
}

/// `POST /station/admin/accounts/{id}/disabled` (`disabled=true|false`): disables an account
/// (its sessions end, its tokens stop) or enables it again.
async fn set_disabled(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    let principal = admin(&page)?;
    let id = id_of(&id)?;
    let by = acting(&page, principal);
    let now = state.clock.now();
    let current = users::managed_account(&state.db, id, &by, now).await?;
    let disabled = match form.get("disabled").as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(PageError::status(StatusCode::BAD_REQUEST)),
    };
    let Some(version) = version_of(&form) else {
        return Err(PageError::status(StatusCode::BAD_REQUEST));
    };
    let mut command = change_of(&current, version);
    command.disabled = Some(disabled);
    match users::update_user(&state.db, command, &by, now).await {
        Ok(Update::Done(_)) => {
            let done = if disabled { "disabled" } else { "enabled" };
            let to = format!("/station/admin/accounts/{id}?done={done}");
            Ok(Redirect::to(&to).into_response())
        }
        Ok(Update::Stale) => {
            let latest = users::managed_account(&state.db, id, &by, now).await?;
            let forms = AccountForms {
                problem: page.t("sadmin-account-stale-retry"),
                ..AccountForms::default()
            };
            Ok(render_account(&page, &latest, StatusCode::CONFLICT, forms))
        }
        Err(AccountsError::Invalid { .. }) => {
            // Said at the top too: one's own page has no such button to say it beside.
            let forms = AccountForms {
                disabled_error: page.t("sadmin-hint-account-disabled"),
                problem: page.t("sadmin-hint-account-disabled"),
                ..AccountForms::default()
            };
            Ok(render_account(
                &page,
                &current,
                StatusCode::BAD_REQUEST,
                forms,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /station/admin/accounts/{id}/unlock`: lifts the lock failed sign-ins put on the
/// account (audited).
async fn unlock(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let principal = admin(&page)?;
    let id = id_of(&id)?;
    let by = acting(&page, principal);
    accounts::unlock(&state.db, UnlockAccount { id }, &by, state.clock.now()).await?;
    Ok(Redirect::to(&format!("/station/admin/accounts/{id}?done=unlocked")).into_response())
}

/// `POST /station/admin/accounts/{id}/password`: sets a new password (its sessions end);
/// refused, the errors beside the fields (nothing typed is sent back).
async fn set_password(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response, PageError> {
    let principal = admin(&page)?;
    let id = id_of(&id)?;
    let by = acting(&page, principal);
    let now = state.clock.now();
    let current = users::managed_account(&state.db, id, &by, now).await?;
    let Some(version) = version_of(&form) else {
        return Err(PageError::status(StatusCode::BAD_REQUEST));
    };
    let password = form.raw("password");
    let result = if password == form.raw("repeat_password") {
        let mut command = change_of(&current, version);
        command.password = Some(password);
        users::update_user(&state.db, command, &by, now).await
    } else {
        Err(AccountsError::invalid("repeat_password", "differs"))
    };
    match result {
        Ok(Update::Done(_)) => {
            let to = format!("/station/admin/accounts/{id}?done=password");
            Ok(Redirect::to(&to).into_response())
        }
        Ok(Update::Stale) => {
            let latest = users::managed_account(&state.db, id, &by, now).await?;
            let forms = AccountForms {
                problem: page.t("sadmin-account-stale-retry"),
                ..AccountForms::default()
            };
            Ok(render_account(&page, &latest, StatusCode::CONFLICT, forms))
        }
        Err(err) => {
            let (status, errors, problem) = refused(&page, err)?;
            let forms = AccountForms {
                password: FormState {
                    values: FormFields::default(),
                    errors: shown_errors(&page, "account", &errors),
                },
                problem,
                ..AccountForms::default()
            };
            Ok(render_account(&page, &current, status, forms))
        }
    }
}

// --- tokens ---

/// A token in the list.
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    /// `live`, `expired` or `revoked`.
    pub state: String,
    pub state_label: String,
}

fn token_row(page: &Page, token: TokenView, now: DateTime<Utc>) -> TokenRow {
    let state = if token.revoked_at.is_some() {
        "revoked"
    } else if token.expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else {
        "live"
    };
    TokenRow {
        id: token.id,
        name: token.name,
        owner: token.username,
        created: when(token.created_at),
        expires: when_or_never(page, token.expires_at),
        last_used: when_or_never(page, token.last_used_at),
        state: state.to_owned(),
        state_label: page.t(&format!("sadmin-token-{state}")),
    }
}

/// A token just made, with its secret: shown on this page only.
#[derive(Debug, Clone)]
pub struct NewSecret {
    pub name: String,
    pub secret: String,
}

#[derive(askama::Template)]
#[template(path = "sadmin_tokens.html")]
struct TokensPage<'a> {
    page: &'a Page,
    rows: Vec<TokenRow>,
    form: FormState,
    created: Option<NewSecret>,
    notice: String,
    problem: String,
}

async fn render_tokens(
    state: &AppState,
    page: &Page,
    principal: &Principal,
    status: StatusCode,
    view: TokensView,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let rows = accounts::list_tokens(&state.db, principal)
        .await?
        .into_iter()
        .map(|t| token_row(page, t, now))
        .collect();
    let mut response = html(&TokensPage {
        page,
        rows,
        form: view.form,
        created: view.created,
        notice: view.notice,
        problem: view.problem,
    });
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Debug, Default)]
struct TokensView {
    form: FormState,
    created: Option<NewSecret>,
    notice: String,
    problem: String,
}

/// `GET /station/admin/tokens`: the reader's tokens and, for admins, those of the accounts
/// they manage (newest first, revoked ones too), and the form for a new one.
async fn tokens(
    State(state): State<AppState>,
    page: Page,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let principal = staff(&page)?;
    let view = TokensView {
        notice: notice(&page, done.done.as_deref()),
        ..TokensView::default()
    };
    render_tokens(&state, &page, principal, StatusCode::OK, view).await
}

/// `POST /station/admin/tokens`: a token for the signed-in account; the answer shows its
/// secret this once (it is not stored). Only from a session, as for the API: a token does not
/// make tokens.
async fn create_token(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    let principal = staff(&page)?;
    if !matches!(page.caller.credential, Some(Credential::Session { .. })) {
        return Err(PageError::status(StatusCode::FORBIDDEN));
    }
    let days = form.get("expires_in_days");
    let expires_in_days = match days.as_deref().map(str::parse::<u32>) {
        None => Ok(None),
        Some(Ok(days)) => Ok(Some(days)),
        Some(Err(_)) => Err(AccountsError::invalid("expires_in_days", "not a number")),
    };
    let result = match expires_in_days {
        Ok(expires_in_days) => {
            let command = IssueToken {
                owner: principal.user_id,
                name: form.raw("name"),
                expires_in_days,
            };
            accounts::issue_token(&state.db, command, page.caller.actor(), state.clock.now()).await
        }
        Err(e) => Err(e),
    };
    let (status, errors) = match result {
        Ok((token, secret)) => {
            let view = TokensView {
                created: Some(NewSecret {
                    name: token.name,
                    secret,
                }),
                ..TokensView::default()
            };
            return render_tokens(&state, &page, principal, StatusCode::CREATED, view).await;
        }
        Err(AccountsError::Invalid { errors, .. }) => (StatusCode::BAD_REQUEST, errors),
        Err(AccountsError::TokenNameTaken) => (
            StatusCode::CONFLICT,
            vec![FieldError::new("name-taken", "taken")],
        ),
        Err(e) => return Err(e.into()),
    };
    let view = TokensView {
        form: FormState {
            values: form,
            errors: shown_errors(&page, "token", &errors),
        },
        problem: page.t("refused-fields"),
        ..TokensView::default()
    };
    render_tokens(&state, &page, principal, status, view).await
}

/// `POST /station/admin/tokens/{id}/revoke`: the token stops working at once (404 for a token
/// the reader does not manage).
async fn revoke_token(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let principal = staff(&page)?;
    let id = id_of(&id)?;
    let by = acting(&page, principal);
    accounts::revoke_token(&state.db, RevokeToken { id }, &by, state.clock.now()).await?;
    Ok(Redirect::to("/station/admin/tokens?done=revoked").into_response())
}

// --- the audit log ---

/// The audit page's filters, as in its address.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuditAsked {
    entity: Option<String>,
    id: Option<String>,
    action: Option<String>,
    user: Option<String>,
    region: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
}

impl AuditAsked {
    /// The filters as the form shows them (the cursor aside).
    fn fields(&self) -> FormFields {
        let value = |v: &Option<String>| v.clone().unwrap_or_default();
        FormFields::of(&[
            ("entity", value(&self.entity)),
            ("id", value(&self.id)),
            ("action", value(&self.action)),
            ("user", value(&self.user)),
            ("region", value(&self.region)),
            ("from", value(&self.from)),
            ("to", value(&self.to)),
        ])
    }

    /// This page's address with another cursor (`None`: the newest).
    fn with_cursor(&self, cursor: Option<i64>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.fields().0 {
            let value = value.trim();
            if !value.is_empty() {
                query.append_pair(&name, value);
            }
        }
        if let Some(cursor) = cursor {
            query.append_pair("cursor", &cursor.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            "/station/admin/audit".to_owned()
        } else {
            format!("/station/admin/audit?{query}")
        }
    }
}

/// One line of what a change did: the field, before, after.
#[derive(Debug, Clone)]
pub struct ChangeLine {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// A record of the audit log as the page shows it.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub region: String,
    pub lines: Vec<ChangeLine>,
    /// Whether there was a before and an after.
    pub has_before: bool,
    pub has_after: bool,
}

/// A value of a recorded record as people read it: text as it is, lists joined, nothing as
/// a dash, anything nested as compact JSON.
fn readable(page: &Page, value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "—".to_owned(),
        Some(Value::String(s)) if s.is_empty() => "—".to_owned(),
        // An instant (as records store them, in UTC) in China's time.
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s).map_or_else(
            |_| s.clone(),
            |at| {
                at.with_timezone(&china())
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            },
        ),
        Some(Value::Bool(true)) => page.t("sadmin-yes"),
        Some(Value::Bool(false)) => page.t("sadmin-no"),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(items)) if items.is_empty() => "—".to_owned(),
        Some(Value::Array(items)) if items.iter().all(|i| !i.is_object() && !i.is_array()) => items
            .iter()
            .map(|i| readable(page, Some(i)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

/// What a change did, field by field: for an update only the fields that changed; for a
/// creation (or a deletion) every field of what was made (or removed).
fn change_lines(page: &Page, before: Option<&Value>, after: Option<&Value>) -> Vec<ChangeLine> {
    let objects = (
        before.and_then(Value::as_object),
        after.and_then(Value::as_object),
    );
    match objects {
        (Some(b), Some(a)) => {
            let mut keys: Vec<&String> = b.keys().collect();
            keys.extend(a.keys().filter(|k| !b.contains_key(*k)));
            keys.into_iter()
                .filter(|k| b.get(*k) != a.get(*k))
                // The version and the time of the change say nothing the record does not.
                .filter(|k| !matches!(k.as_str(), "version" | "updated_at"))
                .map(|k| ChangeLine {
                    field: label(page, "field", k),
                    before: readable(page, b.get(k)),
                    after: readable(page, a.get(k)),
                })
                .collect()
        }
        (Some(b), None) if after.is_none() => b
            .iter()
            .map(|(k, v)| ChangeLine {
                field: label(page, "field", k),
                before: readable(page, Some(v)),
                after: "—".to_owned(),
            })
            .collect(),
        (None, Some(a)) if before.is_none() => a
            .iter()
            .map(|(k, v)| ChangeLine {
                field: label(page, "field", k),
                before: "—".to_owned(),
                after: readable(page, Some(v)),
            })
            .collect(),
        // Lists (a point's coordinators) and other shapes: whole, before and after.
        _ => vec![ChangeLine {
            field: String::new(),
            before: readable(page, before),
            after: readable(page, after),
        }],
    }
}

fn audit_row(page: &Page, record: entity::audit_log::Model) -> AuditRow {
    let parse = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
    };
    let before = parse(&record.before);
    let after = parse(&record.after);
    AuditRow {
        at: when(record.at),
        actor: record.actor.unwrap_or_else(|| "—".to_owned()),
        entity: label(page, "entity", &record.entity),
        entity_id: record.entity_id,
        action: label(page, "action", &record.action),
        region: record.region_code.unwrap_or_default(),
        lines: change_lines(page, before.as_ref(), after.as_ref()),
        has_before: before.is_some(),
        has_after: after.is_some(),
    }
}

#[derive(askama::Template)]
#[template(path = "sadmin_audit.html")]
struct AuditPage<'a> {
    page: &'a Page,
    form: FormState,
    /// The regions offered for the `region` filter.
    region_choices: Vec<crate::web::templates::PlaceLink>,
    entities: Vec<Choice>,
    actions: Vec<Choice>,
    rows: Vec<AuditRow>,
    /// The next (older) page's address, when there is one.
    older: String,
    /// The newest page's address, when this is not it.
    newest: String,
    problem: String,
}

/// A day typed as `2026-12-01`: its first instant in China (`next_day`: the next day's),
/// for the filters `from` and `to` (both days included).
fn day_start(
    raw: Option<&str>,
    field: &str,
    next_day: bool,
) -> Result<Option<DateTime<Utc>>, FieldError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "not a date"))?;
    let day = if next_day {
        day.succ_opt()
            .ok_or_else(|| FieldError::new(field, "not a date"))?
    } else {
        day
    };
    Ok(Some(crate::domain::booking::instant(day, 0)))
}

/// `GET /station/admin/audit`: the changes the reader may see, newest first, filtered by kind
/// of record, action, who, region and days; a page at a time.
async fn audit_log(
    State(state): State<AppState>,
    page: Page,
    Query(asked): Query<AuditAsked>,
) -> Result<Response, PageError> {
    let principal = staff(&page)?;
    let trimmed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let mut errors = Vec::new();
    let from = day_start(asked.from.as_deref(), "from", false).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let to = day_start(asked.to.as_deref(), "to", true).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let cursor = match trimmed(&asked.cursor).map(|c| c.parse::<i64>()) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => return Err(PageError::status(StatusCode::BAD_REQUEST)),
    };
    let entity = trimmed(&asked.entity);
    let query = AuditQuery {
        entity_id: trimmed(&asked.id).filter(|_| entity.is_some()),
        entity,
        action: trimmed(&asked.action),
        user: trimmed(&asked.user),
        region: trimmed(&asked.region),
        from,
        to,
        cursor,
        limit: AUDIT_PAGE,
        newest_first: true,
    };
    let result = if errors.is_empty() {
        audit::read(&state.db, query, principal, page.caller.actor()).await
    } else {
        Err(AuditError::Invalid {
            field: String::new(),
            message: String::new(),
        })
    };
    let (status, rows, older) = match result {
        Ok(found) => (
            StatusCode::OK,
            found
                .records
                .into_iter()
                .map(|r| audit_row(&page, r))
                .collect(),
            found
                .next_cursor
                .map(|c| asked.with_cursor(Some(c)))
                .unwrap_or_default(),
        ),
        Err(AuditError::Invalid { field, message }) => {
            if !field.is_empty() {
                errors.push(FieldError::new(field.as_str(), message.as_str()));
            }
            (StatusCode::BAD_REQUEST, vec![], String::new())
        }
        // A region out of reach is no region at all.
        Err(AuditError::Region(_)) => {
            errors.push(FieldError::new("region", "no such region"));
            (StatusCode::BAD_REQUEST, vec![], String::new())
        }
        Err(AuditError::Db(e)) => return Err(e.into()),
    };
    let entities = ENTITIES
        .iter()
        .filter(|e| policy::manages_accounts(principal) || !matches!(**e, "user" | "token"))
        .map(|e| Choice {
            value: (*e).to_owned(),
            label: label(&page, "entity", e),
        })
        .collect();
    let problem = if errors.is_empty() {
        String::new()
    } else {
        page.t("refused-fields")
    };
    let region_choices = super::region_choices(&state, &page).await?;
    let mut response = html(&AuditPage {
        region_choices,
        page: &page,
        form: FormState {
            values: asked.fields(),
            errors: shown_errors(&page, "audit", &errors),
        },
        entities,
        actions: ACTIONS
            .iter()
            .map(|a| Choice {
                value: (*a).to_owned(),
                label: label(&page, "action", a),
            })
            .collect(),
        rows,
        older,
        newest: if cursor.is_some() {
            asked.with_cursor(None)
        } else {
            String::new()
        },
        problem,
    });
    *response.status_mut() = status;
    Ok(response)
}

// --- the outbox ---

#[derive(Debug, Default, Deserialize)]
pub struct OutboxAsked {
    status: Option<String>,
    cursor: Option<String>,
    done: Option<String>,
}

/// A tab of the outbox: one state.
#[derive(Debug, Clone)]
pub struct Tab {
    pub href: String,
    pub label: String,
    pub current: bool,
}

/// A message as the outbox page shows it.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub body: String,
    pub created: String,
    pub sent: String,
    pub attempts: i32,
    pub last_error: String,
}

#[derive(askama::Template)]
#[template(path = "sadmin_outbox.html")]
struct OutboxPage<'a> {
    page: &'a Page,
    tabs: Vec<Tab>,
    /// The state shown.
    status: String,
    rows: Vec<MessageRow>,
    /// The next page's address, when there is one.
    more: String,
    notice: String,
}

fn message_row(page: &Page, m: entity::outbox_message::Model, whole_number: bool) -> MessageRow {
    MessageRow {
        id: m.id,
        kind: label(page, "kind", &m.kind),
        recipient: if whole_number {
            m.recipient
        } else {
            mask_phone(&m.recipient)
        },
        body: m.body,
        created: when(m.created_at),
        sent: when_or_never(page, m.sent_at),
        attempts: m.attempts,
        last_error: m.last_error.unwrap_or_default(),
    }
}

/// `GET /station/admin/outbox[?status=]`: messages to donors in one state. Those waiting to be
/// sent by hand come with whole numbers (the listing is audited), for the drives within the
/// reader's write scope; the other states are the whole outbox's, for admins of the whole
/// database, numbers masked.
async fn outbox_page(
    State(state): State<AppState>,
    page: Page,
    Query(asked): Query<OutboxAsked>,
) -> Result<Response, PageError> {
    let principal = staff(&page)?;
    let whole = whole_outbox(principal);
    let status = asked
        .status
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| outbox::TO_SEND_BY_HAND.to_owned());
    if !STATES.contains(&status.as_str()) {
        return Err(PageError::status(StatusCode::NOT_FOUND));
    }
    let by_hand_tab = status == outbox::TO_SEND_BY_HAND;
    if !by_hand_tab && !whole {
        return Err(PageError::status(StatusCode::FORBIDDEN));
    }
    let cursor = match asked.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| PageError::status(StatusCode::BAD_REQUEST))?,
        ),
    };
    let now = state.clock.now();
    let mut rows = if by_hand_tab {
        let reach = policy::write_scope(principal);
        by_hand::list(
            &state.db,
            &reach,
            cursor,
            OUTBOX_PAGE + 1,
            page.caller.actor(),
            now,
        )
        .await?
    } else {
        outbox::list_messages(&state.db, None, Some(&status), cursor, OUTBOX_PAGE + 1).await?
    };
    let more = if rows.len() as u64 > OUTBOX_PAGE {
        rows.truncate(OUTBOX_PAGE as usize);
        rows.last()
            .map(|m| format!("/station/admin/outbox?status={status}&cursor={}", m.id))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let tabs = STATES
        .iter()
        .filter(|s| whole || **s == outbox::TO_SEND_BY_HAND)
        .map(|s| Tab {
            href: format!("/station/admin/outbox?status={s}"),
            label: label(&page, "state", s),
            current: **s == status,
        })
        .collect();
    Ok(html(&OutboxPage {
        page: &page,
        tabs,
        rows: rows
            .into_iter()
            .map(|m| message_row(&page, m, by_hand_tab))
            .collect(),
        status,
        more,
        notice: notice(&page, asked.done.as_deref()),
    }))
}

/// `POST /station/admin/outbox/{id}/retry`: a failed message is sent again by the next run
/// (admins of the whole outbox; 409 for a message that is not failed).
async fn retry(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let principal = staff(&page)?;
    if !whole_outbox(principal) {
        return Err(PageError::status(StatusCode::FORBIDDEN));
    }
    let id = id_of(&id)?;
    outbox::retry(&state.db, id, page.caller.actor(), state.clock.now()).await?;
    Ok(Redirect::to("/station/admin/outbox?status=failed&done=retried").into_response())
}

/// `POST /station/admin/outbox/{id}/sent`: a message sent by hand is marked so (a message
/// about a drive outside the reader's write scope does not exist).
async fn mark_sent(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let principal = staff(&page)?;
    let id = id_of(&id)?;
    let reach = policy::write_scope(principal);
    by_hand::mark_sent(
        &state.db,
        id,
        &reach,
        page.caller.actor(),
        state.clock.now(),
    )
    .await?;
    let to = format!(
        "/station/admin/outbox?status={}&done=sent",
        outbox::TO_SEND_BY_HAND
    );
    Ok(Redirect::to(&to).into_response())
}

#[cfg(test)]
mod tests {
    use super::{ACTIONS, ENTITIES};
    use crate::i18n::Lang;

    /// Every kind of record and action the audit log's filter offers has a name in both
    /// catalogues (a missing one would show the raw identifier).
    #[test]
    fn every_audit_entity_and_action_is_named_in_both_languages() {
        for lang in Lang::ALL {
            for (kind, values) in [("entity", &ENTITIES[..]), ("action", &ACTIONS[..])] {
                for value in values {
                    let id = format!("sadmin-{kind}-{value}");
                    assert_ne!(lang.t(&id), id, "{lang:?} has no name for {id}");
                }
            }
        }
    }
}
