//! One askama `Template` per page (the files are in `src/web/templates/`), and what they show.
//! Templates take every word from the catalogue through [`Page::t`]; values shown to people
//! (dates, times) are formatted here in the reader's language.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, NaiveDate};

use super::context::Page;
use super::forms::FormState;
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

/// A number rounded to a whole, thousands separated: `12,400` (mL, mL-equivalents).
pub fn whole(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v.round() < 0.0 {
        out.insert(0, '-');
    }
    out
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

/// A date with its year, as people read it: `2026年12月14日 星期一`, `Mon 14 Dec 2026`.
pub fn full_date(lang: Lang, day: NaiveDate) -> String {
    let weekday = lang.t(&format!("weekday-{}", day.weekday().number_from_monday()));
    lang.tn(
        "date-with-year",
        &[
            ("year", day.year().to_string().into()),
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

/// The booking form as typed, with the errors beside its fields (the shared [`FormState`]).
#[derive(Debug, Clone, Default)]
pub struct BookingForm(pub FormState);

impl std::ops::Deref for BookingForm {
    type Target = FormState;

    fn deref(&self) -> &FormState {
        &self.0
    }
}

impl BookingForm {
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
    /// `?via=CODE` for the stops' links when an appeal's link led here, else empty.
    pub via: String,
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

/// The page a donor's withdrawal link opens.
#[derive(Template)]
#[template(path = "roster_withdraw.html")]
pub struct RosterWithdrawPage<'a> {
    pub page: &'a Page,
    /// The link's token, carried in the form (never shown); empty once used.
    pub token: String,
    /// Just withdrawn.
    pub done: bool,
    /// The link is used or not whole.
    pub gone: bool,
}

/// A group drive's stop as its sign-up page shows it.
#[derive(Debug, Clone)]
pub struct SignupCard {
    pub host: String,
    pub address: String,
    pub date: String,
    pub opens: String,
    pub closes: String,
    pub goal: Option<i32>,
    /// Masked names.
    pub signed_up: Vec<String>,
    /// Whether colleagues can sign up now.
    pub open: bool,
}

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignupPage<'a> {
    pub page: &'a Page,
    pub sheet: SignupCard,
    pub slots: Vec<SlotState>,
    /// The link's token (the form posts back to it).
    pub token: String,
    pub form: BookingForm,
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

// The village survey pages (`super::surveys`).

/// The survey form as typed (or as the screen fills it in), with the errors beside its fields
/// and the large-change question when the service asks it.
#[derive(Debug, Clone, Default)]
pub struct SurveyForm {
    /// What was typed and the errors beside its fields.
    pub state: FormState,
    /// The 3x question in plain words (empty when not asked).
    pub question: String,
    /// The total the question is about: the confirming button sends it back, so that the
    /// confirmation holds for that figure only.
    pub asked_total: String,
    /// What was typed beside the survey that became current meanwhile (empty: no conflict).
    pub conflict: Vec<ConflictRow>,
}

impl std::ops::Deref for SurveyForm {
    type Target = FormState;

    fn deref(&self) -> &FormState {
        &self.state
    }
}

impl SurveyForm {
    /// The fields under "more figures".
    const MORE: [&'static str; 8] = [
        "male",
        "female",
        "age_18_34",
        "age_35_54",
        "age_55_60",
        "away_for_work",
        "known_donors",
        "notes",
    ];

    /// "More figures" starts open when one of them was typed or is wrong.
    pub fn more_open(&self) -> bool {
        Self::MORE
            .iter()
            .any(|f| self.values.get(f).is_some() || self.has_error(f))
    }

    pub fn asks(&self) -> bool {
        !self.question.is_empty()
    }
}

/// A village's current survey, beside the form.
#[derive(Debug, Clone)]
pub struct LastSurvey {
    /// `620 人`.
    pub total: String,
    pub date: String,
    /// Who was asked (or, when not recorded, who entered it).
    pub who: String,
    pub source: String,
}

#[derive(Template)]
#[template(path = "survey_entry.html")]
pub struct SurveyEntryPage<'a> {
    pub page: &'a Page,
    pub township_code: String,
    pub township_name: String,
    pub village_code: String,
    pub village_name: String,
    /// `第 5 / 30 个村`.
    pub progress: String,
    pub last: Option<LastSurvey>,
    /// The codes of the villages before and after (empty at the ends).
    pub previous: String,
    pub next: String,
    /// The screens kept on the phone ahead of a lost signal (addresses, space-separated).
    pub keep_ahead: String,
    /// The query carrying the date, source and surveyor on (for Skip).
    pub carry: String,
    /// The sources offered: value and words.
    pub sources: Vec<(String, String)>,
    /// Today in China (the latest date the form takes).
    pub today: String,
    pub form: SurveyForm,
    pub notice: String,
    pub problem: String,
}

impl SurveyEntryPage<'_> {
    /// The counts under "more figures", in rows (men and women side by side, the three age
    /// bands, the two parts of the total): each field with its label.
    pub fn more_rows(&self) -> Vec<Vec<(&'static str, String)>> {
        let rows: [&[(&'static str, &str)]; 3] = [
            &[("male", "survey-male"), ("female", "survey-female")],
            &[
                ("age_18_34", "survey-age-18-34"),
                ("age_35_54", "survey-age-35-54"),
                ("age_55_60", "survey-age-55-60"),
            ],
            &[
                ("away_for_work", "survey-away"),
                ("known_donors", "survey-known-donors"),
            ],
        ];
        rows.iter()
            .map(|row| {
                row.iter()
                    .map(|(field, id)| (*field, self.page.t(id)))
                    .collect()
            })
            .collect()
    }
}

/// A village in the desk's list.
#[derive(Debug, Clone)]
pub struct DeskVillage {
    pub code: String,
    pub name: String,
    /// The current survey's total and date (empty when there is none).
    pub total: String,
    pub date: String,
}

/// The chosen township of the desk.
#[derive(Debug, Clone)]
pub struct DeskTownship {
    pub code: String,
    pub name: String,
    pub villages: Vec<DeskVillage>,
    /// The first village's code (where the entry flow starts).
    pub start: String,
    /// `已有 12 / 30 个村的调查`.
    pub summary: String,
}

/// A township the desk offers.
#[derive(Debug, Clone)]
pub struct TownshipChoice {
    pub code: String,
    pub name: String,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "survey_desk.html")]
pub struct SurveyDeskPage<'a> {
    pub page: &'a Page,
    /// Every township the reader enters surveys for.
    pub townships: Vec<TownshipChoice>,
    pub chosen: Option<DeskTownship>,
    pub notice: String,
    pub problem: String,
}

/// A village row of a sheet's preview.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    pub village: String,
    /// The current total before (or "none"), and what the sheet records.
    pub before: String,
    pub after: String,
    pub date: String,
    /// What to look at twice: a date before the current survey, a large change, a move.
    pub warnings: Vec<String>,
}

/// A problem of an uploaded sheet, in words.
#[derive(Debug, Clone)]
pub struct SheetProblem {
    /// `第 3 行` (empty for the whole file).
    pub row: String,
    pub column: String,
    pub message: String,
    /// The service's own words, when ours are general.
    pub detail: String,
}

#[derive(Template)]
#[template(path = "survey_sheet.html")]
pub struct SheetPreviewPage<'a> {
    pub page: &'a Page,
    /// The kept sheet's key (the confirm and cancel forms' address).
    pub key: String,
    pub township: String,
    pub file_name: String,
    /// The rows that change something, in sheet order.
    pub rows: Vec<PreviewRow>,
    /// Rows identical to a recorded survey (left alone).
    pub unchanged: usize,
    /// Rows dated before their village's current survey (recorded as history if confirmed).
    pub older: usize,
    pub summary: String,
    /// What stops the sheet (the first ones), and how many there are in all.
    pub problems: Vec<SheetProblem>,
    pub problems_total: usize,
    /// The sheet changes something and has no problems.
    pub can_apply: bool,
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

#[cfg(test)]
mod tests {
    use super::whole;

    #[test]
    fn whole_numbers_are_rounded_and_thousands_separated() {
        assert_eq!(whole(0.0), "0");
        assert_eq!(whole(999.4), "999");
        assert_eq!(whole(999.5), "1,000");
        assert_eq!(whole(12_400.0), "12,400");
        assert_eq!(whole(1_234_567.8), "1,234,568");
        assert_eq!(whole(-4_500.0), "-4,500");
    }
}
