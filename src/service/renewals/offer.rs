//! What a member may do now ([`offer`]): renew (in the window or in grace), reinstate (lapsed at most six
//! months: the annual fee plus the reinstatement fee, a new period from the day they pay), or nothing
//! yet / a new application; and self-renewal ([`prepare_payment`]): the declaration where the category
//! needs one, and the invoice the member then pays by card or in instalments.

use crate::domain::membership::{first_period, next_period, Status};
use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::Actor;
use crate::domain::AppError;
use crate::entity::audit_log::AuditAction;
use crate::entity::category;
use crate::entity::category::renewal_basis;
use crate::entity::document;
use crate::entity::member;
use crate::entity::renewal;
use crate::entity::renewal::{RenewalKind, RenewalStatus};
use crate::service::audit;
use crate::service::history::History;
use crate::service::renewals::autorenew::card_choice;
use crate::service::renewals::run::WINDOW_DAYS;
use crate::service::renewals::settle::cancel_open;
use chrono::{Duration, Months, NaiveDate};
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::Set;
use sea_orm::ColumnTrait;
use sea_orm::ConnectionTrait;
use sea_orm::DatabaseConnection;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use serde_json::json;

/// How long after lapsing a member may reinstate instead of applying again.
pub const REINSTATE_MONTHS: u32 = 6;

/// The declaration a member confirms when their category needs one.
pub const DECLARATION: &str = "I confirm that I have completed the continuing professional development my category requires this year, that my professional indemnity insurance is valid, and that I still meet the category's eligibility criteria.";

/// What a member can do about their membership now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Offer {
    /// Renew for the period after the current one (in the renewal window, or in grace).
    Renew {
        /// The last day of the current paid membership.
        ends: NaiveDate,
        start: NaiveDate,
        end: NaiveDate,
        fee: Money,
        category: category::Model,
        renewal: Option<renewal::Model>,
        grace_ends: Option<NaiveDate>,
    },
    /// Lapsed at most six months ago: a new period from the day of payment, with the reinstatement fee.
    Reinstate {
        lapsed_since: NaiveDate,
        /// The last day reinstatement is possible.
        deadline: NaiveDate,
        start: NaiveDate,
        end: NaiveDate,
        fee: Money,
        reinstatement_fee: Money,
        category: category::Model,
        renewal: Option<renewal::Model>,
    },
    /// Paid up beyond the renewal window.
    NotYet {
        ends: NaiveDate,
        opens_on: NaiveDate,
    },
    /// Lapsed more than six months ago: a new application is needed.
    NewApplication {
        lapsed_since: NaiveDate,
        deadline: NaiveDate,
    },
    /// Nothing to renew, and why.
    Closed { reason: String },
}

impl Offer {
    /// What the member will pay.
    pub fn total(&self) -> Option<Money> {
        match self {
            Offer::Renew { fee, .. } => Some(*fee),
            Offer::Reinstate {
                fee,
                reinstatement_fee,
                ..
            } => fee.checked_add(*reinstatement_fee),
            _ => None,
        }
    }

    /// Why staff see a member cannot renew or reinstate in the portal, in words (none when they can).
    pub fn staff_note(&self) -> Option<String> {
        match self {
            Offer::NewApplication {
                lapsed_since,
                deadline,
            } => Some(format!(
                "Lapsed on {} – more than {REINSTATE_MONTHS} months ago (reinstatement was possible until {}): a new application is needed.",
                lapsed_since.format("%-d %B %Y"),
                deadline.format("%-d %B %Y")
            )),
            _ => None,
        }
    }
}

/// The grace days of a category as the status rules take them.
pub(crate) fn grace_of(c: &category::Model) -> u32 {
    u32::try_from(c.grace_days).unwrap_or(30)
}

/// What member `m` (whose periods and events are `h`) can do on `as_of`.
pub async fn offer<C: ConnectionTrait>(
    db: &C,
    m: &member::Model,
    h: &History,
    as_of: NaiveDate,
) -> Result<Offer, AppError> {
    let cat = h
        .categories
        .get(&m.category_id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let s = h.status(grace_of(&cat), as_of);
    if let Some(from) = s.resigning_from {
        return Ok(Offer::Closed {
            reason: format!(
                "You have resigned: your membership ends on {}. If you would like to stay a member, contact the membership office.",
                (from - Duration::days(1)).format("%-d %B %Y")
            ),
        });
    }
    let open: Vec<renewal::Model> = renewal::Entity::find()
        .filter(renewal::Column::MemberId.eq(m.id))
        .filter(renewal::Column::Status.eq(RenewalStatus::Open))
        .all(db)
        .await?;
    match s.status {
        Status::Active | Status::Grace | Status::Suspended => {
            let Some(until) = s.member_until else {
                return Err(AppError::internal("a member without a last paid day"));
            };
            let Some(last) = h
                .periods
                .iter()
                .filter(|p| p.end_on == until && p.paid_state != crate::entity::period::PaidStatus::Unpaid)
                .max_by_key(|p| p.start_on)
            else {
                return Err(AppError::internal("no period ends on the last paid day"));
            };
            let pcat = h
                .categories
                .get(&last.category_id)
                .cloned()
                .unwrap_or(cat);
            let (start, end) = next_period(
                &crate::entity::period::to_period(last, &pcat.code),
                renewal_basis(&pcat),
            );
            let r = open
                .into_iter()
                .find(|r| r.kind == RenewalKind::Renewal && r.period_start == start);
            if r.is_none() && until - as_of > Duration::days(WINDOW_DAYS) {
                return Ok(Offer::NotYet {
                    ends: until,
                    opens_on: until - Duration::days(WINDOW_DAYS),
                });
            }
            if r.is_none() && pcat.annual_fee_pence <= 0 {
                return Ok(Offer::Closed {
                    reason: "Your category has no annual fee: your membership is renewed for you."
                        .into(),
                });
            }
            let fee = Money::from_pence(
                r.as_ref()
                    .map(|r| r.amount_pence)
                    .unwrap_or(pcat.annual_fee_pence),
            );
            Ok(Offer::Renew {
                ends: until,
                start,
                end,
                fee,
                category: pcat,
                renewal: r,
                grace_ends: s.grace_ends,
            })
        }
        Status::Lapsed => {
            let Some(since) = s.lapsed_since else {
                return Err(AppError::internal("a lapsed member without a lapse date"));
            };
            let deadline = since
                .checked_add_months(Months::new(REINSTATE_MONTHS))
                .unwrap_or(since);
            if as_of > deadline {
                return Ok(Offer::NewApplication {
                    lapsed_since: since,
                    deadline,
                });
            }
            let r = open.into_iter().find(|r| r.kind == RenewalKind::Reinstatement);
            let (start, end) = first_period(as_of, renewal_basis(&cat));
            let (fee, reinstatement_fee) = match &r {
                Some(r) => (
                    Money::from_pence(r.amount_pence - std::cmp::Ord::max(cat.reinstatement_fee_pence, 0)),
                    Money::from_pence(std::cmp::Ord::max(cat.reinstatement_fee_pence, 0)),
                ),
                None => (
                    Money::from_pence(cat.annual_fee_pence),
                    Money::from_pence(std::cmp::Ord::max(cat.reinstatement_fee_pence, 0)),
                ),
            };
            Ok(Offer::Reinstate {
                lapsed_since: since,
                deadline,
                start,
                end,
                fee,
                reinstatement_fee,
                category: cat,
                renewal: r,
            })
        }
        Status::Resigned => Ok(Offer::Closed {
            reason: "Your resignation has taken effect, so there is no membership to renew. To join again, apply for membership.".into(),
        }),
        Status::Removed => Ok(Offer::Closed {
            reason: "Your membership has ended. Contact the membership office if you have questions.".into(),
        }),
        Status::NotYetStarted | Status::NeverMember => Ok(Offer::Closed {
            reason: "Your membership has not started yet, so there is nothing to renew.".into(),
        }),
    }
}

/// A member's renewal as the portal shows it.
#[derive(Clone, Debug)]
pub struct OwnOffer {
    pub member: member::Model,
    pub offer: Offer,
    /// The open invoice for it, if one has been raised.
    pub invoice: Option<document::Model>,
    pub needs_declaration: bool,
}

/// What membership `number` (the caller's own or their organisation's) can do today.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %number))]
pub async fn own_offer(
    db: &DatabaseConnection,
    actor: &Actor,
    number: MembershipNumber,
    as_of: NaiveDate,
) -> Result<OwnOffer, AppError> {
    let m = crate::service::access::reachable_member(db, actor, number).await?;
    let h = crate::service::history::history(db, m.id).await?;
    let offer = offer(db, &m, &h, as_of).await?;
    let invoice_id = match &offer {
        Offer::Renew { renewal, .. } | Offer::Reinstate { renewal, .. } => {
            renewal.as_ref().and_then(|r| r.invoice_id)
        }
        _ => None,
    };
    let invoice = match invoice_id {
        Some(id) => document::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let needs_declaration = match &offer {
        Offer::Renew { category, .. } | Offer::Reinstate { category, .. } => {
            category.needs_declaration
        }
        _ => false,
    };
    Ok(OwnOffer {
        member: m,
        offer,
        invoice,
        needs_declaration,
    })
}

/// Staff's view of the same: why the member cannot renew or reinstate in the portal, if they cannot.
pub async fn staff_note<C: ConnectionTrait>(
    db: &C,
    m: &member::Model,
    h: &History,
) -> Result<Option<String>, AppError> {
    // The record shows whatever else it can even if the offer cannot be worked out.
    Ok(offer(db, m, h, crate::service::today())
        .await
        .ok()
        .and_then(|o| o.staff_note()))
}

/// A member renews (or reinstates) membership `number`: checks the declaration where the category needs
/// one, raises the invoice if the renewal run has not yet, records the declaration, and answers the
/// invoice number to pay by card. One transaction.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %number))]
pub async fn prepare_payment(
    db: &DatabaseConnection,
    actor: &Actor,
    number: MembershipNumber,
    declared: bool,
    as_of: NaiveDate,
) -> Result<String, AppError> {
    prepare_payment_by(db, actor, number, declared, PayBy::InFull, None, as_of).await
}

/// How a member pays for a renewal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayBy {
    InFull,
    /// Monthly instalments from a saved card, where the category allows it (`service::instalments`).
    Monthly,
}

/// [`prepare_payment`], choosing how to pay: `Monthly` turns the renewal into an instalment plan (the
/// invoice answered is the first instalment's) and saves the card the member pays it with; `InFull`
/// turns a plan not yet started back into the annual invoice. `saving_provider` is the card provider
/// when it can save cards.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %number))]
pub async fn prepare_payment_by(
    db: &DatabaseConnection,
    actor: &Actor,
    number: MembershipNumber,
    declared: bool,
    by: PayBy,
    saving_provider: Option<&str>,
    as_of: NaiveDate,
) -> Result<String, AppError> {
    let txn = crate::service::begin(db).await?;
    let m = crate::service::access::reachable_member(&txn, actor, number).await?;
    let h = crate::service::history::history(&txn, m.id).await?;
    let offer = offer(&txn, &m, &h, as_of).await?;
    let (kind, start, end, cat, existing, fee, extra) = match offer {
        Offer::Renew {
            start,
            end,
            fee,
            category,
            renewal,
            ..
        } => (
            RenewalKind::Renewal,
            start,
            end,
            category,
            renewal,
            fee,
            Money::ZERO,
        ),
        Offer::Reinstate {
            start,
            end,
            fee,
            reinstatement_fee,
            category,
            renewal,
            ..
        } => (
            RenewalKind::Reinstatement,
            start,
            end,
            category,
            renewal,
            fee,
            reinstatement_fee,
        ),
        Offer::NotYet { opens_on, .. } => {
            return Err(AppError::Conflict(format!(
                "You can renew from {}.",
                opens_on.format("%-d %B %Y")
            )))
        }
        Offer::NewApplication { .. } => {
            return Err(AppError::Conflict(
                "Your membership lapsed more than six months ago, so you need to apply again."
                    .into(),
            ))
        }
        Offer::Closed { reason } => return Err(AppError::Conflict(reason)),
    };
    if cat.needs_declaration && !declared {
        return Err(AppError::field(
            "declaration",
            "Confirm the declaration to renew your membership",
        ));
    }
    let r = match existing {
        Some(r) => r,
        None => {
            if kind == RenewalKind::Reinstatement {
                cancel_open(&txn, actor, m.id, "replaced by reinstatement").await?;
            }
            raise_one(&txn, actor, &m, &cat, kind, start, end, fee, extra).await?
        }
    };
    let plan = crate::service::renewals::instalments::live_for_renewal(&txn, r.id).await?;
    let r = match by {
        PayBy::Monthly => {
            if kind != RenewalKind::Renewal {
                return Err(AppError::field("plan", "A reinstatement is paid in full"));
            }
            let Some(provider) = saving_provider else {
                return Err(AppError::Conflict(
                    "Paying monthly is not available at the moment.".into(),
                ));
            };
            crate::service::renewals::instalments::start(&txn, actor, &m, &r, &cat, None).await?;
            card_choice(&txn, actor, m.id, provider, true).await?;
            renewal::Entity::find_by_id(r.id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound)?
        }
        PayBy::InFull => match plan {
            Some(p) => {
                crate::service::renewals::instalments::revert(
                    &txn,
                    actor,
                    &p,
                    "paying in full instead",
                )
                .await?;
                if let Some(provider) = saving_provider {
                    card_choice(&txn, actor, m.id, provider, false).await?;
                }
                renewal::Entity::find_by_id(r.id)
                    .one(&txn)
                    .await?
                    .ok_or(AppError::NotFound)?
            }
            None => r,
        },
    };
    let inv = match r.invoice_id {
        Some(id) => document::Entity::find_by_id(id).one(&txn).await?,
        None => None,
    }
    .ok_or_else(|| AppError::internal("a renewal without its invoice"))?;
    if cat.needs_declaration && r.declaration.is_none() {
        let mut am: renewal::ActiveModel = r.clone().into();
        am.declaration = Set(Some(DECLARATION.to_owned()));
        am.declared_at = Set(Some(crate::service::now()));
        am.update(&txn).await?;
        audit::record(
            &txn,
            actor,
            "member",
            m.id,
            AuditAction::RenewalDeclared,
            None,
            Some(json!({"declaration": DECLARATION, "period": {"start": r.period_start, "end": r.period_end}})),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(inv.number)
}

/// Raises one renewal (or reinstatement) and its invoice in the caller's transaction.
#[expect(
    clippy::too_many_arguments,
    reason = "a renewal's facts: who, category, kind, period and amounts"
)]
async fn raise_one<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    m: &member::Model,
    cat: &category::Model,
    kind: RenewalKind,
    start: NaiveDate,
    end: NaiveDate,
    fee: Money,
    extra: Money,
) -> Result<renewal::Model, AppError> {
    let what = if kind == RenewalKind::Reinstatement {
        "Reinstatement"
    } else {
        "Renewal"
    };
    let description = format!(
        "{what}: {} membership {} to {}",
        cat.name,
        start.format("%-d %b %Y"),
        end.format("%-d %b %Y")
    );
    let key = if kind == RenewalKind::Reinstatement {
        format!("reinstatement:{}:{start}", m.id)
    } else {
        format!("renewal:{}:{start}", m.id)
    };
    let inv = crate::service::money::issue_invoice(
        db,
        actor,
        m.id,
        &description,
        fee,
        extra,
        &key,
        kind.as_str(),
    )
    .await?;
    let total = fee.checked_add(extra).unwrap_or(fee);
    let r = renewal::ActiveModel {
        id: Set(crate::service::new_id()),
        member_id: Set(m.id),
        category_id: Set(cat.id),
        period_start: Set(start),
        period_end: Set(end),
        amount_pence: Set(total.pence()),
        invoice_id: Set(Some(inv.id)),
        created_at: Set(crate::service::now()),
        created_by: Set(actor.label.clone()),
        status: Set(RenewalStatus::Open),
        kind: Set(kind),
        declaration: Set(None),
        declared_at: Set(None),
        period_id: Set(None),
        closed_at: Set(None),
        charge_attempts: Set(0),
        next_charge_on: Set(None),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        actor,
        "member",
        m.id,
        if kind == RenewalKind::Reinstatement {
            AuditAction::ReinstatementInvoiced
        } else {
            AuditAction::RenewalInvoiced
        },
        None,
        Some(json!({
            "invoice": inv.number,
            "amount": total.to_string(),
            "period": {"start": start, "end": end},
        })),
    )
    .await?;
    Ok(r)
}
