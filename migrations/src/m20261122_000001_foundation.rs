//! The foundation: accounts, roles, sessions, one-time tokens, the audit trail, the e-mail outbox,
//! membership categories, members and the counters behind human sequence numbers.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn tz(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone(col)
}

fn tz_null(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone_null(col)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("users")
                .col(pk_uuid("id"))
                .col(string("email"))
                .col(string_uniq("email_key"))
                .col(string("password_hash"))
                .col(string("given_name"))
                .col(string("family_name"))
                .col(string("kind"))
                .col(tz_null("email_verified_at"))
                .col(tz_null("disabled_at"))
                .col(tz("created_at"))
                .col(tz("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("user_roles")
                .col(uuid("user_id"))
                .col(string("role"))
                .col(tz("granted_at"))
                .primary_key(Index::create().col("user_id").col("role"))
                .foreign_key(
                    &mut fk("fk_user_roles_user", "user_roles", "user_id", "users")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sessions")
                .col(string("id").primary_key())
                .col(uuid_null("user_id"))
                .col(text("data"))
                .col(tz("created_at"))
                .col(tz("expires_at"))
                .foreign_key(
                    &mut fk("fk_sessions_user", "sessions", "user_id", "users")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_sessions_expires_at", "sessions", &["expires_at"]))
            .await?;
        m.create_index(index("ix_sessions_user", "sessions", &["user_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("auth_tokens")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(string("purpose"))
                .col(string_uniq("token_hash"))
                .col(string_null("new_email"))
                .col(tz("created_at"))
                .col(tz("expires_at"))
                .col(tz_null("used_at"))
                .foreign_key(
                    &mut fk("fk_auth_tokens_user", "auth_tokens", "user_id", "users")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_auth_tokens_user",
            "auth_tokens",
            &["user_id", "purpose"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("audit_log")
                .col(pk_uuid("id"))
                .col(tz("at"))
                .col(string("actor_kind"))
                .col(uuid_null("actor_id"))
                .col(string("actor_label"))
                .col(string("entity"))
                .col(string("entity_id"))
                .col(string("action"))
                .col(json_binary_null("before"))
                .col(json_binary_null("after"))
                .col(string_null("request_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_audit_entity",
            "audit_log",
            &["entity", "entity_id", "at"],
        ))
        .await?;
        m.create_index(index("ix_audit_actor", "audit_log", &["actor_id", "at"]))
            .await?;
        m.create_index(index("ix_audit_at", "audit_log", &["at"]))
            .await?;

        m.create_table(
            Table::create()
                .table("outbox_messages")
                .col(pk_uuid("id"))
                .col(string_uniq("message_id"))
                .col(string("template"))
                .col(string("to_address"))
                .col(string_null("to_name"))
                .col(string("subject"))
                .col(text("body_text"))
                .col(text("body_html"))
                .col(uuid_null("user_id"))
                .col(uuid_null("member_id"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(tz("next_attempt_at"))
                .col(tz_null("claimed_at"))
                .col(string_null("claimed_by"))
                .col(text_null("last_error"))
                .col(tz_null("sent_at"))
                .col(tz("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_outbox_due",
            "outbox_messages",
            &["status", "next_attempt_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_outbox_to",
            "outbox_messages",
            &["to_address", "created_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_outbox_created",
            "outbox_messages",
            &["created_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_outbox_member",
            "outbox_messages",
            &["member_id", "created_at"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("counters")
                .col(string("name").primary_key())
                .col(big_integer("value"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("categories")
                .col(pk_uuid("id"))
                .col(string_uniq("code"))
                .col(string("name"))
                .col(text("description"))
                .col(string("audience"))
                .col(big_integer("annual_fee_pence"))
                .col(big_integer("joining_fee_pence"))
                .col(big_integer("reinstatement_fee_pence"))
                .col(small_integer("instalments"))
                .col(boolean("needs_declaration"))
                .col(integer("grace_days"))
                .col(string("renewal_basis"))
                .col(small_integer_null("fixed_renewal_month"))
                .col(small_integer_null("fixed_renewal_day"))
                .col(boolean("on_register"))
                .col(boolean("organisational"))
                .col(integer("sort_order"))
                .col(tz_null("retired_at"))
                .col(tz("created_at"))
                .col(tz("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("members")
                .col(pk_uuid("id"))
                .col(big_integer_uniq("membership_number"))
                .col(string("kind"))
                .col(uuid_null("user_id"))
                .col(string_null("title"))
                .col(string("given_name"))
                .col(string("family_name"))
                .col(string_null("preferred_name"))
                .col(string_null("organisation_name"))
                .col(string("email"))
                .col(string_null("phone"))
                .col(string("address_line1"))
                .col(string_null("address_line2"))
                .col(string("town"))
                .col(string_null("county"))
                .col(string_null("postcode"))
                .col(string("country"))
                .col(uuid("category_id"))
                .col(date("joined_on"))
                .col(boolean("journal_by_post"))
                .col(boolean("email_news"))
                .col(boolean("register_consent"))
                .col(tz("created_at"))
                .col(tz("updated_at"))
                .foreign_key(&mut fk("fk_members_user", "members", "user_id", "users"))
                .foreign_key(&mut fk(
                    "fk_members_category",
                    "members",
                    "category_id",
                    "categories",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("ux_members_user", "members", &["user_id"])
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_members_family_name",
            "members",
            &["family_name", "given_name"],
        ))
        .await?;
        m.create_index(index("ix_members_postcode", "members", &["postcode"]))
            .await?;
        m.create_index(index("ix_members_email", "members", &["email"]))
            .await?;
        m.create_index(index("ix_members_category", "members", &["category_id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "members",
            "categories",
            "counters",
            "outbox_messages",
            "audit_log",
            "auth_tokens",
            "sessions",
            "user_roles",
            "users",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
