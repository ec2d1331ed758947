//! Registering a portal account and confirming its e-mail address.

use super::{
    check_password, find_by_email, hash_password, insert_user, issue_link, live_token, mail_user,
    mail_user_link, public_view, KIND_MEMBER, PURPOSE_VERIFY, VERIFY_HOURS,
};
use crate::domain::email::Email;
use crate::domain::person::PersonName;
use crate::domain::{Actor, AppError, FieldErrors};
use crate::entity::audit_log::AuditAction;
use crate::entity::{auth_token, user};
use crate::service::audit;
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
};
use serde_json::json;

/// What the person typed on the create-account form.
#[derive(Clone, Debug, Default)]
pub struct Registration {
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub password: String,
}

pub(super) async fn send_verification<C: ConnectionTrait>(
    db: &C,
    u: &user::Model,
    base_url: &str,
) -> Result<(), AppError> {
    let link = issue_link(
        db,
        u.id,
        PURPOSE_VERIFY,
        Duration::hours(VERIFY_HOURS),
        format!("{base_url}/verify-email"),
        "verify_url",
    )
    .await?;
    mail_user_link(
        db,
        u,
        "verify_email",
        json!({
            "given_name": u.given_name,
            "expires_hours": VERIFY_HOURS,
            "base_url": base_url,
        }),
        Some(link),
    )
    .await?;
    Ok(())
}

/// Creates a member's portal account and sends the confirmation link. When the address already has an
/// account, nothing is created and that address is told instead; the caller cannot tell the difference.
#[tracing::instrument(skip(db, input), fields(email = %input.email))]
pub async fn register(
    db: &DatabaseConnection,
    actor: &Actor,
    input: Registration,
    base_url: &str,
) -> Result<(), AppError> {
    let mut errors = FieldErrors::new();
    let given = errors.check("given_name", PersonName::parse(&input.given_name));
    let family = errors.check("family_name", PersonName::parse(&input.family_name));
    let email = errors.check("email", Email::parse(&input.email));
    check_password(
        &input.password,
        email.as_ref().map(Email::as_str),
        "password",
        &mut errors,
    );
    errors.into_result()?;
    let (Some(given), Some(family), Some(email)) = (given, family, email) else {
        return Err(AppError::internal("registration parsed without values"));
    };
    let hash = hash_password(input.password).await?;
    let txn = crate::service::begin(db).await?;
    if let Some(existing) = find_by_email(&txn, &email).await? {
        mail_user(
            &txn,
            &existing,
            "account_exists",
            json!({
                "given_name": existing.given_name,
                "sign_in_url": format!("{base_url}/sign-in"),
                "reset_url": format!("{base_url}/forgot-password"),
                "base_url": base_url,
            }),
        )
        .await?;
        audit::record(
            &txn,
            actor,
            "user",
            existing.id,
            AuditAction::RegistrationAttemptOnExistingAddress,
            None,
            None,
        )
        .await?;
        txn.commit().await?;
        return Ok(());
    }

    let u = insert_user(&txn, &email, &given, &family, KIND_MEMBER, hash, None).await?;
    let actor = Actor {
        user_id: actor.user_id.or(Some(u.id)),
        ..actor.clone()
    };
    audit::record(
        &txn,
        &actor,
        "user",
        u.id,
        AuditAction::Registered,
        None,
        Some(public_view(&u, &[])),
    )
    .await?;
    send_verification(&txn, &u, base_url).await?;
    txn.commit().await?;
    Ok(())
}

/// Confirms the address the token was sent to and welcomes the person.
#[tracing::instrument(skip_all)]
pub async fn verify_email(
    db: &DatabaseConnection,
    token: &str,
    base_url: &str,
) -> Result<(), AppError> {
    let txn = crate::service::begin(db).await?;
    let t = live_token(&txn, token, PURPOSE_VERIFY).await?;
    let u = user::Entity::find_by_id(t.user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = crate::service::now();
    let mut tok: auth_token::ActiveModel = t.into();
    tok.used_at = Set(Some(now));
    tok.update(&txn).await?;
    let before = public_view(&u, &[]);
    let mut am: user::ActiveModel = u.clone().into();
    am.email_verified_at = Set(Some(now));
    am.updated_at = Set(now);
    let u = am.update(&txn).await?;
    let actor = Actor::member(u.id, &u.email);
    audit::record(
        &txn,
        &actor,
        "user",
        u.id,
        AuditAction::EmailVerified,
        Some(before),
        Some(public_view(&u, &[])),
    )
    .await?;
    mail_user(&txn, &u, "welcome", json!({"given_name": u.given_name, "sign_in_url": format!("{base_url}/sign-in"), "base_url": base_url}))
    .await?;
    txn.commit().await?;
    Ok(())
}
