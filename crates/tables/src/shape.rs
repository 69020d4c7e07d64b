//! What every reader of tables makes: a [`Table`] of text cells, the limits it is read within,
//! and the ways a file can be wrong ([`TableError`]).

use std::fmt;

/// At most this many columns in a table.
pub const MAX_COLUMNS: usize = 256;
/// At most this many bytes in one cell.
pub const MAX_CELL: usize = 32 * 1024;

/// A table read from a file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableError {
    /// Neither UTF-8 nor GBK.
    Encoding,
    /// No header, or nothing in it.
    Empty,
    TooManyColumns(usize),
    /// A row with another number of cells than the header (1-based line of the file).
    Ragged {
        line: u64,
        expected: usize,
        found: usize,
    },
    CellTooLarge {
        line: u64,
    },
    /// CSV the reader could not take, at a line.
    Csv {
        line: u64,
    },
    /// JSON that is not an array of records.
    Json(String),
    /// A workbook that cannot be read, or that would unpack to more than the most a workbook
    /// may unpack to (256 MiB).
    Xlsx(String),
    /// The file could not be read to its end (its store failed, not its content).
    Read(String),
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableError::Encoding => write!(f, "the file is neither UTF-8 nor GBK text"),
            TableError::Empty => write!(f, "the file has no header row"),
            TableError::TooManyColumns(n) => {
                write!(
                    f,
                    "the file has {n} columns; at most {MAX_COLUMNS} are taken"
                )
            }
            TableError::Ragged {
                line,
                expected,
                found,
            } => write!(
                f,
                "line {line} has {found} cells where the header has {expected}"
            ),
            TableError::CellTooLarge { line } => {
                write!(f, "line {line} has a cell over {MAX_CELL} bytes")
            }
            TableError::Csv { line } => write!(f, "line {line} is not valid CSV"),
            TableError::Json(why) => write!(f, "not an array of JSON records: {why}"),
            TableError::Xlsx(why) => write!(f, "not a readable XLSX workbook: {why}"),
            TableError::Read(why) => write!(f, "the file could not be read: {why}"),
        }
    }
}

impl std::error::Error for TableError {}

/// Column names made unique and never empty (`column_3`, `名称_2`); `_id` is the datastore's.
pub(crate) fn unique_names(columns: Vec<String>) -> Vec<String> {
    let mut taken: Vec<String> = vec!["_id".into()];
    columns
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let base = if name.is_empty() {
                format!("column_{}", i + 1)
            } else {
                name
            };
            let mut candidate = base.clone();
            let mut n = 2;
            while taken.contains(&candidate) {
                candidate = format!("{base}_{n}");
                n += 1;
            }
            taken.push(candidate.clone());
            candidate
        })
        .collect()
}
