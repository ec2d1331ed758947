//! Erasure (UK GDPR, article 17): a supervisor pseudonymises a member's personal data after typing the
//! membership number as a second confirmation.
//!
//! What goes: name, title, e-mail, phone, address, preferences and consent on the member row (search keys
//! blanked, so the record is found by its number only); the portal account's name and address, its
//! password, sessions and links (it can never sign in again); the text of notes; the addresses and bodies
//! of messages sent to them (a message still waiting is not sent); and the personal values inside earlier
//! audit entries about the member and the account.
//!
//! What stays: the membership number, category, joining date, periods and membership events (and, with the
//! money issue, the ledger and invoices) for the six years DOMAIN.md asks; who did what and when in the
//! audit trail, with one new entry saying who erased the record.

use crate::domain::{Actor, AppError, Permission};
use crate::entity::audit_log::AuditAction;
use crate::entity::outbox_message::OutboxStatus;
use crate::entity::{
    audit_log, auth_token, member, member_note, member_representative, outbox_message, session,
    user,
};
use crate::service::audit;
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition,
    DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::{json, Value};
use uuid::Uuid;

/// What replaces erased text.
pub const ERASED: &str = "(erased)";

/// The fields whose values are personal data wherever they appear in an audit entry.
pub const PERSONAL_KEYS: &[&str] = &[
    "title",
    "given_name",
    "family_name",
    "preferred_name",
    "organisation_name",
    "email",
    "new_email",
    "old_email",
    "phone",
    "address_line1",
    "address_line2",
    "town",
    "county",
    "postcode",
    "name",
    "detail",
];

/// The address an erased record is left with: unique, and undeliverable by definition (RFC 2606).
pub fn erased_email(id: Uuid) -> String {
    format!("erased-{}@erased.invalid", id.simple())
}

/// Replaces the values of personal keys in an audit entry's before/after object.
fn scrub(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if PERSONAL_KEYS.contains(&k.as_str()) && !v.is_null() {
                        Value::String(ERASED.into())
                    } else {
                        scrub(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(scrub).collect()),
        other => other.clone(),
    }
}

/// Pseudonymises member `member_id`. `confirm` must be its membership number as shown (e.g. GH0000042).
#[tracing::instrument(skip_all, fields(actor = %actor.label, member = %member_id))]
pub async fn erase(
    db: &DatabaseConnection,
    actor: &Actor,
    member_id: Uuid,
    confirm: &str,
) -> Result<(), AppError> {
    actor.require(Permission::EraseMembers)?;
    let txn = crate::service::begin(db).await?;
    let m = member::Entity::find_by_id(member_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if m.pseudonymised_at.is_some() {
        return Err(AppError::Conflict(
            "This member's personal data has already been erased.".into(),
        ));
    }
    let number = crate::domain::membership_number::MembershipNumber::text_of(m.membership_number);
    let typed: String = confirm
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if typed != number {
        return Err(AppError::field(
            "confirm",
            format!("Type the membership number {number} to confirm the erasure"),
        ));
    }
    let now = crate::service::now();
    let email = erased_email(m.id);
    let org = m.kind == "organisation";

    let mut am: member::ActiveModel = m.clone().into();
    am.title = Set(None);
    am.given_name = Set(if org { String::new() } else { "Erased".into() });
    am.family_name = Set(if org { String::new() } else { "member".into() });
    am.preferred_name = Set(None);
    am.organisation_name = Set(org.then(|| "Erased organisation".into()));
    am.email = Set(email.clone());
    am.phone = Set(None);
    am.phone_as_typed = Set(None);
    am.address_line1 = Set(String::new());
    am.address_line2 = Set(None);
    am.town = Set(String::new());
    am.county = Set(None);
    am.postcode = Set(None);
    am.journal_by_post = Set(false);
    am.email_news = Set(false);
    am.register_consent = Set(false);
    am.stop_all_mail = Set(true);
    am.search_family = Set(String::new());
    am.search_given = Set(String::new());
    am.search_email = Set(String::new());
    am.search_postcode = Set(String::new());
    am.search_town = Set(String::new());
    am.pseudonymised_at = Set(Some(now));
    am.pseudonymised_by = Set(Some(actor.label.clone()));
    am.updated_at = Set(now);
    let tracked = crate::service::summary::track(&txn, &[m.id]).await?;
    am.update(&txn).await?;
    tracked.apply(&txn).await?;

    // The account: it can never sign in again, and keeps nothing that names the person.
    let mut accounts = Vec::new();
    if let Some(uid) = m.user_id {
        if let Some(u) = user::Entity::find_by_id(uid).one(&txn).await? {
            let mut ua: user::ActiveModel = u.into();
            let address = erased_email(uid);
            ua.email = Set(address.clone());
            ua.email_key = Set(address);
            ua.given_name = Set("Erased".into());
            ua.family_name = Set("member".into());
            ua.password_hash = Set(String::new());
            ua.disabled_at = Set(Some(now));
            ua.updated_at = Set(now);
            ua.update(&txn).await?;
            session::Entity::delete_many()
                .filter(session::Column::UserId.eq(uid))
                .exec(&txn)
                .await?;
            auth_token::Entity::delete_many()
                .filter(auth_token::Column::UserId.eq(uid))
                .exec(&txn)
                .await?;
            member_representative::Entity::delete_many()
                .filter(member_representative::Column::UserId.eq(uid))
                .exec(&txn)
                .await?;
            accounts.push(uid);
        }
    }
    // An erased organisation has no one acting for it.
    let links = member_representative::Entity::delete_many()
        .filter(member_representative::Column::MemberId.eq(m.id))
        .exec(&txn)
        .await?
        .rows_affected;

    let notes = member_note::Entity::update_many()
        .col_expr(member_note::Column::Body, Expr::value(ERASED))
        .filter(member_note::Column::MemberId.eq(m.id))
        .exec(&txn)
        .await?
        .rows_affected;

    let mut to_them = Condition::any().add(outbox_message::Column::MemberId.eq(m.id));
    for uid in &accounts {
        to_them = to_them.add(outbox_message::Column::UserId.eq(*uid));
    }
    outbox_message::Entity::update_many()
        .col_expr(
            outbox_message::Column::Status,
            Expr::value(OutboxStatus::Failed),
        )
        .col_expr(
            outbox_message::Column::LastError,
            Expr::value("Not sent: the recipient's personal data was erased"),
        )
        .filter(to_them.clone())
        .filter(
            outbox_message::Column::Status.is_in([OutboxStatus::Pending, OutboxStatus::Sending]),
        )
        .exec(&txn)
        .await?;
    let messages = outbox_message::Entity::update_many()
        .col_expr(
            outbox_message::Column::ToAddress,
            Expr::value(email.clone()),
        )
        .col_expr(
            outbox_message::Column::ToName,
            Expr::value(Option::<String>::None),
        )
        .col_expr(outbox_message::Column::BodyText, Expr::value(ERASED))
        .col_expr(outbox_message::Column::BodyHtml, Expr::value(ERASED))
        .filter(to_them)
        .exec(&txn)
        .await?
        .rows_affected;

    // Earlier audit entries keep who did what and when; the personal values in them go.
    let mut about = Condition::any().add(
        Condition::all()
            .add(audit_log::Column::Entity.eq("member"))
            .add(audit_log::Column::EntityId.eq(m.id.to_string())),
    );
    for uid in &accounts {
        about = about.add(
            Condition::all()
                .add(audit_log::Column::Entity.eq("user"))
                .add(audit_log::Column::EntityId.eq(uid.to_string())),
        );
    }
    let entries = audit_log::Entity::find().filter(about).all(&txn).await?;
    let mut scrubbed = 0;
    for e in entries {
        let before = e.before.as_ref().map(scrub);
        let after = e.after.as_ref().map(scrub);
        if before != e.before || after != e.after {
            let mut ea: audit_log::ActiveModel = e.into();
            ea.before = Set(before);
            ea.after = Set(after);
            ea.update(&txn).await?;
            scrubbed += 1;
        }
    }

    audit::record(
        &txn,
        actor,
        "member",
        m.id,
        AuditAction::Erased,
        Some(json!({"pseudonymised": false})),
        Some(json!({
            "pseudonymised": true,
            "account_closed": !accounts.is_empty(),
            "representative_links_removed": links,
            "notes_erased": notes,
            "messages_erased": messages,
            "audit_entries_scrubbed": scrubbed,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_replaces_personal_values_and_keeps_the_rest() {
        let v = json!({"town": "Leeds", "grace_days": 30, "inner": {"email": "a@b.test"}, "email": null});
        assert_eq!(
            scrub(&v),
            json!({"town": ERASED, "grace_days": 30, "inner": {"email": ERASED}, "email": null})
        );
    }
}
