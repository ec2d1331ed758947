//! `guildhall bench dashboard`: dashboard tiles and reports over years of history.

use super::{percentile_ms, BenchDb};
use guildhall::domain::{Actor, ActorKind, Role};
use sea_orm::ConnectionTrait;
use std::time::{Duration, Instant};

/// Seeds `members` members with up to `years` years of history, then fetches each dashboard tile and
/// each report `runs` times as staff would, printing `<name>_p95 … ms` for each.
pub async fn dashboard(
    database_url: &str,
    members: u64,
    years: u32,
    runs: usize,
) -> anyhow::Result<()> {
    use guildhall::service::{dashboard, trends};
    let bench = BenchDb::fresh(database_url).await?;
    let db = &bench.db;
    let started = Instant::now();
    let mut last = 0;
    guildhall::service::seed::members(db, members, |done| {
        if done - last >= 100_000 || done == members {
            eprintln!("seeded {done}/{members} members");
            last = done;
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    guildhall::service::seed::history(db, years, |done| {
        if done % 100_000 == 0 {
            eprintln!("history for {done} members");
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("members {members} count");
    println!("seed_seconds {:.1} s", started.elapsed().as_secs_f64());
    // Fresh statistics (and, on PostgreSQL, the visibility map for index-only reads), as a database in
    // service has from its autovacuum.
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => db.execute_unprepared("VACUUM ANALYZE").await?,
        _ => db.execute_unprepared("ANALYZE").await?,
    };
    let today = guildhall::service::today();
    let finance = Actor {
        kind: ActorKind::Staff,
        user_id: Some(uuid::Uuid::now_v7()),
        label: "bench".into(),
        roles: vec![Role::Finance],
        request_id: None,
    };
    let mut failed = Vec::new();
    let mut time = |name: &str, mut times: Vec<Duration>| {
        times.sort();
        println!("{name}_p95 {:.1} ms", percentile_ms(&times, 95.0));
        if percentile_ms(&times, 95.0) > 50.0 {
            failed.push(name.to_owned());
        }
    };
    for name in dashboard::TILE_NAMES {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            dashboard::fetch_tile(db, name, today)
                .await
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            times.push(t.elapsed());
        }
        time(name, times);
    }
    macro_rules! report {
        ($name:expr, $call:expr) => {{
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs.max(1) {
                let t = Instant::now();
                $call.await.map_err(|e| anyhow::anyhow!("{}: {e}", $name))?;
                times.push(t.elapsed());
            }
            time($name, times);
        }};
    }
    report!("weekly_chart", trends::weekly(db, &finance, today, 52));
    report!("trade_report", trends::trade_report(db, &finance, today));
    report!("trends_by_month", trends::monthly(db, &finance, today, 12));
    report!(
        "rates_by_category",
        trends::by_category(db, &finance, today - chrono::Duration::days(364), today)
    );
    report!(
        "aged_debt",
        guildhall::service::money::reports::aged_debt(
            db,
            &finance,
            today,
            Some(guildhall::service::money::reports::AGED_DEBT_PAGE)
        )
    );
    bench.drop_it().await;
    if failed.is_empty() {
        println!("dashboard_under_50ms all");
    } else {
        println!("dashboard_over_50ms {} count", failed.len());
    }
    Ok(())
}
