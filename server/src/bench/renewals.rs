//! `guildhall bench renewals`: the renewal run over members due to renew, and its memory.

use super::{peak_rss_mb, BenchDb};
use guildhall::domain::Actor;
use guildhall::entity::member;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::Instant;

/// Adds `members` members, each a current member whose latest, paid period ends within the 60 days
/// after `as_of` (spread evenly). Answers how many.
pub async fn seed_due(
    db: &sea_orm::DatabaseConnection,
    members: u64,
    as_of: chrono::NaiveDate,
) -> anyhow::Result<usize> {
    use guildhall::entity::{category, membership_event, period};
    use sea_orm::ActiveValue::Set;
    guildhall::service::seed::members(db, members, |_| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Everyone is a current member whose latest, paid period ends within the window.
    membership_event::Entity::delete_many().exec(db).await?;
    let reg = category::Entity::find()
        .filter(category::Column::Code.eq("REG"))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no REG category"))?;
    let ids: Vec<uuid::Uuid> = member::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let now = guildhall::service::now();
    for (n, chunk) in ids.chunks(1_000).enumerate() {
        let rows = chunk.iter().enumerate().map(|(i, id)| {
            let k = ((n * 1_000 + i) % 60) as i64;
            period::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                member_id: Set(*id),
                category_id: Set(reg.id),
                start_on: Set(as_of - chrono::Duration::days(365 - k)),
                end_on: Set(as_of + chrono::Duration::days(k)),
                paid_state: Set(guildhall::entity::period::PaidStatus::Paid),
                paid_on: Set(Some(as_of - chrono::Duration::days(365 - k))),
                mandate_active: Set(false),
                how_paid: Set(guildhall::domain::membership::HowPaid::Card),
                created_at: Set(now),
                created_by: Set("bench".into()),
            }
        });
        period::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    guildhall::service::summary::rebuild(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(ids.len())
}

/// Seeds `members` members whose paid period ends within the next 60 days, runs the renewal run twice
/// and prints its time, what the second run raised (must be 0) and the peak memory.
pub async fn renewals(database_url: &str, members: u64) -> anyhow::Result<()> {
    let bench = BenchDb::fresh(database_url).await?;
    let db = &bench.db;
    let as_of = guildhall::service::today();
    let n = seed_due(db, members, as_of).await?;
    eprintln!("seeded {n} members due");
    let actor = Actor::system("bench");
    let started = Instant::now();
    let first = guildhall::service::renewals::run::run(db, &actor, as_of, 60, |_, _| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let second = guildhall::service::renewals::run::run(db, &actor, as_of, 60, |_, _| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secs2 = started.elapsed().as_secs_f64();
    let unbalanced = guildhall::service::ledger::unbalanced_transactions(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("renewals_due {} count", first.due);
    println!("renewals_raised {} count", first.raised);
    println!("renewals_run {secs:.2} s");
    println!("renewals_second_run {secs2:.2} s");
    println!("renewals_second_run_invoices {} count", second.raised);
    println!("renewals_peak_rss {:.0} MB", peak_rss_mb());
    bench.drop_it().await;
    anyhow::ensure!(
        first.raised == first.due && second.raised == 0 && unbalanced.is_empty(),
        "invariant broken: raised {} of {} due, second run raised {}, {} unbalanced transactions",
        first.raised,
        first.due,
        second.raised,
        unbalanced.len()
    );
    println!("invariants ok");
    Ok(())
}
