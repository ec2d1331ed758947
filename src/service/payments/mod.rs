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

use crate::domain::{Actor, AppError};
use crate::entity::{document, payment};
use crate::service::money::{self, Incoming, Taken};
use crate::service::renewals::settle;
use sea_orm::ConnectionTrait;

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
