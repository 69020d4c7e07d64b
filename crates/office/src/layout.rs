//! A document laid out as GB/T 9704 lays one out, for the pages that show one.

use crate::gongwen::draft::Draft;

/// A document laid out as GB/T 9704 lays one out (`office_layout.html`).
pub(crate) struct Layout {
    pub organ: String,
    pub draft: Draft,
    pub number: Option<String>,
    /// 成文日期, in the region's zone.
    pub dated: Option<String>,
    pub upward: bool,
}
