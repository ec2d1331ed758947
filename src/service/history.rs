//! Membership history: a member's periods and membership events (only ever added), read together with
//! the categories they name, the status they give today, and the one writer of events. Below the
//! member record, the renewals wing and the reports, which all read and add to it.

use crate::domain::membership::{status_on, MembershipEvent, Period, Status};
use crate::domain::{Actor, AppError};
use crate::entity::membership_event::to_event;
use crate::entity::period::to_period;
use crate::entity::{category, member, membership_event, period};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use std::collections::HashMap;
use uuid::Uuid;

/// A member's periods and events with the categories they name.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Oldest first.
    pub periods: Vec<period::Model>,
    /// Oldest first.
    pub events: Vec<membership_event::Model>,
    pub categories: HashMap<Uuid, category::Model>,
}

/// What `status_on` says about a member today, with the dates that explain it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSummary {
    pub status: Status,
    pub category_code: Option<String>,
    /// The period the status is about (start, end).
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub member_until: Option<NaiveDate>,
    pub grace_ends: Option<NaiveDate>,
    pub lapsed_since: Option<NaiveDate>,
    /// A resignation that has been asked for and takes effect on this day (the first day not a member).
    pub resigning_from: Option<NaiveDate>,
}

impl StatusSummary {
    /// Whether the member has resigned (it takes effect later, or has) or was removed: nothing is left
    /// to renew.
    pub fn has_resigned(&self) -> bool {
        self.resigning_from.is_some() || matches!(self.status, Status::Resigned | Status::Removed)
    }
}

impl History {
    /// The domain's view of the periods.
    pub fn domain_periods(&self) -> Vec<Period> {
        self.periods
            .iter()
            .map(|p| {
                let code = self
                    .categories
                    .get(&p.category_id)
                    .map(|c| c.code.clone())
                    .unwrap_or_default();
                to_period(p, &code)
            })
            .collect()
    }

    /// The domain's view of the events (unknown kinds are skipped).
    pub fn domain_events(&self) -> Vec<MembershipEvent> {
        self.events.iter().filter_map(to_event).collect()
    }

    /// The status on `on`, with `grace_days` of grace after a paid period ends.
    pub fn status(&self, grace_days: u32, on: NaiveDate) -> StatusSummary {
        let periods = self.domain_periods();
        let events = self.domain_events();
        let s = status_on(&periods, &events, grace_days, on);
        let resigning_from = events.iter().find_map(|e| match *e {
            MembershipEvent::Resigned { effective, .. } if effective > on => Some(effective),
            _ => None,
        });
        StatusSummary {
            status: s.status,
            category_code: s.category_code,
            period: s.current_period.map(|p| (p.start, p.end)),
            member_until: s.member_until,
            grace_ends: s.grace_ends,
            lapsed_since: s.lapsed_since,
            resigning_from: resigning_from.filter(|_| s.status.is_member()),
        }
    }

    pub fn category_name(&self, id: Uuid) -> String {
        self.categories
            .get(&id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }
}

/// Loads a member's periods and events and every category (there are a handful).
pub async fn history<C: ConnectionTrait>(db: &C, member_id: Uuid) -> Result<History, AppError> {
    let periods = period::Entity::find()
        .filter(period::Column::MemberId.eq(member_id))
        .order_by_asc(period::Column::StartOn)
        .order_by_asc(period::Column::CreatedAt)
        .all(db)
        .await?;
    let events = membership_event::Entity::find()
        .filter(membership_event::Column::MemberId.eq(member_id))
        .order_by_asc(membership_event::Column::OnDate)
        .order_by_asc(membership_event::Column::CreatedAt)
        .all(db)
        .await?;
    let categories = crate::entity::category::by_id(db).await?;
    Ok(History {
        periods,
        events,
        categories,
    })
}

/// The member's status today, using the grace days of their category.
pub fn status_today(m: &member::Model, h: &History) -> StatusSummary {
    let grace = h
        .categories
        .get(&m.category_id)
        .map(|c| u32::try_from(c.grace_days).unwrap_or(30))
        .unwrap_or(30);
    h.status(grace, crate::service::today())
}

/// Adds one membership event (events are only ever added), recorded as made by `actor`, with a note
/// for the timeline (`detail`).
pub(crate) async fn add_event<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    member_id: Uuid,
    event: MembershipEvent,
    detail: Option<String>,
) -> Result<(), AppError> {
    let (kind, on, effective, reason) = membership_event::from_event(&event);
    let tracked = crate::service::summary::track(db, &[member_id]).await?;
    membership_event::ActiveModel {
        id: Set(crate::service::new_id()),
        member_id: Set(member_id),
        kind: Set(kind),
        on_date: Set(on),
        effective_on: Set(Some(effective)),
        reason: Set(reason.map(str::to_owned)),
        detail: Set(detail),
        created_at: Set(crate::service::now()),
        created_by: Set(actor.label.clone()),
    }
    .insert(db)
    .await?;
    tracked.apply(db).await
}

/// The day a suspension still in force began, if there is one.
pub(crate) async fn suspended_since<C: ConnectionTrait>(
    db: &C,
    member_id: Uuid,
) -> Result<Option<NaiveDate>, AppError> {
    let events = membership_event::Entity::find()
        .filter(membership_event::Column::MemberId.eq(member_id))
        .filter(membership_event::Column::Kind.is_in([
            crate::entity::membership_event::EventKind::Suspended,
            crate::entity::membership_event::EventKind::SuspensionLifted,
            crate::entity::membership_event::EventKind::Reinstated,
        ]))
        .order_by_asc(membership_event::Column::OnDate)
        .order_by_asc(membership_event::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(events
        .last()
        .filter(|e| e.kind == crate::entity::membership_event::EventKind::Suspended)
        .map(|e| e.on_date))
}
