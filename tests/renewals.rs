//! The renewal run: every member whose paid period ends within the window gets one renewal invoice and
//! one invitation; resigned members, unpaid periods and periods ending later get none; a second run
//! raises nothing; a run interrupted after some batches and run again completes without doubling. On
//! in-memory SQLite and, when `GUILDHALL_TEST_POSTGRES` is set, PostgreSQL.
#![cfg(feature = "testing")]

use chrono::{Duration, NaiveDate};
use guildhall::domain::{Actor, Role};
use guildhall::entity::{document, outbox_message, renewal};
use guildhall::service::{ledger, renewals};
use guildhall::testing::{databases, details, enrol, seed_categories, staff_person};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

/// Rene Wal`i`, a regular member from `starts`, paying the first invoice by `payment`.
async fn join(
    db: &DatabaseConnection,
    i: usize,
    starts: NaiveDate,
    payment: &str,
) -> guildhall::entity::member::Model {
    let details = details(
        "Rene",
        &format!("Wal{i}"),
        &format!("renew{i}@example.org"),
        "1 Renewal Row",
    );
    enrol(
        db,
        &staff_person(Role::Officer),
        "REG",
        starts,
        payment,
        details,
    )
    .await
}

async fn renewal_invoices(db: &DatabaseConnection) -> u64 {
    document::Entity::find()
        .filter(document::Column::Description.starts_with("Renewal:"))
        .count(db)
        .await
        .expect("n")
}

async fn invitations(db: &DatabaseConnection) -> u64 {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::Template.eq("renewal_invitation"))
        .count(db)
        .await
        .expect("n")
}

#[tokio::test]
async fn the_renewal_run_raises_each_renewal_once_and_only_for_paid_members_due() {
    for t in databases().await {
        let db = &t.db;
        seed_categories(db).await;
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        // Periods of a year: joined ~11 months ago, they end within 60 days.
        let due_start = as_of - Duration::days(340);
        let mut due = Vec::new();
        for i in 0..7 {
            due.push(join(db, i, due_start, "cheque").await);
        }
        let unpaid = join(db, 100, due_start, "unpaid").await;
        let later = join(db, 101, as_of - Duration::days(100), "cheque").await;
        let resigned = join(db, 102, due_start, "cheque").await;
        guildhall::service::members::changes::remove(
            db,
            &staff_person(Role::Officer),
            resigned.id,
            Some(guildhall::domain::membership::RemovalReason::Other),
            "Moved abroad",
        )
        .await
        .expect("removed");

        let report = renewals::run::run(db, &Actor::system("renewals"), as_of, 60, |_, _| {})
            .await
            .expect("run");
        assert_eq!(report.raised, 7, "{}: {report:?}", t.name);
        assert_eq!(renewal_invoices(db).await, 7);
        assert_eq!(invitations(db).await, 7);
        for m in &due {
            let r = renewal::Entity::find()
                .filter(renewal::Column::MemberId.eq(m.id))
                .all(db)
                .await
                .expect("q");
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].period_start, due_start + Duration::days(365));
            // Their first year was paid at joining: now they owe the renewal.
            assert_eq!(
                ledger::member_balance(db, m.id).await.expect("b").pence(),
                r[0].amount_pence
            );
        }
        for m in [&unpaid, &later, &resigned] {
            assert_eq!(
                renewal::Entity::find()
                    .filter(renewal::Column::MemberId.eq(m.id))
                    .count(db)
                    .await
                    .expect("n"),
                0,
                "{} was not due",
                m.email
            );
        }
        // A second run raises nothing.
        let again = renewals::run::run(db, &Actor::system("renewals"), as_of, 60, |_, _| {})
            .await
            .expect("again");
        assert_eq!((again.raised, again.already), (0, 7));
        assert_eq!(renewal_invoices(db).await, 7);
        assert_eq!(invitations(db).await, 7);
        assert!(ledger::unbalanced_transactions(db)
            .await
            .expect("check")
            .is_empty());
        // Invoice numbers stay sequential and unique.
        let mut numbers: Vec<String> = document::Entity::find()
            .all(db)
            .await
            .expect("docs")
            .into_iter()
            .filter(|d| d.kind == "invoice")
            .map(|d| d.number)
            .collect();
        let n = numbers.len();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), n);
        // Members cannot run it.
        assert!(renewals::run::run(
            db,
            &Actor::member(uuid::Uuid::now_v7(), "m@example.org"),
            as_of,
            60,
            |_, _| {}
        )
        .await
        .is_err());
        t.finish().await;
    }
}

/// A run that dies after its first batch (here: the progress callback panics, so the task ends with
/// that batch committed and the rest not written) and is run again leaves exactly one renewal invoice
/// and one invitation per member.
#[tokio::test]
async fn a_run_interrupted_between_batches_completes_on_the_next_run_without_doubling() {
    for t in databases().await {
        let db = t.db.clone();
        seed_categories(&db).await;
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let n = 420;
        for i in 0..n {
            join(&db, i, as_of - Duration::days(330), "complimentary").await;
        }
        let db2 = db.clone();
        let died = tokio::spawn(async move {
            renewals::run::run_in_batches(
                &db2,
                &Actor::system("renewals"),
                as_of,
                60,
                200,
                |done, _| {
                    assert!(done < 200, "simulated crash after the first batch");
                },
            )
            .await
        })
        .await;
        assert!(died.is_err(), "{}: the first run should have died", t.name);
        let part = renewal::Entity::find().count(&db).await.expect("n");
        assert!(
            part > 0 && part < n as u64,
            "{}: {part} raised before dying",
            t.name
        );
        let report = renewals::run::run(&db, &Actor::system("renewals"), as_of, 60, |_, _| {})
            .await
            .expect("rerun");
        assert_eq!(report.raised + report.already, n as u64);
        assert_eq!(
            renewal::Entity::find().count(&db).await.expect("n"),
            n as u64
        );
        assert_eq!(renewal_invoices(&db).await, n as u64);
        assert_eq!(invitations(&db).await, n as u64);
        t.finish().await;
    }
}
