//! The password rule (`domain::password`) at every place a password is set, on every test database:
//! creating an account, resetting a forgotten password, changing it, a staff account made with a
//! password, and accepting a staff or representative invitation. A common password ("password1234",
//! on the list) and one containing the address ("jo.bloggs@example.com1" for jo.bloggs@example.com)
//! are refused with a message that says why, and nothing is saved.
#![cfg(feature = "testing")]

use guildhall::domain::{Actor, AppError, Role};
use guildhall::entity::{auth_token, category, outbox_message, user};
use guildhall::service::identity::{self, NewStaff};
use guildhall::service::members::enrol::{self, NewMemberInput, NewRepresentative};
use guildhall::service::members::record::DetailsInput;
use guildhall::testing::{databases, register, registration, seed_categories, staff, BASE};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

const JO: &str = "jo.bloggs@example.com";
const COMMON: &str = "password1234";
const WITH_EMAIL: &str = "jo.bloggs@example.com1";
const TOO_COMMON: &str = "This password is too common";
const HAS_EMAIL: &str = "Your password must not contain your email address";
const GOOD: &str = "correct horse battery";

/// The message given for `field`, when `r` is a validation error.
fn message<T: std::fmt::Debug>(r: Result<T, AppError>, field: &str) -> String {
    match r {
        Err(AppError::Validation(f)) => f.get(field).map(str::to_owned).unwrap_or_default(),
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
}

fn assert_refused<T: std::fmt::Debug>(r: Result<T, AppError>, field: &str, why: &str) {
    let m = message(r, field);
    assert!(m.starts_with(why), "{field}: {m:?} should say {why:?}");
}

async fn user_by_email(db: &DatabaseConnection, email: &str) -> Option<user::Model> {
    user::Entity::find()
        .filter(user::Column::EmailKey.eq(email.to_lowercase()))
        .one(db)
        .await
        .expect("query")
}

async fn token_from_mail(db: &DatabaseConnection, user_id: uuid::Uuid, template: &str) -> String {
    // The link is made when the message is delivered (the stored one shows it withheld).
    let mail = guildhall::testing::deliver_all(db)
        .await
        .into_iter()
        .find(|m| m.user_id == Some(user_id) && m.template == template)
        .expect("a message");
    let path = "/reset-password?token=";
    let start = mail.body_text.find(path).expect("link in message") + path.len();
    mail.body_text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Tries both bad passwords through `reset_password` with `token`, then proves nothing changed: the
/// hash is the same and the link still works (with a sound password).
async fn both_refused_at_reset(db: &DatabaseConnection, token: &str, user_id: uuid::Uuid) {
    let before = user::Entity::find_by_id(user_id)
        .one(db)
        .await
        .expect("q")
        .expect("user");
    assert_refused(
        identity::reset_password(db, token, COMMON.into(), BASE).await,
        "password",
        TOO_COMMON,
    );
    assert_refused(
        identity::reset_password(db, token, WITH_EMAIL.into(), BASE).await,
        "password",
        HAS_EMAIL,
    );
    let after = user::Entity::find_by_id(user_id)
        .one(db)
        .await
        .expect("q")
        .expect("user");
    assert_eq!(before.password_hash, after.password_hash, "nothing saved");
    assert_eq!(
        auth_token::Entity::find()
            .filter(auth_token::Column::UserId.eq(user_id))
            .filter(auth_token::Column::UsedAt.is_not_null())
            .count(db)
            .await
            .expect("count"),
        0,
        "the link is not used up by a refused password"
    );
    identity::reset_password(db, token, GOOD.into(), BASE)
        .await
        .expect("a sound password is taken");
}

#[tokio::test]
async fn creating_an_account_refuses_a_common_password_or_one_containing_the_address() {
    for t in databases().await {
        let db = &t.db;
        for (password, why) in [(COMMON, TOO_COMMON), (WITH_EMAIL, HAS_EMAIL)] {
            let jo = registration("Jo", "Bloggs", JO, password);
            let r = identity::register(db, &Actor::anonymous(), jo, BASE).await;
            assert_refused(r, "password", why);
        }
        assert_eq!(user::Entity::find().count(db).await.expect("count"), 0);
        assert_eq!(
            outbox_message::Entity::find()
                .count(db)
                .await
                .expect("count"),
            0,
            "nothing saved, nothing sent ({})",
            t.name
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn resetting_a_forgotten_password_refuses_common_ones_and_the_address() {
    for t in databases().await {
        let db = &t.db;
        register(db, registration("Jo", "Bloggs", JO, GOOD)).await;
        let u = user_by_email(db, JO).await.expect("account");
        identity::request_password_reset(db, JO, BASE)
            .await
            .expect("reset asked for");
        let token = token_from_mail(db, u.id, "password_reset").await;
        both_refused_at_reset(db, &token, u.id).await;
        t.finish().await;
    }
}

#[tokio::test]
async fn changing_a_password_refuses_common_ones_and_the_address() {
    for t in databases().await {
        let db = &t.db;
        register(db, registration("Jo", "Bloggs", JO, GOOD)).await;
        let u = user_by_email(db, JO).await.expect("account");
        let jo = Actor::member(u.id, &u.email);
        for (password, why) in [(COMMON, TOO_COMMON), (WITH_EMAIL, HAS_EMAIL)] {
            let r = identity::change_password(db, &jo, GOOD.into(), password.into(), BASE).await;
            assert_refused(r, "new_password", why);
        }
        let after = user_by_email(db, JO).await.expect("account");
        assert_eq!(u.password_hash, after.password_hash, "nothing saved");
        t.finish().await;
    }
}

#[tokio::test]
async fn a_staff_account_made_with_a_password_refuses_common_ones_and_the_address() {
    for t in databases().await {
        let db = &t.db;
        for (password, why) in [(COMMON, TOO_COMMON), (WITH_EMAIL, HAS_EMAIL)] {
            let r = identity::create_staff(
                db,
                &staff(Role::Admin),
                NewStaff {
                    email: JO.into(),
                    given_name: "Jo".into(),
                    family_name: "Bloggs".into(),
                    roles: vec![Role::Officer],
                    password: Some(password.into()),
                },
                BASE,
            )
            .await;
            assert_refused(r, "password", why);
        }
        assert!(user_by_email(db, JO).await.is_none(), "nothing saved");
        t.finish().await;
    }
}

#[tokio::test]
async fn accepting_a_staff_invitation_refuses_common_passwords_and_the_address() {
    for t in databases().await {
        let db = &t.db;
        let id = identity::invite_staff(
            db,
            &staff(Role::Admin),
            "Jo".into(),
            "Bloggs".into(),
            JO.into(),
            vec![Role::Officer],
            BASE,
        )
        .await
        .expect("invited");
        let token = token_from_mail(db, id, "staff_invite").await;
        both_refused_at_reset(db, &token, id).await;
        t.finish().await;
    }
}

#[tokio::test]
async fn accepting_a_representative_invitation_refuses_common_passwords_and_the_address() {
    for t in databases().await {
        let db = &t.db;
        seed_categories(db).await;
        let org_cat = category::Entity::find()
            .filter(category::Column::Code.eq("ORG-LV"))
            .one(db)
            .await
            .expect("q")
            .expect("category")
            .id;
        let org = enrol::create_member(
            db,
            &staff(Role::Officer),
            &NewMemberInput {
                kind: "organisation".into(),
                category_id: org_cat.to_string(),
                starts_on: guildhall::service::today().to_string(),
                payment: "unpaid".into(),
                details: DetailsInput {
                    organisation_name: "Calder Counselling".into(),
                    given_name: "Nora".into(),
                    family_name: "Newman".into(),
                    email: Some("office@calder-counselling.example".into()),
                    address_line1: "3 Mill Lane".into(),
                    town: "Halifax".into(),
                    postcode: "HX1 1AA".into(),
                    country: "GB".into(),
                    ..Default::default()
                },
            },
        )
        .await
        .expect("organisation");
        let rep = enrol::add_representative(
            db,
            &staff(Role::Officer),
            org.id,
            &NewRepresentative {
                email: JO.into(),
                given_name: "Jo".into(),
                family_name: "Bloggs".into(),
                job_title: "Chair".into(),
            },
            BASE,
        )
        .await
        .expect("representative");
        let token = token_from_mail(db, rep.id, "representative_added").await;
        both_refused_at_reset(db, &token, rep.id).await;
        t.finish().await;
    }
}
