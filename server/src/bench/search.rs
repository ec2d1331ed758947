//! `guildhall bench search`: how fast officers' member searches answer.

use super::{percentile_ms, staff_actor, BenchDb};
use guildhall::entity::member;
use rand::{rngs::StdRng, Rng, SeedableRng};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::time::Instant;

/// Seeds `members` members, then times `queries` searches of the kinds officers type: part of a
/// surname, a first name and part of a surname, a postcode, the start of an e-mail address, a number.
pub async fn search(database_url: &str, members: u64, queries: usize) -> anyhow::Result<()> {
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
    let seed_secs = started.elapsed().as_secs_f64();
    // Fresh statistics, as a database in service has.
    db.execute_unprepared("ANALYZE").await?;

    // Realistic queries, drawn from members that exist.
    let mut rng = StdRng::seed_from_u64(7);
    let mut typed = Vec::with_capacity(queries);
    let max = i64::try_from(members).unwrap_or(i64::MAX).max(1);
    while typed.len() < queries {
        let n = rng.gen_range(1..=max);
        let Some(m) = member::Entity::find()
            .filter(member::Column::MembershipNumber.eq(n))
            .one(db)
            .await?
        else {
            continue;
        };
        let cut = |s: &str, k: usize| s.chars().take(k).collect::<String>();
        let q = match rng.gen_range(0..100) {
            0..=39 => cut(&m.family_name, rng.gen_range(3..=6)),
            40..=59 => format!(
                "{} {}",
                m.given_name,
                cut(&m.family_name, rng.gen_range(2..=4))
            ),
            60..=74 => m.postcode.clone().unwrap_or_default(),
            75..=84 => cut(&m.email, rng.gen_range(4..=10)),
            _ => format!("GH{:07}", m.membership_number),
        };
        typed.push(q);
    }
    let actor = staff_actor();
    for q in typed.iter().take(50) {
        guildhall::service::members::search::search(db, &actor, q)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let mut times = Vec::with_capacity(typed.len());
    let mut empty: Vec<&str> = Vec::new();
    for q in &typed {
        let t = Instant::now();
        let hits = guildhall::service::members::search::search(db, &actor, q)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        times.push(t.elapsed());
        if hits.is_empty() {
            empty.push(q);
        }
    }
    times.sort();
    let count = sea_orm::PaginatorTrait::count(member::Entity::find(), db).await?;
    println!("members {count} count");
    println!("seed_seconds {seed_secs:.1} s");
    println!("search_queries {} count", times.len());
    println!("search_p50 {:.2} ms", percentile_ms(&times, 50.0));
    println!("search_p95 {:.2} ms", percentile_ms(&times, 95.0));
    println!("search_p99 {:.2} ms", percentile_ms(&times, 99.0));
    bench.drop_it().await;
    // Every query was made from a member that exists, so each must find at least one.
    if !empty.is_empty() {
        let shown: Vec<_> = empty.iter().take(10).map(|q| format!("{q:?}")).collect();
        anyhow::bail!(
            "invariant broken: {} searches for existing members found nothing, e.g. {}",
            empty.len(),
            shown.join(", ")
        );
    }
    Ok(())
}
