//! The membership lifecycle around a renewal, after the renewal run has raised it (`service::renewals`):
//!
//! - what a member may do now ([`offer`]): renew (in the window or in grace), reinstate (lapsed at most
//!   six months: the annual fee plus the reinstatement fee, a new period from the day they pay), or
//!   nothing yet / a new application;
//! - self-renewal ([`prepare_payment`]): the declaration where the category needs one, and the invoice
//!   the member then pays by card;
//! - a renewal or reinstatement invoice paid in full makes the new period in the payment's own
//!   transaction ([`complete_paid`]), whichever way it was paid;
//! - resignation, removal and lapse credit open renewals ([`cancel_open`]); a change of category
//!   re-prices them ([`reprice_open`]); either way the reminders stop, because reminders are only for
//!   open renewals;
//! - the daily job ([`daily`]): the renewal run, reminders at the configured offsets, and the grace and
//!   lapse messages. Each message is sent once: a `notices` row, unique per member and key, is written
//!   in the same transaction as the message and its audit entry (which puts it on the timeline).

use crate::domain::calendar::Calendar;
use crate::domain::membership::{first_period, next_period, Status};
use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::{Actor, AppError, Permission};
use crate::entity::{
    audit_log, category, document, member, membership_event, notice, outbox_message, period,
    renewal, saved_card, setting,
};
use crate::mail::templates;
use crate::service::members::record::{self, History, EVENT_REINSTATED};
use crate::service::money::providers::{ChargeError, PaymentProvider};
use crate::service::outbox::{self, NewMessage};
use crate::service::renewals::{self, RunReport, WINDOW_DAYS};
use crate::service::{audit, categories::renewal_basis};
use chrono::{Duration, Months, NaiveDate};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Reminder days relative to the last day of the period, when the settings say nothing.
pub const DEFAULT_OFFSETS: [i64; 6] = [-60, -30, -7, 0, 7, 21];
/// The setting holding the reminder offsets, e.g. `-60,-30,-7,0,7,21`.
pub const OFFSETS_SETTING: &str = "reminder_offsets";
/// How long after lapsing a member may reinstate instead of applying again.
pub const REINSTATE_MONTHS: u32 = 6;
/// Lapse messages go to members who lapsed at most this many days ago (not to long-lapsed ones the
/// first time the job runs).
const LAPSE_MESSAGE_DAYS: i64 = 30;
/// Members written per transaction by the daily job.
const BATCH: usize = 500;

pub const KIND_RENEWAL: &str = "renewal";
pub const KIND_REINSTATEMENT: &str = "reinstatement";
pub const OPEN: &str = "open";
pub const PAID: &str = "paid";
pub const CANCELLED: &str = "cancelled";

/// The declaration a member confirms when their category needs one.
pub const DECLARATION: &str = "I confirm that I have completed the continuing professional development my category requires this year, that my professional indemnity insurance is valid, and that I still meet the category's eligibility criteria.";

/// Reads reminder offsets as typed: whole days, comma separated, each from −366 to 366.
pub fn parse_offsets(text: &str) -> Result<Vec<i64>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let n: i64 = part
            .replace('−', "-")
            .parse()
            .map_err(|_| format!("“{part}” is not a whole number of days"))?;
        if !(-366..=366).contains(&n) {
            return Err(format!("{n} is not between -366 and 366 days"));
        }
        out.push(n);
    }
    if out.is_empty() {
        return Err("Enter at least one reminder day".into());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The reminder offsets in force.
pub async fn offsets<C: ConnectionTrait>(db: &C) -> Result<Vec<i64>, AppError> {
    let s = setting::Entity::find_by_id(OFFSETS_SETTING).one(db).await?;
    Ok(s.and_then(|s| parse_offsets(&s.value).ok())
        .unwrap_or_else(|| DEFAULT_OFFSETS.to_vec()))
}

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
fn grace_of(c: &category::Model) -> u32 {
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
        .filter(renewal::Column::Status.eq(OPEN))
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
                .filter(|p| p.end_on == until && p.paid_state != "unpaid")
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
                &record::to_period(last, &pcat.code),
                renewal_basis(&pcat),
            );
            let r = open
                .into_iter()
                .find(|r| r.kind == KIND_RENEWAL && r.period_start == start);
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
            let r = open.into_iter().find(|r| r.kind == KIND_REINSTATEMENT);
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
pub async fn own_offer(
    db: &DatabaseConnection,
    actor: &Actor,
    number: i64,
    as_of: NaiveDate,
) -> Result<OwnOffer, AppError> {
    let m = crate::service::members::portal::reachable_member(db, actor, number).await?;
    let h = record::history(db, m.id).await?;
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
pub async fn prepare_payment(
    db: &DatabaseConnection,
    actor: &Actor,
    number: i64,
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
pub async fn prepare_payment_by(
    db: &DatabaseConnection,
    actor: &Actor,
    number: i64,
    declared: bool,
    by: PayBy,
    saving_provider: Option<&str>,
    as_of: NaiveDate,
) -> Result<String, AppError> {
    let txn = crate::service::begin(db).await?;
    let m = crate::service::members::portal::reachable_member(&txn, actor, number).await?;
    let h = record::history(&txn, m.id).await?;
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
            KIND_RENEWAL,
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
            KIND_REINSTATEMENT,
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
            if kind == KIND_REINSTATEMENT {
                cancel_open(&txn, actor, m.id, "replaced by reinstatement").await?;
            }
            raise_one(&txn, actor, &m, &cat, kind, start, end, fee, extra).await?
        }
    };
    let plan = crate::service::instalments::live_for_renewal(&txn, r.id).await?;
    let r = match by {
        PayBy::Monthly => {
            if kind != KIND_RENEWAL {
                return Err(AppError::field("plan", "A reinstatement is paid in full"));
            }
            let Some(provider) = saving_provider else {
                return Err(AppError::Conflict(
                    "Paying monthly is not available at the moment.".into(),
                ));
            };
            crate::service::instalments::start(&txn, actor, &m, &r, &cat, None).await?;
            card_choice(&txn, actor, m.id, provider, true).await?;
            renewal::Entity::find_by_id(r.id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound)?
        }
        PayBy::InFull => match plan {
            Some(p) => {
                crate::service::instalments::revert(&txn, actor, &p, "paying in full instead")
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
            "renewal_declared",
            None,
            Some(json!({"declaration": DECLARATION, "period": {"start": r.period_start, "end": r.period_end}})),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(inv.number)
}

/// Raises one renewal (or reinstatement) and its invoice in the caller's transaction.
#[allow(clippy::too_many_arguments)]
async fn raise_one<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    m: &member::Model,
    cat: &category::Model,
    kind: &str,
    start: NaiveDate,
    end: NaiveDate,
    fee: Money,
    extra: Money,
) -> Result<renewal::Model, AppError> {
    let what = if kind == KIND_REINSTATEMENT {
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
    let key = if kind == KIND_REINSTATEMENT {
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
        &kind.replace('_', " "),
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
        status: Set(OPEN.into()),
        kind: Set(kind.into()),
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
        if kind == KIND_REINSTATEMENT {
            "reinstatement_invoiced"
        } else {
            "renewal_invoiced"
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

/// The day a suspension still in force began, if there is one.
pub(crate) async fn suspended_since<C: ConnectionTrait>(
    db: &C,
    member_id: Uuid,
) -> Result<Option<NaiveDate>, AppError> {
    let events = membership_event::Entity::find()
        .filter(membership_event::Column::MemberId.eq(member_id))
        .filter(membership_event::Column::Kind.is_in([
            record::EVENT_SUSPENDED,
            record::EVENT_SUSPENSION_LIFTED,
            EVENT_REINSTATED,
        ]))
        .order_by_asc(membership_event::Column::OnDate)
        .order_by_asc(membership_event::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(events
        .last()
        .filter(|e| e.kind == record::EVENT_SUSPENDED)
        .map(|e| e.on_date))
}

/// How a payment method is kept on a period.
fn how_paid(method: &str) -> &'static str {
    match method {
        "card" => "card",
        "cheque" => "cheque",
        "bank_transfer" => "bank_transfer",
        "direct_debit" => "direct_debit",
        _ => "imported",
    }
}

/// Invoices `paid` were just paid in full on `on` by `method`: each open renewal or reinstatement among
/// them gets its period (a reinstatement's from the day of payment), in the caller's transaction.
pub(crate) async fn complete_paid<C: ConnectionTrait>(
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
    let rows = renewal::Entity::find()
        .filter(renewal::Column::InvoiceId.is_in(paid.to_vec()))
        .filter(renewal::Column::Status.eq(OPEN))
        .all(db)
        .await?;
    for r in rows {
        let cat = category::Entity::find_by_id(r.category_id)
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?;
        let (start, end) = if r.kind == KIND_REINSTATEMENT && on > r.period_start {
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
            paid_state: Set("paid".into()),
            paid_on: Set(Some(on)),
            mandate_active: Set(false),
            how_paid: Set(how_paid(method).into()),
            created_at: Set(crate::service::now()),
            created_by: Set(actor.label.clone()),
        }
        .insert(db)
        .await?;
        tracked.apply(db).await?;
        if r.kind == KIND_REINSTATEMENT {
            record::add_event(
                db,
                actor,
                r.member_id,
                EVENT_REINSTATED,
                start,
                start,
                None,
                None,
            )
            .await?;
        } else if suspended_since(db, r.member_id).await?.is_some() {
            // Paying what the declined charges were for ends the suspension.
            record::add_event(
                db,
                actor,
                r.member_id,
                record::EVENT_SUSPENSION_LIFTED,
                on,
                on,
                None,
                Some("renewal paid".into()),
            )
            .await?;
        }
        let mut am: renewal::ActiveModel = r.clone().into();
        am.status = Set(PAID.into());
        am.period_id = Set(Some(pid));
        am.closed_at = Set(Some(crate::service::now()));
        am.update(db).await?;
        audit::record(
            db,
            actor,
            "member",
            m.id,
            if r.kind == KIND_REINSTATEMENT {
                "reinstated"
            } else {
                "renewed"
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
        .filter(renewal::Column::Status.eq(OPEN))
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
        am.status = Set(CANCELLED.into());
        am.closed_at = Set(Some(crate::service::now()));
        am.update(db).await?;
        audit::record(
            db,
            actor,
            "member",
            member_id,
            "renewal_cancelled",
            Some(json!({"status": OPEN, "period": {"start": r.period_start, "end": r.period_end}})),
            Some(json!({"status": CANCELLED, "reason": reason, "credit_note": credit})),
        )
        .await?;
        n += 1;
    }
    crate::service::instalments::cancel_for_member(db, actor, member_id, reason).await?;
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
        .filter(renewal::Column::Status.eq(OPEN))
        .filter(renewal::Column::Kind.eq(KIND_RENEWAL))
        .all(db)
        .await?;
    for r in rows {
        if new_cat.annual_fee_pence <= 0 {
            cancel_open(db, actor, m.id, "moved to a category without a fee").await?;
            continue;
        }
        // A monthly plan not yet started is for the old fee: the new fee is invoiced in full.
        if let Some(p) = crate::service::instalments::live_for_renewal(db, r.id).await? {
            crate::service::instalments::cancel_for_renewal(db, actor, &p, "category changed")
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
            "renewal_repriced",
            Some(json!({"amount": Money::from_pence(r.amount_pence).to_string()})),
            Some(
                json!({"amount": fee.to_string(), "invoice": inv.number, "category": new_cat.name}),
            ),
        )
        .await?;
    }
    Ok(())
}

/// What the daily job did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DailyReport {
    pub renewals: RunReport,
    pub reminders: u64,
    pub grace: u64,
    pub lapsed: u64,
    pub auto_renew: AutoRenewReport,
    pub instalments: crate::service::instalments::CollectReport,
}

impl DailyReport {
    /// In words, for the jobs page and the command line.
    pub fn summary(&self) -> String {
        format!(
            "{} renewals raised ({} due, {} raised before); {} reminders sent; {} members into grace; {} members lapsed; automatic renewal: {} notices, {} charged, {} declined, {} suspended; monthly instalments: {} charged, {} declined, {} suspended",
            self.renewals.raised,
            self.renewals.due,
            self.renewals.already,
            self.reminders,
            self.grace,
            self.lapsed,
            self.auto_renew.notices,
            self.auto_renew.charged,
            self.auto_renew.declined,
            self.auto_renew.suspended,
            self.instalments.charged,
            self.instalments.declined,
            self.instalments.suspended
        )
    }
}

/// The daily job as of `as_of`: the renewal run, then automatic renewals (notices and charges through
/// `provider`, when there is one), reminders, then grace and lapse messages. `progress(step, done,
/// total)` is called as it goes. Running it twice on a day sends nothing twice.
pub async fn daily(
    db: &DatabaseConnection,
    actor: &Actor,
    as_of: NaiveDate,
    provider: Option<&dyn PaymentProvider>,
    mut progress: impl FnMut(&str, u64, u64),
) -> Result<DailyReport, AppError> {
    actor.require(Permission::EditMembers)?;
    let renewals = renewals::run(db, actor, as_of, WINDOW_DAYS, |d, t| {
        progress("renewals", d, t)
    })
    .await?;
    progress("automatic renewals", 0, 0);
    let auto_renew = match provider {
        Some(p) => auto_renewals(db, actor, as_of, p).await?,
        None => AutoRenewReport::default(),
    };
    progress("monthly instalments", 0, 0);
    let instalments = match provider {
        Some(p) => crate::service::instalments::collect(db, actor, as_of, p).await?,
        None => Default::default(),
    };
    progress("reminders", 0, 0);
    let reminders = reminders(db, actor, as_of).await?;
    progress("grace and lapse", 0, 0);
    let (grace, lapsed) = grace_and_lapse(db, actor, as_of).await?;
    crate::service::events::publish(db, crate::service::events::Topic::Members).await;
    crate::service::events::publish(db, crate::service::events::Topic::Payments).await;
    Ok(DailyReport {
        renewals,
        reminders,
        grace,
        lapsed,
        auto_renew,
        instalments,
    })
}

/// Members who resigned or were removed (their renewals are cancelled; this guards the rest).
pub(crate) async fn ended_members<C: ConnectionTrait>(db: &C) -> Result<HashSet<Uuid>, AppError> {
    Ok(membership_event::Entity::find()
        .select_only()
        .column(membership_event::Column::MemberId)
        .filter(membership_event::Column::Kind.is_in(["resigned", "removed"]))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

async fn sent_keys<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<HashSet<(Uuid, String)>, AppError> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(500) {
        for (m, k) in notice::Entity::find()
            .select_only()
            .column(notice::Column::MemberId)
            .column(notice::Column::Key)
            .filter(notice::Column::MemberId.is_in(chunk.to_vec()))
            .into_tuple::<(Uuid, String)>()
            .all(db)
            .await?
        {
            out.insert((m, k));
        }
    }
    Ok(out)
}

fn notice_row(member_id: Uuid, key: String, on: NaiveDate) -> notice::ActiveModel {
    notice::ActiveModel {
        id: Set(crate::service::new_id()),
        member_id: Set(member_id),
        key: Set(key),
        sent_on: Set(on),
        created_at: Set(crate::service::now()),
    }
}

/// The notices, audit entries and messages of one batch, written together.
#[derive(Default)]
struct Writes {
    notices: Vec<notice::ActiveModel>,
    audits: Vec<audit_log::ActiveModel>,
    mails: Vec<outbox_message::ActiveModel>,
}

impl Writes {
    fn is_empty(&self) -> bool {
        self.notices.is_empty()
    }

    async fn commit(self, db: &DatabaseConnection) -> Result<(), AppError> {
        if self.is_empty() {
            return Ok(());
        }
        let txn = crate::service::begin(db).await?;
        self.insert(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    async fn insert<C: ConnectionTrait>(self, txn: &C) -> Result<(), AppError> {
        // The notices first: a job racing this one makes the batch fail whole.
        crate::service::insert_rows(txn, self.notices).await?;
        crate::service::insert_rows(txn, self.audits).await?;
        crate::service::insert_rows(txn, self.mails).await?;
        Ok(())
    }
}

/// The key of reminder `offset` for the period starting `start`.
pub fn reminder_key(offset: i64, start: NaiveDate) -> String {
    format!("reminder:{offset}:{start}")
}

/// The notices an invitation sent on `as_of` stands for: every reminder already reached, so that the
/// first reminder comes at the next offset.
pub fn reached_offsets(offsets: &[i64], ends: NaiveDate, as_of: NaiveDate) -> Vec<i64> {
    offsets
        .iter()
        .copied()
        .filter(|o| ends + Duration::days(*o) <= as_of)
        .collect()
}

fn mail_allowed(m: &member::Model) -> bool {
    m.pseudonymised_at.is_none() && !m.stop_all_mail && !m.email.is_empty()
}

/// Sends the reminders due on `as_of` for open renewals: for each, the latest offset reached, once
/// (offsets passed before are marked as covered, never sent late in a burst).
async fn reminders(
    db: &DatabaseConnection,
    actor: &Actor,
    as_of: NaiveDate,
) -> Result<u64, AppError> {
    let offsets = offsets(db).await?;
    let Some(&first) = offsets.first() else {
        return Ok(0);
    };
    // A reminder is reached when ends + offset <= as_of, with ends = period_start - 1.
    let latest_start = as_of - Duration::days(first) + Duration::days(1);
    let open = renewal::Entity::find()
        .filter(renewal::Column::Status.eq(OPEN))
        .filter(renewal::Column::Kind.eq(KIND_RENEWAL))
        .filter(renewal::Column::PeriodStart.lte(latest_start))
        .order_by_asc(renewal::Column::PeriodStart)
        .all(db)
        .await?;
    if open.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = open.iter().map(|r| r.member_id).collect();
    let sent = sent_keys(db, &ids).await?;
    let ended = ended_members(db).await?;
    // Members renewing automatically get the advance notice instead (and, if a charge is declined, the
    // dunning messages).
    let automatic: HashSet<Uuid> = saved_card::Entity::find()
        .select_only()
        .column(saved_card::Column::MemberId)
        .filter(saved_card::Column::AutoRenew.eq(true))
        .filter(saved_card::Column::Token.ne(""))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let categories = crate::service::categories::by_id(db).await?;
    let base_url = templates::default_base_url();
    let mut count = 0;
    for batch in open.chunks(BATCH) {
        let mids: Vec<Uuid> = batch.iter().map(|r| r.member_id).collect();
        let members: HashMap<Uuid, member::Model> = member::Entity::find()
            .filter(member::Column::Id.is_in(mids))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let inv_ids: Vec<Uuid> = batch.iter().filter_map(|r| r.invoice_id).collect();
        let invoices: HashMap<Uuid, document::Model> = document::Entity::find()
            .filter(document::Column::Id.is_in(inv_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
        let mut w = Writes::default();
        for r in batch {
            let (Some(m), Some(inv)) = (
                members.get(&r.member_id),
                r.invoice_id.and_then(|i| invoices.get(&i)),
            ) else {
                continue;
            };
            if ended.contains(&m.id) || inv.outstanding_pence <= 0 || automatic.contains(&m.id) {
                continue;
            }
            let ends = r.period_start - Duration::days(1);
            let grace = categories.get(&r.category_id).map(grace_of).unwrap_or(30);
            let reached: Vec<i64> = reached_offsets(&offsets, ends, as_of)
                .into_iter()
                .filter(|o| *o <= i64::from(grace))
                .collect();
            let Some(&latest) = reached.last() else {
                continue;
            };
            if sent.contains(&(m.id, reminder_key(latest, r.period_start))) {
                continue;
            }
            for o in &reached {
                let key = reminder_key(*o, r.period_start);
                if !sent.contains(&(m.id, key.clone())) {
                    w.notices.push(notice_row(m.id, key, as_of));
                }
            }
            let grace_ends = ends + Duration::days(i64::from(grace));
            let when = match latest {
                o if o < 0 => format!(
                    "Your membership ends on {}, in {} days.",
                    ends.format("%-d %B %Y"),
                    -o
                ),
                0 => "Your membership ends today.".to_owned(),
                _ => format!(
                    "Your membership ended on {}. You are still a member until {} while you renew; after that your membership lapses.",
                    ends.format("%-d %B %Y"),
                    grace_ends.format("%-d %B %Y")
                ),
            };
            w.audits.push(audit::row(
                actor,
                "member",
                m.id,
                "renewal_reminder",
                None,
                Some(json!({"offset_days": latest, "invoice": inv.number, "as_of": as_of})),
            ));
            if mail_allowed(m) {
                let greet = crate::service::money::greeting(m);
                let (_, mail) = outbox::row(NewMessage {
                    template: "renewal_reminder",
                    to_address: &m.email,
                    to_name: Some(&greet),
                    user_id: m.user_id,
                    member_id: Some(m.id),
                    context: json!({
                        "given_name": greet.clone(),
                        "number": MembershipNumber::text_of(m.membership_number),
                        "when": when,
                        "amount": Money::from_pence(inv.outstanding_pence).to_string(),
                        "invoice": inv.number,
                        "renew_url": format!("{base_url}/portal/renew"),
                        "base_url": base_url,
                    }),
                    link: None,
                })?;
                w.mails.push(mail);
            }
            count += 1;
        }
        w.commit(db).await?;
    }
    Ok(count)
}

/// Messages members whose paid membership has ended: once on entering grace, once on lapsing (which also
/// cancels the unpaid renewal). Answers (into grace, lapsed).
async fn grace_and_lapse(
    db: &DatabaseConnection,
    actor: &Actor,
    as_of: NaiveDate,
) -> Result<(u64, u64), AppError> {
    let categories = crate::service::categories::by_id(db).await?;
    let max_grace = categories
        .values()
        .map(|c| i64::from(grace_of(c)))
        .max()
        .unwrap_or(30);
    let earliest = as_of - Duration::days(max_grace + LAPSE_MESSAGE_DAYS + 1);
    // Members whose last paid period ended before today, recently enough to matter.
    let latest: Vec<(Uuid, Option<NaiveDate>)> = period::Entity::find()
        .select_only()
        .column(period::Column::MemberId)
        .column_as(period::Column::EndOn.max(), "last_end")
        .filter(period::Column::PaidState.ne("unpaid"))
        .group_by(period::Column::MemberId)
        .having(period::Column::EndOn.max().gte(earliest))
        .having(period::Column::EndOn.max().lt(as_of))
        .into_tuple()
        .all(db)
        .await?;
    let ids: Vec<Uuid> = latest.into_iter().map(|(m, _)| m).collect();
    if ids.is_empty() {
        return Ok((0, 0));
    }
    let sent = sent_keys(db, &ids).await?;
    let base_url = templates::default_base_url();
    let (mut graced, mut lapsed) = (0, 0);
    for chunk in ids.chunks(BATCH) {
        let members = member::Entity::find()
            .filter(member::Column::Id.is_in(chunk.to_vec()))
            .filter(member::Column::PseudonymisedAt.is_null())
            .all(db)
            .await?;
        let mut periods: HashMap<Uuid, Vec<period::Model>> = HashMap::new();
        for p in period::Entity::find()
            .filter(period::Column::MemberId.is_in(chunk.to_vec()))
            .order_by_asc(period::Column::StartOn)
            .all(db)
            .await?
        {
            periods.entry(p.member_id).or_default().push(p);
        }
        let mut events: HashMap<Uuid, Vec<membership_event::Model>> = HashMap::new();
        for e in membership_event::Entity::find()
            .filter(membership_event::Column::MemberId.is_in(chunk.to_vec()))
            .order_by_asc(membership_event::Column::OnDate)
            .all(db)
            .await?
        {
            events.entry(e.member_id).or_default().push(e);
        }
        let mut w = Writes::default();
        let mut lapsing = Vec::new();
        for m in members {
            let Some(cat) = categories.get(&m.category_id) else {
                continue;
            };
            let h = History {
                periods: periods.remove(&m.id).unwrap_or_default(),
                events: events.remove(&m.id).unwrap_or_default(),
                categories: categories.clone(),
            };
            let s = h.status(grace_of(cat), as_of);
            let Some(until) = s.member_until else {
                continue;
            };
            let (key, template, action) = match s.status {
                Status::Grace => (
                    format!("grace:{until}"),
                    "membership_grace",
                    "grace_started",
                ),
                Status::Lapsed
                    if s.lapsed_since
                        .is_some_and(|l| l >= as_of - Duration::days(LAPSE_MESSAGE_DAYS)) =>
                {
                    (format!("lapsed:{until}"), "membership_lapsed", "lapsed")
                }
                _ => continue,
            };
            if sent.contains(&(m.id, key.clone())) {
                continue;
            }
            w.notices.push(notice_row(m.id, key, as_of));
            let fee = Money::from_pence(cat.annual_fee_pence);
            let reinstatement =
                Money::from_pence(std::cmp::Ord::max(cat.reinstatement_fee_pence, 0));
            let detail = match s.status {
                Status::Grace => json!({"ended": until, "grace_ends": s.grace_ends}),
                _ => json!({"ended": until, "lapsed_since": s.lapsed_since}),
            };
            w.audits.push(audit::row(
                actor,
                "member",
                m.id,
                action,
                Some(json!({"status": if s.status == Status::Grace { "Active" } else { "In grace" }})),
                Some(json!({"status": s.status.label(), "detail": detail, "as_of": as_of})),
            ));
            if s.status == Status::Grace {
                graced += 1;
            } else {
                lapsed += 1;
                lapsing.push(m.id);
            }
            if mail_allowed(&m) {
                let greet = crate::service::money::greeting(&m);
                let deadline = s
                    .lapsed_since
                    .and_then(|l| l.checked_add_months(Months::new(REINSTATE_MONTHS)));
                let (_, mail) = outbox::row(NewMessage {
                    template,
                    to_address: &m.email,
                    to_name: Some(&greet),
                    user_id: m.user_id,
                    member_id: Some(m.id),
                    context: json!({
                        "given_name": greet.clone(),
                        "number": MembershipNumber::text_of(m.membership_number),
                        "ended": until.format("%-d %B %Y").to_string(),
                        "grace_ends": s.grace_ends.map(|d| d.format("%-d %B %Y").to_string()).unwrap_or_default(),
                        "lapsed_since": s.lapsed_since.map(|d| d.format("%-d %B %Y").to_string()).unwrap_or_default(),
                        "deadline": deadline.map(|d| d.format("%-d %B %Y").to_string()).unwrap_or_default(),
                        "fee": fee.to_string(),
                        "reinstatement_fee": reinstatement.to_string(),
                        "renew_url": format!("{base_url}/portal/renew"),
                        "base_url": base_url,
                    }),
                    link: None,
                })?;
                w.mails.push(mail);
            }
        }
        if w.is_empty() {
            continue;
        }
        // Lapsing cancels the unpaid renewal (credited): the member now reinstates instead.
        let txn = crate::service::begin(db).await?;
        for id in &lapsing {
            cancel_open(&txn, actor, *id, "membership lapsed").await?;
        }
        w.insert(&txn).await?;
        txn.commit().await?;
    }
    Ok((graced, lapsed))
}

/// Charges of a saved card tried before the membership is suspended.
pub const MAX_CHARGE_ATTEMPTS: i32 = 3;
/// Days between a declined charge and the next try.
pub const RETRY_DAYS: i64 = 3;
/// Working days' notice before each automatic charge.
pub const NOTICE_WORKING_DAYS: i32 = 10;

/// What automatic renewal did in a daily run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoRenewReport {
    pub notices: u64,
    pub charged: u64,
    pub declined: u64,
    pub suspended: u64,
}

/// A member's automatic renewal as the portal shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoRenew {
    /// Whether the provider in use can save cards.
    pub available: bool,
    pub on: bool,
    /// "Card ending 4242" once a card is saved.
    pub card: Option<String>,
    /// The next charge: day and amount, once the notice is sent.
    pub next_charge: Option<(NaiveDate, Money)>,
    /// Declined charges of the open renewal so far.
    pub failures: i32,
}

/// The automatic renewal of member `member_id`.
pub async fn auto_renew<C: ConnectionTrait>(
    db: &C,
    member_id: Uuid,
    provider: &dyn PaymentProvider,
) -> Result<AutoRenew, AppError> {
    let card = saved_card::Entity::find()
        .filter(saved_card::Column::MemberId.eq(member_id))
        .one(db)
        .await?;
    let open = renewal::Entity::find()
        .filter(renewal::Column::MemberId.eq(member_id))
        .filter(renewal::Column::Status.eq(OPEN))
        .filter(renewal::Column::Kind.eq(KIND_RENEWAL))
        .one(db)
        .await?;
    let on = card.as_ref().is_some_and(|c| c.auto_renew);
    Ok(AutoRenew {
        available: provider.saves_cards(),
        on,
        card: card
            .as_ref()
            .filter(|c| !c.token.is_empty())
            .map(|c| c.label.clone()),
        next_charge: open.as_ref().filter(|_| on).and_then(|r| {
            r.next_charge_on
                .map(|d| (d, Money::from_pence(r.amount_pence)))
        }),
        failures: open.map(|r| r.charge_attempts).unwrap_or(0),
    })
}

/// A member turns automatic renewal of membership `number` on or off. Turning it on with no card saved
/// yet saves the next card they pay with.
pub async fn set_auto_renew(
    db: &DatabaseConnection,
    actor: &Actor,
    number: i64,
    on: bool,
    provider: &dyn PaymentProvider,
) -> Result<(), AppError> {
    if on && !provider.saves_cards() {
        return Err(AppError::Conflict(
            "Automatic renewal is not available at the moment.".into(),
        ));
    }
    let txn = crate::service::begin(db).await?;
    let m = crate::service::members::portal::reachable_member(&txn, actor, number).await?;
    let now = crate::service::now();
    let existing = saved_card::Entity::find()
        .filter(saved_card::Column::MemberId.eq(m.id))
        .one(&txn)
        .await?;
    let before = existing.as_ref().is_some_and(|c| c.auto_renew);
    match existing {
        Some(c) => {
            let mut am: saved_card::ActiveModel = c.into();
            am.auto_renew = Set(on);
            am.updated_at = Set(now);
            am.update(&txn).await?;
        }
        None => {
            saved_card::ActiveModel {
                id: Set(crate::service::new_id()),
                member_id: Set(m.id),
                provider: Set(provider.name().to_owned()),
                token: Set(String::new()),
                label: Set(String::new()),
                auto_renew: Set(on),
                monthly: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
    }
    if !on {
        // Monthly payments not yet started go back to one annual invoice the member pays themselves;
        // a plan already under way carries on for this year.
        for r in renewal::Entity::find()
            .filter(renewal::Column::MemberId.eq(m.id))
            .filter(renewal::Column::Status.eq(OPEN))
            .all(&txn)
            .await?
        {
            if let Some(p) = crate::service::instalments::live_for_renewal(&txn, r.id).await? {
                crate::service::instalments::revert(
                    &txn,
                    actor,
                    &p,
                    "automatic renewal turned off",
                )
                .await?;
            }
        }
        saved_card::Entity::update_many()
            .col_expr(
                saved_card::Column::Monthly,
                sea_orm::sea_query::Expr::value(false),
            )
            .filter(saved_card::Column::MemberId.eq(m.id))
            .exec(&txn)
            .await?;
        // A charge already announced is not taken.
        renewal::Entity::update_many()
            .col_expr(
                renewal::Column::NextChargeOn,
                sea_orm::sea_query::Expr::value(Option::<NaiveDate>::None),
            )
            .filter(renewal::Column::MemberId.eq(m.id))
            .filter(renewal::Column::Status.eq(OPEN))
            .exec(&txn)
            .await?;
    }
    audit::record(
        &txn,
        actor,
        "member",
        m.id,
        "auto_renew_changed",
        Some(json!({"auto_renew": before})),
        Some(json!({"auto_renew": on})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The member chose to pay monthly (`true`: automatic renewal on, by instalments, saving the next card
/// they pay with) or in full (`false`: an existing choice of monthly payments is dropped). In the
/// caller's transaction.
async fn card_choice<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    member_id: Uuid,
    provider: &str,
    monthly: bool,
) -> Result<(), AppError> {
    let now = crate::service::now();
    let existing = saved_card::Entity::find()
        .filter(saved_card::Column::MemberId.eq(member_id))
        .one(db)
        .await?;
    let before = existing
        .as_ref()
        .map(|c| json!({"auto_renew": c.auto_renew, "monthly": c.monthly}));
    match existing {
        Some(c) if c.monthly == monthly && (c.auto_renew || !monthly) => return Ok(()),
        Some(c) => {
            let mut am: saved_card::ActiveModel = c.into();
            am.monthly = Set(monthly);
            if monthly {
                am.auto_renew = Set(true);
            }
            am.updated_at = Set(now);
            am.update(db).await?;
        }
        None if !monthly => return Ok(()),
        None => {
            saved_card::ActiveModel {
                id: Set(crate::service::new_id()),
                member_id: Set(member_id),
                provider: Set(provider.to_owned()),
                token: Set(String::new()),
                label: Set(String::new()),
                auto_renew: Set(true),
                monthly: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
        }
    }
    audit::record(
        db,
        actor,
        "member",
        member_id,
        "payment_choice_changed",
        before,
        Some(json!({"monthly": monthly, "auto_renew": monthly})),
    )
    .await?;
    Ok(())
}

/// How the member recognises a saved card: the sandbox's tokens end with the card's last four digits;
/// a Stripe customer (`cus_…`) keeps the card it last paid with, whose digits we are not told.
fn card_label(token: &str) -> String {
    if token.starts_with("cus_") {
        return "Card saved with our payment provider".into();
    }
    let last4 = token
        .char_indices()
        .rev()
        .nth(3)
        .map_or(token, |(i, _)| &token[i..]);
    format!("Card ending {last4}")
}

/// The member paid by card with `token` at `provider`: when they renew automatically, that card is the
/// one charged from now on. In the caller's transaction (the webhook's).
pub async fn card_used<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    member_id: Uuid,
    provider: &str,
    token: &str,
) -> Result<(), AppError> {
    let Some(c) = saved_card::Entity::find()
        .filter(saved_card::Column::MemberId.eq(member_id))
        .one(db)
        .await?
        .filter(|c| c.auto_renew)
    else {
        return Ok(());
    };
    if c.token == token && c.provider == provider {
        return Ok(());
    }
    let label = card_label(token);
    let before = c.label.clone();
    let mut am: saved_card::ActiveModel = c.into();
    am.provider = Set(provider.to_owned());
    am.token = Set(token.to_owned());
    am.label = Set(label.clone());
    am.updated_at = Set(crate::service::now());
    am.update(db).await?;
    // A renewal whose charges were declined is tried again with the new card at the next run.
    renewal::Entity::update_many()
        .col_expr(
            renewal::Column::NextChargeOn,
            sea_orm::sea_query::Expr::value(crate::service::today()),
        )
        .filter(renewal::Column::MemberId.eq(member_id))
        .filter(renewal::Column::Status.eq(OPEN))
        .filter(renewal::Column::ChargeAttempts.gt(0))
        .exec(db)
        .await?;
    audit::record(
        db,
        actor,
        "member",
        member_id,
        "card_saved",
        Some(json!({"card": before})),
        Some(json!({"card": label})),
    )
    .await?;
    Ok(())
}

/// Charges declined `attempts` times: the member is suspended from `on` (an event, an audit entry saying
/// `why`, and the `membership_suspended` message with where to pay), in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn suspend_for_declines<C: ConnectionTrait>(
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
    record::add_event(
        db,
        actor,
        m.id,
        record::EVENT_SUSPENDED,
        on,
        on,
        None,
        Some(detail.to_owned()),
    )
    .await?;
    audit::record(
        db,
        actor,
        "member",
        m.id,
        "suspended",
        None,
        Some(json!({"on": on, "why": why})),
    )
    .await?;
    crate::service::money::notify(
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

/// Sends the advance notices due and takes the charges due for members renewing automatically.
async fn auto_renewals(
    db: &DatabaseConnection,
    actor: &Actor,
    as_of: NaiveDate,
    provider: &dyn PaymentProvider,
) -> Result<AutoRenewReport, AppError> {
    let mut report = AutoRenewReport::default();
    if !provider.saves_cards() {
        return Ok(report);
    }
    let cal = calendar(db).await?;
    let base_url = templates::default_base_url();
    let cards = saved_card::Entity::find()
        .filter(saved_card::Column::AutoRenew.eq(true))
        .filter(saved_card::Column::Token.ne(""))
        .filter(saved_card::Column::Provider.eq(provider.name()))
        .all(db)
        .await?;
    let ended = ended_members(db).await?;
    for card in cards {
        if ended.contains(&card.member_id) {
            continue;
        }
        let Some(r) = renewal::Entity::find()
            .filter(renewal::Column::MemberId.eq(card.member_id))
            .filter(renewal::Column::Status.eq(OPEN))
            .filter(renewal::Column::Kind.eq(KIND_RENEWAL))
            .one(db)
            .await?
        else {
            continue;
        };
        let Some(m) = member::Entity::find_by_id(card.member_id)
            .one(db)
            .await?
            .filter(|m| m.pseudonymised_at.is_none())
        else {
            continue;
        };
        let Some(inv) = match r.invoice_id {
            Some(id) => document::Entity::find_by_id(id).one(db).await?,
            None => None,
        }
        .filter(|i| i.outstanding_pence > 0) else {
            continue;
        };
        let amount = Money::from_pence(inv.outstanding_pence);
        let notice_key = format!("autorenew-notice:{}", r.period_start);
        let noticed = notice::Entity::find()
            .filter(notice::Column::MemberId.eq(m.id))
            .filter(notice::Column::Key.eq(notice_key.clone()))
            .one(db)
            .await?
            .is_some();
        if !noticed {
            // The notice goes 10 working days before the renewal date; if that day has passed (the
            // member turned it on late), the charge moves so that the notice is still 10 working days
            // ahead of it.
            let notice_by = cal.add_working_days(r.period_start, -NOTICE_WORKING_DAYS);
            if as_of < notice_by {
                continue;
            }
            let charge_on = std::cmp::Ord::max(
                r.period_start,
                cal.add_working_days(as_of, NOTICE_WORKING_DAYS),
            );
            let txn = crate::service::begin(db).await?;
            notice::Entity::insert(notice_row(m.id, notice_key, as_of))
                .exec_without_returning(&txn)
                .await?;
            let cat = category::Entity::find_by_id(r.category_id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound)?;
            if card.monthly && crate::service::instalments::allowed(&cat) {
                // A member paying monthly renews onto a new plan: instalment 1 on the renewal date.
                let plan =
                    crate::service::instalments::start(&txn, actor, &m, &r, &cat, Some(charge_on))
                        .await?;
                let first = Money::from_pence(plan.first_pence);
                let regular = Money::from_pence(plan.regular_pence);
                audit::record(
                    &txn,
                    actor,
                    "member",
                    m.id,
                    "auto_renew_notice",
                    None,
                    Some(json!({"charge_on": charge_on, "first": first.to_string(), "regular": regular.to_string(), "instalments": plan.count, "card": card.label})),
                )
                .await?;
                crate::service::money::notify(
                    &txn,
                    &m,
                    "instalment_plan_notice",
                    json!({
                        "number": MembershipNumber::text_of(m.membership_number),
                        "count": plan.count,
                        "first": first.to_string(),
                        "regular": regular.to_string(),
                        "total": Money::from_pence(plan.total_pence).to_string(),
                        "charge_on": charge_on.format("%-d %B %Y").to_string(),
                        "second_on": crate::service::instalments::due_on(r.period_start, 2).format("%-d %B %Y").to_string(),
                        "last_on": crate::service::instalments::due_on(r.period_start, i32::from(plan.count)).format("%-d %B %Y").to_string(),
                        "card": card.label,
                        "starts": r.period_start.format("%-d %B %Y").to_string(),
                        "new_end": r.period_end.format("%-d %B %Y").to_string(),
                        "manage_url": format!("{base_url}/portal/renew"),
                        "base_url": base_url,
                    }),
                )
                .await?;
                txn.commit().await?;
                report.notices += 1;
                continue;
            }
            let mut am: renewal::ActiveModel = r.clone().into();
            am.next_charge_on = Set(Some(charge_on));
            am.update(&txn).await?;
            audit::record(
                &txn,
                actor,
                "member",
                m.id,
                "auto_renew_notice",
                None,
                Some(json!({"charge_on": charge_on, "amount": amount.to_string(), "card": card.label})),
            )
            .await?;
            crate::service::money::notify(
                &txn,
                &m,
                "auto_renew_notice",
                json!({
                    "number": MembershipNumber::text_of(m.membership_number),
                    "amount": amount.to_string(),
                    "charge_on": charge_on.format("%-d %B %Y").to_string(),
                    "card": card.label,
                    "starts": r.period_start.format("%-d %B %Y").to_string(),
                    "new_end": r.period_end.format("%-d %B %Y").to_string(),
                    "manage_url": format!("{base_url}/portal/renew"),
                    "base_url": base_url,
                }),
            )
            .await?;
            txn.commit().await?;
            report.notices += 1;
            continue;
        }
        let Some(due) = r.next_charge_on.filter(|d| *d <= as_of) else {
            continue;
        };
        if crate::service::instalments::live_for_renewal(db, r.id)
            .await?
            .is_some()
        {
            // Its instalments are collected by `instalments::collect`.
            continue;
        }
        let attempt = r.charge_attempts + 1;
        let key = format!("renewal-charge:{}:{attempt}", r.id);
        let description = format!("{} {}", inv.number, inv.description);
        match provider
            .charge_saved(&card.token, amount, &description, &key)
            .await
        {
            Ok(reference) => {
                let txn = crate::service::begin(db).await?;
                crate::service::money::receive(
                    &txn,
                    actor,
                    crate::service::money::Incoming {
                        member: &m,
                        method: "card",
                        provider: Some(provider.name()),
                        reference: &reference,
                        amount,
                        received_on: as_of,
                        invoice_id: Some(inv.id),
                        key: format!("{}:payment:{reference}", provider.name()),
                        base_url,
                    },
                )
                .await?;
                txn.commit().await?;
                report.charged += 1;
            }
            Err(ChargeError::Unavailable(e)) => {
                tracing::warn!(error = %e, member = %m.id, "automatic renewal charge not tried");
            }
            Err(ChargeError::Declined(message)) => {
                let txn = crate::service::begin(db).await?;
                let mut am: renewal::ActiveModel = r.clone().into();
                am.charge_attempts = Set(attempt);
                let suspend = attempt >= MAX_CHARGE_ATTEMPTS;
                let retry_on = as_of + Duration::days(RETRY_DAYS);
                am.next_charge_on = Set((!suspend).then_some(retry_on));
                am.update(&txn).await?;
                audit::record(
                    &txn,
                    actor,
                    "member",
                    m.id,
                    "auto_renew_declined",
                    None,
                    Some(json!({"attempt": attempt, "of": MAX_CHARGE_ATTEMPTS, "message": message, "due": due})),
                )
                .await?;
                let pay_url = format!("{base_url}/portal/renew");
                if suspend {
                    suspend_for_declines(
                        &txn,
                        actor,
                        &m,
                        as_of,
                        attempt,
                        amount,
                        &format!("automatic renewal declined {attempt} times"),
                        "automatic renewal declined",
                        &pay_url,
                    )
                    .await?;
                    report.suspended += 1;
                } else {
                    crate::service::money::notify(
                        &txn,
                        &m,
                        "auto_renew_failed",
                        json!({
                            "number": MembershipNumber::text_of(m.membership_number),
                            "amount": amount.to_string(),
                            "message": message,
                            "attempt": attempt,
                            "of": MAX_CHARGE_ATTEMPTS,
                            "retry_on": retry_on.format("%-d %B %Y").to_string(),
                            "card": card.label,
                            "pay_url": pay_url,
                            "base_url": base_url,
                        }),
                    )
                    .await?;
                }
                txn.commit().await?;
                report.declined += 1;
            }
        }
    }
    Ok(report)
}

/// The setting holding extra bank holidays (one `YYYY-MM-DD` a line), on top of the shipped ones.
pub const HOLIDAYS_SETTING: &str = "extra_bank_holidays";

/// The renewal settings as typed on the settings page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenewalSettings {
    pub reminder_offsets: String,
    pub extra_holidays: String,
}

/// Reads extra bank holidays as typed: one date a line (`YYYY-MM-DD`), blank lines ignored.
pub fn parse_holidays(text: &str) -> Result<Vec<NaiveDate>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let d = NaiveDate::parse_from_str(line, "%Y-%m-%d")
            .map_err(|_| format!("“{line}” is not a date written as 2027-06-04"))?;
        out.push(d);
    }
    if out.len() > 200 {
        return Err("Enter at most 200 extra bank holidays".into());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The working-day calendar: the shipped England and Wales bank holidays and the extra ones in the
/// settings.
pub async fn calendar<C: ConnectionTrait>(db: &C) -> Result<Calendar, AppError> {
    let s = setting::Entity::find_by_id(HOLIDAYS_SETTING)
        .one(db)
        .await?;
    Ok(Calendar::with_extra(
        s.and_then(|s| parse_holidays(&s.value).ok())
            .unwrap_or_default(),
    ))
}

/// The renewal settings now.
pub async fn renewal_settings<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> Result<RenewalSettings, AppError> {
    actor.require(Permission::ManageSettings)?;
    let holidays = setting::Entity::find_by_id(HOLIDAYS_SETTING)
        .one(db)
        .await?
        .map(|s| s.value)
        .unwrap_or_default();
    Ok(RenewalSettings {
        reminder_offsets: offsets(db)
            .await?
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        extra_holidays: holidays,
    })
}

/// Admins change the reminder days and the extra bank holidays. Audited.
pub async fn update_renewal_settings(
    db: &DatabaseConnection,
    actor: &Actor,
    reminder_offsets: &str,
    extra_holidays: &str,
) -> Result<(), AppError> {
    use sea_orm::sea_query::OnConflict;
    actor.require(Permission::ManageSettings)?;
    let mut errors = crate::domain::FieldErrors::new();
    let offsets = parse_offsets(reminder_offsets)
        .map_err(|e| errors.add("reminder_offsets", e))
        .ok();
    let holidays = parse_holidays(extra_holidays)
        .map_err(|e| errors.add("extra_holidays", e))
        .ok();
    errors.into_result()?;
    let (Some(offsets), Some(holidays)) = (offsets, holidays) else {
        return Err(AppError::internal(
            "settings parsed without errors but empty",
        ));
    };
    let offsets_text = offsets
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let holidays_text = holidays
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let txn = crate::service::begin(db).await?;
    let before = renewal_settings(&txn, actor).await?;
    let now = crate::service::now();
    for (k, v) in [
        (OFFSETS_SETTING, &offsets_text),
        (HOLIDAYS_SETTING, &holidays_text),
    ] {
        setting::Entity::insert(setting::ActiveModel {
            key: Set(k.to_owned()),
            value: Set(v.clone()),
            updated_at: Set(Some(now)),
            updated_by: Set(Some(actor.label.clone())),
        })
        .on_conflict(
            OnConflict::column(setting::Column::Key)
                .update_columns([
                    setting::Column::Value,
                    setting::Column::UpdatedAt,
                    setting::Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    let (b, a) = audit::diff(
        &json!({"reminder_offsets": before.reminder_offsets, "extra_bank_holidays": before.extra_holidays}),
        &json!({"reminder_offsets": offsets_text, "extra_bank_holidays": holidays_text}),
    );
    audit::record(
        &txn,
        actor,
        "settings",
        "renewals",
        "changed",
        Some(b),
        Some(a),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
