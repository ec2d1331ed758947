//! Money for staff: a member's balance, documents and history with the forms to record a cheque or
//! transfer and to raise a request needing a second person (`member`); the "Requests to authorise"
//! worklist (`requests`); transaction history and aged debt (`reports`) and reconciliation
//! (`reconciliation`). Office details and the payment limit are in `staff::settings`; the banner after
//! a save and the form pieces those pages share are here.

mod member;
mod reconciliation;
mod reports;
mod requests;

pub use member::*;
pub use reconciliation::*;
pub use reports::*;
pub use requests::*;

use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

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

pub(super) fn select(
    name: &'static str,
    label: &'static str,
    options: Vec<(String, String)>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let message = crate::components::forms::field_message(error, name.to_owned());
    let chosen = crate::components::forms::posted(name);
    let id = format!("{name}-select");
    view! {
        <div class=move || if message.get().is_some() { "field field--error" } else { "field" } id=name>
            <label class="label" for=id.clone()>{label}</label>
            {move || message.get().map(|m| view! { <p class="field-error"><span class="visually-hidden">"Error: "</span>{m}</p> })}
            <select class="select" id=id name=name>
                {options.into_iter().map(|(v, l)| {
                    let is = chosen.as_deref() == Some(v.as_str());
                    view! { <option value=v selected=is>{l}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

pub(super) fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}
