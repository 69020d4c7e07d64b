//! tongban-tables: the tables departments publish, with no IO — files read into typed columns
//! ([`table`], row by row in [`rows`]: CSV in UTF-8 or GBK, JSON records, XLSX workbooks through [`xlsx`], all into the
//! [`shape`] of a table), the personal-data gate that scans every cell before publication
//! ([`gate`]), and charts of their numbers drawn as SVG ([`chart`]).
#![forbid(unsafe_code)]

pub mod chart;
pub mod gate;
pub mod map;
pub mod rows;
pub mod shape;
pub mod table;
pub mod xlsx;
