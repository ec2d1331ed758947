//! Money around the ledger: invoices, credit notes and receipts (numbered from their own sequences, never
//! reused), payments in and out, what members owe, and the office settings printed on documents.
//!
//! Each public function is one business operation in one transaction; the `pub(crate)` pieces run inside
//! a caller's transaction (a webhook, an authorised request, a new member) and post to the ledger through
//! `service::ledger::post`, so a document, its ledger transaction and its audit entry commit together.

pub mod card;
pub mod debts;
pub mod manual;
pub mod pdf;
pub mod providers;
pub mod reports;
pub mod requests;
pub mod webhooks;

pub use manual::{record_manual_payment, ManualPayment, ManualPaymentInput};

use crate::domain::dates::london_date;
use crate::domain::ledger::postings;
use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::payments as pay;
use crate::domain::{Actor, AppError, FieldErrors, Permission};
use crate::entity::{document, ledger_transaction, member, payment, setting};
use crate::service::ledger::{self, NewTransaction, Posted};
use crate::service::outbox::{self, NewMessage};
use crate::service::{audit, counters, today};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

pub const INVOICE: &str = "invoice";
pub const CREDIT_NOTE: &str = "credit_note";
pub const RECEIPT: &str = "receipt";

/// The number printed on a document of `kind` for sequence value `n`.
pub fn document_number(kind: &str, n: i64) -> String {
    let prefix = match kind {
        INVOICE => "INV",
        CREDIT_NOTE => "CN",
        _ => "RCT",
    };
    format!("{prefix}-{n:06}")
}

fn counter_name(kind: &str) -> &'static str {
    match kind {
        INVOICE => "invoice_number",
        CREDIT_NOTE => "credit_note_number",
        _ => "receipt_number",
    }
}

/// The office's name and address, printed on documents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Office {
    pub name: String,
    pub address: String,
}

/// Reads the office settings (defaults written by the migration).
pub async fn office<C: ConnectionTrait>(db: &C) -> Result<Office, AppError> {
    let rows = setting::Entity::find()
        .filter(setting::Column::Key.is_in(["office_name", "office_address"]))
        .all(db)
        .await?;
    let get = |k: &str| {
        rows.iter()
            .find(|r| r.key == k)
            .map(|r| r.value.clone())
            .unwrap_or_default()
    };
    Ok(Office {
        name: get("office_name"),
        address: get("office_address"),
    })
}

/// Admins change the office's name and address.
pub async fn update_office(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
    address: &str,
) -> Result<Office, AppError> {
    actor.require(Permission::ManageSettings)?;
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let address = address
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let mut errors = FieldErrors::new();
    if name.is_empty() {
        errors.add("office_name", "Enter the office's name");
    } else if name.chars().count() > 120 {
        errors.add("office_name", "The name must be 120 characters or fewer");
    }
    if address.is_empty() {
        errors.add("office_address", "Enter the office's postal address");
    } else if address.lines().count() > 8 || address.chars().count() > 400 {
        errors.add(
            "office_address",
            "The address must be 8 lines and 400 characters or fewer",
        );
    }
    errors.into_result()?;
    let txn = crate::service::begin(db).await?;
    let before = office(&txn).await?;
    let now = crate::service::now();
    for (k, v) in [("office_name", &name), ("office_address", &address)] {
        setting::Entity::update_many()
            .col_expr(
                setting::Column::Value,
                sea_orm::sea_query::Expr::value(v.clone()),
            )
            .col_expr(
                setting::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .col_expr(
                setting::Column::UpdatedBy,
                sea_orm::sea_query::Expr::value(actor.label.clone()),
            )
            .filter(setting::Column::Key.eq(k))
            .exec(&txn)
            .await?;
    }
    let (b, a) = audit::diff(
        &json!({"office_name": before.name, "office_address": before.address}),
        &json!({"office_name": name, "office_address": address}),
    );
    audit::record(
        &txn,
        actor,
        "settings",
        "office",
        "changed",
        Some(b),
        Some(a),
    )
    .await?;
    txn.commit().await?;
    Ok(Office { name, address })
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

async fn next_number<C: ConnectionTrait>(db: &C, kind: &str) -> Result<String, AppError> {
    let n = counters::take(db, counter_name(kind), 1).await?;
    Ok(document_number(kind, n))
}

#[allow(clippy::too_many_arguments)]
async fn insert_document<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    kind: &str,
    member_id: Uuid,
    issued_on: NaiveDate,
    description: &str,
    amount: Money,
    related_id: Option<Uuid>,
    ledger_id: Option<Uuid>,
    number: String,
) -> Result<document::Model, AppError> {
    let invoice = kind == INVOICE;
    let doc = document::ActiveModel {
        id: Set(crate::service::new_id()),
        kind: Set(kind.to_owned()),
        number: Set(number),
        member_id: Set(member_id),
        issued_on: Set(issued_on),
        description: Set(description.to_owned()),
        amount_pence: Set(amount.pence()),
        outstanding_pence: Set(if invoice { amount.pence() } else { 0 }),
        status: Set(if invoice { "open" } else { "issued" }.to_owned()),
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
#[allow(clippy::too_many_arguments)]
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
    let number = next_number(db, INVOICE).await?;
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
        INVOICE,
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
        "invoice_issued",
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
    closed_status: &str,
) -> Result<(Money, Vec<Uuid>), AppError> {
    let mut open = document::Entity::find()
        .filter(document::Column::MemberId.eq(member_id))
        .filter(document::Column::Kind.eq(INVOICE))
        .filter(document::Column::OutstandingPence.gt(0))
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
            am.status = Set(closed_status.to_owned());
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

/// Records money received in the caller's transaction: the ledger posting (once per key), the payment
/// set against the invoices, a receipt and an e-mail with it. A repeat of the key answers the payment
/// already recorded.
pub(crate) async fn receive<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    p: Incoming<'_>,
) -> Result<(payment::Model, document::Model), AppError> {
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
            .filter(document::Column::Kind.eq(RECEIPT))
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal("a payment has no receipt"))?;
        return Ok((pm, receipt));
    }
    let (_, paid) = allocate(db, member_id, p.invoice_id, p.amount, "paid").await?;
    // A renewal (or reinstatement) invoice paid in full makes the new period, in this transaction.
    crate::service::lifecycle::complete_paid(db, actor, p.member, &paid, p.method, p.received_on)
        .await?;
    // An instalment paid moves its plan on (and the first one marks the period as paid monthly).
    crate::service::instalments::on_paid(db, actor, p.member, &paid, p.received_on).await?;
    let payment_id = crate::service::new_id();
    let number = next_number(db, RECEIPT).await?;
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
        RECEIPT,
        member_id,
        p.received_on,
        &description,
        p.amount,
        Some(payment_id),
        Some(posted.id()),
        number,
    )
    .await?;
    let pm = payment::ActiveModel {
        id: Set(payment_id),
        member_id: Set(member_id),
        direction: Set("in".into()),
        method: Set(p.method.to_owned()),
        provider: Set(p.provider.map(str::to_owned)),
        reference: Set(p.reference.to_owned()),
        amount_pence: Set(p.amount.pence()),
        refunded_pence: Set(0),
        received_on: Set(p.received_on),
        invoice_id: Set(p.invoice_id),
        refund_of: Set(None),
        receipt_id: Set(Some(receipt.id)),
        ledger_transaction_id: Set(posted.id()),
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
        "payment_received",
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
    if inv.kind != INVOICE || inv.outstanding_pence <= 0 {
        return Ok(None);
    }
    let amount = Money::from_pence(inv.outstanding_pence);
    let number = next_number(db, CREDIT_NOTE).await?;
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
    allocate(db, inv.member_id, Some(inv.id), amount, "credited").await?;
    insert_document(
        db,
        actor,
        CREDIT_NOTE,
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
        "invoice_credited",
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

/// One document as lists show it.
#[derive(Clone, Debug)]
pub struct DocumentRow {
    pub id: Uuid,
    pub kind: String,
    pub number: String,
    pub issued_on: NaiveDate,
    pub description: String,
    pub amount: Money,
    pub outstanding: Money,
    pub status: String,
}

impl From<document::Model> for DocumentRow {
    fn from(d: document::Model) -> Self {
        Self {
            id: d.id,
            kind: d.kind,
            number: d.number,
            issued_on: d.issued_on,
            description: d.description,
            amount: Money::from_pence(d.amount_pence),
            outstanding: Money::from_pence(d.outstanding_pence),
            status: d.status,
        }
    }
}

/// One ledger transaction as the member's history shows it.
#[derive(Clone, Debug)]
pub struct HistoryRow {
    pub date: NaiveDate,
    pub kind: String,
    pub cause: String,
    pub method: Option<String>,
    /// What it moved on the balance: positive adds to what they owe.
    pub amount: Money,
}

/// A payment that may be refunded.
#[derive(Clone, Debug)]
pub struct PaymentRow {
    pub id: Uuid,
    pub method: String,
    pub reference: String,
    pub received_on: NaiveDate,
    pub amount: Money,
    pub refunded: Money,
}

/// A member's money: balance, documents, payments and transaction history.
#[derive(Clone, Debug)]
pub struct Account {
    pub balance: Money,
    pub documents: Vec<DocumentRow>,
    pub payments: Vec<PaymentRow>,
    pub history: Vec<HistoryRow>,
}

/// A member's money, read without a permission check: callers have scoped `member_id` already.
pub(crate) async fn account<C: ConnectionTrait>(
    db: &C,
    member_id: Uuid,
) -> Result<Account, AppError> {
    let balance = ledger::member_balance(db, member_id).await?;
    let documents = document::Entity::find()
        .filter(document::Column::MemberId.eq(member_id))
        .order_by_desc(document::Column::CreatedAt)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(DocumentRow::from)
        .collect();
    let payments = payment::Entity::find()
        .filter(payment::Column::MemberId.eq(member_id))
        .filter(payment::Column::Direction.eq("in"))
        .order_by_desc(payment::Column::CreatedAt)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(|p| PaymentRow {
            id: p.id,
            method: p.method,
            reference: p.reference,
            received_on: p.received_on,
            amount: Money::from_pence(p.amount_pence),
            refunded: Money::from_pence(p.refunded_pence),
        })
        .collect();
    let history = ledger::member_history(db, member_id, 200)
        .await?
        .into_iter()
        .map(
            |(t, moved): (ledger_transaction::Model, Money)| HistoryRow {
                date: t.value_date.unwrap_or_else(|| london_date(t.created_at)),
                kind: t.kind,
                cause: t.cause,
                method: t.method,
                amount: moved,
            },
        )
        .collect();
    Ok(Account {
        balance,
        documents,
        payments,
        history,
    })
}

/// Staff read a member's money.
pub async fn staff_account<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    member_id: Uuid,
) -> Result<Account, AppError> {
    actor.require(Permission::ViewMembers)?;
    account(db, member_id).await
}

/// A member reads the money of a record they may act on (their own or their organisation's).
pub async fn own_account<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    membership_number: i64,
) -> Result<(member::Model, Account), AppError> {
    let m = crate::service::members::portal::reachable_member(db, actor, membership_number).await?;
    let a = account(db, m.id).await?;
    Ok((m, a))
}

/// A document as a PDF, for a member it belongs to (or one of their organisations) or for staff.
/// Answers (file name, bytes).
pub async fn document_pdf<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    number: &str,
) -> Result<(String, Vec<u8>), AppError> {
    let doc = document::Entity::find()
        .filter(document::Column::Number.eq(number.trim().to_uppercase()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let m = member::Entity::find_by_id(doc.member_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if actor.is_staff() {
        actor.require(Permission::ViewMembers)?;
    } else {
        // Someone else's document answers exactly like one that does not exist.
        crate::service::members::portal::reachable_member(db, actor, m.membership_number)
            .await
            .map_err(|e| match e {
                AppError::Forbidden => AppError::NotFound,
                other => other,
            })?;
    }
    let office = office(db).await?;
    let related = match doc.related_id {
        Some(id) if doc.kind == CREDIT_NOTE => document::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|d| d.number),
        _ => None,
    };
    let bytes = pdf::render(&pdf::Printable {
        office: &office,
        title: match doc.kind.as_str() {
            INVOICE => "Invoice",
            CREDIT_NOTE => "Credit note",
            _ => "Receipt",
        },
        number: &doc.number,
        issued_on: doc.issued_on,
        to_name: &member_name(&m),
        to_address: &member_address(&m),
        membership_number: &MembershipNumber::text_of(m.membership_number),
        description: &doc.description,
        amount: Money::from_pence(doc.amount_pence),
        outstanding: (doc.kind == INVOICE).then(|| Money::from_pence(doc.outstanding_pence)),
        related: related.as_deref(),
    });
    Ok((format!("{}.pdf", doc.number), bytes))
}

/// The member's postal address, one line each.
pub fn member_address(m: &member::Model) -> Vec<String> {
    let mut out = vec![m.address_line1.clone()];
    out.extend(m.address_line2.clone());
    out.push(m.town.clone());
    out.extend(m.county.clone());
    out.extend(m.postcode.clone());
    out.retain(|l| !l.trim().is_empty());
    out
}
