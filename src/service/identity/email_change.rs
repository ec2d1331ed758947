//! Changing the e-mail address an account signs in with: a link to the new address, and the change
//! made (account and member record) only when it is opened.

use super::{email_key, find_by_email, live_token, verify_password, PURPOSE_CHANGE_EMAIL};
use crate::domain::email::Email;
use crate::domain::{Actor, AppError, FieldErrors};
use crate::entity::audit_log::AuditAction;
use crate::entity::{auth_token, user};
use crate::service::{audit, outbox, outbox::NewMessage, tokens};
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::json;

/// Hours a link to confirm a new e-mail address stays valid.
pub const CHANGE_EMAIL_HOURS: i64 = 24;

/// A signed-in person asks to sign in with another address: after their password is checked, a link
/// goes to the new address; nothing changes until it is opened. The answer is the same whether or not
/// the new address belongs to another account (that is found out, without telling, at confirmation).
#[tracing::instrument(skip_all)]
pub async fn request_email_change(
    db: &DatabaseConnection,
    actor: &Actor,
    password: String,
    new_email: &str,
    base_url: &str,
) -> Result<Email, AppError> {
    let uid = actor.user()?;
    let u = user::Entity::find_by_id(uid)
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(new_email));
    if let Some(e) = &email {
        if email_key(e) == u.email_key {
            errors.add("email", "This is already your email address");
        }
    }
    if password.is_empty() {
        errors.add("password", "Enter your password");
    }
    errors.into_result()?;
    let email = email.ok_or_else(|| AppError::field("email", "Enter your new email address"))?;
    if !verify_password(password, Some(u.password_hash.clone())).await {
        return Err(AppError::field("password", "Your password is not right"));
    }
    let txn = crate::service::begin(db).await?;
    let link = tokens::issue(
        &txn,
        u.id,
        PURPOSE_CHANGE_EMAIL,
        Duration::hours(CHANGE_EMAIL_HOURS),
        Some(email.as_str().to_owned()),
        format!("{base_url}/confirm-email?token="),
        "confirm_url",
    )
    .await?;
    outbox::enqueue(
        &txn,
        NewMessage {
            template: "confirm_new_email",
            to_address: email.as_str(),
            to_name: Some(&u.given_name),
            user_id: Some(u.id),
            member_id: None,
            context: json!({
                "given_name": u.given_name,
                "new_email": email.as_str(),
                "expires_hours": CHANGE_EMAIL_HOURS,
                "base_url": base_url,
            }),
            link: Some(link),
        },
    )
    .await?;
    audit::record(
        &txn,
        actor,
        "user",
        u.id,
        AuditAction::EmailChangeRequested,
        None,
        Some(json!({"new_email": email.as_str()})),
    )
    .await?;
    txn.commit().await?;
    Ok(email)
}

/// Opens a link sent by `request_email_change`: the account (and its member record) take the new
/// address, and the old address is told.
#[tracing::instrument(skip_all)]
pub async fn confirm_email_change(
    db: &DatabaseConnection,
    token: &str,
    base_url: &str,
) -> Result<(), AppError> {
    use crate::entity::member;
    let txn = crate::service::begin(db).await?;
    let t = live_token(&txn, token, PURPOSE_CHANGE_EMAIL).await?;
    let new_email = t
        .new_email
        .as_deref()
        .map(Email::parse)
        .and_then(Result::ok)
        .ok_or(AppError::NotFound)?;
    let u = user::Entity::find_by_id(t.user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if find_by_email(&txn, &new_email)
        .await?
        .is_some_and(|other| other.id != u.id)
    {
        return Err(AppError::Conflict(
            "Another account already uses this email address, so we could not change yours to it."
                .into(),
        ));
    }
    let now = crate::service::now();
    let mut tok: auth_token::ActiveModel = t.into();
    tok.used_at = Set(Some(now));
    tok.update(&txn).await?;
    let old = u.clone();
    let mut am: user::ActiveModel = u.into();
    am.email = Set(new_email.as_str().to_owned());
    am.email_key = Set(email_key(&new_email));
    am.email_verified_at = Set(Some(now));
    am.updated_at = Set(now);
    let u = am.update(&txn).await?;
    if let Some(m) = member::Entity::find()
        .filter(member::Column::UserId.eq(u.id))
        .one(&txn)
        .await?
    {
        let mut mm: member::ActiveModel = m.into();
        mm.email = Set(new_email.as_str().to_owned());
        mm.search_email = Set(new_email.as_str().to_lowercase());
        mm.updated_at = Set(now);
        mm.update(&txn).await?;
    }
    let actor = Actor::member(u.id, &u.email);
    audit::record(
        &txn,
        &actor,
        "user",
        u.id,
        AuditAction::EmailChanged,
        Some(json!({"email": old.email})),
        Some(json!({"email": u.email})),
    )
    .await?;
    outbox::enqueue(
        &txn,
        NewMessage {
            template: "email_changed",
            to_address: &old.email,
            to_name: Some(&old.given_name),
            user_id: Some(u.id),
            member_id: None,
            context: json!({
                "given_name": old.given_name,
                "new_email": u.email,
                "reset_url": format!("{base_url}/forgot-password"),
                "base_url": base_url,
            }),
            link: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
