//! The membership office's operations. Each public function is one business operation: it opens one
//! transaction (or runs inside the caller's), applies the rules, writes the rows, the audit entries and the
//! outbox messages, and commits. Errors leave as `AppError`, mapped once here.

pub mod audit;
pub mod categories;
pub mod counters;
pub mod identity;
pub mod jobs;
pub mod ledger;
pub mod lifecycle;
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

/// Seconds added to the real clock by [`travel_to`].
static CLOCK_OFFSET_SECS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// The current time: the real clock, unless [`travel_to`] moved it. One place, so that a job run "as of"
/// another day dates everything it writes on that day.
pub fn now() -> DateTime<Utc> {
    Utc::now()
        + chrono::Duration::seconds(CLOCK_OFFSET_SECS.load(std::sync::atomic::Ordering::Relaxed))
}

/// Moves this process's clock so that [`now`] falls on `day` (London), at the present time of day. For
/// the command line's `--as-of` (a short-lived process) and time-travel tests; the server never calls
/// it.
pub fn travel_to(day: chrono::NaiveDate) {
    let real = Utc::now();
    let days = (day - crate::domain::dates::london_date(real)).num_days();
    CLOCK_OFFSET_SECS.store(days * 86_400, std::sync::atomic::Ordering::Relaxed);
}

/// Puts the clock back to the real time after [`travel_to`].
pub fn travel_home() {
    CLOCK_OFFSET_SECS.store(0, std::sync::atomic::Ordering::Relaxed);
}

/// A new time-ordered primary key.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
