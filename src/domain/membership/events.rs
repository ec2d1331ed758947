//! What changes a membership and is not a period: resignation, removal, suspension, reinstatement.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

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
