//! Files for third parties (`/staff/exports`): the mailing house's renewal documents for a month and the
//! publisher's journal mailing list, with the fields staff tick. The forms post straight to
//! `/staff/exports/download` (a download, so a plain form: it works without JavaScript); every file made
//! is listed with who made it, when and how many rows.

use crate::components::PageShell;
use crate::components::PageTitle;
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportRow {
    pub what: String,
    pub month: String,
    pub fields: String,
    pub rows: i64,
    pub by: String,
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportsDto {
    /// (key, heading) of every field.
    pub fields: Vec<(String, String)>,
    /// Next month, `YYYY-MM`, as the suggestion.
    pub next_month: String,
    pub recent: Vec<ExportRow>,
}

#[server(prefix = "/fn", endpoint = "exports")]
pub async fn exports_page() -> Result<ExportsDto, AppError> {
    use guildhall::domain::Permission;
    use guildhall::service::exports;
    let actor = crate::ctx::require(Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    let today = guildhall::service::today();
    let next = today
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(today);
    let recent = exports::recent(&st.db, &actor, 20).await?;
    Ok(ExportsDto {
        fields: exports::FIELDS
            .iter()
            .map(|(k, h)| ((*k).to_owned(), (*h).to_owned()))
            .collect(),
        next_month: next.format("%Y-%m").to_string(),
        recent: recent
            .into_iter()
            .map(|e| ExportRow {
                what: exports::kind_label(&e.kind).to_owned(),
                month: e.params,
                fields: e
                    .fields
                    .iter()
                    .map(|f| {
                        exports::FIELDS
                            .iter()
                            .find(|(k, _)| k == f)
                            .map_or(f.clone(), |(_, h)| (*h).to_owned())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                rows: e.rows,
                by: e.by,
                at: crate::format::staff_time(e.at),
            })
            .collect(),
    })
}

/// The field boxes of one form; `prefix` keeps their ids apart. Address fields are ticked to start with.
fn field_boxes(
    prefix: &'static str,
    fields: &[(String, String)],
    skip_amount: bool,
) -> impl IntoView {
    let default = [
        "number",
        "title",
        "given_name",
        "family_name",
        "organisation",
        "address_line1",
        "address_line2",
        "town",
        "county",
        "postcode",
        "country",
        "ends",
        "amount",
    ];
    fields
        .iter()
        .filter(|(k, _)| !(skip_amount && (k == "amount" || k == "ends")))
        .map(|(k, h)| {
            let id = format!("{prefix}-{k}");
            let checked = default.contains(&k.as_str());
            view! {
                <div class="checkbox">
                    <input class="checkbox__input" type="checkbox" id=id.clone() name=format!("f_{k}") value="on" checked=checked/>
                    <label class="checkbox__label" for=id>{h.clone()}</label>
                </div>
            }
        })
        .collect_view()
}

/// The message for each form field the download can refuse. The download names only the fields
/// (`?error=month,fields`), and this page shows only these known messages: no text from the address
/// bar is ever shown, so nobody can make a staff page say what they like.
pub fn export_error_message(field: &str) -> Option<&'static str> {
    Some(match field {
        "kind" => "Choose which file to make",
        "fields" => "Choose at least one field",
        "month" => "Enter the month as YYYY-MM, for example 2027-01",
        _ => return None,
    })
}

#[component]
pub fn ExportsPage() -> impl IntoView {
    let q = use_query_map();
    let error = move || {
        let messages: Vec<&str> = q
            .read()
            .get("error")
            .unwrap_or_default()
            .split(',')
            .filter_map(export_error_message)
            .collect();
        (!messages.is_empty()).then(|| messages.join(". "))
    };
    let data = Resource::new(|| (), |_| exports_page());
    view! {
        <PageTitle text="Exports"/>
        <h1 class="heading-l">"Exports for the mailing house and the publisher"</h1>
        {move || error().map(|e| view! {
            <div class="error-summary" role="alert" tabindex="-1">
                <h2 class="error-summary__title">"There is a problem"</h2>
                <p class="body">{e}</p>
            </div>
        })}
        <PageShell data=data transition=true ready={move |d: ExportsDto| view! {
                <section class="section">
                    <h2 class="heading-m">"Renewal documents"</h2>
                    <p class="body">"Members whose membership ends in the month, with their postal address and what renewing costs, for the mailing house to print and post. Members who asked for no post are left out."</p>
                    <form method="post" action="/staff/exports/download">
                        <input type="hidden" name="kind" value="renewal-documents"/>
                        <div class="field">
                            <label class="label" for="month">"Membership ends in (YYYY-MM)"</label>
                            <input class="input input--w10" id="month" name="month" type="text" inputmode="numeric" value=d.next_month.clone()/>
                        </div>
                        <fieldset class="fieldset">
                            <legend class="label">"Fields"</legend>
                            {field_boxes("renewal", &d.fields, false)}
                        </fieldset>
                        <button type="submit" class="button">"Download renewal documents"</button>
                    </form>
                </section>
                <section class="section">
                    <h2 class="heading-m">"Journal mailing list"</h2>
                    <p class="body">"Members now active or in grace who want the journal by post, for the publisher."</p>
                    <form method="post" action="/staff/exports/download">
                        <input type="hidden" name="kind" value="journal"/>
                        <fieldset class="fieldset">
                            <legend class="label">"Fields"</legend>
                            {field_boxes("journal", &d.fields, true)}
                        </fieldset>
                        <button type="submit" class="button">"Download journal mailing list"</button>
                    </form>
                </section>
                <h2 class="heading-m">"Files made"</h2>
                {if d.recent.is_empty() {
                    view! { <p class="body">"None yet."</p> }.into_any()
                } else {
                    view! {
                        <table class="table" data-testid="exports-made">
                            <caption class="visually-hidden">"Files made for third parties"</caption>
                            <thead><tr><th scope="col">"When"</th><th scope="col">"File"</th><th scope="col">"Month"</th><th scope="col">"Rows"</th><th scope="col">"By"</th><th scope="col">"Fields"</th></tr></thead>
                            <tbody>
                                {d.recent.into_iter().map(|e| view! {
                                    <tr>
                                        <td data-label="When">{e.at}</td>
                                        <td data-label="File">{e.what}</td>
                                        <td data-label="Month">{e.month}</td>
                                        <td data-label="Rows">{e.rows}</td>
                                        <td data-label="By">{e.by}</td>
                                        <td data-label="Fields">{e.fields}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            }.into_any()}/>
    }
}
