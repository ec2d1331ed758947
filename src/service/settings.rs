//! The office's settings, each kept as text in `settings` (key → value): the office's name and address
//! (printed on documents), the renewal reminder days and extra bank holidays, and the most a cheque or
//! transfer may be without a second person. Read by whoever needs them; changed only by admins, through
//! the one audited writer ([`write`]).

use crate::domain::calendar::Calendar;
use crate::domain::money::Money;
use crate::domain::payments::DEFAULT_MANUAL_PAYMENT_LIMIT;
use crate::domain::{Actor, AppError, FieldErrors, Permission};
use crate::entity::audit_log::AuditAction;
use crate::entity::setting;
use crate::service::audit;
use chrono::NaiveDate;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::{json, Value};

/// The office: its name and address (printed on documents), and the e-mail address and phone number
/// members are told to contact (the portal's footer and wherever a page says "contact the membership
/// office").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Office {
    pub name: String,
    pub address: String,
    /// Blank until an admin sets it.
    pub email: String,
    /// As the admin typed it; blank until set.
    pub phone: String,
}

const OFFICE_KEYS: [&str; 4] = [
    "office_name",
    "office_address",
    "office_email",
    "office_phone",
];

/// Reads the office settings (name and address defaults written by the migration).
pub async fn office<C: ConnectionTrait>(db: &C) -> Result<Office, AppError> {
    let rows = setting::Entity::find()
        .filter(setting::Column::Key.is_in(OFFICE_KEYS))
        .all(db)
        .await?;
    let get = |k: &str| {
        rows.iter()
            .find(|r| r.key == k)
            .map(|r| r.value.clone())
            .unwrap_or_default()
    };
    Ok(Office {
        name: get("office_name"),
        address: get("office_address"),
        email: get("office_email"),
        phone: get("office_phone"),
    })
}

/// Admins change the office's name, address, e-mail address and phone number.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn update_office(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &Office,
) -> Result<Office, AppError> {
    actor.require(Permission::ManageSettings)?;
    let name = input.name.split_whitespace().collect::<Vec<_>>().join(" ");
    let address = input
        .address
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let mut errors = FieldErrors::new();
    if name.is_empty() {
        errors.add("office_name", "Enter the office's name");
    } else if name.chars().count() > 120 {
        errors.add("office_name", "The name must be 120 characters or fewer");
    }
    if address.is_empty() {
        errors.add("office_address", "Enter the office's postal address");
    } else if address.lines().count() > 8 || address.chars().count() > 400 {
        errors.add(
            "office_address",
            "The address must be 8 lines and 400 characters or fewer",
        );
    }
    let email = if input.email.trim().is_empty() {
        errors.add(
            "office_email",
            "Enter the e-mail address members should write to",
        );
        None
    } else {
        errors.check(
            "office_email",
            crate::domain::email::Email::parse(&input.email),
        )
    };
    let phone = input.phone.split_whitespace().collect::<Vec<_>>().join(" ");
    if !phone.is_empty() {
        errors.check("office_phone", crate::domain::phone::Phone::parse(&phone));
    }
    errors.into_result()?;
    let email = email.map(String::from).unwrap_or_default();
    let txn = crate::service::begin(db).await?;
    let before = office(&txn).await?;
    let (b, a) = audit::diff(
        &json!({"office_name": before.name, "office_address": before.address,
                "office_email": before.email, "office_phone": before.phone}),
        &json!({"office_name": name, "office_address": address,
                "office_email": email, "office_phone": phone}),
    );
    write(
        &txn,
        actor,
        "office",
        &[
            ("office_name", name.clone()),
            ("office_address", address.clone()),
            ("office_email", email.clone()),
            ("office_phone", phone.clone()),
        ],
        b,
        a,
    )
    .await?;
    txn.commit().await?;
    Ok(Office {
        name,
        address,
        email,
        phone,
    })
}

/// Reminder days relative to the last day of the period, when the settings say nothing.
pub const DEFAULT_OFFSETS: [i64; 6] = [-60, -30, -7, 0, 7, 21];

/// The setting holding the reminder offsets, e.g. `-60,-30,-7,0,7,21`.
pub const OFFSETS_SETTING: &str = "reminder_offsets";

/// Reads reminder offsets as typed: whole days, comma separated, each from −366 to 366.
pub fn parse_offsets(text: &str) -> Result<Vec<i64>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let n: i64 = part
            .replace('−', "-")
            .parse()
            .map_err(|_| format!("“{part}” is not a whole number of days"))?;
        if !(-366..=366).contains(&n) {
            return Err(format!("{n} is not between -366 and 366 days"));
        }
        out.push(n);
    }
    if out.is_empty() {
        return Err("Enter at least one reminder day".into());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The reminder offsets in force.
pub async fn offsets<C: ConnectionTrait>(db: &C) -> Result<Vec<i64>, AppError> {
    let s = setting::Entity::find_by_id(OFFSETS_SETTING).one(db).await?;
    Ok(s.and_then(|s| parse_offsets(&s.value).ok())
        .unwrap_or_else(|| DEFAULT_OFFSETS.to_vec()))
}

/// The setting holding extra bank holidays (one `YYYY-MM-DD` a line), on top of the shipped ones.
pub const HOLIDAYS_SETTING: &str = "extra_bank_holidays";

/// The renewal settings as typed on the settings page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenewalSettings {
    pub reminder_offsets: String,
    pub extra_holidays: String,
}

/// Reads extra bank holidays as typed: one date a line (`YYYY-MM-DD`), blank lines ignored.
pub fn parse_holidays(text: &str) -> Result<Vec<NaiveDate>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let d = NaiveDate::parse_from_str(line, "%Y-%m-%d")
            .map_err(|_| format!("“{line}” is not a date written as 2027-06-04"))?;
        out.push(d);
    }
    if out.len() > 200 {
        return Err("Enter at most 200 extra bank holidays".into());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The working-day calendar: the shipped England and Wales bank holidays and the extra ones in the
/// settings.
pub async fn calendar<C: ConnectionTrait>(db: &C) -> Result<Calendar, AppError> {
    let s = setting::Entity::find_by_id(HOLIDAYS_SETTING)
        .one(db)
        .await?;
    Ok(Calendar::with_extra(
        s.and_then(|s| parse_holidays(&s.value).ok())
            .unwrap_or_default(),
    ))
}

/// The renewal settings now.
pub async fn renewal_settings<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
) -> Result<RenewalSettings, AppError> {
    actor.require(Permission::ManageSettings)?;
    let holidays = setting::Entity::find_by_id(HOLIDAYS_SETTING)
        .one(db)
        .await?
        .map(|s| s.value)
        .unwrap_or_default();
    Ok(RenewalSettings {
        reminder_offsets: offsets(db)
            .await?
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        extra_holidays: holidays,
    })
}

/// Admins change the reminder days and the extra bank holidays. Audited.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn update_renewal_settings(
    db: &DatabaseConnection,
    actor: &Actor,
    reminder_offsets: &str,
    extra_holidays: &str,
) -> Result<(), AppError> {
    actor.require(Permission::ManageSettings)?;
    let mut errors = crate::domain::FieldErrors::new();
    let offsets = parse_offsets(reminder_offsets)
        .map_err(|e| errors.add("reminder_offsets", e))
        .ok();
    let holidays = parse_holidays(extra_holidays)
        .map_err(|e| errors.add("extra_holidays", e))
        .ok();
    errors.into_result()?;
    let (Some(offsets), Some(holidays)) = (offsets, holidays) else {
        return Err(AppError::internal(
            "settings parsed without errors but empty",
        ));
    };
    let offsets_text = offsets
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let holidays_text = holidays
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let txn = crate::service::begin(db).await?;
    let before = renewal_settings(&txn, actor).await?;
    let (b, a) = audit::diff(
        &json!({"reminder_offsets": before.reminder_offsets, "extra_bank_holidays": before.extra_holidays}),
        &json!({"reminder_offsets": offsets_text, "extra_bank_holidays": holidays_text}),
    );
    write(
        &txn,
        actor,
        "renewals",
        &[
            (OFFSETS_SETTING, offsets_text),
            (HOLIDAYS_SETTING, holidays_text),
        ],
        b,
        a,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The setting holding the limit, in pence.
pub const LIMIT_SETTING: &str = "manual_payment_limit";

/// The most a cheque or transfer may be and still be recorded without a second person.
pub async fn limit<C: ConnectionTrait>(db: &C) -> Result<Money, AppError> {
    Ok(setting::Entity::find_by_id(LIMIT_SETTING)
        .one(db)
        .await?
        .and_then(|s| s.value.trim().parse::<i64>().ok())
        .filter(|p| *p >= 0)
        .map(Money::from_pence)
        .unwrap_or(DEFAULT_MANUAL_PAYMENT_LIMIT))
}

/// Admins change the limit (£0.00 sends every cheque and transfer to a second person). Audited.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn update_limit(
    db: &DatabaseConnection,
    actor: &Actor,
    raw: &str,
) -> Result<Money, AppError> {
    actor.require(Permission::ManageSettings)?;
    let new =
        Money::parse(raw).map_err(|e| AppError::field("manual_payment_limit", e.to_string()))?;
    let txn = crate::service::begin(db).await?;
    let before = limit(&txn).await?;
    write(
        &txn,
        actor,
        "payments",
        &[(LIMIT_SETTING, new.pence().to_string())],
        json!({"manual_payment_limit": before.to_string()}),
        json!({"manual_payment_limit": new.to_string()}),
    )
    .await?;
    txn.commit().await?;
    Ok(new)
}

/// The one writer of settings, in the caller's transaction: each `(key, value)` stored (added or
/// replaced, with who and when), and one audit entry for `section` with what the screen showed before
/// and after.
pub(crate) async fn write<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    section: &str,
    values: &[(&str, String)],
    before: Value,
    after: Value,
) -> Result<(), AppError> {
    let now = crate::service::now();
    for (k, v) in values {
        setting::Entity::insert(setting::ActiveModel {
            key: Set((*k).to_owned()),
            value: Set(v.clone()),
            updated_at: Set(Some(now)),
            updated_by: Set(Some(actor.label.clone())),
        })
        .on_conflict(
            OnConflict::column(setting::Column::Key)
                .update_columns([
                    setting::Column::Value,
                    setting::Column::UpdatedAt,
                    setting::Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    audit::record(
        db,
        actor,
        "settings",
        section,
        AuditAction::Changed,
        Some(before),
        Some(after),
    )
    .await?;
    Ok(())
}
