//! What the renewal jobs share: who has left (resigned or removed), and the `notices` rows that make
//! each message go once.

use crate::domain::AppError;
use crate::entity::member;
use crate::entity::membership_event;
use crate::entity::membership_event::EventKind;
use crate::entity::notice;
use chrono::Duration;
use chrono::NaiveDate;
use sea_orm::ActiveValue::Set;
use sea_orm::ColumnTrait;
use sea_orm::ConnectionTrait;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use sea_orm::QuerySelect;
use std::collections::HashSet;
use uuid::Uuid;

/// Members who resigned or were removed (their renewals are cancelled; this guards the rest).
pub(crate) async fn ended_members<C: ConnectionTrait>(db: &C) -> Result<HashSet<Uuid>, AppError> {
    Ok(membership_event::Entity::find()
        .select_only()
        .column(membership_event::Column::MemberId)
        .filter(membership_event::Column::Kind.is_in([EventKind::Resigned, EventKind::Removed]))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

pub(crate) async fn sent_keys<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<HashSet<(Uuid, String)>, AppError> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(500) {
        for (m, k) in notice::Entity::find()
            .select_only()
            .column(notice::Column::MemberId)
            .column(notice::Column::Key)
            .filter(notice::Column::MemberId.is_in(chunk.to_vec()))
            .into_tuple::<(Uuid, String)>()
            .all(db)
            .await?
        {
            out.insert((m, k));
        }
    }
    Ok(out)
}

pub(crate) fn notice_row(member_id: Uuid, key: String, on: NaiveDate) -> notice::ActiveModel {
    notice::ActiveModel {
        id: Set(crate::service::new_id()),
        member_id: Set(member_id),
        key: Set(key),
        sent_on: Set(on),
        created_at: Set(crate::service::now()),
    }
}

pub(crate) fn mail_allowed(m: &member::Model) -> bool {
    m.pseudonymised_at.is_none() && !m.stop_all_mail && !m.email.is_empty()
}

/// The key of reminder `offset` for the period starting `start`.
pub fn reminder_key(offset: i64, start: NaiveDate) -> String {
    format!("reminder:{offset}:{start}")
}

/// The notices an invitation sent on `as_of` stands for: every reminder already reached, so that the
/// first reminder comes at the next offset.
pub fn reached_offsets(offsets: &[i64], ends: NaiveDate, as_of: NaiveDate) -> Vec<i64> {
    offsets
        .iter()
        .copied()
        .filter(|o| ends + Duration::days(*o) <= as_of)
        .collect()
}

/// Member `id`, unless their record was erased: the jobs pass erased members over.
pub(crate) async fn live_member<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<member::Model>, AppError> {
    Ok(member::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|m| m.pseudonymised_at.is_none()))
}
