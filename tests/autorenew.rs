//! Automatic renewal by saved card, day by day with the daily job "as of" each day and the sandbox
//! provider: the advance notice at least 10 working days before the charge, once; a declined charge, a
//! fixed card and the renewal taken, with the new period; a card declined every time, capped retries
//! with a message each time, then suspension, and paying ends it. No renewal reminders go to members
//! renewing automatically until a charge is declined. On SQLite and, when `GUILDHALL_TEST_POSTGRES` is
//! set, PostgreSQL.
//!
//! The clock is moved with `service::travel_to`, which is process-wide: this file holds one test.
#![cfg(feature = "testing")]

use chrono::{Duration, NaiveDate};
use guildhall::domain::calendar::Calendar;
use guildhall::domain::membership::Status;
use guildhall::domain::Actor;
use guildhall::entity::{notice, renewal};
use guildhall::service::ledger;
use guildhall::service::money::providers::Sandbox;
use guildhall::testing::{daily, databases, periods_of, portal_member, sent, start_on, status};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

#[tokio::test]
async fn automatic_renewal_notices_charges_retries_suspends_and_recovers() {
    let sandbox = Sandbox {
        base_url: "http://127.0.0.1:3000".into(),
    };
    let system = Actor::system("webhook:sandbox");
    for t in databases().await {
        let db = &t.db;
        let joined = NaiveDate::from_ymd_opt(2027, 1, 11).expect("date");
        start_on(db, joined).await;
        let (fixer, fixer_actor) = portal_member(db, "Ari", "Fixer").await;
        let (stuck, stuck_actor) = portal_member(db, "Ari", "Stuck").await;
        for (m, a) in [(&fixer, &fixer_actor), (&stuck, &stuck_actor)] {
            guildhall::service::renewals::autorenew::set_auto_renew(
                db,
                a,
                m.number(),
                true,
                &sandbox,
            )
            .await
            .expect("on");
            // They paid with the card that attaches but whose later charges are declined.
            guildhall::service::renewals::autorenew::card_used(
                db,
                &system,
                m.id,
                "sandbox",
                "sbx_pm_0341",
                false,
            )
            .await
            .expect("card");
        }
        // Another member cannot turn it on for them.
        assert!(guildhall::service::renewals::autorenew::set_auto_renew(
            db,
            &stuck_actor,
            fixer.number(),
            false,
            &sandbox
        )
        .await
        .is_err());

        let ends = NaiveDate::from_ymd_opt(2028, 1, 10).expect("date");
        let renews = ends + Duration::days(1);
        let mut fixed = false;
        let mut day = ends - Duration::days(60);
        while day <= ends + Duration::days(20) {
            daily(db, day, Some(&sandbox)).await;
            if !fixed && sent(db, &fixer, "auto_renew_failed").await == 1 {
                // The member pays with a good card (the webhook saves it): tried again at the next run.
                guildhall::service::renewals::autorenew::card_used(
                    db,
                    &system,
                    fixer.id,
                    "sandbox",
                    "sbx_pm_4242",
                    false,
                )
                .await
                .expect("new card");
                fixed = true;
            }
            day += Duration::days(1);
        }
        assert!(
            fixed,
            "{}: the first charge should have been declined",
            t.name
        );

        // The notice: once each, at least 10 working days before the first charge, which was on the
        // renewal date.
        let cal = Calendar::default();
        for m in [&fixer, &stuck] {
            assert_eq!(sent(db, m, "auto_renew_notice").await, 1, "{}", t.name);
            assert_eq!(
                sent(db, m, "renewal_reminder").await,
                0,
                "{}: no reminder before a charge is declined",
                t.name
            );
            assert_eq!(sent(db, m, "renewal_invitation").await, 1);
            let n = notice::Entity::find()
                .filter(notice::Column::MemberId.eq(m.id))
                .filter(notice::Column::Key.eq(format!("autorenew-notice:{renews}")))
                .one(db)
                .await
                .expect("q")
                .expect("notice");
            assert!(
                cal.working_days_between(n.sent_on, renews) >= 10,
                "{}: notice on {} for {renews}",
                t.name,
                n.sent_on
            );
        }

        // The fixer: declined once, then charged on the new card; the new period follows the old.
        assert_eq!(sent(db, &fixer, "auto_renew_failed").await, 1);
        assert_eq!(sent(db, &fixer, "membership_suspended").await, 0);
        let periods = periods_of(db, fixer.id).await;
        assert_eq!(periods.len(), 2, "{}", t.name);
        assert!(periods
            .iter()
            .any(|p| p.start_on == renews && p.paid_state == "paid" && p.how_paid == "card"));
        assert_eq!(
            status(db, &fixer, ends + Duration::days(20)).await,
            Status::Active
        );
        assert_eq!(
            ledger::member_balance(db, fixer.id)
                .await
                .expect("b")
                .pence(),
            0
        );

        // The stuck member: three declines (two retry messages, then suspension), and nothing after.
        assert_eq!(sent(db, &stuck, "auto_renew_failed").await, 2, "{}", t.name);
        assert_eq!(sent(db, &stuck, "membership_suspended").await, 1);
        let r = renewal::Entity::find()
            .filter(renewal::Column::MemberId.eq(stuck.id))
            .one(db)
            .await
            .expect("q")
            .expect("renewal");
        assert_eq!(
            (r.status.as_str(), r.charge_attempts, r.next_charge_on),
            ("open", 3, None)
        );
        let suspended_on = renews + Duration::days(6);
        assert_eq!(status(db, &stuck, suspended_on).await, Status::Suspended);
        assert_eq!(
            status(db, &stuck, suspended_on - Duration::days(1)).await,
            Status::Grace
        );
        // They pay with a good card: taken at the next run, the period made, the suspension lifted.
        guildhall::service::renewals::autorenew::card_used(
            db,
            &system,
            stuck.id,
            "sandbox",
            "sbx_pm_4242",
            false,
        )
        .await
        .expect("new card");
        let next = ends + Duration::days(21);
        let report = daily(db, next, Some(&sandbox)).await;
        assert_eq!(report.auto_renew.charged, 1, "{}: {report:?}", t.name);
        assert_eq!(status(db, &stuck, next).await, Status::Active);
        assert_eq!(sent(db, &stuck, "membership_suspended").await, 1);
        // Turning it off stops the next year's charge being announced.
        guildhall::service::renewals::autorenew::set_auto_renew(
            db,
            &stuck_actor,
            stuck.number(),
            false,
            &sandbox,
        )
        .await
        .expect("off");
        let view = guildhall::service::renewals::autorenew::auto_renew(db, stuck.id, &sandbox)
            .await
            .expect("view");
        assert!(!view.on && view.available);
        assert!(ledger::unbalanced_transactions(db)
            .await
            .expect("check")
            .is_empty());
        guildhall::service::travel_home();
        t.finish().await;
    }
}
