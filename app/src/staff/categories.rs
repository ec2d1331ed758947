//! Membership categories (admins only): the list with how many members each has, adding and changing one
//! (every field DOMAIN.md lists), retiring one that is in use, and deleting one that is not.

#![expect(
    clippy::too_many_arguments,
    reason = "the category form's server functions take one argument per form field"
)]

use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::PageShell;
use crate::components::{Checkbox, ErrorSummary, Field, PageTitle, Radios, SubmitButton, TextArea};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoryRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub audience: String,
    pub annual: String,
    pub instalments: String,
    pub basis: String,
    pub register: bool,
    pub organisational: bool,
    pub members: u64,
    pub retired: bool,
}

/// The form's values, as text, plus what the page says about the category's use.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryFormView {
    pub id: Option<String>,
    pub code: String,
    pub name: String,
    pub description: String,
    pub eligibility: String,
    pub audience: String,
    pub annual_fee: String,
    pub joining_fee: String,
    pub reinstatement_fee: String,
    pub instalments: String,
    pub needs_declaration: bool,
    pub grace_days: String,
    pub renewal_basis: String,
    pub fixed_renewal_month: String,
    pub fixed_renewal_day: String,
    pub on_register: bool,
    pub organisational: bool,
    pub sort_order: String,
    pub members: u64,
    pub periods: u64,
    pub retired: bool,
}

#[server(prefix = "/fn", endpoint = "category-list")]
pub async fn category_list() -> Result<Vec<CategoryRow>, AppError> {
    use guildhall::domain::money::Money;
    use guildhall::service::categories;
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageCategories)?;
    let st = crate::ctx::state()?;
    Ok(categories::list(&st.db, &actor)
        .await?
        .into_iter()
        .map(|u| {
            let c = &u.category;
            CategoryRow {
                id: c.id.to_string(),
                code: c.code.clone(),
                name: c.name.clone(),
                audience: if c.audience == "club" {
                    "Club"
                } else {
                    "Association"
                }
                .into(),
                annual: Money::from_pence(c.annual_fee_pence).to_string(),
                instalments: match c.instalments {
                    0 => "Annual only".into(),
                    n => format!("{n} monthly"),
                },
                basis: categories::basis_label(c),
                register: c.on_register,
                organisational: c.organisational,
                members: u.members,
                retired: c.retired_at.is_some(),
            }
        })
        .collect())
}

#[server(prefix = "/fn", endpoint = "category-form")]
pub async fn category_form(id: Option<String>) -> Result<CategoryFormView, AppError> {
    use guildhall::service::categories::{self, CategoryInput};
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageCategories)?;
    let st = crate::ctx::state()?;
    let Some(id) = id.filter(|i| !i.is_empty()) else {
        return Ok(CategoryFormView {
            audience: "association".into(),
            instalments: "0".into(),
            grace_days: categories::DEFAULT_GRACE_DAYS.to_string(),
            renewal_basis: "anniversary".into(),
            ..Default::default()
        });
    };
    let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    let u = categories::get(&st.db, &actor, id).await?;
    let i = CategoryInput::of(&u.category);
    Ok(CategoryFormView {
        id: Some(u.category.id.to_string()),
        code: i.code,
        name: i.name,
        description: i.description,
        eligibility: i.eligibility,
        audience: i.audience,
        annual_fee: i.annual_fee,
        joining_fee: i.joining_fee,
        reinstatement_fee: i.reinstatement_fee,
        instalments: i.instalments,
        needs_declaration: i.needs_declaration,
        grace_days: i.grace_days,
        renewal_basis: i.renewal_basis,
        fixed_renewal_month: i.fixed_renewal_month,
        fixed_renewal_day: i.fixed_renewal_day,
        on_register: i.on_register,
        organisational: i.organisational,
        sort_order: i.sort_order,
        members: u.members,
        periods: u.periods,
        retired: u.category.retired_at.is_some(),
    })
}

#[server(prefix = "/fn", endpoint = "save-category")]
pub async fn save_category(
    id: Option<String>,
    code: String,
    name: String,
    description: String,
    eligibility: String,
    audience: Option<String>,
    annual_fee: String,
    joining_fee: String,
    reinstatement_fee: String,
    instalments: Option<String>,
    needs_declaration: Option<String>,
    grace_days: String,
    renewal_basis: Option<String>,
    fixed_renewal_month: String,
    fixed_renewal_day: String,
    on_register: Option<String>,
    organisational: Option<String>,
    sort_order: String,
) -> Result<(), AppError> {
    use guildhall::service::categories::{self, CategoryInput};
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageCategories)?;
    let st = crate::ctx::state()?;
    let input = CategoryInput {
        code,
        name,
        description,
        eligibility,
        audience: audience.unwrap_or_default(),
        annual_fee,
        joining_fee,
        reinstatement_fee,
        instalments: instalments.unwrap_or_default(),
        needs_declaration: needs_declaration.is_some(),
        grace_days,
        renewal_basis: renewal_basis.unwrap_or_default(),
        fixed_renewal_month,
        fixed_renewal_day,
        on_register: on_register.is_some(),
        organisational: organisational.is_some(),
        sort_order,
    };
    let c = match id.filter(|i| !i.is_empty()) {
        Some(id) => {
            let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
            categories::update(&st.db, &actor, id, &input).await?
        }
        None => categories::create(&st.db, &actor, &input).await?,
    };
    leptos_axum::redirect(&format!(
        "/staff/admin/categories?saved={}",
        crate::format::urlencode(&c.code)
    ));
    Ok(())
}

/// Retire (`retire`), reopen (`reopen`) or delete (`delete`) a category.
#[server(prefix = "/fn", endpoint = "category-status")]
pub async fn category_status(id: String, what: String) -> Result<(), AppError> {
    use guildhall::service::categories;
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageCategories)?;
    let st = crate::ctx::state()?;
    let uuid = uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    let done = match what.as_str() {
        "retire" => {
            categories::retire(&st.db, &actor, uuid).await?;
            "retired"
        }
        "reopen" => {
            categories::reopen(&st.db, &actor, uuid).await?;
            "reopened"
        }
        "delete" => {
            categories::delete(&st.db, &actor, uuid).await?;
            "deleted"
        }
        _ => return Err(AppError::NotFound),
    };
    leptos_axum::redirect(&format!("/staff/admin/categories?done={done}"));
    Ok(())
}

#[component]
pub fn CategoriesPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| category_list());
    let q = use_query_map();
    let banner = move || {
        let q = q.read();
        // The code is shown only when it looks like one (letters and digits), never arbitrary text.
        if let Some(code) = q.get("saved") {
            let looks_like_a_code = !code.is_empty()
                && code.len() <= 12
                && code.chars().all(|c| c.is_ascii_alphanumeric());
            return Some(if looks_like_a_code {
                format!("Category {code} saved.")
            } else {
                "Category saved.".to_owned()
            });
        }
        q.get("done").and_then(|d| match d.as_str() {
            "retired" => {
                Some("Category retired. No one new can join it; its members stay.".to_owned())
            }
            "reopened" => Some("Category open again.".to_owned()),
            "deleted" => Some("Category deleted.".to_owned()),
            _ => None,
        })
    };
    view! {
        <PageTitle text="Membership categories"/>
        {move || banner().map(|b| view! { <div class="banner banner--success" role="status"><p>{b}</p></div> })}
        <h1 class="heading-l">"Membership categories"</h1>
        <p class="body"><a class="button" href="/staff/admin/categories/new">"Add a category"</a></p>
        <PageShell data=data ready={move |rows: Vec<CategoryRow>| view! {
                <table class="table">
                    <caption class="visually-hidden">"Membership categories, open ones first"</caption>
                    <thead><tr>
                        <th scope="col">"Category"</th><th scope="col">"Code"</th><th scope="col">"For"</th>
                        <th scope="col">"Annual fee"</th><th scope="col">"Instalments"</th><th scope="col">"Renewal"</th>
                        <th scope="col">"Register"</th><th scope="col">"Members"</th><th scope="col">"Status"</th>
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|c| {
                            let href = format!("/staff/admin/categories/{}", c.id);
                            let who = if c.organisational { format!("{} · organisations", c.audience) } else { c.audience.clone() };
                            view! {
                                <tr>
                                    <td data-label="Category"><a href=href>{c.name}</a></td>
                                    <td data-label="Code" class="mono">{c.code}</td>
                                    <td data-label="For">{who}</td>
                                    <td data-label="Annual fee">{c.annual}</td>
                                    <td data-label="Instalments">{c.instalments}</td>
                                    <td data-label="Renewal">{c.basis}</td>
                                    <td data-label="Register">{if c.register { "Yes" } else { "No" }}</td>
                                    <td data-label="Members">{c.members}</td>
                                    <td data-label="Status">{if c.retired { view! { <strong class="tag tag--grey">"Retired"</strong> }.into_any() } else { view! { <strong class="tag tag--green">"Open"</strong> }.into_any() }}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()}/>
    }
}

/// Adding (`/staff/admin/categories/new`) and changing (`/staff/admin/categories/:id`) a category.
#[component]
pub fn CategoryPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").filter(|i| i != "new");
    let data = Resource::new(id, category_form);
    let save = ServerAction::<SaveCategory>::new();
    let error = last_error(save);
    let status = ServerAction::<CategoryStatus>::new();
    let status_error = last_error(status);
    view! {
        <PageShell data=data ready={move |f: CategoryFormView| {
                let title = if f.id.is_some() { format!("Change {}", f.name) } else { "Add a category".to_owned() };
                let id_value = f.id.clone().unwrap_or_default();
                let existing = f.id.clone();
                let in_use = f.members > 0 || f.periods > 0;
                let usage = format!(
                    "{} member{} in this category; {} period{} name it.",
                    f.members, if f.members == 1 { " is" } else { "s are" },
                    f.periods, if f.periods == 1 { "" } else { "s" }
                );
                let retired = f.retired;
                let opts = |v: &[(&str, &str)]| v.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect::<Vec<_>>();
                view! {
                    <PageTitle text=title.clone()/>
                    <p class="back-link"><a href="/staff/admin/categories">"Back to categories"</a></p>
                    <ErrorSummary error/>
                    <ErrorSummary error=status_error/>
                    <h1 class="heading-l">{title}</h1>
                    {existing.is_some().then(|| view! { <p class="body">{usage.clone()}{retired.then_some(" It is retired: no one new can join it.")}</p> })}
                    <Form action=save attr:class="form-narrow">
                        <input type="hidden" name="id" value=id_value.clone()/>
                        <Field name="name" label="Name" error value=f.name.clone()/>
                        <Field name="code" label="Code" hint="A short code used in reports and imports, like REG" error value=f.code.clone() class="input input--w10"/>
                        <TextArea name="description" label="Description (optional)" hint="One or two sentences for the joining pages" error value=f.description.clone() rows=2/>
                        <TextArea name="eligibility" label="Eligibility criteria" hint="Who may join: what an applicant must have or do. Officers check applications against this" error value=f.eligibility.clone() rows=5/>
                        <Radios name="audience" legend="Who is it for?" error options=opts(&[("association", "A professional association"), ("club", "A members' club")]) selected=f.audience.clone()/>
                        <Checkbox name="organisational" label="Members are organisations, with named representatives" checked=f.organisational/>
                        <fieldset class="fieldset">
                            <legend class="heading-m">"Fees"</legend>
                            <Field name="annual_fee" label="Annual fee, in pounds" hint="For example, 216.00" error value=f.annual_fee.clone() class="input input--w10" inputmode="decimal"/>
                            <Field name="joining_fee" label="Joining fee, in pounds" hint="Leave blank for none" error value=f.joining_fee.clone() class="input input--w10" inputmode="decimal"/>
                            <Field name="reinstatement_fee" label="Reinstatement fee, in pounds" hint="Charged when a lapsed member comes back. Leave blank for none" error value=f.reinstatement_fee.clone() class="input input--w10" inputmode="decimal"/>
                            <Radios name="instalments" legend="Monthly Direct Debit instalments" hint="The fee is split evenly; any remainder is added to the first instalment" error
                                options=opts(&[("0", "Not allowed: the fee is paid once a year"), ("10", "10 monthly instalments"), ("12", "12 monthly instalments")]) selected=f.instalments.clone()/>
                        </fieldset>
                        <fieldset class="fieldset">
                            <legend class="heading-m">"Renewal"</legend>
                            <Radios name="renewal_basis" legend="When do members renew?" error
                                options=opts(&[("anniversary", "On the anniversary of joining"), ("fixed", "On the same date every year")]) selected=f.renewal_basis.clone()/>
                            <div class="inline-fields">
                                <Field name="fixed_renewal_day" label="Day (fixed date only)" error value=f.fixed_renewal_day.clone() class="input input--w4" inputmode="numeric"/>
                                <Field name="fixed_renewal_month" label="Month (fixed date only)" error value=f.fixed_renewal_month.clone() class="input input--w4" inputmode="numeric"/>
                            </div>
                            <Field name="grace_days" label="Grace days" hint="How long after the period ends a member stays in good standing while the renewal is unpaid" error value=f.grace_days.clone() class="input input--w4" inputmode="numeric"/>
                            <Checkbox name="needs_declaration" label="Renewal needs a declaration" hint="For example, CPD hours done and insurance still valid" checked=f.needs_declaration/>
                        </fieldset>
                        <Checkbox name="on_register" label="Members appear on the public register (if they consent)" checked=f.on_register/>
                        <Field name="sort_order" label="Position in lists (optional)" hint="Lower numbers come first" error value=f.sort_order.clone() class="input input--w10" inputmode="numeric"/>
                        <SubmitButton label="Save category" pending=save.pending()/>
                    </Form>
                    {existing.map(|cid| {
                        let (what, label, hint) = if retired {
                            ("reopen", "Reopen category", "Members can join it and move into it again.")
                        } else {
                            ("retire", "Retire category", "No one new can join it or move into it. Its members stay in it.")
                        };
                        let cid2 = cid.clone();
                        view! {
                            <h2 class="heading-m">{if retired { "Reopen" } else { "Retire" }}</h2>
                            <p class="body">{hint}</p>
                            <Form action=status>
                                <input type="hidden" name="id" value=cid/>
                                <input type="hidden" name="what" value=what/>
                                <button type="submit" class="button button--secondary">{label}</button>
                            </Form>
                            {(!in_use).then(|| view! {
                                <h2 class="heading-m">"Delete"</h2>
                                <p class="body">"Nothing refers to this category, so it can be deleted."</p>
                                <Form action=status>
                                    <input type="hidden" name="id" value=cid2/>
                                    <input type="hidden" name="what" value="delete"/>
                                    <button type="submit" class="button button--warning">"Delete category"</button>
                                </Form>
                            })}
                        }
                    })}
                }.into_any()
            }}/>
    }
}
