//! National identifiers as parsed types: a value of one of these types is valid by construction.
//!
//! - [`ResidentId`]: GB 11643-1999 citizen identity number (公民身份号码).
//! - [`Uscc`]: GB 32100-2015 unified social credit code (统一社会信用代码).
//! - [`RegionCode`]: GB/T 2260 administrative division code (行政区划代码), extended by the
//!   statistical township (9-digit) and village (12-digit) codes for the two lowest levels.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

use crate::iso7064::mod11_2;

/// Why an identifier was refused. The messages are safe to show to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be {expected} characters long")]
    Length { expected: &'static str },
    #[error("contains a character that is not allowed at position {position}")]
    Character { position: usize },
    #[error("the region code is not a valid administrative division code")]
    Region,
    #[error("the birth date does not exist")]
    BirthDate,
    #[error("the check character does not match")]
    Check,
}

/// Province-level codes of GB/T 2260 (the first two digits of every division code).
const PROVINCES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// The six levels of the region tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    National,
    Province,
    Prefecture,
    County,
    Township,
    Village,
}

impl RegionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::National => "national",
            Self::Province => "province",
            Self::Prefecture => "prefecture",
            Self::County => "county",
            Self::Township => "township",
            Self::Village => "village",
        }
    }
}

/// 行政区划代码: an administrative division code. `000000` stands for the nation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode(String);

impl RegionCode {
    pub const NATIONAL: &'static str = "000000";

    pub fn national() -> Self {
        Self(Self::NATIONAL.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> RegionLevel {
        let code = self.0.as_bytes();
        match code.len() {
            12 => RegionLevel::Village,
            9 => RegionLevel::Township,
            _ if self.0 == Self::NATIONAL => RegionLevel::National,
            _ if &code[2..] == b"0000" => RegionLevel::Province,
            _ if &code[4..] == b"00" => RegionLevel::Prefecture,
            _ => RegionLevel::County,
        }
    }

    /// The code of the level above, or `None` for the nation.
    pub fn parent(&self) -> Option<RegionCode> {
        let code = &self.0;
        let parent = match self.level() {
            RegionLevel::National => return None,
            RegionLevel::Province => Self::NATIONAL.to_owned(),
            RegionLevel::Prefecture => format!("{}0000", &code[..2]),
            RegionLevel::County => format!("{}00", &code[..4]),
            RegionLevel::Township => code[..6].to_owned(),
            RegionLevel::Village => code[..9].to_owned(),
        };
        Some(RegionCode(parent))
    }

    /// True when `other` is this region or lies below it. Division codes are hierarchical by
    /// prefix, so no lookup is needed.
    pub fn contains(&self, other: &RegionCode) -> bool {
        let prefix = match self.level() {
            RegionLevel::National => return true,
            RegionLevel::Province => &self.0[..2],
            RegionLevel::Prefecture => &self.0[..4],
            RegionLevel::County | RegionLevel::Township | RegionLevel::Village => &self.0[..],
        };
        other.0.starts_with(prefix)
    }
}

/// How a stored code is read back (sqlx `try_from`): the same checks as parsing.
impl TryFrom<String> for RegionCode {
    type Error = IdError;

    fn try_from(text: String) -> Result<Self, IdError> {
        text.parse()
    }
}

impl FromStr for RegionCode {
    type Err = IdError;

    fn from_str(input: &str) -> Result<Self, IdError> {
        if !matches!(input.len(), 6 | 9 | 12) {
            return Err(IdError::Length {
                expected: "6, 9 or 12",
            });
        }
        if let Some(position) = input.bytes().position(|b| !b.is_ascii_digit()) {
            return Err(IdError::Character {
                position: position + 1,
            });
        }
        if input == Self::NATIONAL {
            return Ok(Self::national());
        }
        let bytes = input.as_bytes();
        if !PROVINCES.contains(&&input[..2]) {
            return Err(IdError::Region);
        }
        // A county code below a prefecture must not be "00"-padded in the middle (e.g. 110001).
        if &bytes[2..4] == b"00" && &bytes[4..6] != b"00" {
            return Err(IdError::Region);
        }
        // Township and village codes extend a county: the county part must be a real county.
        if input.len() > 6 && (&bytes[4..6] == b"00" || &bytes[6..9] == b"000") {
            return Err(IdError::Region);
        }
        if input.len() == 12 && &bytes[9..12] == b"000" {
            return Err(IdError::Region);
        }
        Ok(Self(input.to_owned()))
    }
}

/// 公民身份号码: an 18-character citizen identity number (GB 11643-1999).
///
/// Personal data: `Debug` and `Display` show only a masked form; [`ResidentId::expose`] gives
/// the full number to the code that is allowed to use it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId(String);

impl ResidentId {
    /// The full number. Call only where the number itself is needed (storage, matching).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The form shown on screens and in logs: first two and last two characters.
    pub fn masked(&self) -> String {
        format!("{}**************{}", &self.0[..2], &self.0[16..])
    }

    pub fn birth_date(&self) -> Date {
        // Checked when parsed, so the fallback is never taken.
        parse_birth_date(&self.0[6..14]).unwrap_or(Date::MIN)
    }

    /// The region of the household registration at the time the number was assigned.
    pub fn region(&self) -> &str {
        &self.0[..6]
    }

    /// The sequence digit is odd for men and even for women.
    pub fn is_odd_sequence(&self) -> bool {
        (self.0.as_bytes()[16] - b'0') % 2 == 1
    }

    /// The check character for 17 leading digits, for generating valid numbers (demo data, tests).
    pub fn check_character(first17: &str) -> Option<char> {
        if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: Vec<u8> = first17.bytes().map(|b| b - b'0').collect();
        Some(match mod11_2(&digits) {
            10 => 'X',
            value => char::from(b'0' + value),
        })
    }
}

fn parse_birth_date(yyyymmdd: &str) -> Option<Date> {
    let year: i32 = yyyymmdd[..4].parse().ok()?;
    let month: u8 = yyyymmdd[4..6].parse().ok()?;
    let day: u8 = yyyymmdd[6..8].parse().ok()?;
    if year < 1850 {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

impl FromStr for ResidentId {
    type Err = IdError;

    fn from_str(input: &str) -> Result<Self, IdError> {
        let bytes = input.as_bytes();
        if bytes.len() != 18 {
            return Err(IdError::Length { expected: "18" });
        }
        if let Some(position) = bytes[..17].iter().position(|b| !b.is_ascii_digit()) {
            return Err(IdError::Character {
                position: position + 1,
            });
        }
        let last = bytes[17];
        if !(last.is_ascii_digit() || last == b'X') {
            return Err(IdError::Character { position: 18 });
        }
        RegionCode::from_str(&input[..6])
            .ok()
            .filter(|region| {
                region.level() == RegionLevel::County || region.level() == RegionLevel::Prefecture
            })
            .ok_or(IdError::Region)?;
        parse_birth_date(&input[6..14]).ok_or(IdError::BirthDate)?;
        if Self::check_character(&input[..17]) != Some(char::from(last)) {
            return Err(IdError::Check);
        }
        Ok(Self(input.to_owned()))
    }
}

/// The 31 characters of the USCC alphabet: digits and capitals without I, O, Z, S, V.
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn uscc_value(byte: u8) -> Option<u32> {
    USCC_ALPHABET
        .iter()
        .position(|&c| c == byte)
        .map(|p| p as u32)
}

/// 统一社会信用代码: an 18-character unified social credit code (GB 32100-2015), the identity of
/// a legal person or other organisation.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

impl Uscc {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The administrative division of the registering authority.
    pub fn region(&self) -> &str {
        &self.0[2..8]
    }

    /// The check character for 17 leading characters, for generating valid codes.
    pub fn check_character(first17: &str) -> Option<char> {
        if first17.len() != 17 {
            return None;
        }
        let mut sum = 0;
        for (byte, weight) in first17.bytes().zip(USCC_WEIGHTS) {
            sum += uscc_value(byte)? * weight;
        }
        let check = (31 - sum % 31) % 31;
        Some(char::from(USCC_ALPHABET[check as usize]))
    }
}

/// How a stored code is read back (sqlx `try_from`): the same checks as parsing.
impl TryFrom<String> for Uscc {
    type Error = IdError;

    fn try_from(text: String) -> Result<Self, IdError> {
        text.parse()
    }
}

impl FromStr for Uscc {
    type Err = IdError;

    fn from_str(input: &str) -> Result<Self, IdError> {
        let bytes = input.as_bytes();
        if bytes.len() != 18 {
            return Err(IdError::Length { expected: "18" });
        }
        if let Some(position) = bytes.iter().position(|&b| uscc_value(b).is_none()) {
            return Err(IdError::Character {
                position: position + 1,
            });
        }
        // Registration authority code: 1–9, or a capital (A–Y) for the authorities named since.
        if bytes[0] == b'0' {
            return Err(IdError::Character { position: 1 });
        }
        if !bytes[2..8].iter().all(u8::is_ascii_digit)
            || RegionCode::from_str(&input[2..8]).is_err()
        {
            return Err(IdError::Region);
        }
        if Self::check_character(&input[..17]) != Some(char::from(bytes[17])) {
            return Err(IdError::Check);
        }
        Ok(Self(input.to_owned()))
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

macro_rules! plain_identifier {
    ($name:ident) => {
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}

plain_identifier!(Uscc);
plain_identifier!(RegionCode);

macro_rules! deserialize_by_parsing {
    ($($name:ident),*) => {$(
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}

deserialize_by_parsing!(ResidentId, Uscc, RegionCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_example_resident_id_parses_and_masks() {
        let id: ResidentId = "11010519491231002X".parse().expect("valid");
        assert_eq!(id.masked(), "11**************2X");
        assert_eq!(format!("{id:?}"), "ResidentId(11**************2X)");
        assert_eq!(
            id.birth_date(),
            Date::from_calendar_date(1949, Month::December, 31).expect("date")
        );
        assert!(!id.is_odd_sequence());
    }

    #[test]
    fn resident_id_with_a_birth_date_that_does_not_exist_is_refused() {
        let first17 = "11010519490230002";
        let check = ResidentId::check_character(first17).expect("digits");
        assert_eq!(
            format!("{first17}{check}").parse::<ResidentId>(),
            Err(IdError::BirthDate)
        );
    }

    #[test]
    fn lowercase_x_and_x_in_the_middle_are_refused() {
        assert!("11010519491231002x".parse::<ResidentId>().is_err());
        assert!("1101051949123100X2".parse::<ResidentId>().is_err());
    }

    #[test]
    fn a_published_business_licence_code_parses() {
        // The code printed on the sample licence of GB 32100-2015 annex.
        let code: Uscc = "91350100M000100Y43".parse().expect("valid");
        assert_eq!(code.region(), "350100");
    }

    #[test]
    fn uscc_letters_outside_the_alphabet_are_refused() {
        assert_eq!(
            "91350100M000100I43".parse::<Uscc>(),
            Err(IdError::Character { position: 16 })
        );
    }

    #[test]
    fn region_levels_and_containment_follow_the_code() {
        let province: RegionCode = "330000".parse().expect("province");
        let city: RegionCode = "339900".parse().expect("prefecture");
        let district: RegionCode = "339901".parse().expect("county");
        let township: RegionCode = "339901001".parse().expect("township");
        assert_eq!(province.level(), RegionLevel::Province);
        assert_eq!(city.level(), RegionLevel::Prefecture);
        assert_eq!(district.level(), RegionLevel::County);
        assert_eq!(township.level(), RegionLevel::Township);
        assert_eq!(township.parent(), Some(district.clone()));
        assert_eq!(district.parent(), Some(city.clone()));
        assert_eq!(city.parent(), Some(province.clone()));
        assert_eq!(province.parent(), Some(RegionCode::national()));
        assert!(city.contains(&township));
        assert!(!district.contains(&city));
        assert!(
            !"339902"
                .parse::<RegionCode>()
                .expect("county")
                .contains(&district)
        );
        assert!(RegionCode::national().contains(&province));
    }

    #[test]
    fn malformed_region_codes_are_refused() {
        for bad in [
            "",
            "33000",
            "3300000",
            "99xx00",
            "990000",
            "330001",
            "339900001",
            "3399010000000",
        ] {
            assert!(
                bad.parse::<RegionCode>().is_err(),
                "{bad} should be refused"
            );
        }
    }
}
