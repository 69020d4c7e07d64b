//! tongban-core: identifiers that parse once at the edge, the injected clock, and shared small types.
//! No IO lives here, so every function is testable, fuzzable and usable on a scanner device.
#![forbid(unsafe_code)]

pub mod certificate_id;
pub mod clock;
pub mod id_card;
pub mod ids;
mod iso7064;
pub mod names;
pub mod venue_code;
pub mod zone;

pub use certificate_id::{CertificateId, CertificateType};
pub use clock::{Clock, ManualClock, SystemClock};
pub use id_card::{CardError, CardText};
pub use ids::{IdError, RegionCode, RegionLevel, ResidentId, Uscc};
pub use venue_code::VenueCode;
pub use zone::Zone;
