//! Second factors: an authenticator app (TOTP, RFC 6238) and single-use recovery codes.
//!
//! Rules kept here:
//! - every staff account must have an authenticator before it can act (`required_for`); members may turn
//!   one on and off;
//! - the TOTP secret is sealed (XChaCha20-Poly1305, bound to the account's id) with the installation's
//!   key (`GUILDHALL_SECRET_KEY`), so a copy of the database alone does not yield it; it is shown only
//!   while enrolling and never logged;
//! - a code is accepted once: the step of the last accepted code is kept and that step or an earlier one
//!   is refused;
//! - five wrong codes in a row pause the code step for the account for 15 minutes (kept in the
//!   database, so it holds across nodes and restarts);
//! - ten recovery codes are made at enrolment, shown once, stored only as SHA-256 hashes, and each works
//!   once in place of a code;
//! - enrolling, using a recovery code, a pause, and turning the authenticator off are audited.

use crate::domain::{Actor, AppError};
use crate::entity::audit_log::AuditAction;
use crate::entity::{recovery_code, user, user_totp};
use crate::service::{audit, identity};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};
use uuid::Uuid;

/// How many recovery codes an enrolment makes.
pub const RECOVERY_CODES: usize = 10;
/// Wrong codes in a row before the code step pauses.
pub const MAX_FAILURES: i32 = 5;
/// How long the code step pauses after `MAX_FAILURES` wrong codes.
pub const LOCK_MINUTES: i64 = 15;
/// The name authenticator apps show beside the account.
pub const ISSUER: &str = "Guildhall";
/// The authenticator secret of the demo staff accounts (`seed::demo`): DEMO ONLY, printed in the README
/// so that the demo and the browser tests can sign in. Production mode refuses demo data.
pub const DEMO_TOTP_SECRET: &str = "GUILDHALLDEMOSECRETDONOTUSE23456";

const DEV_KEY_PASSPHRASE: &str = "guildhall development key: set GUILDHALL_SECRET_KEY";

/// The installation's key for sealing authenticator secrets: the SHA-256 of `GUILDHALL_SECRET_KEY`.
#[derive(Clone)]
pub struct SecretKey {
    key: [u8; 32],
    development: bool,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("development", &self.development)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A key from a passphrase (at least 32 characters of randomness are advised).
    pub fn from_passphrase(passphrase: &str) -> Self {
        Self {
            key: Sha256::digest(passphrase.as_bytes()).into(),
            development: false,
        }
    }

    /// The key named by `GUILDHALL_SECRET_KEY`; without it, a fixed development key (with a warning):
    /// production mode refuses to start without the variable.
    pub fn from_env() -> Self {
        match std::env::var("GUILDHALL_SECRET_KEY")
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            Some(v) => Self::from_passphrase(v.trim()),
            None => {
                tracing::warn!(
                    "GUILDHALL_SECRET_KEY is not set: authenticator secrets are sealed with a development key"
                );
                Self::development()
            }
        }
    }

    /// The fixed key used when none is configured (development, demo and tests).
    pub fn development() -> Self {
        Self {
            development: true,
            ..Self::from_passphrase(DEV_KEY_PASSPHRASE)
        }
    }

    pub fn is_development(&self) -> bool {
        self.development
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.key).into())
    }

    /// `v1.` + base64(nonce ‖ ciphertext), the account id as associated data.
    fn seal(&self, user_id: Uuid, secret: &[u8]) -> Result<String, AppError> {
        use base64::Engine;
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: user_id.as_bytes(),
                },
            )
            .map_err(|_| AppError::internal("sealing an authenticator secret failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!(
            "v1.{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        ))
    }

    fn open(&self, user_id: Uuid, sealed: &str) -> Result<Vec<u8>, AppError> {
        use base64::Engine;
        let bytes = sealed
            .strip_prefix("v1.")
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(b)
                    .ok()
            })
            .filter(|b| b.len() > 24)
            .ok_or_else(|| AppError::internal("unreadable sealed authenticator secret"))?;
        let (nonce, ct) = bytes.split_at(24);
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: user_id.as_bytes(),
                },
            )
            .map_err(|_| {
                AppError::internal(
                    "an authenticator secret could not be opened: is GUILDHALL_SECRET_KEY the one it was sealed with?",
                )
            })
    }
}

/// Whether an account must have an authenticator before it can act: every staff account.
pub fn required_for(u: &user::Model) -> bool {
    u.kind == identity::KIND_STAFF
}

fn totp(secret: Vec<u8>, account: &str) -> Result<Totp, AppError> {
    Builder::new()
        .with_secret(Secret::from(secret))
        .with_issuer(Some(ISSUER))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(AppError::internal)
}

fn now_secs() -> u64 {
    u64::try_from(super::now().timestamp()).unwrap_or(0)
}

/// The 6-digit code an authenticator holding `secret_base32` shows at `unix_secs` (for tests, the
/// demo and the command line).
pub fn code_at(secret_base32: &str, unix_secs: u64) -> Result<String, AppError> {
    let bytes = Secret::try_from_base32(secret_base32)
        .map_err(|_| AppError::internal("bad base32 secret"))?
        .as_bytes()
        .to_vec();
    Ok(totp(bytes, "code")?.generate(unix_secs).to_string())
}

/// The code shown now (by this process's clock).
pub fn current_code(secret_base32: &str) -> Result<String, AppError> {
    code_at(secret_base32, now_secs())
}

/// What a person sees while enrolling: the secret as a QR code and as text, and the recovery codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_url: String,
    /// An SVG image of `otpauth_url` (no scripts; safe to inline).
    pub qr_svg: String,
    pub recovery_codes: Vec<String>,
}

impl Enrolment {
    /// The QR code as a `data:` URI for an `<img>` (the pages' CSP allows `data:` images).
    pub fn qr_data_uri(&self) -> String {
        use base64::Engine;
        format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(self.qr_svg.as_bytes())
        )
    }
}

/// A new random secret (160 bits) and recovery codes. Nothing is stored until `enrol`.
pub fn new_enrolment(account: &str) -> Result<Enrolment, AppError> {
    let mut secret = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let codes = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    enrolment_view(&Secret::from(secret.to_vec()).to_base32(), account, codes)
}

/// The enrolment page's view of a secret chosen earlier (kept in the session while enrolling).
pub fn enrolment_view(
    secret_base32: &str,
    account: &str,
    recovery_codes: Vec<String>,
) -> Result<Enrolment, AppError> {
    let bytes = Secret::try_from_base32(secret_base32)
        .map_err(|_| AppError::internal("bad base32 secret"))?
        .as_bytes()
        .to_vec();
    let url = totp(bytes, account)?.to_url().map_err(AppError::internal)?;
    let qr = qrcode::QrCode::new(url.as_bytes()).map_err(AppError::internal)?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(Enrolment {
        secret_base32: secret_base32.to_owned(),
        otpauth_url: url,
        qr_svg,
        recovery_codes,
    })
}

/// `xxxxx-xxxxx` from an alphabet without look-alikes (about 50 bits).
fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 10];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// A recovery code as typed, normalised (case, spaces and hyphens ignored), then hashed.
fn recovery_hash(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    identity::token_hash(&norm)
}

/// Whether the account has an authenticator.
pub async fn is_enrolled<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<bool, AppError> {
    Ok(user_totp::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .is_some())
}

/// Recovery codes not yet used.
pub async fn recovery_codes_left<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<usize, AppError> {
    Ok(recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .all(db)
        .await?
        .len())
}

fn wrong_code() -> AppError {
    AppError::field(
        "code",
        "That code is not right. Enter the 6-digit code your authenticator app shows now, or one of your recovery codes",
    )
}

/// Stores the authenticator the person has just set up, once they prove it works with a current code,
/// with the hashes of the recovery codes they were shown. `actor` is the person themself (signed in, or
/// half-way through signing in). Refused if the account already has one: it must be turned off first.
#[tracing::instrument(skip(db, key, enrolment, code, actor))]
pub async fn enrol(
    db: &DatabaseConnection,
    key: &SecretKey,
    actor: &Actor,
    user_id: Uuid,
    enrolment: &Enrolment,
    code: &str,
) -> Result<(), AppError> {
    let code = code.trim();
    if code.is_empty() {
        return Err(AppError::field(
            "code",
            "Enter the 6-digit code your authenticator app shows",
        ));
    }
    let secret = Secret::try_from_base32(&enrolment.secret_base32)
        .map_err(|_| AppError::internal("bad base32 secret"))?
        .as_bytes()
        .to_vec();
    let step = totp(secret.clone(), "enrol")?
        .check(&code.replace(' ', ""), now_secs())
        .ok_or_else(|| {
            AppError::field(
                "code",
                "That code is not right. Check the time on your phone, then enter the 6-digit code your authenticator app shows now",
            )
        })?;
    let txn = super::begin(db).await?;
    let u = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .ok_or(AppError::Unauthenticated)?;
    if is_enrolled(&txn, u.id).await? {
        return Err(AppError::Conflict(
            "This account already has an authenticator app set up.".into(),
        ));
    }
    user_totp::ActiveModel {
        user_id: Set(u.id),
        secret_sealed: Set(key.seal(u.id, &secret)?),
        enabled_at: Set(super::now()),
        last_step: Set(i64::try_from(step).ok()),
        failed_attempts: Set(0),
        locked_until: Set(None),
        demo: Set(false),
    }
    .insert(&txn)
    .await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(u.id))
        .exec(&txn)
        .await?;
    for c in &enrolment.recovery_codes {
        recovery_code::ActiveModel {
            id: Set(super::new_id()),
            user_id: Set(u.id),
            code_hash: Set(recovery_hash(c)),
            used_at: Set(None),
        }
        .insert(&txn)
        .await?;
    }
    audit::record(
        &txn,
        actor,
        "user",
        u.id,
        AuditAction::MfaEnrolled,
        Some(json!({"authenticator": false})),
        Some(json!({"authenticator": true, "recovery_codes": enrolment.recovery_codes.len()})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// How the second step was passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Passed {
    Code,
    /// A recovery code, with how many are left.
    RecoveryCode {
        left: usize,
    },
}

/// Checks the second step of signing in: a current authenticator code not used before, or an unused
/// recovery code. Wrong answers are counted; the fifth in a row pauses the step for 15 minutes.
#[tracing::instrument(skip(db, key, input))]
pub async fn verify(
    db: &DatabaseConnection,
    key: &SecretKey,
    user_id: Uuid,
    input: &str,
) -> Result<Passed, AppError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(AppError::field(
            "code",
            "Enter the 6-digit code your authenticator app shows",
        ));
    }
    let txn = super::begin(db).await?;
    let u = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .ok_or(AppError::Unauthenticated)?;
    let row = user_totp::Entity::find_by_id(u.id)
        .one(&txn)
        .await?
        .ok_or_else(|| {
            AppError::Conflict("This account has no authenticator app set up.".into())
        })?;
    let now = super::now();
    if row.locked_until.is_some_and(|t| t > now) {
        return Err(AppError::RateLimited);
    }
    // The person half-way through signing in acts on their own account.
    let actor = identity::load_actor(&txn, u.id)
        .await?
        .unwrap_or_else(|| Actor::member(u.id, &u.email));
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let outcome = if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        let secret = key.open(u.id, &row.secret_sealed)?;
        match totp(secret, "verify")?.check(&digits, now_secs()) {
            Some(step) if row.demo || row.last_step.is_none_or(|last| (step as i64) > last) => {
                Ok((Passed::Code, Some(step as i64)))
            }
            Some(_) => Err(AppError::field(
                "code",
                "That code has already been used. Wait for your authenticator app to show a new code, then enter it",
            )),
            None => Err(wrong_code()),
        }
    } else {
        let found = recovery_code::Entity::find()
            .filter(recovery_code::Column::UserId.eq(u.id))
            .filter(recovery_code::Column::CodeHash.eq(recovery_hash(input)))
            .filter(recovery_code::Column::UsedAt.is_null())
            .one(&txn)
            .await?;
        match found {
            Some(c) => {
                let claimed = recovery_code::Entity::update_many()
                    .col_expr(
                        recovery_code::Column::UsedAt,
                        sea_orm::sea_query::Expr::value(now),
                    )
                    .filter(recovery_code::Column::Id.eq(c.id))
                    .filter(recovery_code::Column::UsedAt.is_null())
                    .exec(&txn)
                    .await?;
                if claimed.rows_affected == 1 {
                    let left = recovery_codes_left(&txn, u.id).await?;
                    audit::record(
                        &txn,
                        &actor,
                        "user",
                        u.id,
                        AuditAction::MfaRecoveryCodeUsed,
                        None,
                        Some(json!({"recovery_codes_left": left})),
                    )
                    .await?;
                    Ok((Passed::RecoveryCode { left }, row.last_step))
                } else {
                    Err(wrong_code())
                }
            }
            None => Err(wrong_code()),
        }
    };
    let mut am: user_totp::ActiveModel = row.clone().into();
    let result = match outcome {
        Ok((passed, step)) => {
            am.failed_attempts = Set(0);
            am.locked_until = Set(None);
            am.last_step = Set(step);
            Ok(passed)
        }
        Err(e) => {
            let failures = row.failed_attempts.saturating_add(1);
            if failures >= MAX_FAILURES {
                am.failed_attempts = Set(0);
                am.locked_until = Set(Some(now + chrono::Duration::minutes(LOCK_MINUTES)));
                audit::record(
                    &txn,
                    &actor,
                    "user",
                    u.id,
                    AuditAction::MfaPaused,
                    None,
                    Some(json!({"wrong_codes": failures, "minutes": LOCK_MINUTES})),
                )
                .await?;
                tracing::warn!(user = %u.id, "second step paused after {failures} wrong codes");
            } else {
                am.failed_attempts = Set(failures);
            }
            Err(e)
        }
    };
    am.update(&txn).await?;
    txn.commit().await?;
    result
}

/// Turns an account's authenticator off (its recovery codes go too). A member turns their own off after
/// giving their password; staff cannot (they must have one), but an admin can remove a staff member's
/// (a lost phone), so that they set up a new one at their next sign-in.
#[tracing::instrument(skip(db, actor, password))]
pub async fn turn_off(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: Uuid,
    password: Option<String>,
) -> Result<(), AppError> {
    let u = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let own = actor.user_id == Some(u.id);
    if own {
        if required_for(&u) {
            return Err(AppError::Conflict(
                "Staff accounts must have an authenticator app. To move to a new phone, ask an admin to reset it.".into(),
            ));
        }
        let Some(password) = password.filter(|p| !p.is_empty()) else {
            return Err(AppError::field("password", "Enter your password"));
        };
        if !identity::verify_password(password, Some(u.password_hash.clone())).await {
            return Err(AppError::field("password", "Your password is not right"));
        }
    } else {
        actor.require(crate::domain::Permission::ManageStaff)?;
        if !required_for(&u) {
            return Err(AppError::Forbidden);
        }
    }
    let txn = super::begin(db).await?;
    let removed = user_totp::Entity::delete_by_id(u.id).exec(&txn).await?;
    if removed.rows_affected == 0 {
        return Err(AppError::Conflict(
            "This account has no authenticator app set up.".into(),
        ));
    }
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(u.id))
        .exec(&txn)
        .await?;
    if !own {
        // Whoever holds the old phone is signed out too.
        crate::entity::session::Entity::delete_many()
            .filter(crate::entity::session::Column::UserId.eq(u.id))
            .exec(&txn)
            .await?;
    }
    audit::record(
        &txn,
        actor,
        "user",
        u.id,
        AuditAction::MfaDisabled,
        Some(json!({"authenticator": true})),
        Some(json!({"authenticator": false})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Gives an account an authenticator with a known secret and no recovery codes, without asking for a
/// code, marked as a demo one (its codes are not refused as replays): for the demo staff accounts
/// (`seed::demo`) only, which production mode refuses.
pub async fn enrol_known<C: ConnectionTrait>(
    db: &C,
    key: &SecretKey,
    user_id: Uuid,
    secret_base32: &str,
) -> Result<(), AppError> {
    if is_enrolled(db, user_id).await? {
        return Ok(());
    }
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|_| AppError::internal("bad base32 secret"))?
        .as_bytes()
        .to_vec();
    user_totp::ActiveModel {
        user_id: Set(user_id),
        secret_sealed: Set(key.seal(user_id, &secret)?),
        enabled_at: Set(super::now()),
        last_step: Set(None),
        failed_attempts: Set(0),
        locked_until: Set(None),
        demo: Set(true),
    }
    .insert(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_for_its_account() {
        let key = SecretKey::from_passphrase("a test key that is long enough to use");
        let id = Uuid::now_v7();
        let sealed = key.seal(id, b"twenty bytes secret!").expect("seal");
        assert!(!sealed.contains("twenty"));
        assert_eq!(
            key.open(id, &sealed).expect("open"),
            b"twenty bytes secret!"
        );
        assert!(key.open(Uuid::now_v7(), &sealed).is_err());
        assert!(SecretKey::development().open(id, &sealed).is_err());
    }

    #[test]
    fn codes_follow_rfc_6238() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890", last 6 digits.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        assert_eq!(code_at(&secret, 59).expect("code"), "287082");
        assert_eq!(code_at(&secret, 1_111_111_109).expect("code"), "081804");
    }

    #[test]
    fn recovery_codes_are_typed_loosely_and_hashed() {
        let c = new_recovery_code();
        assert_eq!(c.len(), 11);
        assert_eq!(
            recovery_hash(&c),
            recovery_hash(&c.to_uppercase().replace('-', " "))
        );
        let e = new_enrolment("officer@guildhall.test").expect("enrolment");
        assert_eq!(e.recovery_codes.len(), RECOVERY_CODES);
        assert!(e.otpauth_url.starts_with("otpauth://totp/"));
        assert!(e.qr_svg.contains("<svg"));
        assert_eq!(e.secret_base32.len(), 32);
    }
}
