//! Test support: a fresh, migrated database per test.
//!
//! `databases()` always gives an in-memory SQLite database and, when `GUILDHALL_TEST_POSTGRES` points at a
//! PostgreSQL server, also a brand-new PostgreSQL database created for this test alone, so tests run in
//! parallel without sharing state. Call `TestDb::finish` at the end to drop the PostgreSQL database.
//! The fixtures the tests share (actors, members, paying, the daily job) are in [`fixtures`] and
//! re-exported here.

mod fixtures;
pub use fixtures::*;

use migrations::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

pub struct TestDb {
    pub name: &'static str,
    pub url: String,
    pub db: DatabaseConnection,
    drop: Option<(String, String)>,
}

impl TestDb {
    /// Closes the connection and drops the per-test PostgreSQL database.
    pub async fn finish(self) {
        let _ = self.db.close().await;
        if let Some((admin_url, name)) = self.drop {
            crate::db::drop_database(&admin_url, &name).await;
        }
    }
}

/// True when the PostgreSQL suite must run (CI sets this so a missing server fails instead of skipping).
pub fn postgres_url() -> Option<String> {
    std::env::var("GUILDHALL_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A migrated in-memory SQLite database.
pub async fn sqlite() -> TestDb {
    let url = "sqlite::memory:".to_owned();
    let db = crate::db::connect(&url)
        .await
        .expect("open in-memory sqlite");
    Migrator::up(&db, None).await.expect("migrate sqlite");
    TestDb {
        name: "sqlite",
        url,
        db,
        drop: None,
    }
}

/// A migrated SQLite database in a new file (WAL, a pool of several connections, as in production),
/// for tests about concurrent writers. The file is left in the temporary directory.
pub async fn sqlite_file() -> TestDb {
    let path = std::env::temp_dir().join(format!(
        "guildhall-test-{}.db",
        uuid::Uuid::now_v7().simple()
    ));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = crate::db::connect(&url).await.expect("open sqlite file");
    Migrator::up(&db, None).await.expect("migrate sqlite file");
    TestDb {
        name: "sqlite-file",
        url,
        db,
        drop: None,
    }
}

/// A migrated, brand-new PostgreSQL database, if `GUILDHALL_TEST_POSTGRES` is set.
pub async fn postgres() -> Option<TestDb> {
    let admin_url = postgres_url()?;
    let name = format!("gh_test_{}", uuid::Uuid::now_v7().simple());
    let url = crate::db::create_database(&admin_url, &name)
        .await
        .expect("create test database on GUILDHALL_TEST_POSTGRES");
    let db = crate::db::connect(&url)
        .await
        .expect("connect to test database");
    Migrator::up(&db, None).await.expect("migrate postgres");
    Some(TestDb {
        name: "postgres",
        url,
        db,
        drop: Some((admin_url, name)),
    })
}

/// Every database the test should run on.
pub async fn databases() -> Vec<TestDb> {
    let mut out = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        out.push(pg);
    }
    out
}

pub use crate::db::replace_database;

/// A transport that keeps what it is handed, as a recipient's mailbox would.
#[derive(Debug, Default)]
pub struct Mailbox {
    pub sent: std::sync::Mutex<Vec<crate::entity::outbox_message::Model>>,
}

#[async_trait::async_trait]
impl crate::service::outbox::transport::Transport for Mailbox {
    async fn send(
        &self,
        msg: &crate::entity::outbox_message::Model,
    ) -> Result<(), crate::service::outbox::transport::SendError> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(msg.clone());
        }
        Ok(())
    }
}

/// Delivers every message due, as the outbox worker would (one-time links made at this moment), and
/// answers the messages as their recipients received them, oldest first.
pub async fn deliver_all(db: &DatabaseConnection) -> Vec<crate::entity::outbox_message::Model> {
    let mailbox = Mailbox::default();
    let cfg = crate::service::outbox::delivery::WorkerConfig::default();
    while crate::service::outbox::delivery::deliver_one(db, &mailbox, &cfg)
        .await
        .expect("deliver")
        .is_some()
    {}
    mailbox.sent.into_inner().unwrap_or_default()
}

/// The last message delivered to `to` by [`deliver_all`] (run now): what the recipient reads.
pub async fn received(db: &DatabaseConnection, to: &str) -> crate::entity::outbox_message::Model {
    deliver_all(db)
        .await
        .into_iter()
        .rev()
        .find(|m| m.to_address.eq_ignore_ascii_case(to))
        .unwrap_or_else(|| panic!("no message delivered to {to}"))
}
