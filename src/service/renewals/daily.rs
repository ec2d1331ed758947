//! The daily job ([`daily`]): the renewal run, automatic renewals and instalments, reminders at the
//! configured offsets, and the grace and lapse messages. Each message is sent once: a `notices` row,
//! unique per member and key, is written in the same transaction as the message and its audit entry
//! (which puts it on the timeline).

use crate::domain::membership::Status;
use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::{Actor, AppError, Permission};
use crate::entity::audit_log;
use crate::entity::audit_log::AuditAction;
use crate::entity::document;
use crate::entity::member;
use crate::entity::membership_event;
use crate::entity::notice;
use crate::entity::outbox_message;
use crate::entity::period;
use crate::entity::renewal;
use crate::entity::renewal::{RenewalKind, RenewalStatus};
use crate::entity::saved_card;
use crate::mail::templates;
use crate::service::audit;
use crate::service::history::History;
use crate::service::money::providers::PaymentProvider;
use crate::service::outbox::{self, NewMessage};
use crate::service::renewals::autorenew::{auto_renewals, AutoRenewReport};
use crate::service::renewals::notices::{
    ended_members, mail_allowed, notice_row, reached_offsets, reminder_key, sent_keys,
};
use crate::service::renewals::offer::{grace_of, REINSTATE_MONTHS};
use crate::service::renewals::run::{RunReport, WINDOW_DAYS};
use crate::service::renewals::settle::cancel_open;
use crate::service::settings::offsets;
use chrono::{Duration, Months, NaiveDate};
use sea_orm::sea_query::ExprTrait;
use sea_orm::ColumnTrait;
use sea_orm::ConnectionTrait;
use sea_orm::DatabaseConnection;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use sea_orm::QueryOrder;
use sea_orm::QuerySelect;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Lapse messages go to members who lapsed at most this many days ago (not to long-lapsed ones the
/// first time the job runs).
const LAPSE_MESSAGE_DAYS: i64 = 30;

/// Members written per transaction by the daily job.
const BATCH: usize = 500;

/// What the daily job did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DailyReport {
    pub renewals: RunReport,
    pub reminders: u64,
    pub grace: u64,
    pub lapsed: u64,
    pub auto_renew: AutoRenewReport,
    pub instalments: crate::service::renewals::collect::CollectReport,
}

impl DailyReport {
    /// In words, for the jobs page and the command line.
    pub fn summary(&self) -> String {
        format!(
            "{} renewals raised ({} due, {} raised before); {} reminders sent; {} members into grace; {} members lapsed; automatic renewal: {} notices, {} charged, {} declined, {} suspended; monthly instalments: {} charged, {} declined, {} suspended",
            self.renewals.raised,
            self.renewals.due,
            self.renewals.already,
            self.reminders,
            self.grace,
            self.lapsed,
            self.auto_renew.notices,
            self.auto_renew.charged,
            self.auto_renew.declined,
            self.auto_renew.suspended,
            self.instalments.charged,
            self.instalments.declined,
            self.instalments.suspended
        )
    }
}

/// The daily job as of `as_of`: the renewal run, then automatic renewals (notices and charges through
/// `provider`, when there is one), reminders, then grace and lapse messages. `progress(step, done,
/// total)` is called as it goes. Running it twice on a day sends nothing twice.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn daily(
    db: &DatabaseConnection,
    actor: &Actor,
    as_of: NaiveDate,
    provider: Option<&dyn PaymentProvider>,
    mut progress: impl FnMut(&str, u64, u64),
) -> Result<DailyReport, AppError> {
    actor.require(Permission::EditMembers)?;
    let renewals = crate::service::renewals::run::run(db, actor, as_of, WINDOW_DAYS, |d, t| {
        progress("renewals", d, t)
    })
    .await?;
    progress("automatic renewals", 0, 0);
    let auto_renew = match provider {
        Some(p) => auto_renewals(db, actor, as_of, p).await?,
        None => AutoRenewReport::default(),
    };
    progress("monthly instalments", 0, 0);
    let instalments = match provider {
        Some(p) => crate::service::renewals::collect::collect(db, actor, as_of, p).await?,
        None => Default::default(),
    };
    progress("reminders", 0, 0);
    let reminders = reminders(db, actor, as_of).await?;
    progress("grace and lapse", 0, 0);
    let (grace, lapsed) = grace_and_lapse(db, actor, as_of).await?;
    crate::service::events::publish(db, crate::service::events::Topic::Members).await;
    crate::service::events::publish(db, crate::service::events::Topic::Payments).await;
    Ok(DailyReport {
        renewals,
        reminders,
        grace,
        lapsed,
        auto_renew,
        instalments,
    })
}

/// The notices, audit entries and messages of one batch, written together.
#[derive(Default)]
struct Writes {
    notices: Vec<notice::ActiveModel>,
    audits: Vec<audit_log::ActiveModel>,
    mails: Vec<outbox_message::ActiveModel>,
}

impl Writes {
    fn is_empty(&self) -> bool {
        self.notices.is_empty()
    }

    async fn commit(self, db: &DatabaseConnection) -> Result<(), AppError> {
        if self.is_empty() {
            return Ok(());
        }
        let txn = crate::service::begin(db).await?;
        self.insert(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    async fn insert<C: ConnectionTrait>(self, txn: &C) -> Result<(), AppError> {
        // The notices first: a job racing this one makes the batch fail whole.
        crate::service::insert_rows(txn, self.notices).await?;
        crate::service::insert_rows(txn, self.audits).await?;
        crate::service::insert_rows(txn, self.mails).await?;
        Ok(())
    }
}

/// Sends the reminders due on `as_of` for open renewals: for each, the latest offset reached, once
/// (offsets passed before are marked as covered, never sent late in a burst).
pub(crate) async fn reminders(
    db: &DatabaseConnection,
    actor: &Actor,
    as_of: NaiveDate,
) -> Result<u64, AppError> {
    let offsets = offsets(db).await?;
    let Some(&first) = offsets.first() else {
        return Ok(0);
    };
    // A reminder is reached when ends + offset <= as_of, with ends = period_start - 1.
    let latest_start = as_of - Duration::days(first) + Duration::days(1);
    let open = renewal::Entity::find()
        .filter(renewal::Column::Status.eq(RenewalStatus::Open))
        .filter(renewal::Column::Kind.eq(RenewalKind::Renewal))
        .filter(renewal::Column::PeriodStart.lte(latest_start))
        .order_by_asc(renewal::Column::PeriodStart)
        .all(db)
        .await?;
    if open.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = open.iter().map(|r| r.member_id).collect();
    let sent = sent_keys(db, &ids).await?;
    let ended = ended_members(db).await?;
    // Members renewing automatically get the advance notice instead (and, if a charge is declined, the
    // dunning messages).
    let automatic: HashSet<Uuid> = saved_card::Entity::find()
        .select_only()
        .column(saved_card::Column::MemberId)
        .filter(saved_card::Column::AutoRenew.eq(true))
        .filter(saved_card::Column::Token.ne(""))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let categories = crate::entity::category::by_id(db).await?;
    let base_url = templates::default_base_url();
    let mut count = 0;
    for batch in open.chunks(BATCH) {
        let mids: Vec<Uuid> = batch.iter().map(|r| r.member_id).collect();
        let members: HashMap<Uuid, member::Model> = member::Entity::find()
            .filter(member::Column::Id.is_in(mids))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let inv_ids: Vec<Uuid> = batch.iter().filter_map(|r| r.invoice_id).collect();
        let invoices: HashMap<Uuid, document::Model> = document::Entity::find()
            .filter(document::Column::Id.is_in(inv_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
        let mut w = Writes::default();
        for r in batch {
            let (Some(m), Some(inv)) = (
                members.get(&r.member_id),
                r.invoice_id.and_then(|i| invoices.get(&i)),
            ) else {
                continue;
            };
            if ended.contains(&m.id) || inv.outstanding_pence <= 0 || automatic.contains(&m.id) {
                continue;
            }
            let ends = r.period_start - Duration::days(1);
            let grace = categories.get(&r.category_id).map(grace_of).unwrap_or(30);
            let reached: Vec<i64> = reached_offsets(&offsets, ends, as_of)
                .into_iter()
                .filter(|o| *o <= i64::from(grace))
                .collect();
            let Some(&latest) = reached.last() else {
                continue;
            };
            if sent.contains(&(m.id, reminder_key(latest, r.period_start))) {
                continue;
            }
            for o in &reached {
                let key = reminder_key(*o, r.period_start);
                if !sent.contains(&(m.id, key.clone())) {
                    w.notices.push(notice_row(m.id, key, as_of));
                }
            }
            let grace_ends = ends + Duration::days(i64::from(grace));
            let when = match latest {
                o if o < 0 => format!(
                    "Your membership ends on {}, in {} days.",
                    ends.format("%-d %B %Y"),
                    -o
                ),
                0 => "Your membership ends today.".to_owned(),
                _ => format!(
                    "Your membership ended on {}. You are still a member until {} while you renew; after that your membership lapses.",
                    ends.format("%-d %B %Y"),
                    grace_ends.format("%-d %B %Y")
                ),
            };
            w.audits.push(audit::row(
                actor,
                "member",
                m.id,
                AuditAction::RenewalReminder,
                None,
                Some(json!({"offset_days": latest, "invoice": inv.number, "as_of": as_of})),
            ));
            if mail_allowed(m) {
                let greet = crate::service::money::greeting(m);
                let (_, mail) = outbox::row(NewMessage {
                    template: "renewal_reminder",
                    to_address: &m.email,
                    to_name: Some(&greet),
                    user_id: m.user_id,
                    member_id: Some(m.id),
                    context: json!({
                        "given_name": greet.clone(),
                        "number": MembershipNumber::text_of(m.membership_number),
                        "when": when,
                        "amount": Money::from_pence(inv.outstanding_pence).to_string(),
                        "invoice": inv.number,
                        "renew_url": format!("{base_url}/portal/renew"),
                        "base_url": base_url,
                    }),
                    link: None,
                })?;
                w.mails.push(mail);
            }
            count += 1;
        }
        w.commit(db).await?;
    }
    Ok(count)
}

/// Messages members whose paid membership has ended: once on entering grace, once on lapsing (which also
/// cancels the unpaid renewal). Answers (into grace, lapsed).
async fn grace_and_lapse(
    db: &DatabaseConnection,
    actor: &Actor,
    as_of: NaiveDate,
) -> Result<(u64, u64), AppError> {
    let categories = crate::entity::category::by_id(db).await?;
    let max_grace = categories
        .values()
        .map(|c| i64::from(grace_of(c)))
        .max()
        .unwrap_or(30);
    let earliest = as_of - Duration::days(max_grace + LAPSE_MESSAGE_DAYS + 1);
    // Members whose last paid period ended before today, recently enough to matter.
    let latest: Vec<(Uuid, Option<NaiveDate>)> = period::Entity::find()
        .select_only()
        .column(period::Column::MemberId)
        .column_as(period::Column::EndOn.max(), "last_end")
        .filter(period::Column::PaidState.ne("unpaid"))
        .group_by(period::Column::MemberId)
        .having(period::Column::EndOn.max().gte(earliest))
        .having(period::Column::EndOn.max().lt(as_of))
        .into_tuple()
        .all(db)
        .await?;
    let ids: Vec<Uuid> = latest.into_iter().map(|(m, _)| m).collect();
    if ids.is_empty() {
        return Ok((0, 0));
    }
    let sent = sent_keys(db, &ids).await?;
    let base_url = templates::default_base_url();
    let (mut graced, mut lapsed) = (0, 0);
    for chunk in ids.chunks(BATCH) {
        let members = member::Entity::find()
            .filter(member::Column::Id.is_in(chunk.to_vec()))
            .filter(member::Column::PseudonymisedAt.is_null())
            .all(db)
            .await?;
        let mut periods: HashMap<Uuid, Vec<period::Model>> = HashMap::new();
        for p in period::Entity::find()
            .filter(period::Column::MemberId.is_in(chunk.to_vec()))
            .order_by_asc(period::Column::StartOn)
            .all(db)
            .await?
        {
            periods.entry(p.member_id).or_default().push(p);
        }
        let mut events: HashMap<Uuid, Vec<membership_event::Model>> = HashMap::new();
        for e in membership_event::Entity::find()
            .filter(membership_event::Column::MemberId.is_in(chunk.to_vec()))
            .order_by_asc(membership_event::Column::OnDate)
            .all(db)
            .await?
        {
            events.entry(e.member_id).or_default().push(e);
        }
        let mut w = Writes::default();
        let mut lapsing = Vec::new();
        for m in members {
            let Some(cat) = categories.get(&m.category_id) else {
                continue;
            };
            let h = History {
                periods: periods.remove(&m.id).unwrap_or_default(),
                events: events.remove(&m.id).unwrap_or_default(),
                categories: categories.clone(),
            };
            let s = h.status(grace_of(cat), as_of);
            let Some(until) = s.member_until else {
                continue;
            };
            let (key, template, action) = match s.status {
                Status::Grace => (
                    format!("grace:{until}"),
                    "membership_grace",
                    AuditAction::GraceStarted,
                ),
                Status::Lapsed
                    if s.lapsed_since
                        .is_some_and(|l| l >= as_of - Duration::days(LAPSE_MESSAGE_DAYS)) =>
                {
                    (
                        format!("lapsed:{until}"),
                        "membership_lapsed",
                        AuditAction::Lapsed,
                    )
                }
                _ => continue,
            };
            if sent.contains(&(m.id, key.clone())) {
                continue;
            }
            w.notices.push(notice_row(m.id, key, as_of));
            let fee = Money::from_pence(cat.annual_fee_pence);
            let reinstatement =
                Money::from_pence(std::cmp::Ord::max(cat.reinstatement_fee_pence, 0));
            let detail = match s.status {
                Status::Grace => json!({"ended": until, "grace_ends": s.grace_ends}),
                _ => json!({"ended": until, "lapsed_since": s.lapsed_since}),
            };
            w.audits.push(audit::row(
                actor,
                "member",
                m.id,
                action,
                Some(json!({"status": if s.status == Status::Grace { "Active" } else { "In grace" }})),
                Some(json!({"status": s.status.label(), "detail": detail, "as_of": as_of})),
            ));
            if s.status == Status::Grace {
                graced += 1;
            } else {
                lapsed += 1;
                lapsing.push(m.id);
            }
            if mail_allowed(&m) {
                let greet = crate::service::money::greeting(&m);
                let deadline = s
                    .lapsed_since
                    .and_then(|l| l.checked_add_months(Months::new(REINSTATE_MONTHS)));
                let (_, mail) = outbox::row(NewMessage {
                    template,
                    to_address: &m.email,
                    to_name: Some(&greet),
                    user_id: m.user_id,
                    member_id: Some(m.id),
                    context: json!({
                        "given_name": greet.clone(),
                        "number": MembershipNumber::text_of(m.membership_number),
                        "ended": until.format("%-d %B %Y").to_string(),
                        "grace_ends": s.grace_ends.map(|d| d.format("%-d %B %Y").to_string()).unwrap_or_default(),
                        "lapsed_since": s.lapsed_since.map(|d| d.format("%-d %B %Y").to_string()).unwrap_or_default(),
                        "deadline": deadline.map(|d| d.format("%-d %B %Y").to_string()).unwrap_or_default(),
                        "fee": fee.to_string(),
                        "reinstatement_fee": reinstatement.to_string(),
                        "renew_url": format!("{base_url}/portal/renew"),
                        "base_url": base_url,
                    }),
                    link: None,
                })?;
                w.mails.push(mail);
            }
        }
        if w.is_empty() {
            continue;
        }
        // Lapsing cancels the unpaid renewal (credited): the member now reinstates instead.
        let txn = crate::service::begin(db).await?;
        for id in &lapsing {
            cancel_open(&txn, actor, *id, "membership lapsed").await?;
        }
        w.insert(&txn).await?;
        txn.commit().await?;
    }
    Ok((graced, lapsed))
}
