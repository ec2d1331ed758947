//! Schema history. Every file is a step that has been (or will be) applied somewhere: never edit one that
//! has shipped, add a new step. Steps use the portable schema helpers only and never import the crate's
//! entities, so they keep meaning what they meant on the day they were written.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_membership;
mod m20261122_000003_categories_erasure;
mod m20261122_000004_ledger;
mod m20261122_000005_drop_raw_member_indexes;
mod m20261122_000006_money;
mod m20261123_000007_renewals;
mod m20261123_000008_lifecycle;
mod m20261123_000009_instalments;
mod m20261123_000010_exports;
mod m20261123_000011_members_joined_index;
mod m20261123_000012_movement_counts;
mod m20261123_000013_report_indexes;
mod m20261123_000014_debts;
mod m20261207_000001_withheld_links;
mod m20261207_000002_mfa;
mod m20261207_000015_manual_payment_requests;
mod m20261207_000016_phone_as_typed;
mod m20261207_000017_checkout_keep_card;
mod util;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_membership::Migration),
            Box::new(m20261122_000003_categories_erasure::Migration),
            Box::new(m20261122_000004_ledger::Migration),
            Box::new(m20261122_000005_drop_raw_member_indexes::Migration),
            Box::new(m20261122_000006_money::Migration),
            Box::new(m20261123_000007_renewals::Migration),
            Box::new(m20261123_000008_lifecycle::Migration),
            Box::new(m20261123_000009_instalments::Migration),
            Box::new(m20261123_000010_exports::Migration),
            Box::new(m20261123_000011_members_joined_index::Migration),
            Box::new(m20261123_000012_movement_counts::Migration),
            Box::new(m20261123_000013_report_indexes::Migration),
            Box::new(m20261123_000014_debts::Migration),
            Box::new(m20261207_000001_withheld_links::Migration),
            Box::new(m20261207_000002_mfa::Migration),
            Box::new(m20261207_000015_manual_payment_requests::Migration),
            Box::new(m20261207_000016_phone_as_typed::Migration),
            Box::new(m20261207_000017_checkout_keep_card::Migration),
        ]
    }
}
