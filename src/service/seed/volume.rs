//! Fake members in bulk, for volume tests and benchmarks.

use super::catalogue::categories;
use super::fake::{fake_member, FakeMember};
use crate::domain::{Actor, AppError};
use crate::entity::audit_log::AuditAction;
use crate::entity::{category, member};
use crate::service::{audit, counters};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::json;

/// One multi-row INSERT of fake members (with their numbers and categories). Written as SQL
/// rather than through `insert_many`: the values that are the same for every row (kind, country, the
/// flags) and the columns that are always empty are literals in the text, so each row binds only its
/// own 22 values instead of all 32 columns. That cuts the values converted and bound per row, the cost
/// that dominates a bulk load. Placeholders are positional (`?` on SQLite, `$n` on PostgreSQL): named or
/// numbered ones would make SQLite look each one up among the others while preparing, which is
/// quadratic in a statement of 20,000 values.
fn fake_members_statement(
    backend: sea_orm::DbBackend,
    rows: Vec<(FakeMember, i64, uuid::Uuid)>,
    now: chrono::DateTime<chrono::Utc>,
) -> sea_orm::Statement {
    use sea_orm::{DbBackend, Statement, Value};
    use std::fmt::Write;
    const PER_ROW: usize = 22;
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * PER_ROW);
    let mut sql = String::with_capacity(600 + rows.len() * 200);
    sql.push_str(
        "INSERT INTO members (id, membership_number, kind, user_id, title, given_name, family_name, \
         preferred_name, organisation_name, email, phone, address_line1, address_line2, town, county, \
         postcode, country, category_id, joined_on, journal_by_post, email_news, register_consent, \
         created_at, updated_at, search_family, search_given, search_email, search_postcode, \
         search_town, pseudonymised_at, pseudonymised_by, stop_all_mail) VALUES ",
    );
    let now: Value = now.into();
    let row = |p: &[String]| {
        let mut out = String::with_capacity(200);
        let _ = write!(
            out,
            "({},{},'individual',NULL,NULL,{},{},NULL,NULL,{},{},{},NULL,{},{},{},'GB',{},{},{},{},{},{},{},{},{},{},{},{},NULL,NULL,FALSE)",
            p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10],
            p[11], p[12], p[13], p[14], p[15], p[16], p[17], p[18], p[19], p[20], p[21],
        );
        out
    };
    let sqlite_row = row(&vec!["?".to_owned(); PER_ROW]);
    for (i, (f, number, category)) in rows.into_iter().enumerate() {
        let keys = crate::service::members::SearchKeys::of(
            f.given,
            f.family,
            &f.email,
            Some(&f.postcode),
            f.town,
        );
        let first = values.len();
        values.push(crate::service::new_id().into());
        values.push(number.into());
        values.push(f.given.into());
        values.push(f.family.into());
        values.push(f.email.into());
        values.push(f.phone.into());
        values.push(f.line1.into());
        values.push(f.town.into());
        values.push(Some(f.county.to_owned()).filter(|c| !c.is_empty()).into());
        values.push(f.postcode.into());
        values.push(category.into());
        values.push(f.joined_on.into());
        values.push(f.journal_by_post.into());
        values.push(f.email_news.into());
        values.push(f.register_consent.into());
        values.push(now.clone());
        values.push(now.clone());
        values.push(keys.family.into());
        values.push(keys.given.into());
        values.push(keys.email.into());
        values.push(keys.postcode.into());
        values.push(keys.town.into());
        if i > 0 {
            sql.push(',');
        }
        match backend {
            DbBackend::Postgres => {
                let p: Vec<String> = (first + 1..=first + PER_ROW)
                    .map(|n| format!("${n}"))
                    .collect();
                sql.push_str(&row(&p));
            }
            _ => sql.push_str(&sqlite_row),
        }
    }
    Statement::from_sql_and_values(backend, sql, values)
}

/// Adds `n` realistic fake members in chunks (one transaction per chunk), numbered from the membership
/// number counter. Needs the categories (run `categories` or `demo` first). Returns how many were added.
#[tracing::instrument(skip(db, progress))]
pub async fn members(
    db: &DatabaseConnection,
    n: u64,
    mut progress: impl FnMut(u64),
) -> Result<u64, AppError> {
    const CHUNK: u64 = 1_000;
    let actor = Actor::system("seed");
    {
        let txn = crate::service::begin(db).await?;
        categories(&txn, &actor).await?;
        txn.commit().await?;
    }
    let cats: Vec<uuid::Uuid> = category::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|c| !c.organisational)
        .map(|c| c.id)
        .collect();
    if cats.is_empty() {
        return Err(AppError::internal("no categories to seed members into"));
    }
    let salt = format!(
        "s{}x",
        uuid::Uuid::now_v7()
            .simple()
            .to_string()
            .get(8..14)
            .unwrap_or("0")
    );
    let mut rng = StdRng::seed_from_u64(n);
    let today = crate::service::today();
    let now = crate::service::now();
    let mut done = 0;
    // One transaction for the whole load: all of it or none. When the load is at least as large as
    // what is there already, the secondary indexes are dropped first and rebuilt at the end (a sort
    // per index instead of a random insert per row per index, several times faster); inside the
    // transaction, so a failed load leaves the indexes as they were.
    let txn = crate::service::begin(db).await?;
    let existing = member::Entity::find().count(&txn).await?;
    let deferred = if n >= 10_000 && n >= existing {
        crate::db::drop_secondary_indexes(&txn, "members").await?
    } else {
        Vec::new()
    };
    let first_number = counters::take(
        &txn,
        counters::MEMBERSHIP_NUMBER,
        i64::try_from(n).map_err(AppError::internal)?,
    )
    .await?;
    let backend = txn.get_database_backend();
    let sqlite = backend == sea_orm::DbBackend::Sqlite;
    if sqlite {
        // For this load only: a bigger page cache and helper threads for the index sorts.
        txn.execute_unprepared("PRAGMA cache_size = -524288")
            .await?;
        txn.execute_unprepared("PRAGMA threads = 2").await?;
    }
    let mut chunk = |from: u64| -> Option<sea_orm::Statement> {
        if from >= n {
            return None;
        }
        let take = CHUNK.min(n - from);
        let first = first_number + i64::try_from(from).unwrap_or(0);
        let rows: Vec<(FakeMember, i64, uuid::Uuid)> = (0..take)
            .map(|k| {
                let f = fake_member(&mut rng, from + k, &salt, today);
                let cat = cats[rng.gen_range(0..cats.len())];
                (f, first + i64::try_from(k).unwrap_or(0), cat)
            })
            .collect();
        Some(fake_members_statement(backend, rows, now))
    };
    // The next chunk is made while the database writes this one (the driver works on its own thread),
    // so on two cores generating and writing overlap.
    let mut current = chunk(0);
    while let Some(stmt) = current.take() {
        let take = CHUNK.min(n - done);
        let (written, next) = tokio::join!(txn.execute_raw(stmt), async { chunk(done + take) });
        written?;
        current = next;
        done += take;
        progress(done);
    }
    crate::db::recreate_indexes(&txn, &deferred).await?;
    if sqlite {
        txn.execute_unprepared("PRAGMA threads = 0").await?;
        txn.execute_unprepared(&format!(
            "PRAGMA cache_size = {}",
            crate::db::SQLITE_CACHE_SIZE
        ))
        .await?;
    }
    audit::record(
        &txn,
        &actor,
        "seed",
        "members",
        AuditAction::MembersAdded,
        None,
        Some(json!({"count": n, "indexes_rebuilt": deferred.len()})),
    )
    .await?;
    txn.commit().await?;
    crate::service::summary::rebuild(db).await?;
    Ok(done)
}
