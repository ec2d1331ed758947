//! Staff accounts (admins only): who can use the staff area, with which roles, and adding someone.

use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::PageShell;
use crate::components::{ErrorSummary, Field, PageTitle, SubmitButton};
use guildhall::domain::{AppError, Role};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub roles: String,
    /// Each role held: (code, label).
    pub role_list: Vec<(String, String)>,
    pub created: String,
    pub disabled: bool,
    pub authenticator: bool,
    /// The admin looking at the page.
    pub me: bool,
}

#[server(prefix = "/fn", endpoint = "staff-accounts")]
pub async fn staff_accounts() -> Result<Vec<StaffRow>, AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageStaff)?;
    let st = crate::ctx::state()?;
    let list = guildhall::service::identity::list_staff(&st.db, &actor).await?;
    let mut rows = Vec::with_capacity(list.len());
    for s in list {
        rows.push(StaffRow {
            id: s.user.id.to_string(),
            name: format!("{} {}", s.user.given_name, s.user.family_name),
            roles: s
                .roles
                .iter()
                .map(|r| r.label())
                .collect::<Vec<_>>()
                .join(", "),
            role_list: s
                .roles
                .iter()
                .map(|r| (r.as_str().to_owned(), r.label().to_owned()))
                .collect(),
            created: crate::format::staff_time(s.user.created_at),
            disabled: s.user.disabled_at.is_some(),
            authenticator: guildhall::service::mfa::is_enrolled(&st.db, s.user.id).await?,
            me: actor.user_id == Some(s.user.id),
            email: s.user.email,
        });
    }
    Ok(rows)
}

#[cfg(feature = "ssr")]
fn parse_id(id: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)
}

/// Disables a staff account (`disable = "1"`) or re-enables it: its sessions end at once.
#[server(prefix = "/fn", endpoint = "staff-set-disabled")]
pub async fn staff_set_disabled(id: String, disable: String) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageStaff)?;
    let st = crate::ctx::state()?;
    let disabled = disable == "1";
    guildhall::service::staff::set_disabled(&st.db, &actor, parse_id(&id)?, disabled).await?;
    leptos_axum::redirect(if disabled {
        "/staff/admin/staff?done=disabled"
    } else {
        "/staff/admin/staff?done=enabled"
    });
    Ok(())
}

/// Takes one role from a staff account: its sessions end at once.
#[server(prefix = "/fn", endpoint = "staff-remove-role")]
pub async fn staff_remove_role(id: String, role: String) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageStaff)?;
    let st = crate::ctx::state()?;
    let role: Role = role
        .parse()
        .map_err(|_| AppError::field("role", "Choose a role"))?;
    guildhall::service::staff::remove_role(&st.db, &actor, parse_id(&id)?, role).await?;
    leptos_axum::redirect("/staff/admin/staff?done=role");
    Ok(())
}

/// Removes a staff member's authenticator (a lost phone): they set up a new one at their next sign-in.
#[server(prefix = "/fn", endpoint = "staff-reset-authenticator")]
pub async fn staff_reset_authenticator(id: String) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageStaff)?;
    let st = crate::ctx::state()?;
    guildhall::service::mfa::turn_off(&st.db, &actor, parse_id(&id)?, None).await?;
    leptos_axum::redirect("/staff/admin/staff?done=authenticator");
    Ok(())
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
    let set_disabled = ServerAction::<StaffSetDisabled>::new();
    let remove_role = ServerAction::<StaffRemoveRole>::new();
    let reset = ServerAction::<StaffResetAuthenticator>::new();
    let change_error = Signal::derive(move || {
        last_error(set_disabled)
            .get()
            .or_else(|| last_error(remove_role).get())
            .or_else(|| last_error(reset).get())
    });
    let q = use_query_map();
    let invited = move || q.read().get("invited").is_some();
    let done = move || {
        q.read().get("done").and_then(|d| match d.as_str() {
            "disabled" => Some("The account is disabled and has been signed out everywhere."),
            "enabled" => Some("The account can sign in again."),
            "role" => Some("The role has been removed and the account signed out everywhere."),
            "authenticator" => Some("The authenticator app has been reset. They will set up a new one when they next sign in."),
            _ => None,
        })
    };
    let role_error = move || {
        error
            .get()
            .and_then(|e| e.fields().and_then(|f| f.get("roles").map(str::to_owned)))
    };
    view! {
        <PageTitle text="Staff accounts"/>
        <PageShell data=data ready={move |rows: Vec<StaffRow>| view! {
                {invited().then(|| view! { <div class="banner banner--success" role="status"><p>"Account created. We have emailed them a link to choose a password."</p></div> })}
                {done().map(|m| view! { <div class="banner banner--success" role="status"><p>{m}</p></div> })}
                <ErrorSummary error=change_error/>
                <ErrorSummary error/>
                <h1 class="heading-l">"Staff accounts"</h1>
                <table class="table">
                    <caption class="visually-hidden">"Staff accounts"</caption>
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Roles"</th><th scope="col">"Status"</th><th scope="col">"Created"</th><th scope="col">"Actions"</th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|s| {
                            let status = match (s.disabled, s.authenticator) {
                                (true, _) => "Disabled",
                                (false, true) => "Active",
                                (false, false) => "Active, authenticator not set up",
                            };
                            let id = s.id.clone();
                            let name = s.name.clone();
                            view! {
                            <tr>
                                <td data-label="Name">{s.name.clone()}</td><td data-label="Email">{s.email}</td><td data-label="Roles">{s.roles}</td>
                                <td data-label="Status">{status}</td><td data-label="Created">{s.created}</td>
                                <td data-label="Actions">
                                    {(!s.me).then(|| { let id = id.clone(); let name = name.clone(); view! {
                                        <Form action=set_disabled attr:class="inline-form">
                                            <input type="hidden" name="id" value=id/>
                                            <input type="hidden" name="disable" value={if s.disabled { "0" } else { "1" }}/>
                                            <button type="submit" class="button button--secondary button--small">
                                                {if s.disabled { "Enable" } else { "Disable" }}<span class="visually-hidden">{format!(" {name}")}</span>
                                            </button>
                                        </Form>
                                    }})}
                                    {s.role_list.into_iter().filter(|(code, _)| !(s.me && code == "admin")).map(|(code, label)| { let id = id.clone(); let name = name.clone(); view! {
                                        <Form action=remove_role attr:class="inline-form">
                                            <input type="hidden" name="id" value=id/>
                                            <input type="hidden" name="role" value=code/>
                                            <button type="submit" class="button button--secondary button--small">
                                                {format!("Remove {label}")}<span class="visually-hidden">{format!(" from {name}")}</span>
                                            </button>
                                        </Form>
                                    }}).collect_view()}
                                    {(s.authenticator && !s.me).then(|| { let id = id.clone(); view! {
                                        <Form action=reset attr:class="inline-form">
                                            <input type="hidden" name="id" value=id/>
                                            <button type="submit" class="button button--secondary button--small">
                                                "Reset authenticator"<span class="visually-hidden">{format!(" of {name}")}</span>
                                            </button>
                                        </Form>
                                    }})}
                                </td>
                            </tr>
                        }}).collect_view()}
                    </tbody>
                </table>
                <h2 class="heading-m">"Add a member of staff"</h2>
                <Form action attr:class="form-narrow">
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
                                        <input class="checkbox__input" type="checkbox" id=id.clone() name=id.clone() value="on"
                                            checked=crate::components::forms::posted(&id).is_some_and(|v| !v.is_empty())/>
                                        <label class="checkbox__label" for=id>{r.label()}</label>
                                    </div>
                                }
                            }).collect_view()}
                        </fieldset>
                    </div>
                    <SubmitButton label="Create account and send invitation" pending=action.pending()/>
                </Form>
            }.into_any()}/>
    }
}
