//! Fuzzes 跨省通办's package parser (CBOR, or JSON): whatever arrives, parsing never panics; a package it takes
//! has materials that match their digests and fit the limits, a joint one names the part it
//! goes to, and checking its signature against a key that did not sign it fails.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_codes::cross_package::{MAX_MATERIAL_BYTES, MAX_MATERIALS, Signed};
use tongban_crypto::{SignatureAlgorithm, Signer, SoftwareSigner};

fuzz_target!(|data: &[u8]| {
    let Ok(signed) = Signed::parse(data) else { return };
    assert!(signed.package.materials.len() <= MAX_MATERIALS);
    for material in &signed.package.materials {
        let bytes = material.bytes().expect("a taken material matches its digest");
        assert!(bytes.len() <= MAX_MATERIAL_BYTES);
    }
    // A joint package goes to the part it names, with the results of the parts before it.
    let package = &signed.package;
    if let Some(leg) = package.route.get(package.leg) {
        assert_eq!(leg.region, package.to_region);
        assert_eq!(leg.item_code, package.item_code);
        assert_eq!(package.earlier.len(), package.leg);
    }
    assert_eq!(signed.fingerprint().len(), 64);
    let stranger = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "k");
    assert!(signed.verify(&stranger.public_key()).is_err());
});
