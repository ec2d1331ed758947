use sea_orm::entity::prelude::*;

/// A member's card payment of an invoice at a provider's hosted page: `open` until the provider's
/// webhook says `paid` (or the page reports `declined`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checkouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: Uuid,
    pub invoice_id: Uuid,
    pub provider: String,
    /// The provider's id for the session (Stripe's `cs_…`).
    pub provider_ref: Option<String>,
    pub amount_pence: i64,
    pub status: CheckoutStatus,
    pub failures: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub message: Option<String>,
    pub payment_id: Option<Uuid>,
    /// The member agreed, when paying, to the card being kept for automatic renewal.
    pub keep_card: bool,
    pub created_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// Where a checkout stands, as stored in `checkouts.status`.
    pub enum CheckoutStatus {
        /// Waiting for the provider's word.
        Open = "open",
        Paid = "paid",
    }
}
