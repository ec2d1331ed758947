use sea_orm::entity::prelude::*;

/// An account's authenticator (TOTP). The secret is sealed with the installation's key
/// (`service::mfa::SecretKey`), never stored readable.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_totp")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub secret_sealed: String,
    pub enabled_at: DateTimeUtc,
    /// The 30-second step of the last code accepted: a code of that step or before is refused.
    pub last_step: Option<i64>,
    pub failed_attempts: i32,
    pub locked_until: Option<DateTimeUtc>,
    /// A demo account's authenticator (`mfa::DEMO_TOTP_SECRET`, published): codes may be used again,
    /// so that the demo and the browser tests can sign in many times a minute.
    pub demo: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
