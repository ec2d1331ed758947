//! What a period is (one stretch of membership in one category, and how it is paid), and the calendar
//! of periods: when the first one ends and when the next one runs, by the category's renewal basis.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{add_days, MembershipError};

/// One stretch of membership in one category. Periods are never edited: a renewal, a change of
/// category or a reinstatement adds a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub id: Uuid,
    pub category_code: String,
    /// The first day of the period.
    pub start: NaiveDate,
    /// The last day of the period, inclusive.
    pub end: NaiveDate,
    pub paid: PaidState,
    pub how_paid: HowPaid,
}

impl Period {
    /// Whether `day` falls within the period, both ends included.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }

    /// Whether the period counts as paid; see [`PaidState::counts_as_paid`].
    pub fn counts_as_paid(&self) -> bool {
        self.paid.counts_as_paid()
    }
}

/// Whether a period's fee has been paid, as far as is known now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PaidState {
    /// Paid in full on the given day.
    Paid { on: NaiveDate },
    /// Invoiced (or not yet invoiced) and not paid.
    Unpaid,
    /// Collected by monthly Direct Debit instalments; counts as paid while the mandate is active.
    Instalments { mandate_active: bool },
}

impl PaidState {
    /// `Paid`, or `Instalments` whose mandate is active.
    pub fn counts_as_paid(self) -> bool {
        matches!(
            self,
            PaidState::Paid { .. }
                | PaidState::Instalments {
                    mandate_active: true
                }
        )
    }
}

/// How a period was (or is being) paid for; stored in `periods.how_paid` by the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::None)",
        rename_all = "snake_case"
    )
)]
#[serde(rename_all = "snake_case")]
pub enum HowPaid {
    Card,
    DirectDebit,
    Cheque,
    BankTransfer,
    Complimentary,
    /// Brought over from the legacy system; how it was paid is not known.
    Imported,
}

impl HowPaid {
    /// The stored name (`card`, `direct_debit`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            HowPaid::Card => "card",
            HowPaid::DirectDebit => "direct_debit",
            HowPaid::Cheque => "cheque",
            HowPaid::BankTransfer => "bank_transfer",
            HowPaid::Complimentary => "complimentary",
            HowPaid::Imported => "imported",
        }
    }

    /// Plain words for it.
    pub fn label(self) -> &'static str {
        match self {
            HowPaid::Card => "Card",
            HowPaid::DirectDebit => "Direct Debit",
            HowPaid::Cheque => "Cheque",
            HowPaid::BankTransfer => "Bank transfer",
            HowPaid::Complimentary => "Complimentary",
            HowPaid::Imported => "Imported",
        }
    }

    /// How a payment by `method` (`card`, `cheque`, `bank_transfer`, `direct_debit`, or a name of
    /// this type) pays for a period; anything else reads as imported.
    pub fn from_method(method: &str) -> HowPaid {
        match method {
            "card" => HowPaid::Card,
            "cheque" => HowPaid::Cheque,
            "bank_transfer" => HowPaid::BankTransfer,
            "direct_debit" => HowPaid::DirectDebit,
            "complimentary" => HowPaid::Complimentary,
            _ => HowPaid::Imported,
        }
    }
}

impl PartialEq<&str> for HowPaid {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// How a category's periods run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    try_from = "RenewalBasisFields"
)]
pub enum RenewalBasis {
    /// Twelve months from the member's own start date. The anniversary of 29 February is 1 March
    /// in a year without one: a member who joins on 29 February has a first period ending on 28
    /// February and renews on 1 March every year after, so every period is exactly one year long.
    Anniversary,
    /// A membership year starting on the same day every year, e.g. 1 January or 1 October. Build
    /// it with [`RenewalBasis::fixed_date`], which accepts only days that exist every year.
    FixedDate { month: u32, day: u32 },
}

impl RenewalBasis {
    /// A fixed membership year starting on `day` of `month` (1–12). Only days that exist every
    /// year are accepted, so 29 February is not.
    pub fn fixed_date(month: u32, day: u32) -> Result<Self, MembershipError> {
        // 2023 has no 29 February: a day that exists in 2023 exists every year.
        match NaiveDate::from_ymd_opt(2023, month, day) {
            Some(_) => Ok(RenewalBasis::FixedDate { month, day }),
            None => Err(MembershipError::YearStart { month, day }),
        }
    }
}

/// What a stored [`RenewalBasis`] deserialises from, so that an impossible fixed date is refused.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum RenewalBasisFields {
    Anniversary,
    FixedDate { month: u32, day: u32 },
}

impl TryFrom<RenewalBasisFields> for RenewalBasis {
    type Error = MembershipError;

    fn try_from(fields: RenewalBasisFields) -> Result<Self, Self::Error> {
        match fields {
            RenewalBasisFields::Anniversary => Ok(RenewalBasis::Anniversary),
            RenewalBasisFields::FixedDate { month, day } => RenewalBasis::fixed_date(month, day),
        }
    }
}

/// The first period of someone joining (or rejoining, or reinstated) on `joined`, as
/// `(start, end)`, end inclusive. The period starts on `joined`;
/// - `Anniversary`: it ends the day before the first anniversary (1 March for a 29 February join);
/// - `FixedDate`: it ends the day before the next start of the membership year, so a joiner on the
///   start day gets a full year and anyone else a shorter first period, charged by [`pro_rata`].
pub fn first_period(joined: NaiveDate, basis: RenewalBasis) -> (NaiveDate, NaiveDate) {
    (joined, period_end(joined, basis))
}

/// The period after `last`, as `(start, end)`, end inclusive. It starts the day after `last` ends;
/// - `Anniversary`: it lasts one year, ending the day before the anniversary of its start;
/// - `FixedDate`: it ends the day before the next start of the membership year, which is a full
///   year when `last` ended with a membership year (a period that did not, such as one from before
///   the category moved to a fixed year, is followed by a short one up to the year's end).
///
/// At the very end of the calendar the dates saturate instead of panicking.
pub fn next_period(last: &Period, basis: RenewalBasis) -> (NaiveDate, NaiveDate) {
    let start = add_days(last.end, 1);
    (start, period_end(start, basis))
}

/// The last day of a period starting on `start`.
fn period_end(start: NaiveDate, basis: RenewalBasis) -> NaiveDate {
    let following = match basis {
        RenewalBasis::Anniversary => one_year_after(start),
        RenewalBasis::FixedDate { month, day } => year_start(start.year(), month, day)
            .filter(|&this_year| this_year > start)
            .or_else(|| year_start(start.year().checked_add(1)?, month, day)),
    };
    following
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

/// The same day a year later; 29 February's anniversary is 1 March.
fn one_year_after(day: NaiveDate) -> Option<NaiveDate> {
    let year = day.year().checked_add(1)?;
    if (day.month(), day.day()) == (2, 29) {
        NaiveDate::from_ymd_opt(year, 3, 1)
    } else {
        NaiveDate::from_ymd_opt(year, day.month(), day.day())
    }
}

/// The start of the membership year in `year`. Values that [`RenewalBasis::fixed_date`] would
/// refuse are brought into range rather than trusted: the month to 1–12, the day to the month's
/// last day that year.
fn year_start(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    let month = month.clamp(1, 12);
    (1..=day.clamp(1, 31))
        .rev()
        .find_map(|d| NaiveDate::from_ymd_opt(year, month, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::membership::test_support::*;
    use crate::domain::membership::*;
    use proptest::prelude::*;

    #[test]
    fn periods_and_events_round_trip_through_json() {
        let periods = vec![
            paid("REG", d(2025, 1, 1), d(2025, 12, 31)),
            period(
                "CLUB",
                d(2026, 1, 1),
                d(2026, 12, 31),
                PaidState::Instalments {
                    mandate_active: true,
                },
            ),
        ];
        let json = serde_json::to_string(&periods).unwrap();
        assert!(json.contains("\"state\":\"paid\""));
        assert!(json.contains("\"how_paid\":\"direct_debit\""));
        assert_eq!(serde_json::from_str::<Vec<Period>>(&json).unwrap(), periods);

        let event = MembershipEvent::Removed {
            on: d(2025, 8, 4),
            reason: RemovalReason::StruckOff,
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"removed","on":"2025-08-04","reason":"struck_off"}"#
        );
        assert_eq!(
            serde_json::from_str::<MembershipEvent>(&json).unwrap(),
            event
        );
    }

    // Periods and renewal dates.

    #[test]
    fn anniversary_periods_run_twelve_months_from_the_previous_end() {
        let last = paid("REG", d(2024, 6, 15), d(2025, 6, 14));
        assert_eq!(
            next_period(&last, RenewalBasis::Anniversary),
            (d(2025, 6, 15), d(2026, 6, 14))
        );
        assert_eq!(
            first_period(d(2025, 1, 31), RenewalBasis::Anniversary),
            (d(2025, 1, 31), d(2026, 1, 30))
        );
    }

    #[test]
    fn a_member_joining_on_29_february_renews_on_1_march_every_year() {
        let (start, end) = first_period(d(2024, 2, 29), RenewalBasis::Anniversary);
        assert_eq!((start, end), (d(2024, 2, 29), d(2025, 2, 28)));
        let mut last = paid("REG", start, end);
        for year in 2025..2033 {
            let (start, end) = next_period(&last, RenewalBasis::Anniversary);
            assert_eq!(start, d(year, 3, 1));
            assert_eq!(end.succ_opt(), Some(d(year + 1, 3, 1)));
            last = paid("REG", start, end);
        }
    }

    #[test]
    fn a_period_starting_on_1_march_before_a_leap_year_ends_on_29_february() {
        assert_eq!(
            first_period(d(2023, 3, 1), RenewalBasis::Anniversary),
            (d(2023, 3, 1), d(2024, 2, 29))
        );
        let periods = vec![paid("REG", d(2023, 3, 1), d(2024, 2, 29))];
        assert_eq!(status(&periods, &[], d(2024, 2, 29)), Status::Active);
        assert_eq!(status(&periods, &[], d(2024, 3, 1)), Status::Grace);
    }

    #[test]
    fn fixed_year_periods_run_to_the_day_before_the_next_year_start() {
        let january = RenewalBasis::fixed_date(1, 1).unwrap();
        assert_eq!(
            first_period(d(2025, 5, 20), january),
            (d(2025, 5, 20), d(2025, 12, 31))
        );
        assert_eq!(
            first_period(d(2025, 1, 1), january),
            (d(2025, 1, 1), d(2025, 12, 31))
        );
        let last = paid("REG", d(2025, 5, 20), d(2025, 12, 31));
        assert_eq!(
            next_period(&last, january),
            (d(2026, 1, 1), d(2026, 12, 31))
        );

        let october = RenewalBasis::fixed_date(10, 1).unwrap();
        assert_eq!(
            first_period(d(2025, 11, 3), october),
            (d(2025, 11, 3), d(2026, 9, 30))
        );
        // A period that did not end with the membership year is followed by a short one.
        let anniversary = paid("REG", d(2025, 3, 10), d(2026, 3, 9));
        assert_eq!(
            next_period(&anniversary, october),
            (d(2026, 3, 10), d(2026, 9, 30))
        );
    }

    #[test]
    fn a_fixed_year_must_start_on_a_day_that_comes_every_year() {
        assert_eq!(
            RenewalBasis::fixed_date(4, 1),
            Ok(RenewalBasis::FixedDate { month: 4, day: 1 })
        );
        assert_eq!(
            RenewalBasis::fixed_date(2, 29),
            Err(MembershipError::YearStart { month: 2, day: 29 })
        );
        assert!(RenewalBasis::fixed_date(4, 31).is_err());
        assert!(RenewalBasis::fixed_date(13, 1).is_err());
        assert!(RenewalBasis::fixed_date(0, 1).is_err());
        assert!(serde_json::from_str::<RenewalBasis>(
            r#"{"kind":"fixed_date","month":2,"day":30}"#
        )
        .is_err());
        let basis = RenewalBasis::fixed_date(10, 1).unwrap();
        let json = serde_json::to_string(&basis).unwrap();
        assert_eq!(json, r#"{"kind":"fixed_date","month":10,"day":1}"#);
        assert_eq!(serde_json::from_str::<RenewalBasis>(&json).unwrap(), basis);
        assert_eq!(
            serde_json::from_str::<RenewalBasis>(r#"{"kind":"anniversary"}"#).unwrap(),
            RenewalBasis::Anniversary
        );
    }

    #[test]
    fn an_impossible_fixed_date_built_directly_is_brought_into_range() {
        let leap_day = RenewalBasis::FixedDate { month: 2, day: 29 };
        assert_eq!(first_period(d(2025, 1, 10), leap_day).1, d(2025, 2, 27));
        assert_eq!(first_period(d(2024, 1, 10), leap_day).1, d(2024, 2, 28));
        let nonsense = RenewalBasis::FixedDate { month: 0, day: 99 };
        assert_eq!(first_period(d(2025, 5, 1), nonsense).1, d(2026, 1, 30));
    }

    proptest! {
        #[test]
        fn next_anniversary_period_starts_the_day_after_and_lasts_one_year(
            last in any_period(),
        ) {
            let (start, end) = next_period(&last, RenewalBasis::Anniversary);
            prop_assert_eq!(Some(start), last.end.succ_opt());
            let days = end.signed_duration_since(start).num_days() + 1;
            prop_assert!(days == 365 || days == 366);
            let following = end.succ_opt().unwrap();
            prop_assert_eq!(following.year(), start.year() + 1);
            if (start.month(), start.day()) == (2, 29) {
                prop_assert_eq!((following.month(), following.day()), (3, 1));
            } else {
                prop_assert_eq!((following.month(), following.day()), (start.month(), start.day()));
            }
        }

        #[test]
        fn next_fixed_year_period_starts_the_day_after_and_ends_before_a_year_start(
            last in any_period(),
            month in 1u32..=12,
            day_of_month in 1u32..=28,
        ) {
            let basis = RenewalBasis::fixed_date(month, day_of_month).unwrap();
            let (start, end) = next_period(&last, basis);
            prop_assert_eq!(Some(start), last.end.succ_opt());
            prop_assert!(start <= end);
            let following = end.succ_opt().unwrap();
            prop_assert_eq!((following.month(), following.day()), (month, day_of_month));
            let days = end.signed_duration_since(start).num_days() + 1;
            prop_assert!(days <= 366);

            // Once aligned with the membership year, every following period is a full year.
            let aligned = Period { start, end, ..last };
            let (next_start, next_end) = next_period(&aligned, basis);
            let full = next_end.signed_duration_since(next_start).num_days() + 1;
            prop_assert!(full == 365 || full == 366);
            prop_assert_eq!((next_start.month(), next_start.day()), (month, day_of_month));
            prop_assert_eq!(next_start.year() + 1, next_end.succ_opt().unwrap().year());
        }

        #[test]
        fn first_period_starts_on_the_join_date_and_lasts_at_most_a_year(
            joined in day(),
            basis in valid_basis(),
        ) {
            let (start, end) = first_period(joined, basis);
            prop_assert_eq!(start, joined);
            let days = end.signed_duration_since(start).num_days() + 1;
            prop_assert!((1..=366).contains(&days));
        }
    }
}
