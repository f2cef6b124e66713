//! The admin's pages: creating a township official's account bound to a township (picked by
//! county, then township, from the divisions), so that no one needs the server's command line
//! for that. The accounts service decides, as for `POST /api/v1/users`; only admins see the
//! page (others get a 403 page).

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::context::Page;
use super::errors::PageError;
use super::forms::{FormFields, FormState, field_errors};
use super::templates::{NewAccountPage, PlaceLink, html};
use crate::accounts::users::{self, NewAccount};
use crate::accounts::{AccountsError, Acting};
use crate::domain::account::Role;
use crate::domain::policy::{Action, Resource};
use crate::domain::region::{Level, RegionCode};
use crate::error::FieldError;
use crate::registry::regions::{self, RegionQuery};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/admin/accounts/new",
        get(new_account_page).post(create_account),
    )
}

/// Only admins: 403 for everyone else signed in (the policy's answer for accounts), sign in
/// first for nobody.
fn admin_only(page: &Page) -> Result<(), PageError> {
    if !page.signed_in() {
        return Err(PageError::SignIn);
    }
    page.caller
        .authorize(
            Action::Create,
            Resource::User {
                role: Role::TownshipOfficial,
                scopes: &[],
            },
            || "accounts".to_owned(),
        )
        .or_else(|e| match e {
            // An admin bound to regions reads as "not this one", which the service decides per
            // township; every other role may not manage accounts at all.
            crate::error::AppError::NotFound(_) if page.is_admin() => Ok(()),
            other => Err(other),
        })?;
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
pub struct Asked {
    county: Option<String>,
    /// The username just created.
    created: Option<String>,
}

/// The counties the admin reaches and the townships of `county`.
async fn places(
    state: &AppState,
    page: &Page,
    county: &str,
    township: &str,
) -> Result<(Vec<PlaceLink>, Vec<PlaceLink>), PageError> {
    let acting =
        crate::registry::Acting::caller(page.caller.principal.as_ref(), page.caller.actor());
    let link = |r: crate::domain::region::Region, chosen: &str| PlaceLink {
        current: r.code.as_str() == chosen,
        code: r.code.to_string(),
        name: r.name,
    };
    let counties: Vec<PlaceLink> = regions::list(
        &state.db,
        RegionQuery {
            level: Some(Level::County),
            limit: 1000,
            ..RegionQuery::default()
        },
        &acting,
    )
    .await?
    .into_iter()
    .map(|r| link(r, county))
    .collect();
    let townships = match RegionCode::parse(county) {
        Ok(code) if counties.iter().any(|c| c.current) => regions::list(
            &state.db,
            RegionQuery {
                parent: Some(code),
                level: Some(Level::Township),
                limit: 1000,
                ..RegionQuery::default()
            },
            &acting,
        )
        .await?
        .into_iter()
        .map(|r| link(r, township))
        .collect(),
        _ => vec![],
    };
    Ok((counties, townships))
}

/// `GET /admin/accounts/new[?county=][&created=name]`: the form.
async fn new_account_page(
    State(state): State<AppState>,
    page: Page,
    Query(asked): Query<Asked>,
) -> Result<Response, PageError> {
    admin_only(&page)?;
    let county = asked.county.unwrap_or_default();
    let (counties, townships) = places(&state, &page, &county, "").await?;
    let notice = asked
        .created
        .filter(|u| users::valid_username(u).is_ok())
        .map(|u| page.t1("notice-account-created", "username", u))
        .unwrap_or_default();
    Ok(html(&NewAccountPage {
        page: &page,
        form: FormState::new(FormFields::of(&[("county", county)])),
        counties,
        townships,
        notice,
        problem: String::new(),
    }))
}

/// `POST /admin/accounts/new`: creates a township official bound to the township picked; on
/// success back to an empty form saying so, else the form as typed (the passwords aside) with
/// the errors beside the fields.
async fn create_account(
    State(state): State<AppState>,
    page: Page,
    form: FormFields,
) -> Result<Response, PageError> {
    admin_only(&page)?;
    let Some(principal) = page.caller.principal.as_ref() else {
        return Err(PageError::SignIn);
    };
    let password = form.raw("password");
    let mut errors: Vec<FieldError> = Vec::new();
    if password != form.raw("repeat_password") {
        errors.push(FieldError::new("repeat_password", "differs"));
    }
    let township = form.get("township").unwrap_or_default();
    if township.is_empty() {
        errors.push(FieldError::new("township", "pick one"));
    }
    let result = if errors.is_empty() {
        let cmd = NewAccount {
            username: form.raw("username"),
            display_name: form.get("display_name"),
            role: Role::TownshipOfficial,
            regions: vec![township.clone()],
            password,
        };
        let by = Acting::Account {
            principal,
            actor: page.caller.actor(),
        };
        users::create_user(&state.db, cmd, &by, state.clock.now()).await
    } else {
        Err(AccountsError::Invalid {
            detail: String::new(),
            errors: errors.clone(),
        })
    };
    let (status, errors, problem) = match result {
        Ok(user) => {
            let to = format!("/admin/accounts/new?created={}", user.username);
            return Ok(Redirect::to(&to).into_response());
        }
        Err(AccountsError::Invalid { errors, .. }) => (
            StatusCode::BAD_REQUEST,
            errors
                .into_iter()
                .map(|e| {
                    // The township picked is the account's one region.
                    if e.field.starts_with("regions") {
                        FieldError::new("township", e.message.as_str())
                    } else {
                        e
                    }
                })
                .collect(),
            page.t("refused-fields"),
        ),
        Err(AccountsError::WeakPassword(message)) => (
            StatusCode::BAD_REQUEST,
            vec![FieldError::new("password", message.as_str())],
            page.t("refused-fields"),
        ),
        Err(AccountsError::UsernameTaken(_)) => (
            StatusCode::CONFLICT,
            vec![FieldError::new("username-taken", "taken")],
            page.t("refused-fields"),
        ),
        Err(AccountsError::Forbidden(_)) => (
            StatusCode::FORBIDDEN,
            vec![FieldError::new("township", "out of reach")],
            page.t("account-out-of-reach"),
        ),
        Err(e) => return Err(e.into()),
    };
    let mut shown = field_errors(&page, "account", &errors);
    for (field, _) in &mut shown {
        if field == "username-taken" {
            *field = "username".to_owned();
        }
    }
    let county = form.get("county").unwrap_or_default();
    let (counties, townships) = places(&state, &page, &county, &township).await?;
    // The passwords are not sent back.
    let kept = FormFields(
        form.0
            .into_iter()
            .filter(|(k, _)| k != "password" && k != "repeat_password")
            .collect(),
    );
    let mut response = html(&NewAccountPage {
        page: &page,
        form: FormState {
            values: kept,
            errors: shown,
        },
        counties,
        townships,
        notice: String::new(),
        problem,
    });
    *response.status_mut() = status;
    Ok(response)
}
