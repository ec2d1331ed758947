//! Dates as the office reads them: Europe/London, where the clocks go forward at 01:00 UTC on the last
//! Sunday of March and back at 01:00 UTC on the last Sunday of October (the rule since 1996).

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let first_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }?;
    let last = first_next.pred_opt()?;
    let back = last.weekday().num_days_from_sunday();
    Some(last - Duration::days(i64::from(back)))
}

/// Whether British Summer Time is in force at `t`.
pub fn is_bst(t: DateTime<Utc>) -> bool {
    let y = t.year();
    let at_one = |d: Option<NaiveDate>| {
        d.and_then(|d| d.and_hms_opt(1, 0, 0))
            .map(|n| Utc.from_utc_datetime(&n))
    };
    match (at_one(last_sunday(y, 3)), at_one(last_sunday(y, 10))) {
        (Some(start), Some(end)) => t >= start && t < end,
        _ => false,
    }
}

/// The calendar day in London at `t`.
pub fn london_date(t: DateTime<Utc>) -> NaiveDate {
    if is_bst(t) {
        (t + Duration::hours(1)).date_naive()
    } else {
        t.date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("valid time")
    }

    #[test]
    fn summer_evenings_after_eleven_utc_are_the_next_day_in_london() {
        assert_eq!(
            london_date(at(2026, 7, 1, 23, 30)),
            NaiveDate::from_ymd_opt(2026, 7, 2).expect("date")
        );
        assert_eq!(
            london_date(at(2026, 12, 1, 23, 30)),
            NaiveDate::from_ymd_opt(2026, 12, 1).expect("date")
        );
    }

    #[test]
    fn the_clocks_change_on_the_last_sundays_of_march_and_october_at_one_utc() {
        // 2026: 29 March and 25 October.
        assert_eq!(
            NaiveDate::from_ymd_opt(2026, 3, 29)
                .expect("date")
                .weekday(),
            Weekday::Sun
        );
        assert!(!is_bst(at(2026, 3, 29, 0, 59)));
        assert!(is_bst(at(2026, 3, 29, 1, 0)));
        assert!(is_bst(at(2026, 10, 25, 0, 59)));
        assert!(!is_bst(at(2026, 10, 25, 1, 0)));
    }
}
