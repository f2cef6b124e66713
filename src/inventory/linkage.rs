//! Emergency linkage (issue 17): a station requests blood of a component and group by a day;
//! other stations offer; the requester accepts one offer; the offering station dispatches it
//! and the requester receives it.
//!
//! A request is `open`, then `accepted` (one offer chosen: a conditional update on the
//! request's status and version, so two accepts at the same instant cannot both win; the
//! other open offers are declined), `dispatched` (in one transaction the offering station's
//! stock goes down, refused with nothing written when it is short now, and the requester's
//! incoming goes up, with a history row on each) and `received` (the incoming moves into the
//! requester's stock); or `cancelled` by the requester before dispatch. An offer is `open`,
//! `accepted`, `dispatched`, `received`, or `withdrawn` (by its station, before acceptance)
//! or `declined`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{blood_offer, blood_request};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::stock::{RaisedNeed, append_history, level_table, raise_needs};
use super::{Acting, InventoryError, Written, own_station, station_for};
use crate::domain::inventory::{Component, MAX_ML, MAX_UNITS};
use crate::domain::policy::Action;
use crate::domain::recruitment::BloodGroup;
use crate::error::FieldErrors;
use crate::store::audit::{self, Change};
use crate::store::inventory::{self as store, OfferFields, RequestFields};

/// The most requests one listing returns.
pub const MAX_REQUESTS: u64 = 500;

/// An offer as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OfferView {
    pub id: i64,
    pub request_id: i64,
    pub station_id: i64,
    pub station_name: String,
    pub units: i32,
    pub ml: i32,
    pub note: Option<String>,
    /// `open`, `accepted`, `dispatched`, `received`, `withdrawn` or `declined`.
    #[schema(example = "open")]
    pub status: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    /// Whether the reader may withdraw or dispatch it (for pages).
    pub editable: bool,
}

/// A request as shown, with its offers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestView {
    pub id: i64,
    /// The requesting station.
    pub station_id: i64,
    pub station_name: String,
    pub region_code: String,
    pub component: Component,
    #[schema(example = "O+")]
    pub blood_group: String,
    pub units: i32,
    pub ml: i32,
    pub needed_by: NaiveDate,
    pub note: Option<String>,
    /// `open`, `accepted`, `dispatched`, `received` or `cancelled`.
    #[schema(example = "open")]
    pub status: String,
    pub accepted_offer_id: Option<i64>,
    /// The ETag an accept sends as `If-Match`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub offers: Vec<OfferView>,
    /// Whether the reader may accept, cancel or receive (the requesting station's staff).
    pub editable: bool,
}

async fn views(
    db: &impl ConnectionTrait,
    requests: Vec<blood_request::Model>,
    acting: &Acting<'_>,
) -> Result<Vec<RequestView>, InventoryError> {
    let ids: Vec<i64> = requests.iter().map(|r| r.id).collect();
    let offers = store::offers_of(db, &ids).await?;
    let mut stations: HashMap<i64, (String, String)> = HashMap::new();
    for id in requests
        .iter()
        .map(|r| r.station_id)
        .chain(offers.iter().map(|o| o.station_id))
    {
        if let std::collections::hash_map::Entry::Vacant(e) = stations.entry(id)
            && let Some(s) = crate::store::fleet::find_station(db, id).await?
        {
            e.insert((s.name, s.region_code));
        }
    }
    let station = |id: i64| stations.get(&id).cloned().unwrap_or_default();
    let mut by_request: HashMap<i64, Vec<OfferView>> = HashMap::new();
    for o in offers {
        let (name, region) = station(o.station_id);
        by_request.entry(o.request_id).or_default().push(OfferView {
            id: o.id,
            request_id: o.request_id,
            station_id: o.station_id,
            station_name: name,
            units: o.units,
            ml: o.ml,
            note: o.note,
            status: o.status,
            version: o.version,
            created_at: o.created_at,
            created_by: o.created_by,
            dispatched_at: o.dispatched_at,
            received_at: o.received_at,
            editable: acting.may_edit(&region),
        });
    }
    Ok(requests
        .into_iter()
        .map(|r| {
            let (name, region) = station(r.station_id);
            RequestView {
                id: r.id,
                station_id: r.station_id,
                station_name: name,
                editable: acting.may_edit(&region),
                region_code: region,
                component: r.component.parse().unwrap_or(Component::WholeBlood),
                blood_group: r.blood_group,
                units: r.units,
                ml: r.ml,
                needed_by: r.needed_by,
                note: r.note,
                status: r.status,
                accepted_offer_id: r.accepted_offer_id,
                version: r.version,
                created_at: r.created_at,
                created_by: r.created_by,
                offers: by_request.remove(&r.id).unwrap_or_default(),
            }
        })
        .collect())
}

async fn one(
    db: &impl ConnectionTrait,
    request: blood_request::Model,
    acting: &Acting<'_>,
) -> Result<RequestView, InventoryError> {
    Ok(views(db, vec![request], acting)
        .await?
        .pop()
        .expect("one request in, one out"))
}

/// The requests not yet settled (open, accepted, dispatched), newest first, for the board.
pub(super) async fn unsettled(
    db: &DatabaseConnection,
    acting: &Acting<'_>,
) -> Result<Vec<RequestView>, InventoryError> {
    let requests =
        store::requests(db, &["open", "accepted", "dispatched"], None, MAX_REQUESTS).await?;
    views(db, requests, acting).await
}

/// A request as staff state it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// The requesting station (one the caller may change).
    pub station_id: i64,
    #[schema(example = "red_cells")]
    pub component: String,
    #[schema(example = "O+")]
    pub blood_group: String,
    /// Units wanted, 1 or more.
    pub units: i64,
    /// mL wanted, 0 or more.
    pub ml: i64,
    /// Wanted by this day (today in China or later).
    pub needed_by: NaiveDate,
    pub note: Option<String>,
}

/// Makes a request (the requesting station's staff).
///
/// # Errors
/// Denied, every bad field named, an unknown or closed station.
pub async fn create_request(
    db: &DatabaseConnection,
    cmd: NewRequest,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<RequestView, InventoryError> {
    acting.require_reader()?;
    let mut errors = FieldErrors::default();
    let component = match cmd.component.trim().parse::<Component>() {
        Ok(c) => Some(c),
        Err(m) => {
            errors.add("component", m);
            None
        }
    };
    let group = match cmd.blood_group.parse::<BloodGroup>() {
        Ok(g) => Some(g),
        Err(m) => {
            errors.add("blood_group", m);
            None
        }
    };
    if !(1..=MAX_UNITS).contains(&cmd.units) {
        errors.add("units", format!("must be between 1 and {MAX_UNITS}"));
    }
    if !(0..=MAX_ML).contains(&cmd.ml) {
        errors.add("ml", format!("must be between 0 and {MAX_ML}"));
    }
    let today = crate::domain::booking::today_in_china(now);
    if cmd.needed_by < today {
        errors.add(
            "needed_by",
            format!("cannot be in the past (today in China is {today})"),
        );
    }
    let note = errors.text("note", cmd.note.clone(), 1000, true, false);
    let station = match own_station(db, "station_id", cmd.station_id, acting).await {
        Ok(s) => Some(s),
        Err(InventoryError::Invalid(mut e)) => {
            errors.0.append(&mut e);
            None
        }
        Err(e) => return Err(e),
    };
    errors.check_with(InventoryError::Invalid)?;
    let (Some(component), Some(group), Some(station)) = (component, group, station) else {
        return Err(InventoryError::invalid("body", "invalid request"));
    };
    let txn = crate::db::begin_write(db).await?;
    let request = store::insert_request(
        &txn,
        RequestFields {
            station_id: station.id,
            component: component.as_str().to_owned(),
            blood_group: group.to_string(),
            units: i32::try_from(cmd.units).unwrap_or(0),
            ml: i32::try_from(cmd.ml).unwrap_or(0),
            needed_by: cmd.needed_by,
            note,
        },
        acting.username(),
        now,
    )
    .await?;
    audit_request(
        &txn,
        &request,
        "create",
        None,
        &station.region_code,
        acting,
        now,
    )
    .await?;
    txn.commit().await?;
    one(db, request, acting).await
}

async fn audit_request(
    txn: &impl ConnectionTrait,
    after: &blood_request::Model,
    action: &str,
    before: Option<&blood_request::Model>,
    region: &str,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), InventoryError> {
    audit::record(
        txn,
        Change {
            entity: "blood_request",
            entity_id: after.id.to_string(),
            action,
            region_code: Some(region.to_owned()),
            before,
            after: Some(after),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(())
}

async fn audit_offer(
    txn: &impl ConnectionTrait,
    after: &blood_offer::Model,
    action: &str,
    before: Option<&blood_offer::Model>,
    region: &str,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<(), InventoryError> {
    audit::record(
        txn,
        Change {
            entity: "blood_offer",
            entity_id: after.id.to_string(),
            action,
            region_code: Some(region.to_owned()),
            before,
            after: Some(after),
            actor: acting.actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(())
}

/// Filters of [`list_requests`].
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    /// Only this status (`open`, `accepted`, `dispatched`, `received`, `cancelled`).
    pub status: Option<String>,
    /// Only this station's requests.
    pub station_id: Option<i64>,
}

const REQUEST_STATUSES: [&str; 5] = ["open", "accepted", "dispatched", "received", "cancelled"];

/// Requests, newest first (any admin or station staff), at most [`MAX_REQUESTS`].
///
/// # Errors
/// Denied, a status that is not one.
pub async fn list_requests(
    db: &DatabaseConnection,
    query: RequestQuery,
    acting: &Acting<'_>,
) -> Result<Vec<RequestView>, InventoryError> {
    acting.require_reader()?;
    let statuses: Vec<&str> = match query.status.as_deref() {
        None => Vec::new(),
        Some(s) => match REQUEST_STATUSES.iter().find(|k| **k == s) {
            Some(k) => vec![*k],
            None => {
                return Err(InventoryError::invalid(
                    "status",
                    format!("must be one of {}", REQUEST_STATUSES.join(", ")),
                ));
            }
        },
    };
    let requests = store::requests(db, &statuses, query.station_id, MAX_REQUESTS).await?;
    views(db, requests, acting).await
}

async fn request_for(
    db: &impl ConnectionTrait,
    id: i64,
    action: Action,
    acting: &Acting<'_>,
) -> Result<(blood_request::Model, entity::station::Model), InventoryError> {
    acting.require_reader()?;
    let request = store::find_request(db, id)
        .await?
        .ok_or_else(|| InventoryError::NotFound(format!("no blood request with id {id}")))?;
    let station = station_for(db, request.station_id, action, acting).await?;
    Ok((request, station))
}

/// One request with its offers (any admin or station staff).
///
/// # Errors
/// Denied, no such request.
pub async fn get_request(
    db: &DatabaseConnection,
    id: i64,
    acting: &Acting<'_>,
) -> Result<RequestView, InventoryError> {
    let (request, _) = request_for(db, id, Action::Read, acting).await?;
    one(db, request, acting).await
}

/// Cancels a request before its dispatch (the requesting station's staff); its offers are
/// declined.
///
/// # Errors
/// Denied, no such request, a request dispatched, received or cancelled already.
pub async fn cancel_request(
    db: &DatabaseConnection,
    id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<RequestView, InventoryError> {
    let (request, station) = request_for(db, id, Action::Update, acting).await?;
    let txn = crate::db::begin_write(db).await?;
    let mut cancelled = None;
    for from in ["open", "accepted"] {
        if let Some(r) = store::move_request(&txn, id, from, None, "cancelled", None, now).await? {
            cancelled = Some(r);
            break;
        }
    }
    let Some(cancelled) = cancelled else {
        txn.rollback().await?;
        return Err(InventoryError::Conflict(format!(
            "blood request {id} is {} and can no longer be cancelled",
            current_status(db, id).await?
        )));
    };
    store::decline_offers(&txn, id, &["open", "accepted"], None).await?;
    audit_request(
        &txn,
        &cancelled,
        "cancel",
        Some(&request),
        &station.region_code,
        acting,
        now,
    )
    .await?;
    txn.commit().await?;
    one(db, cancelled, acting).await
}

async fn current_status(db: &impl ConnectionTrait, id: i64) -> Result<String, InventoryError> {
    Ok(store::find_request(db, id)
        .await?
        .map_or_else(|| "gone".to_owned(), |r| r.status))
}

/// An offer as staff state it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOffer {
    /// The offering station (one the caller may change; not the requester).
    pub station_id: i64,
    /// Units offered, 1 or more, no more than the station holds.
    pub units: i64,
    /// mL offered, no more than the station holds.
    pub ml: i64,
    pub note: Option<String>,
}

/// Offers blood for an open request (another station's staff).
///
/// # Errors
/// Denied, no such request, every bad field named (more than the station holds, the
/// requesting station itself), a request no longer open.
pub async fn make_offer(
    db: &DatabaseConnection,
    request_id: i64,
    cmd: NewOffer,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<RequestView, InventoryError> {
    let (request, _) = request_for(db, request_id, Action::Read, acting).await?;
    let mut errors = FieldErrors::default();
    if !(1..=MAX_UNITS).contains(&cmd.units) {
        errors.add("units", format!("must be between 1 and {MAX_UNITS}"));
    }
    if !(0..=MAX_ML).contains(&cmd.ml) {
        errors.add("ml", format!("must be between 0 and {MAX_ML}"));
    }
    let note = errors.text("note", cmd.note.clone(), 1000, true, false);
    let station = match own_station(db, "station_id", cmd.station_id, acting).await {
        Ok(s) if s.id == request.station_id => {
            errors.add("station_id", "a station cannot offer to its own request");
            None
        }
        Ok(s) => Some(s),
        Err(InventoryError::Invalid(mut e)) => {
            errors.0.append(&mut e);
            None
        }
        Err(e) => return Err(e),
    };
    if let Some(s) = &station {
        let held = store::find_stock(db, s.id, &request.component, &request.blood_group)
            .await?
            .map_or((0, 0), |st| (i64::from(st.units), i64::from(st.ml)));
        if cmd.units > held.0 && !errors.has("units") {
            errors.add(
                "units",
                format!(
                    "the station holds {} units of this component and group",
                    held.0
                ),
            );
        }
        if cmd.ml > held.1 && !errors.has("ml") {
            errors.add(
                "ml",
                format!(
                    "the station holds {} mL of this component and group",
                    held.1
                ),
            );
        }
    }
    errors.check_with(InventoryError::Invalid)?;
    let Some(station) = station else {
        return Err(InventoryError::invalid("station_id", "invalid station"));
    };
    if request.status != "open" {
        return Err(InventoryError::Conflict(format!(
            "blood request {request_id} is {}: offers are taken only while it is open",
            request.status
        )));
    }
    let txn = crate::db::begin_write(db).await?;
    if !store::hold_open_request(&txn, request_id, now).await? {
        txn.rollback().await?;
        return Err(InventoryError::Conflict(format!(
            "blood request {request_id} is no longer open: offers are taken only while it is open"
        )));
    }
    let offer = store::insert_offer(
        &txn,
        OfferFields {
            request_id,
            station_id: station.id,
            units: i32::try_from(cmd.units).unwrap_or(0),
            ml: i32::try_from(cmd.ml).unwrap_or(0),
            note,
        },
        acting.username(),
        now,
    )
    .await?;
    audit_offer(
        &txn,
        &offer,
        "create",
        None,
        &station.region_code,
        acting,
        now,
    )
    .await?;
    txn.commit().await?;
    let request = store::find_request(db, request_id).await?.ok_or_else(|| {
        InventoryError::NotFound(format!("no blood request with id {request_id}"))
    })?;
    one(db, request, acting).await
}

/// Accepts one open offer of an open request (the requesting station's staff), if the
/// request is still at version `expected`; the other open offers are declined. Of two
/// accepts at the same instant one wins; the other finds the request moved on
/// ([`Written::Stale`]).
///
/// # Errors
/// Denied, no such request, an offer not of this request or not open, a request no longer
/// open.
pub async fn accept(
    db: &DatabaseConnection,
    request_id: i64,
    offer_id: i64,
    expected: i32,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Written<RequestView>, InventoryError> {
    let (request, station) = request_for(db, request_id, Action::Update, acting).await?;
    let offer = store::find_offer(db, offer_id)
        .await?
        .filter(|o| o.request_id == request_id)
        .ok_or_else(|| {
            InventoryError::invalid(
                "offer_id",
                format!("no offer with id {offer_id} for blood request {request_id}"),
            )
        })?;
    if request.version != expected {
        return Ok(Written::Stale(one(db, request, acting).await?));
    }
    if request.status != "open" {
        return Err(InventoryError::Conflict(format!(
            "blood request {request_id} is {}: an offer is accepted only while it is open",
            request.status
        )));
    }
    if offer.status != "open" {
        // Declined by an accept that came first: the request moved on with it.
        if let Some(current) = store::find_request(db, request_id).await?
            && current.version != expected
        {
            return Ok(Written::Stale(one(db, current, acting).await?));
        }
        return Err(InventoryError::invalid(
            "offer_id",
            format!("offer {offer_id} is {}", offer.status),
        ));
    }
    // Two accepts at once queue here on SQLite; the conditional update decides either way.
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    let Some(accepted) = store::move_request(
        &txn,
        request_id,
        "open",
        Some(expected),
        "accepted",
        Some(offer_id),
        now,
    )
    .await?
    else {
        txn.rollback().await?;
        let current = store::find_request(db, request_id).await?.ok_or_else(|| {
            InventoryError::NotFound(format!("no blood request with id {request_id}"))
        })?;
        return Ok(Written::Stale(one(db, current, acting).await?));
    };
    let Some(offer_now) = store::move_offer(&txn, offer_id, "open", "accepted", now).await? else {
        txn.rollback().await?;
        return Err(InventoryError::invalid(
            "offer_id",
            format!("offer {offer_id} was withdrawn meanwhile"),
        ));
    };
    store::decline_offers(&txn, request_id, &["open"], Some(offer_id)).await?;
    audit_request(
        &txn,
        &accepted,
        "accept",
        Some(&request),
        &station.region_code,
        acting,
        now,
    )
    .await?;
    audit_offer(
        &txn,
        &offer_now,
        "accept",
        Some(&offer),
        &station.region_code,
        acting,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Written::Done(one(db, accepted, acting).await?))
}

async fn offer_for(
    db: &impl ConnectionTrait,
    offer_id: i64,
    acting: &Acting<'_>,
) -> Result<(blood_offer::Model, blood_request::Model), InventoryError> {
    acting.require_reader()?;
    let offer = store::find_offer(db, offer_id)
        .await?
        .ok_or_else(|| InventoryError::NotFound(format!("no blood offer with id {offer_id}")))?;
    let request = store::find_request(db, offer.request_id)
        .await?
        .ok_or_else(|| InventoryError::NotFound(format!("no blood offer with id {offer_id}")))?;
    Ok((offer, request))
}

/// Withdraws an offer before it is accepted (the offering station's staff).
///
/// # Errors
/// Denied, no such offer, an offer no longer open.
pub async fn withdraw_offer(
    db: &DatabaseConnection,
    offer_id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<RequestView, InventoryError> {
    let (offer, request) = offer_for(db, offer_id, acting).await?;
    let station = station_for(db, offer.station_id, Action::Update, acting).await?;
    let txn = crate::db::begin_write(db).await?;
    let Some(withdrawn) = store::move_offer(&txn, offer_id, "open", "withdrawn", now).await? else {
        txn.rollback().await?;
        return Err(InventoryError::Conflict(format!(
            "offer {offer_id} is {}: only an open offer is withdrawn",
            offer.status
        )));
    };
    audit_offer(
        &txn,
        &withdrawn,
        "withdraw",
        Some(&offer),
        &station.region_code,
        acting,
        now,
    )
    .await?;
    txn.commit().await?;
    one(db, request, acting).await.map(|mut v| {
        for o in &mut v.offers {
            if o.id == offer_id {
                o.status = withdrawn.status.clone();
                o.version = withdrawn.version;
            }
        }
        v
    })
}

/// A dispatch's or a receipt's result: the request as it now is, and the needs a dispatch
/// raised at the offering station (its stock put at red).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Moved {
    pub request: RequestView,
    pub needs_raised: Vec<RaisedNeed>,
}

/// Dispatches an accepted offer (the offering station's staff): in one transaction its stock
/// goes down (refused, nothing written, when it is short now), the requester's incoming goes
/// up, both get a history row, and a red level at the offering station raises its need.
///
/// # Errors
/// Denied, no such offer, an offer not accepted, stock short now.
pub async fn dispatch(
    db: &DatabaseConnection,
    offer_id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Moved, InventoryError> {
    let (offer, request) = offer_for(db, offer_id, acting).await?;
    let from = station_for(db, offer.station_id, Action::Update, acting).await?;
    let to = crate::store::fleet::find_station(db, request.station_id)
        .await?
        .ok_or_else(|| {
            InventoryError::NotFound(format!("no station with id {}", request.station_id))
        })?;
    let _turn = crate::db::write_turn(db).await;
    let txn = crate::db::begin_write(db).await?;
    // The request first, then the offer: the order cancelling locks them in, so the two
    // never wait on each other.
    let Some(request_now) =
        store::move_request(&txn, request.id, "accepted", None, "dispatched", None, now).await?
    else {
        txn.rollback().await?;
        return Err(InventoryError::Conflict(format!(
            "blood request {} is no longer accepted",
            request.id
        )));
    };
    let Some(dispatched) = store::move_offer(&txn, offer_id, "accepted", "dispatched", now).await?
    else {
        txn.rollback().await?;
        return Err(InventoryError::Conflict(format!(
            "offer {offer_id} is {}: only an accepted offer is dispatched",
            offer.status
        )));
    };
    let (c, g) = (request.component.as_str(), request.blood_group.as_str());
    if !store::take_stock(&txn, from.id, c, g, offer.units, offer.ml, now).await? {
        txn.rollback().await?;
        let held = store::find_stock(db, from.id, c, g).await?;
        let (units, ml) = held.map_or((0, 0), |s| (s.units, s.ml));
        return Err(InventoryError::Conflict(format!(
            "station {} holds {units} units ({ml} mL) of {c} {g} now, less than the {} units ({} mL) offered; nothing was written",
            from.id, offer.units, offer.ml
        )));
    }
    if !store::add_incoming(&txn, to.id, c, g, offer.units, offer.ml, now).await? {
        txn.rollback().await?;
        return Err(InventoryError::Conflict(format!(
            "station {} would hold more of {c} {g} on its way than a stock may hold; nothing was written",
            to.id
        )));
    }
    // Both sheets changed: a sheet loaded before this is stale (412), not a way to undo it.
    store::touch_stock_version(&txn, from.id, now).await?;
    store::touch_stock_version(&txn, to.id, now).await?;
    let from_levels = level_table(&txn, from.id).await?;
    let to_levels = level_table(&txn, to.id).await?;
    let from_stock = store::find_stock(&txn, from.id, c, g)
        .await?
        .ok_or_else(|| InventoryError::NotFound("the offering stock".to_owned()))?;
    let to_stock = store::find_stock(&txn, to.id, c, g)
        .await?
        .ok_or_else(|| InventoryError::NotFound("the requesting stock".to_owned()))?;
    append_history(
        &txn,
        &from_stock,
        &from_levels,
        "dispatched",
        Some(offer_id),
        acting,
        now,
    )
    .await?;
    append_history(
        &txn,
        &to_stock,
        &to_levels,
        "dispatched",
        Some(offer_id),
        acting,
        now,
    )
    .await?;
    audit_offer(
        &txn,
        &dispatched,
        "dispatch",
        Some(&offer),
        &from.region_code,
        acting,
        now,
    )
    .await?;
    audit_request(
        &txn,
        &request_now,
        "dispatch",
        Some(&request),
        &to.region_code,
        acting,
        now,
    )
    .await?;
    let needs_raised = raise_needs(&txn, &from, &[from_stock], &from_levels, acting, now).await?;
    txn.commit().await?;
    Ok(Moved {
        request: one(db, request_now, acting).await?,
        needs_raised,
    })
}

/// Receives a dispatched offer (the requesting station's staff): in one transaction what was
/// on its way moves into the stock, with a history row.
///
/// # Errors
/// Denied, no such offer, an offer not dispatched.
pub async fn receive(
    db: &DatabaseConnection,
    offer_id: i64,
    acting: &Acting<'_>,
    now: DateTime<Utc>,
) -> Result<Moved, InventoryError> {
    let (offer, request) = offer_for(db, offer_id, acting).await?;
    let to = station_for(db, request.station_id, Action::Update, acting).await?;
    let txn = crate::db::begin_write(db).await?;
    let Some(request_now) =
        store::move_request(&txn, request.id, "dispatched", None, "received", None, now).await?
    else {
        txn.rollback().await?;
        return Err(InventoryError::Conflict(format!(
            "blood request {} is no longer dispatched",
            request.id
        )));
    };
    let Some(received) = store::move_offer(&txn, offer_id, "dispatched", "received", now).await?
    else {
        txn.rollback().await?;
        return Err(InventoryError::Conflict(format!(
            "offer {offer_id} is {}: only a dispatched offer is received",
            offer.status
        )));
    };
    let (c, g) = (request.component.as_str(), request.blood_group.as_str());
    if !store::receive_incoming(&txn, to.id, c, g, offer.units, offer.ml, now).await? {
        txn.rollback().await?;
        return Err(InventoryError::Conflict(format!(
            "less than offer {offer_id} is on its way to station {}, or receiving it would hold              more than a stock may; nothing was written",
            to.id
        )));
    }
    store::touch_stock_version(&txn, to.id, now).await?;
    let levels = level_table(&txn, to.id).await?;
    let stock = store::find_stock(&txn, to.id, c, g)
        .await?
        .ok_or_else(|| InventoryError::NotFound("the requesting stock".to_owned()))?;
    append_history(
        &txn,
        &stock,
        &levels,
        "received",
        Some(offer_id),
        acting,
        now,
    )
    .await?;
    audit_offer(
        &txn,
        &received,
        "receive",
        Some(&offer),
        &to.region_code,
        acting,
        now,
    )
    .await?;
    audit_request(
        &txn,
        &request_now,
        "receive",
        Some(&request),
        &to.region_code,
        acting,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Moved {
        request: one(db, request_now, acting).await?,
        needs_raised: Vec::new(),
    })
}
