//! Category eligibility criteria (the text an applicant and an officer read), and who erased a member's
//! personal data and when (the member row keeps its number, category and periods).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("categories")
                .add_column(text("eligibility").default(""))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("members")
                .add_column(string_null("pseudonymised_by"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("members")
                .drop_column("pseudonymised_by")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("categories")
                .drop_column("eligibility")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
