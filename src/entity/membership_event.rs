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
    pub kind: String,
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

/// Event kinds as stored in `membership_events.kind`.
pub const EVENT_RESIGNED: &str = "resigned";
pub const EVENT_REMOVED: &str = "removed";
pub const EVENT_SUSPENDED: &str = "suspended";
pub const EVENT_SUSPENSION_LIFTED: &str = "suspension_lifted";
pub const EVENT_REINSTATED: &str = "reinstated";

/// A stored event as the domain sees it; `None` for a kind the domain does not know.
pub fn to_event(e: &Model) -> Option<MembershipEvent> {
    Some(match e.kind.as_str() {
        EVENT_RESIGNED => MembershipEvent::Resigned {
            requested_on: e.on_date,
            effective: e.effective_on.unwrap_or(e.on_date),
        },
        EVENT_REMOVED => MembershipEvent::Removed {
            on: e.on_date,
            reason: e
                .reason
                .as_deref()
                .and_then(removal_reason)
                .unwrap_or(RemovalReason::Other),
        },
        EVENT_SUSPENDED => MembershipEvent::Suspended { on: e.on_date },
        EVENT_SUSPENSION_LIFTED => MembershipEvent::SuspensionLifted { on: e.on_date },
        EVENT_REINSTATED => MembershipEvent::Reinstated { on: e.on_date },
        _ => return None,
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
