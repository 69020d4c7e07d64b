//! The identifier of an electronic certificate (电子证照标识, GB/T 36904):
//! `1.2.156.3005.2.<type code>.<issuer>.<serial>.<version>.<check>`.
//!
//! - `1.2.156.3005.2` is the OID arc of electronic certificates;
//! - the type code is the defining authority's USCC followed by a three-digit number
//!   (GB/T 36902), 21 characters;
//! - the issuer is the issuing department's USCC, 18 characters;
//! - the serial is the certificate's number at the issuer, 1–40 characters of `0-9A-Z`;
//! - the version is three digits, `001` for the first issue;
//! - the check character is ISO 7064 MOD 37,36 over type code, issuer, serial and version,
//!   written one after the other without the dots.

use std::fmt;
use std::str::FromStr;

use crate::ids::{IdError, Uscc};
use crate::iso7064;

/// The OID arc every identifier starts with.
pub const ARC: &str = "1.2.156.3005.2";
pub const MAX_SERIAL: usize = 40;

/// A certificate type code (证照类型代码): the defining authority's USCC and a three-digit number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertificateType {
    pub authority: Uscc,
    pub number: u16,
}

impl CertificateType {
    pub fn new(authority: Uscc, number: u16) -> Option<CertificateType> {
        (1..=999)
            .contains(&number)
            .then_some(CertificateType { authority, number })
    }
}

impl fmt::Display for CertificateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:03}", self.authority.as_str(), self.number)
    }
}

impl FromStr for CertificateType {
    type Err = IdError;

    fn from_str(text: &str) -> Result<CertificateType, IdError> {
        if text.len() != 21 || !text.is_ascii() {
            return Err(IdError::Length { expected: "21" });
        }
        let (authority, number) = text.split_at(18);
        let authority: Uscc = authority.parse()?;
        let number = digits(number, 18)?;
        CertificateType::new(authority, number).ok_or(IdError::Character { position: 18 })
    }
}

/// Three digits at `offset` as a number from 1 to 999.
fn digits(text: &str, offset: usize) -> Result<u16, IdError> {
    if let Some(position) = text.bytes().position(|b| !b.is_ascii_digit()) {
        return Err(IdError::Character {
            position: offset + position,
        });
    }
    match text.parse::<u16>() {
        Ok(n) if text.len() == 3 && (1..=999).contains(&n) => Ok(n),
        _ => Err(IdError::Character { position: offset }),
    }
}

/// An electronic certificate's identifier, checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertificateId {
    pub certificate_type: CertificateType,
    pub issuer: Uscc,
    pub serial: String,
    pub version: u16,
}

impl CertificateId {
    /// A new identifier; `None` when the serial is not 1–40 characters of `0-9A-Z` or the
    /// version is not 1–999.
    pub fn new(
        certificate_type: CertificateType,
        issuer: Uscc,
        serial: &str,
        version: u16,
    ) -> Option<CertificateId> {
        let serial_ok = (1..=MAX_SERIAL).contains(&serial.len())
            && serial
                .bytes()
                .all(|b| iso7064::alphanumeric_value(b).is_some());
        (serial_ok && (1..=999).contains(&version)).then(|| CertificateId {
            certificate_type,
            issuer,
            serial: serial.to_owned(),
            version,
        })
    }

    /// The characters the check character is computed over.
    fn checked_part(&self) -> String {
        format!(
            "{}{}{}{:03}",
            self.certificate_type,
            self.issuer.as_str(),
            self.serial,
            self.version
        )
    }

    pub fn check_character(&self) -> char {
        iso7064::mod37_36(self.checked_part().as_bytes())
            .map(char::from)
            .unwrap_or('0')
    }
}

impl fmt::Display for CertificateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ARC}.{}.{}.{}.{:03}.{}",
            self.certificate_type,
            self.issuer.as_str(),
            self.serial,
            self.version,
            self.check_character()
        )
    }
}

impl FromStr for CertificateId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<CertificateId, IdError> {
        let rest = text
            .strip_prefix(ARC)
            .and_then(|rest| rest.strip_prefix('.'))
            .ok_or(IdError::Character { position: 0 })?;
        if text.len() > ARC.len() + 1 + 21 + 1 + 18 + 1 + MAX_SERIAL + 1 + 3 + 1 + 1 {
            return Err(IdError::Length {
                expected: "at most 106",
            });
        }
        let parts: Vec<&str> = rest.split('.').collect();
        let [kind, issuer, serial, version, check] = parts[..] else {
            return Err(IdError::Length {
                expected: "five parts after the arc",
            });
        };
        let offset = ARC.len() + 1;
        let certificate_type: CertificateType = kind.parse()?;
        let issuer: Uscc = issuer.parse()?;
        let version = digits(
            version,
            offset + kind.len() + issuer.as_str().len() + serial.len() + 3,
        )?;
        let id = CertificateId::new(certificate_type, issuer, serial, version).ok_or(
            IdError::Character {
                position: offset + 21 + 1 + 18 + 1,
            },
        )?;
        if check.len() != 1 || !check.starts_with(id.check_character()) {
            return Err(IdError::Check);
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uscc(text: &str) -> Uscc {
        text.parse().expect("valid USCC")
    }

    /// The USCC of the standard's example organisation (GB 32100's worked example).
    const AUTHORITY: &str = "91350100M000100Y43";

    #[test]
    fn an_identifier_prints_and_parses_back() {
        let kind = CertificateType::new(uscc(AUTHORITY), 1).expect("type");
        let id = CertificateId::new(kind, uscc(AUTHORITY), "SN20260001", 1).expect("id");
        let text = id.to_string();
        assert!(text.starts_with(
            "1.2.156.3005.2.91350100M000100Y43001.91350100M000100Y43.SN20260001.001."
        ));
        assert_eq!(text.parse::<CertificateId>(), Ok(id));
    }

    #[test]
    fn malformed_identifiers_are_refused() {
        let kind = CertificateType::new(uscc(AUTHORITY), 1).expect("type");
        let good = CertificateId::new(kind, uscc(AUTHORITY), "SN1", 1)
            .expect("id")
            .to_string();
        let wrong_check = {
            let mut text = good.clone();
            let last = text.pop().expect("check");
            text.push(if last == '0' { '1' } else { '0' });
            text
        };
        for text in [
            wrong_check.as_str(),
            "1.2.156.3005.2",
            "2.2.156.3005.2.91350100M000100Y43001.91350100M000100Y43.SN1.001.X",
            "1.2.156.3005.2.91350100M000100Y43000.91350100M000100Y43.SN1.001.X",
            "1.2.156.3005.2.91350100M000100Y43001.91350100M000100Y43.sn1.001.X",
            "1.2.156.3005.2.91350100M000100Y43001.91350100M000100Y43..001.X",
            "1.2.156.3005.2.91350100M000100Y43001.91350100M000100Y43.SN1.01.X",
        ] {
            assert!(text.parse::<CertificateId>().is_err(), "{text}");
        }
    }
}
