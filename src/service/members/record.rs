//! One member's record: details, periods and events, status, notes and the timeline (see `timeline`);
//! and the details staff and members change. Notes, category changes and removal are in `changes`.
//!
//! Periods and membership events are only ever added. The status shown anywhere is the domain's
//! `status_on` over those rows, never a stored column.

use super::timeline::timeline;
use super::timeline::TimelineItem;
use crate::domain::contact::ContactDetails;
use crate::domain::membership_number::MembershipNumber;
use crate::domain::{email::Email, Actor, AppError, FieldErrors, Permission};
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
        "phone": m.phone_as_typed.as_ref().or(m.phone.as_ref()),
        "address_line1": m.address_line1,
        "address_line2": m.address_line2,
        "town": m.town,
        "county": m.county,
        "postcode": m.postcode,
        "country": m.country,
    })
}

pub use crate::domain::contact::DetailsInput;

pub(crate) use crate::domain::contact::optional;

/// Checks `input` and applies it to `am`, or returns every problem at once (field by field).
/// `org`: the record is an organisation's; `current_email` is kept when the form has no e-mail.
pub(crate) fn apply_details(
    org: bool,
    current_email: &str,
    am: &mut member::ActiveModel,
    input: &DetailsInput,
) -> Result<(), AppError> {
    let mut errors = FieldErrors::new();
    let details = ContactDetails::parse(input, org, &mut errors);
    errors.into_result()?;
    let Some(d) = details else {
        return Err(AppError::internal("contact details without a parse"));
    };
    store_details(d, current_email, am);
    Ok(())
}

/// Puts checked details, and the search keys made from them, on `am`.
pub(crate) fn store_details(d: ContactDetails, current_email: &str, am: &mut member::ActiveModel) {
    let email = d
        .email
        .map(String::from)
        .unwrap_or_else(|| current_email.to_owned());
    let postcode = d.postcode.map(String::from);
    // An organisation is found by its own name; its contact's name is only a detail.
    let mut keys = SearchKeys::of(
        &d.given_name,
        &d.family_name,
        &email,
        postcode.as_deref(),
        &d.town,
    );
    if let Some(name) = d.organisation_name.as_deref() {
        keys.family = crate::domain::search::fold(name);
    }
    am.title = Set(d.title);
    am.given_name = Set(d.given_name);
    am.family_name = Set(d.family_name);
    am.preferred_name = Set(d.preferred_name);
    am.organisation_name = Set(d.organisation_name);
    am.email = Set(email);
    am.phone = Set(d.phone.map(String::from));
    am.phone_as_typed = Set(d.phone_as_typed);
    am.address_line1 = Set(d.address_line1);
    am.address_line2 = Set(d.address_line2);
    am.town = Set(d.town);
    am.county = Set(d.county);
    am.postcode = Set(postcode);
    am.country = Set(String::from(d.country));
    am.search_family = Set(keys.family);
    am.search_given = Set(keys.given);
    am.search_email = Set(keys.email);
    am.search_postcode = Set(keys.postcode);
    am.search_town = Set(keys.town);
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
