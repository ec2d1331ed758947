//! A member pays an open invoice by card: a checkout is opened at the provider and the member is sent to
//! its hosted page; the payment is posted when the provider's webhook arrives (`money::webhooks`).
//! Card refunds authorised in `money::requests` are passed to the provider here, after their commit.

use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::payments::{card_digits, test_card, TestCard};
use crate::domain::FieldErrors;
use crate::domain::{Actor, AppError};
use crate::entity::checkout::CheckoutStatus;
use crate::entity::document::DocumentKind;
use crate::entity::money_request::RefundStatus;
use crate::entity::{checkout, document, money_request, payment};
use crate::service::money::providers::{
    return_url, sandbox_card_token, sign, verify, CheckoutRequest, Delivery, Providers,
    SandboxOutcome, DECLINED, PROCESSING_ERROR,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

/// A member starts paying invoice `invoice_number` of membership `membership_number` (their own or
/// their organisation's). With `keep_card` they agree to the card being kept and charged for
/// automatic renewal from now on (see `autorenew::card_used`). Answers the address of the provider's
/// page.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %membership_number))]
pub async fn start(
    db: &DatabaseConnection,
    actor: &Actor,
    providers: &Providers,
    membership_number: MembershipNumber,
    invoice_number: &str,
    keep_card: bool,
) -> Result<String, AppError> {
    let m = crate::service::access::reachable_member(db, actor, membership_number).await?;
    if !providers.takes_cards() {
        return Err(AppError::Conflict(
            crate::service::money::providers::NO_CARDS.into(),
        ));
    }
    let inv = document::Entity::find()
        .filter(document::Column::Number.eq(invoice_number.trim().to_uppercase()))
        .filter(document::Column::Kind.eq(DocumentKind::Invoice))
        .filter(document::Column::MemberId.eq(m.id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if inv.outstanding_pence <= 0 {
        return Err(AppError::Conflict(format!(
            "Invoice {} is already paid.",
            inv.number
        )));
    }
    let provider = providers.active.clone();
    if keep_card {
        crate::service::renewals::autorenew::may_turn_on(db, &m, provider.as_ref()).await?;
    }
    // A member who renews automatically (or pays monthly), or agrees now, agreed to the card being kept.
    let save_card = provider.saves_cards()
        && (keep_card
            || crate::entity::saved_card::Entity::find()
                .filter(crate::entity::saved_card::Column::MemberId.eq(m.id))
                .filter(crate::entity::saved_card::Column::AutoRenew.eq(true))
                .one(db)
                .await?
                .is_some());
    let id = crate::service::new_id();
    let txn = crate::service::begin(db).await?;
    checkout::ActiveModel {
        id: Set(id),
        member_id: Set(m.id),
        invoice_id: Set(inv.id),
        provider: Set(provider.name().to_owned()),
        provider_ref: Set(None),
        amount_pence: Set(inv.outstanding_pence),
        status: Set(CheckoutStatus::Open),
        failures: Set(0),
        message: Set(None),
        payment_id: Set(None),
        keep_card: Set(keep_card),
        created_at: Set(crate::service::now()),
        completed_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let description = format!("{} {}", inv.number, inv.description);
    let started = provider
        .start_checkout(&CheckoutRequest {
            checkout_id: id,
            amount: Money::from_pence(inv.outstanding_pence),
            description: &description,
            email: &m.email,
            success_url: return_url(&providers.base_url, id),
            cancel_url: format!("{}/portal/payments", providers.base_url),
            save_card,
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "starting a card payment failed");
            AppError::Conflict(
                "The card payment service is not answering. No money has been taken. Try again later."
                    .into(),
            )
        })?;
    checkout::Entity::update_many()
        .col_expr(
            checkout::Column::ProviderRef,
            sea_orm::sea_query::Expr::value(started.provider_ref),
        )
        .filter(checkout::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(started.redirect_url)
}

/// A checkout as its pages show it.
#[derive(Clone, Debug)]
pub struct CheckoutView {
    pub id: Uuid,
    pub status: CheckoutStatus,
    pub amount: Money,
    pub invoice_number: String,
    pub description: String,
    pub message: Option<String>,
    pub failures: i32,
    pub receipt_number: Option<String>,
    pub membership_number: i64,
    /// The period a paid renewal or reinstatement created: (first day, last day).
    pub new_period: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    /// The card kept for automatic renewal ("Card ending 4242"), when the member agreed to it on
    /// paying and the payment went through.
    pub card_kept: Option<String>,
}

async fn view(db: &DatabaseConnection, c: checkout::Model) -> Result<CheckoutView, AppError> {
    let inv = document::Entity::find_by_id(c.invoice_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let receipt_number = match c.payment_id {
        Some(pid) => document::Entity::find()
            .filter(document::Column::RelatedId.eq(pid))
            .one(db)
            .await?
            .map(|d| d.number),
        None => None,
    };
    let m = crate::entity::member::Entity::find_by_id(c.member_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let period_id = crate::entity::renewal::Entity::find()
        .filter(crate::entity::renewal::Column::InvoiceId.eq(c.invoice_id))
        .filter(
            crate::entity::renewal::Column::Status.eq(crate::entity::renewal::RenewalStatus::Paid),
        )
        .one(db)
        .await?
        .and_then(|r| r.period_id);
    let new_period = match period_id {
        Some(id) => crate::entity::period::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|p| (p.start_on, p.end_on)),
        None => None,
    };
    let card_kept = if c.keep_card && c.status == CheckoutStatus::Paid {
        crate::entity::saved_card::Entity::find()
            .filter(crate::entity::saved_card::Column::MemberId.eq(c.member_id))
            .filter(crate::entity::saved_card::Column::AutoRenew.eq(true))
            .one(db)
            .await?
            .map(|s| s.label)
            .filter(|l| !l.is_empty())
    } else {
        None
    };
    Ok(CheckoutView {
        new_period,
        card_kept,
        id: c.id,
        status: c.status,
        amount: Money::from_pence(c.amount_pence),
        invoice_number: inv.number,
        description: inv.description,
        message: c.message,
        failures: c.failures,
        receipt_number,
        membership_number: m.membership_number,
    })
}

/// The sandbox's hosted page reads its checkout: only for the signed-in member it belongs to (or
/// someone acting for their organisation), like the return page.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn sandbox_view(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<CheckoutView, AppError> {
    let v = own_view(db, actor, id).await?;
    let c = checkout::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|c| c.provider == "sandbox")
        .ok_or(AppError::NotFound)?;
    debug_assert_eq!(c.id, v.id);
    Ok(v)
}

/// A member reads how their checkout ended, on returning from the provider.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn own_view(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<CheckoutView, AppError> {
    let c = own_checkout(db, actor, id).await?;
    view(db, c).await
}

/// Passes authorised card refunds to their provider: each `pending` one once (the provider's
/// idempotency key is the request id), marking it `done` or `failed` with the provider's message.
/// Answers how many were tried.
#[tracing::instrument(skip_all)]
pub async fn process_refunds(
    db: &DatabaseConnection,
    providers: &Providers,
) -> Result<usize, AppError> {
    let pending = money_request::Entity::find()
        .filter(money_request::Column::ProviderStatus.eq(RefundStatus::Pending))
        .order_by_asc(money_request::Column::DecidedAt)
        .all(db)
        .await?;
    let n = pending.len();
    for r in pending {
        let Some(pid) = r.payment_id else { continue };
        let Some(p) = payment::Entity::find_by_id(pid).one(db).await? else {
            continue;
        };
        let result = match p.provider.as_deref().and_then(|n| providers.by_name(n)) {
            Some(provider) => provider
                .refund(
                    &p.reference,
                    Money::from_pence(r.amount_pence),
                    &format!("refund-{}", r.id),
                )
                .await
                .map_err(|e| e.to_string()),
            None => Err(format!(
                "the provider {} is not configured",
                p.provider.as_deref().unwrap_or("(none)")
            )),
        };
        let mut am: money_request::ActiveModel = r.into();
        match result {
            Ok(reference) => {
                am.provider_status = Set(Some(RefundStatus::Done));
                am.provider_ref = Set(Some(reference));
                am.provider_error = Set(None);
            }
            Err(e) => {
                tracing::warn!(error = %e, "a card refund failed at the provider");
                am.provider_status = Set(Some(RefundStatus::Failed));
                am.provider_error = Set(Some(e));
            }
        }
        am.update(db).await?;
    }
    if n > 0 {
        crate::service::events::publish(db, crate::service::events::Topic::Payments).await;
    }
    Ok(n)
}

/// The sandbox's hosted page takes card `card_number` for checkout `id`: checks the card, tells our
/// webhook endpoint the outcome in a signed event, and answers what the page should show.
#[tracing::instrument(skip_all)]
pub async fn sandbox_pay(
    db: &DatabaseConnection,
    actor: &crate::domain::Actor,
    providers: &Providers,
    id: Uuid,
    card_number: &str,
) -> Result<SandboxOutcome, AppError> {
    if providers.active.name() != "sandbox" {
        return Err(AppError::NotFound);
    }
    let co = own_checkout(db, actor, id).await?;
    if co.provider != "sandbox" {
        return Err(AppError::NotFound);
    }
    if co.status == CheckoutStatus::Paid {
        return Ok(SandboxOutcome::Paid(return_url(&providers.base_url, id)));
    }
    let Some(digits) = card_digits(card_number) else {
        let mut e = FieldErrors::new();
        e.add(
            "card_number",
            "Enter a card number of 12 to 19 digits, as it is shown on the card",
        );
        return Err(AppError::Validation(e));
    };
    let now = crate::service::now().timestamp();
    let event_id = format!("evt_sbx_{}", crate::service::new_id().simple());
    // The "fails, then succeeds" card succeeds when its own processing error was the last failure.
    let retried = co.message.as_deref() == Some(PROCESSING_ERROR);
    let (event, outcome) = match (test_card(&digits), retried) {
        (TestCard::Succeeds | TestCard::SavedChargesDeclined, _)
        | (TestCard::FailsThenSucceeds, true) => (
            json!({
                "id": event_id,
                "object": "event",
                "type": "checkout.session.completed",
                "created": now,
                "data": {"object": {
                    "id": co.id.to_string(),
                    "object": "checkout.session",
                    "client_reference_id": co.id.to_string(),
                    "payment_intent": format!("sbx_pi_{}", co.id.simple()),
                    "amount_total": co.amount_pence,
                    "currency": "gbp",
                    "payment_status": "paid",
                    "payment_method": sandbox_card_token(&digits),
                }},
            }),
            SandboxOutcome::Paid(return_url(&providers.base_url, id)),
        ),
        (card, _) => {
            let message = if card == TestCard::Declined {
                DECLINED
            } else {
                PROCESSING_ERROR
            };
            (
                json!({
                    "id": event_id,
                    "object": "event",
                    "type": "payment_intent.payment_failed",
                    "created": now,
                    "data": {"object": {
                        "id": format!("sbx_pi_{}", co.id.simple()),
                        "object": "payment_intent",
                        "amount": co.amount_pence,
                        "metadata": {"checkout_id": co.id.to_string()},
                        "last_payment_error": {"message": message},
                    }},
                }),
                SandboxOutcome::Failed(message.to_owned()),
            )
        }
    };
    let body = serde_json::to_vec(&event).map_err(AppError::internal)?;
    let signature = sign(&providers.sandbox_secret, now, &body);
    match &providers.delivery {
        Delivery::Direct(db) => {
            verify(&providers.sandbox_secret, &signature, &body, now)
                .map_err(AppError::internal)?;
            let ev = super::webhooks::parse(&body).map_err(AppError::internal)?;
            super::webhooks::handle(db, "sandbox", ev, &providers.base_url).await?;
        }
        Delivery::Http(base) => {
            let res = reqwest::Client::new()
                .post(format!("{base}/webhooks/sandbox"))
                .header("content-type", "application/json")
                .header("Sandbox-Signature", signature)
                .body(body)
                .send()
                .await
                .map_err(AppError::internal)?;
            if !res.status().is_success() {
                return Err(AppError::internal(format!(
                    "the webhook endpoint answered {}",
                    res.status()
                )));
            }
        }
    }
    Ok(outcome)
}

/// A checkout, if `actor` may see it (their own, or their organisation's); `NotFound` otherwise.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn own_checkout(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<checkout::Model, AppError> {
    let c = checkout::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let m = crate::entity::member::Entity::find_by_id(c.member_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::service::access::reachable_member(db, actor, m.number()).await?;
    Ok(c)
}
