//! Import of a statistical division table: `code,name,level,parent_code`, optionally followed by
//! `longitude,latitude,population` columns (WGS-84; the demo data and survey sheets carry them).
//!
//! The import is all or nothing and idempotent:
//!
//! 1. **Validate** the whole file first, streaming, keeping only a compact index of the codes
//!    seen (`u64` code → level, row hash, line): about 30 MB for the whole country. A bad line
//!    stops the import with `line N: reason` before anything is written. Checks that need the
//!    whole file or the database (parents that come later or are already stored, parents that
//!    skip an existing unit in between) run at the end of this pass, and the earliest failing
//!    line is the one reported.
//! 2. **Write** in one transaction, re-reading the file (and refusing it if it changed), in
//!    batches sent as one JSON parameter each: a plain `INSERT` when the table was empty, else
//!    `INSERT … ON CONFLICT (code) DO UPDATE … WHERE <something differs>`, so that rows already
//!    stored as they are in the file are not touched and a second run writes nothing. The
//!    statement reports which rows were inserted and which updated. Updated rows are then
//!    checked against their stored children (a level change must not leave a child above its
//!    parent). If anything fails the transaction rolls back and the database is as it was.
//!
//! A file whose parents do not precede their children is written one level at a time so that
//! the foreign key on `parent_code` always finds its parent.
//!
//! Concurrency: on SQLite the write transaction is `BEGIN IMMEDIATE` (it waits for another
//! writer instead of failing half-way); readers (a running `serve`) keep reading the previous
//! state until the commit and see the whole import right after it.

use std::collections::HashMap;
use std::collections::hash_map::{DefaultHasher, Entry};
use std::fmt;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufReader, Read};
use std::path::Path;

use chrono::Utc;
use flate2::read::MultiGzDecoder;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::sea_query::Value;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use crate::domain::region::{Level, RegionCode, VillageKind};
use crate::store;

/// Rows per `INSERT` statement.
const BATCH_ROWS: usize = 20000;

/// Why an import was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A line of the file is invalid (line 1 is the header).
    #[error("line {line}: {reason}")]
    Line { line: u64, reason: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

fn line_err(line: u64, reason: impl Into<String>) -> ImportError {
    ImportError::Line {
        line,
        reason: reason.into(),
    }
}

/// What an import did to one level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LevelCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// What an import did, per level (indexed by [`Level::rank`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub levels: [LevelCounts; 5],
    /// Lines that repeat an earlier line exactly (same code, name, level and parent).
    pub duplicate_lines: u64,
}

impl ImportSummary {
    pub fn level(&self, level: Level) -> LevelCounts {
        self.levels[level.rank()]
    }

    pub fn total(&self) -> LevelCounts {
        self.levels
            .iter()
            .fold(LevelCounts::default(), |acc, c| LevelCounts {
                inserted: acc.inserted + c.inserted,
                updated: acc.updated + c.updated,
                unchanged: acc.unchanged + c.unchanged,
            })
    }

    /// True when the import wrote nothing (every row was already stored as it is).
    pub fn changed_nothing(&self) -> bool {
        let total = self.total();
        total.inserted == 0 && total.updated == 0
    }
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<10} {:>10} {:>10} {:>10}",
            "level", "inserted", "updated", "unchanged"
        )?;
        for level in Level::ALL {
            let c = self.level(level);
            writeln!(
                f,
                "{:<10} {:>10} {:>10} {:>10}",
                level.as_str(),
                c.inserted,
                c.updated,
                c.unchanged
            )?;
        }
        let t = self.total();
        write!(
            f,
            "{:<10} {:>10} {:>10} {:>10}",
            "total", t.inserted, t.updated, t.unchanged
        )?;
        if self.duplicate_lines > 0 {
            write!(f, "\n{} repeated line(s) ignored", self.duplicate_lines)?;
        }
        if self.changed_nothing() {
            write!(
                f,
                "\nnothing changed: the database already holds this table"
            )?;
        }
        Ok(())
    }
}

/// Options of one import run.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Draw a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
}

/// One validated line of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct DivisionRow {
    pub code: RegionCode,
    pub name: String,
    pub level: Level,
    pub parent: Option<RegionCode>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
    pub population: Option<i64>,
}

/// Column positions found in the header.
#[derive(Debug, Clone, Copy)]
struct Columns {
    code: usize,
    name: usize,
    level: usize,
    parent: usize,
    longitude: Option<usize>,
    latitude: Option<usize>,
    population: Option<usize>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Self, ImportError> {
        // Spreadsheets capitalise and pad headers; the csv crate already strips a UTF-8 BOM.
        let find = |name: &str| {
            header
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let required = |name: &str| {
            find(name).ok_or_else(|| {
                line_err(
                    1,
                    format!(
                        "the header has no `{name}` column (expected code,name,level,parent_code)"
                    ),
                )
            })
        };
        let columns = Columns {
            code: required("code")?,
            name: required("name")?,
            level: required("level")?,
            parent: required("parent_code")?,
            longitude: find("longitude"),
            latitude: find("latitude"),
            population: find("population"),
        };
        if columns.longitude.is_some() != columns.latitude.is_some() {
            return Err(line_err(
                1,
                "the header has only one of `longitude` and `latitude`",
            ));
        }
        Ok(columns)
    }
}

/// Parses and checks one record on its own (what can be checked without other lines).
fn parse_row(record: &csv::StringRecord, cols: &Columns) -> Result<DivisionRow, String> {
    let field = |i: usize| record.get(i).unwrap_or("").trim();
    let optional = |i: Option<usize>| i.map(field).filter(|s| !s.is_empty());

    let raw_code = field(cols.code);
    let code =
        RegionCode::parse(raw_code).map_err(|_| format!("code {raw_code:?} is not 12 digits"))?;
    let name = field(cols.name);
    if name.is_empty() {
        return Err(format!("region {code} has an empty name"));
    }
    if name.chars().any(char::is_control) {
        return Err(format!(
            "the name of region {code} contains a control character"
        ));
    }
    if name.chars().count() > 200 {
        return Err(format!(
            "region {code} has a name longer than 200 characters"
        ));
    }
    let raw_level = field(cols.level);
    let level: Level = raw_level.parse().map_err(|_| {
        format!(
            "unknown level {raw_level:?} (expected province, city, county, township or village)"
        )
    })?;
    if !code.is_padded_for(level) {
        return Err(format!(
            "code {code} does not fit level {level}: a {level} code ends in {} zeros",
            12 - level.prefix_len()
        ));
    }
    let parent = match field(cols.parent) {
        "" if level == Level::Province => None,
        "" => return Err(format!("{level} {code} has no parent_code")),
        _ if level == Level::Province => {
            return Err(format!("province {code} cannot have a parent"));
        }
        raw => {
            let parent = RegionCode::parse(raw)
                .map_err(|_| format!("parent_code {raw:?} is not 12 digits"))?;
            if parent == code {
                return Err(format!("region {code} is its own parent"));
            }
            Some(parent)
        }
    };
    let number = |i: Option<usize>, what: &str| -> Result<Option<f64>, String> {
        optional(i)
            .map(|s| {
                s.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("{what} {s:?} is not a number"))
            })
            .transpose()
    };
    let longitude = number(cols.longitude, "longitude")?;
    let latitude = number(cols.latitude, "latitude")?;
    match (longitude, latitude) {
        (Some(lon), Some(lat)) => {
            if !(-180.0..=180.0).contains(&lon) {
                return Err(format!("longitude {lon} is outside -180..180"));
            }
            if !(-90.0..=90.0).contains(&lat) {
                return Err(format!("latitude {lat} is outside -90..90"));
            }
        }
        (None, None) => {}
        _ => return Err("longitude and latitude must be given together".to_owned()),
    }
    let population = optional(cols.population)
        .map(|s| {
            s.parse::<i64>()
                .ok()
                .filter(|p| *p >= 0)
                .ok_or_else(|| format!("population {s:?} is not a non-negative whole number"))
        })
        .transpose()?;
    Ok(DivisionRow {
        code,
        name: name.to_owned(),
        level,
        parent,
        longitude,
        latitude,
        population,
    })
}

/// What the validation pass remembers of each code.
#[derive(Debug, Clone, Copy)]
struct Seen {
    level: Level,
    /// Hash of the whole row: tells an exact repeat from a conflicting one.
    fingerprint: u64,
    line: u64,
}

fn fingerprint(row: &DivisionRow) -> u64 {
    let mut h = DefaultHasher::new();
    (
        &row.name,
        row.level,
        row.parent.as_ref().map(RegionCode::as_str),
        row.longitude.map(f64::to_bits),
        row.latitude.map(f64::to_bits),
        row.population,
    )
        .hash(&mut h);
    h.finish()
}

/// A row's link to its parent, kept for the checks that need the whole file (or the database).
#[derive(Debug, Clone)]
struct ParentLink {
    line: u64,
    code: RegionCode,
    level: Level,
    parent: RegionCode,
}

/// The outcome of the validation pass.
struct Validated {
    columns: Columns,
    seen: HashMap<u64, Seen>,
    /// False when some child precedes its parent in the file.
    parents_first: bool,
    duplicate_lines: u64,
}

fn check_parent(
    line: u64,
    code: &RegionCode,
    level: Level,
    parent: &RegionCode,
    parent_level: Level,
) -> Result<(), ImportError> {
    if parent_level.rank() >= level.rank() {
        return Err(line_err(
            line,
            format!(
                "{level} {code} cannot sit below {parent_level} {parent}: a parent must be of a higher level"
            ),
        ));
    }
    if !code.is_under(parent, parent_level) {
        return Err(line_err(
            line,
            format!("code {code} does not start with the code prefix of its parent {parent}"),
        ));
    }
    Ok(())
}

/// Where a division table comes from: a file (`.csv` or `.csv.gz`) or bytes built into the
/// binary (the demo county).
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    File(&'a Path),
    Embedded {
        name: &'static str,
        csv: &'static [u8],
    },
}

impl Source<'_> {
    fn name(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Embedded { name, .. } => (*name).to_owned(),
        }
    }
}

fn open<'a>(
    source: Source<'a>,
    progress: &ProgressBar,
) -> Result<csv::Reader<Box<dyn Read + 'a>>, ImportError> {
    let path = match source {
        Source::Embedded { csv, .. } => {
            return Ok(csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(Box::new(csv)));
        }
        Source::File(path) => path,
    };
    let file = File::open(path).map_err(|source| ImportError::Io {
        path: path.display().to_string(),
        source,
    })?;
    if let Ok(meta) = file.metadata() {
        progress.set_length(meta.len());
    }
    progress.set_position(0);
    let raw = BufReader::with_capacity(256 * 1024, progress.wrap_read(file));
    let reader: Box<dyn Read> = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
    {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            MultiGzDecoder::new(raw),
        ))
    } else {
        Box::new(raw)
    };
    Ok(csv::ReaderBuilder::new().flexible(true).from_reader(reader))
}

fn csv_err(source: Source<'_>, err: csv::Error) -> ImportError {
    let line = err.position().map_or(0, csv::Position::line);
    match err.kind() {
        csv::ErrorKind::Io(_) => ImportError::Io {
            path: source.name(),
            source: std::io::Error::other(err.to_string()),
        },
        csv::ErrorKind::Utf8 { .. } => line_err(line, "the line is not valid UTF-8"),
        _ => line_err(line, err.to_string()),
    }
}

/// Pass 1: reads the whole file, checks every line, resolves parents.
async fn validate(
    db: &impl ConnectionTrait,
    source: Source<'_>,
    progress: &ProgressBar,
) -> Result<Validated, ImportError> {
    let mut reader = open(source, progress)?;
    let header = reader.headers().map_err(|e| csv_err(source, e))?.clone();
    let columns = Columns::from_header(&header)?;
    let mut seen: HashMap<u64, Seen> = HashMap::new();
    // Parents not seen yet, and links that skip a level (checked for a unit in between).
    let mut pending: Vec<ParentLink> = Vec::new();
    let mut skipping: Vec<(ParentLink, Level)> = Vec::new();
    let mut duplicate_lines = 0;
    let mut record = csv::StringRecord::new();
    let mut first_error: Option<ImportError> = None;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                first_error = Some(csv_err(source, e));
                break;
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let row = match parse_row(&record, &columns) {
            Ok(row) => row,
            Err(reason) => {
                first_error = Some(line_err(line, reason));
                break;
            }
        };
        let fp = fingerprint(&row);
        match seen.entry(row.code.as_u64()) {
            Entry::Occupied(earlier) => {
                let earlier = *earlier.get();
                if earlier.fingerprint == fp {
                    duplicate_lines += 1;
                    continue;
                }
                first_error = Some(line_err(
                    line,
                    format!(
                        "code {} appears again with another name, level or parent (first on line {})",
                        row.code, earlier.line
                    ),
                ));
                break;
            }
            Entry::Vacant(slot) => {
                slot.insert(Seen {
                    level: row.level,
                    fingerprint: fp,
                    line,
                });
            }
        }
        if let Some(parent) = row.parent {
            let link = ParentLink {
                line,
                code: row.code,
                level: row.level,
                parent,
            };
            match seen.get(&link.parent.as_u64()) {
                Some(p) => {
                    if let Err(e) =
                        check_parent(line, &link.code, link.level, &link.parent, p.level)
                    {
                        first_error = Some(e);
                        break;
                    }
                    if p.level.rank() + 1 < link.level.rank() {
                        skipping.push((link, p.level));
                    }
                }
                None => pending.push(link),
            }
        }
    }
    // Children read before their parent: check them now, and report whichever error comes
    // first in the file.
    let stop_line = match &first_error {
        Some(ImportError::Line { line, .. }) => *line,
        Some(_) => return Err(first_error.expect("matched Some")),
        None => u64::MAX,
    };
    pending.retain(|p| p.line < stop_line);
    skipping.retain(|(p, _)| p.line < stop_line);
    let parents_first = pending
        .iter()
        .all(|p| !seen.contains_key(&p.parent.as_u64()));
    let pending_error = resolve_links(db, &seen, &pending, skipping).await?;
    match (first_error, pending_error) {
        (Some(a), Some(b)) => Err(if line_of(&b) < line_of(&a) { b } else { a }),
        (Some(e), None) | (None, Some(e)) => Err(e),
        (None, None) => Ok(Validated {
            columns,
            seen,
            parents_first,
            duplicate_lines,
        }),
    }
}

fn line_of(err: &ImportError) -> u64 {
    match err {
        ImportError::Line { line, .. } => *line,
        _ => 0,
    }
}

/// The levels of `codes` that are stored, for those not in the file.
async fn stored_levels<'a>(
    db: &impl ConnectionTrait,
    seen: &HashMap<u64, Seen>,
    codes: impl Iterator<Item = &'a RegionCode>,
) -> Result<HashMap<u64, Level>, ImportError> {
    let mut missing: Vec<&RegionCode> = codes.filter(|c| !seen.contains_key(&c.as_u64())).collect();
    missing.sort();
    missing.dedup();
    Ok(store::regions::levels_of(db, &missing)
        .await?
        .into_iter()
        .map(|(code, level)| (code.as_u64(), level))
        .collect())
}

/// The checks that need the whole file or the database: parents that came later in the file
/// or are already stored, and links that skip a level (a township directly under its city),
/// which must not skip a unit that exists in between. Returns the earliest failing line.
async fn resolve_links(
    db: &impl ConnectionTrait,
    seen: &HashMap<u64, Seen>,
    pending: &[ParentLink],
    mut skipping: Vec<(ParentLink, Level)>,
) -> Result<Option<ImportError>, ImportError> {
    let stored = stored_levels(db, seen, pending.iter().map(|p| &p.parent)).await?;
    let level_of = |code: &RegionCode, stored: &HashMap<u64, Level>| {
        seen.get(&code.as_u64())
            .map(|s| s.level)
            .or_else(|| stored.get(&code.as_u64()).copied())
    };
    let mut errors: Vec<ImportError> = Vec::new();
    for p in pending {
        match level_of(&p.parent, &stored) {
            None => errors.push(line_err(
                p.line,
                format!(
                    "parent_code {} of {} is neither in the file nor in the database",
                    p.parent, p.code
                ),
            )),
            Some(parent_level) => {
                match check_parent(p.line, &p.code, p.level, &p.parent, parent_level) {
                    Err(e) => errors.push(e),
                    Ok(()) if parent_level.rank() + 1 < p.level.rank() => {
                        skipping.push((p.clone(), parent_level));
                    }
                    Ok(()) => {}
                }
            }
        }
    }
    let between: Vec<(ParentLink, Level, Vec<RegionCode>)> = skipping
        .into_iter()
        .map(|(link, parent_level)| {
            let candidates = link
                .code
                .intermediate_candidates(parent_level)
                .iter()
                .filter_map(|c| RegionCode::parse(c).ok())
                .collect();
            (link, parent_level, candidates)
        })
        .collect();
    let stored_between =
        stored_levels(db, seen, between.iter().flat_map(|(_, _, c)| c.iter())).await?;
    for (link, parent_level, candidates) in &between {
        if let Some((unit, unit_level)) = candidates
            .iter()
            .find_map(|c| level_of(c, &stored_between).map(|l| (c, l)))
        {
            errors.push(line_err(
                link.line,
                format!(
                    "{} {} names {parent_level} {} as its parent, but {unit_level} {unit} lies between them",
                    link.level, link.code, link.parent
                ),
            ));
        }
    }
    Ok(errors.into_iter().min_by_key(line_of))
}

/// How the batches are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteMode {
    /// The table was empty when the transaction began: a plain `INSERT`, every row new. About
    /// a seventh cheaper than the upsert on PostgreSQL, and the common first import. (A second
    /// import racing the first on PostgreSQL then fails on the primary key and writes nothing.)
    InsertOnly,
    /// Insert new codes, update changed ones, leave the rest alone.
    Upsert,
}

/// The batched write. A batch travels as **one** JSON parameter (an array of row arrays)
/// that the database unpacks (`json_each` on SQLite, `jsonb_array_elements` on PostgreSQL):
/// binding thousands of separate parameters is quadratic in sqlx's SQLite driver (each bind
/// looks the parameter's name up by a linear scan: 80% of the import's time when measured),
/// and one parameter also keeps PostgreSQL's statement small and its plan cached.
///
/// In the upsert, rows already stored as they are in the file fail the `WHERE` of
/// `DO UPDATE` and are left alone. Each result row says that `n` rows of `level` were
/// inserted or updated (inserted rows have `created_at = updated_at`; an update moves
/// `updated_at` only), with the updated `codes` comma-separated. PostgreSQL aggregates in a
/// data-modifying CTE so that a batch answers with a handful of rows; SQLite cannot aggregate
/// `RETURNING` and answers per row. An empty location or population cell leaves the stored
/// value: a sheet without a value must not erase one.
fn write_sql(backend: DbBackend, mode: WriteMode) -> String {
    let (distinct, source) = match backend {
        DbBackend::Postgres => (
            "IS DISTINCT FROM",
            "SELECT v->>0, v->>1, v->>2, v->>3, v->>4, (v->>5)::float8, (v->>6)::float8, \
             (v->>7)::int8, $2, $2 FROM jsonb_array_elements($1::jsonb) AS e(v)",
        ),
        // `WHERE true` resolves SQLite's parsing ambiguity between a join's ON and ON CONFLICT.
        _ => (
            "IS NOT",
            "SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, \
             value->>6, value->>7, ?2, ?2 FROM json_each(?1) WHERE true",
        ),
    };
    let mut sql = format!(
        "INSERT INTO regions (code, name, level, parent_code, kind, longitude, latitude, \
         population, created_at, updated_at) {source}"
    );
    if mode == WriteMode::InsertOnly {
        return sql;
    }
    sql.push_str(&format!(
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, \
         parent_code = excluded.parent_code, \
         kind = CASE WHEN regions.kind_overridden THEN regions.kind ELSE excluded.kind END, \
         longitude = COALESCE(excluded.longitude, regions.longitude), \
         latitude = COALESCE(excluded.latitude, regions.latitude), \
         population = COALESCE(excluded.population, regions.population), \
         updated_at = excluded.updated_at, version = regions.version + 1 \
         WHERE regions.name <> excluded.name \
         OR regions.level <> excluded.level \
         OR regions.parent_code {distinct} excluded.parent_code \
         OR (NOT regions.kind_overridden AND regions.kind {distinct} excluded.kind)"
    ));
    for col in ["longitude", "latitude", "population"] {
        sql.push_str(&format!(
            " OR (excluded.{col} IS NOT NULL AND regions.{col} {distinct} excluded.{col})"
        ));
    }
    match backend {
        DbBackend::Postgres => format!(
            "WITH written AS ({sql} RETURNING code, level, created_at = updated_at AS inserted) \
             SELECT level, inserted, count(*) AS n, \
             CASE WHEN inserted THEN NULL ELSE string_agg(code, ',') END AS codes \
             FROM written GROUP BY level, inserted"
        ),
        _ => format!(
            "{sql} RETURNING level, created_at = updated_at AS inserted, 1 AS n, code AS codes"
        ),
    }
}

/// One row as it travels in the batch's JSON array.
type JsonRow<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<f64>,
    Option<f64>,
    Option<i64>,
);

/// Rows waiting to be written, serialised into the batch's JSON text as they come.
struct Writer<'a, C: ConnectionTrait> {
    db: &'a C,
    backend: DbBackend,
    sql: String,
    now: chrono::DateTime<Utc>,
    batch: String,
    rows: usize,
    mode: WriteMode,
    /// Rows of each level in the current batch (what an insert-only batch inserts).
    batch_levels: [u64; 5],
    written: [LevelCounts; 5],
    /// Codes of the rows that were updated (not inserted), for the post-write checks.
    updated: Vec<RegionCode>,
}

impl<'a, C: ConnectionTrait> Writer<'a, C> {
    fn new(db: &'a C, mode: WriteMode) -> Self {
        let backend = db.get_database_backend();
        Writer {
            db,
            backend,
            sql: write_sql(backend, mode),
            mode,
            batch_levels: [0; 5],
            now: Utc::now(),
            batch: String::with_capacity(BATCH_ROWS * 128),
            rows: 0,
            written: Default::default(),
            updated: Vec::new(),
        }
    }

    async fn push(&mut self, row: &DivisionRow) -> Result<(), DbErr> {
        let kind =
            (row.level == Level::Village).then(|| VillageKind::from_name(&row.name).as_str());
        let json: JsonRow<'_> = (
            row.code.as_str(),
            &row.name,
            row.level.as_str(),
            row.parent.as_ref().map(RegionCode::as_str),
            kind,
            row.longitude,
            row.latitude,
            row.population,
        );
        self.batch.push(if self.rows == 0 { '[' } else { ',' });
        // Writing plain strings and numbers into a String cannot fail.
        let text = serde_json::to_string(&json).map_err(|e| DbErr::Custom(e.to_string()))?;
        self.batch.push_str(&text);
        self.rows += 1;
        self.batch_levels[row.level.rank()] += 1;
        if self.rows == BATCH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), DbErr> {
        if self.rows == 0 {
            return Ok(());
        }
        self.batch.push(']');
        let batch = std::mem::replace(&mut self.batch, String::with_capacity(BATCH_ROWS * 128));
        self.rows = 0;
        let values = vec![Value::from(batch), Value::from(self.now)];
        let batch_levels = std::mem::take(&mut self.batch_levels);
        let statement = Statement::from_sql_and_values(self.backend, self.sql.clone(), values);
        if self.mode == WriteMode::InsertOnly {
            self.db.execute_raw(statement).await?;
            for level in Level::ALL {
                self.written[level.rank()].inserted += batch_levels[level.rank()];
            }
            return Ok(());
        }
        let returned = self.db.query_all_raw(statement).await?;
        for row in returned {
            let level: String = row.try_get("", "level")?;
            let inserted: bool = row.try_get("", "inserted")?;
            let n: i64 = row.try_get("", "n")?;
            let n = u64::try_from(n).map_err(|e| DbErr::Type(format!("{e}")))?;
            let level: Level = level.parse().map_err(|e| DbErr::Type(format!("{e}")))?;
            let counts = &mut self.written[level.rank()];
            if inserted {
                counts.inserted += n;
            } else {
                counts.updated += n;
                let codes: Option<String> = row.try_get("", "codes")?;
                for code in codes.iter().flat_map(|c| c.split(',')) {
                    self.updated
                        .push(RegionCode::parse(code).map_err(|e| DbErr::Type(format!("{e}")))?);
                }
            }
        }
        Ok(())
    }
}

/// Imports the division table from `source` into the database: validates all of it, then writes
/// it in one transaction. See the module documentation.
///
/// # Errors
/// [`ImportError::Line`] for the first invalid line (nothing written); I/O and database errors
/// (the transaction is rolled back).
pub async fn import(
    db: &DatabaseConnection,
    source: Source<'_>,
    options: ImportOptions,
) -> Result<ImportSummary, ImportError> {
    let progress = progress_bar(options.progress);
    progress.set_message("checking");
    let started = std::time::Instant::now();
    let validated = validate(db, source, &progress).await?;
    tracing::debug!(rows = validated.seen.len(), elapsed = ?started.elapsed(), "division table checked");

    let mut per_level = [0u64; 5];
    for s in validated.seen.values() {
        per_level[s.level.rank()] += 1;
    }

    let txn = crate::db::begin_write(db).await?;
    let mode = if store::regions::is_empty(&txn).await? {
        WriteMode::InsertOnly
    } else {
        WriteMode::Upsert
    };
    let mut writer = Writer::new(&txn, mode);
    // One pass when parents come first (the official files do); else one pass per level.
    let passes: Vec<Option<Level>> = if validated.parents_first {
        vec![None]
    } else {
        Level::ALL.into_iter().map(Some).collect()
    };
    for only_level in passes {
        progress.set_message(match only_level {
            None => "writing".to_owned(),
            Some(level) => format!("writing {level}s"),
        });
        let mut reader = open(source, &progress)?;
        let mut record = csv::StringRecord::new();
        while reader
            .read_record(&mut record)
            .map_err(|e| csv_err(source, e))?
        {
            let line = record.position().map_or(0, csv::Position::line);
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            // The first pass checked this file; a row it did not see means the file changed
            // in between, and nothing of it may be written.
            let changed = || {
                line_err(
                    line,
                    "the file changed while it was being imported; run the import again",
                )
            };
            let row = parse_row(&record, &validated.columns).map_err(|_| changed())?;
            let seen = validated.seen.get(&row.code.as_u64()).ok_or_else(changed)?;
            if seen.fingerprint != fingerprint(&row) {
                return Err(changed());
            }
            if only_level.is_some_and(|l| l != row.level) {
                continue;
            }
            // Exact repeats were counted in the first pass; write each code once.
            if seen.line != line {
                continue;
            }
            writer.push(&row).await?;
        }
    }
    writer.flush().await?;
    let written = writer.written;
    check_stored_children(&txn, &validated.seen, &writer.updated).await?;
    tracing::debug!(elapsed = ?started.elapsed(), "division table written");
    txn.commit().await?;
    tracing::debug!(elapsed = ?started.elapsed(), "division import committed");
    progress.finish_and_clear();

    let mut summary = ImportSummary {
        duplicate_lines: validated.duplicate_lines,
        ..Default::default()
    };
    for level in Level::ALL {
        let w = written[level.rank()];
        summary.levels[level.rank()] = LevelCounts {
            inserted: w.inserted,
            updated: w.updated,
            unchanged: per_level[level.rank()].saturating_sub(w.inserted + w.updated),
        };
    }
    Ok(summary)
}

/// After the write, inside the transaction: a region whose level or parent the file changed
/// must still fit above its stored children that the file does not mention (a county turned
/// into a township would otherwise keep townships below it). Updates are rare, so this costs
/// nothing on a fresh or unchanged import.
async fn check_stored_children(
    txn: &impl ConnectionTrait,
    seen: &HashMap<u64, Seen>,
    updated: &[RegionCode],
) -> Result<(), ImportError> {
    let mut errors = Vec::new();
    for child in store::regions::children_of(txn, updated).await? {
        if seen.contains_key(&child.code.as_u64()) {
            continue; // checked against its parent in the first pass
        }
        let Some(parent) = child.parent_code.as_ref() else {
            continue;
        };
        let Some(parent_seen) = seen.get(&parent.as_u64()) else {
            continue;
        };
        if let Err(ImportError::Line { reason, .. }) = check_parent(
            parent_seen.line,
            &child.code,
            child.level,
            parent,
            parent_seen.level,
        ) {
            errors.push(line_err(
                parent_seen.line,
                format!("{parent} would no longer fit above its stored child: {reason}"),
            ));
        }
    }
    errors.into_iter().min_by_key(line_of).map_or(Ok(()), Err)
}

fn progress_bar(enabled: bool) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    // Draws only when stderr is a terminal.
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>9} [{bar:40}] {bytes}/{total_bytes} ({eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Columns {
        Columns::from_header(&csv::StringRecord::from(vec![
            "code",
            "name",
            "level",
            "parent_code",
            "longitude",
            "latitude",
            "population",
        ]))
        .unwrap()
    }

    fn parse(fields: &[&str]) -> Result<DivisionRow, String> {
        parse_row(&csv::StringRecord::from(fields.to_vec()), &cols())
    }

    #[test]
    fn headers_are_found_whatever_their_case_and_padding() {
        let header = csv::StringRecord::from(vec![" Code", "NAME", "level ", "Parent_Code"]);
        let cols = Columns::from_header(&header).unwrap();
        assert_eq!(
            (cols.code, cols.name, cols.level, cols.parent),
            (0, 1, 2, 3)
        );
        assert!(cols.longitude.is_none());
        let missing = csv::StringRecord::from(vec!["code", "name", "level"]);
        let err = Columns::from_header(&missing).unwrap_err().to_string();
        assert!(
            err.starts_with("line 1: ") && err.contains("parent_code"),
            "{err}"
        );
    }

    #[test]
    fn a_valid_village_row_parses() {
        let row = parse(&[
            "411103101201",
            "大刘村委会",
            "village",
            "411103101000",
            "114.01",
            "33.52",
            "1520",
        ])
        .unwrap();
        assert_eq!(row.level, Level::Village);
        assert_eq!(row.parent.unwrap().as_str(), "411103101000");
        assert_eq!(
            (row.longitude, row.latitude, row.population),
            (Some(114.01), Some(33.52), Some(1520))
        );
    }

    #[test]
    fn invalid_rows_are_refused_with_a_reason() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["41110310120", "x", "village", "411103101000", "", "", ""],
                "not 12 digits",
            ),
            (
                &["411103101201", "x", "hamlet", "411103101000", "", "", ""],
                "unknown level",
            ),
            (
                &["411103101201", "", "village", "411103101000", "", "", ""],
                "empty name",
            ),
            (
                &["411103101201", "x", "township", "411103000000", "", "", ""],
                "does not fit level",
            ),
            (
                &["411103101201", "x", "village", "", "", "", ""],
                "no parent_code",
            ),
            (
                &["410000000000", "x", "province", "420000000000", "", "", ""],
                "cannot have a parent",
            ),
            (
                &["411103101201", "x", "village", "41110310100x", "", "", ""],
                "parent_code \"41110310100x\" is not 12 digits",
            ),
            (
                &[
                    "411103101201",
                    "x",
                    "village",
                    "411103101000",
                    "114",
                    "",
                    "",
                ],
                "together",
            ),
            (
                &[
                    "411103101201",
                    "x",
                    "village",
                    "411103101000",
                    "190",
                    "33",
                    "",
                ],
                "outside",
            ),
            (
                &["411103101201", "x", "village", "411103101000", "", "", "-3"],
                "population \"-3\" is not a non-negative whole number",
            ),
        ];
        for (fields, expected) in cases {
            let err = parse(fields).unwrap_err();
            assert!(
                err.contains(expected),
                "{fields:?}: {err:?} should mention {expected:?}"
            );
        }
    }

    #[test]
    fn summary_reports_when_nothing_changed() {
        let mut summary = ImportSummary::default();
        summary.levels[Level::Village.rank()].unchanged = 3;
        assert!(summary.changed_nothing());
        assert!(summary.to_string().contains("nothing changed"));
        summary.levels[Level::Village.rank()].updated = 1;
        assert!(!summary.changed_nothing());
    }
}
