//! Human sequence numbers (membership numbers, later invoice numbers): sequential, unique, never reused.
//!
//! The counter row is incremented inside the caller's transaction, so a rolled-back operation gives its
//! number back and a committed one keeps it for ever. Concurrent writers serialise on the row (PostgreSQL
//! row lock through `UPDATE … RETURNING`; SQLite's single writer).

use sea_orm::{ConnectionTrait, DbErr, Statement};

pub const MEMBERSHIP_NUMBER: &str = "membership_number";

/// Reserves `count` consecutive numbers and returns the first.
pub async fn take<C: ConnectionTrait>(db: &C, name: &str, count: i64) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            sea_orm::DbBackend::Postgres => {
                "INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING"
            }
            _ => "INSERT INTO counters (name, value) VALUES (?, 0) ON CONFLICT (name) DO NOTHING",
        },
        [name.into()],
    ))
    .await?;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => {
                    "UPDATE counters SET value = value + $1 WHERE name = $2 RETURNING value"
                }
                _ => "UPDATE counters SET value = value + ? WHERE name = ? RETURNING value",
            },
            [count.into(), name.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("counter {name}")))?;
    let last: i64 = row.try_get("", "value")?;
    Ok(last - count + 1)
}
