//! A member's money, for staff: balance, documents and history, recording a cheque or transfer, and
//! raising a request that a second person authorises.

#![expect(
    clippy::too_many_arguments,
    reason = "server functions take one argument per form field"
)]

use super::requests::{RequestDto, RequestTable};
use super::{pairs, select, Saved};
use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::PageShell;
use crate::components::{ErrorSummary, Field, PageTitle, SubmitButton, TextArea};
use crate::money::{MoneyDto, MoneyTables};
use guildhall::domain::payments::{MANUAL_METHODS, REQUEST_KINDS};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::requests::request_dto;
#[cfg(feature = "ssr")]
use crate::record::member_uuid;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberMoneyDto {
    pub member_id: String,
    pub money: MoneyDto,
    pub requests: Vec<RequestDto>,
    pub can_record: bool,
    pub can_raise: bool,
    pub form_key: String,
    pub today: String,
}

#[server(prefix = "/fn", endpoint = "member-money")]
pub async fn member_money(number: String) -> Result<MemberMoneyDto, AppError> {
    use crate::record as names;
    use guildhall::domain::Permission;
    let actor = crate::ctx::require(Permission::ViewMembers)?;
    let st = crate::ctx::state()?;
    let n = names::parse_number(&number)?;
    let m = guildhall::service::people::staff_member(&st.db, &actor, n).await?;
    let a = guildhall::service::money::account::staff_account(&st.db, &actor, &m).await?;
    let requests = guildhall::service::payments::requests::for_member(&st.db, &actor, m.id)
        .await?
        .into_iter()
        .map(request_dto)
        .collect();
    Ok(MemberMoneyDto {
        member_id: m.id.to_string(),
        money: crate::money::ssr::view(
            names::number(m.membership_number),
            names::display_name(&m),
            a,
            "/staff/documents",
            false,
        ),
        requests,
        can_record: actor.can(Permission::RecordPayments) && m.pseudonymised_at.is_none(),
        can_raise: actor.can(Permission::RaiseRequests),
        form_key: uuid::Uuid::new_v4().to_string(),
        today: guildhall::service::today().format("%Y-%m-%d").to_string(),
    })
}

#[server(prefix = "/fn", endpoint = "record-payment")]
pub async fn record_payment(
    member_id: String,
    number: String,
    method: String,
    reference: String,
    received_amount: String,
    received_on: String,
    against: String,
    #[server(default)] other_invoice: String,
    form_key: String,
) -> Result<(), AppError> {
    use guildhall::service::payments::manual::record_manual_payment;
    use guildhall::service::payments::manual::ManualPayment;
    use guildhall::service::payments::manual::ManualPaymentInput;
    let actor = crate::ctx::require(guildhall::domain::Permission::RecordPayments)?;
    let st = crate::ctx::state()?;
    // One of this member's open invoices, or another member's typed by number (a second person then
    // authorises it), not both.
    let invoice = match (against.trim(), other_invoice.trim()) {
        (a, "") => a.to_owned(),
        ("", o) => o.to_owned(),
        _ => {
            return Err(AppError::field(
                "other_invoice",
                "Choose one of this member's invoices or type another member's invoice number, not both",
            ))
        }
    };
    let done = record_manual_payment(
        &st.db,
        &actor,
        member_uuid(&member_id)?,
        &ManualPaymentInput {
            method,
            reference,
            amount: received_amount,
            received_on,
            invoice,
            form_key,
        },
        &st.base_url,
    )
    .await
    .map_err(|e| match e {
        // This form's fields are named apart from the request form's on the same page.
        AppError::Validation(f) => {
            let mut out = guildhall::domain::FieldErrors::new();
            for x in f.iter() {
                let field = match x.field.as_str() {
                    "amount" => "received_amount",
                    "invoice" if other_invoice.trim().is_empty() => "against",
                    "invoice" => "other_invoice",
                    other => other,
                };
                out.add(field, x.message.clone());
            }
            AppError::Validation(out)
        }
        other => other,
    })?;
    st.outbox_wake.notify_one();
    let saved = match done {
        ManualPayment::Recorded(..) => "payment",
        ManualPayment::Requested(_) => "payment_request",
    };
    leptos_axum::redirect(&format!(
        "/staff/members/{}/money?saved={saved}",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "raise-request")]
pub async fn raise_request(
    member_id: String,
    number: String,
    kind: String,
    amount: String,
    reason: String,
    #[server(default)] description: String,
    #[server(default)] invoice: String,
    #[server(default)] payment: String,
) -> Result<(), AppError> {
    use guildhall::service::payments::requests::{raise, RequestInput};
    let actor = crate::ctx::require(guildhall::domain::Permission::RaiseRequests)?;
    let st = crate::ctx::state()?;
    raise(
        &st.db,
        &actor,
        member_uuid(&member_id)?,
        &RequestInput {
            kind,
            amount,
            reason,
            description,
            invoice,
            payment,
        },
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}/money?saved=request",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

/// A member's money, for staff.
#[component]
pub fn MemberMoneyPage() -> impl IntoView {
    let params = use_params_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let data = Resource::new(number, member_money);
    let record = ServerAction::<RecordPayment>::new();
    let record_error = last_error(record);
    let raise = ServerAction::<RaiseRequest>::new();
    let raise_error = last_error(raise);
    view! {
        <PageShell data=data ready={move |d: MemberMoneyDto| {
                let m = d.money.clone();
                let back = format!("/staff/members/{}", m.number);
                let (mid, num) = (d.member_id.clone(), m.number.clone());
                let (mid2, num2) = (d.member_id.clone(), m.number.clone());
                let open_invoices: Vec<(String, String)> = std::iter::once((String::new(), "Any open invoice, oldest first".to_owned()))
                    .chain(m.documents.iter().filter(|x| x.open).map(|x| (x.number.clone(), format!("{} ({} to pay)", x.number, x.outstanding))))
                    .collect();
                let invoices: Vec<(String, String)> = std::iter::once((String::new(), "(for credit notes and write-offs)".to_owned()))
                    .chain(m.documents.iter().filter(|x| x.kind == "Invoice").map(|x| (x.number.clone(), format!("{} {} ({} to pay)", x.number, x.amount, x.outstanding))))
                    .collect();
                let payments: Vec<(String, String)> = std::iter::once((String::new(), "(for refunds)".to_owned()))
                    .chain(m.payments.iter().filter(|p| p.refundable).map(|p| (p.id.clone(), p.label.clone())))
                    .collect();
                let requests = d.requests.clone();
                view! {
                    <PageTitle text=format!("Payments: {} {}", m.name, m.number)/>
                    <p class="back-link"><a href=back>"Back to the member"</a></p>
                    <Saved/>
                    <h1 class="heading-l">"Payments and balance "<span class="caption">{format!("{} {}", m.name, m.number)}</span></h1>
                    <div class="panel-balance">
                        <p class="body">"Balance"</p>
                        <p class="heading-l">{m.balance.clone()}</p>
                        <p class="body">{m.balance_note.clone()}</p>
                    </div>
                    <div class="record">
                        <div>
                            <MoneyTables m=m.clone()/>
                            {(!requests.is_empty()).then(|| view! {
                                <h2 class="heading-m">"Requests"</h2>
                                <RequestTable rows=requests.clone()/>
                            })}
                        </div>
                        <div>
                            {d.can_record.then(|| view! {
                                <h2 class="heading-m">"Record a payment"</h2>
                                <ErrorSummary error=record_error/>
                                <Form action=record attr:class="form-narrow">
                                    <input type="hidden" name="member_id" value=mid.clone()/>
                                    <input type="hidden" name="number" value=num.clone()/>
                                    <input type="hidden" name="form_key" value=d.form_key.clone()/>
                                    {select("method", "Method", pairs(&MANUAL_METHODS), record_error)}
                                    <Field name="reference" label="Cheque number or transfer reference" error=record_error autocomplete="off"/>
                                    <Field name="received_amount" label="Amount received, in pounds" error=record_error inputmode="decimal" class="input input--w10" autocomplete="off"/>
                                    <Field name="received_on" label="Date received" hint="For example 2026-11-20" error=record_error value=d.today.clone() class="input input--w10" autocomplete="off"/>
                                    {select("against", "Set against", open_invoices.clone(), record_error)}
                                    <Field name="other_invoice" label="Or another member's invoice number" hint="A second person must authorise a payment settling another member's invoice, or one above the office's limit" error=record_error autocomplete="off" class="input input--w10"/>
                                    <SubmitButton label="Record payment" pending=record.pending()/>
                                </Form>
                            })}
                            {d.can_raise.then(|| view! {
                                <h2 class="heading-m">"Raise a request"</h2>
                                <p class="body">"Refunds, manual invoices, credit notes and write-offs are carried out only when a different supervisor or finance user authorises them."</p>
                                <ErrorSummary error=raise_error/>
                                <Form action=raise attr:class="form-narrow">
                                    <input type="hidden" name="member_id" value=mid2.clone()/>
                                    <input type="hidden" name="number" value=num2.clone()/>
                                    {select("kind", "Request", pairs(&REQUEST_KINDS), raise_error)}
                                    <Field name="amount" label="Amount, in pounds" error=raise_error inputmode="decimal" class="input input--w10" autocomplete="off"/>
                                    {select("payment", "Payment to refund", payments.clone(), raise_error)}
                                    {select("invoice", "Invoice", invoices.clone(), raise_error)}
                                    <Field name="description" label="What a manual invoice is for" error=raise_error autocomplete="off"/>
                                    <TextArea name="reason" label="Reason" hint="The person authorising it reads this" error=raise_error/>
                                    <SubmitButton label="Raise request" pending=raise.pending()/>
                                </Form>
                            })}
                        </div>
                    </div>
                }.into_any()
            }}/>
    }
}
