//! The roster sheet (issue 16): a UTF-8 CSV of donors who agreed on paper or on the phone, one
//! a row, read into raw rows for `recruitment::roster::import_sheet` to check. Pure: bytes in,
//! rows (or every fault of the sheet's shape) out.
//!
//! The header row names the columns in Chinese or English, in any order, case and spaces not
//! mattering: 姓名/name, 手机/mobile, 血型/abo, Rh/rh, 村/village (the village's 12-digit code),
//! 末次献血日期/last_donation, 献血类型/kind, 同意日期/consented_on, 同意方式/channel. Name,
//! mobile, village and consented_on are required columns; the others may be left out.
//! Values may be written the way a station's paper forms write them: `阳性`/`阴性` for Rh,
//! `全血`/`血小板` for the kind, `纸质`/`电话`/`线上`/`现场` for the channel, dates as
//! `2026-12-01`, `2026/12/1` or `2026.12.1`.

use chrono::NaiveDate;

use crate::error::FieldError;

/// The largest sheet read, in bytes (the API's body limit applies first when it is smaller).
pub const MAX_SHEET_BYTES: usize = 1024 * 1024;
/// The most donor rows a sheet may hold.
pub const MAX_SHEET_ROWS: usize = 5_000;

/// A column of the sheet: its field name (how errors name it) and the headers that mean it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Name,
    Mobile,
    Abo,
    Rh,
    Village,
    LastDonation,
    Kind,
    ConsentedOn,
    Channel,
}

impl Column {
    pub const ALL: [Column; 9] = [
        Column::Name,
        Column::Mobile,
        Column::Abo,
        Column::Rh,
        Column::Village,
        Column::LastDonation,
        Column::Kind,
        Column::ConsentedOn,
        Column::Channel,
    ];

    /// The English name, as errors name the column.
    pub fn field(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Mobile => "mobile",
            Column::Abo => "abo",
            Column::Rh => "rh",
            Column::Village => "village",
            Column::LastDonation => "last_donation",
            Column::Kind => "kind",
            Column::ConsentedOn => "consented_on",
            Column::Channel => "channel",
        }
    }

    /// The Chinese header of the column.
    pub fn chinese(self) -> &'static str {
        match self {
            Column::Name => "姓名",
            Column::Mobile => "手机",
            Column::Abo => "血型",
            Column::Rh => "Rh",
            Column::Village => "村",
            Column::LastDonation => "末次献血日期",
            Column::Kind => "献血类型",
            Column::ConsentedOn => "同意日期",
            Column::Channel => "同意方式",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::Name => &["姓名", "name"],
            Column::Mobile => &["手机", "手机号", "手机号码", "mobile"],
            Column::Abo => &["血型", "abo", "abo血型"],
            Column::Rh => &["rh", "rh血型"],
            Column::Village => &["村", "村代码", "village", "village_code"],
            Column::LastDonation => &["末次献血日期", "last_donation", "last_donation_on"],
            Column::Kind => &["献血类型", "kind", "last_donation_kind"],
            Column::ConsentedOn => &["同意日期", "consented_on"],
            Column::Channel => &["同意方式", "channel", "consent_channel"],
        }
    }

    fn required(self) -> bool {
        matches!(
            self,
            Column::Name | Column::Mobile | Column::Village | Column::ConsentedOn
        )
    }

    /// The column a header names.
    pub fn from_header(header: &str) -> Option<Column> {
        let wanted: String = header
            .trim()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        Column::ALL
            .into_iter()
            .find(|c| c.aliases().iter().any(|a| *a == wanted))
    }
}

/// One row as written, trimmed (blank cells as empty strings).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SheetRow {
    /// The 1-based row of the file (the header is row 1).
    pub row: usize,
    pub cells: Vec<(Column, String)>,
}

impl SheetRow {
    /// The cell of `column`, trimmed; empty when blank or not in the sheet.
    pub fn get(&self, column: Column) -> &str {
        self.cells
            .iter()
            .find(|(c, _)| *c == column)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Reads the sheet's rows (blank rows skipped).
///
/// # Errors
/// Every fault of its shape at once: not UTF-8, an unknown, repeated or missing column, a
/// row that cannot be read, more than [`MAX_SHEET_ROWS`] rows.
pub fn read(bytes: &[u8]) -> Result<Vec<SheetRow>, Vec<FieldError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return Err(vec![FieldError::new(
            "sheet",
            "is not UTF-8 text: save the sheet as CSV UTF-8",
        )]);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.records();
    let mut errors = Vec::new();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            return Err(vec![FieldError::at_row(1, "sheet", e.to_string())]);
        }
        None => return Err(vec![FieldError::new("sheet", "is empty")]),
    };
    let mut columns: Vec<Option<Column>> = Vec::new();
    for cell in &header {
        if cell.trim().is_empty() {
            columns.push(None);
            continue;
        }
        match Column::from_header(cell) {
            Some(c) if columns.contains(&Some(c)) => {
                errors.push(FieldError::at_row(
                    1,
                    c.field(),
                    format!("the column {:?} is given twice", cell.trim()),
                ));
                columns.push(None);
            }
            Some(c) => columns.push(Some(c)),
            None => {
                errors.push(FieldError::at_row(
                    1,
                    "sheet",
                    format!(
                        "\"{}\" is not a column of the roster sheet (姓名/name, 手机/mobile, \
                         血型/abo, Rh/rh, 村/village, 末次献血日期/last_donation, \
                         献血类型/kind, 同意日期/consented_on, 同意方式/channel)",
                        super::sheet::shorten(cell.trim())
                    ),
                ));
                columns.push(None);
            }
        }
    }
    for c in Column::ALL {
        if c.required() && !columns.contains(&Some(c)) {
            errors.push(FieldError::at_row(
                1,
                c.field(),
                format!("the column {}/{} is missing", c.chinese(), c.field()),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = Vec::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let row = e.position().map_or(0, |p| p.line() as usize);
                errors.push(FieldError::at_row(row, "sheet", "this row cannot be read"));
                continue;
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let row = record.position().map_or(0, |p| p.line() as usize);
        if rows.len() >= MAX_SHEET_ROWS {
            return Err(vec![FieldError::at_row(
                row,
                "sheet",
                format!("the sheet has more than {MAX_SHEET_ROWS} donors: split it"),
            )]);
        }
        let cells = columns
            .iter()
            .zip(record.iter())
            .filter_map(|(c, v)| c.map(|c| (c, v.trim().to_owned())))
            .collect();
        rows.push(SheetRow { row, cells });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// A date as paper forms write it: `2026-12-01`, `2026/12/1`, `2026.12.1`, `2026年12月1日`.
pub fn date(raw: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = raw
        .trim()
        .trim_end_matches('日')
        .split(['-', '/', '.', '年', '月'])
        .collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// An Rh cell as the service reads it (`+`, `-`): `+`, `阳性`, `Rh+`, `pos`, …
pub fn rh(raw: &str) -> String {
    let v = raw.trim().to_lowercase();
    let v = v.strip_prefix("rh").unwrap_or(&v).trim();
    match v {
        "阳" | "阳性" | "pos" | "positive" | "+" => "+".to_owned(),
        "阴" | "阴性" | "neg" | "negative" | "-" => "-".to_owned(),
        other => other.to_owned(),
    }
}

/// A kind cell as the service reads it (`whole_blood`, `platelets`).
pub fn kind(raw: &str) -> String {
    match raw.trim() {
        "全血" => "whole_blood".to_owned(),
        "血小板" | "机采血小板" | "单采血小板" => "platelets".to_owned(),
        other => other.to_lowercase(),
    }
}

/// A channel cell as the service reads it (`paper`, `phone`, `online`, `check_in`); blank is
/// paper (the sheet's usual source).
pub fn channel(raw: &str) -> String {
    match raw.trim() {
        "" | "纸质" | "书面" => "paper".to_owned(),
        "电话" => "phone".to_owned(),
        "线上" | "网上" | "网络" => "online".to_owned(),
        "现场" | "登记" | "现场登记" => "check_in".to_owned(),
        other => other.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_and_english_headers_name_the_same_columns() {
        let sheet = "姓名,Mobile,血型,RH,village,末次献血日期,kind,同意日期,同意方式\n\
                     王芳,13800138000,O,阳性,990101101203,2026/6/1,全血,2026-12-01,纸质\n\
                     ,,,,,,,,\n";
        let rows = read(sheet.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].get(Column::Mobile), "13800138000");
        assert_eq!(rh(rows[0].get(Column::Rh)), "+");
        assert_eq!(kind(rows[0].get(Column::Kind)), "whole_blood");
        assert_eq!(
            date(rows[0].get(Column::LastDonation)),
            NaiveDate::from_ymd_opt(2026, 6, 1)
        );
    }

    #[test]
    fn an_unknown_or_missing_column_is_named_in_the_header_row() {
        let errors = read("姓名,身份证\n王芳,1\n".as_bytes()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sheet", "mobile", "village", "consented_on"]);
        assert!(errors.iter().all(|e| e.row == Some(1)));
    }

    #[test]
    fn a_sheet_that_is_not_utf8_is_refused() {
        assert!(read(b"\xd0\xd5\xc3\xfb,mobile\n").is_err());
    }
}
