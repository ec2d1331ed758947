//! Staff accounts (admins only): who can use the staff area, with which roles, and adding someone.

use super::error_view;
use crate::components::forms::last_error;
use crate::components::{ErrorSummary, Field, PageTitle, SubmitButton};
use guildhall::domain::{AppError, Role};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffRow {
    pub name: String,
    pub email: String,
    pub roles: String,
    pub created: String,
}

#[server(prefix = "/fn", endpoint = "staff-accounts")]
pub async fn staff_accounts() -> Result<Vec<StaffRow>, AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageStaff)?;
    let st = crate::ctx::state()?;
    let list = guildhall::service::identity::list_staff(&st.db, &actor).await?;
    Ok(list
        .into_iter()
        .map(|s| StaffRow {
            name: format!("{} {}", s.user.given_name, s.user.family_name),
            email: s.user.email,
            roles: s
                .roles
                .iter()
                .map(|r| r.label())
                .collect::<Vec<_>>()
                .join(", "),
            created: crate::format::staff_time(s.user.created_at),
        })
        .collect())
}

#[server(prefix = "/fn", endpoint = "invite-staff")]
pub async fn invite_staff(
    given_name: String,
    family_name: String,
    email: String,
    role_officer: Option<String>,
    role_supervisor: Option<String>,
    role_finance: Option<String>,
    role_admin: Option<String>,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageStaff)?;
    let st = crate::ctx::state()?;
    let roles: Vec<Role> = [
        (role_officer, Role::Officer),
        (role_supervisor, Role::Supervisor),
        (role_finance, Role::Finance),
        (role_admin, Role::Admin),
    ]
    .into_iter()
    .filter_map(|(v, r)| v.map(|_| r))
    .collect();
    guildhall::service::identity::invite_staff(
        &st.db,
        &actor,
        given_name,
        family_name,
        email,
        roles,
        &st.base_url,
    )
    .await?;
    st.outbox_wake.notify_one();
    leptos_axum::redirect("/staff/admin/staff?invited=1");
    Ok(())
}

#[component]
pub fn StaffAccounts() -> impl IntoView {
    let data = Resource::new(|| (), |_| staff_accounts());
    let action = ServerAction::<InviteStaff>::new();
    let error = last_error(action);
    let q = use_query_map();
    let invited = move || q.read().get("invited").is_some();
    let role_error = move || {
        error
            .get()
            .and_then(|e| e.fields().and_then(|f| f.get("roles").map(str::to_owned)))
    };
    view! {
        <PageTitle text="Staff accounts"/>
        <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>
            {move || data.get().map(|r| match r {
                Ok(rows) => view! {
                    {invited().then(|| view! { <div class="banner banner--success" role="status"><p>"Account created. We have emailed them a link to choose a password."</p></div> })}
                    <ErrorSummary error/>
                    <h1 class="heading-l">"Staff accounts"</h1>
                    <table class="table">
                        <caption class="visually-hidden">"Staff accounts"</caption>
                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Roles"</th><th scope="col">"Created"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|s| view! {
                                <tr><td data-label="Name">{s.name}</td><td data-label="Email">{s.email}</td><td data-label="Roles">{s.roles}</td><td data-label="Created">{s.created}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <h2 class="heading-m">"Add a member of staff"</h2>
                    <ActionForm action attr:novalidate=true attr:class="form-narrow">
                        <Field name="given_name" label="First name" autocomplete="off" error class="input input--w20"/>
                        <Field name="family_name" label="Last name" autocomplete="off" error class="input input--w20"/>
                        <Field name="email" label="Work email address" input_type="email" autocomplete="off" error/>
                        <div class=move || if role_error().is_some() { "field field--error" } else { "field" } id="roles">
                            <fieldset class="fieldset">
                                <legend class="label">"Roles"</legend>
                                {move || role_error().map(|m| view! { <p class="field-error"><span class="visually-hidden">"Error: "</span>{m}</p> })}
                                {Role::ALL.into_iter().map(|r| {
                                    let id = format!("role_{}", r.as_str());
                                    view! {
                                        <div class="checkbox">
                                            <input class="checkbox__input" type="checkbox" id=id.clone() name=id.clone() value="on"/>
                                            <label class="checkbox__label" for=id>{r.label()}</label>
                                        </div>
                                    }
                                }).collect_view()}
                            </fieldset>
                        </div>
                        <SubmitButton label="Create account and send invitation" pending=action.pending()/>
                    </ActionForm>
                }.into_any(),
                Err(e) => error_view(e),
            })}
        </Suspense>
    }
}
