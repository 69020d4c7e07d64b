//! ISO 7064 check characters used by the national identifier standards.

/// ISO 7064 MOD 11-2, as GB 11643 uses it over the first 17 digits of a citizen ID number.
/// Returns the check value 0..=10 (10 is written `X`).
pub(crate) fn mod11_2(digits: &[u8]) -> u8 {
    // Weight of position i (counted from the left over 17 digits) is 2^(17 - i) mod 11.
    let mut sum: u32 = 0;
    let mut weight: u32 = 1;
    for &digit in digits.iter().rev() {
        weight = (weight * 2) % 11;
        sum += u32::from(digit) * weight;
    }
    ((12 - sum % 11) % 11) as u8
}

/// The 36 characters of ISO 7064 MOD 37,36, in value order.
pub(crate) const ALPHANUMERIC: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The value of a character of the MOD 37,36 alphabet.
pub(crate) fn alphanumeric_value(c: u8) -> Option<u32> {
    ALPHANUMERIC.iter().position(|&a| a == c).map(|v| v as u32)
}

/// ISO 7064 MOD 37,36 (a hybrid system, M = 36), as GB/T 36904 uses it over the characters of
/// an electronic certificate's identifier. Returns the check character, or `None` when a
/// character lies outside `0-9A-Z`.
pub(crate) fn mod37_36(text: &[u8]) -> Option<u8> {
    const M: u32 = 36;
    let mut product = M;
    for &c in text {
        let mut sum = (product + alphanumeric_value(c)?) % M;
        if sum == 0 {
            sum = M;
        }
        product = (2 * sum) % (M + 1);
    }
    Some(ALPHANUMERIC[((M + 1 - product) % M) as usize])
}

/// Whether `text` followed by `check` passes MOD 37,36: running the same steps over the check
/// character leaves the sum at 1.
#[cfg(test)]
fn mod37_36_holds(text: &[u8], check: u8) -> bool {
    const M: u32 = 36;
    let mut product = M;
    for &c in text {
        let Some(value) = alphanumeric_value(c) else {
            return false;
        };
        let mut sum = (product + value) % M;
        if sum == 0 {
            sum = M;
        }
        product = (2 * sum) % (M + 1);
    }
    alphanumeric_value(check).is_some_and(|value| (product + value) % M == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_computed_check_character_passes_the_verification_rule() {
        for text in [&b"A"[..], b"0", b"Z9", b"91330100MA27XY1234001ABC001"] {
            let check = mod37_36(text).expect("alphanumeric");
            assert!(
                mod37_36_holds(text, check),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn every_single_substitution_is_caught() {
        let text = b"913301007517XY1234001913301007517XY1234SN20260001001";
        let check = mod37_36(text).expect("alphanumeric");
        for position in 0..text.len() {
            for &other in ALPHANUMERIC {
                if other == text[position] {
                    continue;
                }
                let mut changed = text.to_vec();
                changed[position] = other;
                assert_ne!(mod37_36(&changed), Some(check), "position {position}");
            }
        }
    }

    #[test]
    fn characters_outside_the_alphabet_have_no_check() {
        assert_eq!(mod37_36(b"ab"), None);
        assert_eq!(mod37_36(b"A-B"), None);
    }

    #[test]
    fn matches_the_worked_example_of_gb_11643() {
        // 11010519491231002X is the standard's own example: check value 10.
        let digits: Vec<u8> = b"11010519491231002".iter().map(|b| b - b'0').collect();
        assert_eq!(mod11_2(&digits), 10);
    }
}
