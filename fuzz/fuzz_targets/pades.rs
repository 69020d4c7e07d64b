//! Fuzzes what `tongban office verify` reads from outside: a PDF file's signature (its byte
//! range, the hex of its CMS structure, the certificates inside), and a PEM root. Nothing may
//! panic; bytes that are not a whole signed file are refused.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As given, and behind a signature dictionary's opening so the byte range and the CMS
    // parser are reached.
    let _ = tongban_pades::verify(data);
    let mut framed = b"%PDF-1.7\n1 0 obj\n<< /Type /Sig /ByteRange [0 40 ".to_vec();
    framed.extend_from_slice(data);
    if let Ok(verified) = tongban_pades::verify(&framed) {
        assert!(!verified.chain.is_empty());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tongban_pades::cert::from_pem(text);
    }
    let _ = tongban_pades::cert::subject(data);
});
