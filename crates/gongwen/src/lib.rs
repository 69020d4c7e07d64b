//! tongban-gongwen: official documents (公文) as the 2012 regulations on the handling of party
//! and government documents (党政机关公文处理工作条例) and GB/T 9704-2012 define them, with no IO —
//! the fifteen kinds and the directions each may travel ([`kind`]), document numbers
//! (发文字号, [`number`]), the elements of a document with the rules a draft must keep before
//! it goes on ([`draft`]), the steps an outgoing document passes ([`flow`]) and, with the `pdf`
//! feature, the final document laid out as PDF (`pdf`). The office module stores, routes,
//! numbers and seals them.
#![forbid(unsafe_code)]

pub mod draft;
pub mod flow;
pub mod kind;
pub mod number;
#[cfg(feature = "pdf")]
pub mod pdf;
