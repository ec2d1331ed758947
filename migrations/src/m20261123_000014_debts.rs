//! What is owed, kept as invoices are raised and paid (`guildhall::service::money::debts`): each
//! member's total on open invoices, read largest first by the aged-debt page, and the total by the
//! day the invoices were issued, summed into age buckets. Filled by the application (`debts::ensure`)
//! the first time it starts on a database with open invoices. Also a covering index for income by
//! method over a stretch of days.

use crate::util::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("member_debts")
                .col(uuid("member_id").primary_key())
                .col(big_integer("owed_pence"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_member_debts_owed",
            "member_debts",
            &["owed_pence", "member_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("debt_days")
                .col(date("issued_on").primary_key())
                .col(big_integer("owed_pence"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_payments_income",
            "payments",
            &["direction", "received_on", "method", "amount_pence"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_payments_income")
                .table("payments")
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table("debt_days").to_owned())
            .await?;
        m.drop_table(Table::drop().table("member_debts").to_owned())
            .await
    }
}
