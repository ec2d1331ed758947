use sea_orm::entity::prelude::*;

/// One membership period. Periods are added, never overwritten: history answers "was X a member on D".
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "periods")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: Uuid,
    pub category_id: Uuid,
    pub start_on: Date,
    /// Inclusive last day.
    pub end_on: Date,
    /// `paid`, `unpaid` or `instalments`.
    pub paid_state: String,
    pub paid_on: Option<Date>,
    pub mandate_active: bool,
    /// `card`, `direct_debit`, `cheque`, `bank_transfer`, `complimentary` or `imported`.
    pub how_paid: String,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
