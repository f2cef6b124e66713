//! One askama `Template` per page (the files are in `src/web/templates/`), and what they show.
//! Templates take every word from the catalogue through [`Page::t`]; values shown to people
//! (dates, times) are formatted here in the reader's language.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, NaiveDate};

use super::context::Page;
use super::forms::FormFields;
use crate::bookings::reads::{PlaceWithStops, SlotState};
use crate::i18n::Lang;

/// A page rendered, or (a template that fails to render is our fault) a plain 500.
pub fn html<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A date as people read it: `12月14日 星期一`, `Mon 14 Dec`.
pub fn date(lang: Lang, day: NaiveDate) -> String {
    let weekday = lang.t(&format!("weekday-{}", day.weekday().number_from_monday()));
    lang.tn(
        "date-with-weekday",
        &[
            ("month", day.month().into()),
            ("day", day.day().into()),
            ("weekday", weekday.into()),
            (
                "monthname",
                lang.t(&format!("month-{}", day.month())).into(),
            ),
        ],
    )
}

/// A stop as the schedule and its page show it.
#[derive(Debug, Clone)]
pub struct StopCard {
    pub id: i64,
    pub date: String,
    pub name: String,
    pub address: String,
    pub opens: String,
    pub closes: String,
    pub places_left: i32,
    /// `3.2 km` from where the reader is, when they said.
    pub distance: String,
}

/// A booking as its holder sees it.
#[derive(Debug, Clone)]
pub struct BookingCard {
    pub code: String,
    /// The person's name, or the group's organisation and contact.
    pub who: String,
    pub group: bool,
    /// A group request not yet confirmed.
    pub requested: bool,
    pub cancelled: bool,
    pub headcount: i32,
    /// `09:00–10:00` for each slot it holds (with places, for a group).
    pub slots: Vec<String>,
    /// The slot starts it holds (to preselect the move form).
    pub starts: Vec<String>,
    /// Still movable and cancellable (not cancelled, first slot not begun, drive open).
    pub changeable: bool,
}

/// The booking form as typed, with the errors beside its fields.
#[derive(Debug, Clone, Default)]
pub struct BookingForm {
    pub values: FormFields,
    /// Field name to the sentence shown beside it.
    pub errors: Vec<(String, String)>,
}

impl BookingForm {
    pub fn value(&self, name: &str) -> String {
        self.values.raw(name)
    }

    pub fn error(&self, name: &str) -> String {
        self.errors
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }

    pub fn has_error(&self, name: &str) -> bool {
        self.errors.iter().any(|(f, _)| f == name)
    }

    pub fn is_group(&self) -> bool {
        self.values.get("kind").as_deref() == Some("group")
    }

    pub fn checked(&self, name: &str, value: &str) -> bool {
        self.values.all(name).iter().any(|v| v == value)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub page: &'a Page,
    pub title: &'a str,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "drives.html")]
pub struct DrivesPage<'a> {
    pub page: &'a Page,
    pub counties: Vec<PlaceWithStops>,
    pub townships: Vec<PlaceWithStops>,
    pub county: String,
    pub township: String,
    pub near: String,
    /// What the list shows (`渠县 · 12月7日至1月6日`).
    pub heading: String,
    pub stops: Vec<StopCard>,
    /// A plain sentence when the query could not be used.
    pub problem: String,
}

#[derive(Template)]
#[template(path = "townships.html")]
pub struct TownshipOptions<'a> {
    pub page: &'a Page,
    pub townships: Vec<PlaceWithStops>,
    pub township: String,
}

#[derive(Template)]
#[template(path = "stop.html")]
pub struct StopPage<'a> {
    pub page: &'a Page,
    pub stop: StopCard,
    pub slots: Vec<SlotState>,
    pub form: BookingForm,
    /// Why the booking was refused, in plain words, with what to do.
    pub problem: String,
}

#[derive(Template)]
#[template(path = "booking.html")]
pub struct BookingPage<'a> {
    pub page: &'a Page,
    pub booking: BookingCard,
    pub stop: StopCard,
    pub slots: Vec<SlotState>,
    /// The token, carried in the forms (never shown).
    pub token: String,
    /// What just happened (`booked`, `moved`, `cancelled`), as a sentence.
    pub notice: String,
    pub problem: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub page: &'a Page,
    pub next: String,
    pub username: String,
    pub problem: String,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage<'a> {
    pub page: &'a Page,
    pub problem: String,
}

#[derive(Template)]
#[template(path = "offline.html")]
pub struct OfflinePage<'a> {
    pub page: &'a Page,
}

#[derive(Template)]
#[template(path = "sync.html")]
pub struct SyncPage<'a> {
    pub page: &'a Page,
}
