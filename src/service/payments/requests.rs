//! Refunds, manual invoices, credit notes and write-offs need a second person: one staff member raises
//! the request with a reason, and it is carried out only when a *different* supervisor or finance user
//! authorises it. The rule is enforced here, whatever the screens show. Large cheques and transfers,
//! and those settling another member's invoice, wait here too (raised by `manual`, carried out by it).

use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::payments::{self as pay, REQUEST_KINDS};
use crate::domain::{Actor, AppError, FieldErrors, Permission};
use crate::entity::audit_log::AuditAction;
use crate::entity::document::DocumentKind;
use crate::entity::money_request::{RefundStatus, RequestStatus};
use crate::entity::payment::Direction;
use crate::entity::{document, member, money_request, payment};
use crate::service::audit;
use crate::service::money::{self, issue_invoice};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

/// A request as typed by staff.
#[derive(Clone, Debug, Default)]
pub struct RequestInput {
    pub kind: String,
    pub amount: String,
    pub reason: String,
    /// Manual invoices: what it is for.
    pub description: String,
    /// Credit notes and write-offs: the invoice number.
    pub invoice: String,
    /// Refunds: the payment's id.
    pub payment: String,
}

/// Pending refunds of a payment, which a new one must leave room for.
async fn pending_refunds<C: ConnectionTrait>(db: &C, payment_id: Uuid) -> Result<i64, AppError> {
    Ok(money_request::Entity::find()
        .filter(money_request::Column::PaymentId.eq(payment_id))
        .filter(money_request::Column::Kind.eq("refund"))
        .filter(money_request::Column::Status.eq(RequestStatus::Pending))
        .all(db)
        .await?
        .iter()
        .map(|r| r.amount_pence)
        .sum())
}

/// Staff raise a request about member `member_id`.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %member_id))]
pub async fn raise(
    db: &DatabaseConnection,
    actor: &Actor,
    member_id: Uuid,
    input: &RequestInput,
) -> Result<money_request::Model, AppError> {
    actor.require(Permission::RaiseRequests)?;
    let uid = actor.user()?;
    let mut errors = FieldErrors::new();
    let kind = input.kind.trim();
    if !REQUEST_KINDS.iter().any(|(k, _)| *k == kind) {
        errors.add(
            "kind",
            "Choose a refund, manual invoice, credit note or write-off",
        );
    }
    let amount = errors.check("amount", Money::parse(&input.amount));
    if amount.is_some_and(|a| a.pence() == 0) {
        errors.add("amount", "Enter an amount more than £0.00");
    }
    let reason = input
        .reason
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if reason.chars().count() < 5 {
        errors.add("reason", "Say why, so the person authorising it can decide");
    } else if reason.chars().count() > 500 {
        errors.add("reason", "The reason must be 500 characters or fewer");
    }
    let description = input
        .description
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if kind == "manual_invoice" && description.is_empty() {
        errors.add("description", "Say what the invoice is for");
    } else if description.chars().count() > 200 {
        errors.add(
            "description",
            "The description must be 200 characters or fewer",
        );
    }
    errors.into_result()?;
    let Some(amount) = amount else {
        return Err(AppError::internal("request validated without an amount"));
    };
    let txn = crate::service::begin(db).await?;
    let m = member::Entity::find_by_id(member_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut invoice_id = None;
    let mut payment_id = None;
    match kind {
        "credit_note" | "write_off" => {
            let inv = document::Entity::find()
                .filter(document::Column::Number.eq(input.invoice.trim().to_uppercase()))
                .filter(document::Column::Kind.eq(DocumentKind::Invoice))
                .filter(document::Column::MemberId.eq(m.id))
                .one(&txn)
                .await?
                .ok_or_else(|| {
                    AppError::field(
                        "invoice",
                        "Enter the number of one of this member's invoices",
                    )
                })?;
            let limit = if kind == "write_off" {
                inv.outstanding_pence
            } else {
                inv.amount_pence
            };
            if amount.pence() > limit {
                return Err(AppError::field(
                    "amount",
                    format!(
                        "The amount must be no more than {} ({} of invoice {})",
                        Money::from_pence(limit),
                        if kind == "write_off" {
                            "what is outstanding"
                        } else {
                            "the total"
                        },
                        inv.number
                    ),
                ));
            }
            invoice_id = Some(inv.id);
        }
        "refund" => {
            let p = Uuid::parse_str(input.payment.trim())
                .ok()
                .map(payment::Entity::find_by_id);
            let p = match p {
                Some(q) => q.one(&txn).await?,
                None => None,
            }
            .filter(|p| p.member_id == m.id && p.direction == Direction::In)
            .ok_or_else(|| AppError::field("payment", "Choose one of this member's payments"))?;
            let room = p.amount_pence - p.refunded_pence - pending_refunds(&txn, p.id).await?;
            if amount.pence() > room {
                return Err(AppError::field(
                    "amount",
                    format!(
                        "The amount must be no more than {} (what is left of that payment after refunds)",
                        Money::from_pence(room.max(0))
                    ),
                ));
            }
            payment_id = Some(p.id);
        }
        _ => {}
    }
    let mut am = super::new_request(actor, uid, kind, m.id, amount, reason.clone());
    am.description = Set(description);
    am.invoice_id = Set(invoice_id);
    am.payment_id = Set(payment_id);
    let r = am.insert(&txn).await?;
    audit::record(
        &txn,
        actor,
        "member",
        m.id,
        AuditAction::RequestRaised,
        None,
        Some(json!({
            "request": r.id,
            "kind": kind,
            "amount": amount.to_string(),
            "reason": reason,
        })),
    )
    .await?;
    txn.commit().await?;
    crate::service::events::publish(db, crate::service::events::Topic::Requests).await;
    Ok(r)
}

/// A request as the worklist and the record show it.
#[derive(Clone, Debug)]
pub struct RequestRow {
    pub id: Uuid,
    pub kind: String,
    pub member_id: Uuid,
    pub membership_number: String,
    pub member_name: String,
    pub amount: Money,
    pub reason: String,
    pub description: String,
    pub what: String,
    pub status: RequestStatus,
    pub requested_by: String,
    pub requested_at: chrono::DateTime<chrono::Utc>,
    pub decided_by: Option<String>,
    pub result: Option<String>,
    pub provider_status: Option<RefundStatus>,
    /// Whether the caller may authorise it: they may authorise and did not raise it.
    pub can_decide: bool,
    /// The caller raised it (shown, so they know why they cannot authorise it).
    pub own: bool,
}

async fn rows<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    list: Vec<money_request::Model>,
) -> Result<Vec<RequestRow>, AppError> {
    let doc_ids: Vec<Uuid> = list.iter().filter_map(|r| r.invoice_id).collect();
    let docs = document::Entity::find()
        .filter(document::Column::Id.is_in(doc_ids))
        .all(db)
        .await?;
    // The members asked about, and those whose invoices a manual payment settles.
    let ids: Vec<Uuid> = list
        .iter()
        .map(|r| r.member_id)
        .chain(docs.iter().map(|d| d.member_id))
        .collect();
    let members = member::Entity::find()
        .filter(member::Column::Id.is_in(ids))
        .all(db)
        .await?;
    let pay_ids: Vec<Uuid> = list.iter().filter_map(|r| r.payment_id).collect();
    let pays = payment::Entity::find()
        .filter(payment::Column::Id.is_in(pay_ids))
        .all(db)
        .await?;
    let may = actor.require(Permission::AuthoriseRequests).is_ok();
    Ok(list
        .into_iter()
        .map(|r| {
            let m = members.iter().find(|m| m.id == r.member_id);
            let what = if r.kind == pay::MANUAL_PAYMENT_REQUEST {
                super::manual::what(&r, &docs, &members)
            } else {
                match (r.invoice_id, r.payment_id) {
                    (Some(i), _) => docs
                        .iter()
                        .find(|d| d.id == i)
                        .map(|d| format!("Invoice {}", d.number))
                        .unwrap_or_default(),
                    (_, Some(p)) => pays
                        .iter()
                        .find(|x| x.id == p)
                        .map(|x| {
                            format!(
                                "{} payment {} of {} on {}",
                                pay::label(&pay::METHODS, &x.method),
                                x.reference,
                                Money::from_pence(x.amount_pence),
                                x.received_on.format("%-d %b %Y")
                            )
                        })
                        .unwrap_or_default(),
                    _ => r.description.clone(),
                }
            };
            let own = actor.user_id == Some(r.requested_by);
            RequestRow {
                id: r.id,
                kind: r.kind,
                member_id: r.member_id,
                membership_number: m
                    .map(|m| MembershipNumber::text_of(m.membership_number))
                    .unwrap_or_default(),
                member_name: m.map(money::member_name).unwrap_or_default(),
                amount: Money::from_pence(r.amount_pence),
                reason: r.reason,
                description: r.description,
                what,
                can_decide: may && !own && r.status == RequestStatus::Pending,
                own,
                status: r.status,
                requested_by: r.requested_by_label,
                requested_at: r.requested_at,
                decided_by: r.decided_by_label,
                result: r.result,
                provider_status: r.provider_status,
            }
        })
        .collect())
}

/// Requests waiting for a second person, oldest first.
pub async fn pending<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> Result<Vec<RequestRow>, AppError> {
    if actor.require(Permission::AuthoriseRequests).is_err() {
        actor.require(Permission::RaiseRequests)?;
    }
    let list = money_request::Entity::find()
        .filter(money_request::Column::Status.eq(RequestStatus::Pending))
        .order_by_asc(money_request::Column::RequestedAt)
        .limit(500)
        .all(db)
        .await?;
    rows(db, actor, list).await
}

/// A member's requests, newest first.
pub async fn for_member<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    member_id: Uuid,
) -> Result<Vec<RequestRow>, AppError> {
    actor.require(Permission::ViewMembers)?;
    let list = money_request::Entity::find()
        .filter(money_request::Column::MemberId.eq(member_id))
        .order_by_desc(money_request::Column::RequestedAt)
        .limit(100)
        .all(db)
        .await?;
    rows(db, actor, list).await
}

/// A different supervisor or finance user approves (and so carries out) or declines request `id`.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn decide(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    approve: bool,
    note: &str,
    base_url: &str,
) -> Result<money_request::Model, AppError> {
    actor.require(Permission::AuthoriseRequests)?;
    let uid = actor.user()?;
    let note = note.split_whitespace().collect::<Vec<_>>().join(" ");
    if !approve && note.is_empty() {
        return Err(AppError::field("note", "Say why you are declining it"));
    }
    if note.chars().count() > 500 {
        return Err(AppError::field(
            "note",
            "The note must be 500 characters or fewer",
        ));
    }
    let txn = crate::service::begin(db).await?;
    let r = money_request::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if r.requested_by == uid {
        return Err(AppError::Conflict(
            "You raised this request, so someone else must authorise it.".into(),
        ));
    }
    if r.status != RequestStatus::Pending {
        return Err(AppError::Conflict(format!(
            "This request has already been {} by {}.",
            r.status.as_str(),
            r.decided_by_label.clone().unwrap_or_default()
        )));
    }
    let m = member::Entity::find_by_id(r.member_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let amount = Money::from_pence(r.amount_pence);
    let key = format!("request:{}", r.id);
    let mut provider_status = None;
    let result = if !approve {
        None
    } else {
        Some(match r.kind.as_str() {
            "manual_invoice" => {
                issue_invoice(
                    &txn,
                    actor,
                    m.id,
                    &r.description,
                    amount,
                    Money::ZERO,
                    &key,
                    "manual invoice",
                )
                .await?
                .number
            }
            "credit_note" | "write_off" => {
                let inv_id = r
                    .invoice_id
                    .ok_or_else(|| AppError::internal("request without its invoice"))?;
                money::adjust::credit_or_write_off(
                    &txn,
                    actor,
                    money::adjust::Adjustment {
                        member_id: m.id,
                        invoice_id: inv_id,
                        amount,
                        credit: r.kind == "credit_note",
                        reason: &r.reason,
                        key: &key,
                    },
                )
                .await?
            }
            "refund" => {
                let pid = r
                    .payment_id
                    .ok_or_else(|| AppError::internal("refund without its payment"))?;
                let refund =
                    money::adjust::refund(&txn, actor, &m, pid, amount, &r.reason, &key, base_url)
                        .await?;
                if refund.by_card {
                    provider_status = Some(RefundStatus::Pending);
                }
                refund.result
            }
            pay::MANUAL_PAYMENT_REQUEST => {
                super::manual::carry_out(&txn, actor, &r, base_url).await?
            }
            other => return Err(AppError::internal(format!("unknown request kind {other}"))),
        })
    };
    let status = if approve {
        RequestStatus::Approved
    } else {
        RequestStatus::Declined
    };
    let mut am: money_request::ActiveModel = r.clone().into();
    am.status = Set(status);
    am.decided_by = Set(Some(uid));
    am.decided_by_label = Set(Some(actor.label.clone()));
    am.decided_at = Set(Some(crate::service::now()));
    am.decision_note = Set((!note.is_empty()).then(|| note.clone()));
    am.result = Set(result.clone());
    am.provider_status = Set(provider_status);
    let out = am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "member",
        m.id,
        if approve {
            AuditAction::RequestApproved
        } else {
            AuditAction::RequestDeclined
        },
        Some(json!({"request": r.id, "kind": r.kind, "amount": amount.to_string(), "status": RequestStatus::Pending, "requested_by": r.requested_by_label})),
        Some(json!({"status": status, "result": result, "note": note})),
    )
    .await?;
    txn.commit().await?;
    crate::service::events::publish(db, crate::service::events::Topic::Requests).await;
    crate::service::events::publish(db, crate::service::events::Topic::Payments).await;
    Ok(out)
}
