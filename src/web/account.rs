//! Signing in and out, and changing one's own password, as pages: the same accounts service
//! and session cookie as the API's `/api/v1/auth/*`.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;

use super::context::Page;
use super::errors::PageError;
use super::forms::FormFields;
use super::templates::{LoginPage, PasswordPage, html};
use crate::accounts::AccountsError;
use crate::accounts::sessions::{self, ChangeOwnPassword, SignIn};
use crate::auth::Credential;
use crate::auth::caller::{cleared_session_cookie, over_https, session_cookie, set_cookie};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route(
            "/account/password",
            get(password_page).post(change_password),
        )
}

/// Where to go after signing in: a path on this site, never another site (`//host`, `/\host`).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    /// Set after a password change: sign in with the new one.
    changed: Option<String>,
}

async fn login_page(page: Page, Query(query): Query<LoginQuery>) -> Response {
    let problem = if query.changed.is_some() {
        page.t("password-changed")
    } else {
        String::new()
    };
    html(&LoginPage {
        page: &page,
        next: local_path(query.next.as_deref()),
        username: String::new(),
        problem,
    })
}

/// `POST /login`: a session, then on to `next`; else the form again, saying why in words
/// that do not tell whether the username exists.
async fn login(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    form: FormFields,
) -> Result<Response, PageError> {
    let next = local_path(form.get("next").as_deref());
    let replaces = match &page.caller.credential {
        Some(Credential::Session { token_hash, .. }) => Some(token_hash.clone()),
        _ => None,
    };
    let command = SignIn {
        username: form.get("username").unwrap_or_default(),
        password: form.raw("password"),
        address: page.caller.address.clone(),
        replaces,
    };
    match sessions::sign_in(&state.db, command, Utc::now()).await {
        Ok(signed_in) => {
            let cookie = session_cookie(signed_in.token, over_https(&headers, &state.http));
            let mut response = Redirect::to(&next).into_response();
            set_cookie(response.headers_mut(), &cookie);
            Ok(response)
        }
        Err(err) => {
            let (status, problem) = match err {
                AccountsError::Throttled { retry_after_secs } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    page.t1("login-throttled", "minutes", retry_after_secs.div_ceil(60)),
                ),
                AccountsError::WrongCredentials | AccountsError::Invalid { .. } => {
                    (StatusCode::UNAUTHORIZED, page.t("login-wrong"))
                }
                other => return Err(crate::error::AppError::from(other).into()),
            };
            let mut response = html(&LoginPage {
                page: &page,
                next,
                username: form.raw("username"),
                problem,
            });
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

/// `POST /logout`: the session ends and its cookie is cleared.
async fn logout(State(state): State<AppState>, page: Page) -> Result<Response, PageError> {
    if let Some(Credential::Session { token_hash, .. }) = &page.caller.credential {
        sessions::sign_out(&state.db, token_hash)
            .await
            .map_err(crate::error::AppError::from)?;
    }
    let mut response = Redirect::to("/drives").into_response();
    set_cookie(response.headers_mut(), &cleared_session_cookie());
    Ok(response)
}

async fn password_page(page: Page) -> Result<Response, PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    Ok(html(&PasswordPage {
        page: &page,
        problem: String::new(),
    }))
}

/// `POST /account/password`: the current password, then the new one twice. Every session of
/// the account ends, so the next step is signing in with the new password.
async fn change_password(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    let Some(principal) = page.caller.principal.as_ref() else {
        return Err(PageError::SignIn);
    };
    let new = form.raw("new_password");
    let refused = |problem: String| {
        let mut response = html(&PasswordPage {
            page: &page,
            problem,
        });
        *response.status_mut() = StatusCode::BAD_REQUEST;
        response
    };
    if new != form.raw("repeat_password") {
        return Ok(refused(page.t("password-mismatch")));
    }
    let cmd = ChangeOwnPassword {
        current: form.raw("current_password"),
        new,
    };
    match sessions::change_own_password(&state.db, cmd, principal, page.caller.actor(), Utc::now())
        .await
    {
        Ok(_) => {
            let mut response = Redirect::to("/login?changed=1").into_response();
            set_cookie(response.headers_mut(), &cleared_session_cookie());
            Ok(response)
        }
        Err(AccountsError::WrongCredentials) => Ok(refused(page.t("password-wrong-current"))),
        // The rules in the reader's words, not the service's English detail.
        Err(AccountsError::Invalid { .. } | AccountsError::WeakPassword(_)) => {
            Ok(refused(page.t("password-rules")))
        }
        Err(other) => Err(crate::error::AppError::from(other).into()),
    }
}
