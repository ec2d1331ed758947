//! Membership periods, and the status derived from them.
//!
//! This module owns the rule that a membership's status is never stored: it is worked out, for any
//! date, from two append-only histories. The [`Period`]s a member has held (a renewal adds one;
//! nothing is overwritten) and the [`MembershipEvent`]s that are not periods (resignation, removal,
//! suspension, reinstatement). [`status_on`] is the one function that does it, so the portal, the
//! member record, the daily lapse job, the public register and the reports cannot disagree, and
//! "was X a member on date D, in which category" ([`was_member_on`]) is answered by the same rules
//! as "what is X's status today".
//!
//! It also owns the calendar of periods ([`first_period`], [`next_period`]) and the fee arithmetic
//! that goes with it ([`pro_rata`], [`instalments`]), in whole pence and integer arithmetic only.
//!
//! Everything here is pure: no clock, no I/O. "Today" is always an argument, so every rule can be
//! tested on any date, and the module compiles for the browser too.
//!
//! The parts: `periods` (what a period is and the calendar of renewals), `events` (what is not a
//! period), `status` (the derivation) and `fees` (pro rata and instalments).

mod events;
mod fees;
mod periods;
mod status;
#[cfg(test)]
mod test_support;

pub use events::{MembershipEvent, RemovalReason};
pub use fees::{instalments, pro_rata, FIRST_PAYMENT};
pub use periods::{first_period, next_period, HowPaid, PaidState, Period, RenewalBasis};
pub use status::{status_on, was_member_on, Status, StatusOn};

use chrono::NaiveDate;

/// Why a value cannot be used for a membership's periods or fees. `Display` is the message to show
/// beside the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    #[error("Choose 10 or 12 monthly instalments")]
    InstalmentCount(u8),
    #[error("Enter a fee of £0.00 or more")]
    NegativeFee,
    #[error("Choose a start for the membership year that comes every year, like 1 January")]
    YearStart { month: u32, day: u32 },
}

/// `day` + `days`, or the last representable day.
fn add_days(day: NaiveDate, days: u32) -> NaiveDate {
    day.checked_add_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}
