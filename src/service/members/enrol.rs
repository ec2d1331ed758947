//! Staff add members by hand (someone who joined on paper, an organisation, a transfer from another
//! body), and the people who act for an organisation.
//!
//! A new member gets the next membership number (sequential, never reused: `counters`), and its first
//! period from the category's renewal basis (`domain::membership::first_period`), paid or waiting for
//! payment. Representatives are portal accounts linked to the organisation; a new one is e-mailed a link
//! to choose a password.

use super::record::{details_json, store_details, DetailsInput};
use crate::domain::contact::ContactDetails;
use crate::domain::membership::HowPaid;
use crate::domain::membership::{first_period, FIRST_PAYMENT};
use crate::domain::{email::Email, person::PersonName, Actor, AppError, FieldErrors, Permission};
use crate::entity::audit_log::AuditAction;
use crate::entity::{category, member, member_representative, period, user};
use crate::service::{audit, counters, identity};
use chrono::{Duration, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

/// A member as typed in the staff form.
#[derive(Clone, Debug, Default)]
pub struct NewMemberInput {
    /// `individual` or `organisation`.
    pub kind: String,
    pub category_id: String,
    /// The first day of membership, `YYYY-MM-DD` (the date input's format).
    pub starts_on: String,
    /// One of `FIRST_PAYMENT`.
    pub payment: String,
    pub details: DetailsInput,
}

/// Adds a member with its first period. Returns the new row.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn create_member(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &NewMemberInput,
) -> Result<member::Model, AppError> {
    actor.require(Permission::EditMembers)?;
    let today = crate::service::today();
    let mut errors = FieldErrors::new();
    let org = match input.kind.as_str() {
        "individual" => Some(false),
        "organisation" => Some(true),
        _ => {
            errors.add(
                "kind",
                "Choose whether the member is a person or an organisation",
            );
            None
        }
    };
    let category_id = Uuid::parse_str(input.category_id.trim()).ok();
    if category_id.is_none() {
        errors.add("category", "Choose a category");
    }
    let starts_on = match NaiveDate::parse_from_str(input.starts_on.trim(), "%Y-%m-%d") {
        Ok(d) if d > today + Duration::days(366) => {
            errors.add(
                "starts_on",
                "The start date must be within a year from today",
            );
            None
        }
        Ok(d) if d < today - Duration::days(366 * 10) => {
            errors.add(
                "starts_on",
                "The start date must be within the last 10 years",
            );
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            errors.add(
                "starts_on",
                "Enter the date membership starts, like 2026-11-22",
            );
            None
        }
    };
    if !FIRST_PAYMENT.iter().any(|(v, _)| *v == input.payment) {
        errors.add("payment", "Choose how the first year is paid");
    }
    let mut details = input.details.clone();
    if details.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
        errors.add("email", "Enter an email address");
    }
    let now = crate::service::now();
    let new_id = crate::service::new_id();
    let mut am = member::ActiveModel {
        id: Set(new_id),
        kind: Set(if org == Some(true) {
            "organisation"
        } else {
            "individual"
        }
        .into()),
        user_id: Set(None),
        journal_by_post: Set(true),
        email_news: Set(true),
        register_consent: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        pseudonymised_at: Set(None),
        pseudonymised_by: Set(None),
        stop_all_mail: Set(false),
        ..Default::default()
    };
    if details.email.is_none() {
        details.email = Some(String::new());
    }
    // Field errors from the details and from the rest of the form come back together.
    let contact = ContactDetails::parse(&details, org == Some(true), &mut errors);
    errors.into_result()?;
    let (Some(org), Some(category_id), Some(starts_on), Some(contact)) =
        (org, category_id, starts_on, contact)
    else {
        return Err(AppError::internal("new member validated without values"));
    };
    store_details(contact, "", &mut am);

    let txn = crate::service::begin(db).await?;
    let cat = category::Entity::find_by_id(category_id)
        .one(&txn)
        .await?
        .filter(|c| c.retired_at.is_none())
        .ok_or_else(|| AppError::field("category", "Choose a category that is open"))?;
    if cat.organisational != org {
        return Err(AppError::field(
            "category",
            if org {
                "Choose a category for organisations"
            } else {
                "Choose a category for individual members"
            },
        ));
    }
    let email = am.email.try_as_ref().cloned().unwrap_or_default();
    if let Some(other) = member::Entity::find()
        .filter(member::Column::SearchEmail.eq(email.to_lowercase()))
        .one(&txn)
        .await?
    {
        return Err(AppError::field(
            "email",
            format!(
                "Member {} already has this email address",
                crate::domain::membership_number::MembershipNumber::text_of(
                    other.membership_number
                )
            ),
        ));
    }
    let number = counters::take(&txn, counters::MEMBERSHIP_NUMBER, 1).await?;
    am.membership_number = Set(number);
    am.category_id = Set(cat.id);
    am.joined_on = Set(starts_on);
    // Tracked before the member exists: everything the member adds is new.
    let tracked = crate::service::summary::track(&txn, &[new_id]).await?;
    let m = am.insert(&txn).await?;
    let (start, end) = first_period(starts_on, crate::entity::category::renewal_basis(&cat));
    let paid = input.payment != "unpaid";
    period::ActiveModel {
        id: Set(crate::service::new_id()),
        member_id: Set(m.id),
        category_id: Set(cat.id),
        start_on: Set(start),
        end_on: Set(end),
        paid_state: Set(crate::entity::period::PaidStatus::paid(paid)),
        paid_on: Set(paid.then_some(today)),
        mandate_active: Set(false),
        how_paid: Set(if paid {
            HowPaid::from_method(&input.payment)
        } else {
            HowPaid::BankTransfer
        }),
        created_at: Set(now),
        created_by: Set(actor.label.clone()),
    }
    .insert(&txn)
    .await?;
    tracked.apply(&txn).await?;
    let mut after = details_json(&m);
    if let Some(o) = after.as_object_mut() {
        o.insert("kind".into(), json!(m.kind));
        o.insert("category".into(), json!(cat.code));
        o.insert("joined_on".into(), json!(m.joined_on));
        o.insert(
            "first_period".into(),
            json!({"start": start, "end": end, "payment": input.payment}),
        );
    }
    audit::record(
        &txn,
        actor,
        "member",
        m.id,
        AuditAction::Created,
        None,
        Some(after),
    )
    .await?;
    first_invoice(&txn, actor, &m, &cat, start, end, &input.payment, today).await?;
    txn.commit().await?;
    crate::service::events::publish(db, crate::service::events::Topic::Members).await;
    crate::service::events::publish(db, crate::service::events::Topic::Payments).await;
    Ok(m)
}

/// The first year's invoice (annual fee and joining fee), and the payment when it was taken at joining.
/// Complimentary memberships and free categories get none.
#[expect(
    clippy::too_many_arguments,
    reason = "the first invoice's facts, each decided by the enrolment"
)]
async fn first_invoice<C: sea_orm::ConnectionTrait>(
    db: &C,
    actor: &Actor,
    m: &member::Model,
    cat: &category::Model,
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
    payment: &str,
    today: chrono::NaiveDate,
) -> Result<(), AppError> {
    use crate::domain::money::Money;
    use crate::service::money;
    let subscription = Money::from_pence(cat.annual_fee_pence);
    let joining = Money::from_pence(cat.joining_fee_pence);
    if payment == "complimentary" || subscription.pence() + joining.pence() <= 0 {
        return Ok(());
    }
    let description = format!(
        "{} membership {} to {}{}",
        cat.name,
        start.format("%-d %b %Y"),
        end.format("%-d %b %Y"),
        if joining.is_zero() {
            ""
        } else {
            ", with joining fee"
        }
    );
    let inv = money::issue_invoice(
        db,
        actor,
        m.id,
        &description,
        subscription,
        joining,
        &format!("enrol:{}", m.id),
        "first year",
    )
    .await?;
    if payment != "unpaid" {
        let reference = match payment {
            "card" => "taken by phone",
            _ => "recorded at joining",
        };
        crate::service::payments::receive(
            db,
            actor,
            money::Incoming {
                member: m,
                method: payment,
                provider: None,
                reference,
                amount: Money::from_pence(inv.amount_pence),
                received_on: today,
                invoice_id: Some(inv.id),
                key: format!("enrol-payment:{}", m.id),
                base_url: crate::mail::templates::default_base_url(),
            },
        )
        .await?;
    }
    Ok(())
}

/// A representative as typed in the staff form.
#[derive(Clone, Debug, Default)]
pub struct NewRepresentative {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub job_title: String,
}

/// Links a person to organisation `member_id` so they can act for it. Someone without an account gets
/// one and an e-mail with a link to choose a password; someone with a member's account is told.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %member_id))]
pub async fn add_representative(
    db: &DatabaseConnection,
    actor: &Actor,
    member_id: Uuid,
    input: &NewRepresentative,
    base_url: &str,
) -> Result<user::Model, AppError> {
    actor.require(Permission::EditMembers)?;
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(&input.email));
    let job = input
        .job_title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if job.chars().count() > 80 {
        errors.add("job_title", "The job title must be 80 characters or fewer");
    }
    errors.into_result()?;
    let Some(email) = email else {
        return Err(AppError::internal(
            "representative validated without an address",
        ));
    };
    // For someone without an account, the new account's (unusable) password is hashed before the
    // transaction, so the write lock is not held while argon2 works.
    let new_account_hash = match identity::find_by_email(db, &email).await? {
        None => Some(identity::hash_password(identity::random_token()).await?),
        Some(_) => None,
    };
    let txn = crate::service::begin(db).await?;
    let org = member::Entity::find_by_id(member_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if org.kind != "organisation" {
        return Err(AppError::Conflict(
            "Only an organisation has representatives.".into(),
        ));
    }
    super::record::refuse_erased(&org)?;
    let org_name = org.organisation_name.clone().unwrap_or_default();
    let now = crate::service::now();
    let (u, created) = match identity::find_by_email(&txn, &email).await? {
        Some(u) if u.kind != identity::KIND_MEMBER => {
            return Err(AppError::field(
                "email",
                "This address belongs to a staff account; use the person's own address",
            ))
        }
        Some(u) if u.disabled_at.is_some() => {
            return Err(AppError::field(
                "email",
                "The account with this address is closed",
            ))
        }
        Some(u) => (u, false),
        None => {
            let mut name_errors = FieldErrors::new();
            let given = name_errors.check("given_name", PersonName::parse(&input.given_name));
            let family = name_errors.check("family_name", PersonName::parse(&input.family_name));
            name_errors.into_result()?;
            let (Some(given), Some(family)) = (given, family) else {
                return Err(AppError::internal("names validated without values"));
            };
            let u = identity::insert_user(
                &txn,
                &email,
                &given,
                &family,
                identity::KIND_MEMBER,
                match new_account_hash {
                    Some(h) => h,
                    // The account this address had was removed meanwhile.
                    None => identity::hash_password(identity::random_token()).await?,
                },
                Some(now),
            )
            .await?;
            (u, true)
        }
    };
    if member_representative::Entity::find_by_id((org.id, u.id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::field(
            "email",
            "This person already represents the organisation",
        ));
    }
    member_representative::ActiveModel {
        member_id: Set(org.id),
        user_id: Set(u.id),
        job_title: Set((!job.is_empty()).then_some(job.clone())),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        "member",
        org.id,
        AuditAction::RepresentativeAdded,
        None,
        Some(json!({
            "email": u.email,
            "name": format!("{} {}", u.given_name, u.family_name),
            "job_title": (!job.is_empty()).then_some(job),
            "new_account": created,
        })),
    )
    .await?;
    let link = if created {
        Some(
            identity::issue_link(
                &txn,
                u.id,
                identity::PURPOSE_RESET,
                Duration::days(identity::INVITE_DAYS),
                format!("{base_url}/reset-password"),
                "set_password_url",
            )
            .await?,
        )
    } else {
        None
    };
    identity::mail_user_link(
        &txn,
        &u,
        "representative_added",
        json!({
            "given_name": u.given_name,
            "organisation": org_name,
            "expires_days": identity::INVITE_DAYS,
            "sign_in_url": format!("{base_url}/sign-in"),
            "base_url": base_url,
        }),
        link,
    )
    .await?;
    txn.commit().await?;
    Ok(u)
}

/// Unlinks a representative from an organisation; their account stays.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %member_id))]
pub async fn remove_representative(
    db: &DatabaseConnection,
    actor: &Actor,
    member_id: Uuid,
    user_id: Uuid,
) -> Result<(), AppError> {
    actor.require(Permission::EditMembers)?;
    let txn = crate::service::begin(db).await?;
    let link = member_representative::Entity::find_by_id((member_id, user_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let u = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    member_representative::Entity::delete_by_id((member_id, user_id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        "member",
        member_id,
        AuditAction::RepresentativeRemoved,
        Some(json!({
            "email": u.email,
            "name": format!("{} {}", u.given_name, u.family_name),
            "job_title": link.job_title,
        })),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
