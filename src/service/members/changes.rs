//! What staff change on a member's record besides their details: notes, a change of category (which
//! re-prices an open renewal) and removal (which cancels it). Each is audited and on the timeline.

use super::record::{load_member, optional, refuse_erased};
use crate::domain::membership::RemovalReason;
use crate::domain::membership::Status;
use crate::domain::Actor;
use crate::domain::AppError;
use crate::domain::Permission;
use crate::entity::audit_log::AuditAction;
use crate::entity::category;
use crate::entity::member;
use crate::entity::member_note;
use crate::entity::period;
use crate::service::audit;
use crate::service::history::add_event;
use crate::service::history::history;
use crate::service::history::status_today;
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::Set;
use sea_orm::ColumnTrait;
use sea_orm::ConnectionTrait;
use sea_orm::DatabaseConnection;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use sea_orm::QueryOrder;
use serde_json::json;
use uuid::Uuid;

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
        AuditAction::NoteAdded,
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
            paid_state: Set(p.paid_state),
            paid_on: Set(p.paid_on),
            mandate_active: Set(p.mandate_active),
            how_paid: Set(p.how_paid),
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
        AuditAction::CategoryChanged,
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
    add_event(
        &txn,
        actor,
        m.id,
        crate::domain::membership::MembershipEvent::Removed { on: today, reason },
        optional(detail),
    )
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
        AuditAction::Removed,
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
