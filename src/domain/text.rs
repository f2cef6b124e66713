//! Free text from users: trimmed, bounded, and free of control characters (PostgreSQL refuses
//! NUL in text, and no name needs a bell or an escape) and of invisible direction changes.

use chrono::NaiveDate;

/// The earliest date any record may carry (the founding of the People's Republic): older dates
/// are typing mistakes, and PostgreSQL's `date` cannot hold the far past that chrono accepts.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1949, 10, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// Trims `value`; `None` when empty. Refuses more than `max_chars` characters and control
/// characters (tabs and line breaks too, unless `multiline`).
///
/// # Errors
/// A message for the field.
pub fn clean(
    value: Option<String>,
    max_chars: usize,
    multiline: bool,
) -> Result<Option<String>, String> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(if multiline {
            "must not contain control characters other than line breaks and tabs".to_owned()
        } else {
            "must not contain control characters or line breaks".to_owned()
        });
    }
    if value.chars().any(is_invisible_format) {
        return Err("must not contain invisible or direction-changing characters".to_owned());
    }
    Ok(Some(value))
}

/// Bidirectional embeddings, overrides and isolates, and zero-width spaces: they can make a
/// name display as something else (in a list, or in the audit log's "who"), and no name here
/// needs them.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_printable() {
        assert_eq!(
            clean(Some("  东岭  ".into()), 10, false),
            Ok(Some("东岭".into()))
        );
        assert_eq!(clean(Some("   ".into()), 10, false), Ok(None));
        assert_eq!(clean(None, 10, false), Ok(None));
        assert!(clean(Some("站".repeat(11)), 10, false).is_err());
        assert!(clean(Some("a\u{0}b".into()), 10, true).is_err());
        assert!(clean(Some("a\nb".into()), 10, false).is_err());
        assert_eq!(
            clean(Some("a\nb".into()), 10, true),
            Ok(Some("a\nb".into()))
        );
        for sneaky in [
            "abc\u{202E}fed",
            "a\u{200B}b",
            "\u{2066}x\u{2069}",
            "\u{FEFF}x",
        ] {
            assert!(clean(Some(sneaky.into()), 20, true).is_err(), "{sneaky:?}");
        }
    }
}
