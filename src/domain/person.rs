//! One part of a person's name: a given name, a family name or a preferred name.
//!
//! This module owns the rule for names, which is to accept what people are actually called: any
//! script, apostrophes, hyphens, accents and spaces (O'Brien, Zoë, Nguyễn, Jean-Luc, de la Cruz).
//! The name is trimmed and runs of white space inside it become one space, so a pasted name
//! compares and sorts like a typed one. What it refuses is what cannot be a name: nothing at all,
//! more than 100 characters, hidden characters (control codes, zero-width spaces, text-direction
//! overrides that could disguise a name on the public register), and values with no letter in them,
//! such as a number typed in the wrong box.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A parsed name part. Serialises as the plain string; deserialising parses it again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

/// Why a typed value is not a name. `Display` is the message to show beside the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PersonNameError {
    #[error("Enter a name")]
    Empty,
    #[error("Name must be 100 characters or fewer")]
    TooLong,
    #[error("Name must not include hidden characters")]
    HiddenCharacters,
    #[error("Name must include at least one letter")]
    NoLetters,
}

impl PersonName {
    /// The most characters (not bytes) a name part may have.
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, PersonNameError> {
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(PersonNameError::Empty);
        }
        if name.chars().any(is_hidden) {
            return Err(PersonNameError::HiddenCharacters);
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(PersonNameError::TooLong);
        }
        if !name.chars().any(char::is_alphabetic) {
            return Err(PersonNameError::NoLetters);
        }
        Ok(PersonName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters that show as nothing, or change how the text around them is shown. Zero-width joiners
/// (U+200C, U+200D) are allowed: some scripts need them to spell names correctly.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}' // soft hyphen
                | '\u{034F}' // combining grapheme joiner
                | '\u{061C}' // Arabic letter mark
                | '\u{180E}' // Mongolian vowel separator
                | '\u{200B}' // zero-width space
                | '\u{200E}'..='\u{200F}' // left-to-right and right-to-left marks
                | '\u{202A}'..='\u{202E}' // direction embeddings and overrides
                | '\u{2060}'..='\u{2064}' // word joiner and invisible operators
                | '\u{2066}'..='\u{206F}' // direction isolates and deprecated format characters
                | '\u{FEFF}' // byte order mark
                | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
        )
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for PersonName {
    type Err = PersonNameError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl TryFrom<String> for PersonName {
    type Error = PersonNameError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<PersonName> for String {
    fn from(name: PersonName) -> Self {
        name.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(raw: &str) -> String {
        match PersonName::parse(raw) {
            Ok(name) => name.as_str().to_owned(),
            Err(e) => panic!("{raw:?} should parse, got {e:?}"),
        }
    }

    #[test]
    fn name_keeps_apostrophes_hyphens_and_accents() {
        for name in [
            "O'Brien",
            "Zoë",
            "Nguyễn",
            "Jean-Luc",
            "D’Arcy",
            "Åsa",
            "Ólafur",
            "李",
            "Мария",
            "محمد",
        ] {
            assert_eq!(ok(name), name);
        }
    }

    #[test]
    fn name_keeps_names_of_more_than_one_word() {
        assert_eq!(ok("de la Cruz"), "de la Cruz");
    }

    #[test]
    fn name_keeps_the_case_it_was_typed_in() {
        assert_eq!(ok("McDONALD"), "McDONALD");
    }

    #[test]
    fn name_is_trimmed_and_inner_spaces_are_collapsed() {
        assert_eq!(ok("  Mary   Ann\t "), "Mary Ann");
        assert_eq!(ok("Mary\u{00A0}\u{00A0}Ann"), "Mary Ann");
        assert_eq!(ok("Mary\nAnn"), "Mary Ann");
    }

    #[test]
    fn name_may_be_a_single_letter() {
        assert_eq!(ok("J"), "J");
    }

    #[test]
    fn name_may_include_a_digit_alongside_letters() {
        assert_eq!(ok("Henry 8th"), "Henry 8th");
    }

    #[test]
    fn name_may_include_zero_width_joiners_that_some_scripts_need() {
        assert_eq!(ok("می\u{200C}خواهم"), "می\u{200C}خواهم");
    }

    #[test]
    fn name_rejects_an_empty_value() {
        assert_eq!(PersonName::parse(""), Err(PersonNameError::Empty));
        assert_eq!(PersonName::parse(" \t\n "), Err(PersonNameError::Empty));
    }

    #[test]
    fn name_rejects_more_than_100_characters() {
        let longest = "ë".repeat(100);
        assert_eq!(ok(&longest), longest);
        assert_eq!(
            PersonName::parse(&"ë".repeat(101)),
            Err(PersonNameError::TooLong)
        );
    }

    #[test]
    fn name_rejects_control_characters() {
        assert_eq!(
            PersonName::parse("Jo\u{0}"),
            Err(PersonNameError::HiddenCharacters)
        );
        assert_eq!(
            PersonName::parse("Jo\u{7}e"),
            Err(PersonNameError::HiddenCharacters)
        );
    }

    #[test]
    fn name_rejects_invisible_and_direction_changing_characters() {
        assert_eq!(
            PersonName::parse("Jo\u{200B}e"),
            Err(PersonNameError::HiddenCharacters)
        );
        assert_eq!(
            PersonName::parse("\u{202E}eoJ"),
            Err(PersonNameError::HiddenCharacters)
        );
        assert_eq!(
            PersonName::parse("\u{FEFF}Joe"),
            Err(PersonNameError::HiddenCharacters)
        );
    }

    #[test]
    fn name_rejects_digits_only() {
        assert_eq!(PersonName::parse("12345"), Err(PersonNameError::NoLetters));
        assert_eq!(PersonName::parse("12 34"), Err(PersonNameError::NoLetters));
    }

    #[test]
    fn name_rejects_punctuation_only() {
        assert_eq!(PersonName::parse("-"), Err(PersonNameError::NoLetters));
        assert_eq!(PersonName::parse("' ."), Err(PersonNameError::NoLetters));
    }

    #[test]
    fn name_serialises_as_the_plain_string_and_validates_when_deserialised() {
        let name = PersonName::parse("Zoë").ok();
        assert_eq!(
            serde_json::to_string(&name).ok(),
            Some("\"Zoë\"".to_owned())
        );
        assert_eq!(serde_json::from_str::<PersonName>("\"  Zoë \"").ok(), name);
        assert!(serde_json::from_str::<PersonName>("\"123\"").is_err());
    }

    proptest! {
        #[test]
        fn name_parse_is_idempotent(raw in "\\PC{0,120}") {
            if let Ok(name) = PersonName::parse(&raw) {
                prop_assert_eq!(PersonName::parse(name.as_str()), Ok(name));
            }
        }

        #[test]
        fn name_has_no_outer_or_doubled_spaces(
            raw in concat!(
                "[ \\t\\u{00A0}]{0,3}\\PL{0,3}\\pL{1,20}",
                "([ \\t\\u{3000}]{1,4}[\\pL'-]{1,20}){0,3}\\s{0,3}",
            ),
        ) {
            let parsed = PersonName::parse(&raw);
            let hidden = Err(PersonNameError::HiddenCharacters);
            prop_assert!(parsed.is_ok() || parsed == hidden, "{:?}", parsed);
            if let Ok(name) = parsed {
                let text = name.as_str();
                prop_assert_eq!(text.trim(), text);
                prop_assert!(!text.contains("  "));
                prop_assert!(!text.chars().any(|c| c.is_whitespace() && c != ' '));
                prop_assert!(text.chars().count() <= PersonName::MAX_CHARS);
            }
        }

        #[test]
        fn name_of_letters_always_parses_unchanged(raw in "\\pL{1,100}") {
            prop_assert_eq!(PersonName::parse(&raw).map(String::from), Ok(raw));
        }
    }
}
