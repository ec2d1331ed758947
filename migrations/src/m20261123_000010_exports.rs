//! Exports for third parties (the mailing house's renewal documents, the publisher's journal list):
//! each one recorded with who made it, when, what it held and how many rows.

use crate::util::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("exports")
                .col(pk_uuid("id"))
                .col(string("kind"))
                .col(text("fields"))
                .col(string("params"))
                .col(big_integer("row_count"))
                .col(uuid_null("created_by_user"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_exports_created", "exports", &["created_at"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("exports").to_owned())
            .await?;
        Ok(())
    }
}
