//! The government information resource catalogue (政务信息资源目录) and the requests and grants
//! on it: each department lists the resources it holds with their data items, says whether
//! each is shared (无条件共享 / 有条件共享 / 不予共享) and opened; other departments ask for the
//! items they need, for a purpose, under a legal basis, until a day; unconditional resources
//! are granted at once, conditional ones when the owner decides (and may narrow the items).
//! Every decision is in the transparency log.

pub mod api;
pub mod demo;
pub mod described;
pub mod editor;
pub mod foreign;
pub mod model;
pub mod pages;
pub mod service;
pub(crate) mod store;

/// The scope the catalogue publishes its changes under (resources saved, grants made, decided
/// or revoked): the gateway's caches of routes and departments, and publish/subscribe's cache
/// of event types, drop their entries on it.
pub const CHANGES: &str = "exchange-routes";
