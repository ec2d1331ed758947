//! Reconciliation: per day and method, the ledger's takings against the settled figures staff enter
//! or import.

use super::{pairs, select, Saved};
use crate::components::error_view;
use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::PageShell;
use crate::components::{ErrorSummary, Field, PageTitle, SubmitButton, TextArea};
use guildhall::domain::payments::METHODS;
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

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

/// Days that do not read are shown as the form's errors, with a way back to the last 30 days;
/// anything else as the staff error.
fn days_error(e: AppError) -> AnyView {
    match e {
        AppError::Validation(f) => view! {
            <ErrorSummary error=Signal::derive(move || Some(AppError::Validation(f.clone())))/>
            <p class="body"><a href="/staff/payments/reconciliation">"Show the last 30 days"</a></p>
        }
        .into_any(),
        e => error_view(e),
    }
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
        <PageShell data=data on_error=days_error ready={move |d: ReconDto| view! {
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
                        <Form action=save attr:class="form-narrow">
                            <Field name="day" label="Day" hint="For example 2026-11-20" error=save_error value=d.today.clone() class="input input--w10" autocomplete="off"/>
                            {select("method", "Method", pairs(&METHODS), save_error)}
                            <Field name="amount" label="Amount settled, in pounds" error=save_error inputmode="decimal" class="input input--w10" autocomplete="off"/>
                            <Field name="reference" label="Payout or statement reference (optional)" error=save_error autocomplete="off"/>
                            <SubmitButton label="Save figure" pending=save.pending()/>
                        </Form>
                    </div>
                    <div>
                        <h2 class="heading-m">"Import settled figures"</h2>
                        <ErrorSummary error=import_error/>
                        <Form action=import>
                            <TextArea name="csv" label="Paste CSV rows" hint="date,method,amount,reference — for example 2026-11-20,card,412.50,po_123. A figure already entered for that day and method is replaced." error=import_error/>
                            <SubmitButton label="Import" pending=import.pending()/>
                        </Form>
                    </div>
                </div>
            }.into_any()}/>
    }
}
