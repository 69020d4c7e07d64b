//! 一码通: the city pass. This part verifies pass codes offline against an exported trust list,
//! as a scanner or another region does with no network.

pub mod offline;
