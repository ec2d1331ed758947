//! Monthly instalment plans: where the member's category allows it, a renewal is paid in 10 or 12
//! monthly card payments (the fee split evenly, the remainder on the first) taken off-session from the
//! member's saved card.
//!
//! - Choosing to pay monthly ([`start`]) credits the renewal's annual invoice and raises instalment 1 in
//!   its place; paying instalment 1 (by card in the portal, or charged on the renewal date for a member
//!   who renews automatically) makes the period, kept as paid by instalments ([`on_paid`]).
//! - Each later instalment is invoiced on the day it falls due (k − 1 months after the period starts)
//!   and charged by the daily job (`super::collect`, through `super::dunning`). A decline sends a message and is retried after
//!   `RETRY_DAYS`, at most `MAX_CHARGE_ATTEMPTS` times; then the membership is suspended with a message.
//!   Paying the instalment any way (a new card in the portal, a cheque) resumes the plan and lifts the
//!   suspension.
//! - Resignation, removal and lapse cancel a plan ([`cancel_for_member`]): no more instalments are
//!   raised; one already raised and unpaid stays due (arrears).
//! - A member who pays monthly has `saved_cards.monthly` set: their next renewal becomes a plan when its
//!   advance notice is sent (`autorenew`).

use crate::domain::membership::instalments as split;
use crate::domain::money::Money;
use crate::domain::{Actor, AppError};
use crate::entity::audit_log::AuditAction;
use crate::entity::category;
use crate::entity::document;
use crate::entity::instalment_plan;
use crate::entity::instalment_plan::PlanStatus;
use crate::entity::member;
use crate::entity::period;
use crate::entity::renewal;
use crate::service::audit;
use crate::service::history::suspended_since;
use chrono::Months;
use chrono::NaiveDate;
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::Set;
use sea_orm::ColumnTrait;
use sea_orm::ConnectionTrait;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use sea_orm::QueryOrder;
use serde_json::json;
use uuid::Uuid;

/// The day instalment `k` of a plan for a period starting `starts_on` falls due: the period's first day
/// for instalment 1, then the same day of each following month (the month's last day when it is
/// shorter).
pub fn due_on(starts_on: NaiveDate, k: i32) -> NaiveDate {
    let months = u32::try_from(k.saturating_sub(1)).unwrap_or(0);
    starts_on
        .checked_add_months(Months::new(months))
        .unwrap_or(starts_on)
}

/// The first and the regular instalment of `annual` split `count` ways.
pub fn amounts(annual: Money, count: i16) -> Result<(Money, Money), AppError> {
    let parts = split(annual, u8::try_from(count).unwrap_or(0))
        .map_err(|e| AppError::field("plan", e.to_string()))?;
    let first = parts.first().copied().unwrap_or(Money::ZERO);
    let regular = parts.get(1).copied().unwrap_or(first);
    Ok((first, regular))
}

/// Whether members of `cat` may pay monthly.
pub fn allowed(cat: &category::Model) -> bool {
    matches!(cat.instalments, 10 | 12)
}

pub(crate) fn amount_of(p: &instalment_plan::Model, k: i32) -> Money {
    Money::from_pence(if k == 1 {
        p.first_pence
    } else {
        p.regular_pence
    })
}

pub(crate) fn describe(k: i32, count: i16, cat: &str, start: NaiveDate, end: NaiveDate) -> String {
    format!(
        "Instalment {k} of {count}: {cat} membership {} to {}",
        start.format("%-d %b %Y"),
        end.format("%-d %b %Y")
    )
}

/// The plan still live for renewal `renewal_id`, if there is one.
pub async fn live_for_renewal<C: ConnectionTrait>(
    db: &C,
    renewal_id: Uuid,
) -> Result<Option<instalment_plan::Model>, AppError> {
    Ok(instalment_plan::Entity::find()
        .filter(instalment_plan::Column::RenewalId.eq(renewal_id))
        .filter(instalment_plan::Column::Status.is_in(PlanStatus::LIVE))
        .one(db)
        .await?)
}

/// Turns open renewal `r` into a plan in the caller's transaction: its annual invoice is credited and
/// instalment 1 invoiced in its place. `first_charge_on` is when instalment 1 is charged to the saved
/// card (automatic renewal), or `None` when the member is paying it now. A plan already started for `r`
/// is answered as it is.
pub(crate) async fn start<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    m: &member::Model,
    r: &renewal::Model,
    cat: &category::Model,
    first_charge_on: Option<NaiveDate>,
) -> Result<instalment_plan::Model, AppError> {
    if let Some(p) = live_for_renewal(db, r.id).await? {
        return Ok(p);
    }
    if !allowed(cat) {
        return Err(AppError::field(
            "plan",
            format!("{} membership cannot be paid monthly", cat.name),
        ));
    }
    let inv = match r.invoice_id {
        Some(id) => document::Entity::find_by_id(id).one(db).await?,
        None => None,
    }
    .ok_or_else(|| AppError::internal("a renewal without its invoice"))?;
    if inv.outstanding_pence != inv.amount_pence || inv.outstanding_pence <= 0 {
        return Err(AppError::field(
            "plan",
            "Part of this renewal is paid already, so the rest cannot be paid monthly: pay it in full",
        ));
    }
    let annual = Money::from_pence(inv.amount_pence);
    let (first, regular) = amounts(annual, cat.instalments)?;
    let id = crate::service::new_id();
    crate::service::money::credit_outstanding(
        db,
        actor,
        &inv,
        "paying monthly instead",
        &format!("instalment-plan:{id}"),
    )
    .await?;
    let inst1 = crate::service::money::issue_invoice(
        db,
        actor,
        m.id,
        &describe(1, cat.instalments, &cat.name, r.period_start, r.period_end),
        first,
        Money::ZERO,
        &format!("instalment:{id}:1"),
        "instalment",
    )
    .await?;
    let mut am: renewal::ActiveModel = r.clone().into();
    am.invoice_id = Set(Some(inst1.id));
    am.update(db).await?;
    let now = crate::service::now();
    let plan = instalment_plan::ActiveModel {
        id: Set(id),
        member_id: Set(m.id),
        renewal_id: Set(r.id),
        count: Set(cat.instalments),
        total_pence: Set(annual.pence()),
        first_pence: Set(first.pence()),
        regular_pence: Set(regular.pence()),
        starts_on: Set(r.period_start),
        next_number: Set(1),
        next_due_on: Set(first_charge_on),
        current_invoice_id: Set(Some(inst1.id)),
        charge_attempts: Set(0),
        status: Set(PlanStatus::Starting),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        actor,
        "member",
        m.id,
        AuditAction::InstalmentPlanStarted,
        Some(json!({"invoice": inv.number, "amount": annual.to_string()})),
        Some(json!({
            "instalments": cat.instalments,
            "first": first.to_string(),
            "regular": regular.to_string(),
            "invoice": inst1.number,
            "period": {"start": r.period_start, "end": r.period_end},
        })),
    )
    .await?;
    Ok(plan)
}

/// The member would rather pay in full: a plan none of whose instalments is paid is cancelled and the
/// annual invoice raised again. In the caller's transaction.
pub(crate) async fn revert<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    p: &instalment_plan::Model,
    reason: &str,
) -> Result<(), AppError> {
    if p.next_number != 1 {
        return Err(AppError::Conflict(
            "Monthly payments have started for this renewal.".into(),
        ));
    }
    let r = renewal::Entity::find_by_id(p.renewal_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let cat = category::Entity::find_by_id(r.category_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(inv) = match p.current_invoice_id {
        Some(id) => document::Entity::find_by_id(id).one(db).await?,
        None => None,
    } {
        crate::service::money::credit_outstanding(
            db,
            actor,
            &inv,
            reason,
            &format!("instalment-plan-cancel:{}", p.id),
        )
        .await?;
    }
    let annual = crate::service::money::issue_invoice(
        db,
        actor,
        p.member_id,
        &format!(
            "Renewal: {} membership {} to {}",
            cat.name,
            r.period_start.format("%-d %b %Y"),
            r.period_end.format("%-d %b %Y")
        ),
        Money::from_pence(p.total_pence),
        Money::ZERO,
        &format!("renewal:{}:{}:annual:{}", p.member_id, r.period_start, p.id),
        "renewal",
    )
    .await?;
    let mut am: renewal::ActiveModel = r.into();
    am.invoice_id = Set(Some(annual.id));
    am.next_charge_on = Set(None);
    am.update(db).await?;
    close(db, actor, p, PlanStatus::Cancelled, reason).await
}

async fn close<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    p: &instalment_plan::Model,
    status: PlanStatus,
    reason: &str,
) -> Result<(), AppError> {
    let mut am: instalment_plan::ActiveModel = p.clone().into();
    am.status = Set(status);
    am.next_due_on = Set(None);
    if status == PlanStatus::Cancelled && p.next_number == 1 {
        am.current_invoice_id = Set(None);
    }
    am.updated_at = Set(crate::service::now());
    am.update(db).await?;
    audit::record(
        db,
        actor,
        "member",
        p.member_id,
        AuditAction::InstalmentPlanEnded,
        Some(json!({"status": p.status, "paid": p.next_number - 1, "of": p.count})),
        Some(json!({"status": status, "reason": reason})),
    )
    .await?;
    Ok(())
}

/// Plan `p` ends unpaid (its renewal is re-priced or cancelled by the caller). In the caller's
/// transaction.
pub(crate) async fn cancel_for_renewal<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    p: &instalment_plan::Model,
    reason: &str,
) -> Result<(), AppError> {
    close(db, actor, p, PlanStatus::Cancelled, reason).await
}

/// The member resigned, was removed or lapsed: their plans collect nothing more. An instalment already
/// invoiced and unpaid stays due. In the caller's transaction.
pub(crate) async fn cancel_for_member<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    member_id: Uuid,
    reason: &str,
) -> Result<(), AppError> {
    for p in instalment_plan::Entity::find()
        .filter(instalment_plan::Column::MemberId.eq(member_id))
        .filter(instalment_plan::Column::Status.is_in(PlanStatus::LIVE))
        .all(db)
        .await?
    {
        close(db, actor, &p, PlanStatus::Cancelled, reason).await?;
    }
    Ok(())
}

/// Invoices `paid` were just paid in full on `on`: each plan whose current instalment is among them
/// moves on to the next (the first one's period, just made by `settle::complete_paid`, is kept as paid
/// by instalments), and a suspension for a declined instalment is lifted. In the caller's transaction.
pub(super) async fn on_paid<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    m: &member::Model,
    paid: &[Uuid],
    on: NaiveDate,
) -> Result<(), AppError> {
    let plans = instalment_plan::Entity::find()
        .filter(instalment_plan::Column::CurrentInvoiceId.is_in(paid.to_vec()))
        .filter(instalment_plan::Column::Status.is_in(PlanStatus::LIVE))
        .all(db)
        .await?;
    for p in plans {
        let k = p.next_number;
        if k == 1 {
            let period_id = renewal::Entity::find_by_id(p.renewal_id)
                .one(db)
                .await?
                .and_then(|r| r.period_id);
            if let Some(pid) = period_id {
                let tracked = crate::service::summary::track(db, &[p.member_id]).await?;
                period::Entity::update_many()
                    .col_expr(
                        period::Column::PaidState,
                        sea_orm::sea_query::Expr::value("instalments"),
                    )
                    .col_expr(
                        period::Column::MandateActive,
                        sea_orm::sea_query::Expr::value(true),
                    )
                    .filter(period::Column::Id.eq(pid))
                    .exec(db)
                    .await?;
                tracked.apply(db).await?;
            }
        }
        if p.status == PlanStatus::Suspended && suspended_since(db, p.member_id).await?.is_some() {
            crate::service::history::add_event(
                db,
                actor,
                p.member_id,
                crate::domain::membership::MembershipEvent::SuspensionLifted { on },
                Some(format!("instalment {k} of {} paid", p.count)),
            )
            .await?;
        }
        let next = k + 1;
        let done = next > i32::from(p.count);
        let mut am: instalment_plan::ActiveModel = p.clone().into();
        am.next_number = Set(next);
        am.current_invoice_id = Set(None);
        am.charge_attempts = Set(0);
        am.next_due_on = Set((!done).then(|| due_on(p.starts_on, next)));
        am.status = Set(if done {
            PlanStatus::Completed
        } else {
            PlanStatus::Active
        });
        am.updated_at = Set(crate::service::now());
        am.update(db).await?;
        audit::record(
            db,
            actor,
            "member",
            m.id,
            AuditAction::InstalmentPaid,
            Some(json!({"status": p.status})),
            Some(json!({
                "instalment": k,
                "of": p.count,
                "amount": amount_of(&p, k).to_string(),
                "status": if done { PlanStatus::Completed } else { PlanStatus::Active },
            })),
        )
        .await?;
    }
    Ok(())
}

/// A member's plan as the portal and the staff record show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanView {
    pub status: PlanStatus,
    pub count: i16,
    /// Instalments paid so far.
    pub paid: i32,
    pub first: Money,
    pub regular: Money,
    pub starts_on: NaiveDate,
    /// The next charge from the saved card: day and amount.
    pub next: Option<(NaiveDate, Money)>,
    /// Declined charges of the current instalment.
    pub failures: i32,
}

impl PlanView {
    /// One sentence for the member.
    pub fn summary(&self, date: impl Fn(NaiveDate) -> String) -> String {
        let state = match self.status {
            PlanStatus::Starting => format!(
                "You pay monthly: {} payments, the first of {}",
                self.count, self.first
            ),
            PlanStatus::Completed => format!("You have paid all {} monthly payments", self.count),
            PlanStatus::Suspended => format!(
                "Your monthly payments stopped after {} declined attempts: pay the instalment due to restore your membership",
                self.failures
            ),
            _ => format!(
                "You pay monthly: {} of {} payments made",
                self.paid, self.count
            ),
        };
        match &self.next {
            Some((day, amount)) => format!(
                "{state}. Next: {amount} on {} from your saved card.",
                date(*day)
            ),
            None => format!("{state}."),
        }
    }
}

impl PlanView {
    /// One sentence for staff.
    pub fn staff_summary(&self) -> String {
        let d = |day: NaiveDate| day.format("%-d %B %Y").to_string();
        let paid = format!(
            "Pays monthly by saved card for the period from {}: {} of {} instalments paid ({} first, then {} a month)",
            d(self.starts_on),
            self.paid,
            self.count,
            self.first,
            self.regular
        );
        match (self.status, &self.next) {
            (PlanStatus::Suspended, _) => format!(
                "{paid}; suspended after {} declined charges until the instalment due is paid.",
                self.failures
            ),
            (PlanStatus::Completed, _) => format!("{paid}; all paid."),
            (_, Some((day, amount))) if self.failures > 0 => format!(
                "{paid}; {} declined, next try {amount} on {}.",
                self.failures,
                d(*day)
            ),
            (_, Some((day, amount))) => format!("{paid}; next {amount} on {}.", d(*day)),
            (_, None) => format!("{paid}; the first instalment is waiting for the member."),
        }
    }
}

/// The member's latest plan that is not cancelled, if any.
pub async fn current<C: ConnectionTrait>(
    db: &C,
    member_id: Uuid,
) -> Result<Option<PlanView>, AppError> {
    let Some(p) = instalment_plan::Entity::find()
        .filter(instalment_plan::Column::MemberId.eq(member_id))
        .filter(instalment_plan::Column::Status.ne(PlanStatus::Cancelled))
        .order_by_desc(instalment_plan::Column::StartsOn)
        .order_by_desc(instalment_plan::Column::CreatedAt)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(PlanView {
        count: p.count,
        paid: p.next_number - 1,
        first: Money::from_pence(p.first_pence),
        regular: Money::from_pence(p.regular_pence),
        starts_on: p.starts_on,
        next: p.next_due_on.map(|d| (d, amount_of(&p, p.next_number))),
        failures: p.charge_attempts,
        status: p.status,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("a date")
    }

    #[test]
    fn instalments_fall_due_monthly_from_the_period_start() {
        assert_eq!(due_on(d(2027, 1, 14), 1), d(2027, 1, 14));
        assert_eq!(due_on(d(2027, 1, 14), 2), d(2027, 2, 14));
        assert_eq!(due_on(d(2027, 1, 14), 12), d(2027, 12, 14));
        // A short month takes its last day; the next month is back on the 31st.
        assert_eq!(due_on(d(2027, 1, 31), 2), d(2027, 2, 28));
        assert_eq!(due_on(d(2027, 1, 31), 3), d(2027, 3, 31));
    }

    #[test]
    fn the_remainder_goes_on_the_first_instalment() {
        let (first, regular) = amounts(Money::from_pence(19_805), 12).expect("splits");
        assert_eq!(first.pence(), 1_655);
        assert_eq!(regular.pence(), 1_650);
        assert_eq!(first.pence() + 11 * regular.pence(), 19_805);
        assert!(amounts(Money::from_pence(19_800), 6).is_err());
    }
}
