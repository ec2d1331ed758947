//! A member's timeline as staff see it: periods, membership events, notes, messages and audit entries,
//! newest first, each kind capped at [`TIMELINE_LIMIT`].

use crate::domain::AppError;
use crate::entity::audit_log::AuditAction;
use crate::entity::member;
use crate::entity::member_note;
use crate::entity::outbox_message;
use chrono::DateTime;
use chrono::Utc;
use sea_orm::ColumnTrait;
use sea_orm::ConnectionTrait;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use sea_orm::QueryOrder;
use sea_orm::QuerySelect;
use serde_json::Value;
use uuid::Uuid;

/// How many timeline entries of each kind the record page shows at most.
pub const TIMELINE_LIMIT: u64 = 200;

/// One thing on a member's timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineItem {
    pub at: DateTime<Utc>,
    pub kind: TimelineKind,
    pub who: String,
    /// The audit action, message subject, or "Note".
    pub title: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub body: Option<String>,
    /// For messages: the outbox message to open.
    pub message_id: Option<Uuid>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimelineKind {
    Change,
    Message,
    Note,
}

/// Audit entries, messages and notes about a member, newest first.
pub async fn timeline<C: ConnectionTrait>(
    db: &C,
    m: &member::Model,
) -> Result<Vec<TimelineItem>, AppError> {
    use crate::entity::audit_log;
    let mut items = Vec::new();
    let about_member = sea_orm::Condition::all()
        .add(audit_log::Column::Entity.eq("member"))
        .add(audit_log::Column::EntityId.eq(m.id.to_string()));
    let mut about = sea_orm::Condition::any().add(about_member);
    if let Some(uid) = m.user_id {
        about = about.add(
            sea_orm::Condition::all()
                .add(audit_log::Column::Entity.eq("user"))
                .add(audit_log::Column::EntityId.eq(uid.to_string())),
        );
    }
    let audit_q = audit_log::Entity::find().filter(about);
    for a in audit_q
        .order_by_desc(audit_log::Column::At)
        .limit(TIMELINE_LIMIT)
        .all(db)
        .await?
    {
        if a.action == AuditAction::NoteAdded {
            continue; // the note itself is on the timeline
        }
        items.push(TimelineItem {
            at: a.at,
            kind: TimelineKind::Change,
            who: a.actor_label,
            title: a.action.label().to_owned(),
            before: a.before,
            after: a.after,
            body: None,
            message_id: None,
        });
    }
    let mut msg_q = outbox_message::Entity::find();
    msg_q = match m.user_id {
        Some(uid) => msg_q.filter(
            sea_orm::Condition::any()
                .add(outbox_message::Column::MemberId.eq(m.id))
                .add(outbox_message::Column::UserId.eq(uid)),
        ),
        None => msg_q.filter(outbox_message::Column::MemberId.eq(m.id)),
    };
    for o in msg_q
        .order_by_desc(outbox_message::Column::CreatedAt)
        .limit(TIMELINE_LIMIT)
        .all(db)
        .await?
    {
        items.push(TimelineItem {
            at: o.created_at,
            kind: TimelineKind::Message,
            who: format!("Email to {}", o.to_address),
            title: o.subject,
            before: None,
            after: None,
            body: Some(o.status.as_str().to_owned()),
            message_id: Some(o.id),
        });
    }
    for n in member_note::Entity::find()
        .filter(member_note::Column::MemberId.eq(m.id))
        .order_by_desc(member_note::Column::CreatedAt)
        .limit(TIMELINE_LIMIT)
        .all(db)
        .await?
    {
        items.push(TimelineItem {
            at: n.created_at,
            kind: TimelineKind::Note,
            who: n.author_label,
            title: "Note".into(),
            before: None,
            after: None,
            body: Some(n.body),
            message_id: None,
        });
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.at));
    Ok(items)
}
