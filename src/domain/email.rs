//! An e-mail address, which is also a member's or staff user's login.
//!
//! This module owns the rule for what Guildhall accepts as an address: trimmed, exactly one `@`, a
//! local part of 1–64 bytes, a domain with at least one dot and no empty labels, no spaces or
//! control characters anywhere, and at most 254 bytes in all (the SMTP limits). The domain is
//! lower-cased, because domains are case-insensitive; the local part is kept exactly as typed,
//! because in principle it is not.
//!
//! The check is deliberately loose: the only real proof of an address is a message that arrives. It
//! exists to catch typing mistakes (a missing `@`, a comma for a dot, a pasted space) at the form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A parsed e-mail address. Serialises as the plain string; deserialising parses it again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Why a typed value is not an e-mail address. `Display` is the message to show beside the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an email address")]
    Empty,
    #[error("Enter an email address in the correct format, like name@example.com")]
    InvalidFormat,
    #[error("The part of the email address before the @ must be 64 characters or fewer")]
    LocalPartTooLong,
    #[error("Email address must be 254 characters or fewer")]
    TooLong,
}

impl Email {
    /// The longest address SMTP allows, in bytes.
    pub const MAX_LEN: usize = 254;
    /// The longest part before the `@` SMTP allows, in bytes.
    pub const MAX_LOCAL_PART_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(EmailError::Empty);
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::InvalidFormat);
        }
        let (local, domain) = text.split_once('@').ok_or(EmailError::InvalidFormat)?;
        if !is_local_part(local) || domain.contains('@') {
            return Err(EmailError::InvalidFormat);
        }
        let domain = domain.to_lowercase();
        if !is_domain(&domain) {
            return Err(EmailError::InvalidFormat);
        }
        if local.len() > Self::MAX_LOCAL_PART_LEN {
            return Err(EmailError::LocalPartTooLong);
        }
        let address = format!("{local}@{domain}");
        if address.len() > Self::MAX_LEN {
            return Err(EmailError::TooLong);
        }
        Ok(Email(address))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`, as typed.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(local, _)| local)
    }

    /// The part after the `@`, lower-cased.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

/// Not empty, and none of the characters that cannot appear unquoted (quoted local parts are not
/// accepted: nobody types them, and a comma or bracket is far more likely a slip).
fn is_local_part(local: &str) -> bool {
    !local.is_empty()
        && !local.chars().any(|c| {
            matches!(
                c,
                ',' | ';' | ':' | '<' | '>' | '(' | ')' | '[' | ']' | '"' | '\\'
            )
        })
}

/// At least two non-empty labels separated by dots; ASCII letters, digits and hyphens, or any
/// non-ASCII character (internationalised domains).
fn is_domain(domain: &str) -> bool {
    domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
        && domain
            .chars()
            .all(|c| !c.is_ascii() || c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(raw: &str) -> String {
        match Email::parse(raw) {
            Ok(email) => email.as_str().to_owned(),
            Err(e) => panic!("{raw:?} should parse, got {e:?}"),
        }
    }

    #[test]
    fn email_accepts_an_ordinary_address() {
        assert_eq!(ok("name@example.com"), "name@example.com");
        assert_eq!(
            ok("first.last+tag@mail.example.co.uk"),
            "first.last+tag@mail.example.co.uk"
        );
    }

    #[test]
    fn email_is_trimmed() {
        assert_eq!(ok("  name@example.com \n"), "name@example.com");
    }

    #[test]
    fn email_lower_cases_the_domain_but_keeps_the_local_part() {
        assert_eq!(ok("Jo.Bloggs@Example.COM"), "Jo.Bloggs@example.com");
    }

    #[test]
    fn email_accepts_international_addresses() {
        assert_eq!(ok("zoë@bücher.DE"), "zoë@bücher.de");
    }

    #[test]
    fn email_splits_into_local_part_and_domain() {
        let email = Email::parse("Jo@Example.com").ok();
        assert_eq!(email.as_ref().map(Email::local_part), Some("Jo"));
        assert_eq!(email.as_ref().map(Email::domain), Some("example.com"));
    }

    #[test]
    fn email_rejects_an_empty_value() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
    }

    #[test]
    fn email_rejects_an_address_without_an_at() {
        assert_eq!(
            Email::parse("name.example.com"),
            Err(EmailError::InvalidFormat)
        );
    }

    #[test]
    fn email_rejects_more_than_one_at() {
        assert_eq!(
            Email::parse("name@work@example.com"),
            Err(EmailError::InvalidFormat)
        );
    }

    #[test]
    fn email_rejects_an_empty_local_part() {
        assert_eq!(Email::parse("@example.com"), Err(EmailError::InvalidFormat));
    }

    #[test]
    fn email_rejects_a_domain_without_a_dot() {
        assert_eq!(
            Email::parse("name@localhost"),
            Err(EmailError::InvalidFormat)
        );
        assert_eq!(Email::parse("name@"), Err(EmailError::InvalidFormat));
    }

    #[test]
    fn email_rejects_empty_domain_labels() {
        assert_eq!(
            Email::parse("name@.example.com"),
            Err(EmailError::InvalidFormat)
        );
        assert_eq!(
            Email::parse("name@example.com."),
            Err(EmailError::InvalidFormat)
        );
        assert_eq!(
            Email::parse("name@example..com"),
            Err(EmailError::InvalidFormat)
        );
    }

    #[test]
    fn email_rejects_common_slips() {
        assert_eq!(
            Email::parse("name@example,com"),
            Err(EmailError::InvalidFormat)
        );
        assert_eq!(
            Email::parse("name,other@example.com"),
            Err(EmailError::InvalidFormat)
        );
        assert_eq!(
            Email::parse("Jo Bloggs <jo@example.com>"),
            Err(EmailError::InvalidFormat)
        );
    }

    #[test]
    fn email_rejects_spaces_and_control_characters() {
        assert_eq!(
            Email::parse("jo bloggs@example.com"),
            Err(EmailError::InvalidFormat)
        );
        assert_eq!(
            Email::parse("jo@exam ple.com"),
            Err(EmailError::InvalidFormat)
        );
        assert_eq!(
            Email::parse("jo\u{0}@example.com"),
            Err(EmailError::InvalidFormat)
        );
    }

    #[test]
    fn email_rejects_a_local_part_over_64_characters() {
        let local = "a".repeat(64);
        assert_eq!(
            ok(&format!("{local}@example.com")),
            format!("{local}@example.com")
        );
        assert_eq!(
            Email::parse(&format!("a{local}@example.com")),
            Err(EmailError::LocalPartTooLong)
        );
    }

    #[test]
    fn email_rejects_an_address_over_254_characters() {
        let domain = format!("{}.com", "d".repeat(240)); // 244
        let at_limit = format!("{}@{domain}", "a".repeat(9)); // 254
        assert_eq!(ok(&at_limit), at_limit);
        assert_eq!(
            Email::parse(&format!("a{at_limit}")),
            Err(EmailError::TooLong)
        );
    }

    #[test]
    fn email_serialises_as_the_plain_string_and_validates_when_deserialised() {
        let email = Email::parse("Jo@Example.com").ok();
        assert_eq!(
            serde_json::to_string(&email).ok(),
            Some("\"Jo@example.com\"".to_owned())
        );
        assert_eq!(
            serde_json::from_str::<Email>("\" Jo@EXAMPLE.com \"").ok(),
            email
        );
        assert!(serde_json::from_str::<Email>("\"not an email\"").is_err());
    }

    #[test]
    fn email_error_message_matches_the_design_system() {
        assert_eq!(
            EmailError::InvalidFormat.to_string(),
            "Enter an email address in the correct format, like name@example.com"
        );
    }

    proptest! {
        #[test]
        fn email_parse_is_idempotent_for_any_input(raw in "\\PC*") {
            if let Ok(email) = Email::parse(&raw) {
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email));
            }
        }

        #[test]
        fn email_parse_is_idempotent_for_plausible_addresses(
            raw in concat!(
                "\\s{0,2}[A-Za-z0-9._%+'-]{1,70}",
                "@[A-Za-z0-9ÄÖÜäöü-]{1,20}(\\.[A-Za-z]{2,6}){1,3}\\s{0,2}",
            ),
        ) {
            let first = Email::parse(&raw);
            if let Ok(email) = &first {
                prop_assert_eq!(email.domain(), email.domain().to_lowercase());
                prop_assert_eq!(Email::parse(email.as_str()), first.clone());
            } else {
                prop_assert_eq!(first, Err(EmailError::LocalPartTooLong));
            }
        }
    }
}
