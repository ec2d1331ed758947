//! What the tests of the membership rules share: dates, periods and histories, written out or generated.

use super::*;
use chrono::{Datelike, NaiveDate};
use proptest::collection::vec;
use proptest::prelude::*;
use uuid::Uuid;

pub(super) const GRACE: u32 = 30;

pub(super) fn d(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

pub(super) fn period(category: &str, start: NaiveDate, end: NaiveDate, paid: PaidState) -> Period {
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

pub(super) fn paid(category: &str, start: NaiveDate, end: NaiveDate) -> Period {
    period(category, start, end, PaidState::Paid { on: start })
}

pub(super) fn unpaid(category: &str, start: NaiveDate, end: NaiveDate) -> Period {
    period(category, start, end, PaidState::Unpaid)
}

pub(super) fn status(periods: &[Period], events: &[MembershipEvent], on: NaiveDate) -> Status {
    status_on(periods, events, GRACE, on).status
}

/// A registered member's 2025 membership year, paid.
pub(super) fn year_2025() -> Vec<Period> {
    vec![paid("REG", d(2025, 1, 1), d(2025, 12, 31))]
}

pub(super) fn day() -> impl Strategy<Value = NaiveDate> {
    (0u64..3_000).prop_map(|n| d(2020, 1, 1) + chrono::Days::new(n))
}

pub(super) fn any_paid_state() -> impl Strategy<Value = PaidState> {
    prop_oneof![
        day().prop_map(|on| PaidState::Paid { on }),
        Just(PaidState::Unpaid),
        any::<bool>().prop_map(|mandate_active| PaidState::Instalments { mandate_active }),
    ]
}

pub(super) fn paying_state() -> impl Strategy<Value = PaidState> {
    prop_oneof![
        day().prop_map(|on| PaidState::Paid { on }),
        Just(PaidState::Instalments {
            mandate_active: true
        }),
    ]
}

pub(super) fn any_period() -> impl Strategy<Value = Period> {
    period_within(day(), 0..400)
}

/// Periods crowded into a few months, so that they often share a start or an end and the
/// choice between them is exercised.
pub(super) fn crowded_period() -> impl Strategy<Value = Period> {
    let start = (0u64..15).prop_map(|n| d(2025, 1, 1) + chrono::Days::new(n));
    period_within(start, 0..30)
}

pub(super) fn period_within(
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

pub(super) fn any_event() -> impl Strategy<Value = MembershipEvent> {
    event_within(d(2020, 1, 1), 3_000)
}

pub(super) fn event_within(first: NaiveDate, span: u64) -> impl Strategy<Value = MembershipEvent> {
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

pub(super) type History = (Vec<Period>, Vec<MembershipEvent>);

pub(super) fn history() -> impl Strategy<Value = History> {
    (vec(any_period(), 0..6), vec(any_event(), 0..4))
}

/// A crowded history and the same history shuffled.
pub(super) fn history_twice_in_any_order() -> impl Strategy<Value = (History, History)> {
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

pub(super) fn fixed_basis() -> impl Strategy<Value = RenewalBasis> {
    (1u32..=12, 1u32..=31).prop_filter_map("a day that comes every year", |(m, d)| {
        RenewalBasis::fixed_date(m, d).ok()
    })
}

pub(super) fn valid_basis() -> impl Strategy<Value = RenewalBasis> {
    prop_oneof![Just(RenewalBasis::Anniversary), fixed_basis()]
}
