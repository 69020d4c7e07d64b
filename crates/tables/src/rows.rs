//! Tables read a row at a time, so that a file of any length is read in bounded memory: a CSV
//! file as a stream (UTF-8, or GBK when its first 64 KiB are not UTF-8); JSON and workbooks
//! are read whole ([`crate::table::rows`] opens any format). What is kept of a table while its
//! rows pass is gathered by accumulators: each column's type in
//! [`crate::table::Inference`], the personal-data gate's findings in
//! [`crate::gate::Scanner`].

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

use crate::shape::{MAX_CELL, MAX_COLUMNS, Table, TableError, unique_names};

/// How many bytes of a CSV file decide its encoding.
const SNIFF: u64 = 64 * 1024;
/// The most bytes one CSV record may take (every column at its largest cell); a longer
/// record is refused before it is held in memory.
const MAX_RECORD: u64 = (MAX_COLUMNS * MAX_CELL) as u64 + 64 * 1024;

/// The rows of a file, one at a time, after its header.
pub struct Rows<'r> {
    /// The header: unique names, never empty.
    pub columns: Vec<String>,
    source: Source<'r>,
}

enum Source<'r> {
    Csv {
        reader: Box<csv::Reader<Box<dyn Read + 'r>>>,
        record: csv::ByteRecord,
        /// Where the last record ended, for the bound on a record's length.
        ended: Rc<Cell<u64>>,
        /// Whether the stream is GBK decoded to UTF-8 (a record's bytes are then always UTF-8).
        gbk: bool,
    },
    Whole(std::vec::IntoIter<Vec<String>>),
}

impl<'r> Rows<'r> {
    /// The rows of a table already read whole.
    pub fn whole(table: Table) -> Rows<'r> {
        Rows {
            columns: table.columns,
            source: Source::Whole(table.rows.into_iter()),
        }
    }
}

pub(crate) fn io_error(error: io::Error) -> TableError {
    match error.kind() {
        io::ErrorKind::InvalidData => TableError::Encoding,
        _ => TableError::Read(error.to_string()),
    }
}

/// Opens a CSV file for reading its rows: the header is read (and checked) at once.
pub fn csv<'r>(mut input: Box<dyn Read + 'r>) -> Result<Rows<'r>, TableError> {
    let mut head = Vec::new();
    (&mut input)
        .take(SNIFF)
        .read_to_end(&mut head)
        .map_err(io_error)?;
    let head = match head.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => head,
    };
    // A head that is UTF-8 up to a character cut at its end is UTF-8.
    let utf8 = match std::str::from_utf8(&head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    let whole: Box<dyn Read + 'r> = Box::new(io::Cursor::new(head).chain(input));
    let text: Box<dyn Read + 'r> = if utf8 {
        whole
    } else {
        Box::new(Gb18030::new(whole))
    };
    let ended = Rc::new(Cell::new(0));
    let bounded: Box<dyn Read + 'r> = Box::new(Bounded {
        inner: text,
        given: 0,
        ended: ended.clone(),
    });
    let mut reader = Box::new(
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bounded),
    );
    let mut record = csv::ByteRecord::new();
    let read = reader.read_byte_record(&mut record);
    match read {
        Ok(true) => {}
        Ok(false) => return Err(TableError::Empty),
        Err(e) => return Err(csv_error(&e, 1)),
    }
    ended.set(reader.position().byte());
    let mut columns = Vec::with_capacity(record.len());
    for cell in record.iter() {
        columns.push(utf8_cell(cell)?.trim().to_owned());
    }
    if columns.iter().all(String::is_empty) {
        return Err(TableError::Empty);
    }
    if columns.len() > MAX_COLUMNS {
        return Err(TableError::TooManyColumns(columns.len()));
    }
    Ok(Rows {
        columns: unique_names(columns),
        source: Source::Csv {
            reader,
            record,
            ended,
            gbk: !utf8,
        },
    })
}

fn utf8_cell(cell: &[u8]) -> Result<String, TableError> {
    String::from_utf8(cell.to_vec()).map_err(|_| TableError::Encoding)
}

fn csv_error(error: &csv::Error, line: u64) -> TableError {
    let line = error.position().map_or(line, csv::Position::line);
    match error.kind() {
        csv::ErrorKind::Io(io) if io.kind() == io::ErrorKind::InvalidData => TableError::Encoding,
        csv::ErrorKind::Io(io) if io.kind() == io::ErrorKind::FileTooLarge => {
            TableError::CellTooLarge { line }
        }
        csv::ErrorKind::Io(io) => TableError::Read(io.to_string()),
        _ => TableError::Csv { line },
    }
}

impl Rows<'_> {
    /// The next row, `None` at the end of the file.
    pub fn next_row(&mut self) -> Option<Result<Vec<String>, TableError>> {
        match &mut self.source {
            Source::Whole(rows) => rows.next().map(Ok),
            Source::Csv {
                reader,
                record,
                ended,
                gbk,
            } => loop {
                let line = reader.position().line();
                match reader.read_byte_record(record) {
                    Ok(false) => return None,
                    Ok(true) => {}
                    Err(e) => return Some(Err(csv_error(&e, line))),
                }
                ended.set(reader.position().byte());
                let line = record.position().map_or(line, csv::Position::line);
                if record.len() == 1 && record.get(0).is_some_and(<[u8]>::is_empty) {
                    continue; // a blank line
                }
                if record.len() != self.columns.len() {
                    return Some(Err(TableError::Ragged {
                        line,
                        expected: self.columns.len(),
                        found: record.len(),
                    }));
                }
                if record.iter().any(|cell| cell.len() > MAX_CELL) {
                    return Some(Err(TableError::CellTooLarge { line }));
                }
                let mut row = Vec::with_capacity(record.len());
                for cell in record.iter() {
                    if *gbk {
                        // Decoded to UTF-8 already.
                        row.push(String::from_utf8_lossy(cell).into_owned());
                    } else {
                        match utf8_cell(cell) {
                            Ok(text) => row.push(text),
                            Err(e) => return Some(Err(e)),
                        }
                    }
                }
                return Some(Ok(row));
            },
        }
    }

    /// Reads every row into a table.
    pub fn into_table(mut self) -> Result<Table, TableError> {
        let mut rows = Vec::new();
        while let Some(row) = self.next_row() {
            rows.push(row?);
        }
        Ok(Table {
            columns: self.columns,
            rows,
        })
    }
}

/// A reader that refuses to hand out more than [`MAX_RECORD`] bytes past the end of the last
/// record read: a record of endless length is refused before it fills memory.
struct Bounded<'r> {
    inner: Box<dyn Read + 'r>,
    given: u64,
    ended: Rc<Cell<u64>>,
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.given.saturating_sub(self.ended.get()) > MAX_RECORD {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "a record longer than any table allows",
            ));
        }
        let n = self.inner.read(buf)?;
        self.given += n as u64;
        Ok(n)
    }
}

/// GBK (GB 18030) decoded to UTF-8 as it is read; a byte sequence that is not GB 18030 is an
/// `InvalidData` error.
struct Gb18030<'r> {
    inner: Box<dyn Read + 'r>,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    /// What of `input` is not decoded yet.
    taken: std::ops::Range<usize>,
    output: Vec<u8>,
    /// What of `output` is not handed out yet.
    ready: std::ops::Range<usize>,
    eof: bool,
    finished: bool,
}

impl<'r> Gb18030<'r> {
    fn new(inner: Box<dyn Read + 'r>) -> Self {
        Gb18030 {
            inner,
            decoder: encoding_rs::GB18030.new_decoder_without_bom_handling(),
            input: vec![0; 64 * 1024],
            taken: 0..0,
            output: vec![0; 64 * 1024],
            ready: 0..0,
            eof: false,
            finished: false,
        }
    }
}

impl Read for Gb18030<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.ready.is_empty() {
            if self.finished {
                return Ok(0);
            }
            if self.taken.is_empty() && !self.eof {
                let n = self.inner.read(&mut self.input)?;
                self.taken = 0..n;
                self.eof = n == 0;
            }
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[self.taken.clone()],
                &mut self.output,
                self.eof,
            );
            self.taken.start += read;
            self.ready = 0..written;
            match result {
                encoding_rs::DecoderResult::Malformed(_, _) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "neither UTF-8 nor GBK",
                    ));
                }
                encoding_rs::DecoderResult::InputEmpty if self.eof => self.finished = true,
                _ => {}
            }
        }
        let n = self.ready.len().min(out.len());
        out[..n].copy_from_slice(&self.output[self.ready.start..self.ready.start + n]);
        self.ready.start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{ColumnType, Format, Inference, rows};

    /// A reader that hands out a few bytes at a time, as a network or a store of parts does.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(self.0.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_gbk_file_read_in_small_pieces_reads_as_the_whole() {
        let text = format!("区县,人数\n{}", "临江区,12\n城东街道,7\n".repeat(5000));
        let (gbk, _, _) = encoding_rs::GB18030.encode(&text);
        for step in [1, 3, 7, 4096] {
            let table = rows(Trickle(&gbk, step), Format::Csv)
                .and_then(Rows::into_table)
                .expect("reads");
            assert_eq!(table.columns, ["区县", "人数"]);
            assert_eq!(table.rows.len(), 10_000);
            assert_eq!(table.rows[0], ["临江区", "12"]);
            assert_eq!(table.rows[1], ["城东街道", "7"]);
        }
    }

    #[test]
    fn a_file_that_turns_to_bytes_of_neither_encoding_is_refused() {
        let mut bytes = "a,b\n1,2\n".repeat(20_000).into_bytes();
        bytes.extend_from_slice(b"3,\xff\xfe\n");
        let read = rows(Trickle(&bytes, 1000), Format::Csv).and_then(Rows::into_table);
        assert_eq!(read, Err(TableError::Encoding));
    }

    #[test]
    fn a_record_without_end_is_refused_before_it_fills_memory() {
        let mut bytes = b"a,b\n1,\"".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', (MAX_RECORD * 2) as usize));
        let read = rows(Trickle(&bytes, 65536), Format::Csv).and_then(Rows::into_table);
        assert_eq!(read, Err(TableError::CellTooLarge { line: 2 }));
    }

    #[test]
    fn the_types_gathered_row_by_row_are_those_of_the_whole_table() {
        let csv =
            "编号,人数,比例,日期,说明,空\n007,12,1.5,2026-03-01,甲,\n008,-3,2,2026-03-02,1,\n";
        let table = crate::table::parse(csv.as_bytes(), Format::Csv).expect("reads");
        let mut inference = Inference::new(table.columns.len());
        for row in &table.rows {
            inference.add(row);
        }
        let kinds: Vec<ColumnType> = inference
            .fields(&table.columns)
            .iter()
            .map(|f| f.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                ColumnType::Text,
                ColumnType::Integer,
                ColumnType::Number,
                ColumnType::Date,
                ColumnType::Text,
                ColumnType::Text
            ]
        );
    }
}
