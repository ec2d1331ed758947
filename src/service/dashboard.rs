//! The staff dashboard's figures, as of a day: members by status, joiners this week, renewals due in
//! the next 30 days, the renewal rate this month against the same days last year, income this month by
//! method, what members owe, requests awaiting a second person and e-mails that failed. Each figure is
//! read fresh; the page fetches them again whenever an event says something changed
//! (`service::events`).

pub use crate::domain::lists::{List, STATUS_ORDER};
use crate::domain::membership::{status_on, Status};
use crate::domain::money::Money;
use crate::domain::{Actor, AppError, Permission};
use crate::entity::membership_event::to_event;
use crate::entity::outbox_message::OutboxStatus;
use crate::entity::{member, membership_event, money_request, outbox_message, payment, period};
use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Renewed out of due, for a stretch of days.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rate {
    /// Paid periods that ended in the stretch.
    pub due: u64,
    /// Of those, the members with a later period (renewed, or reinstated since).
    pub renewed: u64,
}

impl Rate {
    /// Whole per cent, rounded half up; `None` when nothing was due.
    pub fn percent(&self) -> Option<u64> {
        (self.due > 0).then(|| (self.renewed * 200 + self.due) / (self.due * 2))
    }
}

/// The dashboard's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tiles {
    pub as_of: NaiveDate,
    /// Every status with its count, in the order of [`STATUS_ORDER`].
    pub by_status: Vec<(Status, u64)>,
    pub joiners_this_week: u64,
    /// Monday of this week.
    pub week_from: NaiveDate,
    pub renewals_due_30: u64,
    pub renewal_rate: Rate,
    pub renewal_rate_last_year: Rate,
    /// Money received this month, by method (every method, zero included).
    pub income_by_method: Vec<(&'static str, &'static str, Money)>,
    pub income_total: Money,
    /// Open invoices: what is owed and by how many members.
    pub outstanding: Money,
    pub members_owing: u64,
    pub requests_waiting: u64,
    pub outbox_failed: u64,
}

/// The figures as of `as_of`.
pub async fn tiles<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    as_of: NaiveDate,
) -> Result<Tiles, AppError> {
    actor.require(Permission::StaffArea)?;
    let week_from = as_of - Duration::days(i64::from(as_of.weekday().num_days_from_monday()));
    let month_from = as_of.with_day(1).unwrap_or(as_of);
    let (this_year, renewal_rate_last_year) = renewal_rates(db, as_of).await?;
    let (income_by_method, income_total) = income(db, month_from, as_of).await?;
    let (outstanding, members_owing) = owed(db).await?;
    Ok(Tiles {
        as_of,
        by_status: members_by_status(db, as_of).await?,
        joiners_this_week: joiners(db, week_from, as_of).await?,
        week_from,
        renewals_due_30: renewals_due(db, as_of, as_of + Duration::days(30)).await?,
        renewal_rate: this_year,
        renewal_rate_last_year,
        income_by_method,
        income_total,
        outstanding,
        members_owing,
        requests_waiting: requests_waiting(db).await?,
        outbox_failed: outbox_failed(db).await?,
    })
}

/// The tiles by name, for the benchmark: each is fetched as the dashboard fetches it.
pub const TILE_NAMES: [&str; 8] = [
    "members_by_status",
    "joiners_this_week",
    "renewals_due_30",
    "renewal_rate",
    "income_by_method",
    "outstanding",
    "requests_waiting",
    "outbox_failed",
];

/// Fetches tile `name` as of `as_of` (see [`TILE_NAMES`]).
pub async fn fetch_tile<C: ConnectionTrait>(
    db: &C,
    name: &str,
    as_of: NaiveDate,
) -> Result<(), AppError> {
    let week_from = as_of - Duration::days(i64::from(as_of.weekday().num_days_from_monday()));
    let month_from = as_of.with_day(1).unwrap_or(as_of);
    match name {
        "members_by_status" => drop(members_by_status(db, as_of).await?),
        "joiners_this_week" => drop(joiners(db, week_from, as_of).await?),
        "renewals_due_30" => drop(renewals_due(db, as_of, as_of + Duration::days(30)).await?),
        "renewal_rate" => drop(renewal_rates(db, as_of).await?),
        "income_by_method" => drop(income(db, month_from, as_of).await?),
        "outstanding" => drop(owed(db).await?),
        "requests_waiting" => drop(requests_waiting(db).await?),
        "outbox_failed" => drop(outbox_failed(db).await?),
        _ => return Err(AppError::NotFound),
    }
    Ok(())
}

async fn joiners<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<u64, AppError> {
    Ok(member::Entity::find()
        .filter(member::Column::JoinedOn.gte(from))
        .filter(member::Column::JoinedOn.lte(to))
        .filter(member::Column::PseudonymisedAt.is_null())
        .count(db)
        .await?)
}

/// This month so far, and the same days a year before.
async fn renewal_rates<C: ConnectionTrait>(
    db: &C,
    as_of: NaiveDate,
) -> Result<(Rate, Rate), AppError> {
    let month_from = as_of.with_day(1).unwrap_or(as_of);
    let last_year = |d: NaiveDate| {
        d.with_year(d.year() - 1)
            .unwrap_or_else(|| d - Duration::days(365))
    };
    Ok((
        renewal_rate(db, month_from, as_of).await?,
        renewal_rate(db, last_year(month_from), last_year(as_of)).await?,
    ))
}

type ByMethod = Vec<(&'static str, &'static str, Money)>;

async fn income<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(ByMethod, Money), AppError> {
    let sums: Vec<(String, Option<i64>)> = payment::Entity::find()
        .select_only()
        .column(payment::Column::Method)
        .column_as(Expr::cust("CAST(SUM(amount_pence) AS BIGINT)"), "total")
        .filter(payment::Column::Direction.eq("in"))
        .filter(payment::Column::ReceivedOn.gte(from))
        .filter(payment::Column::ReceivedOn.lte(to))
        .group_by(payment::Column::Method)
        .into_tuple()
        .all(db)
        .await?;
    let sums: HashMap<String, i64> = sums.into_iter().map(|(m, s)| (m, s.unwrap_or(0))).collect();
    let by_method = crate::domain::payments::METHODS
        .iter()
        .map(|(v, label)| {
            (
                *v,
                *label,
                Money::from_pence(sums.get(*v).copied().unwrap_or(0)),
            )
        })
        .collect();
    Ok((by_method, Money::from_pence(sums.values().sum())))
}

/// What is owed on open invoices, and by how many members (kept as invoices are raised and paid).
async fn owed<C: ConnectionTrait>(db: &C) -> Result<(Money, u64), AppError> {
    let (owed, owing) = crate::service::money::debts::owed(db).await?;
    Ok((Money::from_pence(owed), owing))
}

async fn requests_waiting<C: ConnectionTrait>(db: &C) -> Result<u64, AppError> {
    Ok(money_request::Entity::find()
        .filter(
            money_request::Column::Status.eq(crate::entity::money_request::RequestStatus::Pending),
        )
        .count(db)
        .await?)
}

async fn outbox_failed<C: ConnectionTrait>(db: &C) -> Result<u64, AppError> {
    Ok(outbox_message::Entity::find()
        .filter(outbox_message::Column::Status.eq(OutboxStatus::Failed))
        .count(db)
        .await?)
}

/// Every member's status on `as_of` (erased members left out): their periods and events read in bulk
/// and the domain's `status_on` applied to each, the same rule the member record uses.
pub async fn statuses<C: ConnectionTrait>(
    db: &C,
    as_of: NaiveDate,
) -> Result<Vec<(Uuid, Status)>, AppError> {
    let categories = crate::entity::category::by_id(db).await?;
    let members: Vec<(Uuid, Uuid)> = member::Entity::find()
        .select_only()
        .column(member::Column::Id)
        .column(member::Column::CategoryId)
        .filter(member::Column::PseudonymisedAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let periods: HashMap<Uuid, Vec<crate::domain::membership::Period>> =
        crate::service::summary::periods_of(db, None, &categories)
            .await?
            .into_iter()
            .map(|(id, f)| (id, f.into_iter().map(|f| f.period).collect()))
            .collect();
    let mut events: HashMap<Uuid, Vec<crate::domain::membership::MembershipEvent>> = HashMap::new();
    for e in membership_event::Entity::find()
        .order_by_asc(membership_event::Column::OnDate)
        .order_by_asc(membership_event::Column::CreatedAt)
        .all(db)
        .await?
    {
        if let Some(ev) = to_event(&e) {
            events.entry(e.member_id).or_default().push(ev);
        }
    }
    Ok(members
        .into_iter()
        .map(|(id, category_id)| {
            let grace = categories
                .get(&category_id)
                .map(|c| u32::try_from(c.grace_days).unwrap_or(30))
                .unwrap_or(30);
            let s = status_on(
                periods.get(&id).map(Vec::as_slice).unwrap_or(&[]),
                events.get(&id).map(Vec::as_slice).unwrap_or(&[]),
                grace,
                as_of,
            );
            (id, s.status)
        })
        .collect())
}

/// The members whose status on `as_of` is one of `wanted`.
pub async fn members_with_status<C: ConnectionTrait>(
    db: &C,
    as_of: NaiveDate,
    wanted: &[Status],
) -> Result<HashSet<Uuid>, AppError> {
    Ok(statuses(db, as_of)
        .await?
        .into_iter()
        .filter(|(_, s)| wanted.contains(s))
        .map(|(id, _)| id)
        .collect())
}

async fn members_by_status<C: ConnectionTrait>(
    db: &C,
    as_of: NaiveDate,
) -> Result<Vec<(Status, u64)>, AppError> {
    // From the kept counts (`service::summary`): the status changes up to the day, summed.
    let counts = crate::service::summary::by_status(db, as_of).await?;
    Ok(STATUS_ORDER
        .iter()
        .map(|s| {
            let n = counts
                .get(&crate::service::summary::status_kind(*s))
                .copied()
                .unwrap_or(0);
            (*s, u64::try_from(n).unwrap_or(0))
        })
        .collect())
}

/// Members whose last period ends between `from` and `to` (inclusive) and who have not resigned or
/// been removed: renewals still to come in.
async fn renewals_due<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<u64, AppError> {
    let n = crate::service::summary::total(db, "last_end", from, to).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

async fn renewals_due_ids<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Uuid>, AppError> {
    let latest: Vec<Uuid> = period::Entity::find()
        .select_only()
        .column(period::Column::MemberId)
        .group_by(period::Column::MemberId)
        .having(period::Column::EndOn.max().gte(from))
        .having(period::Column::EndOn.max().lte(to))
        .into_tuple()
        .all(db)
        .await?;
    let ended = crate::service::renewals::notices::ended_members(db).await?;
    Ok(latest.into_iter().filter(|m| !ended.contains(m)).collect())
}

/// Of the paid periods that ended from `from` to `to`, how many members have a later period.
async fn renewal_rate<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Rate, AppError> {
    use crate::service::summary::total;
    Ok(Rate {
        due: u64::try_from(total(db, "due", from, to).await?).unwrap_or(0),
        renewed: u64::try_from(total(db, "due_renewed", from, to).await?).unwrap_or(0),
    })
}

/// The paid periods that ended from `from` to `to`, counted, and the members among them with no later
/// period.
async fn ended_unrenewed<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(u64, Vec<Uuid>), AppError> {
    let ended: Vec<(Uuid, NaiveDate)> = period::Entity::find()
        .select_only()
        .column(period::Column::MemberId)
        .column(period::Column::EndOn)
        .filter(period::Column::EndOn.gte(from))
        .filter(period::Column::EndOn.lte(to))
        .filter(period::Column::PaidState.ne("unpaid"))
        .into_tuple()
        .all(db)
        .await?;
    // Each member's latest period start.
    let mut latest: HashMap<Uuid, NaiveDate> = HashMap::new();
    let ids: Vec<Uuid> = ended
        .iter()
        .map(|(m, _)| *m)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for chunk in ids.chunks(1000) {
        let later: Vec<(Uuid, Option<NaiveDate>)> = period::Entity::find()
            .select_only()
            .column(period::Column::MemberId)
            .column_as(period::Column::StartOn.max(), "latest")
            .filter(period::Column::MemberId.is_in(chunk.to_vec()))
            .group_by(period::Column::MemberId)
            .into_tuple()
            .all(db)
            .await?;
        latest.extend(later.into_iter().filter_map(|(m, s)| Some((m, s?))));
    }
    let not_renewed = ended
        .iter()
        .filter(|(m, end)| latest.get(m).is_none_or(|s| s <= end))
        .map(|(m, _)| *m)
        .collect();
    Ok((ended.len() as u64, not_renewed))
}

/// Members per page of a list.
pub const LIST_PAGE: u64 = 50;

/// Page `page` (from 1) of list `which` as of `as_of`, by membership number: the members and how many
/// there are in all.
pub async fn member_list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    which: List,
    as_of: NaiveDate,
    page: u64,
) -> Result<(u64, Vec<member::Model>), AppError> {
    actor.require(Permission::ViewMembers)?;
    let ids: Vec<Uuid> = match which {
        List::Status(want) => statuses(db, as_of)
            .await?
            .into_iter()
            .filter(|(_, s)| *s == want)
            .map(|(id, _)| id)
            .collect(),
        List::JoinedThisWeek => {
            let week_from =
                as_of - Duration::days(i64::from(as_of.weekday().num_days_from_monday()));
            member::Entity::find()
                .select_only()
                .column(member::Column::Id)
                .filter(member::Column::JoinedOn.gte(week_from))
                .filter(member::Column::JoinedOn.lte(as_of))
                .filter(member::Column::PseudonymisedAt.is_null())
                .into_tuple()
                .all(db)
                .await?
        }
        List::RenewalsDue => renewals_due_ids(db, as_of, as_of + Duration::days(30)).await?,
        List::NotRenewed => {
            let month_from = as_of.with_day(1).unwrap_or(as_of);
            ended_unrenewed(db, month_from, as_of).await?.1
        }
    };
    // Numbers first (a column each), then only the page's records.
    let unique: HashSet<Uuid> = ids.into_iter().collect();
    let ids: Vec<Uuid> = unique.into_iter().collect();
    let mut numbered: Vec<(i64, Uuid)> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        numbered.extend(
            member::Entity::find()
                .select_only()
                .column(member::Column::MembershipNumber)
                .column(member::Column::Id)
                .filter(member::Column::Id.is_in(chunk.to_vec()))
                .filter(member::Column::PseudonymisedAt.is_null())
                .into_tuple::<(i64, Uuid)>()
                .all(db)
                .await?,
        );
    }
    numbered.sort_unstable();
    let total = numbered.len() as u64;
    let skip = usize::try_from(crate::domain::paging::offset(
        page.saturating_sub(1),
        LIST_PAGE,
    ))
    .unwrap_or(usize::MAX);
    let page_ids: Vec<Uuid> = numbered
        .into_iter()
        .skip(skip)
        .take(LIST_PAGE as usize)
        .map(|(_, id)| id)
        .collect();
    let mut found = if page_ids.is_empty() {
        Vec::new()
    } else {
        member::Entity::find()
            .filter(member::Column::Id.is_in(page_ids))
            .all(db)
            .await?
    };
    found.sort_by_key(|m| m.membership_number);
    Ok((total, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_to_whole_per_cent() {
        assert_eq!(Rate { due: 0, renewed: 0 }.percent(), None);
        assert_eq!(Rate { due: 3, renewed: 2 }.percent(), Some(67));
        assert_eq!(Rate { due: 8, renewed: 7 }.percent(), Some(88));
        assert_eq!(Rate { due: 4, renewed: 4 }.percent(), Some(100));
    }
}
