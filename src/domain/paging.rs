//! Page numbers of lists, as they arrive from the address bar or a server-function call: any `u64`.
//! Arithmetic on them saturates, and a page past [`MAX_PAGE`] is that page, so no page number can
//! overflow a multiplication or an SQL `OFFSET` (a signed 64-bit number in both databases).

/// The last page any list will show; a larger number asks for this one (an empty page).
pub const MAX_PAGE: u64 = 1_000_000;

/// `page`, capped at [`MAX_PAGE`].
pub fn clamp(page: u64) -> u64 {
    page.min(MAX_PAGE)
}

/// How many rows come before page `page` (from 0) of `per_page` rows.
pub fn offset(page: u64, per_page: u64) -> u64 {
    clamp(page).saturating_mul(per_page).min(i64::MAX as u64)
}

/// Whether a list of `total` rows goes on after page `page` (from 0).
pub fn has_next(page: u64, per_page: u64, total: u64) -> bool {
    offset(page.saturating_add(1), per_page) < total
}

/// A page number from a query string: absent, unreadable or negative means the first page.
pub fn parse(text: Option<&str>) -> u64 {
    text.and_then(|t| t.trim().parse::<u64>().ok())
        .map(clamp)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_page_numbers_neither_overflow_nor_reach_sql_limits() {
        assert_eq!(offset(u64::MAX, 50), MAX_PAGE * 50);
        assert_eq!(offset(u64::MAX, u64::MAX), i64::MAX as u64);
        assert!(!has_next(u64::MAX, 50, 10));
        assert!(has_next(0, 50, 51));
        assert!(!has_next(0, 50, 50));
        assert_eq!(parse(Some("99999999999999999999")), 0);
        assert_eq!(parse(Some("18446744073709551615")), MAX_PAGE);
        assert_eq!(parse(Some("-1")), 0);
        assert_eq!(parse(Some("3")), 3);
        assert_eq!(parse(None), 0);
    }
}
