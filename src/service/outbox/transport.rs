//! The ways a message can leave: the [`Transport`] the delivery worker calls, SMTP (`mail::smtp`), the
//! mail drop and the log, and the choice among them made from the environment.
//!
//! With no SMTP server configured, [`MailDropTransport`] writes each message (links included) to a file in
//! `GUILDHALL_MAIL_DIR`, standing in for the recipient's mailbox, or [`LogTransport`] notes it in the log
//! (without its body); either marks it `logged`.

use crate::entity::outbox_message;
use crate::entity::outbox_message::OutboxStatus;
pub use crate::mail::smtp::{MailConfigError, SendError, SmtpConfig, SmtpTransport, TlsMode};
use async_trait::async_trait;
use std::fmt;
use std::sync::Arc;

/// Something that can deliver one outbox message.
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Delivers `msg`. Called outside any transaction, at most once at a time per worker.
    async fn send(&self, msg: &outbox_message::Model) -> Result<(), SendError>;

    /// The status a message ends in once delivered: `sent`, or `logged` for a transport that reaches nobody
    /// (the worker then marks the message in one step, without passing through `sending`).
    fn delivered_status(&self) -> OutboxStatus {
        OutboxStatus::Sent
    }
}

#[async_trait]
impl Transport for SmtpTransport {
    async fn send(&self, msg: &outbox_message::Model) -> Result<(), SendError> {
        self.submit(msg).await
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

    fn delivered_status(&self) -> OutboxStatus {
        OutboxStatus::Logged
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
            crate::service::now().format("%Y%m%dT%H%M%S%.6f"),
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

    fn delivered_status(&self) -> OutboxStatus {
        OutboxStatus::Logged
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::smtp::tests::row;
    use uuid::Uuid;

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
        assert_eq!(drop.delivered_status(), OutboxStatus::Logged);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
