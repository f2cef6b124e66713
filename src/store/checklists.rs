//! Queries over `checklist_templates` and `checklist_items` (see the migration
//! `m20261126_000010_create_checklists` and `crate::domain::checklist`).

use chrono::{DateTime, NaiveDate, Utc};
use entity::checklist_item::{self, Entity as ChecklistItem};
use entity::checklist_template::{self, Entity as ChecklistTemplate};
use entity::drive::{self, Entity as Drive};
use entity::drive_stop::{self, Entity as DriveStop};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};

use crate::domain::checklist::{self, PlannedItem, TemplateItem};
use crate::domain::policy::Visibility;

/// The rows of station `station_id`'s own template, in order (empty: it uses the defaults).
pub async fn template(
    db: &impl ConnectionTrait,
    station_id: i64,
) -> Result<Vec<checklist_template::Model>, DbErr> {
    ChecklistTemplate::find()
        .filter(checklist_template::Column::StationId.eq(station_id))
        .order_by_asc(checklist_template::Column::Seq)
        .all(db)
        .await
}

/// The template's version: 0 while the station uses the defaults.
pub fn template_version(rows: &[checklist_template::Model]) -> i32 {
    rows.iter().map(|r| r.version).max().unwrap_or(0)
}

/// Replaces station `station_id`'s template by `items` (numbered 1, 2, … in order), all rows
/// at `version`. `created` is when and by whom the station's template was first written. Call
/// it inside a transaction that holds the station's row locked and has checked the version.
pub async fn replace_template(
    db: &impl ConnectionTrait,
    station_id: i64,
    items: &[TemplateItem],
    version: i32,
    created: (DateTime<Utc>, Option<String>),
    by: Option<String>,
    now: DateTime<Utc>,
) -> Result<Vec<checklist_template::Model>, DbErr> {
    ChecklistTemplate::delete_many()
        .filter(checklist_template::Column::StationId.eq(station_id))
        .exec(db)
        .await?;
    let mut out = Vec::with_capacity(items.len());
    for (seq, item) in (1..).zip(items) {
        let row = ChecklistTemplate::insert(checklist_template::ActiveModel {
            station_id: Set(station_id),
            seq: Set(seq),
            title: Set(item.title.clone()),
            days_before: Set(item.days_before),
            version: Set(version),
            created_at: Set(created.0),
            updated_at: Set(now),
            created_by: Set(created.1.clone()),
            updated_by: Set(by.clone()),
            ..Default::default()
        })
        .exec_with_returning(db)
        .await?;
        out.push(row);
    }
    Ok(out)
}

/// The template a new drive of station `station_id` uses: the station's own, or the defaults.
pub async fn effective_template(
    db: &impl ConnectionTrait,
    station_id: i64,
) -> Result<Vec<TemplateItem>, DbErr> {
    let rows = template(db, station_id).await?;
    if rows.is_empty() {
        return Ok(checklist::defaults());
    }
    Ok(rows
        .into_iter()
        .map(|r| TemplateItem {
            title: r.title,
            days_before: r.days_before,
        })
        .collect())
}

/// Makes the checklist of every stop of a drive on `drive_date` from `template`. Call it in
/// the transaction that makes the drive.
pub async fn insert_for_stops(
    db: &impl ConnectionTrait,
    template: &[TemplateItem],
    drive_date: NaiveDate,
    stops: &[drive_stop::Model],
) -> Result<Vec<checklist_item::Model>, DbErr> {
    let planned = checklist::plan_items(template, drive_date).map_err(DbErr::Custom)?;
    let mut out = Vec::with_capacity(planned.len() * stops.len());
    for stop in stops {
        for item in &planned {
            out.push(insert_item(db, stop.id, item).await?);
        }
    }
    Ok(out)
}

async fn insert_item(
    db: &impl ConnectionTrait,
    stop_id: i64,
    item: &PlannedItem,
) -> Result<checklist_item::Model, DbErr> {
    ChecklistItem::insert(checklist_item::ActiveModel {
        stop_id: Set(stop_id),
        seq: Set(item.seq),
        title: Set(item.title.clone()),
        due_date: Set(item.due_date),
        days_before: Set(item.days_before),
        done: Set(false),
        done_at: Set(None),
        done_by: Set(None),
        version: Set(1),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

/// The items of the stops `stop_ids`, by stop and order.
pub async fn items_of_stops(
    db: &impl ConnectionTrait,
    stop_ids: &[i64],
) -> Result<Vec<checklist_item::Model>, DbErr> {
    if stop_ids.is_empty() {
        return Ok(Vec::new());
    }
    ChecklistItem::find()
        .filter(checklist_item::Column::StopId.is_in(stop_ids.iter().copied()))
        .order_by_asc(checklist_item::Column::StopId)
        .order_by_asc(checklist_item::Column::Seq)
        .all(db)
        .await
}

/// Item `id` with its stop and drive.
pub async fn find_item(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<(checklist_item::Model, drive_stop::Model, drive::Model)>, DbErr> {
    let Some(item) = ChecklistItem::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let Some(stop) = DriveStop::find_by_id(item.stop_id).one(db).await? else {
        return Ok(None);
    };
    let Some(drive) = Drive::find_by_id(stop.drive_id).one(db).await? else {
        return Ok(None);
    };
    Ok(Some((item, stop, drive)))
}

/// Marks item `id` done (with when and by whom) or not done (clearing both) if it is still at
/// `expected`, bumping its version; `None` when the version moved on.
pub async fn set_done_if_version(
    db: &impl ConnectionTrait,
    id: i64,
    expected: i32,
    done: bool,
    by: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<checklist_item::Model>, DbErr> {
    let (at, by) = if done { (Some(now), by) } else { (None, None) };
    let result = ChecklistItem::update_many()
        .col_expr(checklist_item::Column::Done, Expr::value(done))
        .col_expr(checklist_item::Column::DoneAt, Expr::value(at))
        .col_expr(checklist_item::Column::DoneBy, Expr::value(by))
        .col_expr(
            checklist_item::Column::Version,
            Expr::col(checklist_item::Column::Version).add(1),
        )
        .filter(checklist_item::Column::Id.eq(id))
        .filter(checklist_item::Column::Version.eq(expected))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    ChecklistItem::find_by_id(id).one(db).await
}

/// An item of the due listing with its stop and drive.
#[derive(Debug, Clone, FromQueryResult)]
pub struct DueRow {
    pub item_id: i64,
    pub item_seq: i32,
    pub title: String,
    pub due_date: NaiveDate,
    pub done: bool,
    pub version: i32,
    pub stop_id: i64,
    pub stop_seq: i32,
    pub stop_name: String,
    pub region_code: String,
    pub drive_id: i64,
    pub drive_date: NaiveDate,
    pub drive_status: String,
}

/// Where a page of the due listing starts: after this (due date, drive, stop seq, item seq).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCursor {
    pub due_date: NaiveDate,
    pub drive_id: i64,
    pub stop_seq: i32,
    pub item_seq: i32,
}

/// What the due listing shows.
#[derive(Debug, Clone)]
pub struct DueFilter {
    /// Inclusive code range of the stops' region subtree.
    pub region_range: (String, String),
    /// Only stops, of drives, inside the caller's reach (`None`: no restriction).
    pub reach: Option<Visibility>,
    /// Items due on or before this date.
    pub due_until: NaiveDate,
    /// Drives in these statuses.
    pub drive_statuses: Vec<&'static str>,
    pub after: Option<DueCursor>,
    pub limit: u64,
}

/// Items not done, due up to `filter.due_until`, of drives in `filter.drive_statuses`, at
/// stops inside the region and the reach; by due date, drive, stop and item order.
pub async fn due(db: &impl ConnectionTrait, filter: &DueFilter) -> Result<Vec<DueRow>, DbErr> {
    use checklist_item::Column as I;
    use drive::Column as D;
    use drive_stop::Column as S;
    let (lo, hi) = &filter.region_range;
    let mut query = ChecklistItem::find()
        .select_only()
        .column_as(I::Id, "item_id")
        .column_as(I::Seq, "item_seq")
        .column(I::Title)
        .column(I::DueDate)
        .column(I::Done)
        .column(I::Version)
        .column_as(S::Id, "stop_id")
        .column_as(S::Seq, "stop_seq")
        .column_as(S::Name, "stop_name")
        .column_as(S::RegionCode, "region_code")
        .column_as(D::Id, "drive_id")
        .column_as(D::Date, "drive_date")
        .column_as(D::Status, "drive_status")
        .join(
            JoinType::InnerJoin,
            checklist_item::Relation::DriveStop.def(),
        )
        .join(JoinType::InnerJoin, drive_stop::Relation::Drive.def())
        .filter(I::Done.eq(false))
        .filter(I::DueDate.lte(filter.due_until))
        .filter(D::Status.is_in(filter.drive_statuses.iter().copied()))
        .filter(S::RegionCode.between(lo.as_str(), hi.as_str()));
    if let Some(condition) = filter
        .reach
        .as_ref()
        .and_then(|reach| super::within(S::RegionCode, reach))
    {
        query = query.filter(condition);
    }
    // And the drive too: a stop's items are read only through a drive the caller reads.
    if let Some(condition) = filter
        .reach
        .as_ref()
        .and_then(|reach| super::within(D::RegionCode, reach))
    {
        query = query.filter(condition);
    }
    if let Some(c) = &filter.after {
        // Keyset: strictly after the cursor in (due date, drive, stop seq, item seq) order.
        query = query.filter(
            Condition::any()
                .add(I::DueDate.gt(c.due_date))
                .add(
                    Condition::all()
                        .add(I::DueDate.eq(c.due_date))
                        .add(D::Id.gt(c.drive_id)),
                )
                .add(
                    Condition::all()
                        .add(I::DueDate.eq(c.due_date))
                        .add(D::Id.eq(c.drive_id))
                        .add(S::Seq.gt(c.stop_seq)),
                )
                .add(
                    Condition::all()
                        .add(I::DueDate.eq(c.due_date))
                        .add(D::Id.eq(c.drive_id))
                        .add(S::Seq.eq(c.stop_seq))
                        .add(I::Seq.gt(c.item_seq)),
                ),
        );
    }
    query
        .order_by_asc(I::DueDate)
        .order_by_asc(D::Id)
        .order_by_asc(S::Seq)
        .order_by_asc(I::Seq)
        .limit(filter.limit)
        .into_model::<DueRow>()
        .all(db)
        .await
}
