//! Identity and access: accounts, roles with scopes, login with two factors, sessions, API
//! tokens, and the audited accessor for personal data.

pub mod api;
pub mod model;
pub mod pages;
pub mod password;
pub mod personal;
pub mod security_pages;
pub mod service;
pub mod store;
pub mod totp;
