//! Drops the indexes on the raw name, e-mail and postcode columns of members: every lookup goes through
//! the normalised search keys (indexed since the membership step), so these only cost time on each write
//! and in bulk loads.

use crate::util::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const DROPPED: [(&str, &[&str]); 3] = [
    ("ix_members_family_name", &["family_name", "given_name"]),
    ("ix_members_email", &["email"]),
    ("ix_members_postcode", &["postcode"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in DROPPED {
            m.drop_index(Index::drop().name(name).table("members").to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, cols) in DROPPED {
            let cols: Vec<&'static str> = cols.to_vec();
            m.create_index(index(name, "members", &cols)).await?;
        }
        Ok(())
    }
}
