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

// ---------------------------------------------------------------------------------------------
// The township official's pages

/// A region as a choice or a link.
#[derive(Debug, Clone)]
pub struct PlaceLink {
    pub code: String,
    pub name: String,
    /// The one shown now (or selected).
    pub current: bool,
}

/// A labelled figure (`村（社区） 27`).
#[derive(Debug, Clone)]
pub struct Figure {
    pub label: String,
    pub value: String,
}

/// A count of points in one status, with the class that colours it.
#[derive(Debug, Clone)]
pub struct StatusCount {
    pub status: String,
    pub label: String,
    pub count: u64,
}

/// One list of things to fix: its first entries and how many more there are.
#[derive(Debug, Clone)]
pub struct GapGroup {
    pub title: String,
    pub hint: String,
    pub total: usize,
    pub items: Vec<GapEntry>,
    pub more: usize,
}

/// A point or village to fix; `href` empty when it has no page.
#[derive(Debug, Clone)]
pub struct GapEntry {
    pub name: String,
    pub detail: String,
    pub href: String,
}

/// A checklist item due or late.
#[derive(Debug, Clone)]
pub struct DueEntry {
    pub title: String,
    pub stop: String,
    pub drive_date: String,
    /// `截止 12月7日` or `已逾期 3 天`.
    pub due: String,
    pub late: bool,
}

#[derive(Template)]
#[template(path = "township.html")]
pub struct TownshipPage<'a> {
    pub page: &'a Page,
    pub code: String,
    pub name: String,
    /// The regions the reader is bound to (shown when more than one).
    pub places: Vec<PlaceLink>,
    pub figures: Vec<Figure>,
    pub statuses: Vec<StatusCount>,
    pub gaps: Vec<GapGroup>,
    /// Nothing to fix.
    pub no_gaps: bool,
    pub due: Vec<DueEntry>,
    /// More items are due than listed.
    pub due_more: bool,
}

/// Picking a county, then a township (the admin's account form and the township page of a
/// reader bound to no region).
#[derive(Template)]
#[template(path = "pick_region.html")]
pub struct PickRegionPage<'a> {
    pub page: &'a Page,
    pub counties: Vec<PlaceLink>,
    pub townships: Vec<PlaceLink>,
}

/// The township choices of a county (htmx swaps them in).
#[derive(Template)]
#[template(path = "region_options.html")]
pub struct RegionOptions<'a> {
    pub page: &'a Page,
    pub townships: Vec<PlaceLink>,
}

/// A point in a list.
#[derive(Debug, Clone)]
pub struct PointRow {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub status_label: String,
    pub kind_label: String,
    pub address: String,
    /// `缺主要联系人` and the like, from the gaps report.
    pub flags: Vec<String>,
}

/// A colour of the map's legend.
#[derive(Debug, Clone)]
pub struct LegendEntry {
    pub class: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "points.html")]
pub struct PointsPage<'a> {
    pub page: &'a Page,
    pub code: String,
    pub name: String,
    pub map_src: String,
    pub points: Vec<PointRow>,
    /// The addresses kept on the phone for use without a signal (each point's page, the map's
    /// data): see `assets/offline.js`.
    pub keep_ahead: String,
    pub legend: Vec<LegendEntry>,
}

/// A field that changed under the reader: what they typed beside what is stored now.
#[derive(Debug, Clone)]
pub struct ConflictRow {
    pub label: String,
    pub mine: String,
    pub current: String,
}

/// A coordinator serving the point.
#[derive(Debug, Clone)]
pub struct CoordinatorRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    /// Masked when the reader may not read the coordinator's own record.
    pub mobile: String,
    pub primary: bool,
}

/// A choice of a select: value and label.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "point.html")]
pub struct PointPage<'a> {
    pub page: &'a Page,
    pub id: i64,
    pub name: String,
    pub status: String,
    pub status_label: String,
    /// Where "back" leads (the township's points).
    pub back: String,
    pub facts: Vec<Figure>,
    pub map_src: String,
    pub may_update: bool,
    pub form: super::forms::FormState,
    pub kinds: Vec<Choice>,
    pub statuses: Vec<Choice>,
    /// What just happened, as a sentence.
    pub notice: String,
    /// Why the edit was not taken.
    pub problem: String,
    /// The fields someone else changed meanwhile (a stale edit).
    pub conflict: Vec<ConflictRow>,
    pub coordinators: Vec<CoordinatorRow>,
    pub coordinator_form: super::forms::FormState,
    pub coordinator_problem: String,
    pub roles: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "account_new.html")]
pub struct NewAccountPage<'a> {
    pub page: &'a Page,
    pub form: super::forms::FormState,
    pub counties: Vec<PlaceLink>,
    pub townships: Vec<PlaceLink>,
    pub notice: String,
    pub problem: String,
}
