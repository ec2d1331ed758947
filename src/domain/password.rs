//! The rule a new password must keep, wherever one is set (creating an account, resetting or changing
//! it, a staff account made with a password, accepting a staff or representative invitation):
//!
//! - 10 to 128 characters (a passphrase of a few words is easy to type and hard to guess);
//! - not one of the most common passwords, which attackers try first whatever the site: the list is
//!   the `passwords` crate's table of about 100,000 (MIT licence), compared as typed and lower-cased;
//! - not containing the account's e-mail address, nor the part before the `@` (ignoring case), which
//!   is the first thing anyone who knows the address would try. A part before the `@` shorter than
//!   three characters is not looked for: "jo" is inside too many good passphrases.
//!
//! Each refusal says why. The common-password table is server-side only (`ssr`): the browser never
//! checks a password by itself, and 1 MB of words has no place in the WASM.

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 10;
/// The most characters a password may have (argon2 hashes any length, but a limit keeps it cheap).
pub const MAX_CHARS: usize = 128;
/// The shortest part before the `@` that a password is checked for.
const MIN_LOCAL_PART: usize = 3;

/// Why a new password is refused. `Display` is the message to show beside the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Enter a password")]
    Empty,
    #[error("Password must be {MIN_CHARS} characters or more")]
    TooShort,
    #[error("Password must be {MAX_CHARS} characters or fewer")]
    TooLong,
    #[error("Your password must not contain your email address")]
    ContainsEmail,
    #[error("This password is too common: it is on the lists of passwords that attackers try first. Choose another, for example three or four unrelated words")]
    TooCommon,
}

/// Checks a new password for the account with address `email` (when known) against the rule above.
pub fn check(password: &str, email: Option<&str>) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n == 0 {
        return Err(PasswordError::Empty);
    }
    if n < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if n > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    if email.is_some_and(|e| contains_email(password, e)) {
        return Err(PasswordError::ContainsEmail);
    }
    if is_common(password) {
        return Err(PasswordError::TooCommon);
    }
    Ok(())
}

/// Whether `password` contains the address `email`, or the part before its `@`, ignoring case.
fn contains_email(password: &str, email: &str) -> bool {
    let password = password.to_lowercase();
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return false;
    }
    if password.contains(&email) {
        return true;
    }
    match email.split_once('@') {
        Some((local, _)) if local.chars().count() >= MIN_LOCAL_PART => password.contains(local),
        _ => false,
    }
}

/// Whether `password` (as typed, or lower-cased) is in the table of common passwords.
#[cfg(feature = "ssr")]
fn is_common(password: &str) -> bool {
    use passwords::analyzer::is_common_password;
    is_common_password(password) || is_common_password(password.to_lowercase())
}

/// In the browser build there is no table; the server always checks again.
#[cfg(not(feature = "ssr"))]
fn is_common(_password: &str) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const JO: Option<&str> = Some("jo.bloggs@example.com");

    #[test]
    fn a_passphrase_of_unrelated_words_is_accepted() {
        assert_eq!(check("correct horse battery", JO), Ok(()));
        assert_eq!(check("a sound first password", None), Ok(()));
    }

    #[test]
    fn length_is_checked_first() {
        assert_eq!(check("", JO), Err(PasswordError::Empty));
        assert_eq!(check("short", JO), Err(PasswordError::TooShort));
        assert_eq!(check("123456789", None), Err(PasswordError::TooShort));
        assert_eq!(check(&"x".repeat(129), None), Err(PasswordError::TooLong));
        assert_eq!(check(&"horse ".repeat(21)[..126], None), Ok(()));
    }

    #[test]
    fn the_email_address_or_its_local_part_is_refused_ignoring_case() {
        for p in [
            "jo.bloggs@example.com1",
            "JO.Bloggs@Example.COM",
            "my jo.bloggs password",
            "xJO.BLOGGSx-2026",
        ] {
            assert_eq!(check(p, JO), Err(PasswordError::ContainsEmail), "{p}");
        }
        // Another person's address is no concern of this rule.
        assert_eq!(
            check("jo.bloggs@example.com1", Some("ann@example.org")),
            Ok(())
        );
        // A very short local part is not looked for.
        assert_eq!(check("journey to the moon", Some("jo@example.com")), Ok(()));
        assert_eq!(
            check("jo@example.com rocks", Some("jo@example.com")),
            Err(PasswordError::ContainsEmail)
        );
    }

    #[test]
    fn the_message_says_why() {
        assert!(PasswordError::TooCommon.to_string().contains("too common"));
        assert_eq!(
            PasswordError::ContainsEmail.to_string(),
            "Your password must not contain your email address"
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn common_passwords_are_refused_as_typed_and_in_any_case() {
        for p in [
            "password1234",
            "PASSWORD1234",
            "Password1234",
            "1234567890",
            "qwertyuiop",
            "iloveyou123",
        ] {
            assert_eq!(check(p, None), Err(PasswordError::TooCommon), "{p}");
        }
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn well_known_passwords_are_in_the_table() {
        let sample = [
            "password", "123456", "qwerty", "letmein", "monkey", "dragon", "football", "baseball",
            "sunshine", "princess",
        ];
        assert!(sample.iter().all(|p| is_common(p)));
        assert!(!is_common("a sound first password"));
    }
}
