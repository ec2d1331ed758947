//! Words and rules about payments that both the server and the browser need: payment methods, kinds of
//! ledger transaction, requests needing a second person, and the sandbox provider's test cards.

use crate::domain::money::Money;

/// How money moves: (stored value, label).
pub const METHODS: [(&str, &str); 4] = [
    ("card", "Card"),
    ("cheque", "Cheque"),
    ("bank_transfer", "Bank transfer"),
    ("direct_debit", "Direct Debit"),
];

/// Methods an officer records by hand.
pub const MANUAL_METHODS: [(&str, &str); 2] =
    [("cheque", "Cheque"), ("bank_transfer", "Bank transfer")];

/// Kinds of ledger transaction: (stored value, label).
pub const TRANSACTION_KINDS: [(&str, &str); 6] = [
    ("invoice", "Invoice"),
    ("card_payment", "Card payment"),
    ("bank_payment", "Payment"),
    ("credit_note", "Credit note"),
    ("write_off", "Write-off"),
    ("refund", "Refund"),
];

/// Requests that need a second person: (stored value, label).
pub const REQUEST_KINDS: [(&str, &str); 4] = [
    ("refund", "Refund"),
    ("manual_invoice", "Manual invoice"),
    ("credit_note", "Credit note"),
    ("write_off", "Write-off"),
];

/// A cheque or transfer waiting for a second person. Not raised from the request form: recording a
/// payment makes one when [`manual_payment_needs_second_person`] says so.
pub const MANUAL_PAYMENT_REQUEST: &str = "manual_payment";

/// The office's limit for recording a cheque or transfer without a second person, unless an admin
/// sets another (Office details).
pub const DEFAULT_MANUAL_PAYMENT_LIMIT: Money = Money::from_pence(50_000);

/// How a request of `kind` is named on the worklist.
pub fn request_label(kind: &str) -> &str {
    if kind == MANUAL_PAYMENT_REQUEST {
        "Cheque or transfer"
    } else {
        label(&REQUEST_KINDS, kind)
    }
}

/// Whether a cheque or transfer that staff record needs a second person before it reaches the
/// ledger: it is more than the office's `limit`, or it settles an invoice that is not the paying
/// member's own (`others_invoice`). Anything else is recorded at once.
pub fn manual_payment_needs_second_person(
    amount: Money,
    limit: Money,
    others_invoice: bool,
) -> bool {
    others_invoice || amount.pence() > limit.pence()
}

/// The label for a stored value in one of the lists above, or the value itself.
pub fn label<'a>(list: &[(&'a str, &'a str)], value: &'a str) -> &'a str {
    list.iter()
        .find(|(v, _)| *v == value)
        .map(|(_, l)| *l)
        .unwrap_or(value)
}

/// What the sandbox provider does with a card number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestCard {
    /// 4242 4242 4242 4242: paid.
    Succeeds,
    /// 4000 0000 0000 0002: declined by the bank.
    Declined,
    /// 4000 0000 0000 0119: a processing error the first time, paid when tried again.
    FailsThenSucceeds,
    /// 4000 0000 0000 0341: paid at the hosted page, but later charges of the saved card (automatic
    /// renewal) are declined.
    SavedChargesDeclined,
}

/// The sandbox's test cards: (number, what happens).
pub const TEST_CARDS: [(&str, TestCard); 4] = [
    ("4242424242424242", TestCard::Succeeds),
    ("4000000000000002", TestCard::Declined),
    ("4000000000000119", TestCard::FailsThenSucceeds),
    ("4000000000000341", TestCard::SavedChargesDeclined),
];

/// Reads a card number typed with spaces or dashes; `None` when it is not 12–19 digits passing the Luhn
/// check.
pub fn card_digits(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !(12..=19).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10).then_some(digits)
}

/// The sandbox's answer for a card number that passed [`card_digits`]: unknown valid numbers are
/// declined, as a real test environment does.
pub fn test_card(digits: &str) -> TestCard {
    TEST_CARDS
        .iter()
        .find(|(n, _)| *n == digits)
        .map(|(_, c)| *c)
        .unwrap_or(TestCard::Declined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards_pass_the_luhn_check_and_typos_do_not() {
        for (n, _) in TEST_CARDS {
            assert_eq!(card_digits(n).as_deref(), Some(n));
        }
        assert_eq!(
            card_digits("4242 4242 4242 4242").as_deref(),
            Some("4242424242424242")
        );
        assert_eq!(card_digits("4242 4242 4242 4241"), None);
        assert_eq!(card_digits("4242"), None);
        assert_eq!(card_digits("abcd efgh ijkl mnop"), None);
    }

    #[test]
    fn a_manual_payment_needs_a_second_person_above_the_limit_or_for_another_members_invoice() {
        let limit = DEFAULT_MANUAL_PAYMENT_LIMIT;
        let needs =
            |p, other| manual_payment_needs_second_person(Money::from_pence(p), limit, other);
        assert!(!needs(1, false));
        assert!(
            !needs(50_000, false),
            "the limit itself is recorded at once"
        );
        assert!(needs(50_001, false));
        assert!(
            needs(1, true),
            "another member's invoice, whatever the amount"
        );
        assert!(manual_payment_needs_second_person(
            Money::from_pence(1),
            Money::ZERO,
            false
        ));
        assert_eq!(request_label(MANUAL_PAYMENT_REQUEST), "Cheque or transfer");
        assert_eq!(request_label("write_off"), "Write-off");
    }

    #[test]
    fn unknown_cards_are_declined() {
        assert_eq!(test_card("4242424242424242"), TestCard::Succeeds);
        assert_eq!(test_card("4000000000000119"), TestCard::FailsThenSucceeds);
        assert_eq!(test_card("5555555555554444"), TestCard::Declined);
    }
}
