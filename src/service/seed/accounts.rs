//! Single members with portal accounts and histories, for tests, demonstrations and the browser tests.

use super::catalogue::categories;
use super::fake::{member_row, FakeMember, FAMILY, GIVEN};
use super::{user_exists, DEMO_PASSWORD};
use crate::domain::email::Email;
use crate::domain::person::PersonName;
use crate::domain::{Actor, AppError};
use crate::entity::{category, member, user};
use crate::service::{counters, identity};
use chrono::{Datelike, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};

/// How a demo member's history ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Paid up to the period covering today.
    Active,
    /// The last period ended a few days ago and its renewal is unpaid.
    Grace,
    /// The last period ended months ago and was never renewed.
    Lapsed,
    /// Paid up, and has resigned at the end of the current period.
    Resigning,
}

/// Periods of twelve months from `joined_on`, one after another up to today, paid shortly before each
/// started, ending as `shape` says; a resignation event for `Shape::Resigning`. Returns how many
/// periods were written.
pub async fn add_history<C: ConnectionTrait>(
    db: &C,
    member_id: uuid::Uuid,
    category_id: uuid::Uuid,
    joined_on: NaiveDate,
    today: NaiveDate,
    shape: Shape,
    how_paid: &str,
) -> Result<usize, AppError> {
    use crate::entity::{membership_event, period};
    let tracked = crate::service::summary::track(db, &[member_id]).await?;
    let now = crate::service::now();
    let mut start = joined_on;
    let mut written = 0;
    while start <= today {
        let next = start
            .checked_add_months(chrono::Months::new(12))
            .unwrap_or(start);
        if next <= start {
            break;
        }
        let end = next - chrono::Duration::days(1);
        let current = end >= today;
        let lapsed_gap = shape == Shape::Lapsed && end + chrono::Duration::days(60) >= today;
        if lapsed_gap {
            break;
        }
        let unpaid = current && shape == Shape::Grace;
        period::ActiveModel {
            id: Set(crate::service::new_id()),
            member_id: Set(member_id),
            category_id: Set(category_id),
            start_on: Set(start),
            end_on: Set(end),
            paid_state: Set(crate::entity::period::PaidStatus::paid(!unpaid)),
            paid_on: Set((!unpaid).then(|| start - chrono::Duration::days(12))),
            mandate_active: Set(how_paid == "direct_debit"),
            how_paid: Set(crate::domain::membership::HowPaid::from_method(how_paid)),
            created_at: Set(now),
            created_by: Set("seed".into()),
        }
        .insert(db)
        .await?;
        written += 1;
        if current && shape == Shape::Resigning {
            membership_event::ActiveModel {
                id: Set(crate::service::new_id()),
                member_id: Set(member_id),
                kind: Set(crate::entity::membership_event::EventKind::Resigned),
                on_date: Set(today - chrono::Duration::days(3)),
                effective_on: Set(Some(next)),
                reason: Set(None),
                detail: Set(None),
                created_at: Set(now),
                created_by: Set("seed".into()),
            }
            .insert(db)
            .await?;
        }
        start = next;
    }
    tracked.apply(db).await?;
    Ok(written)
}

/// A member with a confirmed portal account, in the category with `category_code`, joined two years
/// and a month ago with a history ending as `shape` says. For tests and demonstrations.
#[expect(
    clippy::too_many_arguments,
    reason = "a demo account's facts, each chosen by the caller"
)]
pub async fn member_account<C: ConnectionTrait>(
    db: &C,
    given: &'static str,
    family: &'static str,
    email: &str,
    password: &str,
    postcode: &str,
    category_code: &str,
    shape: Shape,
) -> Result<(user::Model, member::Model), AppError> {
    let today = crate::service::today();
    let joined = today - chrono::Duration::days(2 * 365 + 30);
    member_account_joined(
        db,
        given,
        family,
        email,
        password,
        postcode,
        category_code,
        shape,
        joined,
    )
    .await
}

/// [`member_account`], joined on `joined`.
#[expect(
    clippy::too_many_arguments,
    reason = "a demo account's facts, each chosen by the caller"
)]
pub async fn member_account_joined<C: ConnectionTrait>(
    db: &C,
    given: &'static str,
    family: &'static str,
    email: &str,
    password: &str,
    postcode: &str,
    category_code: &str,
    shape: Shape,
    joined: NaiveDate,
) -> Result<(user::Model, member::Model), AppError> {
    let now = crate::service::now();
    let today = crate::service::today();
    let cat = category::Entity::find()
        .filter(category::Column::Code.eq(category_code))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let hash = identity::hash_password(password.into()).await?;
    let e = Email::parse(email).map_err(AppError::internal)?;
    let u = identity::insert_user(
        db,
        &e,
        &PersonName::parse(given).map_err(AppError::internal)?,
        &PersonName::parse(family).map_err(AppError::internal)?,
        identity::KIND_MEMBER,
        hash,
        Some(now),
    )
    .await?;
    let number = counters::take(db, counters::MEMBERSHIP_NUMBER, 1).await?;
    let f = FakeMember {
        given,
        family,
        email: e.as_str().to_owned(),
        phone: "07700 900123".into(),
        line1: "1 High Street".into(),
        town: "Leeds",
        county: "West Yorkshire",
        postcode: postcode.into(),
        joined_on: joined,
        journal_by_post: true,
        email_news: false,
        register_consent: true,
    };
    let m = member_row(f, number, cat.id, Some(u.id), now)
        .insert(db)
        .await?;
    crate::service::summary::count_new(db, &[m.id]).await?;
    add_history(db, m.id, cat.id, joined, today, shape, "card").await?;
    Ok((u, m))
}

/// Adds members `renew1@guildhall.test` … `renewN@guildhall.test` (demo password) in the Registered
/// category, joined three years ago less 20 days: their membership ends in 20 days, so they can renew.
/// Existing ones are left alone. Returns how many were added.
pub async fn renewal_accounts(db: &DatabaseConnection, n: u32) -> Result<u32, AppError> {
    let txn = crate::service::begin(db).await?;
    categories(&txn, &Actor::system("seed")).await?;
    let today = crate::service::today();
    let anniversary = today + chrono::Duration::days(20);
    let joined = anniversary
        .with_year(anniversary.year() - 3)
        .unwrap_or(anniversary - chrono::Duration::days(3 * 365));
    let mut added = 0;
    for i in 1..=n {
        let email = format!("renew{i}@guildhall.test");
        if user_exists(&txn, &email).await? {
            continue;
        }
        let k = usize::try_from(i).unwrap_or(0);
        member_account_joined(
            &txn,
            GIVEN[(k * 3) % GIVEN.len()],
            FAMILY[(k * 11) % FAMILY.len()],
            &email,
            DEMO_PASSWORD,
            "LS2 7EW",
            "REG",
            Shape::Active,
            joined,
        )
        .await?;
        added += 1;
    }
    txn.commit().await?;
    Ok(added)
}

/// An organisation member in the category with `category_code`, represented by `representatives`.
pub async fn organisation<C: ConnectionTrait>(
    db: &C,
    name: &str,
    email: &str,
    category_code: &str,
    representatives: &[uuid::Uuid],
) -> Result<member::Model, AppError> {
    use crate::entity::member_representative;
    let now = crate::service::now();
    let today = crate::service::today();
    let cat = category::Entity::find()
        .filter(category::Column::Code.eq(category_code))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let number = counters::take(db, counters::MEMBERSHIP_NUMBER, 1).await?;
    let joined = today - chrono::Duration::days(400);
    let f = FakeMember {
        given: "",
        family: "",
        email: email.to_lowercase(),
        phone: "0113 496 0000".into(),
        line1: "2 Park Row".into(),
        town: "Leeds",
        county: "West Yorkshire",
        postcode: "LS1 5HN".into(),
        joined_on: joined,
        journal_by_post: true,
        email_news: true,
        register_consent: true,
    };
    let mut row = member_row(f, number, cat.id, None, now);
    row.kind = Set("organisation".into());
    row.organisation_name = Set(Some(name.to_owned()));
    row.search_family = Set(crate::domain::search::fold(name));
    let m = row.insert(db).await?;
    crate::service::summary::count_new(db, &[m.id]).await?;
    add_history(
        db,
        m.id,
        cat.id,
        joined,
        today,
        Shape::Active,
        "bank_transfer",
    )
    .await?;
    for u in representatives {
        member_representative::ActiveModel {
            member_id: Set(m.id),
            user_id: Set(*u),
            job_title: Set(Some("Membership contact".into())),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
    }
    Ok(m)
}

/// Adds members `portal1@guildhall.test` … `portalN@guildhall.test`, each with a confirmed portal
/// account (the demo password) and a paid-up membership, for trying the portal as several people (the
/// browser tests use them). Existing ones are left alone. Returns how many were added.
pub async fn portal_accounts(db: &DatabaseConnection, n: u32) -> Result<u32, AppError> {
    let txn = crate::service::begin(db).await?;
    categories(&txn, &Actor::system("seed")).await?;
    let mut added = 0;
    for i in 1..=n {
        let email = format!("portal{i}@guildhall.test");
        if user_exists(&txn, &email).await? {
            continue;
        }
        let k = usize::try_from(i).unwrap_or(0);
        let given = GIVEN[k % GIVEN.len()];
        let family = FAMILY[(k * 7) % FAMILY.len()];
        member_account(
            &txn,
            given,
            family,
            &email,
            DEMO_PASSWORD,
            "LS1 4AP",
            "REG",
            Shape::Active,
        )
        .await?;
        added += 1;
    }
    txn.commit().await?;
    Ok(added)
}
