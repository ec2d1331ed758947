//! Server-side request context for server functions: the shared state, the acting person, the session
//! and the client's address. Built by the server crate's middleware; read here through Leptos context.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use guildhall::domain::{Actor, AppError};
use http::request::Parts;
use leptos::prelude::*;
use sea_orm::DatabaseConnection;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// What every server function may need, provided as Leptos context by the server.
#[derive(Clone)]
pub struct ServerState {
    pub db: DatabaseConnection,
    /// Public address of the site, used for links in e-mails (no trailing slash).
    pub base_url: String,
    pub limiter: Arc<SignInLimiter>,
    /// Wakes the outbox worker when a message has been written.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Public register searches per client address.
    pub register_limiter: Arc<PerIpLimiter>,
    /// Card payment providers and webhook secrets.
    pub payments: guildhall::service::money::providers::Providers,
}

/// A number of requests a minute from one client address.
pub struct PerIpLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl PerIpLimiter {
    pub fn per_minute(n: u32) -> Self {
        let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(Quota::per_minute(n)))
    }

    /// Counts one request; `false` past the limit. Requests without a known address are not limited.
    pub fn allow(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| self.0.check_key(&ip).is_ok())
    }
}

/// The client's address, as the server determined it (the socket, or `X-Forwarded-For` behind a
/// trusted proxy).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

/// Sign-in attempts allowed per client address and per account. Past either limit, sign-in answers 429
/// with the same message whatever the account, and the refusal is logged.
pub struct SignInLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
}

impl SignInLimiter {
    /// `per_ip_per_minute` attempts a minute from one address; `per_account` attempts per 15 minutes
    /// for one account.
    pub fn new(per_ip_per_minute: u32, per_account: u32) -> Self {
        let ip = NonZeroU32::new(per_ip_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let acc = NonZeroU32::new(per_account.max(1)).unwrap_or(NonZeroU32::MIN);
        let acc_period = Duration::from_secs(15 * 60) / acc.get();
        Self {
            per_ip: RateLimiter::keyed(Quota::per_minute(ip)),
            per_account: RateLimiter::keyed(
                Quota::with_period(acc_period)
                    .unwrap_or_else(|| Quota::per_minute(acc))
                    .allow_burst(acc),
            ),
        }
    }

    /// Counts one attempt; `false` when either limit is exceeded.
    pub fn allow(&self, ip: Option<IpAddr>, account: &str) -> bool {
        let ip_ok = ip.is_none_or(|ip| self.per_ip.check_key(&ip).is_ok());
        let acc_ok = self
            .per_account
            .check_key(&account.trim().to_lowercase())
            .is_ok();
        ip_ok && acc_ok
    }
}

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

/// Session keys.
pub const SESSION_USER: &str = "uid";
pub const SESSION_AUTH_AT: &str = "auth_at";
