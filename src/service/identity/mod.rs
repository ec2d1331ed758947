//! Accounts: registering a portal account, confirming its e-mail address, signing in, resetting a
//! forgotten password, changing a password or an e-mail address, and staff accounts with roles.
//!
//! Rules kept here: passwords are hashed with argon2id and never logged; e-mailed tokens are single-use,
//! stored only as SHA-256 hashes, and expire (24 hours to confirm an address, 1 hour to reset a password);
//! no answer reveals whether an address has an account (registering an address that exists sends that
//! address a notice instead, and a reset request always answers the same).
//!
//! One file per concern: `passwords` (policy, hashing), `registration` (creating a portal account,
//! confirming its address), `sign_in` (checking a password, the actor of a session), `password_reset`
//! (a forgotten password, changing one's own), `email_change`, `staff_accounts`; the account helpers they
//! share (finding by address, one-time links, mail to an account, the audit view) are here.

mod email_change;
mod password_reset;
mod passwords;
mod registration;
mod sign_in;
mod staff_accounts;

pub use email_change::*;
pub use password_reset::*;
pub use passwords::*;
pub use registration::*;
pub use sign_in::*;
pub use staff_accounts::*;

use crate::domain::email::Email;
use crate::domain::person::PersonName;
use crate::domain::{AppError, Role};
use crate::entity::{auth_token, user};
use crate::service::{outbox, outbox::NewMessage, tokens};
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

pub const KIND_MEMBER: &str = "member";
pub const KIND_STAFF: &str = "staff";
pub const PURPOSE_VERIFY: &str = "verify_email";
pub const PURPOSE_RESET: &str = "reset_password";
pub const PURPOSE_CHANGE_EMAIL: &str = "change_email";
pub const MIN_PASSWORD: usize = crate::domain::password::MIN_CHARS;
pub const MAX_PASSWORD: usize = crate::domain::password::MAX_CHARS;
pub const VERIFY_HOURS: i64 = 24;
pub const RESET_MINUTES: i64 = 60;

pub use super::tokens::{random_token, token_hash};

/// The key an address is unique by: the whole address lower-cased.
pub fn email_key(email: &Email) -> String {
    email.as_str().to_lowercase()
}

pub(crate) async fn find_by_email<C: ConnectionTrait>(
    db: &C,
    email: &Email,
) -> Result<Option<user::Model>, AppError> {
    Ok(user::Entity::find()
        .filter(user::Column::EmailKey.eq(email_key(email)))
        .one(db)
        .await?)
}

/// Issues a one-time link (`service::tokens`) to `{base_url}{path}?token=…`, held in template variable
/// `variable` of the message that carries it.
pub(crate) async fn issue_link<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    purpose: &str,
    valid_for: Duration,
    link_to: String,
    variable: &'static str,
) -> Result<tokens::Link, AppError> {
    Ok(tokens::issue(
        db,
        user_id,
        purpose,
        valid_for,
        None,
        format!("{link_to}?token="),
        variable,
    )
    .await?)
}

/// Finds a live token (right purpose, unused, unexpired).
pub(super) async fn live_token<C: ConnectionTrait>(
    db: &C,
    token: &str,
    purpose: &str,
) -> Result<auth_token::Model, AppError> {
    let found = auth_token::Entity::find()
        .filter(auth_token::Column::TokenHash.eq(token_hash(token.trim())))
        .filter(auth_token::Column::Purpose.eq(purpose))
        .one(db)
        .await?;
    match found {
        Some(t) if t.used_at.is_none() && t.expires_at > crate::service::now() => Ok(t),
        _ => Err(AppError::Conflict(match purpose {
            PURPOSE_RESET => "This password reset link has expired or has already been used. Ask for a new one.".into(),
            _ => "This confirmation link has expired or has already been used. Sign in to get a new one.".into(),
        })),
    }
}

/// Writes a message to one account's address (and links it to the account for its timeline).
pub(crate) async fn mail_user<C: ConnectionTrait>(
    db: &C,
    u: &user::Model,
    template: &str,
    context: serde_json::Value,
) -> Result<Uuid, AppError> {
    mail_user_link(db, u, template, context, None).await
}

/// [`mail_user`] for a message that carries a one-time link.
pub(crate) async fn mail_user_link<C: ConnectionTrait>(
    db: &C,
    u: &user::Model,
    template: &str,
    context: serde_json::Value,
    link: Option<tokens::Link>,
) -> Result<Uuid, AppError> {
    outbox::enqueue(
        db,
        NewMessage {
            template,
            to_address: &u.email,
            to_name: Some(&u.given_name),
            user_id: Some(u.id),
            member_id: None,
            context,
            link,
        },
    )
    .await
}

/// Inserts an account row. `verified_at` is when its address was confirmed, if it has been.
pub async fn insert_user<C: ConnectionTrait>(
    db: &C,
    email: &Email,
    given: &PersonName,
    family: &PersonName,
    kind: &str,
    password_hash: String,
    verified_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<user::Model, AppError> {
    let now = crate::service::now();
    Ok(user::ActiveModel {
        id: Set(crate::service::new_id()),
        email: Set(email.as_str().to_owned()),
        email_key: Set(email_key(email)),
        password_hash: Set(password_hash),
        given_name: Set(given.as_str().to_owned()),
        family_name: Set(family.as_str().to_owned()),
        kind: Set(kind.to_owned()),
        email_verified_at: Set(verified_at),
        disabled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// The audit view of an account: everything but the password hash.
pub fn public_view(u: &user::Model, roles: &[Role]) -> serde_json::Value {
    json!({
        "email": u.email,
        "given_name": u.given_name,
        "family_name": u.family_name,
        "kind": u.kind,
        "email_verified": u.email_verified_at.is_some(),
        "disabled": u.disabled_at.is_some(),
        "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    })
}

/// An account by id.
pub async fn get_user<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<user::Model>, AppError> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}
