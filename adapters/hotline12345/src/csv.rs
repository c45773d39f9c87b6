//! Legacy CSV exports: decoding (UTF-8 with or without BOM, else GBK) and rows as [`Order`]s
//! with their line numbers. A malformed row (wrong number of fields, broken quoting) is an
//! error for that row only; reading goes on with the next.
use std::borrow::Cow;

use crate::{CsvError, Order, RowError};

/// The file's text: UTF-8 (a BOM is stripped) if it is valid UTF-8, else GBK (GB18030, its
/// superset, as encoding_rs decodes it). Bytes that are neither are an error, not replaced.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, CsvError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(s));
    }
    match encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(s) => Ok(s),
        None => {
            // Point at the first bad byte so the operator can look at it.
            let offset = std::str::from_utf8(bytes)
                .err()
                .map_or(0, |e| e.valid_up_to());
            Err(CsvError::Encoding { offset })
        }
    }
}

/// The rows of a CSV text, each with its row number counted as a spreadsheet does: the header
/// is row 1, the first record row 2 (a record with a quoted line break is still one row;
/// blank lines are skipped and not counted).
pub struct Rows<'a> {
    row: u64,
    reader: ::csv::Reader<&'a [u8]>,
    headers: Vec<String>,
    record: ::csv::StringRecord,
}

impl<'a> Rows<'a> {
    /// Reads the header row of `text`.
    pub fn new(text: &'a str) -> Result<Self, CsvError> {
        let mut reader = ::csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| CsvError::Header(e.to_string()))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(CsvError::Header("empty".into()));
        }
        Ok(Self {
            row: 1,
            reader,
            headers,
            record: ::csv::StringRecord::new(),
        })
    }

    /// The header's field names.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }
}

impl Iterator for Rows<'_> {
    type Item = (u64, Result<Order, RowError>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {
                    // A blank line is no row.
                    if self.record.len() == 1 && self.record.get(0).is_some_and(str::is_empty) {
                        continue;
                    }
                    self.row += 1;
                    let line = self.row;
                    if self.record.len() != self.headers.len() {
                        let message = format!(
                            "{} fields, the header has {}",
                            self.record.len(),
                            self.headers.len()
                        );
                        return Some((line, Err(RowError { message })));
                    }
                    let order = Order::from_pairs(
                        self.headers
                            .iter()
                            .zip(self.record.iter())
                            .map(|(h, v)| (h.as_str(), v)),
                    );
                    return Some((line, Ok(order)));
                }
                Err(e) => {
                    self.row += 1;
                    let line = self.row;
                    let message = match e.kind() {
                        ::csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".to_owned(),
                        _ => e.to_string(),
                    };
                    return Some((line, Err(RowError { message })));
                }
            }
        }
    }
}
