//! The kept counts behind the dashboard and the reports (`movement_counts`): for each day, kind and
//! category, how many. Each member adds dated items, worked out from their periods and events by the
//! same rules the member record and the reports use:
//! - `joined`, `renewed`, `adjusted`, `reinstated`, `lapsed`, `resigned`: the member's movements
//!   (`domain::movements::classify`), a lapse still to come included;
//! - `due`, one for each paid period on its last day, and `due_renewed` when a later period has started
//!   since (the renewal rate);
//! - `last_end`, on the last day of the member's latest period, unless they resigned or were removed
//!   (renewals due);
//! - `status:<status>`, +1 and −1 on each day the member's status changes (`status_on`), from a first
//!   day long ago; so the members in each status on any day are the sum of the items up to that day;
//! - `member`, +1 and −1 in the member's category on each day they become or stop being a member.
//!
//! Erased members keep their movements but leave the status and member counts.
//!
//! A service that changes what these depend on (periods, membership events, a member's category or
//! erasure, a category's grace days) takes a [`track`] of the members first and [`Tracked::apply`]s it
//! after its writes, in the same transaction: the counts move by the difference. On PostgreSQL `track`
//! locks the members' rows, so two changes to one member cannot both count from the same start.
//! [`rebuild`] works every count out afresh (after bulk seeding, and once for a database that has
//! none).

use crate::domain::lists::{List, STATUS_ORDER};
use crate::domain::membership::HowPaid;
use crate::domain::membership::{status_on, MembershipEvent, PaidState, Period, Status};
use crate::domain::movements::{classify, Left, Movement, Span};
use crate::domain::AppError;
use crate::entity::membership_event::EventKind;
use crate::entity::period::PaidStatus;
use crate::entity::{category, member, membership_event, period};
use chrono::{Duration, NaiveDate};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait, Value,
};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The day every member's first status item is dated.
pub fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// No category.
pub const NO_CATEGORY: Uuid = Uuid::nil();

/// Kind, category, day.
pub type Key = (String, Uuid, NaiveDate);

/// Counts to add, by key.
pub type Counts = BTreeMap<Key, i64>;

const CHUNK: usize = 2000;

/// The kind of a movement's count.
pub fn movement_kind(m: Movement) -> &'static str {
    match m {
        Movement::Joined => "joined",
        Movement::Renewed => "renewed",
        Movement::Adjusted => "adjusted",
        Movement::Reinstated => "reinstated",
        Movement::Lapsed => "lapsed",
        Movement::Resigned => "resigned",
    }
}

/// The kind of a status's count (`status:active`…).
pub fn status_kind(s: Status) -> String {
    List::Status(s).key()
}

/// What the counts of some members were before a change.
#[must_use = "apply it after the change"]
pub(crate) struct Tracked {
    ids: Vec<Uuid>,
    before: Counts,
}

/// Notes the counts `ids` add now (locking their rows on PostgreSQL), to apply the difference after
/// a change.
pub(crate) async fn track<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<Tracked, AppError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if db.get_database_backend() == DatabaseBackend::Postgres {
        for chunk in ids.chunks(CHUNK) {
            member::Entity::find()
                .select_only()
                .column(member::Column::Id)
                .filter(member::Column::Id.is_in(chunk.to_vec()))
                .lock_exclusive()
                .into_tuple::<Uuid>()
                .all(db)
                .await?;
        }
    }
    let before = items_of(db, &ids).await?;
    Ok(Tracked { ids, before })
}

impl Tracked {
    /// Moves the counts by what the change made of the members' items.
    pub(crate) async fn apply<C: ConnectionTrait>(self, db: &C) -> Result<(), AppError> {
        let mut delta = items_of(db, &self.ids).await?;
        for (k, n) in self.before {
            *delta.entry(k).or_default() -= n;
        }
        add(db, delta).await
    }
}

/// Adds what members just written (never counted) add.
pub async fn count_new<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<(), AppError> {
    Tracked {
        ids: ids.to_vec(),
        before: Counts::new(),
    }
    .apply(db)
    .await
}

/// Works every count out afresh, in one transaction.
pub async fn rebuild(db: &DatabaseConnection) -> Result<(), AppError> {
    let txn = db.begin().await?;
    txn.execute_unprepared("DELETE FROM movement_counts")
        .await?;
    let mut all = Counts::new();
    let mut after: Option<Uuid> = None;
    loop {
        let mut q = member::Entity::find()
            .select_only()
            .column(member::Column::Id)
            .order_by_asc(member::Column::Id)
            .limit(CHUNK as u64);
        if let Some(a) = after {
            q = q.filter(member::Column::Id.gt(a));
        }
        let ids: Vec<Uuid> = q.into_tuple().all(&txn).await?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        for (k, n) in items_of(&txn, &ids).await? {
            *all.entry(k).or_default() += n;
        }
        after = Some(last);
    }
    add(&txn, all).await?;
    txn.commit().await?;
    Ok(())
}

/// Rebuilds the counts of a database that has members but no counts yet (one migrated from before
/// they were kept).
pub async fn ensure(db: &DatabaseConnection) -> Result<(), AppError> {
    let has_counts = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT 1 FROM movement_counts LIMIT 1",
        ))
        .await?
        .is_some();
    let has_members = member::Entity::find()
        .select_only()
        .column(member::Column::Id)
        .limit(1)
        .into_tuple::<Uuid>()
        .one(db)
        .await?
        .is_some();
    if has_members && !has_counts {
        rebuild(db).await?;
    }
    Ok(())
}

/// Adds `counts` to the kept counts (in key order, so concurrent changes lock rows in one order).
async fn add<C: ConnectionTrait>(db: &C, counts: Counts) -> Result<(), AppError> {
    let rows: Vec<(Vec<Value>, i64)> = counts
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((kind, cat, on), n)| (vec![kind.into(), cat.into(), on.into()], n))
        .collect();
    crate::service::add_to_totals(
        db,
        "movement_counts",
        &["kind", "category_id", "on_date"],
        "n",
        rows,
    )
    .await?;
    Ok(())
}

/// The items `ids` add now.
async fn items_of<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<Counts, AppError> {
    let mut out = Counts::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let categories = crate::entity::category::by_id(db).await?;
    for chunk in ids.chunks(CHUNK) {
        let members: Vec<(Uuid, Uuid, bool)> = member::Entity::find()
            .select_only()
            .column(member::Column::Id)
            .column(member::Column::CategoryId)
            .column_as(
                Expr::col(member::Column::PseudonymisedAt).is_not_null(),
                "erased",
            )
            .filter(member::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        let periods = periods_of(db, Some(chunk), &categories).await?;
        let mut events: HashMap<Uuid, Vec<membership_event::Model>> = HashMap::new();
        for e in membership_event::Entity::find()
            .filter(membership_event::Column::MemberId.is_in(chunk.to_vec()))
            .order_by_asc(membership_event::Column::OnDate)
            .order_by_asc(membership_event::Column::CreatedAt)
            .all(db)
            .await?
        {
            events.entry(e.member_id).or_default().push(e);
        }
        for (id, category_id, erased) in members {
            member_items(
                &mut out,
                &categories,
                MemberFacts {
                    id,
                    category_id,
                    erased,
                    periods: periods.get(&id).map(Vec::as_slice).unwrap_or(&[]),
                    events: events.get(&id).map(Vec::as_slice).unwrap_or(&[]),
                },
            );
        }
    }
    Ok(out)
}

/// A period as the status rule sees it, with what the counts also need.
pub(crate) struct Facts {
    pub category_id: Uuid,
    pub paid_on: Option<NaiveDate>,
    pub period: Period,
}

/// The periods of `members` (of everyone when `None`) by member, in order of start: only the
/// columns the status needs (reading whole rows took most of the time).
pub(crate) async fn periods_of<C: ConnectionTrait>(
    db: &C,
    members: Option<&[Uuid]>,
    categories: &HashMap<Uuid, category::Model>,
) -> Result<HashMap<Uuid, Vec<Facts>>, AppError> {
    type Row = (
        Uuid,
        Uuid,
        Uuid,
        NaiveDate,
        NaiveDate,
        PaidStatus,
        Option<NaiveDate>,
        bool,
        HowPaid,
    );
    let mut q = period::Entity::find().select_only().columns([
        period::Column::Id,
        period::Column::MemberId,
        period::Column::CategoryId,
        period::Column::StartOn,
        period::Column::EndOn,
        period::Column::PaidState,
        period::Column::PaidOn,
        period::Column::MandateActive,
        period::Column::HowPaid,
    ]);
    if let Some(ids) = members {
        q = q.filter(period::Column::MemberId.is_in(ids.to_vec()));
    }
    let rows: Vec<Row> = q
        .order_by_asc(period::Column::StartOn)
        .order_by_asc(period::Column::CreatedAt)
        .into_tuple()
        .all(db)
        .await?;
    let mut periods: HashMap<Uuid, Vec<Facts>> = HashMap::new();
    for (id, member_id, category_id, start, end, paid_state, paid_on, mandate_active, how) in rows {
        let paid = paid_state.to_domain(paid_on, start, mandate_active);
        periods.entry(member_id).or_default().push(Facts {
            category_id,
            paid_on,
            period: Period {
                id,
                category_code: categories
                    .get(&category_id)
                    .map(|c| c.code.clone())
                    .unwrap_or_default(),
                start,
                end,
                paid,
                how_paid: how,
            },
        });
    }
    Ok(periods)
}

struct MemberFacts<'a> {
    id: Uuid,
    category_id: Uuid,
    erased: bool,
    periods: &'a [Facts],
    events: &'a [membership_event::Model],
}

fn member_items(out: &mut Counts, categories: &HashMap<Uuid, category::Model>, m: MemberFacts) {
    let mut put = |kind: &str, cat: Uuid, on: NaiveDate, n: i64| {
        *out.entry((kind.to_owned(), cat, on)).or_default() += n;
    };
    let grace_of = |id: Uuid| {
        categories
            .get(&id)
            .map(|c| i64::from(c.grace_days))
            .unwrap_or(30)
    };
    let mut left = Left::default();
    for e in m.events {
        left.add(e.kind.as_str(), e.on_date, e.effective_on);
    }
    // Movements, from the paid periods.
    let spans: Vec<Span> = m
        .periods
        .iter()
        .filter(|p| !matches!(p.period.paid, PaidState::Unpaid))
        .map(|p| Span {
            category_id: p.category_id,
            start_on: p.period.start,
            end_on: p.period.end,
            paid_on: p.paid_on,
        })
        .collect();
    for mv in classify(m.id, &spans, &left, Some(m.category_id), grace_of) {
        put(
            movement_kind(mv.what),
            mv.category_id.unwrap_or(NO_CATEGORY),
            mv.on,
            1,
        );
    }
    // Renewals due and renewed, by period.
    let latest_start = m.periods.iter().map(|p| p.period.start).max();
    for p in m.periods {
        if matches!(p.period.paid, PaidState::Unpaid) {
            continue;
        }
        put("due", p.category_id, p.period.end, 1);
        if latest_start.is_some_and(|s| s > p.period.end) {
            put("due_renewed", p.category_id, p.period.end, 1);
        }
    }
    let ended = m
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Resigned | EventKind::Removed));
    if let Some(last_end) = m.periods.iter().map(|p| p.period.end).max() {
        if !ended {
            put("last_end", NO_CATEGORY, last_end, 1);
        }
    }
    if m.erased {
        return;
    }
    // Status, and membership, day by day: they change only on the days periods and events start,
    // end or run out of grace.
    let grace = categories
        .get(&m.category_id)
        .map(|c| u32::try_from(c.grace_days).unwrap_or(30))
        .unwrap_or(30);
    let periods: Vec<Period> = m.periods.iter().map(|p| p.period.clone()).collect();
    let events: Vec<MembershipEvent> = m
        .events
        .iter()
        .filter_map(crate::entity::membership_event::to_event)
        .collect();
    let day = |d: NaiveDate, n: i64| d.checked_add_signed(Duration::days(n));
    let mut days: Vec<NaiveDate> = Vec::new();
    for p in m.periods {
        days.push(p.period.start);
        days.extend(day(p.period.end, 1));
        days.extend(day(p.period.end, i64::from(grace) + 1));
        days.extend(p.paid_on);
    }
    for e in m.events {
        days.push(e.on_date);
        days.extend(day(e.on_date, 1));
        days.extend(e.effective_on);
        days.extend(e.effective_on.and_then(|d| day(d, 1)));
    }
    let first = first_day();
    days.retain(|d| *d > first);
    days.sort_unstable();
    days.dedup();
    let mut status = status_on(&periods, &events, grace, first).status;
    put(&status_kind(status), NO_CATEGORY, first, 1);
    if status.is_member() {
        put("member", m.category_id, first, 1);
    }
    for d in days {
        let now = status_on(&periods, &events, grace, d).status;
        if now != status {
            put(&status_kind(status), NO_CATEGORY, d, -1);
            put(&status_kind(now), NO_CATEGORY, d, 1);
            if now.is_member() != status.is_member() {
                put(
                    "member",
                    m.category_id,
                    d,
                    if now.is_member() { 1 } else { -1 },
                );
            }
            status = now;
        }
    }
}

/// The sum of `kind`'s counts (every category) from `from` to `to`.
pub async fn total<C: ConnectionTrait>(
    db: &C,
    kind: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<i64, AppError> {
    Ok(grouped(db, &[kind], from, to)
        .await?
        .into_iter()
        .map(|(_, _, n)| n)
        .sum())
}

/// The counts of `kinds` from `from` to `to`, summed by kind and day (every category).
pub async fn by_day<C: ConnectionTrait>(
    db: &C,
    kinds: &[&str],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(String, NaiveDate, i64)>, AppError> {
    use crate::entity::movement_count::{Column, Entity};
    let rows: Vec<(String, NaiveDate, Option<i64>)> = Entity::find()
        .select_only()
        .column(Column::Kind)
        .column(Column::OnDate)
        .column_as(Expr::cust("CAST(SUM(n) AS BIGINT)"), "total")
        .filter(Column::Kind.is_in(kinds.iter().map(|k| (*k).to_owned())))
        .filter(Column::OnDate.gte(from))
        .filter(Column::OnDate.lte(to))
        .group_by(Column::Kind)
        .group_by(Column::OnDate)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(k, d, n)| n.filter(|n| *n != 0).map(|n| (k, d, n)))
        .collect())
}

/// The counts of `kinds` from `from` to `to`, summed by kind and category.
pub async fn grouped<C: ConnectionTrait>(
    db: &C,
    kinds: &[&str],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(String, Uuid, i64)>, AppError> {
    use crate::entity::movement_count::{Column, Entity};
    let rows: Vec<(String, Uuid, Option<i64>)> = Entity::find()
        .select_only()
        .column(Column::Kind)
        .column(Column::CategoryId)
        .column_as(Expr::cust("CAST(SUM(n) AS BIGINT)"), "total")
        .filter(Column::Kind.is_in(kinds.iter().map(|k| (*k).to_owned())))
        .filter(Column::OnDate.gte(from))
        .filter(Column::OnDate.lte(to))
        .group_by(Column::Kind)
        .group_by(Column::CategoryId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(k, c, n)| (k, c, n.unwrap_or(0)))
        .collect())
}

/// The members in each status on `as_of` (erased members left out), by status kind.
pub async fn by_status<C: ConnectionTrait>(
    db: &C,
    as_of: NaiveDate,
) -> Result<HashMap<String, i64>, AppError> {
    let kinds: Vec<String> = STATUS_ORDER.iter().map(|s| status_kind(*s)).collect();
    let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
    let mut out: HashMap<String, i64> = HashMap::new();
    for (kind, _, n) in grouped(db, &kinds, first_day(), as_of).await? {
        *out.entry(kind).or_default() += n;
    }
    Ok(out)
}

/// The members on `on`, by their category now.
pub async fn members_by_category<C: ConnectionTrait>(
    db: &C,
    on: NaiveDate,
) -> Result<HashMap<Uuid, i64>, AppError> {
    Ok(grouped(db, &["member"], first_day(), on)
        .await?
        .into_iter()
        .map(|(_, c, n)| (c, n))
        .collect())
}
