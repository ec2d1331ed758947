//! Monthly instalment plans: a renewal paid in 10 or 12 monthly card payments, collected off-session
//! from the member's saved card, each instalment invoiced when it falls due. `saved_cards.monthly` says
//! the member pays monthly, so their next renewal becomes a plan too.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("instalment_plans")
                .col(pk_uuid("id"))
                .col(uuid("member_id"))
                .col(uuid("renewal_id"))
                .col(small_integer("count"))
                .col(big_integer("total_pence"))
                .col(big_integer("first_pence"))
                .col(big_integer("regular_pence"))
                .col(date("starts_on"))
                .col(integer("next_number"))
                .col(date_null("next_due_on"))
                .col(uuid_null("current_invoice_id"))
                .col(integer("charge_attempts").default(0))
                .col(string("status"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "fk_instalment_plans_member",
                    "instalment_plans",
                    "member_id",
                    "members",
                ))
                .foreign_key(&mut fk(
                    "fk_instalment_plans_renewal",
                    "instalment_plans",
                    "renewal_id",
                    "renewals",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_instalment_plans_renewal",
            "instalment_plans",
            &["renewal_id"],
        ))
        .await?;
        m.create_index(index(
            "ix_instalment_plans_member",
            "instalment_plans",
            &["member_id"],
        ))
        .await?;
        m.create_index(index(
            "ix_instalment_plans_status",
            "instalment_plans",
            &["status"],
        ))
        .await?;
        m.alter_table(
            Table::alter()
                .table("saved_cards")
                .add_column(boolean("monthly").default(false))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("saved_cards")
                .drop_column("monthly")
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table("instalment_plans").to_owned())
            .await?;
        Ok(())
    }
}
