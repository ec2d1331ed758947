//! The membership office's operations. Each public function is one business operation: it opens one
//! transaction (or runs inside the caller's), applies the rules, writes the rows, the audit entries and the
//! outbox messages, and commits. Errors leave as `AppError`, mapped once here.

pub mod audit;
pub mod categories;
pub mod counters;
pub mod identity;
pub mod members;
pub mod outbox;
pub mod people;
pub mod seed;

use chrono::{DateTime, Utc};

/// The current time. One place, so that jobs can later run "as of" another date.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// A new time-ordered primary key.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
