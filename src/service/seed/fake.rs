//! Realistic fake members: names, towns and postcodes from small built-in UK lists, drawn by a seeded
//! generator so that a run is repeatable.

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

pub(super) const GIVEN: &[&str] = &[
    "Oliver", "Amelia", "George", "Isla", "Arthur", "Ava", "Noah", "Mia", "Muhammad", "Ivy", "Leo",
    "Lily", "Harry", "Florence", "Oscar", "Freya", "Archie", "Grace", "Henry", "Sophia",
    "Theodore", "Evie", "Freddie", "Willow", "Jack", "Aisha", "Charlie", "Siobhan", "Rhys",
    "Niamh", "Priya", "Kwame", "Chloe", "Tomasz", "Zoë", "Eilidh", "Ravi", "Hannah", "Callum",
    "Fatima", "Owen", "Bethan", "Declan", "Anjali", "Joseph", "Ellie", "Samuel", "Rosie",
];
pub(super) const FAMILY: &[&str] = &[
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

pub(super) fn member_row(
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
        id: Set(crate::service::new_id()),
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

