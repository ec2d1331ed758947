//! Second factors and staff account management at the service level, on every test database.
#![cfg(feature = "testing")]

use guildhall::domain::{Actor, AppError, Permission, Role};
use guildhall::entity::{audit_log, recovery_code, session, user_totp};
use guildhall::service::mfa::{self, Passed, SecretKey};
use guildhall::service::{identity, staff};
use guildhall::testing::{databases, BASE};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

const PASSWORD: &str = "a long staff password";

fn key() -> SecretKey {
    SecretKey::from_passphrase("the test installation key, long enough")
}

fn now_secs() -> u64 {
    guildhall::service::now().timestamp() as u64
}

async fn new_staff(db: &DatabaseConnection, email: &str, roles: Vec<Role>) -> Uuid {
    identity::create_staff(
        db,
        &Actor::system("test"),
        identity::NewStaff {
            email: email.into(),
            given_name: "Grace".into(),
            family_name: "Hopper".into(),
            roles,
            password: Some(PASSWORD.into()),
        },
        BASE,
    )
    .await
    .expect("staff created")
}

async fn actor_of(db: &DatabaseConnection, id: Uuid) -> Actor {
    identity::load_actor(db, id)
        .await
        .expect("load")
        .expect("an enabled account")
}

/// Enrols `id` with a fresh secret; answers the enrolment (secret and recovery codes).
async fn enrolled(db: &DatabaseConnection, id: Uuid) -> mfa::Enrolment {
    let e = mfa::new_enrolment("someone@guildhall.test").expect("enrolment");
    let code = mfa::code_at(&e.secret_base32, now_secs()).expect("code");
    let me = actor_of(db, id).await;
    mfa::enrol(db, &key(), &me, id, &e, &code)
        .await
        .expect("enrolled");
    e
}

async fn audited(db: &DatabaseConnection, id: Uuid, action: &str) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::EntityId.eq(id.to_string()))
        .filter(audit_log::Column::Action.eq(action))
        .count(db)
        .await
        .expect("count")
}

async fn add_session(db: &DatabaseConnection, id: Uuid) {
    let now = guildhall::service::now();
    session::ActiveModel {
        id: Set(format!("s-{}", Uuid::now_v7())),
        user_id: Set(Some(id)),
        data: Set("{}".into()),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::hours(1)),
    }
    .insert(db)
    .await
    .expect("session");
}

async fn sessions_of(db: &DatabaseConnection, id: Uuid) -> u64 {
    session::Entity::find()
        .filter(session::Column::UserId.eq(id))
        .count(db)
        .await
        .expect("count")
}

fn field_message(e: &AppError, field: &str) -> String {
    e.fields()
        .and_then(|f| f.get(field))
        .unwrap_or_else(|| panic!("a message on {field}: {e:?}"))
        .to_owned()
}

#[tokio::test]
async fn a_staff_member_sets_up_an_authenticator_and_each_code_works_only_once() {
    for t in databases().await {
        let db = &t.db;
        let id = new_staff(db, "grace@guildhall.test", vec![Role::Officer]).await;
        assert!(!mfa::is_enrolled(db, id).await.expect("q"));
        let e = mfa::new_enrolment("grace@guildhall.test").expect("enrolment");
        let me = actor_of(db, id).await;

        let wrong = mfa::enrol(db, &key(), &me, id, &e, "000000")
            .await
            .expect_err("a wrong code is refused");
        assert!(field_message(&wrong, "code").contains("not right"));
        assert!(!mfa::is_enrolled(db, id).await.expect("q"));

        let now = mfa::code_at(&e.secret_base32, now_secs()).expect("code");
        mfa::enrol(db, &key(), &me, id, &e, &now)
            .await
            .expect("enrolled");
        assert!(mfa::is_enrolled(db, id).await.expect("q"));
        assert_eq!(audited(db, id, "mfa_enrolled").await, 1);
        assert_eq!(
            mfa::recovery_codes_left(db, id).await.expect("q"),
            mfa::RECOVERY_CODES
        );

        // The code used to enrol cannot sign in: it has been used.
        let replay = mfa::verify(db, &key(), id, &now)
            .await
            .expect_err("replayed");
        assert!(field_message(&replay, "code").contains("already been used"));
        // The next step's code works (one step of clock drift is allowed), once.
        let next = mfa::code_at(&e.secret_base32, now_secs() + 30).expect("code");
        assert_eq!(
            mfa::verify(db, &key(), id, &next).await.expect("passes"),
            Passed::Code
        );
        let again = mfa::verify(db, &key(), id, &next)
            .await
            .expect_err("replayed");
        assert!(field_message(&again, "code").contains("already been used"));
        let wrong = mfa::verify(db, &key(), id, "123456")
            .await
            .expect_err("wrong");
        assert!(field_message(&wrong, "code").contains("not right"));

        // Enrolling again is refused while one is set up.
        let twice = mfa::enrol(db, &key(), &me, id, &e, &next)
            .await
            .expect_err("already enrolled");
        assert!(matches!(twice, AppError::Conflict(_)), "{twice:?}");
        t.finish().await;
    }
}

#[tokio::test]
async fn the_secret_is_sealed_and_useless_without_the_installation_key() {
    for t in databases().await {
        let db = &t.db;
        let id = new_staff(db, "sealed@guildhall.test", vec![Role::Officer]).await;
        let e = enrolled(db, id).await;
        let row = user_totp::Entity::find_by_id(id)
            .one(db)
            .await
            .expect("q")
            .expect("row");
        assert!(!row.secret_sealed.contains(&e.secret_base32));
        assert!(row.secret_sealed.starts_with("v1."));
        let codes = recovery_code::Entity::find()
            .filter(recovery_code::Column::UserId.eq(id))
            .all(db)
            .await
            .expect("q");
        assert_eq!(codes.len(), mfa::RECOVERY_CODES);
        for c in &codes {
            assert!(!e.recovery_codes.contains(&c.code_hash));
        }
        let code = mfa::code_at(&e.secret_base32, now_secs() + 30).expect("code");
        let other = SecretKey::from_passphrase("another installation's key entirely");
        assert!(matches!(
            mfa::verify(db, &other, id, &code).await,
            Err(AppError::Internal { .. })
        ));
        t.finish().await;
    }
}

#[tokio::test]
async fn five_wrong_codes_in_a_row_pause_the_code_step() {
    for t in databases().await {
        let db = &t.db;
        let id = new_staff(db, "guess@guildhall.test", vec![Role::Officer]).await;
        let e = enrolled(db, id).await;
        for i in 0..mfa::MAX_FAILURES {
            let r = mfa::verify(db, &key(), id, "999999").await;
            assert!(
                matches!(r, Err(AppError::Validation(_))),
                "attempt {i}: {r:?}"
            );
        }
        let right = mfa::code_at(&e.secret_base32, now_secs() + 30).expect("code");
        assert_eq!(
            mfa::verify(db, &key(), id, &right).await,
            Err(AppError::RateLimited),
            "paused even for the right code"
        );
        assert_eq!(
            mfa::verify(db, &key(), id, &e.recovery_codes[0]).await,
            Err(AppError::RateLimited),
            "and for a recovery code"
        );
        assert_eq!(audited(db, id, "mfa_paused").await, 1);
        t.finish().await;
    }
}

#[tokio::test]
async fn a_recovery_code_works_once_in_place_of_a_code() {
    for t in databases().await {
        let db = &t.db;
        let id = new_staff(db, "lost.phone@guildhall.test", vec![Role::Officer]).await;
        let e = enrolled(db, id).await;
        let typed = e.recovery_codes[3].to_uppercase();
        assert_eq!(
            mfa::verify(db, &key(), id, &typed).await.expect("passes"),
            Passed::RecoveryCode {
                left: mfa::RECOVERY_CODES - 1
            }
        );
        let again = mfa::verify(db, &key(), id, &e.recovery_codes[3])
            .await
            .expect_err("used up");
        assert!(field_message(&again, "code").contains("not right"));
        assert_eq!(audited(db, id, "mfa_recovery_code_used").await, 1);
        t.finish().await;
    }
}

#[tokio::test]
async fn members_turn_their_authenticator_off_with_their_password_and_staff_need_an_admin() {
    for t in databases().await {
        let db = &t.db;
        guildhall::service::seed::demo(db, BASE)
            .await
            .expect("demo");
        let admin = actor_of(
            db,
            guildhall::testing::staff_actor(db, "admin@guildhall.test", Role::Admin)
                .await
                .user_id
                .expect("id"),
        )
        .await;
        // The demo staff accounts have the published demo authenticator.
        assert!(mfa::is_enrolled(db, admin.user_id.expect("id"))
            .await
            .expect("q"));

        let member = identity::load_actor(db, {
            let u = guildhall::entity::user::Entity::find()
                .filter(
                    guildhall::entity::user::Column::EmailKey
                        .eq(guildhall::service::seed::DEMO_MEMBER),
                )
                .one(db)
                .await
                .expect("q")
                .expect("member");
            u.id
        })
        .await
        .expect("q")
        .expect("member actor");
        let mid = member.user_id.expect("id");
        enrolled(db, mid).await;
        let wrong = mfa::turn_off(db, &member, mid, Some("not my password".into()))
            .await
            .expect_err("wrong password");
        assert!(field_message(&wrong, "password").contains("not right"));
        mfa::turn_off(db, &member, mid, Some("guildhall-demo".into()))
            .await
            .expect("turned off");
        assert!(!mfa::is_enrolled(db, mid).await.expect("q"));
        assert_eq!(audited(db, mid, "mfa_disabled").await, 1);
        // An admin cannot touch a member's.
        enrolled(db, mid).await;
        assert_eq!(
            mfa::turn_off(db, &admin, mid, None).await,
            Err(AppError::Forbidden)
        );

        let sid = new_staff(db, "phone@guildhall.test", vec![Role::Officer]).await;
        enrolled(db, sid).await;
        let officer = actor_of(db, sid).await;
        assert!(matches!(
            mfa::turn_off(db, &officer, sid, Some(PASSWORD.into())).await,
            Err(AppError::Conflict(_))
        ));
        add_session(db, sid).await;
        mfa::turn_off(db, &admin, sid, None)
            .await
            .expect("admin resets");
        assert!(!mfa::is_enrolled(db, sid).await.expect("q"));
        assert_eq!(sessions_of(db, sid).await, 0, "signed out everywhere");
        t.finish().await;
    }
}

#[tokio::test]
async fn disabling_a_staff_account_ends_its_sessions_at_once_but_never_ones_own() {
    for t in databases().await {
        let db = &t.db;
        let admin_id = new_staff(db, "boss@guildhall.test", vec![Role::Admin]).await;
        let admin = actor_of(db, admin_id).await;
        let id = new_staff(db, "leaver@guildhall.test", vec![Role::Officer]).await;
        add_session(db, id).await;
        add_session(db, id).await;
        assert!(staff::still_allowed(db, id, Permission::StaffArea)
            .await
            .expect("q"));

        let officer = actor_of(db, id).await;
        assert_eq!(
            staff::set_disabled(db, &officer, admin_id, true).await,
            Err(AppError::Forbidden)
        );
        let own = staff::set_disabled(db, &admin, admin_id, true)
            .await
            .expect_err("not oneself");
        assert!(matches!(own, AppError::Conflict(_)), "{own:?}");

        staff::set_disabled(db, &admin, id, true)
            .await
            .expect("disabled");
        assert_eq!(sessions_of(db, id).await, 0);
        assert!(identity::load_actor(db, id).await.expect("q").is_none());
        assert!(!staff::still_allowed(db, id, Permission::StaffArea)
            .await
            .expect("q"));
        assert_eq!(audited(db, id, "staff_disabled").await, 1);
        let refused = identity::authenticate(db, "leaver@guildhall.test", PASSWORD.into(), BASE)
            .await
            .expect("q");
        assert_eq!(refused.err(), Some(identity::SignInRefusal::Disabled));

        staff::set_disabled(db, &admin, id, false)
            .await
            .expect("enabled");
        assert!(identity::load_actor(db, id).await.expect("q").is_some());
        assert_eq!(audited(db, id, "staff_enabled").await, 1);
        t.finish().await;
    }
}

#[tokio::test]
async fn removing_a_role_takes_effect_at_once_and_an_admin_keeps_their_own() {
    for t in databases().await {
        let db = &t.db;
        let admin_id = new_staff(db, "chief@guildhall.test", vec![Role::Admin]).await;
        let admin = actor_of(db, admin_id).await;
        let id = new_staff(
            db,
            "mover@guildhall.test",
            vec![Role::Officer, Role::Finance],
        )
        .await;
        add_session(db, id).await;

        staff::remove_role(db, &admin, id, Role::Finance)
            .await
            .expect("removed");
        assert_eq!(
            identity::roles_of(db, id).await.expect("q"),
            vec![Role::Officer]
        );
        assert_eq!(sessions_of(db, id).await, 0);
        assert!(!actor_of(db, id).await.can(Permission::Reconcile));
        assert_eq!(audited(db, id, "staff_role_removed").await, 1);
        let missing = staff::remove_role(db, &admin, id, Role::Finance)
            .await
            .expect_err("not held");
        assert!(matches!(missing, AppError::Conflict(_)));

        staff::remove_role(db, &admin, id, Role::Officer)
            .await
            .expect("removed");
        assert!(
            !staff::still_allowed(db, id, Permission::StaffArea)
                .await
                .expect("q"),
            "no role, no staff area"
        );

        let own = staff::remove_role(db, &admin, admin_id, Role::Admin)
            .await
            .expect_err("not one's own admin role");
        assert!(matches!(own, AppError::Conflict(_)), "{own:?}");
        assert!(actor_of(db, admin_id).await.can(Permission::ManageStaff));
        t.finish().await;
    }
}
