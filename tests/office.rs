//! The membership office's own records: categories (admins), members and organisations added by staff
//! with their representatives, and erasure of personal data (supervisors). Every test runs on in-memory
//! SQLite and, when `GUILDHALL_TEST_POSTGRES` is set, on a fresh PostgreSQL database.
#![cfg(feature = "testing")]

use guildhall::domain::{Actor, AppError, Role};
use guildhall::entity::{
    audit_log, category, member, member_note, member_representative, outbox_message, period,
    session, user,
};
use guildhall::service::categories::{self, CategoryInput};
use guildhall::service::identity;
use guildhall::service::members::enrol::{self, NewMemberInput, NewRepresentative};
use guildhall::service::members::erasure;
use guildhall::service::members::record::{self, DetailsInput};
use guildhall::service::members::{portal, search};
use guildhall::service::seed::{self, Shape};
use guildhall::testing::{category, databases, periods_of, seed_categories, staff, BASE};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

const PASSWORD: &str = "correct horse battery";

fn fellow() -> CategoryInput {
    CategoryInput {
        code: "FEL".into(),
        name: "Fellow".into(),
        description: "For distinguished members.".into(),
        eligibility: "Ten years in practice and a contribution to the profession.".into(),
        audience: "association".into(),
        annual_fee: "300.00".into(),
        joining_fee: "25".into(),
        reinstatement_fee: "50".into(),
        instalments: "12".into(),
        needs_declaration: true,
        grace_days: "30".into(),
        renewal_basis: "anniversary".into(),
        on_register: true,
        ..Default::default()
    }
}

async fn audit_actions(db: &DatabaseConnection, entity: &str, id: uuid::Uuid) -> Vec<String> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq(entity))
        .filter(audit_log::Column::EntityId.eq(id.to_string()))
        .all(db)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn admins_manage_categories_and_a_category_in_use_is_retired_not_deleted() {
    for t in databases().await {
        let db = &t.db;
        let admin = staff(Role::Admin);
        seed_categories(db).await;

        // Only admins.
        for role in [Role::Officer, Role::Supervisor, Role::Finance] {
            assert_eq!(
                categories::create(db, &staff(role), &fellow()).await.err(),
                Some(AppError::Forbidden),
                "{role:?} created a category"
            );
        }

        let c = categories::create(db, &admin, &fellow())
            .await
            .expect("create");
        assert_eq!(c.annual_fee_pence, 30_000);
        assert_eq!(c.joining_fee_pence, 2_500);
        assert!(c.eligibility.starts_with("Ten years"));
        assert_eq!(
            categories::create(db, &admin, &fellow())
                .await
                .err()
                .and_then(|e| e.fields().and_then(|f| f.get("code").map(str::to_owned))),
            Some("Another category already has this code".into())
        );

        // A change is audited with only what changed.
        let mut changed = fellow();
        changed.annual_fee = "320".into();
        changed.renewal_basis = "fixed".into();
        changed.fixed_renewal_month = "1".into();
        changed.fixed_renewal_day = "1".into();
        let c = categories::update(db, &admin, c.id, &changed)
            .await
            .expect("update");
        assert_eq!(c.annual_fee_pence, 32_000);
        assert_eq!(
            (c.fixed_renewal_month, c.fixed_renewal_day),
            (Some(1), Some(1))
        );
        let entry = audit_log::Entity::find()
            .filter(audit_log::Column::Entity.eq("category"))
            .filter(audit_log::Column::Action.eq("changed"))
            .one(db)
            .await
            .expect("audit")
            .expect("a changed entry");
        let before = entry.before.expect("before");
        assert_eq!(before["annual_fee_pence"], 30_000);
        assert!(
            before.get("name").is_none(),
            "unchanged fields were recorded"
        );

        // Bad input names the field and saves nothing.
        let mut bad = changed.clone();
        bad.annual_fee = "lots".into();
        assert!(categories::update(db, &admin, c.id, &bad).await.is_err());
        let reread = categories::get(db, &admin, c.id).await.expect("get");
        assert_eq!(reread.category.annual_fee_pence, 32_000);

        // Unused: it can be deleted.
        let spare = categories::create(
            db,
            &admin,
            &CategoryInput {
                code: "TMP".into(),
                ..fellow()
            },
        )
        .await
        .expect("spare");
        categories::delete(db, &admin, spare.id)
            .await
            .expect("delete unused");
        assert!(category::Entity::find_by_id(spare.id)
            .one(db)
            .await
            .expect("q")
            .is_none());

        // In use: deleting is refused; retiring closes it to new members, who stay.
        let m = enrol::create_member(
            db,
            &staff(Role::Officer),
            &new_person(c.id, "fellow@example.org"),
        )
        .await
        .expect("member in the new category");
        assert!(matches!(
            categories::delete(db, &admin, c.id).await,
            Err(AppError::Conflict(_))
        ));
        categories::retire(db, &admin, c.id).await.expect("retire");
        assert!(matches!(
            categories::retire(db, &admin, c.id).await,
            Err(AppError::Conflict(_))
        ));
        let open = guildhall::service::members::changes::open_categories(db, &staff(Role::Officer))
            .await
            .expect("open");
        assert!(
            !open.iter().any(|o| o.id == c.id),
            "a retired category is offered"
        );
        let refused = enrol::create_member(
            db,
            &staff(Role::Officer),
            &new_person(c.id, "late@example.org"),
        )
        .await;
        assert!(refused
            .err()
            .and_then(|e| e
                .fields()
                .and_then(|f| f.get("category").map(str::to_owned)))
            .is_some());
        let still = member::Entity::find_by_id(m.id)
            .one(db)
            .await
            .expect("q")
            .expect("member");
        assert_eq!(still.category_id, c.id);
        categories::reopen(db, &admin, c.id).await.expect("reopen");

        // Whether it is for organisations cannot change while members are in it.
        let mut to_org = changed.clone();
        to_org.organisational = true;
        assert!(categories::update(db, &admin, c.id, &to_org).await.is_err());

        assert_eq!(
            audit_actions(db, "category", c.id).await,
            vec!["created", "changed", "retired", "reopened"]
        );
    }
}

fn new_person(category: uuid::Uuid, email: &str) -> NewMemberInput {
    NewMemberInput {
        kind: "individual".into(),
        category_id: category.to_string(),
        starts_on: guildhall::service::today().to_string(),
        payment: "cheque".into(),
        details: DetailsInput {
            given_name: "Nora".into(),
            family_name: "Newman".into(),
            email: Some(email.into()),
            address_line1: "3 Mill Lane".into(),
            town: "Halifax".into(),
            postcode: "HX1 1AA".into(),
            country: "GB".into(),
            ..Default::default()
        },
    }
}

#[tokio::test]
async fn staff_add_members_and_organisations_with_representatives() {
    for t in databases().await {
        let db = &t.db;
        let officer = staff(Role::Officer);
        seed_categories(db).await;
        let reg = category(db, "REG").await.id;
        let org_cat = category(db, "ORG-LV").await.id;

        // Every problem at once, nothing saved.
        let mut bad = new_person(reg, "not-an-address");
        bad.details.postcode = "NOPE".into();
        bad.starts_on = "yesterday".into();
        bad.payment = "gold".into();
        let Err(AppError::Validation(f)) = enrol::create_member(db, &officer, &bad).await else {
            panic!("accepted a bad member")
        };
        for field in ["email", "postcode", "starts_on", "payment"] {
            assert!(f.get(field).is_some(), "no message for {field}: {f:?}");
        }
        assert_eq!(member::Entity::find().count(db).await.expect("count"), 0);

        // A person: sequential numbers, a first paid period, findable at once.
        let a = enrol::create_member(db, &officer, &new_person(reg, "nora@example.org"))
            .await
            .expect("a");
        let b = enrol::create_member(db, &officer, &new_person(reg, "second@example.org"))
            .await
            .expect("b");
        assert_eq!(b.membership_number, a.membership_number + 1);
        let periods = periods_of(db, a.id).await;
        assert_eq!(periods.len(), 1);
        assert_eq!(periods[0].paid_state, "paid");
        assert_eq!(periods[0].how_paid, "cheque");
        let rec = record::staff_record(db, &officer, a.number())
            .await
            .expect("record");
        assert_eq!(
            rec.status.status,
            guildhall::domain::membership::Status::Active
        );
        let found = search::search(db, &officer, "newm").await.expect("search");
        assert!(found.iter().any(|m| m.id == a.id));
        // Paid at joining: the first year's invoice and its payment are on the record too.
        assert_eq!(
            audit_actions(db, "member", a.id).await,
            vec!["created", "invoice_issued", "payment_received"]
        );

        // The same address twice is refused; a person in an organisations' category too.
        let dup = enrol::create_member(db, &officer, &new_person(reg, "NORA@example.org")).await;
        assert!(dup
            .err()
            .and_then(|e| e.fields().and_then(|f| f.get("email").map(str::to_owned)))
            .is_some());
        let wrong = enrol::create_member(db, &officer, &new_person(org_cat, "x@example.org")).await;
        assert!(wrong
            .err()
            .and_then(|e| e
                .fields()
                .and_then(|f| f.get("category").map(str::to_owned)))
            .is_some());

        // An organisation, found by its name, with a new representative who is invited…
        let mut o = new_person(org_cat, "office@calder-counselling.example");
        o.kind = "organisation".into();
        o.payment = "unpaid".into();
        o.details.organisation_name = "Calder Counselling".into();
        let org = enrol::create_member(db, &officer, &o).await.expect("org");
        assert_eq!(org.kind, "organisation");
        let found = search::search(db, &officer, "calder")
            .await
            .expect("search");
        assert!(
            found.iter().any(|m| m.id == org.id),
            "organisation not found by name"
        );
        let rep_input = NewRepresentative {
            email: "chair@calder-counselling.example".into(),
            given_name: "Cara".into(),
            family_name: "Chair".into(),
            job_title: "Chair".into(),
        };
        let rep = enrol::add_representative(db, &officer, org.id, &rep_input, BASE)
            .await
            .expect("rep");
        let stored = outbox_message::Entity::find()
            .filter(outbox_message::Column::UserId.eq(rep.id))
            .filter(outbox_message::Column::Template.eq("representative_added"))
            .one(db)
            .await
            .expect("q")
            .expect("invitation");
        assert!(stored
            .body_text
            .contains(guildhall::service::tokens::WITHHELD));
        assert!(!stored.body_text.contains("token="));
        let invite = guildhall::testing::received(db, &stored.to_address).await;
        assert_eq!(invite.template, "representative_added");
        assert!(invite.body_text.contains("/reset-password?token="));
        assert!(
            enrol::add_representative(db, &officer, org.id, &rep_input, BASE)
                .await
                .is_err()
        );
        // …who reaches the organisation's record from the portal.
        let rep_actor = Actor::member(rep.id, &rep.email);
        portal::membership(db, &rep_actor, org.number())
            .await
            .expect("rep reaches org");
        assert!(portal::membership(db, &rep_actor, a.number())
            .await
            .is_err());

        // An existing member becomes a representative too; staff accounts cannot.
        let (existing, _) = seed::member_account(
            db,
            "Eve",
            "Evans",
            "eve@example.org",
            PASSWORD,
            "LS1 4AP",
            "REG",
            Shape::Active,
        )
        .await
        .expect("eve");
        enrol::add_representative(
            db,
            &officer,
            org.id,
            &NewRepresentative {
                email: "eve@example.org".into(),
                ..Default::default()
            },
            BASE,
        )
        .await
        .expect("existing member as representative");
        identity::create_staff(
            db,
            &Actor::system("test"),
            identity::NewStaff {
                email: "staffer@guildhall.test".into(),
                given_name: "Sam".into(),
                family_name: "Staff".into(),
                roles: vec![Role::Officer],
                password: Some(PASSWORD.into()),
            },
            BASE,
        )
        .await
        .expect("staff");
        assert!(enrol::add_representative(
            db,
            &officer,
            org.id,
            &NewRepresentative {
                email: "staffer@guildhall.test".into(),
                ..Default::default()
            },
            BASE
        )
        .await
        .is_err());
        // A person has no representatives.
        assert!(matches!(
            enrol::add_representative(
                db,
                &officer,
                a.id,
                &NewRepresentative {
                    email: "z@example.org".into(),
                    given_name: "Z".into(),
                    family_name: "Z".into(),
                    ..Default::default()
                },
                BASE
            )
            .await,
            Err(AppError::Conflict(_))
        ));

        // Removing a link ends their access; the account stays.
        enrol::remove_representative(db, &officer, org.id, existing.id)
            .await
            .expect("remove");
        let eve = Actor::member(existing.id, &existing.email);
        assert!(portal::membership(db, &eve, org.number()).await.is_err());
        assert!(user::Entity::find_by_id(existing.id)
            .one(db)
            .await
            .expect("q")
            .is_some());
        assert_eq!(
            audit_actions(db, "member", org.id).await,
            vec![
                "created",
                "invoice_issued",
                "representative_added",
                "representative_added",
                "representative_removed"
            ]
        );
        // Members cannot add members.
        assert_eq!(
            enrol::create_member(db, &rep_actor, &new_person(reg, "q@example.org"))
                .await
                .err(),
            Some(AppError::Forbidden)
        );
    }
}

#[tokio::test]
async fn a_supervisor_erases_personal_data_after_confirming_and_periods_stay() {
    for t in databases().await {
        let db = &t.db;
        seed_categories(db).await;
        let (u, m) = seed::member_account(
            db,
            "Ursula",
            "Unwin",
            "ursula@example.org",
            PASSWORD,
            "LS6 2AA",
            "REG",
            Shape::Active,
        )
        .await
        .expect("member");
        let officer = staff(Role::Officer);
        let supervisor = staff(Role::Supervisor);
        // Some history holding personal data: a detail change, a note, a message, a session.
        let mut d = DetailsInput {
            given_name: m.given_name.clone(),
            family_name: m.family_name.clone(),
            address_line1: "9 Secret Road".into(),
            town: "Leeds".into(),
            postcode: "LS6 2AA".into(),
            country: "GB".into(),
            ..Default::default()
        };
        d.phone = "07700 900555".into();
        record::staff_update_details(db, &officer, m.id, &d)
            .await
            .expect("edit");
        guildhall::service::members::changes::add_note(
            db,
            &officer,
            m.id,
            "Rang about her divorce",
        )
        .await
        .expect("note");
        identity::request_password_reset(db, "ursula@example.org", BASE)
            .await
            .expect("reset mail");
        let periods_before = period::Entity::find()
            .filter(period::Column::MemberId.eq(m.id))
            .count(db)
            .await
            .expect("count");
        assert!(periods_before > 0);
        let number =
            guildhall::domain::membership_number::MembershipNumber::new(m.membership_number)
                .expect("number")
                .to_string();

        // Officers and admins may not; the confirmation must be the number.
        for role in [Role::Officer, Role::Admin, Role::Finance] {
            assert_eq!(
                erasure::erase(db, &staff(role), m.id, &number).await.err(),
                Some(AppError::Forbidden)
            );
        }
        let wrong = erasure::erase(db, &supervisor, m.id, "GH9999999").await;
        assert!(wrong
            .err()
            .and_then(|e| e.fields().and_then(|f| f.get("confirm").map(str::to_owned)))
            .is_some());
        assert!(member::Entity::find_by_id(m.id)
            .one(db)
            .await
            .expect("q")
            .expect("m")
            .pseudonymised_at
            .is_none());

        erasure::erase(db, &supervisor, m.id, &number.to_lowercase())
            .await
            .expect("erase");
        let after = member::Entity::find_by_id(m.id)
            .one(db)
            .await
            .expect("q")
            .expect("m");
        assert!(after.pseudonymised_at.is_some());
        assert_eq!(
            after.pseudonymised_by.as_deref(),
            Some("supervisor@guildhall.test")
        );
        assert_eq!(after.membership_number, m.membership_number);
        assert_eq!(after.category_id, m.category_id);
        assert!(after.stop_all_mail && !after.register_consent);
        assert_eq!(after.search_family, "");
        let personal = serde_json::to_string(&record::details_json(&after)).expect("json");
        for gone in [
            "Ursula",
            "Unwin",
            "ursula@example.org",
            "Secret",
            "LS6",
            "07700",
        ] {
            assert!(
                !personal.contains(gone),
                "{gone} survived on the member row"
            );
        }
        // Periods stay; the record is found by number only.
        assert_eq!(
            period::Entity::find()
                .filter(period::Column::MemberId.eq(m.id))
                .count(db)
                .await
                .expect("count"),
            periods_before
        );
        assert!(search::search(db, &officer, "unwin")
            .await
            .expect("search")
            .is_empty());
        assert_eq!(
            search::search(db, &officer, &number)
                .await
                .expect("search")
                .len(),
            1
        );
        // The account cannot sign in and holds nothing personal; sessions are gone.
        let acc = user::Entity::find_by_id(u.id)
            .one(db)
            .await
            .expect("q")
            .expect("user");
        assert!(acc.disabled_at.is_some() && !acc.email.contains("ursula"));
        assert!(!matches!(
            identity::authenticate(db, "ursula@example.org", PASSWORD.into(), BASE).await,
            Ok(Ok(_))
        ));
        assert_eq!(
            session::Entity::find()
                .filter(session::Column::UserId.eq(u.id))
                .count(db)
                .await
                .expect("count"),
            0
        );
        // Notes, messages and earlier audit entries keep no personal values.
        for n in member_note::Entity::find()
            .filter(member_note::Column::MemberId.eq(m.id))
            .all(db)
            .await
            .expect("notes")
        {
            assert_eq!(n.body, erasure::ERASED);
        }
        for msg in outbox_message::Entity::find()
            .filter(outbox_message::Column::UserId.eq(u.id))
            .all(db)
            .await
            .expect("msgs")
        {
            assert!(!msg.to_address.contains("ursula") && !msg.body_text.contains("Ursula"));
            assert_ne!(msg.status, "pending");
        }
        let trail = audit_log::Entity::find()
            .filter(audit_log::Column::EntityId.is_in([m.id.to_string(), u.id.to_string()]))
            .all(db)
            .await
            .expect("trail");
        let text = serde_json::to_string(
            &trail
                .iter()
                .map(|e| (&e.before, &e.after))
                .collect::<Vec<_>>(),
        )
        .expect("json");
        for gone in ["Secret", "07700", "ursula@example.org"] {
            assert!(!text.contains(gone), "{gone} survived in the audit trail");
        }
        assert!(trail
            .iter()
            .any(|e| e.action == "erased" && e.actor_label == "supervisor@guildhall.test"));
        assert!(
            trail.iter().any(|e| e.action == "details_changed"),
            "the entries themselves stay"
        );
        // Nothing more can be done to the record.
        assert!(matches!(
            erasure::erase(db, &supervisor, m.id, &number).await,
            Err(AppError::Conflict(_))
        ));
        assert!(record::staff_update_details(db, &officer, m.id, &d)
            .await
            .is_err());
        assert_eq!(
            member_representative::Entity::find()
                .filter(member_representative::Column::UserId.eq(u.id))
                .count(db)
                .await
                .expect("count"),
            0
        );
    }
}

/// Many staff changing records at once on the SQLite file (a pool of connections, WAL): every operation
/// reads before it writes, and none may fail with "database is locked" (transactions take the write lock
/// at their start), and every change is there afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_on_the_sqlite_file_all_succeed() {
    let t = guildhall::testing::sqlite_file().await;
    let db = t.db.clone();
    seed_categories(&db).await;
    let reg = category(&db, "REG").await.id;
    let m = enrol::create_member(
        &db,
        &staff(Role::Officer),
        &new_person(reg, "busy@example.org"),
    )
    .await
    .expect("member");
    let mut tasks = Vec::new();
    for i in 0..40 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let officer = staff(Role::Officer);
            if i % 2 == 0 {
                guildhall::service::members::changes::add_note(
                    &db,
                    &officer,
                    m.id,
                    &format!("note {i}"),
                )
                .await
                .map(|_| ())
            } else {
                enrol::create_member(
                    &db,
                    &officer,
                    &new_person(reg, &format!("busy{i}@example.org")),
                )
                .await
                .map(|_| ())
            }
        }));
    }
    for task in tasks {
        task.await
            .expect("task")
            .expect("a concurrent change failed");
    }
    assert_eq!(
        member_note::Entity::find().count(&db).await.expect("count"),
        20
    );
    assert_eq!(member::Entity::find().count(&db).await.expect("count"), 21);
    t.finish().await;
}
