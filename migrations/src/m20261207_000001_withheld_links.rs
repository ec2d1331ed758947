//! One-time links are never stored readable. A message that carries one keeps the link withheld in its
//! stored body and names the token row it belongs to (`link_token_id`) and the address the token is
//! appended to (`link_prefix`); the delivery worker makes the token at the moment of sending and keeps
//! only its hash. Tokens issued before this step may sit readable in earlier messages' bodies, so every
//! unused one is ended here: those links stop working and people ask for new ones.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("outbox_messages")
                .add_column(uuid_null("link_token_id"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("outbox_messages")
                .add_column(text_null("link_prefix"))
                .to_owned(),
        )
        .await?;
        let ended = Query::update()
            .table("auth_tokens")
            // Marked used as of their own creation: a value stored in the format the column already holds.
            .value("used_at", Expr::col("created_at"))
            .and_where(Expr::col("used_at").is_null())
            .to_owned();
        m.exec_stmt(ended).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("outbox_messages")
                .drop_column("link_prefix")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("outbox_messages")
                .drop_column("link_token_id")
                .to_owned(),
        )
        .await
    }
}
