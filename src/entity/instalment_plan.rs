use sea_orm::entity::prelude::*;

/// A renewal paid in monthly instalments from a saved card (at most one live plan per renewal). Instalment 1 is the
/// renewal's own invoice; each later one is invoiced on the day it falls due and charged off-session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instalment_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: Uuid,
    /// A plan the member changed their mind about is cancelled and a new one may follow.
    pub renewal_id: Uuid,
    /// 10 or 12.
    pub count: i16,
    pub total_pence: i64,
    /// The first instalment carries the remainder of the even split.
    pub first_pence: i64,
    pub regular_pence: i64,
    /// The period's first day: instalment k (k ≥ 2) falls due k − 1 months after it.
    pub starts_on: Date,
    /// The instalment to collect next (1-based); `count + 1` once all are paid.
    pub next_number: i32,
    /// When the next charge is taken (a retry after a decline moves it); none while the member pays
    /// instalment 1 themselves, or once the plan has ended.
    pub next_due_on: Option<Date>,
    /// The invoice of instalment `next_number`, once raised.
    pub current_invoice_id: Option<Uuid>,
    /// Declined charges of the current instalment.
    pub charge_attempts: i32,
    pub status: PlanStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// Where a plan stands, as stored in `instalment_plans.status`.
    pub enum PlanStatus {
        /// Instalment 1 is not yet paid.
        Starting = "starting",
        Active = "active",
        Completed = "completed",
        /// Declined too often: collecting stopped until the instalment due is paid.
        Suspended = "suspended",
        Cancelled = "cancelled",
    }
}

impl PlanStatus {
    /// Plans that may still collect money.
    pub const LIVE: [PlanStatus; 3] = [
        PlanStatus::Starting,
        PlanStatus::Active,
        PlanStatus::Suspended,
    ];
}
