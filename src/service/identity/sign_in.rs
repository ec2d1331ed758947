//! Signing in: checking an address and password, and the actor a signed-in session acts as.

use super::{find_by_email, send_verification, verify_password, KIND_STAFF};
use crate::domain::email::Email;
use crate::domain::{Actor, ActorKind, AppError, Role};
use crate::entity::audit_log::AuditAction;
use crate::entity::{user, user_role};
use crate::service::audit;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Why a sign-in was refused. Only `NotVerified` is told apart, and only after the right password.
#[derive(Debug, PartialEq, Eq)]
pub enum SignInRefusal {
    BadCredentials,
    NotVerified,
    Disabled,
}

/// Checks an e-mail address and password. On an unconfirmed address with the right password, a new
/// confirmation link is sent.
#[tracing::instrument(skip(db, password))]
pub async fn authenticate(
    db: &DatabaseConnection,
    email: &str,
    password: String,
    base_url: &str,
) -> Result<Result<user::Model, SignInRefusal>, AppError> {
    let found = match Email::parse(email) {
        Ok(e) => find_by_email(db, &e).await?,
        Err(_) => None,
    };
    let ok = verify_password(password, found.as_ref().map(|u| u.password_hash.clone())).await;
    let Some(u) = found.filter(|_| ok) else {
        return Ok(Err(SignInRefusal::BadCredentials));
    };
    if u.disabled_at.is_some() {
        return Ok(Err(SignInRefusal::Disabled));
    }
    if u.email_verified_at.is_none() {
        let txn = crate::service::begin(db).await?;
        send_verification(&txn, &u, base_url).await?;
        txn.commit().await?;
        return Ok(Err(SignInRefusal::NotVerified));
    }
    Ok(Ok(u))
}

/// The roles a user holds.
pub async fn roles_of<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<Vec<Role>, AppError> {
    let rows = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(user_id))
        .all(db)
        .await?;
    let mut roles: Vec<Role> = rows.iter().filter_map(|r| r.role.parse().ok()).collect();
    roles.sort();
    Ok(roles)
}

/// The actor for a signed-in account, or `None` if the account is gone or disabled.
pub async fn load_actor<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<Option<Actor>, AppError> {
    let Some(u) = user::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(None);
    };
    if u.disabled_at.is_some() {
        return Ok(None);
    }
    let (kind, roles) = if u.kind == KIND_STAFF {
        (ActorKind::Staff, roles_of(db, u.id).await?)
    } else {
        (ActorKind::Member, vec![])
    };
    Ok(Some(Actor {
        kind,
        user_id: Some(u.id),
        label: u.email,
        roles,
        request_id: None,
    }))
}

/// Records a sign-in or sign-out in the audit trail.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn record_session_event(
    db: &DatabaseConnection,
    actor: &Actor,
    action: AuditAction,
) -> Result<(), AppError> {
    if let Some(id) = actor.user_id {
        audit::record(db, actor, "user", id, action, None, None).await?;
    }
    Ok(())
}
