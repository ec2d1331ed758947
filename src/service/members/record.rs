//! One member's record: details, periods and events, status, notes and the timeline (see `timeline`);
//! and the details staff and members change. Notes, category changes and removal are in `changes`.
//!
//! Periods and membership events are only ever added. The status shown anywhere is the domain's
//! `status_on` over those rows, never a stored column.

use super::timeline::timeline;
use super::timeline::TimelineItem;
use crate::domain::membership_number::MembershipNumber;
use crate::domain::{
    address::{Country, Postcode},
    email::Email,
    person::PersonName,
    phone::Phone,
    Actor, AppError, FieldErrors, Permission,
};
use crate::entity::audit_log::AuditAction;
use crate::entity::category;
use crate::entity::member;
use crate::entity::member_representative;
use crate::entity::user;
use crate::service::audit;
use crate::service::history::history;
use crate::service::history::status_today;
use crate::service::history::History;
use crate::service::history::StatusSummary;
use crate::service::members::SearchKeys;
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::Set;
use sea_orm::ColumnTrait;
use sea_orm::ConnectionTrait;
use sea_orm::DatabaseConnection;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use serde_json::{json, Value};
use uuid::Uuid;

/// The details staff and members may see and change, as they appear in audit entries.
pub fn details_json(m: &member::Model) -> Value {
    json!({
        "title": m.title,
        "given_name": m.given_name,
        "family_name": m.family_name,
        "preferred_name": m.preferred_name,
        "organisation_name": m.organisation_name,
        "email": m.email,
        "phone": m.phone,
        "address_line1": m.address_line1,
        "address_line2": m.address_line2,
        "town": m.town,
        "county": m.county,
        "postcode": m.postcode,
        "country": m.country,
    })
}

/// Contact details as typed in a form.
#[derive(Clone, Debug, Default)]
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

pub(crate) fn optional(s: &str) -> Option<String> {
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

/// Validates `input` and applies it to `am`, or returns every problem at once (field by field).
/// `org`: the record is an organisation's; `current_email` is kept when the form has no e-mail.
pub(crate) fn apply_details(
    org: bool,
    current_email: &str,
    am: &mut member::ActiveModel,
    input: &DetailsInput,
) -> Result<(), AppError> {
    let mut errors = FieldErrors::new();
    let title = text_field(&mut errors, "title", &input.title, "a title", 20, false);
    let given = if org && input.given_name.trim().is_empty() {
        None
    } else {
        errors.check("given_name", PersonName::parse(&input.given_name))
    };
    let family = if org && input.family_name.trim().is_empty() {
        None
    } else {
        errors.check("family_name", PersonName::parse(&input.family_name))
    };
    let preferred = text_field(
        &mut errors,
        "preferred_name",
        &input.preferred_name,
        "a preferred name",
        60,
        false,
    );
    let org_name = if org {
        text_field(
            &mut errors,
            "organisation_name",
            &input.organisation_name,
            "the organisation's name",
            120,
            true,
        )
    } else {
        None
    };
    let email = input
        .email
        .as_deref()
        .and_then(|e| errors.check("email", Email::parse(e)));
    let phone = if input.phone.trim().is_empty() {
        None
    } else {
        errors.check("phone", Phone::parse(&input.phone))
    };
    let line1 = text_field(
        &mut errors,
        "address_line1",
        &input.address_line1,
        "the first line of the address",
        100,
        true,
    );
    let line2 = text_field(
        &mut errors,
        "address_line2",
        &input.address_line2,
        "the second line of the address",
        100,
        false,
    );
    let town = text_field(
        &mut errors,
        "town",
        &input.town,
        "the town or city",
        60,
        true,
    );
    let county = text_field(
        &mut errors,
        "county",
        &input.county,
        "the county",
        60,
        false,
    );
    let country_raw = if input.country.trim().is_empty() {
        "GB"
    } else {
        input.country.as_str()
    };
    let country = errors.check("country", Country::parse(country_raw));
    let postcode = country
        .as_ref()
        .and_then(|c| errors.check("postcode", Postcode::parse_optional(c, &input.postcode)));
    errors.into_result()?;

    let given = given.map(String::from).unwrap_or_default();
    let family = family.map(String::from).unwrap_or_default();
    let town = town.unwrap_or_default();
    let postcode = postcode.flatten().map(String::from);
    let email = email
        .map(String::from)
        .unwrap_or_else(|| current_email.to_owned());
    // An organisation is found by its own name; its contact's name is only a detail.
    let mut keys = SearchKeys::of(&given, &family, &email, postcode.as_deref(), &town);
    if let Some(name) = org_name.as_deref() {
        keys.family = crate::domain::search::fold(name);
    }
    am.title = Set(title);
    am.given_name = Set(given);
    am.family_name = Set(family);
    am.preferred_name = Set(preferred);
    am.organisation_name = Set(org_name);
    am.email = Set(email);
    am.phone = Set(phone.map(String::from));
    am.address_line1 = Set(line1.unwrap_or_default());
    am.address_line2 = Set(line2);
    am.town = Set(town);
    am.county = Set(county);
    am.postcode = Set(postcode);
    am.country = Set(country.map(String::from).unwrap_or_else(|| "GB".into()));
    am.search_family = Set(keys.family);
    am.search_given = Set(keys.given);
    am.search_email = Set(keys.email);
    am.search_postcode = Set(keys.postcode);
    am.search_town = Set(keys.town);
    Ok(())
}

/// A member by id, refusing erased records for changes.
pub(crate) async fn load_member<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<member::Model, AppError> {
    member::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

pub(crate) fn refuse_erased(m: &member::Model) -> Result<(), AppError> {
    if m.pseudonymised_at.is_some() {
        return Err(AppError::Conflict(
            "This member's personal details were erased; the record can no longer be changed."
                .into(),
        ));
    }
    Ok(())
}

/// Saves new details for member `m` (already checked to be the caller's to change), audited as
/// `details_changed` with only the fields that changed. Returns the updated row.
pub(crate) async fn save_details<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    m: member::Model,
    input: &DetailsInput,
) -> Result<member::Model, AppError> {
    refuse_erased(&m)?;
    if let Some(e) = input.email.as_deref() {
        if m.user_id.is_some() && Email::parse(e).is_ok_and(|e| e.as_str() != m.email) {
            return Err(AppError::field(
                "email",
                "This member signs in with this email address. They change it themselves in their account",
            ));
        }
    }
    let before = details_json(&m);
    let mut am: member::ActiveModel = m.clone().into();
    apply_details(m.kind == "organisation", &m.email, &mut am, input)?;
    am.updated_at = Set(crate::service::now());
    let updated = am.update(db).await?;
    let (b, a) = audit::diff(&before, &details_json(&updated));
    if a.as_object().is_some_and(|o| !o.is_empty()) {
        audit::record(
            db,
            actor,
            "member",
            updated.id,
            AuditAction::DetailsChanged,
            Some(b),
            Some(a),
        )
        .await?;
    }
    Ok(updated)
}

/// Everything on one member's record page.
#[derive(Clone, Debug)]
pub struct MemberRecord {
    pub member: member::Model,
    pub category: category::Model,
    pub account: Option<user::Model>,
    pub history: History,
    pub status: StatusSummary,
    /// For an organisation: the people who act for it.
    pub representatives: Vec<(member_representative::Model, user::Model)>,
    /// For a person with an account: the organisations they act for.
    pub organisations: Vec<member::Model>,
    pub timeline: Vec<TimelineItem>,
    /// Why the member cannot renew or reinstate in the portal, when they cannot (lapsed too long).
    pub renewal_note: Option<String>,
    /// How the member pays monthly, when they do.
    pub plan_note: Option<String>,
}

/// The record of the member with membership number `number`, for staff.
pub async fn staff_record<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    number: MembershipNumber,
) -> Result<MemberRecord, AppError> {
    actor.require(Permission::ViewMembers)?;
    let m = member::Entity::find()
        .filter(member::Column::MembershipNumber.eq(number.seq()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let history = history(db, m.id).await?;
    let category = history
        .categories
        .get(&m.category_id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let account = match m.user_id {
        Some(u) => user::Entity::find_by_id(u).one(db).await?,
        None => None,
    };
    let reps = member_representative::Entity::find()
        .filter(member_representative::Column::MemberId.eq(m.id))
        .all(db)
        .await?;
    let mut representatives = Vec::new();
    for r in reps {
        if let Some(u) = user::Entity::find_by_id(r.user_id).one(db).await? {
            representatives.push((r, u));
        }
    }
    let organisations = match m.user_id {
        Some(uid) => {
            let ids: Vec<Uuid> = member_representative::Entity::find()
                .filter(member_representative::Column::UserId.eq(uid))
                .all(db)
                .await?
                .into_iter()
                .map(|r| r.member_id)
                .collect();
            if ids.is_empty() {
                Vec::new()
            } else {
                member::Entity::find()
                    .filter(member::Column::Id.is_in(ids))
                    .all(db)
                    .await?
            }
        }
        None => Vec::new(),
    };
    let timeline = timeline(db, &m).await?;
    let status = status_today(&m, &history);
    let renewal_note = crate::service::renewals::offer::staff_note(db, &m, &history).await?;
    let plan_note = crate::service::renewals::instalments::current(db, m.id)
        .await?
        .map(|p| p.staff_summary());
    Ok(MemberRecord {
        renewal_note,
        plan_note,
        member: m,
        category,
        account,
        history,
        status,
        representatives,
        organisations,
        timeline,
    })
}

/// Staff change a member's contact details.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %member_id))]
pub async fn staff_update_details(
    db: &DatabaseConnection,
    actor: &Actor,
    member_id: Uuid,
    input: &DetailsInput,
) -> Result<member::Model, AppError> {
    actor.require(Permission::EditMembers)?;
    let txn = crate::service::begin(db).await?;
    let m = load_member(&txn, member_id).await?;
    let updated = save_details(&txn, actor, m, input).await?;
    txn.commit().await?;
    Ok(updated)
}
