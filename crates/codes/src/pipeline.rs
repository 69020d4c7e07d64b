//! `PREFIX ‖ Base45(zlib(COSE_Sign1))`, both ways, with limits at every step.

use coset::{CborSerializable, CoseSign1, TaggedCborSerializable};

/// Largest code text accepted (a QR code holds at most 4,296 alphanumeric characters).
const MAX_TEXT: usize = 8 * 1024;
/// Largest inflated COSE message: a zip bomb stops here.
const MAX_INFLATED: usize = 64 * 1024;

/// Why a code could not be decoded; each is a reason code a scanner can show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the code does not start with the expected prefix")]
    Prefix,
    #[error("the code is too long")]
    TooLong,
    #[error("the code is not valid Base45")]
    Base45,
    #[error("the code does not inflate (or inflates beyond the limit)")]
    Compression,
    #[error("the code is not a COSE_Sign1 message")]
    Cose,
}

impl DecodeError {
    /// A stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Prefix => "bad_prefix",
            DecodeError::TooLong => "too_long",
            DecodeError::Base45 => "bad_base45",
            DecodeError::Compression => "bad_compression",
            DecodeError::Cose => "bad_cose",
        }
    }
}

/// A decoded but not yet verified message.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub sign1: CoseSign1,
}

impl Sealed {
    /// The key id from the protected header, or else the unprotected one.
    pub fn kid(&self) -> Vec<u8> {
        if self.sign1.protected.header.key_id.is_empty() {
            self.sign1.unprotected.key_id.clone()
        } else {
            self.sign1.protected.header.key_id.clone()
        }
    }
}

/// The bytes a COSE_Sign1 signature covers (the `Sig_structure`, with empty external AAD).
pub fn sign1_to_be_signed(sign1: &CoseSign1) -> Vec<u8> {
    sign1.tbs_data(b"")
}

/// Encodes a signed message as text: prefix, Base45, zlib, tagged COSE_Sign1.
pub fn encode(prefix: &str, sign1: CoseSign1) -> Result<String, DecodeError> {
    let cbor = sign1.to_tagged_vec().map_err(|_| DecodeError::Cose)?;
    let compressed = compress(&cbor);
    Ok(format!("{prefix}{}", base45::encode(&compressed)))
}

/// zlib (RFC 1950) around stored DEFLATE blocks (RFC 1951 §3.2.4). A code's body is a few
/// hundred bytes, most of them signature and sealed subject, which do not compress: every
/// compression level measured here came out no shorter than stored blocks, while setting up a
/// compressor took longer than signing the code. Any zlib decoder reads it.
fn compress(data: &[u8]) -> Vec<u8> {
    const MAX_STORED: usize = 65_535;
    let mut out = Vec::with_capacity(data.len() + 6 + 5 * (data.len() / MAX_STORED + 1));
    // CMF: deflate with a 32 KiB window; FLG: no dictionary, check bits make 0x7801 % 31 == 0.
    out.extend_from_slice(&[0x78, 0x01]);
    let mut blocks = data.chunks(MAX_STORED).peekable();
    if data.is_empty() {
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler2::adler32_slice(data).to_be_bytes());
    out
}

/// Decodes text made by [`encode`] (or an EU DCC `HC1:` code). Accepts tagged and untagged
/// COSE_Sign1; the body must be zlib, as both formats require.
pub fn decode(prefix: &str, text: &str) -> Result<Sealed, DecodeError> {
    let cbor = unwrap(prefix, text)?;
    Ok(Sealed {
        sign1: parse_sign1(&cbor)?,
    })
}

/// The first three steps of [`decode`]: strips the prefix, decodes Base45 and inflates zlib.
/// Returns the COSE bytes.
pub fn unwrap(prefix: &str, text: &str) -> Result<Vec<u8>, DecodeError> {
    if text.len() > MAX_TEXT {
        return Err(DecodeError::TooLong);
    }
    let body = text
        .trim()
        .strip_prefix(prefix)
        .ok_or(DecodeError::Prefix)?;
    let compressed = base45::decode(body).map_err(|_| DecodeError::Base45)?;
    inflate(&compressed)
}

/// Inflates zlib, refusing anything that would grow beyond the limit (a zip bomb).
pub fn inflate(compressed: &[u8]) -> Result<Vec<u8>, DecodeError> {
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(compressed, MAX_INFLATED)
        .map_err(|_| DecodeError::Compression)
}

/// Parses a COSE_Sign1: tagged (18), untagged, or tagged 18 inside the CWT tag (61).
pub fn parse_sign1(cbor: &[u8]) -> Result<CoseSign1, DecodeError> {
    // Tag 61 is the two bytes d8 3d; what it wraps is the tagged or untagged message.
    let cbor = cbor.strip_prefix(&[0xd8, 0x3d]).unwrap_or(cbor);
    CoseSign1::from_tagged_slice(cbor)
        .or_else(|_| CoseSign1::from_slice(cbor))
        .map_err(|_| DecodeError::Cose)
}

#[cfg(test)]
mod tests {
    use super::compress;

    #[test]
    fn stored_zlib_inflates_back_with_any_decoder_at_block_edges() {
        for len in [0usize, 1, 292, 65_535, 65_536, 200_000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();
            let zlib = compress(&data);
            assert_eq!(
                miniz_oxide::inflate::decompress_to_vec_zlib(&zlib).expect("inflates"),
                data,
                "{len} bytes"
            );
            assert_eq!(zlib.len(), data.len() + 6 + 5 * len.div_ceil(65_535).max(1));
        }
    }
}
