//! Fuzzes the streamed reading of CSV uploads: any bytes, handed to the reader in pieces of
//! any size (as stored parts and networks hand them), read to the same table or the same
//! refusal as the file read from one slice — never a panic. (The encoding is sniffed, GBK
//! decoded and records bounded across the pieces' edges.)
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use tongban_tables::{rows, table};

/// Hands out at most `step` bytes a read.
struct Pieces<'a>(&'a [u8], usize);

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.1.min(self.0.len()).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, file)) = data.split_first() else { return };
    let step = usize::from(step).max(1);
    let whole = table::parse(file, table::Format::Csv);
    let pieces = table::rows(Pieces(file, step), table::Format::Csv).and_then(rows::Rows::into_table);
    assert_eq!(whole, pieces);
});
