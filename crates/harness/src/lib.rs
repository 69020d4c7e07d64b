//! tongban-harness: what measures and checks the platform without being part of it — the
//! benchmarks behind `tongban bench`, the runners of public conformance suites, and the HTTP
//! load generator, and the checks of a cluster of nodes. The product crates never depend on it.
#![forbid(unsafe_code)]

pub mod agreement;
pub mod bench;
pub mod chaos;
pub mod cli;
pub mod cluster;
pub mod conformance;
pub mod cross_region_bench;
pub mod exchange_bench;
pub mod forms_bench;
pub mod load;
pub mod office_bench;
pub mod opendata_bench;
pub mod ops_bench;
pub mod overload;
pub mod pubsub_bench;
mod qr_image;
pub mod soak;

pub use cli::{BenchCommand, ChaosCommand, ConformanceCommand};
