//! The audit trail, newest first: who did what to which record, with the values before and after.

use crate::components::PageShell;
use crate::components::{PageTitle, Pagination};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

pub const PER_PAGE: u64 = 50;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub total: u64,
    pub page: u64,
}

#[server(prefix = "/fn", endpoint = "audit-list")]
pub async fn audit_list(entity: Option<String>, page: Option<u64>) -> Result<AuditPage, AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ViewAudit)?;
    let st = crate::ctx::state()?;
    let page = guildhall::domain::paging::clamp(page.unwrap_or(0));
    let (rows, total) =
        guildhall::service::audit::list(&st.db, &actor, entity.as_deref(), page, PER_PAGE).await?;
    let show = |v: Option<serde_json::Value>| {
        v.map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
    };
    Ok(AuditPage {
        rows: rows
            .into_iter()
            .map(|r| AuditRow {
                at: crate::format::staff_time(r.at),
                actor: r.actor_label,
                entity: r.entity,
                entity_id: r.entity_id,
                action: r.action.as_str().to_owned(),
                before: show(r.before),
                after: show(r.after),
            })
            .collect(),
        total,
        page,
    })
}

#[component]
pub fn AuditTrail() -> impl IntoView {
    let q = use_query_map();
    let data = Resource::new(
        move || {
            let q = q.read();
            (
                q.get("entity").filter(|s| !s.is_empty()),
                Some(guildhall::domain::paging::parse(q.get("page").as_deref())),
            )
        },
        |(entity, page)| audit_list(entity, page),
    );
    let entity_value = move || q.read().get("entity").unwrap_or_default();
    view! {
        <PageTitle text="Audit trail"/>
        <h1 class="heading-l">"Audit trail"</h1>
        <form method="get" action="/staff/audit" class="filters" role="search" aria-label="Filter the audit trail">
            <div class="field field--inline">
                <label class="label" for="entity">"Record type"</label>
                <select class="select" id="entity" name="entity">
                    {[("", "Any"), ("user", "Accounts"), ("member", "Members"), ("category", "Categories"), ("seed", "Data loads")]
                        .into_iter()
                        .map(|(v, l)| view! { <option value=v selected=move || entity_value() == v>{l}</option> })
                        .collect_view()}
                </select>
            </div>
            <button type="submit" class="button button--secondary">"Filter"</button>
        </form>
        <PageShell data=data ready={move |p: AuditPage| {
                let page = p.page;
                let has_next = guildhall::domain::paging::has_next(page, PER_PAGE, p.total);
                let link = move |n: u64| {
                    let e = q.read().get("entity").unwrap_or_default();
                    format!("/staff/audit?page={n}&entity={}", crate::format::urlencode(&e))
                };
                view! {
                    <p class="body" role="status">{format!("{} entries", p.total)}</p>
                    <table class="table">
                        <caption class="visually-hidden">"Audit entries, newest first"</caption>
                        <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"Record"</th><th scope="col">"What"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
                        <tbody>
                            {p.rows.into_iter().map(|r| view! {
                                <tr>
                                    <td data-label="When">{r.at}</td>
                                    <td data-label="Who">{r.actor}</td>
                                    <td data-label="Record">{r.entity}" "<span class="mono small">{r.entity_id}</span></td>
                                    <td data-label="What">{r.action.replace('_', " ")}</td>
                                    <td data-label="Before">{r.before.map(|b| view! { <pre class="json">{b}</pre> })}</td>
                                    <td data-label="After">{r.after.map(|a| view! { <pre class="json">{a}</pre> })}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <Pagination page has_next href=link/>
                }.into_any()
            }}/>
    }
}
