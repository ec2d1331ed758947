//! The changes staff make to a member record: details, a note, the category, removal, and the
//! representatives who act for an organisation.

use super::{member_record, RecordDto};
use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::PageShell;
use crate::components::{ErrorSummary, Field, PageTitle, SubmitButton};
use crate::record::DetailsFields;
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[cfg(feature = "ssr")]
use crate::record;

#[server(prefix = "/fn", endpoint = "update-member")]
pub async fn update_member(
    member_id: String,
    #[server(flatten)] details: crate::record::DetailsInput,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    let m = guildhall::service::members::record::staff_update_details(
        &st.db,
        &actor,
        record::member_uuid(&member_id)?,
        &details,
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=details",
        record::number(m.membership_number)
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "add-member-note")]
pub async fn add_member_note(
    member_id: String,
    number: String,
    body: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    guildhall::service::members::changes::add_note(
        &st.db,
        &actor,
        record::member_uuid(&member_id)?,
        &body,
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=note",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "change-member-category")]
pub async fn change_member_category(
    member_id: String,
    number: String,
    category: String,
    reason: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    let cat = uuid::Uuid::parse_str(category.trim())
        .map_err(|_| AppError::field("category", "Choose a category"))?;
    guildhall::service::members::changes::change_category(
        &st.db,
        &actor,
        record::member_uuid(&member_id)?,
        cat,
        &reason,
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=category",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "remove-member")]
pub async fn remove_member(
    member_id: String,
    number: String,
    reason: Option<String>,
    detail: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    let reason = reason
        .as_deref()
        .and_then(guildhall::entity::membership_event::removal_reason);
    guildhall::service::members::changes::remove(
        &st.db,
        &actor,
        record::member_uuid(&member_id)?,
        reason,
        &detail,
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=removed",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "add-representative")]
pub async fn add_representative(
    member_id: String,
    number: String,
    email: String,
    given_name: String,
    family_name: String,
    job_title: String,
) -> Result<(), AppError> {
    use guildhall::service::members::enrol;
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    enrol::add_representative(
        &st.db,
        &actor,
        record::member_uuid(&member_id)?,
        &enrol::NewRepresentative {
            email,
            given_name,
            family_name,
            job_title,
        },
        &st.base_url,
    )
    .await?;
    st.outbox_wake.notify_one();
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=representative",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "remove-representative")]
pub async fn remove_representative(
    member_id: String,
    number: String,
    user_id: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    guildhall::service::members::enrol::remove_representative(
        &st.db,
        &actor,
        record::member_uuid(&member_id)?,
        record::member_uuid(&user_id)?,
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=unlinked",
        crate::format::urlencode(&number)
    ));
    Ok(())
}

#[component]
pub fn EditMemberPage() -> impl IntoView {
    let params = use_params_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let data = Resource::new(number, member_record);
    let action = ServerAction::<UpdateMember>::new();
    let error = last_error(action);
    view! {
        <PageShell data=data ready={move |m: RecordDto| view! {
                <PageTitle text=format!("Change details – {}", m.name)/>
                <p class="back-link"><a href=format!("/staff/members/{}", m.number)>"Back to the record"</a></p>
                <ErrorSummary error/>
                <h1 class="heading-l">"Change details"<span class="visually-hidden">" of "{m.name.clone()}</span></h1>
                <p class="body">{m.name.clone()}" · "{m.number.clone()}</p>
                <Form action attr:class="form-narrow">
                    <input type="hidden" name="member_id" value=m.id.clone()/>
                    <DetailsFields form=m.form.clone() error with_email=true organisation=m.organisation/>
                    <SubmitButton label="Save changes" pending=action.pending()/>
                </Form>
            }.into_any()}/>
    }
}

#[component]
pub fn RemoveMemberPage() -> impl IntoView {
    let params = use_params_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let data = Resource::new(number, member_record);
    let action = ServerAction::<RemoveMember>::new();
    let error = last_error(action);
    let reason_error = move || {
        error
            .get()
            .and_then(|e| e.fields().and_then(|f| f.get("reason").map(str::to_owned)))
    };
    view! {
        <PageShell data=data ready={move |m: RecordDto| view! {
                <PageTitle text=format!("Remove member – {}", m.name)/>
                <p class="back-link"><a href=format!("/staff/members/{}", m.number)>"Back to the record"</a></p>
                <ErrorSummary error/>
                <h1 class="heading-l">"Remove "{m.name.clone()}</h1>
                <p class="body">"Removing ends the membership today. The record, its periods and its history are kept."</p>
                <Form action attr:class="form-narrow">
                    <input type="hidden" name="member_id" value=m.id.clone()/>
                    <input type="hidden" name="number" value=m.number.clone()/>
                    <div class=move || if reason_error().is_some() { "field field--error" } else { "field" } id="reason">
                        <fieldset class="fieldset">
                            <legend class="label">"Why is the member being removed?"</legend>
                            {move || reason_error().map(|msg| view! { <p class="field-error"><span class="visually-hidden">"Error: "</span>{msg}</p> })}
                            {[("deceased", "Deceased", "No post or email will be sent to this member again"), ("struck_off", "Struck off", ""), ("other", "Another reason", "")]
                                .into_iter().map(|(v, l, h)| {
                                    let id = format!("reason-{v}");
                                    view! {
                                        <div class="checkbox">
                                            <input class="checkbox__input" type="radio" id=id.clone() name="reason" value=v
                                                checked=crate::components::forms::posted("reason").as_deref() == Some(v)/>
                                            <label class="checkbox__label" for=id>{l}{(!h.is_empty()).then(|| view! { <span class="hint">" – "{h}</span> })}</label>
                                        </div>
                                    }
                                }).collect_view()}
                        </fieldset>
                    </div>
                    <Field name="detail" label="Details (needed for another reason)" error/>
                    <button type="submit" class="button button--warning">"Remove member"</button>
                </Form>
            }.into_any()}/>
    }
}
