//! Finance's reports: transaction history (filterable, with CSV), aged debt, and reconciliation of the
//! ledger's takings per day and method against the settlement figures the bank or provider reports.
//!
//! One file per report: `transactions`, `aged_debt`, `reconciliation` (with the settlement figures it
//! compares against); here, what they share.

mod aged_debt;
mod reconciliation;
mod transactions;

pub use aged_debt::{aged_debt, aged_debt_csv, bucket, AgedDebt, AgedRow, AGED_DEBT_PAGE};
pub use reconciliation::{
    import_settlements, reconciliation, record_settlement, ReconRow, SettlementInput,
};
pub use transactions::{parse_filter, transactions, transactions_csv, TxnFilter, TxnRow};

use crate::domain::AppError;
use crate::entity::member;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

/// The members with these ids, read in chunks.
async fn members_by_id<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, member::Model>, AppError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for m in member::Entity::find()
            .filter(member::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            out.insert(m.id, m);
        }
    }
    Ok(out)
}

/// A cell that a spreadsheet would take as a formula is prefixed with `'`.
pub fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_defused() {
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("Smith"), "Smith");
    }
}
