//! Fuzzes the reading of uploaded tables and the personal-data gate: any bytes, as CSV, JSON or
//! an XLSX workbook, are read or refused with an error, never a panic; whatever is read is typed, scanned,
//! masked and charted without a panic, and a masked cell has nothing left for the gate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_tables::{chart, gate, table};

fuzz_target!(|data: &[u8]| {
    let format = match data.first().map(|b| b % 3) { Some(0) => table::Format::Csv, Some(1) => table::Format::Json, _ => table::Format::Xlsx };
    let Ok(read) = table::parse(data.get(1..).unwrap_or_default(), format) else { return };
    let fields = table::infer(&read);
    assert_eq!(fields.len(), read.columns.len());
    let quasi: Vec<String> = read.columns.iter().take(2).cloned().collect();
    let findings = gate::scan(&read.columns, read.rows.iter().map(Vec::as_slice), &quasi, gate::DEFAULT_K);
    for finding in &findings {
        assert!(finding.first_rows.len() <= 5);
    }
    for row in &read.rows {
        for (cell, column) in row.iter().zip(&read.columns) {
            let masked = gate::mask_cell(cell, None);
            let mut left = 0;
            gate::each_match(&masked, |_, _| left += 1);
            assert_eq!(left, 0, "{cell:?} masked as {masked:?}");
            let _ = gate::mask_cell(cell, gate::column_kind(column));
        }
    }
    let _ = chart::chart(&fields, &read.rows);
    let written = table::to_csv(&read.columns, read.rows.iter().map(Vec::as_slice));
    let again = table::parse(&written, table::Format::Csv);
    if !read.rows.is_empty() && read.columns.iter().all(|c| !c.is_empty()) {
        assert!(again.is_ok(), "a table written as CSV reads back");
    }
});
