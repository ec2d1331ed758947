//! The double-entry ledger's rules, with no I/O: the chart of accounts and what makes a transaction
//! postable.
//!
//! An entry is a signed amount of `Money` on one account: positive is a debit, negative a credit. A
//! transaction is two or more entries that sum to exactly zero, so debits always equal credits. Entries on
//! the members' receivable account name the member: a member's balance (what they owe, or what we owe
//! them when negative) is the sum of their receivable entries. Nothing is ever changed or deleted; a
//! mistake is corrected by another transaction.

use crate::domain::money::Money;
use serde::{Deserialize, Serialize};

/// What kind of account, which says what a debit means on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Asset,
    Liability,
    Income,
    Expense,
}

/// The accounts the office posts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// What members owe (debit) or are owed (credit); every entry names the member.
    MembersReceivable,
    /// Money in the bank (cheques, transfers, Direct Debit collections, provider payouts).
    Bank,
    /// Card payments taken by the provider and not yet paid out to the bank.
    CardClearing,
    /// Subscriptions earned.
    SubscriptionIncome,
    /// Joining and reinstatement fees earned.
    JoiningFeeIncome,
    /// Debts given up on.
    WriteOffs,
    /// Refunds approved and not yet paid out.
    RefundsPayable,
}

impl Account {
    pub const ALL: [Account; 7] = [
        Account::MembersReceivable,
        Account::Bank,
        Account::CardClearing,
        Account::SubscriptionIncome,
        Account::JoiningFeeIncome,
        Account::WriteOffs,
        Account::RefundsPayable,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Account::MembersReceivable => "members_receivable",
            Account::Bank => "bank",
            Account::CardClearing => "card_clearing",
            Account::SubscriptionIncome => "subscription_income",
            Account::JoiningFeeIncome => "joining_fee_income",
            Account::WriteOffs => "write_offs",
            Account::RefundsPayable => "refunds_payable",
        }
    }

    pub fn from_code(code: &str) -> Option<Account> {
        Account::ALL.into_iter().find(|a| a.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            Account::MembersReceivable => "Members' receivable",
            Account::Bank => "Bank",
            Account::CardClearing => "Card payments in transit",
            Account::SubscriptionIncome => "Subscription income",
            Account::JoiningFeeIncome => "Joining and reinstatement fees",
            Account::WriteOffs => "Bad debts written off",
            Account::RefundsPayable => "Refunds to pay",
        }
    }

    pub fn kind(self) -> AccountKind {
        match self {
            Account::MembersReceivable | Account::Bank | Account::CardClearing => {
                AccountKind::Asset
            }
            Account::SubscriptionIncome | Account::JoiningFeeIncome => AccountKind::Income,
            Account::WriteOffs => AccountKind::Expense,
            Account::RefundsPayable => AccountKind::Liability,
        }
    }

    /// Whether entries on this account must name a member.
    pub fn per_member(self) -> bool {
        self == Account::MembersReceivable
    }
}

/// One line of a transaction: a debit (positive) or credit (negative) on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry<M> {
    pub account: Account,
    /// The member a receivable entry is about.
    pub member: Option<M>,
    pub amount: Money,
}

/// Why a set of entries cannot be posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("A transaction needs at least two entries")]
    TooFewEntries,
    #[error("An entry of £0.00 means nothing; leave it out")]
    ZeroEntry,
    #[error("The entries do not balance: debits and credits differ")]
    Unbalanced,
    #[error("An entry on the members' receivable account must name the member")]
    MemberMissing,
    #[error("Only entries on the members' receivable account name a member")]
    MemberNotAllowed,
    #[error("The amounts are too large to add up")]
    Overflow,
}

/// Checks that `entries` can be posted as one transaction: at least two, none zero, summing to zero,
/// with a member on exactly the receivable entries.
pub fn check<M>(entries: &[Entry<M>]) -> Result<(), LedgerError> {
    if entries.len() < 2 {
        return Err(LedgerError::TooFewEntries);
    }
    for e in entries {
        if e.amount.is_zero() {
            return Err(LedgerError::ZeroEntry);
        }
        match (e.account.per_member(), e.member.is_some()) {
            (true, false) => return Err(LedgerError::MemberMissing),
            (false, true) => return Err(LedgerError::MemberNotAllowed),
            _ => {}
        }
    }
    let total =
        Money::checked_sum(entries.iter().map(|e| e.amount)).ok_or(LedgerError::Overflow)?;
    if total.is_zero() {
        Ok(())
    } else {
        Err(LedgerError::Unbalanced)
    }
}

/// The entries of the everyday transactions, built here once so that each is balanced by construction.
pub mod postings {
    use super::{Account, Entry};
    use crate::domain::money::Money;

    fn pair<M: Copy>(debit: Account, credit: Account, member: M, amount: Money) -> Vec<Entry<M>> {
        let neg = amount.checked_neg().unwrap_or(Money::ZERO);
        let on = |a: Account| a.per_member().then_some(member);
        vec![
            Entry {
                account: debit,
                member: on(debit),
                amount,
            },
            Entry {
                account: credit,
                member: on(credit),
                amount: neg,
            },
        ]
    }

    /// An invoice: the member owes the fee, income is earned.
    pub fn invoice<M: Copy>(member: M, subscription: Money, joining: Money) -> Vec<Entry<M>> {
        let mut out = Vec::new();
        if !subscription.is_zero() {
            out.extend(pair(
                Account::MembersReceivable,
                Account::SubscriptionIncome,
                member,
                subscription,
            ));
        }
        if !joining.is_zero() {
            out.extend(pair(
                Account::MembersReceivable,
                Account::JoiningFeeIncome,
                member,
                joining,
            ));
        }
        out
    }

    /// A payment by card: the provider holds it until the payout.
    pub fn card_payment<M: Copy>(member: M, amount: Money) -> Vec<Entry<M>> {
        pair(
            Account::CardClearing,
            Account::MembersReceivable,
            member,
            amount,
        )
    }

    /// A cheque, bank transfer or Direct Debit collection: straight into the bank.
    pub fn bank_payment<M: Copy>(member: M, amount: Money) -> Vec<Entry<M>> {
        pair(Account::Bank, Account::MembersReceivable, member, amount)
    }

    /// A credit note: the fee is no longer owed.
    pub fn credit_note<M: Copy>(member: M, amount: Money) -> Vec<Entry<M>> {
        pair(
            Account::SubscriptionIncome,
            Account::MembersReceivable,
            member,
            amount,
        )
    }

    /// A write-off: the debt is given up.
    pub fn write_off<M: Copy>(member: M, amount: Money) -> Vec<Entry<M>> {
        pair(
            Account::WriteOffs,
            Account::MembersReceivable,
            member,
            amount,
        )
    }

    /// A refund paid out from the bank (or back through the card provider, from its clearing account).
    pub fn refund<M: Copy>(member: M, amount: Money, by_card: bool) -> Vec<Entry<M>> {
        let from = if by_card {
            Account::CardClearing
        } else {
            Account::Bank
        };
        pair(Account::MembersReceivable, from, member, amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn p(pence: i64) -> Money {
        Money::from_pence(pence)
    }

    #[test]
    fn unbalanced_or_malformed_transactions_are_refused() {
        let ok = postings::invoice(1u32, p(21_600), p(2_500));
        assert_eq!(check(&ok), Ok(()));
        let mut off = ok.clone();
        off[0].amount = p(21_601);
        assert_eq!(check(&off), Err(LedgerError::Unbalanced));
        assert_eq!(check(&ok[..1]), Err(LedgerError::TooFewEntries));
        let mut zero = ok.clone();
        zero[1].amount = Money::ZERO;
        zero[0].amount = Money::ZERO;
        assert_eq!(check(&zero), Err(LedgerError::ZeroEntry));
        let mut anonymous = ok.clone();
        anonymous[0].member = None;
        assert_eq!(check(&anonymous), Err(LedgerError::MemberMissing));
        let mut named = ok;
        named[1].member = Some(1);
        assert_eq!(check(&named), Err(LedgerError::MemberNotAllowed));
    }

    #[test]
    fn codes_round_trip() {
        for a in Account::ALL {
            assert_eq!(Account::from_code(a.code()), Some(a));
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Invoice(u8, i64, i64),
        Card(u8, i64),
        Bank(u8, i64),
        CreditNote(u8, i64),
        WriteOff(u8, i64),
        Refund(u8, i64, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        let m = 0u8..8;
        let amt = 1i64..500_000;
        prop_oneof![
            (m.clone(), amt.clone(), 0i64..100_000).prop_map(|(m, a, j)| Op::Invoice(m, a, j)),
            (m.clone(), amt.clone()).prop_map(|(m, a)| Op::Card(m, a)),
            (m.clone(), amt.clone()).prop_map(|(m, a)| Op::Bank(m, a)),
            (m.clone(), amt.clone()).prop_map(|(m, a)| Op::CreditNote(m, a)),
            (m.clone(), amt.clone()).prop_map(|(m, a)| Op::WriteOff(m, a)),
            (m, amt, any::<bool>()).prop_map(|(m, a, c)| Op::Refund(m, a, c)),
        ]
    }

    proptest! {
        /// Any sequence of everyday transactions keeps debits equal to credits, and each member's
        /// balance equal to what was invoiced less what was paid, credited and written off, plus refunds.
        #[test]
        fn every_posting_balances_and_member_balances_follow(ops in proptest::collection::vec(op(), 1..200)) {
            let mut ledger: Vec<Entry<u8>> = Vec::new();
            let mut expected: HashMap<u8, i64> = HashMap::new();
            for o in ops {
                let (member, delta, entries) = match o {
                    Op::Invoice(m, a, j) => (m, a + j, postings::invoice(m, p(a), p(j))),
                    Op::Card(m, a) => (m, -a, postings::card_payment(m, p(a))),
                    Op::Bank(m, a) => (m, -a, postings::bank_payment(m, p(a))),
                    Op::CreditNote(m, a) => (m, -a, postings::credit_note(m, p(a))),
                    Op::WriteOff(m, a) => (m, -a, postings::write_off(m, p(a))),
                    Op::Refund(m, a, c) => (m, a, postings::refund(m, p(a), c)),
                };
                prop_assert_eq!(check(&entries), Ok(()));
                *expected.entry(member).or_default() += delta;
                ledger.extend(entries);
            }
            let total: i64 = ledger.iter().map(|e| e.amount.pence()).sum();
            prop_assert_eq!(total, 0);
            for (m, want) in expected {
                let got: i64 = ledger
                    .iter()
                    .filter(|e| e.account == Account::MembersReceivable && e.member == Some(m))
                    .map(|e| e.amount.pence())
                    .sum();
                prop_assert_eq!(got, want);
            }
        }
    }
}
