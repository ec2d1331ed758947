//! The e-mail outbox: messages are rendered and written here in the same transaction as the event that
//! caused them, and delivered later by [`delivery`] through a [`transport`]. Nothing else sends e-mail.
//!
//! The tie to `mail` runs one way: this module renders with `mail::templates` and submits with
//! `mail::smtp`; nothing in `mail` knows of the outbox table or of the services.
//!
//! A message carrying a one-time link is stored with the link withheld (`tokens::WITHHELD`); the
//! worker arms it at delivery (`tokens::arm`). So staff reading the outbox, the HTML preview, the logs
//! and a copy of the database never see a live link.

pub mod delivery;
pub mod transport;

use crate::domain::AppError;
use crate::entity::audit_log::AuditAction;
use crate::entity::outbox_message;
use crate::entity::outbox_message::OutboxStatus;
use crate::mail::templates;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// The domain part of every Message-ID we generate.
pub const MESSAGE_ID_DOMAIN: &str = "guildhall.local";

pub struct NewMessage<'a> {
    pub template: &'a str,
    pub to_address: &'a str,
    pub to_name: Option<&'a str>,
    pub user_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    /// Variables for the template. `office_name` and `base_url` are added by the renderer.
    pub context: serde_json::Value,
    /// The one-time link this message carries: its template variable is set to the withheld marker
    /// here, and the link itself made at delivery.
    pub link: Option<super::tokens::Link>,
}

/// Renders `msg` and writes it to the outbox, due now. Returns its id.
pub async fn enqueue<C: ConnectionTrait>(db: &C, msg: NewMessage<'_>) -> Result<Uuid, AppError> {
    let (id, row) = row(msg)?;
    outbox_message::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(id)
}

/// Renders `msg` into an outbox row due now, for callers that write many at once. Returns its id too.
pub fn row(msg: NewMessage<'_>) -> Result<(Uuid, outbox_message::ActiveModel), AppError> {
    let mut context = msg.context;
    if let (Some(link), Some(vars)) = (&msg.link, context.as_object_mut()) {
        vars.insert(
            link.variable.to_owned(),
            serde_json::Value::String(super::tokens::WITHHELD.to_owned()),
        );
    }
    let rendered = templates::render(msg.template, &context).map_err(AppError::internal)?;
    let id = super::new_id();
    let now = super::now();
    let row = outbox_message::ActiveModel {
        id: Set(id),
        message_id: Set(format!("<{}@{}>", id.simple(), MESSAGE_ID_DOMAIN)),
        template: Set(msg.template.to_owned()),
        to_address: Set(msg.to_address.trim().to_lowercase()),
        to_name: Set(msg.to_name.map(str::to_owned)),
        subject: Set(rendered.subject),
        body_text: Set(rendered.text),
        body_html: Set(rendered.html),
        user_id: Set(msg.user_id),
        member_id: Set(msg.member_id),
        status: Set(OutboxStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_at: Set(None),
        claimed_by: Set(None),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        link_token_id: Set(msg.link.as_ref().map(|l| l.token_id)),
        link_prefix: Set(msg.link.map(|l| l.prefix)),
    };
    Ok((id, row))
}

/// One row of the staff outbox list.
#[derive(Clone, Debug)]
pub struct Listed {
    pub rows: Vec<outbox_message::Model>,
    pub total: u64,
}

/// Messages newest first, optionally only those to one address (case-insensitive) or in one status.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    to: Option<&str>,
    status: Option<OutboxStatus>,
    page: u64,
    per_page: u64,
) -> Result<Listed, AppError> {
    let mut q = outbox_message::Entity::find();
    if let Some(to) = to.map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(outbox_message::Column::ToAddress.eq(to.to_lowercase()));
    }
    if let Some(status) = status {
        q = q.filter(outbox_message::Column::Status.eq(status));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(outbox_message::Column::CreatedAt)
        .order_by_desc(outbox_message::Column::Id)
        .offset(crate::domain::paging::offset(page, per_page))
        .limit(per_page)
        .all(db)
        .await?;
    Ok(Listed { rows, total })
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<outbox_message::Model, AppError> {
    outbox_message::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// A member of staff reads a message (its page or its HTML preview): allowed with `ViewOutbox`, and
/// recorded in the audit trail, since a message's body is personal data. One-time links in it are
/// withheld (they are made only at delivery).
pub async fn read<C: ConnectionTrait>(
    db: &C,
    actor: &crate::domain::Actor,
    id: Uuid,
    part: &str,
) -> Result<outbox_message::Model, AppError> {
    actor.require(crate::domain::Permission::ViewOutbox)?;
    let m = get(db, id).await?;
    super::audit::record(
        db,
        actor,
        "outbox_message",
        m.id,
        AuditAction::MessageViewed,
        None,
        Some(serde_json::json!({"to": m.to_address, "subject": m.subject, "part": part})),
    )
    .await?;
    Ok(m)
}
