//! Staff add a member by hand: a person or an organisation, its category and first period.

use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::PageShell;
use crate::components::{ErrorSummary, Field, PageTitle, SubmitButton};
use crate::record::{DetailsFields, DetailsInput};
use guildhall::domain::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::record;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewMemberChoices {
    /// (id, name, for organisations)
    pub categories: Vec<(String, String, bool)>,
    pub today: String,
}

#[server(prefix = "/fn", endpoint = "new-member-options")]
pub async fn new_member_options() -> Result<NewMemberChoices, AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    let cats = guildhall::service::members::changes::open_categories(&st.db, &actor).await?;
    Ok(NewMemberChoices {
        categories: cats
            .into_iter()
            .map(|c| (c.id.to_string(), c.name, c.organisational))
            .collect(),
        today: guildhall::service::today().to_string(),
    })
}

#[server(prefix = "/fn", endpoint = "create-member")]
pub async fn create_member(
    kind: Option<String>,
    category: String,
    starts_on: String,
    payment: Option<String>,
    #[server(flatten)] details: crate::record::DetailsInput,
) -> Result<(), AppError> {
    use guildhall::service::members::enrol;
    let actor = crate::ctx::require(guildhall::domain::Permission::EditMembers)?;
    let st = crate::ctx::state()?;
    let input = enrol::NewMemberInput {
        kind: kind.unwrap_or_default(),
        category_id: category,
        starts_on,
        payment: payment.unwrap_or_default(),
        details,
    };
    let m = enrol::create_member(&st.db, &actor, &input).await?;
    leptos_axum::redirect(&format!(
        "/staff/members/{}?saved=created",
        record::number(m.membership_number)
    ));
    Ok(())
}

/// Staff add a member by hand: a person or an organisation, its category and first period.
#[component]
pub fn NewMemberPage() -> impl IntoView {
    use crate::components::Radios;
    let data = Resource::new(|| (), |_| new_member_options());
    let action = ServerAction::<CreateMember>::new();
    let error = last_error(action);
    let category_error = crate::components::forms::field_message(error, "category".into());
    view! {
        <PageTitle text="Add a member"/>
        <p class="back-link"><a href="/staff/members">"Back to members"</a></p>
        <PageShell data=data ready={move |o: NewMemberChoices| view! {
                <ErrorSummary error/>
                <h1 class="heading-l">"Add a member"</h1>
                <p class="body">"For someone joining on paper or by phone. Applications made online arrive through the applications queue instead."</p>
                <Form action attr:class="form-narrow">
                    <Radios name="kind" legend="Who is joining?" error selected="individual"
                        options=vec![("individual".to_owned(), "A person".to_owned()), ("organisation".to_owned(), "An organisation".to_owned())]/>
                    <div class="field" id="category">
                        <label class="label" for="category-select">"Category"</label>
                        {move || category_error.get().map(|m| view! { <p class="field-error"><span class="visually-hidden">"Error: "</span>{m}</p> })}
                        <select class="select" id="category-select" name="category">
                            {o.categories.iter().map(|(id, name, org)| {
                                let is = crate::components::forms::posted("category").as_deref() == Some(id.as_str());
                                view! {
                                    <option value=id.clone() selected=is>{if *org { format!("{name} (organisations)") } else { name.clone() }}</option>
                                }
                            }).collect_view()}
                        </select>
                    </div>
                    <Field name="starts_on" label="Membership starts" input_type="date" hint="The first day of the first membership period" error value=o.today.clone() class="input input--w20"/>
                    <Radios name="payment" legend="First year's fee" error selected="unpaid"
                        options=guildhall::domain::membership::FIRST_PAYMENT.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect()/>
                    <Field name="organisation_name" label="Organisation name (organisations only)" error autocomplete="organization"/>
                    <DetailsFields form=DetailsInput { country: "GB".into(), ..Default::default() } error with_email=true/>
                    <SubmitButton label="Add member" pending=action.pending()/>
                </Form>
            }.into_any()}/>
    }
}
