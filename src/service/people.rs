//! People: members and the accounts they sign in with. Every read is scoped to the caller.

use crate::domain::membership_number::MembershipNumber;
use crate::domain::{Actor, AppError, Permission};
use crate::entity::{category, member, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// What a member sees about themselves on the portal home page.
pub struct OwnSummary {
    pub user: user::Model,
    pub member: Option<(member::Model, category::Model)>,
}

/// The signed-in member's own account and membership (never anyone else's).
pub async fn own_summary<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> Result<OwnSummary, AppError> {
    actor.require(Permission::OwnRecords)?;
    let uid = actor.user()?;
    let user = user::Entity::find_by_id(uid)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let member = match member::Entity::find()
        .filter(member::Column::UserId.eq(uid))
        .one(db)
        .await?
    {
        Some(m) => {
            let c = category::Entity::find_by_id(m.category_id)
                .one(db)
                .await?
                .ok_or(AppError::NotFound)?;
            Some((m, c))
        }
        None => None,
    };
    Ok(OwnSummary { user, member })
}

/// The member with membership number `number`, for staff who may view members.
#[tracing::instrument(skip(db, actor), fields(actor = ?actor.user_id))]
pub async fn staff_member<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    number: MembershipNumber,
) -> Result<member::Model, AppError> {
    actor.require(Permission::ViewMembers)?;
    member::Entity::find()
        .filter(member::Column::MembershipNumber.eq(number.seq()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Figures for the staff home page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overview {
    pub members: u64,
    pub member_accounts: u64,
    pub staff_accounts: u64,
    pub outbox_waiting: u64,
    pub outbox_failed: u64,
}

pub async fn overview<C: ConnectionTrait>(db: &C, actor: &Actor) -> Result<Overview, AppError> {
    actor.require(Permission::StaffArea)?;
    use crate::entity::outbox_message as o;
    use crate::entity::outbox_message::OutboxStatus;
    use crate::service::identity::{KIND_MEMBER, KIND_STAFF};
    Ok(Overview {
        members: member::Entity::find().count(db).await?,
        member_accounts: user::Entity::find()
            .filter(user::Column::Kind.eq(KIND_MEMBER))
            .count(db)
            .await?,
        staff_accounts: user::Entity::find()
            .filter(user::Column::Kind.eq(KIND_STAFF))
            .count(db)
            .await?,
        outbox_waiting: o::Entity::find()
            .filter(o::Column::Status.is_in([OutboxStatus::Pending, OutboxStatus::Sending]))
            .count(db)
            .await?,
        outbox_failed: o::Entity::find()
            .filter(o::Column::Status.eq(OutboxStatus::Failed))
            .count(db)
            .await?,
    })
}
