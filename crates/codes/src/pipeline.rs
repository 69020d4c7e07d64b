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

/// zlib with the fixed Huffman code: a code's body is a few hundred bytes, mostly signature and
/// sealed subject, so building a dynamic code table (levels 6–9) costs several times as much
/// time and saves nothing.
fn compress(cbor: &[u8]) -> Vec<u8> {
    use miniz_oxide::deflate::core::{
        CompressorOxide, TDEFLFlush, TDEFLStatus, compress, create_comp_flags_from_zip_params,
    };
    let fixed = miniz_oxide::deflate::core::CompressionStrategy::Fixed as i32;
    let mut compressor = CompressorOxide::new(create_comp_flags_from_zip_params(1, 1, fixed));
    // Stored blocks cost 5 bytes each per 64 KiB and the zlib frame 6: this always suffices.
    let mut out = vec![0; cbor.len() + cbor.len() / 1024 + 64];
    match compress(&mut compressor, cbor, &mut out, TDEFLFlush::Finish) {
        (TDEFLStatus::Done, _, written) => {
            out.truncate(written);
            out
        }
        _ => miniz_oxide::deflate::compress_to_vec_zlib(cbor, 1),
    }
}

/// Decodes text made by [`encode`] (or an EU DCC `HC1:` code). Accepts tagged and untagged
/// COSE_Sign1 and, like the DCC, an uncompressed body.
pub fn decode(prefix: &str, text: &str) -> Result<Sealed, DecodeError> {
    if text.len() > MAX_TEXT {
        return Err(DecodeError::TooLong);
    }
    let body = text
        .trim()
        .strip_prefix(prefix)
        .ok_or(DecodeError::Prefix)?;
    let compressed = base45::decode(body).map_err(|_| DecodeError::Base45)?;
    let cbor = if compressed.first() == Some(&0x78) {
        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&compressed, MAX_INFLATED)
            .map_err(|_| DecodeError::Compression)?
    } else {
        compressed
    };
    let sign1 = CoseSign1::from_tagged_slice(&cbor)
        .or_else(|_| CoseSign1::from_slice(&cbor))
        .map_err(|_| DecodeError::Cose)?;
    Ok(Sealed { sign1 })
}
