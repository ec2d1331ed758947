//! Background work inside the server process: the outbox worker and the expired-session sweeper.

use crate::AppState;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Starts the workers. Fails (so the server does not start) when the mail settings are unusable.
pub fn spawn(state: &AppState, stop: watch::Receiver<bool>) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let mut out = Vec::new();
    let transport = guildhall::service::outbox::transport::try_transport_from_env()
        .map_err(|e| anyhow::anyhow!("mail settings: {e}"))?;
    {
        let db = state.server.db.clone();
        let wake = state.server.outbox_wake.clone();
        let stop = stop.clone();
        out.push(tokio::spawn(async move {
            let cfg = guildhall::service::outbox::delivery::WorkerConfig::default();
            guildhall::service::outbox::delivery::run(db, transport, cfg, wake, stop).await;
        }));
    }
    {
        // Authorised card refunds are passed to their provider (also straight after each approval).
        let db = state.server.db.clone();
        let providers = state.server.payments.clone();
        let mut stop = stop.clone();
        out.push(tokio::spawn(async move {
            loop {
                if let Err(e) =
                    guildhall::service::payments::card::process_refunds(&db, &providers).await
                {
                    tracing::warn!(error = ?e, "could not pass refunds to the provider");
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                    _ = stop.changed() => break,
                }
            }
        }));
    }
    if let Some(hour) = daily_job_hour() {
        // The daily membership job, once a day from `hour` o'clock London time (also if the server was
        // down then). Running it twice does nothing twice, so several nodes may race harmlessly.
        let db = state.server.db.clone();
        let provider = state.server.payments.active.clone();
        let mut stop = stop.clone();
        out.push(tokio::spawn(async move {
            loop {
                let now = guildhall::service::now();
                let local = now
                    + chrono::Duration::hours(if guildhall::domain::dates::is_bst(now) {
                        1
                    } else {
                        0
                    });
                let today = guildhall::domain::dates::london_date(now);
                if chrono::Timelike::hour(&local) >= hour {
                    match guildhall::service::jobs::started_for(
                        &db,
                        guildhall::entity::job::JobKind::Daily,
                        today,
                    )
                    .await
                    {
                        Ok(false) => {
                            if let Err(e) = guildhall::service::jobs::start(
                                &db,
                                &guildhall::domain::Actor::system("schedule"),
                                guildhall::entity::job::JobKind::Daily,
                                today,
                                Some(provider.clone()),
                            )
                            .await
                            {
                                tracing::warn!(error = ?e, "could not start the daily job");
                            }
                        }
                        Ok(true) => {}
                        Err(e) => tracing::warn!(error = ?e, "could not read the jobs"),
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(600)) => {}
                    _ = stop.changed() => break,
                }
            }
        }));
    }
    {
        let store = crate::session_store::DbStore::new(state.server.db.clone());
        let mut stop = stop;
        out.push(tokio::spawn(async move {
            loop {
                if let Err(e) = store.delete_expired().await {
                    tracing::warn!(error = %e, "could not delete expired sessions");
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(600)) => {}
                    _ = stop.changed() => break,
                }
            }
        }));
    }
    Ok(out)
}

/// The hour (London time) the daily job runs from: `GUILDHALL_DAILY_JOB_HOUR`, default 6; `off` stops
/// the schedule (the job can still be run from the Jobs page or `guildhall jobs daily`).
fn daily_job_hour() -> Option<u32> {
    match std::env::var("GUILDHALL_DAILY_JOB_HOUR") {
        Ok(v) if v.trim().eq_ignore_ascii_case("off") => None,
        Ok(v) => v.trim().parse().ok().filter(|h| *h < 24).or(Some(6)),
        Err(_) => Some(6),
    }
}
