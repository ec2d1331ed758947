use sea_orm::entity::prelude::*;

/// One posting to the ledger: two or more entries that sum to zero. Never changed or deleted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_transactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Unique: the same key posts once (a retried request, a webhook delivered twice).
    #[sea_orm(unique)]
    pub idempotency_key: String,
    /// `invoice`, `card_payment`, `bank_payment`, `credit_note`, `write_off`, `refund`, …
    pub kind: String,
    /// What caused it, e.g. an invoice number or a provider's event id.
    pub cause: String,
    pub member_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub memo: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
    /// How the money moved, for payments and refunds: `card`, `cheque`, `bank_transfer`, `direct_debit`.
    pub method: Option<String>,
    /// The day the money moved or the document is dated (Europe/London).
    pub value_date: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
