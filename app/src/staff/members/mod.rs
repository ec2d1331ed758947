//! Members for staff: search as you type (here), the member record on one page (`record`, shown by
//! `record_page`: details, status, periods, organisation links, timeline), the changes staff make
//! (`changes`: details, note, category, removal, representatives), adding a member by hand (`new`) and
//! erasing a member's personal data (`erase`).

mod changes;
mod erase;
mod new;
mod record;
mod record_page;

pub use changes::*;
pub use erase::*;
pub use new::*;
pub use record::*;
pub use record_page::*;

use crate::components::error_view;
use crate::components::PageTitle;
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
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
    let cats = guildhall::service::members::changes::open_categories(&st.db, &actor).await?;
    Ok(rows
        .into_iter()
        .map(|m| SearchRow {
            number: crate::record::number(m.membership_number),
            name: crate::record::display_name(&m),
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
