//! A member's money from the portal: balance, invoices with a "Pay by card" button, credit notes,
//! receipts (each as a PDF) and transaction history; and the page they return to after paying.

use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::{member_error_view, PageShell};
use crate::components::{ErrorSummary, PageTitle, SubmitButton};
use crate::money::{MoneyDto, MoneyTables};
use crate::public::office::ContactOffice;
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[server(prefix = "/fn", endpoint = "portal-money")]
pub async fn portal_money(member: String) -> Result<MoneyDto, AppError> {
    use crate::record;
    use guildhall::domain::Permission;
    let actor = crate::ctx::require(Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let number = record::chosen_number(&st.db, &actor, &member).await?;
    let (m, a) = guildhall::service::money::account::own_account(&st.db, &actor, number).await?;
    let own = m.user_id == actor.user_id;
    Ok(crate::money::MoneyDto {
        takes_cards: st.payments.takes_cards(),
        ..crate::money::ssr::view(
            record::number(m.membership_number),
            record::display_name(&m),
            a,
            "/portal/documents",
            own,
        )
    })
}

/// Starts paying an invoice by card and sends the member to the provider's page.
#[server(prefix = "/fn", endpoint = "pay-invoice")]
pub async fn pay_invoice(member: String, invoice: String) -> Result<(), AppError> {
    use guildhall::domain::Permission;
    let actor = crate::ctx::require(Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let number = crate::record::parse_number(&member)?;
    let url = guildhall::service::payments::card::start(
        &st.db,
        &actor,
        &st.payments,
        number,
        &invoice,
        false,
    )
    .await?;
    leptos_axum::redirect(&url);
    Ok(())
}

#[component]
pub fn PortalPaymentsPage() -> impl IntoView {
    let q = use_query_map();
    let member = Memo::new(move |_| q.read().get("member").unwrap_or_default());
    let data = Resource::new(move || member.get(), portal_money);
    let pay = ServerAction::<PayInvoice>::new();
    let pay_error = last_error(pay);
    view! {
        <PageTitle text="Payments"/>
        <p class="back-link"><a href=move || { let m = member.get(); if m.is_empty() { "/portal".to_owned() } else { format!("/portal?member={m}") } }>"Back to your membership"</a></p>
        <PageShell data=data on_error=member_error_view ready={move |m: MoneyDto| {
                let open: Vec<_> = m.documents.iter().filter(|d| d.open).cloned().collect();
                let number = m.number.clone();
                let cards = m.takes_cards;
                view! {
                    <h1 class="heading-l">"Payments"</h1>
                    <div class="panel-balance">
                        <p class="heading-l" data-testid="balance">{m.balance_note.clone()}</p>
                    </div>
                    <ErrorSummary error=pay_error/>
                    {(!open.is_empty()).then(|| view! {
                        <h2 class="heading-m">"To pay"</h2>
                        <ul class="pay-list">
                            {open.into_iter().map(|d| {
                                let n = number.clone();
                                view! {
                                    <li class="pay-list__item">
                                        <p class="body"><strong>{format!("Invoice {}", d.number)}</strong><br/>{d.description.clone()}<br/>{format!("{} to pay", d.outstanding)}</p>
                                        {if cards {
                                            view! {
                                                <Form action=pay>
                                                    <input type="hidden" name="member" value=n/>
                                                    <input type="hidden" name="invoice" value=d.number.clone()/>
                                                    <SubmitButton label=format!("Pay {} by card", d.outstanding) pending=pay.pending()/>
                                                </Form>
                                            }.into_any()
                                        } else {
                                            view! { <p class="body">"Card payments are not available online. To pay, "<ContactOffice/>"."</p> }.into_any()
                                        }}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    })}
                    <MoneyTables m=m.clone()/>
                }.into_any()
            }}/>
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaidDto {
    pub paid: bool,
    pub amount: String,
    pub invoice: String,
    pub receipt: Option<String>,
    pub message: Option<String>,
    pub number: String,
    /// "1 March 2027 to 29 February 2028" when the payment renewed or reinstated the membership.
    pub new_period: Option<String>,
    /// "Card ending 4242": kept for automatic renewal, as the member agreed when paying.
    pub card_kept: Option<String>,
}

#[server(prefix = "/fn", endpoint = "checkout-result")]
pub async fn checkout_result(checkout: String) -> Result<PaidDto, AppError> {
    use guildhall::domain::Permission;
    let actor = crate::ctx::require(Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let id = uuid::Uuid::parse_str(checkout.trim()).map_err(|_| AppError::NotFound)?;
    let v = guildhall::service::payments::card::own_view(&st.db, &actor, id).await?;
    Ok(PaidDto {
        paid: v.status == guildhall::entity::checkout::CheckoutStatus::Paid,
        amount: v.amount.to_string(),
        invoice: v.invoice_number,
        receipt: v.receipt_number,
        message: v.message,
        number: crate::record::number(v.membership_number),
        new_period: v
            .new_period
            .map(|(a, b)| format!("{} to {}", a.format("%-d %B %Y"), b.format("%-d %B %Y"))),
        card_kept: v.card_kept,
    })
}

/// Where the provider sends the member back to.
#[component]
pub fn PaymentDonePage() -> impl IntoView {
    let q = use_query_map();
    let checkout = move || q.read().get("checkout").unwrap_or_default();
    let data = Resource::new(checkout, checkout_result);
    view! {
        <PageTitle text="Payment"/>
        <PageShell data=data on_error=member_error_view ready={move |r: PaidDto| match r {
                p if p.paid => {
                    let receipt = p.receipt.clone().unwrap_or_default();
                    view! {
                        <div class="panel panel--confirmation">
                            <h1 class="heading-l">"Payment received"</h1>
                            <p class="panel__body">"Your receipt number is"<br/><strong>{receipt.clone()}</strong></p>
                        </div>
                        {p.new_period.clone().map(|np| view! {
                            <h2 class="heading-m">"Your membership is renewed"</h2>
                            <p class="body" data-testid="new-period">{format!("Your new membership period: {np}.")}</p>
                        })}
                        <p class="body">{format!("We have received {} for invoice {}. We have emailed you a receipt.", p.amount, p.invoice)}</p>
                        {p.card_kept.clone().map(|card| view! {
                            <h2 class="heading-m">"Automatic renewal is on"</h2>
                            <p class="body" data-testid="card-kept">{format!("We have kept your {} to renew your membership each year. We will write to you at least 10 working days before we take any money.", card.to_lowercase())}</p>
                            <p class="body"><a href=format!("/portal/renew?member={}#automatic-renewal", p.number)>"Manage automatic renewal"</a></p>
                        })}
                        <p class="body"><a href=format!("/portal/documents/{receipt}.pdf") rel="external" download=format!("{receipt}.pdf")>{format!("Download receipt {receipt} (PDF)")}</a></p>
                        <p class="body"><a href=format!("/portal?member={}", p.number)>"Back to your membership"</a></p>
                        <p class="body"><a href=format!("/portal/payments?member={}", p.number)>"Back to payments"</a></p>
                    }.into_any()
                }
                p => view! {
                    <h1 class="heading-l">"We are waiting to hear from the card provider"</h1>
                    {p.message.clone().map(|m| view! { <p class="body">{m}</p> })}
                    <p class="body">{format!("Invoice {} stays open until the payment is confirmed. Refresh this page in a minute.", p.invoice)}</p>
                    <p class="body"><a href=format!("/portal/payments?member={}", p.number)>"Back to payments"</a></p>
                }.into_any(),
            }}/>
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SandboxDto {
    pub id: String,
    pub amount: String,
    pub invoice: String,
    pub description: String,
    pub paid: bool,
    pub message: Option<String>,
    pub number: String,
}

#[server(prefix = "/fn", endpoint = "sandbox-checkout")]
pub async fn sandbox_checkout(id: String) -> Result<SandboxDto, AppError> {
    let st = crate::ctx::state()?;
    let actor = crate::ctx::actor();
    actor.user()?;
    let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    let v = guildhall::service::payments::card::sandbox_view(&st.db, &actor, id).await?;
    Ok(SandboxDto {
        id: v.id.to_string(),
        amount: v.amount.to_string(),
        invoice: v.invoice_number,
        description: v.description,
        paid: v.status == guildhall::entity::checkout::CheckoutStatus::Paid,
        message: v.message,
        number: crate::record::number(v.membership_number),
    })
}

/// The sandbox's hosted page takes a card. Paid: back to Guildhall; declined or failed: the message.
#[server(prefix = "/fn", endpoint = "sandbox-pay")]
pub async fn sandbox_pay(
    id: String,
    card_number: String,
    expiry: String,
    cvc: String,
) -> Result<(), AppError> {
    use guildhall::domain::FieldErrors;
    use guildhall::service::money::providers::SandboxOutcome;
    use guildhall::service::payments::card;
    let st = crate::ctx::state()?;
    let actor = crate::ctx::actor();
    actor.user()?;
    let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let exp: Vec<&str> = expiry.trim().split('/').map(str::trim).collect();
    let exp_ok = exp.len() == 2
        && exp[0].parse::<u8>().is_ok_and(|m| (1..=12).contains(&m))
        && exp[1].len() == 2
        && exp[1].parse::<u8>().is_ok();
    if !exp_ok {
        errors.add("expiry", "Enter the expiry date as on the card, like 12/29");
    }
    let c = cvc.trim();
    if !(c.len() == 3 || c.len() == 4) || !c.chars().all(|x| x.is_ascii_digit()) {
        errors.add(
            "cvc",
            "Enter the 3 or 4 digit security code from the back of the card",
        );
    }
    if guildhall::domain::payments::card_digits(&card_number).is_none() {
        errors.add(
            "card_number",
            "Enter a card number of 12 to 19 digits, as it is shown on the card",
        );
    }
    errors.into_result()?;
    match card::sandbox_pay(&st.db, &actor, &st.payments, id, &card_number).await? {
        SandboxOutcome::Paid(url) => {
            leptos_axum::redirect(&url);
            Ok(())
        }
        SandboxOutcome::Failed(message) => Err(AppError::Conflict(message)),
    }
}

/// The sandbox provider's hosted payment page (what Stripe's Checkout page is in production).
#[component]
pub fn SandboxCheckoutPage() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, sandbox_checkout);
    let pay = ServerAction::<SandboxPay>::new();
    let error = last_error(pay);
    view! {
        <PageTitle text="Sandbox payment page"/>
        <PageShell data=data on_error=member_error_view ready={move |r: SandboxDto| match r {
                s if s.paid => view! {
                    <h1 class="heading-l">"This payment is complete"</h1>
                    <p class="body"><a href=format!("/portal/payments?member={}", s.number)>"Return to Guildhall"</a></p>
                }.into_any(),
                s => view! {
                    <p class="sandbox-badge">"Sandbox: test cards only, no real money"</p>
                    <h1 class="heading-l">{format!("Pay {}", s.amount)}</h1>
                    <p class="body">{format!("Invoice {}: {}", s.invoice, s.description)}</p>
                    <ErrorSummary error=error/>
                    <Form action=pay attr:class="form-narrow">
                        <input type="hidden" name="id" value=s.id.clone()/>
                        <crate::components::Field name="card_number" label="Card number" error=error autocomplete="cc-number" inputmode="numeric"
                            hint="Test cards: 4242 4242 4242 4242 is paid; 4000 0000 0000 0002 is declined; 4000 0000 0000 0119 fails once, then is paid"/>
                        <div class="inline-fields">
                            <crate::components::Field name="expiry" label="Expiry date" hint="MM/YY" error=error autocomplete="cc-exp" class="input input--w4"/>
                            <crate::components::Field name="cvc" label="Security code" error=error autocomplete="cc-csc" inputmode="numeric" class="input input--w4"/>
                        </div>
                        <SubmitButton label=format!("Pay {}", s.amount) pending=pay.pending()/>
                    </Form>
                    <p class="body"><a href=format!("/portal/payments?member={}", s.number)>"Cancel and return to Guildhall"</a></p>
                }.into_any(),
            }}/>
    }
}
