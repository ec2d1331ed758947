//! The weekly Trade Report and the 52-week series against figures worked out in this test straight from
//! the raw rows (periods, events, payments), on 1,500 generated members with years of history plus a
//! resignation, a change of category and cheques in the week; the CSV as Excel wants it (byte-order
//! mark, CRLF); and who may read it. On SQLite and, when `GUILDHALL_TEST_POSTGRES` is set, PostgreSQL.
#![cfg(feature = "testing")]

use chrono::{Duration, NaiveDate};
use guildhall::domain::{AppError, Role};
use guildhall::entity::{category, member, membership_event, payment, period};
use guildhall::service::members::portal::{self, ResignWhen};
use guildhall::service::payments::manual::ManualPaymentInput;
use guildhall::service::seed;
use guildhall::service::trends::{self, monday};
use guildhall::testing::{account_member, databases, staff_actor, BASE};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
struct Counts {
    joined: u64,
    renewed: u64,
    adjusted: u64,
    reinstated: u64,
    lapsed: u64,
}

/// The report's lines worked out from the raw rows: each member's paid periods in order; the first is
/// new, one starting inside an earlier one an adjustment, one after the grace days a lapse and a
/// reinstatement, otherwise a renewal (dated when paid); and a lapse after the last period unless the
/// member left first. Only days from `from` to `upto` count.
fn expected(
    cats: &[category::Model],
    periods: &[period::Model],
    events: &[membership_event::Model],
    from: NaiveDate,
    upto: NaiveDate,
) -> HashMap<String, Counts> {
    let grace: HashMap<Uuid, i64> = cats
        .iter()
        .map(|c| (c.id, i64::from(c.grace_days)))
        .collect();
    let name: HashMap<Uuid, String> = cats.iter().map(|c| (c.id, c.name.clone())).collect();
    let left = |m: Uuid| {
        events
            .iter()
            .filter(|e| {
                e.member_id == m && (e.kind.as_str() == "resigned" || e.kind.as_str() == "removed")
            })
            .map(|e| e.effective_on.unwrap_or(e.on_date))
            .min()
    };
    let in_week = |d: NaiveDate| d >= from && d <= upto;
    let mut want: HashMap<String, Counts> = HashMap::new();
    let mut by_member: HashMap<Uuid, Vec<&period::Model>> = HashMap::new();
    for p in periods {
        by_member.entry(p.member_id).or_default().push(p);
    }
    for (m, ps) in &by_member {
        for (i, p) in ps.iter().enumerate() {
            if i == 0 {
                if in_week(p.start_on) {
                    want.entry(name[&p.category_id].clone()).or_default().joined += 1;
                }
                continue;
            }
            let last_end = ps[..i].iter().map(|q| q.end_on).max().expect("end");
            let last_cat = ps[..i]
                .iter()
                .rev()
                .find(|q| q.end_on == last_end)
                .map(|q| q.category_id)
                .expect("cat");
            let lapse_on = last_end + Duration::days(grace[&last_cat] + 1);
            if p.start_on <= last_end {
                if in_week(p.start_on) {
                    want.entry(name[&p.category_id].clone())
                        .or_default()
                        .adjusted += 1;
                }
            } else if p.start_on < lapse_on {
                if in_week(p.paid_on.unwrap_or(p.start_on)) {
                    want.entry(name[&p.category_id].clone())
                        .or_default()
                        .renewed += 1;
                }
            } else {
                if in_week(lapse_on) {
                    want.entry(name[&last_cat].clone()).or_default().lapsed += 1;
                }
                if in_week(p.start_on) {
                    want.entry(name[&p.category_id].clone())
                        .or_default()
                        .reinstated += 1;
                }
            }
        }
        let last_end = ps.iter().map(|q| q.end_on).max().expect("end");
        let last_cat = ps
            .iter()
            .rev()
            .find(|q| q.end_on == last_end)
            .map(|q| q.category_id)
            .expect("cat");
        let lapse_on = last_end + Duration::days(grace[&last_cat] + 1);
        if in_week(lapse_on) && left(*m).is_none_or(|d| d > lapse_on) {
            want.entry(name[&last_cat].clone()).or_default().lapsed += 1;
        }
    }
    want.retain(|_, c| *c != Counts::default());
    want
}

#[tokio::test]
async fn the_trade_report_matches_the_raw_rows() {
    for t in databases().await {
        let db = &t.db;
        seed::demo(db, BASE).await.expect("demo");
        seed::members(db, 1_500, |_| {}).await.expect("members");
        let today = guildhall::service::today();
        // Up to five years of history each: mostly paid up, some lapsed, in grace or resigning.
        {
            let txn = guildhall::service::begin(db).await.expect("txn");
            let mut x: u64 = 0x2545_F491_4F6C_DD1D;
            for m in member::Entity::find().all(&txn).await.expect("members") {
                let has = period::Entity::find()
                    .filter(period::Column::MemberId.eq(m.id))
                    .one(&txn)
                    .await
                    .expect("q")
                    .is_some();
                if has {
                    continue;
                }
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let joined = today - Duration::days(i64::try_from(x % 1_826).unwrap_or(0));
                let shape = match (x >> 20) % 20 {
                    0..=13 => seed::Shape::Active,
                    14..=16 => seed::Shape::Lapsed,
                    17..=18 => seed::Shape::Grace,
                    _ => seed::Shape::Resigning,
                };
                seed::add_history(&txn, m.id, m.category_id, joined, today, shape, "card")
                    .await
                    .expect("history");
            }
            txn.commit().await.expect("commit");
        }
        let officer = staff_actor(db, "officer@guildhall.test", Role::Officer).await;
        let finance = staff_actor(db, "finance@guildhall.test", Role::Finance).await;

        // This week: the demo member resigns, an officer moves someone to another category, and
        // cheques come in.
        let (demo, demo_member) = account_member(db, seed::DEMO_MEMBER).await;
        portal::resign(
            db,
            &demo,
            demo_member.number(),
            Some(ResignWhen::PeriodEnd),
            BASE,
        )
        .await
        .expect("resign");
        let cats = category::Entity::find().all(db).await.expect("cats");
        let ret = cats.iter().find(|c| c.code == "RET").expect("retired");
        let mover = member::Entity::find()
            .all(db)
            .await
            .expect("members")
            .into_iter()
            .find(|m| {
                m.kind == "individual"
                    && m.category_id != ret.id
                    && m.membership_number != demo_member.membership_number
            })
            .expect("someone to move");
        let h = guildhall::service::history::history(db, mover.id)
            .await
            .expect("history");
        let covered = h
            .periods
            .iter()
            .any(|p| p.start_on <= today && today <= p.end_on && p.paid_state != "unpaid");
        guildhall::service::members::changes::change_category(
            db,
            &officer,
            mover.id,
            ret.id,
            "Retired from practice",
        )
        .await
        .expect("category");
        for i in 0..3 {
            guildhall::service::payments::manual::record_manual_payment(
                db,
                &officer,
                mover.id,
                &ManualPaymentInput {
                    method: "cheque".into(),
                    reference: format!("CHQ{i}"),
                    amount: "20.00".into(),
                    received_on: today.to_string(),
                    invoice: String::new(),
                    form_key: Uuid::now_v7().to_string(),
                },
                BASE,
            )
            .await
            .expect("cheque");
        }

        let mut periods: Vec<period::Model> = period::Entity::find()
            .all(db)
            .await
            .expect("periods")
            .into_iter()
            .filter(|p| p.paid_state != "unpaid")
            .collect();
        periods.sort_by_key(|p| (p.member_id, p.start_on, p.created_at));
        let events = membership_event::Entity::find()
            .all(db)
            .await
            .expect("events");
        let pays = payment::Entity::find().all(db).await.expect("payments");

        // Three weeks ago (a whole week; the generated renewals are paid 12 days ahead, so none are
        // paid in the last fortnight) and this week (with the changes above).
        let mut report = None;
        for day in [today - Duration::days(21), today] {
            let r = trends::trade_report(db, &finance, day)
                .await
                .expect("report");
            let (from, to) = (monday(day), monday(day) + Duration::days(6));
            assert_eq!((r.from, r.to), (from, to));
            let upto = std::cmp::Ord::min(to, today);
            let want = expected(&cats, &periods, &events, from, upto);
            let got: HashMap<String, Counts> = r
                .lines
                .iter()
                .map(|l| {
                    (
                        l.category.clone(),
                        Counts {
                            joined: l.joined,
                            renewed: l.renewed,
                            adjusted: l.adjusted,
                            reinstated: l.reinstated,
                            lapsed: l.lapsed,
                        },
                    )
                })
                .collect();
            assert_eq!(got, want, "{}: {from} to {to}", t.name);
            let sum = |f: fn(&Counts) -> u64| want.values().map(f).sum::<u64>();
            assert_eq!(r.totals.renewed, sum(|c| c.renewed));
            assert_eq!(r.totals.joined, sum(|c| c.joined));
            assert_eq!(r.totals.lapsed, sum(|c| c.lapsed));
            let resigned = events
                .iter()
                .filter(|e| e.kind.as_str() == "resigned" && e.on_date >= from && e.on_date <= upto)
                .count() as u64;
            assert_eq!(r.resigned, resigned, "{}", t.name);
            // Income in the week, by method, from the payments.
            for (label, amount) in &r.income {
                let method = guildhall::domain::payments::METHODS
                    .iter()
                    .find(|(_, l)| l == label)
                    .map(|(v, _)| *v)
                    .expect("method");
                let want: i64 = pays
                    .iter()
                    .filter(|p| {
                        p.direction == "in"
                            && p.method == method
                            && p.received_on >= from
                            && p.received_on <= to
                    })
                    .map(|p| p.amount_pence)
                    .sum();
                assert_eq!(amount.pence(), want, "{}: {label}", t.name);
            }
            if day < today {
                assert!(
                    r.totals.renewed > 0 && r.totals.lapsed > 0,
                    "{}: 1,500 members renew and lapse in any week: {:?}",
                    t.name,
                    r.totals
                );
            } else {
                assert!(resigned >= 1);
                assert!(r.net.pence() >= 6_000);
                if covered {
                    assert!(
                        got.get(&ret.name).is_some_and(|c| c.adjusted >= 1),
                        "{}: the change of category is an adjustment",
                        t.name
                    );
                }
                report = Some(r);
            }
        }
        let report = report.expect("this week");
        let from = report.from;

        // The CSV opens in Excel as it is.
        let csv = trends::trade_report_csv(&report).expect("csv");
        assert!(csv.starts_with(&[0xEF, 0xBB, 0xBF]));
        let text = String::from_utf8(csv[3..].to_vec()).expect("utf-8");
        assert!(text.contains("\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        assert!(text
            .contains("Category,New memberships,Renewals,Adjustments,Reinstatements,Lapses\r\n"));
        assert!(text.contains(&format!(
            "All categories,{},{},{},{},{}\r\n",
            report.totals.joined,
            report.totals.renewed,
            report.totals.adjusted,
            report.totals.reinstated,
            report.totals.lapsed
        )));

        // The 52-week series ends with this week's figures.
        let weeks = trends::weekly(db, &officer, today, 52)
            .await
            .expect("weekly");
        assert_eq!(weeks.len(), 52);
        let last = weeks.last().expect("this week");
        assert_eq!(last.from, from);
        assert_eq!(last.renewed, report.totals.renewed);
        assert_eq!(last.joined, report.totals.joined);
        assert_eq!(last.lapsed, report.totals.lapsed);
        assert_eq!(last.resigned, report.resigned);
        assert_eq!(weeks[0].from, from - Duration::weeks(51));

        // Trends by month: each month's figures are the movements dated in it, a year before too.
        let all = trends::movements(db, today).await.expect("movements");
        let months = trends::monthly(db, &finance, today, 24)
            .await
            .expect("monthly");
        assert_eq!(months.len(), 24);
        for m in &months {
            let count = |what: trends::Movement, month: NaiveDate| {
                all.iter()
                    .filter(|x| {
                        x.what == what
                            && x.on.format("%Y-%m").to_string() == month.format("%Y-%m").to_string()
                    })
                    .count() as u64
            };
            assert_eq!(
                m.renewed,
                count(trends::Movement::Renewed, m.month),
                "{}",
                t.name
            );
            assert_eq!(m.lapsed, count(trends::Movement::Lapsed, m.month));
            assert_eq!(m.joined, count(trends::Movement::Joined, m.month));
            assert_eq!(m.resigned, count(trends::Movement::Resigned, m.month));
            let before = m.month - chrono::Months::new(12);
            assert_eq!(m.last_year[1], count(trends::Movement::Renewed, before));
        }
        assert!(months.iter().map(|m| m.renewed).sum::<u64>() > 0);
        // Renewal rate and attrition by category over the year: the renewals and lapses add up.
        let since = today - Duration::days(364);
        let cats = trends::by_category(db, &finance, since, today)
            .await
            .expect("by category");
        let in_year = |what: trends::Movement| {
            all.iter()
                .filter(|x| x.what == what && x.on >= since && x.on <= today)
                .count() as u64
        };
        assert_eq!(
            cats.iter().map(|c| c.renewed).sum::<u64>(),
            in_year(trends::Movement::Renewed),
            "{}",
            t.name
        );
        assert_eq!(
            cats.iter().map(|c| c.lapsed).sum::<u64>(),
            in_year(trends::Movement::Lapsed)
        );
        assert!(cats
            .iter()
            .any(|c| c.renewal_rate().is_some() && c.attrition().is_some()));
        let csv = trends::trends_csv(&months, &cats).expect("csv");
        assert!(csv.starts_with(&[0xEF, 0xBB, 0xBF]));
        assert!(String::from_utf8_lossy(&csv).contains("Renewal rate %"));

        // Officers read the dashboard's chart, not the reports; members neither.
        assert!(matches!(
            trends::trade_report(db, &officer, today).await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            trends::weekly(db, &demo, today, 52).await,
            Err(AppError::Forbidden)
        ));
        t.finish().await;
    }
}
