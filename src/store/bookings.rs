//! Queries over `booking_slots`, `bookings` and `booking_parts`.
//!
//! Capacity is the database's to enforce: [`take`] adds places to a slot with one conditional
//! `UPDATE … WHERE booked + n <= capacity` inside the booking's transaction, so two bookings
//! racing for the last place cannot both have it (PostgreSQL locks the row; SQLite's write
//! transactions are serial), and the table's `booked <= capacity` check is the backstop.

use chrono::{DateTime, NaiveDate, Utc};
use entity::booking::{self, Column, Entity as Booking};
use entity::booking_part::{self, Entity as BookingPart};
use entity::booking_slot::{self, Entity as BookingSlot};
use entity::{attendance, drive, drive_stop, group_request};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::booking::{BookingKind, BookingStatus, RequestStatus, SlotPlan};
use crate::domain::drive::DriveStatus;

/// Creates the slots of a stop.
pub async fn create_slots(
    db: &impl ConnectionTrait,
    stop_id: i64,
    plans: &[SlotPlan],
) -> Result<(), DbErr> {
    if plans.is_empty() {
        return Ok(());
    }
    BookingSlot::insert_many(plans.iter().map(|p| booking_slot::ActiveModel {
        stop_id: Set(stop_id),
        starts: Set(p.starts),
        ends: Set(p.ends),
        capacity: Set(p.capacity),
        booked: Set(0),
        ..Default::default()
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The slots of the stops `stop_ids`, by stop and start.
pub async fn slots_of(
    db: &impl ConnectionTrait,
    stop_ids: &[i64],
) -> Result<Vec<booking_slot::Model>, DbErr> {
    if stop_ids.is_empty() {
        return Ok(Vec::new());
    }
    BookingSlot::find()
        .filter(booking_slot::Column::StopId.is_in(stop_ids.iter().copied()))
        .order_by_asc(booking_slot::Column::StopId)
        .order_by_asc(booking_slot::Column::Starts)
        .all(db)
        .await
}

/// Takes `places` in slot `slot_id` if it has them; `false` when it has not.
pub async fn take(db: &impl ConnectionTrait, slot_id: i64, places: i32) -> Result<bool, DbErr> {
    use booking_slot::Column as S;
    let result = BookingSlot::update_many()
        .col_expr(S::Booked, Expr::col(S::Booked).add(places))
        .filter(S::Id.eq(slot_id))
        .filter(Expr::col(S::Booked).add(places).lte(Expr::col(S::Capacity)))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Gives `places` in slot `slot_id` back.
pub async fn release(db: &impl ConnectionTrait, slot_id: i64, places: i32) -> Result<(), DbErr> {
    use booking_slot::Column as S;
    BookingSlot::update_many()
        .col_expr(S::Booked, Expr::col(S::Booked).sub(places))
        .filter(S::Id.eq(slot_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A booking to record (its places already taken).
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub code: String,
    pub token_hash: String,
    pub stop_id: i64,
    pub kind: BookingKind,
    pub name: String,
    pub mobile: String,
    pub blood_type: Option<String>,
    pub organisation: Option<String>,
    /// (slot id, places), places > 0.
    pub parts: Vec<(i64, i32)>,
    /// The client address of a public booking; `None` when staff made or confirmed it.
    pub client_address: Option<String>,
    /// The appeal whose link the public booking came through.
    pub appeal_id: Option<i64>,
}

/// Records a booking and its parts.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewBooking,
    now: DateTime<Utc>,
) -> Result<(booking::Model, Vec<booking_part::Model>), DbErr> {
    let headcount = new.parts.iter().map(|(_, n)| n).sum();
    let stored = Booking::insert(booking::ActiveModel {
        code: Set(new.code),
        token_hash: Set(new.token_hash),
        stop_id: Set(new.stop_id),
        kind: Set(new.kind.as_str().to_owned()),
        name: Set(new.name),
        mobile: Set(Some(new.mobile.clone())),
        active_mobile: Set(Some(new.mobile)),
        blood_type: Set(new.blood_type),
        organisation: Set(new.organisation),
        client_address: Set(new.client_address),
        appeal_id: Set(new.appeal_id),
        headcount: Set(headcount),
        status: Set(BookingStatus::Active.as_str().to_owned()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        cancelled_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?;
    let parts = insert_parts(db, stored.id, &new.parts).await?;
    Ok((stored, parts))
}

async fn insert_parts(
    db: &impl ConnectionTrait,
    booking_id: i64,
    parts: &[(i64, i32)],
) -> Result<Vec<booking_part::Model>, DbErr> {
    let mut out = Vec::with_capacity(parts.len());
    for (slot_id, places) in parts.iter().copied().filter(|(_, n)| *n > 0) {
        out.push(
            BookingPart::insert(booking_part::ActiveModel {
                booking_id: Set(booking_id),
                slot_id: Set(slot_id),
                places: Set(places),
                ..Default::default()
            })
            .exec_with_returning(db)
            .await?,
        );
    }
    Ok(out)
}

/// Gives a booking new parts if it is still active at `expected`; `None` when it moved on.
/// The slots' counts are the caller's to adjust (release the old places, take the new) in the
/// same transaction.
pub async fn replace_parts_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected: i32,
    parts: &[(i64, i32)],
    now: DateTime<Utc>,
) -> Result<Option<(booking::Model, Vec<booking_part::Model>)>, DbErr> {
    let result = Booking::update_many()
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected))
        .filter(Column::Status.eq(BookingStatus::Active.as_str()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    BookingPart::delete_many()
        .filter(booking_part::Column::BookingId.eq(id))
        .exec(db)
        .await?;
    let parts = insert_parts(db, id, parts).await?;
    let stored = Booking::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DbErr::RecordNotFound(format!("booking {id}")))?;
    Ok(Some((stored, parts)))
}

/// Cancels booking `id` if it is active and at `expected`; `None` otherwise. Its places are
/// not released here: the caller releases them (it knows the parts).
pub async fn cancel_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected: i32,
    now: DateTime<Utc>,
) -> Result<Option<booking::Model>, DbErr> {
    let result = Booking::update_many()
        .col_expr(
            Column::Status,
            Expr::value(BookingStatus::Cancelled.as_str()),
        )
        .col_expr(Column::ActiveMobile, Expr::value(Option::<String>::None))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::CancelledAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected))
        .filter(Column::Status.eq(BookingStatus::Active.as_str()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    Booking::find_by_id(id).one(db).await
}

/// Places held by active public bookings (those with a client address) at drives not yet
/// over, by `mobile` or from `address`.
pub async fn public_places_held(
    db: &impl ConnectionTrait,
    mobile: Option<&str>,
    address: Option<&str>,
) -> Result<i64, DbErr> {
    use sea_orm::sea_query::Query;
    let open_stops = Query::select()
        .column((drive_stop::Entity, drive_stop::Column::Id))
        .from(drive_stop::Entity)
        .inner_join(
            drive::Entity,
            Expr::col((drive::Entity, drive::Column::Id))
                .equals((drive_stop::Entity, drive_stop::Column::DriveId)),
        )
        .and_where(Expr::col((drive::Entity, drive::Column::Status)).is_in([
            DriveStatus::Published.as_str(),
            DriveStatus::InProgress.as_str(),
        ]))
        .to_owned();
    use sea_orm::sea_query::{Alias, Func};
    let mut query = Booking::find()
        .select_only()
        // SUM is an integer on SQLite and a bigint on PostgreSQL; NULL over no rows.
        .column_as(
            Expr::from(Func::cast_as(
                Func::sum(Expr::col(Column::Headcount)),
                Alias::new("BIGINT"),
            )),
            "held",
        )
        .filter(Column::Status.eq(BookingStatus::Active.as_str()))
        .filter(Column::ClientAddress.is_not_null())
        .filter(Column::StopId.in_subquery(open_stops));
    if let Some(mobile) = mobile {
        query = query.filter(Column::Mobile.eq(mobile));
    }
    if let Some(address) = address {
        query = query.filter(Column::ClientAddress.eq(address));
    }
    let held: Option<Option<i64>> = query.into_tuple().one(db).await?;
    Ok(held.flatten().unwrap_or(0))
}

/// A group request to record.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub code: String,
    pub token_hash: String,
    pub stop_id: i64,
    pub organisation: String,
    pub contact_name: String,
    pub mobile: String,
    pub headcount: i32,
    /// `HH:MM,HH:MM`; empty for any slot.
    pub preferred: String,
    pub client_address: Option<String>,
    /// The appeal the request came through.
    pub appeal_id: Option<i64>,
}

/// Records a pending group request.
pub async fn insert_request(
    db: &impl ConnectionTrait,
    new: NewRequest,
    now: DateTime<Utc>,
) -> Result<group_request::Model, DbErr> {
    group_request::Entity::insert(group_request::ActiveModel {
        code: Set(new.code),
        token_hash: Set(new.token_hash),
        stop_id: Set(new.stop_id),
        organisation: Set(new.organisation),
        contact_name: Set(new.contact_name),
        mobile: Set(Some(new.mobile)),
        headcount: Set(new.headcount),
        preferred: Set(new.preferred),
        status: Set(RequestStatus::Pending.as_str().to_owned()),
        booking_id: Set(None),
        client_address: Set(new.client_address),
        reason: Set(None),
        decided_by: Set(None),
        appeal_id: Set(new.appeal_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

pub async fn find_request(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<group_request::Model>, DbErr> {
    group_request::Entity::find_by_id(id).one(db).await
}

pub async fn find_request_by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<group_request::Model>, DbErr> {
    group_request::Entity::find()
        .filter(group_request::Column::Code.eq(code))
        .one(db)
        .await
}

/// Whether `mobile` has a pending request at stop `stop_id`.
pub async fn has_pending_request(
    db: &impl ConnectionTrait,
    stop_id: i64,
    mobile: &str,
) -> Result<bool, DbErr> {
    Ok(group_request::Entity::find()
        .filter(group_request::Column::StopId.eq(stop_id))
        .filter(group_request::Column::Mobile.eq(mobile))
        .filter(group_request::Column::Status.eq(RequestStatus::Pending.as_str()))
        .one(db)
        .await?
        .is_some())
}

/// The group requests of the stops `stop_ids`, oldest first.
pub async fn requests_of_stops(
    db: &impl ConnectionTrait,
    stop_ids: &[i64],
) -> Result<Vec<group_request::Model>, DbErr> {
    if stop_ids.is_empty() {
        return Ok(Vec::new());
    }
    group_request::Entity::find()
        .filter(group_request::Column::StopId.is_in(stop_ids.iter().copied()))
        .order_by_asc(group_request::Column::Id)
        .all(db)
        .await
}

/// How a pending request was decided.
#[derive(Debug, Clone)]
pub struct Decision {
    pub status: RequestStatus,
    pub booking_id: Option<i64>,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
}

/// Decides request `id` if it is pending at `expected`; `None` otherwise.
pub async fn decide_request_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected: i32,
    decision: Decision,
    now: DateTime<Utc>,
) -> Result<Option<group_request::Model>, DbErr> {
    use group_request::Column as R;
    let result = group_request::Entity::update_many()
        .col_expr(R::Status, Expr::value(decision.status.as_str()))
        .col_expr(R::BookingId, Expr::value(decision.booking_id))
        .col_expr(R::Reason, Expr::value(decision.reason))
        .col_expr(R::DecidedBy, Expr::value(decision.decided_by))
        .col_expr(R::Version, Expr::col(R::Version).add(1))
        .col_expr(R::UpdatedAt, Expr::value(now))
        .filter(R::Id.eq(id))
        .filter(R::Version.eq(expected))
        .filter(R::Status.eq(RequestStatus::Pending.as_str()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    find_request(db, id).await
}

pub async fn find_by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<booking::Model>, DbErr> {
    Booking::find().filter(Column::Code.eq(code)).one(db).await
}

/// The parts of the bookings `ids`.
pub async fn parts_of(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<booking_part::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    BookingPart::find()
        .filter(booking_part::Column::BookingId.is_in(ids.iter().copied()))
        .order_by_asc(booking_part::Column::BookingId)
        .order_by_asc(booking_part::Column::SlotId)
        .all(db)
        .await
}

/// The bookings of the stops `stop_ids` (active only, or all), oldest first.
pub async fn of_stops(
    db: &impl ConnectionTrait,
    stop_ids: &[i64],
    active_only: bool,
) -> Result<Vec<booking::Model>, DbErr> {
    if stop_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = Booking::find().filter(Column::StopId.is_in(stop_ids.iter().copied()));
    if active_only {
        query = query.filter(Column::Status.eq(BookingStatus::Active.as_str()));
    }
    query.order_by_asc(Column::Id).all(db).await
}

/// A stop with its drive, for the public schedule.
pub async fn stop_with_drive(
    db: &impl ConnectionTrait,
    stop_id: i64,
) -> Result<Option<(drive_stop::Model, drive::Model)>, DbErr> {
    Ok(drive_stop::Entity::find_by_id(stop_id)
        .find_also_related(drive::Entity)
        .one(db)
        .await?
        .and_then(|(stop, drive)| drive.map(|d| (stop, d))))
}

/// Published or under-way drives dated `from` to `to`, with their stops, by date.
pub async fn open_drives(
    db: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(drive::Model, Vec<drive_stop::Model>)>, DbErr> {
    drive::Entity::find()
        .filter(drive::Column::Status.is_in([
            DriveStatus::Published.as_str(),
            DriveStatus::InProgress.as_str(),
        ]))
        .filter(drive::Column::Date.between(from, to))
        .order_by_asc(drive::Column::Date)
        .order_by_asc(drive::Column::Id)
        .find_with_related(drive_stop::Entity)
        .order_by_asc(drive_stop::Column::Seq)
        .all(db)
        .await
}

/// Active bookings of open drives dated `from` to `to`, with their stop and drive date: what
/// the reminder scan looks at.
pub async fn active_between(
    db: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(booking::Model, drive_stop::Model, NaiveDate)>, DbErr> {
    let mut out = Vec::new();
    for (drive, stops) in open_drives(db, from, to).await? {
        let ids: Vec<i64> = stops.iter().map(|s| s.id).collect();
        for b in of_stops(db, &ids, true).await? {
            if let Some(stop) = stops.iter().find(|s| s.id == b.stop_id) {
                out.push((b, stop.clone(), drive.date));
            }
        }
    }
    Ok(out)
}

/// The date of the last donation recorded for `mobile` at a completed drive, if any.
pub async fn last_donation(
    db: &impl ConnectionTrait,
    mobile: &str,
) -> Result<Option<NaiveDate>, DbErr> {
    let stop_ids: Vec<i64> = attendance::Entity::find()
        .select_only()
        .column(attendance::Column::StopId)
        .filter(attendance::Column::Mobile.eq(mobile))
        .filter(attendance::Column::Outcome.eq("donated"))
        .into_tuple()
        .all(db)
        .await?;
    if stop_ids.is_empty() {
        return Ok(None);
    }
    let drive_ids: Vec<i64> = drive_stop::Entity::find()
        .select_only()
        .column(drive_stop::Column::DriveId)
        .filter(drive_stop::Column::Id.is_in(stop_ids))
        .into_tuple()
        .all(db)
        .await?;
    drive::Entity::find()
        .select_only()
        .column(drive::Column::Date)
        .filter(drive::Column::Id.is_in(drive_ids))
        .filter(drive::Column::Status.eq(DriveStatus::Completed.as_str()))
        .order_by_desc(drive::Column::Date)
        .into_tuple::<NaiveDate>()
        .one(db)
        .await
}

/// Erases the mobiles the drives no longer need: those of bookings at drives dated before
/// `bookings_before` (messages and check-in are done), and those of attendances dated before
/// `attendances_before` (the 180-day rule no longer needs them), with the recipients of their
/// messages. Returns the rows changed.
pub async fn erase_mobiles(
    db: &impl ConnectionTrait,
    bookings_before: NaiveDate,
    attendances_before: NaiveDate,
) -> Result<u64, DbErr> {
    use sea_orm::sea_query::Query;
    let stops_before = |date: NaiveDate| {
        Query::select()
            .column((drive_stop::Entity, drive_stop::Column::Id))
            .from(drive_stop::Entity)
            .inner_join(
                drive::Entity,
                Expr::col((drive::Entity, drive::Column::Id))
                    .equals((drive_stop::Entity, drive_stop::Column::DriveId)),
            )
            .and_where(Expr::col((drive::Entity, drive::Column::Date)).lt(date))
            .to_owned()
    };
    let old_bookings = Query::select()
        .column(Column::Id)
        .from(Booking)
        .and_where(Column::StopId.in_subquery(stops_before(bookings_before)))
        .and_where(Column::Mobile.is_not_null())
        .to_owned();
    let messages = entity::outbox_message::Entity::update_many()
        .col_expr(
            entity::outbox_message::Column::Recipient,
            Expr::value("erased"),
        )
        .filter(entity::outbox_message::Column::BookingId.in_subquery(old_bookings))
        .filter(entity::outbox_message::Column::Recipient.ne("erased"))
        .exec(db)
        .await?
        .rows_affected;
    let old_requests = Query::select()
        .column(group_request::Column::Id)
        .from(group_request::Entity)
        .and_where(group_request::Column::StopId.in_subquery(stops_before(bookings_before)))
        .to_owned();
    let request_messages = entity::outbox_message::Entity::update_many()
        .col_expr(
            entity::outbox_message::Column::Recipient,
            Expr::value("erased"),
        )
        .filter(entity::outbox_message::Column::RequestId.in_subquery(old_requests))
        .filter(entity::outbox_message::Column::Recipient.ne("erased"))
        .exec(db)
        .await?
        .rows_affected;
    let requests = group_request::Entity::update_many()
        .col_expr(
            group_request::Column::Mobile,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            group_request::Column::ClientAddress,
            Expr::value(Option::<String>::None),
        )
        .filter(group_request::Column::StopId.in_subquery(stops_before(bookings_before)))
        .filter(group_request::Column::Mobile.is_not_null())
        .exec(db)
        .await?
        .rows_affected;
    let bookings = Booking::update_many()
        .col_expr(Column::Mobile, Expr::value(Option::<String>::None))
        .col_expr(Column::ActiveMobile, Expr::value(Option::<String>::None))
        .col_expr(Column::ClientAddress, Expr::value(Option::<String>::None))
        .filter(Column::StopId.in_subquery(stops_before(bookings_before)))
        .filter(Column::Mobile.is_not_null())
        .exec(db)
        .await?
        .rows_affected;
    let attendances = attendance::Entity::update_many()
        .col_expr(
            attendance::Column::Mobile,
            Expr::value(Option::<String>::None),
        )
        .filter(attendance::Column::StopId.in_subquery(stops_before(attendances_before)))
        .filter(attendance::Column::Mobile.is_not_null())
        .exec(db)
        .await?
        .rows_affected;
    Ok(messages + request_messages + requests + bookings + attendances)
}
