//! Pure domain types and rules: no database, no HTTP, no clock.

/// `FromStr`, `Display`, `as_str` and `ALL` for a fieldless enum stored as text.
macro_rules! string_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    _ => Err(format!(
                        "unknown value {s:?} (expected one of: {})",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod account;
pub mod appeal;
pub mod attendance;
pub mod booking;
pub mod calendar;
pub mod checklist;
pub mod donation;
pub mod drive;
pub mod fleet;
pub mod host;
pub mod inventory;
pub mod plan;
pub mod point;
pub mod policy;
pub mod recruitment;
pub mod region;
pub mod rounding;
pub mod shortage;
pub mod survey;
pub mod text;
