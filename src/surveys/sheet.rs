//! Survey sheets: the CSV and XLSX files in which township health officials report, one row per
//! village, how many people of donor age live there and who was asked.
//!
//! This module owns the sheet format and nothing else: it turns uploaded bytes into typed
//! [`SheetRow`]s ([`parse_sheet`]) and typed [`ExportRow`]s into a sheet to download and fill in
//! ([`write_csv`], [`write_xlsx`]). A downloaded sheet can be filled in and uploaded back as it
//! is: the export columns are exactly the import columns.
//!
//! It checks each cell on its own: types, counts `>= 0`, one-of values, dates, coordinates in
//! range and given in pairs, a village identified by code or name. It does **not** resolve
//! villages (codes and names are checked against the database by the caller, within the
//! township of the import), apply cross-field business rules (sub-counts adding up or staying
//! below `eligible_total`, future dates, large changes against the previous survey), store
//! anything, or speak HTTP.
//!
//! The sheet: a header row naming the columns, then one row per village; empty rows are
//! skipped. A downloaded sheet is headed in the reader's language (the catalogue's
//! `survey-col-*`: Chinese by default, English on request), and its sources are written in
//! that language too (`survey-source-*`). Read back are the headers of either language, the
//! canonical names (`village_code`, …) and the older Chinese aliases, any case, surrounding
//! spaces ignored; sources likewise. Unknown columns are refused (typo protection). CSV must
//! be UTF-8 (a BOM is fine); in XLSX the worksheet named as a downloaded sheet names it
//! (`村调查`, `Surveys` or `surveys`) is read, or else the first one.

use std::fmt;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ColNum, Format, Workbook, XlsxError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::region::RegionCode;
use crate::domain::rounding::{self, Measure};
use crate::i18n::Lang;

/// The worksheet name sheets had before it came from the catalogue (`survey-sheet`): still
/// preferred by [`parse_sheet`], as the catalogue's names are.
const OLD_SHEET_NAME: &str = "surveys";

/// The UTF-8 byte order mark, which makes Excel read a CSV file as UTF-8.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The MIME type of an XLSX workbook.
const XLSX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Survey sources: the canonical value and its older Chinese alias (a downloaded sheet writes
/// the catalogue's `survey-source-<value>`; all of them are read back).
const SOURCES: [(&str, &str); 4] = [
    ("household_register", "户籍"),
    ("village_doctor", "村医"),
    ("committee_estimate", "村委估计"),
    ("other", "其他"),
];

/// The file format of a survey sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    /// Comma-separated values, UTF-8 (with or without a BOM).
    Csv,
    /// An Office Open XML workbook (`.xlsx`).
    Xlsx,
}

impl SheetFormat {
    /// The format of an upload from its declared content type (`text/csv`, the XLSX MIME type;
    /// parameters such as `; charset=utf-8` are ignored) or else its file name (`*.csv`,
    /// `*.xlsx`, any case). A content type that names neither (browsers on Windows send
    /// `application/vnd.ms-excel` for CSV files, others `application/octet-stream`) defers to
    /// the file name. `None` when neither tells.
    pub fn from_content_type_or_name(
        content_type: Option<&str>,
        file_name: Option<&str>,
    ) -> Option<Self> {
        let by_type = content_type.and_then(|ct| {
            let essence = ct.split(';').next().unwrap_or_default().trim();
            if essence.eq_ignore_ascii_case("text/csv") {
                Some(Self::Csv)
            } else if essence.eq_ignore_ascii_case(XLSX_CONTENT_TYPE) {
                Some(Self::Xlsx)
            } else {
                None
            }
        });
        by_type.or_else(|| {
            let name = file_name?.trim();
            let (_, ext) = name.rsplit_once('.')?;
            if ext.eq_ignore_ascii_case("csv") {
                Some(Self::Csv)
            } else if ext.eq_ignore_ascii_case("xlsx") {
                Some(Self::Xlsx)
            } else {
                None
            }
        })
    }
}

/// One village's survey as read from a sheet, each cell checked on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetRow {
    /// 1-based sheet row number (the header is row 1), for messages about this row.
    pub row: usize,
    /// The 12-digit division code; at least one of code and name is present.
    pub village_code: Option<String>,
    /// The official village name, to be resolved within the township of the import.
    pub village_name: Option<String>,
    /// People of donor age (18–60) living in the village.
    pub eligible_total: i64,
    pub male: Option<i64>,
    pub female: Option<i64>,
    pub age_18_34: Option<i64>,
    pub age_35_54: Option<i64>,
    pub age_55_60: Option<i64>,
    /// Of the eligible, how many are away for work most of the year.
    pub away_for_work: Option<i64>,
    /// Of the eligible, how many are known to have given blood.
    pub known_donors: Option<i64>,
    pub surveyed_on: NaiveDate,
    /// The canonical English source: `household_register`, `village_doctor`,
    /// `committee_estimate` or `other`.
    pub source: String,
    pub surveyed_by: Option<String>,
    pub notes: Option<String>,
    /// WGS-84 longitude; present exactly when `latitude` is.
    pub longitude: Option<f64>,
    /// WGS-84 latitude; present exactly when `longitude` is.
    pub latitude: Option<f64>,
    /// The official confirms a large change against the previous survey (false when blank).
    pub confirm_large_change: bool,
}

/// Why one cell (or the header, or the file) was refused.
///
/// Header errors use the header's row (row 1) and the column name as written as `field`.
/// Errors about the whole file (not a workbook, an empty sheet) use row 1 and the field
/// `file` or `header`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CellError {
    /// 1-based sheet row number, as Excel shows it.
    pub row: usize,
    /// The canonical column name (or the unknown header as written).
    pub field: String,
    /// What is wrong, for the official who fills in the sheet.
    pub message: String,
}

impl CellError {
    fn new(row: usize, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}, {}: {}", self.row, self.field, self.message)
    }
}

/// One village's row in a downloaded sheet: the village and, when it has one, its latest
/// survey. A village without a survey yet (`eligible_total: None` and so on) is a template row
/// to be filled in.
#[derive(Debug, Clone, Default)]
pub struct ExportRow {
    pub village_code: String,
    pub village_name: String,
    pub eligible_total: Option<i64>,
    pub male: Option<i64>,
    pub female: Option<i64>,
    pub age_18_34: Option<i64>,
    pub age_35_54: Option<i64>,
    pub age_55_60: Option<i64>,
    pub away_for_work: Option<i64>,
    pub known_donors: Option<i64>,
    pub surveyed_on: Option<NaiveDate>,
    pub source: Option<String>,
    pub surveyed_by: Option<String>,
    pub notes: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

/// A column of the sheet, in export order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    VillageCode,
    VillageName,
    EligibleTotal,
    Male,
    Female,
    Age18To34,
    Age35To54,
    Age55To60,
    AwayForWork,
    KnownDonors,
    SurveyedOn,
    Source,
    SurveyedBy,
    Notes,
    Longitude,
    Latitude,
    ConfirmLargeChange,
}

impl Col {
    const ALL: [Col; 17] = [
        Col::VillageCode,
        Col::VillageName,
        Col::EligibleTotal,
        Col::Male,
        Col::Female,
        Col::Age18To34,
        Col::Age35To54,
        Col::Age55To60,
        Col::AwayForWork,
        Col::KnownDonors,
        Col::SurveyedOn,
        Col::Source,
        Col::SurveyedBy,
        Col::Notes,
        Col::Longitude,
        Col::Latitude,
        Col::ConfirmLargeChange,
    ];

    /// The columns of a downloaded sheet: all but `confirm_large_change`, which only an
    /// upload answering a warning carries.
    fn exported() -> &'static [Col] {
        &Self::ALL[..Self::ALL.len() - 1]
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The canonical (English) header.
    fn name(self) -> &'static str {
        match self {
            Col::VillageCode => "village_code",
            Col::VillageName => "village_name",
            Col::EligibleTotal => "eligible_total",
            Col::Male => "male",
            Col::Female => "female",
            Col::Age18To34 => "age_18_34",
            Col::Age35To54 => "age_35_54",
            Col::Age55To60 => "age_55_60",
            Col::AwayForWork => "away_for_work",
            Col::KnownDonors => "known_donors",
            Col::SurveyedOn => "surveyed_on",
            Col::Source => "source",
            Col::SurveyedBy => "surveyed_by",
            Col::Notes => "notes",
            Col::Longitude => "longitude",
            Col::Latitude => "latitude",
            Col::ConfirmLargeChange => "confirm_large_change",
        }
    }

    /// The header of a downloaded sheet in `lang` (the catalogue's `survey-col-<name>`).
    fn header(self, lang: Lang) -> String {
        lang.t(&format!("survey-col-{}", self.name()))
    }

    /// Older headers, still accepted (the Chinese headers sheets had before the catalogue).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Col::VillageCode => &["村代码", "代码"],
            Col::VillageName => &["村名", "名称"],
            Col::EligibleTotal => &["适龄人数"],
            Col::Male => &["男"],
            Col::Female => &["女"],
            Col::Age18To34 => &["18-34岁"],
            Col::Age35To54 => &["35-54岁"],
            Col::Age55To60 => &["55-60岁"],
            Col::AwayForWork => &["外出务工"],
            Col::KnownDonors => &["献过血人数"],
            Col::SurveyedOn => &["调查日期"],
            Col::Source => &["来源"],
            Col::SurveyedBy => &["调查人"],
            Col::Notes => &["备注"],
            Col::Longitude => &["经度"],
            Col::Latitude => &["纬度"],
            Col::ConfirmLargeChange => &["确认大幅变化"],
        }
    }

    fn required(self) -> bool {
        matches!(self, Col::EligibleTotal | Col::SurveyedOn | Col::Source)
    }

    /// The column a header names: trimmed, case-insensitive, the canonical name, the header
    /// of either language, or an older alias.
    fn from_header(header: &str) -> Option<Col> {
        let key = header.trim().to_lowercase();
        Self::ALL.into_iter().find(|c| {
            c.name() == key
                || Lang::ALL
                    .iter()
                    .any(|&lang| c.header(lang).to_lowercase() == key)
                || c.aliases().contains(&key.as_str())
        })
    }
}

/// One cell as read, before its column's rules apply.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Empty,
    /// Trimmed, never empty.
    Text(String),
    Number(f64),
    Bool(bool),
    /// An XLSX date cell.
    Date(NaiveDate),
    /// A cell that holds no usable value (an Excel error such as `#N/A`); the message says why.
    Bad(String),
}

static EMPTY: Value = Value::Empty;

impl Value {
    fn text(s: &str) -> Self {
        let s = s.trim();
        if s.is_empty() {
            Value::Empty
        } else {
            Value::Text(s.to_owned())
        }
    }

    fn from_xlsx(cell: &Data) -> Self {
        match cell {
            Data::Empty => Value::Empty,
            Data::String(s) | Data::DurationIso(s) => Value::text(s),
            // Counts and 12-digit codes are exact in an f64.
            Data::Int(i) => Value::Number(*i as f64),
            Data::Float(f) => Value::Number(*f),
            Data::Bool(b) => Value::Bool(*b),
            Data::DateTime(dt) if dt.is_duration() => {
                Value::Bad("a duration, not a date or a number".to_owned())
            }
            Data::DateTime(dt) => match excel_date(dt) {
                Ok(d) => Value::Date(d),
                Err(e) => Value::Bad(e),
            },
            Data::DateTimeIso(s) => s
                .get(..10)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .map_or_else(|| Value::text(s), Value::Date),
            Data::Error(e) => Value::Bad(format!("the cell holds the Excel error {e}")),
        }
    }

    fn is_empty(&self) -> bool {
        *self == Value::Empty
    }

    /// The value as quoted in a message.
    fn describe(&self) -> String {
        match self {
            Value::Empty => "an empty cell".to_owned(),
            Value::Text(s) => quote_bounded(s),
            Value::Number(f) => format_number(*f),
            Value::Bool(b) => b.to_string(),
            Value::Date(d) => format!("the date {}", d.format("%Y-%m-%d")),
            Value::Bad(m) => m.clone(),
        }
    }
}

/// A number as a person would write it: whole numbers (such as codes typed as numbers) without
/// a decimal point or exponent.
fn format_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

/// The most characters of a value repeated in a message. A cell holds up to 32,767 characters,
/// and messages that repeated a cell whole (an unknown header, twice) made answers of gigabytes.
pub const MAX_QUOTED_CHARS: usize = 40;

/// `s` cut to [`MAX_QUOTED_CHARS`] characters, with `…` when cut: what a message may repeat of
/// a value someone else chose.
pub(crate) fn shorten(s: &str) -> String {
    match s.char_indices().nth(MAX_QUOTED_CHARS) {
        None => s.to_owned(),
        Some((end, _)) => format!("{}…", &s[..end]),
    }
}

/// `s` in quotes for a message, cut as [`shorten`] does; a cut value says how long it was.
pub(crate) fn quote_bounded(s: &str) -> String {
    let short = shorten(s);
    if short.len() == s.len() {
        format!("\"{s}\"")
    } else {
        format!("\"{short}\" ({} characters)", s.chars().count())
    }
}

/// Excel's column letters for a 0-based column index (0 → `A`, 26 → `AA`).
fn column_letters(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// A sheet as read: its rows with their sheet row numbers, the header among them.
struct Grid {
    rows: Vec<(usize, Vec<Value>)>,
    /// 0-based sheet column of each row's first cell.
    first_col: usize,
    /// XLSX only: day numbers count from 1904 rather than 1900.
    is_1904: bool,
}

/// Reads a survey sheet into typed rows, checking every cell on its own.
///
/// The first non-empty row is the header; empty rows are skipped. Each returned row carries its
/// sheet row number.
///
/// # Errors
/// Every problem found: a header problem (unknown, duplicated or missing columns) stops before
/// the rows are read; otherwise every bad cell of every row is reported, with its row number
/// and column. A CSV file that is not UTF-8 gets one error at the first row that is not, and an
/// unreadable file one error for the file.
pub fn parse_sheet(bytes: &[u8], format: SheetFormat) -> Result<Vec<SheetRow>, Vec<CellError>> {
    let grid = match format {
        SheetFormat::Csv => read_csv(bytes)?,
        SheetFormat::Xlsx => read_xlsx(bytes)?,
    };
    parse_grid(&grid)
}

fn read_csv(bytes: &[u8]) -> Result<Grid, Vec<CellError>> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows: Vec<(usize, Vec<Value>)> = Vec::new();
    // The csv reader counts lines; Excel counts records, and a quoted cell can span lines.
    let mut lines_inside_cells = 0usize;
    for record in reader.byte_records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(1, |p| p.line());
            vec![CellError::new(
                usize::try_from(line).unwrap_or(usize::MAX),
                "file",
                format!("unreadable CSV: {e}"),
            )]
        })?;
        let row = csv_record_line(bytes, record.position()).saturating_sub(lines_inside_cells);
        let mut cells = Vec::with_capacity(record.len());
        for (i, field) in record.iter().enumerate() {
            let Ok(text) = std::str::from_utf8(field) else {
                return Err(vec![not_utf8(row, csv_field_name(&rows, i))]);
            };
            cells.push(Value::text(text));
            lines_inside_cells += field.iter().filter(|&&b| b == b'\n').count();
        }
        rows.push((row, cells));
    }
    Ok(Grid {
        rows,
        first_col: 0,
        is_1904: false,
    })
}

/// The 1-based line on which a CSV record starts. The reader reports the position from before
/// the blank lines it skipped, so those are counted here.
fn csv_record_line(bytes: &[u8], position: Option<&csv::Position>) -> usize {
    let Some(position) = position else {
        return 1;
    };
    let line = usize::try_from(position.line()).unwrap_or(usize::MAX);
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let skipped = bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .filter(|&&b| b == b'\n')
        .count();
    line.saturating_add(skipped)
}

/// The column a CSV field is in, by the header read so far (or `header` while reading it).
fn csv_field_name(rows: &[(usize, Vec<Value>)], index: usize) -> String {
    let header = rows
        .iter()
        .find(|(_, cells)| cells.iter().any(|v| !v.is_empty()));
    match header.and_then(|(_, cells)| cells.get(index)) {
        None => "header".to_owned(),
        Some(Value::Text(h)) => {
            Col::from_header(h).map_or_else(|| shorten(h), |c| c.name().to_owned())
        }
        Some(_) => format!("column {}", column_letters(index)),
    }
}

fn not_utf8(row: usize, field: String) -> CellError {
    CellError::new(
        row,
        field,
        "the file is not UTF-8 text (probably GBK/ANSI): in Excel, save it with \
         \"Save As\" → \"CSV UTF-8 (Comma delimited)\" (另存为 → CSV UTF-8(逗号分隔)), \
         or upload the XLSX sheet",
    )
}

/// The largest sheet accepted: far more than a county's villages.
pub const MAX_SHEET_ROWS: u32 = 20_000;
/// Columns beyond the known ones are refused anyway; this bounds what is read.
pub const MAX_SHEET_COLUMNS: u32 = 64;

fn read_xlsx(bytes: &[u8]) -> Result<Grid, Vec<CellError>> {
    let file_error = |message: String| vec![CellError::new(1, "file", message)];
    // The container is bounded before any part of it is read (a zip of XML expands a
    // thousandfold: see `workbook`).
    super::workbook::check(bytes).map_err(file_error)?;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| file_error(format!("not a readable XLSX workbook: {e}")))?;
    let names = workbook.sheet_names();
    let ours: Vec<String> = Lang::ALL
        .iter()
        .map(|lang| lang.t("survey-sheet"))
        .chain([OLD_SHEET_NAME.to_owned()])
        .collect();
    let name = names
        .iter()
        .find(|n| ours.iter().any(|o| n.trim().eq_ignore_ascii_case(o)))
        .or_else(|| names.first())
        .cloned()
        .ok_or_else(|| file_error("the workbook has no worksheet".to_owned()))?;
    let is_1904 = workbook.has_1904_epoch();
    // Cells are streamed and bounded before any grid is built: a workbook is a zip of XML,
    // and two cells at A1 and XFD1048576 would otherwise make calamine allocate the whole
    // sheet (tens of billions of cells) for a file of a few hundred bytes.
    let unreadable = |e: calamine::XlsxError| {
        file_error(format!(
            "cannot read the worksheet {}: {e}",
            quote_bounded(&name)
        ))
    };
    let mut reader = workbook.worksheet_cells_reader(&name).map_err(unreadable)?;
    let mut cells = Vec::new();
    while let Some(cell) = reader.next_cell().map_err(unreadable)? {
        let (row, col) = cell.get_position();
        if row >= MAX_SHEET_ROWS || col >= MAX_SHEET_COLUMNS {
            return Err(file_error(format!(
                "the sheet is too large: at most {MAX_SHEET_ROWS} rows and {MAX_SHEET_COLUMNS} columns \
                 (found a cell at row {}, column {})",
                row + 1,
                col + 1
            )));
        }
        let value = Data::from(cell.get_value().clone());
        if !matches!(value, Data::Empty) {
            cells.push(calamine::Cell::new((row, col), value));
        }
    }
    drop(reader);
    let range = calamine::Range::from_sparse(cells);
    let Some((first_row, first_col)) = range.start() else {
        return Ok(Grid {
            rows: Vec::new(),
            first_col: 0,
            is_1904,
        });
    };
    let first_row = first_row as usize;
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let cells = cells.iter().map(Value::from_xlsx).collect();
            (first_row + i + 1, cells)
        })
        .collect();
    Ok(Grid {
        rows,
        first_col: first_col as usize,
        is_1904,
    })
}

/// The date of an Excel serial date-time (days since the workbook's epoch); the time of day is
/// dropped.
fn excel_date(dt: &calamine::ExcelDateTime) -> Result<NaiveDate, String> {
    let serial = dt.as_f64();
    let invalid = || format!("{} is not a date Excel knows", format_number(serial));
    // Excel's dates run up to 9999-12-31, day 2958465 of the 1900 system.
    if !(0.0..2_958_466.0).contains(&serial) {
        return Err(invalid());
    }
    let (year, month, day, ..) = dt.to_ymd_hms_milli();
    // Day 0 of the 1900 system (1900-01-00) and day 60 (Excel's 1900-02-29) are no dates.
    NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day)).ok_or_else(invalid)
}

fn parse_grid(grid: &Grid) -> Result<Vec<SheetRow>, Vec<CellError>> {
    let mut rows = grid
        .rows
        .iter()
        .filter(|(_, cells)| cells.iter().any(|v| !v.is_empty()));
    let Some((header_row, header)) = rows.next() else {
        return Err(vec![CellError::new(
            1,
            "header",
            "the sheet is empty: its first row must name the columns (village_code or \
             village_name, eligible_total, surveyed_on, source, …)",
        )]);
    };
    let columns = map_header(*header_row, header, grid.first_col)?;

    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for (row, cells) in rows {
        let mut values = [&EMPTY; Col::ALL.len()];
        for (i, value) in cells.iter().enumerate() {
            if value.is_empty() {
                continue;
            }
            match columns.get(i).copied().flatten() {
                Some(col) => values[col.index()] = value,
                None => errors.push(CellError::new(
                    *row,
                    format!("column {}", column_letters(grid.first_col + i)),
                    format!(
                        "{} is in a column without a header: name the column in the header \
                         row or clear the cell",
                        value.describe()
                    ),
                )),
            }
        }
        if let Some(parsed_row) = parse_row(*row, &values, grid.is_1904, &mut errors) {
            parsed.push(parsed_row);
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

/// The column of each header cell (`None` for blank header cells).
fn map_header(
    row: usize,
    header: &[Value],
    first_col: usize,
) -> Result<Vec<Option<Col>>, Vec<CellError>> {
    let mut errors = Vec::new();
    let mut columns = Vec::with_capacity(header.len());
    let mut seen: [Option<String>; Col::ALL.len()] = Default::default();
    for (i, cell) in header.iter().enumerate() {
        let text = match cell {
            Value::Empty => {
                columns.push(None);
                continue;
            }
            Value::Text(s) => s.clone(),
            other => other.describe(),
        };
        let col = Col::from_header(&text);
        match col {
            Some(col) => match &seen[col.index()] {
                Some(first) => errors.push(CellError::new(
                    row,
                    col.name(),
                    format!(
                        "column {} appears twice ({} and {})",
                        col.name(),
                        quote_bounded(first),
                        quote_bounded(&text)
                    ),
                )),
                None => seen[col.index()] = Some(text),
            },
            None => errors.push(CellError::new(
                row,
                shorten(&text),
                format!(
                    "unknown column {} (column {}); the columns are: {}",
                    quote_bounded(&text),
                    column_letters(first_col + i),
                    Col::ALL.map(Col::name).join(", ")
                ),
            )),
        }
        columns.push(col);
    }
    for col in Col::ALL.into_iter().filter(|c| c.required()) {
        if seen[col.index()].is_none() {
            errors.push(CellError::new(
                row,
                col.name(),
                format!("the required column {} is missing", col.name()),
            ));
        }
    }
    if seen[Col::VillageCode.index()].is_none() && seen[Col::VillageName.index()].is_none() {
        errors.push(CellError::new(
            row,
            Col::VillageCode.name(),
            "the sheet needs a village_code or a village_name column",
        ));
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(errors)
    }
}

/// Collects the errors of one row.
struct RowCheck<'a> {
    row: usize,
    errors: &'a mut Vec<CellError>,
    failed: bool,
}

impl RowCheck<'_> {
    fn fail(&mut self, col: Col, message: impl Into<String>) {
        self.errors
            .push(CellError::new(self.row, col.name(), message));
        self.failed = true;
    }

    fn take<T>(&mut self, col: Col, parsed: Result<Option<T>, String>) -> Option<T> {
        parsed.unwrap_or_else(|message| {
            self.fail(col, message);
            None
        })
    }
}

fn parse_row(
    row: usize,
    values: &[&Value; Col::ALL.len()],
    is_1904: bool,
    errors: &mut Vec<CellError>,
) -> Option<SheetRow> {
    let v = |col: Col| values[col.index()];
    let mut check = RowCheck {
        row,
        errors,
        failed: false,
    };
    let village_code = check.take(Col::VillageCode, parse_code(v(Col::VillageCode)));
    let village_name = check.take(Col::VillageName, parse_text(v(Col::VillageName)));
    let eligible_total = check.take(Col::EligibleTotal, parse_count(v(Col::EligibleTotal)));
    let male = check.take(Col::Male, parse_count(v(Col::Male)));
    let female = check.take(Col::Female, parse_count(v(Col::Female)));
    let age_18_34 = check.take(Col::Age18To34, parse_count(v(Col::Age18To34)));
    let age_35_54 = check.take(Col::Age35To54, parse_count(v(Col::Age35To54)));
    let age_55_60 = check.take(Col::Age55To60, parse_count(v(Col::Age55To60)));
    let away_for_work = check.take(Col::AwayForWork, parse_count(v(Col::AwayForWork)));
    let known_donors = check.take(Col::KnownDonors, parse_count(v(Col::KnownDonors)));
    let surveyed_on = check.take(Col::SurveyedOn, parse_date(v(Col::SurveyedOn), is_1904));
    let source = check.take(Col::Source, parse_source(v(Col::Source)));
    let surveyed_by = check.take(Col::SurveyedBy, parse_text(v(Col::SurveyedBy)));
    let notes = check.take(Col::Notes, parse_text(v(Col::Notes)));
    let longitude = check.take(Col::Longitude, parse_coordinate(v(Col::Longitude), 180.0));
    let latitude = check.take(Col::Latitude, parse_coordinate(v(Col::Latitude), 90.0));
    let confirm_large_change = check.take(
        Col::ConfirmLargeChange,
        parse_bool(v(Col::ConfirmLargeChange)),
    );

    // A row whose survey cells are all blank is a template row left as downloaded (the
    // village was not surveyed this time): skipped, whatever its code, name or location say.
    let survey_blank = Col::ALL
        .into_iter()
        .filter(|c| {
            !matches!(
                c,
                Col::VillageCode | Col::VillageName | Col::Longitude | Col::Latitude
            )
        })
        .all(|c| v(c).is_empty());
    let location_consistent = v(Col::Longitude).is_empty() == v(Col::Latitude).is_empty();
    if survey_blank && location_consistent && !check.failed {
        return None;
    }

    // Presence rules, for cells left blank (a bad cell has its own error already).
    if v(Col::VillageCode).is_empty() && v(Col::VillageName).is_empty() {
        check.fail(
            Col::VillageCode,
            "the village is missing: give its village_code or its village_name",
        );
    }
    for col in Col::ALL.into_iter().filter(|c| c.required()) {
        if v(col).is_empty() {
            check.fail(col, format!("{} is required", col.name()));
        }
    }
    match (v(Col::Longitude).is_empty(), v(Col::Latitude).is_empty()) {
        (false, true) => check.fail(
            Col::Latitude,
            "latitude is missing: give both longitude and latitude, or neither",
        ),
        (true, false) => check.fail(
            Col::Longitude,
            "longitude is missing: give both longitude and latitude, or neither",
        ),
        _ => {}
    }

    if check.failed {
        return None;
    }
    let (Some(eligible_total), Some(surveyed_on), Some(source)) =
        (eligible_total, surveyed_on, source)
    else {
        return None;
    };
    Some(SheetRow {
        row,
        village_code,
        village_name,
        eligible_total,
        male,
        female,
        age_18_34,
        age_35_54,
        age_55_60,
        away_for_work,
        known_donors,
        surveyed_on,
        source,
        surveyed_by,
        notes,
        longitude,
        latitude,
        confirm_large_change: confirm_large_change.unwrap_or(false),
    })
}

/// Free text; numbers are written as a person would type them.
fn parse_text(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Empty => Ok(None),
        Value::Text(s) => Ok(Some(s.clone())),
        Value::Number(f) => Ok(Some(format_number(*f))),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Date(d) => Ok(Some(d.format("%Y-%m-%d").to_string())),
        Value::Bad(message) => Err(message.clone()),
    }
}

/// A 12-digit division code (a number cell holding the 12 digits is fine).
fn parse_code(value: &Value) -> Result<Option<String>, String> {
    let Some(code) = parse_text(value)? else {
        return Ok(None);
    };
    if code.contains(['E', 'e']) && code.parse::<f64>().is_ok() {
        return Err(format!(
            "{} is a village code that Excel turned into a rounded number: format the \
             column as Text and type the 12 digits again, or use the XLSX sheet",
            quote_bounded(&code)
        ));
    }
    match RegionCode::parse(&code) {
        Ok(_) => Ok(Some(code)),
        Err(_) => Err(format!(
            "a village code has exactly 12 digits, got {}",
            quote_bounded(&code)
        )),
    }
}

/// A count of people: a whole number, 0 or more.
fn parse_count(value: &Value) -> Result<Option<i64>, String> {
    /// Beyond 2^53 an f64 no longer holds every whole number.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let n = match value {
        Value::Empty => return Ok(None),
        Value::Text(s) => s
            .parse::<i64>()
            .map_err(|_| format!("expected a whole number, got {}", quote_bounded(s)))?,
        Value::Number(f) if f.fract() == 0.0 && f.abs() <= EXACT => *f as i64,
        other => return Err(format!("expected a whole number, got {}", other.describe())),
    };
    if n < 0 {
        return Err(format!("expected 0 or more, got {n}"));
    }
    Ok(Some(n))
}

/// A date: `YYYY-MM-DD` text (Excel's `YYYY/M/D` too), an XLSX date cell, or (XLSX only) an
/// Excel day number.
fn parse_date(value: &Value, is_1904: bool) -> Result<Option<NaiveDate>, String> {
    match value {
        Value::Empty => Ok(None),
        Value::Date(d) => Ok(Some(*d)),
        Value::Number(f) => excel_date(&calamine::ExcelDateTime::new(
            *f,
            calamine::ExcelDateTimeType::DateTime,
            is_1904,
        ))
        .map(Some),
        Value::Text(s) => parse_date_text(s)
            .map(Some)
            .ok_or_else(|| format!("expected a date as YYYY-MM-DD, got {}", quote_bounded(s))),
        other => Err(format!(
            "expected a date as YYYY-MM-DD, got {}",
            other.describe()
        )),
    }
}

fn parse_date_text(s: &str) -> Option<NaiveDate> {
    // A four-digit year first: chrono alone would read "24-05-01" as the year 24.
    let year_digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if year_digits != 4 {
        return None;
    }
    ["%Y-%m-%d", "%Y/%m/%d"]
        .into_iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

/// The name of source `value` in a sheet in `lang` (a value not among [`SOURCES`] as it is).
fn source_label(value: &str, lang: Lang) -> String {
    if SOURCES.iter().any(|(en, _)| *en == value) {
        lang.t(&format!("survey-source-{value}"))
    } else {
        value.to_owned()
    }
}

/// One of [`SOURCES`], by canonical value, its name in either language, or its older Chinese
/// alias (any case).
fn parse_source(value: &Value) -> Result<Option<String>, String> {
    let allowed = || SOURCES.map(|(en, zh)| format!("{en} ({zh})")).join(", ");
    match value {
        Value::Empty => Ok(None),
        Value::Text(s) => {
            let key = s.to_lowercase();
            SOURCES
                .into_iter()
                .find(|(en, zh)| {
                    *en == key
                        || *zh == key
                        || Lang::ALL
                            .iter()
                            .any(|&lang| source_label(en, lang).to_lowercase() == key)
                })
                .map(|(en, _)| Some(en.to_owned()))
                .ok_or_else(|| format!("expected one of {}; got {}", allowed(), quote_bounded(s)))
        }
        other => Err(format!(
            "expected one of {}; got {}",
            allowed(),
            other.describe()
        )),
    }
}

/// true/false, yes/no, 1/0, 是/否 (any case), or an XLSX boolean cell.
fn parse_bool(value: &Value) -> Result<Option<bool>, String> {
    let refused = || {
        format!(
            "expected true/false, yes/no, 1/0 or 是/否, got {}",
            value.describe()
        )
    };
    match value {
        Value::Empty => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::Number(f) if *f == 1.0 => Ok(Some(true)),
        Value::Number(f) if *f == 0.0 => Ok(Some(false)),
        Value::Text(s) => match s.to_lowercase().as_str() {
            "true" | "yes" | "1" | "是" => Ok(Some(true)),
            "false" | "no" | "0" | "否" => Ok(Some(false)),
            _ => Err(refused()),
        },
        _ => Err(refused()),
    }
}

/// A coordinate in degrees between `-limit` and `limit`.
fn parse_coordinate(value: &Value, limit: f64) -> Result<Option<f64>, String> {
    let degrees = match value {
        Value::Empty => return Ok(None),
        Value::Number(f) => *f,
        Value::Text(s) => s
            .parse::<f64>()
            .map_err(|_| format!("expected a number of degrees, got {}", quote_bounded(s)))?,
        other => {
            return Err(format!(
                "expected a number of degrees, got {}",
                other.describe()
            ));
        }
    };
    if degrees.is_finite() && (-limit..=limit).contains(&degrees) {
        Ok(Some(degrees))
    } else {
        Err(format!(
            "expected a number between -{limit} and {limit}, got {}",
            format_number(degrees)
        ))
    }
}

/// One exported cell.
enum Out<'a> {
    Blank,
    Text(&'a str),
    Count(i64),
    Degrees(f64),
    Date(NaiveDate),
}

impl Out<'_> {
    fn to_csv(&self) -> String {
        match self {
            Out::Blank => String::new(),
            Out::Text(s) => (*s).to_owned(),
            Out::Count(n) => n.to_string(),
            Out::Degrees(f) => f.to_string(),
            Out::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

impl ExportRow {
    fn cell(&self, col: Col) -> Out<'_> {
        let count = |n: Option<i64>| n.map_or(Out::Blank, Out::Count);
        match col {
            Col::VillageCode => Out::Text(&self.village_code),
            Col::VillageName => Out::Text(&self.village_name),
            Col::EligibleTotal => count(self.eligible_total),
            Col::Male => count(self.male),
            Col::Female => count(self.female),
            Col::Age18To34 => count(self.age_18_34),
            Col::Age35To54 => count(self.age_35_54),
            Col::Age55To60 => count(self.age_55_60),
            Col::AwayForWork => count(self.away_for_work),
            Col::KnownDonors => count(self.known_donors),
            Col::SurveyedOn => self.surveyed_on.map_or(Out::Blank, Out::Date),
            Col::Source => self.source.as_deref().map_or(Out::Blank, Out::Text),
            Col::SurveyedBy => self.surveyed_by.as_deref().map_or(Out::Blank, Out::Text),
            Col::Notes => self.notes.as_deref().map_or(Out::Blank, Out::Text),
            // To 7 decimals (a centimetre), without floating-point noise.
            Col::Longitude => self
                .longitude
                .map_or(Out::Blank, |f| Out::Degrees(coordinate(f))),
            Col::Latitude => self
                .latitude
                .map_or(Out::Blank, |f| Out::Degrees(coordinate(f))),
            Col::ConfirmLargeChange => Out::Blank,
        }
    }
}

fn coordinate(degrees: f64) -> f64 {
    rounding::round(degrees, Measure::Coordinate)
}

/// A CSV sheet of `rows` under a header in `lang`, sources named in `lang`, UTF-8 with a BOM
/// so that Excel shows Chinese text correctly. Blank cells for absent values.
pub fn write_csv(rows: &[ExportRow], lang: Lang) -> Vec<u8> {
    let mut out = UTF8_BOM.to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        let header = Col::exported().iter().map(|c| c.header(lang));
        // Writing to a Vec<u8> cannot fail.
        writer
            .write_record(header)
            .expect("writing CSV to memory cannot fail");
        for row in rows {
            let cells = Col::exported().iter().map(|&c| match row.cell(c) {
                Out::Text(source) if c == Col::Source => source_label(source, lang),
                cell => cell.to_csv(),
            });
            writer
                .write_record(cells)
                .expect("writing CSV to memory cannot fail");
        }
        writer.flush().expect("writing CSV to memory cannot fail");
    }
    out
}

/// An XLSX workbook with one sheet (named in `lang`): a bold, frozen header row in `lang`,
/// then `rows`, sources named in `lang`. Codes and text are text cells (so Excel keeps all 12
/// digits of a code), counts and coordinates numbers, dates date cells shown as `YYYY-MM-DD`.
///
/// # Errors
/// The workbook cannot be built (a date before 1900 that Excel cannot show is written as text,
/// so in practice only more than a million rows).
pub fn write_xlsx(rows: &[ExportRow], lang: Lang) -> Result<Vec<u8>, String> {
    build_xlsx(rows, lang).map_err(|e| format!("cannot write the XLSX sheet: {e}"))
}

fn build_xlsx(rows: &[ExportRow], lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(lang.t("survey-sheet"))?;
    for (c, &col) in (0 as ColNum..).zip(Col::exported()) {
        let header = col.header(lang);
        // A Chinese character is about two columns wide.
        let header_width: usize = header
            .chars()
            .map(|ch| if ch.is_ascii() { 1 } else { 2 })
            .sum();
        sheet.write_string_with_format(0, c, &header, &bold)?;
        let width = match col {
            Col::VillageCode => 15.0,
            Col::VillageName | Col::SurveyedBy => 16.0,
            Col::Notes => 30.0,
            _ => header_width.max(10) as f64 + 2.0,
        };
        sheet.set_column_width(c, width)?;
        // New cells typed under these headers keep the right type too.
        match col {
            Col::VillageCode | Col::VillageName | Col::Source | Col::SurveyedBy | Col::Notes => {
                sheet.set_column_format(c, &text)?;
            }
            Col::SurveyedOn => {
                sheet.set_column_format(c, &date)?;
            }
            _ => {}
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    for (r, row) in (1u32..).zip(rows) {
        for (c, &col) in (0 as ColNum..).zip(Col::exported()) {
            match row.cell(col) {
                Out::Blank => {}
                Out::Text(s) if col == Col::Source => {
                    sheet.write_string_with_format(r, c, source_label(s, lang), &text)?;
                }
                Out::Text(s) => {
                    sheet.write_string_with_format(r, c, s, &text)?;
                }
                Out::Count(n) => {
                    sheet.write_number(r, c, n as f64)?;
                }
                Out::Degrees(f) => {
                    sheet.write_number(r, c, f)?;
                }
                Out::Date(d) => {
                    let cell = u16::try_from(d.year()).ok().and_then(|y| {
                        rust_xlsxwriter::ExcelDateTime::from_ymd(y, d.month() as u8, d.day() as u8)
                            .ok()
                    });
                    match cell {
                        Some(cell) => sheet.write_datetime_with_format(r, c, &cell, &date)?,
                        None => sheet.write_string(r, c, d.format("%Y-%m-%d").to_string())?,
                    };
                }
            }
        }
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    /// Parses CSV text (no BOM) and expects success.
    fn csv_ok(text: &str) -> Vec<SheetRow> {
        match parse_sheet(text.as_bytes(), SheetFormat::Csv) {
            Ok(rows) => rows,
            Err(errors) => panic!("unexpected errors: {errors:#?}"),
        }
    }

    fn csv_err(text: &str) -> Vec<CellError> {
        match parse_sheet(text.as_bytes(), SheetFormat::Csv) {
            Ok(rows) => panic!("expected errors, parsed {rows:#?}"),
            Err(errors) => errors,
        }
    }

    /// The (row, field) pairs of errors, for compact assertions.
    fn places(errors: &[CellError]) -> Vec<(usize, &str)> {
        errors.iter().map(|e| (e.row, e.field.as_str())).collect()
    }

    fn full_row() -> ExportRow {
        ExportRow {
            village_code: "411102001001".to_owned(),
            village_name: "东大街社区居委会".to_owned(),
            eligible_total: Some(1234),
            male: Some(600),
            female: Some(634),
            age_18_34: Some(400),
            age_35_54: Some(500),
            age_55_60: Some(334),
            away_for_work: Some(321),
            known_donors: Some(0),
            surveyed_on: Some(date(2024, 5, 1)),
            source: Some("village_doctor".to_owned()),
            surveyed_by: Some("张医生".to_owned()),
            notes: Some("含\"外出\"人员, 逗号\n第二行".to_owned()),
            longitude: Some(114.016_539_123_456_78),
            latitude: Some(33.581_412_987_654_32),
        }
    }

    /// A surveyed village with only the required cells and no coordinates.
    fn sparse_row() -> ExportRow {
        ExportRow {
            village_code: "411102001002".to_owned(),
            village_name: "西大街村".to_owned(),
            eligible_total: Some(0),
            surveyed_on: Some(date(2023, 12, 31)),
            source: Some("other".to_owned()),
            ..ExportRow::default()
        }
    }

    /// A village without a survey: the template row.
    fn template_row() -> ExportRow {
        ExportRow {
            village_code: "411102001003".to_owned(),
            village_name: "南关村".to_owned(),
            ..ExportRow::default()
        }
    }

    /// What parse_sheet must return for an exported row at sheet row `row`.
    fn expected(export: &ExportRow, row: usize) -> SheetRow {
        SheetRow {
            row,
            village_code: Some(export.village_code.clone()),
            village_name: Some(export.village_name.clone()),
            eligible_total: export.eligible_total.expect("surveyed row"),
            male: export.male,
            female: export.female,
            age_18_34: export.age_18_34,
            age_35_54: export.age_35_54,
            age_55_60: export.age_55_60,
            away_for_work: export.away_for_work,
            known_donors: export.known_donors,
            surveyed_on: export.surveyed_on.expect("surveyed row"),
            source: export.source.clone().expect("surveyed row"),
            surveyed_by: export.surveyed_by.clone(),
            notes: export.notes.clone(),
            // Coordinates are written to 7 decimals.
            longitude: export.longitude.map(coordinate),
            latitude: export.latitude.map(coordinate),
            confirm_large_change: false,
        }
    }

    fn assert_round_trip(format: SheetFormat, bytes: &[u8]) {
        let rows = parse_sheet(bytes, format).expect("a downloaded sheet parses");
        assert_eq!(
            rows,
            vec![expected(&full_row(), 2), expected(&sparse_row(), 3)]
        );
    }

    /// A template row left blank is skipped; one half filled in names every missing cell.
    fn assert_template_row_refused(format: SheetFormat, bytes: &[u8]) {
        let rows = parse_sheet(bytes, format).expect("an untouched template row is skipped");
        assert_eq!(rows.len(), 2);
        let mut half = template_row();
        half.notes = Some("去了一半".to_owned());
        let bytes = match format {
            SheetFormat::Csv => write_csv(&[full_row(), sparse_row(), half], Lang::ZhCn),
            SheetFormat::Xlsx => {
                write_xlsx(&[full_row(), sparse_row(), half], Lang::English).expect("workbook")
            }
        };
        let errors = parse_sheet(&bytes, format).expect_err("the half-filled row is refused");
        assert_eq!(
            places(&errors),
            vec![(4, "eligible_total"), (4, "surveyed_on"), (4, "source")],
            "{errors:#?}"
        );
        assert_eq!(errors[0].message, "eligible_total is required");
    }

    #[test]
    fn a_sheet_spanning_the_whole_grid_is_refused_without_reading_it() {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, "village_code").expect("cell");
        sheet.write_string(1_048_575, 16_383, "x").expect("cell");
        let bytes = workbook.save_to_buffer().expect("workbook");
        let errors = parse_sheet(&bytes, SheetFormat::Xlsx).expect_err("too large");
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].message.contains("too large"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn a_full_size_export_is_within_the_workbook_bounds() {
        // The largest sheet the import takes, written by the export, must pass the checks
        // that refuse zip bombs (sizes and compression ratios).
        let rows: Vec<ExportRow> = (0..MAX_SHEET_ROWS - 1)
            .map(|i| {
                let mut row = full_row();
                row.village_code = format!("4111020{i:05}");
                row.eligible_total = Some(i64::from(i % 5000));
                row.notes = Some(format!("第 {i} 行备注"));
                row
            })
            .collect();
        let bytes = write_xlsx(&rows, Lang::ZhCn).expect("workbook");
        assert_eq!(super::super::workbook::check(&bytes), Ok(()));
    }

    #[test]
    fn csv_round_trip_keeps_every_value_in_either_language() {
        for lang in Lang::ALL {
            let bytes = write_csv(&[full_row(), sparse_row()], lang);
            assert_round_trip(SheetFormat::Csv, &bytes);
        }
    }

    #[test]
    fn xlsx_round_trip_keeps_every_value_in_either_language() {
        for lang in Lang::ALL {
            let bytes = write_xlsx(&[full_row(), sparse_row()], lang).expect("workbook");
            assert_round_trip(SheetFormat::Xlsx, &bytes);
        }
    }

    #[test]
    fn csv_template_row_reports_the_required_cells() {
        let bytes = write_csv(&[full_row(), sparse_row(), template_row()], Lang::ZhCn);
        assert_template_row_refused(SheetFormat::Csv, &bytes);
    }

    #[test]
    fn xlsx_template_row_reports_the_required_cells() {
        let bytes = write_xlsx(&[full_row(), sparse_row(), template_row()], Lang::English)
            .expect("workbook");
        assert_template_row_refused(SheetFormat::Xlsx, &bytes);
    }

    #[test]
    fn csv_export_has_bom_and_headers_in_the_readers_language() {
        let lines = |lang: Lang| {
            let bytes = write_csv(&[template_row(), sparse_row()], lang);
            let text = String::from_utf8(bytes).expect("UTF-8");
            let text = text.strip_prefix('\u{feff}').expect("starts with a BOM");
            text.lines().map(str::to_owned).collect::<Vec<_>>()
        };
        assert_eq!(
            lines(Lang::ZhCn),
            [
                "村代码,村名,适龄人数,男,女,18-34岁,35-54岁,55-60岁,外出务工,献过血人数,调查日期,\
                 来源,调查人,备注,经度,纬度",
                "411102001003,南关村,,,,,,,,,,,,,,",
                "411102001002,西大街村,0,,,,,,,,2023-12-31,其他,,,,",
            ]
        );
        assert_eq!(
            lines(Lang::English),
            [
                "Village code,Village name,Eligible (18-60),Male,Female,Aged 18-34,Aged 35-54,\
                 Aged 55-60,Away for work,Known donors,Surveyed on,Source,Surveyed by,Notes,\
                 Longitude,Latitude",
                "411102001003,南关村,,,,,,,,,,,,,,",
                "411102001002,西大街村,0,,,,,,,,2023-12-31,Other,,,,",
            ]
        );
        let doctor = write_csv(&[full_row()], Lang::ZhCn);
        assert!(String::from_utf8(doctor).unwrap().contains(",村医,"));
    }

    #[test]
    fn every_header_and_source_of_either_language_is_read_back() {
        for col in Col::ALL {
            for lang in Lang::ALL {
                assert_eq!(Col::from_header(&col.header(lang)), Some(col), "{col:?}");
            }
            assert_eq!(Col::from_header(col.name()), Some(col));
            for alias in col.aliases() {
                assert_eq!(Col::from_header(alias), Some(col), "{alias}");
            }
        }
        for (value, old) in SOURCES {
            for name in [value.to_owned(), old.to_owned()]
                .into_iter()
                .chain(Lang::ALL.map(|lang| source_label(value, lang)))
            {
                let read = parse_source(&Value::text(&name.to_uppercase()));
                assert_eq!(read, Ok(Some(value.to_owned())), "{name}");
            }
        }
    }

    #[test]
    fn xlsx_export_has_one_sheet_named_in_the_readers_language_with_text_codes() {
        let bytes = write_xlsx(&[full_row()], Lang::ZhCn).expect("workbook");
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("readable");
        assert_eq!(workbook.sheet_names(), vec!["村调查".to_owned()]);
        let range = workbook.worksheet_range("村调查").expect("sheet");
        assert_eq!(
            range.get_value((0, 0)),
            Some(&Data::String("村代码".to_owned()))
        );
        assert_eq!(
            range.get_value((1, 11)),
            Some(&Data::String("村医".to_owned()))
        );
        assert_eq!(
            range.get_value((1, 0)),
            Some(&Data::String("411102001001".to_owned()))
        );
        assert!(
            matches!(range.get_value((1, 10)), Some(Data::DateTime(_))),
            "surveyed_on is a date cell: {:?}",
            range.get_value((1, 10))
        );
    }

    #[test]
    fn bom_is_accepted_and_headers_are_trimmed_and_case_insensitive() {
        let text = " Village_Code ,ELIGIBLE_TOTAL,Surveyed_On,Source\n\
                    411102001001,10,2024-05-01,Household_Register\n";
        let mut bytes = UTF8_BOM.to_vec();
        bytes.extend_from_slice(text.as_bytes());
        let rows = parse_sheet(&bytes, SheetFormat::Csv).expect("parses");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].village_code.as_deref(), Some("411102001001"));
        assert_eq!(rows[0].village_name, None);
        assert_eq!(rows[0].eligible_total, 10);
        assert_eq!(rows[0].source, "household_register");
        // The same without a BOM.
        assert_eq!(csv_ok(text), rows);
    }

    #[test]
    fn chinese_headers_and_values_are_accepted() {
        let rows = csv_ok(
            "村名,适龄人数,男,女,18-34岁,35-54岁,55-60岁,外出务工,献过血人数,调查日期,来源,\
             调查人,备注,经度,纬度,确认大幅变化\n\
             东大街村,100,50,50,30,40,30,20,5,2024/5/1,户籍,李四,无,114.01,33.58,是\n\
             西大街村,80,,,,,,,,2024-05-02,村委估计,,,,,否\n",
        );
        assert_eq!(rows.len(), 2);
        let first = &rows[0];
        assert_eq!(first.row, 2);
        assert_eq!(first.village_code, None);
        assert_eq!(first.village_name.as_deref(), Some("东大街村"));
        assert_eq!(
            (
                first.male,
                first.female,
                first.away_for_work,
                first.known_donors
            ),
            (Some(50), Some(50), Some(20), Some(5))
        );
        assert_eq!(
            (first.age_18_34, first.age_35_54, first.age_55_60),
            (Some(30), Some(40), Some(30))
        );
        assert_eq!(first.surveyed_on, date(2024, 5, 1));
        assert_eq!(first.source, "household_register");
        assert_eq!(first.surveyed_by.as_deref(), Some("李四"));
        assert_eq!(first.notes.as_deref(), Some("无"));
        assert_eq!(
            (first.longitude, first.latitude),
            (Some(114.01), Some(33.58))
        );
        assert!(first.confirm_large_change);
        let second = &rows[1];
        assert_eq!(second.source, "committee_estimate");
        assert_eq!(second.male, None);
        assert!(!second.confirm_large_change);
        // The other aliases of code and name, and the last two sources.
        let rows = csv_ok(
            "代码,名称,适龄人数,调查日期,来源\n\
             411102001001,东大街村,1,2024-05-01,村医\n\
             411102001002,西大街村,1,2024-05-01,其他\n",
        );
        assert_eq!(rows[0].village_code.as_deref(), Some("411102001001"));
        assert_eq!(rows[0].village_name.as_deref(), Some("东大街村"));
        assert_eq!(rows[0].source, "village_doctor");
        assert_eq!(rows[1].source, "other");
    }

    #[test]
    fn unknown_columns_are_named() {
        let errors = csv_err(
            "village_code,eligible_totl,surveyed_on,source,备注2\n\
             411102001001,10,2024-05-01,other,x\n",
        );
        assert_eq!(
            places(&errors),
            vec![(1, "eligible_totl"), (1, "备注2"), (1, "eligible_total")],
            "{errors:#?}"
        );
        assert!(
            errors[0]
                .message
                .contains("unknown column \"eligible_totl\"")
        );
        assert!(errors[0].message.contains("column B"));
        assert!(errors[1].message.contains("column E"));
    }

    #[test]
    fn missing_and_duplicated_columns_are_header_errors() {
        let errors = csv_err("village_name,eligible_total\n东大街村,10\n");
        assert_eq!(
            places(&errors),
            vec![(1, "surveyed_on"), (1, "source")],
            "{errors:#?}"
        );
        assert_eq!(
            errors[0].message,
            "the required column surveyed_on is missing"
        );

        let errors = csv_err("notes,eligible_total,surveyed_on,source\nx,1,2024-05-01,other\n");
        assert_eq!(places(&errors), vec![(1, "village_code")]);

        let errors = csv_err("village_code,male,男,eligible_total,surveyed_on,source\n");
        assert_eq!(places(&errors), vec![(1, "male")]);
        assert!(errors[0].message.contains("twice"), "{}", errors[0].message);
    }

    #[test]
    fn every_bad_cell_of_every_row_is_reported() {
        let errors = csv_err(
            "village_code,village_name,eligible_total,male,surveyed_on,source,longitude,\
             latitude,confirm_large_change\n\
             411102001001,,12,3,2024-05-01,other,,,\n\
             41110200100,,-1,abc,2024-13-01,village_doctors,114,,maybe\n\
             ,,1.5,2,2024-05-01,户籍,200,95,1\n\
             411102001004,,,,,,,33.5,\n",
        );
        assert_eq!(
            places(&errors),
            vec![
                (3, "village_code"),
                (3, "eligible_total"),
                (3, "male"),
                (3, "surveyed_on"),
                (3, "source"),
                (3, "confirm_large_change"),
                (3, "latitude"),
                (4, "eligible_total"),
                (4, "longitude"),
                (4, "latitude"),
                (4, "village_code"),
                (5, "eligible_total"),
                (5, "surveyed_on"),
                (5, "source"),
                (5, "longitude"),
            ],
            "{errors:#?}"
        );
        let message = |row: usize, field: &str| {
            errors
                .iter()
                .find(|e| e.row == row && e.field == field)
                .map(|e| e.message.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            message(3, "village_code"),
            "a village code has exactly 12 digits, got \"41110200100\""
        );
        assert_eq!(message(3, "eligible_total"), "expected 0 or more, got -1");
        assert_eq!(message(3, "male"), "expected a whole number, got \"abc\"");
        assert!(message(3, "source").contains("household_register (户籍)"));
        assert_eq!(
            message(4, "longitude"),
            "expected a number between -180 and 180, got 200"
        );
        assert_eq!(
            message(4, "latitude"),
            "expected a number between -90 and 90, got 95"
        );
        assert!(message(5, "longitude").starts_with("longitude is missing"));
    }

    #[test]
    fn empty_rows_are_skipped_and_rows_numbered_as_excel_shows_them() {
        // Row 2 is blank, row 3 has a two-line note, row 4 is a row of empty cells, row 5 is bad.
        let errors = csv_err(
            "village_code,eligible_total,surveyed_on,source,notes\n\
             \n\
             411102001001,10,2024-05-01,other,\"line one\nline two\"\n\
             ,, ,,\n\
             411102001002,x,2024-05-01,other,\n",
        );
        assert_eq!(places(&errors), vec![(5, "eligible_total")], "{errors:#?}");

        let rows = csv_ok(
            "village_code,eligible_total,surveyed_on,source,notes\n\
             \n\
             411102001001,10,2024-05-01,other,\"line one\r\nline two\"\n\
             ,,,,\n\
             411102001002,7,2024-05-01,other,\n",
        );
        assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![3, 5]);
        assert_eq!(rows[0].notes.as_deref(), Some("line one\r\nline two"));
    }

    #[test]
    fn non_utf8_csv_is_rejected_at_its_row() {
        // "村名" in GBK, in the header.
        let mut gbk_header = b"\xb4\xe5\xc3\xfb".to_vec();
        gbk_header.extend_from_slice(b",eligible_total,surveyed_on,source\n");
        let errors = parse_sheet(&gbk_header, SheetFormat::Csv).expect_err("GBK");
        assert_eq!(places(&errors), vec![(1, "header")]);
        assert!(
            errors[0].message.contains("CSV UTF-8"),
            "{}",
            errors[0].message
        );

        // A UTF-8 header, then a GBK village name ("东" is 0xB6 0xAB) in row 3.
        let mut bytes = b"village_name,eligible_total,surveyed_on,source\n\
                          ok,1,2024-05-01,other\n"
            .to_vec();
        bytes.extend_from_slice(b"\xb6\xab,1,2024-05-01,other\n");
        let errors = parse_sheet(&bytes, SheetFormat::Csv).expect_err("GBK");
        assert_eq!(places(&errors), vec![(3, "village_name")]);
    }

    #[test]
    fn xlsx_dates_as_date_cells_day_numbers_and_text() {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        let headers = ["village_code", "eligible_total", "surveyed_on", "source"];
        for (c, h) in (0 as ColNum..).zip(headers) {
            sheet.write_string(0, c, h).expect("header");
        }
        let date_format = Format::new().set_num_format("yyyy/m/d");
        let may_day = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 5, 1).expect("date");
        // Row 2: a date cell. Row 3: the day number 45413 (2024-05-01) in a plain cell.
        // Row 4: text. Row 5: a code typed as a number, and a date with a time of day.
        sheet.write_number(1, 0, 411_102_001_001.0).expect("cell");
        sheet
            .write_datetime_with_format(1, 2, &may_day, &date_format)
            .expect("cell");
        sheet.write_string(2, 0, "411102001002").expect("cell");
        sheet.write_number(2, 2, 45413.0).expect("cell");
        sheet.write_string(3, 0, "411102001003").expect("cell");
        sheet.write_string(3, 2, "2024-05-03").expect("cell");
        sheet.write_number(4, 0, 411_102_001_004.0).expect("cell");
        let evening = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 5, 4)
            .and_then(|d| d.and_hms(21, 30, 0))
            .expect("datetime");
        sheet
            .write_datetime_with_format(
                4,
                2,
                &evening,
                &Format::new().set_num_format("yyyy-mm-dd hh:mm"),
            )
            .expect("cell");
        for r in 1..=4 {
            sheet.write_number(r, 1, 10.0).expect("cell");
            sheet.write_string(r, 3, "other").expect("cell");
        }
        let bytes = workbook.save_to_buffer().expect("workbook");
        let rows = parse_sheet(&bytes, SheetFormat::Xlsx).expect("parses");
        assert_eq!(
            rows.iter()
                .map(|r| (r.row, r.village_code.as_deref(), r.surveyed_on))
                .collect::<Vec<_>>(),
            vec![
                (2, Some("411102001001"), date(2024, 5, 1)),
                (3, Some("411102001002"), date(2024, 5, 1)),
                (4, Some("411102001003"), date(2024, 5, 3)),
                (5, Some("411102001004"), date(2024, 5, 4)),
            ]
        );
    }

    #[test]
    fn xlsx_bad_cells_are_reported_with_sheet_rows() {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        // The header in row 3 (rows 1 and 2 empty), starting in column B.
        let headers = [
            "village_name",
            "eligible_total",
            "surveyed_on",
            "source",
            "male",
        ];
        for (c, h) in (1 as ColNum..).zip(headers) {
            sheet.write_string(2, c, h).expect("header");
        }
        sheet.write_string(3, 1, "东大街村").expect("cell");
        sheet.write_number(3, 2, 10.5).expect("cell");
        sheet.write_number(3, 3, 60.0).expect("cell");
        sheet.write_boolean(3, 4, true).expect("cell");
        sheet.write_number(3, 5, 3.0).expect("cell");
        sheet.write_string(3, 7, "stray").expect("cell");
        let bytes = workbook.save_to_buffer().expect("workbook");
        let errors = parse_sheet(&bytes, SheetFormat::Xlsx).expect_err("bad cells");
        assert_eq!(
            places(&errors),
            vec![
                (4, "column H"),
                (4, "eligible_total"),
                (4, "surveyed_on"),
                (4, "source"),
            ],
            "{errors:#?}"
        );
        assert_eq!(errors[1].message, "expected a whole number, got 10.5");
        assert_eq!(errors[2].message, "60 is not a date Excel knows");
    }

    #[test]
    fn xlsx_prefers_the_surveys_sheet() {
        let mut workbook = Workbook::new();
        workbook
            .add_worksheet()
            .set_name("说明")
            .expect("name")
            .write_string(0, 0, "请在 surveys 表中填写")
            .expect("cell");
        let sheet = workbook.add_worksheet().set_name("Surveys").expect("name");
        for (c, h) in
            (0 as ColNum..).zip(["village_code", "eligible_total", "surveyed_on", "source"])
        {
            sheet.write_string(0, c, h).expect("header");
        }
        sheet.write_string(1, 0, "411102001001").expect("cell");
        sheet.write_number(1, 1, 5.0).expect("cell");
        sheet.write_string(1, 2, "2024-05-01").expect("cell");
        sheet.write_string(1, 3, "other").expect("cell");
        let bytes = workbook.save_to_buffer().expect("workbook");
        let rows = parse_sheet(&bytes, SheetFormat::Xlsx).expect("parses");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].eligible_total, 5);
    }

    #[test]
    fn unreadable_and_empty_files_are_refused() {
        let errors =
            parse_sheet(b"village_code,eligible_total", SheetFormat::Xlsx).expect_err("not a zip");
        assert_eq!(places(&errors), vec![(1, "file")]);
        let errors = parse_sheet(b"", SheetFormat::Csv).expect_err("empty");
        assert_eq!(places(&errors), vec![(1, "header")]);
        let errors = parse_sheet(UTF8_BOM, SheetFormat::Csv).expect_err("only a BOM");
        assert_eq!(places(&errors), vec![(1, "header")]);
        // A header alone is a sheet without rows.
        assert_eq!(
            csv_ok("village_code,eligible_total,surveyed_on,source\n"),
            vec![]
        );
    }

    #[test]
    fn code_rounded_by_excel_gets_a_specific_message() {
        let errors = csv_err(
            "village_code,eligible_total,surveyed_on,source\n4.11102E+11,1,2024-05-01,other\n",
        );
        assert_eq!(places(&errors), vec![(2, "village_code")]);
        assert!(errors[0].message.contains("format the column as Text"));
    }

    #[test]
    fn dates_need_a_four_digit_year_and_a_real_day() {
        assert_eq!(parse_date_text("2024-05-01"), Some(date(2024, 5, 1)));
        assert_eq!(parse_date_text("2024/5/1"), Some(date(2024, 5, 1)));
        assert_eq!(parse_date_text("24-05-01"), None);
        assert_eq!(parse_date_text("2024-02-30"), None);
        assert_eq!(parse_date_text("2024-05-01x"), None);
        assert_eq!(parse_date_text("01/05/2024"), None);
    }

    #[test]
    fn booleans_accept_the_listed_spellings_only() {
        for (text, expected) in [
            ("true", true),
            ("YES", true),
            ("1", true),
            ("是", true),
            ("False", false),
            ("no", false),
            ("0", false),
            ("否", false),
        ] {
            assert_eq!(parse_bool(&Value::text(text)), Ok(Some(expected)), "{text}");
        }
        assert!(parse_bool(&Value::text("y")).is_err());
        assert!(parse_bool(&Value::Number(2.0)).is_err());
        assert_eq!(parse_bool(&Value::Empty), Ok(None));
    }

    #[test]
    fn format_from_content_type_or_name() {
        use SheetFormat::{Csv, Xlsx};
        let f = SheetFormat::from_content_type_or_name;
        assert_eq!(f(Some("text/csv"), None), Some(Csv));
        assert_eq!(
            f(Some("Text/CSV; charset=utf-8"), Some("a.xlsx")),
            Some(Csv)
        );
        assert_eq!(f(Some(XLSX_CONTENT_TYPE), None), Some(Xlsx));
        assert_eq!(
            f(Some("application/vnd.ms-excel"), Some("村.CSV")),
            Some(Csv)
        );
        assert_eq!(
            f(Some("application/octet-stream"), Some("a.b.xlsx")),
            Some(Xlsx)
        );
        assert_eq!(f(None, Some("surveys.xlsx")), Some(Xlsx));
        assert_eq!(f(None, Some("surveys.xls")), None);
        assert_eq!(f(Some("application/pdf"), Some("csv")), None);
        assert_eq!(f(None, None), None);
    }

    #[test]
    fn column_letters_follow_excel() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }
}
