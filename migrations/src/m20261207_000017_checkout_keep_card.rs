//! A member paying by card can agree, on the same page, to the card being kept for automatic
//! renewal: the checkout remembers that agreement (`keep_card`), so that when the provider confirms
//! the payment the card it saved becomes the one automatic renewal charges.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("checkouts")
                .add_column(boolean("keep_card").default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("checkouts")
                .drop_column("keep_card")
                .to_owned(),
        )
        .await
    }
}
