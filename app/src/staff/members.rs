//! Members for staff: search as you type, the member record on one page (details, status, periods,
//! organisation links, timeline), and the changes staff make (edit details, note, category, removal).

// Server functions take one argument per form field.
#![allow(clippy::too_many_arguments)]

use super::error_view;
use crate::components::forms::last_error;
use crate::components::{ErrorSummary, Field, PageTitle, SubmitButton};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchRow {
    pub number: String,
    pub name: String,
    pub email: String,
    pub postcode: String,
    pub town: String,
    pub category: String,
}

#[server(prefix = "/fn", endpoint = "member-search")]
pub async fn member_search(q: String) -> Result<Vec<SearchRow>, AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ViewMembers)?;
    let st = crate::ctx::state()?;
    let rows = guildhall::service::members::search::search(&st.db, &actor, &q).await?;
    let cats = guildhall::service::members::record::open_categories(&st.db, &actor).await?;
    Ok(rows
        .into_iter()
        .map(|m| SearchRow {
            number: ssr::number(m.membership_number),
            name: ssr::display_name(&m),
            email: m.email,
            postcode: m.postcode.unwrap_or_default(),
            town: m.town,
            category: cats
                .iter()
                .find(|c| c.id == m.category_id)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
        })
        .collect())
}

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

/// The member's details as the edit form needs them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DetailsForm {
    pub title: String,
    pub given_name: String,
    pub family_name: String,
    pub preferred_name: String,
    pub organisation_name: String,
    pub email: String,
    pub phone: String,
    pub address_line1: String,
    pub address_line2: String,
    pub town: String,
    pub county: String,
    pub postcode: String,
    pub country: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordDto {
    pub id: String,
    pub number: String,
    pub organisation: bool,
    pub name: String,
    pub form: DetailsForm,
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
pub(crate) mod ssr {
    use super::*;
    use guildhall::domain::membership::Status;
    use guildhall::domain::membership_number::MembershipNumber;
    use guildhall::entity::member;
    use guildhall::entity::membership_event::removal_reason;
    use guildhall::entity::period::how_paid_label;
    use guildhall::service::history::StatusSummary;
    use guildhall::service::members::record::{TimelineItem, TimelineKind};

    pub fn number(n: i64) -> String {
        MembershipNumber::text_of(n)
    }

    pub fn parse_number(s: &str) -> Result<i64, AppError> {
        MembershipNumber::parse(s)
            .map(|n| n.seq())
            .map_err(|_| AppError::NotFound)
    }

    pub fn display_name(m: &member::Model) -> String {
        if m.pseudonymised_at.is_some() {
            return "Erased member".into();
        }
        if let Some(o) = m
            .organisation_name
            .as_deref()
            .filter(|_| m.kind == "organisation")
        {
            return o.to_owned();
        }
        let given = m.preferred_name.as_deref().unwrap_or(&m.given_name);
        [m.title.as_deref().unwrap_or(""), given, &m.family_name]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn address(m: &member::Model) -> String {
        [
            Some(m.address_line1.as_str()),
            m.address_line2.as_deref(),
            Some(m.town.as_str()),
            m.county.as_deref(),
            m.postcode.as_deref(),
            (m.country != "GB").then_some(m.country.as_str()),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    }

    pub fn form(m: &member::Model) -> DetailsForm {
        DetailsForm {
            title: m.title.clone().unwrap_or_default(),
            given_name: m.given_name.clone(),
            family_name: m.family_name.clone(),
            preferred_name: m.preferred_name.clone().unwrap_or_default(),
            organisation_name: m.organisation_name.clone().unwrap_or_default(),
            email: m.email.clone(),
            phone: m.phone.clone().unwrap_or_default(),
            address_line1: m.address_line1.clone(),
            address_line2: m.address_line2.clone().unwrap_or_default(),
            town: m.town.clone(),
            county: m.county.clone().unwrap_or_default(),
            postcode: m.postcode.clone().unwrap_or_default(),
            country: m.country.clone(),
        }
    }

    /// The tag class for a status; the label says it in words.
    pub fn status_tag(s: Status) -> &'static str {
        match s {
            Status::Active => "tag tag--green",
            Status::Grace | Status::NotYetStarted => "tag tag--yellow",
            Status::Suspended | Status::Removed => "tag tag--red",
            _ => "tag tag--grey",
        }
    }

    /// A sentence explaining the status with its dates.
    pub fn status_note(s: &StatusSummary) -> String {
        let d = crate::format::long_date;
        let mut out = match s.status {
            Status::Active => s
                .member_until
                .map(|u| format!("Member until {}", d(u)))
                .unwrap_or_default(),
            Status::Grace => format!(
                "The period ended on {}. Still a member until {} while the renewal is unpaid.",
                s.member_until.map(d).unwrap_or_default(),
                s.grace_ends.map(d).unwrap_or_default()
            ),
            Status::Lapsed => format!("Lapsed on {}.", s.lapsed_since.map(d).unwrap_or_default()),
            Status::Resigned | Status::Removed | Status::Suspended => s
                .member_until
                .map(|u| format!("Last day of membership: {}.", d(u)))
                .unwrap_or_default(),
            Status::NotYetStarted => s
                .period
                .map(|(start, _)| format!("The first period starts on {} once paid.", d(start)))
                .unwrap_or_default(),
            Status::NeverMember => "No membership periods yet.".into(),
        };
        if let Some(r) = s.resigning_from {
            out.push_str(&format!(
                " Resigned: membership ends on {}.",
                d(r - chrono::Duration::days(1))
            ));
        }
        out.trim().to_owned()
    }

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

    pub fn event_label(kind: &str) -> &'static str {
        match kind {
            "resigned" => "Resigned",
            "removed" => "Removed",
            "suspended" => "Suspended",
            "suspension_lifted" => "Suspension lifted",
            "reinstated" => "Reinstated",
            _ => "Other",
        }
    }

    pub fn paid_label(p: &guildhall::entity::period::Model) -> String {
        match p.paid_state.as_str() {
            "paid" => p
                .paid_on
                .map(|d| format!("Paid {}", crate::format::long_date(d)))
                .unwrap_or_else(|| "Paid".into()),
            "instalments" if p.mandate_active => "Instalments (mandate active)".into(),
            "instalments" => "Instalments (mandate ended)".into(),
            _ => "Unpaid".into(),
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
        if e.kind == "resigned" {
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
        how_paid_label(&p.how_paid).to_owned()
    }
}

#[server(prefix = "/fn", endpoint = "member-record")]
pub async fn member_record(number: String) -> Result<RecordDto, AppError> {
    use guildhall::service::members::record;
    let actor = crate::ctx::require(guildhall::domain::Permission::ViewMembers)?;
    let st = crate::ctx::state()?;
    let n = ssr::parse_number(&number)?;
    let r = record::staff_record(&st.db, &actor, n).await?;
    let cats = record::open_categories(&st.db, &actor).await?;
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
        label: ssr::display_name(o),
        href: Some(format!(
            "/staff/members/{}",
            ssr::number(o.membership_number)
        )),
        detail: format!(
            "Acts for this organisation ({})",
            ssr::number(o.membership_number)
        ),
        user_id: None,
    }));
    Ok(RecordDto {
        id: m.id.to_string(),
        number: ssr::number(m.membership_number),
        organisation: m.kind == "organisation",
        name: ssr::display_name(m),
        form: ssr::form(m),
        address: ssr::address(m),
        category: r.category.name.clone(),
        category_id: r.category.id.to_string(),
        status: r.status.status.label().to_owned(),
        status_tag: ssr::status_tag(r.status.status).to_owned(),
        status_note: ssr::status_note(&r.status),
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
                paid: ssr::paid_label(p),
                how: ssr::how(p),
            })
            .collect(),
        events: r
            .history
            .events
            .iter()
            .rev()
            .map(|e| EventRow {
                what: ssr::event_label(&e.kind).to_owned(),
                on: d(e.on_date),
                detail: ssr::event_detail(e),
            })
            .collect(),
        links,
        timeline: r.timeline.into_iter().map(ssr::timeline_row).collect(),
        categories: cats
            .into_iter()
            .filter(|c| c.organisational == (m.kind == "organisation"))
            .map(|c| (c.id.to_string(), c.name))
            .collect(),
    })
}

#[cfg(feature = "ssr")]
pub(crate) fn member_uuid(id: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)
}

#[server(prefix = "/fn", endpoint = "update-member")]
pub async fn update_member(
    member_id: String,
    title: String,
    given_name: String,
    family_name: String,
    preferred_name: String,
    organisation_name: Option<String>,
    email: String,
    phone: String,
    address_line1: String,
    address_line2: String,
    town: String,
    county: String,
    postcode: String,
    country: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    let input = guildhall::service::members::record::DetailsInput {
        title,
        given_name,
        family_name,
        preferred_name,
        organisation_name: organisation_name.unwrap_or_default(),
        email: Some(email),
        phone,
        address_line1,
        address_line2,
        town,
        county,
        postcode,
        country,
    };
    let m = guildhall::service::members::record::staff_update_details(
        &st.db,
        &actor,
        member_uuid(&member_id)?,
        &input,
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=details",
        ssr::number(m.membership_number)
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "add-member-note")]
pub async fn add_member_note(
    member_id: String,
    number: String,
    body: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    guildhall::service::members::record::add_note(&st.db, &actor, member_uuid(&member_id)?, &body)
        .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=note",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "change-member-category")]
pub async fn change_member_category(
    member_id: String,
    number: String,
    category: String,
    reason: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    let cat = uuid::Uuid::parse_str(category.trim())
        .map_err(|_| AppError::field("category", "Choose a category"))?;
    guildhall::service::members::record::change_category(
        &st.db,
        &actor,
        member_uuid(&member_id)?,
        cat,
        &reason,
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=category",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "remove-member")]
pub async fn remove_member(
    member_id: String,
    number: String,
    reason: Option<String>,
    detail: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    let reason = reason
        .as_deref()
        .and_then(guildhall::entity::membership_event::removal_reason);
    guildhall::service::members::record::remove(
        &st.db,
        &actor,
        member_uuid(&member_id)?,
        reason,
        &detail,
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=removed",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

/// Search as you type: the results follow the box (the address keeps the query, so a search can be
/// shared and works without JavaScript as an ordinary form).
#[component]
pub fn MembersPage() -> impl IntoView {
    let me = expect_context::<crate::MeResource>();
    // Finance staff find members but do not add them.
    let can_add = move || {
        me.get()
            .and_then(|r| r.ok().flatten())
            .is_some_and(|m| m.actor.can(guildhall::domain::Permission::EditMembers))
    };
    let q = use_query_map();
    let query = move || q.read().get("q").unwrap_or_default();
    let results = Resource::new(query, member_search);
    let initial = q.read_untracked().get("q").unwrap_or_default();
    #[cfg(feature = "hydrate")]
    let on_input = {
        let navigate = leptos_router::hooks::use_navigate();
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            navigate(
                &format!("/staff/members?q={}", crate::format::urlencode(&v)),
                leptos_router::NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    };
    #[cfg(not(feature = "hydrate"))]
    let on_input = |_: leptos::ev::Event| {};
    view! {
        <PageTitle text="Members"/>
        <h1 class="heading-l">"Members"</h1>
        <Suspense fallback=|| ()>
            {move || can_add().then(|| view! { <p class="body"><a class="button button--secondary" href="/staff/members/new">"Add a member"</a></p> })}
        </Suspense>
        <form method="get" action="/staff/members" class="filters search-box" role="search" aria-label="Member search"
            on:submit=|ev| ev.prevent_default()>
            <div class="field field--inline search-box__field">
                <label class="label" for="q">"Find a member"</label>
                <p class="hint" id="q-hint">"Name, email address, membership number or postcode"</p>
                <input class="input" id="q" name="q" type="search" autocomplete="off" spellcheck="false"
                    aria-describedby="q-hint" value=initial on:input=on_input/>
            </div>
            <noscript><button type="submit" class="button button--secondary">"Search"</button></noscript>
        </form>
        <Transition fallback=|| view! { <p class="body">"Searching…"</p> }>
            {move || results.get().map(|r| match r {
                Ok(rows) if query().trim().is_empty() => { let _ = rows; view! { <p class="body" role="status">"Start typing to find a member."</p> }.into_any() }
                Ok(rows) if rows.is_empty() => view! { <p class="body" role="status">"No members match."</p> }.into_any(),
                Ok(rows) => view! {
                    <p class="body" role="status">{match rows.len() { 1 => "1 member found".to_owned(), n if n as u64 >= 20 => "The first 20 matches (type more to narrow them down)".to_owned(), n => format!("{n} members found") }}</p>
                    <table class="table">
                        <caption class="visually-hidden">"Members matching the search"</caption>
                        <thead><tr><th scope="col">"Number"</th><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Postcode"</th><th scope="col">"Town"</th><th scope="col">"Category"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|m| {
                                let href = format!("/staff/members/{}", m.number);
                                view! {
                                    <tr>
                                        <td data-label="Number"><a href=href.clone()>{m.number.clone()}</a></td>
                                        <td data-label="Name"><a href=href>{m.name}</a></td>
                                        <td data-label="Email">{m.email}</td>
                                        <td data-label="Postcode">{m.postcode}</td>
                                        <td data-label="Town">{m.town}</td>
                                        <td data-label="Category">{m.category}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(e) => error_view(e),
            })}
        </Transition>
    }
}

fn saved_message(s: &str) -> Option<&'static str> {
    Some(match s {
        "details" => "The member's details were saved.",
        "note" => "The note was added.",
        "category" => "The category was changed.",
        "removed" => "The member was removed.",
        "created" => "The member was added.",
        "representative" => "The representative was added and emailed.",
        "unlinked" => "The representative no longer acts for this organisation.",
        "erased" => "The member's personal data was erased.",
        _ => return None,
    })
}

#[component]
fn Timeline(items: Vec<TimelineRow>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="body">"Nothing yet."</p> }.into_any();
    }
    view! {
        <ol class="timeline">
            {items.into_iter().map(|t| {
                let class = format!("timeline__item timeline__item--{}", t.kind);
                let head = match (t.kind.as_str(), t.message_id.clone()) {
                    ("message", Some(id)) => view! { <p class="timeline__head">"Email: "<a href=format!("/staff/outbox/{id}")>{t.title.clone()}</a></p> }.into_any(),
                    _ => view! { <p class="timeline__head">{t.title.clone()}</p> }.into_any(),
                };
                let body = match t.kind.as_str() {
                    "message" => t.body.clone().map(|s| super::outbox::status_tag(&s).into_any()),
                    _ => t.body.clone().map(|b| view! { <p class="timeline__body">{b}</p> }.into_any()),
                };
                let changes = (!t.changes.is_empty()).then(|| view! {
                    <dl class="changes">
                        {t.changes.iter().map(|c| view! {
                            <dt>{c.field.clone()}</dt>
                            <dd>{if c.before.is_empty() { c.after.clone() } else { format!("{} → {}", c.before, c.after) }}</dd>
                        }).collect_view()}
                    </dl>
                });
                view! {
                    <li class=class>
                        {head}
                        <p class="timeline__meta">{t.at.clone()}" · "{t.who.clone()}</p>
                        {body}
                        {changes}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
pub fn MemberRecordPage() -> impl IntoView {
    let params = use_params_map();
    let q = use_query_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let data = Resource::new(number, member_record);
    let note = ServerAction::<AddMemberNote>::new();
    let note_error = last_error(note);
    let cat = ServerAction::<ChangeMemberCategory>::new();
    let cat_error = last_error(cat);
    let rep_add = ServerAction::<AddRepresentative>::new();
    let rep_error = last_error(rep_add);
    let rep_remove = ServerAction::<RemoveRepresentative>::new();
    let saved = move || q.read().get("saved").and_then(|s| saved_message(&s));
    view! {
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(m) => {
                    let edit = format!("/staff/members/{}/edit", m.number);
                    let remove = format!("/staff/members/{}/remove", m.number);
                    let erase = format!("/staff/members/{}/erase", m.number);
                    let (links, is_org, erased) = (m.links.clone(), m.organisation, m.erased);
                    let no_links = links.is_empty();
                    let (link_id, link_number) = (m.id.clone(), m.number.clone());
                    let (rep_id, rep_number) = (m.id.clone(), m.number.clone());
                    let removed = m.status == "Removed";
                    let (cat_id, cat_number) = (m.id.clone(), m.number.clone());
                    let (cat_options, cat_current) = (m.categories.clone(), m.category_id.clone());
                    view! {
                        <PageTitle text=format!("{} {}", m.name, m.number)/>
                        <p class="back-link"><a href="/staff/members">"Back to members"</a></p>
                        {move || saved().map(|s| view! { <div class="banner banner--success" role="status"><p>{s}</p></div> })}
                        <h1 class="heading-l">{m.name.clone()}" "<span class="mono small">{m.number.clone()}</span></h1>
                        <p class="body"><strong class=m.status_tag.clone()>{m.status.clone()}</strong>" "{m.status_note.clone()}</p>
                        {m.renewal_note.clone().map(|n| view! { <p class="body" data-testid="renewal-note">{n}</p> })}
                        {m.plan_note.clone().map(|n| view! { <p class="body" data-testid="plan-note">{n}</p> })}
                        <div class="record">
                            <div>
                                <h2 class="heading-m">"Details"</h2>
                                <dl class="summary-list summary-list--compact">
                                    <div class="summary-list__row"><dt>"Category"</dt><dd>{m.category.clone()}</dd></div>
                                    <div class="summary-list__row"><dt>"Member since"</dt><dd>{m.joined_on.clone()}</dd></div>
                                    <div class="summary-list__row"><dt>"Email"</dt><dd>{m.form.email.clone()}</dd></div>
                                    <div class="summary-list__row"><dt>"Phone"</dt><dd>{if m.form.phone.is_empty() { "—".to_owned() } else { m.form.phone.clone() }}</dd></div>
                                    <div class="summary-list__row"><dt>"Address"</dt><dd>{m.address.clone()}</dd></div>
                                    <div class="summary-list__row"><dt>"Portal account"</dt><dd>{m.account.clone()}</dd></div>
                                    <div class="summary-list__row"><dt>"Communication"</dt><dd>{m.preferences.clone()}</dd></div>
                                    <div class="summary-list__row"><dt>"Public register"</dt><dd>{if m.register_consent { "Consented" } else { "Not consented" }}</dd></div>
                                    <div class="summary-list__row"><dt>"Balance"</dt><dd>{m.balance.clone()}" "<a href=format!("/staff/members/{}/money", m.number)>"Payments and balance"</a></dd></div>
                                </dl>
                                {m.erased.then(|| view! { <p class="body">{m.erased_note.clone()}</p> })}
                                {(!m.erased).then(|| view! {
                                    <div class="actions">
                                        <a class="button button--secondary" href=edit.clone()>"Change details"</a>
                                        {(!removed).then(|| view! { <a class="button button--secondary" href=remove.clone()>"Remove member"</a> })}
                                        {m.can_erase.then(|| view! { <a class="button button--warning" href=erase.clone()>"Erase personal data"</a> })}
                                    </div>
                                })}
                                <h2 class="heading-m">"Membership periods"</h2>
                                {if m.periods.is_empty() {
                                    view! { <p class="body">"No periods yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <table class="table">
                                            <caption class="visually-hidden">"Membership periods, newest first"</caption>
                                            <thead><tr><th scope="col">"Category"</th><th scope="col">"From"</th><th scope="col">"To"</th><th scope="col">"Payment"</th><th scope="col">"How paid"</th></tr></thead>
                                            <tbody>
                                                {m.periods.iter().map(|p| view! {
                                                    <tr><td data-label="Category">{p.category.clone()}</td><td data-label="From">{p.start.clone()}</td><td data-label="To">{p.end.clone()}</td><td data-label="Payment">{p.paid.clone()}</td><td data-label="How paid">{p.how.clone()}</td></tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                                {(!m.events.is_empty()).then(|| view! {
                                    <h2 class="heading-m">"Membership changes"</h2>
                                    <table class="table">
                                        <caption class="visually-hidden">"Resignations, removals and suspensions, newest first"</caption>
                                        <thead><tr><th scope="col">"What"</th><th scope="col">"On"</th><th scope="col">"Detail"</th></tr></thead>
                                        <tbody>
                                            {m.events.iter().map(|e| view! {
                                                <tr><td data-label="What">{e.what.clone()}</td><td data-label="On">{e.on.clone()}</td><td data-label="Detail">{e.detail.clone()}</td></tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                })}
                                {(!no_links || (is_org && !erased)).then(move || view! {
                                    <h2 class="heading-m">{if is_org { "Representatives" } else { "Organisations" }}</h2>
                                    {(is_org && no_links).then(|| view! { <p class="body">"No one acts for this organisation yet."</p> })}
                                    <ul class="body links">
                                        {links.into_iter().map(|l| {
                                            let (mid, num) = (link_id.clone(), link_number.clone());
                                            view! {
                                                <li>{match l.href.clone() { Some(h) => view! { <a href=h>{l.label.clone()}</a> }.into_any(), None => view! { <strong>{l.label.clone()}</strong> }.into_any() }}" — "{l.detail.clone()}
                                                    {l.user_id.clone().map(|uid| view! {
                                                        <ActionForm action=rep_remove attr:class="inline-form">
                                                            <input type="hidden" name="member_id" value=mid/>
                                                            <input type="hidden" name="number" value=num/>
                                                            <input type="hidden" name="user_id" value=uid/>
                                                            <button type="submit" class="link-button">"Remove"<span class="visually-hidden">" "{l.label.clone()}" as a representative"</span></button>
                                                        </ActionForm>
                                                    })}
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                })}
                                {(is_org && !erased).then(|| view! {
                                    <details class="details" open=rep_error.get_untracked().is_some()>
                                        <summary class="details__summary">"Add a representative"</summary>
                                        <ErrorSummary error=rep_error/>
                                        <ActionForm action=rep_add attr:class="form-narrow" attr:novalidate=true>
                                            <input type="hidden" name="member_id" value=rep_id.clone()/>
                                            <input type="hidden" name="number" value=rep_number.clone()/>
                                            <Field name="email" label="Their email address" hint="If they have no account yet, they are emailed a link to choose a password" input_type="email" error=rep_error autocomplete="off"/>
                                            <Field name="given_name" label="First name (for a new account)" error=rep_error autocomplete="off"/>
                                            <Field name="family_name" label="Last name (for a new account)" error=rep_error autocomplete="off"/>
                                            <Field name="job_title" label="Job title (optional)" error=rep_error autocomplete="off"/>
                                            <SubmitButton label="Add representative" pending=rep_add.pending()/>
                                        </ActionForm>
                                    </details>
                                })}
                                {(!m.erased && !removed).then(|| view! {
                                    <h2 class="heading-m">"Change category"</h2>
                                    <ErrorSummary error=cat_error/>
                                    <ActionForm action=cat attr:class="form-narrow" attr:novalidate=true>
                                        <input type="hidden" name="member_id" value=cat_id.clone()/>
                                        <input type="hidden" name="number" value=cat_number.clone()/>
                                        <div class="field" id="category">
                                            <label class="label" for="category-select">"New category"</label>
                                            <select class="select" id="category-select" name="category">
                                                {cat_options.iter().map(|(id, name)| view! { <option value=id.clone() selected=*id == cat_current>{name.clone()}</option> }).collect_view()}
                                            </select>
                                        </div>
                                        <Field name="reason" label="Reason for the change" error=cat_error/>
                                        <SubmitButton label="Change category" pending=cat.pending()/>
                                    </ActionForm>
                                })}
                            </div>
                            <div>
                                <h2 class="heading-m">"Add a note"</h2>
                                <ErrorSummary error=note_error/>
                                <ActionForm action=note attr:novalidate=true>
                                    <input type="hidden" name="member_id" value=m.id.clone()/>
                                    <input type="hidden" name="number" value=m.number.clone()/>
                                    <NoteField error=note_error/>
                                    <SubmitButton label="Add note" pending=note.pending()/>
                                </ActionForm>
                                <h2 class="heading-m">"Timeline"</h2>
                                <Timeline items=m.timeline.clone()/>
                            </div>
                        </div>
                    }.into_any()
                }
                Err(e) => error_view(e),
            })}
        </Suspense>
    }
}

#[component]
fn NoteField(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let message = Signal::derive(move || {
        error
            .get()
            .and_then(|e| e.fields().and_then(|f| f.get("body").map(str::to_owned)))
    });
    view! {
        <div class=move || if message.get().is_some() { "field field--error" } else { "field" }>
            <label class="label" for="body">"Note"</label>
            {move || message.get().map(|m| view! { <p class="field-error" id="body-error"><span class="visually-hidden">"Error: "</span>{m}</p> })}
            <textarea class="textarea" id="body" name="body" rows="4"
                aria-describedby=move || message.get().map(|_| "body-error")></textarea>
        </div>
    }
}

/// The contact-details inputs shared by the staff edit page and the member's own page.
#[component]
pub fn DetailsFields(
    form: DetailsForm,
    #[prop(into)] error: Signal<Option<AppError>>,
    /// Staff may change the e-mail address of a member without a portal account.
    #[prop(default = false)]
    with_email: bool,
    #[prop(default = false)] organisation: bool,
) -> impl IntoView {
    view! {
        {organisation.then(|| view! { <Field name="organisation_name" label="Organisation name" error value=form.organisation_name.clone() autocomplete="organization"/> })}
        <Field name="title" label="Title (optional)" error value=form.title.clone() class="input input--w20" autocomplete="honorific-prefix"/>
        <Field name="given_name" label=if organisation { "Contact's first name" } else { "First name" } error value=form.given_name.clone() autocomplete="given-name"/>
        <Field name="family_name" label=if organisation { "Contact's last name" } else { "Last name" } error value=form.family_name.clone() autocomplete="family-name"/>
        <Field name="preferred_name" label="Preferred name (optional)" hint="What we call you in letters and emails" error value=form.preferred_name.clone()/>
        {with_email.then(|| view! { <Field name="email" label="Email address" input_type="email" error value=form.email.clone() autocomplete="email"/> })}
        <Field name="phone" label="Phone number (optional)" input_type="tel" error value=form.phone.clone() autocomplete="tel"/>
        <fieldset class="fieldset">
            <legend class="heading-m">"Address"</legend>
            <Field name="address_line1" label="Address line 1" error value=form.address_line1.clone() autocomplete="address-line1"/>
            <Field name="address_line2" label="Address line 2 (optional)" error value=form.address_line2.clone() autocomplete="address-line2"/>
            <Field name="town" label="Town or city" error value=form.town.clone() class="input input--w20" autocomplete="address-level2"/>
            <Field name="county" label="County (optional)" error value=form.county.clone() class="input input--w20" autocomplete="address-level1"/>
            <Field name="postcode" label="Postcode" hint="Leave blank only for an address outside the UK without one" error value=form.postcode.clone() class="input input--w20" autocomplete="postal-code"/>
            <Field name="country" label="Country code" hint="GB for the United Kingdom, or another two-letter code such as IE or FR" error value=form.country.clone() class="input input--w20" autocomplete="country"/>
        </fieldset>
    }
}

#[component]
pub fn EditMemberPage() -> impl IntoView {
    let params = use_params_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let data = Resource::new(number, member_record);
    let action = ServerAction::<UpdateMember>::new();
    let error = last_error(action);
    view! {
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(m) => view! {
                    <PageTitle text=format!("Change details – {}", m.name)/>
                    <p class="back-link"><a href=format!("/staff/members/{}", m.number)>"Back to the record"</a></p>
                    <ErrorSummary error/>
                    <h1 class="heading-l">"Change details"<span class="visually-hidden">" of "{m.name.clone()}</span></h1>
                    <p class="body">{m.name.clone()}" · "{m.number.clone()}</p>
                    <ActionForm action attr:novalidate=true attr:class="form-narrow">
                        <input type="hidden" name="member_id" value=m.id.clone()/>
                        <DetailsFields form=m.form.clone() error with_email=true organisation=m.organisation/>
                        <SubmitButton label="Save changes" pending=action.pending()/>
                    </ActionForm>
                }.into_any(),
                Err(e) => error_view(e),
            })}
        </Suspense>
    }
}

#[component]
pub fn RemoveMemberPage() -> impl IntoView {
    let params = use_params_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let data = Resource::new(number, member_record);
    let action = ServerAction::<RemoveMember>::new();
    let error = last_error(action);
    let reason_error = move || {
        error
            .get()
            .and_then(|e| e.fields().and_then(|f| f.get("reason").map(str::to_owned)))
    };
    view! {
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(m) => view! {
                    <PageTitle text=format!("Remove member – {}", m.name)/>
                    <p class="back-link"><a href=format!("/staff/members/{}", m.number)>"Back to the record"</a></p>
                    <ErrorSummary error/>
                    <h1 class="heading-l">"Remove "{m.name.clone()}</h1>
                    <p class="body">"Removing ends the membership today. The record, its periods and its history are kept."</p>
                    <ActionForm action attr:novalidate=true attr:class="form-narrow">
                        <input type="hidden" name="member_id" value=m.id.clone()/>
                        <input type="hidden" name="number" value=m.number.clone()/>
                        <div class=move || if reason_error().is_some() { "field field--error" } else { "field" } id="reason">
                            <fieldset class="fieldset">
                                <legend class="label">"Why is the member being removed?"</legend>
                                {move || reason_error().map(|msg| view! { <p class="field-error"><span class="visually-hidden">"Error: "</span>{msg}</p> })}
                                {[("deceased", "Deceased", "No post or email will be sent to this member again"), ("struck_off", "Struck off", ""), ("other", "Another reason", "")]
                                    .into_iter().map(|(v, l, h)| {
                                        let id = format!("reason-{v}");
                                        view! {
                                            <div class="checkbox">
                                                <input class="checkbox__input" type="radio" id=id.clone() name="reason" value=v/>
                                                <label class="checkbox__label" for=id>{l}{(!h.is_empty()).then(|| view! { <span class="hint">" – "{h}</span> })}</label>
                                            </div>
                                        }
                                    }).collect_view()}
                            </fieldset>
                        </div>
                        <Field name="detail" label="Details (needed for another reason)" error/>
                        <button type="submit" class="button button--warning">"Remove member"</button>
                    </ActionForm>
                }.into_any(),
                Err(e) => error_view(e),
            })}
        </Suspense>
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewMemberChoices {
    /// (id, name, for organisations)
    pub categories: Vec<(String, String, bool)>,
    pub today: String,
}

#[server(prefix = "/fn", endpoint = "new-member-options")]
pub async fn new_member_options() -> Result<NewMemberChoices, AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    let cats = guildhall::service::members::record::open_categories(&st.db, &actor).await?;
    Ok(NewMemberChoices {
        categories: cats
            .into_iter()
            .map(|c| (c.id.to_string(), c.name, c.organisational))
            .collect(),
        today: guildhall::service::today().to_string(),
    })
}

#[server(prefix = "/fn", endpoint = "create-member")]
pub async fn create_member(
    kind: Option<String>,
    category: String,
    starts_on: String,
    payment: Option<String>,
    title: String,
    given_name: String,
    family_name: String,
    preferred_name: String,
    organisation_name: String,
    email: String,
    phone: String,
    address_line1: String,
    address_line2: String,
    town: String,
    county: String,
    postcode: String,
    country: String,
) -> Result<(), AppError> {
    use guildhall::service::members::{enrol, record::DetailsInput};
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    let input = enrol::NewMemberInput {
        kind: kind.unwrap_or_default(),
        category_id: category,
        starts_on,
        payment: payment.unwrap_or_default(),
        details: DetailsInput {
            title,
            given_name,
            family_name,
            preferred_name,
            organisation_name,
            email: Some(email),
            phone,
            address_line1,
            address_line2,
            town,
            county,
            postcode,
            country,
        },
    };
    let m = enrol::create_member(&st.db, &actor, &input).await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=created",
        ssr::number(m.membership_number)
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "add-representative")]
pub async fn add_representative(
    member_id: String,
    number: String,
    email: String,
    given_name: String,
    family_name: String,
    job_title: String,
) -> Result<(), AppError> {
    use guildhall::service::members::enrol;
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    enrol::add_representative(
        &st.db,
        &actor,
        member_uuid(&member_id)?,
        &enrol::NewRepresentative {
            email,
            given_name,
            family_name,
            job_title,
        },
        &st.base_url,
    )
    .await?;
    st.outbox_wake.notify_one();
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=representative",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "remove-representative")]
pub async fn remove_representative(
    member_id: String,
    number: String,
    user_id: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    guildhall::service::members::enrol::remove_representative(
        &st.db,
        &actor,
        member_uuid(&member_id)?,
        member_uuid(&user_id)?,
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=unlinked",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "erase-member")]
pub async fn erase_member(
    member_id: String,
    number: String,
    confirm: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EraseMembers)?;
    let st = crate::ctx::state()?;
    guildhall::service::members::erasure::erase(&st.db, &actor, member_uuid(&member_id)?, &confirm)
        .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=erased",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

/// Staff add a member by hand: a person or an organisation, its category and first period.
#[component]
pub fn NewMemberPage() -> impl IntoView {
    use crate::components::Radios;
    let data = Resource::new(|| (), |_| new_member_options());
    let action = ServerAction::<CreateMember>::new();
    let error = last_error(action);
    let category_error = crate::components::forms::field_message(error, "category".into());
    view! {
        <PageTitle text="Add a member"/>
        <p class="back-link"><a href="/staff/members">"Back to members"</a></p>
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(o) => view! {
                    <ErrorSummary error/>
                    <h1 class="heading-l">"Add a member"</h1>
                    <p class="body">"For someone joining on paper or by phone. Applications made online arrive through the applications queue instead."</p>
                    <ActionForm action attr:novalidate=true attr:class="form-narrow">
                        <Radios name="kind" legend="Who is joining?" error selected="individual"
                            options=vec![("individual".to_owned(), "A person".to_owned()), ("organisation".to_owned(), "An organisation".to_owned())]/>
                        <div class="field" id="category">
                            <label class="label" for="category-select">"Category"</label>
                            {move || category_error.get().map(|m| view! { <p class="field-error"><span class="visually-hidden">"Error: "</span>{m}</p> })}
                            <select class="select" id="category-select" name="category">
                                {o.categories.iter().map(|(id, name, org)| view! {
                                    <option value=id.clone()>{if *org { format!("{name} (organisations)") } else { name.clone() }}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <Field name="starts_on" label="Membership starts" input_type="date" hint="The first day of the first membership period" error value=o.today.clone() class="input input--w20"/>
                        <Radios name="payment" legend="First year's fee" error selected="unpaid"
                            options=guildhall::domain::membership::FIRST_PAYMENT.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect()/>
                        <Field name="organisation_name" label="Organisation name (organisations only)" error autocomplete="organization"/>
                        <DetailsFields form=DetailsForm { country: "GB".into(), ..Default::default() } error with_email=true/>
                        <SubmitButton label="Add member" pending=action.pending()/>
                    </ActionForm>
                }.into_any(),
                Err(e) => error_view(e),
            })}
        </Suspense>
    }
}

/// The second confirmation before a supervisor erases a member's personal data.
#[component]
pub fn EraseMemberPage() -> impl IntoView {
    let params = use_params_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let data = Resource::new(number, member_record);
    let action = ServerAction::<EraseMember>::new();
    let error = last_error(action);
    view! {
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(m) if m.can_erase => view! {
                    <PageTitle text=format!("Erase personal data – {}", m.number)/>
                    <p class="back-link"><a href=format!("/staff/members/{}", m.number)>"Back to the record"</a></p>
                    <ErrorSummary error/>
                    <h1 class="heading-l">"Erase the personal data of "{m.name.clone()}</h1>
                    <div class="inset">
                        <p class="body"><strong>"This cannot be undone."</strong></p>
                        <p class="body">"Erased: name, email address, phone, postal address, preferences and register consent; the portal account (it can never sign in again); the text of notes; the addresses and contents of emails sent to them; the personal values in earlier audit entries."</p>
                        <p class="body">"Kept: the membership number, category, joining date, membership periods and changes, and payments, for six years after the accounting year. Who did what and when stays in the audit trail."</p>
                    </div>
                    <ActionForm action attr:novalidate=true attr:class="form-narrow">
                        <input type="hidden" name="member_id" value=m.id.clone()/>
                        <input type="hidden" name="number" value=m.number.clone()/>
                        <Field name="confirm" label=format!("To confirm, type the membership number {}", m.number) error autocomplete="off" class="input input--w20"/>
                        <button type="submit" class="button button--warning">"Erase personal data"</button>
                    </ActionForm>
                }.into_any(),
                Ok(_) => error_view(AppError::Forbidden),
                Err(e) => error_view(e),
            })}
        </Suspense>
    }
}
