//! Rate limits for every endpoint that checks a password or sends e-mail, with bounded, expiring
//! state: whatever an unauthenticated client sends, the memory they hold stays under a fixed bound.
//!
//! - [`KeyedLimit`]: at most `n` requests per period for each key (a client address, an e-mail
//!   address). Each key's state is a `governor` GCRA limiter kept in a `moka` cache that holds at most
//!   `max_keys` keys and forgets a key once it has been idle for a whole period (by then its limiter
//!   would be full again, so forgetting it changes nothing).
//! - [`FailureDelay`]: progressive delay per account. After `free` wrong passwords in a row, the
//!   account can be tried again only after 1 s, then 2 s, 4 s… capped at [`MAX_DELAY`]; a right
//!   password clears it. Unlike a lockout, this can never keep the real owner out for longer than the
//!   cap: an attacker gets a few guesses an hour and the owner gets in between them.
//!
//! Accounts are keyed by a keyed hash of the normalised address (a `u64`), so a long address costs
//! no more memory than a short one. Unknown addresses are treated exactly like known ones.

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use moka::sync::Cache;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Keys each limiter remembers at most (each a few dozen bytes).
pub const MAX_KEYS: u64 = 50_000;
/// The longest wait the progressive delay asks for.
pub const MAX_DELAY: Duration = Duration::from_secs(5 * 60);
/// How long a run of failures is remembered after the last one.
const FAILURES_KEPT: Duration = Duration::from_secs(60 * 60);

/// The key an e-mail address is limited by: case and surrounding spaces do not make a new key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AccountKey(u64);

/// Hashes addresses with a per-process random key, so nobody can aim collisions at an account.
#[derive(Clone, Default)]
pub struct AccountKeys(std::collections::hash_map::RandomState);

impl AccountKeys {
    pub fn key(&self, email: &str) -> AccountKey {
        AccountKey(self.0.hash_one(email.trim().to_lowercase()))
    }
}

/// At most `n` requests per `period` for each key, in bounded, expiring memory.
pub struct KeyedLimit<K> {
    quota: Quota,
    keys: Cache<K, Arc<DefaultDirectRateLimiter>>,
}

impl<K: Hash + Eq + Send + Sync + Clone + 'static> KeyedLimit<K> {
    pub fn new(n: u32, period: Duration, max_keys: u64) -> Self {
        let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period / n.get())
            .unwrap_or_else(|| Quota::per_second(n))
            .allow_burst(n);
        Self {
            quota,
            keys: Cache::builder()
                .max_capacity(max_keys)
                .time_to_idle(period.max(Duration::from_secs(1)))
                .build(),
        }
    }

    pub fn per_minute(n: u32) -> Self {
        Self::new(n, Duration::from_secs(60), MAX_KEYS)
    }

    pub fn per_hour(n: u32) -> Self {
        Self::new(n, Duration::from_secs(60 * 60), MAX_KEYS)
    }

    /// Counts one request for `key`; `false` past the limit.
    pub fn check(&self, key: K) -> bool {
        let quota = self.quota;
        self.keys
            .get_with(key, || Arc::new(RateLimiter::direct(quota)))
            .check()
            .is_ok()
    }

    /// How many keys are held (after pending evictions have run).
    pub fn len(&self) -> u64 {
        self.keys.run_pending_tasks();
        self.keys.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A number of requests a minute from one client address.
pub struct PerIpLimiter(KeyedLimit<IpAddr>);

impl PerIpLimiter {
    pub fn per_minute(n: u32) -> Self {
        Self(KeyedLimit::per_minute(n))
    }

    /// Counts one request; `false` past the limit. Requests without a known address are not limited.
    pub fn allow(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| self.0.check(ip))
    }
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    until: Instant,
}

/// Progressive delay per account (see the module docs).
pub struct FailureDelay {
    free: u32,
    accounts: Cache<AccountKey, Failures>,
}

impl FailureDelay {
    /// `free` failures in a row before the delays start.
    pub fn new(free: u32, max_keys: u64) -> Self {
        Self {
            free: free.max(1),
            accounts: Cache::builder()
                .max_capacity(max_keys)
                .time_to_idle(FAILURES_KEPT)
                .build(),
        }
    }

    /// How long `key` must still wait before its password may be checked again, if at all.
    pub fn wait(&self, key: AccountKey, now: Instant) -> Option<Duration> {
        let f = self.accounts.get(&key)?;
        (f.until > now).then(|| f.until - now)
    }

    /// Records a wrong password for `key` at `now`; returns the wait it now has.
    pub fn failed(&self, key: AccountKey, now: Instant) -> Duration {
        let free = self.free;
        let entry = self.accounts.entry(key).and_upsert_with(|old| {
            let count = old.map_or(0, |e| e.value().count).saturating_add(1);
            Failures {
                count,
                until: now + delay_after(count, free),
            }
        });
        entry.value().until.saturating_duration_since(now)
    }

    /// A right password: the account starts afresh.
    pub fn succeeded(&self, key: AccountKey) {
        self.accounts.invalidate(&key);
    }

    pub fn len(&self) -> u64 {
        self.accounts.run_pending_tasks();
        self.accounts.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The wait after `count` failures in a row when `free` are allowed: none up to `free - 1`, then
/// 2^(count - free) seconds, capped at [`MAX_DELAY`].
pub fn delay_after(count: u32, free: u32) -> Duration {
    match count.checked_sub(free) {
        None => Duration::ZERO,
        Some(k) => Duration::from_secs(1u64 << k.min(20)).min(MAX_DELAY),
    }
}

/// Why a request was refused: the client waits this long (for `Retry-After`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
}

/// Sign-in and every other password check (change password, change e-mail): per client address,
/// and the progressive delay per account. Failures anywhere count against the same account.
pub struct SignInLimiter {
    per_ip: KeyedLimit<IpAddr>,
    delay: FailureDelay,
    keys: AccountKeys,
}

impl SignInLimiter {
    /// `per_ip_per_minute` password checks a minute from one address; `free_failures` wrong passwords
    /// in a row on one account before it is slowed down.
    pub fn new(per_ip_per_minute: u32, free_failures: u32) -> Self {
        Self {
            per_ip: KeyedLimit::per_minute(per_ip_per_minute),
            delay: FailureDelay::new(free_failures, MAX_KEYS),
            keys: AccountKeys::default(),
        }
    }

    /// Counts one attempt; `false` when the address is over its limit or the account must still wait.
    pub fn allow(&self, ip: Option<IpAddr>, account: &str) -> bool {
        self.check(ip, account).is_ok()
    }

    /// Counts one attempt and says how long to wait when refused.
    pub fn check(&self, ip: Option<IpAddr>, account: &str) -> Result<(), Refused> {
        if let Some(wait) = self.delay.wait(self.keys.key(account), Instant::now()) {
            return Err(Refused {
                retry_after: wait.max(Duration::from_secs(1)),
            });
        }
        if !ip.is_none_or(|ip| self.per_ip.check(ip)) {
            return Err(Refused {
                retry_after: Duration::from_secs(60),
            });
        }
        Ok(())
    }

    /// A wrong password for `account`.
    pub fn failed(&self, account: &str) {
        self.delay.failed(self.keys.key(account), Instant::now());
    }

    /// A right password for `account`.
    pub fn succeeded(&self, account: &str) {
        self.delay.succeeded(self.keys.key(account));
    }
}

/// Endpoints that send e-mail (create account, forgot password, change e-mail): per client address
/// and per address written to, so nobody can flood an inbox or the outbox.
pub struct MailLimiter {
    per_ip: KeyedLimit<IpAddr>,
    per_address: KeyedLimit<AccountKey>,
    keys: AccountKeys,
}

impl MailLimiter {
    pub fn new(per_ip_per_hour: u32, per_address_per_hour: u32) -> Self {
        Self {
            per_ip: KeyedLimit::per_hour(per_ip_per_hour),
            per_address: KeyedLimit::per_hour(per_address_per_hour),
            keys: AccountKeys::default(),
        }
    }

    /// Counts one message asked for from `ip` to `to`; `false` past either limit.
    pub fn allow(&self, ip: Option<IpAddr>, to: &str) -> bool {
        ip.is_none_or(|ip| self.per_ip.check(ip)) && self.per_address.check(self.keys.key(to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_distinct_keys_stays_within_the_bound() {
        let limit = KeyedLimit::new(3, Duration::from_secs(60), 1_000);
        let keys = AccountKeys::default();
        for i in 0..20_000 {
            assert!(limit.check(keys.key(&format!("someone{i}@example.org"))));
        }
        assert!(limit.len() <= 1_000, "{} keys held", limit.len());

        let delay = FailureDelay::new(3, 1_000);
        let now = Instant::now();
        for i in 0..20_000 {
            delay.failed(keys.key(&format!("someone{i}@example.org")), now);
        }
        assert!(delay.len() <= 1_000, "{} accounts held", delay.len());
    }

    #[test]
    fn each_key_gets_its_own_quota() {
        let limit = KeyedLimit::new(2, Duration::from_secs(60), 100);
        assert!(limit.check("a"));
        assert!(limit.check("a"));
        assert!(!limit.check("a"));
        assert!(limit.check("b"));
    }

    #[test]
    fn the_delay_doubles_after_the_free_failures_and_is_capped() {
        assert_eq!(delay_after(1, 3), Duration::ZERO);
        assert_eq!(delay_after(2, 3), Duration::ZERO);
        assert_eq!(delay_after(3, 3), Duration::from_secs(1));
        assert_eq!(delay_after(4, 3), Duration::from_secs(2));
        assert_eq!(delay_after(6, 3), Duration::from_secs(8));
        assert_eq!(delay_after(20, 3), MAX_DELAY);
        assert_eq!(delay_after(u32::MAX, 3), MAX_DELAY);
    }

    #[test]
    fn an_account_waits_after_failures_and_a_success_clears_it() {
        let keys = AccountKeys::default();
        let admin = keys.key("admin@guildhall.test");
        let d = FailureDelay::new(3, 100);
        let t0 = Instant::now();
        d.failed(admin, t0);
        d.failed(admin, t0);
        assert_eq!(d.wait(admin, t0), None, "two failures are free");
        assert_eq!(d.failed(admin, t0), Duration::from_secs(1));
        assert!(d.wait(admin, t0).is_some());
        assert_eq!(d.wait(admin, t0 + Duration::from_secs(1)), None);
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(d.failed(admin, t1), Duration::from_secs(2));
        assert_eq!(
            d.wait(keys.key(" Admin@Guildhall.TEST "), t1),
            Some(Duration::from_secs(2))
        );
        // However long an attacker keeps at it, the owner never waits longer than the cap.
        let mut t = t1;
        for _ in 0..100 {
            t += d.wait(admin, t).unwrap_or_default();
            assert!(d.failed(admin, t) <= MAX_DELAY);
        }
        d.succeeded(admin);
        assert_eq!(d.wait(admin, t), None);
    }
}
