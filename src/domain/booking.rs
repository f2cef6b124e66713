//! Booking rules (issue 6), pure: cutting a stop into slots, spreading a group over slots,
//! blood types, booking codes, and when each reminder is due.
//!
//! A stop runs from its planned start to its planned end. It is cut into slots of the
//! vehicle's `slot_minutes` (the last one shorter when the stop does not divide evenly), and a
//! slot holds `floor(beds × donors_per_bed_hour × minutes / 60)` booked places. Walk-ins are
//! served between bookings on the day: bookings have priority, so all of a slot's places may
//! be booked.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::i18n::Lang;

/// Whether a booking is for one person or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BookingKind {
    Individual,
    Group,
}

string_enum!(BookingKind {
    Individual => "individual",
    Group => "group",
});

/// A booking is active until cancelled (by the donor, by staff, or with its drive). As a
/// public group request is shown to its contact before staff decide it, it is `requested`,
/// then `declined` (or the booking it became); those two are never stored in `bookings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Active,
    Cancelled,
    Requested,
    Declined,
}

string_enum!(BookingStatus {
    Active => "active",
    Cancelled => "cancelled",
    Requested => "requested",
    Declined => "declined",
});

/// A public group request: pending until staff confirm it (it becomes a booking) or decline
/// it, or its contact withdraws it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Confirmed,
    Declined,
    Withdrawn,
}

string_enum!(RequestStatus {
    Pending => "pending",
    Confirmed => "confirmed",
    Declined => "declined",
    Withdrawn => "withdrawn",
});

/// Public group bookings above this many people are requests, unless the station says
/// otherwise (`group_request_threshold`).
pub const DEFAULT_GROUP_REQUEST_THRESHOLD: i32 = 10;

/// The messages a booking produces, each at most once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Confirmation,
    DayBefore,
    TwoHoursBefore,
    Rescheduled,
    Cancellation,
    /// Staff cancelled one booking.
    CancelledByStation,
    /// A group request was received (it holds no places yet).
    RequestReceived,
    /// Staff declined a group request.
    RequestDeclined,
    /// A donor joined the roster of people who may be called (issue 16): what they agreed to
    /// and the link that withdraws it.
    RosterConsent,
}

string_enum!(MessageKind {
    Confirmation => "confirmation",
    DayBefore => "day_before",
    TwoHoursBefore => "two_hours_before",
    Rescheduled => "rescheduled",
    Cancellation => "cancellation",
    CancelledByStation => "cancelled_by_station",
    RequestReceived => "request_received",
    RequestDeclined => "request_declined",
    RosterConsent => "roster_consent",
});

/// The most people one group booking may bring.
pub const MAX_HEADCOUNT: i32 = 200;

/// A slot to create: minutes after midnight, and its places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotPlan {
    pub starts: i32,
    pub ends: i32,
    pub capacity: i32,
}

/// The slots of a stop open from `start` to `end` (minutes after midnight).
///
/// Slots lie on a grid of `slot_minutes` from midnight (the half-hour grid for the usual 30),
/// so that a stop the planner set to open at 10:27 offers 10:30, 11:00, … rather than 10:27,
/// 10:57: the minutes before the first grid time are for walk-ins, and the last slot ends with
/// the stop. A slot too short to hold one place is not offered.
pub fn slots(
    start: i32,
    end: i32,
    beds: i32,
    donors_per_bed_hour: f64,
    slot_minutes: i32,
) -> Vec<SlotPlan> {
    let step = slot_minutes.max(1);
    let mut out = Vec::new();
    // The first grid time at or after the stop opens.
    let mut starts = (start + step - 1).div_euclid(step) * step;
    while starts < end {
        let ends = (starts + step).min(end);
        let places = f64::from(beds) * donors_per_bed_hour * f64::from(ends - starts) / 60.0;
        // A hair over a whole number is that number (2 × 2.1 × 30 / 60 = 2.1000000000000001).
        let capacity = (places + 1e-9).floor() as i32;
        if capacity > 0 {
            out.push(SlotPlan {
                starts,
                ends,
                capacity,
            });
        }
        starts = ends;
    }
    out
}

/// Spreads `headcount` places over slots with `left` places each (in the order given):
/// one place at a time to the slot with the most places left (the earlier on a tie), so that
/// a group fills its preferred slots evenly rather than swamping the first. Returns the places
/// per slot (same order, zeros included), or the places available when there are too few.
pub fn spread(headcount: i32, left: &[i32]) -> Result<Vec<i32>, i32> {
    let available: i32 = left.iter().map(|l| (*l).max(0)).sum();
    if headcount > available {
        return Err(available);
    }
    let mut taken = vec![0; left.len()];
    for _ in 0..headcount {
        let (best, _) = left
            .iter()
            .zip(&taken)
            .enumerate()
            .map(|(i, (l, t))| (i, l - t))
            .filter(|(_, remaining)| *remaining > 0)
            .fold(
                None,
                |best: Option<(usize, i32)>, (i, remaining)| match best {
                    Some((_, r)) if r >= remaining => best,
                    _ => Some((i, remaining)),
                },
            )
            .expect("enough places were counted above");
        taken[best] += 1;
    }
    Ok(taken)
}

/// A blood type as a donor gives it: ABO, with the Rh sign when known (`A+`, `O-`, `AB`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BloodType(String);

impl BloodType {
    /// # Errors
    /// Anything but A, B, AB or O, optionally followed by + or - (Chinese 阳/阴 and
    /// 型 are understood: `AB型阴性` is `AB-`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let compact: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '型' && *c != '性')
            .map(|c| match c {
                '阳' | '＋' => '+',
                '阴' | '－' => '-',
                c => c.to_ascii_uppercase(),
            })
            .collect();
        let (abo, rh) = match compact.strip_suffix(['+', '-']) {
            Some(abo) => (abo, &compact[abo.len()..]),
            None => (compact.as_str(), ""),
        };
        if matches!(abo, "A" | "B" | "AB" | "O") {
            Ok(BloodType(format!("{abo}{rh}")))
        } else {
            Err("must be A, B, AB or O, optionally followed by + or - (e.g. O+, AB-)".to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The letters of booking codes: no 0/O, 1/I/L, so that codes read out over the phone are
/// unambiguous.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters of a booking code: 31^8 ≈ 8.5 × 10^11 codes.
pub const CODE_LEN: usize = 8;

/// A booking code from random bytes (one character per byte; the bias of `byte % 31` is
/// immaterial for a code that is not a secret: the token is).
pub fn booking_code(random: &[u8; CODE_LEN]) -> String {
    random
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect()
}

/// Whether `text` is a booking code as [`booking_code`] makes them (8 of its letters).
pub fn is_booking_code(text: &str) -> bool {
    text.len() == CODE_LEN && text.bytes().all(|b| CODE_ALPHABET.contains(&b))
}

/// Normalises a code as a donor might type it (lower case, spaces, hyphens).
pub fn normalise_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// China Standard Time, the time every drive is planned in.
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("a valid offset")
}

/// The instant `minutes` after midnight of `date`, China time.
pub fn instant(date: NaiveDate, minutes: i32) -> DateTime<Utc> {
    let midnight = NaiveDateTime::new(date, NaiveTime::MIN);
    china()
        .from_local_datetime(&midnight)
        .single()
        .expect("a fixed offset has no gaps")
        .with_timezone(&Utc)
        + Duration::minutes(i64::from(minutes))
}

/// Today's date in China.
pub fn today_in_china(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&china()).date_naive()
}

/// The reminder due at `now` for a booking whose first slot starts at `starts`: the
/// day-before reminder from 24 hours before until 2 hours before, then the two-hours-before
/// one until the start. A booking made less than 2 hours ahead gets neither: its confirmation
/// is its reminder.
pub fn reminder_due(
    starts: DateTime<Utc>,
    booked_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<MessageKind> {
    let two_hours = starts - Duration::hours(2);
    let day = starts - Duration::hours(24);
    if booked_at >= two_hours || now >= starts {
        None
    } else if now >= two_hours {
        Some(MessageKind::TwoHoursBefore)
    } else if now >= day && booked_at < day {
        Some(MessageKind::DayBefore)
    } else {
        None
    }
}

/// `"HH:MM"` of minutes after midnight.
pub fn clock(minutes: i32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The language of every message to donors: simplified Chinese, always. Messages are written
/// to the outbox when a booking is made, moved or cancelled (and by the reminder scan), long
/// before they are sent, and nothing records which language a donor reads; the station's
/// donors read Chinese.
pub const DONOR_LANG: Lang = Lang::ZhCn;

/// What a message says (in [`DONOR_LANG`]).
#[derive(Clone, Debug)]
pub struct MessageFacts<'a> {
    pub name: &'a str,
    pub code: &'a str,
    pub stop: &'a str,
    pub address: Option<&'a str>,
    pub date: NaiveDate,
    /// Minutes after midnight of the booked slot (a group's first).
    pub starts: i32,
    pub headcount: i32,
    pub reason: Option<&'a str>,
    /// The address of the page that manages the booking ([`manage_url`]), when it is known:
    /// only when the booking is made or moved by its holder (the token is never stored in
    /// clear) and the deployment's public address is configured.
    pub link: Option<&'a str>,
}

/// The path of the page where a booking's holder sees, moves or cancels it: its code, and
/// its token in the query (the page takes them from there).
pub fn manage_path(code: &str, token: &str) -> String {
    format!(
        "/bookings/{}?t={}",
        url::form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
    )
}

/// The full address of that page on the site at `public_url` (`https://host`, any trailing
/// `/` ignored).
pub fn manage_url(public_url: &str, code: &str, token: &str) -> String {
    format!(
        "{}{}",
        public_url.trim_end_matches('/'),
        manage_path(code, token)
    )
}

/// `body` with the token of every manage link cut out (`?t=…`): what is kept of a message once
/// it has left, and what an outbox listing shows. The token opens the booking, so it stays in
/// the outbox only until the message is delivered.
pub fn without_token(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("?t=") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '%' | '-' | '_' | '.')))
            .unwrap_or(after.len());
        if end > 0 {
            out.push('…');
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The text of `kind` for a booking, in [`DONOR_LANG`], from the catalogue; with the link
/// to manage the booking at the end when the facts carry one.
pub fn message_body(kind: MessageKind, f: &MessageFacts<'_>) -> String {
    let lang = DONOR_LANG;
    let place = match f.address {
        Some(address) => lang.tn(
            "sms-place-address",
            &[("stop", f.stop.into()), ("address", address.into())],
        ),
        None => f.stop.to_owned(),
    };
    let when = format!("{} {}", f.date.format("%Y-%m-%d"), clock(f.starts));
    let people = if f.headcount > 1 {
        lang.t1("sms-people", "count", f.headcount.to_string())
    } else {
        String::new()
    };
    let why = f
        .reason
        .map(|r| lang.t1("sms-reason", "reason", r))
        .unwrap_or_default();
    let day = f.date.format("%Y-%m-%d").to_string();
    let time = clock(f.starts);
    let (id, reason) = match kind {
        MessageKind::Confirmation => ("sms-confirmation", None),
        MessageKind::DayBefore => ("sms-day-before", None),
        MessageKind::TwoHoursBefore => ("sms-two-hours", None),
        MessageKind::Rescheduled => ("sms-rescheduled", None),
        MessageKind::CancelledByStation => ("sms-cancelled-by-station", None),
        MessageKind::RequestReceived => ("sms-request-received", None),
        MessageKind::RequestDeclined => ("sms-request-declined", None),
        MessageKind::RosterConsent => ("sms-roster-consent", None),
        MessageKind::Cancellation => match f.reason {
            Some(reason) => ("sms-drive-cancelled", Some(reason)),
            None => ("sms-cancelled", None),
        },
    };
    let mut text = lang.tn(
        id,
        &[
            ("name", f.name.into()),
            ("code", f.code.into()),
            ("place", place.as_str().into()),
            ("when", when.as_str().into()),
            ("day", day.as_str().into()),
            ("time", time.as_str().into()),
            ("people", people.as_str().into()),
            ("why", why.as_str().into()),
            ("reason", reason.unwrap_or_default().into()),
        ],
    );
    if let Some(link) = f.link {
        text.push_str(&lang.t1("sms-manage", "link", link));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_is_cut_into_slots_whose_places_come_from_beds_and_throughput() {
        // 09:00-11:10, 4 beds at 3 donors per bed-hour, 30-minute slots: 6 places a slot,
        // and the last 10 minutes hold 4 × 3 × 10 / 60 = 2.
        let s = slots(540, 670, 4, 3.0, 30);
        assert_eq!(s.len(), 5);
        assert_eq!(
            s[0],
            SlotPlan {
                starts: 540,
                ends: 570,
                capacity: 6
            }
        );
        assert_eq!(
            s[4],
            SlotPlan {
                starts: 660,
                ends: 670,
                capacity: 2
            }
        );
        // 2 beds at 2.5 per hour for 30 minutes: 2.5 places, so 2.
        assert_eq!(slots(0, 30, 2, 2.5, 30)[0].capacity, 2);
        // Floating error does not lose a place: 2 × 2.1 × 30 / 60 = 2.1 → 2; 3 × 2 × 20/60 = 2.
        assert_eq!(slots(0, 20, 3, 2.0, 20)[0].capacity, 2);
        assert!(slots(600, 600, 4, 2.0, 30).is_empty());
    }

    #[test]
    fn slots_lie_on_the_grid_and_none_is_empty() {
        // A planner's 10:27-11:57 with 2 beds at 2 per bed-hour: 10:30, 11:00, and 11:30 to
        // 11:57 (2 × 2 × 27 / 60 = 1.8, so 1 place); the 3 minutes before 10:30 are for
        // walk-ins.
        let s = slots(627, 717, 2, 2.0, 30);
        let starts: Vec<i32> = s.iter().map(|p| p.starts).collect();
        assert_eq!(starts, vec![630, 660, 690]);
        assert_eq!(s[0].capacity, 2);
        assert_eq!(
            s[2],
            SlotPlan {
                starts: 690,
                ends: 717,
                capacity: 1
            }
        );
        // Ending 3 minutes into a slot: 2 × 2 × 3 / 60 = 0.2 places, so no 11:30 slot.
        let s = slots(600, 693, 2, 2.0, 30);
        assert_eq!(
            s.iter().map(|p| p.starts).collect::<Vec<_>>(),
            vec![600, 630, 660]
        );
        assert!(s.iter().all(|p| p.capacity > 0));
        // The grid follows the vehicle's slot length: 20 minutes from 09:05 starts at 09:20.
        assert_eq!(slots(545, 600, 3, 2.0, 20)[0].starts, 560);
        // Opening on the grid loses nothing.
        assert_eq!(slots(540, 600, 2, 2.0, 30)[0].starts, 540);
    }

    #[test]
    fn a_group_is_spread_evenly_over_its_slots() {
        assert_eq!(spread(5, &[6, 6, 6]), Ok(vec![2, 2, 1]));
        // The fuller slot gets fewer.
        assert_eq!(spread(4, &[1, 6]), Ok(vec![0, 4]));
        assert_eq!(spread(7, &[1, 6]), Ok(vec![1, 6]));
        assert_eq!(spread(8, &[1, 6]), Err(7));
        assert_eq!(spread(1, &[0, 0, 3]), Ok(vec![0, 0, 1]));
        assert_eq!(spread(0, &[2]), Ok(vec![0]));
    }

    #[test]
    fn blood_types_are_read_as_donors_write_them() {
        let ok = |s: &str| BloodType::parse(s).map(|b| b.as_str().to_owned());
        assert_eq!(ok("o+"), Ok("O+".to_owned()));
        assert_eq!(ok("AB型阴性"), Ok("AB-".to_owned()));
        assert_eq!(ok("A型"), Ok("A".to_owned()));
        assert_eq!(ok(" b - "), Ok("B-".to_owned()));
        assert!(ok("C+").is_err());
        assert!(ok("+").is_err());
        assert!(ok("AB+-").is_err());
    }

    #[test]
    fn codes_use_unambiguous_letters() {
        let code = booking_code(&[0, 1, 30, 31, 255, 8, 9, 10]);
        assert_eq!(code.len(), CODE_LEN);
        assert!(is_booking_code(&code), "{code}");
        assert!(!is_booking_code(&code[1..]));
        assert!(!is_booking_code("ABCD EFG"));
        assert!(!is_booking_code("ABCDEFG0"), "0 is not a code letter");
        assert_eq!(&code[..4], "23Z2");
        assert!(!code.contains(['0', 'O', '1', 'I', 'L']));
        assert_eq!(normalise_code("23z2-ab cd"), "23Z2ABCD");
    }

    #[test]
    fn times_are_china_time() {
        let date = NaiveDate::from_ymd_opt(2027, 1, 18).unwrap();
        // 09:30 in China is 01:30 UTC.
        assert_eq!(instant(date, 570).to_rfc3339(), "2027-01-18T01:30:00+00:00");
        let late_utc = "2027-01-17T17:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(today_in_china(late_utc), date);
    }

    #[test]
    fn reminders_fall_due_once_each_in_their_windows() {
        let starts = "2027-01-18T01:30:00Z".parse::<DateTime<Utc>>().unwrap();
        let h = |hours: i64| starts - Duration::hours(hours);
        let early = h(72);
        assert_eq!(reminder_due(starts, early, h(25)), None);
        assert_eq!(
            reminder_due(starts, early, h(24)),
            Some(MessageKind::DayBefore)
        );
        assert_eq!(
            reminder_due(starts, early, h(3)),
            Some(MessageKind::DayBefore)
        );
        assert_eq!(
            reminder_due(starts, early, h(2)),
            Some(MessageKind::TwoHoursBefore)
        );
        assert_eq!(reminder_due(starts, early, starts), None);
        // Booked within the last day: no day-before reminder, but the two-hours one.
        assert_eq!(reminder_due(starts, h(10), h(5)), None);
        assert_eq!(
            reminder_due(starts, h(10), h(1)),
            Some(MessageKind::TwoHoursBefore)
        );
        // Booked within the last two hours: neither.
        assert_eq!(
            reminder_due(starts, h(1), starts - Duration::minutes(30)),
            None
        );
    }

    #[test]
    fn messages_name_the_place_time_and_code() {
        let facts = MessageFacts {
            name: "张三",
            code: "ABCD2345",
            stop: "城关镇卫生院",
            address: Some("城关镇人民路1号"),
            date: NaiveDate::from_ymd_opt(2027, 1, 18).unwrap(),
            starts: 570,
            headcount: 1,
            reason: None,
            link: None,
        };
        let text = message_body(MessageKind::Confirmation, &facts);
        assert!(text.contains("2027-01-18 09:30"), "{text}");
        assert!(text.contains("城关镇卫生院（城关镇人民路1号）"), "{text}");
        assert!(text.contains("ABCD2345"), "{text}");
        let cancelled = message_body(
            MessageKind::Cancellation,
            &MessageFacts {
                reason: Some("大雪"),
                headcount: 12,
                ..facts
            },
        );
        assert!(cancelled.contains("已取消（大雪）"), "{cancelled}");
        let by_station = message_body(
            MessageKind::CancelledByStation,
            &MessageFacts {
                reason: Some("重复预约"),
                ..facts.clone()
            },
        );
        assert!(
            by_station.contains("已由献血站取消（重复预约）"),
            "{by_station}"
        );
        let received = message_body(
            MessageKind::RequestReceived,
            &MessageFacts {
                headcount: 23,
                ..facts
            },
        );
        assert!(
            received.contains("共23人") && received.contains("不占名额"),
            "{received}"
        );
    }

    fn sample() -> MessageFacts<'static> {
        MessageFacts {
            name: "张三",
            code: "ABCD2345",
            stop: "城关镇卫生院",
            address: Some("城关镇人民路1号"),
            date: NaiveDate::from_ymd_opt(2027, 1, 18).unwrap(),
            starts: 570,
            headcount: 1,
            reason: None,
            link: None,
        }
    }

    #[test]
    fn messages_read_in_chinese_from_the_catalogue() {
        assert_eq!(DONOR_LANG, Lang::ZhCn);
        assert_eq!(
            message_body(MessageKind::Confirmation, &sample()),
            "张三您好：您已预约2027-01-18 09:30在城关镇卫生院（城关镇人民路1号）献血，\
             预约码ABCD2345。请携带身份证，献血前吃清淡早餐、休息好。"
        );
        assert_eq!(
            message_body(
                MessageKind::Cancellation,
                &MessageFacts {
                    address: None,
                    ..sample()
                }
            ),
            "张三您好：您2027-01-18 09:30在城关镇卫生院的献血预约ABCD2345已取消。"
        );
        // Every kind is a message of the catalogue, no id left showing.
        for kind in [
            MessageKind::Confirmation,
            MessageKind::DayBefore,
            MessageKind::TwoHoursBefore,
            MessageKind::Rescheduled,
            MessageKind::Cancellation,
            MessageKind::CancelledByStation,
            MessageKind::RequestReceived,
            MessageKind::RequestDeclined,
        ] {
            let text = message_body(kind, &sample());
            assert!(
                !text.contains("sms-") && text.starts_with("张三您好："),
                "{text}"
            );
        }
    }

    /// Concatenated SMS parts of UCS-2 text (Chinese) hold 67 characters each.
    fn parts(text: &str) -> usize {
        text.chars().count().div_ceil(67)
    }

    #[test]
    fn the_manage_link_ends_a_message_and_keeps_it_short() {
        let token = "0123456789abcdef".repeat(4);
        let link = manage_url("https://donors.example.cn/", "ABCD2345", &token);
        assert_eq!(
            link,
            format!("https://donors.example.cn/bookings/ABCD2345?t={token}")
        );
        let plain = message_body(MessageKind::Confirmation, &sample());
        let linked = message_body(
            MessageKind::Confirmation,
            &MessageFacts {
                link: Some(&link),
                ..sample()
            },
        );
        assert_eq!(linked, format!("{plain}改约或取消：{link}"));
        assert!(parts(&plain) <= 2, "{} characters", plain.chars().count());
        assert!(parts(&linked) <= 3, "{} characters", linked.chars().count());
        let moved = message_body(
            MessageKind::Rescheduled,
            &MessageFacts {
                link: Some(&link),
                headcount: 12,
                ..sample()
            },
        );
        assert!(
            moved.contains("共12人") && moved.ends_with(&link),
            "{moved}"
        );
        assert!(parts(&moved) <= 3, "{} characters", moved.chars().count());
        assert_eq!(manage_path("AB CD", "t&1"), "/bookings/AB+CD?t=t%261");
        // What is kept once it has left: the link without its token.
        assert_eq!(
            without_token(&linked),
            format!("{plain}改约或取消：https://donors.example.cn/bookings/ABCD2345?t=…")
        );
        assert_eq!(without_token(&plain), plain);
        assert_eq!(without_token("a?t=x1 b?t=2。c?t="), "a?t=… b?t=…。c?t=");
    }
}
