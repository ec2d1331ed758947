//! Cheques and bank transfers recorded by staff, with a second person for the risky ones.
//!
//! A payment typed by hand is money nobody else has seen arrive, so the office keeps four eyes on it
//! where it matters: one of more than the office's limit (£500 unless an admin sets another on
//! Office details), or one set against an invoice that is not the paying member's own, is not
//! recorded. It becomes a `manual_payment` request in "Requests to authorise", carried out only when
//! a *different* supervisor or finance user authorises it (`requests::decide`), and then recorded
//! exactly as a payment below the limit is: the same ledger posting, receipt, e-mail and renewal
//! settlement (`receive`), under the key of the form it was typed in.

use super::receive;
use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::payments as pay;
use crate::domain::payments::MANUAL_METHODS;
use crate::domain::payments::MANUAL_PAYMENT_REQUEST;
use crate::domain::{Actor, AppError, FieldErrors, Permission};
use crate::entity::audit_log::AuditAction;
use crate::entity::document;
use crate::entity::document::DocumentKind;
use crate::entity::member;
use crate::entity::money_request;
use crate::entity::payment;
use crate::service::audit;
use crate::service::money::{member_name, Incoming};
use crate::service::settings::limit;
use crate::service::today;
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

/// A cheque or bank transfer as typed by staff.
#[derive(Clone, Debug, Default)]
pub struct ManualPaymentInput {
    pub method: String,
    pub reference: String,
    pub amount: String,
    pub received_on: String,
    /// An invoice number to set it against first (optional); another member's needs a second person.
    pub invoice: String,
    /// A token from the form, so a form sent twice records one payment (or raises one request).
    pub form_key: String,
}

/// What became of a cheque or transfer staff recorded.
#[derive(Clone, Debug)]
pub enum ManualPayment {
    /// Recorded at once: the payment and its receipt.
    Recorded(payment::Model, document::Model),
    /// Waiting in "Requests to authorise" for a second person; nothing is in the ledger yet.
    Requested(money_request::Model),
}

/// Staff record a cheque or bank transfer received from member `member_id`: at once, or as a request
/// for a second person when it is above the limit or settles another member's invoice.
#[tracing::instrument(skip(db, actor, input, base_url), fields(member = %member_id))]
pub async fn record_manual_payment(
    db: &DatabaseConnection,
    actor: &Actor,
    member_id: Uuid,
    input: &ManualPaymentInput,
    base_url: &str,
) -> Result<ManualPayment, AppError> {
    actor.require(Permission::RecordPayments)?;
    let mut errors = FieldErrors::new();
    if !MANUAL_METHODS.iter().any(|(v, _)| *v == input.method) {
        errors.add("method", "Choose cheque or bank transfer");
    }
    let reference = input.reference.trim();
    if reference.is_empty() {
        errors.add(
            "reference",
            "Enter the cheque number or the bank transfer's reference",
        );
    } else if reference.chars().count() > 60 {
        errors.add("reference", "The reference must be 60 characters or fewer");
    }
    let amount = errors.check("amount", Money::parse(&input.amount));
    if amount.is_some_and(|a| a.pence() == 0) {
        errors.add("amount", "Enter an amount more than £0.00");
    }
    let today = today();
    let received_on = match NaiveDate::parse_from_str(input.received_on.trim(), "%Y-%m-%d") {
        Ok(d) if d > today => {
            errors.add("received_on", "The date received cannot be in the future");
            None
        }
        Ok(d) if d < today - chrono::Duration::days(366) => {
            errors.add(
                "received_on",
                "The date received must be within the last year",
            );
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            errors.add(
                "received_on",
                "Enter the date received, for example 2026-11-20",
            );
            None
        }
    };
    errors.into_result()?;
    let (Some(amount), Some(received_on)) = (amount, received_on) else {
        return Err(AppError::internal("payment validated without values"));
    };
    let txn = crate::service::begin(db).await?;
    let m = member::Entity::find_by_id(member_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let invoice = match input.invoice.trim() {
        "" => None,
        n => Some(
            document::Entity::find()
                .filter(document::Column::Number.eq(n.to_uppercase()))
                .filter(document::Column::Kind.eq(DocumentKind::Invoice))
                .one(&txn)
                .await?
                .ok_or_else(|| {
                    AppError::field("invoice", "There is no invoice with that number")
                })?,
        ),
    };
    let key = match Uuid::parse_str(input.form_key.trim()) {
        Ok(k) => format!("manual-payment:{k}"),
        Err(_) => format!("manual-payment:{}", crate::service::new_id()),
    };
    let others = invoice.as_ref().filter(|i| i.member_id != m.id);
    let limit = limit(&txn).await?;
    if pay::manual_payment_needs_second_person(amount, limit, others.is_some()) {
        let owner = match others {
            Some(i) => member::Entity::find_by_id(i.member_id).one(&txn).await?,
            None => None,
        };
        let r = raise(
            &txn,
            actor,
            &m,
            Raised {
                method: &input.method,
                reference,
                amount,
                received_on,
                invoice: invoice.as_ref(),
                owner: owner.as_ref(),
                limit,
                key,
            },
        )
        .await?;
        txn.commit().await?;
        crate::service::events::publish(db, crate::service::events::Topic::Requests).await;
        return Ok(ManualPayment::Requested(r));
    }
    let (p, receipt) = receive(
        &txn,
        actor,
        Incoming {
            member: &m,
            method: &input.method,
            provider: None,
            reference,
            amount,
            received_on,
            invoice_id: invoice.map(|i| i.id),
            key,
            base_url,
        },
    )
    .await?;
    txn.commit().await?;
    crate::service::events::publish(db, crate::service::events::Topic::Payments).await;
    Ok(ManualPayment::Recorded(p, receipt))
}

/// A payment waiting for a second person, as typed.
struct Raised<'a> {
    method: &'a str,
    reference: &'a str,
    amount: Money,
    received_on: NaiveDate,
    invoice: Option<&'a document::Model>,
    /// The member whose invoice it settles, when not the payer.
    owner: Option<&'a member::Model>,
    limit: Money,
    key: String,
}

/// Writes the `manual_payment` request (once per form) and its audit entry on the payer's record.
async fn raise<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    payer: &member::Model,
    p: Raised<'_>,
) -> Result<money_request::Model, AppError> {
    let uid = actor.user()?;
    if let Some(r) = money_request::Entity::find()
        .filter(money_request::Column::PaymentKey.eq(p.key.clone()))
        .one(db)
        .await?
    {
        return Ok(r);
    }
    let what = pay::label(&pay::METHODS, p.method);
    let mut why = Vec::new();
    if p.amount.pence() > p.limit.pence() {
        why.push(format!(
            "{what} of {} is more than the {} that may be recorded without a second person",
            p.amount, p.limit
        ));
    }
    if let (Some(inv), Some(owner)) = (p.invoice, p.owner) {
        why.push(format!(
            "It settles invoice {} of {} {}, another member",
            inv.number,
            member_name(owner),
            MembershipNumber::text_of(owner.membership_number)
        ));
    }
    let reason = why.join(". ");
    let mut r = super::new_request(
        actor,
        uid,
        MANUAL_PAYMENT_REQUEST,
        payer.id,
        p.amount,
        reason.clone(),
    );
    r.invoice_id = Set(p.invoice.map(|i| i.id));
    r.method = Set(Some(p.method.to_owned()));
    r.reference = Set(Some(p.reference.to_owned()));
    r.received_on = Set(Some(p.received_on));
    r.payment_key = Set(Some(p.key));
    let r = r.insert(db).await?;
    audit::record(
        db,
        actor,
        "member",
        payer.id,
        AuditAction::RequestRaised,
        None,
        Some(json!({
            "request": r.id,
            "kind": MANUAL_PAYMENT_REQUEST,
            "amount": p.amount.to_string(),
            "method": p.method,
            "reference": p.reference,
            "received_on": p.received_on.to_string(),
            "invoice": p.invoice.map(|i| i.number.clone()),
            "reason": reason,
        })),
    )
    .await?;
    Ok(r)
}

/// What a manual payment request is about: "Cheque 001234 received 5 Dec 2026, for invoice
/// INV-000123 of Ann Other GH0000042".
pub(super) fn what(
    r: &money_request::Model,
    docs: &[document::Model],
    members: &[member::Model],
) -> String {
    let mut out = format!(
        "{} {}",
        pay::label(&pay::METHODS, r.method.as_deref().unwrap_or_default()),
        r.reference.as_deref().unwrap_or_default()
    );
    if let Some(d) = r.received_on {
        out.push_str(&format!(" received {}", d.format("%-d %b %Y")));
    }
    if let Some(inv) = r.invoice_id.and_then(|i| docs.iter().find(|d| d.id == i)) {
        out.push_str(&format!(", for invoice {}", inv.number));
        if inv.member_id != r.member_id {
            if let Some(o) = members.iter().find(|m| m.id == inv.member_id) {
                out.push_str(&format!(
                    " of {} {}",
                    member_name(o),
                    MembershipNumber::text_of(o.membership_number)
                ));
            }
        }
    }
    out
}

/// Records the payment of an authorised `manual_payment` request in the caller's transaction, as
/// [`record_manual_payment`] would have: on the account of the invoice's member when it settles
/// another member's invoice (its reference then names the payer), else on the payer's. Answers the
/// receipt's number.
pub(super) async fn carry_out<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    r: &money_request::Model,
    base_url: &str,
) -> Result<String, AppError> {
    let (Some(method), Some(reference), Some(received_on)) =
        (r.method.as_deref(), r.reference.as_deref(), r.received_on)
    else {
        return Err(AppError::internal(
            "manual payment request without its details",
        ));
    };
    let payer = member::Entity::find_by_id(r.member_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let invoice = match r.invoice_id {
        Some(id) => Some(
            document::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let owner = match &invoice {
        Some(i) if i.member_id != payer.id => Some(
            member::Entity::find_by_id(i.member_id)
                .one(db)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
        _ => None,
    };
    let reference = match &owner {
        Some(_) => format!(
            "{reference} from {}",
            MembershipNumber::text_of(payer.membership_number)
        ),
        None => reference.to_owned(),
    };
    let (_, receipt) = receive(
        db,
        actor,
        Incoming {
            member: owner.as_ref().unwrap_or(&payer),
            method,
            provider: None,
            reference: &reference,
            amount: Money::from_pence(r.amount_pence),
            received_on,
            invoice_id: invoice.map(|i| i.id),
            key: r
                .payment_key
                .clone()
                .unwrap_or_else(|| format!("request:{}", r.id)),
            base_url,
        },
    )
    .await?;
    Ok(receipt.number)
}
