//! Member records: what members change from the portal (and cannot change of anyone else's), what
//! staff change, the timeline, status from periods, and the personal-data export. Every test runs on
//! in-memory SQLite and, when `GUILDHALL_TEST_POSTGRES` is set, on a fresh PostgreSQL database.
#![cfg(feature = "testing")]

use guildhall::domain::membership::{RemovalReason, Status};
use guildhall::domain::membership_number::MembershipNumber;
use guildhall::domain::{Actor, AppError, Role};
use guildhall::entity::{member, membership_event, outbox_message, period, session, user};
use guildhall::service::identity;
use guildhall::service::members::portal::{self, ResignWhen};
use guildhall::service::members::record::{self, DetailsInput};
use guildhall::service::members::timeline::TimelineKind;
use guildhall::service::seed::{self, Shape};
use guildhall::testing::{databases, seed_categories, staff, BASE};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

const PASSWORD: &str = "correct horse battery";

fn as_member(u: &user::Model) -> Actor {
    Actor::member(u.id, &u.email)
}

fn details_of(m: &member::Model) -> DetailsInput {
    DetailsInput {
        title: m.title.clone().unwrap_or_default(),
        given_name: m.given_name.clone(),
        family_name: m.family_name.clone(),
        preferred_name: m.preferred_name.clone().unwrap_or_default(),
        organisation_name: m.organisation_name.clone().unwrap_or_default(),
        email: None,
        phone: m.phone.clone().unwrap_or_default(),
        address_line1: m.address_line1.clone(),
        address_line2: m.address_line2.clone().unwrap_or_default(),
        town: m.town.clone(),
        county: m.county.clone().unwrap_or_default(),
        postcode: m.postcode.clone().unwrap_or_default(),
        country: m.country.clone(),
    }
}

struct World {
    a: (user::Model, member::Model),
    b: (user::Model, member::Model),
    /// Represents `org` only.
    rep: user::Model,
    org: member::Model,
    other_org: member::Model,
}

async fn world(db: &DatabaseConnection) -> World {
    seed_categories(db).await;
    let a = seed::member_account(
        db,
        "Alice",
        "Archer",
        "alice@example.org",
        PASSWORD,
        "LS1 4AP",
        "REG",
        Shape::Active,
    )
    .await
    .expect("alice");
    let b = seed::member_account(
        db,
        "Bob",
        "Baker",
        "bob@example.org",
        PASSWORD,
        "YO1 7HH",
        "IND",
        Shape::Active,
    )
    .await
    .expect("bob");
    let (rep, _) = seed::member_account(
        db,
        "Rita",
        "Reed",
        "rita@example.org",
        PASSWORD,
        "M1 1AE",
        "IND",
        Shape::Active,
    )
    .await
    .expect("rita");
    let org = seed::organisation(
        db,
        "Leeds Listening",
        "info@leeds-listening.example",
        "ORG-LV",
        &[rep.id],
    )
    .await
    .expect("org");
    let other_org = seed::organisation(
        db,
        "York Support",
        "hello@york-support.example",
        "ORG-LV",
        &[b.0.id],
    )
    .await
    .expect("other org");
    World {
        a,
        b,
        rep,
        org,
        other_org,
    }
}

async fn reload(db: &DatabaseConnection, m: &member::Model) -> member::Model {
    member::Entity::find_by_id(m.id)
        .one(db)
        .await
        .expect("load")
        .expect("exists")
}

async fn event_count(db: &DatabaseConnection, m: &member::Model) -> u64 {
    membership_event::Entity::find()
        .filter(membership_event::Column::MemberId.eq(m.id))
        .count(db)
        .await
        .expect("count")
}

/// Member A tries every portal operation on member B's record (and a representative on an
/// organisation they do not act for): each answers "not found", and nothing about B changes.
#[tokio::test]
async fn a_member_cannot_read_or_change_another_members_record() {
    for t in databases().await {
        let db = &t.db;
        let w = world(db).await;
        let alice = as_member(&w.a.0);
        let rita = as_member(&w.rep);
        let bob_before = reload(db, &w.b.1).await;
        let other_before = reload(db, &w.other_org).await;
        let mut changed = details_of(&bob_before);
        changed.town = "Hacked".into();

        type Attempt<'a> = (&'static str, &'a Actor, MembershipNumber);
        let attempts: Vec<Attempt> = vec![
            ("member A on member B", &alice, bob_before.number()),
            ("member A on an organisation", &alice, w.org.number()),
            (
                "representative on another organisation",
                &rita,
                other_before.number(),
            ),
            (
                "representative on another member",
                &rita,
                bob_before.number(),
            ),
        ];
        for (who, actor, number) in attempts {
            let calls: Vec<(&str, Result<(), AppError>)> = vec![
                (
                    "membership",
                    portal::membership(db, actor, number).await.map(|_| ()),
                ),
                (
                    "update_details",
                    portal::update_details(db, actor, number, &changed)
                        .await
                        .map(|_| ()),
                ),
                (
                    "update_preferences",
                    portal::update_preferences(db, actor, number, prefs(false, true, false)).await,
                ),
                (
                    "resign",
                    portal::resign(db, actor, number, Some(ResignWhen::Now), BASE)
                        .await
                        .map(|_| ()),
                ),
                (
                    "reachable_member",
                    guildhall::service::access::reachable_member(db, actor, number)
                        .await
                        .map(|_| ()),
                ),
            ];
            for (name, r) in calls {
                assert_eq!(
                    r.err(),
                    Some(AppError::NotFound),
                    "{}: {who}: {name}",
                    t.name
                );
            }
        }
        assert_eq!(
            reload(db, &w.b.1).await,
            bob_before,
            "{}: B unchanged",
            t.name
        );
        assert_eq!(reload(db, &w.other_org).await, other_before, "{}", t.name);
        assert_eq!(event_count(db, &w.b.1).await, 0);
        assert_eq!(event_count(db, &w.other_org).await, 0);

        // The export holds only the caller's own data.
        let export = portal::export(db, &alice).await.expect("export");
        let text = export.to_string();
        assert!(text.contains("alice@example.org"));
        assert!(!text.contains("bob@example.org"), "{}: {text}", t.name);
        assert!(!text.contains("Leeds Listening"));

        // Staff-only operations refuse members outright.
        assert_eq!(
            record::staff_record(db, &alice, bob_before.number())
                .await
                .err(),
            Some(AppError::Forbidden)
        );
        assert_eq!(
            guildhall::service::members::changes::add_note(db, &alice, bob_before.id, "x")
                .await
                .err(),
            Some(AppError::Forbidden)
        );
        assert_eq!(
            record::staff_update_details(db, &alice, bob_before.id, &changed)
                .await
                .err(),
            Some(AppError::Forbidden)
        );
        assert_eq!(
            guildhall::service::members::changes::remove(
                db,
                &alice,
                bob_before.id,
                Some(RemovalReason::Other),
                "x"
            )
            .await
            .err(),
            Some(AppError::Forbidden)
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn a_representative_acts_for_their_organisation() {
    for t in databases().await {
        let db = &t.db;
        let w = world(db).await;
        let rita = as_member(&w.rep);
        let orgs = guildhall::service::access::represented(db, &rita)
            .await
            .expect("represented");
        assert_eq!(
            orgs.iter().map(|o| o.id).collect::<Vec<_>>(),
            vec![w.org.id]
        );
        let mut d = details_of(&w.org);
        d.address_line1 = "3 Park Row".into();
        let saved = portal::update_details(db, &rita, w.org.number(), &d)
            .await
            .expect("rep updates the organisation");
        assert_eq!(saved.address_line1, "3 Park Row");
        assert_eq!(saved.organisation_name.as_deref(), Some("Leeds Listening"));
        let own = portal::membership(db, &rita, w.org.number())
            .await
            .expect("read");
        assert_eq!(own.status.status, Status::Active);
        t.finish().await;
    }
}

#[tokio::test]
async fn members_update_their_details_with_field_errors_first() {
    for t in databases().await {
        let db = &t.db;
        let w = world(db).await;
        let alice = as_member(&w.a.0);
        let n = w.a.1.number();
        let mut d = details_of(&w.a.1);
        d.postcode = "LS1 ZZZ".into();
        d.town = " ".into();
        d.phone = "12".into();
        match portal::update_details(db, &alice, n, &d).await {
            Err(AppError::Validation(f)) => {
                assert!(f.get("postcode").is_some(), "{f:?}");
                assert!(f.get("town").is_some(), "{f:?}");
                assert!(f.get("phone").is_some(), "{f:?}");
            }
            other => panic!("{}: expected field errors, got {other:?}", t.name),
        }
        assert_eq!(
            reload(db, &w.a.1).await,
            w.a.1,
            "nothing saved on a bad post"
        );
        d.postcode = "ls27ux".into();
        d.town = "Leeds".into();
        d.phone = "0113 496 0123".into();
        let saved = portal::update_details(db, &alice, n, &d)
            .await
            .expect("save");
        assert_eq!(saved.postcode.as_deref(), Some("LS2 7UX"));
        assert_eq!(saved.search_postcode, "LS27UX");
        // The change is on the staff timeline with before and after.
        let r = record::staff_record(db, &staff(Role::Officer), n)
            .await
            .expect("record");
        let change = r
            .timeline
            .iter()
            .find(|i| i.kind == TimelineKind::Change && i.title == "Details changed")
            .expect("details change on the timeline");
        assert_eq!(change.before.as_ref().unwrap()["postcode"], "LS1 4AP");
        assert_eq!(change.after.as_ref().unwrap()["postcode"], "LS2 7UX");
        assert_eq!(change.who, "alice@example.org");

        portal::update_preferences(db, &alice, n, prefs(false, true, false))
            .await
            .expect("prefs");
        let m = reload(db, &w.a.1).await;
        assert!(!m.journal_by_post && m.email_news && !m.register_consent);
        t.finish().await;
    }
}

#[tokio::test]
async fn resigning_at_period_end_keeps_the_member_until_then() {
    for t in databases().await {
        let db = &t.db;
        let w = world(db).await;
        let alice = as_member(&w.a.0);
        let n = w.a.1.number();
        let before = portal::membership(db, &alice, n).await.expect("m");
        let until = before.status.member_until.expect("paid up");
        assert_eq!(
            portal::resign(db, &alice, n, None, BASE)
                .await
                .err()
                .and_then(|e| e.fields().map(|f| f.get("when").is_some())),
            Some(true)
        );
        let effective = portal::resign(db, &alice, n, Some(ResignWhen::PeriodEnd), BASE)
            .await
            .expect("resign");
        assert_eq!(effective, until + chrono::Duration::days(1));
        let after = portal::membership(db, &alice, n).await.expect("m");
        assert_eq!(after.status.status, Status::Active);
        assert_eq!(after.status.resigning_from, Some(effective));
        assert!(matches!(
            portal::resign(db, &alice, n, Some(ResignWhen::Now), BASE).await,
            Err(AppError::Conflict(_))
        ));
        let mail = outbox_message::Entity::find()
            .filter(outbox_message::Column::Template.eq("resignation_confirmed"))
            .all(db)
            .await
            .expect("outbox");
        assert_eq!(mail.len(), 1);
        assert_eq!(mail[0].to_address, "alice@example.org");

        // Resigning now ends it today.
        let bob = as_member(&w.b.0);
        portal::resign(db, &bob, w.b.1.number(), Some(ResignWhen::Now), BASE)
            .await
            .expect("resign now");
        let b = portal::membership(db, &bob, w.b.1.number())
            .await
            .expect("b");
        assert_eq!(b.status.status, Status::Resigned);
        t.finish().await;
    }
}

#[tokio::test]
async fn staff_edit_note_change_category_and_remove_with_a_timeline() {
    for t in databases().await {
        let db = &t.db;
        let w = world(db).await;
        let off = staff(Role::Officer);
        let n = w.b.1.number();
        let mut d = details_of(&w.b.1);
        d.email = Some("bob@example.org".into());
        d.address_line1 = "9 New Road".into();
        record::staff_update_details(db, &off, w.b.1.id, &d)
            .await
            .expect("edit");
        // A member who signs in with their address changes it themselves.
        d.email = Some("bob.new@example.org".into());
        match record::staff_update_details(db, &off, w.b.1.id, &d).await {
            Err(AppError::Validation(f)) => assert!(f.get("email").is_some()),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            guildhall::service::members::changes::add_note(db, &off, w.b.1.id, "  ")
                .await
                .err()
                .and_then(|e| e.fields().map(|f| f.get("body").is_some())),
            Some(true)
        );
        guildhall::service::members::changes::add_note(
            db,
            &off,
            w.b.1.id,
            "Phoned about the journal.",
        )
        .await
        .expect("note");

        let cats = guildhall::service::members::changes::open_categories(db, &off)
            .await
            .expect("cats");
        let reg = cats.iter().find(|c| c.code == "REG").expect("REG");
        let org_cat = cats.iter().find(|c| c.code == "ORG-LV").expect("ORG");
        assert!(matches!(
            guildhall::service::members::changes::change_category(
                db, &off, w.b.1.id, org_cat.id, "x"
            )
            .await,
            Err(AppError::Validation(_))
        ));
        let periods_before = period::Entity::find()
            .filter(period::Column::MemberId.eq(w.b.1.id))
            .count(db)
            .await
            .expect("count");
        guildhall::service::members::changes::change_category(
            db,
            &off,
            w.b.1.id,
            reg.id,
            "Passed the certificate",
        )
        .await
        .expect("change category");
        let periods_after = period::Entity::find()
            .filter(period::Column::MemberId.eq(w.b.1.id))
            .count(db)
            .await
            .expect("count");
        assert_eq!(
            periods_after,
            periods_before + 1,
            "an adjustment period is added"
        );

        let r = record::staff_record(db, &off, n).await.expect("record");
        assert_eq!(r.category.code, "REG");
        assert_eq!(r.status.status, Status::Active);
        assert_eq!(r.status.category_code.as_deref(), Some("REG"));
        assert_eq!(
            r.organisations.iter().map(|o| o.id).collect::<Vec<_>>(),
            vec![w.other_org.id]
        );
        let titles: Vec<&str> = r.timeline.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles[0], "Category changed", "newest first: {titles:?}");
        assert!(titles.contains(&"Note"));
        assert!(titles.contains(&"Details changed"));
        assert!(r.timeline.windows(2).all(|p| p[0].at >= p[1].at));

        assert!(matches!(
            guildhall::service::members::changes::remove(db, &off, w.b.1.id, None, "").await,
            Err(AppError::Validation(_))
        ));
        guildhall::service::members::changes::remove(
            db,
            &off,
            w.b.1.id,
            Some(RemovalReason::Deceased),
            "",
        )
        .await
        .expect("remove");
        let m = reload(db, &w.b.1).await;
        assert!(m.stop_all_mail, "deceased stops all mail");
        let r = record::staff_record(db, &off, n).await.expect("record");
        assert_eq!(r.status.status, Status::Removed);
        assert!(matches!(
            guildhall::service::members::changes::remove(
                db,
                &off,
                w.b.1.id,
                Some(RemovalReason::Other),
                "again"
            )
            .await,
            Err(AppError::Conflict(_))
        ));
        t.finish().await;
    }
}

#[tokio::test]
async fn changing_email_needs_the_password_and_the_new_address_confirmed() {
    for t in databases().await {
        let db = &t.db;
        let w = world(db).await;
        let alice = as_member(&w.a.0);
        match identity::request_email_change(
            db,
            &alice,
            "wrong password".into(),
            "alice@new.example",
            BASE,
        )
        .await
        {
            Err(AppError::Validation(f)) => assert!(f.get("password").is_some()),
            other => panic!("{other:?}"),
        }
        match identity::request_email_change(db, &alice, PASSWORD.into(), "not an address", BASE)
            .await
        {
            Err(AppError::Validation(f)) => assert!(f.get("email").is_some()),
            other => panic!("{other:?}"),
        }
        identity::request_email_change(db, &alice, PASSWORD.into(), "alice@New.Example", BASE)
            .await
            .expect("request");
        assert_eq!(
            reload(db, &w.a.1).await.email,
            "alice@example.org",
            "nothing changes yet"
        );
        let link = guildhall::testing::received(db, "alice@new.example").await;
        assert_eq!(link.template, "confirm_new_email");
        let token = link
            .body_text
            .split("token=")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .expect("token in link")
            .to_owned();
        identity::confirm_email_change(db, &token, BASE)
            .await
            .expect("confirm");
        assert!(
            matches!(
                identity::confirm_email_change(db, &token, BASE).await,
                Err(AppError::Conflict(_))
            ),
            "single use"
        );
        let u = user::Entity::find_by_id(w.a.0.id)
            .one(db)
            .await
            .expect("q")
            .expect("u");
        assert_eq!(u.email, "alice@new.example");
        let m = reload(db, &w.a.1).await;
        assert_eq!(m.email, "alice@new.example");
        assert_eq!(m.search_email, "alice@new.example");
        let notice = outbox_message::Entity::find()
            .filter(outbox_message::Column::Template.eq("email_changed"))
            .one(db)
            .await
            .expect("q")
            .expect("notice to the old address");
        assert_eq!(notice.to_address, "alice@example.org");
        t.finish().await;
    }
}

#[tokio::test]
async fn changing_password_checks_the_old_one_and_ends_other_sessions() {
    for t in databases().await {
        let db = &t.db;
        let w = world(db).await;
        let alice = as_member(&w.a.0);
        match identity::change_password(
            db,
            &alice,
            "nope".into(),
            "a brand new password".into(),
            BASE,
        )
        .await
        {
            Err(AppError::Validation(f)) => assert!(f.get("current_password").is_some()),
            other => panic!("{other:?}"),
        }
        match identity::change_password(db, &alice, PASSWORD.into(), "short".into(), BASE).await {
            Err(AppError::Validation(f)) => assert!(f.get("new_password").is_some()),
            other => panic!("{other:?}"),
        }
        identity::change_password(
            db,
            &alice,
            PASSWORD.into(),
            "a brand new password".into(),
            BASE,
        )
        .await
        .expect("change");
        assert_eq!(
            session::Entity::find()
                .filter(session::Column::UserId.eq(w.a.0.id))
                .count(db)
                .await
                .expect("count"),
            0
        );
        let ok =
            identity::authenticate(db, "alice@example.org", "a brand new password".into(), BASE)
                .await
                .expect("auth");
        assert!(ok.is_ok());
        t.finish().await;
    }
}

#[tokio::test]
async fn the_export_holds_everything_about_the_member() {
    for t in databases().await {
        let db = &t.db;
        let w = world(db).await;
        guildhall::service::members::changes::add_note(
            db,
            &staff(Role::Officer),
            w.a.1.id,
            "Asked for a receipt.",
        )
        .await
        .expect("note");
        let v = portal::export(db, &as_member(&w.a.0))
            .await
            .expect("export");
        assert_eq!(v["account"]["email"], "alice@example.org");
        assert_eq!(v["membership"]["details"]["postcode"], "LS1 4AP");
        assert_eq!(v["membership"]["status"], "Active");
        assert!(v["membership"]["periods"]
            .as_array()
            .is_some_and(|p| p.len() >= 3));
        assert_eq!(v["membership"]["notes"][0]["note"], "Asked for a receipt.");
        assert!(v.get("messages").is_some());
        assert!(!v.to_string().contains("argon2"), "no password hash");
        t.finish().await;
    }
}

#[tokio::test]
async fn demo_members_have_histories_with_every_status() {
    for t in databases().await {
        let db = &t.db;
        seed::demo(db, BASE).await.expect("demo");
        seed::demo(db, BASE).await.expect("demo again is harmless");
        let off = staff(Role::Officer);
        let mut seen = std::collections::HashSet::new();
        for m in member::Entity::find().all(db).await.expect("members") {
            let r = record::staff_record(db, &off, m.number())
                .await
                .expect("record");
            seen.insert(r.status.status);
        }
        for s in [Status::Active, Status::Grace, Status::Lapsed] {
            assert!(
                seen.contains(&s),
                "{}: no demo member is {s:?}: {seen:?}",
                t.name
            );
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn the_public_register_lists_only_consenting_current_members_of_register_categories() {
    use guildhall::service::members::register;
    for t in databases().await {
        let db = &t.db;
        let w = world(db).await; // Alice: REG, consented, active. Bob: IND (not on the register).
        let (_, lapsed) = seed::member_account(
            db,
            "Lena",
            "Archer",
            "lena@example.org",
            PASSWORD,
            "LS6 1AA",
            "REG",
            Shape::Lapsed,
        )
        .await
        .expect("lapsed");
        let (_, shy) = seed::member_account(
            db,
            "Sid",
            "Archer",
            "sid@example.org",
            PASSWORD,
            "LS6 1AB",
            "ACC",
            Shape::Active,
        )
        .await
        .expect("shy");
        portal::update_preferences(
            db,
            &as_member(
                &user::Entity::find()
                    .filter(user::Column::Email.eq("sid@example.org"))
                    .one(db)
                    .await
                    .expect("q")
                    .expect("sid"),
            ),
            shy.number(),
            prefs(true, false, false),
        )
        .await
        .expect("withdraw consent");
        let names = |v: Vec<register::Entry>| v.into_iter().map(|e| e.name).collect::<Vec<_>>();
        assert_eq!(
            names(register::search(db, "arch").await.expect("s")),
            vec!["Alice Archer"],
            "{}",
            t.name
        );
        assert_eq!(
            names(register::search(db, "Leeds").await.expect("s")),
            vec!["Alice Archer"]
        );
        // By first name, and by full name either way round.
        for q in ["alice", "Alice Archer", "ali arch", "Archer Alice"] {
            assert_eq!(
                names(register::search(db, q).await.expect("s")),
                vec!["Alice Archer"],
                "{q}"
            );
        }
        assert!(register::search(db, "Alice Baker")
            .await
            .expect("s")
            .is_empty());
        let n =
            guildhall::domain::membership_number::MembershipNumber::new(w.a.1.membership_number)
                .expect("n")
                .to_string();
        let found = register::search(db, &n).await.expect("s");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].town, "Leeds");
        assert_eq!(found[0].category, "Registered");
        assert_eq!(found[0].number, n);
        assert!(
            register::search(db, "baker").await.expect("s").is_empty(),
            "not a register category"
        );
        assert!(
            register::search(db, "a").await.expect("s").is_empty(),
            "too short to search"
        );
        let lapsed_n =
            guildhall::domain::membership_number::MembershipNumber::new(lapsed.membership_number)
                .expect("n")
                .to_string();
        assert!(
            register::search(db, &lapsed_n).await.expect("s").is_empty(),
            "lapsed"
        );
        t.finish().await;
    }
}

fn prefs(journal_by_post: bool, email_news: bool, register_consent: bool) -> portal::Preferences {
    portal::Preferences {
        journal_by_post,
        email_news,
        register_consent,
    }
}
