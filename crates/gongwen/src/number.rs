//! Document numbers (发文字号): the issuing organ's code (机关代字), the year in hexagonal
//! brackets and the number in the year's sequence — `临政发〔2026〕12号` (GB/T 9704-2012, 7.2.4:
//! the year in full in 〔〕, the number without leading zeros and without 第).

use serde::{Deserialize, Serialize};

/// A document number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DocumentNumber))]
pub struct Number {
    /// The organ's code, such as `临政发` or `临政办函`.
    pub code: String,
    pub year: i32,
    /// From 1, without gaps within a code and year.
    pub seq: u32,
}

/// Why a text is not a document number, or an organ's code cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    /// Not of the shape `代字〔年份〕序号号`.
    Shape,
    /// A code that is empty, too long, or holds brackets, digits or spaces.
    Code,
    /// A year outside 1949–9999, or a number of 0 or written with leading zeros.
    Value,
}

impl std::fmt::Display for NumberError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NumberError::Shape => "a document number reads like 临政发〔2026〕12号",
            NumberError::Code => {
                "an organ's code is 1 to 12 characters, without brackets, digits or spaces"
            }
            NumberError::Value => {
                "the year is written in full and the number from 1, without leading zeros"
            }
        })
    }
}

impl std::error::Error for NumberError {}

/// Checks an organ's code (机关代字).
pub fn check_code(code: &str) -> Result<(), NumberError> {
    let length = code.chars().count();
    let clean = code.chars().all(|c| {
        !c.is_whitespace()
            && !c.is_ascii_digit()
            && !matches!(c, '〔' | '〕' | '[' | ']' | '(' | ')' | '（' | '）' | '号')
    });
    if (1..=12).contains(&length) && clean {
        Ok(())
    } else {
        Err(NumberError::Code)
    }
}

impl Number {
    pub fn new(code: &str, year: i32, seq: u32) -> Result<Number, NumberError> {
        check_code(code)?;
        if !(1949..=9999).contains(&year) || seq == 0 {
            return Err(NumberError::Value);
        }
        Ok(Number {
            code: code.to_owned(),
            year,
            seq,
        })
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}〔{}〕{}号", self.code, self.year, self.seq)
    }
}

impl std::str::FromStr for Number {
    type Err = NumberError;

    fn from_str(text: &str) -> Result<Number, NumberError> {
        let (code, rest) = text.split_once('〔').ok_or(NumberError::Shape)?;
        let (year, rest) = rest.split_once('〕').ok_or(NumberError::Shape)?;
        let seq = rest.strip_suffix('号').ok_or(NumberError::Shape)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(year) || !digits(seq) {
            return Err(NumberError::Shape);
        }
        if year.len() != 4 || seq.starts_with('0') || seq.len() > 9 {
            return Err(NumberError::Value);
        }
        Number::new(
            code,
            year.parse().map_err(|_| NumberError::Value)?,
            seq.parse().map_err(|_| NumberError::Value)?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_are_written_as_the_standard_writes_them() {
        let number = Number::new("国办发", 2012, 14).expect("valid");
        assert_eq!(number.to_string(), "国办发〔2012〕14号");
        assert_eq!("国办发〔2012〕14号".parse(), Ok(number));
    }

    #[test]
    fn numbers_the_standard_does_not_allow_are_refused() {
        for (text, error) in [
            ("国办发[2012]14号", NumberError::Shape),
            ("国办发〔2012〕第14号", NumberError::Shape),
            ("国办发〔2012〕014号", NumberError::Value),
            ("国办发〔12〕14号", NumberError::Value),
            ("国办发〔2012〕0号", NumberError::Value),
            ("〔2012〕14号", NumberError::Code),
            ("国办 发〔2012〕14号", NumberError::Code),
            ("国办发〔2012〕14", NumberError::Shape),
        ] {
            assert_eq!(text.parse::<Number>(), Err(error), "{text}");
        }
    }

    proptest! {
        #[test]
        fn every_number_reads_back(code in "[临政发办函市县府]{1,6}", year in 1949i32..3000, seq in 1u32..1_000_000) {
            let number = Number::new(&code, year, seq).expect("valid");
            prop_assert_eq!(number.to_string().parse::<Number>(), Ok(number));
        }

        #[test]
        fn any_text_is_read_or_refused_without_a_panic(text in "\\PC{0,40}") {
            let _ = text.parse::<Number>();
        }
    }
}
