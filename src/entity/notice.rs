use sea_orm::entity::prelude::*;

/// A lifecycle message sent to a member (a renewal reminder, the grace or lapse message, an auto-renew
/// notice): unique per member and key, so each is sent once however often the daily job runs.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: Uuid,
    /// What was sent and for which period, e.g. `reminder:-30:2027-01-01` or `lapsed:2026-12-31`.
    pub key: String,
    pub sent_on: Date,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
