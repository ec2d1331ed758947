//! The status derived from a member's periods and events: [`status_on`], the one function that does it.

use std::cmp::Ordering;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{add_days, MembershipEvent, Period};

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
    /// The status as stored and serialised (`active`, `not_yet_started`, …).
    pub fn key(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Grace => "grace",
            Status::Lapsed => "lapsed",
            Status::Resigned => "resigned",
            Status::Removed => "removed",
            Status::Suspended => "suspended",
            Status::NotYetStarted => "not_yet_started",
            Status::NeverMember => "never_member",
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::membership::test_support::*;
    use crate::domain::membership::*;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use uuid::Uuid;

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
    }
}
