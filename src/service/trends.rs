//! Membership movements over time, from the kept history: who joined, renewed, changed category,
//! lapsed, resigned or was reinstated, and when; the weekly series behind the dashboard's chart and the
//! weekly **Trade Report** (Monday to Sunday: new memberships by category, renewals, adjustments,
//! resignations, lapses, reinstatements and income).
//!
//! Each member's periods are read in order and classified by `domain::movements`.

use crate::domain::money::Money;
use crate::domain::movements::{classify, Left, Span};
pub use crate::domain::movements::{Moved, Movement};
use crate::domain::{Actor, AppError, Permission};
use crate::entity::membership_event::EventKind;
use crate::entity::payment::Direction;
use crate::entity::{category, membership_event, payment, period};
use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Every member's movements up to `as_of`, from their periods and events (read in full: the reports
/// read the kept counts instead, see `service::summary`; this is the plain computation they are
/// checked against).
pub async fn movements<C: ConnectionTrait>(
    db: &C,
    as_of: NaiveDate,
) -> Result<Vec<Moved>, AppError> {
    let categories: HashMap<Uuid, category::Model> = crate::entity::category::by_id(db).await?;
    let mut by_member: BTreeMap<Uuid, Vec<period::Model>> = BTreeMap::new();
    for p in period::Entity::find()
        .filter(period::Column::PaidState.ne("unpaid"))
        .order_by_asc(period::Column::StartOn)
        .order_by_asc(period::Column::CreatedAt)
        .all(db)
        .await?
    {
        by_member.entry(p.member_id).or_default().push(p);
    }
    let mut left: HashMap<Uuid, Left> = HashMap::new();
    for e in membership_event::Entity::find()
        .filter(membership_event::Column::Kind.is_in([EventKind::Resigned, EventKind::Removed]))
        .all(db)
        .await?
    {
        left.entry(e.member_id)
            .or_default()
            .add(e.kind.as_str(), e.on_date, e.effective_on);
    }
    let grace_of = |id: Uuid| {
        categories
            .get(&id)
            .map(|c| i64::from(c.grace_days))
            .unwrap_or(30)
    };
    let mut out = Vec::new();
    for (member_id, l) in &left {
        if !by_member.contains_key(member_id) {
            out.extend(l.resignations(*member_id, None));
        }
    }
    for (member_id, periods) in by_member {
        let spans: Vec<Span> = periods.iter().map(span_of).collect();
        out.extend(classify(
            member_id,
            &spans,
            left.get(&member_id).unwrap_or(&Left::default()),
            None,
            grace_of,
        ));
    }
    out.retain(|m| m.on <= as_of);
    Ok(out)
}

/// What a classification needs of a stored period.
fn span_of(p: &period::Model) -> Span {
    Span {
        category_id: p.category_id,
        start_on: p.start_on,
        end_on: p.end_on,
        paid_on: p.paid_on,
    }
}

/// The day typed for a week (`YYYY-MM-DD`, any day of it), or today when empty.
pub fn parse_week(s: &str) -> Result<NaiveDate, AppError> {
    match s.trim() {
        "" => Ok(crate::service::today()),
        t => NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
            AppError::field("week", "Enter a date as YYYY-MM-DD, for example 2026-11-23")
        }),
    }
}

/// The Monday of `d`'s week.
pub fn monday(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// One week of the chart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Week {
    pub from: NaiveDate,
    pub joined: u64,
    pub renewed: u64,
    pub lapsed: u64,
    pub resigned: u64,
}

/// The last `weeks` weeks to `as_of`'s week (oldest first): joiners, renewals, lapses, resignations.
pub async fn weekly<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    as_of: NaiveDate,
    weeks: usize,
) -> Result<Vec<Week>, AppError> {
    actor.require(Permission::StaffArea)?;
    let last = monday(as_of);
    let first = last - Duration::weeks(i64::try_from(weeks.saturating_sub(1)).unwrap_or(0));
    let mut rows: Vec<Week> = (0..weeks)
        .map(|i| Week {
            from: first + Duration::weeks(i as i64),
            ..Default::default()
        })
        .collect();
    let kinds = ["joined", "renewed", "lapsed", "resigned"];
    for (kind, on, n) in crate::service::summary::by_day(db, &kinds, first, as_of).await? {
        let i = usize::try_from((on - first).num_days() / 7).unwrap_or(usize::MAX);
        let Some(w) = rows.get_mut(i) else { continue };
        let n = u64::try_from(n).unwrap_or(0);
        match kind.as_str() {
            "joined" => w.joined += n,
            "renewed" => w.renewed += n,
            "lapsed" => w.lapsed += n,
            "resigned" => w.resigned += n,
            _ => {}
        }
    }
    Ok(rows)
}

/// A category's line in the Trade Report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TradeLine {
    pub category: String,
    pub joined: u64,
    pub renewed: u64,
    pub adjusted: u64,
    pub reinstated: u64,
    pub lapsed: u64,
}

/// The weekly Trade Report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TradeReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Categories with any movement, in the categories' order.
    pub lines: Vec<TradeLine>,
    pub totals: TradeLine,
    pub resigned: u64,
    /// Money in by method (every method), refunds paid out, and the net.
    pub income: Vec<(&'static str, Money)>,
    pub refunds: Money,
    pub net: Money,
}

/// The Trade Report for the week (Monday to Sunday) holding `day`.
pub async fn trade_report<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    day: NaiveDate,
) -> Result<TradeReport, AppError> {
    actor.require(Permission::ViewReports)?;
    let from = monday(day);
    let to = from + Duration::days(6);
    let mut cats: Vec<category::Model> = category::Entity::find().all(db).await?;
    cats.sort_by_key(|c| (c.sort_order, c.name.clone()));
    let mut lines: HashMap<Uuid, TradeLine> = HashMap::new();
    let mut resigned = 0;
    // Nothing after today has happened yet.
    let until = std::cmp::Ord::min(to, crate::service::today());
    let kinds = [
        "joined",
        "renewed",
        "adjusted",
        "reinstated",
        "lapsed",
        "resigned",
    ];
    for (kind, cat, n) in crate::service::summary::grouped(db, &kinds, from, until).await? {
        let n = u64::try_from(n).unwrap_or(0);
        if kind == "resigned" {
            resigned += n;
            continue;
        }
        if n == 0 {
            continue;
        }
        let l = lines.entry(cat).or_default();
        match kind.as_str() {
            "joined" => l.joined += n,
            "renewed" => l.renewed += n,
            "adjusted" => l.adjusted += n,
            "reinstated" => l.reinstated += n,
            "lapsed" => l.lapsed += n,
            _ => {}
        }
    }
    let mut totals = TradeLine {
        category: "All categories".into(),
        ..Default::default()
    };
    let mut out = Vec::new();
    for c in &cats {
        if let Some(mut l) = lines.remove(&c.id) {
            l.category = c.name.clone();
            totals.joined += l.joined;
            totals.renewed += l.renewed;
            totals.adjusted += l.adjusted;
            totals.reinstated += l.reinstated;
            totals.lapsed += l.lapsed;
            out.push(l);
        }
    }
    let payments = payment::Entity::find()
        .filter(payment::Column::ReceivedOn.gte(from))
        .filter(payment::Column::ReceivedOn.lte(to))
        .all(db)
        .await?;
    let mut by_method: HashMap<&str, i64> = HashMap::new();
    let mut refunds = 0i64;
    for p in &payments {
        if p.direction == Direction::In {
            *by_method.entry(p.method.as_str()).or_default() += p.amount_pence;
        } else {
            refunds += p.amount_pence;
        }
    }
    let income: Vec<(&'static str, Money)> = crate::domain::payments::METHODS
        .iter()
        .map(|(v, label)| {
            (
                *label,
                Money::from_pence(by_method.get(v).copied().unwrap_or(0)),
            )
        })
        .collect();
    let gross: i64 = by_method.values().sum();
    Ok(TradeReport {
        from,
        to,
        lines: out,
        totals,
        resigned,
        income,
        refunds: Money::from_pence(refunds),
        net: Money::from_pence(gross - refunds),
    })
}

/// The Trade Report as CSV: UTF-8 with a byte-order mark and CRLF line ends, so Excel opens it as it is.
pub fn trade_report_csv(r: &TradeReport) -> Result<Vec<u8>, AppError> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    let e = AppError::internal;
    w.write_record([format!("Trade Report {} to {}", r.from, r.to)])
        .map_err(e)?;
    w.write_record([
        "Category",
        "New memberships",
        "Renewals",
        "Adjustments",
        "Reinstatements",
        "Lapses",
    ])
    .map_err(e)?;
    for l in r.lines.iter().chain(std::iter::once(&r.totals)) {
        w.write_record([
            crate::service::money::reports::cell(&l.category),
            l.joined.to_string(),
            l.renewed.to_string(),
            l.adjusted.to_string(),
            l.reinstated.to_string(),
            l.lapsed.to_string(),
        ])
        .map_err(e)?;
    }
    w.write_record(["Resignations".to_owned(), r.resigned.to_string()])
        .map_err(e)?;
    w.write_record(["Income", "Amount"]).map_err(e)?;
    for (label, m) in &r.income {
        w.write_record([(*label).to_owned(), m.plain()])
            .map_err(e)?;
    }
    w.write_record(["Refunds".to_owned(), r.refunds.plain()])
        .map_err(e)?;
    w.write_record(["Net".to_owned(), r.net.plain()])
        .map_err(e)?;
    w.into_inner().map_err(AppError::internal)
}

/// Movements in one month, with the same month a year before.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonthRow {
    /// The first day of the month.
    pub month: NaiveDate,
    pub joined: u64,
    pub renewed: u64,
    pub lapsed: u64,
    pub resigned: u64,
    /// The same month a year earlier: joined, renewed, lapsed, resigned.
    pub last_year: [u64; 4],
}

fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The last `months` months to `as_of`'s (oldest first), each with the same month the year before.
pub async fn monthly<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    as_of: NaiveDate,
    months: u32,
) -> Result<Vec<MonthRow>, AppError> {
    actor.require(Permission::ViewReports)?;
    let mut counts: HashMap<NaiveDate, [u64; 4]> = HashMap::new();
    let from = month_of(as_of)
        .checked_sub_months(chrono::Months::new(months.saturating_add(12)))
        .unwrap_or(NaiveDate::MIN);
    let kinds = ["joined", "renewed", "lapsed", "resigned"];
    for (kind, on, n) in crate::service::summary::by_day(db, &kinds, from, as_of).await? {
        let i = match kind.as_str() {
            "joined" => 0,
            "renewed" => 1,
            "lapsed" => 2,
            _ => 3,
        };
        counts.entry(month_of(on)).or_default()[i] += u64::try_from(n).unwrap_or(0);
    }
    let last = month_of(as_of);
    Ok((0..months)
        .rev()
        .filter_map(|back| last.checked_sub_months(chrono::Months::new(back)))
        .map(|month| {
            let c = counts.get(&month).copied().unwrap_or_default();
            let ly = month
                .checked_sub_months(chrono::Months::new(12))
                .and_then(|d| counts.get(&d).copied())
                .unwrap_or_default();
            MonthRow {
                month,
                joined: c[0],
                renewed: c[1],
                lapsed: c[2],
                resigned: c[3],
                last_year: ly,
            }
        })
        .collect())
}

/// One category's renewal rate and attrition over a stretch of days.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CategoryRates {
    pub category: String,
    /// Members (active or in grace) at the start.
    pub members_at_start: u64,
    pub renewed: u64,
    pub lapsed: u64,
    pub resigned: u64,
}

impl CategoryRates {
    /// Renewed out of those whose renewal fell due (renewed or lapsed), in whole per cent.
    pub fn renewal_rate(&self) -> Option<u64> {
        let due = self.renewed + self.lapsed;
        (due > 0).then(|| (self.renewed * 200 + due) / (due * 2))
    }

    /// Lapsed or resigned out of the members at the start, in whole per cent.
    pub fn attrition(&self) -> Option<u64> {
        let n = self.members_at_start;
        (n > 0).then(|| ((self.lapsed + self.resigned) * 200 + n) / (n * 2))
    }
}

/// Renewal rate and attrition by category from `from` to `to` (a resignation counts in the category
/// the member was in).
pub async fn by_category<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CategoryRates>, AppError> {
    actor.require(Permission::ViewReports)?;
    let mut cats: Vec<category::Model> = category::Entity::find().all(db).await?;
    cats.sort_by_key(|c| (c.sort_order, c.name.clone()));
    use crate::service::summary;
    let mut rows: HashMap<Uuid, CategoryRates> = HashMap::new();
    for (cat, n) in summary::members_by_category(db, from).await? {
        if n != 0 {
            rows.entry(cat).or_default().members_at_start = u64::try_from(n).unwrap_or(0);
        }
    }
    let kinds = ["renewed", "lapsed", "resigned"];
    for (kind, cat, n) in summary::grouped(db, &kinds, from, to).await? {
        if n == 0 {
            continue;
        }
        let r = rows.entry(cat).or_default();
        let n = u64::try_from(n).unwrap_or(0);
        match kind.as_str() {
            "renewed" => r.renewed += n,
            "lapsed" => r.lapsed += n,
            _ => r.resigned += n,
        }
    }
    Ok(cats
        .iter()
        .filter_map(|c| {
            rows.remove(&c.id).map(|mut r| {
                r.category = c.name.clone();
                r
            })
        })
        .collect())
}

/// The monthly trends and the category rates as one CSV (BOM, CRLF).
pub fn trends_csv(months: &[MonthRow], cats: &[CategoryRates]) -> Result<Vec<u8>, AppError> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    let e = AppError::internal;
    w.write_record([
        "Month",
        "Joined",
        "Joined a year before",
        "Renewed",
        "Renewed a year before",
        "Lapsed",
        "Lapsed a year before",
        "Resigned",
        "Resigned a year before",
    ])
    .map_err(e)?;
    for m in months {
        w.write_record([
            m.month.format("%Y-%m").to_string(),
            m.joined.to_string(),
            m.last_year[0].to_string(),
            m.renewed.to_string(),
            m.last_year[1].to_string(),
            m.lapsed.to_string(),
            m.last_year[2].to_string(),
            m.resigned.to_string(),
            m.last_year[3].to_string(),
        ])
        .map_err(e)?;
    }
    w.write_record([""]).map_err(e)?;
    w.write_record([
        "Category",
        "Members at start",
        "Renewed",
        "Lapsed",
        "Resigned",
        "Renewal rate %",
        "Attrition %",
    ])
    .map_err(e)?;
    for c in cats {
        w.write_record([
            crate::service::money::reports::cell(&c.category),
            c.members_at_start.to_string(),
            c.renewed.to_string(),
            c.lapsed.to_string(),
            c.resigned.to_string(),
            c.renewal_rate().map(|p| p.to_string()).unwrap_or_default(),
            c.attrition().map(|p| p.to_string()).unwrap_or_default(),
        ])
        .map_err(e)?;
    }
    w.into_inner().map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(monday(d(2026, 11, 23)), d(2026, 11, 23)); // a Monday
        assert_eq!(monday(d(2026, 11, 29)), d(2026, 11, 23)); // Sunday
        assert_eq!(monday(d(2026, 11, 22)), d(2026, 11, 16));
    }
}
