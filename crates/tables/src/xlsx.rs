//! XLSX workbooks (Office Open XML spreadsheets) read as a [`Table`]: the first sheet, its
//! first non-empty row the header. Cells are streamed one at a time, so a sheet that claims a
//! vast range costs only the cells it holds; a workbook whose parts would unpack to more than
//! [`MAX_UNPACKED`] bytes is refused before anything is unpacked (a zip bomb).
//!
//! Excel keeps every number as a float and dates as day numbers; cells become the text a
//! person sees: `12` rather than `12.0`, `2026-03-01` for a date, `2026-03-01 08:30:00` for a
//! time of day, `TRUE`/`FALSE`, and a code typed as text (`007`) stays as typed.

use std::io::Cursor;

use calamine::{DataRef, ExcelDateTime, Reader, Xlsx};

use crate::shape::{MAX_CELL, MAX_COLUMNS, Table, TableError};

/// The most a workbook's parts may unpack to, all together.
pub const MAX_UNPACKED: u64 = 256 * 1024 * 1024;

/// Reads the first sheet of a workbook.
pub fn parse(bytes: &[u8]) -> Result<Table, TableError> {
    check_unpacked_size(bytes)?;
    let bad = |e: calamine::XlsxError| TableError::Xlsx(e.to_string());
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(bad)?;
    let Some(sheet) = workbook.sheet_names().into_iter().next() else {
        return Err(TableError::Empty);
    };
    let mut cells = workbook.worksheet_cells_reader(&sheet).map_err(bad)?;
    // Rows as they arrive: (sheet row, cells by column).
    let mut header: Option<(u32, Vec<String>)> = None;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut current: Option<(u32, Vec<String>)> = None;
    let mut last_row = 0u32;
    while let Some(cell) = cells.next_cell().map_err(bad)? {
        let (row, column) = cell.get_position();
        let line = u64::from(row) + 1;
        if row < last_row {
            return Err(TableError::Xlsx(format!(
                "row {line} comes after a later row"
            )));
        }
        last_row = row;
        let text = cell_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        if text.len() > MAX_CELL {
            return Err(TableError::CellTooLarge { line });
        }
        let column = column as usize;
        let Some((header_row, names)) = &mut header else {
            if column >= MAX_COLUMNS {
                return Err(TableError::TooManyColumns(column + 1));
            }
            let mut names = vec![String::new(); column + 1];
            names[column] = text.trim().to_owned();
            header = Some((row, names));
            continue;
        };
        if row == *header_row {
            if column >= MAX_COLUMNS {
                return Err(TableError::TooManyColumns(column + 1));
            }
            if names.len() <= column {
                names.resize(column + 1, String::new());
            }
            names[column] = text.trim().to_owned();
            continue;
        }
        let width = names.len();
        if column >= width {
            return Err(TableError::Ragged {
                line,
                expected: width,
                found: column + 1,
            });
        }
        match &mut current {
            Some((at, cells)) if *at == row => cells[column] = text,
            _ => {
                if let Some((_, done)) = current.take() {
                    rows.push(done);
                }
                let mut cells = vec![String::new(); width];
                cells[column] = text;
                current = Some((row, cells));
            }
        }
    }
    if let Some((_, done)) = current {
        rows.push(done);
    }
    let Some((_, columns)) = header else {
        return Err(TableError::Empty);
    };
    Ok(Table { columns, rows })
}

/// A sheet of a workbook as it was typed: its name and its rows that hold anything, each with
/// its line number (from 1) and its cells by column (empty ones as empty texts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<(u32, Vec<String>)>,
}

/// Reads every sheet of a workbook (for workbooks whose sheets mean different things, such as
/// an XLSForm); a sheet of more than `max_rows` rows is refused.
pub fn sheets(bytes: &[u8], max_rows: usize) -> Result<Vec<Sheet>, TableError> {
    check_unpacked_size(bytes)?;
    let bad = |e: calamine::XlsxError| TableError::Xlsx(e.to_string());
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(bad)?;
    let mut out = Vec::new();
    for name in workbook.sheet_names() {
        let mut cells = workbook.worksheet_cells_reader(&name).map_err(bad)?;
        let mut rows: Vec<(u32, Vec<String>)> = Vec::new();
        while let Some(cell) = cells.next_cell().map_err(bad)? {
            let (row, column) = cell.get_position();
            let line = row + 1;
            let text = cell_text(cell.get_value());
            if text.is_empty() {
                continue;
            }
            if text.len() > MAX_CELL {
                return Err(TableError::CellTooLarge {
                    line: u64::from(line),
                });
            }
            let column = column as usize;
            if column >= MAX_COLUMNS {
                return Err(TableError::TooManyColumns(column + 1));
            }
            if rows.last().is_none_or(|(at, _)| *at != line) {
                if rows.last().is_some_and(|(at, _)| *at > line) {
                    return Err(TableError::Xlsx(format!(
                        "row {line} of sheet {name} comes after a later row"
                    )));
                }
                if rows.len() >= max_rows {
                    return Err(TableError::Xlsx(format!(
                        "sheet {name} has more than {max_rows} rows"
                    )));
                }
                rows.push((line, Vec::new()));
            }
            if let Some((_, cells)) = rows.last_mut() {
                if cells.len() <= column {
                    cells.resize(column + 1, String::new());
                }
                cells[column] = text;
            }
        }
        out.push(Sheet { name, rows });
    }
    Ok(out)
}

/// Refuses a workbook whose parts, as its central directory declares them, unpack to more
/// than [`MAX_UNPACKED`] bytes.
fn check_unpacked_size(bytes: &[u8]) -> Result<(), TableError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| TableError::Xlsx(format!("not a zip archive: {e}")))?;
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let part = archive
            .by_index_raw(index)
            .map_err(|e| TableError::Xlsx(e.to_string()))?;
        total = total.saturating_add(part.size());
    }
    if total > MAX_UNPACKED {
        return Err(TableError::Xlsx(format!(
            "it unpacks to {total} bytes; at most {MAX_UNPACKED} are taken"
        )));
    }
    Ok(())
}

fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Empty => String::new(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(x) => number_text(*x),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        DataRef::DateTime(at) => date_text(at),
        DataRef::Error(e) => e.to_string(),
    }
}

/// A float as a person reads it: whole numbers without a fraction.
fn number_text(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn date_text(at: &ExcelDateTime) -> String {
    if !at.is_datetime() {
        return number_text(at.as_f64());
    }
    let (year, month, day, hour, minute, second, _) = at.to_ymd_hms_milli();
    if (hour, minute, second) == (0, 0, 0) {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
    }
}

/// Whether a cell's text is written as a number: it reads as one, and it is not a code with a
/// leading zero (`007`).
fn is_number(value: &str) -> bool {
    let digits = value.trim_start_matches('-');
    value.parse::<f64>().is_ok_and(f64::is_finite)
        && !(digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0."))
}

/// XLSX workbooks written: named sheets of inline strings and numbers (a cell that reads as a
/// number is written as one, except codes with a leading zero such as `007`), with a date style
/// for cells written `date:YYYY-MM-DD`. Exports (一表通's roll-ups) and test fixtures use it.
pub mod write {
    use std::io::Write;

    /// An XLSX workbook of named sheets, each a list of rows (the first its header).
    pub fn workbook_of(sheets: &[(&str, &[Vec<String>])]) -> Vec<u8> {
        let texts: Vec<String> = sheets.iter().map(|(_, rows)| sheet_xml(rows)).collect();
        let mut types = String::new();
        let mut entries = String::new();
        let mut relations = String::new();
        for (i, (name, _)) in sheets.iter().enumerate() {
            let n = i + 1;
            types.push_str(&format!(r#"<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#));
            entries.push_str(&format!(
                r#"<sheet name="{}" sheetId="{n}" r:id="rId{n}"/>"#,
                escape(name)
            ));
            relations.push_str(&format!(r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>"#));
        }
        let styles_id = sheets.len() + 1;
        let parts: Vec<(String, String)> = vec![
            (
                "[Content_Types].xml".into(),
                format!(r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{types}<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#),
            ),
            (
                "_rels/.rels".into(),
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into(),
            ),
            (
                "xl/workbook.xml".into(),
                format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{entries}</sheets></workbook>"#),
            ),
            (
                "xl/_rels/workbook.xml.rels".into(),
                format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{relations}<Relationship Id="rId{styles_id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#),
            ),
            (
                "xl/styles.xml".into(),
                r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>"#.into(),
            ),
        ];
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let sheet_parts = texts
            .iter()
            .enumerate()
            .map(|(i, text)| (format!("xl/worksheets/sheet{}.xml", i + 1), text.clone()));
        for (name, text) in parts.into_iter().chain(sheet_parts) {
            // Writing to memory cannot fail.
            let _ = out.start_file(name, options);
            let _ = out.write_all(text.as_bytes());
        }
        out.finish().map(|c| c.into_inner()).unwrap_or_default()
    }

    fn sheet_xml(rows: &[Vec<String>]) -> String {
        let mut sheet = String::from(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
        );
        for (r, row) in rows.iter().enumerate() {
            sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
            for (c, value) in row.iter().enumerate() {
                let at = format!("{}{}", column_name(c), r + 1);
                if value.is_empty() {
                    continue;
                }
                if let Some(date) = value.strip_prefix("date:") {
                    sheet.push_str(&format!(r#"<c r="{at}" s="1"><v>{}</v></c>"#, serial(date)));
                } else if r > 0 && super::is_number(value) {
                    sheet.push_str(&format!(r#"<c r="{at}"><v>{value}</v></c>"#));
                } else {
                    sheet.push_str(&format!(
                        r#"<c r="{at}" t="inlineStr"><is><t>{}</t></is></c>"#,
                        escape(value)
                    ));
                }
            }
            sheet.push_str("</row>");
        }
        sheet.push_str("</sheetData></worksheet>");
        sheet
    }

    fn column_name(mut index: usize) -> String {
        let mut name = Vec::new();
        loop {
            name.push(b'A' + (index % 26) as u8);
            if index < 26 {
                break;
            }
            index = index / 26 - 1;
        }
        name.reverse();
        String::from_utf8(name).unwrap_or_default()
    }

    /// Excel's serial day number of a date (1900 date system).
    fn serial(date: &str) -> i64 {
        let parsed = time::Date::parse(
            date,
            time::macros::format_description!("[year]-[month]-[day]"),
        );
        let epoch = time::macros::date!(1899 - 12 - 30);
        parsed.map_or(0, |d| (d - epoch).whole_days())
    }

    fn escape(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
}

/// Workbooks written for tests.
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures {
    pub use super::write::workbook_of;

    /// An XLSX workbook of one sheet: the header, then the rows.
    pub fn workbook(columns: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
        let header: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
        let all: Vec<Vec<String>> = std::iter::once(header)
            .chain(rows.iter().cloned())
            .collect();
        workbook_of(&[("数据", &all)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_numbers_and_codes_as_text() {
        for number in ["0", "0.5", "-2.5", "12", "1e3"] {
            assert!(is_number(number), "{number}");
        }
        for text in ["007", "-007", "339901", "NaN", "inf", "x"] {
            assert_eq!(is_number(text), text == "339901", "{text}");
        }
    }
    use crate::table::{ColumnType, Format, infer};

    fn cells(row: &[&str]) -> Vec<String> {
        row.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn a_workbook_reads_as_the_person_sees_it() {
        let bytes = fixtures::workbook(
            &["区县", "数量", "日期", "编码"],
            &[
                cells(&["江北区", "12", "date:2026-03-01", "007"]),
                cells(&["江南区", "3.5", "", "012"]),
            ],
        );
        let table = crate::table::parse(&bytes, Format::Xlsx).expect("reads");
        assert_eq!(table.columns, vec!["区县", "数量", "日期", "编码"]);
        assert_eq!(table.rows[0], cells(&["江北区", "12", "2026-03-01", "007"]));
        assert_eq!(table.rows[1], cells(&["江南区", "3.5", "", "012"]));
        let kinds: Vec<ColumnType> = infer(&table).into_iter().map(|f| f.kind).collect();
        use ColumnType::*;
        assert_eq!(kinds, vec![Text, Number, Date, Text]);
    }

    #[test]
    fn broken_and_oversized_workbooks_are_refused() {
        assert!(matches!(
            crate::table::parse(b"PK\x03\x04 not really", Format::Xlsx),
            Err(TableError::Xlsx(_))
        ));
        assert!(matches!(
            crate::table::parse(b"a,b\n1,2\n", Format::Xlsx),
            Err(TableError::Xlsx(_))
        ));
        // A cell right of the header is a ragged row, named by its line.
        let bytes = fixtures::workbook(&["a"], &[cells(&["1", "2"])]);
        assert_eq!(
            crate::table::parse(&bytes, Format::Xlsx),
            Err(TableError::Ragged {
                line: 2,
                expected: 1,
                found: 2
            })
        );
        // A sheet that compresses 300 MB of nothing into a small file.
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        out.start_file("xl/worksheets/sheet1.xml", options)
            .expect("start");
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..300 {
            std::io::Write::write_all(&mut out, &zeros).expect("write");
        }
        let bomb = out.finish().expect("finish").into_inner();
        assert!(bomb.len() < 2 * 1024 * 1024);
        match crate::table::parse(&bomb, Format::Xlsx) {
            Err(TableError::Xlsx(why)) => assert!(why.contains("unpacks to"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
