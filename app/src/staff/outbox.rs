//! The outbox: every e-mail Guildhall has written, with its delivery status, and each message as the
//! recipient sees it.

use crate::components::PageShell;
use crate::components::{PageTitle, Pagination};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

pub const PER_PAGE: u64 = 50;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub template: String,
    pub status: String,
    pub attempts: i32,
    pub created: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxPage {
    pub rows: Vec<OutboxRow>,
    pub total: u64,
    pub page: u64,
}

#[server(prefix = "/fn", endpoint = "outbox-list")]
pub async fn outbox_list(
    to: Option<String>,
    status: Option<String>,
    page: Option<u64>,
) -> Result<OutboxPage, AppError> {
    use guildhall::entity::outbox_message::OutboxStatus;
    crate::ctx::require(guildhall::domain::Permission::ViewOutbox)?;
    let st = crate::ctx::state()?;
    let page = guildhall::domain::paging::clamp(page.unwrap_or(0));
    let status = match status.filter(|s| !s.is_empty()) {
        Some(s) => Some(
            OutboxStatus::parse(&s)
                .ok_or_else(|| AppError::field("status", "Choose a status from the list"))?,
        ),
        None => None,
    };
    let listed =
        guildhall::service::outbox::list(&st.db, to.as_deref(), status, page, PER_PAGE).await?;
    Ok(OutboxPage {
        rows: listed
            .rows
            .into_iter()
            .map(|m| OutboxRow {
                id: m.id.to_string(),
                to: m.to_address,
                subject: m.subject,
                template: m.template,
                status: m.status.as_str().to_owned(),
                attempts: m.attempts,
                created: crate::format::staff_time(m.created_at),
            })
            .collect(),
        total: listed.total,
        page,
    })
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxDetail {
    pub id: String,
    pub message_id: String,
    pub to: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub template: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created: String,
    pub sent: Option<String>,
    pub body_text: String,
    /// The message carries a one-time link, withheld here: only the recipient receives it.
    pub link_withheld: bool,
}

#[server(prefix = "/fn", endpoint = "outbox-message")]
pub async fn outbox_message(id: String) -> Result<OutboxDetail, AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ViewOutbox)?;
    let st = crate::ctx::state()?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let m = guildhall::service::outbox::read(&st.db, &actor, id, "text").await?;
    Ok(OutboxDetail {
        id: m.id.to_string(),
        message_id: m.message_id,
        to: m.to_address,
        to_name: m.to_name,
        subject: m.subject,
        template: m.template,
        status: m.status.as_str().to_owned(),
        attempts: m.attempts,
        last_error: m.last_error,
        created: crate::format::staff_time(m.created_at),
        sent: m.sent_at.map(crate::format::staff_time),
        link_withheld: m.link_token_id.is_some(),
        body_text: m.body_text,
    })
}

pub fn status_tag(status: &str) -> impl IntoView {
    let (class, label) = match status {
        "sent" => ("tag tag--green", "Sent"),
        "logged" => ("tag tag--grey", "Kept (not sent)"),
        "pending" => ("tag tag--blue", "Waiting"),
        "sending" => ("tag tag--yellow", "Sending"),
        "failed" => ("tag tag--red", "Failed"),
        _ => ("tag", "Unknown"),
    };
    view! { <strong class=class>{label}</strong> }
}

#[component]
pub fn OutboxList() -> impl IntoView {
    let q = use_query_map();
    let data = Resource::new(
        move || {
            let q = q.read();
            (
                q.get("to"),
                q.get("status"),
                Some(guildhall::domain::paging::parse(q.get("page").as_deref())),
            )
        },
        |(to, status, page)| outbox_list(to, status, page),
    );
    let to_value = move || q.read().get("to").unwrap_or_default();
    let status_value = move || q.read().get("status").unwrap_or_default();
    view! {
        <PageTitle text="Outbox"/>
        <h1 class="heading-l">"Outbox"</h1>
        <form method="get" action="/staff/outbox" class="filters" role="search" aria-label="Filter messages">
            <div class="field field--inline">
                <label class="label" for="to">"Recipient"</label>
                <input class="input input--w20" id="to" name="to" type="email" autocomplete="off" spellcheck="false" value=to_value/>
            </div>
            <div class="field field--inline">
                <label class="label" for="status">"Status"</label>
                <select class="select" id="status" name="status">
                    {[("", "Any"), ("pending", "Waiting"), ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed"), ("logged", "Kept (not sent)")]
                        .into_iter()
                        .map(|(v, l)| view! { <option value=v selected=move || status_value() == v>{l}</option> })
                        .collect_view()}
                </select>
            </div>
            <button type="submit" class="button button--secondary">"Filter"</button>
        </form>
        <PageShell data=data ready={move |p: OutboxPage| {
                let shown = p.rows.len() as u64;
                let first = guildhall::domain::paging::offset(p.page, PER_PAGE);
                let has_next = first.saturating_add(shown) < p.total;
                let page = p.page;
                let link = move |n: u64| {
                    let q = q.read();
                    let mut s = format!("/staff/outbox?page={n}");
                    if let Some(to) = q.get("to") { s.push_str(&format!("&to={}", crate::format::urlencode(&to))); }
                    if let Some(st) = q.get("status") { s.push_str(&format!("&status={}", crate::format::urlencode(&st))); }
                    s
                };
                view! {
                    <p class="body" role="status">{format!("{} message{}", p.total, if p.total == 1 { "" } else { "s" })}</p>
                    <table class="table">
                        <caption class="visually-hidden">"Messages, newest first"</caption>
                        <thead><tr><th scope="col">"Written"</th><th scope="col">"To"</th><th scope="col">"Subject"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th></tr></thead>
                        <tbody>
                            {p.rows.into_iter().map(|m| view! {
                                <tr>
                                    <td data-label="Written">{m.created}</td>
                                    <td data-label="To">{m.to}</td>
                                    <td data-label="Subject"><a href=format!("/staff/outbox/{}", m.id)>{m.subject}</a></td>
                                    <td data-label="Status">{status_tag(&m.status)}</td>
                                    <td data-label="Attempts">{m.attempts}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <Pagination page has_next href=link/>
                }.into_any()
            }}/>
    }
}

#[component]
pub fn OutboxMessage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        outbox_message,
    );
    view! {
        <PageShell data=data ready={move |m: OutboxDetail| view! {
                <PageTitle text=m.subject.clone()/>
                <p class="body"><a href="/staff/outbox" class="back-link">"Back to the outbox"</a></p>
                <h1 class="heading-l">{m.subject.clone()}</h1>
                <dl class="summary-list summary-list--compact">
                    <div class="summary-list__row"><dt>"To"</dt><dd>{match m.to_name.clone() { Some(n) => format!("{n} <{}>", m.to), None => m.to.clone() }}</dd></div>
                    <div class="summary-list__row"><dt>"Status"</dt><dd>{status_tag(&m.status)}</dd></div>
                    <div class="summary-list__row"><dt>"Written"</dt><dd>{m.created.clone()}</dd></div>
                    <div class="summary-list__row"><dt>"Sent"</dt><dd>{m.sent.clone().unwrap_or_else(|| "Not yet".into())}</dd></div>
                    <div class="summary-list__row"><dt>"Attempts"</dt><dd>{m.attempts}</dd></div>
                    {m.last_error.clone().map(|e| view! { <div class="summary-list__row"><dt>"Last error"</dt><dd>{e}</dd></div> })}
                    <div class="summary-list__row"><dt>"Template"</dt><dd>{m.template.clone()}</dd></div>
                    <div class="summary-list__row"><dt>"Message-ID"</dt><dd class="mono">{m.message_id.clone()}</dd></div>
                </dl>
                {m.link_withheld.then(|| view! {
                    <p class="body">"This message carries a one-time link. It is withheld here: the link is made when the message is sent, and only the recipient receives it."</p>
                })}
                <h2 class="heading-m">"As the recipient sees it"</h2>
                <iframe class="mail-frame" title=format!("Email: {}", m.subject) sandbox=""
                    src=format!("/staff/outbox/{}/html", m.id)></iframe>
                <h2 class="heading-m">"Plain text version"</h2>
                <pre class="mail-text">{m.body_text.clone()}</pre>
            }.into_any()}/>
    }
}
