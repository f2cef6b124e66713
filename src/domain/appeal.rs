//! Appeals (倡议书, issue 16): the template's named fields, rendering an appeal's text, and
//! the tracking code in its booking link. Pure: the randomness of a code comes in as bytes.

use chrono::{Datelike, NaiveDate};

use crate::i18n::Lang;

/// The named fields a template may use, each written `{name}`.
pub const FIELDS: [&str; 6] = ["date", "place", "times", "who", "bring", "link"];

/// The longest template text taken.
pub const MAX_BODY_CHARS: usize = 4000;

/// The characters of a tracking code: digits and capitals without the ones read alike
/// (`0`/`O`, `1`/`I`/`L`), so a code read out or typed from a poster comes out right.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// How many characters a new code has (31^6, some 887 million codes).
pub const CODE_LEN: usize = 6;

/// The fields of one appeal, in the language it is written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    pub date: String,
    pub place: String,
    pub times: String,
    pub who: String,
    pub bring: String,
    pub link: String,
}

/// What is wrong with a template's text, if anything: a name in braces that is not one of
/// [`FIELDS`], an unclosed brace, no `{link}` (an appeal without its link brings no one who
/// can be counted), or too long.
pub fn check_body(body: &str) -> Result<(), String> {
    if body.trim().is_empty() {
        return Err("is required".to_owned());
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(format!("must be at most {MAX_BODY_CHARS} characters"));
    }
    let mut rest = body;
    let mut has_link = false;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("has a `{` without its `}`".to_owned());
        };
        let name = &after[..close];
        if !FIELDS.contains(&name) {
            return Err(format!(
                "names an unknown field {{{name}}}; the fields are {}",
                FIELDS.map(|f| format!("{{{f}}}")).join(", ")
            ));
        }
        has_link |= name == "link";
        rest = &after[close + 1..];
    }
    if !has_link {
        return Err("must contain {link}, the booking link".to_owned());
    }
    Ok(())
}

/// The template's text with each named field replaced (a checked template: see
/// [`check_body`]).
pub fn render(body: &str, fields: &Fields) -> String {
    let mut out = String::with_capacity(body.len() + 200);
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let value = match &after[..close] {
            "date" => &fields.date,
            "place" => &fields.place,
            "times" => &fields.times,
            "who" => &fields.who,
            "bring" => &fields.bring,
            "link" => &fields.link,
            other => {
                out.push('{');
                out.push_str(other);
                out.push('}');
                rest = &after[close + 1..];
                continue;
            }
        };
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// A tracking code from random bytes: each byte below the largest multiple of the alphabet's
/// size picks a character (the others are skipped, so every character is equally likely);
/// `None` when the bytes ran out first (ask for more).
pub fn code_from(random: &[u8]) -> Option<String> {
    let n = CODE_ALPHABET.len();
    let limit = 256 - 256 % n;
    let code: String = random
        .iter()
        .filter(|b| usize::from(**b) < limit)
        .take(CODE_LEN)
        .map(|b| char::from(CODE_ALPHABET[usize::from(*b) % n]))
        .collect();
    (code.len() == CODE_LEN).then_some(code)
}

/// A code as a donor's link or hand gives it, in the stored form (capitals), if it can be
/// one: 6 to 8 characters of [`CODE_ALPHABET`] (lower case taken).
pub fn normalize_code(raw: &str) -> Option<String> {
    let code = raw.trim().to_ascii_uppercase();
    ((6..=8).contains(&code.len()) && code.bytes().all(|b| CODE_ALPHABET.contains(&b)))
        .then_some(code)
}

/// A day as an appeal writes it (`2026年12月15日（星期二）`).
pub fn day(lang: Lang, date: NaiveDate) -> String {
    let weekday = lang.t(&format!("weekday-{}", date.weekday().number_from_monday()));
    lang.tn(
        "appeal-date",
        &[
            ("year", date.year().into()),
            ("month", date.month().into()),
            ("day", date.day().into()),
            ("weekday", weekday.into()),
        ],
    )
}

/// Hours since `start` at which each of `at` falls, counted per whole hour for the first
/// `hours` hours: `counts[h]` is how many fell in hour `h` (times before `start` count in the
/// first hour, after the last hour not at all).
pub fn per_hour(start: i64, at: &[i64], hours: usize) -> Vec<u64> {
    let weighted: Vec<(i64, u64)> = at.iter().map(|t| (*t, 1)).collect();
    per_hour_weighted(start, &weighted, hours)
}

/// As [`per_hour`], each time counting its weight (a group's booking: its headcount).
pub fn per_hour_weighted(start: i64, at: &[(i64, u64)], hours: usize) -> Vec<u64> {
    let mut counts = vec![0_u64; hours];
    for (t, weight) in at {
        let h = usize::try_from((t - start).max(0) / 3600).unwrap_or(usize::MAX);
        if let Some(c) = counts.get_mut(h) {
            *c += weight;
        }
    }
    counts
}

/// Running totals of `counts`.
pub fn cumulative(counts: &[u64]) -> Vec<u64> {
    counts
        .iter()
        .scan(0_u64, |total, c| {
            *total += c;
            Some(*total)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields {
            date: "12月15日".into(),
            place: "东岭村".into(),
            times: "09:00–12:00".into(),
            who: "18–55周岁".into(),
            bring: "身份证".into(),
            link: "https://x/stops/1?via=ABC234".into(),
        }
    }

    #[test]
    fn a_template_names_known_fields_and_its_link() {
        assert!(check_body("{date}在{place}献血：{link}").is_ok());
        assert!(
            check_body("{date} {link} {later}")
                .unwrap_err()
                .contains("{later}")
        );
        assert!(check_body("{date} {place}").unwrap_err().contains("{link}"));
        assert!(check_body("{link} {date").unwrap_err().contains("without"));
        assert_eq!(check_body("  ").unwrap_err(), "is required");
        let long = format!("{{link}}{}", "字".repeat(MAX_BODY_CHARS));
        assert!(check_body(&long).is_err());
    }

    #[test]
    fn rendering_replaces_every_field_and_keeps_the_rest() {
        assert_eq!(
            render(
                "{date}，{place}（{times}）。{who}；带{bring}。预约：{link}",
                &fields()
            ),
            "12月15日，东岭村（09:00–12:00）。18–55周岁；带身份证。预约：https://x/stops/1?via=ABC234"
        );
        assert_eq!(render("{link}{link}", &fields()).matches("via=").count(), 2);
    }

    #[test]
    fn codes_use_the_unambiguous_alphabet_evenly() {
        assert_eq!(code_from(&[0, 1, 2, 3, 4, 30]).unwrap(), "23456Z");
        // 248 and above are skipped (248 = 8 × 31).
        assert_eq!(
            code_from(&[255, 248, 0, 31, 62, 93, 124, 155]).unwrap(),
            "222222"
        );
        assert_eq!(code_from(&[0, 1, 2, 255, 255, 255]), None);
        assert_eq!(normalize_code(" k7m3qx ").as_deref(), Some("K7M3QX"));
        assert_eq!(normalize_code("K7M3Q0"), None);
        assert_eq!(normalize_code("K7M3Q"), None);
    }

    #[test]
    fn bookings_are_counted_per_hour_and_summed() {
        let start = 1_000_000;
        let at = [
            start - 5,
            start + 10,
            start + 3599,
            start + 3600,
            start + 3 * 3600 + 1,
            start + 99 * 3600,
        ];
        let counts = per_hour(start, &at, 4);
        assert_eq!(counts, vec![3, 1, 0, 1]);
        assert_eq!(cumulative(&counts), vec![3, 4, 4, 5]);
        // A group counts its headcount in the hour it booked.
        let weighted = [(start + 10, 1), (start + 3700, 40), (start + 3800, 1)];
        assert_eq!(per_hour_weighted(start, &weighted, 3), vec![1, 41, 0]);
    }
}
