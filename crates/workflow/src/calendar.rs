//! The working-day calendar of a region: Monday to Friday, less public holidays, plus the
//! weekend days made working days in exchange (调休). Time limits of service items count in
//! these working days.

use std::collections::HashSet;

use time::{Date, Weekday};

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    holidays: HashSet<Date>,
    workdays: HashSet<Date>,
}

impl Calendar {
    pub fn new(
        holidays: impl IntoIterator<Item = Date>,
        workdays: impl IntoIterator<Item = Date>,
    ) -> Self {
        Calendar {
            holidays: holidays.into_iter().collect(),
            workdays: workdays.into_iter().collect(),
        }
    }

    pub fn is_working(&self, day: Date) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        !self.holidays.contains(&day)
            && !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// The day `n` working days after `start` (the day itself not counted); `n = 0` is the
    /// first working day from `start` on (an immediate item is due the day it is received,
    /// or the next working day when received on a holiday).
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        let mut day = start;
        if n == 0 {
            while !self.is_working(day) {
                day = day.next_day().unwrap_or(day);
            }
            return day;
        }
        let mut left = n;
        while left > 0 {
            day = match day.next_day() {
                Some(next) => next,
                None => return day,
            };
            if self.is_working(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days from `today` until `due`: positive while time is left, 0 on the due day,
    /// negative when overdue (counting the working days past it).
    pub fn working_days_left(&self, today: Date, due: Date) -> i64 {
        let (from, to, sign) = if today <= due {
            (today, due, 1)
        } else {
            (due, today, -1)
        };
        let mut count = 0;
        let mut day = from;
        while day < to {
            day = match day.next_day() {
                Some(next) => next,
                None => break,
            };
            if self.is_working(day) {
                count += 1;
            }
        }
        sign * count
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    /// 2026's National Day week: 1–7 October off, Saturday 10 October worked.
    fn october() -> Calendar {
        let holidays =
            (1..=7).map(|d| Date::from_calendar_date(2026, time::Month::October, d).expect("date"));
        Calendar::new(holidays, [date!(2026 - 10 - 10)])
    }

    #[test]
    fn weekends_and_holidays_do_not_count_and_exchanged_days_do() {
        let c = october();
        // Wednesday 30 September + 3 working days: 1–7 off, 8 (Thu), 9 (Fri), 10 (Sat, worked).
        assert_eq!(
            c.add_working_days(date!(2026 - 09 - 30), 3),
            date!(2026 - 10 - 10)
        );
        // Friday + 1: the next Monday.
        assert_eq!(
            c.add_working_days(date!(2026 - 11 - 27), 1),
            date!(2026 - 11 - 30)
        );
        // Immediate on a holiday: the first working day after.
        assert_eq!(
            c.add_working_days(date!(2026 - 10 - 03), 0),
            date!(2026 - 10 - 08)
        );
        assert_eq!(
            c.add_working_days(date!(2026 - 11 - 26), 0),
            date!(2026 - 11 - 26)
        );
    }

    #[test]
    fn days_left_count_down_and_past_the_due_day() {
        let c = october();
        assert_eq!(
            c.working_days_left(date!(2026 - 11 - 23), date!(2026 - 11 - 27)),
            4
        );
        assert_eq!(
            c.working_days_left(date!(2026 - 11 - 27), date!(2026 - 11 - 27)),
            0
        );
        assert_eq!(
            c.working_days_left(date!(2026 - 11 - 30), date!(2026 - 11 - 27)),
            -1
        );
        assert_eq!(
            c.working_days_left(date!(2026 - 09 - 30), date!(2026 - 10 - 09)),
            2
        );
    }
}
