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
    /// `GUILDHALL_ENV=production`: refuse to start with unsafe settings (see `production`).
    pub production: bool,
    /// How many proxies you run in front of Guildhall (`GUILDHALL_TRUSTED_PROXIES=N`, default 0; the
    /// older `GUILDHALL_TRUST_PROXY=1` means 1). The client address is then taken from
    /// `X-Forwarded-For` (see `middleware::client_ip`).
    pub trusted_proxies: u8,
    /// Password checks (sign-in, change password, change e-mail) per client address per minute.
    pub signin_per_ip_per_minute: u32,
    /// Wrong passwords in a row on one account before each further try must wait 1 s, 2 s, 4 s…
    /// (at most 5 minutes).
    pub signin_per_account: u32,
    /// Messages asked for (create account, forgot password, change e-mail) per client address per hour.
    pub mail_per_ip_per_hour: u32,
    /// Messages asked for to one address per hour.
    pub mail_per_address_per_hour: u32,
    /// Public register searches allowed per client address per minute.
    pub register_per_ip_per_minute: u32,
    /// `GUILDHALL_LOG_FORMAT=json` for JSON logs.
    pub json_logs: bool,
    /// Which provider members pay through (`GUILDHALL_PAYMENT_PROVIDER`): `none` (the default: no card
    /// payments), `stripe`, or `sandbox` (the built-in stand-in, for demos and tests only: it must be
    /// asked for by name, and production mode refuses it).
    pub payment_provider: String,
    /// Stripe's secret API key (`GUILDHALL_STRIPE_SECRET_KEY`); never logged.
    pub stripe_secret_key: Option<String>,
    /// The secret Stripe signs webhooks with (`GUILDHALL_STRIPE_WEBHOOK_SECRET`); never logged.
    pub stripe_webhook_secret: Option<String>,
    /// Stripe's API address (`GUILDHALL_STRIPE_API_BASE`, default `https://api.stripe.com`).
    pub stripe_api_base: String,
    /// The secret the built-in sandbox signs its webhooks with (`GUILDHALL_SANDBOX_WEBHOOK_SECRET`;
    /// unset, each process makes a random one: the sandbox only ever posts to its own process).
    pub sandbox_webhook_secret: String,
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
    /// The payment providers these settings describe. Fails when Stripe is chosen without its keys.
    pub fn providers(&self) -> anyhow::Result<guildhall::service::money::providers::Providers> {
        use guildhall::service::money::providers::{Delivery, NoCards, Providers, Sandbox, Stripe};
        use std::sync::Arc;
        let stripe = self
            .stripe_secret_key
            .clone()
            .map(|key| Arc::new(Stripe::new(key, self.stripe_api_base.clone())));
        let active: Arc<dyn guildhall::service::money::providers::PaymentProvider> =
            match self.payment_provider.as_str() {
                "none" => Arc::new(NoCards),
                "sandbox" => Arc::new(Sandbox {
                    base_url: self.base_url.clone(),
                }),
                "stripe" => match (&stripe, &self.stripe_webhook_secret) {
                    (Some(s), Some(_)) => s.clone(),
                    _ => anyhow::bail!(
                        "GUILDHALL_PAYMENT_PROVIDER=stripe needs GUILDHALL_STRIPE_SECRET_KEY and GUILDHALL_STRIPE_WEBHOOK_SECRET"
                    ),
                },
                other => anyhow::bail!("GUILDHALL_PAYMENT_PROVIDER: unknown provider {other:?} (none, stripe or sandbox)"),
            };
        // The sandbox posts its events to this very process, over loopback.
        let local = if self.addr.ip().is_unspecified() {
            format!("http://127.0.0.1:{}", self.addr.port())
        } else {
            format!("http://{}", self.addr)
        };
        Ok(Providers {
            active,
            sandbox_secret: self.sandbox_webhook_secret.clone(),
            stripe_secret: self.stripe_webhook_secret.clone(),
            stripe,
            delivery: Delivery::Http(local),
            base_url: self.base_url.clone(),
        })
    }

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
            production: var("GUILDHALL_ENV").is_some_and(|v| v.eq_ignore_ascii_case("production")),
            trusted_proxies: match var("GUILDHALL_TRUSTED_PROXIES") {
                Some(n) => n.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "GUILDHALL_TRUSTED_PROXIES must be a number of proxies (0–255), not {n:?}"
                    )
                })?,
                None => u8::from(flag("GUILDHALL_TRUST_PROXY").unwrap_or(false)),
            },
            signin_per_ip_per_minute: var("GUILDHALL_SIGNIN_PER_IP_PER_MINUTE")
                .and_then(|v| v.parse().ok())
                .unwrap_or(20),
            signin_per_account: var("GUILDHALL_SIGNIN_PER_ACCOUNT")
                .and_then(|v| v.parse().ok())
                .unwrap_or(5),
            mail_per_ip_per_hour: var("GUILDHALL_MAIL_PER_IP_PER_HOUR")
                .and_then(|v| v.parse().ok())
                .unwrap_or(20),
            mail_per_address_per_hour: var("GUILDHALL_MAIL_PER_ADDRESS_PER_HOUR")
                .and_then(|v| v.parse().ok())
                .unwrap_or(5),
            register_per_ip_per_minute: var("GUILDHALL_REGISTER_PER_IP_PER_MINUTE")
                .and_then(|v| v.parse().ok())
                .unwrap_or(30),
            json_logs: var("GUILDHALL_LOG_FORMAT").is_some_and(|v| v.eq_ignore_ascii_case("json")),
            payment_provider: var("GUILDHALL_PAYMENT_PROVIDER")
                .unwrap_or_else(|| "none".into())
                .to_lowercase(),
            stripe_secret_key: var("GUILDHALL_STRIPE_SECRET_KEY"),
            stripe_webhook_secret: var("GUILDHALL_STRIPE_WEBHOOK_SECRET"),
            stripe_api_base: var("GUILDHALL_STRIPE_API_BASE")
                .unwrap_or_else(|| "https://api.stripe.com".into()),
            sandbox_webhook_secret: var("GUILDHALL_SANDBOX_WEBHOOK_SECRET")
                .unwrap_or_else(guildhall::service::identity::random_token),
        })
    }
}
