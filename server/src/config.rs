//! Configuration from the environment (a `.env` file is read if present). Every setting has a default, so
//! `guildhall` runs with none: the embedded SQLite file, development e-mail delivery, 127.0.0.1:3000.

use std::net::SocketAddr;

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    /// Where to listen (cargo-leptos's `LEPTOS_SITE_ADDR`).
    pub addr: SocketAddr,
    /// The public address of the site, for links in e-mails (`GUILDHALL_BASE_URL`).
    pub base_url: String,
    /// Mark the session cookie `Secure` (`GUILDHALL_SECURE_COOKIES`; on by default when the base URL is https).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (`GUILDHALL_TRUST_PROXY=1`, only behind a proxy you run).
    pub trust_proxy: bool,
    pub signin_per_ip_per_minute: u32,
    pub signin_per_account: u32,
    /// Public register searches allowed per client address per minute.
    pub register_per_ip_per_minute: u32,
    /// `GUILDHALL_LOG_FORMAT=json` for JSON logs.
    pub json_logs: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn flag(name: &str) -> Option<bool> {
    var(name).map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let addr: SocketAddr = var("LEPTOS_SITE_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()?;
        let base_url = var("GUILDHALL_BASE_URL")
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            database_url: var("DATABASE_URL").unwrap_or_else(|| guildhall::db::DEFAULT_URL.into()),
            addr,
            secure_cookies: flag("GUILDHALL_SECURE_COOKIES")
                .unwrap_or(base_url.starts_with("https://")),
            base_url,
            trust_proxy: flag("GUILDHALL_TRUST_PROXY").unwrap_or(false),
            signin_per_ip_per_minute: var("GUILDHALL_SIGNIN_PER_IP_PER_MINUTE")
                .and_then(|v| v.parse().ok())
                .unwrap_or(20),
            signin_per_account: var("GUILDHALL_SIGNIN_PER_ACCOUNT")
                .and_then(|v| v.parse().ok())
                .unwrap_or(10),
            register_per_ip_per_minute: var("GUILDHALL_REGISTER_PER_IP_PER_MINUTE")
                .and_then(|v| v.parse().ok())
                .unwrap_or(30),
            json_logs: var("GUILDHALL_LOG_FORMAT").is_some_and(|v| v.eq_ignore_ascii_case("json")),
        })
    }
}
