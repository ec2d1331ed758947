//! The membership lifecycle around renewals: a renewal's state (open, paid, cancelled), kind (renewal or
//! reinstatement), the member's declaration and the period its payment created; notices (reminders,
//! grace and lapse messages, auto-renew notices) each sent once per member and key; background jobs with
//! their progress; and cards saved for auto-renewal.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            string("status").default("open").to_owned(),
            string("kind").default("renewal").to_owned(),
            text_null("declaration").to_owned(),
            timestamp_with_time_zone_null("declared_at").to_owned(),
            uuid_null("period_id").to_owned(),
            timestamp_with_time_zone_null("closed_at").to_owned(),
            integer("charge_attempts").default(0).to_owned(),
            date_null("next_charge_on").to_owned(),
        ] {
            m.alter_table(Table::alter().table("renewals").add_column(col).to_owned())
                .await?;
        }
        m.create_index(index("ix_renewals_status", "renewals", &["status"]))
            .await?;
        m.create_index(index("ix_renewals_invoice", "renewals", &["invoice_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("notices")
                .col(pk_uuid("id"))
                .col(uuid("member_id"))
                .col(string("key"))
                .col(date("sent_on"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_notices_member",
                    "notices",
                    "member_id",
                    "members",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_notices_member_key")
                .table("notices")
                .col("member_id")
                .col("key")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("jobs")
                .col(pk_uuid("id"))
                .col(string("kind"))
                .col(string("status"))
                .col(date("as_of"))
                .col(big_integer("done").default(0))
                .col(big_integer("total").default(0))
                .col(text_null("result"))
                .col(text_null("error"))
                .col(string("started_by"))
                .col(timestamp_with_time_zone("started_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_jobs_started", "jobs", &["started_at"]))
            .await?;

        m.create_table(
            Table::create()
                .table("saved_cards")
                .col(pk_uuid("id"))
                .col(uuid("member_id"))
                .col(string("provider"))
                .col(string("token"))
                .col(string("label"))
                .col(boolean("auto_renew"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "fk_saved_cards_member",
                    "saved_cards",
                    "member_id",
                    "members",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_saved_cards_member")
                .table("saved_cards")
                .col("member_id")
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["saved_cards", "jobs", "notices"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        for i in ["ix_renewals_status", "ix_renewals_invoice"] {
            m.drop_index(Index::drop().name(i).table("renewals").to_owned())
                .await?;
        }
        for c in [
            "status",
            "kind",
            "declaration",
            "declared_at",
            "period_id",
            "closed_at",
            "charge_attempts",
            "next_charge_on",
        ] {
            m.alter_table(Table::alter().table("renewals").drop_column(c).to_owned())
                .await?;
        }
        Ok(())
    }
}
