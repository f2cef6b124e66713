//! Queries over `attendances` (who came to a stop and what came of it), the bookings check-in
//! needs, and the facts results, reports and the turnout model read: completed stops, their
//! donations, donations by village and date, and the last completed visit of each site.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::attendance::{self, Column, Entity as Attendance};
use entity::booking::{self, Entity as Booking};
use entity::booking_part::{self, Entity as BookingPart};
use entity::booking_slot::{self, Entity as BookingSlot};
use entity::drive::{self, Entity as Drive};
use entity::drive_stop::{self, Entity as DriveStop};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait,
};

use crate::domain::attendance::{AttendanceKind, Outcome};
use crate::domain::booking::BookingStatus;
use crate::domain::drive::DriveStatus;
use crate::store::drives::DriveFilter;

/// Every query over many stops asks about at most this many at once.
const CHUNK: usize = 500;

/// Someone checked in.
#[derive(Debug, Clone)]
pub struct NewAttendance {
    pub stop_id: i64,
    pub booking_id: Option<i64>,
    pub kind: AttendanceKind,
    pub name: String,
    pub mobile: Option<String>,
    pub village_code: Option<String>,
    pub outcome: Outcome,
    pub deferral_category: Option<String>,
    pub volume_ml: Option<i32>,
    pub abo: Option<String>,
    pub rh: Option<String>,
    pub by: Option<String>,
}

/// Records a check-in (version 1).
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewAttendance,
    now: DateTime<Utc>,
) -> Result<attendance::Model, DbErr> {
    Attendance::insert(attendance::ActiveModel {
        stop_id: Set(new.stop_id),
        booking_id: Set(new.booking_id),
        kind: Set(new.kind.as_str().to_owned()),
        name: Set(new.name),
        mobile: Set(new.mobile),
        village_code: Set(new.village_code),
        outcome: Set(new.outcome.as_str().to_owned()),
        deferral_category: Set(new.deferral_category),
        volume_ml: Set(new.volume_ml),
        abo: Set(new.abo),
        rh: Set(new.rh),
        version: Set(1),
        checked_in_at: Set(now),
        updated_at: Set(now),
        created_by: Set(new.by.clone()),
        updated_by: Set(new.by),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<attendance::Model>, DbErr> {
    Attendance::find_by_id(id).one(db).await
}

/// The attendances of `stop_id`, in check-in order.
pub async fn at_stop(
    db: &impl ConnectionTrait,
    stop_id: i64,
) -> Result<Vec<attendance::Model>, DbErr> {
    Attendance::find()
        .filter(Column::StopId.eq(stop_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// The attendance at `stop_id` with `mobile`, if someone was checked in with it already.
pub async fn with_mobile_at(
    db: &impl ConnectionTrait,
    stop_id: i64,
    mobile: &str,
) -> Result<Option<attendance::Model>, DbErr> {
    Attendance::find()
        .filter(Column::StopId.eq(stop_id))
        .filter(Column::Mobile.eq(mobile))
        .one(db)
        .await
}

/// The attendances of all of `stop_ids`, in check-in order.
pub async fn at_stops(
    db: &impl ConnectionTrait,
    stop_ids: &[i64],
) -> Result<Vec<attendance::Model>, DbErr> {
    let mut out = Vec::new();
    for chunk in stop_ids.chunks(CHUNK) {
        out.extend(
            Attendance::find()
                .filter(Column::StopId.is_in(chunk.iter().copied()))
                .order_by_asc(Column::Id)
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// How many have checked in on `booking_id`.
pub async fn count_for_booking(db: &impl ConnectionTrait, booking_id: i64) -> Result<u64, DbErr> {
    let n: Option<i64> = Attendance::find()
        .select_only()
        .column_as(Column::Id.count(), "n")
        .filter(Column::BookingId.eq(booking_id))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(n.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
}

/// What an edit writes: the whole record's editable fields.
#[derive(Debug, Clone)]
pub struct AttendanceEdit {
    pub name: String,
    pub village_code: Option<String>,
    pub outcome: Outcome,
    pub deferral_category: Option<String>,
    pub volume_ml: Option<i32>,
    pub abo: Option<String>,
    pub rh: Option<String>,
    pub by: Option<String>,
}

/// Writes `edit` to attendance `id` if it is still at `expected`; `None` when the version
/// moved on.
pub async fn update_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected: i32,
    edit: AttendanceEdit,
    now: DateTime<Utc>,
) -> Result<Option<attendance::Model>, DbErr> {
    let result = Attendance::update_many()
        .col_expr(Column::Name, Expr::value(edit.name))
        .col_expr(Column::VillageCode, Expr::value(edit.village_code))
        .col_expr(Column::Outcome, Expr::value(edit.outcome.as_str()))
        .col_expr(
            Column::DeferralCategory,
            Expr::value(edit.deferral_category),
        )
        .col_expr(Column::VolumeMl, Expr::value(edit.volume_ml))
        .col_expr(Column::Abo, Expr::value(edit.abo))
        .col_expr(Column::Rh, Expr::value(edit.rh))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::UpdatedBy, Expr::value(edit.by))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    find(db, id).await
}

/// Stop `id` with its drive.
pub async fn find_stop(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<(drive_stop::Model, drive::Model)>, DbErr> {
    let found = DriveStop::find_by_id(id)
        .find_also_related(Drive)
        .one(db)
        .await?;
    Ok(found.and_then(|(stop, drive)| drive.map(|d| (stop, d))))
}

/// A booking with the slots its places are in (start-time order).
pub type BookingWithSlots = (
    booking::Model,
    Vec<(booking_part::Model, booking_slot::Model)>,
);

/// The active bookings of `stop_id`, in id order, each with its slots.
pub async fn active_bookings_at(
    db: &impl ConnectionTrait,
    stop_id: i64,
) -> Result<Vec<BookingWithSlots>, DbErr> {
    let bookings = Booking::find()
        .filter(booking::Column::StopId.eq(stop_id))
        .filter(booking::Column::Status.eq(BookingStatus::Active.as_str()))
        .order_by_asc(booking::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = bookings.iter().map(|b| b.id).collect();
    let mut parts: HashMap<i64, Vec<(booking_part::Model, booking_slot::Model)>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows = BookingPart::find()
            .find_also_related(BookingSlot)
            .filter(booking_part::Column::BookingId.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        for (part, slot) in rows {
            if let Some(slot) = slot {
                parts.entry(part.booking_id).or_default().push((part, slot));
            }
        }
    }
    Ok(bookings
        .into_iter()
        .map(|b| {
            let mut slots = parts.remove(&b.id).unwrap_or_default();
            slots.sort_by_key(|(_, s)| s.starts);
            (b, slots)
        })
        .collect())
}

/// The booking quoted at check-in, locked for the rest of the transaction (so that two desks
/// cannot admit more people than it has places).
pub async fn lock_booking_by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<booking::Model>, DbErr> {
    Booking::find()
        .filter(booking::Column::Code.eq(code))
        .lock_exclusive()
        .one(db)
        .await
}

/// Places on active bookings, per stop (stops without any are absent).
pub async fn booked_places(
    db: &impl ConnectionTrait,
    stop_ids: &[i64],
) -> Result<HashMap<i64, u64>, DbErr> {
    let mut out = HashMap::new();
    for chunk in stop_ids.chunks(CHUNK) {
        let rows: Vec<(i64, i32)> = Booking::find()
            .select_only()
            .column(booking::Column::StopId)
            .column(booking::Column::Headcount)
            .filter(booking::Column::StopId.is_in(chunk.iter().copied()))
            .filter(booking::Column::Status.eq(BookingStatus::Active.as_str()))
            .into_tuple()
            .all(db)
            .await?;
        for (stop, headcount) in rows {
            *out.entry(stop).or_insert(0) += u64::try_from(headcount).unwrap_or(0);
        }
    }
    Ok(out)
}

/// Completed drives matching `filter` (its statuses are ignored), with their stops, by date
/// then id.
pub async fn completed_drives(
    db: &impl ConnectionTrait,
    filter: &DriveFilter,
) -> Result<Vec<(drive::Model, Vec<drive_stop::Model>)>, DbErr> {
    let filter = DriveFilter {
        statuses: vec![DriveStatus::Completed.as_str()],
        limit: 1_000_000,
        ..filter.clone()
    };
    let mut drives = super::drives::list(db, &filter).await?;
    drives.sort_by_key(|d| (d.date, d.id));
    let ids: Vec<i64> = drives.iter().map(|d| d.id).collect();
    let mut stops: HashMap<i64, Vec<drive_stop::Model>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        for stop in DriveStop::find()
            .filter(drive_stop::Column::DriveId.is_in(chunk.iter().copied()))
            .order_by_asc(drive_stop::Column::Seq)
            .all(db)
            .await?
        {
            stops.entry(stop.drive_id).or_default().push(stop);
        }
    }
    Ok(drives
        .into_iter()
        .map(|d| {
            let s = stops.remove(&d.id).unwrap_or_default();
            (d, s)
        })
        .collect())
}

/// Per stop of `stop_ids` with anyone checked in: how many checked in, and how many donated.
pub async fn recorded_per_stop(
    db: &impl ConnectionTrait,
    stop_ids: &[i64],
) -> Result<HashMap<i64, (u64, u64)>, DbErr> {
    let mut out: HashMap<i64, (u64, u64)> = HashMap::new();
    for chunk in stop_ids.chunks(CHUNK) {
        let rows: Vec<(i64, String, i64)> = Attendance::find()
            .select_only()
            .column(Column::StopId)
            .column(Column::Outcome)
            .column_as(Column::Id.count(), "n")
            .filter(Column::StopId.is_in(chunk.iter().copied()))
            .group_by(Column::StopId)
            .group_by(Column::Outcome)
            .into_tuple()
            .all(db)
            .await?;
        for (stop, outcome, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            let entry = out.entry(stop).or_insert((0, 0));
            entry.0 += n;
            if outcome == Outcome::Donated.as_str() {
                entry.1 += n;
            }
        }
    }
    Ok(out)
}

/// Every recorded donation by someone who gave a village in the code range `[lo, hi]`: the
/// village and the drive's date (drives that were not cancelled).
pub async fn donations_by_village(
    db: &impl ConnectionTrait,
    lo: &str,
    hi: &str,
) -> Result<Vec<(String, NaiveDate)>, DbErr> {
    Attendance::find()
        .select_only()
        .column(Column::VillageCode)
        .column(drive::Column::Date)
        .join(JoinType::InnerJoin, attendance::Relation::DriveStop.def())
        .join(JoinType::InnerJoin, drive_stop::Relation::Drive.def())
        .filter(Column::Outcome.eq(Outcome::Donated.as_str()))
        .filter(Column::VillageCode.between(lo, hi))
        .filter(drive::Column::Status.ne(DriveStatus::Cancelled.as_str()))
        .into_tuple()
        .all(db)
        .await
}

/// The date of the last completed drive at each site, among drives before `before`.
pub async fn last_visits(
    db: &impl ConnectionTrait,
    before: NaiveDate,
) -> Result<HashMap<String, NaiveDate>, DbErr> {
    let rows: Vec<(String, NaiveDate)> = DriveStop::find()
        .select_only()
        .column(drive_stop::Column::SiteId)
        .column(drive::Column::Date)
        .join(JoinType::InnerJoin, drive_stop::Relation::Drive.def())
        .filter(drive::Column::Status.eq(DriveStatus::Completed.as_str()))
        .filter(drive::Column::Date.lt(before))
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<String, NaiveDate> = HashMap::new();
    for (site, date) in rows {
        let last = out.entry(site).or_insert(date);
        *last = std::cmp::Ord::max(*last, date);
    }
    Ok(out)
}

/// Recorded donations (outcome `donated`) with a known ABO group and Rh type, counted by the
/// donor's village (`village_code`; donations without one are not counted), for `villages`:
/// `(village, abo, rh, count)`, one row per village and group found.
pub async fn donated_groups_by_village(
    db: &impl ConnectionTrait,
    villages: &[String],
) -> Result<Vec<(String, String, String, i64)>, DbErr> {
    let mut out = Vec::new();
    for chunk in villages.chunks(CHUNK) {
        let rows: Vec<(String, String, String, i64)> = Attendance::find()
            .select_only()
            .column(Column::VillageCode)
            .column(Column::Abo)
            .column(Column::Rh)
            .column_as(Column::Id.count(), "n")
            .filter(Column::Outcome.eq(Outcome::Donated.as_str()))
            .filter(Column::VillageCode.is_in(chunk.iter().cloned()))
            .filter(Column::Abo.is_not_null())
            .filter(Column::Rh.is_not_null())
            .group_by(Column::VillageCode)
            .group_by(Column::Abo)
            .group_by(Column::Rh)
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Recorded donations (outcome `donated`) with a known ABO group and Rh type across the
/// deployment, wherever the donor lives: `(abo, rh, count)`, one row per group found.
pub async fn donated_groups(
    db: &impl ConnectionTrait,
) -> Result<Vec<(String, String, i64)>, DbErr> {
    Attendance::find()
        .select_only()
        .column(Column::Abo)
        .column(Column::Rh)
        .column_as(Column::Id.count(), "n")
        .filter(Column::Outcome.eq(Outcome::Donated.as_str()))
        .filter(Column::Abo.is_not_null())
        .filter(Column::Rh.is_not_null())
        .group_by(Column::Abo)
        .group_by(Column::Rh)
        .into_tuple()
        .all(db)
        .await
}
