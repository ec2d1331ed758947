//! The outbox delivery worker: the only code that sends e-mail, through a [`Transport`].
//!
//! A message moves `pending` → `sending` → `sent`, or back to `pending` with a later `next_attempt_at` after a
//! transient failure, or to `failed` after a permanent failure or the last attempt. The rules it keeps:
//!
//! - **Claim, commit, then send.** The claim (`pending` → `sending`, stamped with this worker and the time) is
//!   a conditional UPDATE that only one worker can win, committed before the SMTP conversation starts; the
//!   transport is never called inside a transaction. On PostgreSQL the candidate is picked with
//!   `FOR UPDATE SKIP LOCKED`, so several nodes never queue behind one row.
//! - **One message in flight per worker**, and a result is only written by the worker that still holds the
//!   claim.
//! - **Nothing is lost.** A worker killed mid-send leaves its message in `sending`; [`recover_stale`] puts it
//!   back to `pending` once the lease has run out (or at once when the process starts on SQLite, where this
//!   process is the only writer). That message may already have reached the SMTP server, so it is sent again —
//!   the only way a message goes twice — but with the same `Message-ID` header (the row's `message_id`), which
//!   lets the receiving side recognise the duplicate.
//! - **Retries back off**: `base_backoff`, doubling per attempt, never more than an hour apart, until
//!   `max_attempts`.
//!
//! - **One-time links are made at the moment of sending** (`service::tokens::arm`): the stored message shows
//!   the link withheld, the transport gets a copy with the link, and that copy is never written back or
//!   logged. A message whose link was replaced, used or expired meanwhile is marked `failed`, not sent.

use super::transport::{SendError, Transport};
use crate::entity::outbox_message::OutboxStatus;
use crate::entity::outbox_message::{self, Column, Entity as Outbox};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use uuid::Uuid;

/// Retry delays never grow beyond this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60 * 60);

/// How many times a worker tries to write a delivery's result before giving up on the database for now.
const FINISH_TRIES: u32 = 3;

/// How many lost claim races (another worker took the candidate first) before waiting for the next poll.
const CLAIM_TRIES: u32 = 16;

/// `last_error` keeps at most this many characters.
const MAX_ERROR_CHARS: usize = 2000;

/// How one worker paces itself. `Default` gives the production values and a fresh `worker_id`.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Attempts (including the first) before a message is marked `failed`.
    pub max_attempts: i32,
    /// The wait after the first transient failure; doubles after each further one, up to [`MAX_BACKOFF`].
    pub base_backoff: Duration,
    /// How long a claim protects a message in `sending`; after that another worker may take it back.
    /// Must be longer than a delivery can take (the SMTP timeout is 30 s per command).
    pub lease: Duration,
    /// How long an idle worker waits before looking again (unless woken).
    pub poll_interval: Duration,
    /// Written to `claimed_by`; unique per running worker.
    pub worker_id: String,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        let tag = Uuid::now_v7().simple().to_string();
        Self {
            max_attempts: 8,
            base_backoff: Duration::from_secs(30),
            lease: Duration::from_secs(5 * 60),
            poll_interval: Duration::from_secs(2),
            worker_id: format!("outbox-{}-{}", std::process::id(), &tag[tag.len() - 8..]),
        }
    }
}

/// The wait before the next try after `attempts` failed attempts: `base`, `2·base`, `4·base`…, at most
/// [`MAX_BACKOFF`].
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 31) as u32;
    base.saturating_mul(1u32 << doublings).min(MAX_BACKOFF)
}

fn now() -> DateTime<Utc> {
    crate::service::now()
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// Puts messages stuck in `sending` for longer than `lease` back to `pending`; returns how many.
///
/// Their worker died mid-delivery (or lost its database connection), so the message may or may not have
/// reached the SMTP server: it is sent again with the same `Message-ID`. Pass `Duration::ZERO` at process
/// start when no other worker can be running (SQLite), to recover every such message at once.
#[tracing::instrument(skip(db))]
pub async fn recover_stale(db: &DatabaseConnection, lease: Duration) -> Result<u64, DbErr> {
    let now = now();
    let cutoff = now
        .checked_sub_signed(delta(lease))
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let recovered = Outbox::update_many()
        .set(outbox_message::ActiveModel {
            status: Set(OutboxStatus::Pending),
            last_error: Set(Some(
                "delivery was interrupted (the worker stopped mid-send); sending again with the same Message-ID"
                    .to_owned(),
            )),
            ..Default::default()
        })
        .filter(Column::Status.eq(OutboxStatus::Sending))
        .filter(Condition::any().add(Column::ClaimedAt.lte(cutoff)).add(Column::ClaimedAt.is_null()))
        .exec(db)
        .await?
        .rows_affected;
    if recovered > 0 {
        tracing::warn!(
            recovered,
            "outbox: interrupted deliveries put back in the queue"
        );
    }
    Ok(recovered)
}

/// Delivers the oldest due message, if there is one; returns its id.
///
/// The claim is committed before `transport` is called, and the result is written afterwards only if this
/// worker still holds the claim. A transport error is not an `Err` here: it is recorded on the message.
#[tracing::instrument(skip(db, transport, cfg), fields(worker = %cfg.worker_id))]
pub async fn deliver_one(
    db: &DatabaseConnection,
    transport: &dyn Transport,
    cfg: &WorkerConfig,
) -> Result<Option<Uuid>, DbErr> {
    let logged = transport.delivered_status() == OutboxStatus::Logged;
    let Some(msg) = claim(db, cfg, logged).await? else {
        return Ok(None);
    };
    let id = msg.id;
    let msg = match crate::service::tokens::arm(db, msg.clone()).await {
        Ok(Ok(armed)) => armed,
        Ok(Err(dead)) => {
            tracing::warn!(outbox_id = %id, "outbox: {dead}");
            if logged {
                Outbox::update_many()
                    .set(outbox_message::ActiveModel {
                        status: Set(OutboxStatus::Failed),
                        last_error: Set(Some(dead.to_owned())),
                        ..Default::default()
                    })
                    .filter(Column::Id.eq(id))
                    .exec(db)
                    .await?;
            } else {
                finish(db, cfg, &msg, Err(SendError::Permanent(dead.to_owned()))).await?;
            }
            return Ok(Some(id));
        }
        Err(e) => {
            // The claim stays; `recover_stale` hands the message back once the lease runs out.
            tracing::warn!(outbox_id = %id, error = %e, "outbox: could not arm a one-time link");
            return Err(e);
        }
    };
    if logged {
        // Already marked `logged` by the claim: the transport only writes to the log.
        if let Err(e) = transport.send(&msg).await {
            tracing::warn!(outbox_id = %msg.id, error = %e, "outbox: log transport failed");
        }
        return Ok(Some(msg.id));
    }
    let result = transport.send(&msg).await;
    finish(db, cfg, &msg, result).await?;
    Ok(Some(msg.id))
}

/// Claims the oldest due `pending` message for this worker: `sending`, or straight to `logged` when the
/// transport delivers nowhere.
async fn claim(
    db: &DatabaseConnection,
    cfg: &WorkerConfig,
    logged: bool,
) -> Result<Option<outbox_message::Model>, DbErr> {
    for _ in 0..CLAIM_TRIES {
        let outcome = if db.get_database_backend() == DbBackend::Postgres {
            // Lock the candidate so concurrent workers skip it rather than wait; commit before sending.
            let txn = crate::service::begin(db).await?;
            let outcome = try_claim(&txn, cfg, logged, true).await?;
            txn.commit().await?;
            outcome
        } else {
            // SQLite has a single writer: the conditional UPDATE alone decides who wins.
            try_claim(db, cfg, logged, false).await?
        };
        match outcome {
            Claim::Won(msg) => return Ok(Some(*msg)),
            Claim::NoneDue => return Ok(None),
            Claim::Lost => continue,
        }
    }
    Ok(None)
}

enum Claim {
    Won(Box<outbox_message::Model>),
    NoneDue,
    /// Another worker claimed the candidate between our SELECT and UPDATE.
    Lost,
}

async fn try_claim<C: ConnectionTrait>(
    db: &C,
    cfg: &WorkerConfig,
    logged: bool,
    skip_locked: bool,
) -> Result<Claim, DbErr> {
    let now = now();
    let mut query = Outbox::find()
        .filter(Column::Status.eq(OutboxStatus::Pending))
        .filter(Column::NextAttemptAt.lte(now))
        .order_by_asc(Column::NextAttemptAt)
        .order_by_asc(Column::Id)
        .limit(1);
    if skip_locked {
        query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let Some(candidate) = query.one(db).await? else {
        return Ok(Claim::NoneDue);
    };
    let mut claimed = outbox_message::ActiveModel {
        status: Set(if logged {
            OutboxStatus::Logged
        } else {
            OutboxStatus::Sending
        }),
        claimed_at: Set(Some(now)),
        claimed_by: Set(Some(cfg.worker_id.clone())),
        ..Default::default()
    };
    if logged {
        claimed.attempts = Set(candidate.attempts + 1);
        claimed.sent_at = Set(Some(now));
    }
    let won = Outbox::update_many()
        .set(claimed)
        .filter(Column::Id.eq(candidate.id))
        .filter(Column::Status.eq(OutboxStatus::Pending))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if !won {
        return Ok(Claim::Lost);
    }
    Ok(Claim::Won(Box::new(outbox_message::Model {
        status: if logged {
            OutboxStatus::Logged
        } else {
            OutboxStatus::Sending
        },
        claimed_at: Some(now),
        claimed_by: Some(cfg.worker_id.clone()),
        attempts: if logged {
            candidate.attempts + 1
        } else {
            candidate.attempts
        },
        sent_at: if logged { Some(now) } else { candidate.sent_at },
        ..candidate
    })))
}

/// Records the result of one attempt on a message this worker claimed. `last_error` keeps the most recent
/// failure even after a later success, as a record of what the delivery went through.
async fn finish(
    db: &DatabaseConnection,
    cfg: &WorkerConfig,
    msg: &outbox_message::Model,
    result: Result<(), SendError>,
) -> Result<(), DbErr> {
    let now = now();
    let attempts = msg.attempts + 1;
    let mut update = outbox_message::ActiveModel {
        attempts: Set(attempts),
        ..Default::default()
    };
    match &result {
        Ok(()) => {
            update.status = Set(OutboxStatus::Sent);
            update.sent_at = Set(Some(now));
        }
        Err(e) => {
            let give_up = e.is_permanent() || attempts >= cfg.max_attempts;
            let mut error: String = e.to_string().chars().take(MAX_ERROR_CHARS).collect();
            if give_up && !e.is_permanent() {
                error.push_str(&format!(" (gave up after {attempts} attempts)"));
            }
            update.last_error = Set(Some(error));
            if give_up {
                update.status = Set(OutboxStatus::Failed);
            } else {
                update.status = Set(OutboxStatus::Pending);
                let wait = delta(backoff(cfg.base_backoff, attempts));
                update.next_attempt_at = Set(now.checked_add_signed(wait).unwrap_or(now));
            }
        }
    }

    // The message has left (or not) and that must be written down: a failed write is retried briefly, and if
    // the database stays away the message remains `sending` for `recover_stale` to pick up.
    let mut tries = 0;
    let written = loop {
        tries += 1;
        let attempt = Outbox::update_many()
            .set(update.clone())
            .filter(Column::Id.eq(msg.id))
            .filter(Column::Status.eq(OutboxStatus::Sending))
            .filter(Column::ClaimedBy.eq(cfg.worker_id.as_str()))
            .exec(db)
            .await;
        match attempt {
            Ok(r) => break r.rows_affected == 1,
            Err(e) if tries < FINISH_TRIES => {
                tracing::warn!(outbox_id = %msg.id, error = %e, "outbox: could not record a delivery; retrying");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(tries))).await;
            }
            Err(e) => return Err(e),
        }
    };

    let status = match &update.status {
        Set(s) => *s,
        _ => OutboxStatus::Sending,
    };
    if !written {
        tracing::warn!(outbox_id = %msg.id, "outbox: the claim expired during delivery; another worker owns it now");
    } else {
        match &result {
            Ok(()) => {
                tracing::info!(outbox_id = %msg.id, message_id = %msg.message_id, template = %msg.template, attempts, "e-mail sent")
            }
            Err(e) if status == OutboxStatus::Failed => {
                tracing::error!(outbox_id = %msg.id, template = %msg.template, attempts, error = %e, "e-mail failed for good");
                crate::service::events::publish(db, crate::service::events::Topic::Outbox).await;
            }
            Err(e) => {
                tracing::warn!(outbox_id = %msg.id, template = %msg.template, attempts, error = %e, "e-mail will be retried")
            }
        }
    }
    Ok(())
}

/// Delivers messages until `shutdown` turns true (or its sender is dropped).
///
/// At start it recovers interrupted deliveries: all of them on SQLite (this process is the only writer),
/// those past the lease on PostgreSQL (other nodes may be mid-delivery). Then it delivers every due message,
/// one at a time; when none is due it recovers stale claims and waits `poll_interval`, or less when `wake` is
/// notified (call `wake.notify_one()` after enqueueing). Shutdown is checked between messages and while
/// waiting, so a message in hand is always finished and recorded first.
#[tracing::instrument(skip(db, transport, cfg, wake, shutdown), fields(worker = %cfg.worker_id))]
pub async fn run(
    db: DatabaseConnection,
    transport: Arc<dyn Transport>,
    cfg: WorkerConfig,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let startup_lease = if db.get_database_backend() == DbBackend::Postgres {
        cfg.lease
    } else {
        Duration::ZERO
    };
    if let Err(e) = recover_stale(&db, startup_lease).await {
        tracing::error!(error = %e, "outbox: could not recover interrupted deliveries");
    }
    tracing::info!(transport = ?transport, "outbox worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        match deliver_one(&db, transport.as_ref(), &cfg).await {
            Ok(Some(_)) => continue,
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "outbox: database error; waiting before the next try")
            }
        }
        if let Err(e) = recover_stale(&db, cfg.lease).await {
            tracing::error!(error = %e, "outbox: could not recover stale claims");
        }
        tokio::select! {
            () = tokio::time::sleep(cfg.poll_interval) => {}
            () = wake.notified() => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    tracing::info!("outbox worker stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_stops_at_an_hour() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), Duration::from_secs(30));
        assert_eq!(backoff(base, 2), Duration::from_secs(60));
        assert_eq!(backoff(base, 3), Duration::from_secs(120));
        assert_eq!(backoff(base, 7), Duration::from_secs(1920));
        assert_eq!(backoff(base, 8), MAX_BACKOFF);
        assert_eq!(backoff(base, i32::MAX), MAX_BACKOFF);
        assert_eq!(backoff(base, 0), base);
        assert_eq!(backoff(Duration::from_secs(7200), 1), MAX_BACKOFF);
    }
}
