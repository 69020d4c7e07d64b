//! The civil time zone in which calendar days are counted: a certificate's validity, working-day
//! due dates, statistics by day, and the times pages show.
//!
//! Instants (Unix time, RFC 3339 with `Z`) need no zone and are what the API and the database
//! carry. A *day* does: 01:00 on 4 December in Beijing is still 3 December in UTC. So every
//! "today" in tongban is taken in a [`Zone`], never in the machine's zone or in UTC, and a
//! certificate carries the zone of the region that issued it, so that a verifier anywhere reads
//! its dates as the issuer meant them.
//!
//! A zone is a fixed offset from UTC (`+08:00`). The regions tongban serves keep no daylight
//! saving time; a fixed offset is also what a signed document can carry without depending on the
//! verifier's copy of a time-zone database.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, OffsetDateTime, UtcOffset};

const DAY_MS: i64 = 86_400_000;

/// A fixed offset from UTC, written `+08:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone(UtcOffset);

/// Why a zone did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a time zone is an offset from UTC written ±HH:MM, between -12:00 and +14:00")]
pub struct ZoneError;

impl Zone {
    /// China Standard Time, UTC+8 (北京时间): the zone of every region in China, and the zone of
    /// certificates issued before certificates named theirs.
    pub const CHINA: Zone = Zone(time::macros::offset!(+8));
    /// Coordinated Universal Time.
    pub const UTC: Zone = Zone(UtcOffset::UTC);

    fn checked(offset: UtcOffset) -> Result<Zone, ZoneError> {
        let seconds = offset.whole_seconds();
        if !(-12 * 3600..=14 * 3600).contains(&seconds) || seconds % 60 != 0 {
            return Err(ZoneError);
        }
        Ok(Zone(offset))
    }

    pub fn offset(self) -> UtcOffset {
        self.0
    }

    /// The instant `millis` (Unix milliseconds) as a date and time in this zone.
    pub fn at(self, millis: i64) -> OffsetDateTime {
        let nanos = i128::from(millis) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(if millis < 0 {
                OffsetDateTime::UNIX_EPOCH
            } else {
                Date::MAX.midnight().assume_utc()
            })
            .to_offset(self.0)
    }

    /// The calendar day in this zone at the instant `millis` (Unix milliseconds).
    pub fn date_of(self, millis: i64) -> Date {
        self.at(millis).date()
    }

    /// The calendar day in this zone at the instant `seconds` (Unix seconds).
    pub fn date_of_seconds(self, seconds: i64) -> Date {
        self.date_of(seconds.saturating_mul(1000))
    }

    /// The first instant (Unix milliseconds) of `day` in this zone.
    pub fn start_of(self, day: Date) -> i64 {
        let start = day.midnight().assume_offset(self.0);
        start.unix_timestamp() * 1000
    }

    /// The instants `[start, end)` (Unix milliseconds) that make up `day` in this zone.
    pub fn day_span(self, day: Date) -> (i64, i64) {
        let start = self.start_of(day);
        (start, start + DAY_MS)
    }

    /// `YYYY-MM-DD HH:MM` in this zone: how pages show a moment.
    pub fn display(self, millis: i64) -> String {
        let t = self.at(millis);
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    }

    /// An RFC 3339 instant (as the API gives it) shown as [`Zone::display`] does; the text itself
    /// when it does not parse.
    pub fn display_rfc3339(self, text: &str) -> String {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .map(|t| self.display((t.unix_timestamp_nanos() / 1_000_000) as i64))
            .unwrap_or_else(|_| text.to_owned())
    }

    /// The label pages print beside times: `UTC+08:00`.
    pub fn label(self) -> String {
        format!("UTC{self}")
    }
}

/// `YYYY-MM-DD`: how certificates, due dates and the API write a calendar day.
pub fn ymd(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// Parses `YYYY-MM-DD`.
pub fn parse_ymd(text: &str) -> Option<Date> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

impl Default for Zone {
    fn default() -> Self {
        Zone::CHINA
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (hours, minutes, _) = self.0.as_hms();
        let sign = if self.0.is_negative() { '-' } else { '+' };
        write!(
            f,
            "{sign}{:02}:{:02}",
            hours.unsigned_abs(),
            minutes.unsigned_abs()
        )
    }
}

impl FromStr for Zone {
    type Err = ZoneError;

    /// `+08:00`, `-05:00`, `+05:45`; `Z` and `+00:00` for UTC.
    fn from_str(text: &str) -> Result<Zone, ZoneError> {
        if text == "Z" {
            return Ok(Zone::UTC);
        }
        let bytes = text.as_bytes();
        if bytes.len() != 6 || bytes[3] != b':' || !matches!(bytes[0], b'+' | b'-') {
            return Err(ZoneError);
        }
        let number = |range: std::ops::Range<usize>| -> Result<i8, ZoneError> {
            let part = &text[range];
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ZoneError);
            }
            part.parse().map_err(|_| ZoneError)
        };
        let (hours, minutes) = (number(1..3)?, number(4..6)?);
        if minutes >= 60 {
            return Err(ZoneError);
        }
        let sign = if bytes[0] == b'-' { -1 } else { 1 };
        let offset = UtcOffset::from_hms(sign * hours, sign * minutes, 0).map_err(|_| ZoneError)?;
        Zone::checked(offset)
    }
}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Zone, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn millis(t: OffsetDateTime) -> i64 {
        t.unix_timestamp() * 1000
    }

    #[test]
    fn one_in_the_morning_in_beijing_is_the_previous_day_in_utc() {
        let at = millis(datetime!(2026-12-04 01:00 +8));
        assert_eq!(Zone::CHINA.date_of(at), date!(2026 - 12 - 04));
        assert_eq!(Zone::UTC.date_of(at), date!(2026 - 12 - 03));
    }

    #[test]
    fn a_day_starts_at_local_midnight() {
        let (start, end) = Zone::CHINA.day_span(date!(2026 - 12 - 04));
        assert_eq!(start, millis(datetime!(2026-12-03 16:00 UTC)));
        assert_eq!(end - start, DAY_MS);
        assert_eq!(Zone::CHINA.date_of(start), date!(2026 - 12 - 04));
        assert_eq!(Zone::CHINA.date_of(start - 1), date!(2026 - 12 - 03));
        assert_eq!(Zone::CHINA.date_of(end - 1), date!(2026 - 12 - 04));
    }

    #[test]
    fn zones_read_and_write_as_offsets() {
        for text in ["+08:00", "-05:00", "+05:45", "+00:00", "-09:30", "+14:00"] {
            let zone: Zone = text.parse().expect(text);
            assert_eq!(zone.to_string(), text);
        }
        assert_eq!("Z".parse::<Zone>(), Ok(Zone::UTC));
        for bad in [
            "", "8", "+8", "+08", "+0800", "08:00", "+08:60", "+15:00", "-13:00", "+0a:00",
            "+08:00 ",
        ] {
            assert_eq!(bad.parse::<Zone>(), Err(ZoneError), "{bad:?}");
        }
    }

    #[test]
    fn pages_show_local_time_with_its_label() {
        let at = millis(datetime!(2023-11-14 22:13:20 UTC));
        assert_eq!(Zone::CHINA.display(at), "2023-11-15 06:13");
        assert_eq!(Zone::UTC.display(at), "2023-11-14 22:13");
        assert_eq!(
            Zone::CHINA.display_rfc3339("2023-11-14T22:13:20Z"),
            "2023-11-15 06:13"
        );
        assert_eq!(Zone::CHINA.display_rfc3339("soon"), "soon");
        assert_eq!(Zone::CHINA.label(), "UTC+08:00");
    }

    #[test]
    fn days_print_and_parse_as_iso_dates() {
        assert_eq!(ymd(date!(2026 - 01 - 05)), "2026-01-05");
        assert_eq!(parse_ymd("2026-01-05"), Some(date!(2026 - 01 - 05)));
        assert_eq!(parse_ymd("2026-1-5"), None);
    }

    #[test]
    fn far_instants_do_not_panic() {
        for millis in [i64::MIN, i64::MAX, 0, -1] {
            let _ = Zone::CHINA.date_of(millis);
            let _ = Zone::CHINA.display(millis);
        }
    }
}
