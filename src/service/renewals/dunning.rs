//! The one dunning routine: charging a member's saved card for what they owe on a renewal (automatic
//! renewal) or an instalment, and what follows a decline: a message and a retry after [`RETRY_DAYS`], at
//! most [`MAX_CHARGE_ATTEMPTS`] times, then suspension with a message saying where to pay. A charge taken
//! is received and settled in its own transaction ([`super::settle::receive`]).

use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::{Actor, AppError};
use crate::entity::audit_log::AuditAction;
use crate::entity::instalment_plan::PlanStatus;
use crate::entity::{document, instalment_plan, member, renewal, saved_card};
use crate::mail::templates;
use crate::service::audit;
use crate::service::money::providers::{ChargeError, PaymentProvider};
use crate::service::money::{self, Incoming};
use crate::service::renewals::settle;
use chrono::{Duration, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
};
use serde_json::json;

/// Declines before the membership is suspended.
pub const MAX_CHARGE_ATTEMPTS: i32 = 3;
/// Days between a decline and the next try.
pub const RETRY_DAYS: i64 = 3;

/// What a saved card is charged for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Owed<'a> {
    /// An open renewal, on its charge date (automatic renewal).
    Renewal(&'a renewal::Model),
    /// Instalment `k` of a plan.
    Instalment(&'a instalment_plan::Model, i32),
}

/// One charge to try.
pub(crate) struct Attempt<'a> {
    pub member: &'a member::Model,
    pub card: &'a saved_card::Model,
    /// The invoice charged: what is outstanding on it is the amount.
    pub invoice: &'a document::Model,
    pub owed: Owed<'a>,
    /// This attempt's number, from 1.
    pub attempt: i32,
    pub as_of: NaiveDate,
}

/// How a charge went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Charged {
    Paid,
    /// The provider could not be reached: nothing changed, the next run tries again.
    NotTried,
    Declined {
        suspended: bool,
    },
}

impl Charged {
    /// Counts the outcome in a job's report.
    pub(crate) fn tally(self, charged: &mut u64, declined: &mut u64, suspended: &mut u64) {
        match self {
            Charged::Paid => *charged += 1,
            Charged::NotTried => {}
            Charged::Declined { suspended: s } => {
                *declined += 1;
                *suspended += u64::from(s);
            }
        }
    }
}

/// Charges the card for what is outstanding on the invoice. Paid: the payment is received and settled.
/// Declined: the attempt is counted on the renewal or plan, and the member gets the failure message
/// with the day of the next try, or is suspended after the last.
pub(crate) async fn charge(
    db: &DatabaseConnection,
    actor: &Actor,
    provider: &dyn PaymentProvider,
    a: Attempt<'_>,
) -> Result<Charged, AppError> {
    let m = a.member;
    let base_url = templates::default_base_url();
    let amount = Money::from_pence(a.invoice.outstanding_pence);
    let attempt = a.attempt;
    let key = match a.owed {
        Owed::Renewal(r) => format!("renewal-charge:{}:{attempt}", r.id),
        Owed::Instalment(p, k) => format!("instalment-charge:{}:{k}:{attempt}", p.id),
    };
    let description = format!("{} {}", a.invoice.number, a.invoice.description);
    let message = match provider
        .charge_saved(&a.card.token, amount, &description, &key)
        .await
    {
        Ok(reference) => {
            let txn = crate::service::begin(db).await?;
            settle::receive(
                &txn,
                actor,
                Incoming {
                    member: m,
                    method: "card",
                    provider: Some(provider.name()),
                    reference: &reference,
                    amount,
                    received_on: a.as_of,
                    invoice_id: Some(a.invoice.id),
                    key: format!("{}:payment:{reference}", provider.name()),
                    base_url,
                },
            )
            .await?;
            txn.commit().await?;
            return Ok(Charged::Paid);
        }
        Err(ChargeError::Unavailable(e)) => {
            match a.owed {
                Owed::Renewal(_) => {
                    tracing::warn!(error = %e, member = %m.id, "automatic renewal charge not tried");
                }
                Owed::Instalment(..) => {
                    tracing::warn!(error = %e, member = %m.id, "instalment charge not tried");
                }
            }
            return Ok(Charged::NotTried);
        }
        Err(ChargeError::Declined(message)) => message,
    };
    let txn = crate::service::begin(db).await?;
    let suspend = attempt >= MAX_CHARGE_ATTEMPTS;
    let retry_on = a.as_of + Duration::days(RETRY_DAYS);
    let next_try = (!suspend).then_some(retry_on);
    let mut failed = json!({
        "number": MembershipNumber::text_of(m.membership_number),
        "amount": amount.to_string(),
        "message": message,
        "attempt": attempt,
        "of": MAX_CHARGE_ATTEMPTS,
        "retry_on": retry_on.format("%-d %B %Y").to_string(),
        "card": a.card.label,
        "base_url": base_url,
    });
    let (template, pay_url, detail, why) = match a.owed {
        Owed::Renewal(r) => {
            let due = r.next_charge_on;
            let mut am: renewal::ActiveModel = r.clone().into();
            am.charge_attempts = Set(attempt);
            am.next_charge_on = Set(next_try);
            am.update(&txn).await?;
            audit::record(
                &txn,
                actor,
                "member",
                m.id,
                AuditAction::AutoRenewDeclined,
                None,
                Some(json!({"attempt": attempt, "of": MAX_CHARGE_ATTEMPTS, "message": message, "due": due})),
            )
            .await?;
            (
                "auto_renew_failed",
                format!("{base_url}/portal/renew"),
                format!("automatic renewal declined {attempt} times"),
                "automatic renewal declined",
            )
        }
        Owed::Instalment(p, k) => {
            // Re-read: the plan row may have gained its invoice since it was read.
            let fresh = instalment_plan::Entity::find_by_id(p.id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound)?;
            let mut am: instalment_plan::ActiveModel = fresh.into();
            am.charge_attempts = Set(attempt);
            am.next_due_on = Set(next_try);
            if suspend {
                am.status = Set(PlanStatus::Suspended);
            }
            am.updated_at = Set(crate::service::now());
            am.update(&txn).await?;
            audit::record(
                &txn,
                actor,
                "member",
                m.id,
                AuditAction::InstalmentDeclined,
                None,
                Some(json!({"instalment": k, "of": p.count, "attempt": attempt, "max": MAX_CHARGE_ATTEMPTS, "message": message})),
            )
            .await?;
            failed["instalment"] = json!(k);
            failed["count"] = json!(p.count);
            (
                "instalment_failed",
                format!("{base_url}/portal/payments"),
                format!("instalment {k} declined {attempt} times"),
                "monthly instalment declined",
            )
        }
    };
    if suspend {
        suspend_for_declines(
            &txn, actor, m, a.as_of, attempt, amount, &detail, why, &pay_url,
        )
        .await?;
    } else {
        failed["pay_url"] = json!(pay_url);
        money::notify(&txn, m, template, failed).await?;
    }
    txn.commit().await?;
    Ok(Charged::Declined { suspended: suspend })
}

/// Charges declined `attempts` times: the member is suspended from `on` (an event, an audit entry saying
/// `why`, and the `membership_suspended` message with where to pay), in the caller's transaction.
#[expect(
    clippy::too_many_arguments,
    reason = "the suspension's facts: who, when, after how many tries, how much, why and where to pay"
)]
async fn suspend_for_declines<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    m: &member::Model,
    on: NaiveDate,
    attempts: i32,
    amount: Money,
    detail: &str,
    why: &str,
    pay_url: &str,
) -> Result<(), AppError> {
    crate::service::history::add_event(
        db,
        actor,
        m.id,
        crate::domain::membership::MembershipEvent::Suspended { on },
        Some(detail.to_owned()),
    )
    .await?;
    audit::record(
        db,
        actor,
        "member",
        m.id,
        AuditAction::Suspended,
        None,
        Some(json!({"on": on, "why": why})),
    )
    .await?;
    money::notify(
        db,
        m,
        "membership_suspended",
        json!({
            "number": MembershipNumber::text_of(m.membership_number),
            "amount": amount.to_string(),
            "attempts": attempts,
            "pay_url": pay_url,
            "base_url": templates::default_base_url(),
        }),
    )
    .await?;
    Ok(())
}
