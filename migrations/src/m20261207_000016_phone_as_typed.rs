//! A member's phone number is kept twice: normalised (`phone`, digits and a leading `+`, what searches
//! and exports use) and as they typed it (`phone_as_typed`, "07700 900 982", what pages and letters
//! show). Numbers stored before this step have only the normalised form, which is shown until the
//! member next saves their details.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("members")
                .add_column(text_null("phone_as_typed"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("members")
                .drop_column("phone_as_typed")
                .to_owned(),
        )
        .await
    }
}
