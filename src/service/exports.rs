//! Files for third parties, with the fields staff choose: the mailing house's **renewal documents**
//! (members whose membership ends in a chosen month, with their postal address and what renewing
//! costs) and the publisher's **journal mailing list** (members who want the journal by post). Every
//! export is recorded (who, when, what, how many rows) and audited; a member who asked for no post at
//! all is never included; erased members never are.

use crate::domain::membership::Status;
use crate::domain::money::Money;
use crate::domain::{Actor, AppError, FieldErrors, Permission};
use crate::entity::audit_log::AuditAction;
use crate::entity::renewal::RenewalStatus;
use crate::entity::{category, document, export, member, period, renewal};
use chrono::NaiveDate;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

pub const RENEWAL_DOCUMENTS: &str = "renewal-documents";
pub const JOURNAL: &str = "journal";

/// Fields staff may choose: (key, column heading). The order of the file is this order.
pub const FIELDS: [(&str, &str); 14] = [
    ("number", "Membership number"),
    ("title", "Title"),
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    ("organisation", "Organisation"),
    ("address_line1", "Address line 1"),
    ("address_line2", "Address line 2"),
    ("town", "Town"),
    ("county", "County"),
    ("postcode", "Postcode"),
    ("country", "Country"),
    ("category", "Category"),
    ("ends", "Membership ends"),
    ("amount", "Renewal amount"),
];

/// What an export is for, in words.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        RENEWAL_DOCUMENTS => "Renewal documents for the mailing house",
        JOURNAL => "Journal mailing list for the publisher",
        _ => "Export",
    }
}

/// A request for a file, as the form sends it.
#[derive(Clone, Debug, Default)]
pub struct ExportInput {
    pub kind: String,
    /// `YYYY-MM`: renewal documents only.
    pub month: String,
    /// Keys from [`FIELDS`].
    pub fields: Vec<String>,
}

/// A file made: its name, CSV bytes and rows.
#[derive(Clone, Debug)]
pub struct Made {
    pub filename: String,
    pub csv: Vec<u8>,
    pub rows: u64,
}

struct Row {
    m: member::Model,
    category: String,
    ends: Option<NaiveDate>,
    amount: Option<Money>,
}

fn value(r: &Row, field: &str) -> String {
    let m = &r.m;
    match field {
        "number" => {
            crate::domain::membership_number::MembershipNumber::text_of(m.membership_number)
        }
        "title" => m.title.clone().unwrap_or_default(),
        "given_name" => m.given_name.clone(),
        "family_name" => m.family_name.clone(),
        "organisation" => m.organisation_name.clone().unwrap_or_default(),
        "address_line1" => m.address_line1.clone(),
        "address_line2" => m.address_line2.clone().unwrap_or_default(),
        "town" => m.town.clone(),
        "county" => m.county.clone().unwrap_or_default(),
        "postcode" => m.postcode.clone().unwrap_or_default(),
        "country" => m.country.clone(),
        "category" => r.category.clone(),
        "ends" => r
            .ends
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        "amount" => r.amount.map(|a| a.plain()).unwrap_or_default(),
        _ => String::new(),
    }
}

/// Makes the file `input` asks for as of `today`, and records it. Bad input names the field.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn make(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &ExportInput,
    today: NaiveDate,
) -> Result<Made, AppError> {
    actor.require(Permission::EditMembers)?;
    let mut errors = FieldErrors::new();
    let kind = input.kind.trim();
    if kind != RENEWAL_DOCUMENTS && kind != JOURNAL {
        errors.add("kind", "Choose which file to make");
    }
    let fields: Vec<&str> = FIELDS
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| input.fields.iter().any(|f| f == k))
        .collect();
    if fields.is_empty() {
        errors.add("fields", "Choose at least one field");
    }
    let month = if kind == RENEWAL_DOCUMENTS {
        match NaiveDate::parse_from_str(&format!("{}-01", input.month.trim()), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.add("month", "Enter the month as YYYY-MM, for example 2027-01");
                None
            }
        }
    } else {
        None
    };
    errors.into_result()?;
    let categories: HashMap<Uuid, category::Model> = crate::entity::category::by_id(db).await?;
    let mut rows = match (kind, month) {
        (RENEWAL_DOCUMENTS, Some(first)) => renewal_rows(db, &categories, first).await?,
        _ => journal_rows(db, &categories, today).await?,
    };
    rows.sort_by_key(|r| r.m.membership_number);

    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(
        fields
            .iter()
            .map(|f| FIELDS.iter().find(|(k, _)| k == f).map_or("", |(_, h)| *h)),
    )
    .map_err(AppError::internal)?;
    for r in &rows {
        w.write_record(
            fields
                .iter()
                .map(|f| crate::service::money::reports::cell(&value(r, f))),
        )
        .map_err(AppError::internal)?;
    }
    let csv = w.into_inner().map_err(AppError::internal)?;
    let params = month
        .map(|m| m.format("%Y-%m").to_string())
        .unwrap_or_default();
    let txn = crate::service::begin(db).await?;
    let id = crate::service::new_id();
    export::ActiveModel {
        id: Set(id),
        kind: Set(kind.to_owned()),
        fields: Set(json!(fields).to_string()),
        params: Set(params.clone()),
        row_count: Set(i64::try_from(rows.len()).unwrap_or(i64::MAX)),
        created_by_user: Set(actor.user_id),
        created_by: Set(actor.label.clone()),
        created_at: Set(crate::service::now()),
    }
    .insert(&txn)
    .await?;
    crate::service::audit::record(
        &txn,
        actor,
        "export",
        id,
        AuditAction::Exported,
        None,
        Some(json!({"kind": kind, "month": params, "fields": fields, "rows": rows.len()})),
    )
    .await?;
    txn.commit().await?;
    let filename = match month {
        Some(m) => format!("renewal-documents-{}.csv", m.format("%Y-%m")),
        None => format!("journal-mailing-list-{}.csv", today.format("%Y-%m-%d")),
    };
    Ok(Made {
        filename,
        csv,
        rows: rows.len() as u64,
    })
}

/// Members who can be written to by post: not erased, not "no mail at all".
fn postable(m: &member::Model) -> bool {
    m.pseudonymised_at.is_none() && !m.stop_all_mail
}

async fn members_by_id(
    db: &DatabaseConnection,
    ids: &[Uuid],
) -> Result<Vec<member::Model>, AppError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(1000) {
        out.extend(
            member::Entity::find()
                .filter(member::Column::Id.is_in(chunk.to_vec()))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// Members whose last period ends in the month from `first`, still members (not resigned or removed),
/// with the amount to renew: the open renewal invoice's outstanding amount if one is raised, else the
/// category's annual fee.
async fn renewal_rows(
    db: &DatabaseConnection,
    categories: &HashMap<Uuid, category::Model>,
    first: NaiveDate,
) -> Result<Vec<Row>, AppError> {
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .map(|d| d - chrono::Duration::days(1))
        .unwrap_or(first);
    let due: Vec<(Uuid, Option<NaiveDate>)> = period::Entity::find()
        .select_only()
        .column(period::Column::MemberId)
        .column_as(period::Column::EndOn.max(), "last_end")
        .filter(period::Column::PaidState.ne("unpaid"))
        .group_by(period::Column::MemberId)
        .having(period::Column::EndOn.max().gte(first))
        .having(period::Column::EndOn.max().lte(last))
        .into_tuple()
        .all(db)
        .await?;
    let ended = crate::service::renewals::notices::ended_members(db).await?;
    let ends: HashMap<Uuid, NaiveDate> = due
        .into_iter()
        .filter(|(m, _)| !ended.contains(m))
        .filter_map(|(m, e)| Some((m, e?)))
        .collect();
    let ids: Vec<Uuid> = ends.keys().copied().collect();
    // Open renewal invoices of these members.
    let mut owed: HashMap<Uuid, Money> = HashMap::new();
    for chunk in ids.chunks(1000) {
        let open = renewal::Entity::find()
            .filter(renewal::Column::MemberId.is_in(chunk.to_vec()))
            .filter(renewal::Column::Status.eq(RenewalStatus::Open))
            .all(db)
            .await?;
        let invoices: Vec<Uuid> = open.iter().filter_map(|r| r.invoice_id).collect();
        let docs: HashMap<Uuid, i64> = document::Entity::find()
            .filter(document::Column::Id.is_in(invoices))
            .all(db)
            .await?
            .into_iter()
            .map(|d| (d.id, d.outstanding_pence))
            .collect();
        for r in open {
            if let Some(p) = r.invoice_id.and_then(|i| docs.get(&i)) {
                owed.insert(r.member_id, Money::from_pence(*p));
            }
        }
    }
    Ok(members_by_id(db, &ids)
        .await?
        .into_iter()
        .filter(postable)
        .map(|m| {
            let cat = categories.get(&m.category_id);
            Row {
                category: cat.map(|c| c.name.clone()).unwrap_or_default(),
                ends: ends.get(&m.id).copied(),
                amount: owed
                    .get(&m.id)
                    .copied()
                    .or_else(|| cat.map(|c| Money::from_pence(c.annual_fee_pence))),
                m,
            }
        })
        .collect())
}

/// Members now active or in grace who want the journal by post.
async fn journal_rows(
    db: &DatabaseConnection,
    categories: &HashMap<Uuid, category::Model>,
    today: NaiveDate,
) -> Result<Vec<Row>, AppError> {
    let wanting: Vec<member::Model> = member::Entity::find()
        .filter(member::Column::JournalByPost.eq(true))
        .filter(member::Column::PseudonymisedAt.is_null())
        .filter(member::Column::StopAllMail.eq(false))
        .order_by_asc(member::Column::MembershipNumber)
        .all(db)
        .await?;
    let current: HashSet<Uuid> =
        crate::service::dashboard::members_with_status(db, today, &[Status::Active, Status::Grace])
            .await?;
    Ok(wanting
        .into_iter()
        .filter(|m| current.contains(&m.id))
        .map(|m| Row {
            category: categories
                .get(&m.category_id)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            ends: None,
            amount: None,
            m,
        })
        .collect())
}

/// An export as the page lists it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub kind: String,
    pub params: String,
    pub fields: Vec<String>,
    pub rows: i64,
    pub by: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The latest exports, newest first.
#[tracing::instrument(skip_all, fields(actor = %actor.label))]
pub async fn recent(
    db: &DatabaseConnection,
    actor: &Actor,
    limit: u64,
) -> Result<Vec<Recorded>, AppError> {
    actor.require(Permission::EditMembers)?;
    Ok(export::Entity::find()
        .order_by_desc(export::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|e| Recorded {
            fields: serde_json::from_str(&e.fields).unwrap_or_default(),
            kind: e.kind,
            params: e.params,
            rows: e.row_count,
            by: e.created_by,
            at: e.created_at,
        })
        .collect())
}
