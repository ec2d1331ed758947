//! The membership office's operations. Each public function is one business operation: it opens one
//! transaction (or runs inside the caller's), applies the rules, writes the rows, the audit entries and the
//! outbox messages, and commits. Errors leave as `AppError`, mapped once here.

pub mod audit;
pub mod categories;
pub mod counters;
pub mod identity;
pub mod ledger;
pub mod members;
pub mod money;
pub mod outbox;
pub mod people;
pub mod renewals;
pub mod seed;

use chrono::{DateTime, Utc};
use sea_orm::{DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait};

/// Opens the one transaction of a business operation. On SQLite it is `BEGIN IMMEDIATE`: the write
/// lock is taken at the start (waiting up to the busy timeout for another writer) rather than when the
/// first write comes after some reads, which SQLite would refuse at once with "database is locked" if
/// another connection had written in between. PostgreSQL ignores the option.
pub async fn begin<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// The current time. One place, so that jobs can later run "as of" another date.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// A new time-ordered primary key.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
