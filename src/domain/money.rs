//! An amount of pounds sterling, held as a whole number of pence.
//!
//! This module owns the one representation of money in Guildhall: `i64` pence, GBP only, never a
//! float. The rule it keeps is that arithmetic never wraps and never panics: everything that could
//! overflow is a `checked_*` method returning `None`, so the caller decides what an impossible
//! total means. That is why there are no `+`, `-` or unary `-` operators, and why `Sum` is
//! implemented for `Option<Money>` rather than for `Money`.
//!
//! Amounts typed by people are parsed here, once: [`Money::parse`] for amounts that cannot be
//! negative (fees, payments, refunds) and [`Money::parse_signed`] where a negative amount makes
//! sense (adjustments, imported balances). Both accept what [`Money::plain`] and `Display` produce,
//! so values round-trip through forms and CSV.

use std::fmt;
use std::iter::Sum;

use serde::{Deserialize, Serialize};

/// An amount in pence, GBP. Serialises as the integer number of pence.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money {
    pence: i64,
}

/// Why a typed amount is not an amount of money. `Display` is the message to show beside the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Enter an amount")]
    Empty,
    #[error("Enter an amount in pounds and pence, like 12.50")]
    NotAnAmount,
    #[error("Enter an amount with no more than 2 numbers after the decimal point, like 12.50")]
    FractionOfAPenny,
    #[error("Put a comma between every 3 digits, like 1,234.50, or leave the commas out")]
    BadGrouping,
    #[error("Enter an amount of £0.00 or more")]
    Negative,
    #[error("Enter a smaller amount")]
    TooLarge,
}

impl Money {
    /// No money at all.
    pub const ZERO: Money = Money { pence: 0 };

    pub const fn from_pence(pence: i64) -> Self {
        Money { pence }
    }

    pub const fn pence(self) -> i64 {
        self.pence
    }

    pub const fn is_zero(self) -> bool {
        self.pence == 0
    }

    pub const fn is_negative(self) -> bool {
        self.pence < 0
    }

    pub const fn is_positive(self) -> bool {
        self.pence > 0
    }

    /// `self + other`, or `None` if the total does not fit in `i64` pence.
    pub const fn checked_add(self, other: Money) -> Option<Money> {
        match self.pence.checked_add(other.pence) {
            Some(pence) => Some(Money { pence }),
            None => None,
        }
    }

    /// `self - other`, or `None` if the difference does not fit in `i64` pence.
    pub const fn checked_sub(self, other: Money) -> Option<Money> {
        match self.pence.checked_sub(other.pence) {
            Some(pence) => Some(Money { pence }),
            None => None,
        }
    }

    /// `-self`, or `None` for the one amount whose negation does not fit (`i64::MIN` pence).
    pub const fn checked_neg(self) -> Option<Money> {
        match self.pence.checked_neg() {
            Some(pence) => Some(Money { pence }),
            None => None,
        }
    }

    /// The total of `amounts`, or `None` if any running total overflows. An empty list totals zero.
    pub fn checked_sum<I: IntoIterator<Item = Money>>(amounts: I) -> Option<Money> {
        amounts
            .into_iter()
            .try_fold(Money::ZERO, Money::checked_add)
    }

    /// The amount as pounds and pence without a currency sign or commas, like `1234.50` or `-0.05`:
    /// the form for input values and CSV files.
    pub fn plain(self) -> String {
        let (sign, pounds, pence) = self.parts();
        format!("{sign}{pounds}.{pence:02}")
    }

    /// Parses an amount typed by a person that must not be negative.
    ///
    /// Accepts an optional `£`, commas between every 3 digits of the pounds, and 1 or 2 digits of
    /// pence: `12`, `£12.5`, `1,234.50`, ` 0.05 `. Rejects anything else, including a minus sign,
    /// fractions of a penny and amounts too large to hold.
    pub fn parse(raw: &str) -> Result<Self, MoneyError> {
        match parse_sign_and_magnitude(raw)? {
            (true, _) => Err(MoneyError::Negative),
            (false, magnitude) => i64::try_from(magnitude)
                .map(Money::from_pence)
                .map_err(|_| MoneyError::TooLarge),
        }
    }

    /// Parses an amount that may be negative: as [`Money::parse`], with an optional leading `-`
    /// (`-12.00`, `-£12.00`, `£-12`).
    pub fn parse_signed(raw: &str) -> Result<Self, MoneyError> {
        let (negative, magnitude) = parse_sign_and_magnitude(raw)?;
        let signed = if negative { -magnitude } else { magnitude };
        i64::try_from(signed)
            .map(Money::from_pence)
            .map_err(|_| MoneyError::TooLarge)
    }

    /// The sign, whole pounds and remaining pence of the amount; works for every `i64`, including
    /// `i64::MIN`, whose magnitude does not fit in an `i64`.
    fn parts(self) -> (&'static str, u64, u64) {
        let sign = if self.pence < 0 { "-" } else { "" };
        let magnitude = self.pence.unsigned_abs();
        (sign, magnitude / 100, magnitude % 100)
    }
}

impl fmt::Display for Money {
    /// `£1,234.50`, `£0.05`, `-£12.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (sign, pounds, pence) = self.parts();
        f.pad(&format!("{sign}£{}.{pence:02}", group_thousands(pounds)))
    }
}

impl Sum<Money> for Option<Money> {
    /// `None` if the total overflows; see [`Money::checked_sum`].
    fn sum<I: Iterator<Item = Money>>(amounts: I) -> Self {
        Money::checked_sum(amounts)
    }
}

impl<'a> Sum<&'a Money> for Option<Money> {
    /// `None` if the total overflows; see [`Money::checked_sum`].
    fn sum<I: Iterator<Item = &'a Money>>(amounts: I) -> Self {
        Money::checked_sum(amounts.copied())
    }
}

/// Whether the typed amount has a minus sign, and its size in pence. The size is an `i128` so that
/// the magnitude of `i64::MIN` pence can be held before the sign is applied; anything that does not
/// fit even there is too large.
fn parse_sign_and_magnitude(raw: &str) -> Result<(bool, i128), MoneyError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(MoneyError::Empty);
    }
    let (negative, text) = strip_sign(text);
    let text = match text.strip_prefix('£') {
        Some(rest) => rest.trim_start(),
        None => text,
    };
    let (negative, text) = if negative {
        (true, text)
    } else {
        strip_sign(text)
    };

    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let pounds = parse_pounds(whole)?;
    let pence = match fraction {
        None => 0,
        Some(digits) => parse_pence(digits)?,
    };
    let magnitude = pounds
        .checked_mul(100)
        .and_then(|p| p.checked_add(pence))
        .ok_or(MoneyError::TooLarge)?;
    Ok((negative, magnitude))
}

/// Splits a leading `-` (and any space after it) from `text`.
fn strip_sign(text: &str) -> (bool, &str) {
    match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text),
    }
}

/// The whole pounds, written either as plain digits or grouped in threes with commas.
fn parse_pounds(whole: &str) -> Result<i128, MoneyError> {
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit() || c == ',') {
        return Err(MoneyError::NotAnAmount);
    }
    if whole.contains(',') {
        let mut groups = whole.split(',');
        let first_ok = groups
            .next()
            .is_some_and(|g| (1..=3).contains(&g.len()) && !g.starts_with('0'));
        if !first_ok || !groups.all(|g| g.len() == 3) {
            return Err(MoneyError::BadGrouping);
        }
    }
    whole
        .bytes()
        .filter(u8::is_ascii_digit)
        .try_fold(0i128, |acc, digit| {
            acc.checked_mul(10)?.checked_add(i128::from(digit - b'0'))
        })
        .ok_or(MoneyError::TooLarge)
}

/// The pence after the decimal point: one digit means tens of pence (`.5` is 50p), two digits are
/// pence.
fn parse_pence(digits: &str) -> Result<i128, MoneyError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MoneyError::NotAnAmount);
    }
    match digits.as_bytes() {
        [tens] => Ok(i128::from(tens - b'0') * 10),
        [tens, units] => Ok(i128::from(tens - b'0') * 10 + i128::from(units - b'0')),
        _ => Err(MoneyError::FractionOfAPenny),
    }
}

/// `1234567` → `1,234,567`.
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pence(p: i64) -> Money {
        Money::from_pence(p)
    }

    #[test]
    fn money_accepts_pounds_and_pence() {
        assert_eq!(Money::parse("1234.50"), Ok(pence(123_450)));
    }

    #[test]
    fn money_accepts_commas_between_thousands() {
        assert_eq!(Money::parse("1,234.50"), Ok(pence(123_450)));
        assert_eq!(Money::parse("1,234,567"), Ok(pence(123_456_700)));
    }

    #[test]
    fn money_accepts_a_pound_sign_and_whole_pounds() {
        assert_eq!(Money::parse("£12"), Ok(pence(1200)));
        assert_eq!(Money::parse("£1,234.50"), Ok(pence(123_450)));
    }

    #[test]
    fn money_reads_one_decimal_digit_as_tens_of_pence() {
        assert_eq!(Money::parse("£12.5"), Ok(pence(1250)));
    }

    #[test]
    fn money_ignores_surrounding_spaces() {
        assert_eq!(Money::parse(" 12 "), Ok(pence(1200)));
        assert_eq!(Money::parse("\t£ 12.00\n"), Ok(pence(1200)));
    }

    #[test]
    fn money_accepts_pence_only_amounts() {
        assert_eq!(Money::parse("0.05"), Ok(pence(5)));
        assert_eq!(Money::parse("0"), Ok(Money::ZERO));
    }

    #[test]
    fn money_rejects_fractions_of_a_penny() {
        assert_eq!(Money::parse("12.345"), Err(MoneyError::FractionOfAPenny));
    }

    #[test]
    fn money_rejects_words() {
        assert_eq!(Money::parse("abc"), Err(MoneyError::NotAnAmount));
        assert_eq!(Money::parse("12 pounds"), Err(MoneyError::NotAnAmount));
        assert_eq!(Money::parse("£"), Err(MoneyError::NotAnAmount));
    }

    #[test]
    fn money_rejects_an_empty_amount() {
        assert_eq!(Money::parse(""), Err(MoneyError::Empty));
        assert_eq!(Money::parse("   "), Err(MoneyError::Empty));
    }

    #[test]
    fn money_rejects_commas_in_the_wrong_places() {
        assert_eq!(Money::parse("1,23.00"), Err(MoneyError::BadGrouping));
        assert_eq!(Money::parse("1234,567"), Err(MoneyError::BadGrouping));
        assert_eq!(Money::parse(",123"), Err(MoneyError::BadGrouping));
        assert_eq!(Money::parse("1,,234"), Err(MoneyError::BadGrouping));
        assert_eq!(Money::parse("1,234,"), Err(MoneyError::BadGrouping));
    }

    #[test]
    fn money_rejects_malformed_decimals() {
        assert_eq!(Money::parse("12."), Err(MoneyError::NotAnAmount));
        assert_eq!(Money::parse(".50"), Err(MoneyError::NotAnAmount));
        assert_eq!(Money::parse("1.2.3"), Err(MoneyError::NotAnAmount));
        assert_eq!(Money::parse("1.2a"), Err(MoneyError::NotAnAmount));
    }

    #[test]
    fn money_rejects_non_ascii_digits() {
        assert_eq!(Money::parse("١٢"), Err(MoneyError::NotAnAmount));
    }

    #[test]
    fn money_rejects_negative_amounts_unless_signed() {
        assert_eq!(Money::parse("-5"), Err(MoneyError::Negative));
        assert_eq!(Money::parse("-£5.00"), Err(MoneyError::Negative));
        assert_eq!(Money::parse("£-5"), Err(MoneyError::Negative));
        assert_eq!(Money::parse(" £ - 5"), Err(MoneyError::Negative));
        assert_eq!(Money::parse_signed("-5"), Ok(pence(-500)));
        assert_eq!(Money::parse_signed("-£12.00"), Ok(pence(-1200)));
        assert_eq!(Money::parse_signed("£-12"), Ok(pence(-1200)));
    }

    #[test]
    fn money_rejects_a_sign_with_no_amount() {
        assert_eq!(Money::parse("-"), Err(MoneyError::NotAnAmount));
        assert_eq!(Money::parse_signed("-£"), Err(MoneyError::NotAnAmount));
        assert_eq!(Money::parse_signed("--5"), Err(MoneyError::NotAnAmount));
    }

    #[test]
    fn money_rejects_amounts_that_overflow_i64_pence() {
        assert_eq!(Money::parse("92233720368547758.07"), Ok(pence(i64::MAX)));
        assert_eq!(
            Money::parse("92233720368547758.08"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            Money::parse("99999999999999999999999999999999999999999999"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            Money::parse_signed("-92233720368547758.08"),
            Ok(pence(i64::MIN))
        );
        assert_eq!(
            Money::parse_signed("-92233720368547758.09"),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn money_displays_with_pound_sign_and_commas() {
        assert_eq!(pence(123_450).to_string(), "£1,234.50");
        assert_eq!(pence(5).to_string(), "£0.05");
        assert_eq!(pence(0).to_string(), "£0.00");
        assert_eq!(pence(100_000).to_string(), "£1,000.00");
        assert_eq!(pence(99_999).to_string(), "£999.99");
    }

    #[test]
    fn money_displays_negatives_with_the_sign_before_the_pound() {
        assert_eq!(pence(-1200).to_string(), "-£12.00");
        assert_eq!(pence(-5).to_string(), "-£0.05");
        assert_eq!(pence(i64::MIN).to_string(), "-£92,233,720,368,547,758.08");
    }

    #[test]
    fn money_display_respects_width() {
        assert_eq!(format!("{:>8}", pence(1200)), "  £12.00");
    }

    #[test]
    fn money_plain_has_no_sign_or_commas() {
        assert_eq!(pence(123_450).plain(), "1234.50");
        assert_eq!(pence(5).plain(), "0.05");
        assert_eq!(pence(-1200).plain(), "-12.00");
    }

    #[test]
    fn money_arithmetic_is_checked() {
        assert_eq!(pence(150).checked_add(pence(250)), Some(pence(400)));
        assert_eq!(pence(150).checked_sub(pence(250)), Some(pence(-100)));
        assert_eq!(pence(i64::MAX).checked_add(pence(1)), None);
        assert_eq!(pence(i64::MIN).checked_sub(pence(1)), None);
        assert_eq!(pence(i64::MIN).checked_neg(), None);
        assert_eq!(pence(-5).checked_neg(), Some(pence(5)));
    }

    #[test]
    fn money_knows_its_sign() {
        assert!(pence(-1).is_negative());
        assert!(!Money::ZERO.is_negative());
        assert!(Money::ZERO.is_zero());
        assert!(pence(1).is_positive());
    }

    #[test]
    fn money_sums_into_an_option() {
        let amounts = [pence(100), pence(250), pence(-50)];
        assert_eq!(amounts.iter().sum::<Option<Money>>(), Some(pence(300)));
        assert_eq!(amounts.into_iter().sum::<Option<Money>>(), Some(pence(300)));
        assert_eq!(
            std::iter::empty::<Money>().sum::<Option<Money>>(),
            Some(Money::ZERO)
        );
        assert_eq!(
            [pence(i64::MAX), pence(1)].iter().sum::<Option<Money>>(),
            None
        );
    }

    #[test]
    fn money_serialises_as_integer_pence() {
        assert_eq!(
            serde_json::to_string(&pence(1250)).ok(),
            Some("1250".to_owned())
        );
        assert_eq!(serde_json::from_str::<Money>("-5").ok(), Some(pence(-5)));
        assert!(serde_json::from_str::<Money>("\"12.50\"").is_err());
    }

    #[test]
    fn money_error_messages_read_as_instructions() {
        assert_eq!(
            MoneyError::NotAnAmount.to_string(),
            "Enter an amount in pounds and pence, like 12.50"
        );
    }

    proptest! {
        #[test]
        fn money_parse_round_trips_plain_for_every_non_negative_amount(p in 0..=i64::MAX) {
            prop_assert_eq!(Money::parse(&pence(p).plain()), Ok(pence(p)));
        }

        #[test]
        fn money_parse_round_trips_display_for_every_non_negative_amount(p in 0..=i64::MAX) {
            prop_assert_eq!(Money::parse(&pence(p).to_string()), Ok(pence(p)));
        }

        #[test]
        fn money_parse_signed_round_trips_every_amount(p in any::<i64>()) {
            prop_assert_eq!(Money::parse_signed(&pence(p).plain()), Ok(pence(p)));
            prop_assert_eq!(Money::parse_signed(&pence(p).to_string()), Ok(pence(p)));
        }

        #[test]
        fn money_display_never_panics(
            p in prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX)],
        ) {
            let shown = pence(p).to_string();
            prop_assert!(shown.contains('£'));
            prop_assert_eq!(shown.starts_with('-'), p < 0);
        }

        #[test]
        fn money_checked_sum_equals_the_integer_sum_when_it_fits(
            amounts in proptest::collection::vec(any::<i64>(), 0..8),
        ) {
            // Every running total, computed exactly in i128: the sum is representable only if
            // all of them fit.
            let mut running = 0i128;
            let mut fits = true;
            for &p in &amounts {
                running += i128::from(p);
                fits &= i64::try_from(running).is_ok();
            }
            let total = Money::checked_sum(amounts.iter().copied().map(Money::from_pence));
            let exact = i64::try_from(running).ok().map(Money::from_pence);
            let expected = if fits { exact } else { None };
            prop_assert_eq!(total, expected);
        }

        #[test]
        fn money_checked_sum_of_small_amounts_always_fits(
            amounts in proptest::collection::vec(-1_000_000_000i64..1_000_000_000, 0..50),
        ) {
            let total: Option<Money> = amounts.iter().copied().map(Money::from_pence).sum();
            prop_assert_eq!(total, Some(pence(amounts.iter().sum())));
        }

        #[test]
        fn money_parse_never_panics(raw in "\\PC*") {
            let _ = Money::parse_signed(&raw);
            let _ = Money::parse(&raw);
        }
    }
}
