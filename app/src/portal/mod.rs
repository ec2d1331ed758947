//! The member portal: a member's own membership, from a phone first.

pub mod account;
pub mod payments;
pub mod renew;

use crate::components::{member_error_view, PageShell};
use crate::components::{Forbidden, PageTitle};
use crate::MeResource;
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::use_query_map;
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
    pub name: String,
    pub category: String,
    pub joined_on: String,
    pub status: String,
    pub status_tag: String,
    pub status_note: String,
    pub period: Option<String>,
    pub renewal_date: Option<String>,
    pub attention: Vec<String>,
    /// "Renew your membership" or "Reinstate your membership" when the member can do so now.
    pub renew: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalView {
    pub given_name: String,
    pub email: String,
    pub membership: Option<Membership>,
    /// Organisations the person acts for: (number, name).
    pub organisations: Vec<(String, String)>,
}

#[cfg(feature = "ssr")]
fn membership_view(o: guildhall::service::members::portal::OwnMembership) -> Membership {
    use crate::record;
    use guildhall::domain::membership::Status;
    let d = crate::format::long_date;
    let s = &o.status;
    let m = &o.member;
    let mut attention = Vec::new();
    match s.status {
        Status::Grace => attention.push(format!(
            "Your membership period has ended and your renewal is unpaid. You stay a member until {} while you renew.",
            s.grace_ends.map(d).unwrap_or_default()
        )),
        Status::Lapsed => attention.push(
            "Your membership has lapsed: you are not on the register and do not get member benefits. See below how to reinstate it.".into(),
        ),
        Status::Suspended => attention.push(
            "A payment failed and your membership is suspended. Contact us to put it right.".into(),
        ),
        _ => {}
    }
    if let Some(r) = s.resigning_from {
        attention.push(format!(
            "You have resigned. Your membership ends on {}.",
            d(r - chrono::Duration::days(1))
        ));
    }
    if m.phone.is_none() && m.kind != "organisation" {
        attention.push("Add a phone number so we can reach you about your membership.".into());
    }
    Membership {
        number: record::number(m.membership_number),
        name: record::display_name(m),
        category: o.category.name.clone(),
        joined_on: d(m.joined_on),
        status: s.status.label().to_owned(),
        status_tag: record::status_tag(s.status).to_owned(),
        status_note: record::status_note(s),
        period: s.period.map(|(a, b)| format!("{} to {}", d(a), d(b))),
        renewal_date: (s.status.is_member() && s.resigning_from.is_none())
            .then(|| s.member_until.map(|u| d(u + chrono::Duration::days(1))))
            .flatten(),
        attention,
        renew: None,
    }
}

#[server(prefix = "/fn", endpoint = "portal-summary")]
pub async fn portal_summary(member: Option<String>) -> Result<PortalView, AppError> {
    use guildhall::domain::Permission;
    use guildhall::service::members::portal;
    let actor = crate::ctx::require(Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let s = guildhall::service::people::own_summary(&st.db, &actor).await?;
    let number = match member.filter(|m| !m.trim().is_empty()) {
        Some(m) => Some(crate::record::parse_number(&m)?),
        None => s.member.as_ref().map(|(m, _)| m.number()),
    };
    let membership = match number {
        Some(n) => {
            let mut v = membership_view(portal::membership(&st.db, &actor, n).await?);
            use guildhall::service::renewals::offer::own_offer;
            use guildhall::service::renewals::offer::Offer;
            let o = own_offer(&st.db, &actor, n, guildhall::service::today())
                .await
                .ok();
            v.renew = match o.map(|o| o.offer) {
                Some(Offer::Renew { .. }) => Some("Renew your membership".to_owned()),
                Some(Offer::Reinstate { .. }) => Some("Reinstate your membership".to_owned()),
                Some(Offer::NewApplication { .. }) => {
                    Some("Why you need to apply again".to_owned())
                }
                _ => None,
            };
            Some(v)
        }
        None => None,
    };
    let organisations = guildhall::service::access::represented(&st.db, &actor)
        .await?
        .into_iter()
        .map(|o| {
            (
                crate::record::number(o.membership_number),
                crate::record::display_name(&o),
            )
        })
        .collect();
    Ok(PortalView {
        given_name: s.user.given_name,
        email: s.user.email,
        membership,
        organisations,
    })
}

fn saved_message(s: &str) -> Option<&'static str> {
    Some(match s {
        "details" => "Your details have been saved.",
        "preferences" => "Your communication preferences have been saved.",
        "consent" => "Your public register choice has been saved.",
        "password" => "Your password has been changed.",
        "resigned" => "Your resignation has been recorded. We have emailed you to confirm.",
        _ => return None,
    })
}

#[component]
pub fn PortalHome() -> impl IntoView {
    let q = use_query_map();
    let member = Memo::new(move |_| q.read().get("member").unwrap_or_default());
    let summary = Resource::new(move || member.get(), |m| portal_summary(Some(m)));
    let saved = move || q.read().get("saved").and_then(|s| saved_message(&s));
    let link = move |path: &str| {
        let m = member.get();
        if m.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?member={}", crate::format::urlencode(&m))
        }
    };
    view! {
        <PageTitle text="Your membership"/>
        {move || saved().map(|s| view! { <div class="banner banner--success" role="status"><p>{s}</p></div> })}
        <PageShell data=summary on_error=member_error_view ready={move |s: PortalView| {
                let own = member.get().is_empty();
                view! {
                    <h1 class="heading-l">{match (&s.membership, own) {
                        (Some(m), false) => m.name.clone(),
                        _ => format!("Hello, {}", s.given_name),
                    }}</h1>
                    {match s.membership.clone() {
                        Some(m) => view! {
                            {(!m.attention.is_empty()).then(|| view! {
                                <div class="banner" role="region" aria-label="Needs your attention">
                                    <h2 class="heading-m">"Needs your attention"</h2>
                                    <ul class="body">{m.attention.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view()}</ul>
                                </div>
                            })}
                            <h2 class="heading-m">{if own { "Your membership" } else { "Membership" }}</h2>
                            <dl class="summary-list">
                                <div class="summary-list__row"><dt>"Status"</dt><dd><strong class=m.status_tag.clone()>{m.status.clone()}</strong>" "{m.status_note.clone()}</dd></div>
                                <div class="summary-list__row"><dt>"Membership number"</dt><dd>{m.number.clone()}</dd></div>
                                <div class="summary-list__row"><dt>"Category"</dt><dd>{m.category.clone()}</dd></div>
                                {m.period.clone().map(|p| view! { <div class="summary-list__row"><dt>"Current period"</dt><dd>{p}</dd></div> })}
                                {m.renewal_date.clone().map(|p| view! { <div class="summary-list__row"><dt>"Renewal date"</dt><dd>{p}</dd></div> })}
                                <div class="summary-list__row"><dt>"Member since"</dt><dd>{m.joined_on.clone()}</dd></div>
                            </dl>
                            {m.renew.clone().map(|label| view! {
                                <p class="body"><a class="button" href=link("/portal/renew")>{label}</a></p>
                            })}
                            <h2 class="heading-m">"Manage"</h2>
                            <ul class="body">
                                <li><a href=link("/portal/payments")>"Payments, invoices and receipts"</a></li>
                                <li><a href=link("/portal/details")>{if own { "Change your name, address or phone number" } else { "Change the organisation's details" }}</a></li>
                                <li><a href=link("/portal/preferences")>"How we contact you and the public register"</a></li>
                                <li><a href=link("/portal/resign")>"Resign"</a></li>
                            </ul>
                        }.into_any(),
                        None => view! {
                            <p class="body">"You do not have a membership with us yet."</p>
                        }.into_any(),
                    }}
                    {(!s.organisations.is_empty() && own).then(|| view! {
                        <h2 class="heading-m">"Organisations you act for"</h2>
                        <ul class="body">
                            {s.organisations.iter().map(|(n, name)| view! {
                                <li><a href=format!("/portal?member={n}")>{name.clone()}</a>" ("{n.clone()}")"</li>
                            }).collect_view()}
                        </ul>
                    })}
                    {own.then(|| view! {
                        <h2 class="heading-m">"Your account"</h2>
                        <dl class="summary-list">
                            <div class="summary-list__row"><dt>"Email address"</dt><dd>{s.email.clone()}</dd></div>
                        </dl>
                        <ul class="body">
                            <li><a href="/portal/email">"Change your email address"</a></li>
                            <li><a href="/portal/password">"Change your password"</a></li>
                            <li><a href="/portal/two-factor">"Two-step sign-in (authenticator app)"</a></li>
                            <li><a href="/portal/data.json" download="guildhall-my-data.json" rel="external">"Download your data"</a>" (a JSON file with everything we hold about you)"</li>
                        </ul>
                    })}
                    {(!own).then(|| view! { <p class="body"><a href="/portal">"Back to your own membership"</a></p> })}
                }.into_any()
            }}/>
    }
}
