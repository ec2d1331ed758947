//! Renewals raised by the renewal run: one row per member and coming period (unique), written in the
//! same transaction as the renewal invoice and the invitation, so a run that is stopped part way and run
//! again raises each renewal exactly once.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("renewals")
                .col(pk_uuid("id"))
                .col(uuid("member_id"))
                .col(uuid("category_id"))
                .col(date("period_start"))
                .col(date("period_end"))
                .col(big_integer("amount_pence"))
                .col(uuid_null("invoice_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string("created_by"))
                .foreign_key(&mut fk(
                    "fk_renewals_member",
                    "renewals",
                    "member_id",
                    "members",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_renewals_member_start")
                .table("renewals")
                .col("member_id")
                .col("period_start")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_renewals_start", "renewals", &["period_start"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("renewals").to_owned())
            .await?;
        Ok(())
    }
}
