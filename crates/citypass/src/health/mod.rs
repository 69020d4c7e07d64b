//! Health facts and status (健康码): facts only authorised health sources record, versioned
//! CertLogic policies that map them to a colour (published only with a second approver), and
//! the public-health emergency switch. Every colour carries its explanation.

pub mod api;
pub mod approvals;
pub mod desk;
pub mod inputs;
pub mod pages;
pub mod policy;
pub mod policy_page;
pub mod service;
pub(crate) mod store;
