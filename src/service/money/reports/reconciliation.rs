//! Reconciliation of the ledger's takings per day and method against the settlement figures the bank or
//! provider reports, and the entry and import of those figures.

use crate::domain::ledger::Account;
use crate::domain::money::Money;
use crate::domain::payments::METHODS;
use crate::domain::{Actor, AppError, FieldErrors, Permission};
use crate::entity::audit_log::AuditAction;
use crate::entity::{ledger_entry, ledger_transaction, settlement};
use crate::service::audit;
use chrono::NaiveDate;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// One day and method: what the ledger took against what was settled.
#[derive(Clone, Debug)]
pub struct ReconRow {
    pub day: NaiveDate,
    pub method: String,
    /// Money in less refunds out, by the ledger.
    pub ledger: Money,
    pub settled: Option<Money>,
    pub reference: Option<String>,
    /// Settled less ledger; `None` while nothing is entered.
    pub difference: Option<Money>,
}

/// Reconciliation for the days `from`..=`to`.
pub async fn reconciliation<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ReconRow>, AppError> {
    actor.require(Permission::Reconcile)?;
    let txns: Vec<(Uuid, Option<NaiveDate>, Option<String>)> = ledger_transaction::Entity::find()
        .select_only()
        .column(ledger_transaction::Column::Id)
        .column(ledger_transaction::Column::ValueDate)
        .column(ledger_transaction::Column::Method)
        .filter(ledger_transaction::Column::Method.is_not_null())
        .filter(ledger_transaction::Column::ValueDate.gte(from))
        .filter(ledger_transaction::Column::ValueDate.lte(to))
        .into_tuple()
        .all(db)
        .await?;
    let mut sums: BTreeMap<(NaiveDate, String), i64> = BTreeMap::new();
    let key: HashMap<Uuid, (NaiveDate, String)> = txns
        .into_iter()
        .filter_map(|(id, d, m)| Some((id, (d?, m?))))
        .collect();
    let ids: Vec<Uuid> = key.keys().copied().collect();
    for chunk in ids.chunks(500) {
        for e in ledger_entry::Entity::find()
            .filter(ledger_entry::Column::TransactionId.is_in(chunk.to_vec()))
            .filter(
                ledger_entry::Column::AccountCode
                    .is_in([Account::Bank.code(), Account::CardClearing.code()]),
            )
            .all(db)
            .await?
        {
            if let Some(k) = key.get(&e.transaction_id) {
                *sums.entry(k.clone()).or_default() += e.amount_pence;
            }
        }
    }
    let mut settled: BTreeMap<(NaiveDate, String), (i64, String)> = BTreeMap::new();
    for s in settlement::Entity::find()
        .filter(settlement::Column::Day.gte(from))
        .filter(settlement::Column::Day.lte(to))
        .all(db)
        .await?
    {
        settled.insert((s.day, s.method), (s.amount_pence, s.reference));
    }
    let mut keys: Vec<(NaiveDate, String)> = sums.keys().chain(settled.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.reverse();
    Ok(keys
        .into_iter()
        .map(|k| {
            let ledger = sums.get(&k).copied().unwrap_or(0);
            let s = settled.get(&k);
            ReconRow {
                day: k.0,
                method: k.1,
                ledger: Money::from_pence(ledger),
                settled: s.map(|(a, _)| Money::from_pence(*a)),
                reference: s.map(|(_, r)| r.clone()),
                difference: s.map(|(a, _)| Money::from_pence(a - ledger)),
            }
        })
        .collect())
}

/// One settlement figure as typed or imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementInput {
    pub day: NaiveDate,
    pub method: String,
    pub amount: Money,
    pub reference: String,
}

fn parse_settlement(
    day: &str,
    method: &str,
    amount: &str,
    reference: &str,
) -> Result<SettlementInput, Vec<(&'static str, String)>> {
    let mut errs = Vec::new();
    let d = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
        .map_err(|_| errs.push(("day", "Enter the day like 2026-11-20".to_owned())))
        .ok();
    let method = method.trim().to_lowercase().replace(' ', "_");
    if !METHODS.iter().any(|(v, _)| *v == method) {
        errs.push((
            "method",
            "Choose card, cheque, bank_transfer or direct_debit".to_owned(),
        ));
    }
    let a = Money::parse_signed(amount)
        .map_err(|e| errs.push(("amount", e.to_string())))
        .ok();
    let reference = reference.trim().to_owned();
    if reference.chars().count() > 80 {
        errs.push((
            "reference",
            "The reference must be 80 characters or fewer".to_owned(),
        ));
    }
    match (d, a) {
        (Some(day), Some(amount)) if errs.is_empty() => Ok(SettlementInput {
            day,
            method,
            amount,
            reference,
        }),
        _ => Err(errs),
    }
}

async fn save_settlements(
    db: &DatabaseConnection,
    actor: &Actor,
    list: Vec<SettlementInput>,
) -> Result<usize, AppError> {
    let txn = crate::service::begin(db).await?;
    let n = list.len();
    for s in list {
        settlement::Entity::insert(settlement::ActiveModel {
            id: Set(crate::service::new_id()),
            day: Set(s.day),
            method: Set(s.method.clone()),
            amount_pence: Set(s.amount.pence()),
            reference: Set(s.reference.clone()),
            created_at: Set(crate::service::now()),
            created_by: Set(actor.label.clone()),
        })
        .on_conflict(
            OnConflict::columns([settlement::Column::Day, settlement::Column::Method])
                .update_columns([
                    settlement::Column::AmountPence,
                    settlement::Column::Reference,
                    settlement::Column::CreatedAt,
                    settlement::Column::CreatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        audit::record(
            &txn,
            actor,
            "settlement",
            format!("{}:{}", s.day, s.method),
            AuditAction::SettlementRecorded,
            None,
            Some(json!({"day": s.day, "method": s.method, "amount": s.amount.to_string(), "reference": s.reference})),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(n)
}

/// Finance enters what was settled on a day by a method (replacing an earlier figure).
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn record_settlement(
    db: &DatabaseConnection,
    actor: &Actor,
    day: &str,
    method: &str,
    amount: &str,
    reference: &str,
) -> Result<usize, AppError> {
    actor.require(Permission::Reconcile)?;
    let s = parse_settlement(day, method, amount, reference).map_err(|errs| {
        let mut e = FieldErrors::new();
        for (f, m) in errs {
            e.add(f, m);
        }
        AppError::Validation(e)
    })?;
    save_settlements(db, actor, vec![s]).await
}

/// Finance imports settlement figures as CSV (`date,method,amount[,reference]`, a header line allowed):
/// every row is checked first and nothing is saved unless all are good.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn import_settlements(
    db: &DatabaseConnection,
    actor: &Actor,
    text: &str,
) -> Result<usize, AppError> {
    actor.require(Permission::Reconcile)?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut list = Vec::new();
    let mut problems = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("Row {line}: {e}"));
                continue;
            }
        };
        if rec.iter().all(str::is_empty) {
            continue;
        }
        if line == 1 && rec.get(0).is_some_and(|c| c.eq_ignore_ascii_case("date")) {
            continue;
        }
        if rec.len() < 3 {
            problems.push(format!(
                "Row {line}: expected date, method, amount and an optional reference"
            ));
            continue;
        }
        match parse_settlement(&rec[0], &rec[1], &rec[2], rec.get(3).unwrap_or("")) {
            Ok(s) => list.push(s),
            Err(errs) => problems.push(format!(
                "Row {line}: {}",
                errs.into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        }
    }
    if list.is_empty() && problems.is_empty() {
        problems.push("The file has no rows".into());
    }
    if !problems.is_empty() {
        problems.truncate(20);
        return Err(AppError::field("csv", problems.join(". ")));
    }
    save_settlements(db, actor, list).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settlement_rows_name_what_is_wrong() {
        assert!(parse_settlement("2026-11-20", "card", "120.50", "po_1").is_ok());
        let e = parse_settlement("20/11/2026", "paypal", "x", "").expect_err("bad");
        let fields: Vec<_> = e.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, vec!["day", "method", "amount"]);
    }
}
