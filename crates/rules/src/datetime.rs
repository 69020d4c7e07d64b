//! CertLogic date-times: parsing the allowed ISO 8601 subset, partial dates, and offsetting with
//! the normalisation of JavaScript's `Date.setUTC…` methods (31 January + 1 month = 3 March).

const DAY_MS: i64 = 86_400_000;

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date; month and day may overflow and are
/// carried, as JavaScript does.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let total_months = year * 12 + (month - 1);
    let (y, m) = (total_months.div_euclid(12), total_months.rem_euclid(12) + 1);
    let y_adj = if m <= 2 { y - 1 } else { y };
    let era = y_adj.div_euclid(400);
    let yoe = y_adj - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (day - 1)
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn digits(text: &str, len: usize) -> Option<i64> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Parses a date or date-time in one of the formats CertLogic allows. A partial date (`YYYY`,
/// `YYYY-MM`) means its last day, as `dccDateOfBirth` defines.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let (year, month, day) = match parts.as_slice() {
        [y] if time.is_none() => {
            let year = digits(y, 4)?;
            (year, 12, 31)
        }
        [y, m] if time.is_none() => {
            let (year, month) = (digits(y, 4)?, digits(m, 2)?);
            if !(1..=12).contains(&month) {
                return None;
            }
            (year, month, days_in_month(year, month))
        }
        [y, m, d] => {
            let (year, month, day) = (digits(y, 4)?, digits(m, 2)?, digits(d, 2)?);
            if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
                return None;
            }
            (year, month, day)
        }
        _ => return None,
    };
    let mut millis = days_from_civil(year, month, day) * DAY_MS;
    if let Some(time) = time {
        millis += parse_time(time)?;
    }
    Some(millis)
}

/// `hh:mm:ss[.S…][Z|±h|±hh|±hmm|±hhmm|±h:mm|±hh:mm]` as milliseconds after midnight UTC.
fn parse_time(time: &str) -> Option<i64> {
    if time.len() < 8 {
        return None;
    }
    let (clock, rest) = time.split_at(8);
    let hms: Vec<&str> = clock.split(':').collect();
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    let (hours, minutes, seconds) = (digits(h, 2)?, digits(m, 2)?, digits(s, 2)?);
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(after) => {
            let end = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            if end == 0 {
                return None;
            }
            (&after[..end], &after[end..])
        }
        None => ("", rest),
    };
    // Milliseconds: the first three decimals; later ones are dropped (rounding down).
    let millis_text: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(3)
        .collect();
    let millis: i64 = if fraction.is_empty() {
        0
    } else {
        millis_text.parse().ok()?
    };
    let offset_minutes = parse_offset(zone)?;
    Some(((hours * 60 + minutes - offset_minutes) * 60 + seconds) * 1000 + millis)
}

fn parse_offset(zone: &str) -> Option<i64> {
    if zone.is_empty() || zone == "Z" {
        return Some(0);
    }
    let sign = match zone.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = &zone[1..];
    let (hours, minutes) = match body.split_once(':') {
        Some((h, m)) if (1..=2).contains(&h.len()) => (digits(h, h.len())?, digits(m, 2)?),
        Some(_) => return None,
        None => match body.len() {
            1 | 2 => (digits(body, body.len())?, 0),
            3 | 4 => {
                let split = body.len() - 2;
                (digits(&body[..split], split)?, digits(&body[split..], 2)?)
            }
            _ => return None,
        },
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 60 + minutes))
}

/// Adds `amount` of `unit` (`year`, `month`, `day`, `hour`) the way JavaScript's `Date` does.
pub fn plus(millis: i64, amount: i64, unit: &str) -> Option<i64> {
    let days = millis.div_euclid(DAY_MS);
    let time_of_day = millis.rem_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    let shifted = match unit {
        "year" => days_from_civil(year.checked_add(amount)?, month, day) * DAY_MS + time_of_day,
        "month" => days_from_civil(year, month.checked_add(amount)?, day) * DAY_MS + time_of_day,
        "day" => millis.checked_add(amount.checked_mul(DAY_MS)?)?,
        "hour" => millis.checked_add(amount.checked_mul(3_600_000)?)?,
        _ => return None,
    };
    Some(shifted)
}

/// ISO 8601 with milliseconds in UTC, as JavaScript's `toISOString`.
pub fn format_datetime(millis: i64) -> String {
    let (year, month, day) = civil_from_days(millis.div_euclid(DAY_MS));
    let t = millis.rem_euclid(DAY_MS);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        t / 3_600_000,
        t / 60_000 % 60,
        t / 1000 % 60,
        t % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> String {
        format_datetime(parse_datetime(text).expect(text))
    }

    #[test]
    fn every_allowed_format_parses_to_utc_milliseconds() {
        assert_eq!(at("2021"), "2021-12-31T00:00:00.000Z");
        assert_eq!(at("2020-02"), "2020-02-29T00:00:00.000Z");
        assert_eq!(at("2021-05-20"), "2021-05-20T00:00:00.000Z");
        assert_eq!(at("2021-05-20T12:34:56"), "2021-05-20T12:34:56.000Z");
        assert_eq!(at("2021-05-20T12:34:56+2"), "2021-05-20T10:34:56.000Z");
        assert_eq!(at("2021-05-20T12:34:56-0130"), "2021-05-20T14:04:56.000Z");
        assert_eq!(
            at("2021-05-20T12:34:56.123456+01:00"),
            "2021-05-20T11:34:56.123Z"
        );
        assert_eq!(at("2021-05-20T12:34:56.1Z"), "2021-05-20T12:34:56.100Z");
        for bad in [
            "",
            "21",
            "2021-13",
            "2021-02-30",
            "2021-05-20T25:00:00",
            "2021-05-20T12:34",
            "2021-05-20T12:34:56+123456",
            "2021-05-20 12:34:56",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn offsets_follow_javascript_date_normalisation() {
        let leap = parse_datetime("2020-02-29").expect("date");
        assert_eq!(
            format_datetime(plus(leap, 1, "day").expect("ok")),
            "2020-03-01T00:00:00.000Z"
        );
        assert_eq!(
            format_datetime(plus(leap, 1, "month").expect("ok")),
            "2020-03-29T00:00:00.000Z"
        );
        assert_eq!(
            format_datetime(plus(leap, 1, "year").expect("ok")),
            "2021-03-01T00:00:00.000Z"
        );
        let end_of_january = parse_datetime("2021-01-31T10:00:00Z").expect("date");
        assert_eq!(
            format_datetime(plus(end_of_january, 1, "month").expect("ok")),
            "2021-03-03T10:00:00.000Z"
        );
        assert_eq!(
            format_datetime(plus(end_of_january, -18, "year").expect("ok")),
            "2003-01-31T10:00:00.000Z"
        );
        assert_eq!(plus(0, 1, "week"), None);
    }
}
