//! Money around the ledger: invoices, credit notes and receipts (numbered from their own sequences, never
//! reused), payments in and out, what members owe, and the office settings printed on documents.
//!
//! Each public function is one business operation in one transaction; the `pub(crate)` pieces run inside
//! a caller's transaction (a webhook, an authorised request, a new member) and post to the ledger through
//! `service::ledger::post`, so a document, its ledger transaction and its audit entry commit together.

pub mod account;
pub mod adjust;
pub mod debts;
pub mod pdf;
pub mod providers;
pub mod reports;

use crate::domain::ledger::postings;
use crate::domain::money::Money;
use crate::domain::payments as pay;
use crate::domain::Actor;
use crate::domain::AppError;
use crate::entity::audit_log::AuditAction;
use crate::entity::document;
use crate::entity::document::{DocumentKind, DocumentStatus};
use crate::entity::member;
use crate::entity::payment;
use crate::entity::payment::Direction;
use crate::service::ledger::{self, NewTransaction, Posted};
use crate::service::outbox::{self, NewMessage};
use crate::service::today;
use crate::service::{audit, counters};
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

/// The number printed on a document of `kind` for sequence value `n`.
pub fn document_number(kind: DocumentKind, n: i64) -> String {
    format!("{}-{n:06}", kind.prefix())
}

/// How a member is named on documents and lists.
pub fn member_name(m: &member::Model) -> String {
    if m.kind == "organisation" {
        m.organisation_name.clone().unwrap_or_default()
    } else {
        format!("{} {}", m.given_name, m.family_name)
            .trim()
            .to_owned()
    }
}

async fn next_number<C: ConnectionTrait>(db: &C, kind: DocumentKind) -> Result<String, AppError> {
    let n = counters::take(db, kind.counter(), 1).await?;
    Ok(document_number(kind, n))
}

#[expect(
    clippy::too_many_arguments,
    reason = "a document's every column, each set by its caller"
)]
async fn insert_document<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    kind: DocumentKind,
    member_id: Uuid,
    issued_on: NaiveDate,
    description: &str,
    amount: Money,
    related_id: Option<Uuid>,
    ledger_id: Option<Uuid>,
    number: String,
) -> Result<document::Model, AppError> {
    let invoice = kind == DocumentKind::Invoice;
    let doc = document::ActiveModel {
        id: Set(crate::service::new_id()),
        kind: Set(kind),
        number: Set(number),
        member_id: Set(member_id),
        issued_on: Set(issued_on),
        description: Set(description.to_owned()),
        amount_pence: Set(amount.pence()),
        outstanding_pence: Set(if invoice { amount.pence() } else { 0 }),
        status: Set(if invoice {
            DocumentStatus::Open
        } else {
            DocumentStatus::Issued
        }),
        related_id: Set(related_id),
        ledger_transaction_id: Set(ledger_id),
        created_at: Set(crate::service::now()),
        created_by: Set(actor.label.clone()),
    };
    if invoice {
        debts::add(db, member_id, issued_on, amount.pence()).await?;
    }
    Ok(doc.insert(db).await?)
}

/// Issues an invoice for `subscription` + `joining` in the caller's transaction, posting it once for
/// `key`. A repeat of `key` answers the invoice already issued.
#[expect(
    clippy::too_many_arguments,
    reason = "an invoice's facts: who, what, fee and extra, its key and its kind"
)]
pub(crate) async fn issue_invoice<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    member_id: Uuid,
    description: &str,
    subscription: Money,
    joining: Money,
    key: &str,
    cause: &str,
) -> Result<document::Model, AppError> {
    let total = subscription
        .checked_add(joining)
        .filter(|t| t.pence() > 0)
        .ok_or_else(|| AppError::Conflict("An invoice must be for more than £0.00.".into()))?;
    let number = next_number(db, DocumentKind::Invoice).await?;
    let posted = ledger::post(
        db,
        actor,
        NewTransaction {
            idempotency_key: key.to_owned(),
            kind: "invoice",
            cause: format!("{number}: {cause}"),
            member_id: Some(member_id),
            memo: Some(description.to_owned()),
            entries: postings::invoice(member_id, subscription, joining),
            method: None,
            value_date: None,
        },
    )
    .await?;
    if let Posted::Duplicate(tid) = posted {
        return document::Entity::find()
            .filter(document::Column::LedgerTransactionId.eq(tid))
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal("an invoice's transaction has no invoice"));
    }
    let doc = insert_document(
        db,
        actor,
        DocumentKind::Invoice,
        member_id,
        today(),
        description,
        total,
        None,
        Some(posted.id()),
        number,
    )
    .await?;
    audit::record(
        db,
        actor,
        "member",
        member_id,
        AuditAction::InvoiceIssued,
        None,
        Some(json!({"invoice": doc.number, "amount": total.to_string(), "for": description})),
    )
    .await?;
    Ok(doc)
}

/// Sets `amount` against the member's open invoices, `first` before the oldest; each invoice reaching
/// zero gets `closed_status`. Returns what was left over (a credit on the account) and the invoices
/// closed.
async fn allocate<C: ConnectionTrait>(
    db: &C,
    member_id: Uuid,
    first: Option<Uuid>,
    amount: Money,
    closed_status: DocumentStatus,
) -> Result<(Money, Vec<Uuid>), AppError> {
    let mut open = document::Entity::find()
        .filter(document::Column::MemberId.eq(member_id))
        .filter(document::Column::Kind.eq(DocumentKind::Invoice))
        .filter(document::Column::OutstandingPence.gt(0_i64))
        .order_by_asc(document::Column::IssuedOn)
        .order_by_asc(document::Column::Number)
        .all(db)
        .await?;
    if let Some(f) = first {
        open.sort_by_key(|d| d.id != f);
    }
    let mut left = amount.pence();
    let mut closed = Vec::new();
    let mut owed = debts::Debts::new();
    for inv in open {
        if left <= 0 {
            break;
        }
        let take = left.min(inv.outstanding_pence);
        left -= take;
        let outstanding = inv.outstanding_pence - take;
        if outstanding == 0 {
            closed.push(inv.id);
        }
        owed.add(member_id, inv.issued_on, -take);
        let mut am: document::ActiveModel = inv.into();
        am.outstanding_pence = Set(outstanding);
        if outstanding == 0 {
            am.status = Set(closed_status);
        }
        am.update(db).await?;
    }
    owed.apply(db).await?;
    Ok((Money::from_pence(left), closed))
}

/// A payment as it arrives: by card through a provider, or recorded by staff.
#[derive(Clone, Debug)]
pub(crate) struct Incoming<'a> {
    pub member: &'a member::Model,
    pub method: &'a str,
    pub provider: Option<&'a str>,
    pub reference: &'a str,
    pub amount: Money,
    pub received_on: NaiveDate,
    pub invoice_id: Option<Uuid>,
    /// Posts once per key.
    pub key: String,
    pub base_url: &'a str,
}

/// What [`take`] made of a payment.
#[derive(Clone, Debug)]
pub(crate) enum Taken {
    /// A repeat of a key already recorded: the payment and receipt it made then.
    Repeat(Box<(payment::Model, document::Model)>),
    /// Posted to the ledger (transaction `posted`) and set against the invoices; `paid` are those it
    /// paid in full. The caller settles what they were for, then writes the [`receipt`].
    New { posted: Uuid, paid: Vec<Uuid> },
}

/// Records money received in the caller's transaction, first half: the ledger posting (once per key)
/// and the payment set against the invoices. `service::payments::receive` settles what was paid for and
/// writes the [`receipt`] in the same transaction.
pub(crate) async fn take<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    p: &Incoming<'_>,
) -> Result<Taken, AppError> {
    if p.amount.pence() <= 0 {
        return Err(AppError::Conflict(
            "A payment must be more than £0.00.".into(),
        ));
    }
    let card = p.method == "card";
    let member_id = p.member.id;
    let posted = ledger::post(
        db,
        actor,
        NewTransaction {
            idempotency_key: p.key.clone(),
            kind: if card { "card_payment" } else { "bank_payment" },
            cause: format!("{} {}", pay::label(&pay::METHODS, p.method), p.reference),
            member_id: Some(member_id),
            memo: None,
            entries: if card {
                postings::card_payment(member_id, p.amount)
            } else {
                postings::bank_payment(member_id, p.amount)
            },
            method: Some(p.method.to_owned()),
            value_date: Some(p.received_on),
        },
    )
    .await?;
    if let Posted::Duplicate(tid) = posted {
        let pm = payment::Entity::find()
            .filter(payment::Column::LedgerTransactionId.eq(tid))
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal("a payment's transaction has no payment"))?;
        let receipt = document::Entity::find()
            .filter(document::Column::RelatedId.eq(pm.id))
            .filter(document::Column::Kind.eq(DocumentKind::Receipt))
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal("a payment has no receipt"))?;
        return Ok(Taken::Repeat(Box::new((pm, receipt))));
    }
    let (_, paid) = allocate(db, member_id, p.invoice_id, p.amount, DocumentStatus::Paid).await?;
    Ok(Taken::New {
        posted: posted.id(),
        paid,
    })
}

/// Records money received, second half: the receipt, the payment row, the audit entry and the e-mail
/// with the receipt, for a payment [`take`] posted as transaction `posted`.
pub(crate) async fn receipt<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    p: &Incoming<'_>,
    posted: Uuid,
) -> Result<(payment::Model, document::Model), AppError> {
    let member_id = p.member.id;
    let payment_id = crate::service::new_id();
    let number = next_number(db, DocumentKind::Receipt).await?;
    let invoice_number = match p.invoice_id {
        Some(id) => document::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|d| d.number),
        None => None,
    };
    let description = match &invoice_number {
        Some(n) => format!(
            "{} payment for invoice {n} (reference {})",
            pay::label(&pay::METHODS, p.method),
            p.reference
        ),
        None => format!(
            "{} payment (reference {})",
            pay::label(&pay::METHODS, p.method),
            p.reference
        ),
    };
    let receipt = insert_document(
        db,
        actor,
        DocumentKind::Receipt,
        member_id,
        p.received_on,
        &description,
        p.amount,
        Some(payment_id),
        Some(posted),
        number,
    )
    .await?;
    let pm = payment::ActiveModel {
        id: Set(payment_id),
        member_id: Set(member_id),
        direction: Set(Direction::In),
        method: Set(p.method.to_owned()),
        provider: Set(p.provider.map(str::to_owned)),
        reference: Set(p.reference.to_owned()),
        amount_pence: Set(p.amount.pence()),
        refunded_pence: Set(0),
        received_on: Set(p.received_on),
        invoice_id: Set(p.invoice_id),
        refund_of: Set(None),
        receipt_id: Set(Some(receipt.id)),
        ledger_transaction_id: Set(posted),
        created_at: Set(crate::service::now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        actor,
        "member",
        member_id,
        AuditAction::PaymentReceived,
        None,
        Some(json!({
            "amount": p.amount.to_string(),
            "method": p.method,
            "reference": p.reference,
            "receipt": receipt.number,
            "invoice": invoice_number,
        })),
    )
    .await?;
    notify(
        db,
        p.member,
        "receipt",
        json!({
            "receipt": receipt.number,
            "amount": p.amount.to_string(),
            "method": pay::label(&pay::METHODS, p.method),
            "invoice": invoice_number,
            "account_url": format!("{}/portal/payments", p.base_url),
            "base_url": p.base_url,
        }),
    )
    .await?;
    Ok((pm, receipt))
}

/// Credits what is outstanding on invoice `inv` in the caller's transaction (posted once for `key`),
/// issuing a credit note that says why. Answers the credit note's number, or none when nothing was
/// outstanding.
pub(crate) async fn credit_outstanding<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    inv: &document::Model,
    reason: &str,
    key: &str,
) -> Result<Option<String>, AppError> {
    if inv.kind != DocumentKind::Invoice || inv.outstanding_pence <= 0 {
        return Ok(None);
    }
    let amount = Money::from_pence(inv.outstanding_pence);
    let number = next_number(db, DocumentKind::CreditNote).await?;
    let posted = ledger::post(
        db,
        actor,
        NewTransaction {
            idempotency_key: key.to_owned(),
            kind: "credit_note",
            cause: format!("{number} for {}", inv.number),
            member_id: Some(inv.member_id),
            memo: Some(reason.to_owned()),
            entries: postings::credit_note(inv.member_id, amount),
            method: None,
            value_date: None,
        },
    )
    .await?;
    if let Posted::Duplicate(_) = posted {
        return Ok(None);
    }
    allocate(
        db,
        inv.member_id,
        Some(inv.id),
        amount,
        DocumentStatus::Credited,
    )
    .await?;
    insert_document(
        db,
        actor,
        DocumentKind::CreditNote,
        inv.member_id,
        today(),
        &format!("Credit for invoice {}: {reason}", inv.number),
        amount,
        Some(inv.id),
        Some(posted.id()),
        number.clone(),
    )
    .await?;
    audit::record(
        db,
        actor,
        "member",
        inv.member_id,
        AuditAction::InvoiceCredited,
        Some(json!({"invoice": inv.number, "outstanding": amount.to_string()})),
        Some(json!({"credit_note": number, "reason": reason, "outstanding": "£0.00"})),
    )
    .await?;
    Ok(Some(number))
}

/// How an e-mail greets the member: a person's first name, an organisation's name.
pub(crate) fn greeting(m: &member::Model) -> String {
    if m.kind == "organisation" {
        m.organisation_name.clone().unwrap_or_default()
    } else {
        m.given_name.clone()
    }
}

/// Writes an e-mail to the member about money, unless there is nobody to write to.
pub(crate) async fn notify<C: ConnectionTrait>(
    db: &C,
    m: &member::Model,
    template: &str,
    mut context: serde_json::Value,
) -> Result<(), AppError> {
    if m.pseudonymised_at.is_some() || m.stop_all_mail || m.email.is_empty() {
        return Ok(());
    }
    let greet = greeting(m);
    if let Some(o) = context.as_object_mut() {
        o.insert("given_name".into(), json!(greet));
    }
    outbox::enqueue(
        db,
        NewMessage {
            template,
            to_address: &m.email,
            to_name: Some(&greet),
            user_id: m.user_id,
            member_id: Some(m.id),
            context,
            link: None,
        },
    )
    .await?;
    Ok(())
}
