//! tongban-codes: the pass code and the pipeline it shares with the EU Digital COVID
//! Certificate — CBOR Web Token claims in a COSE_Sign1, zlib, Base45, a text prefix — so one
//! decoder serves both — and the data-sharing gateway's wire rules: X-Road identifiers
//! ([`xroad`]) and item-level filtering of answers ([`item_filter`]). No IO; every step caps
//! its input so no code can exhaust memory.
#![forbid(unsafe_code)]

pub mod cross_package;
pub mod csca;
pub mod dcc;
pub mod item_filter;
mod pass;
mod pipeline;
pub mod service_description;
pub mod shc;
mod shown;
pub mod xroad;

pub use coset::CoseSign1;
pub use pass::{Colour, PASS_PREFIX, PassClaims, PassError, issue_pass, verify_pass};
pub use pipeline::{
    DecodeError, Sealed, decode, encode, inflate, parse_sign1, sign1_to_be_signed, unwrap,
};
pub use shown::{SHOWN_PREFIX, ShownClaims, issue_shown, verify_shown};
