use crate::domain::membership::{HowPaid, PaidState, Period};
use sea_orm::entity::prelude::*;

/// One membership period. Periods are added, never overwritten: history answers "was X a member on D".
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "periods")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: Uuid,
    pub category_id: Uuid,
    pub start_on: Date,
    /// Inclusive last day.
    pub end_on: Date,
    pub paid_state: PaidStatus,
    pub paid_on: Option<Date>,
    pub mandate_active: bool,
    pub how_paid: HowPaid,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// Whether a period is paid, as stored in `periods.paid_state`.
    pub enum PaidStatus {
        Paid = "paid",
        Unpaid = "unpaid",
        /// Paid month by month.
        Instalments = "instalments",
    }
}

impl PaidStatus {
    /// `paid` or `unpaid`.
    pub fn paid(yes: bool) -> PaidStatus {
        if yes {
            PaidStatus::Paid
        } else {
            PaidStatus::Unpaid
        }
    }

    /// The domain's paid state of a period starting on `start`.
    pub fn to_domain(self, paid_on: Option<Date>, start: Date, mandate_active: bool) -> PaidState {
        match self {
            PaidStatus::Paid => PaidState::Paid {
                on: paid_on.unwrap_or(start),
            },
            PaidStatus::Instalments => PaidState::Instalments { mandate_active },
            PaidStatus::Unpaid => PaidState::Unpaid,
        }
    }
}

/// A stored period as the domain sees it.
pub fn to_period(p: &Model, category_code: &str) -> Period {
    Period {
        id: p.id,
        category_code: category_code.to_owned(),
        start: p.start_on,
        end: p.end_on,
        paid: p
            .paid_state
            .to_domain(p.paid_on, p.start_on, p.mandate_active),
        how_paid: p.how_paid,
    }
}
