//! The member record for staff, as one DTO: details, status, periods, membership changes,
//! organisation links and the timeline.

use guildhall::domain::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::record::DetailsInput;

#[cfg(feature = "ssr")]
use crate::record;

/// One changed field on the timeline: name, before, after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    pub at: String,
    /// `change`, `message` or `note`.
    pub kind: String,
    pub who: String,
    pub title: String,
    pub changes: Vec<Change>,
    pub body: Option<String>,
    pub message_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeriodRow {
    pub category: String,
    pub start: String,
    pub end: String,
    pub paid: String,
    pub how: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub what: String,
    pub on: String,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkRow {
    pub label: String,
    pub href: Option<String>,
    pub detail: String,
    /// For a representative of this organisation: the account to unlink.
    pub user_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordDto {
    pub id: String,
    pub number: String,
    pub organisation: bool,
    pub name: String,
    pub form: DetailsInput,
    pub address: String,
    pub category: String,
    pub category_id: String,
    pub status: String,
    pub status_tag: String,
    pub status_note: String,
    /// Why the member cannot renew or reinstate in the portal (lapsed too long).
    pub renewal_note: Option<String>,
    /// How the member pays monthly, when they do.
    pub plan_note: Option<String>,
    pub joined_on: String,
    pub account: String,
    pub preferences: String,
    pub register_consent: bool,
    pub stop_all_mail: bool,
    pub erased: bool,
    /// "Personal data erased on … by …", for an erased record.
    pub erased_note: String,
    /// What the member owes or is owed, in words.
    pub balance: String,
    /// The caller may erase this record's personal data (supervisors).
    pub can_erase: bool,
    pub periods: Vec<PeriodRow>,
    pub events: Vec<EventRow>,
    pub links: Vec<LinkRow>,
    pub timeline: Vec<TimelineRow>,
    pub categories: Vec<(String, String)>,
}

#[cfg(feature = "ssr")]
mod present {
    //! How the staff record shows its periods, membership changes and timeline.
    use super::{Change, TimelineRow};
    use guildhall::entity::membership_event::{removal_reason, EventKind};
    use guildhall::entity::period::PaidStatus;
    use guildhall::service::members::timeline::{TimelineItem, TimelineKind};

    fn show(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::Null => "—".into(),
            serde_json::Value::String(s) if s.is_empty() => "—".into(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Bool(true) => "Yes".into(),
            serde_json::Value::Bool(false) => "No".into(),
            other => other.to_string(),
        }
    }

    pub fn changes(
        before: Option<&serde_json::Value>,
        after: Option<&serde_json::Value>,
    ) -> Vec<Change> {
        let empty = serde_json::Map::new();
        let b = before.and_then(|v| v.as_object()).unwrap_or(&empty);
        let a = after.and_then(|v| v.as_object()).unwrap_or(&empty);
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.dedup();
        let mut seen = std::collections::HashSet::new();
        keys.into_iter()
            .filter(|k| seen.insert(k.as_str()))
            .map(|k| Change {
                field: k.replace('_', " "),
                before: b.get(k).map(show).unwrap_or_default(),
                after: a.get(k).map(show).unwrap_or_default(),
            })
            .collect()
    }

    pub fn timeline_row(t: TimelineItem) -> TimelineRow {
        TimelineRow {
            at: crate::format::staff_time(t.at),
            kind: match t.kind {
                TimelineKind::Change => "change",
                TimelineKind::Message => "message",
                TimelineKind::Note => "note",
            }
            .into(),
            who: t.who,
            title: t.title,
            changes: changes(t.before.as_ref(), t.after.as_ref()),
            body: t.body,
            message_id: t.message_id.map(|i| i.to_string()),
        }
    }

    pub fn event_label(kind: EventKind) -> &'static str {
        match kind {
            EventKind::Resigned => "Resigned",
            EventKind::Removed => "Removed",
            EventKind::Suspended => "Suspended",
            EventKind::SuspensionLifted => "Suspension lifted",
            EventKind::Reinstated => "Reinstated",
        }
    }

    pub fn paid_label(p: &guildhall::entity::period::Model) -> String {
        match p.paid_state {
            PaidStatus::Paid => p
                .paid_on
                .map(|d| format!("Paid {}", crate::format::long_date(d)))
                .unwrap_or_else(|| "Paid".into()),
            PaidStatus::Instalments if p.mandate_active => "Instalments (mandate active)".into(),
            PaidStatus::Instalments => "Instalments (mandate ended)".into(),
            PaidStatus::Unpaid => "Unpaid".into(),
        }
    }

    pub fn event_detail(e: &guildhall::entity::membership_event::Model) -> String {
        let mut parts = Vec::new();
        if let Some(r) = e.reason.as_deref().and_then(removal_reason) {
            parts.push(r.label().to_owned());
        }
        if let Some(d) = &e.detail {
            parts.push(d.clone());
        }
        if e.kind == EventKind::Resigned {
            if let Some(eff) = e.effective_on {
                parts.push(format!(
                    "Not a member from {}",
                    crate::format::long_date(eff)
                ));
            }
        }
        parts.join(" · ")
    }

    pub fn how(p: &guildhall::entity::period::Model) -> String {
        p.how_paid.label().to_owned()
    }
}

#[server(prefix = "/fn", endpoint = "member-record")]
pub async fn member_record(number: String) -> Result<RecordDto, AppError> {
    use guildhall::service::members::record as service;
    let actor = crate::ctx::require(guildhall::domain::Permission::ViewMembers)?;
    let st = crate::ctx::state()?;
    let n = record::parse_number(&number)?;
    let r = service::staff_record(&st.db, &actor, n).await?;
    let cats = guildhall::service::members::changes::open_categories(&st.db, &actor).await?;
    let m = &r.member;
    let d = crate::format::long_date;
    let mut links: Vec<LinkRow> = r
        .representatives
        .iter()
        .map(|(rep, u)| LinkRow {
            label: format!("{} {}", u.given_name, u.family_name),
            href: None,
            user_id: Some(u.id.to_string()),
            detail: [Some(u.email.clone()), rep.job_title.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
        })
        .collect();
    links.extend(r.organisations.iter().map(|o| LinkRow {
        label: record::display_name(o),
        href: Some(format!(
            "/staff/members/{}",
            record::number(o.membership_number)
        )),
        detail: format!(
            "Acts for this organisation ({})",
            record::number(o.membership_number)
        ),
        user_id: None,
    }));
    Ok(RecordDto {
        id: m.id.to_string(),
        number: record::number(m.membership_number),
        organisation: m.kind == "organisation",
        name: record::display_name(m),
        form: record::form(m),
        address: record::address(m),
        category: r.category.name.clone(),
        category_id: r.category.id.to_string(),
        status: r.status.status.label().to_owned(),
        status_tag: record::status_tag(r.status.status).to_owned(),
        status_note: record::status_note(&r.status),
        renewal_note: r.renewal_note.clone(),
        plan_note: r.plan_note.clone(),
        joined_on: d(m.joined_on),
        account: match &r.account {
            Some(u) if u.email_verified_at.is_some() => format!("{} (confirmed)", u.email),
            Some(u) => format!("{} (not confirmed yet)", u.email),
            None => "No portal account".into(),
        },
        preferences: if m.stop_all_mail {
            "No post or email at all".into()
        } else {
            format!(
                "Journal by post: {} · Email news: {}",
                if m.journal_by_post { "yes" } else { "no" },
                if m.email_news { "yes" } else { "no" }
            )
        },
        register_consent: m.register_consent,
        stop_all_mail: m.stop_all_mail,
        erased: m.pseudonymised_at.is_some(),
        erased_note: m
            .pseudonymised_at
            .map(|at| {
                format!(
                    "Personal data erased {} by {}.",
                    crate::format::staff_time(at),
                    m.pseudonymised_by.clone().unwrap_or_default()
                )
            })
            .unwrap_or_default(),
        balance: crate::money::ssr::balance_note(
            guildhall::service::ledger::member_balance(&st.db, m.id).await?,
            false,
        ),
        can_erase: actor.can(guildhall::domain::Permission::EraseMembers)
            && m.pseudonymised_at.is_none(),
        periods: r
            .history
            .periods
            .iter()
            .rev()
            .map(|p| PeriodRow {
                category: r.history.category_name(p.category_id),
                start: d(p.start_on),
                end: d(p.end_on),
                paid: present::paid_label(p),
                how: present::how(p),
            })
            .collect(),
        events: r
            .history
            .events
            .iter()
            .rev()
            .map(|e| EventRow {
                what: present::event_label(e.kind).to_owned(),
                on: d(e.on_date),
                detail: present::event_detail(e),
            })
            .collect(),
        links,
        timeline: r.timeline.into_iter().map(present::timeline_row).collect(),
        categories: cats
            .into_iter()
            .filter(|c| c.organisational == (m.kind == "organisation"))
            .map(|c| (c.id.to_string(), c.name))
            .collect(),
    })
}
