//! The steps of signing in shared by the password form (`auth`) and the second step (`mfa`): the
//! pending sign-in kept in the session between the password and the second step, and finishing a
//! sign-in (a new session id holding the account, then on to a safe `next`). Both of those modules
//! use this one; it uses neither, so the two stay out of each other's way.
//!
//! A person who has given the right password but not yet the second factor is only *pending*: the
//! session holds their id under its own key, never `SESSION_USER`, so the middleware sees a visitor with
//! no permissions at all; only the second-step pages read the pending id. It lapses after 10 minutes.

use crate::ctx;
use guildhall::domain::AppError;
use guildhall::service::mfa::{self, SecretKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const SESSION_PENDING: &str = "mfa_pending";
pub const SESSION_ENROL: &str = "mfa_enrol";
/// Minutes between the password and the second step before signing in starts again.
pub const PENDING_MINUTES: i64 = 10;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    pub uid: Uuid,
    pub at: i64,
    pub next: Option<String>,
}

/// A secret being set up, kept until the person confirms it with a code.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Enrolling {
    pub uid: Uuid,
    pub secret: String,
    pub codes: Vec<String>,
}

/// The installation's sealing key (`GUILDHALL_SECRET_KEY`), read once.
pub fn key() -> &'static SecretKey {
    static KEY: std::sync::OnceLock<SecretKey> = std::sync::OnceLock::new();
    KEY.get_or_init(SecretKey::from_env)
}

/// After the right password: whether this account must pass a second step first (staff always,
/// members who turned an authenticator on).
pub async fn needed(
    db: &sea_orm::DatabaseConnection,
    u: &guildhall::entity::user::Model,
) -> Result<bool, AppError> {
    Ok(mfa::required_for(u) || mfa::is_enrolled(db, u.id).await?)
}

/// Records the pending sign-in and sends the person to the code step, or to set up an
/// authenticator if the account has none yet.
pub async fn begin(
    db: &sea_orm::DatabaseConnection,
    session: &tower_sessions::Session,
    u: &guildhall::entity::user::Model,
    next: Option<String>,
) -> Result<(), AppError> {
    let pending = Pending {
        uid: u.id,
        at: guildhall::service::now().timestamp(),
        next,
    };
    session
        .insert(SESSION_PENDING, pending)
        .await
        .map_err(AppError::internal)?;
    if mfa::is_enrolled(db, u.id).await? {
        leptos_axum::redirect("/sign-in/code");
    } else {
        leptos_axum::redirect("/sign-in/set-up");
    }
    Ok(())
}

/// The pending sign-in, if it has not lapsed.
pub async fn pending(session: &tower_sessions::Session) -> Result<Pending, AppError> {
    let p = session
        .get::<Pending>(SESSION_PENDING)
        .await
        .ok()
        .flatten()
        .filter(|p| guildhall::service::now().timestamp() - p.at < PENDING_MINUTES * 60)
        .ok_or_else(|| {
            AppError::Conflict(
                "Your sign-in has timed out or was not started. Sign in again with your email address and password.".into(),
            )
        })?;
    Ok(p)
}

/// Whose authenticator a set-up page is for: the signed-in person, or the one half-way through
/// signing in. `true` when pending.
pub async fn subject() -> Result<(Uuid, bool), AppError> {
    if let Some(uid) = ctx::actor().user_id {
        return Ok((uid, false));
    }
    let p = pending(&ctx::session()?).await?;
    Ok((p.uid, true))
}

/// A path we may send someone to after signing in: `next` resolved against a stand-in origin must
/// stay on that origin, and neither it nor its percent-decoded form may hold a control character or a
/// backslash (browsers drop tabs and newlines from addresses and read `\\` as `/`, which turns
/// `/%09/evil.example` or `/\\evil.example` into another site). Only the path and query are returned,
/// so the answer is always a plain local path that is also a valid `Location` header.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    const STAND_IN: &str = "https://guildhall.invalid/";
    let raw = next?;
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()?;
    let unsafe_char = |s: &str| s.chars().any(|c| c.is_control() || c == '\\');
    if raw.len() >= 512
        || !raw.starts_with('/')
        || raw.starts_with("//")
        || decoded.starts_with("//")
        || unsafe_char(raw)
        || unsafe_char(&decoded)
    {
        return None;
    }
    let base = url::Url::parse(STAND_IN).ok()?;
    let resolved = base.join(raw).ok()?;
    if resolved.origin() != base.origin() {
        return None;
    }
    let mut path = resolved.path().to_owned();
    if let Some(q) = resolved.query() {
        path.push('?');
        path.push_str(q);
    }
    Some(path)
}

/// Signs the person in (after the password, and the second step where one is needed): a new session
/// id holding the account, the sign-in audited, then on to `next` or their area.
pub async fn finish_sign_in(
    st: &ctx::ServerState,
    user_id: Uuid,
    next: Option<String>,
) -> Result<(), AppError> {
    use guildhall::service::identity;
    let session = ctx::session()?;
    session.cycle_id().await.map_err(AppError::internal)?;
    let _ = session.remove::<Pending>(SESSION_PENDING).await;
    session
        .insert(ctx::SESSION_USER, user_id)
        .await
        .map_err(AppError::internal)?;
    session
        .insert(ctx::SESSION_AUTH_AT, guildhall::service::now().timestamp())
        .await
        .map_err(AppError::internal)?;
    let actor = identity::load_actor(&st.db, user_id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    identity::record_session_event(
        &st.db,
        &actor,
        guildhall::entity::audit_log::AuditAction::SignedIn,
    )
    .await?;
    let home = if actor.is_staff() {
        "/staff"
    } else {
        "/portal"
    };
    let target = safe_next(next.as_deref()).unwrap_or_else(|| home.to_owned());
    leptos_axum::redirect(&target);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/staff/outbox")),
            Some("/staff/outbox".into())
        );
        assert_eq!(safe_next(Some("//evil.example")), None);
        assert_eq!(safe_next(Some("https://evil.example")), None);
        assert_eq!(safe_next(Some("/\\evil")), None);
        assert_eq!(safe_next(None), None);
        for evil in [
            "/%09/evil.example",
            "/\t/evil.example",
            "/%0a/evil.example",
            "/\n/evil.example",
            "/%5Cevil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "javascript:alert(1)",
            "evil.example",
            "/\u{7f}/evil.example",
        ] {
            assert_eq!(safe_next(Some(evil)), None, "{evil:?}");
        }
        assert_eq!(
            safe_next(Some("/staff/members/list?which=due&page=2")),
            Some("/staff/members/list?which=due&page=2".into())
        );
        assert_eq!(
            safe_next(Some("/portal/../staff")),
            Some("/staff".into()),
            "dot segments resolved"
        );
    }
}
