//! The twelve demo categories from DOMAIN.md, added once (the demo data and the test fixtures use them).

use crate::domain::{Actor, AppError};
use crate::entity::audit_log::AuditAction;
use crate::entity::category;
use crate::service::audit;
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::Set;
use sea_orm::ColumnTrait;
use sea_orm::ConnectionTrait;
use sea_orm::EntityTrait;
use sea_orm::QueryFilter;
use serde_json::json;

struct Cat {
    code: &'static str,
    name: &'static str,
    audience: &'static str,
    annual: i64,
    joining: i64,
    reinstatement: i64,
    instalments: i16,
    declaration: bool,
    register: bool,
    organisational: bool,
    description: &'static str,
    eligibility: &'static str,
}

const CATEGORIES: &[Cat] = &[
    Cat { code: "STU", name: "Student", audience: "association", annual: 9_500, joining: 0, reinstatement: 2_500, instalments: 0, declaration: true, register: false, organisational: false,
        description: "For students on a qualifying counselling course.",
        eligibility: "On a counselling course of at least 1 year full-time or 2 years part-time with a supervised placement of at least 100 client hours. May stay a student for at most 2 extra years; moves to Individual on uploading the graduation certificate, with no extra fee that year." },
    Cat { code: "IND", name: "Individual", audience: "association", annual: 19_800, joining: 2_500, reinstatement: 5_000, instalments: 12, declaration: true, register: false, organisational: false,
        description: "For graduates of a qualifying course who are not yet registered.",
        eligibility: "Graduated from a qualifying course with at least 100 placement hours and agrees to the ethical framework. Must join the register within 24 months or cannot renew." },
    Cat { code: "REG", name: "Registered", audience: "association", annual: 21_600, joining: 2_500, reinstatement: 5_000, instalments: 12, declaration: true, register: true, organisational: false,
        description: "For practising counsellors on the public register.",
        eligibility: "An Individual member in practice who passed the certificate of proficiency or an accredited course. Appears on the public register." },
    Cat { code: "ACC", name: "Accredited", audience: "association", annual: 24_600, joining: 0, reinstatement: 5_000, instalments: 12, declaration: true, register: true, organisational: false,
        description: "For registered counsellors whose training and practice have been accredited.",
        eligibility: "Registered for at least 3 years, with at least 450 tutor-contact training hours and 450 supervised practice hours over 3 to 6 years (150 after qualifying), and supervision of at least 1.5 hours a month." },
    Cat { code: "SAC", name: "Senior Accredited", audience: "association", annual: 26_400, joining: 0, reinstatement: 5_000, instalments: 12, declaration: true, register: true, organisational: false,
        description: "For accredited counsellors who supervise and train others.",
        eligibility: "Accredited members with substantial experience who supervise and train others." },
    Cat { code: "RET", name: "Retired", audience: "association", annual: 7_500, joining: 0, reinstatement: 2_500, instalments: 0, declaration: false, register: false, organisational: false,
        description: "For members who no longer practise.",
        eligibility: "No longer practising. A subsidised fee that keeps members in touch with the profession." },
    Cat { code: "ORG-LV", name: "Organisational (local voluntary)", audience: "association", annual: 18_000, joining: 0, reinstatement: 5_000, instalments: 0, declaration: true, register: false, organisational: true,
        description: "For local voluntary counselling services.",
        eligibility: "Local voluntary organisations providing counselling, represented by one or more named people." },
    Cat { code: "ORG-NV", name: "Organisational (national voluntary)", audience: "association", annual: 42_000, joining: 0, reinstatement: 10_000, instalments: 0, declaration: true, register: false, organisational: true,
        description: "For national voluntary counselling organisations.",
        eligibility: "National voluntary organisations providing counselling services." },
    Cat { code: "ORG-C", name: "Organisational (commercial)", audience: "association", annual: 78_000, joining: 0, reinstatement: 15_000, instalments: 0, declaration: true, register: false, organisational: true,
        description: "For commercial counselling providers.",
        eligibility: "Commercial providers of counselling and employee assistance." },
    Cat { code: "CLUB", name: "Member", audience: "club", annual: 180_000, joining: 75_000, reinstatement: 75_000, instalments: 12, declaration: false, register: false, organisational: false,
        description: "Full membership of the club.",
        eligibility: "Full membership of the club: a joining fee plus an annual subscription, or monthly payments. The membership committee decides applications." },
    Cat { code: "U27", name: "Under 27", audience: "club", annual: 72_000, joining: 15_000, reinstatement: 15_000, instalments: 12, declaration: false, register: false, organisational: false,
        description: "Membership of the club for those under 27.",
        eligibility: "For members under 27 on joining, with proof of age." },
    Cat { code: "CORP", name: "Corporate", audience: "club", annual: 600_000, joining: 150_000, reinstatement: 150_000, instalments: 0, declaration: false, register: false, organisational: true,
        description: "Club membership held by a company.",
        eligibility: "Membership held by a company for named nominees." },
];

pub async fn categories<C: ConnectionTrait>(db: &C, actor: &Actor) -> Result<usize, AppError> {
    let now = crate::service::now();
    let mut added = 0;
    for (i, c) in CATEGORIES.iter().enumerate() {
        if category::Entity::find()
            .filter(category::Column::Code.eq(c.code))
            .one(db)
            .await?
            .is_some()
        {
            continue;
        }
        let row = category::ActiveModel {
            id: Set(crate::service::new_id()),
            code: Set(c.code.into()),
            name: Set(c.name.into()),
            description: Set(c.description.into()),
            audience: Set(c.audience.into()),
            annual_fee_pence: Set(c.annual),
            joining_fee_pence: Set(c.joining),
            reinstatement_fee_pence: Set(c.reinstatement),
            instalments: Set(c.instalments),
            needs_declaration: Set(c.declaration),
            grace_days: Set(30),
            renewal_basis: Set("anniversary".into()),
            fixed_renewal_month: Set(None),
            fixed_renewal_day: Set(None),
            on_register: Set(c.register),
            organisational: Set(c.organisational),
            sort_order: Set(i32::try_from(i).unwrap_or(0) * 10),
            eligibility: Set(c.eligibility.into()),
            retired_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await?;
        audit::record(
            db,
            actor,
            "category",
            row.id,
            AuditAction::Created,
            None,
            Some(json!({"code": c.code, "name": c.name, "annual_fee_pence": c.annual})),
        )
        .await?;
        added += 1;
    }
    Ok(added)
}
