//! A telephone number, UK or international.
//!
//! This module owns the rule for telephone numbers: people may type them with spaces, dashes, dots
//! and brackets, and with a leading `+` (or `00`) for an international number; Guildhall keeps only
//! the digits, with the `+` when there was one, and requires 7 to 15 digits (15 is the E.164
//! maximum). A UK number typed with its leading `0` is kept as typed (`07700900982`). Two common
//! slips in international numbers are corrected rather than rejected: the UK trunk `(0)` in `+44
//! (0)20 …`, and a `0` typed straight after `+44`. Nothing else about the number is guessed: the
//! number is shown back exactly as stored.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A parsed telephone number: digits, with a leading `+` if international. Serialises as the plain
/// string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

/// Why a typed value is not a telephone number. `Display` is the message to show beside the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("Enter a telephone number")]
    Empty,
    #[error("Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192")]
    InvalidCharacters,
    #[error("Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192")]
    TooShort,
    #[error("Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192")]
    TooLong,
    #[error("Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192")]
    NoCountryCode,
}

impl Phone {
    /// The fewest digits a number may have.
    pub const MIN_DIGITS: usize = 7;
    /// The most digits a number may have (E.164).
    pub const MAX_DIGITS: usize = 15;

    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(PhoneError::Empty);
        }
        let (plus, rest) = match text.strip_prefix('+') {
            Some(rest) => (true, rest.replacen("(0)", "", 1)),
            None => (false, text.to_owned()),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
            } else if !(c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')')) {
                return Err(PhoneError::InvalidCharacters);
            }
        }
        let international = plus || digits.starts_with("00");
        let mut digits = if !plus && international {
            digits.split_off(2)
        } else {
            digits
        };
        if international {
            while digits.starts_with("440") {
                digits.remove(2);
            }
            if digits.is_empty() || digits.starts_with('0') {
                return Err(PhoneError::NoCountryCode);
            }
        }
        if digits.len() < Self::MIN_DIGITS {
            return Err(PhoneError::TooShort);
        }
        if digits.len() > Self::MAX_DIGITS {
            return Err(PhoneError::TooLong);
        }
        Ok(Phone(if international {
            format!("+{digits}")
        } else {
            digits
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the number was given with its country code (it starts with `+`).
    pub fn is_international(&self) -> bool {
        self.0.starts_with('+')
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Phone {
    type Err = PhoneError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Phone> for String {
    fn from(phone: Phone) -> Self {
        phone.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(raw: &str) -> String {
        match Phone::parse(raw) {
            Ok(phone) => phone.as_str().to_owned(),
            Err(e) => panic!("{raw:?} should parse, got {e:?}"),
        }
    }

    #[test]
    fn phone_accepts_uk_numbers_as_typed() {
        assert_eq!(ok("01632 960 001"), "01632960001");
        assert_eq!(ok("07700 900 982"), "07700900982");
        assert_eq!(ok("(01632) 960-001"), "01632960001");
        assert_eq!(ok("020.7946.0000"), "02079460000");
    }

    #[test]
    fn phone_accepts_international_numbers() {
        assert_eq!(ok("+44 808 157 0192"), "+448081570192");
        assert_eq!(ok(" +1 (555) 010-0199 "), "+15550100199");
        assert_eq!(ok("+353 1 234 5678"), "+35312345678");
    }

    #[test]
    fn phone_reads_a_leading_00_as_plus() {
        assert_eq!(ok("0044 808 157 0192"), "+448081570192");
        assert_eq!(ok("00 33 1 23 45 67 89"), "+33123456789");
    }

    #[test]
    fn phone_drops_the_uk_trunk_zero_after_the_country_code() {
        assert_eq!(ok("+44 (0)20 7946 0000"), "+442079460000");
        assert_eq!(ok("+44 020 7946 0000"), "+442079460000");
        assert_eq!(ok("0044 (0)20 7946 0000"), "+442079460000");
        assert_eq!(ok("+44 00 20 7946 0000"), "+442079460000");
    }

    #[test]
    fn phone_accepts_the_shortest_and_longest_numbers() {
        assert_eq!(ok("1234567"), "1234567");
        assert_eq!(ok("+123456789012345"), "+123456789012345");
    }

    #[test]
    fn phone_rejects_an_empty_value() {
        assert_eq!(Phone::parse(""), Err(PhoneError::Empty));
        assert_eq!(Phone::parse("  "), Err(PhoneError::Empty));
    }

    #[test]
    fn phone_rejects_letters_and_other_symbols() {
        assert_eq!(
            Phone::parse("01632 960 001 ext 12"),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(
            Phone::parse("0800-FLOWERS"),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(
            Phone::parse("01632/960001"),
            Err(PhoneError::InvalidCharacters)
        );
    }

    #[test]
    fn phone_rejects_a_plus_that_is_not_at_the_start() {
        assert_eq!(
            Phone::parse("44+808 157 0192"),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(
            Phone::parse("++44 808 157 0192"),
            Err(PhoneError::InvalidCharacters)
        );
    }

    #[test]
    fn phone_rejects_fewer_than_7_digits() {
        assert_eq!(Phone::parse("123456"), Err(PhoneError::TooShort));
        assert_eq!(Phone::parse("+44"), Err(PhoneError::TooShort));
        assert_eq!(Phone::parse("---"), Err(PhoneError::TooShort));
    }

    #[test]
    fn phone_rejects_more_than_15_digits() {
        assert_eq!(Phone::parse("+1234567890123456"), Err(PhoneError::TooLong));
        assert_eq!(
            Phone::parse("0123 4567 8901 2345"),
            Err(PhoneError::TooLong)
        );
    }

    #[test]
    fn phone_rejects_an_international_number_without_a_country_code() {
        assert_eq!(
            Phone::parse("+0 808 157 0192"),
            Err(PhoneError::NoCountryCode)
        );
        assert_eq!(Phone::parse("+"), Err(PhoneError::NoCountryCode));
        assert_eq!(
            Phone::parse("000 808 157 0192"),
            Err(PhoneError::NoCountryCode)
        );
    }

    #[test]
    fn phone_displays_the_normalised_number() {
        assert_eq!(
            Phone::parse("07700 900 982").map(|p| p.to_string()),
            Ok("07700900982".to_owned())
        );
        assert_eq!(
            Phone::parse("+44 808 157 0192").map(|p| p.is_international()),
            Ok(true)
        );
        assert_eq!(
            Phone::parse("07700 900 982").map(|p| p.is_international()),
            Ok(false)
        );
    }

    #[test]
    fn phone_serialises_as_the_plain_string() {
        let phone = Phone::parse("+44 808 157 0192").ok();
        assert_eq!(
            serde_json::to_string(&phone).ok(),
            Some("\"+448081570192\"".to_owned())
        );
        assert_eq!(
            serde_json::from_str::<Phone>("\"+44 808 157 0192\"").ok(),
            phone
        );
        assert!(serde_json::from_str::<Phone>("\"call me\"").is_err());
    }

    #[test]
    fn phone_error_gives_examples() {
        assert_eq!(
            PhoneError::TooShort.to_string(),
            "Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"
        );
    }

    proptest! {
        #[test]
        fn phone_parse_is_idempotent(raw in "[+]?[0-9 ()./-]{0,25}") {
            if let Ok(phone) = Phone::parse(&raw) {
                prop_assert_eq!(Phone::parse(phone.as_str()), Ok(phone.clone()));
                let digits = phone.as_str().trim_start_matches('+');
                prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!((Phone::MIN_DIGITS..=Phone::MAX_DIGITS).contains(&digits.len()));
            }
        }

        #[test]
        fn phone_parse_never_panics(raw in "\\PC*") {
            let _ = Phone::parse(&raw);
        }
    }
}
