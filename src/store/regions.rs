//! Queries over `regions`.
//!
//! Subtrees are code ranges (see `domain::region`), so every query here is an index range scan:
//! children via `(parent_code, code)`, a level within a subtree via `(level, code)`, and
//! ancestors via primary-key lookups of the prefix-derived candidate codes.

use entity::region::{self, Column, Entity as Region};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::domain::region::{Level, RegionCode};

/// What to list: the direct children of a region (or the roots), or, when a level or a name
/// fragment is given, matching units anywhere below the region.
#[derive(Debug, Clone, Default)]
pub struct RegionFilter {
    /// The region whose children or subtree to list, with its level; `None` for the roots.
    pub parent: Option<(RegionCode, Level)>,
    pub level: Option<Level>,
    /// A fragment of the name, matched literally (no wildcards).
    pub name_contains: Option<String>,
    /// Only codes after this one (the cursor).
    pub after: Option<RegionCode>,
    pub limit: u64,
}

/// Finds one region by code.
pub async fn find(
    db: &impl ConnectionTrait,
    code: &RegionCode,
) -> Result<Option<region::Model>, DbErr> {
    Region::find_by_id(code.as_str().to_owned()).one(db).await
}

/// Lists regions by `filter`, in code order, at most `filter.limit` of them.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &RegionFilter,
) -> Result<Vec<region::Model>, DbErr> {
    let subtree_query = filter.level.is_some() || filter.name_contains.is_some();
    let mut query = Region::find();
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
        let pattern = format!("%{}%", escape_like(fragment));
        query = query.filter(Expr::col(Column::Name).like(LikeExpr::new(pattern).escape('\\')));
    }
    if let Some(after) = &filter.after {
        query = query.filter(Column::Code.gt(after.as_str()));
    }
    query
        .order_by_asc(Column::Code)
        .limit(filter.limit)
        .all(db)
        .await
}

/// The ancestors of a region, from the province down to its parent.
pub async fn ancestors(
    db: &impl ConnectionTrait,
    code: &RegionCode,
) -> Result<Vec<region::Model>, DbErr> {
    let candidates = code.ancestor_candidates();
    if candidates.is_empty() {
        return Ok(vec![]);
    }
    Region::find()
        .filter(Column::Code.is_in(candidates))
        .order_by_asc(Column::Code)
        .all(db)
        .await
}

#[derive(Debug, FromQueryResult)]
struct LevelCount {
    level: String,
    kind: Option<String>,
    n: i64,
}

/// How many units of each level (and, at village level, of each kind) lie below a region.
/// Only levels and kinds with at least one unit appear.
pub async fn descendant_counts(
    db: &impl ConnectionTrait,
    code: &RegionCode,
    level: Level,
) -> Result<Vec<(Level, Option<String>, u64)>, DbErr> {
    let (lo, hi) = code.subtree_bounds(level);
    let rows = Region::find()
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
    let mut counts: Vec<(Level, Option<String>, u64)> = rows
        .into_iter()
        .filter_map(|row| {
            let level = row.level.parse().ok()?;
            Some((level, row.kind, u64::try_from(row.n).unwrap_or(0)))
        })
        .collect();
    counts.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(counts)
}

/// How many regions the database holds.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Region::find().count(db).await
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\'` pattern.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
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
