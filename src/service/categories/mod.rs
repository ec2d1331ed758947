//! Membership categories, managed by admins: every field DOMAIN.md lists, each change audited with the
//! values before and after. A category that members or periods name is retired (no one new joins it or
//! moves into it) rather than deleted; only a category nothing refers to can be deleted.

use crate::domain::membership::RenewalBasis;
use crate::domain::Actor;
use crate::domain::AppError;
use crate::domain::Permission;
use crate::entity::audit_log::AuditAction;
use crate::entity::category::renewal_basis;
use crate::entity::{category, member, period};
use crate::service::audit;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{json, Value};
use uuid::Uuid;
mod input;

use input::apply;
use input::validate;
pub use input::CategoryInput;
pub use input::AUDIENCES;
pub use input::DEFAULT_GRACE_DAYS;
pub use input::MAX_CODE;
pub use input::MAX_DESCRIPTION;
pub use input::MAX_ELIGIBILITY;
pub use input::MAX_GRACE_DAYS;
pub use input::MAX_NAME;

/// The audit view of a category: every field an admin sets.
pub fn view(c: &category::Model) -> Value {
    json!({
        "code": c.code,
        "name": c.name,
        "description": c.description,
        "eligibility": c.eligibility,
        "audience": c.audience,
        "annual_fee_pence": c.annual_fee_pence,
        "joining_fee_pence": c.joining_fee_pence,
        "reinstatement_fee_pence": c.reinstatement_fee_pence,
        "instalments": c.instalments,
        "needs_declaration": c.needs_declaration,
        "grace_days": c.grace_days,
        "renewal_basis": c.renewal_basis,
        "fixed_renewal_month": c.fixed_renewal_month,
        "fixed_renewal_day": c.fixed_renewal_day,
        "on_register": c.on_register,
        "organisational": c.organisational,
        "sort_order": c.sort_order,
        "retired": c.retired_at.is_some(),
    })
}

/// The renewal basis in plain words, e.g. "Anniversary of joining" or "Each year on 1 October".
pub fn basis_label(c: &category::Model) -> String {
    match renewal_basis(c) {
        RenewalBasis::FixedDate { month, day } => {
            let month = chrono::NaiveDate::from_ymd_opt(2023, month, 1)
                .map(|d| d.format("%B").to_string())
                .unwrap_or_default();
            format!("Each year on {day} {month}")
        }
        RenewalBasis::Anniversary => "Anniversary of joining".into(),
    }
}

/// A category with how many members and periods name it.
#[derive(Clone, Debug)]
pub struct CategoryUse {
    pub category: category::Model,
    pub members: u64,
    pub periods: u64,
}

impl CategoryUse {
    pub fn in_use(&self) -> bool {
        self.members > 0 || self.periods > 0
    }
}

async fn usage<C: ConnectionTrait>(db: &C, c: category::Model) -> Result<CategoryUse, AppError> {
    let members = member::Entity::find()
        .filter(member::Column::CategoryId.eq(c.id))
        .count(db)
        .await?;
    let periods = period::Entity::find()
        .filter(period::Column::CategoryId.eq(c.id))
        .count(db)
        .await?;
    Ok(CategoryUse {
        category: c,
        members,
        periods,
    })
}

/// How many rows of `E` name each category (by its `category_id` column), in one grouped query.
async fn counts_by_category<E, C>(
    db: &C,
    column: E::Column,
) -> Result<std::collections::HashMap<Uuid, u64>, AppError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    use sea_orm::QuerySelect;
    let rows: Vec<(Uuid, i64)> = E::find()
        .select_only()
        .column(column)
        .column_as(column.count(), "n")
        .group_by(column)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Every category, open ones first, in display order, with their use.
pub async fn list(db: &DatabaseConnection, actor: &Actor) -> Result<Vec<CategoryUse>, AppError> {
    actor.require(Permission::ManageCategories)?;
    let rows = category::Entity::find()
        .order_by_asc(category::Column::SortOrder)
        .order_by_asc(category::Column::Name)
        .all(db)
        .await?;
    let members = counts_by_category::<member::Entity, _>(db, member::Column::CategoryId).await?;
    let periods = counts_by_category::<period::Entity, _>(db, period::Column::CategoryId).await?;
    let mut out: Vec<CategoryUse> = rows
        .into_iter()
        .map(|c| CategoryUse {
            members: members.get(&c.id).copied().unwrap_or(0),
            periods: periods.get(&c.id).copied().unwrap_or(0),
            category: c,
        })
        .collect();
    out.sort_by_key(|u| u.category.retired_at.is_some());
    Ok(out)
}

/// One category with its use.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn get(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<CategoryUse, AppError> {
    actor.require(Permission::ManageCategories)?;
    let c = category::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    usage(db, c).await
}

async fn code_taken<C: ConnectionTrait>(
    db: &C,
    code: &str,
    except: Option<Uuid>,
) -> Result<bool, AppError> {
    let mut q = category::Entity::find().filter(category::Column::Code.eq(code));
    if let Some(id) = except {
        q = q.filter(category::Column::Id.ne(id));
    }
    Ok(q.count(db).await? > 0)
}

/// Adds a category; it is open for joining at once.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &CategoryInput,
) -> Result<category::Model, AppError> {
    actor.require(Permission::ManageCategories)?;
    let v = validate(input)?;
    let txn = crate::service::begin(db).await?;
    if code_taken(&txn, &v.code, None).await? {
        return Err(AppError::field(
            "code",
            "Another category already has this code",
        ));
    }
    let sort = match v.sort_order {
        Some(s) => s,
        None => {
            let last = category::Entity::find()
                .order_by_desc(category::Column::SortOrder)
                .one(&txn)
                .await?;
            last.map(|c| c.sort_order.saturating_add(10)).unwrap_or(0)
        }
    };
    let now = super::now();
    let mut am = category::ActiveModel {
        id: Set(super::new_id()),
        sort_order: Set(sort),
        retired_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    };
    apply(&mut am, v);
    let c = am.insert(&txn).await?;
    audit::record(
        &txn,
        actor,
        "category",
        c.id,
        AuditAction::Created,
        None,
        Some(view(&c)),
    )
    .await?;
    txn.commit().await?;
    Ok(c)
}

/// Changes a category's fields; the audit entry holds only what changed.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    input: &CategoryInput,
) -> Result<category::Model, AppError> {
    actor.require(Permission::ManageCategories)?;
    let v = validate(input)?;
    let txn = crate::service::begin(db).await?;
    let before = category::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if code_taken(&txn, &v.code, Some(id)).await? {
        return Err(AppError::field(
            "code",
            "Another category already has this code",
        ));
    }
    if before.organisational != v.organisational {
        let members = member::Entity::find()
            .filter(member::Column::CategoryId.eq(id))
            .count(&txn)
            .await?;
        if members > 0 {
            return Err(AppError::field(
                "organisational",
                format!(
                    "{members} member{} in this category; whether it is for organisations cannot change while anyone is in it",
                    if members == 1 { " is" } else { "s are" }
                ),
            ));
        }
    }
    // The grace days decide when members lapse: the kept counts of everyone concerned move.
    let tracked = if before.grace_days != v.grace_days {
        let mut ids: Vec<uuid::Uuid> = member::Entity::find()
            .select_only()
            .column(member::Column::Id)
            .filter(member::Column::CategoryId.eq(id))
            .into_tuple()
            .all(&txn)
            .await?;
        ids.extend(
            crate::entity::period::Entity::find()
                .select_only()
                .column(crate::entity::period::Column::MemberId)
                .distinct()
                .filter(crate::entity::period::Column::CategoryId.eq(id))
                .into_tuple::<uuid::Uuid>()
                .all(&txn)
                .await?,
        );
        Some(crate::service::summary::track(&txn, &ids).await?)
    } else {
        None
    };
    let mut am: category::ActiveModel = before.clone().into();
    apply(&mut am, v);
    let after = am.update(&txn).await?;
    if let Some(t) = tracked {
        t.apply(&txn).await?;
    }
    let (b, a) = audit::diff(&view(&before), &view(&after));
    if b.as_object().is_some_and(|o| !o.is_empty()) {
        audit::record(
            &txn,
            actor,
            "category",
            id,
            AuditAction::Changed,
            Some(b),
            Some(a),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(after)
}

/// Closes a category to new members and moves into it; its members stay in it.
pub async fn retire(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> Result<(), AppError> {
    set_retired(db, actor, id, true).await
}

/// Opens a retired category again.
pub async fn reopen(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> Result<(), AppError> {
    set_retired(db, actor, id, false).await
}

async fn set_retired(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    retire: bool,
) -> Result<(), AppError> {
    actor.require(Permission::ManageCategories)?;
    let txn = crate::service::begin(db).await?;
    let c = category::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if c.retired_at.is_some() == retire {
        return Err(AppError::Conflict(if retire {
            "This category is already retired.".into()
        } else {
            "This category is already open.".into()
        }));
    }
    let now = super::now();
    let mut am: category::ActiveModel = c.clone().into();
    am.retired_at = Set(retire.then_some(now));
    am.updated_at = Set(now);
    am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "category",
        id,
        if retire {
            AuditAction::Retired
        } else {
            AuditAction::Reopened
        },
        Some(json!({"retired": !retire})),
        Some(json!({"retired": retire})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes a category that nothing refers to; one in use must be retired instead.
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> Result<(), AppError> {
    actor.require(Permission::ManageCategories)?;
    let txn = crate::service::begin(db).await?;
    let c = category::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let u = usage(&txn, c).await?;
    if u.in_use() {
        return Err(AppError::Conflict(format!(
            "{} is in use ({} member{}, {} period{}), so it cannot be deleted. Retire it instead.",
            u.category.name,
            u.members,
            if u.members == 1 { "" } else { "s" },
            u.periods,
            if u.periods == 1 { "" } else { "s" },
        )));
    }
    category::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        "category",
        id,
        AuditAction::Deleted,
        Some(view(&u.category)),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CategoryInput {
        CategoryInput {
            code: "fel".into(),
            name: "  Fellow ".into(),
            eligibility: "Ten years in practice.".into(),
            audience: "association".into(),
            annual_fee: "£300".into(),
            instalments: "12".into(),
            renewal_basis: "anniversary".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_category_is_read_with_defaults() {
        let v = validate(&input()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.code, "FEL");
        assert_eq!(v.name, "Fellow");
        assert_eq!(v.annual, 30_000);
        assert_eq!(v.joining, 0);
        assert_eq!(v.instalments, 12);
        assert_eq!(v.grace_days, DEFAULT_GRACE_DAYS);
        assert_eq!(v.basis, RenewalBasis::Anniversary);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = CategoryInput {
            code: "no spaces".into(),
            name: String::new(),
            eligibility: String::new(),
            audience: "guild".into(),
            annual_fee: "12.345".into(),
            joining_fee: "-5".into(),
            instalments: "6".into(),
            grace_days: "400".into(),
            renewal_basis: "fixed".into(),
            fixed_renewal_month: "2".into(),
            fixed_renewal_day: "29".into(),
            sort_order: "x".into(),
            ..Default::default()
        };
        let Err(AppError::Validation(f)) = validate(&bad) else {
            panic!("accepted a bad category")
        };
        for field in [
            "code",
            "name",
            "eligibility",
            "audience",
            "annual_fee",
            "joining_fee",
            "instalments",
            "grace_days",
            "fixed_renewal_day",
            "sort_order",
        ] {
            assert!(f.get(field).is_some(), "no message for {field}: {f:?}");
        }
    }

    #[test]
    fn a_fixed_year_needs_a_day_that_comes_every_year() {
        let mut i = input();
        i.renewal_basis = "fixed".into();
        i.fixed_renewal_month = "10".into();
        i.fixed_renewal_day = "1".into();
        let v = validate(&i).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.basis, RenewalBasis::FixedDate { month: 10, day: 1 });
        i.fixed_renewal_month = String::new();
        assert!(validate(&i).is_err());
    }
}
