//! Signing in and out, creating an account, confirming an address and resetting a password.
//! Each server function: check the limit or permission → one `guildhall::service` call → redirect.

use guildhall::domain::{Actor, AppError};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in person, as pages need them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub actor: Actor,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
}

impl Me {
    pub fn is_staff(&self) -> bool {
        self.actor.is_staff()
    }
}

/// A path we may send someone to after signing in: on this site, never a protocol-relative URL.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?.trim();
    let ok = n.starts_with('/')
        && !n.starts_with("//")
        && !n.contains('\\')
        && !n.contains("://")
        && n.len() < 512;
    ok.then(|| n.to_owned())
}

#[server(prefix = "/fn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<Me>, AppError> {
    let actor = crate::ctx::actor();
    let Some(uid) = actor.user_id else {
        return Ok(None);
    };
    let st = crate::ctx::state()?;
    let Some(u) = guildhall::service::identity::get_user(&st.db, uid).await? else {
        return Ok(None);
    };
    Ok(Some(Me {
        actor,
        given_name: u.given_name,
        family_name: u.family_name,
        email: u.email,
    }))
}

#[server(prefix = "/fn", endpoint = "sign-in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::ctx;
    use guildhall::domain::FieldErrors;
    use guildhall::service::identity::{self, SignInRefusal};

    let st = ctx::state()?;
    let ip = ctx::client_ip();
    let mut errors = FieldErrors::new();
    if email.trim().is_empty() {
        errors.add("email", "Enter your email address");
    }
    if password.is_empty() {
        errors.add("password", "Enter your password");
    }
    errors.into_result()?;
    if !st.limiter.allow(ip, &email) {
        tracing::warn!(ip = ?ip, "sign-in refused: too many attempts");
        ctx::set_status(429);
        return Err(AppError::RateLimited);
    }
    match identity::authenticate(&st.db, &email, password, &st.base_url).await? {
        Ok(user) => {
            if crate::mfa::flow::needed(&st.db, &user).await? {
                // Not signed in yet: the session only remembers who passed the password.
                let session = ctx::session()?;
                session.cycle_id().await.map_err(AppError::internal)?;
                return crate::mfa::flow::begin(&st.db, &session, &user, next).await;
            }
            finish_sign_in(&st, user.id, next).await
        }
        Err(SignInRefusal::NotVerified) => {
            st.outbox_wake.notify_one();
            Err(AppError::Conflict(
                "You need to confirm your email address before you can sign in. We have sent you a new link: check your email."
                    .into(),
            ))
        }
        Err(refusal) => {
            tracing::warn!(ip = ?ip, ?refusal, "sign-in refused");
            Err(AppError::field(
                "email",
                "Enter the email address and password for your account",
            ))
        }
    }
}

/// Signs the person in (after the password, and the second step where one is needed): a new session
/// id holding the account, the sign-in audited, then on to `next` or their area.
#[cfg(feature = "ssr")]
pub(crate) async fn finish_sign_in(
    st: &crate::ctx::ServerState,
    user_id: uuid::Uuid,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::ctx;
    use guildhall::service::identity;
    let session = ctx::session()?;
    session.cycle_id().await.map_err(AppError::internal)?;
    let _ = session
        .remove::<crate::mfa::flow::Pending>(crate::mfa::flow::SESSION_PENDING)
        .await;
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
    identity::record_session_event(&st.db, &actor, "signed_in").await?;
    let home = if actor.is_staff() {
        "/staff"
    } else {
        "/portal"
    };
    let target = safe_next(next.as_deref()).unwrap_or_else(|| home.to_owned());
    leptos_axum::redirect(&target);
    Ok(())
}

#[server(prefix = "/fn", endpoint = "sign-out")]
pub async fn sign_out() -> Result<(), AppError> {
    let actor = crate::ctx::actor();
    let st = crate::ctx::state()?;
    if actor.is_signed_in() {
        guildhall::service::identity::record_session_event(&st.db, &actor, "signed_out").await?;
    }
    crate::ctx::session()?
        .flush()
        .await
        .map_err(AppError::internal)?;
    leptos_axum::redirect("/?signed_out=1");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "create-account")]
pub async fn create_account(
    given_name: String,
    family_name: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    use guildhall::service::identity;
    let st = crate::ctx::state()?;
    let actor = crate::ctx::actor();
    identity::register(
        &st.db,
        &actor,
        identity::Registration {
            given_name,
            family_name,
            email,
            password,
        },
        &st.base_url,
    )
    .await?;
    st.outbox_wake.notify_one();
    leptos_axum::redirect("/create-account/check-email");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "verify-email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    let st = crate::ctx::state()?;
    guildhall::service::identity::verify_email(&st.db, &token, &st.base_url).await?;
    st.outbox_wake.notify_one();
    leptos_axum::redirect("/sign-in?verified=1");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "forgot-password")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    let st = crate::ctx::state()?;
    if email.trim().is_empty() {
        return Err(AppError::field("email", "Enter your email address"));
    }
    guildhall::service::identity::request_password_reset(&st.db, &email, &st.base_url).await?;
    st.outbox_wake.notify_one();
    leptos_axum::redirect("/forgot-password/sent");
    Ok(())
}

/// Whether a reset link can still be used.
#[server(prefix = "/fn", endpoint = "reset-link")]
pub async fn reset_link_usable(token: String) -> Result<bool, AppError> {
    let st = crate::ctx::state()?;
    match guildhall::service::identity::check_reset_token(&st.db, &token).await {
        Ok(()) => Ok(true),
        Err(AppError::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

#[server(prefix = "/fn", endpoint = "reset-password")]
pub async fn reset_password(
    token: String,
    password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    let st = crate::ctx::state()?;
    if password != confirm_password {
        return Err(AppError::field(
            "confirm_password",
            "The passwords do not match. Enter the same password twice",
        ));
    }
    guildhall::service::identity::reset_password(&st.db, &token, password, &st.base_url).await?;
    st.outbox_wake.notify_one();
    leptos_axum::redirect("/sign-in?reset=1");
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
    }
}
