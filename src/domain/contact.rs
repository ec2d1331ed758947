//! Contact details: as a form sends them ([`DetailsInput`], thirteen strings) and once checked
//! ([`ContactDetails`]: names, e-mail, phone, address, each parsed). Checking is pure and reports every
//! problem at once, field by field; whether the record is an organisation's decides which names are
//! required. Storing them (and the search keys) is the service's part.

use crate::domain::{
    address::{Country, Postcode},
    email::Email,
    person::{PersonName, PersonNameError},
    phone::Phone,
    FieldErrors,
};

/// Contact details as typed in a form: the fields of the contact-details forms, which post them as one
/// server function argument. A field a form does not have comes back empty (the organisation's name on
/// a person's form) or `None` (the e-mail address, on the member's own page).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DetailsInput {
    pub title: String,
    pub given_name: String,
    pub family_name: String,
    pub preferred_name: String,
    /// Only for organisations.
    pub organisation_name: String,
    /// `None` when the form does not offer it (members change their address through its own page).
    pub email: Option<String>,
    pub phone: String,
    pub address_line1: String,
    pub address_line2: String,
    pub town: String,
    pub county: String,
    pub postcode: String,
    pub country: String,
}

/// Contact details once checked: what a member record holds.
#[derive(Clone, Debug, PartialEq)]
pub struct ContactDetails {
    pub title: Option<String>,
    /// Empty for an organisation whose contact is not named.
    pub given_name: String,
    pub family_name: String,
    pub preferred_name: Option<String>,
    /// Organisations only.
    pub organisation_name: Option<String>,
    /// `None` when the form did not offer it.
    pub email: Option<Email>,
    /// Normalised: digits, with `+` for an international number.
    pub phone: Option<Phone>,
    /// As typed (spaces tidied), to show back.
    pub phone_as_typed: Option<String>,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub town: String,
    pub county: Option<String>,
    pub postcode: Option<Postcode>,
    pub country: Country,
}

impl ContactDetails {
    /// Checks `input` for a person's record, or an organisation's (`org`: its name is required and
    /// its contact's name is not). Adds each problem to `errors`; answers the details when there was
    /// none.
    pub fn parse(input: &DetailsInput, org: bool, errors: &mut FieldErrors) -> Option<Self> {
        let before = errors.0.len();
        // Checked in the order the forms show the fields, so the error summary lists them so.
        let org_name = if org {
            text_field(
                errors,
                "organisation_name",
                &input.organisation_name,
                "the organisation's name",
                120,
                true,
            )
        } else {
            None
        };
        let title = text_field(errors, "title", &input.title, "a title", 20, false);
        let given = if org && input.given_name.trim().is_empty() {
            None
        } else {
            name_part(errors, "given_name", &input.given_name, "first name")
        };
        let family = if org && input.family_name.trim().is_empty() {
            None
        } else {
            name_part(errors, "family_name", &input.family_name, "last name")
        };
        let preferred = text_field(
            errors,
            "preferred_name",
            &input.preferred_name,
            "a preferred name",
            60,
            false,
        );
        let email = input
            .email
            .as_deref()
            .and_then(|e| errors.check("email", Email::parse(e)));
        let phone = if input.phone.trim().is_empty() {
            None
        } else {
            errors.check("phone", Phone::parse(&input.phone))
        };
        let phone_as_typed = phone.as_ref().and_then(|_| optional(&input.phone));
        let line1 = text_field(
            errors,
            "address_line1",
            &input.address_line1,
            "the first line of the address",
            100,
            true,
        );
        let line2 = text_field(
            errors,
            "address_line2",
            &input.address_line2,
            "the second line of the address",
            100,
            false,
        );
        let town = text_field(errors, "town", &input.town, "the town or city", 60, true);
        let county = text_field(errors, "county", &input.county, "the county", 60, false);
        let country_raw = if input.country.trim().is_empty() {
            "GB"
        } else {
            input.country.as_str()
        };
        // The postcode comes before the country on the forms; its rules depend on the country.
        let country = Country::parse(country_raw);
        let postcode = country
            .as_ref()
            .ok()
            .and_then(|c| errors.check("postcode", Postcode::parse_optional(c, &input.postcode)));
        let country = errors.check("country", country);
        if errors.0.len() > before {
            return None;
        }
        Some(ContactDetails {
            title,
            given_name: given.map(String::from).unwrap_or_default(),
            family_name: family.map(String::from).unwrap_or_default(),
            preferred_name: preferred,
            organisation_name: org_name,
            email,
            phone,
            phone_as_typed,
            address_line1: line1.unwrap_or_default(),
            address_line2: line2,
            town: town.unwrap_or_default(),
            county,
            postcode: postcode.flatten(),
            country: country?,
        })
    }
}

/// A first or last name, with messages that name the part ("Enter a first name").
fn name_part(errors: &mut FieldErrors, field: &str, raw: &str, part: &str) -> Option<PersonName> {
    match PersonName::parse(raw) {
        Ok(n) => Some(n),
        Err(e) => {
            let message = match e {
                PersonNameError::Empty => format!("Enter a {part}"),
                PersonNameError::TooLong => format!(
                    "{} must be {} characters or fewer",
                    capitalise(part),
                    PersonName::MAX_CHARS
                ),
                PersonNameError::HiddenCharacters => {
                    format!("{} must not include hidden characters", capitalise(part))
                }
                PersonNameError::NoLetters => {
                    format!("{} must include at least one letter", capitalise(part))
                }
            };
            errors.add(field, message);
            None
        }
    }
}

/// `s` trimmed, its runs of spaces made one, or `None` when blank.
pub fn optional(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn text_field(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    what: &str,
    max: usize,
    required: bool,
) -> Option<String> {
    let v = optional(raw);
    match &v {
        None if required => errors.add(field, format!("Enter {what}")),
        Some(s) if s.chars().count() > max => errors.add(
            field,
            format!("{} must be {max} characters or fewer", capitalise(what)),
        ),
        _ => {}
    }
    v
}

fn capitalise(s: &str) -> String {
    let s = s
        .strip_prefix("the ")
        .or_else(|| s.strip_prefix("your "))
        .or_else(|| s.strip_prefix("a "))
        .unwrap_or(s);
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> DetailsInput {
        DetailsInput {
            given_name: "Ada".into(),
            family_name: "Lovelace".into(),
            email: Some("ada@example.org".into()),
            address_line1: "1  High   Street".into(),
            town: "Leeds".into(),
            postcode: "ls1 4ap".into(),
            ..DetailsInput::default()
        }
    }

    fn fields(e: &FieldErrors) -> Vec<&str> {
        e.0.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_person_s_details_parse_tidied_with_the_country_defaulting_to_the_uk() {
        let mut e = FieldErrors::new();
        let d = ContactDetails::parse(&input(), false, &mut e).expect("parses");
        assert!(e.0.is_empty());
        assert_eq!(d.address_line1, "1 High Street");
        assert_eq!(String::from(d.country), "GB");
        assert_eq!(d.postcode.map(String::from).as_deref(), Some("LS1 4AP"));
        assert_eq!(d.organisation_name, None);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut bad = input();
        bad.given_name = String::new();
        bad.email = Some("not an address".into());
        bad.town = " ".into();
        bad.postcode = "nonsense".into();
        let mut e = FieldErrors::new();
        assert_eq!(ContactDetails::parse(&bad, false, &mut e), None);
        assert_eq!(fields(&e), ["given_name", "email", "town", "postcode"]);
        assert_eq!(e.get("given_name"), Some("Enter a first name"));
    }

    #[test]
    fn a_phone_number_is_kept_normalised_and_as_typed() {
        let mut i = input();
        i.phone = "  07700  900 982 ".into();
        let mut e = FieldErrors::new();
        let d = ContactDetails::parse(&i, false, &mut e).expect("valid");
        assert_eq!(d.phone.map(String::from).as_deref(), Some("07700900982"));
        assert_eq!(d.phone_as_typed.as_deref(), Some("07700 900 982"));
    }

    #[test]
    fn problems_are_listed_in_the_order_the_form_shows_them() {
        let mut bad = input();
        bad.family_name = String::new();
        bad.organisation_name = String::new();
        bad.country = "ZZ".into();
        bad.postcode = String::new();
        let mut e = FieldErrors::new();
        assert_eq!(ContactDetails::parse(&bad, true, &mut e), None);
        assert_eq!(fields(&e), ["organisation_name", "country"]);
        let mut bad = input();
        bad.given_name = String::new();
        bad.family_name = String::new();
        let mut e = FieldErrors::new();
        assert_eq!(ContactDetails::parse(&bad, false, &mut e), None);
        assert_eq!(e.get("family_name"), Some("Enter a last name"));
        assert_eq!(fields(&e), ["given_name", "family_name"]);
    }

    #[test]
    fn an_organisation_needs_its_name_but_not_its_contact_s() {
        let mut org = input();
        org.given_name = String::new();
        org.family_name = String::new();
        let mut e = FieldErrors::new();
        assert_eq!(ContactDetails::parse(&org, true, &mut e), None);
        assert_eq!(fields(&e), ["organisation_name"]);
        org.organisation_name = "Leeds Guild".into();
        let mut e = FieldErrors::new();
        let d = ContactDetails::parse(&org, true, &mut e).expect("parses");
        assert_eq!(d.organisation_name.as_deref(), Some("Leeds Guild"));
        assert_eq!(d.given_name, "");
    }

    #[test]
    fn errors_already_collected_do_not_stop_the_details_parsing() {
        let mut e = FieldErrors::new();
        e.add("category", "Choose a category");
        assert!(ContactDetails::parse(&input(), false, &mut e).is_some());
        assert_eq!(fields(&e), ["category"]);
    }
}
