//! The kept counts behind the dashboard (`service::summary`): after members resign, are removed, change
//! category, are erased, and a category's grace days change, the counts the services moved step by
//! step equal counts worked out afresh, and the members in each status on days past, present and to
//! come equal what the member record's own rule (`status_on`, member by member) says.

use chrono::Duration;
use guildhall::domain::membership::RemovalReason;
use guildhall::domain::membership_number::MembershipNumber;
use guildhall::domain::Role;
use guildhall::entity::{category, member, movement_count};
use guildhall::service::categories::{self, CategoryInput};
use guildhall::service::dashboard::{self, STATUS_ORDER};
use guildhall::service::members::erasure;
use guildhall::service::{seed, summary};
use guildhall::testing::{databases, BASE};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

async fn counts(db: &sea_orm::DatabaseConnection) -> BTreeMap<(String, Uuid, String), i64> {
    movement_count::Entity::find()
        .all(db)
        .await
        .expect("counts")
        .into_iter()
        .filter(|c| c.n != 0)
        .map(|c| ((c.kind, c.category_id, c.on_date.to_string()), c.n))
        .collect()
}

#[tokio::test]
async fn kept_counts_follow_every_change_and_match_the_member_by_member_rule() {
    for t in databases().await {
        let db = &t.db;
        seed::demo(db, BASE).await.expect("demo");
        seed::members(db, 400, |_| {}).await.expect("members");
        seed::history(db, 4, |_| {}).await.expect("history");
        let today = guildhall::service::today();
        let officer =
            guildhall::testing::staff_actor(db, "officer@guildhall.test", Role::Officer).await;
        let admin = guildhall::testing::staff_actor(db, "admin@guildhall.test", Role::Admin).await;
        let supervisor =
            guildhall::testing::staff_actor(db, "supervisor@guildhall.test", Role::Supervisor)
                .await;
        let members: Vec<member::Model> = member::Entity::find()
            .filter(member::Column::Kind.eq("individual"))
            .order_by_asc(member::Column::MembershipNumber)
            .all(db)
            .await
            .expect("members");
        let cats = category::Entity::find().all(db).await.expect("cats");
        let ret = cats.iter().find(|c| c.code == "RET").expect("RET");

        // Changes made through the services, each in its own transaction.
        let mut moved = 0;
        for m in members.iter().skip(10).take(40) {
            if m.category_id != ret.id
                && guildhall::service::members::changes::change_category(
                    db,
                    &officer,
                    m.id,
                    ret.id,
                    "Retired from practice",
                )
                .await
                .is_ok()
            {
                moved += 1;
            }
        }
        assert!(moved > 0, "{}: someone changed category", t.name);
        for m in members.iter().skip(60).take(5) {
            guildhall::service::members::changes::remove(
                db,
                &officer,
                m.id,
                Some(RemovalReason::Deceased),
                "",
            )
            .await
            .expect("remove");
        }
        for m in members.iter().skip(70).take(3) {
            erasure::erase(
                db,
                &supervisor,
                m.id,
                &MembershipNumber::text_of(m.membership_number),
            )
            .await
            .expect("erase");
        }
        let reg = cats.iter().find(|c| c.code == "REG").expect("REG");
        let mut input = CategoryInput::of(reg);
        input.grace_days = (reg.grace_days + 45).to_string();
        categories::update(db, &admin, reg.id, &input)
            .await
            .expect("grace days");

        // Step by step equals afresh.
        let stepped = counts(db).await;
        summary::rebuild(db).await.expect("rebuild");
        let fresh = counts(db).await;
        let differ: Vec<_> = fresh
            .iter()
            .filter(|(k, n)| stepped.get(*k) != Some(*n))
            .chain(stepped.iter().filter(|(k, _)| !fresh.contains_key(*k)))
            .take(10)
            .collect();
        assert!(differ.is_empty(), "{}: counts differ: {differ:?}", t.name);

        // The statuses on days past, present and to come, and the members by category.
        let cat_of: HashMap<Uuid, Uuid> = member::Entity::find()
            .all(db)
            .await
            .expect("members")
            .into_iter()
            .map(|m| (m.id, m.category_id))
            .collect();
        for back in [-400i64, -200, -31, -1, 0, 1, 20, 45, 90, 400] {
            let day = today + Duration::days(back);
            let mut want: HashMap<String, i64> = HashMap::new();
            let mut want_cat: HashMap<Uuid, i64> = HashMap::new();
            for (id, s) in dashboard::statuses(db, day).await.expect("statuses") {
                *want.entry(summary::status_kind(s)).or_default() += 1;
                if s.is_member() {
                    *want_cat.entry(cat_of[&id]).or_default() += 1;
                }
            }
            let got = summary::by_status(db, day).await.expect("by status");
            for s in STATUS_ORDER {
                let k = summary::status_kind(s);
                assert_eq!(
                    got.get(&k).copied().unwrap_or(0),
                    want.get(&k).copied().unwrap_or(0),
                    "{}: {k} on {day}",
                    t.name
                );
            }
            let mut got_cat = summary::members_by_category(db, day)
                .await
                .expect("by category");
            got_cat.retain(|_, n| *n != 0);
            assert_eq!(
                got_cat, want_cat,
                "{}: members by category on {day}",
                t.name
            );
        }
        // Someone is in each of the statuses that matter, so the comparison means something.
        let now = summary::by_status(db, today).await.expect("now");
        for s in ["status:active", "status:lapsed", "status:removed"] {
            assert!(now.get(s).copied().unwrap_or(0) > 0, "{}: {s}", t.name);
        }
        t.finish().await;
    }
}
