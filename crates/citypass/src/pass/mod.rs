//! 一码通: the city pass. A citizen's short-lived signed code with their colour (or a pure
//! service pass outside an emergency), online checks at venues, and offline verification
//! against an exported trust list.

pub mod api;
pub mod offline;
pub mod pages;
pub mod scan_pages;
pub mod service;
pub(crate) mod store;
