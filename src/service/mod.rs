//! The membership office's operations. Each public function is one business operation: it opens one
//! transaction (or runs inside the caller's), applies the rules, writes the rows, the audit entries and the
//! outbox messages, and commits. Errors leave as `AppError`, mapped once here.

pub mod access;
pub mod audit;
pub mod categories;
pub mod counters;
pub mod dashboard;
pub mod events;
pub mod exports;
pub mod history;
pub mod identity;
pub mod jobs;
pub mod ledger;
pub mod members;
pub mod mfa;
pub mod money;
pub mod outbox;
pub mod payments;
pub mod people;
pub mod renewals;
pub mod seed;
pub mod settings;
pub mod staff;
pub mod summary;
pub mod tokens;
pub mod trends;

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

/// Today in London: the one date that pages, services and jobs all use (a day starts at midnight
/// London time, BST included, whatever the server's own time zone).
pub fn today() -> chrono::NaiveDate {
    crate::domain::dates::london_date(now())
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

/// Inserts `rows` (all with the same columns set) as multi-row INSERTs with positional placeholders
/// (`?` on SQLite, `$n` on PostgreSQL), in statements of up to 30,000 values (65,000 on PostgreSQL). For bulk jobs: sea-orm's
/// `insert_many` numbers its SQLite placeholders, which SQLite resolves slowly in a long statement, so
/// the renewal run had to use statements of 50 rows; here a statement carries hundreds.
pub async fn insert_rows<A, C>(db: &C, rows: Vec<A>) -> Result<(), DbErr>
where
    A: sea_orm::ActiveModelTrait,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::{ActiveValue, DbBackend, EntityName, Iterable, Statement};
    use sea_orm::{EntityTrait, IdenStatic};
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let backend = db.get_database_backend();
    let columns: Vec<<A::Entity as EntityTrait>::Column> =
        <<A::Entity as EntityTrait>::Column as Iterable>::iter()
            .filter(|c| !matches!(first.get(*c), ActiveValue::NotSet))
            .collect();
    if columns.is_empty() {
        return Ok(());
    }
    let table = <A::Entity as Default>::default().table_name().to_owned();
    let names = columns
        .iter()
        .map(|c| format!("\"{}\"", IdenStatic::as_str(c)))
        .collect::<Vec<_>>()
        .join(", ");
    // SQLite allows 32,766 values in a statement, PostgreSQL 65,535.
    let max_values = match backend {
        DbBackend::Postgres => 65_000,
        _ => 30_000,
    };
    let per_statement = (max_values / columns.len()).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = format!("INSERT INTO \"{table}\" ({names}) VALUES ");
        let mut values: Vec<sea_orm::Value> = Vec::new();
        for (i, row) in rows.by_ref().take(per_statement).enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for (j, c) in columns.iter().enumerate() {
                let v = match row.get(*c) {
                    ActiveValue::Set(v) | ActiveValue::Unchanged(v) => v,
                    ActiveValue::NotSet => {
                        return Err(DbErr::Custom(format!(
                        "insert_rows: a row of {table} leaves a column unset that the first sets"
                    )))
                    }
                };
                values.push(v);
                if j > 0 {
                    sql.push(',');
                }
                match backend {
                    DbBackend::Postgres => {
                        sql.push('$');
                        sql.push_str(&values.len().to_string());
                    }
                    _ => sql.push('?'),
                }
            }
            sql.push(')');
        }
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

/// Adds to kept totals in `table`: each row's `n` is inserted with its key values (in the columns
/// `keys`) or added to the `total` of the row already there with those keys, as multi-row
/// `INSERT … ON CONFLICT … DO UPDATE` statements of 500 rows, in the order given (give them in key
/// order, so concurrent changes lock rows in one order).
pub(crate) async fn add_to_totals<C: sea_orm::ConnectionTrait>(
    db: &C,
    table: &str,
    keys: &[&str],
    total: &str,
    rows: Vec<(Vec<sea_orm::Value>, i64)>,
) -> Result<(), DbErr> {
    use sea_orm::{DbBackend, Statement};
    let backend = db.get_database_backend();
    let columns = keys.join(", ");
    for chunk in rows.chunks(500) {
        let mut sql = format!("INSERT INTO {table} ({columns}, {total}) VALUES ");
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * (keys.len() + 1));
        for (i, (key, n)) in chunk.iter().enumerate() {
            sql.push_str(if i > 0 { ", (" } else { "(" });
            for (j, v) in key
                .iter()
                .cloned()
                .chain([sea_orm::Value::from(*n)])
                .enumerate()
            {
                values.push(v);
                if j > 0 {
                    sql.push_str(", ");
                }
                match backend {
                    DbBackend::Postgres => sql.push_str(&format!("${}", values.len())),
                    _ => sql.push('?'),
                }
            }
            sql.push(')');
        }
        sql.push_str(&format!(
            " ON CONFLICT ({columns}) DO UPDATE SET {total} = {table}.{total} + excluded.{total}"
        ));
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}
