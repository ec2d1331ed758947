//! The outbox delivery worker: the only code that sends e-mail.
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
//!
//! With no SMTP server configured, [`MailDropTransport`] writes each message (links included) to a file in
//! `GUILDHALL_MAIL_DIR`, standing in for the recipient's mailbox, or [`LogTransport`] notes it in the log
//! (without its body); either marks it `logged`.

use crate::entity::outbox_message::{self, Column, Entity as Outbox};
use crate::service::outbox::{
    STATUS_FAILED, STATUS_LOGGED, STATUS_PENDING, STATUS_SENDING, STATUS_SENT,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::fmt;
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

// ---------------------------------------------------------------------------------------------------------
// Transports
// ---------------------------------------------------------------------------------------------------------

/// Why a delivery failed, and so whether trying again could help.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Will fail the same way every time: a 5xx reply, an address that cannot be parsed, a message that
    /// cannot be built. The message is marked `failed` at once.
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// May work later: a 4xx reply, a refused or dropped connection, a TLS failure, a timeout.
    #[error("transient failure: {0}")]
    Transient(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

/// Something that can deliver one outbox message.
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Delivers `msg`. Called outside any transaction, at most once at a time per worker.
    async fn send(&self, msg: &outbox_message::Model) -> Result<(), SendError>;

    /// The status a message ends in once delivered: `sent`, or `logged` for a transport that reaches nobody
    /// (the worker then marks the message in one step, without passing through `sending`).
    fn delivered_status(&self) -> &'static str {
        STATUS_SENT
    }
}

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text. Only for a relay on this machine or a test server.
    None,
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl std::str::FromStr for TlsMode {
    type Err = MailConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "off" | "plain" => Ok(Self::None),
            "starttls" => Ok(Self::StartTls),
            "tls" | "smtps" | "wrapper" => Ok(Self::Tls),
            _ => Err(MailConfigError::Tls(s.to_owned())),
        }
    }
}

/// A mail setting that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MailConfigError {
    #[error("GUILDHALL_SMTP_PORT must be a port number, not `{0}`")]
    Port(String),
    #[error("GUILDHALL_SMTP_TLS must be none, starttls or tls, not `{0}`")]
    Tls(String),
    #[error("GUILDHALL_MAIL_FROM is not an e-mail address: `{0}`")]
    From(String),
    #[error("GUILDHALL_SMTP_HOST `{host}` cannot be used for TLS: {reason}")]
    Host { host: String, reason: String },
}

/// Where and how to submit mail.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: TlsMode,
    pub from_address: String,
    pub from_name: Option<String>,
    /// Limit on each SMTP command. Keep it well below the worker's lease.
    pub timeout: Duration,
}

/// Written by hand so that the password never reaches a log line.
impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("from_address", &self.from_address)
            .field("from_name", &self.from_name)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The sender address used when `GUILDHALL_MAIL_FROM` is unset.
pub const DEFAULT_FROM: &str = "membership@guildhall.test";

impl SmtpConfig {
    /// Reads the `GUILDHALL_SMTP_*` / `GUILDHALL_MAIL_*` settings through `var`. `Ok(None)` when no host is
    /// set (deliver to the log instead).
    pub fn from_vars(
        raw: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, MailConfigError> {
        let var = |name: &str| {
            raw(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(host) = var("GUILDHALL_SMTP_HOST") else {
            return Ok(None);
        };
        let local = matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1" | "[::1]");
        let tls = match var("GUILDHALL_SMTP_TLS") {
            Some(t) => t.parse()?,
            None if local => TlsMode::None,
            None => TlsMode::StartTls,
        };
        let port = match var("GUILDHALL_SMTP_PORT") {
            Some(p) => p.parse::<u16>().map_err(|_| MailConfigError::Port(p))?,
            // Submission with implicit TLS has its own port; everything else submits on 587.
            None if tls == TlsMode::Tls => 465,
            None => 587,
        };
        Ok(Some(Self {
            host,
            port,
            username: var("GUILDHALL_SMTP_USERNAME"),
            // Not trimmed: a password may end in a space.
            password: raw("GUILDHALL_SMTP_PASSWORD").filter(|p| !p.is_empty()),
            tls,
            from_address: var("GUILDHALL_MAIL_FROM").unwrap_or_else(|| DEFAULT_FROM.to_owned()),
            from_name: var("GUILDHALL_MAIL_FROM_NAME"),
            timeout: Duration::from_secs(30),
        }))
    }
}

/// Submits messages to an SMTP server, one connection per message.
pub struct SmtpTransport {
    inner: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
    tls: TlsMode,
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpTransport {
    pub fn new(cfg: &SmtpConfig) -> Result<Self, MailConfigError> {
        let address: Address = cfg
            .from_address
            .parse()
            .map_err(|_| MailConfigError::From(cfg.from_address.clone()))?;
        let from = Mailbox::new(cfg.from_name.clone(), address);
        let params = || {
            TlsParameters::new(cfg.host.clone()).map_err(|e| MailConfigError::Host {
                host: cfg.host.clone(),
                reason: e.to_string(),
            })
        };
        let tls = match cfg.tls {
            TlsMode::None => Tls::None,
            TlsMode::StartTls => Tls::Required(params()?),
            TlsMode::Tls => Tls::Wrapper(params()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.clone())
            .port(cfg.port)
            .tls(tls)
            .timeout(Some(cfg.timeout));
        if let Some(user) = &cfg.username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                cfg.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Self {
            inner: builder.build(),
            from,
            host: cfg.host.clone(),
            port: cfg.port,
            tls: cfg.tls,
        })
    }

    /// The e-mail for `msg`: `Message-ID` and `Date` come from the row, so a resend after a crash is the same
    /// message; text and HTML as `multipart/alternative`.
    pub fn message(&self, msg: &outbox_message::Model) -> Result<Message, SendError> {
        let to: Address = msg.to_address.parse().map_err(|e| {
            SendError::Permanent(format!("the recipient address cannot be used: {e}"))
        })?;
        let to_name = msg
            .to_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        Message::builder()
            .message_id(Some(msg.message_id.clone()))
            .date(msg.created_at.into())
            .from(self.from.clone())
            .to(Mailbox::new(to_name, to))
            .subject(msg.subject.clone())
            .header(AutoSubmitted)
            .multipart(MultiPart::alternative_plain_html(
                msg.body_text.clone(),
                msg.body_html.clone(),
            ))
            .map_err(|e| SendError::Permanent(format!("the message cannot be built: {e}")))
    }
}

#[async_trait]
impl Transport for SmtpTransport {
    #[tracing::instrument(skip_all, fields(outbox_id = %msg.id, message_id = %msg.message_id))]
    async fn send(&self, msg: &outbox_message::Model) -> Result<(), SendError> {
        let email = self.message(msg)?;
        match self.inner.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            // 4xx replies, and anything else (connection refused, TLS, timeout): the server may recover.
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): tells mail servers not to send out-of-office replies to us.
#[derive(Clone, Copy, Debug)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// Development delivery without a mail drop: notes each message in the log (never its body, which may
/// carry a one-time link) and marks it `logged`. Nothing leaves the machine.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogTransport;

#[async_trait]
impl Transport for LogTransport {
    async fn send(&self, msg: &outbox_message::Model) -> Result<(), SendError> {
        tracing::info!(
            outbox_id = %msg.id,
            message_id = %msg.message_id,
            to = %msg.to_address,
            subject = %msg.subject,
            "e-mail not sent (neither GUILDHALL_SMTP_HOST nor GUILDHALL_MAIL_DIR is set)"
        );
        Ok(())
    }

    fn delivered_status(&self) -> &'static str {
        STATUS_LOGGED
    }
}

/// Development and test delivery: each message is written as a text file to a folder (the "mail drop",
/// `GUILDHALL_MAIL_DIR`), which stands in for the recipients' mailboxes: `To:`, `Subject:`, `Date:`,
/// `Message-ID:` lines, a blank line, then the plain-text body with its links. Marked `logged`.
#[derive(Clone, Debug)]
pub struct MailDropTransport {
    pub dir: std::path::PathBuf,
}

#[async_trait]
impl Transport for MailDropTransport {
    async fn send(&self, msg: &outbox_message::Model) -> Result<(), SendError> {
        let text = format!(
            "To: {}\nSubject: {}\nDate: {}\nMessage-ID: {}\n\n{}\n",
            msg.to_address,
            msg.subject,
            msg.created_at.to_rfc3339(),
            msg.message_id,
            msg.body_text
        );
        // Time first, so that a listing sorts oldest to newest; the row id keeps names unique.
        let name = format!(
            "{}-{}.txt",
            now().format("%Y%m%dT%H%M%S%.6f"),
            msg.id.simple()
        );
        let path = self.dir.join(name);
        let write = async {
            tokio::fs::create_dir_all(&self.dir).await?;
            let partial = path.with_extension("part");
            tokio::fs::write(&partial, text).await?;
            tokio::fs::rename(&partial, &path).await
        };
        write
            .await
            .map_err(|e| SendError::Transient(format!("the mail drop cannot be written: {e}")))?;
        tracing::info!(outbox_id = %msg.id, to = %msg.to_address, subject = %msg.subject, path = %path.display(), "e-mail written to the mail drop");
        Ok(())
    }

    fn delivered_status(&self) -> &'static str {
        STATUS_LOGGED
    }
}

/// Stands in when the mail settings are unusable: every attempt fails as transient, so messages wait in the
/// outbox (with the reason in `last_error`) instead of being lost or marked as logged.
#[derive(Debug)]
struct MisconfiguredTransport {
    reason: String,
}

#[async_trait]
impl Transport for MisconfiguredTransport {
    async fn send(&self, _: &outbox_message::Model) -> Result<(), SendError> {
        Err(SendError::Transient(format!(
            "e-mail is not configured correctly: {}",
            self.reason
        )))
    }
}

/// The transport the environment asks for: SMTP when `GUILDHALL_SMTP_HOST` is set, else [`LogTransport`].
/// An unusable setting is an error (the server should refuse to start).
#[tracing::instrument]
pub fn try_transport_from_env() -> Result<Arc<dyn Transport>, MailConfigError> {
    match SmtpConfig::from_vars(|name| std::env::var(name).ok())? {
        Some(cfg) => {
            tracing::info!(smtp = ?cfg, "e-mail will be sent over SMTP");
            Ok(Arc::new(SmtpTransport::new(&cfg)?))
        }
        None => match std::env::var("GUILDHALL_MAIL_DIR")
            .ok()
            .filter(|d| !d.trim().is_empty())
        {
            Some(dir) => {
                tracing::warn!(dir = %dir, "GUILDHALL_SMTP_HOST is not set: e-mail will be written to files in the mail drop, not sent");
                Ok(Arc::new(MailDropTransport {
                    dir: dir.trim().into(),
                }))
            }
            None => {
                tracing::warn!(
                    "GUILDHALL_SMTP_HOST is not set: e-mail will be noted in the log, not sent"
                );
                Ok(Arc::new(LogTransport))
            }
        },
    }
}

/// Like [`try_transport_from_env`], but an unusable setting is logged and gives a transport that keeps every
/// message waiting in the outbox (retried with backoff) until the setting is fixed and the server restarted.
pub fn transport_from_env() -> Arc<dyn Transport> {
    try_transport_from_env().unwrap_or_else(|e| {
        tracing::error!(error = %e, "e-mail settings are unusable: messages will wait in the outbox");
        Arc::new(MisconfiguredTransport { reason: e.to_string() })
    })
}

// ---------------------------------------------------------------------------------------------------------
// The worker
// ---------------------------------------------------------------------------------------------------------

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
            status: Set(STATUS_PENDING.to_owned()),
            last_error: Set(Some(
                "delivery was interrupted (the worker stopped mid-send); sending again with the same Message-ID"
                    .to_owned(),
            )),
            ..Default::default()
        })
        .filter(Column::Status.eq(STATUS_SENDING))
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
    let logged = transport.delivered_status() == STATUS_LOGGED;
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
                        status: Set(STATUS_FAILED.to_owned()),
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
        .filter(Column::Status.eq(STATUS_PENDING))
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
            STATUS_LOGGED
        } else {
            STATUS_SENDING
        }
        .to_owned()),
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
        .filter(Column::Status.eq(STATUS_PENDING))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if !won {
        return Ok(Claim::Lost);
    }
    Ok(Claim::Won(Box::new(outbox_message::Model {
        status: if logged {
            STATUS_LOGGED
        } else {
            STATUS_SENDING
        }
        .to_owned(),
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
            update.status = Set(STATUS_SENT.to_owned());
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
                update.status = Set(STATUS_FAILED.to_owned());
            } else {
                update.status = Set(STATUS_PENDING.to_owned());
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
            .filter(Column::Status.eq(STATUS_SENDING))
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
        Set(s) => s.as_str(),
        _ => STATUS_SENDING,
    };
    if !written {
        tracing::warn!(outbox_id = %msg.id, "outbox: the claim expired during delivery; another worker owns it now");
    } else {
        match &result {
            Ok(()) => {
                tracing::info!(outbox_id = %msg.id, message_id = %msg.message_id, template = %msg.template, attempts, "e-mail sent")
            }
            Err(e) if status == STATUS_FAILED => {
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
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

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

    #[test]
    fn no_smtp_host_means_deliver_to_the_log() {
        assert_eq!(SmtpConfig::from_vars(vars(&[])), Ok(None));
        assert_eq!(
            SmtpConfig::from_vars(vars(&[("GUILDHALL_SMTP_HOST", "  ")])),
            Ok(None)
        );
    }

    #[test]
    fn smtp_settings_have_sensible_defaults() {
        let cfg = SmtpConfig::from_vars(vars(&[("GUILDHALL_SMTP_HOST", "smtp.example.org")]))
            .ok()
            .flatten();
        let cfg = cfg.unwrap_or_else(|| panic!("expected a config"));
        assert_eq!(cfg.port, 587);
        assert_eq!(cfg.tls, TlsMode::StartTls);
        assert_eq!(cfg.from_address, DEFAULT_FROM);
        assert_eq!(cfg.username, None);

        let local = SmtpConfig::from_vars(vars(&[
            ("GUILDHALL_SMTP_HOST", "localhost"),
            ("GUILDHALL_SMTP_PORT", "1025"),
        ]));
        let local = local
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("expected a config"));
        assert_eq!((local.tls, local.port), (TlsMode::None, 1025));

        let implicit = SmtpConfig::from_vars(vars(&[
            ("GUILDHALL_SMTP_HOST", "smtp.example.org"),
            ("GUILDHALL_SMTP_TLS", "tls"),
        ]));
        let implicit = implicit
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("expected a config"));
        assert_eq!((implicit.tls, implicit.port), (TlsMode::Tls, 465));
    }

    #[test]
    fn bad_smtp_settings_are_refused() {
        let bad_port = SmtpConfig::from_vars(vars(&[
            ("GUILDHALL_SMTP_HOST", "h"),
            ("GUILDHALL_SMTP_PORT", "x"),
        ]));
        assert_eq!(bad_port, Err(MailConfigError::Port("x".into())));
        let bad_tls = SmtpConfig::from_vars(vars(&[
            ("GUILDHALL_SMTP_HOST", "h"),
            ("GUILDHALL_SMTP_TLS", "ssl3"),
        ]));
        assert_eq!(bad_tls, Err(MailConfigError::Tls("ssl3".into())));
        let cfg = SmtpConfig::from_vars(vars(&[
            ("GUILDHALL_SMTP_HOST", "h"),
            ("GUILDHALL_MAIL_FROM", "nope"),
        ]));
        let cfg = cfg
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("expected a config"));
        assert!(matches!(
            SmtpTransport::new(&cfg),
            Err(MailConfigError::From(_))
        ));
    }

    #[test]
    fn the_smtp_password_never_appears_in_debug_output() {
        let cfg = SmtpConfig {
            host: "smtp.example.org".into(),
            port: 587,
            username: Some("user".into()),
            password: Some("hunter2-secret".into()),
            tls: TlsMode::StartTls,
            from_address: DEFAULT_FROM.into(),
            from_name: None,
            timeout: Duration::from_secs(30),
        };
        assert!(!format!("{cfg:?}").contains("hunter2-secret"));
        let transport = SmtpTransport::new(&cfg).unwrap_or_else(|e| panic!("{e}"));
        assert!(!format!("{transport:?}").contains("hunter2-secret"));
    }

    fn row() -> outbox_message::Model {
        let now = Utc::now();
        outbox_message::Model {
            id: Uuid::now_v7(),
            message_id: "<abc123@guildhall.local>".into(),
            template: "welcome".into(),
            to_address: "jo@example.org".into(),
            to_name: Some("Jo Bloggs".into()),
            subject: "Your account is ready".into(),
            body_text: "Hello Jo".into(),
            body_html: "<p>Hello Jo</p>".into(),
            user_id: None,
            member_id: None,
            status: STATUS_SENDING.into(),
            attempts: 0,
            next_attempt_at: now,
            claimed_at: None,
            claimed_by: None,
            last_error: None,
            sent_at: None,
            created_at: now,
            link_token_id: None,
            link_prefix: None,
        }
    }

    #[tokio::test]
    async fn the_mail_drop_writes_each_message_to_a_file_of_its_own() {
        let dir =
            std::env::temp_dir().join(format!("guildhall-maildrop-{}", Uuid::now_v7().simple()));
        let drop = MailDropTransport { dir: dir.clone() };
        drop.send(&row()).await.expect("first");
        drop.send(&row()).await.expect("second");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2);
        let text = std::fs::read_to_string(&names[0]).expect("read");
        assert!(text.starts_with("To: jo@example.org\nSubject: Your account is ready\n"));
        assert!(text.contains("\n\nHello Jo\n"));
        assert_eq!(drop.delivered_status(), STATUS_LOGGED);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn local_transport() -> SmtpTransport {
        let cfg = SmtpConfig::from_vars(vars(&[("GUILDHALL_SMTP_HOST", "localhost")]))
            .ok()
            .flatten();
        SmtpTransport::new(&cfg.unwrap_or_else(|| panic!("expected a config")))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_message_carries_the_rows_message_id_and_both_bodies() {
        let msg = local_transport()
            .message(&row())
            .unwrap_or_else(|e| panic!("{e}"));
        let raw = String::from_utf8(msg.formatted()).unwrap_or_default();
        assert!(
            raw.contains("Message-ID: <abc123@guildhall.local>\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("To: \"Jo Bloggs\" <jo@example.org>")
                || raw.contains("To: Jo Bloggs <jo@example.org>"),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
        assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
    }

    #[test]
    fn a_bad_recipient_address_is_a_permanent_failure() {
        let mut bad = row();
        bad.to_address = "not an address".into();
        assert!(local_transport()
            .message(&bad)
            .is_err_and(|e| e.is_permanent()));
    }
}
