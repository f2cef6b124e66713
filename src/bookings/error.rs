//! `BookingsError`: why a bookings use case refused or failed, without HTTP. The API maps it
//! to problem+json in `crate::error` (one `From`).

use chrono::NaiveDate;
use sea_orm::DbErr;

use crate::error::{FieldError, FieldErrors};

/// Why a bookings use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum BookingsError {
    /// Fields that break a rule, every one named (`invalid name, mobile`).
    #[error("invalid {}", crate::error::field_names(.0))]
    Invalid(Vec<FieldError>),
    /// One field that breaks a rule (`invalid slot: …`).
    #[error("invalid {field}: {message}")]
    InvalidField { field: String, message: String },
    /// The record does not exist (a stop not announced, a wrong code or token).
    #[error("{0}")]
    NotFound(String),
    /// The change does not fit the state (a full or begun slot, a cancelled drive, a booking
    /// changed meanwhile, a mobile booked at the stop already); `why` says which, for pages
    /// that explain it in plain words.
    #[error("{detail}")]
    Conflict { why: Why, detail: String },
    /// An allowance is used up (the places one mobile or address may hold through public
    /// booking); `field` names what it is counted on.
    #[error("{detail}")]
    Limit { field: String, detail: String },
    /// Too many public booking requests from one client address this minute.
    #[error("too many bookings from this address; try again in {retry_after_secs} second(s)")]
    TooOften { retry_after_secs: u64 },
    /// A donor whose last donation is too recent for the drive's date.
    #[error(
        "the last donation recorded for this mobile was on {last_donation}; whole blood may be given again from {next_eligible} (180 days)"
    )]
    NotYetEligible {
        last_donation: NaiveDate,
        next_eligible: NaiveDate,
    },
    /// A fault of ours (a stored row that does not read back, no randomness).
    #[error(transparent)]
    Internal(anyhow::Error),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Which kind of conflict refused a booking change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The slot, or the slots asked for, have too few places left.
    Full,
    /// The slot has begun.
    Begun,
    /// The mobile has an active booking at this stop already.
    Duplicate,
    /// The drive is over, cancelled or no longer taking bookings.
    Closed,
    /// The booking is cancelled.
    Cancelled,
    /// Something changed meanwhile; trying again may work.
    Changed,
    /// Any other state that does not allow the change.
    Other,
}

impl BookingsError {
    /// A conflict of kind `why`.
    pub fn conflict(why: Why, detail: impl Into<String>) -> Self {
        BookingsError::Conflict {
            why,
            detail: detail.into(),
        }
    }

    /// One field that breaks a rule.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        BookingsError::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// A fault of ours, described.
    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        BookingsError::Internal(anyhow::anyhow!("{detail}"))
    }
}

/// Every field collected (a refusal names at least one).
impl From<FieldErrors> for BookingsError {
    fn from(errors: FieldErrors) -> Self {
        if errors.0.is_empty() {
            BookingsError::internal("a refusal without a field")
        } else {
            BookingsError::Invalid(errors.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::BookingsError;
    use crate::error::{AppError, FieldErrors};

    #[test]
    fn errors_become_the_answers_the_api_gave_before() {
        let mut fields = FieldErrors::default();
        fields.add("name", "is required");
        fields.add("mobile", "must be a mobile number");
        let invalid = AppError::from(BookingsError::from(fields));
        assert_eq!(invalid.status().as_u16(), 400);
        assert!(
            matches!(&invalid, AppError::Validation { detail, errors }
                if detail == "invalid name, mobile" && errors.len() == 2
                    && errors[1].field == "mobile" && errors[1].message == "must be a mobile number"),
            "{invalid:?}"
        );

        let one = AppError::from(BookingsError::invalid("slot", "is required"));
        assert!(
            matches!(&one, AppError::Validation { detail, errors }
                if detail == "invalid slot: is required" && errors[0].field == "slot"),
            "{one:?}"
        );

        let limit = AppError::from(BookingsError::Limit {
            field: "contact_mobile".to_owned(),
            detail: "at most 4 at once".to_owned(),
        });
        assert_eq!(limit.status().as_u16(), 409);
        assert!(
            matches!(&limit, AppError::Limit { field, detail }
                if field == "contact_mobile" && detail == "at most 4 at once"),
            "{limit:?}"
        );

        let last = NaiveDate::from_ymd_opt(2026, 3, 1).expect("a date");
        let next = NaiveDate::from_ymd_opt(2026, 8, 28).expect("a date");
        let early = BookingsError::NotYetEligible {
            last_donation: last,
            next_eligible: next,
        };
        let said = early.to_string();
        let early = AppError::from(early);
        assert_eq!(early.status().as_u16(), 409);
        assert_eq!(early.to_string(), said);
        assert!(
            matches!(early, AppError::NotYetEligible { last_donation, next_eligible }
                if last_donation == last && next_eligible == next)
        );

        assert_eq!(
            AppError::from(BookingsError::NotFound("no booking AB12".to_owned()))
                .status()
                .as_u16(),
            404
        );
        assert_eq!(
            AppError::from(BookingsError::conflict(
                super::Why::Full,
                "the slot is full"
            ))
            .to_string(),
            "the slot is full"
        );
        assert_eq!(
            AppError::from(BookingsError::internal("drive 3: no vehicle"))
                .status()
                .as_u16(),
            500
        );
        assert!(matches!(
            BookingsError::from(FieldErrors::default()),
            BookingsError::Internal(_)
        ));
    }
}
