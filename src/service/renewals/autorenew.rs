//! Automatic renewal: a member with a saved card may have each renewal charged to it. The advance notice
//! goes at least `NOTICE_WORKING_DAYS` working days before the charge; the charge and its retries are the
//! dunning routine's ([`super::dunning`]).

use crate::domain::membership_number::MembershipNumber;
use crate::domain::money::Money;
use crate::domain::Actor;
use crate::domain::AppError;
use crate::entity::audit_log::AuditAction;
use crate::entity::category;
use crate::entity::document;
use crate::entity::member;
use crate::entity::notice;
use crate::entity::renewal;
use crate::entity::renewal::{RenewalKind, RenewalStatus};
use crate::entity::saved_card;
use crate::mail::templates;
use crate::service::audit;
use crate::service::money::providers::PaymentProvider;
use crate::service::renewals::dunning;
use crate::service::renewals::dunning::Owed;
use crate::service::renewals::instalments;
use crate::service::renewals::notices::{ended_members, live_member, notice_row};
use crate::service::settings::calendar;
use chrono::NaiveDate;
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::Set;
use sea_orm::ColumnTrait;
use sea_orm::ConnectionTrait;
use sea_orm::DatabaseConnection;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use serde_json::json;
use uuid::Uuid;

/// Working days' notice before each automatic charge.
pub const NOTICE_WORKING_DAYS: i32 = 10;

/// What automatic renewal did in a daily run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoRenewReport {
    pub notices: u64,
    pub charged: u64,
    pub declined: u64,
    pub suspended: u64,
}

/// A member's automatic renewal as the portal shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoRenew {
    /// Whether the provider in use can save cards.
    pub available: bool,
    pub on: bool,
    /// "Card ending 4242" once a card is saved.
    pub card: Option<String>,
    /// The next charge: day and amount, once the notice is sent.
    pub next_charge: Option<(NaiveDate, Money)>,
    /// Declined charges of the open renewal so far.
    pub failures: i32,
}

/// The automatic renewal of member `member_id`.
pub async fn auto_renew<C: ConnectionTrait>(
    db: &C,
    member_id: Uuid,
    provider: &dyn PaymentProvider,
) -> Result<AutoRenew, AppError> {
    let card = saved_card::Entity::find()
        .filter(saved_card::Column::MemberId.eq(member_id))
        .one(db)
        .await?;
    let open = renewal::Entity::find()
        .filter(renewal::Column::MemberId.eq(member_id))
        .filter(renewal::Column::Status.eq(RenewalStatus::Open))
        .filter(renewal::Column::Kind.eq(RenewalKind::Renewal))
        .one(db)
        .await?;
    let on = card.as_ref().is_some_and(|c| c.auto_renew);
    Ok(AutoRenew {
        available: provider.saves_cards(),
        on,
        card: card
            .as_ref()
            .filter(|c| !c.token.is_empty())
            .map(|c| c.label.clone()),
        next_charge: open.as_ref().filter(|_| on).and_then(|r| {
            r.next_charge_on
                .map(|d| (d, Money::from_pence(r.amount_pence)))
        }),
        failures: open.map(|r| r.charge_attempts).unwrap_or(0),
    })
}

/// Whether member `m` may turn automatic renewal on: the provider must keep cards, and a member who
/// has resigned (or whose membership has ended) has nothing to renew.
pub async fn may_turn_on<C: ConnectionTrait>(
    db: &C,
    m: &crate::entity::member::Model,
    provider: &dyn PaymentProvider,
) -> Result<(), AppError> {
    if !provider.saves_cards() {
        return Err(AppError::Conflict(
            "Automatic renewal is not available at the moment.".into(),
        ));
    }
    let h = crate::service::history::history(db, m.id).await?;
    if crate::service::history::status_today(m, &h).has_resigned() {
        return Err(AppError::Conflict(
            "You have resigned, so your membership will not renew. Automatic renewal cannot be turned on."
                .into(),
        ));
    }
    Ok(())
}

/// A member turns automatic renewal of membership `number` on or off. Turning it on with no card saved
/// yet saves the next card they pay with.
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %number))]
pub async fn set_auto_renew(
    db: &DatabaseConnection,
    actor: &Actor,
    number: MembershipNumber,
    on: bool,
    provider: &dyn PaymentProvider,
) -> Result<(), AppError> {
    let txn = crate::service::begin(db).await?;
    let m = crate::service::access::reachable_member(&txn, actor, number).await?;
    if on {
        may_turn_on(&txn, &m, provider).await?;
    }
    let now = crate::service::now();
    let existing = saved_card::Entity::find()
        .filter(saved_card::Column::MemberId.eq(m.id))
        .one(&txn)
        .await?;
    let before = existing.as_ref().is_some_and(|c| c.auto_renew);
    match existing {
        Some(c) => {
            let mut am: saved_card::ActiveModel = c.into();
            am.auto_renew = Set(on);
            am.updated_at = Set(now);
            am.update(&txn).await?;
        }
        None => {
            saved_card::ActiveModel {
                id: Set(crate::service::new_id()),
                member_id: Set(m.id),
                provider: Set(provider.name().to_owned()),
                token: Set(String::new()),
                label: Set(String::new()),
                auto_renew: Set(on),
                monthly: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
    }
    if !on {
        // Monthly payments not yet started go back to one annual invoice the member pays themselves;
        // a plan already under way carries on for this year.
        for r in renewal::Entity::find()
            .filter(renewal::Column::MemberId.eq(m.id))
            .filter(renewal::Column::Status.eq(RenewalStatus::Open))
            .all(&txn)
            .await?
        {
            if let Some(p) =
                crate::service::renewals::instalments::live_for_renewal(&txn, r.id).await?
            {
                crate::service::renewals::instalments::revert(
                    &txn,
                    actor,
                    &p,
                    "automatic renewal turned off",
                )
                .await?;
            }
        }
        saved_card::Entity::update_many()
            .col_expr(
                saved_card::Column::Monthly,
                sea_orm::sea_query::Expr::value(false),
            )
            .filter(saved_card::Column::MemberId.eq(m.id))
            .exec(&txn)
            .await?;
        // A charge already announced is not taken.
        renewal::Entity::update_many()
            .col_expr(
                renewal::Column::NextChargeOn,
                sea_orm::sea_query::Expr::value(Option::<NaiveDate>::None),
            )
            .filter(renewal::Column::MemberId.eq(m.id))
            .filter(renewal::Column::Status.eq(RenewalStatus::Open))
            .exec(&txn)
            .await?;
    }
    audit::record(
        &txn,
        actor,
        "member",
        m.id,
        AuditAction::AutoRenewChanged,
        Some(json!({"auto_renew": before})),
        Some(json!({"auto_renew": on})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The member chose to pay monthly (`true`: automatic renewal on, by instalments, saving the next card
/// they pay with) or in full (`false`: an existing choice of monthly payments is dropped). In the
/// caller's transaction.
pub(crate) async fn card_choice<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    member_id: Uuid,
    provider: &str,
    monthly: bool,
) -> Result<(), AppError> {
    let now = crate::service::now();
    let existing = saved_card::Entity::find()
        .filter(saved_card::Column::MemberId.eq(member_id))
        .one(db)
        .await?;
    let before = existing
        .as_ref()
        .map(|c| json!({"auto_renew": c.auto_renew, "monthly": c.monthly}));
    match existing {
        Some(c) if c.monthly == monthly && (c.auto_renew || !monthly) => return Ok(()),
        Some(c) => {
            let mut am: saved_card::ActiveModel = c.into();
            am.monthly = Set(monthly);
            if monthly {
                am.auto_renew = Set(true);
            }
            am.updated_at = Set(now);
            am.update(db).await?;
        }
        None if !monthly => return Ok(()),
        None => {
            saved_card::ActiveModel {
                id: Set(crate::service::new_id()),
                member_id: Set(member_id),
                provider: Set(provider.to_owned()),
                token: Set(String::new()),
                label: Set(String::new()),
                auto_renew: Set(true),
                monthly: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
        }
    }
    audit::record(
        db,
        actor,
        "member",
        member_id,
        AuditAction::PaymentChoiceChanged,
        before,
        Some(json!({"monthly": monthly, "auto_renew": monthly})),
    )
    .await?;
    Ok(())
}

/// How the member recognises a saved card: the sandbox's tokens end with the card's last four digits;
/// a Stripe customer (`cus_…`) keeps the card it last paid with, whose digits we are not told.
fn card_label(token: &str) -> String {
    if token.starts_with("cus_") {
        return "Card saved with our payment provider".into();
    }
    let last4 = token
        .char_indices()
        .rev()
        .nth(3)
        .map_or(token, |(i, _)| &token[i..]);
    format!("Card ending {last4}")
}

/// The member paid by card with `token` at `provider`: when they renew automatically, that card is the
/// one charged from now on; when they agreed on paying to the card being kept (`keep`), automatic
/// renewal is turned on with it. In the caller's transaction (the webhook's).
pub async fn card_used<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    member_id: Uuid,
    provider: &str,
    token: &str,
    keep: bool,
) -> Result<(), AppError> {
    let existing = saved_card::Entity::find()
        .filter(saved_card::Column::MemberId.eq(member_id))
        .one(db)
        .await?;
    let was_on = existing.as_ref().is_some_and(|c| c.auto_renew);
    if !was_on && !keep {
        return Ok(());
    }
    if existing
        .as_ref()
        .is_some_and(|c| c.token == token && c.provider == provider && c.auto_renew)
    {
        return Ok(());
    }
    let label = card_label(token);
    let now = crate::service::now();
    let before = existing.as_ref().map(|c| c.label.clone());
    match existing {
        Some(c) => {
            let mut am: saved_card::ActiveModel = c.into();
            am.provider = Set(provider.to_owned());
            am.token = Set(token.to_owned());
            am.label = Set(label.clone());
            am.auto_renew = Set(true);
            am.updated_at = Set(now);
            am.update(db).await?;
        }
        None => {
            saved_card::ActiveModel {
                id: Set(crate::service::new_id()),
                member_id: Set(member_id),
                provider: Set(provider.to_owned()),
                token: Set(token.to_owned()),
                label: Set(label.clone()),
                auto_renew: Set(true),
                monthly: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
        }
    }
    if !was_on {
        audit::record(
            db,
            actor,
            "member",
            member_id,
            AuditAction::AutoRenewChanged,
            Some(json!({"auto_renew": false})),
            Some(json!({"auto_renew": true, "agreed": "when paying by card"})),
        )
        .await?;
    }
    // A renewal whose charges were declined is tried again with the new card at the next run.
    renewal::Entity::update_many()
        .col_expr(
            renewal::Column::NextChargeOn,
            sea_orm::sea_query::Expr::value(crate::service::today()),
        )
        .filter(renewal::Column::MemberId.eq(member_id))
        .filter(renewal::Column::Status.eq(RenewalStatus::Open))
        .filter(renewal::Column::ChargeAttempts.gt(0))
        .exec(db)
        .await?;
    audit::record(
        db,
        actor,
        "member",
        member_id,
        AuditAction::CardSaved,
        Some(json!({"card": before})),
        Some(json!({"card": label})),
    )
    .await?;
    Ok(())
}

/// Sends the advance notices due and takes the charges due for members renewing automatically.
pub(crate) async fn auto_renewals(
    db: &DatabaseConnection,
    actor: &Actor,
    as_of: NaiveDate,
    provider: &dyn PaymentProvider,
) -> Result<AutoRenewReport, AppError> {
    let mut report = AutoRenewReport::default();
    if !provider.saves_cards() {
        return Ok(report);
    }
    let cal = calendar(db).await?;
    let cards = saved_card::Entity::find()
        .filter(saved_card::Column::AutoRenew.eq(true))
        .filter(saved_card::Column::Token.ne(""))
        .filter(saved_card::Column::Provider.eq(provider.name()))
        .all(db)
        .await?;
    let ended = ended_members(db).await?;
    for card in cards {
        if ended.contains(&card.member_id) {
            continue;
        }
        let Some(r) = renewal::Entity::find()
            .filter(renewal::Column::MemberId.eq(card.member_id))
            .filter(renewal::Column::Status.eq(RenewalStatus::Open))
            .filter(renewal::Column::Kind.eq(RenewalKind::Renewal))
            .one(db)
            .await?
        else {
            continue;
        };
        let Some(m) = live_member(db, card.member_id).await? else {
            continue;
        };
        let Some(inv) = match r.invoice_id {
            Some(id) => document::Entity::find_by_id(id).one(db).await?,
            None => None,
        }
        .filter(|i| i.outstanding_pence > 0) else {
            continue;
        };
        let amount = Money::from_pence(inv.outstanding_pence);
        let notice_key = format!("autorenew-notice:{}", r.period_start);
        let noticed = notice::Entity::find()
            .filter(notice::Column::MemberId.eq(m.id))
            .filter(notice::Column::Key.eq(notice_key.clone()))
            .one(db)
            .await?
            .is_some();
        if !noticed {
            // The notice goes 10 working days before the renewal date; if that day has passed (the
            // member turned it on late), the charge moves so that the notice is still 10 working days
            // ahead of it.
            let notice_by = cal.add_working_days(r.period_start, -NOTICE_WORKING_DAYS);
            if as_of < notice_by {
                continue;
            }
            let charge_on = std::cmp::Ord::max(
                r.period_start,
                cal.add_working_days(as_of, NOTICE_WORKING_DAYS),
            );
            let txn = crate::service::begin(db).await?;
            notice::Entity::insert(notice_row(m.id, notice_key, as_of))
                .exec_without_returning(&txn)
                .await?;
            let cat = category::Entity::find_by_id(r.category_id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound)?;
            send_notice(&txn, actor, &m, &r, &cat, &card, amount, charge_on).await?;
            txn.commit().await?;
            report.notices += 1;
            continue;
        }
        if r.next_charge_on.filter(|d| *d <= as_of).is_none() {
            continue;
        }
        if crate::service::renewals::instalments::live_for_renewal(db, r.id)
            .await?
            .is_some()
        {
            // Its instalments are collected by `instalments::collect`.
            continue;
        }
        let attempt = dunning::Attempt {
            member: &m,
            card: &card,
            invoice: &inv,
            owed: Owed::Renewal(&r),
            attempt: r.charge_attempts + 1,
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

/// The advance notice of an automatic renewal charged on `charge_on`, in the caller's transaction: for
/// a member paying monthly the renewal becomes a plan (instalment 1 on that day) and the notice gives
/// the instalments; otherwise the renewal's charge is set for that day and the notice gives the amount.
/// Audited as `auto_renew_notice` either way.
#[expect(
    clippy::too_many_arguments,
    reason = "the notice's facts, each needed: who, what is renewed, the card and the day"
)]
async fn send_notice<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    m: &member::Model,
    r: &renewal::Model,
    cat: &category::Model,
    card: &saved_card::Model,
    amount: Money,
    charge_on: NaiveDate,
) -> Result<(), AppError> {
    let base_url = templates::default_base_url();
    let day = |d: NaiveDate| d.format("%-d %B %Y").to_string();
    let mut message = json!({
        "number": MembershipNumber::text_of(m.membership_number),
        "charge_on": day(charge_on),
        "card": card.label,
        "starts": day(r.period_start),
        "new_end": day(r.period_end),
        "manage_url": format!("{base_url}/portal/renew"),
        "base_url": base_url,
    });
    let (template, audited) = if card.monthly && instalments::allowed(cat) {
        // A member paying monthly renews onto a new plan: instalment 1 on the renewal date.
        let plan = instalments::start(txn, actor, m, r, cat, Some(charge_on)).await?;
        let first = Money::from_pence(plan.first_pence);
        let regular = Money::from_pence(plan.regular_pence);
        message["count"] = json!(plan.count);
        message["first"] = json!(first.to_string());
        message["regular"] = json!(regular.to_string());
        message["total"] = json!(Money::from_pence(plan.total_pence).to_string());
        message["second_on"] = json!(day(instalments::due_on(r.period_start, 2)));
        message["last_on"] = json!(day(instalments::due_on(
            r.period_start,
            i32::from(plan.count)
        )));
        (
            "instalment_plan_notice",
            json!({"charge_on": charge_on, "first": first.to_string(), "regular": regular.to_string(), "instalments": plan.count, "card": card.label}),
        )
    } else {
        let mut am: renewal::ActiveModel = r.clone().into();
        am.next_charge_on = Set(Some(charge_on));
        am.update(txn).await?;
        message["amount"] = json!(amount.to_string());
        (
            "auto_renew_notice",
            json!({"charge_on": charge_on, "amount": amount.to_string(), "card": card.label}),
        )
    };
    audit::record(
        txn,
        actor,
        "member",
        m.id,
        AuditAction::AutoRenewNotice,
        None,
        Some(audited),
    )
    .await?;
    crate::service::money::notify(txn, m, template, message).await
}
