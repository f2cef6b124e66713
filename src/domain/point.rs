//! Donation points: their kinds, statuses and the rules that tie them to the hierarchy.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::calendar::MarketDays;
use crate::domain::region::Level;

/// What a point is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    /// The township's point, usually at the township health centre.
    Township,
    /// A village's point, usually at the village clinic.
    Village,
    /// A fixed donation room.
    DonationHouse,
    /// A hospital that takes donations.
    Hospital,
}

/// Where a point's lifecycle stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PointStatus {
    Planned,
    Active,
    Suspended,
    /// Closed points are kept, with their history, and hidden from listings by default.
    Closed,
}

string_enum!(PointKind {
    Township => "township",
    Village => "village",
    DonationHouse => "donation_house",
    Hospital => "hospital",
});

string_enum!(PointStatus {
    Planned => "planned",
    Active => "active",
    Suspended => "suspended",
    Closed => "closed",
});

/// What a coordinator is, locally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CoordinatorRole {
    VillageDoctor,
    TownshipHealthCenter,
    VillageCommittee,
    Volunteer,
    Other,
}

string_enum!(CoordinatorRole {
    VillageDoctor => "village_doctor",
    TownshipHealthCenter => "township_health_center",
    VillageCommittee => "village_committee",
    Volunteer => "volunteer",
    Other => "other",
});

impl PointKind {
    /// The levels of region a point of this kind may serve: a township point serves a
    /// township, a village point a village; a donation house or a hospital either.
    pub fn serves(self, level: Level) -> bool {
        match self {
            PointKind::Township => level == Level::Township,
            PointKind::Village => level == Level::Village,
            PointKind::DonationHouse | PointKind::Hospital => {
                matches!(level, Level::Township | Level::Village)
            }
        }
    }

    /// What `serves` accepts, in words, for error messages.
    pub fn expected_levels(self) -> &'static str {
        match self {
            PointKind::Township => "a township-level region",
            PointKind::Village => "a village-level region",
            PointKind::DonationHouse | PointKind::Hospital => "a township- or village-level region",
        }
    }
}

/// A contact telephone number: a mainland mobile (11 digits starting with 1) or a landline
/// with its area code (`0` + 2-3 digits, then 7-8 digits, an optional hyphen between).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses a number, ignoring spaces.
    ///
    /// # Errors
    /// A message saying what a valid number looks like.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let invalid = || {
            "must be a mainland mobile (11 digits starting with 1) or a landline with its area code"
                .to_owned()
        };
        // Only digits and one hyphen; checked first, so that the byte splits below are safe.
        if !compact.bytes().all(|b| b.is_ascii_digit() || b == b'-')
            || compact.matches('-').count() > 1
        {
            return Err(invalid());
        }
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let mobile = compact.len() == 11 && compact.starts_with('1') && digits(&compact);
        let landline = {
            let (area, local) = compact.split_once('-').unwrap_or_else(|| {
                // Without a hyphen: area codes are 3 digits for the big cities (010, 02x),
                // else 4.
                let split = if compact.starts_with("01") || compact.starts_with("02") {
                    3
                } else {
                    4
                };
                compact.split_at(split.min(compact.len()))
            });
            area.starts_with('0')
                && (3..=4).contains(&area.len())
                && digits(area)
                && (7..=8).contains(&local.len())
                && digits(local)
        };
        if mobile || landline {
            Ok(PhoneNumber(compact))
        } else {
            Err("must be a mainland mobile (11 digits starting with 1) or a landline with its area code".to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A mainland mobile number: 11 digits starting with 1 (coordinators' phones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MobileNumber(String);

impl MobileNumber {
    /// # Errors
    /// Anything but 11 digits starting with 1 (spaces and hyphens are ignored).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let compact: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if compact.len() == 11
            && compact.starts_with('1')
            && compact.bytes().all(|b| b.is_ascii_digit())
        {
            Ok(MobileNumber(compact))
        } else {
            Err("must be a mainland mobile number: 11 digits starting with 1".to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A site's market days as the API takes them: the last digits of the lunar days the township
/// holds a market on, one digit each, separated by commas (`1,4,7`: days 1, 4, 7, 11, 14, …).
/// Stricter than [`MarketDays`]'s own `FromStr`, which also reads `147`: here `12` would more
/// likely mean "the 12th" than "days ending in 1 and 2", so it is refused rather than guessed.
/// Blank is `None` (no market).
///
/// # Errors
/// A message for the field.
pub fn parse_market_days(raw: &str) -> Result<Option<MarketDays>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let invalid = || {
        format!(
            "must be the last digits of the lunar market days, one digit each, separated by commas (e.g. 1,4,7); got {raw:?}"
        )
    };
    let mut digits = Vec::new();
    for part in raw.split([',', '，']) {
        let part = part.trim();
        let mut chars = part.chars();
        match (chars.next().and_then(|c| c.to_digit(10)), chars.next()) {
            (Some(d), None) if part.is_ascii() => {
                let d = u8::try_from(d).map_err(|_| invalid())?;
                if digits.contains(&d) {
                    return Err(format!("names the digit {d} twice"));
                }
                digits.push(d);
            }
            _ => return Err(invalid()),
        }
    }
    MarketDays::of_digits(&digits).map(Some)
}

/// A phone number as the public sees it: the first three and last four digits, the middle
/// starred (`138****5678`), whatever its format. Numbers too short to mask are starred whole.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 8 {
        return "*".repeat(digits.len().max(4));
    }
    let (head, rest) = digits.split_at(3);
    let (middle, tail) = rest.split_at(rest.len() - 4);
    format!(
        "{}{}{}",
        head.iter().collect::<String>(),
        "*".repeat(middle.len()),
        tail.iter().collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn market_days_are_single_digits_separated_by_commas() {
        let parse = |s: &str| parse_market_days(s).map(|m| m.map(|m| m.to_string()));
        assert_eq!(parse("1,4,7"), Ok(Some("1,4,7".to_owned())));
        assert_eq!(parse(" 7， 4 ,1 "), Ok(Some("1,4,7".to_owned())));
        assert_eq!(parse("0"), Ok(Some("0".to_owned())));
        assert_eq!(parse("  "), Ok(None));
        for bad in ["1,4,x", "12", "147", "1,,4", "1,4,", "1,1", "-1", "１"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_are_masked_in_the_middle() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("0395-1234567"), "039****4567");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_phone(""), "****");
    }

    #[test]
    fn kinds_serve_their_levels() {
        assert!(PointKind::Township.serves(Level::Township));
        assert!(!PointKind::Township.serves(Level::Village));
        assert!(PointKind::Village.serves(Level::Village));
        assert!(!PointKind::Village.serves(Level::County));
        assert!(PointKind::Hospital.serves(Level::Township));
        assert!(!PointKind::DonationHouse.serves(Level::City));
    }

    #[test]
    fn enums_round_trip_through_text() {
        for kind in PointKind::ALL {
            assert_eq!(kind.as_str().parse::<PointKind>().unwrap(), *kind);
        }
        for status in PointStatus::ALL {
            assert_eq!(status.as_str().parse::<PointStatus>().unwrap(), *status);
        }
        assert!(
            "open"
                .parse::<PointStatus>()
                .unwrap_err()
                .contains("planned, active")
        );
    }

    #[test]
    fn phone_numbers() {
        for ok in [
            "13812345678",
            "138 1234 5678",
            "0395-1234567",
            "010-12345678",
            "03951234567",
            "02112345678",
        ] {
            assert!(PhoneNumber::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1381234567",
            "23812345678",
            "138123456789",
            "0395-12345",
            "phone",
            "+8613812345678",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            MobileNumber::parse("138-1234-5678").unwrap().as_str(),
            "13812345678"
        );
        assert!(MobileNumber::parse("0395-1234567").is_err());
    }
}
