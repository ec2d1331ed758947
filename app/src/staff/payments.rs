//! Money for staff: a member's balance, documents and history with the forms to record a cheque or
//! transfer and to raise a request needing a second person; the "Requests to authorise" worklist;
//! transaction history, aged debt and reconciliation reports. Office details are in `settings`.

// Server functions take one argument per form field.
#![allow(clippy::too_many_arguments)]

use super::error_view;
use crate::components::forms::last_error;
use crate::components::{ErrorSummary, Field, PageTitle, SubmitButton, TextArea};
use crate::money::{MoneyDto, MoneyTables};
use guildhall::domain::payments::{MANUAL_METHODS, METHODS, REQUEST_KINDS, TRANSACTION_KINDS};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestDto {
    pub id: String,
    pub kind: String,
    pub member: String,
    pub member_href: String,
    pub amount: String,
    pub what: String,
    pub reason: String,
    pub requested: String,
    pub status: String,
    pub decided_by: String,
    pub result: String,
    pub can_decide: bool,
    pub own: bool,
}

#[cfg(feature = "ssr")]
fn request_dto(r: guildhall::service::money::requests::RequestRow) -> RequestDto {
    RequestDto {
        id: r.id.to_string(),
        kind: guildhall::domain::payments::request_label(&r.kind).to_owned(),
        member: format!("{} {}", r.member_name, r.membership_number),
        member_href: format!("/staff/members/{}/money", r.membership_number),
        amount: r.amount.to_string(),
        what: r.what,
        reason: r.reason,
        requested: format!(
            "{} by {}",
            crate::format::staff_time(r.requested_at),
            r.requested_by
        ),
        status: match r.status.as_str() {
            "approved" => match r.provider_status.as_deref() {
                Some("pending") => "Approved (card refund being sent)".to_owned(),
                Some("failed") => "Approved (card refund failed at the provider)".to_owned(),
                _ => "Approved".to_owned(),
            },
            "declined" => "Declined".to_owned(),
            _ => "Waiting".to_owned(),
        },
        decided_by: r.decided_by.unwrap_or_default(),
        result: r.result.unwrap_or_default(),
        can_decide: r.can_decide,
        own: r.own,
    }
}

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
    use crate::staff::members::ssr as names;
    use guildhall::domain::Permission;
    let actor = crate::ctx::require(Permission::ViewMembers)?;
    let st = crate::ctx::state()?;
    let n = names::parse_number(&number)?;
    let m = guildhall::entity::member::Entity::find()
        .filter(guildhall::entity::member::Column::MembershipNumber.eq(n))
        .one(&st.db)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound)?;
    let a = guildhall::service::money::staff_account(&st.db, &actor, m.id).await?;
    let requests = guildhall::service::money::requests::for_member(&st.db, &actor, m.id)
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
        today: guildhall::service::today()
            .format("%Y-%m-%d")
            .to_string(),
    })
}

#[cfg(feature = "ssr")]
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

#[cfg(feature = "ssr")]
use super::members::member_uuid;

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
    use guildhall::service::money::{record_manual_payment, ManualPayment, ManualPaymentInput};
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
    use guildhall::service::money::requests::{raise, RequestInput};
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

fn saved_message(s: &str) -> Option<&'static str> {
    Some(match s {
        "payment" => "The payment was recorded and a receipt emailed.",
        "payment_request" => "Waiting for a second person to authorise: a payment above the office's limit, or one settling another member's invoice, is recorded when a different supervisor or finance user authorises it in Requests to authorise.",
        "limit" => "The limit for payments needing a second person was saved.",
        "request" => "The request was raised. Someone else must authorise it.",
        "approved" => "The request was authorised and carried out.",
        "declined" => "The request was declined.",
        "settlement" => "The settlement figures were saved.",
        "office" => "The office details were saved.",
        "renewals" => "The renewal settings have been saved.",
        _ => return None,
    })
}

/// The banner for `?saved=…` after a form on a money page (or Office details) was saved.
#[component]
pub(super) fn Saved() -> impl IntoView {
    let q = use_query_map();
    move || {
        q.read()
            .get("saved")
            .and_then(|s| saved_message(&s))
            .map(|s| view! { <div class="banner banner--success" role="status"><p>{s}</p></div> })
    }
}

fn select(
    name: &'static str,
    label: &'static str,
    options: Vec<(String, String)>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let message = crate::components::forms::field_message(error, name.to_owned());
    let id = format!("{name}-select");
    view! {
        <div class=move || if message.get().is_some() { "field field--error" } else { "field" } id=name>
            <label class="label" for=id.clone()>{label}</label>
            {move || message.get().map(|m| view! { <p class="field-error"><span class="visually-hidden">"Error: "</span>{m}</p> })}
            <select class="select" id=id name=name>
                {options.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
            </select>
        </div>
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
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
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(d) => {
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
                                    <ActionForm action=record attr:novalidate=true attr:class="form-narrow">
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
                                    </ActionForm>
                                })}
                                {d.can_raise.then(|| view! {
                                    <h2 class="heading-m">"Raise a request"</h2>
                                    <p class="body">"Refunds, manual invoices, credit notes and write-offs are carried out only when a different supervisor or finance user authorises them."</p>
                                    <ErrorSummary error=raise_error/>
                                    <ActionForm action=raise attr:novalidate=true attr:class="form-narrow">
                                        <input type="hidden" name="member_id" value=mid2.clone()/>
                                        <input type="hidden" name="number" value=num2.clone()/>
                                        {select("kind", "Request", pairs(&REQUEST_KINDS), raise_error)}
                                        <Field name="amount" label="Amount, in pounds" error=raise_error inputmode="decimal" class="input input--w10" autocomplete="off"/>
                                        {select("payment", "Payment to refund", payments.clone(), raise_error)}
                                        {select("invoice", "Invoice", invoices.clone(), raise_error)}
                                        <Field name="description" label="What a manual invoice is for" error=raise_error autocomplete="off"/>
                                        <TextArea name="reason" label="Reason" hint="The person authorising it reads this" error=raise_error/>
                                        <SubmitButton label="Raise request" pending=raise.pending()/>
                                    </ActionForm>
                                })}
                            </div>
                        </div>
                    }.into_any()
                }
                Err(e) => error_view(e),
            })}
        </Suspense>
    }
}

#[component]
fn RequestTable(rows: Vec<RequestDto>) -> impl IntoView {
    view! {
        <table class="table">
            <caption class="visually-hidden">"Requests"</caption>
            <thead><tr><th scope="col">"Request"</th><th scope="col" class="table__num">"Amount"</th><th scope="col">"About"</th><th scope="col">"Reason"</th><th scope="col">"Raised"</th><th scope="col">"Status"</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|r| view! {
                    <tr>
                        <td data-label="Request">{r.kind.clone()}</td>
                        <td data-label="Amount" class="table__num">{r.amount.clone()}</td>
                        <td data-label="About">{r.what.clone()}</td>
                        <td data-label="Reason">{r.reason.clone()}</td>
                        <td data-label="Raised">{r.requested.clone()}</td>
                        <td data-label="Status">{r.status.clone()}{(!r.decided_by.is_empty()).then(|| format!(" by {}", r.decided_by))}{(!r.result.is_empty()).then(|| format!(": {}", r.result))}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[server(prefix = "/fn", endpoint = "requests-to-authorise")]
pub async fn requests_to_authorise() -> Result<Vec<RequestDto>, AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::StaffArea)?;
    let st = crate::ctx::state()?;
    Ok(guildhall::service::money::requests::pending(&st.db, &actor)
        .await?
        .into_iter()
        .map(request_dto)
        .collect())
}

#[server(prefix = "/fn", endpoint = "decide-request")]
pub async fn decide_request(
    id: String,
    decision: String,
    #[server(default)] note: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::AuthoriseRequests)?;
    let st = crate::ctx::state()?;
    let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    let approve = match decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(AppError::field("decision", "Choose approve or decline")),
    };
    guildhall::service::money::requests::decide(&st.db, &actor, id, approve, &note, &st.base_url)
        .await?;
    st.outbox_wake.notify_one();
    // A card refund goes back through its provider now (and the worker retries any left pending).
    let (db, providers) = (st.db.clone(), st.payments.clone());
    tokio::spawn(async move {
        if let Err(e) = guildhall::service::money::card::process_refunds(&db, &providers).await {
            tracing::warn!(error = ?e, "could not pass refunds to the provider");
        }
    });
    leptos_axum::redirect(if approve {
        "/staff/payments/requests?saved=approved"
    } else {
        "/staff/payments/requests?saved=declined"
    });
    Ok(())
}

/// The "Requests to authorise" worklist, oldest first.
#[component]
pub fn RequestsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| requests_to_authorise());
    let decide = ServerAction::<DecideRequest>::new();
    let error = last_error(decide);
    view! {
        <PageTitle text="Requests to authorise"/>
        <Saved/>
        <h1 class="heading-l">"Requests to authorise"</h1>
        <p class="body">"Refunds, manual invoices, credit notes and write-offs raised by staff, and cheques or transfers above the office's limit or settling another member's invoice. You cannot authorise a request you raised."</p>
        <ErrorSummary error=error/>
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(rows) if rows.is_empty() => view! { <p class="body" role="status">"Nothing is waiting."</p> }.into_any(),
                Ok(rows) => view! {
                    <table class="table">
                        <caption class="visually-hidden">"Requests waiting, oldest first"</caption>
                        <thead><tr><th scope="col">"Request"</th><th scope="col">"Member"</th><th scope="col" class="table__num">"Amount"</th><th scope="col">"About"</th><th scope="col">"Reason"</th><th scope="col">"Raised"</th><th scope="col">"Decision"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|r| {
                                let (id1, id2) = (r.id.clone(), r.id.clone());
                                let label = format!("{} of {} for {}", r.kind, r.amount, r.member);
                                let label2 = label.clone();
                                view! {
                                    <tr>
                                        <td data-label="Request">{r.kind.clone()}</td>
                                        <td data-label="Member"><a href=r.member_href.clone()>{r.member.clone()}</a></td>
                                        <td data-label="Amount" class="table__num">{r.amount.clone()}</td>
                                        <td data-label="About">{r.what.clone()}</td>
                                        <td data-label="Reason">{r.reason.clone()}</td>
                                        <td data-label="Raised">{r.requested.clone()}</td>
                                        <td data-label="Decision">
                                            {if r.can_decide {
                                                view! {
                                                    <ActionForm action=decide attr:class="inline-form">
                                                        <input type="hidden" name="id" value=id1/>
                                                        <input type="hidden" name="decision" value="approve"/>
                                                        <button type="submit" class="button">"Authorise"<span class="visually-hidden">" "{label}</span></button>
                                                    </ActionForm>
                                                    <details class="details">
                                                        <summary class="details__summary">"Decline"<span class="visually-hidden">" "{label2}</span></summary>
                                                        <ActionForm action=decide>
                                                            <input type="hidden" name="id" value=id2/>
                                                            <input type="hidden" name="decision" value="decline"/>
                                                            <div class="field" id=format!("note-field-{}", r.id)>
                                                                <label class="label" for=format!("note-{}", r.id)>"Why"</label>
                                                                <input class="input" id=format!("note-{}", r.id) name="note" autocomplete="off"/>
                                                            </div>
                                                            <button type="submit" class="button button--warning">"Decline request"</button>
                                                        </ActionForm>
                                                    </details>
                                                }.into_any()
                                            } else if r.own {
                                                view! { <span>"You raised this; someone else must authorise it."</span> }.into_any()
                                            } else {
                                                view! { <span>"Waiting for a supervisor or finance."</span> }.into_any()
                                            }}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(e) => error_view(e),
            })}
        </Suspense>
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TxnDto {
    pub date: String,
    pub kind: String,
    pub method: String,
    pub member: String,
    pub member_href: String,
    pub detail: String,
    pub amount: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TxnReportDto {
    pub rows: Vec<TxnDto>,
    pub csv: String,
    pub capped: bool,
}

#[cfg(feature = "ssr")]
const REPORT_ROWS: u64 = 500;

#[server(prefix = "/fn", endpoint = "transaction-report")]
pub async fn transaction_report(
    from: String,
    to: String,
    method: String,
    kind: String,
) -> Result<TxnReportDto, AppError> {
    use guildhall::domain::payments::label;
    use guildhall::service::money::reports;
    let actor = crate::ctx::require(guildhall::domain::Permission::ViewReports)?;
    let st = crate::ctx::state()?;
    let f = reports::parse_filter(&from, &to, &method, &kind)?;
    let rows = reports::transactions(&st.db, &actor, &f, REPORT_ROWS + 1).await?;
    let capped = rows.len() as u64 > REPORT_ROWS;
    let u = crate::format::urlencode;
    Ok(TxnReportDto {
        csv: format!(
            "/staff/reports/transactions.csv?from={}&to={}&method={}&kind={}",
            u(&from),
            u(&to),
            u(&method),
            u(&kind)
        ),
        capped,
        rows: rows
            .into_iter()
            .take(REPORT_ROWS as usize)
            .map(|r| TxnDto {
                date: crate::format::long_date(r.date),
                kind: label(&TRANSACTION_KINDS, &r.kind).to_owned(),
                method: r
                    .method
                    .as_deref()
                    .map(|m| label(&METHODS, m).to_owned())
                    .unwrap_or_default(),
                member_href: format!("/staff/members/{}/money", r.membership_number),
                member: format!("{} {}", r.member_name, r.membership_number),
                detail: r.cause,
                amount: r.amount.to_string(),
            })
            .collect(),
    })
}

fn options_with_all(list: &[(&str, &str)], all: &str, chosen: &str) -> impl IntoView {
    let mut v = vec![(String::new(), all.to_owned())];
    v.extend(pairs(list));
    v.into_iter()
        .map(|(value, l)| {
            let sel = value == chosen;
            view! { <option value=value selected=sel>{l}</option> }
        })
        .collect_view()
}

/// Transaction history for finance, filterable by date, method and type, with CSV.
#[component]
pub fn TransactionsReportPage() -> impl IntoView {
    let q = use_query_map();
    let get = move |k: &str| q.read().get(k).unwrap_or_default();
    let data = Resource::new(
        move || (get("from"), get("to"), get("method"), get("kind")),
        |(a, b, c, d)| transaction_report(a, b, c, d),
    );
    let (from, to, method, kind) = (
        q.read_untracked().get("from").unwrap_or_default(),
        q.read_untracked().get("to").unwrap_or_default(),
        q.read_untracked().get("method").unwrap_or_default(),
        q.read_untracked().get("kind").unwrap_or_default(),
    );
    view! {
        <PageTitle text="Transaction history"/>
        <h1 class="heading-l">"Transaction history"</h1>
        <form method="get" action="/staff/reports/transactions" class="filters inline-fields" aria-label="Filter transactions">
            <div class="field"><label class="label" for="from">"From"</label><input class="input input--w10" id="from" name="from" type="date" value=from/></div>
            <div class="field"><label class="label" for="to">"To"</label><input class="input input--w10" id="to" name="to" type="date" value=to/></div>
            <div class="field"><label class="label" for="method">"Method"</label><select class="select" id="method" name="method">{options_with_all(&METHODS, "Any method", &method)}</select></div>
            <div class="field"><label class="label" for="kind">"Type"</label><select class="select" id="kind" name="kind">{options_with_all(&TRANSACTION_KINDS, "Any type", &kind)}</select></div>
            <div class="field"><button type="submit" class="button button--secondary">"Show"</button></div>
        </form>
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(d) => view! {
                    <p class="body"><a href=d.csv.clone() rel="external" download="transactions.csv">"Download as CSV"</a>{d.capped.then_some(" (the page shows the newest 500; the CSV has them all)")}</p>
                    {if d.rows.is_empty() {
                        view! { <p class="body" role="status">"No transactions match."</p> }.into_any()
                    } else {
                        view! {
                            <table class="table">
                                <caption class="visually-hidden">"Transactions, newest first"</caption>
                                <thead><tr><th scope="col">"Date"</th><th scope="col">"Type"</th><th scope="col">"Method"</th><th scope="col">"Member"</th><th scope="col">"Detail"</th><th scope="col" class="table__num">"Amount"</th></tr></thead>
                                <tbody>
                                    {d.rows.into_iter().map(|t| view! {
                                        <tr>
                                            <td data-label="Date">{t.date}</td>
                                            <td data-label="Type">{t.kind}</td>
                                            <td data-label="Method">{t.method}</td>
                                            <td data-label="Member"><a href=t.member_href>{t.member}</a></td>
                                            <td data-label="Detail">{t.detail}</td>
                                            <td data-label="Amount" class="table__num">{t.amount}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                }.into_any(),
                Err(AppError::Validation(f)) => view! { <ErrorSummary error=Signal::derive(move || Some(AppError::Validation(f.clone())))/> }.into_any(),
                Err(e) => error_view(e),
            })}
        </Suspense>
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgedDto {
    pub rows: Vec<(String, String, [String; 4], String, String)>,
    pub totals: [String; 5],
    pub as_of: String,
    /// How many members owe anything (the page lists the largest debts).
    pub members: u64,
}

#[server(prefix = "/fn", endpoint = "aged-debt-report")]
pub async fn aged_debt_report() -> Result<AgedDto, AppError> {
    use guildhall::service::money::reports;
    use guildhall::service::today;
    let actor = crate::ctx::require(guildhall::domain::Permission::ViewReports)?;
    let st = crate::ctx::state()?;
    let as_of = today();
    let aged = reports::aged_debt(&st.db, &actor, as_of, Some(reports::AGED_DEBT_PAGE)).await?;
    Ok(AgedDto {
        members: aged.members,
        rows: aged
            .rows
            .into_iter()
            .map(|r| {
                (
                    r.membership_number.clone(),
                    format!("{} {}", r.member_name, r.membership_number),
                    r.buckets.map(|b| b.to_string()),
                    r.total.to_string(),
                    crate::format::long_date(r.oldest),
                )
            })
            .collect(),
        totals: aged.totals.map(|t| t.to_string()),
        as_of: crate::format::long_date(as_of),
    })
}

/// Aged debt: what members owe on open invoices, by how old the invoice is.
#[component]
pub fn AgedDebtPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| aged_debt_report());
    view! {
        <PageTitle text="Aged debt"/>
        <h1 class="heading-l">"Aged debt"</h1>
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(d) => view! {
                    <p class="body">{format!("Open invoices by age on {}. ", d.as_of)}<a href="/staff/reports/aged-debt.csv" rel="external" download="aged-debt.csv">"Download as CSV"</a></p>
                    <p class="body" data-testid="aged-count">{
                        let shown = d.rows.len() as u64;
                        match d.members {
                            0 => "No member owes anything.".to_owned(),
                            1 => "1 member owes money.".to_owned(),
                            n if n > shown => format!("{n} members owe money; the {shown} largest debts are listed here, and the CSV has them all. The totals are for everyone."),
                            n => format!("{n} members owe money."),
                        }
                    }</p>
                    <table class="table">
                        <caption class="visually-hidden">"Members with open invoices, largest debts first"</caption>
                        <thead><tr><th scope="col">"Member"</th><th scope="col" class="table__num">"0–30 days"</th><th scope="col" class="table__num">"31–60 days"</th><th scope="col" class="table__num">"61–90 days"</th><th scope="col" class="table__num">"Over 90 days"</th><th scope="col" class="table__num">"Total"</th><th scope="col">"Oldest invoice"</th></tr></thead>
                        <tbody>
                            {d.rows.into_iter().map(|(n, name, b, total, oldest)| view! {
                                <tr>
                                    <td data-label="Member"><a href=format!("/staff/members/{n}/money")>{name}</a></td>
                                    <td data-label="0–30 days" class="table__num">{b[0].clone()}</td>
                                    <td data-label="31–60 days" class="table__num">{b[1].clone()}</td>
                                    <td data-label="61–90 days" class="table__num">{b[2].clone()}</td>
                                    <td data-label="Over 90 days" class="table__num">{b[3].clone()}</td>
                                    <td data-label="Total" class="table__num">{total}</td>
                                    <td data-label="Oldest invoice">{oldest}</td>
                                </tr>
                            }).collect_view()}
                            <tr class="totals">
                                <td data-label="Member">"Total"</td>
                                <td data-label="0–30 days" class="table__num">{d.totals[0].clone()}</td>
                                <td data-label="31–60 days" class="table__num">{d.totals[1].clone()}</td>
                                <td data-label="61–90 days" class="table__num">{d.totals[2].clone()}</td>
                                <td data-label="Over 90 days" class="table__num">{d.totals[3].clone()}</td>
                                <td data-label="Total" class="table__num">{d.totals[4].clone()}</td>
                                <td data-label="Oldest invoice"></td>
                            </tr>
                        </tbody>
                    </table>
                }.into_any(),
                Err(e) => error_view(e),
            })}
        </Suspense>
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconDto {
    pub from: String,
    pub to: String,
    /// Day, method, ledger, settled, reference, difference, whether it is off.
    pub rows: Vec<(String, String, String, String, String, String, bool)>,
    pub today: String,
}

#[server(prefix = "/fn", endpoint = "reconciliation-report")]
pub async fn reconciliation_report(from: String, to: String) -> Result<ReconDto, AppError> {
    use guildhall::domain::payments::label;
    use guildhall::service::money::reports;
    use guildhall::service::today;
    let actor = crate::ctx::require(guildhall::domain::Permission::Reconcile)?;
    let st = crate::ctx::state()?;
    let t = today();
    let parse = |s: &str, field: &str, d: chrono::NaiveDate| match s.trim() {
        "" => Ok(d),
        s => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| AppError::field(field, "Enter a date like 2026-11-01")),
    };
    let to_d = parse(&to, "to", t)?;
    let from_d = parse(&from, "from", to_d - chrono::Duration::days(30))?;
    if from_d > to_d || (to_d - from_d).num_days() > 366 {
        return Err(AppError::field(
            "from",
            "Choose a start date on or before the end date, at most a year apart",
        ));
    }
    let rows = reports::reconciliation(&st.db, &actor, from_d, to_d).await?;
    Ok(ReconDto {
        from: from_d.format("%Y-%m-%d").to_string(),
        to: to_d.format("%Y-%m-%d").to_string(),
        today: t.format("%Y-%m-%d").to_string(),
        rows: rows
            .into_iter()
            .map(|r| {
                let off = r.difference.is_some_and(|d| !d.is_zero());
                (
                    crate::format::long_date(r.day),
                    label(&METHODS, &r.method).to_owned(),
                    r.ledger.to_string(),
                    r.settled
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "Not entered".into()),
                    r.reference.unwrap_or_default(),
                    r.difference.map(|s| s.to_string()).unwrap_or_default(),
                    off,
                )
            })
            .collect(),
    })
}

#[server(prefix = "/fn", endpoint = "save-settlement")]
pub async fn save_settlement(
    day: String,
    method: String,
    amount: String,
    #[server(default)] reference: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::Reconcile)?;
    let st = crate::ctx::state()?;
    guildhall::service::money::reports::record_settlement(
        &st.db, &actor, &day, &method, &amount, &reference,
    )
    .await?;
    leptos_axum::redirect("/staff/payments/reconciliation?saved=settlement");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "import-settlements")]
pub async fn import_settlements(csv: String) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::Reconcile)?;
    let st = crate::ctx::state()?;
    guildhall::service::money::reports::import_settlements(&st.db, &actor, &csv).await?;
    leptos_axum::redirect("/staff/payments/reconciliation?saved=settlement");
    Ok(())
}

/// Reconciliation: per day and method, the ledger's takings against settled figures.
#[component]
pub fn ReconciliationPage() -> impl IntoView {
    let q = use_query_map();
    let get = move |k: &str| q.read().get(k).unwrap_or_default();
    let data = Resource::new(
        move || (get("from"), get("to")),
        |(a, b)| reconciliation_report(a, b),
    );
    let save = ServerAction::<SaveSettlement>::new();
    let save_error = last_error(save);
    let import = ServerAction::<ImportSettlements>::new();
    let import_error = last_error(import);
    view! {
        <PageTitle text="Reconciliation"/>
        <Saved/>
        <h1 class="heading-l">"Reconciliation"</h1>
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(d) => view! {
                    <form method="get" action="/staff/payments/reconciliation" class="filters inline-fields" aria-label="Days to reconcile">
                        <div class="field"><label class="label" for="from">"From"</label><input class="input input--w10" id="from" name="from" type="date" value=d.from.clone()/></div>
                        <div class="field"><label class="label" for="to">"To"</label><input class="input input--w10" id="to" name="to" type="date" value=d.to.clone()/></div>
                        <div class="field"><button type="submit" class="button button--secondary">"Show"</button></div>
                    </form>
                    {if d.rows.is_empty() {
                        view! { <p class="body" role="status">"No payments or settlements in these days."</p> }.into_any()
                    } else {
                        view! {
                            <table class="table">
                                <caption class="visually-hidden">"Ledger takings and settled figures per day and method, newest first"</caption>
                                <thead><tr><th scope="col">"Day"</th><th scope="col">"Method"</th><th scope="col" class="table__num">"Ledger"</th><th scope="col" class="table__num">"Settled"</th><th scope="col">"Reference"</th><th scope="col" class="table__num">"Difference"</th></tr></thead>
                                <tbody>
                                    {d.rows.into_iter().map(|(day, method, ledger, settled, reference, diff, off)| view! {
                                        <tr>
                                            <td data-label="Day">{day}</td>
                                            <td data-label="Method">{method}</td>
                                            <td data-label="Ledger" class="table__num">{ledger}</td>
                                            <td data-label="Settled" class="table__num">{settled}</td>
                                            <td data-label="Reference">{reference}</td>
                                            <td data-label="Difference" class=if off { "table__num difference--off" } else { "table__num" }>{diff}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }}
                    <div class="record">
                        <div>
                            <h2 class="heading-m">"Enter a settled figure"</h2>
                            <ErrorSummary error=save_error/>
                            <ActionForm action=save attr:novalidate=true attr:class="form-narrow">
                                <Field name="day" label="Day" hint="For example 2026-11-20" error=save_error value=d.today.clone() class="input input--w10" autocomplete="off"/>
                                {select("method", "Method", pairs(&METHODS), save_error)}
                                <Field name="amount" label="Amount settled, in pounds" error=save_error inputmode="decimal" class="input input--w10" autocomplete="off"/>
                                <Field name="reference" label="Payout or statement reference (optional)" error=save_error autocomplete="off"/>
                                <SubmitButton label="Save figure" pending=save.pending()/>
                            </ActionForm>
                        </div>
                        <div>
                            <h2 class="heading-m">"Import settled figures"</h2>
                            <ErrorSummary error=import_error/>
                            <ActionForm action=import attr:novalidate=true>
                                <TextArea name="csv" label="Paste CSV rows" hint="date,method,amount,reference — for example 2026-11-20,card,412.50,po_123. A figure already entered for that day and method is replaced." error=import_error/>
                                <SubmitButton label="Import" pending=import.pending()/>
                            </ActionForm>
                        </div>
                    </div>
                }.into_any(),
                Err(AppError::Validation(f)) => view! {
                    <ErrorSummary error=Signal::derive(move || Some(AppError::Validation(f.clone())))/>
                    <p class="body"><a href="/staff/payments/reconciliation">"Show the last 30 days"</a></p>
                }.into_any(),
                Err(e) => error_view(e),
            })}
        </Suspense>
    }
}
