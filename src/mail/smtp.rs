//! Submitting a finished message to an SMTP server: the settings (`GUILDHALL_SMTP_*`), the connection and
//! the e-mail built from an outbox row. Nothing here reads or writes the database: the delivery worker
//! (`service::outbox::delivery`) claims a row, hands it here and records the result.

use crate::entity::outbox_message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::fmt;
use std::time::Duration;

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
    /// Submits `msg` over one SMTP connection.
    #[tracing::instrument(skip_all, fields(outbox_id = %msg.id, message_id = %msg.message_id))]
    pub async fn submit(&self, msg: &outbox_message::Model) -> Result<(), SendError> {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::Utc;
    use std::collections::HashMap;
    use uuid::Uuid;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
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

    /// An outbox row as the delivery worker hands it to a transport.
    pub(crate) fn row() -> outbox_message::Model {
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
            status: crate::entity::outbox_message::OutboxStatus::Sending,
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
