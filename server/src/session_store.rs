//! Server-side sessions in the database, through tower-sessions' `SessionStore` trait.
//!
//! The cookie holds only a random session id; the table is keyed by its SHA-256, so a leaked copy of the
//! table cannot be replayed as a cookie. The signed-in user's id is copied to a column so that all of an
//! account's sessions can be ended at once (password reset).

use guildhall::entity::session;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The table key for a session id.
fn hash_id(id: &Id) -> String {
    guildhall::service::identity::token_hash(&id.to_string())
}

#[derive(Clone, Debug)]
pub struct DbStore {
    db: DatabaseConnection,
}

impl DbStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Deletes sessions past their expiry. Run periodically.
    pub async fn delete_expired(&self) -> Result<u64, sea_orm::DbErr> {
        let r = session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lt(chrono::Utc::now()))
            .exec(&self.db)
            .await?;
        Ok(r.rows_affected)
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn to_chrono(t: time::OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond()).unwrap_or_default()
}

#[async_trait::async_trait]
impl SessionStore for DbStore {
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(backend)?;
        let user_id = record
            .data
            .get(app::ctx::SESSION_USER)
            .and_then(|v| serde_json::from_value::<uuid::Uuid>(v.clone()).ok());
        let row = session::ActiveModel {
            id: Set(hash_id(&record.id)),
            user_id: Set(user_id),
            data: Set(data),
            created_at: Set(chrono::Utc::now()),
            expires_at: Set(to_chrono(record.expiry_date)),
        };
        session::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(session::Column::Id)
                    .update_columns([
                        session::Column::UserId,
                        session::Column::Data,
                        session::Column::ExpiresAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(row) = session::Entity::find_by_id(hash_id(id))
            .one(&self.db)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        if row.expires_at <= chrono::Utc::now() {
            return Ok(None);
        }
        let data = serde_json::from_str(&row.data).map_err(backend)?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(row.expires_at.timestamp())
            .map_err(backend)?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        session::Entity::delete_by_id(hash_id(id))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
