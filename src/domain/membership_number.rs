//! A member's membership number.
//!
//! This module owns the rule that a membership number *is* a positive sequence number; the letters
//! in front of it (`GH` in `GH0012345`) and the zero-padding are presentation, set by the office in
//! its settings. So the number is stored and serialised as the integer, shown with
//! [`MembershipNumber::display_with`] (or `Display`, with the default prefix), and parsed from
//! whatever a member or officer types: any prefix of up to 4 letters in any case, or none, then the
//! digits (`GH0012345`, `gh12345`, `GH-0012345`, `12345`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A positive membership sequence number. Serialises as the integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct MembershipNumber(i64);

/// Why a value is not a membership number. `Display` is the message to show beside the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MembershipNumberError {
    #[error("Enter a membership number")]
    Empty,
    #[error("Enter a membership number in the correct format, like GH0012345")]
    InvalidFormat,
    #[error("Enter a real membership number, like GH0012345")]
    NotPositive,
    #[error("Membership number must be 19 digits or fewer")]
    TooLong,
}

impl MembershipNumber {
    /// The prefix `Display` uses; the office may configure another and use
    /// [`MembershipNumber::display_with`].
    pub const DEFAULT_PREFIX: &'static str = "GH";
    /// Numbers are shown with at least this many digits, padded with zeros.
    pub const DISPLAY_DIGITS: usize = 7;
    /// The most letters accepted in front of the digits.
    pub const MAX_PREFIX_LEN: usize = 4;
    /// The most digits accepted, leading zeros included (an `i64` has at most 19).
    pub const MAX_DIGITS: usize = 19;

    /// A membership number from its sequence number, which must be greater than zero.
    pub fn new(seq: i64) -> Result<Self, MembershipNumberError> {
        if seq > 0 {
            Ok(MembershipNumber(seq))
        } else {
            Err(MembershipNumberError::NotPositive)
        }
    }

    /// A number read back from the database, which was checked when it was issued.
    pub fn stored(seq: i64) -> Self {
        MembershipNumber(seq)
    }

    pub fn seq(self) -> i64 {
        self.0
    }

    /// The display form of a stored sequence number (`GH0012345`); a number that is not positive, which
    /// the database never holds, is shown as it is.
    pub fn text_of(seq: i64) -> String {
        Self::new(seq)
            .map(|n| n.to_string())
            .unwrap_or_else(|_| seq.to_string())
    }

    /// The number with `prefix` in front, zero-padded to 7 digits: `GH0012345`.
    pub fn display_with(self, prefix: &str) -> String {
        format!("{prefix}{:0width$}", self.0, width = Self::DISPLAY_DIGITS)
    }

    /// Parses a typed membership number: surrounding spaces ignored, an optional prefix of up to 4
    /// letters in any case, optionally followed by one space or hyphen, then the digits.
    pub fn parse(raw: &str) -> Result<Self, MembershipNumberError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(MembershipNumberError::Empty);
        }
        let prefix_len = text.bytes().take_while(u8::is_ascii_alphabetic).count();
        if prefix_len > Self::MAX_PREFIX_LEN {
            return Err(MembershipNumberError::InvalidFormat);
        }
        let rest = &text[prefix_len..];
        let digits = match rest.strip_prefix([' ', '-']) {
            Some(after_separator) if prefix_len > 0 => after_separator,
            _ => rest,
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MembershipNumberError::InvalidFormat);
        }
        if digits.len() > Self::MAX_DIGITS {
            return Err(MembershipNumberError::TooLong);
        }
        let seq = digits
            .parse::<i64>()
            .map_err(|_| MembershipNumberError::TooLong)?;
        Self::new(seq)
    }
}

impl fmt::Display for MembershipNumber {
    /// `GH0012345`: the default prefix, zero-padded to 7 digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.display_with(Self::DEFAULT_PREFIX))
    }
}

impl FromStr for MembershipNumber {
    type Err = MembershipNumberError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl TryFrom<i64> for MembershipNumber {
    type Error = MembershipNumberError;

    fn try_from(seq: i64) -> Result<Self, Self::Error> {
        Self::new(seq)
    }
}

impl From<MembershipNumber> for i64 {
    fn from(number: MembershipNumber) -> Self {
        number.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seq_of(raw: &str) -> Result<i64, MembershipNumberError> {
        MembershipNumber::parse(raw).map(MembershipNumber::seq)
    }

    #[test]
    fn membership_number_is_a_positive_sequence_number() {
        assert_eq!(
            MembershipNumber::new(12345).map(MembershipNumber::seq),
            Ok(12345)
        );
        assert_eq!(
            MembershipNumber::new(0),
            Err(MembershipNumberError::NotPositive)
        );
        assert_eq!(
            MembershipNumber::new(-1),
            Err(MembershipNumberError::NotPositive)
        );
    }

    #[test]
    fn membership_number_is_shown_with_the_default_prefix_and_seven_digits() {
        assert_eq!(
            MembershipNumber::new(12345).map(|n| n.to_string()),
            Ok("GH0012345".to_owned())
        );
        assert_eq!(
            MembershipNumber::new(1).map(|n| n.to_string()),
            Ok("GH0000001".to_owned())
        );
    }

    #[test]
    fn membership_number_is_shown_with_a_configured_prefix() {
        assert_eq!(
            MembershipNumber::new(12345).map(|n| n.display_with("BACP")),
            Ok("BACP0012345".to_owned())
        );
        assert_eq!(
            MembershipNumber::new(12345).map(|n| n.display_with("")),
            Ok("0012345".to_owned())
        );
    }

    #[test]
    fn membership_number_grows_past_seven_digits() {
        assert_eq!(
            MembershipNumber::new(123_456_789).map(|n| n.to_string()),
            Ok("GH123456789".to_owned())
        );
    }

    #[test]
    fn membership_number_accepts_any_short_prefix_in_any_case() {
        for raw in [
            "GH0012345",
            "gh12345",
            "Gh0012345",
            "0012345",
            "12345",
            "ABCD12345",
            " GH0012345 ",
        ] {
            assert_eq!(seq_of(raw), Ok(12345), "{raw}");
        }
    }

    #[test]
    fn membership_number_accepts_a_space_or_hyphen_after_the_prefix() {
        assert_eq!(seq_of("GH 0012345"), Ok(12345));
        assert_eq!(seq_of("GH-0012345"), Ok(12345));
    }

    #[test]
    fn membership_number_rejects_an_empty_value() {
        assert_eq!(seq_of(""), Err(MembershipNumberError::Empty));
        assert_eq!(seq_of("   "), Err(MembershipNumberError::Empty));
    }

    #[test]
    fn membership_number_rejects_zero() {
        assert_eq!(seq_of("GH0000000"), Err(MembershipNumberError::NotPositive));
        assert_eq!(seq_of("0"), Err(MembershipNumberError::NotPositive));
    }

    #[test]
    fn membership_number_rejects_a_prefix_of_more_than_four_letters() {
        assert_eq!(
            seq_of("ABCDE12345"),
            Err(MembershipNumberError::InvalidFormat)
        );
    }

    #[test]
    fn membership_number_rejects_anything_but_digits_after_the_prefix() {
        for raw in [
            "GH",
            "GH12A45",
            "GH 12 345",
            "-12345",
            "12345-",
            "GH--12345",
            "G1H2",
            "12.5",
            "GH١٢٣",
        ] {
            assert_eq!(
                seq_of(raw),
                Err(MembershipNumberError::InvalidFormat),
                "{raw}"
            );
        }
    }

    #[test]
    fn membership_number_rejects_too_many_digits() {
        assert_eq!(seq_of("GH9223372036854775807"), Ok(i64::MAX));
        assert_eq!(
            seq_of("GH9223372036854775808"),
            Err(MembershipNumberError::TooLong)
        );
        assert_eq!(
            seq_of("GH00000000000000000012345"),
            Err(MembershipNumberError::TooLong)
        );
    }

    #[test]
    fn membership_number_serialises_as_the_integer() {
        let number = MembershipNumber::new(12345).ok();
        assert_eq!(
            serde_json::to_string(&number).ok(),
            Some("12345".to_owned())
        );
        assert_eq!(
            serde_json::from_str::<MembershipNumber>("12345").ok(),
            number
        );
        assert!(serde_json::from_str::<MembershipNumber>("0").is_err());
        assert!(serde_json::from_str::<MembershipNumber>("-3").is_err());
    }

    proptest! {
        #[test]
        fn membership_number_round_trips_through_any_prefix(
            seq in 1..=i64::MAX,
            prefix in "[A-Za-z]{0,4}",
        ) {
            let number = MembershipNumber::new(seq);
            prop_assert_eq!(number.map(|n| n.seq()), Ok(seq));
            let shown = number.map(|n| n.display_with(&prefix)).unwrap_or_default();
            prop_assert_eq!(seq_of(&shown), Ok(seq));
            prop_assert_eq!(number.map(|n| n.to_string()).map(|s| seq_of(&s)), Ok(Ok(seq)));
        }

        #[test]
        fn membership_number_parse_never_panics(raw in "\\PC{0,30}") {
            let _ = MembershipNumber::parse(&raw);
        }
    }
}
