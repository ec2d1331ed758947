//! The public register: members in a register category who consented and are members today, found by
//! name, town or membership number. It shows name, town, category and number, and nothing else.

use crate::domain::membership_number::MembershipNumber;
use crate::domain::search::{fold, prefix_upper_bound};
use crate::entity::{category, member};
use crate::service::history::{history, status_today};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// How many entries one search shows at most.
pub const MAX_RESULTS: usize = 25;

/// One line of the public register: nothing else about the member is public.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub town: String,
    pub category: String,
    pub number: String,
}

fn prefix(col: member::Column, p: &str) -> Condition {
    let mut c = Condition::all().add(col.gte(p.to_owned()));
    if let Some(upper) = prefix_upper_bound(p) {
        c = c.add(col.lt(upper));
    }
    c
}

/// Register entries matching `raw`: a membership number; the start of a first or family name; a full
/// name ("Rosie Jackson", each part's start); or the start of a town. Blank or one-letter queries find nothing (the register is searched, not listed).
pub async fn search<C: ConnectionTrait>(
    db: &C,
    raw: &str,
) -> Result<Vec<Entry>, crate::domain::AppError> {
    let raw = raw.trim();
    let cats: Vec<category::Model> = category::Entity::find()
        .filter(category::Column::OnRegister.eq(true))
        .all(db)
        .await?;
    if cats.is_empty() || raw.chars().count() < 2 {
        return Ok(Vec::new());
    }
    let base = Condition::all()
        .add(member::Column::CategoryId.is_in(cats.iter().map(|c| c.id)))
        .add(member::Column::RegisterConsent.eq(true))
        .add(member::Column::PseudonymisedAt.is_null());
    let mut found: Vec<member::Model> = Vec::new();
    let looks_like_number = raw.chars().any(|c| c.is_ascii_digit());
    if looks_like_number {
        if let Ok(n) = MembershipNumber::parse(raw) {
            found = member::Entity::find()
                .filter(
                    base.clone()
                        .add(member::Column::MembershipNumber.eq(n.seq())),
                )
                .all(db)
                .await?;
        }
    } else {
        let key = fold(raw);
        let words: Vec<&str> = key.split_whitespace().collect();
        // Fetch a few more than shown: some matches may have lapsed or resigned.
        let limit = (MAX_RESULTS * 2) as u64;
        use member::Column::{SearchFamily, SearchGiven, SearchTown};
        let mut wanted: Vec<(Condition, member::Column)> = Vec::new();
        match words.as_slice() {
            [one] => {
                wanted.push((prefix(SearchFamily, one), SearchFamily));
                wanted.push((prefix(SearchGiven, one), SearchGiven));
            }
            [first, .., last] => {
                // "Rosie Jackson", or "Jackson Rosie" as a list would show it.
                wanted.push((
                    prefix(SearchGiven, first).add(prefix(SearchFamily, last)),
                    SearchFamily,
                ));
                wanted.push((
                    prefix(SearchFamily, first).add(prefix(SearchGiven, last)),
                    SearchFamily,
                ));
                // A family name of more than one word ("de la Cruz").
                wanted.push((prefix(SearchFamily, &key), SearchFamily));
            }
            [] => {}
        }
        wanted.push((prefix(SearchTown, &key), SearchTown));
        for (cond, order) in wanted {
            let rows = member::Entity::find()
                .filter(base.clone().add(cond))
                .order_by_asc(order)
                .limit(limit)
                .all(db)
                .await?;
            for r in rows {
                if !found.iter().any(|f| f.id == r.id) {
                    found.push(r);
                }
            }
        }
    }
    let mut out = Vec::new();
    for m in found {
        if out.len() >= MAX_RESULTS {
            break;
        }
        let h = history(db, m.id).await?;
        if !status_today(&m, &h).status.is_member() {
            continue;
        }
        let Some(cat) = cats.iter().find(|c| c.id == m.category_id) else {
            continue;
        };
        let given = m.preferred_name.as_deref().unwrap_or(&m.given_name);
        out.push(Entry {
            name: match (&m.organisation_name, m.kind.as_str()) {
                (Some(o), "organisation") => o.clone(),
                _ => format!("{given} {}", m.family_name),
            },
            town: m.town.clone(),
            category: cat.name.clone(),
            number: MembershipNumber::text_of(m.membership_number),
        });
    }
    Ok(out)
}
