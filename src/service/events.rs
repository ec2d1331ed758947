//! Domain events for live pages. After a business operation commits, its service publishes what
//! changed ([`publish`]): in-process through a broadcast channel that every open staff stream
//! (`/staff/events`) subscribes to, and on PostgreSQL through `NOTIFY`, which every app node hears with
//! `LISTEN` ([`listen`]) and fans out to its own streams, so a change made through one node reaches a
//! dashboard open on another. An event says only which area changed; pages fetch the figures again.
//!
//! On PostgreSQL a node does not also send its own events in-process: it hears them back through
//! `LISTEN` like every other node, so each stream sees each event once.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// The PostgreSQL channel events travel on.
pub const CHANNEL: &str = "guildhall_events";

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Members joined, renewed, lapsed, resigned, were removed or changed.
    Members,
    /// Money in or out: payments, refunds, invoices, credit notes.
    Payments,
    /// A request needing a second person was raised or decided.
    Requests,
    /// An e-mail was queued, sent or failed.
    Outbox,
    /// A job started, moved on or finished.
    Jobs,
    /// Something was missed (a stream fell behind, or a node lost its `LISTEN` connection): fetch
    /// everything again.
    Resync,
}

impl Topic {
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Members => "members",
            Topic::Payments => "payments",
            Topic::Requests => "requests",
            Topic::Outbox => "outbox",
            Topic::Jobs => "jobs",
            Topic::Resync => "resync",
        }
    }

    pub fn parse(s: &str) -> Option<Topic> {
        Some(match s {
            "members" => Topic::Members,
            "payments" => Topic::Payments,
            "requests" => Topic::Requests,
            "outbox" => Topic::Outbox,
            "jobs" => Topic::Jobs,
            "resync" => Topic::Resync,
            _ => return None,
        })
    }
}

/// An event as streams see it: a number that grows on this node, and the topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub seq: u64,
    pub topic: Topic,
}

struct Bus {
    tx: broadcast::Sender<Change>,
    seq: AtomicU64,
}

fn bus() -> &'static Bus {
    static BUS: OnceLock<Bus> = OnceLock::new();
    BUS.get_or_init(|| Bus {
        tx: broadcast::channel(1024).0,
        seq: AtomicU64::new(0),
    })
}

/// Hands `topic` to this node's streams.
fn fan_out(topic: Topic) {
    let b = bus();
    let seq = b.seq.fetch_add(1, Ordering::Relaxed) + 1;
    // No subscriber is not an error: nobody is watching.
    let _ = b.tx.send(Change { seq, topic });
}

fn stopping_tx() -> &'static watch::Sender<bool> {
    static STOP: OnceLock<watch::Sender<bool>> = OnceLock::new();
    STOP.get_or_init(|| watch::channel(false).0)
}

/// Turns true when the server begins to shut down: open streams end, so the shutdown need not wait
/// for them.
pub fn stopping() -> watch::Receiver<bool> {
    stopping_tx().subscribe()
}

/// The server is shutting down: ends every open stream.
pub fn shut_down() {
    stopping_tx().send_replace(true);
}

/// A stream's subscription to this node's events.
pub fn subscribe() -> broadcast::Receiver<Change> {
    bus().tx.subscribe()
}

/// The number of the last event handed out on this node.
pub fn last_seq() -> u64 {
    bus().seq.load(Ordering::Relaxed)
}

/// Publishes that `topic` changed. Call it after the operation's commit. On PostgreSQL the event goes
/// out through `NOTIFY` (every node, this one included, hears it); elsewhere, to this node's streams.
/// A failure to notify is logged, never the caller's error: the change itself is committed.
pub async fn publish<C: ConnectionTrait>(db: &C, topic: Topic) {
    if db.get_database_backend() == DbBackend::Postgres {
        let sent = db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), topic.as_str().into()],
            ))
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "NOTIFY failed; the change is seen on this node only");
            fan_out(topic);
        }
    } else {
        fan_out(topic);
    }
}

/// On PostgreSQL, listens for every node's events and hands them to this node's streams until `stop`
/// turns true. A lost connection is made again (after 2 s); events sent meanwhile are unknown, so a
/// `Resync` follows each (re)connection. Does nothing on SQLite (one node).
pub fn listen(db: &DatabaseConnection, mut stop: watch::Receiver<bool>) {
    if !crate::db::is_postgres(db) {
        return;
    }
    let pool = db.get_postgres_connection_pool().clone();
    tokio::spawn(async move {
        use sea_orm::sqlx::postgres::PgListener;
        use sea_orm::sqlx::Error as SqlxError;
        let mut first = true;
        'outer: while !*stop.borrow() {
            match PgListener::connect_with(&pool).await {
                Ok(mut l) => match l.listen(CHANNEL).await {
                    Ok(()) => {
                        if !first {
                            fan_out(Topic::Resync);
                        }
                        first = false;
                        loop {
                            tokio::select! {
                                _ = stop.changed() => break 'outer,
                                r = l.try_recv() => match r {
                                    Ok(Some(n)) => {
                                        if let Some(t) = Topic::parse(n.payload()) {
                                            fan_out(t);
                                        }
                                    }
                                    // Reconnected by the driver: what was sent meanwhile is lost.
                                    Ok(None) => fan_out(Topic::Resync),
                                    Err(SqlxError::PoolClosed) => break 'outer,
                                    Err(e) => {
                                        tracing::warn!(error = %e, "LISTEN connection lost");
                                        break;
                                    }
                                },
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "LISTEN failed"),
                },
                Err(e) => tracing::warn!(error = %e, "no connection to LISTEN on"),
            }
            tokio::select! {
                _ = stop.changed() => break,
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_read_back() {
        for t in [
            Topic::Members,
            Topic::Payments,
            Topic::Requests,
            Topic::Outbox,
            Topic::Jobs,
            Topic::Resync,
        ] {
            assert_eq!(Topic::parse(t.as_str()), Some(t));
        }
        assert_eq!(Topic::parse("nonsense"), None);
    }

    #[tokio::test]
    async fn a_published_event_reaches_every_subscriber_once_in_order() {
        let mut a = subscribe();
        let mut b = subscribe();
        fan_out(Topic::Payments);
        fan_out(Topic::Members);
        // (Other tests in this binary may publish too: look for ours.)
        for rx in [&mut a, &mut b] {
            let mut seen = Vec::new();
            while seen.len() < 2 {
                let c = rx.recv().await.expect("an event");
                if matches!(c.topic, Topic::Payments | Topic::Members) {
                    seen.push(c);
                }
            }
            assert_eq!(
                (seen[0].topic, seen[1].topic),
                (Topic::Payments, Topic::Members)
            );
            assert!(seen[1].seq > seen[0].seq);
        }
    }
}
