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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
