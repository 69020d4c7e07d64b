//! Fuzzes the EU DCC decoders: the HC1 text pipeline (Base45, bounded zlib), the COSE_Sign1
//! reader (tags 61 and 18, untagged), the CWT claims and certificate reader, and the X.509
//! signer and country signing CA readers. Nothing may panic; zip bombs stop at the inflate limit and deep CBOR at the
//! decoder's depth limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_codes::dcc;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = dcc::verify(text, &dcc::TrustList::new(), 1_700_000_000, None);
        if let Ok(cose) = dcc::cose_bytes(text) {
            read(&cose);
        }
    }
    read(data);
    if let Ok(signer) = dcc::Dsc::from_der(data) {
        let _ = signer.may_sign(dcc::CertType::Test);
        let _ = signer.subject();
        // The same bytes as a CA checking the signer it would have issued.
        if let Ok(ca) = tongban_codes::csca::Csca::from_der(data) {
            let _ = ca.issued(&signer);
        }
    }
    let _ = tongban_codes::csca::is_ca(data);
});

fn read(cose: &[u8]) {
    let Ok(sign1) = tongban_codes::parse_sign1(cose) else {
        return;
    };
    let _ = dcc::kid(&sign1);
    if let Ok(claims) = dcc::claims(&sign1) {
        let _ = claims.cert_type();
        assert!(claims.hcert.is_object());
    }
}
