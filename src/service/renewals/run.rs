//! The renewal run: for every member whose paid period ends within the window (default 60 days after
//! the run's day), raise the renewal invoice for their category's annual fee and queue the invitation,
//! exactly once. Candidates are read in bulk; each batch of members is written in one transaction (the
//! `renewals` row, unique per member and period start, the ledger transaction and entries, the invoice,
//! the audit entry and the e-mail), so a run stopped at any point and run again raises nothing twice and
//! misses no one.

use crate::domain::dates::london_date;
use crate::domain::ledger::Account;
use crate::domain::membership::{next_period, HowPaid, PaidState, Period};
use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::{Actor, AppError, Permission};
use crate::entity::audit_log::AuditAction;
use crate::entity::document::{DocumentKind, DocumentStatus};
use crate::entity::renewal::{RenewalKind, RenewalStatus};
use crate::entity::{
    category, document, ledger_entry, ledger_transaction, member, notice, period, renewal,
};
use crate::mail::templates;
use crate::service::counters;
use crate::service::outbox::{self, NewMessage};
use chrono::{Duration, NaiveDate};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Days before a period ends that its renewal is raised.
pub const WINDOW_DAYS: i64 = 60;
/// Members written per transaction on SQLite.
const BATCH: usize = 1_000;
/// Members written per transaction on PostgreSQL: fewer, larger statements. Each statement over TCP
/// costs a round trip and, since the driver leaves Nagle's algorithm on, can wait for the server's
/// delayed acknowledgement of its last segment: 58,000 renewals took 28 s in batches of 1,000 and 21 s
/// in batches of 5,000 (10,000 gained nothing more).
const PG_BATCH: usize = 5_000;

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Members whose paid period ends within the window and who are still members.
    pub due: u64,
    /// Renewals raised by this run (invoice and invitation).
    pub raised: u64,
    /// Renewals an earlier run had raised already.
    pub already: u64,
    /// Members due in a category without a fee (nothing to invoice).
    pub free: u64,
}

struct Due {
    member: member::Model,
    category: category::Model,
    ends: NaiveDate,
    start: NaiveDate,
    end: NaiveDate,
}

/// Runs the renewal window as of `as_of`, calling `progress(done, total)` after each batch.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn run(
    db: &DatabaseConnection,
    actor: &Actor,
    as_of: NaiveDate,
    window_days: i64,
    progress: impl FnMut(u64, u64),
) -> Result<RunReport, AppError> {
    let batch = if crate::db::is_postgres(db) {
        PG_BATCH
    } else {
        BATCH
    };
    run_in_batches(db, actor, as_of, window_days, batch, progress).await
}

/// [`run`] with `batch` members per transaction (tests use small batches).
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn run_in_batches(
    db: &DatabaseConnection,
    actor: &Actor,
    as_of: NaiveDate,
    window_days: i64,
    batch: usize,
    mut progress: impl FnMut(u64, u64),
) -> Result<RunReport, AppError> {
    actor.require(Permission::EditMembers)?;
    let last = as_of + Duration::days(window_days.clamp(0, 366));
    let categories = crate::entity::category::by_id(db).await?;
    // Each member's latest period end, for those ending within the window.
    let latest: Vec<(Uuid, Option<NaiveDate>)> = period::Entity::find()
        .select_only()
        .column(period::Column::MemberId)
        .column_as(period::Column::EndOn.max(), "last_end")
        .group_by(period::Column::MemberId)
        .having(period::Column::EndOn.max().gte(as_of))
        .having(period::Column::EndOn.max().lte(last))
        .into_tuple()
        .all(db)
        .await?;
    let latest: HashMap<Uuid, NaiveDate> = latest
        .into_iter()
        .filter_map(|(m, e)| Some((m, e?)))
        .collect();
    // Those periods themselves: paid ones only (an unpaid one already has its invoice).
    let periods = period::Entity::find()
        .filter(period::Column::EndOn.gte(as_of))
        .filter(period::Column::EndOn.lte(last))
        .all(db)
        .await?;
    let ended = crate::service::renewals::notices::ended_members(db).await?;
    let mut current: HashMap<Uuid, period::Model> = HashMap::new();
    for p in periods {
        if latest.get(&p.member_id) == Some(&p.end_on)
            && p.paid_state != crate::entity::period::PaidStatus::Unpaid
            && !ended.contains(&p.member_id)
        {
            current.insert(p.member_id, p);
        }
    }
    let done: HashSet<(Uuid, NaiveDate)> = renewal::Entity::find()
        .select_only()
        .column(renewal::Column::MemberId)
        .column(renewal::Column::PeriodStart)
        .filter(renewal::Column::PeriodStart.gt(as_of))
        .into_tuple::<(Uuid, NaiveDate)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut report = RunReport::default();
    // The coming period of each member; those raised before are counted without reading the member.
    let mut pending: HashMap<Uuid, (&category::Model, NaiveDate, NaiveDate, NaiveDate)> =
        HashMap::new();
    for (member_id, p) in &current {
        let Some(cat) = categories.get(&p.category_id) else {
            continue;
        };
        let basis = crate::entity::category::renewal_basis(cat);
        let (start, end) = next_period(
            &Period {
                id: p.id,
                category_code: cat.code.clone(),
                start: p.start_on,
                end: p.end_on,
                paid: PaidState::Unpaid,
                how_paid: HowPaid::Card,
            },
            basis,
        );
        if done.contains(&(*member_id, start)) {
            report.due += 1;
            report.already += 1;
            continue;
        }
        pending.insert(*member_id, (cat, p.end_on, start, end));
    }
    let ids: Vec<Uuid> = pending.keys().copied().collect();
    let mut due = Vec::new();
    for chunk in ids.chunks(1000) {
        for m in member::Entity::find()
            .filter(member::Column::Id.is_in(chunk.to_vec()))
            .filter(member::Column::PseudonymisedAt.is_null())
            .all(db)
            .await?
        {
            let Some(&(cat, ends, start, end)) = pending.get(&m.id) else {
                continue;
            };
            report.due += 1;
            if cat.annual_fee_pence <= 0 {
                report.free += 1;
                continue;
            }
            due.push(Due {
                ends,
                category: cat.clone(),
                member: m,
                start,
                end,
            });
        }
    }
    due.sort_by_key(|d| d.member.membership_number);
    let total = due.len() as u64;
    let base_url = templates::default_base_url();
    let offsets = crate::service::settings::offsets(db).await?;
    for batch in due.chunks(batch.max(1)) {
        write_batch(db, actor, batch, as_of, base_url, &offsets).await?;
        report.raised += batch.len() as u64;
        progress(report.raised, total);
    }
    if report.raised > 0 {
        crate::service::events::publish(db, crate::service::events::Topic::Payments).await;
    }
    Ok(report)
}

async fn write_batch(
    db: &DatabaseConnection,
    actor: &Actor,
    batch: &[Due],
    as_of: NaiveDate,
    base_url: &str,
    offsets: &[i64],
) -> Result<(), AppError> {
    let txn = crate::service::begin(db).await?;
    let first = counters::take(&txn, "invoice_number", batch.len() as i64).await?;
    let now = crate::service::now();
    let today = london_date(now);
    let mut notices = Vec::new();
    let mut owed = crate::service::money::debts::Debts::new();
    let (mut renewals, mut txns, mut entries, mut docs, mut audits) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut to_render = Vec::new();
    for (i, d) in batch.iter().enumerate() {
        let m = &d.member;
        let fee = Money::from_pence(d.category.annual_fee_pence);
        let number =
            crate::service::money::document_number(DocumentKind::Invoice, first + i as i64);
        let description = format!(
            "Renewal: {} membership {} to {}",
            d.category.name,
            d.start.format("%-d %b %Y"),
            d.end.format("%-d %b %Y")
        );
        let (tid, doc_id) = (crate::service::new_id(), crate::service::new_id());
        renewals.push(renewal::ActiveModel {
            id: Set(crate::service::new_id()),
            member_id: Set(m.id),
            category_id: Set(d.category.id),
            period_start: Set(d.start),
            period_end: Set(d.end),
            amount_pence: Set(fee.pence()),
            invoice_id: Set(Some(doc_id)),
            created_at: Set(now),
            created_by: Set(actor.label.clone()),
            status: Set(RenewalStatus::Open),
            kind: Set(RenewalKind::Renewal),
            declaration: Set(None),
            declared_at: Set(None),
            period_id: Set(None),
            closed_at: Set(None),
            charge_attempts: Set(0),
            next_charge_on: Set(None),
        });
        // The invitation stands for the reminders already reached: the first reminder is the next one.
        for o in crate::service::renewals::notices::reached_offsets(offsets, d.ends, as_of) {
            notices.push(notice::ActiveModel {
                id: Set(crate::service::new_id()),
                member_id: Set(m.id),
                key: Set(crate::service::renewals::notices::reminder_key(o, d.start)),
                sent_on: Set(as_of),
                created_at: Set(now),
            });
        }
        txns.push(ledger_transaction::ActiveModel {
            id: Set(tid),
            idempotency_key: Set(format!("renewal:{}:{}", m.id, d.start)),
            kind: Set("invoice".into()),
            cause: Set(format!("{number}: renewal")),
            member_id: Set(Some(m.id)),
            memo: Set(Some(description.clone())),
            created_at: Set(now),
            created_by: Set(actor.label.clone()),
            method: Set(None),
            value_date: Set(Some(today)),
        });
        for (account, member_id, amount) in [
            (Account::MembersReceivable, Some(m.id), fee.pence()),
            (Account::SubscriptionIncome, None, -fee.pence()),
        ] {
            entries.push(ledger_entry::ActiveModel {
                id: Set(crate::service::new_id()),
                transaction_id: Set(tid),
                account_code: Set(account.code().to_owned()),
                member_id: Set(member_id),
                amount_pence: Set(amount),
            });
        }
        owed.add(m.id, today, fee.pence());
        docs.push(document::ActiveModel {
            id: Set(doc_id),
            kind: Set(DocumentKind::Invoice),
            number: Set(number.clone()),
            member_id: Set(m.id),
            issued_on: Set(today),
            description: Set(description.clone()),
            amount_pence: Set(fee.pence()),
            outstanding_pence: Set(fee.pence()),
            status: Set(DocumentStatus::Open),
            related_id: Set(None),
            ledger_transaction_id: Set(Some(tid)),
            created_at: Set(now),
            created_by: Set(actor.label.clone()),
        });
        audits.push(crate::service::audit::row(
            actor,
            "member",
            m.id,
            AuditAction::RenewalInvoiced,
            None,
            Some(json!({
                "invoice": number,
                "amount": fee.to_string(),
                "period": {"start": d.start, "end": d.end},
                "as_of": as_of,
            })),
        ));
        if m.stop_all_mail || m.email.is_empty() {
            continue;
        }
        let greet = crate::service::money::greeting(m);
        to_render.push((
            m.email.clone(),
            greet.clone(),
            m.user_id,
            m.id,
            json!({
                "given_name": greet,
                "number": MembershipNumber::text_of(m.membership_number),
                "ends": d.ends.format("%-d %B %Y").to_string(),
                "starts": d.start.format("%-d %B %Y").to_string(),
                "new_end": d.end.format("%-d %B %Y").to_string(),
                "amount": fee.to_string(),
                "invoice": number,
                "account_url": format!("{base_url}/portal/renew"),
                "base_url": base_url,
            }),
        ));
    }
    // The invitations are rendered on a blocking thread while the other rows are written (rendering is
    // CPU; writing mostly waits on the database), then written last.
    let rendering = tokio::task::spawn_blocking(move || {
        to_render
            .into_iter()
            .map(|(to, name, user_id, member_id, context)| {
                outbox::row(NewMessage {
                    template: "renewal_invitation",
                    to_address: &to,
                    to_name: Some(&name),
                    user_id,
                    member_id: Some(member_id),
                    context,
                    link: None,
                })
                .map(|(_, row)| row)
            })
            .collect::<Result<Vec<_>, AppError>>()
    });
    // The renewal rows first: a member raised by a run racing this one makes the batch fail whole.
    // Multi-row INSERTs with positional placeholders (`insert_rows`).
    crate::service::insert_rows(&txn, renewals).await?;
    crate::service::insert_rows(&txn, notices).await?;
    crate::service::insert_rows(&txn, txns).await?;
    crate::service::insert_rows(&txn, entries).await?;
    crate::service::insert_rows(&txn, docs).await?;
    owed.apply(&txn).await?;
    crate::service::insert_rows(&txn, audits).await?;
    let mails = rendering
        .await
        .map_err(|e| AppError::internal(format!("rendering the invitations: {e}")))??;
    crate::service::insert_rows(&txn, mails).await?;
    txn.commit().await?;
    Ok(())
}
