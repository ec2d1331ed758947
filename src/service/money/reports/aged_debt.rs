//! Aged debt: what members owe on open invoices, by age.

use super::{cell, members_by_id};
use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::{Actor, AppError, Permission};
use crate::service::money::member_name;
use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

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
    use crate::service::money::debts;
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
}
