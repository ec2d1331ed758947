//! Erasing a member's personal data (supervisors), after a second confirmation.

use super::{member_record, RecordDto};
use crate::components::error_view;
use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::PageShell;
use crate::components::{ErrorSummary, Field, PageTitle};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[cfg(feature = "ssr")]
use crate::record;

#[server(prefix = "/fn", endpoint = "erase-member")]
pub async fn erase_member(
    member_id: String,
    number: String,
    confirm: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EraseMembers)?;
    let st = crate::ctx::state()?;
    guildhall::service::members::erasure::erase(
        &st.db,
        &actor,
        record::member_uuid(&member_id)?,
        &confirm,
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=erased",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

/// The second confirmation before a supervisor erases a member's personal data.
#[component]
pub fn EraseMemberPage() -> impl IntoView {
    let params = use_params_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let data = Resource::new(number, member_record);
    let action = ServerAction::<EraseMember>::new();
    let error = last_error(action);
    view! {
        <PageShell data=data ready={move |r: RecordDto| match r {
                m if m.can_erase => view! {
                    <PageTitle text=format!("Erase personal data – {}", m.number)/>
                    <p class="back-link"><a href=format!("/staff/members/{}", m.number)>"Back to the record"</a></p>
                    <ErrorSummary error/>
                    <h1 class="heading-l">"Erase the personal data of "{m.name.clone()}</h1>
                    <div class="inset">
                        <p class="body"><strong>"This cannot be undone."</strong></p>
                        <p class="body">"Erased: name, email address, phone, postal address, preferences and register consent; the portal account (it can never sign in again); the text of notes; the addresses and contents of emails sent to them; the personal values in earlier audit entries."</p>
                        <p class="body">"Kept: the membership number, category, joining date, membership periods and changes, and payments, for six years after the accounting year. Who did what and when stays in the audit trail."</p>
                    </div>
                    <Form action attr:class="form-narrow">
                        <input type="hidden" name="member_id" value=m.id.clone()/>
                        <input type="hidden" name="number" value=m.number.clone()/>
                        <Field name="confirm" label=format!("To confirm, type the membership number {}", m.number) error autocomplete="off" class="input input--w20"/>
                        <button type="submit" class="button button--warning">"Erase personal data"</button>
                    </Form>
                }.into_any(),
                _ => error_view(AppError::Forbidden),
            }}/>
    }
}
