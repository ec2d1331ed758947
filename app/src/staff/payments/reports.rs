//! Finance reports: transaction history (filterable, with CSV) and aged debt.

use super::pairs;
use crate::components::error_view;
use crate::components::PageShell;
use crate::components::{ErrorSummary, PageTitle};
use guildhall::domain::payments::{METHODS, TRANSACTION_KINDS};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

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

/// A filter that does not read is shown as the form's errors; anything else as the staff error.
fn filter_error(e: AppError) -> AnyView {
    match e {
        AppError::Validation(f) => view! { <ErrorSummary error=Signal::derive(move || Some(AppError::Validation(f.clone())))/> }.into_any(),
        e => error_view(e),
    }
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
        <PageShell data=data on_error=filter_error ready={move |d: TxnReportDto| view! {
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
            }.into_any()}/>
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
        <PageShell data=data ready={move |d: AgedDto| view! {
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
            }.into_any()}/>
    }
}
