//! Indexes the dashboard and the reports read by: payments by the day received (income this month,
//! the Trade Report's income); open invoices by member with their dates and amounts (what members owe,
//! aged debt), read from the index alone.

use crate::util::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(
            "ix_payments_received",
            "payments",
            &["received_on", "direction"],
        ))
        .await?;
        m.create_index(index(
            "ix_documents_owed",
            "documents",
            &[
                "status",
                "kind",
                "member_id",
                "issued_on",
                "outstanding_pence",
            ],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_documents_owed")
                .table("documents")
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_payments_received")
                .table("payments")
                .to_owned(),
        )
        .await
    }
}
