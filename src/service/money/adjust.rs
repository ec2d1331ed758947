//! Adjustments a second person has authorised, recorded in the caller's transaction: a credit note or a
//! write-off against an invoice, and a refund of a payment. (The request queue itself, who may approve
//! what, is `service::payments::requests`.)

use super::{allocate, insert_document, next_number, notify};
use crate::domain::ledger::postings;
use crate::domain::money::Money;
use crate::domain::payments as pay;
use crate::domain::{Actor, AppError};
use crate::entity::document::{DocumentKind, DocumentStatus};
use crate::entity::payment::Direction;
use crate::entity::{document, member, payment};
use crate::service::ledger::{self, NewTransaction};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;
use uuid::Uuid;

/// A credit note or write-off of `amount` against invoice `invoice_id`.
#[derive(Clone, Debug)]
pub(crate) struct Adjustment<'a> {
    pub member_id: Uuid,
    pub invoice_id: Uuid,
    pub amount: Money,
    /// A credit note (numbered, a document the member sees); otherwise a write-off.
    pub credit: bool,
    pub reason: &'a str,
    /// Posts once per key.
    pub key: &'a str,
}

/// Credits or writes off part of an invoice. Answers the credit note's number, or "write-off of
/// INV-…". A write-off of more than is outstanding is refused.
pub(crate) async fn credit_or_write_off<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    a: Adjustment<'_>,
) -> Result<String, AppError> {
    let inv = document::Entity::find_by_id(a.invoice_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if !a.credit && inv.outstanding_pence < a.amount.pence() {
        return Err(AppError::Conflict(format!(
            "Only {} of invoice {} is still outstanding; decline this request and raise a new one.",
            Money::from_pence(inv.outstanding_pence),
            inv.number
        )));
    }
    let credit = a.credit;
    let amount = a.amount;
    let member_id = a.member_id;
    let number = if credit {
        next_number(db, DocumentKind::CreditNote).await?
    } else {
        format!("write-off of {}", inv.number)
    };
    let posted = ledger::post(
        db,
        actor,
        NewTransaction {
            idempotency_key: a.key.to_owned(),
            kind: if credit { "credit_note" } else { "write_off" },
            cause: if credit {
                format!("{number} for {}", inv.number)
            } else {
                number.clone()
            },
            member_id: Some(member_id),
            memo: Some(a.reason.to_owned()),
            entries: if credit {
                postings::credit_note(member_id, amount)
            } else {
                postings::write_off(member_id, amount)
            },
            method: None,
            value_date: None,
        },
    )
    .await?;
    allocate(
        db,
        member_id,
        Some(inv.id),
        amount,
        if credit {
            DocumentStatus::Credited
        } else {
            DocumentStatus::WrittenOff
        },
    )
    .await?;
    if credit {
        insert_document(
            db,
            actor,
            DocumentKind::CreditNote,
            member_id,
            crate::service::today(),
            &format!("Credit for invoice {}: {}", inv.number, a.reason),
            amount,
            Some(inv.id),
            Some(posted.id()),
            number.clone(),
        )
        .await?;
    }
    Ok(number)
}

/// A refund recorded.
#[derive(Clone, Debug)]
pub(crate) struct Refunded {
    /// "refund of REF".
    pub result: String,
    /// Paid by card: the provider still has to send the money back.
    pub by_card: bool,
}

/// Refunds `amount` of payment `payment_id` to member `m`: the ledger posting, the outgoing payment,
/// the original's refunded total, and the `refund_issued` message. More than is left unrefunded is
/// refused.
#[expect(
    clippy::too_many_arguments,
    reason = "one refund's facts, all needed; a struct would only rename them"
)]
pub(crate) async fn refund<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    m: &member::Model,
    payment_id: Uuid,
    amount: Money,
    reason: &str,
    key: &str,
    base_url: &str,
) -> Result<Refunded, AppError> {
    let p = payment::Entity::find_by_id(payment_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if p.amount_pence - p.refunded_pence < amount.pence() {
        return Err(AppError::Conflict(
            "That payment has already been refunded in part; decline this request and raise a new one."
                .into(),
        ));
    }
    let card = p.method == "card";
    let today = crate::service::today();
    let posted = ledger::post(
        db,
        actor,
        NewTransaction {
            idempotency_key: key.to_owned(),
            kind: "refund",
            cause: format!(
                "Refund of {} payment {}",
                pay::label(&pay::METHODS, &p.method),
                p.reference
            ),
            member_id: Some(m.id),
            memo: Some(reason.to_owned()),
            entries: postings::refund(m.id, amount, card),
            method: Some(p.method.clone()),
            value_date: Some(today),
        },
    )
    .await?;
    payment::ActiveModel {
        id: Set(crate::service::new_id()),
        member_id: Set(m.id),
        direction: Set(Direction::Out),
        method: Set(p.method.clone()),
        provider: Set(p.provider.clone()),
        reference: Set(format!("refund of {}", p.reference)),
        amount_pence: Set(amount.pence()),
        refunded_pence: Set(0),
        received_on: Set(today),
        invoice_id: Set(None),
        refund_of: Set(Some(p.id)),
        receipt_id: Set(None),
        ledger_transaction_id: Set(posted.id()),
        created_at: Set(crate::service::now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(db)
    .await?;
    let refunded = p.refunded_pence + amount.pence();
    let reference = p.reference.clone();
    let mut pa: payment::ActiveModel = p.into();
    pa.refunded_pence = Set(refunded);
    pa.update(db).await?;
    notify(
        db,
        m,
        "refund_issued",
        json!({
            "amount": amount.to_string(),
            "by_card": card,
            "reference": reference,
            "account_url": format!("{base_url}/portal/payments"),
            "base_url": base_url,
        }),
    )
    .await?;
    Ok(Refunded {
        result: format!("refund of {reference}"),
        by_card: card,
    })
}
