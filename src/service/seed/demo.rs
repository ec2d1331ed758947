//! The demo data: the categories, one staff account per role, the demo member and a few dozen members.

use super::accounts::{add_history, organisation, Shape};
use super::catalogue::categories;
use super::fake::{fake_member, member_row, FakeMember};
use super::{user_exists, DEMO_MEMBER, DEMO_PASSWORD, DEMO_STAFF};
use crate::domain::email::Email;
use crate::domain::person::PersonName;
use crate::domain::{Actor, AppError};
use crate::entity::audit_log::AuditAction;
use crate::entity::{category, member, user};
use crate::service::{audit, counters, identity};
use chrono::{Datelike, NaiveDate};
use rand::{rngs::StdRng, SeedableRng};
use sea_orm::ActiveModelTrait;
use sea_orm::ColumnTrait;
use sea_orm::DatabaseConnection;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use serde_json::json;

/// What `demo` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub categories: usize,
    pub accounts: usize,
    pub members: usize,
}

/// Loads the demo data: categories, one staff account per role, the demo member (with a portal account
/// linked to a member record) and a few dozen realistic members. Safe to run again.
#[tracing::instrument(skip(db))]
pub async fn demo(db: &DatabaseConnection, base_url: &str) -> Result<DemoReport, AppError> {
    let actor = Actor::system("seed");
    let mut report = DemoReport::default();
    let txn = crate::service::begin(db).await?;
    report.categories = categories(&txn, &actor).await?;
    // The office's contact details, unless an admin has set them already.
    if crate::service::settings::office(&txn)
        .await?
        .email
        .is_empty()
    {
        crate::service::settings::write(
            &txn,
            &actor,
            "office",
            &[
                ("office_email", "membership@guildhall.test".to_owned()),
                ("office_phone", "020 7946 0000".to_owned()),
            ],
            serde_json::json!({}),
            serde_json::json!({"office_email": "membership@guildhall.test", "office_phone": "020 7946 0000"}),
        )
        .await?;
    }
    txn.commit().await?;

    for (email, given, family, role) in DEMO_STAFF {
        if user_exists(db, email).await? {
            continue;
        }
        identity::create_staff(
            db,
            &actor,
            identity::NewStaff {
                email: email.into(),
                given_name: given.into(),
                family_name: family.into(),
                roles: vec![role],
                password: Some(DEMO_PASSWORD.into()),
            },
            base_url,
        )
        .await?;
        report.accounts += 1;
    }
    // DEMO ONLY: every demo staff account has an authenticator with the published demo secret, so the
    // demo and the browser tests can pass the second step (production mode refuses demo data).
    let key = crate::service::mfa::SecretKey::from_env();
    for (email, _, _, _) in DEMO_STAFF {
        if let Some(u) = user::Entity::find()
            .filter(user::Column::EmailKey.eq(email.to_lowercase()))
            .one(db)
            .await?
        {
            crate::service::mfa::enrol_known(db, &key, u.id, crate::service::mfa::DEMO_TOTP_SECRET)
                .await?;
        }
    }

    let txn = crate::service::begin(db).await?;
    let ind = category::Entity::find()
        .filter(category::Column::Code.eq("REG"))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let cats = category::Entity::find()
        .filter(category::Column::Audience.eq("association"))
        .filter(category::Column::Organisational.eq(false))
        .all(&txn)
        .await?;
    let today = crate::service::today();
    if !user_exists(&txn, DEMO_MEMBER).await? {
        let now = crate::service::now();
        let hash = identity::hash_password(DEMO_PASSWORD.into()).await?;
        let email = Email::parse(DEMO_MEMBER).map_err(AppError::internal)?;
        let given = PersonName::parse("Sam").map_err(AppError::internal)?;
        let family = PersonName::parse("Taylor").map_err(AppError::internal)?;
        let u = identity::insert_user(
            &txn,
            &email,
            &given,
            &family,
            identity::KIND_MEMBER,
            hash,
            Some(now),
        )
        .await?;
        let number = counters::take(&txn, counters::MEMBERSHIP_NUMBER, 1).await?;
        let f = FakeMember {
            given: "Sam",
            family: "Taylor",
            email: DEMO_MEMBER.into(),
            phone: "07700 900982".into(),
            line1: "14 Windsor Terrace".into(),
            town: "York",
            county: "North Yorkshire",
            postcode: "YO1 7HH".into(),
            joined_on: NaiveDate::from_ymd_opt(today.year() - 4, 3, 1).unwrap_or(today),
            journal_by_post: true,
            email_news: true,
            register_consent: true,
        };
        let joined = f.joined_on;
        let m = member_row(f, number, ind.id, Some(u.id), now)
            .insert(&txn)
            .await?;
        add_history(
            &txn,
            m.id,
            ind.id,
            joined,
            today,
            Shape::Active,
            "direct_debit",
        )
        .await?;
        audit::record(
            &txn,
            &actor,
            "member",
            m.id,
            AuditAction::Created,
            None,
            Some(json!({"membership_number": number, "email": DEMO_MEMBER})),
        )
        .await?;
        // Something to pay from the portal.
        crate::service::money::issue_invoice(
            &txn,
            &actor,
            m.id,
            "Annual conference 2027: member's ticket",
            crate::domain::money::Money::from_pence(4_500),
            crate::domain::money::Money::ZERO,
            &format!("demo:conference:{}", m.id),
            "demo data",
        )
        .await?;
        report.accounts += 1;
        report.members += 1;
    }
    // A few dozen realistic members, the same every time (fixed seed), added only once.
    let mut rng = StdRng::seed_from_u64(2026);
    let now = crate::service::now();
    for i in 0..36u64 {
        let f = fake_member(&mut rng, i, "demo", today);
        if member::Entity::find()
            .filter(member::Column::SearchEmail.eq(f.email.to_lowercase()))
            .one(&txn)
            .await?
            .is_some()
        {
            continue;
        }
        let cat = cats[usize::try_from(i).unwrap_or(0) % cats.len().max(1)].id;
        let number = counters::take(&txn, counters::MEMBERSHIP_NUMBER, 1).await?;
        let mut f = f;
        // A spread of histories: most paid up, some in grace, some lapsed, one resigning.
        let shape = match i % 12 {
            5 => Shape::Grace,
            7 | 11 => Shape::Lapsed,
            9 => Shape::Resigning,
            _ => Shape::Active,
        };
        if shape == Shape::Grace {
            // Their anniversary was ten days ago.
            let years = 1 + i32::try_from(i % 5).unwrap_or(0);
            let anniversary = today - chrono::Duration::days(10);
            f.joined_on = anniversary
                .with_year(anniversary.year() - years)
                .unwrap_or(anniversary - chrono::Duration::days(365));
        }
        let joined = f.joined_on;
        let how = ["direct_debit", "card", "cheque", "bank_transfer"]
            [usize::try_from(i % 4).unwrap_or(0)];
        let m = member_row(f, number, cat, None, now).insert(&txn).await?;
        add_history(&txn, m.id, cat, joined, today, shape, how).await?;
        if shape == Shape::Grace {
            // Their renewal is unpaid: an open invoice (shown in aged debt).
            let fee = cats
                .iter()
                .find(|c| c.id == cat)
                .map(|c| c.annual_fee_pence)
                .unwrap_or(0);
            if fee > 0 {
                crate::service::money::issue_invoice(
                    &txn,
                    &actor,
                    m.id,
                    "Renewal of membership",
                    crate::domain::money::Money::from_pence(fee),
                    crate::domain::money::Money::ZERO,
                    &format!("demo:renewal:{}", m.id),
                    "demo data",
                )
                .await?;
            }
        }
        report.members += 1;
    }
    // An organisation the demo member acts for.
    const DEMO_ORG_EMAIL: &str = "office@northern-counselling.example";
    if member::Entity::find()
        .filter(member::Column::SearchEmail.eq(DEMO_ORG_EMAIL))
        .one(&txn)
        .await?
        .is_none()
    {
        if let Some(u) = user::Entity::find()
            .filter(user::Column::EmailKey.eq(DEMO_MEMBER))
            .one(&txn)
            .await?
        {
            organisation(
                &txn,
                "Northern Counselling Network",
                DEMO_ORG_EMAIL,
                "ORG-LV",
                &[u.id],
            )
            .await?;
            report.members += 1;
        }
    }
    if report.members > 0 {
        audit::record(
            &txn,
            &actor,
            "seed",
            "demo",
            AuditAction::MembersAdded,
            None,
            Some(json!({"count": report.members})),
        )
        .await?;
    }
    txn.commit().await?;
    crate::service::summary::rebuild(db).await?;
    crate::service::money::debts::rebuild(db).await?;
    Ok(report)
}
