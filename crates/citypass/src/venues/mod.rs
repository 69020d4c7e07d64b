//! 码上服务: venues and admission. A venue has a kind; admission needs a valid pass, a colour
//! the kind admits, and — for some kinds — an entitlement on the pass (a library card).

use serde::Serialize;

pub mod api;
pub(crate) mod demo;
pub mod pages;
pub mod service;
pub(crate) mod store;

pub use store::{
    ensure_venue, entitlements_of, entitlements_of_many, venue_by_no, venue_of, venues_of_staff,
};

/// A venue's compact number for check-in rows: 63 bits of a digest of its id, so that nodes
/// need no shared counter (a collision among even ten million venues has odds near 10^-5).
pub fn venue_number(id: &str) -> i64 {
    let digest = tongban_crypto::digest(tongban_crypto::HashAlgorithm::Sha256, id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) >> 1) as i64
}

/// What a venue kind admits.
pub struct KindRule {
    pub kind: &'static str,
    /// The entitlement the pass must carry, if any.
    pub entitlement: Option<&'static str>,
    /// Colours admitted during an emergency (a service pass is always admitted).
    pub colours: &'static [&'static str],
}

pub const KINDS: [KindRule; 5] = [
    KindRule {
        kind: "transit",
        entitlement: Some("transit"),
        colours: &["green"],
    },
    KindRule {
        kind: "library",
        entitlement: Some("library"),
        colours: &["green"],
    },
    // Essential services stay open to yellow; a hospital admits everyone for care.
    KindRule {
        kind: "hospital",
        entitlement: None,
        colours: &["green", "yellow", "red"],
    },
    KindRule {
        kind: "government_hall",
        entitlement: None,
        colours: &["green", "yellow"],
    },
    KindRule {
        kind: "other",
        entitlement: None,
        colours: &["green"],
    },
];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Venue {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// Whether admissions here are recorded as check-ins.
    pub records_checkins: bool,
    /// The venue's compact number in check-in rows.
    pub no: i64,
    pub region_code: String,
    /// pending, active, refused or revoked.
    pub status: String,
}

/// Whether a holder with `colour` and `entitlements` may enter a venue of `kind`, and why not.
pub fn admits(kind: &str, colour: &str, entitlements: &[String]) -> Result<(), &'static str> {
    let rule = KINDS
        .iter()
        .find(|rule| rule.kind == kind)
        .unwrap_or(&KINDS[4]);
    if colour != "service_only" && !rule.colours.contains(&colour) {
        return Err("colour_not_admitted");
    }
    if let Some(needed) = rule.entitlement
        && !entitlements.iter().any(|e| e == needed)
    {
        return Err("no_entitlement");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::admits;

    #[test]
    fn each_kind_admits_by_colour_and_entitlement() {
        let card = vec!["library".to_owned(), "transit".to_owned()];
        let none: Vec<String> = Vec::new();
        assert_eq!(admits("library", "green", &card), Ok(()));
        assert_eq!(admits("library", "green", &none), Err("no_entitlement"));
        assert_eq!(
            admits("library", "yellow", &card),
            Err("colour_not_admitted")
        );
        assert_eq!(admits("transit", "service_only", &card), Ok(()));
        assert_eq!(admits("transit", "red", &card), Err("colour_not_admitted"));
        assert_eq!(admits("hospital", "red", &none), Ok(()));
        assert_eq!(admits("government_hall", "yellow", &none), Ok(()));
    }
}
