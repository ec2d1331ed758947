//! The double-entry ledger: the chart of accounts, transactions (each with a unique idempotency key, so
//! a retried request or a webhook delivered twice posts once) and their entries in integer pence. Rows
//! are only ever inserted.

use crate::util::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The chart of accounts as it stood when this step was written: (code, name, kind).
const ACCOUNTS: [(&str, &str, &str); 7] = [
    ("members_receivable", "Members' receivable", "asset"),
    ("bank", "Bank", "asset"),
    ("card_clearing", "Card payments in transit", "asset"),
    ("subscription_income", "Subscription income", "income"),
    (
        "joining_fee_income",
        "Joining and reinstatement fees",
        "income",
    ),
    ("write_offs", "Bad debts written off", "expense"),
    ("refunds_payable", "Refunds to pay", "liability"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("ledger_accounts")
                .col(string("code").primary_key())
                .col(string("name"))
                .col(string("kind"))
                .to_owned(),
        )
        .await?;
        for (code, name, kind) in ACCOUNTS {
            m.exec_stmt(
                Query::insert()
                    .into_table("ledger_accounts")
                    .columns(["code", "name", "kind"])
                    .values_panic([code.into(), name.into(), kind.into()])
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table("ledger_transactions")
                .col(pk_uuid("id"))
                .col(string_uniq("idempotency_key"))
                .col(string("kind"))
                .col(string("cause"))
                .col(uuid_null("member_id"))
                .col(text_null("memo"))
                .col(timestamp_with_time_zone("created_at"))
                .col(string("created_by"))
                .foreign_key(&mut fk(
                    "fk_ledger_transactions_member",
                    "ledger_transactions",
                    "member_id",
                    "members",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_ledger_transactions_member",
            "ledger_transactions",
            &["member_id", "created_at"],
        ))
        .await?;
        m.create_index(index(
            "ix_ledger_transactions_created",
            "ledger_transactions",
            &["created_at"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("ledger_entries")
                .col(pk_uuid("id"))
                .col(uuid("transaction_id"))
                .col(string("account_code"))
                .col(uuid_null("member_id"))
                .col(big_integer("amount_pence"))
                .foreign_key(&mut fk(
                    "fk_ledger_entries_transaction",
                    "ledger_entries",
                    "transaction_id",
                    "ledger_transactions",
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_ledger_entries_account")
                        .from("ledger_entries", "account_code")
                        .to("ledger_accounts", "code")
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(&mut fk(
                    "fk_ledger_entries_member",
                    "ledger_entries",
                    "member_id",
                    "members",
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_ledger_entries_transaction",
            "ledger_entries",
            &["transaction_id"],
        ))
        .await?;
        m.create_index(index(
            "ix_ledger_entries_member",
            "ledger_entries",
            &["member_id", "account_code"],
        ))
        .await?;
        m.create_index(index(
            "ix_ledger_entries_account",
            "ledger_entries",
            &["account_code"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["ledger_entries", "ledger_transactions", "ledger_accounts"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
