//! Timestamps as people and other systems read them.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Unix milliseconds as RFC 3339 in UTC.
pub fn rfc3339(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Unix milliseconds as a short local-style display, `YYYY-MM-DD HH:MM` (UTC+8, China Standard Time).
pub fn display_cst(millis: i64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000) + 8 * 3600) else {
        return String::new();
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// An RFC 3339 instant (as the API gives it) as [`display_cst`] shows it; the text itself when
/// it does not parse.
pub fn display_rfc3339(text: &str) -> String {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| display_cst((t.unix_timestamp_nanos() / 1_000_000) as i64))
        .unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_both_ways() {
        assert_eq!(rfc3339(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(display_cst(1_700_000_000_000), "2023-11-15 06:13");
    }
}
