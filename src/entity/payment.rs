use sea_orm::entity::prelude::*;

/// Money received from a member (`direction` `in`) or paid back to them (`out`, a refund).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: Uuid,
    pub direction: Direction,
    /// `card`, `cheque`, `bank_transfer`, `direct_debit`.
    pub method: String,
    /// The card provider (`sandbox`, `stripe`) for card payments.
    pub provider: Option<String>,
    /// Cheque number, transfer reference or the provider's payment id.
    pub reference: String,
    pub amount_pence: i64,
    /// How much of an incoming payment has been refunded.
    pub refunded_pence: i64,
    pub received_on: Date,
    pub invoice_id: Option<Uuid>,
    pub refund_of: Option<Uuid>,
    pub receipt_id: Option<Uuid>,
    pub ledger_transaction_id: Uuid,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// Which way money moved, as stored in `payments.direction`.
    pub enum Direction {
        /// Received from a member.
        In = "in",
        /// Paid back to them (a refund).
        Out = "out",
    }
}
