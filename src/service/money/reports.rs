//! Finance's reports: transaction history (filterable, with CSV), aged debt, and reconciliation of the
//! ledger's takings per day and method against the settlement figures the bank or provider reports.

use super::member_name;
use crate::domain::ledger::Account;
use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::payments::{self as pay, METHODS, TRANSACTION_KINDS};
use crate::domain::{Actor, AppError, FieldErrors, Permission};
use crate::entity::{ledger_entry, ledger_transaction, member, settlement};
use crate::service::audit;
use chrono::NaiveDate;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
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

/// The members with these ids, read in chunks.
async fn members_by_id<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, member::Model>, AppError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for m in member::Entity::find()
            .filter(member::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            out.insert(m.id, m);
        }
    }
    Ok(out)
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
            .filter(ledger_entry::Column::AmountPence.gt(0))
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

/// A cell that a spreadsheet would take as a formula is prefixed with `'`.
pub fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
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

/// One member's open invoices by age.
#[derive(Clone, Debug)]
pub struct AgedRow {
    pub member_id: Uuid,
    pub membership_number: String,
    pub member_name: String,
    /// 0–30, 31–60, 61–90 and over 90 days since the invoice date.
    pub buckets: [Money; 4],
    pub total: Money,
    pub oldest: NaiveDate,
}

/// Which bucket an invoice `days` old falls in.
pub fn bucket(days: i64) -> usize {
    match days {
        ..=30 => 0,
        31..=60 => 1,
        61..=90 => 2,
        _ => 3,
    }
}

/// How many members the aged-debt page lists (the CSV has them all).
pub const AGED_DEBT_PAGE: u64 = 100;

/// What members owe on open invoices, by age on `as_of`.
#[derive(Clone, Debug)]
pub struct AgedDebt {
    /// Largest debts first (at most the limit asked for).
    pub rows: Vec<AgedRow>,
    /// The column totals over every member: 0–30, 31–60, 61–90, over 90 days, and all.
    pub totals: [Money; 5],
    /// How many members owe anything.
    pub members: u64,
}

/// What members owe on open invoices, by age on `as_of`: the `limit` largest debts (every one when
/// `None`), and the totals and number of members over all of them. Summed by the database from the
/// open invoices' index, so the page costs the same however many members owe.
pub async fn aged_debt<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    as_of: NaiveDate,
    limit: Option<u64>,
) -> Result<AgedDebt, AppError> {
    use super::debts;
    use sea_orm::{DatabaseBackend, Statement};
    actor.require(Permission::ViewReports)?;
    let days = |n: i64| as_of - chrono::Duration::days(n);
    // Days 0–30: issued on or after as_of − 30; 31–60: from as_of − 60; 61–90: from as_of − 90.
    let sums = "CAST(SUM(CASE WHEN issued_on >= $2 THEN outstanding_pence ELSE 0 END) AS BIGINT) AS b0, \
         CAST(SUM(CASE WHEN issued_on < $2 AND issued_on >= $3 THEN outstanding_pence ELSE 0 END) AS BIGINT) AS b1, \
         CAST(SUM(CASE WHEN issued_on < $3 AND issued_on >= $4 THEN outstanding_pence ELSE 0 END) AS BIGINT) AS b2, \
         CAST(SUM(CASE WHEN issued_on < $4 THEN outstanding_pence ELSE 0 END) AS BIGINT) AS b3";
    // An invoice is `open` exactly while something is outstanding (the index reads by status).
    let open = "FROM documents WHERE status = 'open' AND kind = 'invoice' \
         AND outstanding_pence > 0 AND issued_on <= $1";
    let backend = db.get_database_backend();
    // `ids` become $5, $6….
    let stmt = |sql: String, ids: &[Uuid]| {
        let mut values: Vec<sea_orm::Value> = vec![
            as_of.into(),
            days(30).into(),
            days(60).into(),
            days(90).into(),
        ];
        let mut sql = sql.replace(
            "$IDS",
            &(5..5 + ids.len())
                .map(|n| format!("${n}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        values.extend(ids.iter().map(|id| sea_orm::Value::from(*id)));
        // SQLite numbers its parameters ?1, ?2…; PostgreSQL $1, $2….
        if backend != DatabaseBackend::Postgres {
            sql = sql.replace('$', "?");
        }
        Statement::from_sql_and_values(backend, sql, values)
    };
    let pence = |r: &sea_orm::QueryResult, c: &str| -> Result<i64, AppError> {
        Ok(r.try_get::<Option<i64>>("", c)?.unwrap_or(0))
    };
    let mut totals = [0i64; 5];
    let members;
    // What is owed by invoice date (kept), only for a page.
    let kept_days = match limit {
        Some(_) => debts::by_day(db).await?,
        None => Vec::new(),
    };
    let found = match limit {
        // A page on a day after every open invoice: the totals from the kept debts by day, the page's
        // members from the kept debts by member, and only their invoices read.
        Some(limit) if kept_days.last().is_none_or(|(day, _)| *day <= as_of) => {
            for (day, owed) in kept_days {
                totals[bucket((as_of - day).num_days())] += owed;
            }
            members = debts::members_owing(db).await?;
            let ids = debts::largest(db, limit).await?;
            if ids.is_empty() {
                Vec::new()
            } else {
                db.query_all_raw(stmt(
                    format!(
                        "SELECT member_id, {sums}, CAST(SUM(outstanding_pence) AS BIGINT) AS total, \
                         MIN(issued_on) AS oldest {open} AND member_id IN ($IDS) GROUP BY member_id"
                    ),
                    &ids,
                ))
                .await?
            }
        }
        // Every member, or a day in the past: summed from the open invoices.
        _ => {
            let r = db
                .query_one_raw(stmt(
                    format!("SELECT {sums}, COUNT(DISTINCT member_id) AS members {open}"),
                    &[],
                ))
                .await?;
            members = match &r {
                Some(r) => {
                    for (i, c) in ["b0", "b1", "b2", "b3"].iter().enumerate() {
                        totals[i] = pence(r, c)?;
                    }
                    u64::try_from(r.try_get::<i64>("", "members")?).unwrap_or(0)
                }
                None => 0,
            };
            let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
            db.query_all_raw(stmt(
                format!(
                    "SELECT member_id, {sums}, CAST(SUM(outstanding_pence) AS BIGINT) AS total, \
                     MIN(issued_on) AS oldest {open} GROUP BY member_id \
                     ORDER BY total DESC, member_id DESC{limit}"
                ),
                &[],
            ))
            .await?
        }
    };
    totals[4] = totals[..4].iter().sum();
    let mut page = Vec::with_capacity(found.len());
    for r in &found {
        let b = [
            pence(r, "b0")?,
            pence(r, "b1")?,
            pence(r, "b2")?,
            pence(r, "b3")?,
        ];
        page.push((
            r.try_get::<Uuid>("", "member_id")?,
            b,
            r.try_get::<NaiveDate>("", "oldest")?,
        ));
    }
    let ids: Vec<Uuid> = page.iter().map(|(id, ..)| *id).collect();
    let named = members_by_id(db, &ids).await?;
    let mut rows: Vec<AgedRow> = page
        .into_iter()
        .map(|(id, b, oldest)| {
            let m = named.get(&id);
            AgedRow {
                member_id: id,
                membership_number: m
                    .map(|m| MembershipNumber::text_of(m.membership_number))
                    .unwrap_or_default(),
                member_name: m.map(member_name).unwrap_or_default(),
                buckets: b.map(Money::from_pence),
                total: Money::from_pence(b.iter().sum()),
                oldest,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.total
            .pence()
            .cmp(&a.total.pence())
            .then(a.membership_number.cmp(&b.membership_number))
    });
    Ok(AgedDebt {
        rows,
        totals: totals.map(Money::from_pence),
        members,
    })
}

/// The aged-debt report as CSV.
pub fn aged_debt_csv(rows: &[AgedRow]) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record([
        "Membership number",
        "Member",
        "0-30 days",
        "31-60 days",
        "61-90 days",
        "Over 90 days",
        "Total",
        "Oldest invoice",
    ])
    .map_err(AppError::internal)?;
    for r in rows {
        let mut rec = vec![r.membership_number.clone(), cell(&r.member_name)];
        rec.extend(r.buckets.iter().map(|b| b.plain()));
        rec.push(r.total.plain());
        rec.push(r.oldest.format("%Y-%m-%d").to_string());
        w.write_record(rec).map_err(AppError::internal)?;
    }
    w.into_inner().map_err(AppError::internal)
}

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
            "settlement_recorded",
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
    fn invoices_age_into_the_four_buckets() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(30), 0);
        assert_eq!(bucket(31), 1);
        assert_eq!(bucket(60), 1);
        assert_eq!(bucket(61), 2);
        assert_eq!(bucket(90), 2);
        assert_eq!(bucket(91), 3);
    }

    #[test]
    fn formula_like_cells_are_defused() {
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("Smith"), "Smith");
    }

    #[test]
    fn settlement_rows_name_what_is_wrong() {
        assert!(parse_settlement("2026-11-20", "card", "120.50", "po_1").is_ok());
        let e = parse_settlement("20/11/2026", "paypal", "x", "").expect_err("bad");
        let fields: Vec<_> = e.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, vec!["day", "method", "amount"]);
    }
}
