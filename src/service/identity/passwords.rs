//! Passwords: the policy a new one must meet, and argon2id hashing and checking, off the executor.

use super::random_token;
use crate::domain::{AppError, FieldErrors};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

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
