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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_worked_example_of_gb_11643() {
        // 11010519491231002X is the standard's own example: check value 10.
        let digits: Vec<u8> = b"11010519491231002".iter().map(|b| b - b'0').collect();
        assert_eq!(mod11_2(&digits), 10);
    }
}
