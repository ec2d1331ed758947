use crate::domain::membership::RenewalBasis;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// `association` or `club`: which kind of body the category belongs to.
    pub audience: String,
    pub annual_fee_pence: i64,
    pub joining_fee_pence: i64,
    pub reinstatement_fee_pence: i64,
    /// 0 (annual only), 10 or 12 monthly instalments.
    pub instalments: i16,
    pub needs_declaration: bool,
    pub grace_days: i32,
    /// `anniversary` or `fixed`.
    pub renewal_basis: String,
    pub fixed_renewal_month: Option<i16>,
    pub fixed_renewal_day: Option<i16>,
    pub on_register: bool,
    pub organisational: bool,
    pub sort_order: i32,
    /// Who may join: the criteria an applicant meets, as officers and applicants read them.
    #[sea_orm(column_type = "Text")]
    pub eligibility: String,
    pub retired_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Every category by id (there are a handful), for jobs that look categories up per member.
pub async fn by_id<C: sea_orm::ConnectionTrait>(
    db: &C,
) -> Result<std::collections::HashMap<Uuid, Model>, DbErr> {
    Ok(Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// How a stored category's periods run (the reverse of what `service::categories` stores). A fixed
/// date that is not there, or not a day of every year, reads as the anniversary.
pub fn renewal_basis(c: &Model) -> RenewalBasis {
    match (
        c.renewal_basis.as_str(),
        c.fixed_renewal_month,
        c.fixed_renewal_day,
    ) {
        ("fixed", Some(m), Some(d)) => {
            RenewalBasis::fixed_date(u32::from(m.unsigned_abs()), u32::from(d.unsigned_abs()))
                .unwrap_or(RenewalBasis::Anniversary)
        }
        _ => RenewalBasis::Anniversary,
    }
}
