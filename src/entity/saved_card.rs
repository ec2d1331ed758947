use sea_orm::entity::prelude::*;

/// A card a member saved at the payment provider for auto-renewal (one per member): the provider's
/// token for off-session charges, never the card number.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "saved_cards")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub member_id: Uuid,
    pub provider: String,
    pub token: String,
    /// How the member recognises it, e.g. "Card ending 4242".
    pub label: String,
    pub auto_renew: bool,
    /// The member pays by monthly instalments: their renewals become instalment plans.
    pub monthly: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
