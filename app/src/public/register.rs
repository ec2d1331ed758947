//! The public register at `/register`: anyone may check whether someone is a registered member. It
//! shows name, town, category and membership number, and nothing else. Searches are rate limited per
//! address.

use crate::components::PageTitle;
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegisterEntry {
    pub name: String,
    pub town: String,
    pub category: String,
    pub number: String,
}

#[server(prefix = "/fn", endpoint = "register-search")]
pub async fn register_search(q: String) -> Result<Vec<RegisterEntry>, AppError> {
    let st = crate::ctx::state()?;
    if q.trim().is_empty() {
        return Ok(Vec::new());
    }
    if !st.register_limiter.allow(crate::ctx::client_ip()) {
        tracing::warn!(ip = ?crate::ctx::client_ip(), "public register: rate limit reached");
        crate::ctx::set_status(AppError::RateLimited.status());
        return Err(AppError::RateLimited);
    }
    Ok(guildhall::service::members::register::search(&st.db, &q)
        .await?
        .into_iter()
        .map(|e| RegisterEntry {
            name: e.name,
            town: e.town,
            category: e.category,
            number: e.number,
        })
        .collect())
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let q = use_query_map();
    let query = move || q.read().get("q").unwrap_or_default();
    let results = Resource::new(query, register_search);
    let initial = q.read_untracked().get("q").unwrap_or_default();
    view! {
        <PageTitle text="The public register"/>
        <h1 class="heading-l">"The public register"</h1>
        <p class="body">"Check whether someone is a registered or accredited member. The register shows their name, town, category and membership number."</p>
        <form method="get" action="/register" class="filters search-box" role="search" aria-label="Register search">
            <div class="field field--inline search-box__field">
                <label class="label" for="q">"Name, town or membership number"</label>
                <p class="hint" id="q-hint">"For example, Rosie Jackson, Jackson, Leeds or GH0000123"</p>
                <input class="input" id="q" name="q" type="search" autocomplete="off" aria-describedby="q-hint" value=initial/>
            </div>
            <button type="submit" class="button">"Search"</button>
        </form>
        <Suspense fallback=|| view! { <p class="body">"Searching…"</p> }>
            {move || results.get().map(|r| match r {
                Ok(_) if q.read().get("q").is_none() => ().into_any(),
                Ok(_) if query().trim().is_empty() => view! {
                    <p class="body" role="status">"Enter a name, town or membership number to search the register."</p>
                }.into_any(),
                Ok(_) if query().trim().chars().count() < 2 => view! {
                    <p class="body" role="status">"Enter at least 2 letters of a name or town."</p>
                }.into_any(),
                Ok(rows) if rows.is_empty() => view! {
                    <p class="body" role="status">"No registered members match. Check the spelling, or search by town or membership number."</p>
                }.into_any(),
                Ok(rows) => view! {
                    <p class="body" role="status">{if rows.len() == 1 { "1 registered member found".to_owned() } else { format!("{} registered members found", rows.len()) }}</p>
                    <table class="table">
                        <caption class="visually-hidden">"Registered members matching the search"</caption>
                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Town"</th><th scope="col">"Category"</th><th scope="col">"Membership number"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|e| view! {
                                <tr><td data-label="Name">{e.name}</td><td data-label="Town">{e.town}</td><td data-label="Category">{e.category}</td><td data-label="Membership number">{e.number}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(e) => view! { <div class="error-summary" role="alert"><p class="body">{e.to_string()}</p></div> }.into_any(),
            })}
        </Suspense>
    }
}
