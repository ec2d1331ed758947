//! Histories in bulk for members without one: periods, resignations, and each period's invoice and
//! payment with their ledger transactions.

use crate::domain::membership::HowPaid;
use crate::domain::AppError;
use crate::entity::document::{DocumentKind, DocumentStatus};
use crate::entity::payment::Direction;
use crate::entity::period::PaidStatus;
use crate::entity::{category, member};
use crate::service::counters;
use chrono::NaiveDate;
use rand::{rngs::StdRng, Rng, SeedableRng};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, QuerySelect};

/// Gives every member who has no periods yet a history of up to `years` years: periods of twelve months
/// from a joining day spread over those years, paid shortly before each began (by card, cheque, transfer
/// or Direct Debit), most members paid up, some lapsed (and a few of those reinstated after a gap), some
/// in grace, some resigned. Written in bulk, one transaction per 5,000 members, reporting members done.
/// For volume tests and benchmarks of the dashboard and reports.
pub async fn history(
    db: &DatabaseConnection,
    years: u32,
    mut progress: impl FnMut(u64),
) -> Result<u64, AppError> {
    use crate::entity::{membership_event, period};
    let today = crate::service::today();
    let now = crate::service::now();
    let with: std::collections::HashSet<uuid::Uuid> = period::Entity::find()
        .select_only()
        .column(period::Column::MemberId)
        .distinct()
        .into_tuple::<uuid::Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let members: Vec<(uuid::Uuid, uuid::Uuid)> = member::Entity::find()
        .select_only()
        .column(member::Column::Id)
        .column(member::Column::CategoryId)
        .into_tuple()
        .all(db)
        .await?;
    let todo: Vec<(uuid::Uuid, uuid::Uuid)> = members
        .into_iter()
        .filter(|(id, _)| !with.contains(id))
        .collect();
    let mut rng = StdRng::seed_from_u64(u64::from(years) ^ todo.len() as u64);
    let span = i64::from(years.max(1)) * 365;
    let methods = ["card", "cheque", "bank_transfer", "direct_debit"];
    let mut done = 0u64;
    let fees: std::collections::HashMap<uuid::Uuid, i64> = category::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.annual_fee_pence))
        .collect();
    for chunk in todo.chunks(5_000) {
        let mut periods = Vec::new();
        let mut events = Vec::new();
        let mut billed: Vec<Billed> = Vec::new();
        for (id, cat) in chunk {
            let joined = today - chrono::Duration::days(rng.gen_range(0..span));
            let how = methods[rng.gen_range(0..methods.len())];
            // 0–69 paid up, 70–79 lapsed, 80–84 lapsed then reinstated, 85–91 in grace, 92–99 resigned.
            let fate = rng.gen_range(0..100);
            // Lapsers stop after one to three years; some come back after four to ten months.
            let lapse_after = (70..=84).contains(&fate).then(|| rng.gen_range(1..=3));
            let mut start = joined;
            let mut n = 0;
            let mut reinstated = false;
            while start <= today {
                let next = start
                    .checked_add_months(chrono::Months::new(12))
                    .unwrap_or(start);
                if next <= start {
                    break;
                }
                let end = next - chrono::Duration::days(1);
                let unpaid = end >= today && (85..=91).contains(&fate);
                let paid_on =
                    (!unpaid).then(|| start - chrono::Duration::days(rng.gen_range(1..20)));
                billed.push(Billed {
                    member_id: *id,
                    category_id: *cat,
                    start,
                    paid_on,
                    how,
                });
                periods.push(period::ActiveModel {
                    id: Set(crate::service::new_id()),
                    member_id: Set(*id),
                    category_id: Set(*cat),
                    start_on: Set(start),
                    end_on: Set(end),
                    paid_state: Set(PaidStatus::paid(!unpaid)),
                    paid_on: Set(paid_on),
                    mandate_active: Set(how == "direct_debit"),
                    how_paid: Set(HowPaid::from_method(how)),
                    created_at: Set(now),
                    created_by: Set("seed".into()),
                });
                n += 1;
                start = next;
                if lapse_after == Some(n) {
                    if fate >= 80 && !reinstated {
                        reinstated = true;
                        n = -100;
                        start = next + chrono::Duration::days(rng.gen_range(120..300));
                    } else {
                        break;
                    }
                }
            }
            if fate >= 92 {
                let on = today - chrono::Duration::days(rng.gen_range(0..span.min(400)));
                if on >= joined {
                    events.push(membership_event::ActiveModel {
                        id: Set(crate::service::new_id()),
                        member_id: Set(*id),
                        kind: Set(crate::entity::membership_event::EventKind::Resigned),
                        on_date: Set(on),
                        effective_on: Set(Some(on)),
                        reason: Set(None),
                        detail: Set(None),
                        created_at: Set(now),
                        created_by: Set("seed".into()),
                    });
                }
            }
        }
        let txn = crate::service::begin(db).await?;
        crate::service::insert_rows(&txn, periods).await?;
        crate::service::insert_rows(&txn, events).await?;
        money_history(&txn, &billed, &fees, now).await?;
        txn.commit().await?;
        done += chunk.len() as u64;
        progress(done);
    }
    crate::service::summary::rebuild(db).await?;
    crate::service::money::debts::rebuild(db).await?;
    Ok(done)
}

/// A seeded period's invoice and (when paid) payment.
struct Billed {
    member_id: uuid::Uuid,
    category_id: uuid::Uuid,
    start: NaiveDate,
    paid_on: Option<NaiveDate>,
    how: &'static str,
}

/// Writes each seeded period's invoice (issued a month before the period starts, or when paid if that
/// is earlier) and, when paid, the payment with its receipt, each with its ledger transaction, as the
/// money services would have: an unpaid period leaves its invoice open.
async fn money_history<C: ConnectionTrait>(
    db: &C,
    billed: &[Billed],
    fees: &std::collections::HashMap<uuid::Uuid, i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    use crate::domain::ledger::Account;
    use crate::entity::{document, ledger_entry, ledger_transaction, payment};
    use crate::service::money::document_number;
    if billed.is_empty() {
        return Ok(());
    }
    let paid = billed.iter().filter(|b| b.paid_on.is_some()).count();
    let first_invoice = counters::take(db, "invoice_number", billed.len() as i64).await?;
    let first_receipt = counters::take(db, "receipt_number", paid as i64).await?;
    let mut docs = Vec::with_capacity(billed.len() + paid);
    let mut txns = Vec::with_capacity(billed.len() + paid);
    let mut entries = Vec::with_capacity(2 * (billed.len() + paid));
    let mut payments = Vec::with_capacity(paid);
    let mut receipts = 0i64;
    let mut post = |txns: &mut Vec<ledger_transaction::ActiveModel>,
                    key: String,
                    kind: &str,
                    cause: String,
                    b: &Billed,
                    method: Option<&str>,
                    on: NaiveDate,
                    lines: [(Account, bool, i64); 2]| {
        let tid = crate::service::new_id();
        txns.push(ledger_transaction::ActiveModel {
            id: Set(tid),
            idempotency_key: Set(key),
            kind: Set(kind.into()),
            cause: Set(cause),
            member_id: Set(Some(b.member_id)),
            memo: Set(None),
            created_at: Set(now),
            created_by: Set("seed".into()),
            method: Set(method.map(str::to_owned)),
            value_date: Set(Some(on)),
        });
        for (account, names_member, amount) in lines {
            entries.push(ledger_entry::ActiveModel {
                id: Set(crate::service::new_id()),
                transaction_id: Set(tid),
                account_code: Set(account.code().to_owned()),
                member_id: Set(names_member.then_some(b.member_id)),
                amount_pence: Set(amount),
            });
        }
        tid
    };
    for (i, b) in billed.iter().enumerate() {
        let fee = fees.get(&b.category_id).copied().unwrap_or(0).max(1);
        let issued = b.paid_on.map_or(b.start - chrono::Duration::days(30), |p| {
            std::cmp::Ord::min(p, b.start - chrono::Duration::days(30))
        });
        let number = document_number(DocumentKind::Invoice, first_invoice + i as i64);
        let description = format!("Membership from {}", b.start.format("%-d %B %Y"));
        let tid = post(
            &mut txns,
            format!("seed:invoice:{number}"),
            "invoice",
            format!("{number}: membership"),
            b,
            None,
            issued,
            [
                (Account::MembersReceivable, true, fee),
                (Account::SubscriptionIncome, false, -fee),
            ],
        );
        let invoice_id = crate::service::new_id();
        docs.push(document::ActiveModel {
            id: Set(invoice_id),
            kind: Set(DocumentKind::Invoice),
            number: Set(number.clone()),
            member_id: Set(b.member_id),
            issued_on: Set(issued),
            description: Set(description),
            amount_pence: Set(fee),
            outstanding_pence: Set(if b.paid_on.is_some() { 0 } else { fee }),
            status: Set(if b.paid_on.is_some() {
                DocumentStatus::Paid
            } else {
                DocumentStatus::Open
            }),
            related_id: Set(None),
            ledger_transaction_id: Set(Some(tid)),
            created_at: Set(now),
            created_by: Set("seed".into()),
        });
        let Some(on) = b.paid_on else { continue };
        let card = b.how == "card";
        let reference = format!("SEED{}", first_invoice + i as i64);
        let tid = post(
            &mut txns,
            format!("seed:payment:{number}"),
            if card { "card_payment" } else { "bank_payment" },
            format!("{} {reference}", b.how),
            b,
            Some(b.how),
            on,
            [
                (
                    if card {
                        Account::CardClearing
                    } else {
                        Account::Bank
                    },
                    false,
                    fee,
                ),
                (Account::MembersReceivable, true, -fee),
            ],
        );
        let payment_id = crate::service::new_id();
        let receipt_id = crate::service::new_id();
        docs.push(document::ActiveModel {
            id: Set(receipt_id),
            kind: Set(DocumentKind::Receipt),
            number: Set(document_number(
                DocumentKind::Receipt,
                first_receipt + receipts,
            )),
            member_id: Set(b.member_id),
            issued_on: Set(on),
            description: Set(format!("Payment for invoice {number}")),
            amount_pence: Set(fee),
            outstanding_pence: Set(0),
            status: Set(DocumentStatus::Issued),
            related_id: Set(Some(payment_id)),
            ledger_transaction_id: Set(Some(tid)),
            created_at: Set(now),
            created_by: Set("seed".into()),
        });
        receipts += 1;
        payments.push(payment::ActiveModel {
            id: Set(payment_id),
            member_id: Set(b.member_id),
            direction: Set(Direction::In),
            method: Set(b.how.into()),
            provider: Set(card.then(|| "sandbox".to_owned())),
            reference: Set(reference),
            amount_pence: Set(fee),
            refunded_pence: Set(0),
            received_on: Set(on),
            invoice_id: Set(Some(invoice_id)),
            refund_of: Set(None),
            receipt_id: Set(Some(receipt_id)),
            ledger_transaction_id: Set(tid),
            created_at: Set(now),
            created_by: Set("seed".into()),
        });
    }
    crate::service::insert_rows(db, txns).await?;
    crate::service::insert_rows(db, entries).await?;
    crate::service::insert_rows(db, docs).await?;
    crate::service::insert_rows(db, payments).await?;
    Ok(())
}
