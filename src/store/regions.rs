//! Queries over `regions`.
//!
//! Subtrees are code ranges (see `domain::region`), so every query here is an index range scan:
//! children via `(parent_code, code)`, a level within a subtree via `(level, code)`, and the
//! breadcrumb by following `parent_code` up (a recursive query, one round trip).

use entity::region::{self, Column, Entity as RegionEntity};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};

use crate::domain::policy::Visibility;
use crate::domain::region::{Level, Region, RegionCode, VillageKind};

/// What to list: the direct children of a region (or the roots), or, when a level or a name
/// fragment is given, matching units anywhere below the region.
#[derive(Debug, Clone, Default)]
pub struct RegionFilter {
    /// The region whose children or subtree to list, with its level; `None` for the roots.
    pub parent: Option<(RegionCode, Level)>,
    pub level: Option<Level>,
    /// A fragment of the name, matched literally (no wildcards), ignoring ASCII case.
    pub name_contains: Option<String>,
    /// Only codes after this one (the cursor).
    pub after: Option<RegionCode>,
    pub limit: u64,
    /// Only units inside the caller's reach (`None`: no restriction).
    pub reach: Option<Visibility>,
}

/// Turns a stored row into a [`Region`]; a row the schema should never have allowed is a
/// database error, not a panic.
fn to_region(m: region::Model) -> Result<Region, DbErr> {
    let bad = |what: &str, value: &str| {
        DbErr::Type(format!(
            "region {}: stored {what} {value:?} is invalid",
            m.code
        ))
    };
    Ok(Region {
        code: RegionCode::parse(&m.code).map_err(|_| bad("code", &m.code))?,
        level: m.level.parse().map_err(|_| bad("level", &m.level))?,
        parent_code: m
            .parent_code
            .as_deref()
            .map(|p| RegionCode::parse(p).map_err(|_| bad("parent_code", p)))
            .transpose()?,
        kind: m
            .kind
            .as_deref()
            .map(|k| k.parse::<VillageKind>().map_err(|_| bad("kind", k)))
            .transpose()?,
        name: m.name,
        kind_overridden: m.kind_overridden,
        longitude: m.longitude,
        latitude: m.latitude,
        population: m.population,
        created_at: m.created_at,
        updated_at: m.updated_at,
        version: m.version,
    })
}

fn to_regions(models: Vec<region::Model>) -> Result<Vec<Region>, DbErr> {
    models.into_iter().map(to_region).collect()
}

/// Finds one region by code.
pub async fn find(db: &impl ConnectionTrait, code: &RegionCode) -> Result<Option<Region>, DbErr> {
    RegionEntity::find_by_id(code.as_str().to_owned())
        .one(db)
        .await?
        .map(to_region)
        .transpose()
}

/// Lists regions by `filter`, in code order, at most `filter.limit` of them.
pub async fn list(db: &impl ConnectionTrait, filter: &RegionFilter) -> Result<Vec<Region>, DbErr> {
    let subtree_query = filter.level.is_some() || filter.name_contains.is_some();
    let mut query = RegionEntity::find();
    query = match (&filter.parent, subtree_query) {
        (Some((code, level)), true) => {
            let (lo, hi) = code.subtree_bounds(*level);
            query
                .filter(Column::Code.between(lo, hi))
                .filter(Column::Code.ne(code.as_str()))
        }
        (Some((code, _)), false) => query.filter(Column::ParentCode.eq(code.as_str())),
        (None, true) => query,
        (None, false) => query.filter(Column::ParentCode.is_null()),
    };
    if let Some(level) = filter.level {
        query = query.filter(Column::Level.eq(level.as_str()));
    }
    if let Some(fragment) = &filter.name_contains {
        // LOWER on both sides: SQLite's LIKE ignores ASCII case and PostgreSQL's does not;
        // this makes both ignore it.
        let pattern = format!("%{}%", escape_like(&fragment.to_ascii_lowercase()));
        query = query.filter(
            Expr::expr(Func::lower(Expr::col(Column::Name)))
                .like(LikeExpr::new(pattern).escape('\\')),
        );
    }
    if let Some(after) = &filter.after {
        query = query.filter(Column::Code.gt(after.as_str()));
    }
    if let Some(condition) = filter
        .reach
        .as_ref()
        .and_then(|reach| super::within(Column::Code, reach))
    {
        query = query.filter(condition);
    }
    to_regions(
        query
            .order_by_asc(Column::Code)
            .limit(filter.limit)
            .all(db)
            .await?,
    )
}

/// The ancestors of a region, from the top down to its parent, following `parent_code`.
pub async fn ancestors(db: &impl ConnectionTrait, code: &RegionCode) -> Result<Vec<Region>, DbErr> {
    let backend = db.get_database_backend();
    let param = if backend == DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!(
        "WITH RECURSIVE chain (code, depth) AS ( \
           SELECT parent_code, 1 FROM regions WHERE code = {param} \
           UNION ALL \
           SELECT r.parent_code, chain.depth + 1 FROM regions r JOIN chain ON r.code = chain.code \
           WHERE chain.depth < 8 \
         ) \
         SELECT regions.* FROM regions JOIN chain ON regions.code = chain.code \
         ORDER BY chain.depth DESC"
    );
    let models = region::Model::find_by_statement(Statement::from_sql_and_values(
        backend,
        sql,
        [code.as_str().into()],
    ))
    .all(db)
    .await?;
    to_regions(models)
}

#[derive(Debug, FromQueryResult)]
struct LevelCount {
    level: String,
    kind: Option<String>,
    n: i64,
}

/// How many units there are of one level (and kind) below a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescendantCount {
    pub level: Level,
    pub kind: Option<VillageKind>,
    pub count: u64,
}

/// How many units of each level (and, at village level, of each kind) lie below a region.
/// Only levels and kinds with at least one unit appear.
pub async fn descendant_counts(
    db: &impl ConnectionTrait,
    code: &RegionCode,
    level: Level,
) -> Result<Vec<DescendantCount>, DbErr> {
    let (lo, hi) = code.subtree_bounds(level);
    let rows = RegionEntity::find()
        .select_only()
        .column(Column::Level)
        .column(Column::Kind)
        .column_as(Expr::col(Column::Code).count(), "n")
        .filter(Column::Code.between(lo, hi))
        .filter(Column::Code.ne(code.as_str()))
        .group_by(Column::Level)
        .group_by(Column::Kind)
        .into_model::<LevelCount>()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(DescendantCount {
                level: row.level.parse().map_err(|e| DbErr::Type(format!("{e}")))?,
                kind: row
                    .kind
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| DbErr::Type(format!("{e}")))?,
                count: u64::try_from(row.n).unwrap_or(0),
            })
        })
        .collect()
}

/// The levels of those of `codes` that are stored.
pub async fn levels_of(
    db: &impl ConnectionTrait,
    codes: &[&RegionCode],
) -> Result<Vec<(RegionCode, Level)>, DbErr> {
    let mut out = Vec::new();
    for chunk in codes.chunks(500) {
        let found = RegionEntity::find()
            .filter(Column::Code.is_in(chunk.iter().map(|c| c.as_str())))
            .all(db)
            .await?;
        for model in found {
            let region = to_region(model)?;
            out.push((region.code, region.level));
        }
    }
    Ok(out)
}

/// Stored children of `parents` (in chunks), with their levels.
pub async fn children_of(
    db: &impl ConnectionTrait,
    parents: &[RegionCode],
) -> Result<Vec<Region>, DbErr> {
    let mut out = Vec::new();
    for chunk in parents.chunks(500) {
        let found = RegionEntity::find()
            .filter(Column::ParentCode.is_in(chunk.iter().map(RegionCode::as_str)))
            .order_by_asc(Column::Code)
            .all(db)
            .await?;
        out.extend(to_regions(found)?);
    }
    Ok(out)
}

/// True when no region is stored.
pub async fn is_empty(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(RegionEntity::find().one(db).await?.is_none())
}

/// What an edit of a region may change.
#[derive(Debug, Clone)]
pub struct RegionEdit {
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub population: Option<i64>,
    pub kind: Option<VillageKind>,
    pub kind_overridden: bool,
}

/// Writes `edit` over region `code` if it is still at `expected_version`, bumping the version.
/// `None` when the version moved on.
pub async fn update_if_version(
    db: &impl ConnectionTrait,
    code: &RegionCode,
    expected_version: i32,
    edit: RegionEdit,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Region>, DbErr> {
    let result = RegionEntity::update_many()
        .col_expr(Column::Longitude, Expr::value(edit.longitude))
        .col_expr(Column::Latitude, Expr::value(edit.latitude))
        .col_expr(Column::Population, Expr::value(edit.population))
        .col_expr(
            Column::Kind,
            Expr::value(edit.kind.map(|k| k.as_str().to_owned())),
        )
        .col_expr(Column::KindOverridden, Expr::value(edit.kind_overridden))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Code.eq(code.as_str()))
        .filter(Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    find(db, code).await
}

/// The stored rows of the regions with these codes (missing ones left out).
pub async fn find_models(
    db: &impl ConnectionTrait,
    codes: &[String],
) -> Result<Vec<region::Model>, DbErr> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    RegionEntity::find()
        .filter(Column::Code.is_in(codes.iter().cloned()))
        .all(db)
        .await
}

/// The stored row of a region, as the audit log records it.
pub async fn find_model(
    db: &impl ConnectionTrait,
    code: &RegionCode,
) -> Result<Option<region::Model>, DbErr> {
    RegionEntity::find_by_id(code.as_str().to_owned())
        .one(db)
        .await
}

/// The village-level units of a region's subtree (the region itself when it is a village),
/// in code order.
pub async fn villages_in(
    db: &impl ConnectionTrait,
    code: &RegionCode,
    level: Level,
) -> Result<Vec<Region>, DbErr> {
    let (lo, hi) = code.subtree_bounds(level);
    to_regions(
        RegionEntity::find()
            .filter(Column::Level.eq(Level::Village.as_str()))
            .filter(Column::Code.between(lo, hi))
            .order_by_asc(Column::Code)
            .all(db)
            .await?,
    )
}

/// Locks the rows of `codes` for the rest of the transaction (`FOR UPDATE` on PostgreSQL, in
/// code order so that concurrent lockers cannot deadlock; SQLite's write transaction holds the
/// whole database already).
pub async fn lock(db: &impl ConnectionTrait, codes: &[RegionCode]) -> Result<(), DbErr> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    let mut sorted: Vec<&str> = codes.iter().map(RegionCode::as_str).collect();
    sorted.sort_unstable();
    for chunk in sorted.chunks(500) {
        RegionEntity::find()
            .select_only()
            .column(Column::Code)
            .filter(Column::Code.is_in(chunk.iter().copied()))
            .order_by_asc(Column::Code)
            .lock_exclusive()
            .into_tuple::<String>()
            .all(db)
            .await?;
    }
    Ok(())
}

/// How many regions the database holds.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    RegionEntity::find().count(db).await
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The inclusive code range of `code`'s subtree (the region and everything below it), for
/// filtering rows by a `region` filter; `None` when there is no such region.
pub async fn subtree_range(
    db: &impl ConnectionTrait,
    code: &RegionCode,
) -> Result<Option<(String, String)>, DbErr> {
    Ok(find(db, code)
        .await?
        .map(|region| code.subtree_bounds(region.level)))
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(escape_like("孟庙"), "孟庙");
    }
}
