//! Demo and volume data.
//!
//! `demo` is idempotent: categories are matched by code, accounts and demo members by e-mail address, so a
//! second run adds nothing. `members` adds realistic fake members in large multi-row inserts for
//! benchmarks; names, towns and postcodes come from small built-in UK lists and a seeded generator, so a
//! run is repeatable.
//!
//! The parts: `demo` (the demo categories, accounts and members), `accounts` (single members with
//! portal accounts, for tests and demonstrations), `fake` (the generator of realistic members),
//! `volume` (fake members in bulk) and `history` (their periods, invoices and payments in bulk).

mod accounts;
mod catalogue;
mod demo;
mod fake;
mod history;
mod volume;

pub use accounts::{
    add_history, member_account, member_account_joined, organisation, portal_accounts,
    renewal_accounts, Shape,
};
pub use catalogue::categories;
pub use demo::{demo, DemoReport};
pub use fake::{fake_member, FakeMember};
pub use history::history;
pub use volume::members;

use crate::domain::{AppError, Role};
use crate::entity::user;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

pub const DEMO_PASSWORD: &str = "guildhall-demo";

/// (email, given, family, role) of the demo staff accounts.
pub const DEMO_STAFF: [(&str, &str, &str, Role); 4] = [
    ("admin@guildhall.test", "Priya", "Shah", Role::Admin),
    (
        "supervisor@guildhall.test",
        "Tom",
        "Okafor",
        Role::Supervisor,
    ),
    ("officer@guildhall.test", "Megan", "Hughes", Role::Officer),
    (
        "finance@guildhall.test",
        "David",
        "Lindqvist",
        Role::Finance,
    ),
];
pub const DEMO_MEMBER: &str = "member@guildhall.test";

async fn user_exists<C: ConnectionTrait>(db: &C, email: &str) -> Result<bool, AppError> {
    Ok(user::Entity::find()
        .filter(user::Column::EmailKey.eq(email.to_lowercase()))
        .one(db)
        .await?
        .is_some())
}
