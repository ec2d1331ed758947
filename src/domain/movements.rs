//! Membership movements: a member's paid periods and resignations read, in order, as who joined,
//! renewed, changed category, lapsed, resigned or was reinstated, and when. Pure: the services feed it
//! stored rows (see `service::trends` and `service::summary`).
//!
//! - the first period is a **new membership**, on its first day;
//! - a period starting inside an earlier one is an **adjustment** (a change of category), on its
//!   first day;
//! - a period starting after the earlier ones ended: a **renewal** when it follows within the grace days
//!   (dated the day it was paid, or its first day), else a **reinstatement** (on its first day);
//! - a **lapse** is the day after the grace days that followed a period's end with nothing after it
//!   (nor a resignation or removal before then);
//! - a **resignation** is the day it was recorded.

use chrono::{Duration, NaiveDate};
use uuid::Uuid;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Movement {
    Joined,
    Renewed,
    Adjusted,
    Reinstated,
    Lapsed,
    Resigned,
}

/// One movement of one member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moved {
    pub member_id: Uuid,
    pub on: NaiveDate,
    pub what: Movement,
    /// The category it was in (the new one for an adjustment).
    pub category_id: Option<Uuid>,
}

/// What a classification needs of a period.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub category_id: Uuid,
    pub start_on: NaiveDate,
    pub end_on: NaiveDate,
    pub paid_on: Option<NaiveDate>,
}

/// A member's resignations and removals.
#[derive(Clone, Debug, Default)]
pub struct Left {
    /// The earliest day a resignation or removal took effect.
    pub from: Option<NaiveDate>,
    /// The days resignations were recorded.
    pub resigned_on: Vec<NaiveDate>,
}

impl Left {
    /// Takes in one membership event (kind as stored, the day recorded, the day it took effect).
    pub fn add(&mut self, kind: &str, on_date: NaiveDate, effective_on: Option<NaiveDate>) {
        if kind != "resigned" && kind != "removed" {
            return;
        }
        let from = effective_on.unwrap_or(on_date);
        self.from = Some(self.from.map_or(from, |d| std::cmp::Ord::min(d, from)));
        if kind == "resigned" {
            self.resigned_on.push(on_date);
        }
    }

    pub fn resignations(&self, member_id: Uuid, category_id: Option<Uuid>) -> Vec<Moved> {
        self.resigned_on
            .iter()
            .map(|on| Moved {
                member_id,
                on: *on,
                what: Movement::Resigned,
                category_id,
            })
            .collect()
    }
}

/// One member's movements, dated, including a lapse still to come (the caller leaves out what is after
/// the day it reports on). `spans` are the member's paid periods in order of start; a resignation is
/// put in `resigned_in` (the member's category, for the reports that count by category).
pub fn classify(
    member_id: Uuid,
    spans: &[Span],
    left: &Left,
    resigned_in: Option<Uuid>,
    grace_of: impl Fn(Uuid) -> i64,
) -> Vec<Moved> {
    let mut out = left.resignations(member_id, resigned_in);
    let mut covered: Option<(NaiveDate, Uuid)> = None; // latest end so far, and its category
    for p in spans {
        match covered {
            None => out.push(Moved {
                member_id,
                on: p.start_on,
                what: Movement::Joined,
                category_id: Some(p.category_id),
            }),
            Some((end, _)) if p.start_on <= end => out.push(Moved {
                member_id,
                on: p.start_on,
                what: Movement::Adjusted,
                category_id: Some(p.category_id),
            }),
            Some((end, cat)) => {
                let lapse_on = end + Duration::days(grace_of(cat) + 1);
                if p.start_on < lapse_on {
                    out.push(Moved {
                        member_id,
                        on: p.paid_on.unwrap_or(p.start_on),
                        what: Movement::Renewed,
                        category_id: Some(p.category_id),
                    });
                } else {
                    out.push(Moved {
                        member_id,
                        on: lapse_on,
                        what: Movement::Lapsed,
                        category_id: Some(cat),
                    });
                    out.push(Moved {
                        member_id,
                        on: p.start_on,
                        what: Movement::Reinstated,
                        category_id: Some(p.category_id),
                    });
                }
            }
        }
        // The period ending last decides the category a lapse is in (the newer of two ending together).
        covered = Some(match covered {
            Some((end, cat)) if end > p.end_on => (end, cat),
            _ => (p.end_on, p.category_id),
        });
    }
    if let Some((end, cat)) = covered {
        let lapse_on = end + Duration::days(grace_of(cat) + 1);
        let left_first = left.from.is_some_and(|d| d <= lapse_on);
        if !left_first {
            out.push(Moved {
                member_id,
                on: lapse_on,
                what: Movement::Lapsed,
                category_id: Some(cat),
            });
        }
    }
    out
}
