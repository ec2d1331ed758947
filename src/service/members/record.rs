//! One member's record: details, periods and events, status, notes and the timeline; and the changes
//! staff make to it (edit details, add a note, change category, remove).
//!
//! Periods and membership events are only ever added. The status shown anywhere is the domain's
//! `status_on` over those rows, never a stored column.

use crate::domain::membership::RemovalReason;
use crate::domain::membership::Status;
use crate::domain::{
    address::{Country, Postcode},
    email::Email,
    person::PersonName,
    phone::Phone,
    Actor, AppError, FieldErrors, Permission,
};
use crate::entity::category;
use crate::entity::member;
use crate::entity::member_note;
use crate::entity::member_representative;
use crate::entity::outbox_message;
use crate::entity::period;
use crate::entity::user;
use crate::service::history::{add_event, history, status_today, History, StatusSummary};
use crate::service::{audit, members::SearchKeys};
use chrono::DateTime;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{json, Value};
use uuid::Uuid;

/// How many timeline entries of each kind the record page shows at most.
pub const TIMELINE_LIMIT: u64 = 200;

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

fn optional(s: &str) -> Option<String> {
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
async fn load_member<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<member::Model, AppError> {
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
            "details_changed",
            Some(b),
            Some(a),
        )
        .await?;
    }
    Ok(updated)
}

/// One thing on a member's timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineItem {
    pub at: DateTime<Utc>,
    pub kind: TimelineKind,
    pub who: String,
    /// The audit action, message subject, or "Note".
    pub title: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub body: Option<String>,
    /// For messages: the outbox message to open.
    pub message_id: Option<Uuid>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimelineKind {
    Change,
    Message,
    Note,
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
    number: i64,
) -> Result<MemberRecord, AppError> {
    actor.require(Permission::ViewMembers)?;
    let m = member::Entity::find()
        .filter(member::Column::MembershipNumber.eq(number))
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

/// Audit entries, messages and notes about a member, newest first.
pub async fn timeline<C: ConnectionTrait>(
    db: &C,
    m: &member::Model,
) -> Result<Vec<TimelineItem>, AppError> {
    use crate::entity::audit_log;
    let mut items = Vec::new();
    let about_member = sea_orm::Condition::all()
        .add(audit_log::Column::Entity.eq("member"))
        .add(audit_log::Column::EntityId.eq(m.id.to_string()));
    let mut about = sea_orm::Condition::any().add(about_member);
    if let Some(uid) = m.user_id {
        about = about.add(
            sea_orm::Condition::all()
                .add(audit_log::Column::Entity.eq("user"))
                .add(audit_log::Column::EntityId.eq(uid.to_string())),
        );
    }
    let audit_q = audit_log::Entity::find().filter(about);
    for a in audit_q
        .order_by_desc(audit_log::Column::At)
        .limit(TIMELINE_LIMIT)
        .all(db)
        .await?
    {
        if a.action == "note_added" {
            continue; // the note itself is on the timeline
        }
        items.push(TimelineItem {
            at: a.at,
            kind: TimelineKind::Change,
            who: a.actor_label,
            title: action_label(&a.action),
            before: a.before,
            after: a.after,
            body: None,
            message_id: None,
        });
    }
    let mut msg_q = outbox_message::Entity::find();
    msg_q = match m.user_id {
        Some(uid) => msg_q.filter(
            sea_orm::Condition::any()
                .add(outbox_message::Column::MemberId.eq(m.id))
                .add(outbox_message::Column::UserId.eq(uid)),
        ),
        None => msg_q.filter(outbox_message::Column::MemberId.eq(m.id)),
    };
    for o in msg_q
        .order_by_desc(outbox_message::Column::CreatedAt)
        .limit(TIMELINE_LIMIT)
        .all(db)
        .await?
    {
        items.push(TimelineItem {
            at: o.created_at,
            kind: TimelineKind::Message,
            who: format!("Email to {}", o.to_address),
            title: o.subject,
            before: None,
            after: None,
            body: Some(o.status),
            message_id: Some(o.id),
        });
    }
    for n in member_note::Entity::find()
        .filter(member_note::Column::MemberId.eq(m.id))
        .order_by_desc(member_note::Column::CreatedAt)
        .limit(TIMELINE_LIMIT)
        .all(db)
        .await?
    {
        items.push(TimelineItem {
            at: n.created_at,
            kind: TimelineKind::Note,
            who: n.author_label,
            title: "Note".into(),
            before: None,
            after: None,
            body: Some(n.body),
            message_id: None,
        });
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.at));
    Ok(items)
}

/// Plain words for an audit action on a member's timeline.
pub fn action_label(action: &str) -> String {
    match action {
        "created" => "Record created",
        "details_changed" => "Details changed",
        "preferences_changed" => "Communication preferences changed",
        "consent_changed" => "Register consent changed",
        "category_changed" => "Category changed",
        "removed" => "Removed",
        "resigned" => "Resigned",
        "erased" => "Personal data erased",
        "representative_added" => "Representative added",
        "representative_removed" => "Representative removed",
        "data_downloaded" => "Downloaded their data",
        "invoice_issued" => "Invoice issued",
        "payment_received" => "Payment received",
        "request_raised" => "Money request raised",
        "request_approved" => "Money request authorised",
        "request_declined" => "Money request declined",
        "renewal_invoiced" => "Renewal invoiced and invitation sent",
        "reinstatement_invoiced" => "Reinstatement invoiced",
        "renewal_declared" => "Renewal declaration made",
        "renewal_reminder" => "Renewal reminder sent",
        "renewal_cancelled" => "Renewal cancelled and credited",
        "renewal_repriced" => "Renewal re-priced for the new category",
        "renewed" => "Renewed: new period",
        "reinstated" => "Reinstated: new period",
        "grace_started" => "Membership ended: in grace",
        "lapsed" => "Membership lapsed",
        "invoice_credited" => "Invoice credited",
        "email_changed" => "Email address changed",
        "password_changed" => "Password changed",
        "password_reset" => "Password reset",
        "registered" => "Account registered",
        "email_verified" => "Email address confirmed",
        "signed_in" => "Signed in",
        "signed_out" => "Signed out",
        other => return other.replace('_', " "),
    }
    .to_owned()
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

/// The longest note staff can write, in characters.
pub const MAX_NOTE: usize = 5_000;

/// Staff add a note to a member's record.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %member_id))]
pub async fn add_note(
    db: &DatabaseConnection,
    actor: &Actor,
    member_id: Uuid,
    body: &str,
) -> Result<(), AppError> {
    actor.require(Permission::EditMembers)?;
    let body = body.trim();
    if body.is_empty() {
        return Err(AppError::field("body", "Enter the note"));
    }
    if body.chars().count() > MAX_NOTE {
        return Err(AppError::field(
            "body",
            format!("The note must be {MAX_NOTE} characters or fewer"),
        ));
    }
    let txn = crate::service::begin(db).await?;
    let m = load_member(&txn, member_id).await?;
    let id = crate::service::new_id();
    member_note::ActiveModel {
        id: Set(id),
        member_id: Set(m.id),
        body: Set(body.to_owned()),
        author_id: Set(actor.user_id),
        author_label: Set(actor.label.clone()),
        created_at: Set(crate::service::now()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        "member",
        m.id,
        "note_added",
        None,
        Some(json!({"note_id": id, "body": body})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Staff move a member to another category. Recorded as an adjustment: the member's category changes,
/// and when a period covers today a new period in the new category runs from today to that period's
/// end (paid as the old one was), so history still says which category they were in on each day.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %member_id))]
pub async fn change_category(
    db: &DatabaseConnection,
    actor: &Actor,
    member_id: Uuid,
    category_id: Uuid,
    reason: &str,
) -> Result<(), AppError> {
    actor.require(Permission::EditMembers)?;
    let reason = reason.trim();
    let txn = crate::service::begin(db).await?;
    let m = load_member(&txn, member_id).await?;
    refuse_erased(&m)?;
    let new_cat = category::Entity::find_by_id(category_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::field("category", "Choose a category"))?;
    if new_cat.id == m.category_id {
        return Err(AppError::field(
            "category",
            "The member is already in this category",
        ));
    }
    if new_cat.retired_at.is_some() {
        return Err(AppError::field(
            "category",
            "This category is retired. Choose another one",
        ));
    }
    if new_cat.organisational != (m.kind == "organisation") {
        return Err(AppError::field(
            "category",
            if new_cat.organisational {
                "Only organisations can be in an organisational category"
            } else {
                "An organisation must be in an organisational category"
            },
        ));
    }
    if reason.is_empty() {
        return Err(AppError::field(
            "reason",
            "Enter why the category is changing",
        ));
    }
    let h = history(&txn, m.id).await?;
    let old_name = h.category_name(m.category_id);
    let today = crate::service::today();
    let covering = h
        .periods
        .iter()
        .filter(|p| p.start_on <= today && today <= p.end_on)
        .max_by_key(|p| p.start_on)
        .cloned();
    let tracked = crate::service::summary::track(&txn, &[m.id]).await?;
    let mut new_period = None;
    if let Some(p) = covering {
        let id = crate::service::new_id();
        period::ActiveModel {
            id: Set(id),
            member_id: Set(m.id),
            category_id: Set(new_cat.id),
            start_on: Set(today),
            end_on: Set(p.end_on),
            paid_state: Set(p.paid_state.clone()),
            paid_on: Set(p.paid_on),
            mandate_active: Set(p.mandate_active),
            how_paid: Set(p.how_paid.clone()),
            created_at: Set(crate::service::now()),
            created_by: Set(actor.label.clone()),
        }
        .insert(&txn)
        .await?;
        new_period = Some(json!({"id": id, "start_on": today, "end_on": p.end_on}));
    }
    crate::service::renewals::settle::reprice_open(&txn, actor, &m, &new_cat).await?;
    let mut am: member::ActiveModel = m.clone().into();
    am.category_id = Set(new_cat.id);
    am.updated_at = Set(crate::service::now());
    am.update(&txn).await?;
    tracked.apply(&txn).await?;
    audit::record(
        &txn,
        actor,
        "member",
        m.id,
        "category_changed",
        Some(json!({"category": old_name})),
        Some(json!({"category": new_cat.name, "reason": reason, "period": new_period})),
    )
    .await?;
    txn.commit().await?;
    crate::service::events::publish(db, crate::service::events::Topic::Members).await;
    Ok(())
}

/// Staff remove a member with a reason, from today. A deceased member gets no post or e-mail again.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %member_id))]
pub async fn remove(
    db: &DatabaseConnection,
    actor: &Actor,
    member_id: Uuid,
    reason: Option<RemovalReason>,
    detail: &str,
) -> Result<(), AppError> {
    actor.require(Permission::EditMembers)?;
    let reason = reason
        .ok_or_else(|| AppError::field("reason", "Choose why the member is being removed"))?;
    let detail = detail.trim();
    if reason == RemovalReason::Other && detail.is_empty() {
        return Err(AppError::field(
            "detail",
            "Enter the reason for removing the member",
        ));
    }
    let txn = crate::service::begin(db).await?;
    let m = load_member(&txn, member_id).await?;
    let h = history(&txn, m.id).await?;
    if status_today(&m, &h).status == Status::Removed {
        return Err(AppError::Conflict(
            "This member has already been removed.".into(),
        ));
    }
    let today = crate::service::today();
    add_event(&txn, actor, m.id, crate::domain::membership::MembershipEvent::Removed { on: today, reason }, optional(detail))
    .await?;
    crate::service::renewals::settle::cancel_open(&txn, actor, m.id, "removed").await?;
    let stop_mail = reason == RemovalReason::Deceased;
    if stop_mail && !m.stop_all_mail {
        let mut am: member::ActiveModel = m.clone().into();
        am.stop_all_mail = Set(true);
        am.updated_at = Set(crate::service::now());
        am.update(&txn).await?;
    }
    audit::record(
        &txn,
        actor,
        "member",
        m.id,
        "removed",
        Some(json!({"stop_all_mail": m.stop_all_mail})),
        Some(json!({
            "reason": reason.label(),
            "detail": optional(detail),
            "on": today,
            "stop_all_mail": m.stop_all_mail || stop_mail,
        })),
    )
    .await?;
    txn.commit().await?;
    crate::service::events::publish(db, crate::service::events::Topic::Members).await;
    Ok(())
}

/// Categories a member could be moved to (not retired), in display order.
pub async fn open_categories<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> Result<Vec<category::Model>, AppError> {
    actor.require(Permission::ViewMembers)?;
    Ok(category::Entity::find()
        .filter(category::Column::RetiredAt.is_null())
        .order_by_asc(category::Column::SortOrder)
        .all(db)
        .await?)
}
