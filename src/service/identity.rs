//! Accounts: registering a portal account, confirming its e-mail address, signing in, resetting a
//! forgotten password, and staff accounts with roles.
//!
//! Rules kept here: passwords are hashed with argon2id and never logged; e-mailed tokens are single-use,
//! stored only as SHA-256 hashes, and expire (24 hours to confirm an address, 1 hour to reset a password);
//! no answer reveals whether an address has an account (registering an address that exists sends that
//! address a notice instead, and a reset request always answers the same).

use crate::domain::email::Email;
use crate::domain::person::PersonName;
use crate::domain::{Actor, ActorKind, AppError, FieldErrors, Role};
use crate::entity::{auth_token, session, user, user_role};
use crate::service::{audit, outbox, outbox::NewMessage, tokens};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
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

/// What the person typed on the create-account form.
#[derive(Clone, Debug, Default)]
pub struct Registration {
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub password: String,
}

/// Checks a new password against the policy (`domain::password`: length, not common, not the e-mail address).
pub fn check_password(password: &str, email: Option<&str>, field: &str, errors: &mut FieldErrors) {
    errors.check(field, crate::domain::password::check(password, email));
}

/// argon2id with the crate's recommended parameters, run off the async executor.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}

/// A hash of a random password: verified against when an account does not exist, so a wrong address
/// takes as long to refuse as a wrong password.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    let hash = match hash {
        Some(h) => h,
        None => match DUMMY_HASH.get() {
            Some(h) => h.clone(),
            None => {
                let h = hash_password(random_token()).await.unwrap_or_default();
                DUMMY_HASH.get_or_init(|| h).clone()
            }
        },
    };
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

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
async fn live_token<C: ConnectionTrait>(
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
        Some(t) if t.used_at.is_none() && t.expires_at > super::now() => Ok(t),
        _ => Err(AppError::Conflict(match purpose {
            PURPOSE_RESET => "This password reset link has expired or has already been used. Ask for a new one.".into(),
            _ => "This confirmation link has expired or has already been used. Sign in to get a new one.".into(),
        })),
    }
}

async fn send_verification<C: ConnectionTrait>(
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
    let now = super::now();
    Ok(user::ActiveModel {
        id: Set(super::new_id()),
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
            "registration_attempt_on_existing_address",
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
        "registered",
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
    let now = super::now();
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
        "email_verified",
        Some(before),
        Some(public_view(&u, &[])),
    )
    .await?;
    mail_user(&txn, &u, "welcome", json!({"given_name": u.given_name, "sign_in_url": format!("{base_url}/sign-in"), "base_url": base_url}))
    .await?;
    txn.commit().await?;
    Ok(())
}

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
            "password_reset_requested",
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
    let now = super::now();
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
        "password_reset",
        None,
        Some(json!({"password": "changed"})),
    )
    .await?;
    mail_user(&txn, &u, "password_changed", json!({"given_name": u.given_name, "reset_url": format!("{base_url}/forgot-password"), "base_url": base_url}))
    .await?;
    txn.commit().await?;
    Ok(u.id)
}

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
    let now = super::now();
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
        "staff_created",
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

/// Records a sign-in or sign-out in the audit trail.
pub async fn record_session_event(
    db: &DatabaseConnection,
    actor: &Actor,
    action: &str,
) -> Result<(), AppError> {
    if let Some(id) = actor.user_id {
        audit::record(db, actor, "user", id, action, None, None).await?;
    }
    Ok(())
}

/// An account by id.
pub async fn get_user<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<user::Model>, AppError> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
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
    let now = super::now();
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
        "password_changed",
        None,
        Some(json!({"password": "changed"})),
    )
    .await?;
    mail_user(&txn, &u, "password_changed", json!({"given_name": u.given_name, "reset_url": format!("{base_url}/forgot-password"), "base_url": base_url}))
    .await?;
    txn.commit().await?;
    Ok(())
}

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
        "email_change_requested",
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
    let now = super::now();
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
        "email_changed",
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
