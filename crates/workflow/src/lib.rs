//! tongban-workflow: the engine that moves a case through its steps. Applications (办件) run on
//! it; it is kept apart from them, with no IO, so that the modules that handle other cases
//! (official documents, data-sharing requests, form approvals) reuse it. A workflow is a table
//! of states, each with the actions allowed in it, gated by
//! who acts and leading to one next state, and a time limit in working days; the calendar
//! counts those days with a region's holidays and exchanged working days. No IO: days come in
//! as dates (taken in the region's zone by the caller, `tongban_core::Zone`).
#![forbid(unsafe_code)]

pub mod calendar;
pub mod table;

pub use calendar::Calendar;
pub use table::{Action, Actor, State, Workflow};
