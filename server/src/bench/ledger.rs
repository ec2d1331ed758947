//! `guildhall bench ledger`: ledger posting throughput, and the ledger's invariants afterwards.

use super::BenchDb;
use guildhall::domain::Actor;
use guildhall::entity::member;
use rand::{rngs::StdRng, Rng, SeedableRng};
use sea_orm::EntityTrait;
use std::time::Instant;

/// Random everyday postings against `members` members — invoices, card and bank payments, credit notes,
/// write-offs, refunds, and one in ten a repeated delivery of an earlier posting's key — in transactions
/// of 1,000; then checks that every transaction balances, all accounts sum to zero and each member's
/// balance is what the operations say. Prints the throughput and `invariants ok`.
pub async fn ledger(database_url: &str, ops: u64, members: u64) -> anyhow::Result<()> {
    use guildhall::domain::ledger::Account;
    use guildhall::domain::money::Money;
    use guildhall::service::ledger::{self, NewTransaction, Posted};
    use std::collections::HashMap;
    let bench = BenchDb::fresh(database_url).await?;
    let db = &bench.db;
    guildhall::service::seed::members(db, members, |_| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ids: Vec<uuid::Uuid> = member::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    anyhow::ensure!(!ids.is_empty(), "no members to post for");
    let actor = Actor::system("bench");
    let mut rng = StdRng::seed_from_u64(11);
    let mut expected: HashMap<uuid::Uuid, i64> = HashMap::new();
    let mut recent: Vec<NewTransaction> = Vec::new();
    let (mut done, mut posted, mut repeats) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    while done < ops {
        let txn = guildhall::service::begin(db).await?;
        for _ in 0..1_000.min(ops - done) {
            done += 1;
            if !recent.is_empty() && rng.gen_bool(0.1) {
                let again = recent[rng.gen_range(0..recent.len())].clone();
                let r = ledger::post(&txn, &actor, again)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                anyhow::ensure!(
                    matches!(r, Posted::Duplicate(_)),
                    "invariant broken: a repeated key posted twice"
                );
                repeats += 1;
                continue;
            }
            let m = ids[rng.gen_range(0..ids.len())];
            let (kind, delta, entries) = ledger::random_operation(&mut rng, m);
            let t = NewTransaction {
                idempotency_key: format!("bench-{done}"),
                kind,
                cause: format!("bench operation {done}"),
                member_id: Some(m),
                memo: None,
                entries,
                method: None,
                value_date: None,
            };
            let r = ledger::post(&txn, &actor, t.clone())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            anyhow::ensure!(
                matches!(r, Posted::New(_)),
                "invariant broken: a new key was taken as a repeat"
            );
            posted += 1;
            *expected.entry(m).or_default() += delta;
            if recent.len() < 10_000 {
                recent.push(t);
            } else {
                let k = rng.gen_range(0..recent.len());
                recent[k] = t;
            }
        }
        txn.commit().await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let unbalanced = ledger::unbalanced_transactions(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut total = Money::ZERO;
    for a in Account::ALL {
        let b = ledger::account_balance(db, a)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        total = total
            .checked_add(b)
            .ok_or_else(|| anyhow::anyhow!("totals overflow"))?;
    }
    let mut wrong = 0;
    for m in &ids {
        let got = ledger::member_balance(db, *m)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if got.pence() != expected.get(m).copied().unwrap_or(0) {
            wrong += 1;
        }
    }
    println!("ledger_operations {done} count");
    println!("ledger_postings {posted} count");
    println!("ledger_repeats_ignored {repeats} count");
    println!("ledger_seconds {secs:.1} s");
    println!("ledger_rate {:.0} ops/s", done as f64 / secs.max(1e-9));
    bench.drop_it().await;
    if !unbalanced.is_empty() || !total.is_zero() || wrong > 0 {
        anyhow::bail!(
            "invariant broken: {} unbalanced transactions, accounts total {total}, {wrong} member balances wrong",
            unbalanced.len()
        );
    }
    println!("invariants ok");
    Ok(())
}
