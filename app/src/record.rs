//! The shared member-record presenter: how a member record reads wherever it is shown (the staff
//! record, search and lists, the member's own portal pages): its number, name, address, status tag and
//! status sentence, and the contact-details form with its inputs. Pages in every area use these, so a
//! record reads the same everywhere.

use crate::components::{Field, Select};
use guildhall::domain::AppError;
use leptos::prelude::*;

/// The member's details as the edit forms show them and post them back.
pub use guildhall::domain::contact::DetailsInput;

/// The contact-details inputs shared by the staff edit page and the member's own page.
#[component]
pub fn DetailsFields(
    form: DetailsInput,
    #[prop(into)] error: Signal<Option<AppError>>,
    /// Staff may change the e-mail address of a member without a portal account.
    #[prop(default = false)]
    with_email: bool,
    #[prop(default = false)] organisation: bool,
) -> impl IntoView {
    view! {
        {organisation.then(|| view! { <Field name="organisation_name" label="Organisation name" error value=form.organisation_name.clone() autocomplete="organization"/> })}
        <Field name="title" label="Title (optional)" error value=form.title.clone() class="input input--w20" autocomplete="honorific-prefix"/>
        <Field name="given_name" label=if organisation { "Contact's first name" } else { "First name" } error value=form.given_name.clone() autocomplete="given-name"/>
        <Field name="family_name" label=if organisation { "Contact's last name" } else { "Last name" } error value=form.family_name.clone() autocomplete="family-name"/>
        <Field name="preferred_name" label="Preferred name (optional)" hint="What we call you in letters and emails" error value=form.preferred_name.clone()/>
        {with_email.then(|| view! { <Field name="email" label="Email address" input_type="email" error value=form.email.clone().unwrap_or_default() autocomplete="email"/> })}
        <Field name="phone" label="Phone number (optional)" input_type="tel" error value=form.phone.clone() autocomplete="tel"/>
        <fieldset class="fieldset">
            <legend class="heading-m">"Address"</legend>
            <Field name="address_line1" label="Address line 1" error value=form.address_line1.clone() autocomplete="address-line1"/>
            <Field name="address_line2" label="Address line 2 (optional)" error value=form.address_line2.clone() autocomplete="address-line2"/>
            <Field name="town" label="Town or city" error value=form.town.clone() class="input input--w20" autocomplete="address-level2"/>
            <Field name="county" label="County (optional)" error value=form.county.clone() class="input input--w20" autocomplete="address-level1"/>
            <Field name="postcode" label="Postcode" hint="Leave blank only for an address outside the UK without one" error value=form.postcode.clone() class="input input--w20" autocomplete="postal-code"/>
            <Select name="country" label="Country" error autocomplete="country" type_ahead=true
                selected=if form.country.trim().is_empty() { "GB".to_owned() } else { form.country.trim().to_ascii_uppercase() }
                options=guildhall::domain::countries::by_name().into_iter().map(|(c, n)| (c.to_owned(), n.to_owned())).collect()/>
        </fieldset>
    }
}

#[cfg(feature = "ssr")]
mod present {
    use super::DetailsInput;
    use guildhall::domain::membership::Status;
    use guildhall::domain::membership_number::MembershipNumber;
    use guildhall::domain::AppError;
    use guildhall::entity::member;
    use guildhall::service::history::StatusSummary;

    /// A membership number as shown and linked (`M000123`-style).
    pub fn number(n: i64) -> String {
        MembershipNumber::text_of(n)
    }

    /// A membership number from an address or a form; one that does not parse is a record not found.
    pub fn parse_number(s: &str) -> Result<MembershipNumber, AppError> {
        MembershipNumber::parse(s).map_err(|_| AppError::NotFound)
    }

    /// The membership a member's page is about: `member` from the address or the form, or when that is
    /// blank the caller's own.
    pub async fn chosen_number(
        db: &sea_orm::DatabaseConnection,
        actor: &guildhall::domain::Actor,
        member: &str,
    ) -> Result<MembershipNumber, AppError> {
        match member.trim() {
            "" => Ok(guildhall::service::access::own_member(db, actor)
                .await?
                .number()),
            m => parse_number(m),
        }
    }

    /// A record's heading-level name: the organisation's, or the person's with title and preferred
    /// name; never the name of an erased member.
    pub fn display_name(m: &member::Model) -> String {
        if m.pseudonymised_at.is_some() {
            return "Erased member".into();
        }
        if let Some(o) = m
            .organisation_name
            .as_deref()
            .filter(|_| m.kind == "organisation")
        {
            return o.to_owned();
        }
        let given = m.preferred_name.as_deref().unwrap_or(&m.given_name);
        [m.title.as_deref().unwrap_or(""), given, &m.family_name]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The postal address on one line (the country only when not the UK).
    pub fn address(m: &member::Model) -> String {
        [
            Some(m.address_line1.as_str()),
            m.address_line2.as_deref(),
            Some(m.town.as_str()),
            m.county.as_deref(),
            m.postcode.as_deref(),
            (m.country != "GB").then(|| guildhall::domain::countries::name(&m.country)),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    }

    /// The record's details as the edit forms show them.
    pub fn form(m: &member::Model) -> DetailsInput {
        DetailsInput {
            title: m.title.clone().unwrap_or_default(),
            given_name: m.given_name.clone(),
            family_name: m.family_name.clone(),
            preferred_name: m.preferred_name.clone().unwrap_or_default(),
            organisation_name: m.organisation_name.clone().unwrap_or_default(),
            email: Some(m.email.clone()),
            phone: m
                .phone_as_typed
                .clone()
                .or_else(|| m.phone.clone())
                .unwrap_or_default(),
            address_line1: m.address_line1.clone(),
            address_line2: m.address_line2.clone().unwrap_or_default(),
            town: m.town.clone(),
            county: m.county.clone().unwrap_or_default(),
            postcode: m.postcode.clone().unwrap_or_default(),
            country: m.country.clone(),
        }
    }

    /// The tag class for a status; the label says it in words.
    pub fn status_tag(s: Status) -> &'static str {
        match s {
            Status::Active => "tag tag--green",
            Status::Grace | Status::NotYetStarted => "tag tag--yellow",
            Status::Suspended | Status::Removed => "tag tag--red",
            _ => "tag tag--grey",
        }
    }

    /// A sentence explaining the status with its dates.
    pub fn status_note(s: &StatusSummary) -> String {
        let d = crate::format::long_date;
        let mut out = match s.status {
            Status::Active => s
                .member_until
                .map(|u| format!("Member until {}", d(u)))
                .unwrap_or_default(),
            Status::Grace => format!(
                "The period ended on {}. Still a member until {} while the renewal is unpaid.",
                s.member_until.map(d).unwrap_or_default(),
                s.grace_ends.map(d).unwrap_or_default()
            ),
            Status::Lapsed => format!("Lapsed on {}.", s.lapsed_since.map(d).unwrap_or_default()),
            Status::Resigned | Status::Removed | Status::Suspended => s
                .member_until
                .map(|u| format!("Last day of membership: {}.", d(u)))
                .unwrap_or_default(),
            Status::NotYetStarted => s
                .period
                .map(|(start, _)| format!("The first period starts on {} once paid.", d(start)))
                .unwrap_or_default(),
            Status::NeverMember => "No membership periods yet.".into(),
        };
        if let Some(r) = s.resigning_from {
            out.push_str(&format!(
                " Resigned: membership ends on {}.",
                d(r - chrono::Duration::days(1))
            ));
        }
        out.trim().to_owned()
    }

    /// A record's id from a hidden form field; one that does not parse is a record not found.
    pub fn member_uuid(id: &str) -> Result<uuid::Uuid, AppError> {
        uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)
    }
}

#[cfg(feature = "ssr")]
pub use present::*;
