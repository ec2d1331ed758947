//! Posting to the double-entry ledger, exactly once, and reading balances back.
//!
//! `post` runs inside the caller's transaction (the business operation that caused it: an invoice, a
//! webhook, an authorised refund), so the ledger changes exactly when that operation commits. The
//! idempotency key is unique in the database; a second post with the same key writes nothing and answers
//! with the transaction already there, also when two posts race (`INSERT … ON CONFLICT DO NOTHING`, which
//! neither SQLite nor PostgreSQL turns into an error that would end the caller's transaction).

use crate::domain::ledger::{check, Account, Entry};
use crate::domain::money::Money;
use crate::domain::{Actor, AppError};
use crate::entity::{ledger_entry, ledger_transaction};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

const TOTAL: &str = "CAST(SUM(amount_pence) AS BIGINT)";

/// A transaction to post.
#[derive(Clone, Debug)]
pub struct NewTransaction {
    pub idempotency_key: String,
    pub kind: &'static str,
    pub cause: String,
    pub member_id: Option<Uuid>,
    pub memo: Option<String>,
    pub entries: Vec<Entry<Uuid>>,
    /// How the money moved (payments and refunds).
    pub method: Option<String>,
    /// The day the money moved; today in London when not given.
    pub value_date: Option<chrono::NaiveDate>,
}

/// What `post` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Posted {
    /// Written now.
    New(Uuid),
    /// A transaction with this idempotency key was already there; nothing was written.
    Duplicate(Uuid),
}

impl Posted {
    pub fn id(self) -> Uuid {
        match self {
            Posted::New(id) | Posted::Duplicate(id) => id,
        }
    }
}

/// Posts `t` in the caller's transaction, once per idempotency key.
pub async fn post<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    t: NewTransaction,
) -> Result<Posted, AppError> {
    check(&t.entries).map_err(|e| AppError::Conflict(e.to_string()))?;
    let key = t.idempotency_key.trim().to_owned();
    if key.is_empty() || key.len() > 200 {
        return Err(AppError::internal(
            "a ledger transaction needs an idempotency key",
        ));
    }
    let id = crate::service::new_id();
    let row = ledger_transaction::ActiveModel {
        id: Set(id),
        idempotency_key: Set(key.clone()),
        kind: Set(t.kind.to_owned()),
        cause: Set(t.cause),
        member_id: Set(t.member_id),
        memo: Set(t.memo),
        created_at: Set(crate::service::now()),
        created_by: Set(actor.label.clone()),
        method: Set(t.method),
        value_date: Set(Some(t.value_date.unwrap_or_else(crate::service::today))),
    };
    let inserted = ledger_transaction::Entity::insert(row)
        .on_conflict(
            OnConflict::column(ledger_transaction::Column::IdempotencyKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 0 {
        let existing = ledger_transaction::Entity::find()
            .filter(ledger_transaction::Column::IdempotencyKey.eq(key))
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal("idempotency key conflicted but is not there"))?;
        return Ok(Posted::Duplicate(existing.id));
    }
    let entries = t.entries.into_iter().map(|e| ledger_entry::ActiveModel {
        id: Set(crate::service::new_id()),
        transaction_id: Set(id),
        account_code: Set(e.account.code().to_owned()),
        member_id: Set(e.member),
        amount_pence: Set(e.amount.pence()),
    });
    ledger_entry::Entity::insert_many(entries)
        .exec_without_returning(db)
        .await?;
    Ok(Posted::New(id))
}

async fn sum<C: ConnectionTrait>(
    db: &C,
    account: Account,
    member: Option<Uuid>,
) -> Result<Money, AppError> {
    // SUM over a bigint is numeric on PostgreSQL: cast, so both databases answer an integer.
    let mut q = ledger_entry::Entity::find()
        .select_only()
        .column_as(Expr::cust(TOTAL), "total")
        .filter(ledger_entry::Column::AccountCode.eq(account.code()));
    if let Some(m) = member {
        q = q.filter(ledger_entry::Column::MemberId.eq(m));
    }
    let total: Option<i64> = q.into_tuple::<Option<i64>>().one(db).await?.flatten();
    Ok(Money::from_pence(total.unwrap_or(0)))
}

/// What the member owes (positive) or is owed (negative): the sum of their receivable entries.
pub async fn member_balance<C: ConnectionTrait>(
    db: &C,
    member_id: Uuid,
) -> Result<Money, AppError> {
    sum(db, Account::MembersReceivable, Some(member_id)).await
}

/// The balance of one account over all its entries.
pub async fn account_balance<C: ConnectionTrait>(
    db: &C,
    account: Account,
) -> Result<Money, AppError> {
    sum(db, account, None).await
}

/// A member's transactions, newest first, each with the amount it moved on their balance.
pub async fn member_history<C: ConnectionTrait>(
    db: &C,
    member_id: Uuid,
    limit: u64,
) -> Result<Vec<(ledger_transaction::Model, Money)>, AppError> {
    let txns = ledger_transaction::Entity::find()
        .filter(ledger_transaction::Column::MemberId.eq(member_id))
        .order_by_desc(ledger_transaction::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?;
    if txns.is_empty() {
        return Ok(Vec::new());
    }
    let entries = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::TransactionId.is_in(txns.iter().map(|t| t.id)))
        .filter(ledger_entry::Column::AccountCode.eq(Account::MembersReceivable.code()))
        .filter(ledger_entry::Column::MemberId.eq(member_id))
        .all(db)
        .await?;
    Ok(txns
        .into_iter()
        .map(|t| {
            let moved = entries
                .iter()
                .filter(|e| e.transaction_id == t.id)
                .map(|e| e.amount_pence)
                .sum::<i64>();
            (t, Money::from_pence(moved))
        })
        .collect())
}

/// One random everyday operation for `member`, as the ledger's tests and benchmark draw them: its kind,
/// how much it moves the member's balance (in pence), and its entries.
pub fn random_operation<R: rand::Rng>(
    rng: &mut R,
    member: Uuid,
) -> (&'static str, i64, Vec<Entry<Uuid>>) {
    use crate::domain::ledger::postings;
    let amount = Money::from_pence(rng.gen_range(1..100_000));
    match rng.gen_range(0..6) {
        0 => {
            let joining = Money::from_pence(rng.gen_range(0..5_000));
            (
                "invoice",
                amount.pence() + joining.pence(),
                postings::invoice(member, amount, joining),
            )
        }
        1 => (
            "card_payment",
            -amount.pence(),
            postings::card_payment(member, amount),
        ),
        2 => (
            "bank_payment",
            -amount.pence(),
            postings::bank_payment(member, amount),
        ),
        3 => (
            "credit_note",
            -amount.pence(),
            postings::credit_note(member, amount),
        ),
        4 => (
            "write_off",
            -amount.pence(),
            postings::write_off(member, amount),
        ),
        _ => (
            "refund",
            amount.pence(),
            postings::refund(member, amount, rng.gen_bool(0.5)),
        ),
    }
}

/// Whether every transaction's entries sum to zero (the ledger's invariant), with the first that does
/// not. For checks and the ledger benchmark.
pub async fn unbalanced_transactions<C: ConnectionTrait>(db: &C) -> Result<Vec<Uuid>, AppError> {
    let rows: Vec<(Uuid, Option<i64>)> = ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::TransactionId)
        .column_as(Expr::cust(TOTAL), "total")
        .group_by(ledger_entry::Column::TransactionId)
        .into_tuple::<(Uuid, Option<i64>)>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, t)| t.unwrap_or(0) != 0)
        .map(|(id, _)| id)
        .collect())
}
