//! A category as typed on its form, checked field by field ([`validate`]) and stored ([`apply`]).

use crate::domain::membership::RenewalBasis;
use crate::domain::money::Money;
use crate::domain::AppError;
use crate::domain::FieldErrors;
use crate::entity::category;
use sea_orm::ActiveValue::Set;

pub const AUDIENCES: [(&str, &str); 2] = [("association", "Association"), ("club", "Club")];

pub const MAX_CODE: usize = 12;

pub const MAX_NAME: usize = 60;

pub const MAX_DESCRIPTION: usize = 500;

pub const MAX_ELIGIBILITY: usize = 4_000;

pub const DEFAULT_GRACE_DAYS: i32 = 30;

pub const MAX_GRACE_DAYS: i32 = 365;

/// A category as typed in the admin form (every value as text, so a bad one can be named).
#[derive(Clone, Debug, Default)]
pub struct CategoryInput {
    pub code: String,
    pub name: String,
    pub description: String,
    pub eligibility: String,
    pub audience: String,
    /// Pounds and pence, e.g. `216.00`.
    pub annual_fee: String,
    pub joining_fee: String,
    pub reinstatement_fee: String,
    /// `0` (annual payment only), `10` or `12`.
    pub instalments: String,
    pub needs_declaration: bool,
    pub grace_days: String,
    /// `anniversary` or `fixed`.
    pub renewal_basis: String,
    pub fixed_renewal_month: String,
    pub fixed_renewal_day: String,
    pub on_register: bool,
    pub organisational: bool,
    pub sort_order: String,
}

impl CategoryInput {
    /// The form's values for an existing category (fees as pounds and pence).
    pub fn of(c: &category::Model) -> Self {
        CategoryInput {
            code: c.code.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            eligibility: c.eligibility.clone(),
            audience: c.audience.clone(),
            annual_fee: Money::from_pence(c.annual_fee_pence).plain(),
            joining_fee: Money::from_pence(c.joining_fee_pence).plain(),
            reinstatement_fee: Money::from_pence(c.reinstatement_fee_pence).plain(),
            instalments: c.instalments.to_string(),
            needs_declaration: c.needs_declaration,
            grace_days: c.grace_days.to_string(),
            renewal_basis: c.renewal_basis.clone(),
            fixed_renewal_month: c
                .fixed_renewal_month
                .map(|m| m.to_string())
                .unwrap_or_default(),
            fixed_renewal_day: c
                .fixed_renewal_day
                .map(|d| d.to_string())
                .unwrap_or_default(),
            on_register: c.on_register,
            organisational: c.organisational,
            sort_order: c.sort_order.to_string(),
        }
    }
}

/// The checked values of a `CategoryInput`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Valid {
    pub(super) code: String,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) eligibility: String,
    pub(super) audience: String,
    pub(super) annual: i64,
    pub(super) joining: i64,
    pub(super) reinstatement: i64,
    pub(super) instalments: i16,
    pub(super) needs_declaration: bool,
    pub(super) grace_days: i32,
    pub(super) basis: RenewalBasis,
    pub(super) on_register: bool,
    pub(super) organisational: bool,
    pub(super) sort_order: Option<i32>,
}

pub(super) fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn fee(errors: &mut FieldErrors, field: &str, raw: &str, required: bool) -> i64 {
    if raw.trim().is_empty() && !required {
        return 0;
    }
    match Money::parse(raw) {
        Ok(m) if m.pence() > 100_000_000 => {
            errors.add(field, "Enter a fee of £1,000,000.00 or less");
            0
        }
        Ok(m) => m.pence(),
        Err(e) => {
            errors.add(field, e.to_string());
            0
        }
    }
}

fn whole(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    range: std::ops::RangeInclusive<i32>,
    message: &str,
) -> Option<i32> {
    match raw.trim().parse::<i32>() {
        Ok(n) if range.contains(&n) => Some(n),
        _ => {
            errors.add(field, message);
            None
        }
    }
}

pub(super) fn validate(input: &CategoryInput) -> Result<Valid, AppError> {
    let mut errors = FieldErrors::new();
    let code = input.code.trim().to_uppercase();
    if code.is_empty() {
        errors.add("code", "Enter a short code, like REG");
    } else if code.chars().count() > MAX_CODE
        || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        errors.add(
            "code",
            format!("The code must be {MAX_CODE} letters, digits or hyphens or fewer, like ORG-LV"),
        );
    }
    let name = collapse(&input.name);
    if name.is_empty() {
        errors.add("name", "Enter the category's name");
    } else if name.chars().count() > MAX_NAME {
        errors.add(
            "name",
            format!("The name must be {MAX_NAME} characters or fewer"),
        );
    }
    let description = input.description.trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION {
        errors.add(
            "description",
            format!("The description must be {MAX_DESCRIPTION} characters or fewer"),
        );
    }
    let eligibility = input.eligibility.trim().to_owned();
    if eligibility.is_empty() {
        errors.add("eligibility", "Enter who may join this category");
    } else if eligibility.chars().count() > MAX_ELIGIBILITY {
        errors.add(
            "eligibility",
            format!("The eligibility criteria must be {MAX_ELIGIBILITY} characters or fewer"),
        );
    }
    let audience = input.audience.trim().to_owned();
    if !AUDIENCES.iter().any(|(v, _)| *v == audience) {
        errors.add("audience", "Choose association or club");
    }
    let annual = fee(&mut errors, "annual_fee", &input.annual_fee, true);
    let joining = fee(&mut errors, "joining_fee", &input.joining_fee, false);
    let reinstatement = fee(
        &mut errors,
        "reinstatement_fee",
        &input.reinstatement_fee,
        false,
    );
    let instalments = match input.instalments.trim() {
        "" | "0" => 0,
        "10" => 10,
        "12" => 12,
        _ => {
            errors.add(
                "instalments",
                "Choose annual payment only, or 10 or 12 monthly instalments",
            );
            0
        }
    };
    let grace_days = if input.grace_days.trim().is_empty() {
        Some(DEFAULT_GRACE_DAYS)
    } else {
        whole(
            &mut errors,
            "grace_days",
            &input.grace_days,
            0..=MAX_GRACE_DAYS,
            &format!("Enter the grace days as a whole number from 0 to {MAX_GRACE_DAYS}"),
        )
    };
    let basis = match input.renewal_basis.trim() {
        "anniversary" => Some(RenewalBasis::Anniversary),
        "fixed" => {
            let month = whole(
                &mut errors,
                "fixed_renewal_month",
                &input.fixed_renewal_month,
                1..=12,
                "Enter the month the membership year starts, from 1 to 12",
            );
            let day = whole(
                &mut errors,
                "fixed_renewal_day",
                &input.fixed_renewal_day,
                1..=31,
                "Enter the day the membership year starts, from 1 to 31",
            );
            match (month, day) {
                (Some(m), Some(d)) => {
                    let basis = RenewalBasis::fixed_date(m.unsigned_abs(), d.unsigned_abs());
                    if let Err(e) = &basis {
                        errors.add("fixed_renewal_day", e.to_string());
                    }
                    basis.ok()
                }
                _ => None,
            }
        }
        _ => {
            errors.add(
                "renewal_basis",
                "Choose whether members renew on the anniversary of joining or on a fixed date",
            );
            None
        }
    };
    let sort_order = if input.sort_order.trim().is_empty() {
        None
    } else {
        whole(
            &mut errors,
            "sort_order",
            &input.sort_order,
            0..=100_000,
            "Enter the position in lists as a whole number from 0 to 100000",
        )
    };
    errors.into_result()?;
    let (Some(grace_days), Some(basis)) = (grace_days, basis) else {
        return Err(AppError::internal("category validated without values"));
    };
    Ok(Valid {
        code,
        name,
        description,
        eligibility,
        audience,
        annual,
        joining,
        reinstatement,
        instalments,
        needs_declaration: input.needs_declaration,
        grace_days,
        basis,
        on_register: input.on_register,
        organisational: input.organisational,
        sort_order,
    })
}

pub(super) fn apply(am: &mut category::ActiveModel, v: Valid) {
    let (basis, month, day) = match v.basis {
        RenewalBasis::Anniversary => ("anniversary", None, None),
        RenewalBasis::FixedDate { month, day } => {
            ("fixed", i16::try_from(month).ok(), i16::try_from(day).ok())
        }
    };
    am.code = Set(v.code);
    am.name = Set(v.name);
    am.description = Set(v.description);
    am.eligibility = Set(v.eligibility);
    am.audience = Set(v.audience);
    am.annual_fee_pence = Set(v.annual);
    am.joining_fee_pence = Set(v.joining);
    am.reinstatement_fee_pence = Set(v.reinstatement);
    am.instalments = Set(v.instalments);
    am.needs_declaration = Set(v.needs_declaration);
    am.grace_days = Set(v.grace_days);
    am.renewal_basis = Set(basis.into());
    am.fixed_renewal_month = Set(month);
    am.fixed_renewal_day = Set(day);
    am.on_register = Set(v.on_register);
    am.organisational = Set(v.organisational);
    if let Some(s) = v.sort_order {
        am.sort_order = Set(s);
    }
    am.updated_at = Set(crate::service::now());
}
