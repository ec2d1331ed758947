//! The staff area: dense, fast, keyboard-friendly. Every page checks the caller's role on the server.

pub mod accounts;
pub mod audit;
pub mod categories;
pub mod jobs;
pub mod members;
pub mod outbox;
pub mod payments;

use crate::components::{Forbidden, PageTitle};
use crate::MeResource;
use guildhall::domain::{AppError, Permission};
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_location;
use serde::{Deserialize, Serialize};

#[component]
pub fn StaffLayout() -> impl IntoView {
    let me = expect_context::<MeResource>();
    let location = use_location();
    view! {
        <Suspense fallback=|| ()>
            {move || me.get().map(|r| match r.ok().flatten() {
                Some(me) if me.is_staff() => {
                    let admin = me.actor.can(Permission::ManageStaff);
                    let money = me.actor.can(Permission::AuthoriseRequests) || me.actor.can(Permission::RaiseRequests);
                    let reports = me.actor.can(Permission::ViewReports);
                    let reconcile = me.actor.can(Permission::Reconcile);
                    let jobs = me.actor.can(Permission::EditMembers);
                    view! {
                        <div class="staff">
                            <nav class="staff-nav" aria-label="Staff area">
                                <div class="container container--wide">
                                    <ul class="staff-nav__list">
                                        <li><A href="/staff" exact=true attr:class="staff-nav__link">"Overview"</A></li>
                                        <li><A href="/staff/members" attr:class="staff-nav__link">"Members"</A></li>
                                        {money.then(|| view! { <li><A href="/staff/payments/requests" attr:class="staff-nav__link">"Requests to authorise"</A></li> })}
                                        {reconcile.then(|| view! { <li><A href="/staff/payments/reconciliation" attr:class="staff-nav__link">"Reconciliation"</A></li> })}
                                        {reports.then(|| view! {
                                            <li><A href="/staff/reports/transactions" attr:class="staff-nav__link">"Transactions"</A></li>
                                            <li><A href="/staff/reports/aged-debt" attr:class="staff-nav__link">"Aged debt"</A></li>
                                        })}
                                        {jobs.then(|| view! { <li><A href="/staff/jobs" attr:class="staff-nav__link">"Jobs"</A></li> })}
                                        <li><A href="/staff/outbox" attr:class="staff-nav__link">"Outbox"</A></li>
                                        <li><A href="/staff/audit" attr:class="staff-nav__link">"Audit trail"</A></li>
                                        {admin.then(|| view! {
                                            <li><A href="/staff/admin/categories" attr:class="staff-nav__link">"Categories"</A></li>
                                            <li><A href="/staff/admin/staff" attr:class="staff-nav__link">"Staff accounts"</A></li>
                                            <li><A href="/staff/admin/settings" attr:class="staff-nav__link">"Office details"</A></li>
                                        })}
                                    </ul>
                                    <p class="staff-nav__who">{format!("{} {}", me.given_name, me.family_name)}
                                        " · " {me.actor.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")}</p>
                                </div>
                            </nav>
                            <main class="main main--staff" id="main" tabindex="-1">
                                <div class="container container--wide">
                                    <Outlet/>
                                </div>
                            </main>
                        </div>
                    }.into_any()
                }
                Some(_) => view! {
                    <main class="main" id="main" tabindex="-1"><div class="container container--narrow"><Forbidden/></div></main>
                }.into_any(),
                None => {
                    let next = location.pathname.get_untracked();
                    view! { <Redirect path=format!("/sign-in?next={next}")/> }.into_any()
                }
            })}
        </Suspense>
    }
}

/// Shown inside a staff page when the role does not allow it (the server answers 403 too).
pub fn error_view(e: AppError) -> AnyView {
    match e {
        AppError::Forbidden => view! { <Forbidden/> }.into_any(),
        other => view! {
            <h1 class="heading-l">"Sorry, there is a problem"</h1>
            <p class="body">{other.to_string()}</p>
        }
        .into_any(),
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverviewDto {
    pub members: u64,
    pub member_accounts: u64,
    pub staff_accounts: u64,
    pub outbox_waiting: u64,
    pub outbox_failed: u64,
}

#[server(prefix = "/fn", endpoint = "staff-overview")]
pub async fn staff_overview() -> Result<OverviewDto, AppError> {
    let actor = crate::ctx::require(Permission::StaffArea)?;
    let st = crate::ctx::state()?;
    let o = guildhall::service::people::overview(&st.db, &actor).await?;
    Ok(OverviewDto {
        members: o.members,
        member_accounts: o.member_accounts,
        staff_accounts: o.staff_accounts,
        outbox_waiting: o.outbox_waiting,
        outbox_failed: o.outbox_failed,
    })
}

#[component]
pub fn StaffHome() -> impl IntoView {
    let data = Resource::new(|| (), |_| staff_overview());
    view! {
        <PageTitle text="Overview"/>
        <h1 class="heading-l">"Overview"</h1>
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(o) => view! {
                    <ul class="tiles">
                        <li class="tile"><span class="tile__figure">{o.members}</span><span class="tile__label">"Members"</span></li>
                        <li class="tile"><span class="tile__figure">{o.member_accounts}</span><span class="tile__label">"Member accounts"</span></li>
                        <li class="tile"><span class="tile__figure">{o.staff_accounts}</span><span class="tile__label">"Staff accounts"</span></li>
                        <li class="tile"><a class="tile__link" href="/staff/outbox?status=pending"><span class="tile__figure">{o.outbox_waiting}</span><span class="tile__label">"Emails waiting to send"</span></a></li>
                        <li class="tile"><a class="tile__link" href="/staff/outbox?status=failed"><span class="tile__figure">{o.outbox_failed}</span><span class="tile__label">"Emails that failed"</span></a></li>
                    </ul>
                }.into_any(),
                Err(e) => error_view(e),
            })}
        </Suspense>
    }
}
