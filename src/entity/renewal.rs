use sea_orm::entity::prelude::*;

/// A renewal raised for a member's coming period: unique per member and period start.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "renewals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: Uuid,
    pub category_id: Uuid,
    pub period_start: Date,
    pub period_end: Date,
    pub amount_pence: i64,
    pub invoice_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
    /// `open` (invoice not yet paid), `paid` (the period exists) or `cancelled` (credited: the member
    /// resigned, was removed or changed category).
    pub status: RenewalStatus,
    /// `renewal` (the period after the current one) or `reinstatement` (a lapsed member back from the
    /// day they pay, with the reinstatement fee).
    pub kind: RenewalKind,
    /// What the member declared when renewing (categories that need a declaration).
    #[sea_orm(column_type = "Text", nullable)]
    pub declaration: Option<String>,
    pub declared_at: Option<DateTimeUtc>,
    /// The period the payment created.
    pub period_id: Option<Uuid>,
    pub closed_at: Option<DateTimeUtc>,
    /// Auto-renewal: charges tried so far, and the day of the next one.
    pub charge_attempts: i32,
    pub next_charge_on: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// Where a renewal stands, as stored in `renewals.status`.
    pub enum RenewalStatus {
        /// The invoice is not yet paid.
        Open = "open",
        /// The period exists.
        Paid = "paid",
        /// Credited: the member resigned, was removed or changed category.
        Cancelled = "cancelled",
    }
}

stored_enum! {
    /// What a renewal is for, as stored in `renewals.kind`.
    pub enum RenewalKind {
        /// The period after the current one.
        Renewal = "renewal",
        /// A lapsed member back from the day they pay, with the reinstatement fee.
        Reinstatement = "reinstatement",
    }
}
