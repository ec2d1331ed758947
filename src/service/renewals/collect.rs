//! Collecting the monthly instalments that fall due: each is invoiced on its day and charged to the
//! member's saved card by the dunning routine ([`super::dunning`]).

use crate::domain::money::Money;
use crate::domain::{Actor, AppError};
use crate::entity::instalment_plan::PlanStatus;
use crate::entity::{category, document, instalment_plan, renewal, saved_card};
use crate::service::money::providers::PaymentProvider;
use crate::service::renewals::dunning::{self, Owed};
use crate::service::renewals::instalments::{amount_of, describe};
use crate::service::renewals::notices::{ended_members, live_member};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};

/// What collecting instalments did in a daily run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectReport {
    pub charged: u64,
    pub declined: u64,
    pub suspended: u64,
}

/// Charges the instalments due by `as_of` to the members' saved cards at `provider`, invoicing each
/// when it falls due. Each step is its own transaction and keyed, so a run stopped and run again charges
/// nothing twice.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn collect(
    db: &DatabaseConnection,
    actor: &Actor,
    as_of: NaiveDate,
    provider: &dyn PaymentProvider,
) -> Result<CollectReport, AppError> {
    let mut report = CollectReport::default();
    if !provider.saves_cards() {
        return Ok(report);
    }
    let due = instalment_plan::Entity::find()
        .filter(instalment_plan::Column::Status.is_in([PlanStatus::Starting, PlanStatus::Active]))
        .filter(instalment_plan::Column::NextDueOn.lte(as_of))
        .order_by_asc(instalment_plan::Column::NextDueOn)
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(report);
    }
    let ended = ended_members(db).await?;
    for p in due {
        if ended.contains(&p.member_id) {
            continue;
        }
        let Some(card) = saved_card::Entity::find()
            .filter(saved_card::Column::MemberId.eq(p.member_id))
            .filter(saved_card::Column::Provider.eq(provider.name()))
            .filter(saved_card::Column::Token.ne(""))
            .one(db)
            .await?
        else {
            continue;
        };
        let Some(m) = live_member(db, p.member_id).await? else {
            continue;
        };
        let k = p.next_number;
        let inv = match p.current_invoice_id {
            Some(id) => document::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::internal("an instalment's invoice is missing"))?,
            None => {
                // The instalment is invoiced on the day it falls due.
                let r = renewal::Entity::find_by_id(p.renewal_id)
                    .one(db)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let cat = category::Entity::find_by_id(r.category_id)
                    .one(db)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let txn = crate::service::begin(db).await?;
                let inv = crate::service::money::issue_invoice(
                    &txn,
                    actor,
                    m.id,
                    &describe(k, p.count, &cat.name, r.period_start, r.period_end),
                    amount_of(&p, k),
                    Money::ZERO,
                    &format!("instalment:{}:{k}", p.id),
                    "instalment",
                )
                .await?;
                let mut am: instalment_plan::ActiveModel = p.clone().into();
                am.current_invoice_id = Set(Some(inv.id));
                am.updated_at = Set(crate::service::now());
                am.update(&txn).await?;
                txn.commit().await?;
                inv
            }
        };
        if inv.outstanding_pence <= 0 {
            continue;
        }
        let attempt = dunning::Attempt {
            member: &m,
            card: &card,
            invoice: &inv,
            owed: Owed::Instalment(&p, k),
            attempt: p.charge_attempts + 1,
            as_of,
        };
        dunning::charge(db, actor, provider, attempt).await?.tally(
            &mut report.charged,
            &mut report.declined,
            &mut report.suspended,
        );
    }
    Ok(report)
}
