//! The staff dashboard's figures against the same figures worked out independently, row by row, from
//! the raw tables (members' own histories, payments, invoices, requests, e-mails), on demo data plus 300
//! generated members with some activity this month; the lists behind the tiles; who may see them; and
//! a payment publishing an event that a stream subscribed on this node hears (on PostgreSQL through
//! NOTIFY and LISTEN). On SQLite and, when `GUILDHALL_TEST_POSTGRES` is set, PostgreSQL.
#![cfg(feature = "testing")]

use chrono::{Datelike, Duration};
use guildhall::domain::membership::Status;
use guildhall::domain::{Actor, AppError, Role};
use guildhall::entity::{
    document, member, membership_event, money_request, outbox_message, payment, period,
};
use guildhall::service::dashboard::{self, List, STATUS_ORDER};
use guildhall::service::events::{self, Topic};
use guildhall::service::payments::manual::ManualPaymentInput;
use guildhall::service::payments::requests;
use guildhall::service::seed;
use guildhall::testing::{databases, staff_actor, user_id, BASE};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::{HashMap, HashSet};
use std::time::Duration as StdDuration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_figures_match_the_raw_rows_and_a_payment_is_published() {
    for t in databases().await {
        let db = &t.db;
        seed::demo(db, BASE).await.expect("demo");
        seed::members(db, 300, |_| {}).await.expect("members");
        let today = guildhall::service::today();
        let officer = staff_actor(db, "officer@guildhall.test", Role::Officer).await;

        // Every node's events (PostgreSQL: LISTEN), then a subscriber like a stream.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        events::listen(db, stop_rx);
        tokio::time::sleep(StdDuration::from_millis(500)).await;
        let mut rx = events::subscribe();

        // Activity this month: cheques and transfers from a dozen members, and a refund request.
        let some: Vec<member::Model> = member::Entity::find()
            .all(db)
            .await
            .expect("members")
            .into_iter()
            .take(12)
            .collect();
        for (i, m) in some.iter().enumerate() {
            guildhall::service::payments::manual::record_manual_payment(
                db,
                &officer,
                m.id,
                &ManualPaymentInput {
                    method: if i % 3 == 0 {
                        "bank_transfer"
                    } else {
                        "cheque"
                    }
                    .into(),
                    reference: format!("REF{i}"),
                    amount: format!("{}.{:02}", 10 + i, i),
                    received_on: today.to_string(),
                    invoice: String::new(),
                    form_key: uuid::Uuid::now_v7().to_string(),
                },
                BASE,
            )
            .await
            .expect("payment");
        }
        let p = payment::Entity::find()
            .one(db)
            .await
            .expect("q")
            .expect("a payment");
        requests::raise(
            db,
            &officer,
            p.member_id,
            &requests::RequestInput {
                kind: "refund".into(),
                amount: "1".into(),
                reason: "Paid twice".into(),
                payment: p.id.to_string(),
                ..Default::default()
            },
        )
        .await
        .expect("request");

        // The payments were published and heard.
        let heard = tokio::time::timeout(StdDuration::from_secs(10), async {
            loop {
                match rx.recv().await {
                    Ok(c) if c.topic == Topic::Payments => return true,
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return false,
                }
            }
        })
        .await
        .unwrap_or(false);
        assert!(heard, "{}: a payment event reaches a subscriber", t.name);

        let tiles = dashboard::tiles(db, &officer, today).await.expect("tiles");

        // Members by status: each member's own history, one at a time.
        let mut expected: HashMap<Status, u64> = HashMap::new();
        let members = member::Entity::find()
            .filter(member::Column::PseudonymisedAt.is_null())
            .all(db)
            .await
            .expect("members");
        for m in &members {
            let h = guildhall::service::history::history(db, m.id)
                .await
                .expect("history");
            *expected
                .entry(guildhall::service::history::status_today(m, &h).status)
                .or_default() += 1;
        }
        for (s, n) in &tiles.by_status {
            assert_eq!(
                *n,
                expected.get(s).copied().unwrap_or(0),
                "{}: {s:?}",
                t.name
            );
        }
        assert_eq!(
            tiles.by_status.iter().map(|(_, n)| n).sum::<u64>(),
            members.len() as u64
        );
        assert!(
            expected.get(&Status::Active).copied().unwrap_or(0) > 0,
            "{}: the data has active members",
            t.name
        );

        // Joiners since Monday.
        let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        let joiners = members
            .iter()
            .filter(|m| m.joined_on >= monday && m.joined_on <= today)
            .count() as u64;
        assert_eq!(tiles.joiners_this_week, joiners, "{}", t.name);

        // Income this month by method, and in all.
        let first = today.with_day(1).expect("first");
        let mut income: HashMap<String, i64> = HashMap::new();
        for p in payment::Entity::find().all(db).await.expect("payments") {
            if p.direction == "in" && p.received_on >= first && p.received_on <= today {
                *income.entry(p.method).or_default() += p.amount_pence;
            }
        }
        for (method, _, amount) in &tiles.income_by_method {
            assert_eq!(
                amount.pence(),
                income.get(*method).copied().unwrap_or(0),
                "{}: {method}",
                t.name
            );
        }
        assert_eq!(tiles.income_total.pence(), income.values().sum::<i64>());
        assert!(tiles.income_total.pence() > 0);

        // What members owe on open invoices.
        let open: Vec<document::Model> = document::Entity::find()
            .filter(document::Column::Kind.eq("invoice"))
            .all(db)
            .await
            .expect("invoices")
            .into_iter()
            .filter(|d| d.outstanding_pence > 0)
            .collect();
        assert_eq!(
            tiles.outstanding.pence(),
            open.iter().map(|d| d.outstanding_pence).sum::<i64>(),
            "{}",
            t.name
        );
        assert_eq!(
            tiles.members_owing,
            open.iter()
                .map(|d| d.member_id)
                .collect::<HashSet<_>>()
                .len() as u64
        );

        // Requests and failed e-mails.
        let pending = money_request::Entity::find()
            .filter(money_request::Column::Status.eq("pending"))
            .count(db)
            .await
            .expect("n");
        assert_eq!(tiles.requests_waiting, pending, "{}", t.name);
        assert!(pending >= 1);
        let failed = outbox_message::Entity::find()
            .filter(outbox_message::Column::Status.eq("failed"))
            .count(db)
            .await
            .expect("n");
        assert_eq!(tiles.outbox_failed, failed);

        // Renewals due in 30 days: last period ends in the next 30 days, not resigned or removed.
        let periods = period::Entity::find().all(db).await.expect("periods");
        let ended: HashSet<uuid::Uuid> = membership_event::Entity::find()
            .filter(membership_event::Column::Kind.is_in(["resigned", "removed"]))
            .all(db)
            .await
            .expect("events")
            .into_iter()
            .map(|e| e.member_id)
            .collect();
        let mut last_end: HashMap<uuid::Uuid, chrono::NaiveDate> = HashMap::new();
        for p in &periods {
            let e = last_end.entry(p.member_id).or_insert(p.end_on);
            if p.end_on > *e {
                *e = p.end_on;
            }
        }
        let due = last_end
            .iter()
            .filter(|(m, e)| {
                **e >= today && **e <= today + Duration::days(30) && !ended.contains(*m)
            })
            .count() as u64;
        assert_eq!(tiles.renewals_due_30, due, "{}", t.name);

        // The renewal rate: paid periods ended this month so far, and those with a later period.
        let ended_now: Vec<&period::Model> = periods
            .iter()
            .filter(|p| p.end_on >= first && p.end_on <= today && p.paid_state != "unpaid")
            .collect();
        let renewed = ended_now
            .iter()
            .filter(|e| {
                periods
                    .iter()
                    .any(|p| p.member_id == e.member_id && p.start_on > e.end_on)
            })
            .count() as u64;
        assert_eq!(
            (tiles.renewal_rate.due, tiles.renewal_rate.renewed),
            (ended_now.len() as u64, renewed),
            "{}",
            t.name
        );

        // The lists behind the tiles hold what the tiles count.
        for (s, n) in &tiles.by_status {
            let (total, page) = dashboard::member_list(db, &officer, List::Status(*s), today, 1)
                .await
                .expect("list");
            assert_eq!(total, *n, "{}: list of {s:?}", t.name);
            assert_eq!(page.len() as u64, (*n).min(dashboard::LIST_PAGE));
        }
        let (total, _) = dashboard::member_list(db, &officer, List::RenewalsDue, today, 1)
            .await
            .expect("list");
        assert_eq!(total, tiles.renewals_due_30);
        for s in STATUS_ORDER {
            assert_eq!(List::parse(&List::Status(s).key()), Some(List::Status(s)));
        }
        assert_eq!(List::parse("status:nonsense"), None);

        // Members see none of it.
        let me = Actor::member(user_id(db, seed::DEMO_MEMBER).await, seed::DEMO_MEMBER);
        assert!(matches!(
            dashboard::tiles(db, &me, today).await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            dashboard::member_list(db, &me, List::Status(Status::Active), today, 1).await,
            Err(AppError::Forbidden)
        ));

        let _ = stop_tx.send(true);
        tokio::time::sleep(StdDuration::from_millis(200)).await;
        t.finish().await;
    }
}
