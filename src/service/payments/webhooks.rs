//! Provider events, processed exactly once: the event's row (unique per provider and event id) is
//! written in the same transaction as the work it causes, and the endpoint answers 2xx only after that
//! commit. A second delivery of the same event finds the row and does nothing; two racing deliveries
//! serialise on the unique index (PostgreSQL) or the single writer (SQLite) and the later one does
//! nothing. Events of a type we do not handle, or about a checkout we do not know, are recorded as
//! `ignored` and answered 2xx so the provider stops retrying.
//!
//! Nothing an event says about money is taken on trust: a paid checkout must name the checkout we
//! opened (our id as its client reference, and the session the provider gave us when we opened it),
//! in pounds sterling, for exactly the amount we asked for. Anything else is recorded as `refused`
//! (with what was expected and what came), written to the audit trail, and posts nothing.

use super::receive;
use crate::domain::money::Money;
use crate::domain::{Actor, AppError};
use crate::entity::audit_log::AuditAction;
use crate::entity::checkout::CheckoutStatus;
use crate::entity::{checkout, member, webhook_event};
use crate::service::money::Incoming;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::Value;
use uuid::Uuid;

/// What an event asks of us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A checkout was paid.
    CheckoutPaid {
        session: String,
        client_reference: Option<String>,
        payment_ref: String,
        amount: i64,
        /// The event's currency (ISO 4217, lower case as Stripe sends it), when it states one.
        currency: Option<String>,
        /// The provider's token for the card used, when it tells us (the sandbox's card, or the Stripe
        /// customer the card was saved on).
        payment_method: Option<String>,
    },
    /// A card attempt failed.
    PaymentFailed {
        checkout_id: Option<String>,
        message: String,
    },
    /// Anything else.
    Unhandled,
}

/// A provider event, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    pub kind: EventKind,
}

/// Reads a Stripe-shaped event (the sandbox sends the same shape).
pub fn parse(body: &[u8]) -> Result<Event, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let id = v["id"]
        .as_str()
        .filter(|s| !s.is_empty() && s.len() <= 200)
        .ok_or("the event has no id")?
        .to_owned();
    let event_type = v["type"]
        .as_str()
        .filter(|s| s.len() <= 200)
        .ok_or("the event has no type")?
        .to_owned();
    let obj = &v["data"]["object"];
    let kind = match event_type.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded"
            if obj["payment_status"].as_str() == Some("paid") =>
        {
            match (obj["id"].as_str(), obj["amount_total"].as_i64()) {
                (Some(session), Some(amount)) => EventKind::CheckoutPaid {
                    session: session.to_owned(),
                    client_reference: obj["client_reference_id"].as_str().map(str::to_owned),
                    payment_ref: obj["payment_intent"].as_str().unwrap_or(session).to_owned(),
                    amount,
                    currency: obj["currency"]
                        .as_str()
                        .filter(|s| s.len() <= 10)
                        .map(str::to_ascii_lowercase),
                    // The sandbox names the card; Stripe names the customer it saved the card on.
                    payment_method: obj["payment_method"]
                        .as_str()
                        .or_else(|| obj["customer"].as_str())
                        .filter(|s| !s.is_empty() && s.len() <= 100)
                        .map(str::to_owned),
                },
                _ => EventKind::Unhandled,
            }
        }
        "payment_intent.payment_failed" => EventKind::PaymentFailed {
            checkout_id: obj["metadata"]["checkout_id"].as_str().map(str::to_owned),
            message: obj["last_payment_error"]["message"]
                .as_str()
                .unwrap_or("The payment failed.")
                .chars()
                .take(300)
                .collect(),
        },
        _ => EventKind::Unhandled,
    };
    Ok(Event {
        id,
        event_type,
        kind,
    })
}

/// What handling an event did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Processed(String),
    Ignored(String),
    /// The event does not match what Guildhall asked for (checkout, amount or currency): nothing was
    /// posted. Answered 400, every time it is delivered.
    Refused(String),
    /// This event was handled before.
    Duplicate,
}

/// The currency every checkout is opened in.
pub const CURRENCY: &str = "gbp";

/// Checks a paid event against the checkout it names: `Err` says what does not match.
pub fn check_paid(
    c: &checkout::Model,
    session: &str,
    client_reference: Option<&str>,
    amount: i64,
    currency: Option<&str>,
) -> Result<(), String> {
    if let Some(r) = client_reference {
        if Uuid::parse_str(r).ok() != Some(c.id) {
            return Err(format!(
                "the event's client reference {r:?} is not checkout {}",
                c.id
            ));
        }
    }
    match c.provider_ref.as_deref() {
        Some(ours) if ours == session => {}
        Some(ours) => {
            return Err(format!(
                "the event's session {session:?} is not the one opened for checkout {} ({ours:?})",
                c.id
            ))
        }
        None => {
            return Err(format!(
                "checkout {} was never opened at the provider",
                c.id
            ))
        }
    }
    if currency != Some(CURRENCY) {
        return Err(format!(
            "the event's currency {:?} is not {CURRENCY:?}",
            currency.unwrap_or("(none)")
        ));
    }
    if amount != c.amount_pence {
        return Err(format!(
            "the event's amount {amount} is not the {} pence asked for",
            c.amount_pence
        ));
    }
    Ok(())
}

async fn find_checkout<C: sea_orm::ConnectionTrait>(
    db: &C,
    provider: &str,
    session: Option<&str>,
    reference: Option<&str>,
) -> Result<Option<checkout::Model>, AppError> {
    if let Some(s) = session {
        if let Some(c) = checkout::Entity::find()
            .filter(checkout::Column::Provider.eq(provider))
            .filter(checkout::Column::ProviderRef.eq(s))
            .one(db)
            .await?
        {
            return Ok(Some(c));
        }
    }
    match reference.and_then(|r| Uuid::parse_str(r).ok()) {
        Some(id) => Ok(checkout::Entity::find_by_id(id)
            .one(db)
            .await?
            .filter(|c| c.provider == provider)),
        None => Ok(None),
    }
}

/// Processes `ev` from `provider` once.
#[tracing::instrument(skip_all)]
pub async fn handle(
    db: &DatabaseConnection,
    provider: &str,
    ev: Event,
    base_url: &str,
) -> Result<Outcome, AppError> {
    let actor = Actor::system(&format!("webhook:{provider}"));
    let txn = crate::service::begin(db).await?;
    let row_id = crate::service::new_id();
    let inserted = webhook_event::Entity::insert(webhook_event::ActiveModel {
        id: Set(row_id),
        provider: Set(provider.to_owned()),
        event_id: Set(ev.id.clone()),
        event_type: Set(ev.event_type.clone()),
        outcome: Set("processing".into()),
        detail: Set(String::new()),
        received_at: Set(crate::service::now()),
    })
    .on_conflict(
        OnConflict::columns([
            webhook_event::Column::Provider,
            webhook_event::Column::EventId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        // A refused event stays refused however often it comes.
        let earlier = webhook_event::Entity::find()
            .filter(webhook_event::Column::Provider.eq(provider))
            .filter(webhook_event::Column::EventId.eq(&ev.id))
            .one(&txn)
            .await?;
        txn.rollback().await?;
        return Ok(match earlier {
            Some(e) if e.outcome == "refused" => Outcome::Refused(e.detail),
            _ => Outcome::Duplicate,
        });
    }
    let outcome = match &ev.kind {
        EventKind::Unhandled => Outcome::Ignored(format!("{} is not handled", ev.event_type)),
        EventKind::PaymentFailed {
            checkout_id,
            message,
        } => match find_checkout(&txn, provider, None, checkout_id.as_deref()).await? {
            None => Outcome::Ignored("no checkout of ours".into()),
            Some(c) if c.status == CheckoutStatus::Paid => {
                Outcome::Ignored("the checkout is paid".into())
            }
            Some(c) => {
                let failures = c.failures + 1;
                let mut am: checkout::ActiveModel = c.into();
                am.failures = Set(failures);
                am.message = Set(Some(message.clone()));
                am.update(&txn).await?;
                Outcome::Processed(format!("attempt {failures} failed: {message}"))
            }
        },
        EventKind::CheckoutPaid {
            session,
            client_reference,
            payment_ref,
            amount,
            currency,
            payment_method,
        } => match find_checkout(
            &txn,
            provider,
            Some(session.as_str()),
            client_reference.as_deref(),
        )
        .await?
        {
            None => Outcome::Ignored("no checkout of ours".into()),
            Some(c) if c.status == CheckoutStatus::Paid => {
                Outcome::Ignored("the checkout is paid".into())
            }
            Some(c) => match check_paid(
                &c,
                session,
                client_reference.as_deref(),
                *amount,
                currency.as_deref(),
            ) {
                Err(why) => {
                    tracing::warn!(%provider, event = %ev.id, checkout = %c.id, %why, "paid event refused");
                    crate::service::audit::record(
                        &txn,
                        &actor,
                        "checkout",
                        c.id,
                        AuditAction::CardPaymentRefused,
                        Some(serde_json::json!({
                            "amount_pence": c.amount_pence,
                            "currency": CURRENCY,
                            "provider_ref": c.provider_ref,
                        })),
                        Some(serde_json::json!({
                            "event": ev.id,
                            "amount_pence": amount,
                            "currency": currency,
                            "session": session,
                            "reason": why,
                        })),
                    )
                    .await?;
                    Outcome::Refused(why)
                }
                Ok(()) => {
                    let m = member::Entity::find_by_id(c.member_id)
                        .one(&txn)
                        .await?
                        .ok_or_else(|| AppError::internal("a checkout's member is missing"))?;
                    let (p, receipt) = receive(
                        &txn,
                        &actor,
                        Incoming {
                            member: &m,
                            method: "card",
                            provider: Some(provider),
                            reference: payment_ref,
                            amount: Money::from_pence(*amount),
                            received_on: crate::service::today(),
                            invoice_id: Some(c.invoice_id),
                            key: format!("{provider}:payment:{payment_ref}"),
                            base_url,
                        },
                    )
                    .await?;
                    // A member renewing automatically (or who agreed to it when paying) keeps the
                    // card they last paid with.
                    if let Some(pm) = payment_method {
                        crate::service::renewals::autorenew::card_used(
                            &txn,
                            &actor,
                            m.id,
                            provider,
                            pm,
                            c.keep_card,
                        )
                        .await?;
                    }
                    let mut am: checkout::ActiveModel = c.into();
                    am.status = Set(CheckoutStatus::Paid);
                    am.payment_id = Set(Some(p.id));
                    am.message = Set(None);
                    am.completed_at = Set(Some(crate::service::now()));
                    am.update(&txn).await?;
                    Outcome::Processed(format!("payment recorded, receipt {}", receipt.number))
                }
            },
        },
    };
    let (label, detail) = match &outcome {
        Outcome::Processed(d) => ("processed", d.clone()),
        Outcome::Ignored(d) => ("ignored", d.clone()),
        Outcome::Refused(d) => ("refused", d.clone()),
        Outcome::Duplicate => ("duplicate", String::new()),
    };
    webhook_event::Entity::update_many()
        .col_expr(
            webhook_event::Column::Outcome,
            sea_orm::sea_query::Expr::value(label),
        )
        .col_expr(
            webhook_event::Column::Detail,
            sea_orm::sea_query::Expr::value(detail),
        )
        .filter(webhook_event::Column::Id.eq(row_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    crate::service::events::publish(db, crate::service::events::Topic::Payments).await;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_shaped_events_are_read() {
        let paid = br#"{"id":"evt_1","type":"checkout.session.completed","data":{"object":{"id":"cs_1","client_reference_id":"x","payment_intent":"pi_1","amount_total":1200,"payment_status":"paid"}}}"#;
        let e = parse(paid).expect("parses");
        assert_eq!(
            e.kind,
            EventKind::CheckoutPaid {
                session: "cs_1".into(),
                client_reference: Some("x".into()),
                payment_ref: "pi_1".into(),
                amount: 1200,
                currency: None,
                payment_method: None,
            }
        );
        let unpaid = br#"{"id":"evt_2","type":"checkout.session.completed","data":{"object":{"id":"cs_1","amount_total":1200,"payment_status":"unpaid"}}}"#;
        assert_eq!(parse(unpaid).expect("parses").kind, EventKind::Unhandled);
        assert!(parse(b"not json").is_err());
        assert!(parse(br#"{"type":"x"}"#).is_err());
    }
}
