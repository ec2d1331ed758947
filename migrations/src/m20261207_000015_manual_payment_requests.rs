//! Four-eyes on manual payments (`guildhall::service::money::manual`): a cheque or bank transfer above
//! the office's limit, or one set against another member's invoice, waits in `money_requests` as a
//! `manual_payment` request until a second person authorises it. The request keeps what the officer
//! typed (method, reference, date received) and the form's key, so a form sent twice raises one
//! request and the authorised payment posts once. The limit itself is a row in `settings`
//! (`manual_payment_limit`, in pence), £500 when absent.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 4] = ["method", "reference", "received_on", "payment_key"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters one thing at a time.
        for col in [
            string_null("method"),
            string_null("reference"),
            date_null("received_on"),
            string_null("payment_key"),
        ] {
            m.alter_table(
                Table::alter()
                    .table("money_requests")
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("ux_money_requests_payment_key")
                .table("money_requests")
                .col("payment_key")
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ux_money_requests_payment_key")
                .table("money_requests")
                .to_owned(),
        )
        .await?;
        for col in COLUMNS {
            m.alter_table(
                Table::alter()
                    .table("money_requests")
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
