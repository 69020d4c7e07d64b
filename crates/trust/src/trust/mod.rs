//! Trust of what others sign: the regions this one recognises (互认, their trust lists under
//! pinned root keys), and foreign credentials at the door — SMART Health Card issuers, EU DCC
//! signers and schemas, and the visitors' CertLogic rule. The security administrators keep it
//! — two of them for any change that trusts more ([`proposals`]) — on the API and the trust
//! page; the operator on the command line (`tongban trust`, `tongban dcc`).

pub mod api;
pub mod dcc;
pub mod foreign;
pub mod pages;
pub mod proposals;
pub mod regions;
pub(crate) mod store;
