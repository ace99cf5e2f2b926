//! Report tables as CSV (quoted by the csv crate; text that a spreadsheet would run as
//! a formula is prefixed with `'`) or XLSX (rust_xlsxwriter; text is written as text).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use shared::ApiError;

/// One cell of a report table.
pub enum Cell {
    Text(String),
    Num(Option<f64>),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Self {
        Cell::Num(v)
    }
}
impl From<u64> for Cell {
    fn from(v: u64) -> Self {
        Cell::Num(Some(v as f64))
    }
}

/// A report as one table: a header row and rows of cells.
pub struct Table {
    pub name: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(raw: Option<&str>) -> Result<Format, ApiError> {
        match raw.unwrap_or("json") {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            other => Err(ApiError::invalid(format!(
                "format: expected json, csv or xlsx, got {other:?}"
            ))),
        }
    }
}

/// Text a spreadsheet would take for a formula, made inert.
fn inert(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

pub fn to_csv(t: &Table) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| ApiError::new(shared::ErrorCode::Internal, format!("csv: {e}"));
    w.write_record(&t.headers).map_err(fail)?;
    for row in &t.rows {
        let rec: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Text(s) => inert(s),
                Cell::Num(Some(v)) => number(*v),
                Cell::Num(None) => String::new(),
            })
            .collect();
        w.write_record(&rec).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| ApiError::new(shared::ErrorCode::Internal, format!("csv: {e}")))
}

pub fn to_xlsx(t: &Table) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let fail = |e: rust_xlsxwriter::XlsxError| {
        ApiError::new(shared::ErrorCode::Internal, format!("xlsx: {e}"))
    };
    let mut book = Workbook::new();
    let bold = XFormat::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name(t.name).map_err(fail)?;
    for (c, h) in t.headers.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *h, &bold)
            .map_err(fail)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = (r + 1) as u32;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, c, s).map_err(fail)?;
                }
                Cell::Num(Some(v)) => {
                    sheet.write_number(r, c, *v).map_err(fail)?;
                }
                Cell::Num(None) => {}
            }
        }
    }
    book.save_to_buffer().map_err(fail)
}

/// The table in the format asked for, as a download.
pub fn download(t: &Table, format: Format, file: &str) -> Result<Response, ApiError> {
    let (bytes, mime, ext) = match format {
        Format::Csv => (to_csv(t)?, "text/csv; charset=utf-8", "csv"),
        Format::Xlsx | Format::Json => (
            to_xlsx(t)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let disposition = format!("attachment; filename=\"{file}.{ext}\"");
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let t = Table {
            name: "t",
            headers: vec!["a", "b"],
            rows: vec![vec![Cell::from("=1+1, \"x\""), Cell::Num(Some(2.5))]],
        };
        let s = String::from_utf8(to_csv(&t).unwrap_or_default()).unwrap_or_default();
        assert_eq!(s, "a,b\n\"'=1+1, \"\"x\"\"\",2.5\n");
    }
}
