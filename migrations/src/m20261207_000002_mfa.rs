//! Second factors (`guildhall::service::mfa`): one authenticator (TOTP) per account, its secret
//! sealed with the installation's key, the last time step used (so a code cannot be replayed) and the
//! count of wrong codes in a row (so guessing is paused), and whether it is a demo account's (its
//! secret is published, so its codes are not refused as replays); and the account's single-use recovery codes,
//! stored only as hashes.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("user_totp")
                .col(uuid("user_id").primary_key())
                .col(text("secret_sealed"))
                .col(timestamp_with_time_zone("enabled_at"))
                .col(big_integer_null("last_step"))
                .col(integer("failed_attempts").default(0))
                .col(timestamp_with_time_zone_null("locked_until"))
                .col(boolean("demo").default(false))
                .foreign_key(
                    &mut fk("fk_user_totp_user", "user_totp", "user_id", "users")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("recovery_codes")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(string("code_hash"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(
                    &mut fk(
                        "fk_recovery_codes_user",
                        "recovery_codes",
                        "user_id",
                        "users",
                    )
                    .on_delete(ForeignKeyAction::Cascade)
                    .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_recovery_codes_user",
            "recovery_codes",
            &["user_id", "code_hash"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("recovery_codes").to_owned())
            .await?;
        m.drop_table(Table::drop().table("user_totp").to_owned())
            .await
    }
}
