use crate::domain::membership::{HowPaid, PaidState, Period};
use sea_orm::entity::prelude::*;
use serde_json::Value;

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
    /// `paid`, `unpaid` or `instalments`.
    pub paid_state: String,
    pub paid_on: Option<Date>,
    pub mandate_active: bool,
    /// `card`, `direct_debit`, `cheque`, `bank_transfer`, `complimentary` or `imported`.
    pub how_paid: String,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A stored period as the domain sees it.
pub fn to_period(p: &Model, category_code: &str) -> Period {
    let paid = match p.paid_state.as_str() {
        "paid" => PaidState::Paid {
            on: p.paid_on.unwrap_or(p.start_on),
        },
        "instalments" => PaidState::Instalments {
            mandate_active: p.mandate_active,
        },
        _ => PaidState::Unpaid,
    };
    Period {
        id: p.id,
        category_code: category_code.to_owned(),
        start: p.start_on,
        end: p.end_on,
        paid,
        how_paid: how_paid(&p.how_paid),
    }
}

/// The stored name of how a period was paid, read back.
pub fn how_paid(s: &str) -> HowPaid {
    serde_json::from_value(Value::String(s.to_owned())).unwrap_or(HowPaid::Imported)
}

/// Plain words for how a period was paid.
pub fn how_paid_label(s: &str) -> &'static str {
    match how_paid(s) {
        HowPaid::Card => "Card",
        HowPaid::DirectDebit => "Direct Debit",
        HowPaid::Cheque => "Cheque",
        HowPaid::BankTransfer => "Bank transfer",
        HowPaid::Complimentary => "Complimentary",
        HowPaid::Imported => "Imported",
    }
}
