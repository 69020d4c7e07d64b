//! Administration by the three separated administrators (三员): regions, departments, accounts,
//! passwords, role grants and the record of administrative events.

pub mod api;
pub mod pages;
pub mod service;
pub mod store;
