//! Monthly instalment plans, day by day with the daily job "as of" each day and the sandbox provider:
//! a member chooses to pay monthly in the portal (the annual invoice credited, instalment 1 raised),
//! changes their mind and back, pays instalment 1 by card (the period made at once, kept as paid by
//! instalments, the card saved), then each later instalment is invoiced and charged on its day, once;
//! the next year's renewal becomes a plan with an advance notice and instalment 1 charged on the
//! renewal date. A second member's card is declined: a message each time, capped retries, suspension;
//! paying the instalment with a new card lifts it and the rest are taken from that card. A third
//! resigns mid-year: nothing more is raised and the instalment already due stays due. On SQLite and,
//! when `GUILDHALL_TEST_POSTGRES` is set, PostgreSQL.
//!
//! The clock is moved with `service::travel_to`, which is process-wide: this file holds one test.
#![cfg(feature = "testing")]

use chrono::{Duration, NaiveDate};
use guildhall::domain::membership::Status;
use guildhall::domain::{Actor, AppError};
use guildhall::entity::instalment_plan::PlanStatus;
use guildhall::entity::{document, instalment_plan, member, payment, period, saved_card};
use guildhall::service::ledger;
use guildhall::service::members::portal::{self, ResignWhen};
use guildhall::service::money::providers::{Providers, Sandbox};
use guildhall::service::renewals::instalments::{self, due_on};
use guildhall::service::renewals::offer::PayBy;
use guildhall::testing::{
    balance, d, daily, databases, invoice, pay_by_card, portal_member, sent, start_on, status, BASE,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

async fn choose(
    db: &DatabaseConnection,
    me: &Actor,
    m: &member::Model,
    by: PayBy,
    on: NaiveDate,
) -> Result<String, AppError> {
    guildhall::service::renewals::offer::prepare_payment_by(
        db,
        me,
        m.number(),
        true,
        by,
        Some("sandbox"),
        on,
    )
    .await
}

async fn plans(db: &DatabaseConnection, m: &member::Model) -> Vec<instalment_plan::Model> {
    instalment_plan::Entity::find()
        .filter(instalment_plan::Column::MemberId.eq(m.id))
        .all(db)
        .await
        .expect("plans")
}

#[tokio::test]
async fn renewals_paid_monthly_are_collected_once_each_month_with_dunning_and_renew_as_plans() {
    let sandbox = Sandbox {
        base_url: BASE.into(),
    };
    for t in databases().await {
        let db = &t.db;
        let providers = Providers::sandbox_direct(db.clone(), BASE);
        start_on(db, d(2027, 1, 11)).await;
        // Registered: £216.00 a year, 12 instalments of £18.00.
        let (monthly, me) = portal_member(db, "Ari", "Monthly").await;
        let (declines, declines_actor) = portal_member(db, "Ari", "Declines").await;
        let (quits, quits_actor) = portal_member(db, "Ari", "Quits").await;
        let ends = d(2028, 1, 10);
        let renews = d(2028, 1, 11);

        // In the window, the run raises the annual invoice.
        let day = ends - Duration::days(30);
        daily(db, day, Some(&sandbox)).await;
        assert_eq!(balance(db, monthly.id).await, 21_600);

        // Nobody chooses for another member; the declaration is still needed.
        assert!(matches!(
            choose(db, &declines_actor, &monthly, PayBy::Monthly, day).await,
            Err(AppError::NotFound)
        ));
        let undeclared = guildhall::service::renewals::offer::prepare_payment_by(
            db,
            &me,
            monthly.number(),
            false,
            PayBy::Monthly,
            Some("sandbox"),
            day,
        )
        .await;
        assert!(matches!(undeclared, Err(AppError::Validation(_))));
        // Not where cards cannot be saved.
        assert!(guildhall::service::renewals::offer::prepare_payment_by(
            db,
            &me,
            monthly.number(),
            true,
            PayBy::Monthly,
            None,
            day
        )
        .await
        .is_err());
        assert_eq!(balance(db, monthly.id).await, 21_600, "{}", t.name);

        // Monthly: the annual invoice credited, instalment 1 raised in its place.
        let first = choose(db, &me, &monthly, PayBy::Monthly, day)
            .await
            .expect("monthly");
        assert_eq!(invoice(db, &first).await.amount_pence, 1_800);
        assert_eq!(balance(db, monthly.id).await, 1_800);
        // Choosing again answers the same instalment.
        assert_eq!(
            choose(db, &me, &monthly, PayBy::Monthly, day)
                .await
                .expect("again"),
            first
        );
        // In full after all, then monthly again: one live plan, the balance what is due now.
        let annual = choose(db, &me, &monthly, PayBy::InFull, day)
            .await
            .expect("in full");
        assert_eq!(invoice(db, &annual).await.amount_pence, 21_600);
        assert_eq!(balance(db, monthly.id).await, 21_600);
        let first = choose(db, &me, &monthly, PayBy::Monthly, day)
            .await
            .expect("monthly again");
        assert_eq!(balance(db, monthly.id).await, 1_800, "{}", t.name);
        let live: Vec<_> = plans(db, &monthly)
            .await
            .into_iter()
            .filter(|p| p.status != PlanStatus::Cancelled)
            .collect();
        assert_eq!(live.len(), 1);

        // Paying instalment 1 by card makes the new period at once, paid by instalments; the card is
        // saved for the rest.
        pay_by_card(db, &providers, &me, &monthly, &first, "4242424242424242").await;
        let p = period::Entity::find()
            .filter(period::Column::MemberId.eq(monthly.id))
            .filter(period::Column::StartOn.eq(renews))
            .one(db)
            .await
            .expect("q")
            .expect("the new period");
        assert_eq!(
            (p.paid_state.as_str(), p.mandate_active),
            ("instalments", true)
        );
        let card = saved_card::Entity::find()
            .filter(saved_card::Column::MemberId.eq(monthly.id))
            .one(db)
            .await
            .expect("q")
            .expect("card");
        assert_eq!(
            (card.token.as_str(), card.monthly, card.auto_renew),
            ("sbx_pm_4242", true, true)
        );
        let view = instalments::current(db, monthly.id)
            .await
            .expect("view")
            .expect("plan");
        assert_eq!(view.paid, 1);
        assert_eq!(
            view.next.map(|(day, amount)| (day, amount.pence())),
            Some((d(2028, 2, 11), 1_800))
        );

        // The second member pays instalment 1 with a card whose later charges are declined; the
        // third with a good card.
        for (m, a) in [(&declines, &declines_actor), (&quits, &quits_actor)] {
            let first = choose(db, a, m, PayBy::Monthly, day)
                .await
                .expect("monthly");
            let number = if m.id == declines.id {
                "4000000000000341"
            } else {
                "4242424242424242"
            };
            pay_by_card(db, &providers, a, m, &first, number).await;
        }

        // Day by day through the year and into the next renewal.
        let mut fixed = false;
        let mut resigned = false;
        let mut day = day + Duration::days(1);
        let last = d(2029, 1, 20);
        while day <= last {
            daily(db, day, Some(&sandbox)).await;
            if !fixed && sent(db, &declines, "membership_suspended").await == 1 {
                // Suspended; the member pays the instalment due with another card.
                assert_eq!(status(db, &declines, day).await, Status::Suspended);
                let due = instalment_plan::Entity::find()
                    .filter(instalment_plan::Column::MemberId.eq(declines.id))
                    .filter(instalment_plan::Column::Status.eq(PlanStatus::Suspended))
                    .one(db)
                    .await
                    .expect("q")
                    .expect("suspended plan")
                    .current_invoice_id
                    .expect("the instalment due");
                let due = document::Entity::find_by_id(due)
                    .one(db)
                    .await
                    .expect("q")
                    .expect("invoice");
                pay_by_card(
                    db,
                    &providers,
                    &declines_actor,
                    &declines,
                    &due.number,
                    "4242424242424242",
                )
                .await;
                assert_eq!(status(db, &declines, day).await, Status::Active);
                fixed = true;
            }
            if !resigned && day == d(2028, 6, 20) {
                portal::resign(
                    db,
                    &quits_actor,
                    quits.number(),
                    Some(ResignWhen::Now),
                    BASE,
                )
                .await
                .expect("resign");
                resigned = true;
            }
            day += Duration::days(1);
        }
        assert!(
            fixed,
            "{}: the second instalment should have been declined",
            t.name
        );

        // Every instalment of the first year paid once, on its day, from the saved card; together
        // exactly the annual fee.
        let plans_of = plans(db, &monthly).await;
        let year1 = plans_of
            .iter()
            .find(|p| p.starts_on == renews && p.status != PlanStatus::Cancelled)
            .expect("year 1 plan");
        assert_eq!(
            (year1.status, year1.next_number),
            (PlanStatus::Completed, 13),
            "{}",
            t.name
        );
        let docs = document::Entity::find()
            .filter(document::Column::MemberId.eq(monthly.id))
            .filter(document::Column::Kind.eq("invoice"))
            .all(db)
            .await
            .expect("q");
        // (The first plan's instalment 1, raised before the member changed their mind, was credited.)
        let year1_invoices: Vec<_> = docs
            .iter()
            .filter(|i| {
                i.description.starts_with("Instalment") && i.description.contains("2028 to")
            })
            .filter(|i| i.status == "paid")
            .collect();
        assert_eq!(year1_invoices.len(), 12, "{}", t.name);
        assert_eq!(
            year1_invoices.iter().map(|i| i.amount_pence).sum::<i64>(),
            21_600
        );
        assert!(year1_invoices.iter().all(|i| i.outstanding_pence == 0));
        let card_payments = payment::Entity::find()
            .filter(payment::Column::MemberId.eq(monthly.id))
            .all(db)
            .await
            .expect("q");
        // 12 this year and the next year's first.
        assert_eq!(card_payments.len(), 13, "{}", t.name);
        for k in 2..=12 {
            let due = due_on(renews, k);
            assert!(
                card_payments.iter().any(|p| p.received_on == due),
                "{}: instalment {k} on {due}",
                t.name
            );
        }
        assert_eq!(sent(db, &monthly, "instalment_failed").await, 0);

        // The next year's renewal became a plan: notice once, at least 10 working days ahead;
        // instalment 1 taken on the renewal date; the third period kept as paid by instalments.
        let renews2 = d(2029, 1, 11);
        assert_eq!(
            sent(db, &monthly, "instalment_plan_notice").await,
            1,
            "{}",
            t.name
        );
        assert_eq!(sent(db, &monthly, "auto_renew_notice").await, 0);
        let year2 = plans_of
            .iter()
            .find(|p| p.starts_on == renews2)
            .expect("year 2 plan");
        assert_eq!(
            (year2.status, year2.next_number, year2.next_due_on),
            (PlanStatus::Active, 2, Some(d(2029, 2, 11))),
            "{}",
            t.name
        );
        assert!(card_payments.iter().any(|p| p.received_on == renews2));
        let p3 = period::Entity::find()
            .filter(period::Column::MemberId.eq(monthly.id))
            .filter(period::Column::StartOn.eq(renews2))
            .one(db)
            .await
            .expect("q")
            .expect("the third period");
        assert_eq!(p3.paid_state, "instalments");
        assert_eq!(status(db, &monthly, last).await, Status::Active);
        assert_eq!(balance(db, monthly.id).await, 0, "{}", t.name);

        // The declined member: two messages, then suspension; after paying, the rest from the new card.
        assert_eq!(
            sent(db, &declines, "instalment_failed").await,
            2,
            "{}",
            t.name
        );
        assert_eq!(sent(db, &declines, "membership_suspended").await, 1);
        let dplan = plans(db, &declines)
            .await
            .into_iter()
            .find(|p| p.starts_on == renews)
            .expect("plan");
        assert_eq!(dplan.status, PlanStatus::Completed, "{}", t.name);
        assert_eq!(status(db, &declines, d(2028, 12, 1)).await, Status::Active);

        // The member who resigned: the plan ended; the instalment raised that day (if any) stays due,
        // nothing after it was raised.
        let qplan = plans(db, &quits)
            .await
            .into_iter()
            .find(|p| p.starts_on == renews)
            .expect("plan");
        assert_eq!(qplan.status, PlanStatus::Cancelled, "{}", t.name);
        let raised_after = document::Entity::find()
            .filter(document::Column::MemberId.eq(quits.id))
            .filter(document::Column::Kind.eq("invoice"))
            .all(db)
            .await
            .expect("q")
            .into_iter()
            .filter(|i| i.issued_on > d(2028, 6, 20))
            .count();
        assert_eq!(raised_after, 0, "{}", t.name);
        // Paid on the 11th of January to June: six instalments.
        assert_eq!(qplan.next_number, 7, "{}", t.name);

        assert!(ledger::unbalanced_transactions(db)
            .await
            .expect("check")
            .is_empty());
        guildhall::service::travel_home();
        t.finish().await;
    }
}
