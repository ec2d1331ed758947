//! Payments arriving: card checkouts and the provider's webhooks, cheques and transfers staff record,
//! and the requests a second person authorises (manual invoices, credit notes, write-offs, refunds,
//! manual payments). Each payment taken is recorded through `service::money` and then settles what it
//! paid for ([`receive`]), in one transaction.
//!
//! Above money (which only records money) and the renewals wing (which settles renewals and
//! instalments); below the member record and the jobs.

pub mod card;
pub mod manual;
pub mod requests;
pub mod webhooks;

use crate::domain::money::Money;
use crate::domain::{Actor, AppError};
use crate::entity::money_request::RequestStatus;
use crate::entity::{document, money_request, payment};
use crate::service::money::{self, Incoming, Taken};
use crate::service::renewals::settle;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use uuid::Uuid;

/// Receives a payment in the caller's transaction: recorded through money (the ledger posting, once
/// per key, and the invoices it pays), then what it paid for is settled (a renewal or reinstatement
/// makes its period, an instalment moves its plan on), then the receipt and its e-mail. A repeat of the
/// key answers the payment already recorded.
pub(crate) async fn receive<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    p: Incoming<'_>,
) -> Result<(payment::Model, document::Model), AppError> {
    match money::take(db, actor, &p).await? {
        Taken::Repeat(recorded) => Ok(*recorded),
        Taken::New { posted, paid } => {
            settle::paid(db, actor, p.member, &paid, p.method, p.received_on).await?;
            money::receipt(db, actor, &p, posted).await
        }
    }
}

/// A new request raised by `actor` (user `uid`), waiting for a second person: nothing decided yet, no
/// invoice, payment or manual-payment facts (the caller sets those its kind needs).
pub(crate) fn new_request(
    actor: &Actor,
    uid: Uuid,
    kind: &str,
    member_id: Uuid,
    amount: Money,
    reason: String,
) -> money_request::ActiveModel {
    money_request::ActiveModel {
        id: Set(crate::service::new_id()),
        kind: Set(kind.to_owned()),
        member_id: Set(member_id),
        amount_pence: Set(amount.pence()),
        reason: Set(reason),
        description: Set(String::new()),
        invoice_id: Set(None),
        payment_id: Set(None),
        status: Set(RequestStatus::Pending),
        requested_by: Set(uid),
        requested_by_label: Set(actor.label.clone()),
        requested_at: Set(crate::service::now()),
        decided_by: Set(None),
        decided_by_label: Set(None),
        decided_at: Set(None),
        decision_note: Set(None),
        result: Set(None),
        provider_status: Set(None),
        provider_ref: Set(None),
        provider_error: Set(None),
        method: Set(None),
        reference: Set(None),
        received_on: Set(None),
        payment_key: Set(None),
    }
}
