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
    use crate::{ctx, signin};
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
    if let Err(r) = st.limiter.check(ip, &email) {
        return Err(ctx::rate_limited("sign-in", r.retry_after));
    }
    let outcome = identity::authenticate(&st.db, &email, password, &st.base_url).await?;
    match &outcome {
        Ok(_) | Err(SignInRefusal::NotVerified) => st.limiter.succeeded(&email),
        Err(_) => st.limiter.failed(&email),
    }
    match outcome {
        Ok(user) => {
            if signin::needed(&st.db, &user).await? {
                // Not signed in yet: the session only remembers who passed the password.
                let session = ctx::session()?;
                session.cycle_id().await.map_err(AppError::internal)?;
                return signin::begin(&st.db, &session, &user, next).await;
            }
            signin::finish_sign_in(&st, user.id, next).await
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

#[server(prefix = "/fn", endpoint = "sign-out")]
pub async fn sign_out() -> Result<(), AppError> {
    let actor = crate::ctx::actor();
    let st = crate::ctx::state()?;
    if actor.is_signed_in() {
        guildhall::service::identity::record_session_event(
            &st.db,
            &actor,
            guildhall::entity::audit_log::AuditAction::SignedOut,
        )
        .await?;
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
    // Each accepted form hashes a password and writes to the address given.
    if guildhall::domain::email::Email::parse(&email).is_ok()
        && !st.mail_limiter.allow(crate::ctx::client_ip(), &email)
    {
        return Err(crate::ctx::rate_limited(
            "create-account",
            std::time::Duration::from_secs(60 * 60),
        ));
    }
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

/// Asks for a reset link. The answer must not tell whether the address has an account, not even by
/// its timing: once the address reads as one, the work (finding the account, the token, the message
/// in the outbox) is handed to a task of its own and the answer goes at once, the same either way.
#[server(prefix = "/fn", endpoint = "forgot-password")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    use guildhall::domain::email::Email;
    let st = crate::ctx::state()?;
    if email.trim().is_empty() {
        return Err(AppError::field("email", "Enter your email address"));
    }
    Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?;
    if !st.mail_limiter.allow(crate::ctx::client_ip(), &email) {
        return Err(crate::ctx::rate_limited(
            "forgot-password",
            std::time::Duration::from_secs(60 * 60),
        ));
    }
    tokio::spawn(async move {
        match guildhall::service::identity::request_password_reset(&st.db, &email, &st.base_url)
            .await
        {
            Ok(()) => st.outbox_wake.notify_one(),
            Err(e) => tracing::error!(error = ?e, "password reset request failed"),
        }
    });
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
