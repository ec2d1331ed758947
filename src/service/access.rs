//! Which member records a signed-in member may act on: their own, and the organisations they
//! represent. Everything a member does to a record goes through here, so someone else's record answers
//! exactly like one that does not exist.

use crate::domain::membership_number::MembershipNumber;
use crate::domain::{Actor, AppError, Permission};
use crate::entity::{member, member_representative};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// The caller's own member record, if they have one.
pub async fn own_member<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> Result<member::Model, AppError> {
    actor.require(Permission::OwnRecords)?;
    let uid = actor.user()?;
    member::Entity::find()
        .filter(member::Column::UserId.eq(uid))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// A member record the caller may act on: their own, or an organisation they represent.
pub async fn reachable_member<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    membership_number: MembershipNumber,
) -> Result<member::Model, AppError> {
    actor.require(Permission::OwnRecords)?;
    let uid = actor.user()?;
    let m = member::Entity::find()
        .filter(member::Column::MembershipNumber.eq(membership_number.seq()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if m.user_id == Some(uid) {
        return Ok(m);
    }
    let rep = member_representative::Entity::find_by_id((m.id, uid))
        .one(db)
        .await?;
    // Someone else's record answers exactly like a record that does not exist.
    rep.map(|_| m).ok_or(AppError::NotFound)
}

/// The organisations the caller acts for.
pub async fn represented<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> Result<Vec<member::Model>, AppError> {
    actor.require(Permission::OwnRecords)?;
    let uid = actor.user()?;
    let ids: Vec<Uuid> = member_representative::Entity::find()
        .filter(member_representative::Column::UserId.eq(uid))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.member_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(member::Entity::find()
        .filter(member::Column::Id.is_in(ids))
        .order_by_asc(member::Column::OrganisationName)
        .all(db)
        .await?)
}
