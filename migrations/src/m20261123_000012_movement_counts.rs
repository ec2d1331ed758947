//! The kept counts behind the dashboard and the reports (`guildhall::service::summary`): how many of
//! each kind (a movement, a status change, renewals due…) in each category on each day. Filled by
//! the application (`summary::ensure`) the first time it starts on a database with members.

use crate::util::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("movement_counts")
                .col(string_len("kind", 40))
                .col(uuid("category_id"))
                .col(date("on_date"))
                .col(big_integer("n"))
                .primary_key(
                    Index::create()
                        .col("kind")
                        .col("category_id")
                        .col("on_date"),
                )
                .to_owned(),
        )
        .await?;
        // Reading a stretch of days of a kind across categories, from the index alone.
        m.create_index(index(
            "ix_movement_counts_day",
            "movement_counts",
            &["kind", "on_date", "category_id", "n"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("movement_counts").to_owned())
            .await
    }
}
