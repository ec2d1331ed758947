//! Accounts end to end at the service level, on every test database.
#![cfg(feature = "testing")]

use guildhall::domain::{Actor, AppError, Role};
use guildhall::entity::outbox_message::OutboxStatus;
use guildhall::entity::{audit_log, outbox_message, user};
use guildhall::service::identity::{self, Registration, SignInRefusal};
use guildhall::service::tokens;
use guildhall::service::{counters, outbox, seed};
use guildhall::testing::{
    account_actor, databases, deliver_all, received, register, registration, BASE,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

/// Ada Lovelace's registration with the address `email`.
fn ada(email: &str) -> Registration {
    registration("Ada", "Lovelace", email, "correct horse battery")
}

async fn last_mail(db: &sea_orm::DatabaseConnection, to: &str) -> outbox_message::Model {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::ToAddress.eq(to))
        .order_by_desc(outbox_message::Column::CreatedAt)
        .order_by_desc(outbox_message::Column::Id)
        .one(db)
        .await
        .expect("query")
        .expect("a message")
}

fn link_token(body: &str, path: &str) -> String {
    let start = body.find(path).expect("link in message") + path.len();
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[tokio::test]
async fn a_person_registers_confirms_their_address_and_signs_in() {
    for t in databases().await {
        let db = &t.db;
        register(db, ada("ada@example.org")).await;
        let refused =
            identity::authenticate(db, "ada@example.org", "correct horse battery".into(), BASE)
                .await
                .expect("auth");
        assert_eq!(
            refused.err(),
            Some(SignInRefusal::NotVerified),
            "{}",
            t.name
        );
        let mail = received(db, "ada@example.org").await;
        assert_eq!(mail.template, "verify_email");
        let token = link_token(&mail.body_text, "/verify-email?token=");
        identity::verify_email(db, &token, BASE)
            .await
            .expect("verify");
        assert!(
            identity::verify_email(db, &token, BASE).await.is_err(),
            "a link works once"
        );
        let u = identity::authenticate(
            db,
            "ADA@example.org".trim(),
            "correct horse battery".into(),
            BASE,
        )
        .await
        .expect("auth");
        assert!(u.is_ok(), "signs in with the address in another case");
        assert_eq!(last_mail(db, "ada@example.org").await.template, "welcome");
        let audits = audit_log::Entity::find()
            .filter(audit_log::Column::Entity.eq("user"))
            .count(db)
            .await
            .expect("count");
        assert!(audits >= 2, "registration and confirmation are audited");
        t.finish().await;
    }
}

#[tokio::test]
async fn registering_an_address_that_has_an_account_tells_that_address_and_creates_nothing() {
    for t in databases().await {
        let db = &t.db;
        register(db, ada("bo@example.org")).await;
        identity::register(db, &Actor::anonymous(), ada("Bo@EXAMPLE.org"), BASE)
            .await
            .expect("answers the same");
        assert_eq!(user::Entity::find().count(db).await.expect("count"), 1);
        assert_eq!(
            last_mail(db, "bo@example.org").await.template,
            "account_exists"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn bad_registration_details_are_named_field_by_field_and_nothing_is_saved() {
    for t in databases().await {
        let db = &t.db;
        let bad = Registration {
            given_name: " ".into(),
            family_name: "Lovelace".into(),
            email: "not-an-address".into(),
            password: "short".into(),
        };
        let err = identity::register(db, &Actor::anonymous(), bad, BASE)
            .await
            .expect_err("refused");
        let AppError::Validation(fields) = err else {
            panic!("validation error expected")
        };
        assert!(fields.get("given_name").is_some());
        assert!(fields.get("email").is_some());
        assert!(fields
            .get("password")
            .is_some_and(|m| m.contains("10 characters")));
        assert!(fields.get("family_name").is_none());
        assert_eq!(user::Entity::find().count(db).await.expect("count"), 0);
        assert_eq!(
            outbox_message::Entity::find()
                .count(db)
                .await
                .expect("count"),
            0
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn wrong_passwords_and_unknown_addresses_are_refused_alike() {
    for t in databases().await {
        let db = &t.db;
        seed::demo(db, BASE).await.expect("demo");
        let wrong =
            identity::authenticate(db, "member@guildhall.test", "nope-nope-nope".into(), BASE)
                .await
                .expect("auth");
        let unknown =
            identity::authenticate(db, "ghost@guildhall.test", "nope-nope-nope".into(), BASE)
                .await
                .expect("auth");
        assert_eq!(wrong.err(), Some(SignInRefusal::BadCredentials));
        assert_eq!(unknown.err(), Some(SignInRefusal::BadCredentials));
        t.finish().await;
    }
}

#[tokio::test]
async fn a_password_reset_link_works_once_and_ends_other_sessions() {
    for t in databases().await {
        let db = &t.db;
        seed::demo(db, BASE).await.expect("demo");
        identity::request_password_reset(db, "member@guildhall.test", BASE)
            .await
            .expect("request");
        identity::request_password_reset(db, "nobody@guildhall.test", BASE)
            .await
            .expect("same answer for no account");
        let mail = received(db, "member@guildhall.test").await;
        assert_eq!(mail.template, "password_reset");
        let token = link_token(&mail.body_text, "/reset-password?token=");
        identity::check_reset_token(db, &token)
            .await
            .expect("usable");
        identity::reset_password(db, &token, "a brand new passphrase".into(), BASE)
            .await
            .expect("reset");
        assert!(
            identity::reset_password(db, &token, "another new passphrase".into(), BASE)
                .await
                .is_err(),
            "single use"
        );
        let ok = identity::authenticate(
            db,
            "member@guildhall.test",
            "a brand new passphrase".into(),
            BASE,
        )
        .await
        .expect("auth");
        assert!(ok.is_ok());
        let old =
            identity::authenticate(db, "member@guildhall.test", "guildhall-demo".into(), BASE)
                .await
                .expect("auth");
        assert!(old.is_err());
        assert_eq!(
            last_mail(db, "member@guildhall.test").await.template,
            "password_changed"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn a_newer_reset_link_replaces_the_older_one() {
    let t = guildhall::testing::sqlite().await;
    let db = &t.db;
    seed::demo(db, BASE).await.expect("demo");
    identity::request_password_reset(db, "member@guildhall.test", BASE)
        .await
        .expect("first");
    let first = link_token(
        &received(db, "member@guildhall.test").await.body_text,
        "/reset-password?token=",
    );
    identity::request_password_reset(db, "member@guildhall.test", BASE)
        .await
        .expect("second");
    assert!(identity::check_reset_token(db, &first).await.is_err());
}

#[tokio::test]
async fn only_admins_create_staff_and_each_role_is_recorded() {
    for t in databases().await {
        let db = &t.db;
        seed::demo(db, BASE).await.expect("demo");
        let officer = account_actor(db, "officer@guildhall.test").await;
        let admin = account_actor(db, "admin@guildhall.test").await;
        assert_eq!(officer.roles, vec![Role::Officer]);
        let input = |email: &str| identity::NewStaff {
            email: email.into(),
            given_name: "Kit".into(),
            family_name: "Marlowe".into(),
            roles: vec![Role::Supervisor, Role::Finance],
            password: None,
        };
        assert_eq!(
            identity::create_staff(db, &officer, input("kit@guildhall.test"), BASE)
                .await
                .err(),
            Some(AppError::Forbidden)
        );
        let id = identity::create_staff(db, &admin, input("kit@guildhall.test"), BASE)
            .await
            .expect("created");
        assert_eq!(
            identity::roles_of(db, id).await.expect("roles"),
            vec![Role::Supervisor, Role::Finance]
        );
        let invite = received(db, "kit@guildhall.test").await;
        assert_eq!(invite.template, "staff_invite");
        assert!(
            invite.body_text.contains("/reset-password?token="),
            "the invitation lets them choose a password"
        );
        let dup = identity::create_staff(db, &admin, input("KIT@guildhall.test"), BASE)
            .await
            .expect_err("duplicate");
        assert!(dup.fields().is_some_and(|f| f.get("email").is_some()));
        t.finish().await;
    }
}

/// Two requests for one address that race past the service's check meet the database's unique
/// constraint: the second is told the address is taken (a field error, 422), not "something went wrong".
#[tokio::test]
async fn an_address_taken_by_a_racing_request_is_a_field_error_not_a_fault() {
    use guildhall::domain::email::Email;
    use guildhall::domain::person::PersonName;
    for t in databases().await {
        let db = &t.db;
        let email = Email::parse("race@example.org").expect("email");
        let name = PersonName::parse("Ada").expect("name");
        let insert = |address: &'static str| {
            let email = Email::parse(address).expect("email");
            let name = name.clone();
            async move {
                identity::insert_user(
                    db,
                    &email,
                    &name,
                    &name,
                    identity::KIND_MEMBER,
                    "hash".into(),
                    None,
                )
                .await
            }
        };
        insert("race@example.org").await.expect("the first wins");
        let second = insert("RACE@example.org")
            .await
            .expect_err("the second meets the constraint");
        assert_eq!(
            second,
            AppError::field("email", "An account with this email address already exists"),
            "{}",
            t.name
        );
        assert_eq!(second.status(), 422);
        assert_eq!(
            user::Entity::find()
                .filter(user::Column::EmailKey.eq(identity::email_key(&email)))
                .count(db)
                .await
                .expect("count"),
            1
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn demo_data_loads_once_however_often_it_is_run() {
    for t in databases().await {
        let db = &t.db;
        let first = seed::demo(db, BASE).await.expect("demo");
        assert_eq!(first.accounts, 5);
        assert!(first.categories >= 10 && first.members >= 30, "{first:?}");
        let second = seed::demo(db, BASE).await.expect("again");
        assert_eq!(second, seed::DemoReport::default());
        t.finish().await;
    }
}

#[tokio::test]
async fn membership_numbers_are_sequential_and_never_reused() {
    for t in databases().await {
        let db = &t.db;
        let a = counters::take(db, counters::MEMBERSHIP_NUMBER, 1)
            .await
            .expect("a");
        let b = counters::take(db, counters::MEMBERSHIP_NUMBER, 10)
            .await
            .expect("b");
        let c = counters::take(db, counters::MEMBERSHIP_NUMBER, 1)
            .await
            .expect("c");
        assert_eq!((a, b, c), (1, 2, 12));
        let added = seed::members(db, 2_500, |_| {}).await.expect("seed");
        assert_eq!(added, 2_500);
        assert_eq!(
            counters::take(db, counters::MEMBERSHIP_NUMBER, 1)
                .await
                .expect("next"),
            2_513
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn the_outbox_lists_messages_newest_first_and_filters_by_recipient() {
    let t = guildhall::testing::sqlite().await;
    let db = &t.db;
    seed::demo(db, BASE).await.expect("demo");
    let all = outbox::list(db, None, None, 0, 100).await.expect("list");
    assert_eq!(all.total, 4, "one invitation per demo staff account");
    let one = outbox::list(db, Some(" Officer@guildhall.test "), None, 0, 100)
        .await
        .expect("filtered");
    assert_eq!(one.total, 1);
    assert!(all
        .rows
        .windows(2)
        .all(|w| w[0].created_at >= w[1].created_at));
}

/// Every way Guildhall e-mails a one-time link, and what staff (and a copy of the database) can read of
/// it: the stored message shows the link withheld, no token row holds a usable hash until the message
/// is delivered, and the delivered message's link works once.
#[tokio::test]
async fn one_time_links_are_never_stored_readable_and_are_made_at_delivery() {
    for t in databases().await {
        let db = &t.db;
        seed::demo(db, BASE).await.expect("demo");
        deliver_all(db).await;
        let admin = account_actor(db, "admin@guildhall.test").await;
        let member = account_actor(db, "member@guildhall.test").await;
        // A reset for the admin (the attack: an officer reads the link in the outbox), a new
        // account's confirmation, a staff invitation and a change of address.
        identity::request_password_reset(db, "admin@guildhall.test", BASE)
            .await
            .expect("reset");
        register(db, ada("ada@example.org")).await;
        identity::create_staff(
            db,
            &admin,
            identity::NewStaff {
                email: "kit@guildhall.test".into(),
                given_name: "Kit".into(),
                family_name: "Marlowe".into(),
                roles: vec![Role::Officer],
                password: None,
            },
            BASE,
        )
        .await
        .expect("invite");
        identity::request_email_change(
            db,
            &member,
            "guildhall-demo".into(),
            "member.new@example.org",
            BASE,
        )
        .await
        .expect("change");
        let cases = [
            (
                "admin@guildhall.test",
                "password_reset",
                "/reset-password?token=",
            ),
            ("ada@example.org", "verify_email", "/verify-email?token="),
            (
                "kit@guildhall.test",
                "staff_invite",
                "/reset-password?token=",
            ),
            (
                "member.new@example.org",
                "confirm_new_email",
                "/confirm-email?token=",
            ),
        ];
        for (to, template, _) in cases {
            let stored = last_mail(db, to).await;
            assert_eq!(stored.template, template, "{}", t.name);
            for body in [&stored.body_text, &stored.body_html] {
                assert!(body.contains(tokens::WITHHELD), "{template}: {body}");
                assert!(!body.contains("token="), "{template} stores a link: {body}");
            }
        }
        // Before delivery no token row can be matched by any token at all.
        let rows = guildhall::entity::auth_token::Entity::find()
            .filter(guildhall::entity::auth_token::Column::UsedAt.is_null())
            .all(db)
            .await
            .expect("tokens");
        assert_eq!(rows.len(), 4, "{}", t.name);
        assert!(rows.iter().all(|r| r.token_hash.starts_with("withheld:")));

        let delivered = deliver_all(db).await;
        assert_eq!(delivered.len(), 4, "{}", t.name);
        for (to, _, path) in cases {
            let mail = delivered
                .iter()
                .find(|m| m.to_address == to)
                .expect("delivered");
            assert!(!mail.body_text.contains(tokens::WITHHELD));
            let token = link_token(&mail.body_text, path);
            assert!(token.len() >= 40, "{to}: {token}");
            assert!(
                mail.body_html.contains(&token),
                "{to}: the HTML part has the link too"
            );
        }
        // What was delivered is not what is stored: the outbox still shows the link withheld.
        for (to, _, _) in cases {
            assert!(last_mail(db, to).await.body_text.contains(tokens::WITHHELD));
        }
        // The admin's delivered link works (once).
        let admin_mail = delivered
            .iter()
            .find(|m| m.to_address == "admin@guildhall.test")
            .expect("admin's");
        let token = link_token(&admin_mail.body_text, "/reset-password?token=");
        identity::reset_password(db, &token, "a brand new office passphrase".into(), BASE)
            .await
            .expect("reset with the delivered link");
        t.finish().await;
    }
}

/// A link replaced before its message went out is not sent at all (no dead links in inboxes), and
/// every link still out dies when the password is reset or changed.
#[tokio::test]
async fn links_die_when_replaced_and_when_the_password_changes() {
    for t in databases().await {
        let db = &t.db;
        seed::demo(db, BASE).await.expect("demo");
        deliver_all(db).await;
        let member = account_actor(db, "member@guildhall.test").await;
        // Two reset requests before the worker runs: only the second message goes out.
        identity::request_password_reset(db, "member@guildhall.test", BASE)
            .await
            .expect("first");
        identity::request_password_reset(db, "member@guildhall.test", BASE)
            .await
            .expect("second");
        let delivered = deliver_all(db).await;
        assert_eq!(delivered.len(), 1, "{}", t.name);
        let failed = outbox_message::Entity::find()
            .filter(outbox_message::Column::Status.eq(OutboxStatus::Failed))
            .all(db)
            .await
            .expect("failed");
        assert_eq!(failed.len(), 1);
        assert!(failed[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains(tokens::DEAD_LINK)));
        let reset = link_token(&delivered[0].body_text, "/reset-password?token=");

        // An address change is asked for and its link delivered; then the password is changed.
        identity::request_email_change(
            db,
            &member,
            "guildhall-demo".into(),
            "member.new@example.org",
            BASE,
        )
        .await
        .expect("change");
        let confirm = link_token(
            &received(db, "member.new@example.org").await.body_text,
            "/confirm-email?token=",
        );
        identity::change_password(
            db,
            &member,
            "guildhall-demo".into(),
            "a different passphrase".into(),
            BASE,
        )
        .await
        .expect("changed");
        assert!(identity::check_reset_token(db, &reset).await.is_err());
        assert!(identity::confirm_email_change(db, &confirm, BASE)
            .await
            .is_err());

        // The same after a reset: a link to change the address, then a reset, and it is dead.
        identity::request_email_change(
            db,
            &member,
            "a different passphrase".into(),
            "member.other@example.org",
            BASE,
        )
        .await
        .expect("change again");
        let confirm = link_token(
            &received(db, "member.other@example.org").await.body_text,
            "/confirm-email?token=",
        );
        identity::request_password_reset(db, "member@guildhall.test", BASE)
            .await
            .expect("reset");
        let reset = link_token(
            &received(db, "member@guildhall.test").await.body_text,
            "/reset-password?token=",
        );
        identity::reset_password(db, &reset, "yet another passphrase".into(), BASE)
            .await
            .expect("reset");
        assert!(identity::confirm_email_change(db, &confirm, BASE)
            .await
            .is_err());
        t.finish().await;
    }
}
