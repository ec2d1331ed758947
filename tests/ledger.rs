//! The ledger in the database: transactions balance, a key posts once (also when two posts race), and a
//! long random sequence of everyday postings keeps debits = credits and every member's balance equal to
//! the sum of their entries. On in-memory SQLite, a SQLite file (for the race) and, when
//! `GUILDHALL_TEST_POSTGRES` is set, PostgreSQL.
#![cfg(feature = "testing")]

use guildhall::domain::ledger::{postings, Account, Entry};
use guildhall::domain::money::Money;
use guildhall::domain::{Actor, AppError};
use guildhall::entity::{ledger_entry, ledger_transaction, member};
use guildhall::service::ledger::{self, NewTransaction, Posted};
use guildhall::testing::{databases, details, enrol, seed_categories};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};
use std::collections::HashMap;
use uuid::Uuid;

fn system() -> Actor {
    Actor::system("test")
}

async fn members(db: &DatabaseConnection, n: usize) -> Vec<Uuid> {
    seed_categories(db).await;
    let officer = Actor {
        roles: vec![guildhall::domain::Role::Officer],
        kind: guildhall::domain::ActorKind::Staff,
        ..system()
    };
    let mut out = Vec::new();
    for i in 0..n {
        let details = details(
            "Lena",
            &format!("Ledger{i}"),
            &format!("ledger{i}@example.org"),
            "1 Count Street",
        );
        // No first invoice: each test's own postings are all a member's balance.
        let today = guildhall::service::today();
        let m = enrol(db, &officer, "REG", today, "complimentary", details).await;
        out.push(m.id);
    }
    out
}

fn tx(key: &str, kind: &'static str, member: Uuid, entries: Vec<Entry<Uuid>>) -> NewTransaction {
    NewTransaction {
        idempotency_key: key.into(),
        kind,
        cause: key.into(),
        member_id: Some(member),
        memo: None,
        entries,
        method: None,
        value_date: None,
    }
}

#[tokio::test]
async fn postings_balance_and_a_key_posts_once() {
    for t in databases().await {
        let db = &t.db;
        let ms = members(db, 2).await;
        let (a, b) = (ms[0], ms[1]);
        let invoice = postings::invoice(a, Money::from_pence(21_600), Money::from_pence(2_500));
        let first = ledger::post(db, &system(), tx("inv-1", "invoice", a, invoice.clone()))
            .await
            .expect("post");
        assert!(matches!(first, Posted::New(_)));
        let again = ledger::post(db, &system(), tx("inv-1", "invoice", a, invoice))
            .await
            .expect("post again");
        assert_eq!(again, Posted::Duplicate(first.id()));
        assert_eq!(
            ledger_transaction::Entity::find()
                .count(db)
                .await
                .expect("count"),
            1
        );
        assert_eq!(
            ledger_entry::Entity::find().count(db).await.expect("count"),
            4
        );
        assert_eq!(
            ledger::member_balance(db, a).await.expect("bal"),
            Money::from_pence(24_100)
        );
        assert_eq!(
            ledger::member_balance(db, b).await.expect("bal"),
            Money::ZERO
        );

        ledger::post(
            db,
            &system(),
            tx(
                "pay-1",
                "card_payment",
                a,
                postings::card_payment(a, Money::from_pence(24_100)),
            ),
        )
        .await
        .expect("pay");
        assert_eq!(
            ledger::member_balance(db, a).await.expect("bal"),
            Money::ZERO
        );
        assert_eq!(
            ledger::account_balance(db, Account::CardClearing)
                .await
                .expect("bal"),
            Money::from_pence(24_100)
        );
        let history = ledger::member_history(db, a, 50).await.expect("history");
        assert_eq!(history.len(), 2);
        assert!(history
            .iter()
            .any(|(t, moved)| t.kind == "card_payment" && *moved == Money::from_pence(-24_100)));

        // An unbalanced transaction is refused and writes nothing.
        let mut bad = postings::bank_payment(b, Money::from_pence(100));
        bad[0].amount = Money::from_pence(101);
        assert!(matches!(
            ledger::post(db, &system(), tx("bad-1", "bank_payment", b, bad)).await,
            Err(AppError::Conflict(_))
        ));
        assert_eq!(
            ledger_transaction::Entity::find()
                .count(db)
                .await
                .expect("count"),
            2
        );
        assert!(ledger::unbalanced_transactions(db)
            .await
            .expect("check")
            .is_empty());
        t.finish().await;
    }
}

/// 10,000 random postings (invoices, card and bank payments, credit notes, write-offs, refunds, and
/// deliveries repeated with the same key) keep the ledger balanced and each member's balance equal to
/// what the operations say.
#[tokio::test]
async fn ten_thousand_random_postings_keep_the_invariants() {
    for t in databases().await {
        let db = &t.db;
        let ms = members(db, 12).await;
        let mut rng = StdRng::seed_from_u64(20261122);
        let mut expected: HashMap<Uuid, i64> = HashMap::new();
        let mut posted = 0u64;
        let mut keys: Vec<(String, &'static str, Uuid, Vec<Entry<Uuid>>)> = Vec::new();
        let ops = 10_000;
        let batch = 500;
        let mut i = 0;
        while i < ops {
            let txn = db.begin().await.expect("begin");
            for _ in 0..batch {
                i += 1;
                // One in ten repeats an earlier posting with its key: it must change nothing.
                if !keys.is_empty() && rng.gen_bool(0.1) {
                    let (key, kind, m, entries) = keys[rng.gen_range(0..keys.len())].clone();
                    let r = ledger::post(&txn, &system(), tx(&key, kind, m, entries))
                        .await
                        .expect("repeat");
                    assert!(
                        matches!(r, Posted::Duplicate(_)),
                        "a repeated key posted again"
                    );
                    continue;
                }
                let m = ms[rng.gen_range(0..ms.len())];
                let (kind, delta, entries) = ledger::random_operation(&mut rng, m);
                let key = format!("op-{i}");
                let r = ledger::post(&txn, &system(), tx(&key, kind, m, entries.clone()))
                    .await
                    .expect("post");
                assert!(matches!(r, Posted::New(_)));
                posted += 1;
                *expected.entry(m).or_default() += delta;
                keys.push((key, kind, m, entries));
            }
            txn.commit().await.expect("commit");
        }
        assert_eq!(
            ledger_transaction::Entity::find()
                .count(db)
                .await
                .expect("count"),
            posted
        );
        assert!(ledger::unbalanced_transactions(db)
            .await
            .expect("check")
            .is_empty());
        let mut all = Money::ZERO;
        for a in Account::ALL {
            all = all
                .checked_add(ledger::account_balance(db, a).await.expect("bal"))
                .expect("sum");
        }
        assert_eq!(all, Money::ZERO, "debits and credits differ");
        for m in &ms {
            assert_eq!(
                ledger::member_balance(db, *m).await.expect("bal").pence(),
                expected.get(m).copied().unwrap_or(0),
            );
        }
        t.finish().await;
    }
}

/// Eight concurrent posts with one key (a webhook delivered several times at once) write one transaction,
/// on a SQLite file with a pool of connections and on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_posts_with_one_key_write_once() {
    let mut dbs = vec![guildhall::testing::sqlite_file().await];
    if let Some(pg) = guildhall::testing::postgres().await {
        dbs.push(pg);
    }
    for t in dbs {
        let db = t.db.clone();
        let m = members(&db, 1).await[0];
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let txn = guildhall::service::begin(&db).await.expect("begin");
                let r = ledger::post(
                    &txn,
                    &system(),
                    tx(
                        "evt_same",
                        "card_payment",
                        m,
                        postings::card_payment(m, Money::from_pence(5_000)),
                    ),
                )
                .await
                .expect("post");
                txn.commit().await.expect("commit");
                r
            }));
        }
        let mut new = 0;
        for task in tasks {
            if matches!(task.await.expect("task"), Posted::New(_)) {
                new += 1;
            }
        }
        assert_eq!(new, 1, "{}: posted {new} times", t.name);
        assert_eq!(
            ledger_transaction::Entity::find()
                .count(&db)
                .await
                .expect("count"),
            1
        );
        assert_eq!(
            ledger::member_balance(&db, m).await.expect("bal"),
            Money::from_pence(-5_000)
        );
        let _ = member::Entity::find().count(&db).await;
        t.finish().await;
    }
}
