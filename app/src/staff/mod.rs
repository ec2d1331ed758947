//! The staff area: dense, fast, keyboard-friendly. Every page checks the caller's role on the server.

pub mod accounts;
pub mod audit;
pub mod categories;
pub mod dashboard;
pub mod exports;
pub mod jobs;
pub mod members;
pub mod outbox;
pub mod payments;
pub mod reports;
pub mod settings;

use crate::components::Forbidden;
use crate::MeResource;
use guildhall::domain::Permission;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_location;

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
                                            <li><A href="/staff/reports/trade" attr:class="staff-nav__link">"Trade Report"</A></li>
                                            <li><A href="/staff/reports/trends" attr:class="staff-nav__link">"Trends"</A></li>
                                        })}
                                        {jobs.then(|| view! {
                                            <li><A href="/staff/jobs" attr:class="staff-nav__link">"Jobs"</A></li>
                                            <li><A href="/staff/exports" attr:class="staff-nav__link">"Exports"</A></li>
                                        })}
                                        <li><A href="/staff/outbox" attr:class="staff-nav__link">"Outbox"</A></li>
                                        <li><A href="/staff/audit" attr:class="staff-nav__link">"Audit trail"</A></li>
                                        <li><A href="/staff/account" attr:class="staff-nav__link">"Your account"</A></li>
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

pub use dashboard::StaffHome;
