//! Four-eyes on cheques and transfers recorded by staff (`service::money::manual`), on every test
//! database: up to the office's limit a payment is recorded at once; above it, or settling another
//! member's invoice, it waits as a request with nothing in the ledger; the person who recorded it
//! cannot authorise it; a different supervisor or finance user does, and the payment is then recorded
//! once, exactly as a small one is (ledger, receipt, invoice settled).
#![cfg(feature = "testing")]

use guildhall::domain::money::Money;
use guildhall::domain::{AppError, Role};
use guildhall::entity::{audit_log, document, ledger_transaction, money_request, payment};
use guildhall::service::payments::manual::ManualPayment;
use guildhall::service::payments::manual::ManualPaymentInput;
use guildhall::service::payments::requests;
use guildhall::testing::{
    balance, cheque, databases, invoice_of, new_member, seed_categories, staff_person, BASE,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

async fn counts(db: &DatabaseConnection) -> (u64, u64) {
    (
        payment::Entity::find().count(db).await.expect("payments"),
        ledger_transaction::Entity::find()
            .count(db)
            .await
            .expect("transactions"),
    )
}

#[tokio::test]
async fn a_cheque_up_to_the_limit_is_recorded_at_once_and_above_it_waits_for_a_different_person() {
    for t in databases().await {
        let db = &t.db;
        seed_categories(db).await;
        let m = new_member(db, "large@example.org", "unpaid").await;
        let supervisor = staff_person(Role::Supervisor);
        let finance = staff_person(Role::Finance);

        // £500.00, the default limit itself: recorded at once.
        let small = guildhall::service::payments::manual::record_manual_payment(
            db,
            &supervisor,
            m.id,
            &cheque("500.00", ""),
            BASE,
        )
        .await
        .expect("small");
        assert!(matches!(small, ManualPayment::Recorded(..)), "{}", t.name);
        let (payments, txns) = counts(db).await;
        let owed = balance(db, m.id).await;

        // £500.01: a request, nothing in the ledger, no payment, no receipt.
        let form = ManualPaymentInput {
            method: "bank_transfer".into(),
            ..cheque("500.01", "")
        };
        let ManualPayment::Requested(r) =
            guildhall::service::payments::manual::record_manual_payment(
                db,
                &supervisor,
                m.id,
                &form,
                BASE,
            )
            .await
            .expect("large")
        else {
            panic!("{}: £500.01 was recorded without a second person", t.name);
        };
        assert_eq!(r.kind, "manual_payment");
        assert_eq!(r.status, "pending");
        assert_eq!(r.amount_pence, 50_001);
        assert_eq!(counts(db).await, (payments, txns), "nothing in the ledger");
        assert_eq!(balance(db, m.id).await, owed);
        // The same form sent twice raises one request.
        let ManualPayment::Requested(again) =
            guildhall::service::payments::manual::record_manual_payment(
                db,
                &supervisor,
                m.id,
                &form,
                BASE,
            )
            .await
            .expect("again")
        else {
            panic!("the repeat was recorded");
        };
        assert_eq!(again.id, r.id);
        assert_eq!(
            money_request::Entity::find()
                .count(db)
                .await
                .expect("count"),
            1
        );
        // It waits on the worklist, saying what it is.
        let waiting = requests::pending(db, &finance).await.expect("pending");
        let row = waiting.iter().find(|x| x.id == r.id).expect("listed");
        assert!(row.what.starts_with("Bank transfer CHQ-"), "{}", row.what);
        assert!(row.can_decide);
        assert!(
            row.reason.contains("more than the £500.00"),
            "{}",
            row.reason
        );

        // The person who recorded it cannot authorise it.
        match requests::decide(db, &supervisor, r.id, true, "", BASE).await {
            Err(AppError::Conflict(msg)) => assert!(msg.contains("someone else"), "{msg}"),
            other => panic!("the requester authorised their own payment: {other:?}"),
        }
        assert_eq!(counts(db).await, (payments, txns));

        // Another person authorises: recorded once, as a small one is.
        let done = requests::decide(db, &finance, r.id, true, "", BASE)
            .await
            .expect("authorised");
        assert_eq!(done.status, "approved");
        let receipt = done.result.clone().expect("a receipt number");
        assert!(receipt.starts_with("RCT-"), "{receipt}");
        assert_eq!(counts(db).await.0, payments + 1);
        assert_eq!(balance(db, m.id).await, owed - 50_001);
        let p = payment::Entity::find()
            .filter(payment::Column::AmountPence.eq(50_001))
            .one(db)
            .await
            .expect("q")
            .expect("the payment");
        assert_eq!(p.member_id, m.id);
        assert_eq!(p.method, "bank_transfer");
        assert_eq!(p.created_by, finance.label, "recorded by the authoriser");
        // Neither a second decision nor the form sent once more records it again.
        assert!(matches!(
            requests::decide(db, &finance, r.id, true, "", BASE).await,
            Err(AppError::Conflict(_))
        ));
        assert!(matches!(
            guildhall::service::payments::manual::record_manual_payment(
                db,
                &supervisor,
                m.id,
                &form,
                BASE
            )
            .await,
            Ok(ManualPayment::Requested(_))
        ));
        assert_eq!(counts(db).await.0, payments + 1);
        assert_eq!(balance(db, m.id).await, owed - 50_001);
        t.finish().await;
    }
}

#[tokio::test]
async fn settling_another_members_invoice_waits_for_a_second_person_then_pays_that_invoice() {
    for t in databases().await {
        let db = &t.db;
        seed_categories(db).await;
        let payer = new_member(db, "payer@example.org", "unpaid").await;
        let owner = new_member(db, "owner@example.org", "unpaid").await;
        let inv = invoice_of(db, owner.id).await;
        assert!(inv.outstanding_pence > 0 && inv.outstanding_pence <= 50_000);
        let officer = staff_person(Role::Officer);
        let amount = format!(
            "{}.{:02}",
            inv.outstanding_pence / 100,
            inv.outstanding_pence % 100
        );
        let before = counts(db).await;
        let owner_owes = balance(db, owner.id).await;
        let payer_owes = balance(db, payer.id).await;

        // A small cheque from the payer against the owner's invoice: a request, nothing else.
        let ManualPayment::Requested(r) =
            guildhall::service::payments::manual::record_manual_payment(
                db,
                &officer,
                payer.id,
                &cheque(&amount, &inv.number.to_lowercase()),
                BASE,
            )
            .await
            .expect("recorded")
        else {
            panic!(
                "{}: another member's invoice was settled without a second person",
                t.name
            );
        };
        assert_eq!(r.member_id, payer.id);
        assert_eq!(r.invoice_id, Some(inv.id));
        assert!(r.reason.contains("another member"), "{}", r.reason);
        assert_eq!(counts(db).await, before);
        let still = document::Entity::find_by_id(inv.id)
            .one(db)
            .await
            .expect("q")
            .expect("invoice");
        assert_eq!(still.outstanding_pence, inv.outstanding_pence);
        // The officer cannot authorise anything; a supervisor can.
        assert_eq!(
            requests::decide(db, &officer, r.id, true, "", BASE)
                .await
                .err(),
            Some(AppError::Forbidden)
        );
        let supervisor = staff_person(Role::Supervisor);
        let row = requests::pending(db, &supervisor)
            .await
            .expect("pending")
            .into_iter()
            .find(|x| x.id == r.id)
            .expect("listed");
        assert!(row.what.contains(&inv.number), "{}", row.what);
        requests::decide(db, &supervisor, r.id, true, "", BASE)
            .await
            .expect("authorised");

        // Paid on the owner's account, naming the payer; the payer's balance is untouched.
        let paid = document::Entity::find_by_id(inv.id)
            .one(db)
            .await
            .expect("q")
            .expect("invoice");
        assert_eq!(paid.outstanding_pence, 0);
        assert_eq!(paid.status, "paid");
        assert_eq!(
            balance(db, owner.id).await,
            owner_owes - inv.outstanding_pence
        );
        assert_eq!(balance(db, payer.id).await, payer_owes);
        let p = payment::Entity::find()
            .filter(payment::Column::InvoiceId.eq(inv.id))
            .one(db)
            .await
            .expect("q")
            .expect("payment");
        assert_eq!(p.member_id, owner.id);
        let payer_number = guildhall::domain::membership_number::MembershipNumber::text_of(
            payer.membership_number,
        );
        assert!(p.reference.ends_with(&payer_number), "{}", p.reference);
        assert_eq!(counts(db).await.0, before.0 + 1);

        // The payer's own invoice is still recorded at once.
        let own = invoice_of(db, payer.id).await;
        assert!(matches!(
            guildhall::service::payments::manual::record_manual_payment(
                db,
                &officer,
                payer.id,
                &cheque("1.00", &own.number),
                BASE
            )
            .await,
            Ok(ManualPayment::Recorded(..))
        ));
        // An invoice number nobody has is a field error.
        match guildhall::service::payments::manual::record_manual_payment(
            db,
            &officer,
            payer.id,
            &cheque("1.00", "INV-999999"),
            BASE,
        )
        .await
        {
            Err(AppError::Validation(f)) => assert!(f.get("invoice").is_some()),
            other => panic!("{other:?}"),
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn admins_set_the_limit_and_the_change_is_audited() {
    for t in databases().await {
        let db = &t.db;
        seed_categories(db).await;
        let m = new_member(db, "limit@example.org", "unpaid").await;
        assert_eq!(
            guildhall::service::settings::limit(db)
                .await
                .expect("limit"),
            Money::from_pence(50_000)
        );
        let admin = staff_person(Role::Admin);
        assert_eq!(
            guildhall::service::settings::update_limit(db, &staff_person(Role::Supervisor), "1000")
                .await
                .err(),
            Some(AppError::Forbidden)
        );
        match guildhall::service::settings::update_limit(db, &admin, "lots").await {
            Err(AppError::Validation(f)) => assert!(f.get("manual_payment_limit").is_some()),
            other => panic!("{other:?}"),
        }
        guildhall::service::settings::update_limit(db, &admin, "1,000.00")
            .await
            .expect("saved");
        assert_eq!(
            guildhall::service::settings::limit(db)
                .await
                .expect("limit"),
            Money::from_pence(100_000)
        );
        let audit = audit_log::Entity::find()
            .filter(audit_log::Column::Entity.eq("settings"))
            .filter(audit_log::Column::EntityId.eq("payments"))
            .one(db)
            .await
            .expect("q")
            .expect("audited");
        assert_eq!(audit.actor_label, admin.label);
        let officer = staff_person(Role::Officer);
        assert!(matches!(
            guildhall::service::payments::manual::record_manual_payment(
                db,
                &officer,
                m.id,
                &cheque("600.00", ""),
                BASE
            )
            .await,
            Ok(ManualPayment::Recorded(..))
        ));
        // £0.00: every cheque needs a second person.
        guildhall::service::settings::update_limit(db, &admin, "0")
            .await
            .expect("zero");
        assert!(matches!(
            guildhall::service::payments::manual::record_manual_payment(
                db,
                &officer,
                m.id,
                &cheque("0.01", ""),
                BASE
            )
            .await,
            Ok(ManualPayment::Requested(_))
        ));
        t.finish().await;
    }
}
