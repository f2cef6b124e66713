//! A finished plan as files for the people who drive it: CSV (one row per stop), iCalendar
//! (RFC 5545, one event per stop) and a printable HTML route sheet (a page per vehicle-day).
//! Pure: they render a [`Sheet`], which the API builds from the stored result, enriched with
//! addresses and coordinators. Their words (headers, labels, descriptions) come from the
//! catalogue in the reader's [`Lang`].

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

use crate::i18n::Lang;
use crate::plans::result::{ResultRoute, ResultStop, StopCoordinator};

/// The columns of the CSV, in order: each header is the catalogue's `plan-csv-<column>`.
pub const CSV_COLUMNS: [&str; 15] = [
    "date",
    "vehicle",
    "vehicle_name",
    "stop",
    "site",
    "name",
    "address",
    "arrive",
    "opens",
    "closes",
    "leave",
    "expected_donors",
    "planned_donors",
    "coordinator",
    "phone",
];

/// A number of a result as exports read it: a non-finite one (stored as `null`) as 0.
fn number(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// A number as exports print it: `-0` (an empty sum) as `0`.
fn shown(x: f64) -> f64 {
    x + 0.0
}

/// A coordinator of a stop's point, as the caller may see them (phones masked outside reach).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SheetCoordinator {
    pub name: String,
    pub mobile: String,
    pub is_primary: bool,
}

/// One stop, in route order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SheetStop {
    pub site: String,
    pub name: String,
    pub address: Option<String>,
    /// The township the site lies in, when known.
    pub township: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    /// `HH:MM`.
    pub arrive: String,
    pub opens: String,
    pub closes: String,
    pub leave: String,
    pub expected: f64,
    pub donors: f64,
    pub coordinators: Vec<SheetCoordinator>,
}

/// One vehicle's day.
#[derive(Clone, Debug, PartialEq)]
pub struct SheetRoute {
    pub vehicle: String,
    pub vehicle_name: String,
    pub station_name: String,
    pub date: NaiveDate,
    pub depart: String,
    pub back: String,
    pub km: f64,
    pub donors: f64,
    pub stops: Vec<SheetStop>,
}

impl From<&StopCoordinator> for SheetCoordinator {
    fn from(c: &StopCoordinator) -> Self {
        SheetCoordinator {
            name: c.name.clone(),
            mobile: c.mobile.clone(),
            is_primary: c.is_primary,
        }
    }
}

impl From<&ResultStop> for SheetStop {
    fn from(s: &ResultStop) -> Self {
        let about = s.about.clone().unwrap_or_default();
        SheetStop {
            site: s.site.clone(),
            name: s.name.clone(),
            address: about.address,
            township: about.township,
            longitude: about.longitude,
            latitude: about.latitude,
            arrive: s.arrive.clone(),
            opens: s.opens.clone(),
            closes: s.closes.clone(),
            leave: s.leave.clone(),
            expected: number(s.expected),
            donors: number(s.donors),
            coordinators: about
                .coordinators
                .iter()
                .map(SheetCoordinator::from)
                .collect(),
        }
    }
}

/// A route of a plan's result (as served: named, redacted for the reader and rounded) as the
/// sheets print it.
impl From<&ResultRoute> for SheetRoute {
    fn from(r: &ResultRoute) -> Self {
        SheetRoute {
            vehicle: r.vehicle.clone(),
            vehicle_name: r.vehicle_name.clone().unwrap_or_default(),
            station_name: r.station_name.clone().unwrap_or_default(),
            date: r.date,
            depart: r.depart.clone(),
            back: r.back.clone(),
            km: number(r.km),
            donors: number(r.donors),
            stops: r.stops.iter().map(SheetStop::from).collect(),
        }
    }
}

/// What the exports render.
#[derive(Clone, Debug, PartialEq)]
pub struct Sheet {
    pub plan_id: i64,
    /// The plan's name (region and dates).
    pub title: String,
    /// When the plan was made: every export of it carries the same stamp.
    pub finished_at: DateTime<Utc>,
    pub routes: Vec<SheetRoute>,
}

/// The stop's primary coordinator (or its first).
fn contact(stop: &SheetStop) -> Option<&SheetCoordinator> {
    stop.coordinators
        .iter()
        .find(|c| c.is_primary)
        .or_else(|| stop.coordinators.first())
}

/// A text cell as spreadsheets may not take it for a formula (CSV injection): a cell that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.
pub fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

/// CSV, UTF-8 with a byte-order mark, one row per stop in plan order, with a header in
/// `lang` ([`CSV_COLUMNS`]). Text cells are neutralised against formula injection ([`cell`]).
///
/// # Errors
/// Only if writing to memory fails.
pub fn csv(sheet: &Sheet, lang: Lang) -> Result<Vec<u8>, csv::Error> {
    // A UTF-8 byte-order mark, as every CSV download has: without it Excel on Chinese Windows
    // reads the file as GBK and garbles the names.
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(CSV_COLUMNS.map(|c| lang.t(&format!("plan-csv-{c}"))))?;
    for route in &sheet.routes {
        for (i, stop) in route.stops.iter().enumerate() {
            let person = contact(stop);
            out.write_record([
                route.date.to_string(),
                cell(&route.vehicle),
                cell(&route.vehicle_name),
                (i + 1).to_string(),
                cell(&stop.site),
                cell(&stop.name),
                cell(stop.address.as_deref().unwrap_or_default()),
                cell(&stop.arrive),
                cell(&stop.opens),
                cell(&stop.closes),
                cell(&stop.leave),
                format!("{:.1}", shown(stop.expected)),
                format!("{:.1}", shown(stop.donors)),
                cell(person.map_or("", |c| c.name.as_str())),
                cell(person.map_or("", |c| c.mobile.as_str())),
            ])?;
        }
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// Escapes TEXT for iCalendar (RFC 5545 3.3.11).
pub(crate) fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded at 75 octets (RFC 5545 3.1: a continuation starts with a space;
/// never inside a UTF-8 character), ended by CRLF.
pub(crate) fn ics_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// `date` at `HH:MM` (which may pass 24:00) as a local date-time.
fn at(date: NaiveDate, hhmm: &str) -> Option<NaiveDateTime> {
    let (h, m) = hhmm.split_once(':')?;
    let minutes = h
        .parse::<i64>()
        .ok()?
        .checked_mul(60)?
        .checked_add(m.parse::<i64>().ok()?)?;
    date.and_hms_opt(0, 0, 0)?
        .checked_add_signed(chrono::TimeDelta::try_minutes(minutes)?)
}

/// Opens a calendar in China Standard Time (`TZID=Asia/Shanghai`, UTC+8 all year): the
/// `VCALENDAR` header, its name, and the time zone. [`ics_line`] `END:VCALENDAR` closes it.
pub(crate) fn ics_begin(out: &mut String, product: &str, title: &str) {
    ics_line(out, "BEGIN:VCALENDAR");
    ics_line(out, "VERSION:2.0");
    ics_line(out, &format!("PRODID:-//donornet//{product}//ZH"));
    ics_line(out, "CALSCALE:GREGORIAN");
    ics_line(out, "METHOD:PUBLISH");
    ics_line(out, &format!("X-WR-CALNAME:{}", ics_text(title)));
    for line in [
        "BEGIN:VTIMEZONE",
        "TZID:Asia/Shanghai",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0800",
        "TZOFFSETTO:+0800",
        "TZNAME:CST",
        "END:STANDARD",
        "END:VTIMEZONE",
    ] {
        ics_line(out, line);
    }
}

/// iCalendar: one event per stop, from arrival to departure, in China Standard Time
/// (`TZID=Asia/Shanghai`, UTC+8 all year), described in `lang`. UIDs name the plan, the day,
/// the vehicle and the site, so exporting again updates the same events rather than adding
/// new ones.
pub fn ics(sheet: &Sheet, lang: Lang) -> String {
    let mut out = String::new();
    let stamp = sheet.finished_at.format("%Y%m%dT%H%M%SZ").to_string();
    ics_begin(&mut out, "drive plans", &sheet.title);
    let local = |t: Option<NaiveDateTime>| t.map(|t| t.format("%Y%m%dT%H%M%S").to_string());
    for route in &sheet.routes {
        for stop in &route.stops {
            let (Some(start), Some(end)) = (
                local(at(route.date, &stop.arrive)),
                local(at(route.date, &stop.leave)),
            ) else {
                continue;
            };
            let vehicle = if route.vehicle_name.is_empty() {
                &route.vehicle
            } else {
                &route.vehicle_name
            };
            let mut description = lang.tn(
                "plan-ics-description",
                &[
                    ("opens", stop.opens.as_str().into()),
                    ("closes", stop.closes.as_str().into()),
                    ("donors", format!("{:.0}", shown(stop.donors)).into()),
                ],
            );
            if let Some(c) = contact(stop) {
                description.push('\n');
                description.push_str(&lang.tn(
                    "plan-ics-coordinator",
                    &[
                        ("name", c.name.as_str().into()),
                        ("mobile", c.mobile.as_str().into()),
                    ],
                ));
            }
            ics_line(&mut out, "BEGIN:VEVENT");
            ics_line(
                &mut out,
                &format!(
                    "UID:plan-{}-{}-{}-{}@donornet",
                    sheet.plan_id,
                    route.date.format("%Y%m%d"),
                    route.vehicle,
                    stop.site
                ),
            );
            ics_line(&mut out, &format!("DTSTAMP:{stamp}"));
            ics_line(&mut out, &format!("DTSTART;TZID=Asia/Shanghai:{start}"));
            ics_line(&mut out, &format!("DTEND;TZID=Asia/Shanghai:{end}"));
            ics_line(
                &mut out,
                &format!(
                    "SUMMARY:{}",
                    ics_text(&format!("{} · {vehicle}", stop.name))
                ),
            );
            let place = stop.address.as_deref().unwrap_or(&stop.name);
            ics_line(&mut out, &format!("LOCATION:{}", ics_text(place)));
            if let (Some(lon), Some(lat)) = (stop.longitude, stop.latitude) {
                ics_line(&mut out, &format!("GEO:{lat:.6};{lon:.6}"));
            }
            ics_line(&mut out, &format!("DESCRIPTION:{}", ics_text(&description)));
            ics_line(&mut out, "END:VEVENT");
        }
    }
    ics_line(&mut out, "END:VCALENDAR");
    out
}

/// Escapes text for HTML content and attribute values.
pub fn html_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const SHEET_CSS: &str = "body{font-family:sans-serif;font-size:11pt;margin:1.5cm}\
h1{font-size:15pt;margin:0 0 .3em}h2{font-size:11pt;font-weight:normal;margin:0 0 1em}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #444;padding:.3em .4em;\
text-align:left;vertical-align:top}th{background:#eee}td.n{text-align:right}\
.sheet{page-break-after:always;break-after:page}.sheet:last-child{page-break-after:auto;\
break-after:auto}.muted{color:#555}@media print{body{margin:0}}\
@media screen and (max-width:600px){body{margin:.6em;font-size:12pt}\
table,tbody,tr,td{display:block;width:auto}thead{display:none}\
tr{border:1px solid #444;margin:0 0 .7em;padding:.3em .5em}td,td.n{border:none;padding:.1em 0;\
text-align:left;overflow-wrap:anywhere}td::before{content:attr(data-label) \": \";\
font-weight:bold}}";

/// `date` as a route sheet heads a day: the date and its weekday, in `lang`.
fn day_heading(date: NaiveDate, lang: Lang) -> String {
    let weekday = lang.t(&format!("weekday-{}", date.weekday().number_from_monday()));
    lang.tn(
        "route-day",
        &[
            ("date", date.format("%Y-%m-%d").to_string().into()),
            ("weekday", weekday.into()),
        ],
    )
}

/// A printable route sheet in `lang`: one page per vehicle-day with its stops in order,
/// times, addresses, coordinators and their phones, and expected donors. No external assets;
/// every text is escaped.
pub fn html(sheet: &Sheet, lang: Lang) -> String {
    let t = |id: &str| html_text(&lang.t(id));
    let plan = sheet.plan_id.to_string();
    let mut out = String::new();
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n",
        lang.tag()
    ));
    // Read on phones too: laid out for the screen's width (a card per stop when narrow).
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!(
        "<title>{}</title>\n<style>{SHEET_CSS}</style>\n</head>\n<body>\n",
        html_text(&lang.tn(
            "route-title",
            &[
                ("plan", plan.as_str().into()),
                ("title", sheet.title.as_str().into())
            ]
        ))
    ));
    if sheet.routes.is_empty() {
        out.push_str(&format!(
            "<p>{}</p>\n",
            html_text(&lang.t1("route-empty", "plan", plan.as_str()))
        ));
    }
    // The column headers, also each cell's label when a narrow screen shows a stop as a card.
    let [arrive, donation, leave, site, address, coordinators, donors] = [
        "route-col-arrive",
        "route-col-donation",
        "route-col-leave",
        "route-col-site",
        "route-col-address",
        "route-col-coordinators",
        "route-col-donors",
    ]
    .map(t);
    let primary = t("route-primary");
    for route in &sheet.routes {
        out.push_str("<section class=\"sheet\">\n");
        let vehicle = if route.vehicle_name.is_empty() {
            &route.vehicle
        } else {
            &route.vehicle_name
        };
        out.push_str(&format!(
            "<h1>{} — {}</h1>\n",
            html_text(&day_heading(route.date, lang)),
            html_text(vehicle)
        ));
        out.push_str(&format!(
            "<h2>{}</h2>\n",
            html_text(&lang.tn(
                "route-summary",
                &[
                    ("station", route.station_name.as_str().into()),
                    ("depart", route.depart.as_str().into()),
                    ("back", route.back.as_str().into()),
                    ("km", format!("{:.0}", shown(route.km)).into()),
                    ("donors", format!("{:.0}", shown(route.donors)).into()),
                    ("plan", plan.as_str().into()),
                    ("title", sheet.title.as_str().into()),
                ],
            ))
        ));
        out.push_str(&format!(
            "<table>\n<thead><tr><th>#</th><th>{arrive}</th><th>{donation}</th><th>{leave}</th>\
             <th>{site}</th><th>{address}</th><th>{coordinators}</th><th>{donors}</th></tr>\
             </thead>\n<tbody>\n"
        ));
        for (i, stop) in route.stops.iter().enumerate() {
            let people: Vec<String> = stop
                .coordinators
                .iter()
                .map(|c| {
                    format!(
                        "{} {}{}",
                        html_text(&c.name),
                        html_text(&c.mobile),
                        if c.is_primary { primary.as_str() } else { "" }
                    )
                })
                .collect();
            // The site by its name and township: its internal id (`point-1`) means nothing
            // to a driver.
            let township = match stop.township.as_deref() {
                Some(t) if !t.is_empty() => {
                    format!("<br><span class=\"muted\">{}</span>", html_text(t))
                }
                _ => String::new(),
            };
            out.push_str(&format!(
                "<tr><td class=\"n\" data-label=\"#\">{}</td><td data-label=\"{arrive}\">{}</td>\
                 <td data-label=\"{donation}\">{}–{}</td><td data-label=\"{leave}\">{}</td>\
                 <td data-label=\"{site}\">{}{}</td><td data-label=\"{address}\">{}</td>\
                 <td data-label=\"{coordinators}\">{}</td>\
                 <td class=\"n\" data-label=\"{donors}\">{:.0}</td></tr>\n",
                i + 1,
                html_text(&stop.arrive),
                html_text(&stop.opens),
                html_text(&stop.closes),
                html_text(&stop.leave),
                html_text(&stop.name),
                township,
                html_text(stop.address.as_deref().unwrap_or("")),
                people.join("<br>"),
                shown(stop.donors),
            ));
        }
        out.push_str("</tbody>\n</table>\n</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> Sheet {
        Sheet {
            plan_id: 7,
            title: "东岭镇, 2026-12-01 to 2026-12-02".to_owned(),
            finished_at: DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            routes: vec![SheetRoute {
                vehicle: "vehicle-1".to_owned(),
                vehicle_name: "1号采血车 豫LD1234".to_owned(),
                station_name: "中心血站".to_owned(),
                date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                depart: "08:00".to_owned(),
                back: "16:10".to_owned(),
                km: 42.0,
                donors: 55.0,
                stops: vec![SheetStop {
                    site: "point-3".to_owned(),
                    name: "<东岭>村, \"献血点\"; 一".to_owned(),
                    address: Some("人民路 1 号, 东岭镇; 北".to_owned()),
                    township: Some("东岭镇".to_owned()),
                    longitude: Some(114.0132),
                    latitude: Some(33.6737),
                    arrive: "08:30".to_owned(),
                    opens: "09:00".to_owned(),
                    closes: "12:00".to_owned(),
                    leave: "12:20".to_owned(),
                    expected: 55.04,
                    donors: 55.04,
                    coordinators: vec![SheetCoordinator {
                        name: "李医生".to_owned(),
                        mobile: "13800001234".to_owned(),
                        is_primary: true,
                    }],
                }],
            }],
        }
    }

    #[test]
    fn csv_has_a_header_and_a_row_per_stop() {
        let text = String::from_utf8(csv(&sheet(), Lang::English).unwrap()).unwrap();
        let text = text
            .strip_prefix('\u{feff}')
            .expect("a byte-order mark, for Excel");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with("Date,Vehicle id,Vehicle,Stop,Site id,Site,Address"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("\"<东岭>村, \"\"献血点\"\"; 一\""),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].ends_with(",55.0,55.0,李医生,13800001234"),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        let mut sheet = sheet();
        let stop = &mut sheet.routes[0].stops[0];
        stop.name = "=HYPERLINK(\"http://x\")".to_owned();
        stop.address = Some("+1+2".to_owned());
        stop.coordinators[0].name = "@SUM(A1)".to_owned();
        stop.coordinators[0].mobile = "-1".to_owned();
        stop.expected = -0.0;
        sheet.routes[0].vehicle_name = "\tcmd".to_owned();
        let text = String::from_utf8(csv(&sheet, Lang::ZhCn).unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[2], "'\tcmd");
        assert_eq!(&row[5], "'=HYPERLINK(\"http://x\")");
        assert_eq!(&row[6], "'+1+2");
        assert_eq!(&row[11], "0.0");
        assert_eq!((&row[13], &row[14]), ("'@SUM(A1)", "'-1"));
        assert_eq!(&row[7], "08:30", "times are left alone");
    }

    #[test]
    fn times_past_any_calendar_are_skipped_not_a_panic() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(
            at(day, "25:30"),
            NaiveDate::from_ymd_opt(2026, 12, 2)
                .unwrap()
                .and_hms_opt(1, 30, 0)
        );
        assert_eq!(at(day, "9223372036854775807:00"), None);
        assert_eq!(at(NaiveDate::MAX, "71582788:15"), None);
        let mut sheet = sheet();
        sheet.routes[0].date = NaiveDate::MAX;
        sheet.routes[0].stops[0].leave = "71582788:15".to_owned();
        assert!(!ics(&sheet, Lang::ZhCn).contains("BEGIN:VEVENT"));
    }

    #[test]
    fn null_numbers_of_a_stored_result_read_as_zero() {
        let stored = serde_json::json!({
            "format": "donornet.plan.v1",
            "routes": [{"vehicle": "vehicle-1", "date": "2026-12-01", "depart": "08:00",
                "return": "16:00", "km": null, "travel_min": 0.0, "donors": null, "ml": 0.0,
                "cost_ml": 0.0,
                "stops": [{"site": "point-1", "name": "", "travel_km": 0.0, "travel_min": 0.0,
                    "arrive": "08:30", "opens": "09:00", "closes": "12:00", "leave": "12:20",
                    "expected": null, "donors": null, "ml": 0.0}]}],
            "totals": {"routes": 1, "stops": 1, "donors": 0.0, "ml": 0.0, "km": 0.0,
                "cost_ml": 0.0, "objective": 0.0},
            "violations": [], "unscheduled": [],
            "solver": {"seed": 1, "iterations": 0, "iteration_budget": 0,
                "stopped_by": "iterations", "seconds": 0.0, "construction_objective": 0.0}
        });
        let result = crate::plans::result::PlanResult::from_stored(&stored.to_string()).unwrap();
        let route = SheetRoute::from(&result.routes[0]);
        assert_eq!((route.km, route.donors), (0.0, 0.0));
        assert_eq!(route.stops[0].expected, 0.0);
    }

    #[test]
    fn ics_escapes_folds_and_uses_crlf() {
        let text = ics(&sheet(), Lang::English);
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains("DTSTART;TZID=Asia/Shanghai:20261201T083000\r\n"));
        assert!(unfolded.contains("DTEND;TZID=Asia/Shanghai:20261201T122000\r\n"));
        assert!(unfolded.contains("UID:plan-7-20261201-vehicle-1-point-3@donornet\r\n"));
        assert!(unfolded.contains("DTSTAMP:20261126T080000Z\r\n"));
        assert!(unfolded.contains("LOCATION:人民路 1 号\\, 东岭镇\\; 北\r\n"));
        assert!(unfolded.contains("SUMMARY:<东岭>村\\, \"献血点\"\\; 一 · 1号采血车 豫LD1234\r\n"));
        assert!(unfolded.contains("\\nCoordinator: 李医生 13800001234"));
        assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 1);
        assert_eq!(
            ics(&sheet(), Lang::English),
            text,
            "the same plan exports the same calendar"
        );
    }

    #[test]
    fn the_exports_speak_the_readers_language() {
        let text = String::from_utf8(csv(&sheet(), Lang::ZhCn).unwrap()).unwrap();
        let header = text.trim_start_matches('\u{feff}').lines().next().unwrap();
        assert_eq!(header.split(',').count(), CSV_COLUMNS.len());
        assert!(
            header.starts_with("日期,车辆编号,车辆,顺序,地点编号,地点,地址,到达"),
            "{header}"
        );
        assert!(header.ends_with(",联络员,电话"), "{header}");
        let page = html(&sheet(), Lang::ZhCn);
        assert!(page.contains("<html lang=\"zh-CN\">"));
        assert!(page.contains("<title>计划 7 — 东岭镇"), "{page}");
        assert!(
            page.contains("<h1>2026-12-01 星期二 — 1号采血车 豫LD1234</h1>"),
            "{page}"
        );
        assert!(page.contains("中心血站 08:00 出发 · 16:10 返回 · 42 公里 · 预计 55 人献血"));
        assert!(page.contains("<th>到达</th>") && page.contains("data-label=\"联络员\""));
        assert!(page.contains("李医生 13800001234（主要）"), "{page}");
        let english = html(&sheet(), Lang::English);
        assert!(english.contains("<html lang=\"en\">"));
        assert!(
            english.contains("<h1>2026-12-01 (Tue) — 1号采血车 豫LD1234</h1>"),
            "{english}"
        );
        assert!(english.contains("Leave 中心血站 08:00 · back 16:10 · 42 km · 55 donors expected"));
        let unfolded = ics(&sheet(), Lang::ZhCn).replace("\r\n ", "");
        assert!(
            unfolded.contains(
                "DESCRIPTION:采血 09:00–12:00，预计 55 人献血。\\n联络员：李医生 13800001234\r\n"
            ),
            "{unfolded}"
        );
        let mut empty = sheet();
        empty.routes.clear();
        assert!(html(&empty, Lang::ZhCn).contains("<p>计划 7 没有站点。</p>"));
        assert!(html(&empty, Lang::English).contains("<p>Plan 7 has no stops.</p>"));
    }

    #[test]
    fn folding_never_splits_a_character() {
        let mut out = String::new();
        ics_line(&mut out, &format!("SUMMARY:{}", "献".repeat(40)));
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75);
        }
        assert_eq!(
            out.replace("\r\n ", "").trim_end(),
            format!("SUMMARY:{}", "献".repeat(40))
        );
    }

    #[test]
    fn html_escapes_every_text_and_breaks_pages_between_days() {
        let mut two_days = sheet();
        let mut second = two_days.routes[0].clone();
        second.date = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        two_days.routes.push(second);
        let page = html(&two_days, Lang::English);
        assert!(page.contains("&lt;东岭&gt;村, &quot;献血点&quot;; 一"));
        assert!(!page.contains("<东岭>"));
        assert_eq!(page.matches("<section class=\"sheet\">").count(), 2);
        assert!(page.contains("page-break-after:always"));
        assert!(page.contains("李医生 13800001234 (primary)"));
        assert!(!page.contains("http"), "no external assets");
    }

    #[test]
    fn the_route_sheet_names_sites_and_fits_a_phone() {
        let page = html(&sheet(), Lang::English);
        assert!(page.contains("<meta name=\"viewport\" content=\"width=device-width"));
        assert!(page.contains("max-width:600px"), "a narrow layout");
        assert!(!page.contains("point-3"), "no internal ids: {page}");
        assert!(
            page.contains("<span class=\"muted\">东岭镇</span>"),
            "{page}"
        );
        assert!(page.contains("data-label=\"Arrive\""));
        // No township known: the name alone.
        let mut sheet = sheet();
        sheet.routes[0].stops[0].township = None;
        assert!(!html(&sheet, Lang::ZhCn).contains("class=\"muted\">"));
    }
}
