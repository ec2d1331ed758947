//! Countries and postcodes of postal addresses.
//!
//! This module owns two rules. A [`Country`] is an officially assigned ISO 3166-1 alpha-2 code,
//! upper-cased (`GB`, `IE`, `FR`); `UK`, which people type for the United Kingdom, is read as `GB`.
//! A [`Postcode`] is checked against the rules of the country it belongs to: the United Kingdom and
//! the Crown Dependencies that share its postcode system (Guernsey, Jersey, the Isle of Man) must
//! have a real UK-format postcode, normalised to upper case with one space (`SW1A 1AA`); anywhere
//! else a postcode is optional, and is free text of up to 16 letters, digits, spaces and hyphens,
//! upper-cased with single spaces.
//!
//! A postcode serialises as its plain string, which cannot carry the country; deserialising
//! therefore checks only the rule every postcode keeps (the free-text rule, which the UK form also
//! satisfies). Code that has the country and needs the stricter check calls [`Postcode::parse`]
//! with it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An ISO 3166-1 alpha-2 country code. Serialises as the two-letter code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country(&'static str);

/// Why a typed value is not a country code. `Display` is the message to show beside the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CountryError {
    #[error("Select a country")]
    Empty,
    #[error("Enter a country from the list, like United Kingdom")]
    NotACode,
    #[error("Enter a real country code, like GB")]
    Unknown,
}

/// The officially assigned ISO 3166-1 alpha-2 codes, sorted, for binary search.
pub(crate) const ASSIGNED_CODES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

impl Country {
    /// The United Kingdom.
    pub const GB: Country = Country("GB");

    /// Parses a two-letter code in any case, or a country's name (what the type-ahead country box
    /// posts, see `countries::code_of`), ignoring surrounding spaces.
    pub fn parse(raw: &str) -> Result<Self, CountryError> {
        let code = raw.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(CountryError::Empty);
        }
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return crate::domain::countries::code_of(raw)
                .map(Country::from_assigned)
                .ok_or(CountryError::NotACode);
        }
        if code == "UK" {
            return Ok(Country::GB);
        }
        ASSIGNED_CODES
            .binary_search(&code.as_str())
            .map(|index| Country(ASSIGNED_CODES[index]))
            .map_err(|_| CountryError::Unknown)
    }

    /// A code known to be in `ASSIGNED_CODES` (the countries' names table is checked against it).
    fn from_assigned(code: &'static str) -> Self {
        Country(code)
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// Whether addresses here use UK postcodes: the United Kingdom, Guernsey, Jersey and the Isle
    /// of Man.
    pub fn uses_uk_postcodes(&self) -> bool {
        matches!(self.0, "GB" | "GG" | "JE" | "IM")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.0)
    }
}

impl AsRef<str> for Country {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl FromStr for Country {
    type Err = CountryError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl TryFrom<String> for Country {
    type Error = CountryError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Country> for String {
    fn from(country: Country) -> Self {
        country.0.to_owned()
    }
}

/// A postcode, normalised for the country it was parsed for. Serialises as the plain string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Postcode(String);

/// Why a typed value is not a postcode. `Display` is the message to show beside the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PostcodeError {
    #[error("Enter a postcode")]
    Empty,
    #[error("Enter a real postcode, like SW1A 1AA")]
    NotAUkPostcode,
    #[error("Postcode must be 16 characters or fewer")]
    TooLong,
    #[error("Postcode must only include letters, numbers, spaces and hyphens")]
    InvalidCharacters,
}

impl Postcode {
    /// The longest postcode accepted outside the UK, in characters.
    pub const MAX_LEN: usize = 16;

    /// Parses a postcode that must be present.
    pub fn parse(country: &Country, raw: &str) -> Result<Self, PostcodeError> {
        Self::parse_optional(country, raw)?.ok_or(PostcodeError::Empty)
    }

    /// Parses a postcode that may be left blank where the country's addresses need none: blank is
    /// `Ok(None)` outside the UK and an error for a country that uses UK postcodes.
    pub fn parse_optional(country: &Country, raw: &str) -> Result<Option<Self>, PostcodeError> {
        if raw.trim().is_empty() {
            return if country.uses_uk_postcodes() {
                Err(PostcodeError::Empty)
            } else {
                Ok(None)
            };
        }
        if country.uses_uk_postcodes() {
            parse_uk(raw).map(Some)
        } else {
            parse_free_text(raw).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The outward code (`SW1A` of `SW1A 1AA`): the area and district, used for sorting mail and
    /// for searching. `None` unless the postcode is in UK format.
    pub fn outward(&self) -> Option<&str> {
        self.uk_parts().map(|(outward, _)| outward)
    }

    /// The inward code (`1AA` of `SW1A 1AA`). `None` unless the postcode is in UK format.
    pub fn inward(&self) -> Option<&str> {
        self.uk_parts().map(|(_, inward)| inward)
    }

    fn uk_parts(&self) -> Option<(&str, &str)> {
        let (outward, inward) = self.0.split_once(' ')?;
        is_uk_format(outward, inward).then_some((outward, inward))
    }
}

/// Spaces removed, upper-cased, checked against the UK format, and written with one space before
/// the inward code.
fn parse_uk(raw: &str) -> Result<Postcode, PostcodeError> {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !compact.is_ascii() || compact.len() < 5 {
        return Err(PostcodeError::NotAUkPostcode);
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    if is_uk_format(outward, inward) {
        Ok(Postcode(format!("{outward} {inward}")))
    } else {
        Err(PostcodeError::NotAUkPostcode)
    }
}

/// The outward code is one of A9, A99, AA9, AA99, A9A, AA9A (A a letter, 9 a digit) and the inward
/// code is 9AA; or the postcode is the Girobank's GIR 0AA. Letters must already be upper case.
fn is_uk_format(outward: &str, inward: &str) -> bool {
    let shape = |code: &str| -> String {
        code.chars()
            .map(|c| match c {
                'A'..='Z' => 'A',
                '0'..='9' => '9',
                _ => '?',
            })
            .collect()
    };
    let outward_ok = matches!(
        shape(outward).as_str(),
        "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A"
    );
    (outward_ok && shape(inward) == "9AA") || (outward == "GIR" && inward == "0AA")
}

/// Trimmed, runs of white space made one space, upper-cased; letters, digits, spaces and hyphens
/// only.
fn parse_free_text(raw: &str) -> Result<Postcode, PostcodeError> {
    let text = raw
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    if text.is_empty() {
        return Err(PostcodeError::Empty);
    }
    if !text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        || !text.chars().any(|c| c.is_ascii_alphanumeric())
    {
        return Err(PostcodeError::InvalidCharacters);
    }
    if text.chars().count() > Postcode::MAX_LEN {
        return Err(PostcodeError::TooLong);
    }
    Ok(Postcode(text))
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl AsRef<str> for Postcode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Postcode {
    type Error = PostcodeError;

    /// Checks the rule every postcode keeps; see the module documentation.
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        parse_free_text(&raw)
    }
}

impl From<Postcode> for String {
    fn from(postcode: Postcode) -> Self {
        postcode.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn country(code: &str) -> Country {
        match Country::parse(code) {
            Ok(country) => country,
            Err(e) => panic!("{code:?} should parse, got {e:?}"),
        }
    }

    fn gb(raw: &str) -> Result<String, PostcodeError> {
        Postcode::parse(&Country::GB, raw).map(String::from)
    }

    #[test]
    fn country_is_upper_cased_and_trimmed() {
        assert_eq!(Country::parse(" gb "), Ok(Country::GB));
        assert_eq!(country("fr").as_str(), "FR");
    }

    #[test]
    fn country_reads_uk_as_gb() {
        assert_eq!(Country::parse("uk"), Ok(Country::GB));
    }

    #[test]
    fn country_knows_every_assigned_code() {
        assert!(ASSIGNED_CODES.windows(2).all(|pair| pair[0] < pair[1]));
        for code in ASSIGNED_CODES {
            assert_eq!(Country::parse(code).map(|c| c.as_str()), Ok(code));
        }
    }

    #[test]
    fn country_rejects_an_empty_value() {
        assert_eq!(Country::parse("  "), Err(CountryError::Empty));
    }

    #[test]
    fn country_is_two_letters_or_a_name() {
        for raw in ["G", "GBR", "G1", "United Kingdoms", "ÜX"] {
            assert_eq!(Country::parse(raw), Err(CountryError::NotACode), "{raw}");
        }
        assert_eq!(Country::parse("United Kingdom"), Ok(Country::GB));
        assert_eq!(Country::parse("ireland").map(|c| c.as_str()), Ok("IE"));
    }

    #[test]
    fn country_rejects_unassigned_codes() {
        assert_eq!(Country::parse("ZZ"), Err(CountryError::Unknown));
        assert_eq!(Country::parse("XK"), Err(CountryError::Unknown));
    }

    #[test]
    fn country_serialises_as_its_code() {
        assert_eq!(
            serde_json::to_string(&Country::GB).ok(),
            Some("\"GB\"".to_owned())
        );
        assert_eq!(
            serde_json::from_str::<Country>("\"ie\"").ok(),
            Some(country("IE"))
        );
        assert!(serde_json::from_str::<Country>("\"ZZ\"").is_err());
    }

    #[test]
    fn uk_postcode_is_normalised_to_one_space_and_upper_case() {
        assert_eq!(gb("sw1a1aa"), Ok("SW1A 1AA".to_owned()));
        assert_eq!(gb("  SW1A   1AA "), Ok("SW1A 1AA".to_owned()));
        assert_eq!(gb("s w 1 a 1 a a"), Ok("SW1A 1AA".to_owned()));
    }

    #[test]
    fn uk_postcode_accepts_every_outward_shape() {
        for (raw, canonical) in [
            ("M11AE", "M1 1AE"),
            ("B338TH", "B33 8TH"),
            ("CR26XH", "CR2 6XH"),
            ("DN551PT", "DN55 1PT"),
            ("W1A0AX", "W1A 0AX"),
            ("EC1A1BB", "EC1A 1BB"),
        ] {
            assert_eq!(gb(raw), Ok(canonical.to_owned()));
        }
    }

    #[test]
    fn uk_postcode_accepts_girobank() {
        assert_eq!(gb("gir0aa"), Ok("GIR 0AA".to_owned()));
    }

    #[test]
    fn uk_postcode_rejects_the_wrong_format() {
        for raw in [
            "SW1A",
            "SW1A 1A",
            "1AA 1AA",
            "SW1A1AAA",
            "ABCDE",
            "SW1A-1AA",
            "SW1A 11A",
            "SWAA 1AA",
            "AA999 9AA",
        ] {
            assert_eq!(gb(raw), Err(PostcodeError::NotAUkPostcode), "{raw}");
        }
    }

    #[test]
    fn uk_postcode_rejects_non_ascii_lookalikes() {
        assert_eq!(gb("ＳＷ1Ａ 1ＡＡ"), Err(PostcodeError::NotAUkPostcode));
    }

    #[test]
    fn uk_postcode_error_names_an_example() {
        assert_eq!(
            PostcodeError::NotAUkPostcode.to_string(),
            "Enter a real postcode, like SW1A 1AA"
        );
    }

    #[test]
    fn uk_postcode_is_required() {
        assert_eq!(gb(""), Err(PostcodeError::Empty));
        assert_eq!(
            Postcode::parse_optional(&Country::GB, "  "),
            Err(PostcodeError::Empty)
        );
    }

    #[test]
    fn crown_dependencies_use_uk_postcodes() {
        for code in ["GG", "JE", "IM"] {
            assert_eq!(
                Postcode::parse(&country(code), "je2 3ab").map(String::from),
                Ok("JE2 3AB".to_owned())
            );
            assert_eq!(
                Postcode::parse(&country(code), "12345"),
                Err(PostcodeError::NotAUkPostcode)
            );
        }
    }

    #[test]
    fn uk_postcode_splits_into_outward_and_inward_codes() {
        let postcode = Postcode::parse(&Country::GB, "sw1a1aa").ok();
        assert_eq!(postcode.as_ref().and_then(Postcode::outward), Some("SW1A"));
        assert_eq!(postcode.as_ref().and_then(Postcode::inward), Some("1AA"));
    }

    #[test]
    fn other_postcodes_are_free_text() {
        let ie = country("IE");
        let fr = country("FR");
        assert_eq!(
            Postcode::parse(&ie, " d02 x285 ").map(String::from),
            Ok("D02 X285".to_owned())
        );
        assert_eq!(
            Postcode::parse(&fr, "75008").map(String::from),
            Ok("75008".to_owned())
        );
        assert_eq!(
            Postcode::parse(&country("PT"), "1000-001").map(String::from),
            Ok("1000-001".to_owned())
        );
        assert_eq!(
            Postcode::parse(&country("NL"), "1234   ab").map(String::from),
            Ok("1234 AB".to_owned())
        );
    }

    #[test]
    fn other_postcodes_have_no_outward_code() {
        let postcode = Postcode::parse(&country("FR"), "75008").ok();
        assert_eq!(postcode.as_ref().and_then(Postcode::outward), None);
    }

    #[test]
    fn other_postcodes_may_be_left_blank() {
        assert_eq!(Postcode::parse_optional(&country("IE"), "   "), Ok(None));
        assert_eq!(
            Postcode::parse(&country("IE"), ""),
            Err(PostcodeError::Empty)
        );
    }

    #[test]
    fn other_postcodes_reject_punctuation() {
        for raw in ["75008!", "12/34", "-", "a_b"] {
            assert_eq!(
                Postcode::parse(&country("FR"), raw),
                Err(PostcodeError::InvalidCharacters),
                "{raw}"
            );
        }
    }

    #[test]
    fn other_postcodes_reject_more_than_16_characters() {
        assert!(Postcode::parse(&country("US"), "1234567890123456").is_ok());
        assert_eq!(
            Postcode::parse(&country("US"), "12345678901234567"),
            Err(PostcodeError::TooLong)
        );
    }

    #[test]
    fn postcode_serialises_as_the_plain_string() {
        let postcode = Postcode::parse(&Country::GB, "sw1a1aa").ok();
        assert_eq!(
            serde_json::to_string(&postcode).ok(),
            Some("\"SW1A 1AA\"".to_owned())
        );
        assert_eq!(
            serde_json::from_str::<Postcode>("\"SW1A 1AA\"").ok(),
            postcode
        );
        assert!(serde_json::from_str::<Postcode>("\"SW1A;1AA\"").is_err());
    }

    /// A valid UK postcode in canonical form, built from one of the outward shapes.
    fn uk_postcode() -> impl Strategy<Value = String> {
        let letter = || proptest::char::range('A', 'Z').prop_map(String::from);
        let digit = || proptest::char::range('0', '9').prop_map(String::from);
        let outward = prop_oneof![
            (letter(), digit()).prop_map(|(a, b)| a + &b),
            (letter(), digit(), digit()).prop_map(|(a, b, c)| a + &b + &c),
            (letter(), letter(), digit()).prop_map(|(a, b, c)| a + &b + &c),
            (letter(), letter(), digit(), digit()).prop_map(|(a, b, c, d)| a + &b + &c + &d),
            (letter(), digit(), letter()).prop_map(|(a, b, c)| a + &b + &c),
            (letter(), letter(), digit(), letter()).prop_map(|(a, b, c, d)| a + &b + &c + &d),
        ];
        let inward = (digit(), letter(), letter()).prop_map(|(a, b, c)| a + &b + &c);
        prop_oneof![
            9 => (outward, inward).prop_map(|(o, i)| format!("{o} {i}")),
            1 => Just("GIR 0AA".to_owned()),
        ]
    }

    /// `canonical` with its space removed, random spaces put back anywhere, and random letters
    /// lower-cased.
    fn retyped(canonical: String) -> impl Strategy<Value = (String, String)> {
        let compact: Vec<char> = canonical.chars().filter(|c| *c != ' ').collect();
        let n = compact.len();
        (
            proptest::collection::vec(0usize..3, n + 1),
            proptest::collection::vec(any::<bool>(), n),
        )
            .prop_map(move |(spaces, lower)| {
                let mut typed = String::new();
                for (i, c) in compact.iter().enumerate() {
                    typed.push_str(&" ".repeat(spaces[i]));
                    typed.push(if lower[i] { c.to_ascii_lowercase() } else { *c });
                }
                typed.push_str(&" ".repeat(spaces[n]));
                (canonical.clone(), typed)
            })
    }

    proptest! {
        #[test]
        fn uk_postcode_in_any_spacing_and_case_parses_to_the_canonical_form(
            (canonical, typed) in uk_postcode().prop_flat_map(retyped),
        ) {
            prop_assert_eq!(gb(&typed), Ok(canonical));
        }

        #[test]
        fn uk_postcode_always_has_outward_and_inward_codes(canonical in uk_postcode()) {
            let postcode = Postcode::parse(&Country::GB, &canonical);
            let parts = postcode.as_ref().map(|p| (p.outward().is_some(), p.inward().is_some()));
            prop_assert_eq!(parts, Ok((true, true)));
        }

        #[test]
        fn postcode_normalisation_is_idempotent(
            raw in "\\PC{0,20}",
            code in prop_oneof![Just("GB"), Just("FR"), Just("JE")],
        ) {
            let country = country(code);
            if let Ok(postcode) = Postcode::parse(&country, &raw) {
                prop_assert_eq!(Postcode::parse(&country, postcode.as_str()), Ok(postcode.clone()));
                prop_assert_eq!(Postcode::try_from(postcode.as_str().to_owned()), Ok(postcode));
            }
        }

        #[test]
        fn postcode_normalisation_is_idempotent_for_plausible_input(
            raw in "[ a-zA-Z0-9-]{0,20}",
            code in prop_oneof![Just("GB"), Just("FR")],
        ) {
            let country = country(code);
            if let Ok(postcode) = Postcode::parse(&country, &raw) {
                prop_assert_eq!(Postcode::parse(&country, postcode.as_str()), Ok(postcode.clone()));
                prop_assert_eq!(Postcode::try_from(postcode.as_str().to_owned()), Ok(postcode));
            }
        }

        #[test]
        fn country_parse_never_panics(raw in "\\PC{0,4}") {
            let _ = Country::parse(&raw);
        }
    }
}
