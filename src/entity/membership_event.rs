use crate::domain::membership::{MembershipEvent, RemovalReason};
use sea_orm::entity::prelude::*;
use serde_json::Value;

/// Something that changes a membership other than a period: resigned, removed, suspended,
/// suspension lifted, reinstated.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "membership_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: Uuid,
    pub kind: EventKind,
    pub on_date: Date,
    pub effective_on: Option<Date>,
    pub reason: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub detail: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// What a membership event is, as stored in `membership_events.kind` (the same text as before it
    /// was a type, so stored rows read unchanged).
    pub enum EventKind {
        Resigned = "resigned",
        Removed = "removed",
        Suspended = "suspended",
        SuspensionLifted = "suspension_lifted",
        Reinstated = "reinstated",
    }
}

/// A domain event as it is stored: its kind, the day it was recorded, the day it took effect and the
/// removal reason.
pub fn from_event(e: &MembershipEvent) -> (EventKind, Date, Date, Option<&'static str>) {
    match *e {
        MembershipEvent::Resigned {
            requested_on,
            effective,
        } => (EventKind::Resigned, requested_on, effective, None),
        MembershipEvent::Removed { on, reason } => {
            (EventKind::Removed, on, on, Some(removal_reason_str(reason)))
        }
        MembershipEvent::Suspended { on } => (EventKind::Suspended, on, on, None),
        MembershipEvent::SuspensionLifted { on } => (EventKind::SuspensionLifted, on, on, None),
        MembershipEvent::Reinstated { on } => (EventKind::Reinstated, on, on, None),
    }
}

/// A stored event as the domain sees it.
pub fn to_event(e: &Model) -> Option<MembershipEvent> {
    Some(match e.kind {
        EventKind::Resigned => MembershipEvent::Resigned {
            requested_on: e.on_date,
            effective: e.effective_on.unwrap_or(e.on_date),
        },
        EventKind::Removed => MembershipEvent::Removed {
            on: e.on_date,
            reason: e
                .reason
                .as_deref()
                .and_then(removal_reason)
                .unwrap_or(RemovalReason::Other),
        },
        EventKind::Suspended => MembershipEvent::Suspended { on: e.on_date },
        EventKind::SuspensionLifted => MembershipEvent::SuspensionLifted { on: e.on_date },
        EventKind::Reinstated => MembershipEvent::Reinstated { on: e.on_date },
    })
}

/// Reads a removal reason as stored (`deceased`, `struck_off`, `other`).
pub fn removal_reason(s: &str) -> Option<RemovalReason> {
    serde_json::from_value(Value::String(s.trim().to_owned())).ok()
}

pub fn removal_reason_str(r: RemovalReason) -> &'static str {
    match r {
        RemovalReason::Deceased => "deceased",
        RemovalReason::StruckOff => "struck_off",
        RemovalReason::Other => "other",
    }
}
