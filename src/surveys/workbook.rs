//! Bounds on an uploaded XLSX workbook, checked before the workbook is read.
//!
//! An XLSX file is a zip of XML parts, and zip compresses repetition extremely well: an 876 KB
//! upload held one 900 MB shared string, and reading it took the server to 5.3 GB. So before
//! the bytes reach the spreadsheet reader, [`check`] walks the zip's central directory and
//! refuses a workbook when
//!
//! - it has more than [`MAX_ENTRIES`] parts, or a part is encrypted;
//! - a part declares more than [`MAX_PART_BYTES`] uncompressed, or all parts together more
//!   than [`MAX_TOTAL_BYTES`];
//! - a part larger than [`RATIO_FLOOR_BYTES`] declares more than [`MAX_RATIO`] times its
//!   compressed size;
//!
//! and then decompresses every part as a stream (nothing is kept), counting the bytes it really
//! yields, because declared sizes can lie: a part that yields more than it declared is refused
//! the moment it does, so no part is ever decompressed beyond the limits. While streaming, the
//! shared strings and the worksheets are scanned: at most [`MAX_SHARED_STRINGS`] shared strings
//! (the declared `uniqueCount` too, which the reader would reserve memory for), and no string
//! or cell text longer than [`MAX_TEXT_CHARS`] characters (Excel's own limit for a cell).
//!
//! Pure: bytes in, a verdict out.

use std::io::{Cursor, Read};

use zip::ZipArchive;

/// At most this many parts (files) in a workbook; a survey workbook has about a dozen.
pub const MAX_ENTRIES: usize = 256;
/// At most this many bytes in one part, uncompressed. A full sheet of 20,000 villages written
/// by the export is about 7 MB.
pub const MAX_PART_BYTES: u64 = 24 * 1024 * 1024;
/// At most this many bytes in all parts together, uncompressed.
pub const MAX_TOTAL_BYTES: u64 = 48 * 1024 * 1024;
/// A part larger than this must not have been compressed more than [`MAX_RATIO`] times.
pub const RATIO_FLOOR_BYTES: u64 = 1024 * 1024;
/// The largest compression ratio accepted for a part above [`RATIO_FLOOR_BYTES`]. Spreadsheet
/// XML compresses 5 to 30 times; a zip bomb thousands of times.
pub const MAX_RATIO: u64 = 100;
/// At most this many shared strings (distinct texts): far more than a sheet of
/// [`super::sheet::MAX_SHEET_ROWS`] villages needs.
pub const MAX_SHARED_STRINGS: u64 = 400_000;
/// The longest text of a string or a cell, in characters: Excel's own limit for a cell.
pub const MAX_TEXT_CHARS: u64 = 32_767;

/// Checks the workbook's container before it is read; `Err` says why it is refused, in words
/// for the official who uploaded it.
///
/// # Errors
/// The file is not a zip, or breaks one of the limits of this module.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    // An OLE compound file: an old `.xls`, or an XLSX saved with a password (encrypted).
    if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return Err(
            "the file is an old .xls workbook or has a password: save it in Excel as \
                    an .xlsx workbook without a password"
                .to_owned(),
        );
    }
    let mut zip = ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("not a readable XLSX workbook: {e}"))?;
    if zip.len() > MAX_ENTRIES {
        return Err(format!(
            "the workbook has {} parts; an XLSX sheet has at most {MAX_ENTRIES}",
            zip.len()
        ));
    }
    // The central directory first: refuse on what is declared before decompressing anything.
    let mut declared_total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| format!("not a readable XLSX workbook: {e}"))?;
        let name = entry_name(&entry);
        if entry.encrypted() {
            return Err(format!(
                "the workbook part {name} is encrypted; save the workbook without a password"
            ));
        }
        let (size, compressed) = (entry.size(), entry.compressed_size());
        if size > MAX_PART_BYTES {
            return Err(too_large(&name));
        }
        if size > RATIO_FLOOR_BYTES && size > compressed.saturating_mul(MAX_RATIO) {
            return Err(format!(
                "the workbook part {name} is compressed {}:1, more than any spreadsheet (at most \
                 {MAX_RATIO}:1); it is refused as a zip bomb",
                size / compressed.max(1)
            ));
        }
        declared_total = declared_total.saturating_add(size);
    }
    if declared_total > MAX_TOTAL_BYTES {
        return Err(format!(
            "the workbook is {} MB uncompressed; at most {} MB is read",
            declared_total / (1024 * 1024),
            MAX_TOTAL_BYTES / (1024 * 1024)
        ));
    }
    // Then what the parts really hold, as streams: nothing is kept in memory.
    let mut actual_total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index(i)
            .map_err(|e| format!("not a readable XLSX workbook: {e}"))?;
        let name = entry_name(&entry);
        let declared = entry.size();
        let lower = name.to_ascii_lowercase();
        let mut scan = if lower.ends_with("sharedstrings.xml") {
            Scan::SharedStrings(TextScanner::new(true))
        } else if lower.contains("worksheets/") && lower.ends_with(".xml") {
            Scan::Worksheet(TextScanner::new(false))
        } else {
            Scan::Nothing
        };
        // One byte beyond what was declared (or allowed) is enough to know it lied.
        let cap = declared.min(MAX_PART_BYTES).saturating_add(1);
        let mut reader = entry.take(cap);
        let mut buf = [0u8; 16 * 1024];
        let mut yielded: u64 = 0;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                // The zip reader itself stops a part at its declared size.
                Err(e) if e.to_string().contains("declared") => {
                    return Err(lied(&name, declared));
                }
                Err(e) => return Err(format!("the workbook part {name} is damaged: {e}")),
            };
            yielded += n as u64;
            if yielded > declared || yielded > MAX_PART_BYTES {
                return Err(lied(&name, declared));
            }
            match &mut scan {
                Scan::Nothing => {}
                Scan::SharedStrings(s) | Scan::Worksheet(s) => {
                    s.feed(&buf[..n]).map_err(|e| e.message(&name))?;
                }
            }
        }
        actual_total += yielded;
        if actual_total > MAX_TOTAL_BYTES {
            return Err(format!(
                "the workbook is more than {} MB uncompressed; at most that is read",
                MAX_TOTAL_BYTES / (1024 * 1024)
            ));
        }
    }
    Ok(())
}

/// A part's name as quoted in messages (bounded: names are chosen by whoever made the file).
fn entry_name<R: Read>(entry: &zip::read::ZipFile<'_, R>) -> String {
    let name = String::from_utf8_lossy(entry.name_raw());
    super::sheet::shorten(&name)
}

fn lied(name: &str, declared: u64) -> String {
    format!(
        "the workbook part {name} holds more than it declares ({declared} bytes); it is \
         refused as a zip bomb"
    )
}

fn too_large(name: &str) -> String {
    format!(
        "the workbook part {name} is larger than {} MB uncompressed; a survey sheet is far \
         smaller (is there a very long text in a cell?)",
        MAX_PART_BYTES / (1024 * 1024)
    )
}

enum Scan {
    Nothing,
    SharedStrings(TextScanner),
    Worksheet(TextScanner),
}

/// Why a scanned part is refused.
#[derive(Debug, PartialEq)]
enum ScanError {
    TooManyStrings(u64),
    TextTooLong,
    TagTooLong,
}

impl ScanError {
    fn message(&self, part: &str) -> String {
        match self {
            ScanError::TooManyStrings(n) => format!(
                "the workbook declares or holds {n} different texts (part {part}); a survey \
                 sheet has at most {MAX_SHARED_STRINGS}"
            ),
            ScanError::TextTooLong => format!(
                "a text in the workbook (part {part}) is longer than {MAX_TEXT_CHARS} characters, \
                 Excel's limit for a cell"
            ),
            ScanError::TagTooLong => {
                format!("the workbook part {part} is not spreadsheet XML (a tag is too long)")
            }
        }
    }
}

/// The longest tag (element with its attributes) the scanner accepts.
const MAX_TAG_BYTES: usize = 64 * 1024;

/// A streaming scan of an XML part that measures its texts without parsing it: characters
/// between tags are counted (an entity such as `&amp;` as one), per shared string (`<si>` …
/// `</si>`, whose rich-text runs add up) or per text run in a worksheet. It may over-count
/// (whitespace between runs), never under-count, which is what a bound needs.
struct TextScanner {
    shared_strings: bool,
    in_tag: bool,
    in_entity: bool,
    tag: Vec<u8>,
    text_chars: u64,
    strings: u64,
}

impl TextScanner {
    fn new(shared_strings: bool) -> Self {
        Self {
            shared_strings,
            in_tag: false,
            in_entity: false,
            tag: Vec::new(),
            text_chars: 0,
            strings: 0,
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), ScanError> {
        for &b in bytes {
            if self.in_tag {
                if b == b'>' {
                    self.in_tag = false;
                    self.end_tag()?;
                    self.tag.clear();
                } else if self.tag.len() >= MAX_TAG_BYTES {
                    return Err(ScanError::TagTooLong);
                } else {
                    self.tag.push(b);
                }
            } else if b == b'<' {
                self.in_tag = true;
                self.in_entity = false;
                if !self.shared_strings {
                    // A worksheet's texts are measured one run at a time.
                    self.text_chars = 0;
                }
            } else if self.in_entity {
                self.in_entity = b != b';';
            } else {
                // Count characters, not bytes: skip UTF-8 continuation bytes.
                if b & 0xC0 != 0x80 {
                    self.text_chars += 1;
                }
                self.in_entity = b == b'&';
                if self.text_chars > MAX_TEXT_CHARS {
                    return Err(ScanError::TextTooLong);
                }
            }
        }
        Ok(())
    }

    /// A tag has ended: a new shared string starts at `<si>`, and `<sst uniqueCount="…">`
    /// declares how many there are.
    fn end_tag(&mut self) -> Result<(), ScanError> {
        if !self.shared_strings {
            return Ok(());
        }
        let tag = self.tag.as_slice();
        let name_end = tag
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'/')
            .unwrap_or(tag.len());
        let name = &tag[..name_end];
        // Namespace prefixes (`x:si`) are allowed.
        let local = name.rsplit(|b| *b == b':').next().unwrap_or(name);
        match local {
            b"si" => {
                self.strings += 1;
                self.text_chars = 0;
                if self.strings > MAX_SHARED_STRINGS {
                    return Err(ScanError::TooManyStrings(self.strings));
                }
            }
            b"sst" => {
                for attribute in [&b"uniqueCount"[..], &b"count"[..]] {
                    if let Some(n) = attribute_number(tag, attribute) {
                        // `count` counts uses, not strings; only `uniqueCount` is bounded.
                        if attribute == b"uniqueCount" && n > MAX_SHARED_STRINGS {
                            return Err(ScanError::TooManyStrings(n));
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The number in ` name="123"` within a tag, saturating (a 30-digit count is still too many);
/// `None` when absent or not a number.
fn attribute_number(tag: &[u8], name: &[u8]) -> Option<u64> {
    let mut rest = tag;
    while let Some(at) = find(rest, name) {
        let before = at.checked_sub(1).map(|i| rest[i]);
        let after = &rest[at + name.len()..];
        rest = after;
        if !before.is_some_and(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let after = after.trim_ascii_start();
        let Some(after) = after.strip_prefix(b"=") else {
            continue;
        };
        let after = after.trim_ascii_start();
        let after = after.get(1..)?; // the opening quote
        let digits: Vec<u8> = after
            .iter()
            .copied()
            .take_while(u8::is_ascii_digit)
            .collect();
        if digits.is_empty() {
            return None;
        }
        return Some(digits.iter().fold(0u64, |n, d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        }));
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A workbook-like zip of the given parts, deflated.
    fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in parts {
            writer.start_file(*name, options).expect("start");
            writer.write_all(body).expect("write");
        }
        writer.finish().expect("finish").into_inner()
    }

    fn shared_strings(strings: &[&str], unique_count: &str) -> Vec<u8> {
        let mut xml = format!(
            "<?xml version=\"1.0\"?><sst xmlns=\"http://schemas.openxmlformats.org/\" \
             count=\"{0}\" uniqueCount=\"{unique_count}\">",
            strings.len()
        );
        for s in strings {
            xml.push_str(&format!("<si><t>{s}</t></si>"));
        }
        xml.push_str("</sst>");
        xml.into_bytes()
    }

    #[test]
    fn an_ordinary_workbook_passes() {
        let bytes = zip_of(&[
            (
                "xl/sharedStrings.xml",
                &shared_strings(&["村名", "a &amp; b"], "2"),
            ),
            (
                "xl/worksheets/sheet1.xml",
                b"<worksheet><c><v>12</v></c></worksheet>",
            ),
        ]);
        assert_eq!(check(&bytes), Ok(()));
    }

    #[test]
    fn a_part_declaring_too_much_is_refused_before_decompressing() {
        // 30 MB of one letter compresses to about 30 KB (1000:1).
        let big = vec![b'a'; 30 * 1024 * 1024];
        let bytes = zip_of(&[("xl/styles.xml", &big)]);
        assert!(bytes.len() < 100 * 1024, "small on disk: {}", bytes.len());
        let error = check(&bytes).expect_err("too large");
        assert!(error.contains("larger than 24 MB"), "{error}");
    }

    #[test]
    fn a_highly_compressed_part_is_refused_by_ratio() {
        let big = vec![b'a'; 4 * 1024 * 1024];
        let error = check(&zip_of(&[("xl/styles.xml", &big)])).expect_err("ratio");
        assert!(error.contains("zip bomb"), "{error}");
    }

    /// Rewrites every uncompressed-size field (local headers and central directory) of a
    /// single-entry zip to `size`, as a forger would.
    fn forge_uncompressed_size(mut bytes: Vec<u8>, real: u32, size: u32) -> Vec<u8> {
        let mut forged = 0;
        // Local header: signature PK\x03\x04, uncompressed size at +22.
        // Central directory: signature PK\x01\x02, uncompressed size at +24.
        for (signature, offset) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
            let at = find(&bytes, signature).expect("signature");
            let field = at + offset;
            let stored = u32::from_le_bytes(bytes[field..field + 4].try_into().expect("4 bytes"));
            // Writers may put sizes in a data descriptor instead (0 in the local header).
            if stored == real {
                bytes[field..field + 4].copy_from_slice(&size.to_le_bytes());
                forged += 1;
            }
        }
        assert!(forged >= 1, "found the size fields");
        bytes
    }

    #[test]
    fn a_part_that_holds_more_than_it_declares_is_refused_while_streaming() {
        // 6 MB of shared string text, declared as 1 KB: passes the directory checks, so only
        // counting what decompression really yields catches it.
        let text = "a".repeat(6 * 1024 * 1024);
        let xml = shared_strings(&[&text], "1");
        let real = u32::try_from(xml.len()).expect("fits");
        let bytes = forge_uncompressed_size(zip_of(&[("xl/sharedStrings.xml", &xml)]), real, 1024);
        let error = check(&bytes).expect_err("lies about its size");
        assert!(error.contains("more than it declares"), "{error}");
    }

    #[test]
    fn shared_strings_are_bounded_in_length_and_count() {
        let long = "长".repeat(usize::try_from(MAX_TEXT_CHARS).expect("fits") + 1);
        let error = check(&zip_of(&[(
            "xl/sharedStrings.xml",
            &shared_strings(&[&long], "1"),
        )]))
        .expect_err("too long");
        assert!(error.contains("longer than 32767 characters"), "{error}");
        // Exactly at the limit, with entities counted as one character, passes.
        let at_limit = format!(
            "&amp;{}",
            "a".repeat(usize::try_from(MAX_TEXT_CHARS).expect("fits") - 1)
        );
        assert_eq!(
            check(&zip_of(&[(
                "xl/sharedStrings.xml",
                &shared_strings(&[&at_limit], "1")
            )])),
            Ok(())
        );
        // A declared count the reader would reserve memory for.
        let error = check(&zip_of(&[(
            "xl/sharedStrings.xml",
            &shared_strings(&["x"], "900000000000"),
        )]))
        .expect_err("uniqueCount");
        assert!(error.contains("900000000000 different texts"), "{error}");
        // Rich-text runs of one string add up.
        let half = "b".repeat(20_000);
        let xml = format!("<sst><si><r><t>{half}</t></r><r><t>{half}</t></r></si></sst>");
        assert!(check(&zip_of(&[("xl/sharedStrings.xml", xml.as_bytes())])).is_err());
    }

    #[test]
    fn a_long_inline_text_in_a_worksheet_is_refused() {
        let long = "x".repeat(40_000);
        let xml = format!("<worksheet><c t=\"inlineStr\"><is><t>{long}</t></is></c></worksheet>");
        let error =
            check(&zip_of(&[("xl/worksheets/sheet1.xml", xml.as_bytes())])).expect_err("long");
        assert!(error.contains("longer than"), "{error}");
    }

    #[test]
    fn attribute_numbers_are_read_whole_words_only() {
        let tag = b"sst count=\"7\" uniqueCount = '5'";
        assert_eq!(attribute_number(tag, b"uniqueCount"), Some(5));
        assert_eq!(attribute_number(tag, b"count"), Some(7));
        assert_eq!(attribute_number(b"sst xcount=\"7\"", b"count"), None);
        assert_eq!(
            attribute_number(
                b"sst uniqueCount=\"99999999999999999999999\"",
                b"uniqueCount"
            ),
            Some(u64::MAX)
        );
    }

    #[test]
    fn not_a_zip_is_refused() {
        assert!(check(b"village_code,eligible_total").is_err());
        let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
        ole.extend_from_slice(&[0; 504]);
        let error = check(&ole).expect_err("an OLE file");
        assert!(error.contains("without a password"), "{error}");
    }
}
