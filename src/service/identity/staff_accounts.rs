//! Staff accounts: created by an admin (or the command line) with their roles, invited by e-mail to
//! choose a password, and listed for admins.

use super::{
    check_password, find_by_email, hash_password, insert_user, issue_link, mail_user_link,
    public_view, random_token, roles_of, KIND_STAFF, PURPOSE_RESET,
};
use crate::domain::email::Email;
use crate::domain::person::PersonName;
use crate::domain::{Actor, ActorKind, AppError, FieldErrors, Role};
use crate::entity::audit_log::AuditAction;
use crate::entity::{user, user_role};
use crate::service::audit;
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

/// A staff account to create.
#[derive(Clone, Debug)]
pub struct NewStaff {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub roles: Vec<Role>,
    /// `None`: the person chooses their own through a link in the invitation (valid 7 days).
    pub password: Option<String>,
}

pub const INVITE_DAYS: i64 = 7;

/// Creates a staff account with its roles (already confirmed: an admin vouches for the address).
#[tracing::instrument(skip(db, input), fields(email = %input.email))]
pub async fn create_staff(
    db: &DatabaseConnection,
    actor: &Actor,
    input: NewStaff,
    base_url: &str,
) -> Result<Uuid, AppError> {
    if actor.kind != ActorKind::System {
        actor.require(crate::domain::Permission::ManageStaff)?;
    }
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(&input.email));
    let given = errors.check("given_name", PersonName::parse(&input.given_name));
    let family = errors.check("family_name", PersonName::parse(&input.family_name));
    if input.roles.is_empty() {
        errors.add("roles", "Choose at least one role");
    }
    if let Some(p) = &input.password {
        check_password(
            p,
            email.as_ref().map(Email::as_str),
            "password",
            &mut errors,
        );
    }
    errors.into_result()?;
    let (Some(email), Some(given), Some(family)) = (email, given, family) else {
        return Err(AppError::internal("staff parsed without values"));
    };
    let invite = input.password.is_none();
    let hash = hash_password(input.password.unwrap_or_else(random_token)).await?;
    let txn = crate::service::begin(db).await?;
    if find_by_email(&txn, &email).await?.is_some() {
        return Err(AppError::field(
            "email",
            "An account with this email address already exists",
        ));
    }
    let now = crate::service::now();
    let u = insert_user(&txn, &email, &given, &family, KIND_STAFF, hash, Some(now)).await?;
    let mut roles = input.roles.clone();
    roles.sort();
    roles.dedup();
    for r in &roles {
        user_role::ActiveModel {
            user_id: Set(u.id),
            role: Set(r.as_str().to_owned()),
            granted_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    audit::record(
        &txn,
        actor,
        "user",
        u.id,
        AuditAction::StaffCreated,
        None,
        Some(public_view(&u, &roles)),
    )
    .await?;
    let link = if invite {
        Some(
            issue_link(
                &txn,
                u.id,
                PURPOSE_RESET,
                Duration::days(INVITE_DAYS),
                format!("{base_url}/reset-password"),
                "set_password_url",
            )
            .await?,
        )
    } else {
        None
    };
    mail_user_link(
        &txn,
        &u,
        "staff_invite",
        json!({
            "given_name": u.given_name,
            "sign_in_url": format!("{base_url}/sign-in"),
            "roles": roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", "),
            "expires_days": INVITE_DAYS,
            "base_url": base_url,
        }),
        link,
    )
    .await?;
    txn.commit().await?;
    Ok(u.id)
}

/// An admin adds a member of staff, who is e-mailed a link to choose their password.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn invite_staff(
    db: &DatabaseConnection,
    actor: &Actor,
    given_name: String,
    family_name: String,
    email: String,
    roles: Vec<Role>,
    base_url: &str,
) -> Result<Uuid, AppError> {
    actor.require(crate::domain::Permission::ManageStaff)?;
    create_staff(
        db,
        actor,
        NewStaff {
            email,
            given_name,
            family_name,
            roles,
            password: None,
        },
        base_url,
    )
    .await
}

/// A staff account as listed for admins.
#[derive(Clone, Debug)]
pub struct StaffAccount {
    pub user: user::Model,
    pub roles: Vec<Role>,
}

#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn list_staff(
    db: &DatabaseConnection,
    actor: &Actor,
) -> Result<Vec<StaffAccount>, AppError> {
    actor.require(crate::domain::Permission::ManageStaff)?;
    let users = user::Entity::find()
        .filter(user::Column::Kind.eq(KIND_STAFF))
        .order_by_asc(user::Column::FamilyName)
        .order_by_asc(user::Column::GivenName)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(users.len());
    for u in users {
        let roles = roles_of(db, u.id).await?;
        out.push(StaffAccount { user: u, roles });
    }
    Ok(out)
}
