//! Office details for admins: the office's name and address printed on documents, its contact details
//! shown to members, the limit above
//! which a cheque or transfer needs a second person, and the renewal reminder days and extra bank
//! holidays.

use super::payments::Saved;
use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::PageShell;
use crate::components::{ErrorSummary, Field, PageTitle, SubmitButton, TextArea};
use guildhall::domain::AppError;
use leptos::prelude::*;

/// The office's details as the settings page shows them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OfficeDto {
    pub name: String,
    pub address: String,
    pub email: String,
    pub phone: String,
}

#[server(prefix = "/fn", endpoint = "office-settings")]
pub async fn office_settings() -> Result<OfficeDto, AppError> {
    let _ = crate::ctx::require(guildhall::domain::Permission::ManageSettings)?;
    let st = crate::ctx::state()?;
    let o = guildhall::service::settings::office(&st.db).await?;
    Ok(OfficeDto {
        name: o.name,
        address: o.address,
        email: o.email,
        phone: o.phone,
    })
}

#[server(prefix = "/fn", endpoint = "save-office-settings")]
pub async fn save_office_settings(
    office_name: String,
    office_address: String,
    office_email: String,
    office_phone: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageSettings)?;
    let st = crate::ctx::state()?;
    let office = guildhall::service::settings::Office {
        name: office_name,
        address: office_address,
        email: office_email,
        phone: office_phone,
    };
    guildhall::service::settings::update_office(&st.db, &actor, &office).await?;
    leptos_axum::redirect("/staff/admin/settings?saved=office");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "payment-limit")]
pub async fn payment_limit() -> Result<String, AppError> {
    let _ = crate::ctx::require(guildhall::domain::Permission::ManageSettings)?;
    let st = crate::ctx::state()?;
    Ok(guildhall::service::settings::limit(&st.db).await?.plain())
}

#[server(prefix = "/fn", endpoint = "save-payment-limit")]
pub async fn save_payment_limit(manual_payment_limit: String) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageSettings)?;
    let st = crate::ctx::state()?;
    guildhall::service::settings::update_limit(&st.db, &actor, &manual_payment_limit).await?;
    leptos_axum::redirect("/staff/admin/settings?saved=limit");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "renewal-settings")]
pub async fn renewal_settings() -> Result<(String, String), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageSettings)?;
    let st = crate::ctx::state()?;
    let s = guildhall::service::settings::renewal_settings(&st.db, &actor).await?;
    Ok((s.reminder_offsets, s.extra_holidays))
}

#[server(prefix = "/fn", endpoint = "save-renewal-settings")]
pub async fn save_renewal_settings(
    reminder_offsets: String,
    extra_holidays: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::ManageSettings)?;
    let st = crate::ctx::state()?;
    guildhall::service::settings::update_renewal_settings(
        &st.db,
        &actor,
        &reminder_offsets,
        &extra_holidays,
    )
    .await?;
    leptos_axum::redirect("/staff/admin/settings?saved=renewals");
    Ok(())
}

/// The office's name and address, printed on invoices, credit notes and receipts; the limit for
/// cheques and transfers recorded without a second person; the renewal reminder days and the extra bank holidays of the working-day calendar.
#[component]
pub fn OfficeSettingsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| office_settings());
    let save = ServerAction::<SaveOfficeSettings>::new();
    let error = last_error(save);
    let renewals = Resource::new(|| (), |_| renewal_settings());
    let save_renewals = ServerAction::<SaveRenewalSettings>::new();
    let renewals_error = last_error(save_renewals);
    let limit = Resource::new(|| (), |_| payment_limit());
    let save_limit = ServerAction::<SavePaymentLimit>::new();
    let limit_error = last_error(save_limit);
    view! {
        <PageTitle text="Office details"/>
        <Saved/>
        <h1 class="heading-l">"Office details"</h1>
        <p class="body">"The name and address are printed at the top of every invoice, credit note and receipt. Members see the name, e-mail address and phone number at the foot of every page and wherever we ask them to contact the office."</p>
        <PageShell data=data ready={move |o: OfficeDto| view! {
                    <ErrorSummary error=error/>
                    <Form action=save attr:class="form-narrow">
                        <Field name="office_name" label="Office name" error=error value=o.name autocomplete="organization"/>
                        <TextArea name="office_address" label="Postal address" hint="One line each" error=error value=o.address/>
                        <Field name="office_email" label="E-mail address for members" input_type="email" error=error value=o.email autocomplete="email"/>
                        <Field name="office_phone" label="Phone number for members (optional)" input_type="tel" error=error value=o.phone autocomplete="tel" class="input input--w20"/>
                        <SubmitButton label="Save" pending=save.pending()/>
                    </Form>
                }.into_any()}/>
        <h2 class="heading-m">"Payments needing a second person"</h2>
        <PageShell data=limit ready={move |amount: String| view! {
                <ErrorSummary error=limit_error/>
                <Form action=save_limit attr:class="form-narrow">
                    <Field name="manual_payment_limit" label="Limit for cheques and transfers, in pounds" hint="A cheque or bank transfer of more than this waits until a different supervisor or finance user authorises it; so does one settling another member's invoice. 0 sends every one to a second person." error=limit_error value=amount inputmode="decimal" class="input input--w10" autocomplete="off"/>
                    <SubmitButton label="Save limit" pending=save_limit.pending()/>
                </Form>
            }.into_any()}/>
        <h2 class="heading-m">"Renewals"</h2>
        <PageShell data=renewals ready={move |(offsets, holidays): (String, String)| view! {
                    <ErrorSummary error=renewals_error/>
                    <Form action=save_renewals attr:class="form-narrow">
                        <Field name="reminder_offsets" label="Reminder days" hint="Days from the last day of a membership, separated by commas: negative before it, 0 on it, positive after it (in grace). The invitation goes 60 days before." error=renewals_error value=offsets/>
                        <TextArea name="extra_holidays" label="Extra bank holidays" hint="England and Wales bank holidays 2025 to 2030 are built in. Add any others, one date a line, written as 2027-06-04. Notice periods count working days." error=renewals_error value=holidays/>
                        <SubmitButton label="Save renewal settings" pending=save_renewals.pending()/>
                    </Form>
                }.into_any()}/>
    }
}
