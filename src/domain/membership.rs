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

use std::cmp::Ordering;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::money::Money;

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

/// How a period was (or is being) paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// Something that changes a membership and is not a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MembershipEvent {
    /// The member asked to resign on `requested_on`. `effective` is the first day on which they are
    /// no longer a member: the day after the period's end for a resignation at period end, the
    /// day of the request for a resignation at once.
    Resigned {
        requested_on: NaiveDate,
        effective: NaiveDate,
    },
    /// Staff removed the member; they are not a member from `on`, inclusive.
    Removed {
        on: NaiveDate,
        reason: RemovalReason,
    },
    /// Membership suspended from `on`, inclusive (a failed payment not resolved under the dunning
    /// rules).
    Suspended { on: NaiveDate },
    /// The suspension ends on `on`, inclusive.
    SuspensionLifted { on: NaiveDate },
    /// The member was restored on `on`: it ends a removal, resignation or suspension that took
    /// effect (or was requested) on or before that day. It does not by itself make anyone active;
    /// the paid period from the reinstatement date does, and any later paid period ends a lapse.
    Reinstated { on: NaiveDate },
}

/// Why staff removed a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    Deceased,
    StruckOff,
    Other,
}

impl RemovalReason {
    /// Plain words for staff screens and letters.
    pub fn label(self) -> &'static str {
        match self {
            RemovalReason::Deceased => "Deceased",
            RemovalReason::StruckOff => "Struck off",
            RemovalReason::Other => "Other reason",
        }
    }
}

/// A membership's status on one day, as derived by [`status_on`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In a paid period.
    Active,
    /// The paid period has ended and the renewal is unpaid, but the grace days have not run out:
    /// still a member, and warned.
    Grace,
    /// Past the grace days without paying: not a member; may reinstate.
    Lapsed,
    /// The member's resignation has taken effect.
    Resigned,
    /// Staff removed the member (deceased, struck off, other).
    Removed,
    /// A failed payment was not resolved in time: not a member until it is.
    Suspended,
    /// Has a period, but none has started (or been paid for) yet.
    NotYetStarted,
    /// Has never had a period (or only unpaid ones, long over).
    NeverMember,
}

impl Status {
    /// Plain words for members and staff.
    pub fn label(self) -> &'static str {
        match self {
            Status::Active => "Active",
            Status::Grace => "In grace",
            Status::Lapsed => "Lapsed",
            Status::Resigned => "Resigned",
            Status::Removed => "Removed",
            Status::Suspended => "Payment failed – suspended",
            Status::NotYetStarted => "Not started yet",
            Status::NeverMember => "Not a member",
        }
    }

    /// Whether someone with this status is a member: only `Active` and `Grace`.
    pub fn is_member(self) -> bool {
        matches!(self, Status::Active | Status::Grace)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.label())
    }
}

/// The answer of [`status_on`]: the status and the dates that explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusOn<'a> {
    pub status: Status,
    /// The period the status is about:
    /// - `Active`: the paid period covering the day (the latest-starting one, if several do);
    /// - `Grace`, `Lapsed`: the paid period that ended, whose grace is running or has run out;
    /// - `Resigned`, `Removed`, `Suspended`: the last paid period before the event took effect;
    /// - `NotYetStarted`: the unpaid period covering the day, or else the next one to start;
    /// - `NeverMember`: none.
    pub current_period: Option<&'a Period>,
    /// The category of `current_period`. Whether it is a *membership* in that category depends on
    /// the status: see [`was_member_on`].
    pub category_code: Option<String>,
    /// The last day of paid membership:
    /// - `Active`: the end of the unbroken run of paid periods covering the day (a renewal already
    ///   paid extends it);
    /// - `Grace`, `Lapsed`: the end of the paid period that ended;
    /// - `Resigned`, `Removed`, `Suspended`: the last paid day before the event took effect;
    /// - otherwise none.
    pub member_until: Option<NaiveDate>,
    /// For `Grace` only: the last day of grace, `member_until` + grace days.
    pub grace_ends: Option<NaiveDate>,
    /// For `Lapsed` only: the first lapsed day, the day after grace ended.
    pub lapsed_since: Option<NaiveDate>,
}

/// The membership status on the day `on`, derived from the member's `periods` and `events`.
///
/// The order of `periods` and `events` does not matter, and nothing else is consulted. Payment is
/// taken as it is known now: a period paid late counts as paid on every day it covers, and an
/// instalment period counts as paid on every day it covers while its mandate is active (and not at
/// all once it is not). A period "counts as paid" when it is `Paid` or `Instalments` with an active
/// mandate. When an event and the event that undoes it fall on the same day, it is undone.
///
/// The rules, in order; the first that applies decides:
///
/// 1. **Removed** on and after the date of a `Removed` event, whatever the periods say, unless a
///    `Reinstated` event on or after the removal date (and not after `on`) restored them, as after
///    a removal in error or a successful appeal. Nothing else undoes a removal.
/// 2. **Resigned** on and after a resignation's `effective` date (the first day not a member),
///    until the member rejoins: a paid period starting *after* the effective date, or a
///    `Reinstated` event on or after the request (which also withdraws a resignation not yet in
///    effect). An unpaid renewal period never undoes a resignation, and nor does a paid one
///    starting on the effective date itself: that is a renewal paid before resigning, to be
///    refunded.
/// 3. **Suspended** on and after the date of a `Suspended` event, until a `SuspensionLifted` or
///    `Reinstated` event on or after that date, or a paid period starting after it.
/// 4. **Active** when a paid period covers `on`.
/// 5. Otherwise, if a paid period ended before `on`, take the one that ended last: **Grace** while
///    `on` ≤ its end + `grace_days`, **Lapsed** after that (`lapsed_since` = end + `grace_days` +
///    1). This holds whether an unpaid period (a renewal not yet paid, or instalments whose mandate
///    is no longer active) covers `on` or no period does: an unpaid period makes nobody active.
///    A later paid period (such as the one a reinstatement adds) ends the lapse by rule 4.
/// 6. Otherwise no paid period has started by `on`: **NotYetStarted** when a period covers `on`
///    (it awaits its first payment) or starts after it; **NeverMember** when there are no periods,
///    or only unpaid ones that have all ended.
///
/// Where several periods qualify, the latest-starting covering period decides the category (a
/// mid-year change of category adds a period over the rest of the year), and for grace and lapse
/// the period that ended last. Date arithmetic saturates at the end of the calendar, so extreme
/// dates and grace days never panic.
pub fn status_on<'a>(
    periods: &'a [Period],
    events: &[MembershipEvent],
    grace_days: u32,
    on: NaiveDate,
) -> StatusOn<'a> {
    if let Some(removed_on) = removal_in_force(events, on) {
        return ended_by_event(periods, Status::Removed, removed_on);
    }
    if let Some(effective) = resignation_in_force(periods, events, on) {
        return ended_by_event(periods, Status::Resigned, effective);
    }
    if let Some(suspended_on) = suspension_in_force(periods, events, on) {
        return ended_by_event(periods, Status::Suspended, suspended_on);
    }
    from_periods(periods, grace_days, on)
}

/// "Was X a member on `on`, and in which category?": the category code when [`status_on`] gives a
/// member status (`Active` or `Grace`), else `None`. A member in grace counts, in the category of
/// the period that has just ended.
pub fn was_member_on(
    periods: &[Period],
    events: &[MembershipEvent],
    grace_days: u32,
    on: NaiveDate,
) -> Option<String> {
    let status = status_on(periods, events, grace_days, on);
    if status.status.is_member() {
        status.category_code
    } else {
        None
    }
}

/// The earliest removal in force on `on`.
fn removal_in_force(events: &[MembershipEvent], on: NaiveDate) -> Option<NaiveDate> {
    events
        .iter()
        .filter_map(|event| match *event {
            MembershipEvent::Removed { on: removed, .. } if removed <= on => Some(removed),
            _ => None,
        })
        .filter(|&removed| !reinstated_between(events, removed, on))
        .min()
}

/// The earliest effective date of a resignation in force on `on`.
fn resignation_in_force(
    periods: &[Period],
    events: &[MembershipEvent],
    on: NaiveDate,
) -> Option<NaiveDate> {
    events
        .iter()
        .filter_map(|event| match *event {
            MembershipEvent::Resigned {
                requested_on,
                effective,
            } if effective <= on => Some((requested_on.min(effective), effective)),
            _ => None,
        })
        .filter(|&(requested, effective)| {
            !reinstated_between(events, requested, on)
                && !paid_period_started_after(periods, effective, on)
        })
        .map(|(_, effective)| effective)
        .min()
}

/// The earliest start of a suspension in force on `on`.
fn suspension_in_force(
    periods: &[Period],
    events: &[MembershipEvent],
    on: NaiveDate,
) -> Option<NaiveDate> {
    events
        .iter()
        .filter_map(|event| match *event {
            MembershipEvent::Suspended { on: suspended } if suspended <= on => Some(suspended),
            _ => None,
        })
        .filter(|&suspended| {
            let lifted = events.iter().any(|event| match *event {
                MembershipEvent::SuspensionLifted { on: lifted }
                | MembershipEvent::Reinstated { on: lifted } => suspended <= lifted && lifted <= on,
                _ => false,
            });
            !lifted && !paid_period_started_after(periods, suspended, on)
        })
        .min()
}

/// Whether a `Reinstated` event falls within `from..=to`.
fn reinstated_between(events: &[MembershipEvent], from: NaiveDate, to: NaiveDate) -> bool {
    events
        .iter()
        .any(|event| matches!(*event, MembershipEvent::Reinstated { on } if from <= on && on <= to))
}

/// Whether a paid period starts after `after` and on or before `to`.
fn paid_period_started_after(periods: &[Period], after: NaiveDate, to: NaiveDate) -> bool {
    periods
        .iter()
        .any(|p| p.counts_as_paid() && after < p.start && p.start <= to)
}

/// The status for an event that took effect on `from`, with the last paid cover before it.
fn ended_by_event(periods: &[Period], status: Status, from: NaiveDate) -> StatusOn<'_> {
    let day_before = from.pred_opt();
    let (period, member_until) = match day_before.and_then(|d| paid_covering(periods, d)) {
        Some(covering) => (Some(covering), day_before),
        None => match last_paid_ended_before(periods, from) {
            Some(ended) => (Some(ended), Some(ended.end)),
            None => (None, None),
        },
    };
    StatusOn {
        status,
        current_period: period,
        category_code: period.map(|p| p.category_code.clone()),
        member_until,
        grace_ends: None,
        lapsed_since: None,
    }
}

/// Rules 4–6 of [`status_on`]: the status from the periods alone.
fn from_periods(periods: &[Period], grace_days: u32, on: NaiveDate) -> StatusOn<'_> {
    if let Some(covering) = paid_covering(periods, on) {
        return StatusOn {
            status: Status::Active,
            current_period: Some(covering),
            category_code: Some(covering.category_code.clone()),
            member_until: Some(paid_run_end(periods, covering.end)),
            grace_ends: None,
            lapsed_since: None,
        };
    }
    if let Some(ended) = last_paid_ended_before(periods, on) {
        let grace_ends = add_days(ended.end, grace_days);
        let (status, grace_ends, lapsed_since) = if on <= grace_ends {
            (Status::Grace, Some(grace_ends), None)
        } else {
            (Status::Lapsed, None, Some(add_days(grace_ends, 1)))
        };
        return StatusOn {
            status,
            current_period: Some(ended),
            category_code: Some(ended.category_code.clone()),
            member_until: Some(ended.end),
            grace_ends,
            lapsed_since,
        };
    }
    let waiting = periods
        .iter()
        .filter(|p| p.covers(on))
        .max_by(|a, b| by_start(a, b))
        .or_else(|| {
            periods
                .iter()
                .filter(|p| p.start > on)
                .min_by(|a, b| by_start(a, b))
        });
    StatusOn {
        status: if waiting.is_some() {
            Status::NotYetStarted
        } else {
            Status::NeverMember
        },
        current_period: waiting,
        category_code: waiting.map(|p| p.category_code.clone()),
        member_until: None,
        grace_ends: None,
        lapsed_since: None,
    }
}

/// The paid period covering `day` that started last.
fn paid_covering(periods: &[Period], day: NaiveDate) -> Option<&Period> {
    periods
        .iter()
        .filter(|p| p.counts_as_paid() && p.covers(day))
        .max_by(|a, b| by_start(a, b))
}

/// The paid period that ended last before `day`.
fn last_paid_ended_before(periods: &[Period], day: NaiveDate) -> Option<&Period> {
    periods
        .iter()
        .filter(|p| p.counts_as_paid() && p.end < day)
        .max_by(|a, b| by_end(a, b))
}

/// The last day of the unbroken run of paid periods that includes the day `end`: paid periods that
/// overlap or follow on without a gap extend it.
fn paid_run_end(periods: &[Period], end: NaiveDate) -> NaiveDate {
    let mut run_end = end;
    loop {
        let next_day = add_days(run_end, 1);
        let extended = periods
            .iter()
            .filter(|p| p.counts_as_paid() && p.start <= next_day && p.end > run_end)
            .map(|p| p.end)
            .max();
        match extended {
            Some(later) => run_end = later,
            None => return run_end,
        }
    }
}

/// Orders periods by start, then by every other field, so that the choice among periods never
/// depends on the order of the slice.
fn by_start(a: &Period, b: &Period) -> Ordering {
    (a.start, a.end)
        .cmp(&(b.start, b.end))
        .then_with(|| tie_break(a, b))
}

/// Orders periods by end, then by every other field; see [`by_start`].
fn by_end(a: &Period, b: &Period) -> Ordering {
    (a.end, a.start)
        .cmp(&(b.end, b.start))
        .then_with(|| tie_break(a, b))
}

fn tie_break(a: &Period, b: &Period) -> Ordering {
    (a.id, &a.category_code, a.paid, a.how_paid).cmp(&(b.id, &b.category_code, b.paid, b.how_paid))
}

/// `day` + `days`, or the last representable day.
fn add_days(day: NaiveDate, days: u32) -> NaiveDate {
    day.checked_add_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

/// How staff record the first year's fee of a member they add by hand: the stored `how_paid` name
/// (or `unpaid`) and the words the form shows.
pub const FIRST_PAYMENT: [(&str, &str); 5] = [
    ("unpaid", "Not paid yet"),
    ("cheque", "Paid by cheque"),
    ("bank_transfer", "Paid by bank transfer"),
    ("card", "Paid by card (taken by phone)"),
    ("complimentary", "Complimentary (no fee)"),
];

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
    use proptest::collection::vec;
    use proptest::prelude::*;

    const GRACE: u32 = 30;

    fn d(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn period(category: &str, start: NaiveDate, end: NaiveDate, paid: PaidState) -> Period {
        let how_paid = match paid {
            PaidState::Instalments { .. } => HowPaid::DirectDebit,
            _ => HowPaid::Card,
        };
        Period {
            id: Uuid::from_u128(u128::from(start.num_days_from_ce().unsigned_abs())),
            category_code: category.to_owned(),
            start,
            end,
            paid,
            how_paid,
        }
    }

    fn paid(category: &str, start: NaiveDate, end: NaiveDate) -> Period {
        period(category, start, end, PaidState::Paid { on: start })
    }

    fn unpaid(category: &str, start: NaiveDate, end: NaiveDate) -> Period {
        period(category, start, end, PaidState::Unpaid)
    }

    fn status(periods: &[Period], events: &[MembershipEvent], on: NaiveDate) -> Status {
        status_on(periods, events, GRACE, on).status
    }

    /// A registered member's 2025 membership year, paid.
    fn year_2025() -> Vec<Period> {
        vec![paid("REG", d(2025, 1, 1), d(2025, 12, 31))]
    }

    // Active, grace, lapsed.

    #[test]
    fn member_in_a_paid_period_is_active_until_its_end() {
        let periods = year_2025();
        let status = status_on(&periods, &[], GRACE, d(2025, 6, 1));
        assert_eq!(status.status, Status::Active);
        assert_eq!(status.current_period, periods.first());
        assert_eq!(status.category_code.as_deref(), Some("REG"));
        assert_eq!(status.member_until, Some(d(2025, 12, 31)));
        assert_eq!(status.grace_ends, None);
        assert_eq!(status.lapsed_since, None);
        assert_eq!(
            status_on(&periods, &[], GRACE, d(2025, 1, 1)).status,
            Status::Active
        );
        assert_eq!(
            status_on(&periods, &[], GRACE, d(2025, 12, 31)).status,
            Status::Active
        );
    }

    #[test]
    fn member_goes_from_active_to_grace_to_lapsed_and_is_reinstated() {
        let mut periods = year_2025();
        let mut events = vec![];

        assert_eq!(status(&periods, &events, d(2025, 12, 31)), Status::Active);

        let in_grace = status_on(&periods, &events, GRACE, d(2026, 1, 1));
        assert_eq!(in_grace.status, Status::Grace);
        assert_eq!(in_grace.member_until, Some(d(2025, 12, 31)));
        assert_eq!(in_grace.grace_ends, Some(d(2026, 1, 30)));
        assert_eq!(status(&periods, &events, d(2026, 1, 30)), Status::Grace);

        let lapsed = status_on(&periods, &events, GRACE, d(2026, 1, 31));
        assert_eq!(lapsed.status, Status::Lapsed);
        assert_eq!(lapsed.lapsed_since, Some(d(2026, 1, 31)));
        assert_eq!(lapsed.grace_ends, None);
        assert_eq!(lapsed.member_until, Some(d(2025, 12, 31)));
        assert_eq!(lapsed.category_code.as_deref(), Some("REG"));

        // Reinstated in April: a new paid period from the reinstatement date.
        events.push(MembershipEvent::Reinstated { on: d(2026, 4, 15) });
        periods.push(paid("REG", d(2026, 4, 15), d(2027, 4, 14)));

        assert_eq!(status(&periods, &events, d(2026, 4, 14)), Status::Lapsed);
        let reinstated = status_on(&periods, &events, GRACE, d(2026, 4, 15));
        assert_eq!(reinstated.status, Status::Active);
        assert_eq!(reinstated.member_until, Some(d(2027, 4, 14)));
        // History is unchanged: the lapse is still a lapse.
        assert_eq!(status(&periods, &events, d(2026, 2, 1)), Status::Lapsed);
    }

    #[test]
    fn a_later_paid_period_ends_a_lapse_without_a_reinstated_event() {
        let mut periods = year_2025();
        periods.push(paid("REG", d(2026, 6, 1), d(2027, 5, 31)));
        assert_eq!(status(&periods, &[], d(2026, 5, 31)), Status::Lapsed);
        assert_eq!(status(&periods, &[], d(2026, 6, 1)), Status::Active);
    }

    #[test]
    fn an_unpaid_renewal_period_does_not_make_a_member_active() {
        let mut periods = year_2025();
        periods.push(unpaid("REG", d(2026, 1, 1), d(2026, 12, 31)));

        let in_grace = status_on(&periods, &[], GRACE, d(2026, 1, 10));
        assert_eq!(in_grace.status, Status::Grace);
        assert_eq!(in_grace.current_period, periods.first());
        assert_eq!(in_grace.grace_ends, Some(d(2026, 1, 30)));

        let lapsed = status_on(&periods, &[], GRACE, d(2026, 3, 1));
        assert_eq!(lapsed.status, Status::Lapsed);
        assert_eq!(lapsed.lapsed_since, Some(d(2026, 1, 31)));
    }

    #[test]
    fn paying_the_renewal_late_counts_the_whole_renewal_period_as_active() {
        let mut periods = year_2025();
        periods.push(period(
            "REG",
            d(2026, 1, 1),
            d(2026, 12, 31),
            PaidState::Paid { on: d(2026, 1, 20) },
        ));
        assert_eq!(status(&periods, &[], d(2026, 1, 5)), Status::Active);
    }

    #[test]
    fn a_renewal_paid_in_advance_extends_member_until() {
        let mut periods = year_2025();
        periods.push(paid("REG", d(2026, 1, 1), d(2026, 12, 31)));
        let status = status_on(&periods, &[], GRACE, d(2025, 11, 1));
        assert_eq!(status.status, Status::Active);
        assert_eq!(status.member_until, Some(d(2026, 12, 31)));
        assert_eq!(status.current_period, periods.first());
    }

    #[test]
    fn zero_grace_days_lapse_the_day_after_the_period_ends() {
        let periods = year_2025();
        let status = status_on(&periods, &[], 0, d(2026, 1, 1));
        assert_eq!(status.status, Status::Lapsed);
        assert_eq!(status.lapsed_since, Some(d(2026, 1, 1)));
        assert_eq!(
            status_on(&periods, &[], 0, d(2025, 12, 31)).status,
            Status::Active
        );
    }

    #[test]
    fn instalment_period_is_active_while_the_mandate_is_active() {
        let instalments = PaidState::Instalments {
            mandate_active: true,
        };
        let periods = vec![period("CLUB", d(2025, 1, 1), d(2025, 12, 31), instalments)];
        assert_eq!(status(&periods, &[], d(2025, 7, 1)), Status::Active);
    }

    #[test]
    fn instalment_period_whose_mandate_ended_counts_as_unpaid() {
        let lapsed_mandate = PaidState::Instalments {
            mandate_active: false,
        };
        let mut periods = vec![paid("CLUB", d(2024, 1, 1), d(2024, 12, 31))];
        periods.push(period(
            "CLUB",
            d(2025, 1, 1),
            d(2025, 12, 31),
            lapsed_mandate,
        ));
        assert_eq!(status(&periods, &[], d(2025, 1, 20)), Status::Grace);
        assert_eq!(status(&periods, &[], d(2025, 7, 1)), Status::Lapsed);
    }

    #[test]
    fn a_mid_year_change_of_category_takes_the_latest_starting_period() {
        let mut periods = vec![paid("STU", d(2025, 1, 1), d(2025, 12, 31))];
        periods.push(period(
            "IND",
            d(2025, 7, 1),
            d(2025, 12, 31),
            PaidState::Paid { on: d(2025, 7, 1) },
        ));
        assert_eq!(
            status_on(&periods, &[], GRACE, d(2025, 6, 30))
                .category_code
                .as_deref(),
            Some("STU")
        );
        assert_eq!(
            status_on(&periods, &[], GRACE, d(2025, 7, 1))
                .category_code
                .as_deref(),
            Some("IND")
        );
        assert_eq!(
            was_member_on(&periods, &[], GRACE, d(2026, 1, 15)).as_deref(),
            Some("IND")
        );
    }

    // Before the first period.

    #[test]
    fn someone_with_no_periods_was_never_a_member() {
        let status = status_on(&[], &[], GRACE, d(2025, 6, 1));
        assert_eq!(status.status, Status::NeverMember);
        assert_eq!(status.current_period, None);
        assert_eq!(status.category_code, None);
    }

    #[test]
    fn a_member_before_their_first_period_has_not_started_yet() {
        let periods = year_2025();
        let status = status_on(&periods, &[], GRACE, d(2024, 12, 31));
        assert_eq!(status.status, Status::NotYetStarted);
        assert_eq!(status.current_period, periods.first());
        assert_eq!(status.member_until, None);
    }

    #[test]
    fn an_approved_applicant_awaiting_first_payment_has_not_started_yet() {
        let periods = vec![unpaid("IND", d(2025, 3, 1), d(2026, 2, 28))];
        assert_eq!(status(&periods, &[], d(2025, 3, 10)), Status::NotYetStarted);
    }

    #[test]
    fn someone_whose_only_periods_were_never_paid_and_are_over_was_never_a_member() {
        let periods = vec![unpaid("IND", d(2025, 3, 1), d(2026, 2, 28))];
        assert_eq!(status(&periods, &[], d(2026, 3, 1)), Status::NeverMember);
    }

    // Resignation.

    #[test]
    fn resignation_at_period_end_takes_effect_the_day_after_the_period_ends() {
        let periods = year_2025();
        let events = [MembershipEvent::Resigned {
            requested_on: d(2025, 10, 1),
            effective: d(2026, 1, 1),
        }];
        assert_eq!(status(&periods, &events, d(2025, 10, 2)), Status::Active);
        assert_eq!(status(&periods, &events, d(2025, 12, 31)), Status::Active);
        let resigned = status_on(&periods, &events, GRACE, d(2026, 1, 1));
        assert_eq!(resigned.status, Status::Resigned);
        assert_eq!(resigned.member_until, Some(d(2025, 12, 31)));
        assert_eq!(resigned.category_code.as_deref(), Some("REG"));
        assert_eq!(status(&periods, &events, d(2030, 1, 1)), Status::Resigned);
    }

    #[test]
    fn resignation_at_once_takes_effect_on_the_day_it_is_asked_for() {
        let periods = year_2025();
        let events = [MembershipEvent::Resigned {
            requested_on: d(2025, 5, 12),
            effective: d(2025, 5, 12),
        }];
        assert_eq!(status(&periods, &events, d(2025, 5, 11)), Status::Active);
        let resigned = status_on(&periods, &events, GRACE, d(2025, 5, 12));
        assert_eq!(resigned.status, Status::Resigned);
        assert_eq!(resigned.member_until, Some(d(2025, 5, 11)));
    }

    #[test]
    fn an_unpaid_renewal_does_not_undo_a_resignation_at_period_end() {
        let mut periods = year_2025();
        periods.push(unpaid("REG", d(2026, 1, 1), d(2026, 12, 31)));
        let events = [MembershipEvent::Resigned {
            requested_on: d(2025, 11, 20),
            effective: d(2026, 1, 1),
        }];
        assert_eq!(status(&periods, &events, d(2026, 1, 5)), Status::Resigned);
    }

    #[test]
    fn a_resigned_member_who_rejoins_is_active_again() {
        let mut periods = year_2025();
        periods.push(paid("IND", d(2027, 3, 1), d(2028, 2, 29)));
        let events = [MembershipEvent::Resigned {
            requested_on: d(2025, 5, 12),
            effective: d(2025, 5, 12),
        }];
        assert_eq!(status(&periods, &events, d(2027, 2, 28)), Status::Resigned);
        assert_eq!(status(&periods, &events, d(2027, 3, 1)), Status::Active);
        assert_eq!(status(&periods, &events, d(2028, 3, 5)), Status::Grace);
    }

    #[test]
    fn a_reinstated_event_withdraws_a_resignation_not_yet_in_effect() {
        let periods = year_2025();
        let events = [
            MembershipEvent::Resigned {
                requested_on: d(2025, 10, 1),
                effective: d(2026, 1, 1),
            },
            MembershipEvent::Reinstated { on: d(2025, 10, 8) },
        ];
        assert_eq!(status(&periods, &events, d(2026, 1, 1)), Status::Grace);
    }

    // Removal.

    #[test]
    fn a_deceased_member_is_removed_from_the_removal_date_whatever_their_periods() {
        let mut periods = year_2025();
        periods.push(paid("REG", d(2026, 1, 1), d(2026, 12, 31)));
        let events = [MembershipEvent::Removed {
            on: d(2025, 8, 4),
            reason: RemovalReason::Deceased,
        }];
        assert_eq!(status(&periods, &events, d(2025, 8, 3)), Status::Active);
        let removed = status_on(&periods, &events, GRACE, d(2025, 8, 4));
        assert_eq!(removed.status, Status::Removed);
        assert_eq!(removed.member_until, Some(d(2025, 8, 3)));
        assert_eq!(status(&periods, &events, d(2026, 6, 1)), Status::Removed);
        assert_eq!(was_member_on(&periods, &events, GRACE, d(2026, 6, 1)), None);
        assert_eq!(
            was_member_on(&periods, &events, GRACE, d(2025, 8, 3)).as_deref(),
            Some("REG")
        );
    }

    #[test]
    fn removal_beats_resignation_and_suspension() {
        let periods = year_2025();
        let events = [
            MembershipEvent::Suspended { on: d(2025, 3, 1) },
            MembershipEvent::Resigned {
                requested_on: d(2025, 4, 1),
                effective: d(2025, 4, 1),
            },
            MembershipEvent::Removed {
                on: d(2025, 5, 1),
                reason: RemovalReason::StruckOff,
            },
        ];
        assert_eq!(status(&periods, &events, d(2025, 3, 15)), Status::Suspended);
        assert_eq!(status(&periods, &events, d(2025, 4, 15)), Status::Resigned);
        assert_eq!(status(&periods, &events, d(2025, 5, 1)), Status::Removed);
    }

    #[test]
    fn a_removal_made_in_error_is_undone_by_a_reinstated_event() {
        let periods = year_2025();
        let events = [
            MembershipEvent::Removed {
                on: d(2025, 8, 4),
                reason: RemovalReason::Deceased,
            },
            MembershipEvent::Reinstated { on: d(2025, 8, 20) },
        ];
        assert_eq!(status(&periods, &events, d(2025, 8, 19)), Status::Removed);
        assert_eq!(status(&periods, &events, d(2025, 8, 20)), Status::Active);
    }

    // Suspension.

    #[test]
    fn a_suspension_lasts_until_it_is_lifted() {
        let periods = year_2025();
        let events = [
            MembershipEvent::Suspended { on: d(2025, 3, 1) },
            MembershipEvent::SuspensionLifted { on: d(2025, 3, 20) },
        ];
        assert_eq!(status(&periods, &events, d(2025, 2, 28)), Status::Active);
        let suspended = status_on(&periods, &events, GRACE, d(2025, 3, 1));
        assert_eq!(suspended.status, Status::Suspended);
        assert!(!suspended.status.is_member());
        assert_eq!(suspended.member_until, Some(d(2025, 2, 28)));
        assert_eq!(status(&periods, &events, d(2025, 3, 19)), Status::Suspended);
        assert_eq!(status(&periods, &events, d(2025, 3, 20)), Status::Active);
    }

    #[test]
    fn a_suspension_without_a_lift_lasts_until_a_later_paid_period_starts() {
        let mut periods = year_2025();
        periods.push(paid("REG", d(2026, 1, 1), d(2026, 12, 31)));
        let events = [MembershipEvent::Suspended { on: d(2025, 11, 5) }];
        assert_eq!(
            status(&periods, &events, d(2025, 12, 31)),
            Status::Suspended
        );
        assert_eq!(status(&periods, &events, d(2026, 1, 1)), Status::Active);
    }

    #[test]
    fn a_suspension_lifted_on_the_day_it_began_never_shows() {
        let periods = year_2025();
        let events = [
            MembershipEvent::SuspensionLifted { on: d(2025, 3, 1) },
            MembershipEvent::Suspended { on: d(2025, 3, 1) },
        ];
        assert_eq!(status(&periods, &events, d(2025, 3, 1)), Status::Active);
    }

    #[test]
    fn the_order_of_periods_and_events_does_not_change_the_status() {
        let mut periods = year_2025();
        periods.push(paid("IND", d(2027, 1, 1), d(2027, 12, 31)));
        periods.push(unpaid("REG", d(2026, 1, 1), d(2026, 12, 31)));
        let mut events = vec![
            MembershipEvent::Suspended { on: d(2026, 2, 1) },
            MembershipEvent::SuspensionLifted { on: d(2026, 2, 10) },
        ];
        let mut reversed_periods = periods.clone();
        reversed_periods.reverse();
        let forwards = status_on(&periods, &events, GRACE, d(2026, 2, 5));
        events.reverse();
        let backwards = status_on(&reversed_periods, &events, GRACE, d(2026, 2, 5));
        assert_eq!(forwards, backwards);
    }

    // Was a member on a date.

    #[test]
    fn a_member_in_grace_was_a_member_in_the_category_of_the_period_that_just_ended() {
        let mut periods = vec![paid("STU", d(2025, 1, 1), d(2025, 12, 31))];
        periods.push(unpaid("IND", d(2026, 1, 1), d(2026, 12, 31)));
        assert_eq!(
            was_member_on(&periods, &[], GRACE, d(2026, 1, 15)).as_deref(),
            Some("STU")
        );
    }

    #[test]
    fn a_lapsed_member_was_not_a_member() {
        let periods = year_2025();
        assert_eq!(was_member_on(&periods, &[], GRACE, d(2026, 2, 1)), None);
        assert_eq!(was_member_on(&periods, &[], GRACE, d(2024, 2, 1)), None);
    }

    // Labels and serialisation.

    #[test]
    fn statuses_have_plain_labels_and_only_active_and_grace_are_members() {
        assert_eq!(Status::Active.label(), "Active");
        assert_eq!(Status::Grace.label(), "In grace");
        assert_eq!(Status::Lapsed.label(), "Lapsed");
        assert_eq!(Status::Resigned.label(), "Resigned");
        assert_eq!(Status::Removed.label(), "Removed");
        assert_eq!(Status::Suspended.to_string(), "Payment failed – suspended");
        assert_eq!(Status::NotYetStarted.label(), "Not started yet");
        assert_eq!(Status::NeverMember.label(), "Not a member");
        let members: Vec<Status> = [
            Status::Active,
            Status::Grace,
            Status::Lapsed,
            Status::Resigned,
            Status::Removed,
            Status::Suspended,
            Status::NotYetStarted,
            Status::NeverMember,
        ]
        .into_iter()
        .filter(|s| s.is_member())
        .collect();
        assert_eq!(members, vec![Status::Active, Status::Grace]);
        assert_eq!(RemovalReason::StruckOff.label(), "Struck off");
    }

    #[test]
    fn statuses_serialise_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&Status::NotYetStarted).unwrap(),
            "\"not_yet_started\""
        );
        assert_eq!(serde_json::to_string(&Status::Grace).unwrap(), "\"grace\"");
        assert_eq!(
            serde_json::from_str::<Status>("\"never_member\"").unwrap(),
            Status::NeverMember
        );
    }

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

    #[test]
    fn status_on_never_panics_at_the_end_of_the_calendar() {
        let periods = vec![paid("REG", NaiveDate::MAX, NaiveDate::MAX)];
        let events = [MembershipEvent::Suspended { on: NaiveDate::MIN }];
        assert_eq!(
            status_on(&periods, &[], u32::MAX, NaiveDate::MAX).status,
            Status::Active
        );
        assert_eq!(
            status_on(&periods, &events, u32::MAX, NaiveDate::MIN).status,
            Status::Suspended
        );
        let early = vec![paid("REG", NaiveDate::MIN, NaiveDate::MIN)];
        assert_eq!(
            status_on(&early, &[], u32::MAX, NaiveDate::MAX).status,
            Status::Grace
        );
        assert_eq!(
            next_period(&periods[0], RenewalBasis::Anniversary).1,
            NaiveDate::MAX
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

    // Properties.

    fn day() -> impl Strategy<Value = NaiveDate> {
        (0u64..3_000).prop_map(|n| d(2020, 1, 1) + chrono::Days::new(n))
    }

    fn any_paid_state() -> impl Strategy<Value = PaidState> {
        prop_oneof![
            day().prop_map(|on| PaidState::Paid { on }),
            Just(PaidState::Unpaid),
            any::<bool>().prop_map(|mandate_active| PaidState::Instalments { mandate_active }),
        ]
    }

    fn paying_state() -> impl Strategy<Value = PaidState> {
        prop_oneof![
            day().prop_map(|on| PaidState::Paid { on }),
            Just(PaidState::Instalments {
                mandate_active: true
            }),
        ]
    }

    fn any_period() -> impl Strategy<Value = Period> {
        period_within(day(), 0..400)
    }

    /// Periods crowded into a few months, so that they often share a start or an end and the
    /// choice between them is exercised.
    fn crowded_period() -> impl Strategy<Value = Period> {
        let start = (0u64..15).prop_map(|n| d(2025, 1, 1) + chrono::Days::new(n));
        period_within(start, 0..30)
    }

    fn period_within(
        start: impl Strategy<Value = NaiveDate>,
        length: std::ops::Range<u64>,
    ) -> impl Strategy<Value = Period> {
        (
            0u128..4,
            prop::sample::select(vec!["STU", "IND", "REG"]),
            start,
            length,
            any_paid_state(),
            prop::sample::select(vec![HowPaid::Card, HowPaid::DirectDebit, HowPaid::Imported]),
        )
            .prop_map(|(id, category, start, length, paid, how_paid)| Period {
                id: Uuid::from_u128(id),
                category_code: category.to_owned(),
                start,
                end: start + chrono::Days::new(length),
                paid,
                how_paid,
            })
    }

    fn any_event() -> impl Strategy<Value = MembershipEvent> {
        event_within(d(2020, 1, 1), 3_000)
    }

    fn event_within(first: NaiveDate, span: u64) -> impl Strategy<Value = MembershipEvent> {
        let day = move || (0..span).prop_map(move |n| first + chrono::Days::new(n));
        let reason = prop::sample::select(vec![
            RemovalReason::Deceased,
            RemovalReason::StruckOff,
            RemovalReason::Other,
        ]);
        prop_oneof![
            (day(), 0u64..120).prop_map(|(requested_on, notice)| MembershipEvent::Resigned {
                requested_on,
                effective: requested_on + chrono::Days::new(notice),
            }),
            (day(), reason).prop_map(|(on, reason)| MembershipEvent::Removed { on, reason }),
            day().prop_map(|on| MembershipEvent::Suspended { on }),
            day().prop_map(|on| MembershipEvent::SuspensionLifted { on }),
            day().prop_map(|on| MembershipEvent::Reinstated { on }),
        ]
    }

    type History = (Vec<Period>, Vec<MembershipEvent>);

    fn history() -> impl Strategy<Value = History> {
        (vec(any_period(), 0..6), vec(any_event(), 0..4))
    }

    /// A crowded history and the same history shuffled.
    fn history_twice_in_any_order() -> impl Strategy<Value = (History, History)> {
        (
            vec(crowded_period(), 0..6),
            vec(event_within(d(2025, 1, 1), 60), 0..3),
        )
            .prop_flat_map(|(periods, events)| {
                (
                    Just((periods.clone(), events.clone())),
                    (Just(periods).prop_shuffle(), Just(events).prop_shuffle()),
                )
            })
    }

    fn fixed_basis() -> impl Strategy<Value = RenewalBasis> {
        (1u32..=12, 1u32..=31).prop_filter_map("a day that comes every year", |(m, d)| {
            RenewalBasis::fixed_date(m, d).ok()
        })
    }

    fn valid_basis() -> impl Strategy<Value = RenewalBasis> {
        prop_oneof![Just(RenewalBasis::Anniversary), fixed_basis()]
    }

    proptest! {
        #[test]
        fn status_on_does_not_depend_on_the_order_of_periods_or_events(
            ((periods, events), (shuffled_periods, shuffled_events))
                in history_twice_in_any_order(),
            grace in 0u32..60,
            on in (0u64..60).prop_map(|n| d(2025, 1, 1) + chrono::Days::new(n)),
        ) {
            prop_assert_eq!(
                status_on(&periods, &events, grace, on),
                status_on(&shuffled_periods, &shuffled_events, grace, on)
            );
        }

        #[test]
        fn was_member_on_agrees_with_status_on(
            (periods, events) in history(),
            grace in 0u32..60,
            on in day(),
        ) {
            let status = status_on(&periods, &events, grace, on);
            let was_member = was_member_on(&periods, &events, grace, on);
            prop_assert_eq!(was_member.is_some(), status.status.is_member());
            if status.status.is_member() {
                prop_assert_eq!(was_member, status.category_code);
            }
        }

        #[test]
        fn grace_ends_and_lapsed_since_are_given_only_for_grace_and_lapse(
            (periods, events) in history(),
            grace in 0u32..60,
            on in day(),
        ) {
            let status = status_on(&periods, &events, grace, on);
            prop_assert_eq!(status.grace_ends.is_some(), status.status == Status::Grace);
            prop_assert_eq!(status.lapsed_since.is_some(), status.status == Status::Lapsed);
            if let Some(grace_ends) = status.grace_ends {
                prop_assert!(on <= grace_ends);
            }
            if let Some(lapsed_since) = status.lapsed_since {
                prop_assert!(lapsed_since <= on);
            }
            prop_assert_eq!(
                status.category_code.clone(),
                status.current_period.map(|p| p.category_code.clone())
            );
        }

        #[test]
        fn every_day_of_contiguous_paid_periods_is_active_and_the_day_after_grace_is_lapsed(
            first_start in day(),
            lengths in vec(1u64..400, 1..5),
            states in vec(paying_state(), 5),
            grace in 0u32..45,
        ) {
            let mut periods = Vec::new();
            let mut start = first_start;
            for (i, (&length, &paid)) in lengths.iter().zip(&states).enumerate() {
                let end = start + chrono::Days::new(length - 1);
                periods.push(Period {
                    id: Uuid::from_u128(i as u128),
                    category_code: format!("C{i}"),
                    start,
                    end,
                    paid,
                    how_paid: HowPaid::Card,
                });
                start = end.succ_opt().unwrap();
            }
            let last_end = periods.last().unwrap().end;

            prop_assert_eq!(
                status_on(&periods, &[], grace, first_start.pred_opt().unwrap()).status,
                Status::NotYetStarted
            );
            let mut on = first_start;
            while on <= last_end {
                let status = status_on(&periods, &[], grace, on);
                prop_assert_eq!(status.status, Status::Active, "on {}", on);
                prop_assert_eq!(status.member_until, Some(last_end));
                on = on.succ_opt().unwrap();
            }
            let grace_ends = last_end + chrono::Days::new(u64::from(grace));
            while on <= grace_ends {
                prop_assert_eq!(status_on(&periods, &[], grace, on).status, Status::Grace);
                on = on.succ_opt().unwrap();
            }
            let lapsed = status_on(&periods, &[], grace, on);
            prop_assert_eq!(lapsed.status, Status::Lapsed);
            prop_assert_eq!(lapsed.lapsed_since, Some(on));
        }

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
