//! What a signed-in member does to their own record from the portal. Every function finds the record
//! through the caller's own account (or, for an organisation, the caller's representative link), so no
//! input can point it at anybody else's.

use super::record::{self, details_json, DetailsInput};
use crate::domain::membership::Status;
use crate::domain::membership_number::MembershipNumber;
use crate::domain::{Actor, AppError, Permission};
use crate::entity::audit_log;
use crate::entity::audit_log::AuditAction;
use crate::entity::category;
use crate::entity::member;
use crate::entity::member_note;
use crate::entity::outbox_message;
use crate::entity::user;
use crate::service::access::{reachable_member, represented};
use crate::service::history::{history, status_today, History, StatusSummary};
use crate::service::{audit, outbox, outbox::NewMessage};
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{json, Value};

/// A member's own view of their membership.
pub struct OwnMembership {
    pub member: member::Model,
    pub category: category::Model,
    pub history: History,
    pub status: StatusSummary,
}

/// The membership with number `number` as the caller may see it (their own or their organisation's).
pub async fn membership<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    number: MembershipNumber,
) -> Result<OwnMembership, AppError> {
    let m = reachable_member(db, actor, number).await?;
    let h = history(db, m.id).await?;
    let category = h
        .categories
        .get(&m.category_id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let status = status_today(&m, &h);
    Ok(OwnMembership {
        member: m,
        category,
        history: h,
        status,
    })
}

/// A member changes contact details (their own, or their organisation's).
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %number))]
pub async fn update_details(
    db: &DatabaseConnection,
    actor: &Actor,
    number: MembershipNumber,
    input: &DetailsInput,
) -> Result<member::Model, AppError> {
    let txn = crate::service::begin(db).await?;
    let m = reachable_member(&txn, actor, number).await?;
    let mut input = input.clone();
    input.email = None;
    let updated = record::save_details(&txn, actor, m, &input).await?;
    txn.commit().await?;
    Ok(updated)
}

/// How a member wants to hear from the office, and whether they appear on the public register:
/// everything the preferences page shows, saved together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preferences {
    pub journal_by_post: bool,
    pub email_news: bool,
    pub register_consent: bool,
}

/// A member saves their preferences and register consent, in one transaction: each part that
/// changed is audited (contact preferences, and consent on its own, as consent is asked for by law).
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %number))]
pub async fn update_preferences(
    db: &DatabaseConnection,
    actor: &Actor,
    number: MembershipNumber,
    prefs: Preferences,
) -> Result<(), AppError> {
    let txn = crate::service::begin(db).await?;
    let m = reachable_member(&txn, actor, number).await?;
    let before = json!({"journal_by_post": m.journal_by_post, "email_news": m.email_news});
    let after = json!({"journal_by_post": prefs.journal_by_post, "email_news": prefs.email_news});
    let consent_changed = m.register_consent != prefs.register_consent;
    if before != after || consent_changed {
        let mut am: member::ActiveModel = m.clone().into();
        am.journal_by_post = Set(prefs.journal_by_post);
        am.email_news = Set(prefs.email_news);
        am.register_consent = Set(prefs.register_consent);
        am.updated_at = Set(crate::service::now());
        am.update(&txn).await?;
    }
    if before != after {
        let (b, a) = audit::diff(&before, &after);
        audit::record(
            &txn,
            actor,
            "member",
            m.id,
            AuditAction::PreferencesChanged,
            Some(b),
            Some(a),
        )
        .await?;
    }
    if consent_changed {
        audit::record(
            &txn,
            actor,
            "member",
            m.id,
            AuditAction::ConsentChanged,
            Some(json!({"register_consent": m.register_consent})),
            Some(json!({"register_consent": prefs.register_consent})),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// When a resignation takes effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResignWhen {
    /// At the end of the current period: a member until then.
    PeriodEnd,
    /// From today.
    Now,
}

/// A member resigns. Refused when they are not a member now or have already resigned. Sends a
/// confirmation. Returns the first day they are no longer a member.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %number))]
pub async fn resign(
    db: &DatabaseConnection,
    actor: &Actor,
    number: MembershipNumber,
    when: Option<ResignWhen>,
    base_url: &str,
) -> Result<chrono::NaiveDate, AppError> {
    let when = when.ok_or_else(|| {
        AppError::field("when", "Choose when your resignation should take effect")
    })?;
    let txn = crate::service::begin(db).await?;
    let m = reachable_member(&txn, actor, number).await?;
    let h = history(&txn, m.id).await?;
    let s = status_today(&m, &h);
    if s.resigning_from.is_some() {
        return Err(AppError::Conflict(
            "You have already resigned. Your membership ends on the date shown.".into(),
        ));
    }
    if !s.status.is_member() && s.status != Status::NotYetStarted {
        return Err(AppError::Conflict(
            "You are not a member at the moment, so there is nothing to resign from.".into(),
        ));
    }
    let today = crate::service::today();
    let effective = match (when, s.member_until) {
        (ResignWhen::PeriodEnd, Some(until)) if until >= today => until + Duration::days(1),
        _ => today,
    };
    crate::service::history::add_event(
        &txn,
        actor,
        m.id,
        crate::domain::membership::MembershipEvent::Resigned {
            requested_on: today,
            effective,
        },
        None,
    )
    .await?;
    // No renewal for someone leaving: an open one is credited and its reminders stop.
    crate::service::renewals::settle::cancel_open(&txn, actor, m.id, "resigned").await?;
    audit::record(
        &txn,
        actor,
        "member",
        m.id,
        AuditAction::Resigned,
        Some(json!({"status": s.status.label()})),
        Some(json!({
            "requested_on": today,
            "effective": effective,
            "when": if when == ResignWhen::Now { "now" } else { "period_end" },
        })),
    )
    .await?;
    let last_day = effective - Duration::days(1);
    outbox::enqueue(
        &txn,
        NewMessage {
            template: "resignation_confirmed",
            to_address: &m.email,
            to_name: Some(&m.given_name),
            user_id: m.user_id,
            member_id: Some(m.id),
            context: json!({
                "given_name": if m.given_name.is_empty() { m.organisation_name.clone().unwrap_or_default() } else { m.given_name.clone() },
                "number": crate::domain::membership_number::MembershipNumber::text_of(m.membership_number),
                "last_day": last_day.format("%-d %B %Y").to_string(),
                "at_once": effective <= today,
                "account_url": format!("{base_url}/portal"),
                "base_url": base_url,
            }),
            link: None,
        },
    )
    .await?;
    txn.commit().await?;
    crate::service::events::publish(db, crate::service::events::Topic::Members).await;
    Ok(effective)
}

/// Everything held about the caller, as one JSON document (a subject access export). Audited.
pub async fn export(db: &DatabaseConnection, actor: &Actor) -> Result<Value, AppError> {
    actor.require(Permission::OwnRecords)?;
    let uid = actor.user()?;
    let txn = crate::service::begin(db).await?;
    let account = user::Entity::find_by_id(uid)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let m = member::Entity::find()
        .filter(member::Column::UserId.eq(uid))
        .one(&txn)
        .await?;
    let mut membership = Value::Null;
    if let Some(m) = &m {
        let h = history(&txn, m.id).await?;
        let s = status_today(m, &h);
        let notes = member_note::Entity::find()
            .filter(member_note::Column::MemberId.eq(m.id))
            .order_by_asc(member_note::Column::CreatedAt)
            .all(&txn)
            .await?;
        let mut details = details_json(m);
        if let Some(o) = details.as_object_mut() {
            o.insert(
                "membership_number".into(),
                json!(crate::domain::membership_number::MembershipNumber::text_of(
                    m.membership_number
                )),
            );
            o.insert("category".into(), json!(h.category_name(m.category_id)));
            o.insert("joined_on".into(), json!(m.joined_on));
            o.insert("journal_by_post".into(), json!(m.journal_by_post));
            o.insert("email_news".into(), json!(m.email_news));
            o.insert("register_consent".into(), json!(m.register_consent));
            o.insert("stop_all_mail".into(), json!(m.stop_all_mail));
        }
        membership = json!({
            "details": details,
            "status": s.status.label(),
            "periods": h.periods.iter().map(|p| json!({
                "category": h.category_name(p.category_id),
                "start": p.start_on,
                "end": p.end_on,
                "paid_state": p.paid_state,
                "paid_on": p.paid_on,
                "how_paid": p.how_paid.label(),
            })).collect::<Vec<_>>(),
            "events": h.events.iter().map(|e| json!({
                "kind": e.kind.as_str(),
                "on": e.on_date,
                "effective": e.effective_on,
                "reason": e.reason,
            })).collect::<Vec<_>>(),
            "notes": notes.iter().map(|n| json!({"at": n.created_at, "by": n.author_label, "note": n.body})).collect::<Vec<_>>(),
            "money": money_json(&crate::service::money::account::account(&txn, m).await?),
        });
    }
    let mut msg_filter = sea_orm::Condition::any().add(outbox_message::Column::UserId.eq(uid));
    if let Some(m) = &m {
        msg_filter = msg_filter.add(outbox_message::Column::MemberId.eq(m.id));
    }
    let messages = outbox_message::Entity::find()
        .filter(msg_filter)
        .order_by_asc(outbox_message::Column::CreatedAt)
        .all(&txn)
        .await?;
    let mut audit_filter = sea_orm::Condition::any().add(
        sea_orm::Condition::all()
            .add(audit_log::Column::Entity.eq("user"))
            .add(audit_log::Column::EntityId.eq(uid.to_string())),
    );
    if let Some(m) = &m {
        audit_filter = audit_filter.add(
            sea_orm::Condition::all()
                .add(audit_log::Column::Entity.eq("member"))
                .add(audit_log::Column::EntityId.eq(m.id.to_string())),
        );
    }
    let changes = audit_log::Entity::find()
        .filter(audit_filter)
        .order_by_asc(audit_log::Column::At)
        .all(&txn)
        .await?;
    let organisations = represented(&txn, actor).await?;
    let out = json!({
        "exported_at": crate::service::now(),
        "account": {
            "email": account.email,
            "given_name": account.given_name,
            "family_name": account.family_name,
            "email_verified_at": account.email_verified_at,
            "created_at": account.created_at,
        },
        "membership": membership,
        "organisations_represented": organisations.iter().map(|o| json!({
            "name": o.organisation_name,
            "membership_number": crate::domain::membership_number::MembershipNumber::text_of(o.membership_number),
        })).collect::<Vec<_>>(),
        "messages": messages.iter().map(|o| json!({
            "at": o.created_at,
            "to": o.to_address,
            "subject": o.subject,
            "status": o.status,
            "text": o.body_text,
        })).collect::<Vec<_>>(),
        "history": changes.iter().map(|a| json!({
            "at": a.at,
            "by": a.actor_label,
            "what": a.action.label(),
            "before": a.before,
            "after": a.after,
        })).collect::<Vec<_>>(),
    });
    let entity_id = m.as_ref().map(|m| m.id).unwrap_or(uid);
    let entity = if m.is_some() { "member" } else { "user" };
    audit::record(
        &txn,
        actor,
        entity,
        entity_id,
        AuditAction::DataDownloaded,
        None,
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}

/// A member's balance, documents, payments and transactions, for their data export.
fn money_json(a: &crate::service::money::account::Account) -> Value {
    json!({
        "balance_pence": a.balance.pence(),
        "documents": a.documents.iter().map(|d| json!({
            "kind": d.kind,
            "number": d.number,
            "issued_on": d.issued_on,
            "description": d.description,
            "amount_pence": d.amount.pence(),
            "outstanding_pence": d.outstanding.pence(),
            "status": d.status,
        })).collect::<Vec<_>>(),
        "payments": a.payments.iter().map(|p| json!({
            "method": p.method,
            "reference": p.reference,
            "received_on": p.received_on,
            "amount_pence": p.amount.pence(),
            "refunded_pence": p.refunded.pence(),
        })).collect::<Vec<_>>(),
        "transactions": a.history.iter().map(|h| json!({
            "date": h.date,
            "kind": h.kind,
            "method": h.method,
            "detail": h.cause,
            "balance_change_pence": h.amount.pence(),
        })).collect::<Vec<_>>(),
    })
}
