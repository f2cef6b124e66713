//! Announced stops as an iCalendar file (RFC 5545): one event per stop in China time, its UID
//! naming the stop (a calendar that subscribes updates its events), in the reader's language,
//! each linking to the stop's booking page on this site. Pure.

use chrono::{DateTime, Utc};

use super::reads::{ScheduledStop, slot_states};
use crate::domain::booking as rules;
use crate::i18n::Lang;
use crate::plans::export::{ics_begin, ics_line, ics_text};

/// The address of a stop's booking page on the site at `site` (`https://host`).
pub fn stop_page(site: &str, stop_id: i64) -> String {
    format!("{}/stops/{stop_id}", site.trim_end_matches('/'))
}

/// The calendar of `stops` at `now`, its words in `lang`, linking to pages on `site`.
pub fn calendar(stops: &[&ScheduledStop], lang: Lang, site: &str, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    ics_begin(&mut out, "blood drives", &lang.t("ics-calendar-name"));
    let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
    for scheduled in stops {
        let (drive, stop) = (&scheduled.drive, &scheduled.stop);
        let day = drive.date.format("%Y%m%d");
        let local = |minutes: i32| format!("{day}T{}00", rules::clock(minutes).replace(':', ""));
        let places_left: i32 = slot_states(drive.date, &scheduled.slots, now)
            .iter()
            .filter(|s| s.open)
            .map(|s| s.places_left)
            .sum();
        let link = stop_page(site, stop.id);
        ics_line(&mut out, "BEGIN:VEVENT");
        ics_line(&mut out, &format!("UID:stop-{}@donornet", stop.id));
        ics_line(&mut out, &format!("DTSTAMP:{stamp}"));
        ics_line(
            &mut out,
            &format!("DTSTART;TZID=Asia/Shanghai:{}", local(stop.planned_start)),
        );
        ics_line(
            &mut out,
            &format!("DTEND;TZID=Asia/Shanghai:{}", local(stop.planned_end)),
        );
        ics_line(
            &mut out,
            &format!(
                "SUMMARY:{}",
                ics_text(&lang.t1("ics-summary", "name", stop.name.as_str()))
            ),
        );
        let place = scheduled.place.0.as_deref().unwrap_or(&stop.name);
        ics_line(&mut out, &format!("LOCATION:{}", ics_text(place)));
        if let Some((lon, lat)) = scheduled.place.1 {
            ics_line(&mut out, &format!("GEO:{lat:.6};{lon:.6}"));
        }
        let description = lang.tn(
            "ics-description",
            &[
                ("count", places_left.into()),
                ("link", link.as_str().into()),
            ],
        );
        ics_line(&mut out, &format!("DESCRIPTION:{}", ics_text(&description)));
        ics_line(&mut out, &format!("URL:{link}"));
        ics_line(&mut out, "END:VEVENT");
    }
    ics_line(&mut out, "END:VCALENDAR");
    out
}
