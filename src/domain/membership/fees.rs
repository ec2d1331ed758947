//! The fee arithmetic that goes with the periods, in whole pence and integer arithmetic only: the
//! part of a year's fee due for a shorter first period, and a fee split into monthly instalments.

use chrono::{Datelike, NaiveDate};

use super::{add_days, MembershipError};
use crate::domain::money::Money;

/// How staff record the first year's fee of a member they add by hand: the stored `how_paid` name
/// (or `unpaid`) and the words the form shows.
pub const FIRST_PAYMENT: [(&str, &str); 5] = [
    ("unpaid", "Not paid yet"),
    ("cheque", "Paid by cheque"),
    ("bank_transfer", "Paid by bank transfer"),
    ("card", "Paid by card (taken by phone)"),
    ("complimentary", "Complimentary (no fee)"),
];

/// The part of an `annual` fee due for a period from `start` to `end_of_year` inclusive: the fee
/// times the days remaining over the days in the membership year ending on `end_of_year` (365 or
/// 366), rounded to the nearest penny, a half penny up (away from zero). Integer arithmetic only.
///
/// A start after `end_of_year` owes nothing; a start a year or more before it owes the full fee.
pub fn pro_rata(annual: Money, start: NaiveDate, end_of_year: NaiveDate) -> Money {
    let remaining = end_of_year.signed_duration_since(start).num_days() + 1;
    if remaining <= 0 {
        return Money::ZERO;
    }
    let year_days = days_in_year_ending(end_of_year);
    let days = remaining.min(year_days);
    let numerator = i128::from(annual.pence()).abs() * i128::from(days);
    let denominator = i128::from(year_days);
    let magnitude = (2 * numerator + denominator) / (2 * denominator);
    let pence = if annual.is_negative() {
        -magnitude
    } else {
        magnitude
    };
    // `days` ≤ `year_days`, so the share is never larger than the fee and always fits.
    i64::try_from(pence).map_or(annual, Money::from_pence)
}

/// The number of days in the year that ends on `end_of_year`: 366 when it includes a 29 February.
fn days_in_year_ending(end_of_year: NaiveDate) -> i64 {
    let next_start = add_days(end_of_year, 1);
    let year_start = next_start.year().checked_sub(1).and_then(|year| {
        if (next_start.month(), next_start.day()) == (2, 29) {
            NaiveDate::from_ymd_opt(year, 3, 1)
        } else {
            NaiveDate::from_ymd_opt(year, next_start.month(), next_start.day())
        }
    });
    year_start.map_or(365, |first| {
        end_of_year.signed_duration_since(first).num_days() + 1
    })
}

/// An `annual` fee split into `count` monthly Direct Debit instalments (10 or 12): equal amounts,
/// with the pence that do not divide evenly added to the first, so they sum to the fee exactly.
pub fn instalments(annual: Money, count: u8) -> Result<Vec<Money>, MembershipError> {
    if !matches!(count, 10 | 12) {
        return Err(MembershipError::InstalmentCount(count));
    }
    if annual.is_negative() {
        return Err(MembershipError::NegativeFee);
    }
    let parts = i64::from(count);
    let each = annual.pence() / parts;
    let remainder = annual.pence() % parts;
    let mut amounts = vec![Money::from_pence(each); usize::from(count)];
    if let Some(first) = amounts.first_mut() {
        *first = Money::from_pence(each + remainder);
    }
    Ok(amounts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::membership::test_support::*;
    use crate::domain::membership::*;
    use proptest::prelude::*;

    // Fees.

    #[test]
    fn pro_rata_charges_by_days_remaining_in_the_year() {
        let annual = Money::from_pence(36_500);
        // 1 July to 31 December 2025 is 184 days of 365.
        assert_eq!(
            pro_rata(annual, d(2025, 7, 1), d(2025, 12, 31)),
            Money::from_pence(18_400)
        );
        assert_eq!(pro_rata(annual, d(2025, 1, 1), d(2025, 12, 31)), annual);
        assert_eq!(
            pro_rata(annual, d(2025, 12, 31), d(2025, 12, 31)),
            Money::from_pence(100)
        );
    }

    #[test]
    fn pro_rata_uses_366_days_in_a_year_with_29_february() {
        let annual = Money::from_pence(36_600);
        assert_eq!(
            pro_rata(annual, d(2024, 12, 31), d(2024, 12, 31)),
            Money::from_pence(100)
        );
        assert_eq!(pro_rata(annual, d(2024, 1, 1), d(2024, 12, 31)), annual);
        // A year from 1 October 2023 to 30 September 2024 includes 29 February.
        assert_eq!(pro_rata(annual, d(2023, 10, 1), d(2024, 9, 30)), annual);
    }

    #[test]
    fn pro_rata_rounds_half_a_penny_up() {
        // 1p × 183 / 366 = 0.5p exactly → 1p; 1p × 182 / 366 → 0p.
        let penny = Money::from_pence(1);
        assert_eq!(pro_rata(penny, d(2024, 7, 2), d(2024, 12, 31)), penny);
        assert_eq!(pro_rata(penny, d(2024, 7, 3), d(2024, 12, 31)), Money::ZERO);
        // 5p × 73 / 365 = 1p exactly; 3p × 73 / 365 = 0.6p → 1p.
        assert_eq!(
            pro_rata(Money::from_pence(5), d(2025, 10, 20), d(2025, 12, 31)),
            penny
        );
        assert_eq!(
            pro_rata(Money::from_pence(3), d(2025, 10, 20), d(2025, 12, 31)),
            penny
        );
    }

    #[test]
    fn pro_rata_owes_nothing_after_the_year_and_no_more_than_the_fee_before_it() {
        let annual = Money::from_pence(12_000);
        assert_eq!(
            pro_rata(annual, d(2026, 1, 1), d(2025, 12, 31)),
            Money::ZERO
        );
        assert_eq!(pro_rata(annual, d(2023, 1, 1), d(2025, 12, 31)), annual);
        assert_eq!(
            pro_rata(Money::from_pence(i64::MAX), d(2025, 1, 1), d(2025, 12, 31)),
            Money::from_pence(i64::MAX)
        );
    }

    #[test]
    fn instalments_split_the_fee_evenly_with_the_remainder_on_the_first() {
        let twelve = instalments(Money::from_pence(10_000), 12).unwrap();
        assert_eq!(twelve.len(), 12);
        assert_eq!(twelve[0], Money::from_pence(837));
        assert!(twelve[1..].iter().all(|&m| m == Money::from_pence(833)));

        let ten = instalments(Money::from_pence(10_005), 10).unwrap();
        assert_eq!(ten[0], Money::from_pence(1_005));
        assert!(ten[1..].iter().all(|&m| m == Money::from_pence(1_000)));

        assert_eq!(instalments(Money::ZERO, 10).unwrap(), vec![Money::ZERO; 10]);
    }

    #[test]
    fn instalments_other_than_10_or_12_are_refused() {
        for count in [0, 1, 9, 11, 13, 255] {
            assert_eq!(
                instalments(Money::from_pence(10_000), count),
                Err(MembershipError::InstalmentCount(count))
            );
        }
        assert_eq!(
            MembershipError::InstalmentCount(11).to_string(),
            "Choose 10 or 12 monthly instalments"
        );
    }

    #[test]
    fn instalments_of_a_negative_fee_are_refused() {
        assert_eq!(
            instalments(Money::from_pence(-1), 12),
            Err(MembershipError::NegativeFee)
        );
    }

    proptest! {
        #[test]
        fn instalments_sum_to_the_fee_and_only_the_first_differs(
            annual in 0i64..=i64::MAX,
            count in prop::sample::select(vec![10u8, 12]),
        ) {
            let amounts = instalments(Money::from_pence(annual), count).unwrap();
            prop_assert_eq!(amounts.len(), usize::from(count));
            let total: Option<Money> = amounts.iter().sum();
            prop_assert_eq!(total, Some(Money::from_pence(annual)));
            let first = amounts[0].pence();
            let rest = &amounts[1..];
            let remainder = annual % i64::from(count);
            for other in rest {
                prop_assert!(first >= other.pence());
                prop_assert!(first - other.pence() <= remainder);
                prop_assert_eq!(*other, rest[0]);
            }
        }

        #[test]
        fn instalments_refuse_negative_fees_and_other_counts(
            annual in any::<i64>(),
            count in any::<u8>(),
        ) {
            let result = instalments(Money::from_pence(annual), count);
            prop_assert_eq!(result.is_ok(), annual >= 0 && (count == 10 || count == 12));
        }

        #[test]
        fn pro_rata_is_within_half_a_penny_of_the_exact_share(
            annual in 0i64..100_000_000,
            start in day(),
            basis in fixed_basis(),
        ) {
            // Pro rata is for joiners on a fixed membership year.
            let (_, end_of_year) = first_period(start, basis);
            let share = pro_rata(Money::from_pence(annual), start, end_of_year);
            let days = i128::from(end_of_year.signed_duration_since(start).num_days() + 1);
            let year_days = i128::from(days_in_year_ending(end_of_year));
            prop_assert!(year_days == 365 || year_days == 366);
            let error = 2 * year_days * i128::from(share.pence())
                - 2 * i128::from(annual) * days;
            // Within half a penny, and an exact half rounds up.
            prop_assert!(-year_days < error && error <= year_days, "error {}", error);
            prop_assert!(share.pence() <= annual);
        }

        #[test]
        fn pro_rata_never_panics(
            annual in any::<i64>(),
            start in any::<i32>(),
            end in any::<i32>(),
        ) {
            let start = NaiveDate::from_num_days_from_ce_opt(start).unwrap_or(NaiveDate::MIN);
            let end = NaiveDate::from_num_days_from_ce_opt(end).unwrap_or(NaiveDate::MAX);
            let share = pro_rata(Money::from_pence(annual), start, end);
            prop_assert!(share.pence().unsigned_abs() <= annual.unsigned_abs());
        }
    }
}
