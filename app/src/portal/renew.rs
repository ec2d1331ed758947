//! Renewing (or reinstating) a membership from the portal: what it costs and covers, the declaration
//! where the category needs one, then payment by card at the provider's page. Paying makes the new
//! period at once (see `guildhall::service::lifecycle`).

use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::{member_error_view, PageShell};
use crate::components::{Checkbox, ErrorSummary, PageTitle, Radios, SubmitButton};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// The renewal as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RenewDto {
    pub number: String,
    pub name: String,
    /// Whether the member can pay now (renew or reinstate).
    pub can_pay: bool,
    pub heading: String,
    /// What it costs and covers: (label, value).
    pub rows: Vec<(String, String)>,
    /// Plain words about the situation (why not yet, why a new application…).
    pub message: Option<String>,
    pub total: Option<String>,
    pub needs_declaration: bool,
    pub declaration: String,
    /// Automatic renewal: offered (the provider can save cards), on, the saved card, the next charge.
    pub auto_available: bool,
    pub auto_on: bool,
    pub auto_card: Option<String>,
    pub auto_next: Option<String>,
    pub auto_failures: i32,
    /// Paying monthly, where the category allows it and cards can be saved: what it means.
    pub monthly: Option<String>,
    /// The member chose monthly payments and has not paid the first yet.
    pub monthly_chosen: bool,
    /// The member's instalment plan, in a sentence.
    pub plan: Option<String>,
}

#[server(prefix = "/fn", endpoint = "renewal-offer")]
pub async fn renewal_offer(member: String) -> Result<RenewDto, AppError> {
    use guildhall::domain::Permission;
    use guildhall::service::renewals::offer::Offer;
    let actor = crate::ctx::require(Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let number = crate::record::chosen_number(&st.db, &actor, &member).await?;
    let o = guildhall::service::renewals::offer::own_offer(
        &st.db,
        &actor,
        number,
        guildhall::service::today(),
    )
    .await?;
    let d = crate::format::long_date;
    let total = o.offer.total().map(|t| t.to_string());
    let (can_pay, heading, rows, message) = match &o.offer {
        Offer::Renew {
            ends,
            start,
            end,
            fee,
            category,
            grace_ends,
            ..
        } => (
            true,
            "Renew your membership".to_owned(),
            vec![
                ("Category".to_owned(), category.name.clone()),
                ("Current membership ends".to_owned(), d(*ends)),
                ("New period".to_owned(), format!("{} to {}", d(*start), d(*end))),
                ("Annual fee".to_owned(), fee.to_string()),
            ],
            grace_ends.map(|g| {
                format!(
                    "Your membership has ended. You stay a member until {} while you renew; after that it lapses.",
                    d(g)
                )
            }),
        ),
        Offer::Reinstate {
            lapsed_since,
            deadline,
            start,
            end,
            fee,
            reinstatement_fee,
            category,
            ..
        } => (
            true,
            "Reinstate your membership".to_owned(),
            vec![
                ("Category".to_owned(), category.name.clone()),
                ("Lapsed on".to_owned(), d(*lapsed_since)),
                (
                    "New period".to_owned(),
                    format!("{} to {} (it starts on the day you pay)", d(*start), d(*end)),
                ),
                ("Annual fee".to_owned(), fee.to_string()),
                ("Reinstatement fee".to_owned(), reinstatement_fee.to_string()),
            ],
            Some(format!(
                "Your membership lapsed on {}. You can reinstate it until {} by paying the annual fee and the reinstatement fee.",
                d(*lapsed_since),
                d(*deadline)
            )),
        ),
        Offer::NotYet { ends, opens_on } => (
            false,
            "Renew your membership".to_owned(),
            vec![("Current membership ends".to_owned(), d(*ends))],
            Some(format!(
                "It is too early to renew. You can renew from {}; we will email you then.",
                d(*opens_on)
            )),
        ),
        Offer::NewApplication {
            lapsed_since,
            deadline,
        } => (
            false,
            "You need to apply again".to_owned(),
            vec![("Lapsed on".to_owned(), d(*lapsed_since))],
            Some(format!(
                "Your membership lapsed more than six months ago (reinstatement was possible until {}), so it cannot be reinstated. To become a member again, make a new application.",
                d(*deadline)
            )),
        ),
        Offer::Closed { reason } => (
            false,
            "Renew your membership".to_owned(),
            vec![],
            Some(reason.clone()),
        ),
    };
    let auto = guildhall::service::renewals::autorenew::auto_renew(
        &st.db,
        o.member.id,
        st.payments.active.as_ref(),
    )
    .await?;
    // After resigning there is nothing to renew: automatic renewal is not offered.
    let resigned = {
        let h = guildhall::service::history::history(&st.db, o.member.id).await?;
        guildhall::service::history::status_today(&o.member, &h).has_resigned()
    };
    let plan = guildhall::service::renewals::instalments::current(&st.db, o.member.id).await?;
    let starting = plan
        .as_ref()
        .is_some_and(|p| p.status == guildhall::entity::instalment_plan::PlanStatus::Starting);
    let monthly = match &o.offer {
        Offer::Renew {
            category,
            fee,
            start,
            ..
        } if auto.available && guildhall::service::renewals::instalments::allowed(category) => {
            let (first, regular) =
                guildhall::service::renewals::instalments::amounts(*fee, category.instalments)?;
            let n = category.instalments;
            Some(format!(
                "Pay monthly: {n} payments, {first} now, then {regular} a month on the same day of the month as your new period starts, from {} to {}, taken from the card you pay with now. Your membership then renews automatically each year, paid monthly, until you turn that off.",
                d(guildhall::service::renewals::instalments::due_on(*start, 2)),
                d(guildhall::service::renewals::instalments::due_on(*start, i32::from(n))),
            ))
        }
        _ => None,
    };
    let mut rows = rows;
    if let Some(inv) = &o.invoice {
        rows.push(("Invoice".to_owned(), inv.number.clone()));
    }
    Ok(RenewDto {
        number: crate::record::number(o.member.membership_number),
        name: crate::record::display_name(&o.member),
        can_pay,
        heading,
        rows,
        message,
        total,
        needs_declaration: o.needs_declaration,
        declaration: guildhall::service::renewals::offer::DECLARATION.to_owned(),
        auto_available: auto.available && !resigned,
        auto_on: auto.on,
        auto_card: auto.card,
        auto_next: auto
            .next_charge
            .map(|(day, amount)| format!("{amount} on {}", d(day))),
        auto_failures: auto.failures,
        monthly,
        monthly_chosen: starting,
        plan: plan.map(|p| p.summary(d)),
    })
}

/// Turns automatic renewal on or off.
#[server(prefix = "/fn", endpoint = "set-auto-renew")]
pub async fn set_auto_renew(member: String, on: String) -> Result<(), AppError> {
    use guildhall::domain::Permission;
    let actor = crate::ctx::require(Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let number = crate::record::chosen_number(&st.db, &actor, &member).await?;
    guildhall::service::renewals::autorenew::set_auto_renew(
        &st.db,
        &actor,
        number,
        on == "on",
        st.payments.active.as_ref(),
    )
    .await?;
    Ok(())
}

/// Renews (after the declaration, if needed) and sends the member to the card provider's page.
#[server(prefix = "/fn", endpoint = "renew-and-pay")]
pub async fn renew_and_pay(
    member: String,
    declaration: Option<String>,
    plan: Option<String>,
    collections: Option<String>,
    keep_card: Option<String>,
) -> Result<(), AppError> {
    use guildhall::domain::Permission;
    use guildhall::service::renewals::offer::PayBy;
    let actor = crate::ctx::require(Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let number = crate::record::chosen_number(&st.db, &actor, &member).await?;
    let by = match plan.as_deref() {
        None | Some("in_full") => PayBy::InFull,
        // Future collections from the card are agreed to on their own, never implied.
        Some("monthly") if collections.as_deref() != Some("on") => {
            return Err(AppError::field(
                "collections",
                "Agree to the monthly payments from your card, or choose to pay in full now",
            ))
        }
        Some("monthly") => PayBy::Monthly,
        Some(_) => return Err(AppError::field("plan", "Choose how you want to pay")),
    };
    let provider = st.payments.active.as_ref();
    let invoice = guildhall::service::renewals::offer::prepare_payment_by(
        &st.db,
        &actor,
        number,
        declaration.as_deref() == Some("on"),
        by,
        provider.saves_cards().then(|| provider.name()),
        guildhall::service::today(),
    )
    .await?;
    let url = guildhall::service::payments::card::start(
        &st.db,
        &actor,
        &st.payments,
        number,
        &invoice,
        keep_card.as_deref() == Some("on"),
    )
    .await?;
    leptos_axum::redirect(&url);
    Ok(())
}

#[component]
pub fn RenewPage() -> impl IntoView {
    let q = use_query_map();
    let member = Memo::new(move |_| q.read().get("member").unwrap_or_default());
    let auto = ServerAction::<SetAutoRenew>::new();
    let data = Resource::new(
        move || (member.get(), auto.version().get()),
        |(m, _)| renewal_offer(m),
    );
    let action = ServerAction::<RenewAndPay>::new();
    let error = last_error(action);
    let auto_error = last_error(auto);
    view! {
        <PageTitle text="Renew your membership"/>
        <p class="back-link"><a href=move || { let m = member.get(); if m.is_empty() { "/portal".to_owned() } else { format!("/portal?member={m}") } }>"Back to your membership"</a></p>
        <ErrorSummary error/>
        <PageShell data=data on_error=member_error_view ready={move |o: RenewDto| {
                let total = o.total.clone().unwrap_or_default();
                let a = o.clone();
                view! {
                    <h1 class="heading-l">{o.heading.clone()}</h1>
                    {o.message.clone().map(|m| view! { <p class="body">{m}</p> })}
                    {o.plan.clone().map(|p| view! { <p class="body" data-testid="plan-state">{p}</p> })}
                    {(!o.rows.is_empty()).then(|| view! {
                        <dl class="summary-list">
                            {o.rows.iter().map(|(k, v)| view! {
                                <div class="summary-list__row"><dt>{k.clone()}</dt><dd>{v.clone()}</dd></div>
                            }).collect_view()}
                            {o.total.clone().map(|t| view! { <div class="summary-list__row"><dt>"To pay"</dt><dd><strong>{t}</strong></dd></div> })}
                        </dl>
                    })}
                    {o.can_pay.then(|| view! {
                        <Form action>
                            <input type="hidden" name="member" value=o.number.clone()/>
                            {o.needs_declaration.then(|| view! {
                                <div class="field" id="declaration-field">
                                    <fieldset class="fieldset">
                                        <legend class="label">"Declaration"</legend>
                                        <p class="hint">"Your category needs this declaration each year."</p>
                                        {move || error.get().and_then(|e| e.fields().and_then(|f| f.get("declaration").map(str::to_owned))).map(|m| view! { <p class="error-message" id="declaration-error"><span class="visually-hidden">"Error: "</span>{m}</p> })}
                                        <Checkbox name="declaration" label=o.declaration.clone()/>
                                    </fieldset>
                                </div>
                            })}
                            {(o.auto_available && !o.auto_on).then(|| view! {
                                <div class="field" id="keep_card-field">
                                    <fieldset class="fieldset">
                                        <legend class="label">"Next year"</legend>
                                        <Checkbox name="keep_card" label="Keep this card and renew my membership automatically each year"
                                            hint="We will write to you at least 10 working days before each renewal with the amount and the date. You can turn this off at any time."/>
                                    </fieldset>
                                </div>
                            })}
                            {match o.monthly.clone() {
                                Some(monthly) => view! {
                                    <Radios name="plan" legend="How do you want to pay?" error
                                        selected=if o.monthly_chosen { "monthly" } else { "in_full" }
                                        options=vec![("in_full".to_owned(), format!("Pay {total} now")), ("monthly".to_owned(), monthly)]/>
                                    <div class="field" id="collections-field">
                                        <fieldset class="fieldset">
                                            <legend class="label">"If you pay monthly"</legend>
                                            {move || error.get().and_then(|e| e.fields().and_then(|f| f.get("collections").map(str::to_owned))).map(|m| view! { <p class="field-error" id="collections-error"><span class="visually-hidden">"Error: "</span>{m}</p> })}
                                            <Checkbox name="collections" label="I agree that Guildhall takes each monthly payment from the card I pay with now, on the dates above, and renews my membership the same way each year until I turn it off"/>
                                        </fieldset>
                                    </div>
                                    <p class="body">"You will pay on our card payment provider's secure page, then come back here."</p>
                                    <SubmitButton label="Renew and pay by card" pending=action.pending()/>
                                }.into_any(),
                                None => view! {
                                    <p class="body">"You will pay on our card payment provider's secure page, then come back here."</p>
                                    <SubmitButton label=format!("Renew and pay {total} by card") pending=action.pending()/>
                                }.into_any(),
                            }}
                        </Form>
                    })}
                    {a.auto_available.then(|| {
                        let number = a.number.clone();
                        view! {
                            <h2 class="heading-m" id="automatic-renewal">"Automatic renewal"</h2>
                            <ErrorSummary error=auto_error/>
                            {if a.auto_on {
                                view! {
                                    <p class="body" data-testid="auto-renew-state">{match (&a.auto_card, &a.auto_next) {
                                        (Some(card), Some(next)) => format!("On. We will take {next} from your {}.", card.to_lowercase()),
                                        (Some(card), None) => format!("On, with your {}. We will write to you at least 10 working days before we take any money.", card.to_lowercase()),
                                        _ => "On. We will save the card you next pay with, and write to you at least 10 working days before we take any money.".to_owned(),
                                    }}</p>
                                    {(a.auto_failures > 0).then(|| view! { <p class="body">"The last payment from your saved card was declined. Pay with another card above and we will use it from now on."</p> })}
                                    <Form action=auto>
                                        <input type="hidden" name="member" value=number.clone()/>
                                        <input type="hidden" name="on" value="off"/>
                                        <button type="submit" class="button button--secondary">"Turn off automatic renewal"</button>
                                    </Form>
                                }.into_any()
                            } else {
                                view! {
                                    <p class="body" data-testid="auto-renew-state">{match &a.auto_card {
                                        Some(card) => format!("Off. Turn it on and we will use your {}, write to you at least 10 working days before each renewal with the amount and the date, and take the fee on the renewal date. You can turn it off at any time.", card.to_lowercase()),
                                        None => "Off. Turn it on and we will save the card you next pay with, write to you at least 10 working days before each renewal with the amount and the date, and take the fee on the renewal date. You can turn it off at any time.".to_owned(),
                                    }}</p>
                                    <Form action=auto>
                                        <input type="hidden" name="member" value=number.clone()/>
                                        <input type="hidden" name="on" value="on"/>
                                        <button type="submit" class="button button--secondary">"Renew automatically each year"</button>
                                    </Form>
                                }.into_any()
                            }}
                        }
                    })}
                }.into_any()
            }}/>
    }
}
