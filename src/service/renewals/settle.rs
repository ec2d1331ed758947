//! Settling renewals: a renewal or reinstatement invoice paid in full makes the new period in the
//! payment's own transaction ([`complete_paid`]), whichever way it was paid; an instalment paid moves its
//! plan on ([`paid`] does both); resignation, removal and lapse credit open renewals ([`cancel_open`]);
//! a change of category re-prices them ([`reprice_open`]); either way the reminders stop, because
//! reminders are only for open renewals.

use crate::domain::membership::first_period;
use crate::domain::membership::HowPaid;
use crate::domain::money::Money;
use crate::domain::Actor;
use crate::domain::AppError;
use crate::entity::audit_log::AuditAction;
use crate::entity::category;
use crate::entity::category::renewal_basis;
use crate::entity::document;
use crate::entity::member;
use crate::entity::payment;
use crate::entity::period;
use crate::entity::period::PaidStatus;
use crate::entity::renewal;
use crate::entity::renewal::{RenewalKind, RenewalStatus};
use crate::service::audit;
use crate::service::history::suspended_since;
use crate::service::money::{self, Incoming, Taken};
use crate::service::renewals::instalments;
use chrono::NaiveDate;
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::Set;
use sea_orm::ColumnTrait;
use sea_orm::ConnectionTrait;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use serde_json::json;
use uuid::Uuid;

/// Invoices `paid` were just paid in full on `on` by `method`: each open renewal or reinstatement among
/// them gets its period (a reinstatement's from the day of payment), in the caller's transaction.
async fn complete_paid<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    m: &member::Model,
    paid: &[Uuid],
    method: &str,
    on: NaiveDate,
) -> Result<(), AppError> {
    let rows = renewal::Entity::find()
        .filter(renewal::Column::InvoiceId.is_in(paid.to_vec()))
        .filter(renewal::Column::Status.eq(RenewalStatus::Open))
        .all(db)
        .await?;
    for r in rows {
        let cat = category::Entity::find_by_id(r.category_id)
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?;
        let (start, end) = if r.kind == RenewalKind::Reinstatement && on > r.period_start {
            first_period(on, renewal_basis(&cat))
        } else {
            (r.period_start, r.period_end)
        };
        let pid = crate::service::new_id();
        let tracked = crate::service::summary::track(db, &[r.member_id]).await?;
        period::ActiveModel {
            id: Set(pid),
            member_id: Set(r.member_id),
            category_id: Set(r.category_id),
            start_on: Set(start),
            end_on: Set(end),
            paid_state: Set(PaidStatus::Paid),
            paid_on: Set(Some(on)),
            mandate_active: Set(false),
            how_paid: Set(HowPaid::from_method(method)),
            created_at: Set(crate::service::now()),
            created_by: Set(actor.label.clone()),
        }
        .insert(db)
        .await?;
        tracked.apply(db).await?;
        if r.kind == RenewalKind::Reinstatement {
            crate::service::history::add_event(
                db,
                actor,
                r.member_id,
                crate::domain::membership::MembershipEvent::Reinstated { on: start },
                None,
            )
            .await?;
        } else if suspended_since(db, r.member_id).await?.is_some() {
            // Paying what the declined charges were for ends the suspension.
            crate::service::history::add_event(
                db,
                actor,
                r.member_id,
                crate::domain::membership::MembershipEvent::SuspensionLifted { on },
                Some("renewal paid".into()),
            )
            .await?;
        }
        let mut am: renewal::ActiveModel = r.clone().into();
        am.status = Set(RenewalStatus::Paid);
        am.period_id = Set(Some(pid));
        am.closed_at = Set(Some(crate::service::now()));
        am.update(db).await?;
        audit::record(
            db,
            actor,
            "member",
            m.id,
            if r.kind == RenewalKind::Reinstatement {
                AuditAction::Reinstated
            } else {
                AuditAction::Renewed
            },
            None,
            Some(json!({
                "period": {"start": start, "end": end, "category": cat.name},
                "paid_on": on,
                "method": method,
            })),
        )
        .await?;
    }
    Ok(())
}

/// Cancels the member's open renewals in the caller's transaction: what is outstanding on each invoice is
/// credited (a credit note says `reason`), so no reminder follows. Answers how many.
pub(crate) async fn cancel_open<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    member_id: Uuid,
    reason: &str,
) -> Result<u64, AppError> {
    let rows = renewal::Entity::find()
        .filter(renewal::Column::MemberId.eq(member_id))
        .filter(renewal::Column::Status.eq(RenewalStatus::Open))
        .all(db)
        .await?;
    let mut n = 0;
    for r in rows {
        let mut credit = None;
        if let Some(inv) = match r.invoice_id {
            Some(id) => document::Entity::find_by_id(id).one(db).await?,
            None => None,
        } {
            credit = crate::service::money::credit_outstanding(
                db,
                actor,
                &inv,
                &format!("renewal cancelled ({reason})"),
                &format!("renewal-cancel:{}", r.id),
            )
            .await?;
        }
        let mut am: renewal::ActiveModel = r.clone().into();
        am.status = Set(RenewalStatus::Cancelled);
        am.closed_at = Set(Some(crate::service::now()));
        am.update(db).await?;
        audit::record(
            db,
            actor,
            "member",
            member_id,
            AuditAction::RenewalCancelled,
            Some(json!({"status": RenewalStatus::Open, "period": {"start": r.period_start, "end": r.period_end}})),
            Some(json!({"status": RenewalStatus::Cancelled, "reason": reason, "credit_note": credit})),
        )
        .await?;
        n += 1;
    }
    crate::service::renewals::instalments::cancel_for_member(db, actor, member_id, reason).await?;
    Ok(n)
}

/// The member moved to `new_cat`: an open renewal is re-priced (the old invoice credited, a new one
/// raised at the new category's fee), or cancelled when the new category has no fee.
pub(crate) async fn reprice_open<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    m: &member::Model,
    new_cat: &category::Model,
) -> Result<(), AppError> {
    let rows = renewal::Entity::find()
        .filter(renewal::Column::MemberId.eq(m.id))
        .filter(renewal::Column::Status.eq(RenewalStatus::Open))
        .filter(renewal::Column::Kind.eq(RenewalKind::Renewal))
        .all(db)
        .await?;
    for r in rows {
        if new_cat.annual_fee_pence <= 0 {
            cancel_open(db, actor, m.id, "moved to a category without a fee").await?;
            continue;
        }
        // A monthly plan not yet started is for the old fee: the new fee is invoiced in full.
        if let Some(p) = crate::service::renewals::instalments::live_for_renewal(db, r.id).await? {
            crate::service::renewals::instalments::cancel_for_renewal(
                db,
                actor,
                &p,
                "category changed",
            )
            .await?;
        }
        if let Some(inv) = match r.invoice_id {
            Some(id) => document::Entity::find_by_id(id).one(db).await?,
            None => None,
        } {
            crate::service::money::credit_outstanding(
                db,
                actor,
                &inv,
                &format!("category changed to {}", new_cat.name),
                &format!("renewal-reprice:{}:{}", r.id, new_cat.id),
            )
            .await?;
        }
        let fee = Money::from_pence(new_cat.annual_fee_pence);
        let description = format!(
            "Renewal: {} membership {} to {}",
            new_cat.name,
            r.period_start.format("%-d %b %Y"),
            r.period_end.format("%-d %b %Y")
        );
        let inv = crate::service::money::issue_invoice(
            db,
            actor,
            m.id,
            &description,
            fee,
            Money::ZERO,
            &format!("renewal:{}:{}:{}", m.id, r.period_start, new_cat.id),
            "renewal",
        )
        .await?;
        let mut am: renewal::ActiveModel = r.clone().into();
        am.category_id = Set(new_cat.id);
        am.amount_pence = Set(fee.pence());
        am.invoice_id = Set(Some(inv.id));
        am.update(db).await?;
        audit::record(
            db,
            actor,
            "member",
            m.id,
            AuditAction::RenewalRepriced,
            Some(json!({"amount": Money::from_pence(r.amount_pence).to_string()})),
            Some(
                json!({"amount": fee.to_string(), "invoice": inv.number, "category": new_cat.name}),
            ),
        )
        .await?;
    }
    Ok(())
}

/// Invoices `paid` were just paid in full on `on` by `method`: a renewal or reinstatement among them
/// makes its period ([`complete_paid`]) and an instalment moves its plan on (the first one marks the
/// period as paid monthly), in the caller's transaction.
pub(crate) async fn paid<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    m: &member::Model,
    paid: &[Uuid],
    method: &str,
    on: NaiveDate,
) -> Result<(), AppError> {
    if paid.is_empty() {
        return Ok(());
    }
    complete_paid(db, actor, m, paid, method, on).await?;
    instalments::on_paid(db, actor, m, paid, on).await
}

/// Receives a payment that can only be for renewals (a saved card charged by the dunning routine):
/// recorded through money, settled, then its receipt, in the caller's transaction. Payments arriving
/// from outside go through `service::payments::receive`, which settles whatever they paid for.
pub(crate) async fn receive<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    p: Incoming<'_>,
) -> Result<(payment::Model, document::Model), AppError> {
    match money::take(db, actor, &p).await? {
        Taken::Repeat(recorded) => Ok(*recorded),
        Taken::New {
            posted,
            paid: invoices,
        } => {
            paid(db, actor, p.member, &invoices, p.method, p.received_on).await?;
            money::receipt(db, actor, &p, posted).await
        }
    }
}
