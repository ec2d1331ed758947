//! Money around the ledger: office settings (name and address on documents), invoices / credit notes /
//! receipts with their own never-reused numbers, payments (in and out), card checkouts at a provider,
//! webhook events (unique per provider and event id: processed once), requests needing a second person,
//! and settlement figures for reconciliation. Ledger transactions gain the payment method and the date
//! the money moved.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("settings")
                .col(string("key").primary_key())
                .col(text("value"))
                .col(timestamp_with_time_zone_null("updated_at"))
                .col(string_null("updated_by"))
                .to_owned(),
        )
        .await?;
        for (k, v) in [
            ("office_name", "Guildhall Membership Office"),
            ("office_address", "1 Guildhall Yard\nLondon\nEC2V 5AE"),
        ] {
            m.exec_stmt(
                Query::insert()
                    .into_table("settings")
                    .columns(["key", "value"])
                    .values_panic([k.into(), v.into()])
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table("ledger_transactions")
                .add_column(string_null("method"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("ledger_transactions")
                .add_column(date_null("value_date"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_ledger_transactions_value_date",
            "ledger_transactions",
            &["value_date"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("documents")
                .col(pk_uuid("id"))
                .col(string("kind"))
                .col(string_uniq("number"))
                .col(uuid("member_id"))
                .col(date("issued_on"))
                .col(text("description"))
                .col(big_integer("amount_pence"))
                .col(big_integer("outstanding_pence"))
                .col(string("status"))
                .col(uuid_null("related_id"))
                .col(uuid_null("ledger_transaction_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string("created_by"))
                .foreign_key(&mut fk(
                    "fk_documents_member",
                    "documents",
                    "member_id",
                    "members",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_documents_member",
            "documents",
            &["member_id", "issued_on"],
        ))
        .await?;
        m.create_index(index(
            "ix_documents_open",
            "documents",
            &["kind", "status", "issued_on"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("payments")
                .col(pk_uuid("id"))
                .col(uuid("member_id"))
                .col(string("direction"))
                .col(string("method"))
                .col(string_null("provider"))
                .col(string("reference"))
                .col(big_integer("amount_pence"))
                .col(big_integer("refunded_pence"))
                .col(date("received_on"))
                .col(uuid_null("invoice_id"))
                .col(uuid_null("refund_of"))
                .col(uuid_null("receipt_id"))
                .col(uuid("ledger_transaction_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string("created_by"))
                .foreign_key(&mut fk(
                    "fk_payments_member",
                    "payments",
                    "member_id",
                    "members",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_payments_member", "payments", &["member_id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("checkouts")
                .col(pk_uuid("id"))
                .col(uuid("member_id"))
                .col(uuid("invoice_id"))
                .col(string("provider"))
                .col(string_null("provider_ref"))
                .col(big_integer("amount_pence"))
                .col(string("status"))
                .col(integer("failures"))
                .col(text_null("message"))
                .col(uuid_null("payment_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("completed_at"))
                .foreign_key(&mut fk(
                    "fk_checkouts_member",
                    "checkouts",
                    "member_id",
                    "members",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_checkouts_provider_ref")
                .table("checkouts")
                .col("provider")
                .col("provider_ref")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("webhook_events")
                .col(pk_uuid("id"))
                .col(string("provider"))
                .col(string("event_id"))
                .col(string("event_type"))
                .col(string("outcome"))
                .col(text("detail"))
                .col(timestamp_with_time_zone("received_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_webhook_events_provider_event")
                .table("webhook_events")
                .col("provider")
                .col("event_id")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("money_requests")
                .col(pk_uuid("id"))
                .col(string("kind"))
                .col(uuid("member_id"))
                .col(big_integer("amount_pence"))
                .col(text("reason"))
                .col(text("description"))
                .col(uuid_null("invoice_id"))
                .col(uuid_null("payment_id"))
                .col(string("status"))
                .col(uuid("requested_by"))
                .col(string("requested_by_label"))
                .col(timestamp_with_time_zone("requested_at"))
                .col(uuid_null("decided_by"))
                .col(string_null("decided_by_label"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(text_null("decision_note"))
                .col(string_null("result"))
                .col(string_null("provider_status"))
                .col(string_null("provider_ref"))
                .col(text_null("provider_error"))
                .foreign_key(&mut fk(
                    "fk_money_requests_member",
                    "money_requests",
                    "member_id",
                    "members",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_money_requests_status",
            "money_requests",
            &["status", "requested_at"],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table("settlements")
                .col(pk_uuid("id"))
                .col(date("day"))
                .col(string("method"))
                .col(big_integer("amount_pence"))
                .col(string("reference"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string("created_by"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_settlements_day_method")
                .table("settlements")
                .col("day")
                .col("method")
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "settlements",
            "money_requests",
            "webhook_events",
            "checkouts",
            "payments",
            "documents",
            "settings",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.drop_index(
            Index::drop()
                .name("ix_ledger_transactions_value_date")
                .table("ledger_transactions")
                .to_owned(),
        )
        .await?;
        for c in ["value_date", "method"] {
            m.alter_table(
                Table::alter()
                    .table("ledger_transactions")
                    .drop_column(c)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
