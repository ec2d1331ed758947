//! Passwords after sign-up: a reset link for a forgotten one, and a signed-in person changing theirs.
//! Either way every session of the account ends, other links die and a notice is e-mailed.

use super::{
    check_password, find_by_email, hash_password, issue_link, live_token, mail_user,
    mail_user_link, verify_password, PURPOSE_RESET, RESET_MINUTES,
};
use crate::domain::email::Email;
use crate::domain::{Actor, AppError, FieldErrors};
use crate::entity::audit_log::AuditAction;
use crate::entity::{auth_token, session, user};
use crate::service::{audit, tokens};
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

/// Sends a password reset link if the address has an account. Always answers the same.
#[tracing::instrument(skip(db))]
pub async fn request_password_reset(
    db: &DatabaseConnection,
    email: &str,
    base_url: &str,
) -> Result<(), AppError> {
    let email = Email::parse(email).map_err(|e| AppError::field("email", e.to_string()))?;
    let txn = crate::service::begin(db).await?;
    if let Some(u) = find_by_email(&txn, &email)
        .await?
        .filter(|u| u.disabled_at.is_none())
    {
        let link = issue_link(
            &txn,
            u.id,
            PURPOSE_RESET,
            Duration::minutes(RESET_MINUTES),
            format!("{base_url}/reset-password"),
            "reset_url",
        )
        .await?;
        mail_user_link(
            &txn,
            &u,
            "password_reset",
            json!({
                "given_name": u.given_name,
                "expires_minutes": RESET_MINUTES,
                "base_url": base_url,
            }),
            Some(link),
        )
        .await?;
        let actor = Actor::anonymous();
        audit::record(
            &txn,
            &actor,
            "user",
            u.id,
            AuditAction::PasswordResetRequested,
            None,
            None,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Whether a reset link can still be used (to show the form, or say it has expired).
pub async fn check_reset_token(db: &DatabaseConnection, token: &str) -> Result<(), AppError> {
    live_token(db, token, PURPOSE_RESET).await.map(|_| ())
}

/// Sets a new password with a reset token, uses the token up, signs the account out everywhere and
/// sends a security notice. Returns the account's id.
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    db: &DatabaseConnection,
    token: &str,
    password: String,
    base_url: &str,
) -> Result<Uuid, AppError> {
    let t = live_token(db, token, PURPOSE_RESET).await?;
    let email = user::Entity::find_by_id(t.user_id)
        .one(db)
        .await?
        .map(|u| u.email);
    let mut errors = FieldErrors::new();
    check_password(&password, email.as_deref(), "password", &mut errors);
    errors.into_result()?;
    let hash = hash_password(password).await?;
    let txn = crate::service::begin(db).await?;
    // Re-check inside the transaction, so two uses of one link cannot both succeed.
    let t = live_token(&txn, token, PURPOSE_RESET).await.and_then(|x| {
        if x.id == t.id {
            Ok(x)
        } else {
            Err(AppError::NotFound)
        }
    })?;
    let now = crate::service::now();
    let claimed = auth_token::Entity::update_many()
        .col_expr(
            auth_token::Column::UsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(auth_token::Column::Id.eq(t.id))
        .filter(auth_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict(
            "This password reset link has already been used. Ask for a new one.".into(),
        ));
    }
    let u = user::Entity::find_by_id(t.user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut am: user::ActiveModel = u.clone().into();
    am.password_hash = Set(hash);
    if u.email_verified_at.is_none() {
        am.email_verified_at = Set(Some(now));
    }
    am.updated_at = Set(now);
    let u = am.update(&txn).await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(u.id))
        .exec(&txn)
        .await?;
    // Every other link still out (another reset, an address change, an invitation) dies with it.
    tokens::end_all(&txn, u.id).await?;
    let actor = Actor::member(u.id, &u.email);
    audit::record(
        &txn,
        &actor,
        "user",
        u.id,
        AuditAction::PasswordReset,
        None,
        Some(json!({"password": "changed"})),
    )
    .await?;
    mail_user(&txn, &u, "password_changed", json!({"given_name": u.given_name, "reset_url": format!("{base_url}/forgot-password"), "base_url": base_url}))
    .await?;
    txn.commit().await?;
    Ok(u.id)
}

/// A signed-in person changes their password after giving the current one. Every session of the
/// account is ended (the caller starts a fresh one for the person at hand) and a notice is e-mailed.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    db: &DatabaseConnection,
    actor: &Actor,
    current: String,
    new_password: String,
    base_url: &str,
) -> Result<(), AppError> {
    let uid = actor.user()?;
    let u = user::Entity::find_by_id(uid)
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let mut errors = FieldErrors::new();
    if current.is_empty() {
        errors.add("current_password", "Enter your current password");
    }
    check_password(&new_password, Some(&u.email), "new_password", &mut errors);
    errors.into_result()?;
    if !verify_password(current, Some(u.password_hash.clone())).await {
        return Err(AppError::field(
            "current_password",
            "Your current password is not right",
        ));
    }
    let hash = hash_password(new_password).await?;
    let txn = crate::service::begin(db).await?;
    let now = crate::service::now();
    let mut am: user::ActiveModel = u.clone().into();
    am.password_hash = Set(hash);
    am.updated_at = Set(now);
    let u = am.update(&txn).await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(u.id))
        .exec(&txn)
        .await?;
    tokens::end_all(&txn, u.id).await?;
    audit::record(
        &txn,
        actor,
        "user",
        u.id,
        AuditAction::PasswordChanged,
        None,
        Some(json!({"password": "changed"})),
    )
    .await?;
    mail_user(&txn, &u, "password_changed", json!({"given_name": u.given_name, "reset_url": format!("{base_url}/forgot-password"), "base_url": base_url}))
    .await?;
    txn.commit().await?;
    Ok(())
}
