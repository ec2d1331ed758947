//! The member portal: a member's own membership, from a phone first.

use crate::components::{Forbidden, PageTitle};
use crate::MeResource;
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};
use serde::{Deserialize, Serialize};

/// Only members (portal accounts) use the portal; staff are refused and visitors asked to sign in.
#[component]
pub fn PortalLayout() -> impl IntoView {
    let me = expect_context::<MeResource>();
    view! {
        <main class="main" id="main" tabindex="-1">
            <div class="container"><div class="measure">
                <Suspense fallback=|| ()>
                    {move || me.get().map(|r| match r.ok().flatten() {
                        Some(me) if !me.is_staff() => view! { <Outlet/> }.into_any(),
                        Some(_) => view! { <Forbidden/> }.into_any(),
                        None => view! { <Redirect path="/sign-in?next=/portal"/> }.into_any(),
                    })}
                </Suspense>
            </div></div>
        </main>
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub number: String,
    pub category: String,
    pub joined_on: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalView {
    pub given_name: String,
    pub email: String,
    pub membership: Option<Membership>,
}

#[server(prefix = "/fn", endpoint = "portal-summary")]
pub async fn portal_summary() -> Result<PortalView, AppError> {
    use guildhall::domain::{membership_number::MembershipNumber, Permission};
    let actor = crate::ctx::require(Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let s = guildhall::service::people::own_summary(&st.db, &actor).await?;
    Ok(PortalView {
        given_name: s.user.given_name,
        email: s.user.email,
        membership: s.member.map(|(m, c)| Membership {
            number: MembershipNumber::new(m.membership_number)
                .map(|n| n.to_string())
                .unwrap_or_default(),
            category: c.name,
            joined_on: crate::format::long_date(m.joined_on),
        }),
    })
}

#[component]
pub fn PortalHome() -> impl IntoView {
    let summary = Resource::new(|| (), |_| portal_summary());
    view! {
        <PageTitle text="Your membership"/>
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || summary.get().map(|r| match r {
                Ok(s) => view! {
                    <h1 class="heading-l">{format!("Hello, {}", s.given_name)}</h1>
                    {match s.membership {
                        Some(m) => view! {
                            <h2 class="heading-m">"Your membership"</h2>
                            <dl class="summary-list">
                                <div class="summary-list__row"><dt>"Membership number"</dt><dd>{m.number}</dd></div>
                                <div class="summary-list__row"><dt>"Category"</dt><dd>{m.category}</dd></div>
                                <div class="summary-list__row"><dt>"Member since"</dt><dd>{m.joined_on}</dd></div>
                            </dl>
                        }.into_any(),
                        None => view! {
                            <p class="body">"You do not have a membership with us yet."</p>
                        }.into_any(),
                    }}
                    <h2 class="heading-m">"Your account"</h2>
                    <dl class="summary-list">
                        <div class="summary-list__row"><dt>"Email address"</dt><dd>{s.email}</dd></div>
                    </dl>
                }.into_any(),
                Err(e) => view! { <p class="body">{e.to_string()}</p> }.into_any(),
            })}
        </Suspense>
    }
}
