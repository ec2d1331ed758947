//! Membership history and the member record: periods (never overwritten), membership events
//! (resignations, removals, suspensions, reinstatements), staff notes, organisation representatives,
//! and the normalised search keys behind staff search and the public register.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("periods")
                .col(pk_uuid("id"))
                .col(uuid("member_id"))
                .col(uuid("category_id"))
                .col(date("start_on"))
                .col(date("end_on"))
                .col(string("paid_state"))
                .col(date_null("paid_on"))
                .col(boolean("mandate_active"))
                .col(string("how_paid"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string("created_by"))
                .foreign_key(&mut fk(
                    "fk_periods_member",
                    "periods",
                    "member_id",
                    "members",
                ))
                .foreign_key(&mut fk(
                    "fk_periods_category",
                    "periods",
                    "category_id",
                    "categories",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_periods_member",
            "periods",
            &["member_id", "start_on"],
        ))
        .await?;
        m.create_index(index("ix_periods_end", "periods", &["end_on"]))
            .await?;

        m.create_table(
            Table::create()
                .table("membership_events")
                .col(pk_uuid("id"))
                .col(uuid("member_id"))
                .col(string("kind"))
                .col(date("on_date"))
                .col(date_null("effective_on"))
                .col(string_null("reason"))
                .col(text_null("detail"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string("created_by"))
                .foreign_key(&mut fk(
                    "fk_membership_events_member",
                    "membership_events",
                    "member_id",
                    "members",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_membership_events_member",
            "membership_events",
            &["member_id", "on_date"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("member_notes")
                .col(pk_uuid("id"))
                .col(uuid("member_id"))
                .col(text("body"))
                .col(uuid_null("author_id"))
                .col(string("author_label"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_member_notes_member",
                    "member_notes",
                    "member_id",
                    "members",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_member_notes_member",
            "member_notes",
            &["member_id", "created_at"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("member_representatives")
                .col(uuid("member_id"))
                .col(uuid("user_id"))
                .col(string_null("job_title"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("member_id").col("user_id"))
                .foreign_key(&mut fk(
                    "fk_member_reps_member",
                    "member_representatives",
                    "member_id",
                    "members",
                ))
                .foreign_key(&mut fk(
                    "fk_member_reps_user",
                    "member_representatives",
                    "user_id",
                    "users",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_member_reps_user",
            "member_representatives",
            &["user_id"],
        ))
        .await?;

        // Normalised search keys, maintained by the service on every write: lower-case, accents folded,
        // postcode without spaces. Prefix searches become index range scans on both databases.
        for col in [
            "search_family",
            "search_given",
            "search_email",
            "search_postcode",
            "search_town",
        ] {
            m.alter_table(
                Table::alter()
                    .table("members")
                    .add_column(string(col).default(""))
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table("members")
                .add_column(timestamp_with_time_zone_null("pseudonymised_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("members")
                .add_column(boolean("stop_all_mail").default(false))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_members_search_family",
            "members",
            &["search_family", "search_given"],
        ))
        .await?;
        m.create_index(index(
            "ix_members_search_given",
            "members",
            &["search_given"],
        ))
        .await?;
        m.create_index(index(
            "ix_members_search_email",
            "members",
            &["search_email"],
        ))
        .await?;
        m.create_index(index(
            "ix_members_search_postcode",
            "members",
            &["search_postcode"],
        ))
        .await?;
        m.create_index(index("ix_members_search_town", "members", &["search_town"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for i in [
            "ix_members_search_family",
            "ix_members_search_given",
            "ix_members_search_email",
            "ix_members_search_postcode",
            "ix_members_search_town",
        ] {
            m.drop_index(Index::drop().name(i).table("members").to_owned())
                .await?;
        }
        for col in [
            "search_family",
            "search_given",
            "search_email",
            "search_postcode",
            "search_town",
            "pseudonymised_at",
            "stop_all_mail",
        ] {
            m.alter_table(Table::alter().table("members").drop_column(col).to_owned())
                .await?;
        }
        for t in [
            "member_representatives",
            "member_notes",
            "membership_events",
            "periods",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
