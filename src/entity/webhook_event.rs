use sea_orm::entity::prelude::*;

/// A provider's webhook event, written in the same transaction as the work it caused: unique per
/// provider and event id, so a second delivery does nothing. `outcome`: `processed` or `ignored`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub outcome: String,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
