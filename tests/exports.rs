//! Exports for third parties: the renewal documents for a month hold exactly the members whose
//! membership ends in it (worked out here from the periods), with the chosen fields in order, never a
//! member who asked for no post or who resigned; the journal list holds the current members who want
//! the journal by post; each file is recorded and audited; bad input names the field and records
//! nothing; only staff who edit members may make them. On SQLite and, when `GUILDHALL_TEST_POSTGRES`
//! is set, PostgreSQL.
#![cfg(feature = "testing")]

use guildhall::domain::{Actor, AppError, Role};
use guildhall::entity::{audit_log, export, member, membership_event, period, user};
use guildhall::service::exports::{self, ExportInput};
use guildhall::service::seed;
use guildhall::testing::{databases, periods_of, staff_actor, BASE};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use std::collections::{HashMap, HashSet};

fn lines(csv: &[u8]) -> Vec<String> {
    assert!(csv.starts_with(&[0xEF, 0xBB, 0xBF]), "a byte-order mark");
    String::from_utf8(csv[3..].to_vec())
        .expect("utf-8")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn mailing_house_and_journal_exports_hold_the_right_members_and_are_recorded() {
    for t in databases().await {
        let db = &t.db;
        seed::demo(db, BASE).await.expect("demo");
        seed::portal_accounts(db, 8).await.expect("portal accounts");
        let today = guildhall::service::today();
        let officer = staff_actor(db, "officer@guildhall.test", Role::Officer).await;
        let finance = staff_actor(db, "finance@guildhall.test", Role::Finance).await;

        // The portal accounts' memberships end in the same month.
        let members = member::Entity::find().all(db).await.expect("members");
        let by_email: HashMap<String, member::Model> = members
            .iter()
            .map(|m| (m.email.clone(), m.clone()))
            .collect();
        let p1 = &by_email["portal1@guildhall.test"];
        let ends = periods_of(db, p1.id)
            .await
            .into_iter()
            .map(|p| p.end_on)
            .max()
            .expect("an end");
        let month = ends.format("%Y-%m").to_string();
        // portal2 wants no post at all; portal3 wants the journal; portal4 has resigned.
        let mut am: member::ActiveModel = by_email["portal2@guildhall.test"].clone().into();
        am.stop_all_mail = Set(true);
        am.journal_by_post = Set(true);
        am.update(db).await.expect("update");
        let mut am: member::ActiveModel = by_email["portal3@guildhall.test"].clone().into();
        am.journal_by_post = Set(true);
        am.update(db).await.expect("update");
        let quitter = &by_email["portal4@guildhall.test"];
        membership_event::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            member_id: Set(quitter.id),
            kind: Set(guildhall::entity::membership_event::EventKind::Resigned),
            on_date: Set(today),
            effective_on: Set(Some(ends + chrono::Duration::days(1))),
            reason: Set(None),
            detail: Set(None),
            created_at: Set(chrono::Utc::now()),
            created_by: Set("test".into()),
        }
        .insert(db)
        .await
        .expect("resign");

        // Worked out from the rows: last paid period ends in the month; not resigned; post allowed.
        let mut last: HashMap<uuid::Uuid, chrono::NaiveDate> = HashMap::new();
        for p in period::Entity::find().all(db).await.expect("periods") {
            if p.paid_state == "unpaid" {
                continue;
            }
            let e = last.entry(p.member_id).or_insert(p.end_on);
            if p.end_on > *e {
                *e = p.end_on;
            }
        }
        let resigned: HashSet<uuid::Uuid> = membership_event::Entity::find()
            .all(db)
            .await
            .expect("events")
            .into_iter()
            .filter(|e| e.kind.as_str() == "resigned" || e.kind.as_str() == "removed")
            .map(|e| e.member_id)
            .collect();
        let mut want: Vec<i64> = member::Entity::find()
            .all(db)
            .await
            .expect("members")
            .into_iter()
            .filter(|m| {
                last.get(&m.id)
                    .is_some_and(|e| e.format("%Y-%m").to_string() == month)
                    && !resigned.contains(&m.id)
                    && !m.stop_all_mail
                    && m.pseudonymised_at.is_none()
            })
            .map(|m| m.membership_number)
            .collect();
        want.sort_unstable();
        assert!(want.len() >= 5, "{}: {want:?}", t.name);

        let made = exports::make(
            db,
            &officer,
            &ExportInput {
                kind: exports::RENEWAL_DOCUMENTS.into(),
                month: month.clone(),
                fields: vec!["postcode".into(), "number".into(), "amount".into()],
            },
            today,
        )
        .await
        .expect("renewal documents");
        let rows = lines(&made.csv);
        // The file's order, not the order ticked.
        assert_eq!(rows[0], "Membership number,Postcode,Renewal amount");
        let got: Vec<i64> = rows[1..]
            .iter()
            .map(|l| {
                let number = l.split(',').next().expect("number");
                number
                    .trim_start_matches("GH")
                    .parse::<i64>()
                    .expect("a number")
            })
            .collect();
        assert_eq!(got, want, "{}", t.name);
        assert_eq!(made.rows as usize, want.len());
        // What renewing costs: the category's fee (Registered, £216, for the portal accounts).
        assert!(rows[1..].iter().all(|l| !l.ends_with(',')), "{rows:?}");
        let p1_number =
            guildhall::domain::membership_number::MembershipNumber::text_of(p1.membership_number);
        assert!(
            rows.iter()
                .any(|l| l.starts_with(&p1_number) && l.ends_with(",216.00")),
            "{rows:?}"
        );
        assert_eq!(made.filename, format!("renewal-documents-{month}.csv"));

        // The journal list: current members wanting it by post, not portal2 (no post at all).
        let made = exports::make(
            db,
            &officer,
            &ExportInput {
                kind: exports::JOURNAL.into(),
                month: String::new(),
                fields: vec!["number".into(), "given_name".into(), "address_line1".into()],
            },
            today,
        )
        .await
        .expect("journal");
        let rows = lines(&made.csv);
        let numbers: Vec<String> = rows[1..]
            .iter()
            .map(|l| l.split(',').next().unwrap_or_default().to_owned())
            .collect();
        let text = |m: &member::Model| {
            guildhall::domain::membership_number::MembershipNumber::text_of(m.membership_number)
        };
        assert!(
            numbers.contains(&text(&by_email["portal3@guildhall.test"])),
            "{}",
            t.name
        );
        assert!(!numbers.contains(&text(&by_email["portal2@guildhall.test"])));

        // Both recorded and audited, with who made them.
        let recorded = export::Entity::find().all(db).await.expect("exports");
        assert_eq!(recorded.len(), 2);
        assert!(recorded
            .iter()
            .all(|e| e.created_by == "officer@guildhall.test"));
        assert!(recorded.iter().any(|e| e.kind == exports::RENEWAL_DOCUMENTS
            && e.row_count == want.len() as i64
            && e.params == month));
        assert_eq!(
            audit_log::Entity::find()
                .filter(audit_log::Column::Action.eq("exported"))
                .count(db)
                .await
                .expect("n"),
            2
        );

        // Bad input names the field and records nothing.
        for (input, field) in [
            (
                ExportInput {
                    kind: exports::RENEWAL_DOCUMENTS.into(),
                    month: "13/2027".into(),
                    fields: vec!["number".into()],
                },
                "month",
            ),
            (
                ExportInput {
                    kind: exports::JOURNAL.into(),
                    month: String::new(),
                    fields: vec!["favourite_colour".into()],
                },
                "fields",
            ),
            (
                ExportInput {
                    kind: "everything".into(),
                    month: String::new(),
                    fields: vec!["number".into()],
                },
                "kind",
            ),
        ] {
            match exports::make(db, &officer, &input, today).await {
                Err(AppError::Validation(f)) => assert!(f.get(field).is_some(), "{field}: {f:?}"),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert_eq!(export::Entity::find().count(db).await.expect("n"), 2);

        // Finance and members may not.
        let input = ExportInput {
            kind: exports::JOURNAL.into(),
            month: String::new(),
            fields: vec!["number".into()],
        };
        assert!(matches!(
            exports::make(db, &finance, &input, today).await,
            Err(AppError::Forbidden)
        ));
        let u = user::Entity::find()
            .filter(user::Column::EmailKey.eq(seed::DEMO_MEMBER))
            .one(db)
            .await
            .expect("q")
            .expect("member");
        assert!(matches!(
            exports::make(db, &Actor::member(u.id, seed::DEMO_MEMBER), &input, today).await,
            Err(AppError::Forbidden)
        ));
        t.finish().await;
    }
}
