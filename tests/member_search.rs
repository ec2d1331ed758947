//! Staff search over members, on every test database.
#![cfg(feature = "testing")]

use guildhall::domain::{Actor, ActorKind, AppError, Role};
use guildhall::service::members::search::search;
use guildhall::service::seed;
use guildhall::testing::{databases, staff};

async fn numbers(db: &sea_orm::DatabaseConnection, q: &str) -> Vec<(String, String)> {
    search(db, &staff(Role::Officer), q)
        .await
        .expect("search")
        .into_iter()
        .map(|m| (m.given_name, m.family_name))
        .collect()
}

#[tokio::test]
async fn staff_find_a_member_by_part_of_a_name_postcode_number_or_email() {
    for t in databases().await {
        let db = &t.db;
        seed::demo(db, "http://127.0.0.1:3000").await.expect("demo");
        let sam = ("Sam".to_owned(), "Taylor".to_owned());
        for q in [
            "tay",
            "TAYLOR",
            "sam tay",
            "Taylor Sam",
            "yo1 7hh",
            "YO17",
            "member@guild",
            "member@guildhall.test",
            "GH0000001",
            "1",
        ] {
            let found = numbers(db, q).await;
            assert!(found.contains(&sam), "{}: {q:?} found {found:?}", t.name);
        }
        assert!(numbers(db, "zzzz").await.is_empty());
        assert!(numbers(db, "  ").await.is_empty());
        let many = numbers(db, "a").await;
        assert!(many.len() <= 20, "results are capped");
        assert!(
            many.windows(2)
                .all(|w| w[0].1.to_lowercase() <= w[1].1.to_lowercase()),
            "sorted by family name: {many:?}"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn members_cannot_search_other_members() {
    let t = guildhall::testing::sqlite().await;
    let member = Actor {
        kind: ActorKind::Member,
        user_id: Some(uuid::Uuid::nil()),
        label: "m".into(),
        roles: vec![],
        request_id: None,
    };
    assert_eq!(
        search(&t.db, &member, "tay").await.err(),
        Some(AppError::Forbidden)
    );
    assert_eq!(
        search(&t.db, &Actor::anonymous(), "tay").await.err(),
        Some(AppError::Unauthenticated)
    );
}

/// The index names of `members`, as the database's catalogue lists them.
async fn member_indexes(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'members' ORDER BY name",
        _ => "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'members' ORDER BY indexname",
    };
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("catalogue")
        .into_iter()
        .map(|r| r.try_get::<String>("", "name").expect("name"))
        .collect()
}

#[tokio::test]
async fn a_bulk_load_rebuilds_every_index_it_set_aside() {
    for t in databases().await {
        let db = &t.db;
        seed::demo(db, "http://127.0.0.1:3000").await.expect("demo");
        let before = member_indexes(db).await;
        assert!(before.len() >= 6, "{}: {before:?}", t.name);
        let added = seed::members(db, 10_000, |_| {}).await.expect("load");
        assert_eq!(added, 10_000);
        assert_eq!(member_indexes(db).await, before, "{}", t.name);
        // Searches still answer from the rebuilt indexes, and numbers carry on from the demo's.
        assert!(numbers(db, "GH0000001")
            .await
            .contains(&("Sam".to_owned(), "Taylor".to_owned())));
        assert_eq!(numbers(db, "a").await.len(), 20);
        t.finish().await;
    }
}
