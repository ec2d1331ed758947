//! Management reports: the weekly **Trade Report** (Monday to Sunday: new memberships by category,
//! renewals, adjustments, reinstatements, lapses, resignations and income), on screen and as CSV.

use crate::components::PageShell;
use crate::components::PageTitle;
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TradeLineDto {
    pub category: String,
    pub joined: u64,
    pub renewed: u64,
    pub adjusted: u64,
    pub reinstated: u64,
    pub lapsed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TradeDto {
    /// `YYYY-MM-DD` of the Monday, for the form and the CSV link.
    pub week: String,
    pub heading: String,
    pub previous: String,
    pub next: String,
    pub lines: Vec<TradeLineDto>,
    pub totals: TradeLineDto,
    pub resigned: u64,
    pub income: Vec<(String, String)>,
    pub refunds: String,
    pub net: String,
}

#[server(prefix = "/fn", endpoint = "trade-report")]
pub async fn trade_report(week: String) -> Result<TradeDto, AppError> {
    use guildhall::domain::Permission;
    use guildhall::service::trends;
    let actor = crate::ctx::require(Permission::ViewReports)?;
    let st = crate::ctx::state()?;
    let day = trends::parse_week(&week)?;
    let r = trends::trade_report(&st.db, &actor, day).await?;
    let line = |l: &trends::TradeLine| TradeLineDto {
        category: l.category.clone(),
        joined: l.joined,
        renewed: l.renewed,
        adjusted: l.adjusted,
        reinstated: l.reinstated,
        lapsed: l.lapsed,
    };
    let d = crate::format::long_date;
    Ok(TradeDto {
        week: r.from.format("%Y-%m-%d").to_string(),
        heading: format!("Trade Report: {} to {}", d(r.from), d(r.to)),
        previous: (r.from - chrono::Duration::days(7))
            .format("%Y-%m-%d")
            .to_string(),
        next: (r.from + chrono::Duration::days(7))
            .format("%Y-%m-%d")
            .to_string(),
        lines: r.lines.iter().map(line).collect(),
        totals: line(&r.totals),
        resigned: r.resigned,
        income: r
            .income
            .iter()
            .map(|(l, m)| ((*l).to_owned(), m.to_string()))
            .collect(),
        refunds: r.refunds.to_string(),
        net: r.net.to_string(),
    })
}

#[component]
pub fn TradeReportPage() -> impl IntoView {
    let q = use_query_map();
    let week = move || q.read().get("week").unwrap_or_default();
    let data = Resource::new(week, trade_report);
    let initial = q.read_untracked().get("week").unwrap_or_default();
    view! {
        <PageTitle text="Trade Report"/>
        <h1 class="heading-l">"Trade Report"</h1>
        <form method="get" action="/staff/reports/trade" class="filters">
            <div class="field field--inline">
                <label class="label" for="week">"Week containing"</label>
                <input class="input input--w10" id="week" name="week" type="date" value=initial/>
            </div>
            <button type="submit" class="button button--secondary">"Show the week"</button>
        </form>
        <PageShell data=data transition=true ready={move |t: TradeDto| view! {
                <h2 class="heading-m" data-testid="trade-heading">{t.heading.clone()}</h2>
                <p class="body">
                    <a href=format!("/staff/reports/trade?week={}", t.previous)>"Previous week"</a>" · "
                    <a href=format!("/staff/reports/trade?week={}", t.next)>"Next week"</a>" · "
                    <a href=format!("/staff/reports/trade.csv?week={}", t.week) download="">"Download as CSV"</a>
                </p>
                <table class="table table--numeric" data-testid="trade-memberships">
                    <caption class="table__caption">"Memberships by category"</caption>
                    <thead><tr><th scope="col">"Category"</th><th scope="col">"New"</th><th scope="col">"Renewals"</th><th scope="col">"Adjustments"</th><th scope="col">"Reinstatements"</th><th scope="col">"Lapses"</th></tr></thead>
                    <tbody>
                        {t.lines.iter().map(|l| view! {
                            <tr>
                                <th scope="row">{l.category.clone()}</th>
                                <td data-label="New">{l.joined}</td>
                                <td data-label="Renewals">{l.renewed}</td>
                                <td data-label="Adjustments">{l.adjusted}</td>
                                <td data-label="Reinstatements">{l.reinstated}</td>
                                <td data-label="Lapses">{l.lapsed}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                    <tfoot>
                        <tr>
                            <th scope="row">"All categories"</th>
                            <td data-label="New">{t.totals.joined}</td>
                            <td data-label="Renewals">{t.totals.renewed}</td>
                            <td data-label="Adjustments">{t.totals.adjusted}</td>
                            <td data-label="Reinstatements">{t.totals.reinstated}</td>
                            <td data-label="Lapses">{t.totals.lapsed}</td>
                        </tr>
                    </tfoot>
                </table>
                <p class="body" data-testid="trade-resigned">{format!("Resignations: {}", t.resigned)}</p>
                <table class="table table--numeric" data-testid="trade-income">
                    <caption class="table__caption">"Income"</caption>
                    <thead><tr><th scope="col">"Method"</th><th scope="col">"Amount"</th></tr></thead>
                    <tbody>
                        {t.income.iter().map(|(l, m)| view! { <tr><th scope="row">{l.clone()}</th><td data-label="Amount">{m.clone()}</td></tr> }).collect_view()}
                        <tr><th scope="row">"Refunds paid"</th><td data-label="Amount">{t.refunds.clone()}</td></tr>
                    </tbody>
                    <tfoot><tr><th scope="row">"Net"</th><td data-label="Amount">{t.net.clone()}</td></tr></tfoot>
                </table>
            }.into_any()}/>
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthDto {
    pub month: String,
    /// (this year, a year before) for joined, renewed, lapsed, resigned.
    pub figures: [(u64, u64); 4],
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoryRateDto {
    pub category: String,
    pub members_at_start: u64,
    pub renewed: u64,
    pub lapsed: u64,
    pub resigned: u64,
    pub renewal_rate: String,
    pub attrition: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendsDto {
    pub months: Vec<MonthDto>,
    pub since: String,
    pub categories: Vec<CategoryRateDto>,
}

#[server(prefix = "/fn", endpoint = "trends-report")]
pub async fn trends_report() -> Result<TrendsDto, AppError> {
    use guildhall::domain::Permission;
    use guildhall::service::trends;
    let actor = crate::ctx::require(Permission::ViewReports)?;
    let st = crate::ctx::state()?;
    let today = guildhall::service::today();
    let months = trends::monthly(&st.db, &actor, today, 12).await?;
    let since = today
        .checked_sub_months(chrono::Months::new(12))
        .unwrap_or(today)
        + chrono::Duration::days(1);
    let cats = trends::by_category(&st.db, &actor, since, today).await?;
    let pct = |p: Option<u64>| p.map_or("–".to_owned(), |p| format!("{p}%"));
    Ok(TrendsDto {
        months: months
            .iter()
            .map(|m| MonthDto {
                month: m.month.format("%B %Y").to_string(),
                figures: [
                    (m.joined, m.last_year[0]),
                    (m.renewed, m.last_year[1]),
                    (m.lapsed, m.last_year[2]),
                    (m.resigned, m.last_year[3]),
                ],
            })
            .collect(),
        since: crate::format::long_date(since),
        categories: cats
            .iter()
            .map(|c| CategoryRateDto {
                category: c.category.clone(),
                members_at_start: c.members_at_start,
                renewed: c.renewed,
                lapsed: c.lapsed,
                resigned: c.resigned,
                renewal_rate: pct(c.renewal_rate()),
                attrition: pct(c.attrition()),
            })
            .collect(),
    })
}

#[component]
pub fn TrendsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| trends_report());
    view! {
        <PageTitle text="Trends"/>
        <h1 class="heading-l">"Trends"</h1>
        <p class="body"><a href="/staff/reports/trends.csv" download="">"Download as CSV"</a></p>
        <PageShell data=data transition=true ready={move |t: TrendsDto| view! {
                <table class="table table--numeric" data-testid="trends-months">
                    <caption class="table__caption">"By month, against the same month last year"</caption>
                    <thead><tr><th scope="col">"Month"</th><th scope="col">"Joined"</th><th scope="col">"Renewed"</th><th scope="col">"Lapsed"</th><th scope="col">"Resigned"</th></tr></thead>
                    <tbody>
                        {t.months.iter().map(|m| view! {
                            <tr>
                                <th scope="row">{m.month.clone()}</th>
                                {["Joined", "Renewed", "Lapsed", "Resigned"].iter().zip(m.figures.iter()).map(|(label, (now, before))| view! {
                                    <td data-label=*label>{format!("{now} (last year {before})")}</td>
                                }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <table class="table table--numeric" data-testid="trends-categories">
                    <caption class="table__caption">{format!("Renewal rate and attrition by category since {}", t.since)}</caption>
                    <thead><tr><th scope="col">"Category"</th><th scope="col">"Members at start"</th><th scope="col">"Renewed"</th><th scope="col">"Lapsed"</th><th scope="col">"Resigned"</th><th scope="col">"Renewal rate"</th><th scope="col">"Attrition"</th></tr></thead>
                    <tbody>
                        {t.categories.iter().map(|c| view! {
                            <tr>
                                <th scope="row">{c.category.clone()}</th>
                                <td data-label="Members at start">{c.members_at_start}</td>
                                <td data-label="Renewed">{c.renewed}</td>
                                <td data-label="Lapsed">{c.lapsed}</td>
                                <td data-label="Resigned">{c.resigned}</td>
                                <td data-label="Renewal rate">{c.renewal_rate.clone()}</td>
                                <td data-label="Attrition">{c.attrition.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()}/>
    }
}
