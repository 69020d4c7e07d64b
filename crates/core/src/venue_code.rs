//! The text of a venue code (场所码): `<region>-<number>-<tag>`, for example
//! `339901-1f3a9c-0c4d2e7f9a1b3c5d`. The region is the venue's region code, the number the
//! venue's number in lowercase hex without leading zeros, and the tag 16 lowercase hex digits of
//! a keyed digest over region and number, which only the issuing platform can compute. Parsing
//! checks the shape; checking the tag needs the key and is the platform's job.

use std::fmt;
use std::str::FromStr;

use crate::ids::RegionCode;

/// The longest code text accepted.
pub const MAX_LEN: usize = 64;
pub const TAG_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueCode {
    pub region: RegionCode,
    pub number: i64,
    pub tag: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a venue code")]
pub struct NotAVenueCode;

impl FromStr for VenueCode {
    type Err = NotAVenueCode;

    fn from_str(text: &str) -> Result<VenueCode, NotAVenueCode> {
        if text.len() > MAX_LEN {
            return Err(NotAVenueCode);
        }
        let mut parts = text.split('-');
        let (Some(region), Some(number), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(NotAVenueCode);
        };
        let lower_hex = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let canonical_number = !number.is_empty()
            && number.len() <= 16
            && lower_hex(number)
            && (number == "0" || !number.starts_with('0'));
        if !canonical_number || tag.len() != TAG_LEN || !lower_hex(tag) {
            return Err(NotAVenueCode);
        }
        let number = i64::from_str_radix(number, 16).map_err(|_| NotAVenueCode)?;
        Ok(VenueCode {
            region: region.parse().map_err(|_| NotAVenueCode)?,
            number,
            tag: tag.to_owned(),
        })
    }
}

impl fmt::Display for VenueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:x}-{}", self.region.as_str(), self.number, self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_print_back() {
        let code: VenueCode = "339901-1f3a9c-0c4d2e7f9a1b3c5d".parse().expect("parses");
        assert_eq!(code.region.as_str(), "339901");
        assert_eq!(code.number, 0x1f3a9c);
        assert_eq!(code.to_string(), "339901-1f3a9c-0c4d2e7f9a1b3c5d");
    }

    #[test]
    fn anything_else_is_not_a_code() {
        for text in [
            "",
            "339901-1f3a9c",
            "339901-1f3a9c-0c4d2e7f9a1b3c5d-x",
            "339901-01f3a9c-0c4d2e7f9a1b3c5d",
            "339901-1F3A9C-0c4d2e7f9a1b3c5d",
            "339901-1f3a9c-0c4d2e7f9a1b3c5",
            "339901-ffffffffffffffff-0c4d2e7f9a1b3c5d",
            "33990-1f3a9c-0c4d2e7f9a1b3c5d",
            "339901--0c4d2e7f9a1b3c5d",
        ] {
            assert_eq!(text.parse::<VenueCode>(), Err(NotAVenueCode), "{text}");
        }
    }
}
