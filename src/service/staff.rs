//! Admins managing staff accounts: disabling and re-enabling an account, removing a role.
//!
//! Rules kept here: each takes effect at once — the account's sessions are deleted in the same
//! transaction, so its next request is anonymous (and `load_actor` refuses a disabled account in any
//! case); the staff event stream re-checks the account and ends. An admin can neither disable their own
//! account nor remove their own admin role, so the last admin can never lock everyone out. Every change
//! is audited with the account before and after.

use crate::domain::{Actor, AppError, Permission, Role};
use crate::entity::audit_log::AuditAction;
use crate::entity::{session, user, user_role};
use crate::service::{audit, identity};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use uuid::Uuid;

async fn staff_account<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<user::Model, AppError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|u| u.kind == identity::KIND_STAFF)
        .ok_or(AppError::NotFound)
}

/// Ends every session of an account (it is signed out everywhere at its next request).
pub async fn end_sessions<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<u64, AppError> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Disables (`disabled = true`) or re-enables a staff account.
#[tracing::instrument(skip(db, actor))]
pub async fn set_disabled(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: Uuid,
    disabled: bool,
) -> Result<(), AppError> {
    actor.require(Permission::ManageStaff)?;
    if disabled && actor.user_id == Some(user_id) {
        return Err(AppError::Conflict(
            "You cannot disable your own account. Ask another admin.".into(),
        ));
    }
    let txn = super::begin(db).await?;
    let u = staff_account(&txn, user_id).await?;
    if u.disabled_at.is_some() == disabled {
        return Ok(());
    }
    let roles = identity::roles_of(&txn, u.id).await?;
    let before = identity::public_view(&u, &roles);
    let now = super::now();
    let mut am: user::ActiveModel = u.into();
    am.disabled_at = Set(disabled.then_some(now));
    am.updated_at = Set(now);
    let u = am.update(&txn).await?;
    end_sessions(&txn, u.id).await?;
    audit::record(
        &txn,
        actor,
        "user",
        u.id,
        if disabled {
            AuditAction::StaffDisabled
        } else {
            AuditAction::StaffEnabled
        },
        Some(before),
        Some(identity::public_view(&u, &roles)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Takes a role away from a staff account.
#[tracing::instrument(skip(db, actor))]
pub async fn remove_role(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: Uuid,
    role: Role,
) -> Result<(), AppError> {
    actor.require(Permission::ManageStaff)?;
    if role == Role::Admin && actor.user_id == Some(user_id) {
        return Err(AppError::Conflict(
            "You cannot remove your own admin role. Ask another admin.".into(),
        ));
    }
    let txn = super::begin(db).await?;
    let u = staff_account(&txn, user_id).await?;
    let roles = identity::roles_of(&txn, u.id).await?;
    if !roles.contains(&role) {
        return Err(AppError::Conflict(format!(
            "{} {} does not have the {} role.",
            u.given_name,
            u.family_name,
            role.label()
        )));
    }
    user_role::Entity::delete_many()
        .filter(user_role::Column::UserId.eq(u.id))
        .filter(user_role::Column::Role.eq(role.as_str()))
        .exec(&txn)
        .await?;
    end_sessions(&txn, u.id).await?;
    let after: Vec<Role> = roles.iter().copied().filter(|r| *r != role).collect();
    audit::record(
        &txn,
        actor,
        "user",
        u.id,
        AuditAction::StaffRoleRemoved,
        Some(identity::public_view(&u, &roles)),
        Some(identity::public_view(&u, &after)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Whether the account still acts with `p` (not disabled, not gone, still holding a role that grants
/// it): the staff event stream asks this every few seconds and ends when the answer is no.
pub async fn still_allowed<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    p: Permission,
) -> Result<bool, AppError> {
    Ok(identity::load_actor(db, user_id)
        .await?
        .is_some_and(|a| a.can(p)))
}
