//! Staff search over members, on every test database.
#![cfg(feature = "testing")]

use guildhall::domain::{Actor, ActorKind, AppError, Role};
use guildhall::service::members::search::search;
use guildhall::service::seed;
use guildhall::testing::databases;

fn officer() -> Actor {
    Actor {
        kind: ActorKind::Staff,
        user_id: None,
        label: "officer".into(),
        roles: vec![Role::Officer],
        request_id: None,
    }
}

async fn numbers(db: &sea_orm::DatabaseConnection, q: &str) -> Vec<(String, String)> {
    search(db, &officer(), q)
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
