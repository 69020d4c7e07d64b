//! Trust of what others sign: the regions this one recognises (互认, their trust lists under
//! pinned root keys), and foreign credentials at the door — SMART Health Card issuers, EU DCC
//! signers and schemas, and the visitors' CertLogic rule. The system administrator keeps it,
//! on the API, the trust page and the command line (`tongban trust`, `tongban dcc`).

pub mod api;
pub mod dcc;
pub mod foreign;
pub mod pages;
pub mod regions;
pub(crate) mod store;
