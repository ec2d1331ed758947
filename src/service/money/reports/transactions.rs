//! The transaction history: filterable, with CSV.

use super::{cell, members_by_id};
use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::payments::{self as pay, METHODS, TRANSACTION_KINDS};
use crate::domain::{Actor, AppError, FieldErrors, Permission};
use crate::entity::{ledger_entry, ledger_transaction};
use crate::service::money::member_name;
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// Which transactions to list.
#[derive(Clone, Debug, Default)]
pub struct TxnFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub method: Option<String>,
    pub kind: Option<String>,
}

/// One transaction in the history.
#[derive(Clone, Debug)]
pub struct TxnRow {
    pub date: NaiveDate,
    pub kind: String,
    pub method: Option<String>,
    pub membership_number: String,
    pub member_name: String,
    pub cause: String,
    /// The transaction's size (its debits).
    pub amount: Money,
    pub by: String,
}

/// Reads a filter typed in the report's form: dates as `YYYY-MM-DD`, method and kind from their lists.
pub fn parse_filter(from: &str, to: &str, method: &str, kind: &str) -> Result<TxnFilter, AppError> {
    let mut errors = FieldErrors::new();
    let mut date = |field: &str, raw: &str| match raw.trim() {
        "" => None,
        s => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.add(field, "Enter a date like 2026-11-01");
                None
            }
        },
    };
    let from = date("from", from);
    let to = date("to", to);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            errors.add("to", "The end date must be on or after the start date");
        }
    }
    let method = match method.trim() {
        "" => None,
        m if METHODS.iter().any(|(v, _)| *v == m) => Some(m.to_owned()),
        _ => {
            errors.add("method", "Choose a payment method from the list");
            None
        }
    };
    let kind = match kind.trim() {
        "" => None,
        k if TRANSACTION_KINDS.iter().any(|(v, _)| *v == k) => Some(k.to_owned()),
        _ => {
            errors.add("kind", "Choose a type from the list");
            None
        }
    };
    errors.into_result()?;
    Ok(TxnFilter {
        from,
        to,
        method,
        kind,
    })
}

/// Transactions matching `f`, newest first, at most `limit`.
pub async fn transactions<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    f: &TxnFilter,
    limit: u64,
) -> Result<Vec<TxnRow>, AppError> {
    actor.require(Permission::ViewReports)?;
    let mut q = ledger_transaction::Entity::find();
    if let Some(d) = f.from {
        q = q.filter(ledger_transaction::Column::ValueDate.gte(d));
    }
    if let Some(d) = f.to {
        q = q.filter(ledger_transaction::Column::ValueDate.lte(d));
    }
    if let Some(m) = &f.method {
        q = q.filter(ledger_transaction::Column::Method.eq(m.clone()));
    }
    if let Some(k) = &f.kind {
        q = q.filter(ledger_transaction::Column::Kind.eq(k.clone()));
    }
    let txns = q
        .order_by_desc(ledger_transaction::Column::ValueDate)
        .order_by_desc(ledger_transaction::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = txns.iter().map(|t| t.id).collect();
    let mut size: HashMap<Uuid, i64> = HashMap::new();
    for chunk in ids.chunks(500) {
        for e in ledger_entry::Entity::find()
            .filter(ledger_entry::Column::TransactionId.is_in(chunk.to_vec()))
            .filter(ledger_entry::Column::AmountPence.gt(0_i64))
            .all(db)
            .await?
        {
            *size.entry(e.transaction_id).or_default() += e.amount_pence;
        }
    }
    let member_ids: Vec<Uuid> = txns.iter().filter_map(|t| t.member_id).collect();
    let members = members_by_id(db, &member_ids).await?;
    Ok(txns
        .into_iter()
        .map(|t| {
            let m = t.member_id.and_then(|id| members.get(&id));
            TxnRow {
                date: t
                    .value_date
                    .unwrap_or_else(|| crate::domain::dates::london_date(t.created_at)),
                amount: Money::from_pence(size.get(&t.id).copied().unwrap_or(0)),
                kind: t.kind,
                method: t.method,
                membership_number: m
                    .map(|m| MembershipNumber::text_of(m.membership_number))
                    .unwrap_or_default(),
                member_name: m.map(member_name).unwrap_or_default(),
                cause: t.cause,
                by: t.created_by,
            }
        })
        .collect())
}

/// The transaction history as CSV (with a byte-order mark, so Excel reads it as UTF-8).
pub fn transactions_csv(rows: &[TxnRow]) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record([
        "Date",
        "Type",
        "Method",
        "Membership number",
        "Member",
        "Details",
        "Amount",
        "By",
    ])
    .map_err(AppError::internal)?;
    for r in rows {
        w.write_record([
            r.date.format("%Y-%m-%d").to_string(),
            pay::label(&TRANSACTION_KINDS, &r.kind).to_owned(),
            r.method
                .as_deref()
                .map(|m| pay::label(&METHODS, m).to_owned())
                .unwrap_or_default(),
            r.membership_number.clone(),
            cell(&r.member_name),
            cell(&r.cause),
            r.amount.plain(),
            cell(&r.by),
        ])
        .map_err(AppError::internal)?;
    }
    w.into_inner().map_err(AppError::internal)
}
