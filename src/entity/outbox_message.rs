use sea_orm::entity::prelude::*;

/// An e-mail written in the same transaction as its cause and delivered later by the outbox worker.
/// `status`: `pending` → `sending` → `sent`; `failed` after the last retry; `logged` when no SMTP server is
/// configured (development delivery keeps it here only).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub message_id: String,
    pub template: String,
    pub to_address: String,
    pub to_name: Option<String>,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body_text: String,
    #[sea_orm(column_type = "Text")]
    pub body_html: String,
    pub user_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub claimed_at: Option<DateTimeUtc>,
    pub claimed_by: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// The one-time link this message carries, if any (`service::tokens`): the token row, armed at
    /// delivery, and the address the token is appended to. The stored bodies show the link withheld.
    pub link_token_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub link_prefix: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// Where a message stands, as stored in `outbox_messages.status`.
    pub enum OutboxStatus {
        /// Waiting to be sent (again).
        Pending = "pending",
        /// Claimed by a worker.
        Sending = "sending",
        Sent = "sent",
        /// Given up after the last retry.
        Failed = "failed",
        /// Kept, not sent: no SMTP server is configured.
        Logged = "logged",
    }
}
