//! Field rules declared on command types with `validator`, turned into the problem's list of
//! named fields.
//!
//! A service's command derives [`Validate`] with one rule per field and a message that is the
//! answer's text (`#[validate(range(min = 0, max = 100, message = "must be between 0 and
//! 100"))]`), `#[validate(nested)]` for items, `#[validate(custom(function = ...))]` for rules
//! of our own and `#[validate(schema(function = ...))]` for rules across fields. [`check`]
//! runs them and appends every broken field to the service's [`FieldErrors`], so the rules
//! that need the database (run after it) add to the same list and the client sees every fault
//! at once.
//!
//! Paths are as the client wrote them: `stops[1].planned_end` for a member of an item, `a.b`
//! for a nested object. A rule across fields names its field with [`across`]: `validator`
//! files schema-level errors under `__all__`, and the field travels as the error's `field`
//! parameter.

use std::borrow::Cow;

pub use validator::{Validate, ValidationError, ValidationErrors, ValidationErrorsKind};

use crate::error::{FieldError, FieldErrors};

/// The `__all__` key under which `validator` files schema-level errors.
const SCHEMA: &str = "__all__";

/// A rule's error with the answer's `message`.
#[must_use]
pub fn error(code: &'static str, message: impl Into<Cow<'static, str>>) -> ValidationError {
    ValidationError::new(code).with_message(message.into())
}

/// A schema-level (cross-field) error that names `field` (a path such as `planned_end` or
/// `stops[1].planned_end`) with `message`.
#[must_use]
pub fn across(field: impl Into<String>, message: impl Into<Cow<'static, str>>) -> ValidationError {
    let mut e = error("across", message);
    e.add_param(Cow::Borrowed("field"), &field.into());
    e
}

/// Runs `value`'s rules and appends every broken one to `errors`.
pub fn check(value: &impl Validate, errors: &mut FieldErrors) {
    if let Err(found) = value.validate() {
        errors.0.extend(flatten(&found));
    }
}

/// As [`check`], with the errors it appends in the order of their fields in `order` (the
/// order the answer has always named them in; fields not listed come after, in path order).
/// Errors already in `errors` stay first, where they are.
pub fn check_in_order(value: &impl Validate, errors: &mut FieldErrors, order: &[&str]) {
    let start = errors.0.len();
    check(value, errors);
    let rank = |field: &str| {
        order
            .iter()
            .position(|f| *f == field)
            .unwrap_or(order.len())
    };
    errors.0[start..].sort_by_key(|e| rank(&e.field));
}

/// Free text by the rules of [`crate::domain::text::clean`] (trimmed, at most `max_chars`,
/// no control characters but line breaks when `multiline`): its message when broken. Blank is
/// fine; the service cleans the text after validating.
///
/// # Errors
/// The rule's message.
pub fn text(value: &str, max_chars: usize, multiline: bool) -> Result<(), ValidationError> {
    crate::domain::text::clean(Some(value.to_owned()), max_chars, multiline)
        .map(|_| ())
        .map_err(|message| error("text", message))
}

/// As [`text`], and blank is `is required`.
///
/// # Errors
/// The rule's message.
pub fn required_text(
    value: &str,
    max_chars: usize,
    multiline: bool,
) -> Result<(), ValidationError> {
    match crate::domain::text::clean(Some(value.to_owned()), max_chars, multiline) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(error("required", "is required")),
        Err(message) => Err(error("text", message)),
    }
}

/// A region code as given: blank is `is required`, anything but 12 digits (spaces around
/// are fine) is `must be a 12-digit region code`. Whether the region exists is the service's
/// rule, after this one.
///
/// # Errors
/// The rule's message.
pub fn region_code(value: &str) -> Result<(), ValidationError> {
    match value.trim() {
        "" => Err(error("required", "is required")),
        raw if crate::domain::region::RegionCode::parse(raw).is_err() => {
            Err(error("region_code", "must be a 12-digit region code"))
        }
        _ => Ok(()),
    }
}

/// Every error in `errors` with its full path, ordered by path (items by index), and within
/// one path in the order the rules are declared.
#[must_use]
pub fn flatten(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    walk(errors, "", &mut out);
    out.sort_by_key(|(key, _)| key.clone());
    out.into_iter().map(|(_, e)| e).collect()
}

/// A path's sort key: names compare as text, item indices as numbers.
type Key = Vec<(String, usize)>;

fn walk(errors: &ValidationErrors, prefix: &str, out: &mut Vec<(Key, FieldError)>) {
    for (name, kind) in errors.errors() {
        let path = if name == SCHEMA {
            prefix.to_owned()
        } else if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let field = match (name == SCHEMA, e.params.get("field")) {
                        (true, Some(serde_json::Value::String(f))) if prefix.is_empty() => {
                            f.clone()
                        }
                        (true, Some(serde_json::Value::String(f))) => format!("{prefix}.{f}"),
                        _ => path.clone(),
                    };
                    out.push((key(&field), FieldError::new(field, message(e))));
                }
            }
            ValidationErrorsKind::Struct(inner) => walk(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    walk(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

fn key(path: &str) -> Key {
    path.split('.')
        .flat_map(|segment| {
            let mut parts = segment.split('[');
            let name = parts.next().unwrap_or_default().to_owned();
            std::iter::once((name, 0)).chain(parts.map(|index| {
                let n = index.trim_end_matches(']').parse().unwrap_or(usize::MAX);
                (String::new(), n)
            }))
        })
        .collect()
}

/// The answer's text: the rule's message, or a plain one from its code.
fn message(e: &ValidationError) -> String {
    if let Some(m) = &e.message {
        return m.to_string();
    }
    let param = |name: &str| e.params.get(name).map(ToString::to_string);
    match (e.code.as_ref(), param("min"), param("max")) {
        ("length", Some(min), Some(max)) => format!("must be {min} to {max} characters"),
        ("length", None, Some(max)) => format!("must be at most {max} characters"),
        ("range", Some(min), Some(max)) => format!("must be between {min} and {max}"),
        ("required", ..) => "is required".to_owned(),
        _ => "is invalid".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Validate)]
    #[validate(schema(function = "ends_after_start"))]
    struct Stop {
        #[validate(range(min = 0, max = 23, message = "must be an hour"))]
        start: i32,
        end: i32,
    }

    fn ends_after_start(s: &Stop) -> Result<(), ValidationError> {
        if s.end <= s.start {
            return Err(across("end", "must be after start"));
        }
        Ok(())
    }

    #[derive(Validate)]
    struct Drive {
        #[validate(length(min = 1, max = 5))]
        name: String,
        #[validate(nested)]
        stops: Vec<Stop>,
    }

    fn fields(errors: &FieldErrors) -> Vec<(String, String)> {
        errors
            .0
            .iter()
            .map(|e| (e.field.clone(), e.message.clone()))
            .collect()
    }

    #[test]
    fn nested_items_and_cross_field_rules_are_named_by_their_path_in_order() {
        let drive = Drive {
            name: "too long a name".into(),
            stops: (0..12)
                .map(|i| Stop {
                    start: if i == 11 { 30 } else { 9 },
                    end: if i == 2 || i == 10 { 8 } else { 17 },
                })
                .collect(),
        };
        let mut errors = FieldErrors::default();
        errors.add("first", "was there before");
        check(&drive, &mut errors);
        assert_eq!(
            fields(&errors),
            [
                ("first", "was there before"),
                ("name", "must be 1 to 5 characters"),
                ("stops[2].end", "must be after start"),
                ("stops[10].end", "must be after start"),
                ("stops[11].start", "must be an hour"),
            ]
            .map(|(f, m)| (f.to_owned(), m.to_owned()))
        );
    }

    #[test]
    fn check_in_order_names_fields_in_the_order_given_after_what_was_there() {
        let drive = Drive {
            name: "too long a name".into(),
            stops: vec![Stop { start: 30, end: 31 }, Stop { start: 9, end: 8 }],
        };
        let mut errors = FieldErrors::default();
        errors.add("first", "was there before");
        check_in_order(
            &drive,
            &mut errors,
            &["stops[1].end", "stops[0].start", "name"],
        );
        assert_eq!(
            fields(&errors),
            [
                ("first", "was there before"),
                ("stops[1].end", "must be after start"),
                ("stops[0].start", "must be an hour"),
                ("name", "must be 1 to 5 characters"),
            ]
            .map(|(f, m)| (f.to_owned(), m.to_owned()))
        );
    }

    #[test]
    fn text_rules_give_the_cleaning_messages() {
        assert!(text("  ", 5, false).is_ok());
        assert_eq!(
            required_text("  ", 5, false)
                .unwrap_err()
                .message
                .as_deref(),
            Some("is required")
        );
        assert_eq!(
            text("abcdef", 5, false).unwrap_err().message.as_deref(),
            Some("must be at most 5 characters")
        );
        assert_eq!(
            region_code(" 12 ").unwrap_err().message.as_deref(),
            Some("must be a 12-digit region code")
        );
        assert!(region_code(" 411103101000 ").is_ok());
    }

    #[test]
    fn a_valid_command_adds_nothing() {
        let drive = Drive {
            name: "ok".into(),
            stops: vec![Stop { start: 8, end: 9 }],
        };
        let mut errors = FieldErrors::default();
        check(&drive, &mut errors);
        assert!(errors.0.is_empty());
    }
}
