//! The audit trail: who did what, when, to which record, with the values before and after.
//!
//! `record` is the only writer of `audit_log`, and it takes the caller's transaction, so an entry exists
//! exactly when the change it describes was committed. Rows are never deleted, and updated in one case
//! only: erasure (`members::erasure`) replaces the personal values inside the entries about the erased
//! member, keeping who did what and when.

use crate::domain::{Actor, ActorKind};
use crate::entity::audit_log;
use crate::entity::audit_log::AuditAction;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use serde_json::{Map, Value};

/// Writes one audit entry inside the caller's transaction.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    entity: &str,
    entity_id: impl ToString,
    action: AuditAction,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), DbErr> {
    audit_log::Entity::insert(row(actor, entity, entity_id, action, before, after))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// One audit entry, for callers that write many at once.
pub fn row(
    actor: &Actor,
    entity: &str,
    entity_id: impl ToString,
    action: AuditAction,
    before: Option<Value>,
    after: Option<Value>,
) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        id: Set(super::new_id()),
        at: Set(super::now()),
        actor_kind: Set(kind_str(actor.kind).to_owned()),
        actor_id: Set(actor.user_id),
        actor_label: Set(actor.label.clone()),
        entity: Set(entity.to_owned()),
        entity_id: Set(entity_id.to_string()),
        action: Set(action.to_owned()),
        before: Set(before),
        after: Set(after),
        request_id: Set(actor.request_id.clone()),
    }
}

/// The fields that differ between two JSON objects, as (before, after) objects holding only those fields.
/// Secrets must never be passed in: callers serialise views without them.
pub fn diff(before: &Value, after: &Value) -> (Value, Value) {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut out_b = Map::new();
    let mut out_a = Map::new();
    for (k, av) in a {
        let bv = b.get(k).unwrap_or(&Value::Null);
        if bv != av {
            out_b.insert(k.clone(), bv.clone());
            out_a.insert(k.clone(), av.clone());
        }
    }
    for (k, bv) in b {
        if !a.contains_key(k) {
            out_b.insert(k.clone(), bv.clone());
            out_a.insert(k.clone(), Value::Null);
        }
    }
    (Value::Object(out_b), Value::Object(out_a))
}

pub fn kind_str(kind: ActorKind) -> &'static str {
    match kind {
        ActorKind::Anonymous => "anonymous",
        ActorKind::Member => "member",
        ActorKind::Staff => "staff",
        ActorKind::System => "system",
    }
}

/// Audit entries newest first, optionally of one kind of record, with the total count.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    entity: Option<&str>,
    page: u64,
    per_page: u64,
) -> Result<(Vec<audit_log::Model>, u64), crate::domain::AppError> {
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
    actor.require(crate::domain::Permission::ViewAudit)?;
    let mut q = audit_log::Entity::find();
    if let Some(e) = entity {
        q = q.filter(audit_log::Column::Entity.eq(e));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(audit_log::Column::At)
        .order_by_desc(audit_log::Column::Id)
        .offset(crate::domain::paging::offset(page, per_page))
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// Entries about one record, newest first (for a record's timeline).
pub async fn for_entity<C: ConnectionTrait>(
    db: &C,
    entity: &str,
    entity_id: &str,
) -> Result<Vec<audit_log::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq(entity))
        .filter(audit_log::Column::EntityId.eq(entity_id))
        .order_by_desc(audit_log::Column::At)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_keeps_only_the_fields_that_changed() {
        let (b, a) = diff(
            &json!({"town": "Leeds", "name": "Ann"}),
            &json!({"town": "York", "name": "Ann"}),
        );
        assert_eq!(b, json!({"town": "Leeds"}));
        assert_eq!(a, json!({"town": "York"}));
    }
}
