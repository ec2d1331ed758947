//! Money end to end in the service layer: invoices, card payments through the sandbox provider and its
//! webhook (declined, failed then paid, paid; duplicates and racing deliveries post once), cheques and
//! transfers, requests needing a second person (the requester can never approve their own), PDFs only
//! for their member, reports and reconciliation; and a random sequence of all of these keeping the
//! ledger balanced. On in-memory SQLite, a SQLite file (races) and, when `GUILDHALL_TEST_POSTGRES` is
//! set, PostgreSQL.
#![cfg(feature = "testing")]

use guildhall::domain::money::Money;
use guildhall::domain::{Actor, AppError, Role};
use guildhall::entity::{
    checkout, document, member, money_request, outbox_message, payment, webhook_event,
};
use guildhall::service::ledger;
use guildhall::service::money::providers::{Providers, SandboxOutcome};
use guildhall::service::money::{self as money, reports};
use guildhall::service::payments::card;
use guildhall::service::payments::manual::ManualPaymentInput;
use guildhall::service::payments::requests::{self, RequestInput};
use guildhall::service::payments::webhooks;
use guildhall::service::seed;
use guildhall::testing::{
    account_member, card_checkout, checkout_id, databases, invoices, new_member, seed_categories,
    staff_person, BASE,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

async fn demo_member(db: &DatabaseConnection) -> (Actor, member::Model) {
    seed::demo(db, BASE).await.expect("demo");
    account_member(db, seed::DEMO_MEMBER).await
}

/// The demo member with a card checkout started on their (last) invoice, on the sandbox.
struct DemoCheckout {
    me: Actor,
    m: member::Model,
    providers: Providers,
    id: Uuid,
}

async fn demo_checkout(db: &DatabaseConnection) -> DemoCheckout {
    let (me, m) = demo_member(db).await;
    let providers = Providers::sandbox_direct(db.clone(), BASE);
    let inv = invoices(db, m.id).await.pop().expect("invoice");
    let id = card_checkout(db, &providers, &me, &m, &inv.number).await;
    DemoCheckout {
        me,
        m,
        providers,
        id,
    }
}

async fn assert_balanced(db: &DatabaseConnection) {
    assert!(ledger::unbalanced_transactions(db)
        .await
        .expect("check")
        .is_empty());
    let mut all = Money::ZERO;
    for a in guildhall::domain::ledger::Account::ALL {
        all = all
            .checked_add(ledger::account_balance(db, a).await.expect("bal"))
            .expect("sum");
    }
    assert_eq!(all, Money::ZERO, "debits and credits differ");
}

#[tokio::test]
async fn a_member_pays_an_invoice_by_sandbox_card_once_and_a_declined_card_leaves_it_open() {
    for t in databases().await {
        let db = &t.db;
        let (me, m) = demo_member(db).await;
        let providers = Providers::sandbox_direct(db.clone(), BASE);
        let inv = invoices(db, m.id).await.pop().expect("the demo invoice");
        assert_eq!(inv.outstanding_pence, 4_500);
        assert_eq!(
            ledger::member_balance(db, m.id).await.expect("b").pence(),
            4_500
        );

        // Someone else's invoice cannot be paid, nor one that does not exist.
        let other = new_member(db, "other@example.org", "unpaid").await;
        let theirs = invoices(db, other.id)
            .await
            .pop()
            .expect("their first-year invoice");
        assert_eq!(
            card::start(db, &me, &providers, m.number(), &theirs.number, false)
                .await
                .err(),
            Some(AppError::NotFound)
        );
        assert_eq!(
            card::start(db, &me, &providers, other.number(), &theirs.number, false)
                .await
                .err(),
            Some(AppError::NotFound)
        );

        // The member agrees, on paying, to the card being kept for automatic renewal.
        let url = card::start(db, &me, &providers, m.number(), &inv.number, true)
            .await
            .expect("start");
        assert!(url.starts_with(&format!("{BASE}/sandbox/checkout/")));
        let id = checkout_id(&url);

        // The sandbox's page belongs to the member who opened it: another member, a member of staff
        // and someone not signed in find nothing there, and cannot pay it.
        let stranger = Actor::member(Uuid::now_v7(), "stranger@example.org");
        for who in [stranger, Actor::anonymous(), staff_person(Role::Officer)] {
            assert!(card::sandbox_view(db, &who, id).await.is_err(), "{who:?}");
            assert!(
                card::sandbox_pay(db, &who, &providers, id, "4242424242424242")
                    .await
                    .is_err(),
                "{who:?}"
            );
        }
        assert!(card::sandbox_view(db, &me, id).await.is_ok());

        // A bad number is a field error; a declined card a message; the invoice stays open.
        assert!(matches!(
            card::sandbox_pay(db, &me, &providers, id, "1234").await,
            Err(AppError::Validation(_))
        ));
        let declined = card::sandbox_pay(db, &me, &providers, id, "4000 0000 0000 0002")
            .await
            .expect("declined is an outcome");
        assert!(matches!(declined, SandboxOutcome::Failed(ref m) if m.contains("declined")));
        // Fails once…
        let failed = card::sandbox_pay(db, &me, &providers, id, "4000000000000119")
            .await
            .expect("failure is an outcome");
        assert!(matches!(failed, SandboxOutcome::Failed(_)));
        let inv_now = document::Entity::find_by_id(inv.id)
            .one(db)
            .await
            .expect("q")
            .expect("inv");
        assert_eq!(inv_now.status, "open");
        assert_eq!(inv_now.outstanding_pence, 4_500);
        let co = checkout::Entity::find_by_id(id)
            .one(db)
            .await
            .expect("q")
            .expect("co");
        assert_eq!((co.status.as_str(), co.failures), ("open", 2));
        assert_eq!(
            payment::Entity::find().count(db).await.expect("n"),
            0,
            "no payment recorded for declined cards"
        );
        // …then is paid on the retry.
        let paid = card::sandbox_pay(db, &me, &providers, id, "4000000000000119")
            .await
            .expect("paid");
        assert!(
            matches!(paid, SandboxOutcome::Paid(ref u) if u.contains("/portal/payments/done?checkout="))
        );
        let inv_now = document::Entity::find_by_id(inv.id)
            .one(db)
            .await
            .expect("q")
            .expect("inv");
        assert_eq!(
            (inv_now.status.as_str(), inv_now.outstanding_pence),
            ("paid", 0)
        );
        assert_eq!(
            ledger::member_balance(db, m.id).await.expect("b"),
            Money::ZERO
        );
        let view = card::own_view(db, &me, id).await.expect("view");
        let receipt = view.receipt_number.clone().expect("a receipt");
        // The card paid with is kept, and automatic renewal is on with it, audited.
        assert_eq!(view.card_kept.as_deref(), Some("Card ending 0119"));
        let auto = guildhall::service::renewals::autorenew::auto_renew(
            db,
            m.id,
            providers.active.as_ref(),
        )
        .await
        .expect("auto");
        assert!(auto.on);
        assert_eq!(auto.card.as_deref(), Some("Card ending 0119"));
        let turned_on = guildhall::entity::audit_log::Entity::find()
            .filter(guildhall::entity::audit_log::Column::EntityId.eq(m.id.to_string()))
            .filter(
                guildhall::entity::audit_log::Column::Action
                    .eq(guildhall::entity::audit_log::AuditAction::AutoRenewChanged),
            )
            .count(db)
            .await
            .expect("n");
        assert_eq!(turned_on, 1);
        assert!(receipt.starts_with("RCT-"));
        let sent = outbox_message::Entity::find()
            .filter(outbox_message::Column::Template.eq("receipt"))
            .filter(outbox_message::Column::MemberId.eq(m.id))
            .count(db)
            .await
            .expect("n");
        assert_eq!(sent, 1, "one receipt e-mail");
        // The receipt's PDF is the member's; another member's record is not.
        let (name, pdf) = money::account::document_pdf(db, &me, &receipt)
            .await
            .expect("pdf");
        assert_eq!(name, format!("{receipt}.pdf"));
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(String::from_utf8_lossy(&pdf).contains("Guildhall Membership Office"));
        assert_eq!(
            money::account::document_pdf(db, &me, &theirs.number)
                .await
                .err(),
            Some(AppError::NotFound)
        );
        money::account::document_pdf(db, &staff_person(Role::Finance), &theirs.number)
            .await
            .expect("staff read any document");

        // Paying again, or the same event again, records nothing more.
        let again = card::sandbox_pay(db, &me, &providers, id, "4242424242424242")
            .await
            .expect("already paid");
        assert!(matches!(again, SandboxOutcome::Paid(_)));
        assert_eq!(payment::Entity::find().count(db).await.expect("n"), 1);
        assert!(
            card::start(db, &me, &providers, m.number(), &inv.number, false)
                .await
                .is_err()
        );
        assert_balanced(db).await;
        t.finish().await;
    }
}

fn paid_event(event_id: &str, checkout: Uuid, amount: i64) -> webhooks::Event {
    webhooks::parse(
        serde_json::json!({
            "id": event_id,
            "type": "checkout.session.completed",
            "data": {"object": {
                "id": checkout.to_string(),
                "client_reference_id": checkout.to_string(),
                "payment_intent": format!("pi_{}", checkout.simple()),
                "amount_total": amount,
                "currency": "gbp",
                "payment_status": "paid",
            }},
        })
        .to_string()
        .as_bytes(),
    )
    .expect("event")
}

/// A paid event as an attacker (or a confused provider) might send it: any session, amount and
/// currency, naming our checkout as its client reference.
fn forged_event(
    event_id: &str,
    checkout: Uuid,
    session: &str,
    amount: i64,
    currency: &str,
) -> webhooks::Event {
    webhooks::parse(
        serde_json::json!({
            "id": event_id,
            "type": "checkout.session.completed",
            "data": {"object": {
                "id": session,
                "client_reference_id": checkout.to_string(),
                "payment_intent": format!("pi_forged_{event_id}"),
                "amount_total": amount,
                "currency": currency,
                "payment_status": "paid",
            }},
        })
        .to_string()
        .as_bytes(),
    )
    .expect("event")
}

#[tokio::test]
async fn paid_events_that_differ_from_the_checkout_are_refused_recorded_and_post_nothing() {
    for t in databases().await {
        let db = &t.db;
        let DemoCheckout { m, id, .. } = demo_checkout(db).await;
        let session = id.to_string();
        let before = ledger::member_balance(db, m.id).await.expect("b");
        let cases = [
            ("evt_small", session.as_str(), 1, "gbp"),
            ("evt_large", session.as_str(), 999_999, "gbp"),
            ("evt_zero", session.as_str(), 0, "gbp"),
            ("evt_usd", session.as_str(), 4_500, "usd"),
            ("evt_session", "cs_someone_elses", 4_500, "gbp"),
        ];
        for (event, session, amount, currency) in cases {
            let ev = forged_event(event, id, session, amount, currency);
            let out = webhooks::handle(db, "sandbox", ev.clone(), BASE)
                .await
                .expect("handled");
            assert!(
                matches!(out, webhooks::Outcome::Refused(_)),
                "{event}: {out:?}"
            );
            // Delivered again, still refused (not a silent duplicate).
            let again = webhooks::handle(db, "sandbox", ev, BASE)
                .await
                .expect("again");
            assert!(matches!(again, webhooks::Outcome::Refused(_)), "{event}");
        }
        // An event without a currency is refused too.
        let no_currency = webhooks::parse(
            serde_json::json!({
                "id": "evt_nocur",
                "type": "checkout.session.completed",
                "data": {"object": {
                    "id": session, "client_reference_id": session,
                    "payment_intent": "pi_x", "amount_total": 4_500, "payment_status": "paid",
                }},
            })
            .to_string()
            .as_bytes(),
        )
        .expect("parse");
        assert!(matches!(
            webhooks::handle(db, "sandbox", no_currency, BASE)
                .await
                .expect("handled"),
            webhooks::Outcome::Refused(_)
        ));
        assert_eq!(payment::Entity::find().count(db).await.expect("n"), 0);
        let refused = webhook_event::Entity::find()
            .filter(webhook_event::Column::Outcome.eq("refused"))
            .count(db)
            .await
            .expect("n");
        assert_eq!(refused, 6);
        let audited = guildhall::entity::audit_log::Entity::find()
            .filter(guildhall::entity::audit_log::Column::Action.eq("card_payment_refused"))
            .count(db)
            .await
            .expect("n");
        assert_eq!(audited, 6);
        assert_eq!(ledger::member_balance(db, m.id).await.expect("b"), before);
        // The real event for the checkout still pays it.
        let ok = webhooks::handle(db, "sandbox", paid_event("evt_real", id, 4_500), BASE)
            .await
            .expect("real");
        assert!(matches!(ok, webhooks::Outcome::Processed(_)), "{ok:?}");
        assert_eq!(payment::Entity::find().count(db).await.expect("n"), 1);
        assert_balanced(db).await;
        t.finish().await;
    }
}

#[tokio::test]
async fn webhook_events_are_processed_once_and_unknown_ones_are_recorded_as_ignored() {
    for t in databases().await {
        let db = &t.db;
        let DemoCheckout { m, id, .. } = demo_checkout(db).await;
        let ev = paid_event("evt_once", id, 4_500);
        let first = webhooks::handle(db, "sandbox", ev.clone(), BASE)
            .await
            .expect("first");
        assert!(matches!(first, webhooks::Outcome::Processed(_)));
        let second = webhooks::handle(db, "sandbox", ev, BASE)
            .await
            .expect("second");
        assert_eq!(second, webhooks::Outcome::Duplicate);
        // A different event about the same checkout (Stripe sends completed and async_succeeded).
        let other = webhooks::handle(db, "sandbox", paid_event("evt_twice", id, 4_500), BASE)
            .await
            .expect("other");
        assert!(matches!(other, webhooks::Outcome::Ignored(_)));
        assert_eq!(payment::Entity::find().count(db).await.expect("n"), 1);
        // Unknown checkout, unhandled type: recorded as ignored.
        let unknown = webhooks::handle(
            db,
            "sandbox",
            paid_event("evt_unknown", Uuid::now_v7(), 100),
            BASE,
        )
        .await
        .expect("unknown");
        assert!(matches!(unknown, webhooks::Outcome::Ignored(_)));
        let odd =
            webhooks::parse(br#"{"id":"evt_odd","type":"customer.created","data":{"object":{}}}"#)
                .expect("parse");
        assert!(matches!(
            webhooks::handle(db, "sandbox", odd, BASE)
                .await
                .expect("odd"),
            webhooks::Outcome::Ignored(_)
        ));
        let ignored = webhook_event::Entity::find()
            .filter(webhook_event::Column::Outcome.eq("ignored"))
            .count(db)
            .await
            .expect("n");
        assert_eq!(ignored, 3);
        assert_eq!(
            ledger::member_balance(db, m.id).await.expect("b"),
            Money::ZERO
        );
        assert_balanced(db).await;
        t.finish().await;
    }
}

#[tokio::test]
async fn concurrent_deliveries_of_one_webhook_post_once() {
    let mut dbs = vec![guildhall::testing::sqlite_file().await];
    if let Some(pg) = guildhall::testing::postgres().await {
        dbs.push(pg);
    }
    for t in dbs {
        let db = &t.db;
        let DemoCheckout { m, id, .. } = demo_checkout(db).await;
        let ev = paid_event("evt_race", id, 4_500);
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (db, ev) = (db.clone(), ev.clone());
            tasks.push(tokio::spawn(async move {
                webhooks::handle(&db, "sandbox", ev, BASE).await
            }));
        }
        let mut processed = 0;
        for task in tasks {
            match task.await.expect("join").expect("handled") {
                webhooks::Outcome::Processed(_) => processed += 1,
                webhooks::Outcome::Duplicate => {}
                other => panic!("unexpected {other:?} on {}", t.name),
            }
        }
        assert_eq!(
            processed, 1,
            "{}: exactly one delivery did the work",
            t.name
        );
        assert_eq!(payment::Entity::find().count(db).await.expect("n"), 1);
        assert_eq!(
            ledger::member_balance(db, m.id).await.expect("b"),
            Money::ZERO
        );
        assert_balanced(db).await;
        t.finish().await;
    }
}

#[tokio::test]
async fn cheques_and_transfers_are_recorded_with_a_reference_and_bad_input_saves_nothing() {
    for t in databases().await {
        let db = &t.db;
        seed_categories(db).await;
        let m = new_member(db, "cheque@example.org", "unpaid").await;
        let inv = invoices(db, m.id).await.pop().expect("first-year invoice");
        assert!(inv.amount_pence > 0);
        let officer = staff_person(Role::Officer);
        let bad = ManualPaymentInput {
            method: "paypal".into(),
            reference: "".into(),
            amount: "-3".into(),
            received_on: "2999-01-01".into(),
            ..Default::default()
        };
        let Err(AppError::Validation(f)) =
            guildhall::service::payments::manual::record_manual_payment(
                db, &officer, m.id, &bad, BASE,
            )
            .await
        else {
            panic!("bad payment accepted");
        };
        for field in ["method", "reference", "amount", "received_on"] {
            assert!(f.get(field).is_some(), "{field} not named");
        }
        assert_eq!(payment::Entity::find().count(db).await.expect("n"), 0);
        // Members cannot record payments.
        let member_actor = Actor::member(Uuid::now_v7(), "x@example.org");
        assert_eq!(
            guildhall::service::payments::manual::record_manual_payment(
                db,
                &member_actor,
                m.id,
                &bad,
                BASE
            )
            .await
            .err(),
            Some(AppError::Forbidden)
        );
        let key = Uuid::now_v7().to_string();
        let good = ManualPaymentInput {
            method: "cheque".into(),
            reference: "000123".into(),
            amount: "10.00".into(),
            received_on: guildhall::service::today().to_string(),
            invoice: inv.number.clone(),
            form_key: key,
        };
        let guildhall::service::payments::manual::ManualPayment::Recorded(p, receipt) =
            guildhall::service::payments::manual::record_manual_payment(
                db, &officer, m.id, &good, BASE,
            )
            .await
            .expect("cheque")
        else {
            panic!("£10 is recorded at once");
        };
        // The same form sent twice records one payment.
        let guildhall::service::payments::manual::ManualPayment::Recorded(p2, _) =
            guildhall::service::payments::manual::record_manual_payment(
                db, &officer, m.id, &good, BASE,
            )
            .await
            .expect("again")
        else {
            panic!("£10 is recorded at once");
        };
        assert_eq!(p.id, p2.id);
        assert_eq!(receipt.amount_pence, 1_000);
        let inv_now = document::Entity::find_by_id(inv.id)
            .one(db)
            .await
            .expect("q")
            .expect("inv");
        assert_eq!(inv_now.outstanding_pence, inv.amount_pence - 1_000);
        assert_eq!(inv_now.status, "open");
        assert_eq!(
            ledger::member_balance(db, m.id).await.expect("b").pence(),
            inv.amount_pence - 1_000
        );
        // Paid at joining: an invoice and its receipt at once.
        let paid = new_member(db, "paid@example.org", "bank_transfer").await;
        let pinv = invoices(db, paid.id).await.pop().expect("invoice");
        assert_eq!(pinv.status, "paid");
        assert_eq!(
            ledger::member_balance(db, paid.id).await.expect("b"),
            Money::ZERO
        );
        // Complimentary: no invoice.
        let free = new_member(db, "free@example.org", "complimentary").await;
        assert!(invoices(db, free.id).await.is_empty());
        assert_balanced(db).await;
        t.finish().await;
    }
}

fn refund_of(p: &payment::Model, amount: &str) -> RequestInput {
    RequestInput {
        kind: "refund".into(),
        amount: amount.into(),
        reason: "Paid twice by mistake".into(),
        payment: p.id.to_string(),
        ..Default::default()
    }
}

#[tokio::test]
async fn money_requests_need_a_second_person_and_card_refunds_go_back_through_the_provider() {
    for t in databases().await {
        let db = &t.db;
        let DemoCheckout {
            me,
            m,
            providers,
            id,
            ..
        } = demo_checkout(db).await;
        card::sandbox_pay(db, &me, &providers, id, "4242424242424242")
            .await
            .expect("paid");
        let p = payment::Entity::find()
            .one(db)
            .await
            .expect("q")
            .expect("payment");

        let officer = staff_person(Role::Officer);
        let supervisor = staff_person(Role::Supervisor);
        let finance = staff_person(Role::Finance);
        // Bad requests name what is wrong; too much is refused.
        let Err(AppError::Validation(f)) = requests::raise(
            db,
            &officer,
            m.id,
            &RequestInput {
                kind: "refund".into(),
                amount: "x".into(),
                reason: "no".into(),
                ..Default::default()
            },
        )
        .await
        else {
            panic!("bad request accepted");
        };
        assert!(f.get("amount").is_some() && f.get("reason").is_some());
        assert!(matches!(
            requests::raise(db, &officer, m.id, &refund_of(&p, "45.01")).await,
            Err(AppError::Validation(_))
        ));
        // Members cannot raise requests.
        assert_eq!(
            requests::raise(db, &me, m.id, &refund_of(&p, "5"))
                .await
                .err(),
            Some(AppError::Forbidden)
        );

        let r = requests::raise(db, &officer, m.id, &refund_of(&p, "20.00"))
            .await
            .expect("raised");
        // Nothing happens until it is authorised.
        assert_eq!(
            ledger::member_balance(db, m.id).await.expect("b"),
            Money::ZERO
        );
        // The officer may not authorise at all; a supervisor who raised one may not approve their own.
        assert_eq!(
            requests::decide(db, &officer, r.id, true, "", BASE)
                .await
                .err(),
            Some(AppError::Forbidden)
        );
        let own = requests::raise(db, &supervisor, m.id, &refund_of(&p, "5.00"))
            .await
            .expect("supervisor raises");
        assert!(matches!(
            requests::decide(db, &supervisor, own.id, true, "", BASE).await,
            Err(AppError::Conflict(ref msg)) if msg.contains("someone else")
        ));
        let rows = requests::pending(db, &supervisor).await.expect("pending");
        assert_eq!(rows.len(), 2);
        assert!(rows
            .iter()
            .any(|x| x.id == own.id && x.own && !x.can_decide));
        assert!(rows.iter().any(|x| x.id == r.id && x.can_decide));
        // Declining needs a reason.
        assert!(matches!(
            requests::decide(db, &finance, own.id, false, " ", BASE).await,
            Err(AppError::Validation(_))
        ));
        requests::decide(
            db,
            &finance,
            own.id,
            false,
            "Duplicate of the other request",
            BASE,
        )
        .await
        .expect("declined");

        let done = requests::decide(db, &supervisor, r.id, true, "", BASE)
            .await
            .expect("approved");
        assert_eq!(done.status, "approved");
        assert_eq!(done.provider_status.map(|s| s.as_str()), Some("pending"));
        assert!(matches!(
            requests::decide(db, &finance, r.id, true, "", BASE).await,
            Err(AppError::Conflict(_))
        ));
        assert_eq!(
            ledger::member_balance(db, m.id).await.expect("b").pence(),
            2_000
        );
        let p_now = payment::Entity::find_by_id(p.id)
            .one(db)
            .await
            .expect("q")
            .expect("p");
        assert_eq!(p_now.refunded_pence, 2_000);
        assert_eq!(
            card::process_refunds(db, &providers)
                .await
                .expect("refunds"),
            1
        );
        let after = money_request::Entity::find_by_id(r.id)
            .one(db)
            .await
            .expect("q")
            .expect("r");
        assert_eq!(after.provider_status.map(|s| s.as_str()), Some("done"));
        assert!(after.provider_ref.is_some_and(|s| s.starts_with("sbx_re_")));
        assert_eq!(
            card::process_refunds(db, &providers)
                .await
                .expect("none left"),
            0
        );
        let refund_mail = outbox_message::Entity::find()
            .filter(outbox_message::Column::Template.eq("refund_issued"))
            .count(db)
            .await
            .expect("n");
        assert_eq!(refund_mail, 1);

        // A manual invoice, then a credit note and a write-off against it.
        let mi = requests::raise(
            db,
            &officer,
            m.id,
            &RequestInput {
                kind: "manual_invoice".into(),
                amount: "30".into(),
                reason: "Replacement certificate".into(),
                description: "Replacement membership certificate".into(),
                ..Default::default()
            },
        )
        .await
        .expect("raised");
        let mi = requests::decide(db, &finance, mi.id, true, "", BASE)
            .await
            .expect("ok");
        let number = mi.result.clone().expect("invoice number");
        assert!(number.starts_with("INV-"));
        let cn = requests::raise(
            db,
            &officer,
            m.id,
            &RequestInput {
                kind: "credit_note".into(),
                amount: "10".into(),
                reason: "Certificate fee reduced".into(),
                invoice: number.clone(),
                ..Default::default()
            },
        )
        .await
        .expect("raised");
        let cn = requests::decide(db, &supervisor, cn.id, true, "", BASE)
            .await
            .expect("ok");
        assert!(cn.result.expect("cn").starts_with("CN-"));
        let wo = requests::raise(
            db,
            &officer,
            m.id,
            &RequestInput {
                kind: "write_off".into(),
                amount: "20".into(),
                reason: "Member cannot be traced".into(),
                invoice: number.clone(),
                ..Default::default()
            },
        )
        .await
        .expect("raised");
        requests::decide(db, &supervisor, wo.id, true, "", BASE)
            .await
            .expect("ok");
        let manual = document::Entity::find()
            .filter(document::Column::Number.eq(number))
            .one(db)
            .await
            .expect("q")
            .expect("manual invoice");
        assert_eq!(
            (manual.outstanding_pence, manual.status.as_str()),
            (0, "written_off")
        );
        // 20.00 refunded; the manual invoice credited and written off in full.
        assert_eq!(
            ledger::member_balance(db, m.id).await.expect("b").pence(),
            2_000
        );
        assert_balanced(db).await;

        // Reports: finance sees them; officers do not.
        let f = reports::parse_filter("", "", "card", "").expect("filter");
        let rows = reports::transactions(db, &finance, &f, 100)
            .await
            .expect("report");
        assert_eq!(rows.len(), 2, "the card payment and its refund");
        let csv = String::from_utf8(reports::transactions_csv(&rows).expect("csv")).expect("utf8");
        assert!(csv.contains("Card payment") && csv.contains("45.00") && csv.contains("20.00"));
        assert_eq!(
            reports::transactions(db, &officer, &f, 100).await.err(),
            Some(AppError::Forbidden)
        );
        assert!(reports::parse_filter("yesterday", "", "paypal", "").is_err());
        let today = guildhall::service::today();
        let recon = reports::reconciliation(db, &finance, today, today)
            .await
            .expect("recon");
        let card_row = recon.iter().find(|r| r.method == "card").expect("card row");
        assert_eq!(card_row.ledger.pence(), 2_500, "45.00 in, 20.00 back");
        assert_eq!(card_row.difference, None);
        reports::import_settlements(
            db,
            &finance,
            &format!("date,method,amount,reference\n{today},card,24.00,po_1\n"),
        )
        .await
        .expect("import");
        let recon = reports::reconciliation(db, &finance, today, today)
            .await
            .expect("recon");
        let card_row = recon.iter().find(|r| r.method == "card").expect("card row");
        assert_eq!(card_row.difference.map(Money::pence), Some(-100));
        // A bad file saves nothing and names the row.
        let Err(AppError::Validation(e)) = reports::import_settlements(
            db,
            &finance,
            &format!("{today},card,1.00\n2026-13-01,card,2.00\n"),
        )
        .await
        else {
            panic!("bad import accepted");
        };
        assert!(e.get("csv").is_some_and(|m| m.contains("Row 2")));
        let recon = reports::reconciliation(db, &finance, today, today)
            .await
            .expect("recon");
        assert_eq!(
            recon
                .iter()
                .find(|r| r.method == "card")
                .and_then(|r| r.settled)
                .map(Money::pence),
            Some(2_400)
        );
        assert_eq!(
            reports::reconciliation(db, &officer, today, today)
                .await
                .err(),
            Some(AppError::Forbidden)
        );
        let all = reports::aged_debt(db, &finance, today, None)
            .await
            .expect("aged");
        let mine = all.rows.iter().find(|a| a.member_id == m.id);
        assert!(mine.is_none(), "the demo member's invoices are settled");
        // Worked out again from the raw invoices: each member's open amounts by age.
        let mut want: std::collections::HashMap<uuid::Uuid, [i64; 4]> = Default::default();
        for d in guildhall::entity::document::Entity::find()
            .all(db)
            .await
            .expect("documents")
        {
            if d.kind == "invoice" && d.outstanding_pence > 0 && d.issued_on <= today {
                want.entry(d.member_id).or_default()
                    [reports::bucket((today - d.issued_on).num_days())] += d.outstanding_pence;
            }
        }
        assert!(!want.is_empty(), "{}: someone owes something", t.name);
        assert_eq!(all.rows.len(), want.len());
        assert_eq!(all.members, want.len() as u64);
        for r in &all.rows {
            assert_eq!(
                r.buckets.map(|b| b.pence()),
                want[&r.member_id],
                "{}",
                t.name
            );
        }
        for i in 0..4 {
            assert_eq!(
                all.totals[i].pence(),
                want.values().map(|b| b[i]).sum::<i64>()
            );
        }
        assert_eq!(
            all.totals[4].pence(),
            all.rows.iter().map(|a| a.total.pence()).sum::<i64>()
        );
        assert!(all
            .rows
            .windows(2)
            .all(|w| w[0].total.pence() >= w[1].total.pence()));
        // A page of the largest debts, with the totals of all.
        let top = reports::aged_debt(db, &finance, today, Some(1))
            .await
            .expect("top");
        assert_eq!(top.rows.len(), 1);
        assert_eq!(top.rows[0].total, all.rows[0].total);
        assert_eq!(top.totals, all.totals);
        assert_eq!(top.members, all.members);
        t.finish().await;
    }
}

/// Random sequences of the office's money operations through the services (invoices, card payments
/// by webhook, repeated webhooks, cheques, refunds, credit notes, write-offs) keep debits = credits,
/// every member's balance = the sum of their entries = invoiced − paid + refunded − credited − written
/// off, and no invoice owes more than its amount or less than nothing.
#[tokio::test]
async fn random_money_operations_through_the_services_keep_the_books_straight() {
    for t in databases().await {
        let db = &t.db;
        let (me, demo) = demo_member(db).await;
        let providers = Providers::sandbox_direct(db.clone(), BASE);
        let officer = staff_person(Role::Officer);
        let finance = staff_person(Role::Finance);
        let mut rng = StdRng::seed_from_u64(7);
        let mut members = vec![demo.clone()];
        for i in 0..4 {
            members.push(new_member(db, &format!("rand{i}@example.org"), "unpaid").await);
        }
        let mut expected: std::collections::HashMap<Uuid, i64> = std::collections::HashMap::new();
        for m in &members {
            expected.insert(
                m.id,
                ledger::member_balance(db, m.id).await.expect("b").pence(),
            );
        }
        let mut events: Vec<webhooks::Event> = Vec::new();
        let ops = if t.name == "postgres" { 150 } else { 300 };
        for i in 0..ops {
            let m = members[rng.gen_range(0..members.len())].clone();
            let amount = rng.gen_range(1..20_000i64);
            let pounds = Money::from_pence(amount).plain();
            match rng.gen_range(0..7) {
                0 => {
                    let r = requests::raise(
                        db,
                        &officer,
                        m.id,
                        &RequestInput {
                            kind: "manual_invoice".into(),
                            amount: pounds,
                            reason: "Random invoice".into(),
                            description: format!("Item {i}"),
                            ..Default::default()
                        },
                    )
                    .await
                    .expect("raise");
                    requests::decide(db, &finance, r.id, true, "", BASE)
                        .await
                        .expect("approve");
                    *expected.get_mut(&m.id).expect("m") += amount;
                }
                1 if m.id == demo.id => {
                    // A card payment of an open invoice, by the provider's webhook.
                    let open = invoices(db, m.id)
                        .await
                        .into_iter()
                        .find(|d| d.outstanding_pence > 0);
                    if let Some(inv) = open {
                        let id = card_checkout(db, &providers, &me, &m, &inv.number).await;
                        let ev = paid_event(&format!("evt_{i}"), id, inv.outstanding_pence);
                        webhooks::handle(db, "sandbox", ev.clone(), BASE)
                            .await
                            .expect("webhook");
                        events.push(ev);
                        *expected.get_mut(&m.id).expect("m") -= inv.outstanding_pence;
                    }
                }
                2 if !events.is_empty() => {
                    // A webhook delivered again.
                    let ev = events[rng.gen_range(0..events.len())].clone();
                    assert_eq!(
                        webhooks::handle(db, "sandbox", ev, BASE)
                            .await
                            .expect("again"),
                        webhooks::Outcome::Duplicate
                    );
                }
                3 => {
                    guildhall::service::payments::manual::record_manual_payment(
                        db,
                        &officer,
                        m.id,
                        &ManualPaymentInput {
                            method: "bank_transfer".into(),
                            reference: format!("T{i}"),
                            amount: pounds,
                            received_on: guildhall::service::today().to_string(),
                            ..Default::default()
                        },
                        BASE,
                    )
                    .await
                    .expect("transfer");
                    *expected.get_mut(&m.id).expect("m") -= amount;
                }
                4 => {
                    let p = payment::Entity::find()
                        .filter(payment::Column::MemberId.eq(m.id))
                        .filter(payment::Column::Direction.eq("in"))
                        .all(db)
                        .await
                        .expect("q")
                        .into_iter()
                        .find(|p| p.amount_pence > p.refunded_pence);
                    if let Some(p) = p {
                        let amt = rng.gen_range(1..=(p.amount_pence - p.refunded_pence));
                        let r = requests::raise(
                            db,
                            &officer,
                            m.id,
                            &refund_of(&p, &Money::from_pence(amt).plain()),
                        )
                        .await
                        .expect("raise");
                        requests::decide(db, &finance, r.id, true, "", BASE)
                            .await
                            .expect("approve");
                        *expected.get_mut(&m.id).expect("m") += amt;
                    }
                }
                k @ (5 | 6) => {
                    let inv = invoices(db, m.id)
                        .await
                        .into_iter()
                        .find(|d| d.outstanding_pence > 0);
                    if let Some(inv) = inv {
                        let amt = rng.gen_range(1..=inv.outstanding_pence);
                        let r = requests::raise(
                            db,
                            &officer,
                            m.id,
                            &RequestInput {
                                kind: if k == 5 { "credit_note" } else { "write_off" }.into(),
                                amount: Money::from_pence(amt).plain(),
                                reason: "Random adjustment".into(),
                                invoice: inv.number.clone(),
                                ..Default::default()
                            },
                        )
                        .await
                        .expect("raise");
                        requests::decide(db, &finance, r.id, true, "", BASE)
                            .await
                            .expect("approve");
                        *expected.get_mut(&m.id).expect("m") -= amt;
                    }
                }
                _ => {}
            }
        }
        assert_balanced(db).await;
        for m in &members {
            assert_eq!(
                ledger::member_balance(db, m.id).await.expect("b").pence(),
                expected[&m.id],
                "{}: balance of {}",
                t.name,
                m.email
            );
        }
        for d in document::Entity::find().all(db).await.expect("docs") {
            assert!(d.outstanding_pence >= 0 && d.outstanding_pence <= d.amount_pence);
        }
        // The debts kept step by step (the page and the owed tile) agree with the open invoices summed
        // afresh, member by member and bucket by bucket.
        let today = guildhall::service::today();
        let kept = reports::aged_debt(db, &finance, today, Some(1_000))
            .await
            .expect("kept");
        let summed = reports::aged_debt(db, &finance, today, None)
            .await
            .expect("summed");
        assert!(summed.members > 0, "{}: someone owes something", t.name);
        assert_eq!(kept.totals, summed.totals, "{}", t.name);
        assert_eq!(kept.members, summed.members, "{}", t.name);
        let key = |r: &reports::AgedRow| (r.member_id, r.buckets, r.oldest);
        assert_eq!(
            kept.rows.iter().map(key).collect::<Vec<_>>(),
            summed.rows.iter().map(key).collect::<Vec<_>>(),
            "{}",
            t.name
        );
        let tiles = guildhall::service::dashboard::tiles(db, &finance, today)
            .await
            .expect("tiles");
        assert_eq!(tiles.outstanding, summed.totals[4], "{}", t.name);
        assert_eq!(tiles.members_owing, summed.members, "{}", t.name);
        // A database whose debts were never kept (one from before they were) gets them back at start.
        for table in ["member_debts", "debt_days"] {
            sea_orm::ConnectionTrait::execute_unprepared(db, &format!("DELETE FROM {table}"))
                .await
                .expect("forget the kept debts");
        }
        assert_eq!(money::debts::owed(db).await.expect("owed"), (0, 0));
        money::debts::ensure(db).await.expect("ensure");
        let again = reports::aged_debt(db, &finance, today, Some(1_000))
            .await
            .expect("rebuilt");
        assert_eq!(again.totals, summed.totals, "{}: rebuilt", t.name);
        assert_eq!(again.members, summed.members, "{}: rebuilt", t.name);
        assert_eq!(
            again.rows.iter().map(key).collect::<Vec<_>>(),
            summed.rows.iter().map(key).collect::<Vec<_>>(),
            "{}: rebuilt",
            t.name
        );
        t.finish().await;
    }
}
