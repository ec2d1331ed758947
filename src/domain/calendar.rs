//! Working days in England and Wales: weekends and bank holidays. Notice periods (advance notice of a
//! charge, reminders) count working days through [`Calendar`]. The bank holidays 2025–2030 are shipped
//! as data (as gov.uk publishes them, substitute days included); an office adds later or special ones
//! (a royal event) as extra dates.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// England and Wales bank holidays, 2025–2030, as (year, month, day).
#[rustfmt::skip]
pub const BANK_HOLIDAYS: [(i32, u32, u32); 48] = [
    (2025, 1, 1), (2025, 4, 18), (2025, 4, 21), (2025, 5, 5), (2025, 5, 26), (2025, 8, 25), (2025, 12, 25), (2025, 12, 26),
    (2026, 1, 1), (2026, 4, 3), (2026, 4, 6), (2026, 5, 4), (2026, 5, 25), (2026, 8, 31), (2026, 12, 25), (2026, 12, 28),
    (2027, 1, 1), (2027, 3, 26), (2027, 3, 29), (2027, 5, 3), (2027, 5, 31), (2027, 8, 30), (2027, 12, 27), (2027, 12, 28),
    (2028, 1, 3), (2028, 4, 14), (2028, 4, 17), (2028, 5, 1), (2028, 5, 29), (2028, 8, 28), (2028, 12, 25), (2028, 12, 26),
    (2029, 1, 1), (2029, 3, 30), (2029, 4, 2), (2029, 5, 7), (2029, 5, 28), (2029, 8, 27), (2029, 12, 25), (2029, 12, 26),
    (2030, 1, 1), (2030, 4, 19), (2030, 4, 22), (2030, 5, 6), (2030, 5, 27), (2030, 8, 26), (2030, 12, 25), (2030, 12, 26),
];

/// Weekends and bank holidays (the shipped ones plus any the office adds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Calendar {
    extra: Vec<NaiveDate>,
}

impl Calendar {
    /// The shipped bank holidays and `extra` ones.
    pub fn with_extra(mut extra: Vec<NaiveDate>) -> Self {
        extra.sort();
        extra.dedup();
        Self { extra }
    }

    pub fn is_bank_holiday(&self, d: NaiveDate) -> bool {
        BANK_HOLIDAYS
            .iter()
            .any(|&(y, m, day)| d.year() == y && d.month() == m && d.day() == day)
            || self.extra.binary_search(&d).is_ok()
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_bank_holiday(d)
    }

    /// The working day `n` working days after `d` (before it, for negative `n`); `d` itself is not
    /// counted.
    pub fn add_working_days(&self, d: NaiveDate, n: i32) -> NaiveDate {
        let step = if n < 0 { -1 } else { 1 };
        let mut left = n.abs();
        let mut day = d;
        while left > 0 {
            day += Duration::days(step);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days strictly after `from` up to and including `to` (0 when `to` is not after `from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let mut n = 0;
        let mut day = from;
        while day < to {
            day += Duration::days(1);
            if self.is_working_day(day) {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    /// Easter Sunday (the Anonymous Gregorian algorithm).
    fn easter(y: i32) -> NaiveDate {
        let a = y % 19;
        let b = y / 100;
        let c = y % 100;
        let dd = b / 4;
        let e = b % 4;
        let f = (b + 8) / 25;
        let g = (b - f + 1) / 3;
        let h = (19 * a + b - dd - g + 15) % 30;
        let i = c / 4;
        let k = c % 4;
        let l = (32 + 2 * e + 2 * i - h - k) % 7;
        let m = (a + 11 * h + 22 * l) / 451;
        let month = (h + l - 7 * m + 114) / 31;
        let day = (h + l - 7 * m + 114) % 31 + 1;
        d(y, month as u32, day as u32)
    }

    fn first_monday(y: i32, m: u32) -> NaiveDate {
        let mut x = d(y, m, 1);
        while x.weekday() != Weekday::Mon {
            x += Duration::days(1);
        }
        x
    }

    fn last_monday(y: i32, m: u32) -> NaiveDate {
        let mut x = if m == 12 {
            d(y + 1, 1, 1)
        } else {
            d(y, m + 1, 1)
        } - Duration::days(1);
        while x.weekday() != Weekday::Mon {
            x -= Duration::days(1);
        }
        x
    }

    /// The rules as the Banking and Financial Dealings Act and custom give them, with substitute days.
    fn by_rule(y: i32) -> Vec<NaiveDate> {
        let next_weekday = |x: NaiveDate, taken: &[NaiveDate]| {
            let mut x = x;
            while matches!(x.weekday(), Weekday::Sat | Weekday::Sun) || taken.contains(&x) {
                x += Duration::days(1);
            }
            x
        };
        let mut out = vec![next_weekday(d(y, 1, 1), &[])];
        let e = easter(y);
        out.push(e - Duration::days(2));
        out.push(e + Duration::days(1));
        out.push(first_monday(y, 5));
        out.push(last_monday(y, 5));
        out.push(last_monday(y, 8));
        let christmas = next_weekday(d(y, 12, 25), &[]);
        out.push(christmas);
        out.push(next_weekday(d(y, 12, 26), &[christmas]));
        out.sort();
        out
    }

    #[test]
    fn the_shipped_bank_holidays_follow_the_rules_with_substitute_days() {
        for y in 2025..=2030 {
            let shipped: Vec<NaiveDate> = BANK_HOLIDAYS
                .iter()
                .filter(|(year, _, _)| *year == y)
                .map(|&(yy, m, dd)| d(yy, m, dd))
                .collect();
            assert_eq!(shipped, by_rule(y), "{y}");
        }
    }

    #[test]
    fn working_days_skip_weekends_and_bank_holidays() {
        let c = Calendar::default();
        // Thursday 24 December 2026 + 1 working day: Christmas Friday, the weekend and the Boxing Day
        // substitute on Monday 28th are skipped.
        assert_eq!(c.add_working_days(d(2026, 12, 24), 1), d(2026, 12, 29));
        assert_eq!(c.add_working_days(d(2026, 12, 29), -1), d(2026, 12, 24));
        assert_eq!(c.working_days_between(d(2026, 12, 24), d(2026, 12, 29)), 1);
        assert_eq!(c.add_working_days(d(2026, 11, 20), 10), d(2026, 12, 4));
        assert!(!c.is_working_day(d(2027, 3, 26)));
        let royal = Calendar::with_extra(vec![d(2027, 6, 7)]);
        assert!(!royal.is_working_day(d(2027, 6, 7)));
        assert!(c.is_working_day(d(2027, 6, 7)));
    }
}
