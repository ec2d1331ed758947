//! How dates and times are shown: members read "31 March 2027"; staff tables use 31/03/2027 14:05.
//! Stored times are UTC; shown in Europe/London (GMT/BST).

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The UTC offset of Europe/London at `t` (BST, +1, as `domain::dates` decides it).
pub fn london_offset_hours(t: DateTime<Utc>) -> i64 {
    i64::from(guildhall::domain::dates::is_bst(t))
}

pub fn london(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    t.naive_utc() + Duration::hours(london_offset_hours(t))
}

/// "31 March 2027".
pub fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// "31/03/2027 14:05" in London time.
pub fn staff_time(t: DateTime<Utc>) -> String {
    london(t).format("%d/%m/%Y %H:%M").to_string()
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn summer_times_are_shown_in_british_summer_time() {
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
        assert_eq!(staff_time(t), "01/07/2026 13:00");
        let w = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        assert_eq!(staff_time(w), "01/12/2026 12:00");
    }

    #[test]
    fn dates_for_members_are_written_out() {
        assert_eq!(
            long_date(NaiveDate::from_ymd_opt(2027, 3, 31).unwrap()),
            "31 March 2027"
        );
    }
}
