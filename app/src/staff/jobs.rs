//! Jobs: staff start the renewal run or the daily membership job and watch it progress; the page shows
//! the latest jobs with their progress and result, and refreshes itself while one runs.

use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::PageShell;
use crate::components::{ErrorSummary, PageTitle, SubmitButton};
use guildhall::domain::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobRow {
    pub id: String,
    pub name: String,
    pub status: String,
    pub as_of: String,
    pub started: String,
    pub started_by: String,
    pub done: i64,
    pub total: i64,
    pub result: Option<String>,
    pub error: Option<String>,
}

#[server(prefix = "/fn", endpoint = "jobs-list")]
pub async fn jobs_list() -> Result<Vec<JobRow>, AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    Ok(guildhall::service::jobs::list(&st.db, &actor)
        .await?
        .into_iter()
        .map(|j| JobRow {
            id: j.id.to_string(),
            name: j.kind.label().to_owned(),
            status: j.status.as_str().to_owned(),
            as_of: crate::format::long_date(j.as_of),
            started: crate::format::staff_time(j.started_at),
            started_by: j.started_by,
            done: j.done,
            total: j.total,
            result: j.result,
            error: j.error,
        })
        .collect())
}

/// Starts a job (`renewals` or `daily`) for today.
#[server(prefix = "/fn", endpoint = "start-job")]
pub async fn start_job(kind: String) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    let kind = guildhall::entity::job::JobKind::parse(kind.trim())
        .ok_or_else(|| AppError::field("kind", "Choose a job to run"))?;
    guildhall::service::jobs::start(
        &st.db,
        &actor,
        kind,
        guildhall::service::today(),
        Some(st.payments.active.clone()),
    )
    .await?;
    leptos_axum::redirect("/staff/jobs");
    Ok(())
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let start = ServerAction::<StartJob>::new();
    let error = last_error(start);
    let data = Resource::new(move || start.version().get(), |_| jobs_list());
    let running = Memo::new(move |_| {
        data.get()
            .and_then(|r| r.ok())
            .is_some_and(|rows| rows.iter().any(|j| j.status == "running"))
    });
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                if running.get_untracked() {
                    data.refetch();
                }
            },
            std::time::Duration::from_millis(1000),
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    }
    view! {
        <PageTitle text="Jobs"/>
        <h1 class="heading-l">"Jobs"</h1>
        <p class="body">"The daily membership job runs the renewal window (renewal invoices and invitations for periods ending in the next 60 days), sends the renewal reminders that are due, and writes to members whose membership has moved into grace or lapsed. Each invoice and message is sent once, however often a job runs."</p>
        <ErrorSummary error/>
        <div class="button-group">
            <Form action=start>
                <input type="hidden" name="kind" value="daily"/>
                <SubmitButton label="Run the daily job now" pending=start.pending()/>
            </Form>
            <Form action=start>
                <input type="hidden" name="kind" value="renewals"/>
                <button type="submit" class="button button--secondary">"Run the renewal window only"</button>
            </Form>
        </div>
        <PageShell data=data ready={move |r: Vec<JobRow>| match r {
                rows if rows.is_empty() => view! { <p class="body">"No jobs have run yet."</p> }.into_any(),
                rows => view! {
                    {running.get().then(|| view! { <p class="body" role="status">"A job is running: this page updates as it goes. " <a href="/staff/jobs">"Refresh"</a></p> })}
                    <div class="table-wrap" role="region" aria-label="Latest jobs" tabindex="0">
                        <table class="table">
                            <caption class="visually-hidden">"Latest jobs"</caption>
                            <thead><tr><th scope="col">"Job"</th><th scope="col">"Started"</th><th scope="col">"Status"</th><th scope="col">"Progress"</th><th scope="col">"Result"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|j| {
                                    let pct = if j.total > 0 { (j.done * 100 / j.total).clamp(0, 100) } else if j.status == "done" { 100 } else { 0 };
                                    let progress_label = format!("{} of {}", j.done, j.total);
                                    view! {
                                        <tr data-testid="job-row">
                                            <td>{j.name.clone()}<br/><span class="hint">{format!("as of {}", j.as_of)}</span></td>
                                            <td>{j.started.clone()}<br/><span class="hint">{j.started_by.clone()}</span></td>
                                            <td><strong class=match j.status.as_str() { "done" => "tag tag--green", "failed" => "tag tag--red", _ => "tag tag--blue" }>{match j.status.as_str() { "done" => "Finished", "failed" => "Failed", _ => "Running" }}</strong></td>
                                            <td><progress max="100" value=pct.to_string() aria-label=format!("{} progress", j.name)>{format!("{pct}%")}</progress><br/><span class="hint">{progress_label}</span></td>
                                            <td>{j.result.clone().or(j.error.clone()).unwrap_or_default()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}/>
    }
}
