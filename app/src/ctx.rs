//! Server-side request context for server functions: the shared state, the acting person, the session
//! and the client's address. Built by the server crate's middleware; read here through Leptos context.

pub use crate::limits::{MailLimiter, PerIpLimiter, SignInLimiter};
use guildhall::domain::{Actor, AppError};
use http::request::Parts;
use leptos::prelude::*;
use sea_orm::DatabaseConnection;
use std::net::IpAddr;
use std::sync::Arc;

/// What every server function may need, provided as Leptos context by the server.
#[derive(Clone)]
pub struct ServerState {
    pub db: DatabaseConnection,
    /// Public address of the site, used for links in e-mails (no trailing slash).
    pub base_url: String,
    /// Sign-in and every other password check.
    pub limiter: Arc<SignInLimiter>,
    /// Endpoints that send e-mail to an address the caller names.
    pub mail_limiter: Arc<MailLimiter>,
    /// Wakes the outbox worker when a message has been written.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Public register searches per client address.
    pub register_limiter: Arc<PerIpLimiter>,
    /// Card payment providers and webhook secrets.
    pub payments: guildhall::service::money::providers::Providers,
}

/// The client's address, as the server determined it (the socket, or `X-Forwarded-For` behind a
/// trusted proxy).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

pub fn state() -> Result<ServerState, AppError> {
    use_context::<ServerState>()
        .ok_or_else(|| AppError::internal("ServerState missing from context"))
}

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

/// The person making this request (anonymous when not signed in).
pub fn actor() -> Actor {
    parts()
        .and_then(|p| p.extensions.get::<Actor>().cloned())
        .unwrap_or_else(Actor::anonymous)
}

/// The actor, required to hold `p`.
pub fn require(p: guildhall::domain::Permission) -> Result<Actor, AppError> {
    let a = actor();
    a.require(p)?;
    Ok(a)
}

pub fn session() -> Result<tower_sessions::Session, AppError> {
    parts()
        .and_then(|p| p.extensions.get::<tower_sessions::Session>().cloned())
        .ok_or_else(|| AppError::internal("session layer missing"))
}

pub fn client_ip() -> Option<IpAddr> {
    parts().and_then(|p| p.extensions.get::<ClientIp>().map(|c| c.0))
}

/// Sets the HTTP status of the response being built.
pub fn set_status(code: u16) {
    if let (Some(opts), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(code),
    ) {
        opts.set_status(status);
    }
}

/// Refuses this request for too many attempts: status 429 with `Retry-After`, the same answer
/// whatever the account, and the refusal logged with the client's address.
pub fn rate_limited(what: &str, retry_after: std::time::Duration) -> AppError {
    tracing::warn!(ip = ?client_ip(), what, "refused: too many attempts");
    set_status(AppError::RateLimited.status());
    if let (Some(opts), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(
            &(retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0))
                .max(1)
                .to_string(),
        ),
    ) {
        opts.insert_header(http::header::RETRY_AFTER, v);
    }
    AppError::RateLimited
}

/// Whether `e` says that the password field `field` was wrong (or missing): a failed password check.
pub fn password_refused(e: &AppError, field: &str) -> bool {
    e.fields().is_some_and(|f| f.get(field).is_some())
}

/// Session keys.
pub const SESSION_USER: &str = "uid";
pub const SESSION_AUTH_AT: &str = "auth_at";
