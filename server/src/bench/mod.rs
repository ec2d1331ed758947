//! `guildhall bench <what>`: each benchmark seeds its own data into a fresh database (a new SQLite file,
//! or a new PostgreSQL database on the server `DATABASE_URL` names), runs, prints one figure a line as
//! `name value unit`, drops what it created, and exits non-zero if an invariant it checks fails.
//!
//! One file per benchmark; this module holds the throw-away database and the measures they share.

mod dashboard;
mod events;
mod ledger;
mod renewals;
mod search;

pub use dashboard::dashboard;
pub use events::events;
pub use ledger::ledger;
pub use renewals::{renewals, seed_due};
pub use search::search;

use guildhall::domain::{Actor, ActorKind, Role};
use migrations::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use std::time::Duration;

/// A database made for one benchmark run, removed afterwards.
pub struct BenchDb {
    pub db: DatabaseConnection,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl BenchDb {
    pub async fn fresh(database_url: &str) -> anyhow::Result<Self> {
        if database_url.starts_with("postgres") {
            let name = format!("guildhall_bench_{}", uuid::Uuid::now_v7().simple());
            let url = guildhall::db::create_database(database_url, &name).await?;
            let db = guildhall::db::connect(&url).await?;
            Migrator::up(&db, None).await?;
            Ok(Self {
                db,
                cleanup: Cleanup::Postgres {
                    admin_url: database_url.to_owned(),
                    name,
                },
            })
        } else {
            let path = std::env::temp_dir().join(format!(
                "guildhall-bench-{}.db",
                uuid::Uuid::now_v7().simple()
            ));
            let db =
                guildhall::db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await?;
            Migrator::up(&db, None).await?;
            Ok(Self {
                db,
                cleanup: Cleanup::File(path),
            })
        }
    }

    pub async fn drop_it(self) {
        let _ = self.db.close().await;
        match self.cleanup {
            Cleanup::File(p) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                guildhall::db::drop_database(&admin_url, &name).await
            }
        }
    }
}

/// The p-th percentile (0–100) of sorted durations, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn staff_actor() -> Actor {
    Actor {
        kind: ActorKind::Staff,
        user_id: None,
        label: "bench".into(),
        roles: vec![Role::Officer],
        request_id: None,
    }
}

/// The process's peak resident memory so far (Linux `VmHWM`), in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}
