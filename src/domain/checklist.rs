//! Preparation checklists (issue 6): what has to be done before a drive reaches a stop, and
//! when.
//!
//! Every blood station has a template: items, each so many days before the drive (0 to 90).
//! A station that has not written its own uses [`DEFAULTS`], worded by the catalogue in
//! [`DEFAULTS_LANG`] (zh-CN; English shown here):
//!
//! | days before | item |
//! |---|---|
//! | 14 | 确认场地和联络员 (Confirm venue and coordinator) |
//! | 7 | 通知各村并张贴通知 (Notify villages and post notices) |
//! | 1 | 确认预约情况和天气 (Confirm bookings and weather) |
//!
//! When a drive is made, every stop gets the items of the template of the drive's vehicle's
//! station, each due on the drive's date minus its days ([`plan_items`]). The items are
//! copies: editing the template later changes only drives made afterwards.
//!
//! An item's [`state`] on a given day (`today`, the blood station's date, Asia/Shanghai):
//!
//! - `done` when it is marked done, whatever the dates;
//! - `late` when not done and its due date is before `today`;
//! - `due` when not done and its due date lies in the due window of [`DUE_WINDOW_DAYS`]
//!   days starting `today` (3: today, tomorrow and the day after);
//! - `upcoming` otherwise (due later than that).

use chrono::{DateTime, Days, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::i18n::Lang;

/// At most this many items in a template.
pub const MAX_ITEMS: usize = 20;
/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The most days before a drive an item may be due.
pub const MAX_DAYS_BEFORE: i64 = 90;
/// An item not done is `due` from this many days before its due date (counting the due date
/// itself) until the due date; after it, `late`.
pub const DUE_WINDOW_DAYS: i64 = 3;

/// One item of a template: what, and how many days before the drive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateItem {
    pub title: String,
    /// 0 to [`MAX_DAYS_BEFORE`].
    pub days_before: i32,
}

/// The built-in template of a station that has none of its own: (days before, the
/// catalogue's id of the title).
pub const DEFAULTS: [(i32, &str); 3] = [
    (14, "checklist-default-14"),
    (7, "checklist-default-7"),
    (1, "checklist-default-1"),
];

/// The language of the built-in items: they are copied into a drive's checklist when it is
/// made, and stored, so they are written in the station's language, zh-CN, whoever reads them.
pub const DEFAULTS_LANG: Lang = Lang::ZhCn;

/// [`DEFAULTS`] as template items, in [`DEFAULTS_LANG`].
pub fn defaults() -> Vec<TemplateItem> {
    DEFAULTS
        .iter()
        .map(|&(days_before, id)| TemplateItem {
            title: DEFAULTS_LANG.t(id),
            days_before,
        })
        .collect()
}

/// The day an item `days_before` a drive on `drive_date` is due. `None` only for dates at the
/// very edge of what chrono can represent.
pub fn due_date(drive_date: NaiveDate, days_before: i32) -> Option<NaiveDate> {
    let days = u64::try_from(days_before).ok()?;
    drive_date.checked_sub_days(Days::new(days))
}

/// An item to make for a stop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedItem {
    /// 1, 2, … in the template's order.
    pub seq: i32,
    pub title: String,
    pub days_before: i32,
    pub due_date: NaiveDate,
}

/// The items of one stop of a drive on `drive_date`, from `template` (in its order).
///
/// # Errors
/// A due date chrono cannot represent (a drive date near its limits).
pub fn plan_items(
    template: &[TemplateItem],
    drive_date: NaiveDate,
) -> Result<Vec<PlannedItem>, String> {
    (1..)
        .zip(template)
        .map(|(seq, item)| {
            let due = due_date(drive_date, item.days_before).ok_or_else(|| {
                format!(
                    "{} days before {drive_date} is not a date",
                    item.days_before
                )
            })?;
            Ok(PlannedItem {
                seq,
                title: item.title.clone(),
                days_before: item.days_before,
                due_date: due,
            })
        })
        .collect()
}

/// Where an item stands on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Marked done.
    Done,
    /// Not done, due after the due window.
    Upcoming,
    /// Not done, due today or within the next two days.
    Due,
    /// Not done, and its due date has passed.
    Late,
}

string_enum!(ItemState {
    Done => "done",
    Upcoming => "upcoming",
    Due => "due",
    Late => "late",
});

/// The state of an item (`done`, due on `due_date`) on `today`; see the module documentation.
pub fn state(done: bool, due_date: NaiveDate, today: NaiveDate) -> ItemState {
    if done {
        return ItemState::Done;
    }
    let ahead = (due_date - today).num_days();
    if ahead < 0 {
        ItemState::Late
    } else if ahead < DUE_WINDOW_DAYS {
        ItemState::Due
    } else {
        ItemState::Upcoming
    }
}

/// How many days past its due date an item is on `today` (0 when not late, or done).
pub fn days_late(done: bool, due_date: NaiveDate, today: NaiveDate) -> i64 {
    if done {
        return 0;
    }
    (today - due_date).num_days().max(0)
}

/// The last due date the due listing shows on `today`: items due up to it are `due` or `late`.
pub fn due_until(today: NaiveDate) -> NaiveDate {
    let window = u64::try_from(DUE_WINDOW_DAYS - 1).unwrap_or(0);
    today.checked_add_days(Days::new(window)).unwrap_or(today)
}

/// The blood station's calendar date at instant `now`: Asia/Shanghai, UTC+8 all year (China
/// keeps no daylight saving time).
pub fn station_date(now: DateTime<Utc>) -> NaiveDate {
    let offset = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    now.with_timezone(&offset).date_naive()
}

/// An item of a template as the client sent it, before checking.
#[derive(Clone, Debug, Default)]
pub struct TemplateInput {
    pub title: Option<String>,
    pub days_before: Option<i64>,
}

/// Checks a whole template: 1 to [`MAX_ITEMS`] items, each with a title (cleaned, at most
/// [`MAX_TITLE_CHARS`] characters) and `days_before` from 0 to [`MAX_DAYS_BEFORE`].
///
/// # Errors
/// Every fault as (field, message), the field named as the client sent it (`items`,
/// `items[2].title`, `items[0].days_before`).
pub fn validate_template(
    items: Vec<TemplateInput>,
) -> Result<Vec<TemplateItem>, Vec<(String, String)>> {
    let mut errors = Vec::new();
    if items.is_empty() {
        errors.push(("items".to_owned(), "name at least one item".to_owned()));
    }
    if items.len() > MAX_ITEMS {
        errors.push(("items".to_owned(), format!("at most {MAX_ITEMS} items")));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, input) in items.into_iter().enumerate() {
        let title = match crate::domain::text::clean(input.title, MAX_TITLE_CHARS, false) {
            Ok(Some(title)) => Some(title),
            Ok(None) => {
                errors.push((format!("items[{i}].title"), "is required".to_owned()));
                None
            }
            Err(message) => {
                errors.push((format!("items[{i}].title"), message));
                None
            }
        };
        let days_before = match input.days_before {
            None => {
                errors.push((format!("items[{i}].days_before"), "is required".to_owned()));
                None
            }
            Some(d) if !(0..=MAX_DAYS_BEFORE).contains(&d) => {
                errors.push((
                    format!("items[{i}].days_before"),
                    format!("must be between 0 and {MAX_DAYS_BEFORE}"),
                ));
                None
            }
            Some(d) => i32::try_from(d).ok(),
        };
        if let (Some(title), Some(days_before)) = (title, days_before) {
            out.push(TemplateItem { title, days_before });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_defaults_are_the_three_items_of_the_issue() {
        let items = defaults();
        assert_eq!(
            items
                .iter()
                .map(|i| (i.days_before, i.title.as_str()))
                .collect::<Vec<_>>(),
            [
                (14, "确认场地和联络员"),
                (7, "通知各村并张贴通知"),
                (1, "确认预约情况和天气"),
            ]
        );
        assert_eq!(
            Lang::English.t(DEFAULTS[0].1),
            "Confirm venue and coordinator"
        );
        // The defaults pass the rules a station's own template must pass.
        let inputs = items
            .iter()
            .map(|i| TemplateInput {
                title: Some(i.title.clone()),
                days_before: Some(i64::from(i.days_before)),
            })
            .collect();
        assert_eq!(validate_template(inputs), Ok(items));
    }

    #[test]
    fn due_dates_count_back_from_the_drive_across_months_and_years() {
        // A drive on Tuesday 8 December 2026.
        let items = plan_items(&defaults(), d("2026-12-08")).unwrap();
        let dues: Vec<(i32, NaiveDate)> = items.iter().map(|i| (i.seq, i.due_date)).collect();
        assert_eq!(
            dues,
            [
                (1, d("2026-11-24")), // 8 Dec - 14 = 24 Nov (November has 30 days)
                (2, d("2026-12-01")),
                (3, d("2026-12-07")),
            ]
        );
        // Across the new year, and across February in a leap year.
        assert_eq!(due_date(d("2027-01-05"), 7), Some(d("2026-12-29")));
        assert_eq!(due_date(d("2028-03-01"), 1), Some(d("2028-02-29")));
        assert_eq!(due_date(d("2028-03-01"), 90), Some(d("2027-12-02")));
        assert_eq!(due_date(d("2026-12-08"), 0), Some(d("2026-12-08")));
        assert_eq!(due_date(d("2026-12-08"), -1), None);
    }

    #[test]
    fn state_follows_the_due_window() {
        let due = d("2026-12-10");
        let cases = [
            ("2026-12-06", ItemState::Upcoming), // 4 days ahead
            ("2026-12-07", ItemState::Upcoming), // 3 days ahead: just outside the window
            ("2026-12-08", ItemState::Due),      // 2 days ahead
            ("2026-12-09", ItemState::Due),      // tomorrow
            ("2026-12-10", ItemState::Due),      // today
            ("2026-12-11", ItemState::Late),     // 1 day late
            ("2027-01-10", ItemState::Late),     // 31 days late
        ];
        for (today, expected) in cases {
            assert_eq!(state(false, due, d(today)), expected, "{today}");
            assert_eq!(state(true, due, d(today)), ItemState::Done, "{today}");
        }
        assert_eq!(days_late(false, due, d("2026-12-11")), 1);
        assert_eq!(days_late(false, due, d("2027-01-10")), 31);
        assert_eq!(days_late(false, due, d("2026-12-10")), 0);
        assert_eq!(days_late(false, due, d("2026-12-01")), 0);
        assert_eq!(days_late(true, due, d("2027-01-10")), 0);
        // The listing shows what is due up to two days ahead: exactly the `due` window.
        assert_eq!(due_until(d("2026-12-08")), due);
        assert_eq!(due_until(d("2026-12-31")), d("2027-01-02"));
    }

    #[test]
    fn the_station_date_is_utc_plus_eight() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(station_date(at("2026-12-07T15:59:59Z")), d("2026-12-07"));
        assert_eq!(station_date(at("2026-12-07T16:00:00Z")), d("2026-12-08"));
        assert_eq!(station_date(at("2026-12-31T20:00:00Z")), d("2027-01-01"));
    }

    #[test]
    fn templates_are_checked_item_by_item() {
        let input = |title: Option<&str>, days: Option<i64>| TemplateInput {
            title: title.map(str::to_owned),
            days_before: days,
        };
        let errors = validate_template(vec![
            input(Some("  Book the school hall  "), Some(21)),
            input(None, Some(3)),
            input(Some("   "), Some(91)),
            input(Some(&"长".repeat(201)), Some(-1)),
            input(Some("Line\nbreak"), None),
            input(Some(&"长".repeat(200)), Some(90)),
        ])
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "items[1].title",
                "items[2].title",
                "items[2].days_before",
                "items[3].title",
                "items[3].days_before",
                "items[4].title",
                "items[4].days_before",
            ]
        );
        assert!(errors[3].1.contains("200"), "{errors:?}");

        let ok = validate_template(vec![
            input(Some("  Book the school hall  "), Some(21)),
            input(Some("Same day"), Some(0)),
        ])
        .unwrap();
        assert_eq!(ok[0].title, "Book the school hall");
        assert_eq!(ok[1].days_before, 0);

        let errors = validate_template(vec![]).unwrap_err();
        assert_eq!(errors[0].0, "items");
        let too_many = (0..21).map(|i| input(Some("x"), Some(i))).collect();
        let errors = validate_template(too_many).unwrap_err();
        assert_eq!(
            errors,
            [("items".to_owned(), "at most 20 items".to_owned())]
        );
    }
}
