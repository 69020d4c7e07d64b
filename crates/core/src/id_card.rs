//! The text block of a second-generation resident identity card (第二代居民身份证), as a
//! certified card reader (GA 467) hands it over after reading the chip: 256 bytes of UCS-2
//! little-endian text in fixed fields, padded with spaces.
//!
//! | bytes | field |
//! | --- | --- |
//! | 30 | name (姓名) |
//! | 2 | sex code (性别, GB/T 2261.1: 1 male, 2 female) |
//! | 4 | ethnicity code (民族, GB 3304) |
//! | 16 | date of birth, `YYYYMMDD` |
//! | 70 | address (住址) |
//! | 36 | citizen ID number (公民身份号码) |
//! | 30 | issuing authority (签发机关) |
//! | 16 | valid from, `YYYYMMDD` |
//! | 16 | valid until, `YYYYMMDD` or `长期` (no end) |
//! | 36 | newest address, usually empty |
//!
//! tongban uses the card only to find who is in front of the officer: [`CardText::parse`]
//! checks the block's shape and returns the ID number and the card's validity; the other
//! fields are read for consistency checks and then dropped, never kept.

use time::Date;

use crate::ids::{IdError, ResidentId};

/// The size of the text block.
pub const TEXT_BLOCK_LEN: usize = 256;

/// Why a card's text block was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("the card text block is {0} bytes, not 256")]
    Length(usize),
    #[error("the card text block is not UCS-2 text")]
    Encoding,
    #[error("the card's {0} field is malformed")]
    Field(&'static str),
    #[error("the card's ID number is not valid: {0}")]
    Number(IdError),
    #[error("the card's date of birth does not match its ID number")]
    BirthMismatch,
}

/// What tongban takes from a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardText {
    pub resident_id: ResidentId,
    pub valid_from: Date,
    /// `None` for a card valid without end (长期).
    pub valid_until: Option<Date>,
}

impl CardText {
    pub fn parse(block: &[u8]) -> Result<CardText, CardError> {
        if block.len() != TEXT_BLOCK_LEN {
            return Err(CardError::Length(block.len()));
        }
        let units: Vec<u16> = block
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        let text = String::from_utf16(&units).map_err(|_| CardError::Encoding)?;
        let chars: Vec<char> = text.chars().collect();
        // Every field is a whole number of UCS-2 units; surrogate pairs would shift them.
        if chars.len() != TEXT_BLOCK_LEN / 2 {
            return Err(CardError::Encoding);
        }
        let mut at = 0;
        let mut field = |units: usize| {
            let value: String = chars[at..at + units].iter().collect();
            at += units;
            value.trim_end_matches([' ', '\0']).to_owned()
        };
        let name = field(15);
        let sex = field(1);
        let _ethnicity = field(2);
        let birth = field(8);
        let _address = field(35);
        let number = field(18);
        let _authority = field(15);
        let from = field(8);
        let until = field(8);
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(CardError::Field("name"));
        }
        if !matches!(sex.as_str(), "1" | "2") {
            return Err(CardError::Field("sex"));
        }
        let resident_id: ResidentId = number.parse().map_err(CardError::Number)?;
        let birth = date(&birth).ok_or(CardError::Field("birth"))?;
        if birth != resident_id.birth_date() {
            return Err(CardError::BirthMismatch);
        }
        let valid_from = date(&from).ok_or(CardError::Field("valid_from"))?;
        let valid_until = match until.as_str() {
            "长期" => None,
            other => Some(date(other).ok_or(CardError::Field("valid_until"))?),
        };
        if valid_until.is_some_and(|end| end < valid_from) {
            return Err(CardError::Field("valid_until"));
        }
        Ok(CardText {
            resident_id,
            valid_from,
            valid_until,
        })
    }

    /// Whether the card is within its validity on `day`.
    pub fn valid_on(&self, day: Date) -> bool {
        self.valid_from <= day && self.valid_until.is_none_or(|end| day <= end)
    }
}

fn date(text: &str) -> Option<Date> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = text[0..4].parse().ok()?;
    let month: u8 = text[4..6].parse().ok()?;
    let day: u8 = text[6..8].parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// Lays out a text block the way a reader returns it (for tests, demos and fuzz seeds).
#[allow(clippy::too_many_arguments)]
pub fn encode_text_block(
    name: &str,
    sex: &str,
    ethnicity: &str,
    birth: &str,
    address: &str,
    number: &str,
    authority: &str,
    valid_from: &str,
    valid_until: &str,
) -> Vec<u8> {
    let mut units: Vec<u16> = Vec::with_capacity(TEXT_BLOCK_LEN / 2);
    for (value, width) in [
        (name, 15),
        (sex, 1),
        (ethnicity, 2),
        (birth, 8),
        (address, 35),
        (number, 18),
        (authority, 15),
        (valid_from, 8),
        (valid_until, 8),
        ("", 18),
    ] {
        let mut field: Vec<u16> = value.encode_utf16().take(width).collect();
        field.resize(width, u16::from(b' '));
        units.extend(field);
    }
    units.iter().flat_map(|unit| unit.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(number: &str, birth: &str, until: &str) -> Vec<u8> {
        encode_text_block(
            "张伟",
            "1",
            "01",
            birth,
            "浙江省临江市江北区人民路1号",
            number,
            "临江市公安局江北分局",
            "20200101",
            until,
        )
    }

    const NUMBER: &str = "11010519491231002X";

    #[test]
    fn a_reader_block_gives_the_number_and_validity() {
        let card = CardText::parse(&block(NUMBER, "19491231", "20400101")).expect("parses");
        assert_eq!(card.resident_id.expose(), NUMBER);
        assert!(card.valid_on(Date::from_calendar_date(2026, time::Month::May, 1).expect("date")));
        assert!(!card.valid_on(Date::from_calendar_date(2041, time::Month::May, 1).expect("date")));
        let lifelong = CardText::parse(&block(NUMBER, "19491231", "长期")).expect("parses");
        assert_eq!(lifelong.valid_until, None);
    }

    #[test]
    fn malformed_blocks_are_refused_with_the_reason() {
        assert_eq!(CardText::parse(&[0; 10]), Err(CardError::Length(10)));
        assert_eq!(
            CardText::parse(&block(NUMBER, "19500101", "20400101")),
            Err(CardError::BirthMismatch)
        );
        assert!(matches!(
            CardText::parse(&block("110105194912310021", "19491231", "20400101")),
            Err(CardError::Number(_))
        ));
        assert_eq!(
            CardText::parse(&block(NUMBER, "19491231", "20191231")),
            Err(CardError::Field("valid_until"))
        );
        let mut lone_surrogate = block(NUMBER, "19491231", "20400101");
        lone_surrogate[0..2].copy_from_slice(&0xd800u16.to_le_bytes());
        assert_eq!(CardText::parse(&lone_surrogate), Err(CardError::Encoding));
    }
}
