//! Queries over `village_surveys` (append-only: insert and read, never update).

use chrono::{DateTime, NaiveDate, Utc};
use entity::village_survey::{self, Column, Entity as Survey};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use crate::domain::region::RegionCode;
use crate::domain::survey::{SurveyFigures, SurveySource};

/// A survey to record.
#[derive(Debug, Clone)]
pub struct NewSurvey {
    pub region_code: RegionCode,
    pub figures: SurveyFigures,
    pub surveyed_on: NaiveDate,
    pub source: SurveySource,
    pub surveyed_by: Option<String>,
    pub notes: Option<String>,
}

fn narrow(v: Option<i64>) -> Option<i32> {
    // Figures were checked against MAX_COUNT, well inside i32.
    v.map(|v| i32::try_from(v).unwrap_or(i32::MAX))
}

/// Records a survey.
pub async fn insert(
    db: &impl ConnectionTrait,
    survey: NewSurvey,
    actor: Option<String>,
    now: DateTime<Utc>,
) -> Result<village_survey::Model, DbErr> {
    let f = survey.figures;
    Survey::insert(village_survey::ActiveModel {
        region_code: Set(survey.region_code.to_string()),
        surveyed_on: Set(survey.surveyed_on),
        eligible_total: Set(narrow(Some(f.eligible_total)).unwrap_or(0)),
        male: Set(narrow(f.male)),
        female: Set(narrow(f.female)),
        age_18_34: Set(narrow(f.age_18_34)),
        age_35_54: Set(narrow(f.age_35_54)),
        age_55_60: Set(narrow(f.age_55_60)),
        away_for_work: Set(narrow(f.away_for_work)),
        known_donors: Set(narrow(f.known_donors)),
        source: Set(survey.source.as_str().to_owned()),
        surveyed_by: Set(survey.surveyed_by),
        notes: Set(survey.notes),
        created_at: Set(now),
        created_by: Set(actor),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

/// A village's surveys, the current (latest by `surveyed_on`, then latest recorded) first.
pub async fn history(
    db: &impl ConnectionTrait,
    code: &RegionCode,
) -> Result<Vec<village_survey::Model>, DbErr> {
    Survey::find()
        .filter(Column::RegionCode.eq(code.as_str()))
        .order_by_desc(Column::SurveyedOn)
        .order_by_desc(Column::Id)
        .all(db)
        .await
}

/// A village's current survey.
pub async fn current(
    db: &impl ConnectionTrait,
    code: &RegionCode,
) -> Result<Option<village_survey::Model>, DbErr> {
    Survey::find()
        .filter(Column::RegionCode.eq(code.as_str()))
        .order_by_desc(Column::SurveyedOn)
        .order_by_desc(Column::Id)
        .one(db)
        .await
}

/// The current survey of every village in the code range `[lo, hi]`, in code order: one
/// range scan of the `(region_code, surveyed_on, id)` index, keeping the last row per village.
pub async fn current_in_range(
    db: &impl ConnectionTrait,
    lo: &str,
    hi: &str,
) -> Result<Vec<village_survey::Model>, DbErr> {
    let rows = Survey::find()
        .filter(Column::RegionCode.between(lo, hi))
        .order_by_asc(Column::RegionCode)
        .order_by_asc(Column::SurveyedOn)
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    let mut out: Vec<village_survey::Model> = Vec::new();
    for row in rows {
        match out.last_mut() {
            Some(last) if last.region_code == row.region_code => *last = row,
            _ => out.push(row),
        }
    }
    Ok(out)
}

/// A village with its location and current survey, as summaries need it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct VillageFact {
    pub code: String,
    pub name: String,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub eligible_total: Option<i32>,
    pub away_for_work: Option<i32>,
    pub known_donors: Option<i32>,
    pub surveyed_on: Option<NaiveDate>,
}

/// Every village-level unit in the code range `[lo, hi]` with its current survey (if any), in
/// code order.
///
/// One query: the current survey is picked by a window function, and the rows come back
/// packed as one JSON array (`json_group_array` / `json_agg`), because a city has thousands of
/// villages and fetching them as rows costs more than the query (measured: a 6,900-village
/// city's summary took 83 ms as two row queries, 44 ms as one, 40 ms packed; SQLite).
pub async fn village_facts(
    db: &impl ConnectionTrait,
    lo: &str,
    hi: &str,
) -> Result<Vec<VillageFact>, DbErr> {
    let backend = db.get_database_backend();
    let (pack, a, b, c, d) = match backend {
        sea_orm::DbBackend::Postgres => (
            "SELECT COALESCE(json_agg(json_build_object('code', code, 'name', name, 'longitude', longitude, \
             'latitude', latitude, 'eligible_total', eligible_total, 'away_for_work', away_for_work, \
             'known_donors', known_donors, 'surveyed_on', surveyed_on) ORDER BY code), '[]')::text AS facts",
            "$1",
            "$2",
            "$3",
            "$4",
        ),
        _ => (
            "SELECT json_group_array(json_object('code', code, 'name', name, 'longitude', longitude, \
             'latitude', latitude, 'eligible_total', eligible_total, 'away_for_work', away_for_work, \
             'known_donors', known_donors, 'surveyed_on', surveyed_on)) AS facts",
            "?",
            "?",
            "?",
            "?",
        ),
    };
    let sql = format!(
        "{pack} FROM ( \
           SELECT r.code, r.name, r.longitude, r.latitude, \
                  s.eligible_total, s.away_for_work, s.known_donors, s.surveyed_on \
           FROM regions r \
           LEFT JOIN ( \
               SELECT region_code, eligible_total, away_for_work, known_donors, surveyed_on, \
                      ROW_NUMBER() OVER (PARTITION BY region_code ORDER BY surveyed_on DESC, id DESC) AS rn \
               FROM village_surveys WHERE region_code BETWEEN {a} AND {b} \
           ) s ON s.region_code = r.code AND s.rn = 1 \
           WHERE r.level = 'village' AND r.code BETWEEN {c} AND {d} \
           ORDER BY r.code \
         ) facts"
    );
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [lo.into(), hi.into(), lo.into(), hi.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("village facts: no row".to_owned()))?;
    let packed: String = row.try_get("", "facts")?;
    let mut facts: Vec<VillageFact> =
        serde_json::from_str(&packed).map_err(|e| DbErr::Custom(format!("village facts: {e}")))?;
    // SQLite's json_group_array does not promise the subquery's order; make it certain.
    facts.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(facts)
}
