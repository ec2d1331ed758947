//! The member portal: a member's own membership, from a phone first.

pub mod account;
pub mod payments;
pub mod renew;

use crate::components::{member_error_view, PageShell};
use crate::components::{Forbidden, PageTitle};
use crate::public::office::ContactOffice;
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
                <ActingFor/>
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

/// Something on the portal home that needs the member's attention, with what to do about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attention {
    pub text: String,
    /// A link to act on it: (address, words).
    pub action: Option<(String, String)>,
    /// Whether to say how to contact the office.
    pub contact: bool,
}

#[cfg(feature = "ssr")]
impl Attention {
    fn say(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            action: None,
            contact: false,
        }
    }

    fn with_action(mut self, href: &str, words: &str) -> Self {
        self.action = Some((href.to_owned(), words.to_owned()));
        self
    }

    fn with_contact(mut self) -> Self {
        self.contact = true;
        self
    }
}

/// The name of the organisation a portal page acts for (`?member=`), if the caller represents it.
#[server(prefix = "/fn", endpoint = "acting-for")]
pub async fn acting_for(member: String) -> Result<Option<String>, AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    if member.trim().is_empty() {
        return Ok(None);
    }
    let n = crate::record::parse_number(&member)?;
    Ok(guildhall::service::access::represented(&st.db, &actor)
        .await?
        .into_iter()
        .find(|o| o.number() == n)
        .map(|o| crate::record::display_name(&o)))
}

/// Above every portal page that acts for an organisation: its name, so nobody changes the wrong
/// record.
#[component]
fn ActingFor() -> impl IntoView {
    let q = use_query_map();
    let member = Memo::new(move |_| q.read().get("member").unwrap_or_default());
    let name = Resource::new(move || member.get(), acting_for);
    // In an element of its own, so the page beside it is never moved when it appears.
    view! {
        <div class="acting-for">
            <Transition fallback=|| ()>
                {move || name.get().and_then(Result::ok).flatten().map(|n| view! {
                    <p class="caption" data-testid="acting-for">"Acting for "<strong>{n}</strong></p>
                })}
            </Transition>
        </div>
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
    pub attention: Vec<Attention>,
    /// "Renew your membership" or "Reinstate your membership" when the member can do so now.
    pub renew: Option<String>,
    /// "You owe £45.00", "You are £20.00 in credit" or "Nothing to pay".
    pub money: String,
    /// Automatic renewal, when it is offered: "On" or "Off" and a few words.
    pub auto_renew: Option<String>,
    /// Whether the member may resign (a member who has not resigned already).
    pub can_resign: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalView {
    pub given_name: String,
    pub email: String,
    pub membership: Option<Membership>,
    /// Organisations the person acts for: (number, name).
    pub organisations: Vec<(String, String)>,
}

/// What the portal home needs besides the membership: the balance, automatic renewal and today's
/// renewal offer.
#[cfg(feature = "ssr")]
struct HomeFacts {
    balance: guildhall::domain::money::Money,
    auto: guildhall::service::renewals::autorenew::AutoRenew,
    offer: Option<guildhall::service::renewals::offer::Offer>,
}

#[cfg(feature = "ssr")]
fn membership_view(
    o: guildhall::service::members::portal::OwnMembership,
    facts: HomeFacts,
    link: &dyn Fn(&str) -> String,
) -> Membership {
    use crate::record;
    use guildhall::domain::membership::Status;
    use guildhall::service::renewals::offer::Offer;
    let d = crate::format::long_date;
    let s = &o.status;
    let m = &o.member;
    let mut attention = Vec::new();
    let pence = facts.balance.pence();
    let money = match pence.signum() {
        1 => format!("You owe {}", facts.balance),
        -1 => format!(
            "You are {} in credit",
            guildhall::domain::money::Money::from_pence(-pence)
        ),
        _ => "Nothing to pay".to_owned(),
    };
    if pence > 0 {
        attention.push(
            Attention::say(format!("{money}.")).with_action(&link("/portal/payments"), "Pay now"),
        );
    }
    match s.status {
        Status::Grace => attention.push(
            Attention::say(format!(
                "Your membership period has ended and your renewal is unpaid. You stay a member until {} while you renew.",
                s.grace_ends.map(d).unwrap_or_default()
            )),
        ),
        Status::Lapsed => attention.push(
            Attention::say(
                "Your membership has lapsed: you are not on the register and do not get member benefits.",
            )
            .with_action(&link("/portal/renew"), "Find out how to reinstate it"),
        ),
        Status::Suspended => attention.push(
            Attention::say("A payment failed and your membership is suspended. To put it right,")
                .with_contact(),
        ),
        _ => {}
    }
    // (The "Renew your membership" button under the summary is the way to act on these.)
    if let (Status::Active, Some(Offer::Renew { ends, .. })) = (s.status, &facts.offer) {
        if !facts.auto.on && s.resigning_from.is_none() {
            attention.push(Attention::say(format!(
                "It is time to renew: your membership ends on {}.",
                d(*ends)
            )));
        }
    }
    if facts.auto.failures > 0 {
        attention.push(
            Attention::say("The payment for your automatic renewal was declined by your card.")
                .with_action(&link("/portal/renew"), "Pay with another card"),
        );
    }
    if let Some(r) = s.resigning_from {
        attention.push(Attention::say(format!(
            "You have resigned. Your membership ends on {}; you are a member until then.",
            d(r - chrono::Duration::days(1))
        )));
    }
    if m.phone.is_none() && m.kind != "organisation" {
        attention.push(
            Attention::say("Add a phone number so we can reach you about your membership.")
                .with_action(&link("/portal/details"), "Add a phone number"),
        );
    }
    let can_resign = s.status.is_member() && s.resigning_from.is_none();
    let auto_renew = (facts.auto.available && can_resign).then(|| {
        if facts.auto.on {
            match (&facts.auto.card, &facts.auto.next_charge) {
                (_, Some((day, amount))) => {
                    format!("On: we will take {amount} on {}", d(*day))
                }
                (Some(card), None) => format!(
                    "On: we take the fee from your {} on each renewal date",
                    card.to_lowercase()
                ),
                (None, None) => "On: we will save the card you next pay with".to_owned(),
            }
        } else {
            "Off: you renew and pay yourself each year".to_owned()
        }
    });
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
        renew: match &facts.offer {
            Some(Offer::Renew { .. }) => Some("Renew your membership".to_owned()),
            Some(Offer::Reinstate { .. }) => Some("Reinstate your membership".to_owned()),
            Some(Offer::NewApplication { .. }) => Some("Why you need to apply again".to_owned()),
            _ => None,
        },
        money,
        auto_renew,
        can_resign,
    }
}

#[server(prefix = "/fn", endpoint = "portal-summary")]
pub async fn portal_summary(member: Option<String>) -> Result<PortalView, AppError> {
    use guildhall::domain::Permission;
    use guildhall::service::members::portal;
    let actor = crate::ctx::require(Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let s = guildhall::service::people::own_summary(&st.db, &actor).await?;
    let chosen = member.filter(|m| !m.trim().is_empty());
    let number = match &chosen {
        Some(m) => Some(crate::record::parse_number(m)?),
        None => s.member.as_ref().map(|(m, _)| m.number()),
    };
    let link = |path: &str| match &chosen {
        Some(m) => format!("{path}?member={}", crate::format::urlencode(m)),
        None => path.to_owned(),
    };
    let membership = match number {
        Some(n) => {
            let own = portal::membership(&st.db, &actor, n).await?;
            // Only the balance: `membership` above has checked the caller may see this record.
            let balance = guildhall::service::ledger::member_balance(&st.db, own.member.id).await?;
            let auto = guildhall::service::renewals::autorenew::auto_renew(
                &st.db,
                own.member.id,
                st.payments.active.as_ref(),
            )
            .await?;
            let offer = guildhall::service::renewals::offer::own_offer(
                &st.db,
                &actor,
                n,
                guildhall::service::today(),
            )
            .await
            .ok()
            .map(|o| o.offer);
            let facts = HomeFacts {
                balance,
                auto,
                offer,
            };
            Some(membership_view(own, facts, &link))
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
        "preferences" => "Your choices about how we contact you have been saved.",
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
                                <div class="banner" role="region" aria-label="Needs your attention" data-testid="attention">
                                    <h2 class="heading-m">"Needs your attention"</h2>
                                    <ul class="attention-list">{m.attention.iter().map(|a| view! {
                                        <li class="body">
                                            {a.text.clone()}
                                            {a.contact.then(|| view! { " "<ContactOffice/>"." })}
                                            {a.action.clone().map(|(href, words)| view! { " "<a href=href>{words}</a> })}
                                        </li>
                                    }).collect_view()}</ul>
                                </div>
                            })}
                            <h2 class="heading-m">{if own { "Your membership" } else { "Membership" }}</h2>
                            <dl class="summary-list">
                                <div class="summary-list__row"><dt>"Status"</dt><dd><strong class=m.status_tag.clone()>{m.status.clone()}</strong>" "{m.status_note.clone()}</dd></div>
                                <div class="summary-list__row"><dt>"Membership number"</dt><dd>{m.number.clone()}</dd></div>
                                <div class="summary-list__row"><dt>"Category"</dt><dd>{m.category.clone()}</dd></div>
                                {m.period.clone().map(|p| view! { <div class="summary-list__row"><dt>"Current period"</dt><dd>{p}</dd></div> })}
                                {m.renewal_date.clone().map(|p| view! { <div class="summary-list__row"><dt>"Renewal date"</dt><dd>{p}</dd></div> })}
                                <div class="summary-list__row"><dt>"Payments"</dt><dd data-testid="money-state">{m.money.clone()}" "<a href=link("/portal/payments")>{if m.money.starts_with("You owe") { "Pay now" } else { "See payments" }}</a></dd></div>
                                {m.auto_renew.clone().map(|a| view! {
                                    <div class="summary-list__row"><dt>"Automatic renewal"</dt><dd data-testid="auto-renew-home">{a}" "<a href=format!("{}#automatic-renewal", link("/portal/renew"))>"Manage automatic renewal"</a></dd></div>
                                })}
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
                                {m.can_resign.then(|| view! { <li><a href=link("/portal/resign")>"Resign"</a></li> })}
                            </ul>
                        }.into_any(),
                        // One element: this part is replaced as a whole when the page moves to an organisation.
                        None => view! {
                            <div data-testid="no-membership">
                                <h2 class="heading-m">"You are not a member yet"</h2>
                                <p class="body">"Your account is ready, but it is not linked to a membership."</p>
                                <p class="body">"If you are already a member, " <ContactOffice/> " with your membership number and we will link your account to it."</p>
                                <p class="body">"To join, " <ContactOffice/> " and we will tell you which category suits you and what we need from you."</p>
                            </div>
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
