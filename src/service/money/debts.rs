//! What is owed, kept as invoices are raised and paid: each member's total on open invoices
//! (`member_debts`) and the total by the day the invoices were issued (`debt_days`). The owed tile and
//! the aged-debt page read these few rows instead of every open invoice. Every change to an invoice's
//! outstanding amount goes through [`Debts`] in the same transaction; [`rebuild`] works them out again
//! from the invoices.

use crate::domain::AppError;
use crate::service::add_to_totals;
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Changes to what is owed, gathered and then written in key order (so concurrent changes lock rows
/// in one order).
#[derive(Debug, Default)]
pub(crate) struct Debts {
    members: BTreeMap<Uuid, i64>,
    days: BTreeMap<NaiveDate, i64>,
}

impl Debts {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// `member_id` owes `pence` more (less when negative) on an invoice issued on `issued_on`.
    pub(crate) fn add(&mut self, member_id: Uuid, issued_on: NaiveDate, pence: i64) {
        if pence != 0 {
            *self.members.entry(member_id).or_default() += pence;
            *self.days.entry(issued_on).or_default() += pence;
        }
    }

    /// Writes the changes.
    pub(crate) async fn apply<C: ConnectionTrait>(self, db: &C) -> Result<(), AppError> {
        // Only a debt paid down can reach nothing.
        let paid_down = self
            .members
            .values()
            .chain(self.days.values())
            .any(|n| *n < 0);
        let members = self
            .members
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .map(|(k, n)| (vec![k.into()], n))
            .collect();
        let days = self
            .days
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .map(|(k, n)| (vec![k.into()], n))
            .collect();
        add_to_totals(db, "member_debts", &["member_id"], "owed_pence", members).await?;
        add_to_totals(db, "debt_days", &["issued_on"], "owed_pence", days).await?;
        if paid_down {
            // Nothing owed is no row: the tables stay as small as the debts.
            for table in ["member_debts", "debt_days"] {
                db.execute_unprepared(&format!("DELETE FROM {table} WHERE owed_pence = 0"))
                    .await?;
            }
        }
        Ok(())
    }
}

/// One change, written at once.
pub(crate) async fn add<C: ConnectionTrait>(
    db: &C,
    member_id: Uuid,
    issued_on: NaiveDate,
    pence: i64,
) -> Result<(), AppError> {
    let mut d = Debts::new();
    d.add(member_id, issued_on, pence);
    d.apply(db).await
}

/// The open invoices' amounts, as the kept rows should hold them.
const FROM_INVOICES: &str =
    "FROM documents WHERE status = 'open' AND kind = 'invoice' AND outstanding_pence > 0";

/// Works the kept debts out again from the open invoices (one transaction).
pub async fn rebuild(db: &DatabaseConnection) -> Result<(), AppError> {
    let txn = db.begin().await?;
    for sql in [
        "DELETE FROM member_debts".to_owned(),
        "DELETE FROM debt_days".to_owned(),
        format!(
            "INSERT INTO member_debts (member_id, owed_pence) \
             SELECT member_id, SUM(outstanding_pence) {FROM_INVOICES} GROUP BY member_id"
        ),
        format!(
            "INSERT INTO debt_days (issued_on, owed_pence) \
             SELECT issued_on, SUM(outstanding_pence) {FROM_INVOICES} GROUP BY issued_on"
        ),
    ] {
        txn.execute_unprepared(&sql).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Rebuilds the kept debts of a database that has open invoices but none kept (one migrated from
/// before they were kept).
pub async fn ensure(db: &DatabaseConnection) -> Result<(), AppError> {
    let backend = db.get_database_backend();
    let any = |sql: &str| {
        let stmt = Statement::from_string(backend, sql.to_owned());
        async move { Ok::<bool, AppError>(db.query_one_raw(stmt).await?.is_some()) }
    };
    if !any("SELECT 1 FROM debt_days LIMIT 1").await?
        && any(&format!("SELECT 1 {FROM_INVOICES} LIMIT 1")).await?
    {
        rebuild(db).await?;
    }
    Ok(())
}

/// Everything owed, and by how many members.
pub async fn owed<C: ConnectionTrait>(db: &C) -> Result<(i64, u64), AppError> {
    let total = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(SUM(owed_pence) AS BIGINT) AS total FROM debt_days",
        ))
        .await?
        .map(|r| r.try_get::<Option<i64>>("", "total"))
        .transpose()?
        .flatten()
        .unwrap_or(0);
    Ok((total, members_owing(db).await?))
}

/// How many members owe something.
pub async fn members_owing<C: ConnectionTrait>(db: &C) -> Result<u64, AppError> {
    let n = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM member_debts WHERE owed_pence > 0",
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The total owed on invoices issued on each day, in day order.
pub async fn by_day<C: ConnectionTrait>(db: &C) -> Result<Vec<(NaiveDate, i64)>, AppError> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT issued_on, owed_pence FROM debt_days ORDER BY issued_on",
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<NaiveDate>("", "issued_on")?,
                r.try_get::<i64>("", "owed_pence")?,
            ))
        })
        .collect()
}

/// The `limit` members who owe most, largest first (ties by id, last first: the index read backwards).
pub async fn largest<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<Uuid>, AppError> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT member_id FROM member_debts WHERE owed_pence > 0 \
                 ORDER BY owed_pence DESC, member_id DESC LIMIT {limit}"
            ),
        ))
        .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<Uuid>("", "member_id")?))
        .collect()
}
