//! The "Requests to authorise" worklist: refunds, manual invoices, credit notes, write-offs and large
//! or cross-member payments, each carried out only when a second person authorises it.

use super::Saved;
use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::PageShell;
use crate::components::{ErrorSummary, PageTitle};
use guildhall::domain::AppError;
use leptos::prelude::*;
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
pub(super) fn request_dto(r: guildhall::service::payments::requests::RequestRow) -> RequestDto {
    use guildhall::entity::money_request::{RefundStatus, RequestStatus};
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
        status: match r.status {
            RequestStatus::Approved => match r.provider_status {
                Some(RefundStatus::Pending) => "Approved (card refund being sent)".to_owned(),
                Some(RefundStatus::Failed) => {
                    "Approved (card refund failed at the provider)".to_owned()
                }
                _ => "Approved".to_owned(),
            },
            RequestStatus::Declined => "Declined".to_owned(),
            RequestStatus::Pending => "Waiting".to_owned(),
        },
        decided_by: r.decided_by.unwrap_or_default(),
        result: r.result.unwrap_or_default(),
        can_decide: r.can_decide,
        own: r.own,
    }
}

#[component]
pub(super) fn RequestTable(rows: Vec<RequestDto>) -> impl IntoView {
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
    Ok(
        guildhall::service::payments::requests::pending(&st.db, &actor)
            .await?
            .into_iter()
            .map(request_dto)
            .collect(),
    )
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
    guildhall::service::payments::requests::decide(
        &st.db,
        &actor,
        id,
        approve,
        &note,
        &st.base_url,
    )
    .await?;
    st.outbox_wake.notify_one();
    // A card refund goes back through its provider now (and the worker retries any left pending).
    let (db, providers) = (st.db.clone(), st.payments.clone());
    tokio::spawn(async move {
        if let Err(e) = guildhall::service::payments::card::process_refunds(&db, &providers).await {
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
    // A decline refused without JavaScript (no reason, or too long): its row opens again with the
    // note as typed, under the id the error summary links to.
    let refused = crate::components::flash::flash_for(<DecideRequest as server_fn::ServerFn>::PATH)
        .filter(|f| f.value("decision") == Some("decline"));
    view! {
        <PageTitle text="Requests to authorise"/>
        <Saved/>
        <h1 class="heading-l">"Requests to authorise"</h1>
        <p class="body">"Refunds, manual invoices, credit notes and write-offs raised by staff, and cheques or transfers above the office's limit or settling another member's invoice. You cannot authorise a request you raised."</p>
        <ErrorSummary error=error/>
        <PageShell data=data ready={move |r: Vec<RequestDto>| match r {
                rows if rows.is_empty() => view! { <p class="body" role="status">"Nothing is waiting."</p> }.into_any(),
                rows => view! {
                    <table class="table">
                        <caption class="visually-hidden">"Requests waiting, oldest first"</caption>
                        <thead><tr><th scope="col">"Request"</th><th scope="col">"Member"</th><th scope="col" class="table__num">"Amount"</th><th scope="col">"About"</th><th scope="col">"Reason"</th><th scope="col">"Raised"</th><th scope="col">"Decision"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|r| {
                                let (id1, id2) = (r.id.clone(), r.id.clone());
                                let again = refused.as_ref().filter(|f| f.value("id") == Some(r.id.as_str()));
                                let note = again.and_then(|f| f.value("note")).unwrap_or_default().to_owned();
                                let note_id = if again.is_some() { "note".to_owned() } else { format!("note-{}", r.id) };
                                let reopen = again.is_some();
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
                                                    <Form action=decide attr:class="inline-form">
                                                        <input type="hidden" name="id" value=id1/>
                                                        <input type="hidden" name="decision" value="approve"/>
                                                        <button type="submit" class="button">"Authorise"<span class="visually-hidden">" "{label}</span></button>
                                                    </Form>
                                                    <details class="details" open=reopen>
                                                        <summary class="details__summary">"Decline"<span class="visually-hidden">" "{label2}</span></summary>
                                                        <Form action=decide>
                                                            <input type="hidden" name="id" value=id2/>
                                                            <input type="hidden" name="decision" value="decline"/>
                                                            <div class="field" id=format!("note-field-{}", r.id)>
                                                                <label class="label" for=note_id.clone()>"Why"</label>
                                                                <input class="input" id=note_id name="note" value=note autocomplete="off"/>
                                                            </div>
                                                            <button type="submit" class="button button--warning">"Decline request"</button>
                                                        </Form>
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
            }}/>
    }
}
