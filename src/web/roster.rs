//! The page the link in every message to a donor on the roster opens (issue 16): it says what
//! they agreed to be contacted for and withdraws the consent with one button; their details
//! are then deleted. No account: the link is the proof. Works as a plain form post.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use serde::Deserialize;

use super::context::Page;
use super::errors::PageError;
use super::forms::FormFields;
use super::templates::{RosterWithdrawPage, html};
use crate::recruitment::{RecruitmentError, roster};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/roster/withdraw", get(show).post(withdraw))
}

#[derive(Debug, Deserialize)]
struct LinkQuery {
    t: Option<String>,
}

/// `GET /roster/withdraw?t=…`: what withdrawing means, and the button; or that the link is
/// used or not whole.
async fn show(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<LinkQuery>,
) -> Result<Response, PageError> {
    super::public::rate_limited(&state, &page).await?;
    let token = query.t.unwrap_or_default();
    let live = roster::withdraw_link_live(&state.db, token.trim())
        .await
        .map_err(PageError::from)?;
    let status = if live {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let body = html(&RosterWithdrawPage {
        page: &page,
        token: if live { token } else { String::new() },
        done: false,
        gone: !live,
    });
    Ok((status, body).into_response())
}

/// `POST /roster/withdraw` (form field `t`): withdraws the consent, deleting the donor.
async fn withdraw(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    super::public::rate_limited(&state, &page).await?;
    let token = form.get("t").unwrap_or_default();
    let (status, done) = match roster::withdraw(&state.db, token.trim(), Utc::now()).await {
        Ok(()) => (StatusCode::OK, true),
        Err(RecruitmentError::NotFound(_)) => (StatusCode::NOT_FOUND, false),
        Err(err) => return Err(PageError::from(err)),
    };
    let body = html(&RosterWithdrawPage {
        page: &page,
        token: String::new(),
        done,
        gone: !done,
    });
    Ok((status, body).into_response())
}
