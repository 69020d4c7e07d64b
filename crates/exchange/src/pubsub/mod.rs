//! Publish/subscribe (GovStack IM PubSub) through the gateway: event types bound to catalogue
//! resources, durable events numbered per type, subscriptions under grants, push delivery
//! (signed, in order, retried, dead-lettered, replayable) and pull with confirmation.

pub mod api;
pub mod pages;
pub mod push;
pub mod service;
pub(crate) mod store;
pub mod writer;
