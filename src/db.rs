//! Connecting to the database: the embedded SQLite file by default, PostgreSQL when `DATABASE_URL` says so.
//!
//! SQLite runs in WAL mode with `synchronous=FULL` (a committed payment survives a power cut) and foreign
//! keys on. An in-memory SQLite database (tests) uses a single connection, since each connection to
//! `:memory:` would otherwise see a database of its own.

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use std::time::Duration;

/// The URL used when `DATABASE_URL` is unset: the file `guildhall.db` in the working directory.
pub const DEFAULT_URL: &str = "sqlite://guildhall.db?mode=rwc";

/// SQLite's page cache per connection, as `PRAGMA cache_size` takes it (negative: KiB): 64 MB.
pub const SQLITE_CACHE_SIZE: &str = "-65536";

/// Opens a pool on `url` with the settings Guildhall relies on.
#[tracing::instrument]
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        opts.max_connections(if in_memory { 1 } else { 8 })
            .min_connections(1)
            .map_sqlx_sqlite_opts(move |o| {
                // A 64 MB page cache (the default is 2 MB): member search and bulk loads touch
                // several indexes over hundreds of thousands of rows.
                let o = o
                    .foreign_keys(true)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .pragma("cache_size", SQLITE_CACHE_SIZE)
                    .pragma("temp_store", "memory");
                if in_memory {
                    o
                } else {
                    o.journal_mode(SqliteJournalMode::Wal)
                }
            });
        // An in-memory database lives as long as its connection: never let the pool close it.
        if in_memory {
            opts.idle_timeout(Duration::from_secs(u64::from(u32::MAX)))
                .max_lifetime(None);
        }
    } else {
        opts.max_connections(16).min_connections(1);
    }
    Database::connect(opts).await
}

/// True when `db` is PostgreSQL (which allows several app nodes, `SKIP LOCKED`, `LISTEN/NOTIFY`).
pub fn is_postgres(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// `postgres://u@h:5432/x?opts` with the database name replaced.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Creates the PostgreSQL database `name` on the server `admin_url` names and returns its URL.
pub async fn create_database(admin_url: &str, name: &str) -> Result<String, DbErr> {
    let admin = connect(admin_url).await?;
    let created = admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await;
    let _ = admin.close().await;
    created?;
    Ok(replace_database(admin_url, name))
}

/// Drops the PostgreSQL database `name` (ending its connections); errors are ignored.
pub async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(admin) = connect(admin_url).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
        let _ = admin.close().await;
    }
}

/// A secondary index dropped for a bulk load: its name and the statement that creates it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DroppedIndex {
    pub name: String,
    pub create_sql: String,
}

/// Drops the secondary indexes of `table` (not the primary key or indexes behind constraints) and
/// returns how to create them again, read from the database's own catalogue. Use inside a
/// transaction with [`recreate_indexes`], so a failed load leaves the indexes as they were.
pub async fn drop_secondary_indexes<C: ConnectionTrait>(
    db: &C,
    table: &str,
) -> Result<Vec<DroppedIndex>, DbErr> {
    use sea_orm::{Statement, Value};
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => {
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name"
        }
        DbBackend::Postgres => {
            "SELECT i.indexname AS name, i.indexdef AS sql FROM pg_indexes i \
             WHERE i.schemaname = current_schema() AND i.tablename = $1 \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) ORDER BY i.indexname"
        }
        _ => return Ok(Vec::new()),
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [Value::from(table.to_owned())],
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let name: String = r.try_get("", "name")?;
        let create_sql: String = r.try_get("", "sql")?;
        db.execute_unprepared(&format!("DROP INDEX \"{}\"", name.replace('"', "")))
            .await?;
        out.push(DroppedIndex { name, create_sql });
    }
    Ok(out)
}

/// Creates again the indexes [`drop_secondary_indexes`] dropped.
pub async fn recreate_indexes<C: ConnectionTrait>(
    db: &C,
    indexes: &[DroppedIndex],
) -> Result<(), DbErr> {
    for i in indexes {
        db.execute_unprepared(&i.create_sql).await?;
    }
    Ok(())
}
