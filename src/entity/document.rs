use sea_orm::entity::prelude::*;

/// An invoice, credit note or receipt. Numbered from its own sequence (never reused); the amount never
/// changes; an invoice's `outstanding_pence` and `status` follow the payments, credit notes and write-offs
/// set against it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `invoice`, `credit_note` or `receipt`.
    pub kind: String,
    #[sea_orm(unique)]
    pub number: String,
    pub member_id: Uuid,
    pub issued_on: Date,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub amount_pence: i64,
    pub outstanding_pence: i64,
    /// Invoices: `open`, `paid`, `credited`, `written_off`; others `issued`.
    pub status: String,
    /// A credit note's invoice; a receipt's payment.
    pub related_id: Option<Uuid>,
    pub ledger_transaction_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
