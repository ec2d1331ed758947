//! Demo and volume data.
//!
//! `demo` is idempotent: categories are matched by code, accounts and demo members by e-mail address, so a
//! second run adds nothing. `members` adds realistic fake members in large multi-row inserts for
//! benchmarks; names, towns and postcodes come from small built-in UK lists and a seeded generator, so a
//! run is repeatable.

use crate::domain::email::Email;
use crate::domain::person::PersonName;
use crate::domain::{Actor, AppError, Role};
use crate::entity::{category, member, user};
use crate::service::{audit, counters, identity};
use chrono::{Datelike, NaiveDate};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

pub const DEMO_PASSWORD: &str = "guildhall-demo";

/// (email, given, family, role) of the demo staff accounts.
pub const DEMO_STAFF: [(&str, &str, &str, Role); 4] = [
    ("admin@guildhall.test", "Priya", "Shah", Role::Admin),
    (
        "supervisor@guildhall.test",
        "Tom",
        "Okafor",
        Role::Supervisor,
    ),
    ("officer@guildhall.test", "Megan", "Hughes", Role::Officer),
    (
        "finance@guildhall.test",
        "David",
        "Lindqvist",
        Role::Finance,
    ),
];
pub const DEMO_MEMBER: &str = "member@guildhall.test";

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

const GIVEN: &[&str] = &[
    "Oliver", "Amelia", "George", "Isla", "Arthur", "Ava", "Noah", "Mia", "Muhammad", "Ivy", "Leo",
    "Lily", "Harry", "Florence", "Oscar", "Freya", "Archie", "Grace", "Henry", "Sophia",
    "Theodore", "Evie", "Freddie", "Willow", "Jack", "Aisha", "Charlie", "Siobhan", "Rhys",
    "Niamh", "Priya", "Kwame", "Chloe", "Tomasz", "Zoë", "Eilidh", "Ravi", "Hannah", "Callum",
    "Fatima", "Owen", "Bethan", "Declan", "Anjali", "Joseph", "Ellie", "Samuel", "Rosie",
];
const FAMILY: &[&str] = &[
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Thomas",
    "Clarke",
    "Jackson",
    "Wood",
    "Harris",
    "Edwards",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "King",
    "Harrison",
    "Lewis",
    "Baker",
    "Lee",
    "Allen",
    "Morris",
    "Khan",
    "Scott",
    "Watson",
    "Davis",
    "Parker",
    "James",
    "Bennett",
    "Young",
    "Phillips",
    "Richardson",
    "Mitchell",
    "Bailey",
    "Carter",
    "Cook",
    "Singh",
    "Shaw",
    "Bell",
    "Collins",
    "Morgan",
    "Kelly",
    "Begum",
    "Miller",
    "Cox",
    "Hussain",
    "Marshall",
    "Simpson",
    "Price",
    "Anderson",
    "Adams",
    "Wilkinson",
    "Ali",
    "Ahmed",
    "Foster",
    "Ellis",
    "Murphy",
    "Chapman",
    "Mason",
    "Gray",
    "Richards",
    "Webb",
    "Griffiths",
    "Hunt",
    "Palmer",
    "Campbell",
    "Holmes",
    "Mills",
    "Rogers",
    "Barnes",
    "Knight",
    "Matthews",
    "Barker",
    "Powell",
    "Stevens",
    "Kaur",
    "Fisher",
    "Butler",
    "Dixon",
    "Russell",
    "Harvey",
    "Pearson",
    "Graham",
    "O'Brien",
    "Nowak",
    "Okafor",
    "Nguyen",
    "MacLeod",
    "Fernández",
    "Kowalski",
    "Achterberg",
    "Mensah",
];
/// (town, county, outward codes) — real places and outward codes; inward parts are generated.
const TOWNS: &[(&str, &str, &[&str])] = &[
    (
        "London",
        "Greater London",
        &[
            "N1", "N7", "E8", "SE15", "SW11", "W12", "NW5", "EC1V", "WC1N",
        ],
    ),
    (
        "Manchester",
        "Greater Manchester",
        &["M1", "M14", "M20", "M21"],
    ),
    ("Birmingham", "West Midlands", &["B13", "B15", "B29", "B17"]),
    ("Leeds", "West Yorkshire", &["LS6", "LS8", "LS17"]),
    ("Bristol", "", &["BS6", "BS7", "BS3"]),
    ("Sheffield", "South Yorkshire", &["S10", "S11", "S7"]),
    ("Nottingham", "Nottinghamshire", &["NG5", "NG7", "NG2"]),
    ("Brighton", "East Sussex", &["BN1", "BN2", "BN3"]),
    ("York", "North Yorkshire", &["YO1", "YO10", "YO31"]),
    ("Norwich", "Norfolk", &["NR2", "NR3"]),
    ("Exeter", "Devon", &["EX1", "EX4"]),
    ("Cardiff", "", &["CF10", "CF11", "CF24"]),
    ("Edinburgh", "", &["EH3", "EH9", "EH10"]),
    ("Glasgow", "", &["G12", "G41", "G3"]),
    ("Belfast", "", &["BT7", "BT9"]),
    ("Cambridge", "Cambridgeshire", &["CB1", "CB4"]),
    ("Oxford", "Oxfordshire", &["OX1", "OX4"]),
    ("Newcastle upon Tyne", "Tyne and Wear", &["NE2", "NE6"]),
    ("Bath", "Somerset", &["BA1", "BA2"]),
    ("Canterbury", "Kent", &["CT1", "CT2"]),
];
const STREETS: &[&str] = &[
    "High Street",
    "Station Road",
    "Church Lane",
    "Victoria Road",
    "Park Avenue",
    "Mill Lane",
    "Queen's Road",
    "The Crescent",
    "Kingsway",
    "Albert Street",
    "Manor Road",
    "Green Lane",
    "Grove Park",
    "Chapel Street",
    "Orchard Close",
    "Meadow Way",
    "North Street",
    "St John's Road",
    "Windsor Terrace",
    "Castle Hill",
];
const INWARD_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

/// A realistic fake member, before numbering.
pub struct FakeMember {
    pub given: &'static str,
    pub family: &'static str,
    pub email: String,
    pub phone: String,
    pub line1: String,
    pub town: &'static str,
    pub county: &'static str,
    pub postcode: String,
    pub joined_on: NaiveDate,
    pub journal_by_post: bool,
    pub email_news: bool,
    pub register_consent: bool,
}

/// Generates the `i`-th fake member of a run. `salt` keeps addresses unique across runs.
pub fn fake_member(rng: &mut StdRng, i: u64, salt: &str, today: NaiveDate) -> FakeMember {
    let given = GIVEN[rng.gen_range(0..GIVEN.len())];
    let family = FAMILY[rng.gen_range(0..FAMILY.len())];
    let (town, county, outwards) = TOWNS[rng.gen_range(0..TOWNS.len())];
    let outward = outwards[rng.gen_range(0..outwards.len())];
    let l1 = INWARD_LETTERS[rng.gen_range(0..INWARD_LETTERS.len())] as char;
    let l2 = INWARD_LETTERS[rng.gen_range(0..INWARD_LETTERS.len())] as char;
    let postcode = format!("{outward} {}{l1}{l2}", rng.gen_range(1..10));
    let local: String = family
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_lowercase();
    let days_ago = rng.gen_range(0..(365 * 25));
    FakeMember {
        given,
        family,
        email: format!(
            "{}.{local}.{salt}{i}@example.org",
            given.to_lowercase().replace('ë', "e")
        ),
        phone: format!("07700 9{:05}", rng.gen_range(0..100_000)),
        line1: format!(
            "{} {}",
            rng.gen_range(1..240),
            STREETS[rng.gen_range(0..STREETS.len())]
        ),
        town,
        county,
        postcode,
        joined_on: today - chrono::Duration::days(days_ago),
        journal_by_post: rng.gen_bool(0.6),
        email_news: rng.gen_bool(0.7),
        register_consent: rng.gen_bool(0.85),
    }
}

fn member_row(
    f: FakeMember,
    number: i64,
    category_id: uuid::Uuid,
    user_id: Option<uuid::Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> member::ActiveModel {
    let keys = crate::service::members::SearchKeys::of(
        f.given,
        f.family,
        &f.email,
        Some(&f.postcode),
        f.town,
    );
    member::ActiveModel {
        id: Set(super::new_id()),
        membership_number: Set(number),
        kind: Set("individual".into()),
        user_id: Set(user_id),
        title: Set(None),
        given_name: Set(f.given.into()),
        family_name: Set(f.family.into()),
        preferred_name: Set(None),
        organisation_name: Set(None),
        email: Set(f.email),
        phone: Set(Some(f.phone)),
        address_line1: Set(f.line1),
        address_line2: Set(None),
        town: Set(f.town.into()),
        county: Set(Some(f.county.to_owned()).filter(|c| !c.is_empty())),
        postcode: Set(Some(f.postcode)),
        country: Set("GB".into()),
        category_id: Set(category_id),
        joined_on: Set(f.joined_on),
        journal_by_post: Set(f.journal_by_post),
        email_news: Set(f.email_news),
        register_consent: Set(f.register_consent),
        created_at: Set(now),
        updated_at: Set(now),
        search_family: Set(keys.family),
        search_given: Set(keys.given),
        search_email: Set(keys.email),
        search_postcode: Set(keys.postcode),
        search_town: Set(keys.town),
        pseudonymised_at: Set(None),
        pseudonymised_by: Set(None),
        stop_all_mail: Set(false),
    }
}

/// Inserts the demo categories that are missing. Returns how many were added.
pub async fn categories<C: ConnectionTrait>(db: &C, actor: &Actor) -> Result<usize, AppError> {
    let now = super::now();
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
            id: Set(super::new_id()),
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
            "created",
            None,
            Some(json!({"code": c.code, "name": c.name, "annual_fee_pence": c.annual})),
        )
        .await?;
        added += 1;
    }
    Ok(added)
}

/// What `demo` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub categories: usize,
    pub accounts: usize,
    pub members: usize,
}

/// Loads the demo data: categories, one staff account per role, the demo member (with a portal account
/// linked to a member record) and a few dozen realistic members. Safe to run again.
#[tracing::instrument(skip(db))]
pub async fn demo(db: &DatabaseConnection, base_url: &str) -> Result<DemoReport, AppError> {
    let actor = Actor::system("seed");
    let mut report = DemoReport::default();
    let txn = crate::service::begin(db).await?;
    report.categories = categories(&txn, &actor).await?;
    txn.commit().await?;

    for (email, given, family, role) in DEMO_STAFF {
        if user_exists(db, email).await? {
            continue;
        }
        identity::create_staff(
            db,
            &actor,
            identity::NewStaff {
                email: email.into(),
                given_name: given.into(),
                family_name: family.into(),
                roles: vec![role],
                password: Some(DEMO_PASSWORD.into()),
            },
            base_url,
        )
        .await?;
        report.accounts += 1;
    }
    // DEMO ONLY: every demo staff account has an authenticator with the published demo secret, so the
    // demo and the browser tests can pass the second step (production mode refuses demo data).
    let key = super::mfa::SecretKey::from_env();
    for (email, _, _, _) in DEMO_STAFF {
        if let Some(u) = user::Entity::find()
            .filter(user::Column::EmailKey.eq(email.to_lowercase()))
            .one(db)
            .await?
        {
            super::mfa::enrol_known(db, &key, u.id, super::mfa::DEMO_TOTP_SECRET).await?;
        }
    }

    let txn = crate::service::begin(db).await?;
    let ind = category::Entity::find()
        .filter(category::Column::Code.eq("REG"))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let cats = category::Entity::find()
        .filter(category::Column::Audience.eq("association"))
        .filter(category::Column::Organisational.eq(false))
        .all(&txn)
        .await?;
    let today = super::today();
    if !user_exists(&txn, DEMO_MEMBER).await? {
        let now = super::now();
        let hash = identity::hash_password(DEMO_PASSWORD.into()).await?;
        let email = Email::parse(DEMO_MEMBER).map_err(AppError::internal)?;
        let given = PersonName::parse("Sam").map_err(AppError::internal)?;
        let family = PersonName::parse("Taylor").map_err(AppError::internal)?;
        let u = identity::insert_user(
            &txn,
            &email,
            &given,
            &family,
            identity::KIND_MEMBER,
            hash,
            Some(now),
        )
        .await?;
        let number = counters::take(&txn, counters::MEMBERSHIP_NUMBER, 1).await?;
        let f = FakeMember {
            given: "Sam",
            family: "Taylor",
            email: DEMO_MEMBER.into(),
            phone: "07700 900982".into(),
            line1: "14 Windsor Terrace".into(),
            town: "York",
            county: "North Yorkshire",
            postcode: "YO1 7HH".into(),
            joined_on: NaiveDate::from_ymd_opt(today.year() - 4, 3, 1).unwrap_or(today),
            journal_by_post: true,
            email_news: true,
            register_consent: true,
        };
        let joined = f.joined_on;
        let m = member_row(f, number, ind.id, Some(u.id), now)
            .insert(&txn)
            .await?;
        add_history(
            &txn,
            m.id,
            ind.id,
            joined,
            today,
            Shape::Active,
            "direct_debit",
        )
        .await?;
        audit::record(
            &txn,
            &actor,
            "member",
            m.id,
            "created",
            None,
            Some(json!({"membership_number": number, "email": DEMO_MEMBER})),
        )
        .await?;
        // Something to pay from the portal.
        crate::service::money::issue_invoice(
            &txn,
            &actor,
            m.id,
            "Annual conference 2027: member's ticket",
            crate::domain::money::Money::from_pence(4_500),
            crate::domain::money::Money::ZERO,
            &format!("demo:conference:{}", m.id),
            "demo data",
        )
        .await?;
        report.accounts += 1;
        report.members += 1;
    }
    // A few dozen realistic members, the same every time (fixed seed), added only once.
    let mut rng = StdRng::seed_from_u64(2026);
    let now = super::now();
    for i in 0..36u64 {
        let f = fake_member(&mut rng, i, "demo", today);
        if member::Entity::find()
            .filter(member::Column::SearchEmail.eq(f.email.to_lowercase()))
            .one(&txn)
            .await?
            .is_some()
        {
            continue;
        }
        let cat = cats[usize::try_from(i).unwrap_or(0) % cats.len().max(1)].id;
        let number = counters::take(&txn, counters::MEMBERSHIP_NUMBER, 1).await?;
        let mut f = f;
        // A spread of histories: most paid up, some in grace, some lapsed, one resigning.
        let shape = match i % 12 {
            5 => Shape::Grace,
            7 | 11 => Shape::Lapsed,
            9 => Shape::Resigning,
            _ => Shape::Active,
        };
        if shape == Shape::Grace {
            // Their anniversary was ten days ago.
            let years = 1 + i32::try_from(i % 5).unwrap_or(0);
            let anniversary = today - chrono::Duration::days(10);
            f.joined_on = anniversary
                .with_year(anniversary.year() - years)
                .unwrap_or(anniversary - chrono::Duration::days(365));
        }
        let joined = f.joined_on;
        let how = ["direct_debit", "card", "cheque", "bank_transfer"]
            [usize::try_from(i % 4).unwrap_or(0)];
        let m = member_row(f, number, cat, None, now).insert(&txn).await?;
        add_history(&txn, m.id, cat, joined, today, shape, how).await?;
        if shape == Shape::Grace {
            // Their renewal is unpaid: an open invoice (shown in aged debt).
            let fee = cats
                .iter()
                .find(|c| c.id == cat)
                .map(|c| c.annual_fee_pence)
                .unwrap_or(0);
            if fee > 0 {
                crate::service::money::issue_invoice(
                    &txn,
                    &actor,
                    m.id,
                    "Renewal of membership",
                    crate::domain::money::Money::from_pence(fee),
                    crate::domain::money::Money::ZERO,
                    &format!("demo:renewal:{}", m.id),
                    "demo data",
                )
                .await?;
            }
        }
        report.members += 1;
    }
    // An organisation the demo member acts for.
    const DEMO_ORG_EMAIL: &str = "office@northern-counselling.example";
    if member::Entity::find()
        .filter(member::Column::SearchEmail.eq(DEMO_ORG_EMAIL))
        .one(&txn)
        .await?
        .is_none()
    {
        if let Some(u) = user::Entity::find()
            .filter(user::Column::EmailKey.eq(DEMO_MEMBER))
            .one(&txn)
            .await?
        {
            organisation(
                &txn,
                "Northern Counselling Network",
                DEMO_ORG_EMAIL,
                "ORG-LV",
                &[u.id],
            )
            .await?;
            report.members += 1;
        }
    }
    if report.members > 0 {
        audit::record(
            &txn,
            &actor,
            "seed",
            "demo",
            "members_added",
            None,
            Some(json!({"count": report.members})),
        )
        .await?;
    }
    txn.commit().await?;
    crate::service::summary::rebuild(db).await?;
    crate::service::money::debts::rebuild(db).await?;
    Ok(report)
}

/// How a demo member's history ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Paid up to the period covering today.
    Active,
    /// The last period ended a few days ago and its renewal is unpaid.
    Grace,
    /// The last period ended months ago and was never renewed.
    Lapsed,
    /// Paid up, and has resigned at the end of the current period.
    Resigning,
}

/// Periods of twelve months from `joined_on`, one after another up to today, paid shortly before each
/// started, ending as `shape` says; a resignation event for `Shape::Resigning`. Returns how many
/// periods were written.
pub async fn add_history<C: ConnectionTrait>(
    db: &C,
    member_id: uuid::Uuid,
    category_id: uuid::Uuid,
    joined_on: NaiveDate,
    today: NaiveDate,
    shape: Shape,
    how_paid: &str,
) -> Result<usize, AppError> {
    use crate::entity::{membership_event, period};
    let tracked = crate::service::summary::track(db, &[member_id]).await?;
    let now = super::now();
    let mut start = joined_on;
    let mut written = 0;
    while start <= today {
        let next = start
            .checked_add_months(chrono::Months::new(12))
            .unwrap_or(start);
        if next <= start {
            break;
        }
        let end = next - chrono::Duration::days(1);
        let current = end >= today;
        let lapsed_gap = shape == Shape::Lapsed && end + chrono::Duration::days(60) >= today;
        if lapsed_gap {
            break;
        }
        let unpaid = current && shape == Shape::Grace;
        period::ActiveModel {
            id: Set(super::new_id()),
            member_id: Set(member_id),
            category_id: Set(category_id),
            start_on: Set(start),
            end_on: Set(end),
            paid_state: Set(if unpaid { "unpaid" } else { "paid" }.into()),
            paid_on: Set((!unpaid).then(|| start - chrono::Duration::days(12))),
            mandate_active: Set(how_paid == "direct_debit"),
            how_paid: Set(how_paid.into()),
            created_at: Set(now),
            created_by: Set("seed".into()),
        }
        .insert(db)
        .await?;
        written += 1;
        if current && shape == Shape::Resigning {
            membership_event::ActiveModel {
                id: Set(super::new_id()),
                member_id: Set(member_id),
                kind: Set(crate::entity::membership_event::EventKind::Resigned),
                on_date: Set(today - chrono::Duration::days(3)),
                effective_on: Set(Some(next)),
                reason: Set(None),
                detail: Set(None),
                created_at: Set(now),
                created_by: Set("seed".into()),
            }
            .insert(db)
            .await?;
        }
        start = next;
    }
    tracked.apply(db).await?;
    Ok(written)
}

/// A member with a confirmed portal account, in the category with `category_code`, joined two years
/// and a month ago with a history ending as `shape` says. For tests and demonstrations.
#[allow(clippy::too_many_arguments)]
pub async fn member_account<C: ConnectionTrait>(
    db: &C,
    given: &'static str,
    family: &'static str,
    email: &str,
    password: &str,
    postcode: &str,
    category_code: &str,
    shape: Shape,
) -> Result<(user::Model, member::Model), AppError> {
    let today = super::today();
    let joined = today - chrono::Duration::days(2 * 365 + 30);
    member_account_joined(
        db,
        given,
        family,
        email,
        password,
        postcode,
        category_code,
        shape,
        joined,
    )
    .await
}

/// [`member_account`], joined on `joined`.
#[allow(clippy::too_many_arguments)]
pub async fn member_account_joined<C: ConnectionTrait>(
    db: &C,
    given: &'static str,
    family: &'static str,
    email: &str,
    password: &str,
    postcode: &str,
    category_code: &str,
    shape: Shape,
    joined: NaiveDate,
) -> Result<(user::Model, member::Model), AppError> {
    let now = super::now();
    let today = super::today();
    let cat = category::Entity::find()
        .filter(category::Column::Code.eq(category_code))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let hash = identity::hash_password(password.into()).await?;
    let e = Email::parse(email).map_err(AppError::internal)?;
    let u = identity::insert_user(
        db,
        &e,
        &PersonName::parse(given).map_err(AppError::internal)?,
        &PersonName::parse(family).map_err(AppError::internal)?,
        identity::KIND_MEMBER,
        hash,
        Some(now),
    )
    .await?;
    let number = counters::take(db, counters::MEMBERSHIP_NUMBER, 1).await?;
    let f = FakeMember {
        given,
        family,
        email: e.as_str().to_owned(),
        phone: "07700 900123".into(),
        line1: "1 High Street".into(),
        town: "Leeds",
        county: "West Yorkshire",
        postcode: postcode.into(),
        joined_on: joined,
        journal_by_post: true,
        email_news: false,
        register_consent: true,
    };
    let m = member_row(f, number, cat.id, Some(u.id), now)
        .insert(db)
        .await?;
    crate::service::summary::count_new(db, &[m.id]).await?;
    add_history(db, m.id, cat.id, joined, today, shape, "card").await?;
    Ok((u, m))
}

/// Adds members `renew1@guildhall.test` … `renewN@guildhall.test` (demo password) in the Registered
/// category, joined three years ago less 20 days: their membership ends in 20 days, so they can renew.
/// Existing ones are left alone. Returns how many were added.
pub async fn renewal_accounts(db: &DatabaseConnection, n: u32) -> Result<u32, AppError> {
    let txn = crate::service::begin(db).await?;
    categories(&txn, &Actor::system("seed")).await?;
    let today = super::today();
    let anniversary = today + chrono::Duration::days(20);
    let joined = anniversary
        .with_year(anniversary.year() - 3)
        .unwrap_or(anniversary - chrono::Duration::days(3 * 365));
    let mut added = 0;
    for i in 1..=n {
        let email = format!("renew{i}@guildhall.test");
        if user_exists(&txn, &email).await? {
            continue;
        }
        let k = usize::try_from(i).unwrap_or(0);
        member_account_joined(
            &txn,
            GIVEN[(k * 3) % GIVEN.len()],
            FAMILY[(k * 11) % FAMILY.len()],
            &email,
            DEMO_PASSWORD,
            "LS2 7EW",
            "REG",
            Shape::Active,
            joined,
        )
        .await?;
        added += 1;
    }
    txn.commit().await?;
    Ok(added)
}

/// An organisation member in the category with `category_code`, represented by `representatives`.
pub async fn organisation<C: ConnectionTrait>(
    db: &C,
    name: &str,
    email: &str,
    category_code: &str,
    representatives: &[uuid::Uuid],
) -> Result<member::Model, AppError> {
    use crate::entity::member_representative;
    let now = super::now();
    let today = super::today();
    let cat = category::Entity::find()
        .filter(category::Column::Code.eq(category_code))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let number = counters::take(db, counters::MEMBERSHIP_NUMBER, 1).await?;
    let joined = today - chrono::Duration::days(400);
    let f = FakeMember {
        given: "",
        family: "",
        email: email.to_lowercase(),
        phone: "0113 496 0000".into(),
        line1: "2 Park Row".into(),
        town: "Leeds",
        county: "West Yorkshire",
        postcode: "LS1 5HN".into(),
        joined_on: joined,
        journal_by_post: true,
        email_news: true,
        register_consent: true,
    };
    let mut row = member_row(f, number, cat.id, None, now);
    row.kind = Set("organisation".into());
    row.organisation_name = Set(Some(name.to_owned()));
    row.search_family = Set(crate::domain::search::fold(name));
    let m = row.insert(db).await?;
    crate::service::summary::count_new(db, &[m.id]).await?;
    add_history(
        db,
        m.id,
        cat.id,
        joined,
        today,
        Shape::Active,
        "bank_transfer",
    )
    .await?;
    for u in representatives {
        member_representative::ActiveModel {
            member_id: Set(m.id),
            user_id: Set(*u),
            job_title: Set(Some("Membership contact".into())),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
    }
    Ok(m)
}

/// Adds members `portal1@guildhall.test` … `portalN@guildhall.test`, each with a confirmed portal
/// account (the demo password) and a paid-up membership, for trying the portal as several people (the
/// browser tests use them). Existing ones are left alone. Returns how many were added.
pub async fn portal_accounts(db: &DatabaseConnection, n: u32) -> Result<u32, AppError> {
    let txn = crate::service::begin(db).await?;
    categories(&txn, &Actor::system("seed")).await?;
    let mut added = 0;
    for i in 1..=n {
        let email = format!("portal{i}@guildhall.test");
        if user_exists(&txn, &email).await? {
            continue;
        }
        let k = usize::try_from(i).unwrap_or(0);
        let given = GIVEN[k % GIVEN.len()];
        let family = FAMILY[(k * 7) % FAMILY.len()];
        member_account(
            &txn,
            given,
            family,
            &email,
            DEMO_PASSWORD,
            "LS1 4AP",
            "REG",
            Shape::Active,
        )
        .await?;
        added += 1;
    }
    txn.commit().await?;
    Ok(added)
}

async fn user_exists<C: ConnectionTrait>(db: &C, email: &str) -> Result<bool, AppError> {
    Ok(user::Entity::find()
        .filter(user::Column::EmailKey.eq(email.to_lowercase()))
        .one(db)
        .await?
        .is_some())
}

/// One multi-row INSERT of fake members (with their numbers and categories). Written as SQL
/// rather than through `insert_many`: the values that are the same for every row (kind, country, the
/// flags) and the columns that are always empty are literals in the text, so each row binds only its
/// own 22 values instead of all 32 columns. That cuts the values converted and bound per row, the cost
/// that dominates a bulk load. Placeholders are positional (`?` on SQLite, `$n` on PostgreSQL): named or
/// numbered ones would make SQLite look each one up among the others while preparing, which is
/// quadratic in a statement of 20,000 values.
fn fake_members_statement(
    backend: sea_orm::DbBackend,
    rows: Vec<(FakeMember, i64, uuid::Uuid)>,
    now: chrono::DateTime<chrono::Utc>,
) -> sea_orm::Statement {
    use sea_orm::{DbBackend, Statement, Value};
    use std::fmt::Write;
    const PER_ROW: usize = 22;
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * PER_ROW);
    let mut sql = String::with_capacity(600 + rows.len() * 200);
    sql.push_str(
        "INSERT INTO members (id, membership_number, kind, user_id, title, given_name, family_name, \
         preferred_name, organisation_name, email, phone, address_line1, address_line2, town, county, \
         postcode, country, category_id, joined_on, journal_by_post, email_news, register_consent, \
         created_at, updated_at, search_family, search_given, search_email, search_postcode, \
         search_town, pseudonymised_at, pseudonymised_by, stop_all_mail) VALUES ",
    );
    let now: Value = now.into();
    let row = |p: &[String]| {
        let mut out = String::with_capacity(200);
        let _ = write!(
            out,
            "({},{},'individual',NULL,NULL,{},{},NULL,NULL,{},{},{},NULL,{},{},{},'GB',{},{},{},{},{},{},{},{},{},{},{},{},NULL,NULL,FALSE)",
            p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10],
            p[11], p[12], p[13], p[14], p[15], p[16], p[17], p[18], p[19], p[20], p[21],
        );
        out
    };
    let sqlite_row = row(&vec!["?".to_owned(); PER_ROW]);
    for (i, (f, number, category)) in rows.into_iter().enumerate() {
        let keys = crate::service::members::SearchKeys::of(
            f.given,
            f.family,
            &f.email,
            Some(&f.postcode),
            f.town,
        );
        let first = values.len();
        values.push(crate::service::new_id().into());
        values.push(number.into());
        values.push(f.given.into());
        values.push(f.family.into());
        values.push(f.email.into());
        values.push(f.phone.into());
        values.push(f.line1.into());
        values.push(f.town.into());
        values.push(Some(f.county.to_owned()).filter(|c| !c.is_empty()).into());
        values.push(f.postcode.into());
        values.push(category.into());
        values.push(f.joined_on.into());
        values.push(f.journal_by_post.into());
        values.push(f.email_news.into());
        values.push(f.register_consent.into());
        values.push(now.clone());
        values.push(now.clone());
        values.push(keys.family.into());
        values.push(keys.given.into());
        values.push(keys.email.into());
        values.push(keys.postcode.into());
        values.push(keys.town.into());
        if i > 0 {
            sql.push(',');
        }
        match backend {
            DbBackend::Postgres => {
                let p: Vec<String> = (first + 1..=first + PER_ROW)
                    .map(|n| format!("${n}"))
                    .collect();
                sql.push_str(&row(&p));
            }
            _ => sql.push_str(&sqlite_row),
        }
    }
    Statement::from_sql_and_values(backend, sql, values)
}

/// Adds `n` realistic fake members in chunks (one transaction per chunk), numbered from the membership
/// number counter. Needs the categories (run `categories` or `demo` first). Returns how many were added.
#[tracing::instrument(skip(db, progress))]
pub async fn members(
    db: &DatabaseConnection,
    n: u64,
    mut progress: impl FnMut(u64),
) -> Result<u64, AppError> {
    const CHUNK: u64 = 1_000;
    let actor = Actor::system("seed");
    {
        let txn = crate::service::begin(db).await?;
        categories(&txn, &actor).await?;
        txn.commit().await?;
    }
    let cats: Vec<uuid::Uuid> = category::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|c| !c.organisational)
        .map(|c| c.id)
        .collect();
    if cats.is_empty() {
        return Err(AppError::internal("no categories to seed members into"));
    }
    let salt = format!(
        "s{}x",
        uuid::Uuid::now_v7()
            .simple()
            .to_string()
            .get(8..14)
            .unwrap_or("0")
    );
    let mut rng = StdRng::seed_from_u64(n);
    let today = super::today();
    let now = super::now();
    let mut done = 0;
    // One transaction for the whole load: all of it or none. When the load is at least as large as
    // what is there already, the secondary indexes are dropped first and rebuilt at the end (a sort
    // per index instead of a random insert per row per index, several times faster); inside the
    // transaction, so a failed load leaves the indexes as they were.
    let txn = crate::service::begin(db).await?;
    let existing = member::Entity::find().count(&txn).await?;
    let deferred = if n >= 10_000 && n >= existing {
        crate::db::drop_secondary_indexes(&txn, "members").await?
    } else {
        Vec::new()
    };
    let first_number = counters::take(
        &txn,
        counters::MEMBERSHIP_NUMBER,
        i64::try_from(n).map_err(AppError::internal)?,
    )
    .await?;
    let backend = txn.get_database_backend();
    let sqlite = backend == sea_orm::DbBackend::Sqlite;
    if sqlite {
        // For this load only: a bigger page cache and helper threads for the index sorts.
        txn.execute_unprepared("PRAGMA cache_size = -524288")
            .await?;
        txn.execute_unprepared("PRAGMA threads = 2").await?;
    }
    let mut chunk = |from: u64| -> Option<sea_orm::Statement> {
        if from >= n {
            return None;
        }
        let take = CHUNK.min(n - from);
        let first = first_number + i64::try_from(from).unwrap_or(0);
        let rows: Vec<(FakeMember, i64, uuid::Uuid)> = (0..take)
            .map(|k| {
                let f = fake_member(&mut rng, from + k, &salt, today);
                let cat = cats[rng.gen_range(0..cats.len())];
                (f, first + i64::try_from(k).unwrap_or(0), cat)
            })
            .collect();
        Some(fake_members_statement(backend, rows, now))
    };
    // The next chunk is made while the database writes this one (the driver works on its own thread),
    // so on two cores generating and writing overlap.
    let mut current = chunk(0);
    while let Some(stmt) = current.take() {
        let take = CHUNK.min(n - done);
        let (written, next) = tokio::join!(txn.execute_raw(stmt), async { chunk(done + take) });
        written?;
        current = next;
        done += take;
        progress(done);
    }
    crate::db::recreate_indexes(&txn, &deferred).await?;
    if sqlite {
        txn.execute_unprepared("PRAGMA threads = 0").await?;
        txn.execute_unprepared(&format!(
            "PRAGMA cache_size = {}",
            crate::db::SQLITE_CACHE_SIZE
        ))
        .await?;
    }
    audit::record(
        &txn,
        &actor,
        "seed",
        "members",
        "members_added",
        None,
        Some(json!({"count": n, "indexes_rebuilt": deferred.len()})),
    )
    .await?;
    txn.commit().await?;
    crate::service::summary::rebuild(db).await?;
    Ok(done)
}

/// Gives every member who has no periods yet a history of up to `years` years: periods of twelve months
/// from a joining day spread over those years, paid shortly before each began (by card, cheque, transfer
/// or Direct Debit), most members paid up, some lapsed (and a few of those reinstated after a gap), some
/// in grace, some resigned. Written in bulk, one transaction per 5,000 members, reporting members done.
/// For volume tests and benchmarks of the dashboard and reports.
pub async fn history(
    db: &DatabaseConnection,
    years: u32,
    mut progress: impl FnMut(u64),
) -> Result<u64, AppError> {
    use crate::entity::{membership_event, period};
    let today = super::today();
    let now = super::now();
    let with: std::collections::HashSet<uuid::Uuid> = period::Entity::find()
        .select_only()
        .column(period::Column::MemberId)
        .distinct()
        .into_tuple::<uuid::Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let members: Vec<(uuid::Uuid, uuid::Uuid)> = member::Entity::find()
        .select_only()
        .column(member::Column::Id)
        .column(member::Column::CategoryId)
        .into_tuple()
        .all(db)
        .await?;
    let todo: Vec<(uuid::Uuid, uuid::Uuid)> = members
        .into_iter()
        .filter(|(id, _)| !with.contains(id))
        .collect();
    let mut rng = StdRng::seed_from_u64(u64::from(years) ^ todo.len() as u64);
    let span = i64::from(years.max(1)) * 365;
    let methods = ["card", "cheque", "bank_transfer", "direct_debit"];
    let mut done = 0u64;
    let fees: std::collections::HashMap<uuid::Uuid, i64> = category::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.annual_fee_pence))
        .collect();
    for chunk in todo.chunks(5_000) {
        let mut periods = Vec::new();
        let mut events = Vec::new();
        let mut billed: Vec<Billed> = Vec::new();
        for (id, cat) in chunk {
            let joined = today - chrono::Duration::days(rng.gen_range(0..span));
            let how = methods[rng.gen_range(0..methods.len())];
            // 0–69 paid up, 70–79 lapsed, 80–84 lapsed then reinstated, 85–91 in grace, 92–99 resigned.
            let fate = rng.gen_range(0..100);
            // Lapsers stop after one to three years; some come back after four to ten months.
            let lapse_after = (70..=84).contains(&fate).then(|| rng.gen_range(1..=3));
            let mut start = joined;
            let mut n = 0;
            let mut reinstated = false;
            while start <= today {
                let next = start
                    .checked_add_months(chrono::Months::new(12))
                    .unwrap_or(start);
                if next <= start {
                    break;
                }
                let end = next - chrono::Duration::days(1);
                let unpaid = end >= today && (85..=91).contains(&fate);
                let paid_on =
                    (!unpaid).then(|| start - chrono::Duration::days(rng.gen_range(1..20)));
                billed.push(Billed {
                    member_id: *id,
                    category_id: *cat,
                    start,
                    paid_on,
                    how,
                });
                periods.push(period::ActiveModel {
                    id: Set(super::new_id()),
                    member_id: Set(*id),
                    category_id: Set(*cat),
                    start_on: Set(start),
                    end_on: Set(end),
                    paid_state: Set(if unpaid { "unpaid" } else { "paid" }.into()),
                    paid_on: Set(paid_on),
                    mandate_active: Set(how == "direct_debit"),
                    how_paid: Set(how.into()),
                    created_at: Set(now),
                    created_by: Set("seed".into()),
                });
                n += 1;
                start = next;
                if lapse_after == Some(n) {
                    if fate >= 80 && !reinstated {
                        reinstated = true;
                        n = -100;
                        start = next + chrono::Duration::days(rng.gen_range(120..300));
                    } else {
                        break;
                    }
                }
            }
            if fate >= 92 {
                let on = today - chrono::Duration::days(rng.gen_range(0..span.min(400)));
                if on >= joined {
                    events.push(membership_event::ActiveModel {
                        id: Set(super::new_id()),
                        member_id: Set(*id),
                        kind: Set(crate::entity::membership_event::EventKind::Resigned),
                        on_date: Set(on),
                        effective_on: Set(Some(on)),
                        reason: Set(None),
                        detail: Set(None),
                        created_at: Set(now),
                        created_by: Set("seed".into()),
                    });
                }
            }
        }
        let txn = crate::service::begin(db).await?;
        crate::service::insert_rows(&txn, periods).await?;
        crate::service::insert_rows(&txn, events).await?;
        money_history(&txn, &billed, &fees, now).await?;
        txn.commit().await?;
        done += chunk.len() as u64;
        progress(done);
    }
    crate::service::summary::rebuild(db).await?;
    crate::service::money::debts::rebuild(db).await?;
    Ok(done)
}

/// A seeded period's invoice and (when paid) payment.
struct Billed {
    member_id: uuid::Uuid,
    category_id: uuid::Uuid,
    start: NaiveDate,
    paid_on: Option<NaiveDate>,
    how: &'static str,
}

/// Writes each seeded period's invoice (issued a month before the period starts, or when paid if that
/// is earlier) and, when paid, the payment with its receipt, each with its ledger transaction, as the
/// money services would have: an unpaid period leaves its invoice open.
async fn money_history<C: ConnectionTrait>(
    db: &C,
    billed: &[Billed],
    fees: &std::collections::HashMap<uuid::Uuid, i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    use crate::domain::ledger::Account;
    use crate::entity::{document, ledger_entry, ledger_transaction, payment};
    use crate::service::money::document_number;
    if billed.is_empty() {
        return Ok(());
    }
    let paid = billed.iter().filter(|b| b.paid_on.is_some()).count();
    let first_invoice = counters::take(db, "invoice_number", billed.len() as i64).await?;
    let first_receipt = counters::take(db, "receipt_number", paid as i64).await?;
    let mut docs = Vec::with_capacity(billed.len() + paid);
    let mut txns = Vec::with_capacity(billed.len() + paid);
    let mut entries = Vec::with_capacity(2 * (billed.len() + paid));
    let mut payments = Vec::with_capacity(paid);
    let mut receipts = 0i64;
    let mut post = |txns: &mut Vec<ledger_transaction::ActiveModel>,
                    key: String,
                    kind: &str,
                    cause: String,
                    b: &Billed,
                    method: Option<&str>,
                    on: NaiveDate,
                    lines: [(Account, bool, i64); 2]| {
        let tid = super::new_id();
        txns.push(ledger_transaction::ActiveModel {
            id: Set(tid),
            idempotency_key: Set(key),
            kind: Set(kind.into()),
            cause: Set(cause),
            member_id: Set(Some(b.member_id)),
            memo: Set(None),
            created_at: Set(now),
            created_by: Set("seed".into()),
            method: Set(method.map(str::to_owned)),
            value_date: Set(Some(on)),
        });
        for (account, names_member, amount) in lines {
            entries.push(ledger_entry::ActiveModel {
                id: Set(super::new_id()),
                transaction_id: Set(tid),
                account_code: Set(account.code().to_owned()),
                member_id: Set(names_member.then_some(b.member_id)),
                amount_pence: Set(amount),
            });
        }
        tid
    };
    for (i, b) in billed.iter().enumerate() {
        let fee = fees.get(&b.category_id).copied().unwrap_or(0).max(1);
        let issued = b.paid_on.map_or(b.start - chrono::Duration::days(30), |p| {
            std::cmp::Ord::min(p, b.start - chrono::Duration::days(30))
        });
        let number = document_number("invoice", first_invoice + i as i64);
        let description = format!("Membership from {}", b.start.format("%-d %B %Y"));
        let tid = post(
            &mut txns,
            format!("seed:invoice:{number}"),
            "invoice",
            format!("{number}: membership"),
            b,
            None,
            issued,
            [
                (Account::MembersReceivable, true, fee),
                (Account::SubscriptionIncome, false, -fee),
            ],
        );
        let invoice_id = super::new_id();
        docs.push(document::ActiveModel {
            id: Set(invoice_id),
            kind: Set("invoice".into()),
            number: Set(number.clone()),
            member_id: Set(b.member_id),
            issued_on: Set(issued),
            description: Set(description),
            amount_pence: Set(fee),
            outstanding_pence: Set(if b.paid_on.is_some() { 0 } else { fee }),
            status: Set(if b.paid_on.is_some() { "paid" } else { "open" }.into()),
            related_id: Set(None),
            ledger_transaction_id: Set(Some(tid)),
            created_at: Set(now),
            created_by: Set("seed".into()),
        });
        let Some(on) = b.paid_on else { continue };
        let card = b.how == "card";
        let reference = format!("SEED{}", first_invoice + i as i64);
        let tid = post(
            &mut txns,
            format!("seed:payment:{number}"),
            if card { "card_payment" } else { "bank_payment" },
            format!("{} {reference}", b.how),
            b,
            Some(b.how),
            on,
            [
                (
                    if card {
                        Account::CardClearing
                    } else {
                        Account::Bank
                    },
                    false,
                    fee,
                ),
                (Account::MembersReceivable, true, -fee),
            ],
        );
        let payment_id = super::new_id();
        let receipt_id = super::new_id();
        docs.push(document::ActiveModel {
            id: Set(receipt_id),
            kind: Set("receipt".into()),
            number: Set(document_number("receipt", first_receipt + receipts)),
            member_id: Set(b.member_id),
            issued_on: Set(on),
            description: Set(format!("Payment for invoice {number}")),
            amount_pence: Set(fee),
            outstanding_pence: Set(0),
            status: Set("issued".into()),
            related_id: Set(Some(payment_id)),
            ledger_transaction_id: Set(Some(tid)),
            created_at: Set(now),
            created_by: Set("seed".into()),
        });
        receipts += 1;
        payments.push(payment::ActiveModel {
            id: Set(payment_id),
            member_id: Set(b.member_id),
            direction: Set("in".into()),
            method: Set(b.how.into()),
            provider: Set(card.then(|| "sandbox".to_owned())),
            reference: Set(reference),
            amount_pence: Set(fee),
            refunded_pence: Set(0),
            received_on: Set(on),
            invoice_id: Set(Some(invoice_id)),
            refund_of: Set(None),
            receipt_id: Set(Some(receipt_id)),
            ledger_transaction_id: Set(tid),
            created_at: Set(now),
            created_by: Set("seed".into()),
        });
    }
    crate::service::insert_rows(db, txns).await?;
    crate::service::insert_rows(db, entries).await?;
    crate::service::insert_rows(db, docs).await?;
    crate::service::insert_rows(db, payments).await?;
    Ok(())
}
