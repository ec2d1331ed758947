//! The live staff dashboard (`/staff`): members by status, joiners this week, renewals due, the renewal
//! rate against last year, income this month by method, what members owe, requests awaiting a second
//! person and failed e-mails. The page listens to the staff event stream (`/staff/events`) and fetches
//! the figures again the moment something changes; when the stream drops, the browser reconnects and
//! the server's `resync` makes the page catch up. Without JavaScript the page is simply current when
//! loaded. Each tile links to the list behind it (`/staff/members/list?which=…` for member lists).

use crate::components::PageShell;
use crate::components::{PageTitle, Pagination};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// One tile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tile {
    /// For tests and styling: `income`, `outstanding`, `status-active`…
    pub id: String,
    pub label: String,
    pub figure: String,
    pub detail: Vec<String>,
    /// The list behind it, when the caller may open it.
    pub href: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardDto {
    pub as_of: String,
    pub statuses: Vec<Tile>,
    pub tiles: Vec<Tile>,
    /// The last 52 weeks, for the chart.
    pub weeks: Vec<WeekDto>,
}

#[server(prefix = "/fn", endpoint = "dashboard")]
pub async fn dashboard() -> Result<DashboardDto, AppError> {
    use guildhall::domain::Permission;
    use guildhall::service::dashboard::{self, List};
    let actor = crate::ctx::require(Permission::StaffArea)?;
    let st = crate::ctx::state()?;
    let today = guildhall::service::today();
    let t = dashboard::tiles(&st.db, &actor, today).await?;
    let d = crate::format::long_date;
    let members = actor.can(Permission::ViewMembers);
    let list = |l: List| members.then(|| format!("/staff/members/list?which={}", l.key()));
    let reports = actor.can(Permission::ViewReports);
    let statuses = t
        .by_status
        .iter()
        .map(|(s, n)| {
            let key = List::Status(*s).key();
            Tile {
                id: key.replace([':', '_'], "-"),
                label: s.label().to_owned(),
                figure: n.to_string(),
                detail: vec![],
                href: list(List::Status(*s)),
            }
        })
        .collect();
    let rate = |r: &dashboard::Rate| match r.percent() {
        Some(p) => format!("{p}% ({} of {})", r.renewed, r.due),
        None => "none due".to_owned(),
    };
    let month_from = today.format("%Y-%m-01").to_string();
    let tiles = vec![
        Tile {
            id: "joiners".into(),
            label: "Joined this week".into(),
            figure: t.joiners_this_week.to_string(),
            detail: vec![format!("Since Monday {}", d(t.week_from))],
            href: list(List::JoinedThisWeek),
        },
        Tile {
            id: "renewals-due".into(),
            label: "Renewals due in 30 days".into(),
            figure: t.renewals_due_30.to_string(),
            detail: vec!["Memberships ending, not yet renewed".into()],
            href: list(List::RenewalsDue),
        },
        Tile {
            id: "renewal-rate".into(),
            label: "Renewal rate this month".into(),
            figure: t
                .renewal_rate
                .percent()
                .map_or("–".to_owned(), |p| format!("{p}%")),
            detail: vec![
                format!("This month so far: {}", rate(&t.renewal_rate)),
                format!("Same days last year: {}", rate(&t.renewal_rate_last_year)),
            ],
            href: list(List::NotRenewed),
        },
        Tile {
            id: "income".into(),
            label: "Income this month".into(),
            figure: t.income_total.to_string(),
            detail: t
                .income_by_method
                .iter()
                .map(|(_, label, m)| format!("{label}: {m}"))
                .collect(),
            href: reports.then(|| {
                format!(
                    "/staff/reports/transactions?from={month_from}&to={}",
                    today.format("%Y-%m-%d")
                )
            }),
        },
        Tile {
            id: "outstanding".into(),
            label: "Owed by members".into(),
            figure: t.outstanding.to_string(),
            detail: vec![match t.members_owing {
                1 => "1 member with open invoices".to_owned(),
                n => format!("{n} members with open invoices"),
            }],
            href: reports.then(|| "/staff/reports/aged-debt".to_owned()),
        },
        Tile {
            id: "requests".into(),
            label: "Requests to authorise".into(),
            figure: t.requests_waiting.to_string(),
            detail: vec!["Refunds, invoices, credit notes, write-offs".into()],
            href: (actor.can(Permission::AuthoriseRequests)
                || actor.can(Permission::RaiseRequests))
            .then(|| "/staff/payments/requests".to_owned()),
        },
        Tile {
            id: "outbox-failed".into(),
            label: "Emails that failed".into(),
            figure: t.outbox_failed.to_string(),
            detail: vec![],
            href: actor
                .can(Permission::ViewOutbox)
                .then(|| "/staff/outbox?status=failed".to_owned()),
        },
    ];
    // One server function for the whole page: the figures and the chart come in one fetch.
    let weeks = guildhall::service::trends::weekly(&st.db, &actor, today, 52)
        .await?
        .into_iter()
        .map(|w| WeekDto {
            from: w.from.format("%-d %b %Y").to_string(),
            joined: w.joined,
            renewed: w.renewed,
            lapsed: w.lapsed,
            resigned: w.resigned,
        })
        .collect();
    Ok(DashboardDto {
        as_of: d(today),
        statuses,
        tiles,
        weeks,
    })
}

#[component]
fn TileView(tile: Tile) -> impl IntoView {
    let testid = format!("tile-{}", tile.id);
    let inner = view! {
        <span class="tile__figure">{tile.figure.clone()}</span>
        <span class="tile__label">{tile.label.clone()}</span>
        {tile.detail.iter().map(|l| view! { <span class="tile__detail">{l.clone()}</span> }).collect_view()}
    };
    match tile.href {
        Some(h) => view! { <li class="tile" data-testid=testid><a class="tile__link" href=h>{inner}</a></li> }.into_any(),
        None => view! { <li class="tile" data-testid=testid>{inner}</li> }.into_any(),
    }
}

/// Whether the page is hearing the event stream (set only in the browser).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Live {
    /// Not connected (yet): the figures are as loaded.
    Off,
    On,
    Reconnecting,
}

#[component]
pub fn StaffHome() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let live = RwSignal::new(Live::Off);
    let data = Resource::new(move || version.get(), |_| dashboard());
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{closure::Closure, JsCast};
        if let Ok(es) = web_sys::EventSource::new("/staff/events") {
            // Any change, or a resync after a gap: fetch the figures again.
            let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |_: web_sys::MessageEvent| {
                    live.set(Live::On);
                    version.update(|n| *n = n.wrapping_add(1));
                },
            );
            let on_ready = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |_: web_sys::MessageEvent| live.set(Live::On),
            );
            let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
                live.set(Live::Reconnecting)
            });
            let _ =
                es.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
            let _ =
                es.add_event_listener_with_callback("resync", on_change.as_ref().unchecked_ref());
            let _ = es.add_event_listener_with_callback("ready", on_ready.as_ref().unchecked_ref());
            es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            let stored = StoredValue::new_local((es, on_change, on_ready, on_error));
            on_cleanup(move || stored.with_value(|(es, ..)| es.close()));
        }
    }
    view! {
        <PageTitle text="Overview"/>
        <h1 class="heading-l">"Overview"</h1>
        <p class="body small" role="status" data-testid="live-state">{move || match live.get() {
            Live::On => "Live: the figures change as soon as anything changes.",
            Live::Reconnecting => "Reconnecting… the figures will catch up.",
            Live::Off => "The figures are as of when the page loaded.",
        }}</p>
        <PageShell data=data transition=true ready={move |o: DashboardDto| view! {
                <h2 class="heading-m">"Members by status"</h2>
                <ul class="tiles">{o.statuses.into_iter().map(|t| view! { <TileView tile=t/> }).collect_view()}</ul>
                <h2 class="heading-m">"Today"</h2>
                <ul class="tiles">{o.tiles.into_iter().map(|t| view! { <TileView tile=t/> }).collect_view()}</ul>
                <p class="body small">{format!("Figures for {}.", o.as_of)}</p>
                <h2 class="heading-m">"The last 52 weeks"</h2>
                <WeeklyChart weeks=o.weeks/>
            }.into_any()}/>
    }
}

/// A page of a list behind a tile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberListDto {
    pub title: String,
    pub total: u64,
    pub page: u64,
    pub has_next: bool,
    pub rows: Vec<super::members::SearchRow>,
}

#[server(prefix = "/fn", endpoint = "member-list")]
pub async fn member_list(which: String, page: u64) -> Result<MemberListDto, AppError> {
    use guildhall::domain::Permission;
    use guildhall::service::dashboard::{self, List, LIST_PAGE};
    let actor = crate::ctx::require(Permission::ViewMembers)?;
    let st = crate::ctx::state()?;
    let list = List::parse(which.trim()).ok_or(AppError::NotFound)?;
    let page = guildhall::domain::paging::clamp(page);
    let (total, members) = dashboard::member_list(
        &st.db,
        &actor,
        list,
        guildhall::service::today(),
        page.saturating_add(1),
    )
    .await?;
    let cats = guildhall::entity::category::by_id(&st.db).await?;
    Ok(MemberListDto {
        title: list.title(),
        total,
        page,
        has_next: guildhall::domain::paging::has_next(page, LIST_PAGE, total),
        rows: members
            .into_iter()
            .map(|m| super::members::SearchRow {
                number: crate::record::number(m.membership_number),
                name: crate::record::display_name(&m),
                category: cats
                    .get(&m.category_id)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                email: m.email,
                postcode: m.postcode.unwrap_or_default(),
                town: m.town,
            })
            .collect(),
    })
}

#[component]
pub fn MemberListPage() -> impl IntoView {
    let q = use_query_map();
    let which = move || q.read().get("which").unwrap_or_default();
    let page = move || guildhall::domain::paging::parse(q.read().get("page").as_deref());
    let data = Resource::new(move || (which(), page()), |(w, p)| member_list(w, p));
    view! {
        <PageTitle text="Members"/>
        <p class="back-link"><a href="/staff">"Back to the overview"</a></p>
        <PageShell data=data transition=true ready={move |l: MemberListDto| {
                let w = which();
                let link = move |n: u64| format!("/staff/members/list?which={}&page={n}", crate::format::urlencode(&w));
                view! {
                    <h1 class="heading-l">{l.title.clone()}</h1>
                    <p class="body" role="status">{match l.total { 0 => "No members.".to_owned(), 1 => "1 member.".to_owned(), n => format!("{n} members.") }}</p>
                    {(!l.rows.is_empty()).then(|| view! {
                        <table class="table">
                            <caption class="visually-hidden">{l.title.clone()}</caption>
                            <thead><tr><th scope="col">"Number"</th><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Postcode"</th><th scope="col">"Category"</th></tr></thead>
                            <tbody>
                                {l.rows.iter().map(|m| {
                                    let href = format!("/staff/members/{}", m.number);
                                    view! {
                                        <tr>
                                            <td data-label="Number"><a href=href.clone()>{m.number.clone()}</a></td>
                                            <td data-label="Name"><a href=href>{m.name.clone()}</a></td>
                                            <td data-label="Email">{m.email.clone()}</td>
                                            <td data-label="Postcode">{m.postcode.clone()}</td>
                                            <td data-label="Category">{m.category.clone()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    })}
                    <Pagination page=l.page has_next=l.has_next href=link/>
                }.into_any()
            }}/>
    }
}

/// One week of the chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeekDto {
    /// Monday, e.g. "17 Nov 2025".
    pub from: String,
    pub joined: u64,
    pub renewed: u64,
    pub lapsed: u64,
    pub resigned: u64,
}

/// A series of the chart: label, class suffix, value of a week.
type Series = (&'static str, &'static str, fn(&WeekDto) -> u64);

/// The series of the chart.
const SERIES: [Series; 4] = [
    ("Joined", "joined", |w| w.joined),
    ("Renewed", "renewed", |w| w.renewed),
    ("Lapsed", "lapsed", |w| w.lapsed),
    ("Resigned", "resigned", |w| w.resigned),
];

/// Points of a polyline for `values` in a `w` × `h` box.
fn points(values: &[u64], max: u64, w: f64, h: f64) -> String {
    // Drawing coordinates only: no money here.
    let n = values.len().max(2) - 1;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = (i as f64) * w / (n as f64);
            let y = h - (*v as f64) * h / (max.max(1) as f64);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The last 52 weeks as a server-rendered SVG line chart (no JavaScript needed) with the same figures
/// in a table.
#[component]
pub fn WeeklyChart(weeks: Vec<WeekDto>) -> impl IntoView {
    const W: f64 = 720.0;
    const H: f64 = 200.0;
    let max = weeks
        .iter()
        .flat_map(|w| SERIES.iter().map(move |(_, _, f)| f(w)))
        .max()
        .unwrap_or(0);
    let first = weeks.first().map(|w| w.from.clone()).unwrap_or_default();
    let last = weeks.last().map(|w| w.from.clone()).unwrap_or_default();
    let totals: Vec<(&str, u64)> = SERIES
        .iter()
        .map(|(label, _, f)| (*label, weeks.iter().map(f).sum()))
        .collect();
    let desc = format!(
        "Weekly figures from the week of {first} to the week of {last}: {}. The highest weekly figure is {max}.",
        totals
            .iter()
            .map(|(l, n)| format!("{l} {n} in all"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    view! {
        <figure class="chart">
            <svg class="chart__svg" viewBox="-40 -10 780 240" role="img" aria-labelledby="chart-title chart-desc" data-testid="weekly-chart">
                <title id="chart-title">"Joiners, renewals, lapses and resignations, last 52 weeks"</title>
                <desc id="chart-desc">{desc}</desc>
                <line class="chart__axis" x1="0" y1=H.to_string() x2=W.to_string() y2=H.to_string()/>
                <line class="chart__axis" x1="0" y1="0" x2="0" y2=H.to_string()/>
                <text class="chart__tick" x="-6" y="4" text-anchor="end">{max.to_string()}</text>
                <text class="chart__tick" x="-6" y=H.to_string() text-anchor="end">"0"</text>
                <text class="chart__tick" x="0" y="222">{first.clone()}</text>
                <text class="chart__tick" x=W.to_string() y="222" text-anchor="end">{last.clone()}</text>
                {SERIES.iter().map(|(_, class, f)| {
                    let values: Vec<u64> = weeks.iter().map(f).collect();
                    view! { <polyline class=format!("chart__line chart__line--{class}") points=points(&values, max, W, H)/> }
                }).collect_view()}
            </svg>
            <figcaption>
                <ul class="chart__legend">
                    {totals.iter().zip(SERIES.iter()).map(|((label, n), (_, class, _))| view! {
                        <li><span class=format!("chart__key chart__key--{class}") aria-hidden="true"></span>{format!("{label}: {n} in 52 weeks")}</li>
                    }).collect_view()}
                </ul>
            </figcaption>
        </figure>
        <details class="details">
            <summary class="details__summary">"The figures as a table"</summary>
            <table class="table table--numeric" data-testid="weekly-table">
                <caption class="visually-hidden">"Joiners, renewals, lapses and resignations by week"</caption>
                <thead><tr><th scope="col">"Week of"</th><th scope="col">"Joined"</th><th scope="col">"Renewed"</th><th scope="col">"Lapsed"</th><th scope="col">"Resigned"</th></tr></thead>
                <tbody>
                    {weeks.into_iter().map(|w| view! {
                        <tr>
                            <th scope="row">{w.from.clone()}</th>
                            <td data-label="Joined">{w.joined}</td>
                            <td data-label="Renewed">{w.renewed}</td>
                            <td data-label="Lapsed">{w.lapsed}</td>
                            <td data-label="Resigned">{w.resigned}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
    }
}
