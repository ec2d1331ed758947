//! A member's account as they and staff see it: documents, payments and the running balance, and any
//! document as a PDF.

use super::member_name;
use super::pdf;
use crate::domain::dates::london_date;
use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::Actor;
use crate::domain::AppError;
use crate::domain::Permission;
use crate::entity::document;
use crate::entity::document::{DocumentKind, DocumentStatus};
use crate::entity::ledger_transaction;
use crate::entity::member;
use crate::entity::payment;
use crate::service::ledger;
use crate::service::settings::{office, Office};
use chrono::NaiveDate;
use sea_orm::ColumnTrait;
use sea_orm::ConnectionTrait;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use sea_orm::QueryOrder;
use sea_orm::QuerySelect;
use uuid::Uuid;

/// One document as lists show it.
#[derive(Clone, Debug)]
pub struct DocumentRow {
    pub id: Uuid,
    pub kind: DocumentKind,
    pub number: String,
    pub issued_on: NaiveDate,
    pub description: String,
    pub amount: Money,
    pub outstanding: Money,
    pub status: DocumentStatus,
    /// The size of its PDF, in bytes (download links say how big the file is).
    pub pdf_bytes: usize,
}

impl From<document::Model> for DocumentRow {
    fn from(d: document::Model) -> Self {
        Self {
            pdf_bytes: 0,
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

/// A member's money, read without a permission check: callers have scoped the member already.
pub(crate) async fn account<C: ConnectionTrait>(
    db: &C,
    m: &member::Model,
) -> Result<Account, AppError> {
    let member_id = m.id;
    let balance = ledger::member_balance(db, member_id).await?;
    let docs = document::Entity::find()
        .filter(document::Column::MemberId.eq(member_id))
        .order_by_desc(document::Column::CreatedAt)
        .limit(200)
        .all(db)
        .await?;
    // Each PDF is made (in well under a millisecond) to say how big the download is.
    let office = office(db).await?;
    let documents = docs
        .iter()
        .map(|d| {
            let related = d
                .related_id
                .filter(|_| d.kind == DocumentKind::CreditNote)
                .and_then(|id| docs.iter().find(|x| x.id == id))
                .map(|x| x.number.as_str());
            let pdf_bytes = render(&office, m, d, related).len();
            DocumentRow {
                pdf_bytes,
                ..DocumentRow::from(d.clone())
            }
        })
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
    member: &member::Model,
) -> Result<Account, AppError> {
    actor.require(Permission::ViewMembers)?;
    account(db, member).await
}

/// A member reads the money of a record they may act on (their own or their organisation's).
pub async fn own_account<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    membership_number: MembershipNumber,
) -> Result<(member::Model, Account), AppError> {
    let m = crate::service::access::reachable_member(db, actor, membership_number).await?;
    let a = account(db, &m).await?;
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
        crate::service::access::reachable_member(db, actor, m.number())
            .await
            .map_err(|e| match e {
                AppError::Forbidden => AppError::NotFound,
                other => other,
            })?;
    }
    let office = office(db).await?;
    let related = match doc.related_id {
        Some(id) if doc.kind == DocumentKind::CreditNote => document::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|d| d.number),
        _ => None,
    };
    let bytes = render(&office, &m, &doc, related.as_deref());
    Ok((format!("{}.pdf", doc.number), bytes))
}

/// Document `doc` of member `m` as a PDF; `related` is a credit note's invoice number.
fn render(
    office: &Office,
    m: &member::Model,
    doc: &document::Model,
    related: Option<&str>,
) -> Vec<u8> {
    pdf::render(&pdf::Printable {
        office,
        title: doc.kind.title(),
        number: &doc.number,
        issued_on: doc.issued_on,
        to_name: &member_name(m),
        to_address: &member_address(m),
        membership_number: &MembershipNumber::text_of(m.membership_number),
        description: &doc.description,
        amount: Money::from_pence(doc.amount_pence),
        outstanding: (doc.kind == DocumentKind::Invoice)
            .then(|| Money::from_pence(doc.outstanding_pence)),
        related,
        closed: match doc.status {
            DocumentStatus::Credited => Some("Credited"),
            DocumentStatus::WrittenOff => Some("Written off"),
            _ => None,
        },
    })
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
