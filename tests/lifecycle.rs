//! Time travel through the membership lifecycle with the daily job run "as of" each day: one member goes
//! active → invited → reminded → grace → lapsed → reinstated, with every period kept and every message
//! sent once however often the job runs; a member who pays in the window gets the new period at once
//! and no more reminders; resigning and changing category credit or re-price the open renewal. On
//! SQLite and, when `GUILDHALL_TEST_POSTGRES` is set, PostgreSQL.
//!
//! The clock is moved with `service::travel_to`, which is process-wide: this file holds one test.
#![cfg(feature = "testing")]

use chrono::{Duration, NaiveDate};
use guildhall::domain::membership::Status;
use guildhall::domain::Role;
use guildhall::entity::{category, document, member, notice, renewal};
use guildhall::service::renewals::offer::Offer;
use guildhall::service::{ledger, travel_to};
use guildhall::testing::{
    daily, databases, details, enrol, pay_by_cheque, periods_of, portal_member, sent, staff_person,
    start_on, status,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

/// An individual named Lee `name`, joined today in category `code`, paying by cheque.
async fn join(db: &DatabaseConnection, name: &str, code: &str) -> member::Model {
    let email = format!("{}@example.org", name.to_lowercase());
    let details = details("Lee", name, &email, "1 Lifecycle Lane");
    let by = staff_person(Role::Officer);
    enrol(
        db,
        &by,
        code,
        guildhall::service::today(),
        "cheque",
        details,
    )
    .await
}

async fn open_renewal(db: &DatabaseConnection, m: &member::Model) -> Option<renewal::Model> {
    renewal::Entity::find()
        .filter(renewal::Column::MemberId.eq(m.id))
        .filter(renewal::Column::Status.eq("open"))
        .one(db)
        .await
        .expect("q")
}

async fn invoice_of(db: &DatabaseConnection, r: &renewal::Model) -> document::Model {
    document::Entity::find_by_id(r.invoice_id.expect("invoice"))
        .one(db)
        .await
        .expect("q")
        .expect("invoice")
}

#[tokio::test]
async fn a_member_goes_through_the_lifecycle_day_by_day_and_every_message_is_sent_once() {
    for t in databases().await {
        let db = &t.db;
        let joined = NaiveDate::from_ymd_opt(2027, 1, 11).expect("date");
        start_on(db, joined).await;
        let (m, me) = portal_member(db, "Lee", "Cycle").await;
        let payer = join(db, "Payer", "REG").await;
        let (leaver, leaver_actor) = portal_member(db, "Lee", "Leaver").await;
        let mover = join(db, "Mover", "REG").await;
        // The first year ends the day before the anniversary.
        let ends = NaiveDate::from_ymd_opt(2028, 1, 10).expect("date");
        assert_eq!(status(db, &m, joined).await, Status::Active);

        // 61 days before: nothing yet.
        let r = daily(db, ends - Duration::days(61), None).await;
        assert_eq!(r.renewals.raised, 0, "{}", t.name);
        // 60 days before: the renewal is raised and the invitation queued (it stands for the −60 reminder).
        let r = daily(db, ends - Duration::days(60), None).await;
        assert_eq!(r.renewals.raised, 4, "{}: {r:?}", t.name);
        assert_eq!(r.reminders, 0);
        assert_eq!(sent(db, &m, "renewal_invitation").await, 1);
        // Run again the same day: nothing twice.
        let r = daily(db, ends - Duration::days(60), None).await;
        assert_eq!((r.renewals.raised, r.reminders), (0, 0));

        // The payer pays in the window: the new period exists at once, and reminders stop for them.
        let pr = open_renewal(db, &payer).await.expect("payer's renewal");
        pay_by_cheque(db, &payer, &invoice_of(db, &pr).await).await;
        let periods = periods_of(db, payer.id).await;
        assert_eq!(periods.len(), 2, "{}: both periods kept", t.name);
        assert!(periods
            .iter()
            .any(|p| p.start_on == ends + Duration::days(1) && p.paid_state == "paid"));
        assert_eq!(
            status(db, &payer, ends + Duration::days(40)).await,
            Status::Active
        );

        // The leaver resigns at period end: the renewal is credited, no reminders follow.
        guildhall::service::members::portal::resign(
            db,
            &leaver_actor,
            leaver.number(),
            Some(guildhall::service::members::portal::ResignWhen::PeriodEnd),
            "http://127.0.0.1:3000",
        )
        .await
        .expect("resigned");
        assert!(open_renewal(db, &leaver).await.is_none());
        assert_eq!(
            ledger::member_balance(db, leaver.id)
                .await
                .expect("b")
                .pence(),
            0,
            "{}: the leaver's renewal is credited",
            t.name
        );

        // The mover changes to Retired: the renewal is re-priced at the new fee.
        let ret = category::Entity::find()
            .filter(category::Column::Code.eq("RET"))
            .one(db)
            .await
            .expect("q")
            .expect("RET");
        guildhall::service::members::changes::change_category(
            db,
            &staff_person(Role::Officer),
            mover.id,
            ret.id,
            "Retired from practice",
        )
        .await
        .expect("moved");
        let mr = open_renewal(db, &mover).await.expect("mover's renewal");
        assert_eq!(mr.amount_pence, ret.annual_fee_pence);
        assert_eq!(mr.category_id, ret.id);
        assert_eq!(
            ledger::member_balance(db, mover.id)
                .await
                .expect("b")
                .pence(),
            ret.annual_fee_pence
        );

        // Reminders at −30, −7 and 0, each once.
        for (day, expected) in [(-30, 1), (-29, 1), (-7, 2), (0, 3), (0, 3)] {
            daily(db, ends + Duration::days(day), None).await;
            assert_eq!(
                sent(db, &m, "renewal_reminder").await,
                expected,
                "{}: reminders by day {day}",
                t.name
            );
        }
        assert_eq!(sent(db, &payer, "renewal_reminder").await, 0);
        assert_eq!(sent(db, &leaver, "renewal_reminder").await, 0);
        assert_eq!(sent(db, &mover, "renewal_reminder").await, 3);

        // The day after the end: grace, with its message, once.
        let r = daily(db, ends + Duration::days(1), None).await;
        assert!(r.grace >= 1, "{}: {r:?}", t.name);
        daily(db, ends + Duration::days(2), None).await;
        assert_eq!(
            status(db, &m, ends + Duration::days(1)).await,
            Status::Grace
        );
        assert_eq!(sent(db, &m, "membership_grace").await, 1);
        // +7 and +21 reminders.
        daily(db, ends + Duration::days(7), None).await;
        daily(db, ends + Duration::days(21), None).await;
        daily(db, ends + Duration::days(21), None).await;
        assert_eq!(sent(db, &m, "renewal_reminder").await, 5);

        // 30 days of grace, then lapsed: the message, once; the unpaid renewal is credited.
        let r = daily(db, ends + Duration::days(31), None).await;
        assert!(r.lapsed >= 1, "{}: {r:?}", t.name);
        daily(db, ends + Duration::days(32), None).await;
        daily(db, ends + Duration::days(45), None).await;
        assert_eq!(
            status(db, &m, ends + Duration::days(31)).await,
            Status::Lapsed
        );
        assert_eq!(sent(db, &m, "membership_lapsed").await, 1);
        assert_eq!(
            sent(db, &m, "renewal_reminder").await,
            5,
            "no reminder after lapsing"
        );
        assert!(open_renewal(db, &m).await.is_none());
        assert_eq!(
            ledger::member_balance(db, m.id).await.expect("b").pence(),
            0
        );
        let keys = notice::Entity::find()
            .filter(notice::Column::MemberId.eq(m.id))
            .count(db)
            .await
            .expect("n");
        assert_eq!(keys, 8, "{}: six reminder keys, grace and lapse", t.name);

        // Two months after lapsing the member reinstates: annual fee plus reinstatement fee, a new period
        // from the day of payment; the old ones are kept.
        let back = ends + Duration::days(90);
        travel_to(back);
        let h = guildhall::service::history::history(db, m.id)
            .await
            .expect("h");
        let offer = guildhall::service::renewals::offer::offer(db, &m, &h, back)
            .await
            .expect("offer");
        let reg = category::Entity::find_by_id(m.category_id)
            .one(db)
            .await
            .expect("q")
            .expect("cat");
        assert!(
            matches!(offer, Offer::Reinstate { .. }),
            "{}: {offer:?}",
            t.name
        );
        assert_eq!(
            offer.total().expect("total").pence(),
            reg.annual_fee_pence + reg.reinstatement_fee_pence
        );
        // Officers are not the member: the portal's operation refuses them.
        assert!(guildhall::service::renewals::offer::prepare_payment(
            db,
            &staff_person(Role::Officer),
            m.number(),
            true,
            back
        )
        .await
        .is_err());
        // The Registered category needs the declaration.
        let refused =
            guildhall::service::renewals::offer::prepare_payment(db, &me, m.number(), false, back)
                .await;
        assert!(
            matches!(&refused, Err(e) if e.fields().and_then(|f| f.get("declaration")).is_some()),
            "{}: {refused:?}",
            t.name
        );
        let number =
            guildhall::service::renewals::offer::prepare_payment(db, &me, m.number(), true, back)
                .await
                .expect("reinstatement invoice");
        // Asking twice reuses the invoice.
        assert_eq!(
            guildhall::service::renewals::offer::prepare_payment(db, &me, m.number(), true, back)
                .await
                .expect("again"),
            number
        );
        let inv = document::Entity::find()
            .filter(document::Column::Number.eq(number.clone()))
            .one(db)
            .await
            .expect("q")
            .expect("invoice");
        assert_eq!(
            inv.amount_pence,
            reg.annual_fee_pence + reg.reinstatement_fee_pence
        );
        let r = open_renewal(db, &m).await.expect("reinstatement");
        assert_eq!(r.kind, "reinstatement");
        assert_eq!(
            r.declaration.as_deref(),
            Some(guildhall::service::renewals::offer::DECLARATION)
        );
        // Paid ten days later: the period starts on the day of payment.
        let paid_on = back + Duration::days(10);
        travel_to(paid_on);
        pay_by_cheque(db, &m, &inv).await;
        let periods = periods_of(db, m.id).await;
        assert_eq!(periods.len(), 2, "{}: every period kept", t.name);
        assert!(periods.iter().any(|p| p.start_on == paid_on
            && p.end_on == NaiveDate::from_ymd_opt(2029, 4, 18).expect("d")
            && p.paid_state == "paid"));
        assert_eq!(status(db, &m, paid_on).await, Status::Active);
        assert_eq!(
            status(db, &m, ends + Duration::days(60)).await,
            Status::Lapsed,
            "history is kept"
        );
        assert!(open_renewal(db, &m).await.is_none());
        assert_eq!(
            ledger::member_balance(db, m.id).await.expect("b").pence(),
            0
        );
        // Later daily runs send nothing more about the old period.
        daily(db, paid_on + Duration::days(1), None).await;
        assert_eq!(sent(db, &m, "membership_lapsed").await, 1);
        assert_eq!(sent(db, &m, "membership_grace").await, 1);
        assert_eq!(sent(db, &m, "renewal_invitation").await, 1);
        assert_eq!(sent(db, &m, "renewal_reminder").await, 5);
        // Lapsed more than six months: a new application, which staff can see.
        let (late, _) = {
            travel_to(joined);
            portal_member(db, "Lee", "Late").await
        };
        let far = ends + Duration::days(31 + 200);
        let h = guildhall::service::history::history(db, late.id)
            .await
            .expect("h");
        let o = guildhall::service::renewals::offer::offer(db, &late, &h, far)
            .await
            .expect("offer");
        assert!(
            matches!(o, Offer::NewApplication { .. }),
            "{}: {o:?}",
            t.name
        );
        assert!(o.staff_note().expect("note").contains("new application"));
        assert!(ledger::unbalanced_transactions(db)
            .await
            .expect("check")
            .is_empty());
        guildhall::service::travel_home();
        t.finish().await;
    }
}

/// Admins set the reminder days and extra bank holidays; bad input names the field and saves nothing;
/// officers cannot; the daily job and the calendar read what was saved.
#[tokio::test]
async fn renewal_settings_are_checked_saved_audited_and_used() {
    use guildhall::entity::audit_log;
    for t in databases().await {
        let db = &t.db;
        let admin = staff_person(Role::Admin);
        assert_eq!(
            guildhall::service::settings::offsets(db)
                .await
                .expect("offsets"),
            guildhall::service::settings::DEFAULT_OFFSETS.to_vec()
        );
        let e = guildhall::service::settings::update_renewal_settings(
            db,
            &admin,
            "-30, soon",
            "2027-13-01",
        )
        .await
        .expect_err("bad input");
        let f = e.fields().expect("field errors");
        assert!(f
            .get("reminder_offsets")
            .is_some_and(|m| m.contains("soon")));
        assert!(f
            .get("extra_holidays")
            .is_some_and(|m| m.contains("2027-13-01")));
        assert_eq!(
            guildhall::service::settings::offsets(db)
                .await
                .expect("offsets"),
            guildhall::service::settings::DEFAULT_OFFSETS.to_vec(),
            "{}: nothing saved",
            t.name
        );
        assert!(
            guildhall::service::settings::update_renewal_settings(
                db,
                &staff_person(Role::Officer),
                "-30",
                ""
            )
            .await
            .is_err(),
            "officers do not change settings"
        );
        guildhall::service::settings::update_renewal_settings(
            db,
            &admin,
            "14, -45, 0,-45",
            "2027-06-04\n\n",
        )
        .await
        .expect("saved");
        assert_eq!(
            guildhall::service::settings::offsets(db)
                .await
                .expect("offsets"),
            vec![-45, 0, 14]
        );
        let cal = guildhall::service::settings::calendar(db)
            .await
            .expect("calendar");
        let friday = NaiveDate::from_ymd_opt(2027, 6, 4).expect("d");
        assert!(!cal.is_working_day(friday));
        assert!(cal.is_working_day(friday - Duration::days(1)));
        let audited = audit_log::Entity::find()
            .filter(audit_log::Column::Entity.eq("settings"))
            .count(db)
            .await
            .expect("n");
        assert_eq!(audited, 1, "{}", t.name);
        t.finish().await;
    }
}
