//! How we use personal data and how long we keep it (UK GDPR): the retention schedule DOMAIN.md asks
//! for, in plain words. The rules it states are the ones the code keeps: erasure
//! (`service::members::erasure`) and, with the money issue, the purge after six years.

use crate::components::PageTitle;
use leptos::prelude::*;

/// (What, why we keep it, for how long)
const SCHEDULE: [(&str, &str, &str); 7] = [
    (
        "Your name, contact details and preferences",
        "To run your membership and send you what you asked for",
        "While you are a member, then 6 years after your membership ends; erased sooner if you ask and nothing requires us to keep them",
    ),
    (
        "Membership periods, category and changes (joining, renewals, resignation)",
        "To show who was a member on any date, as the register and our rules require",
        "6 years after the end of the accounting year in which your membership ended; kept without your name if your details are erased",
    ),
    (
        "Payments, invoices and refunds",
        "Tax and company law require us to keep accounting records",
        "6 years after the end of the accounting year they belong to, then deleted",
    ),
    (
        "Emails we send you",
        "To show what we told you and when",
        "As long as your membership record; the contents go when your details are erased",
    ),
    (
        "Notes staff make about your membership",
        "To deal with your questions and our work consistently",
        "As long as your membership record; the text goes when your details are erased",
    ),
    (
        "The record of changes (audit trail): who changed what, and when",
        "To protect you and us against mistakes and fraud",
        "6 years; the personal values in it go when your details are erased",
    ),
    (
        "Your account's sign-in sessions",
        "To keep you signed in safely",
        "Until you sign out or the session expires",
    ),
];

#[component]
pub fn PrivacyPage() -> impl IntoView {
    view! {
        <PageTitle text="How we use and keep your data"/>
        <h1 class="heading-l">"How we use and keep your data"</h1>
        <p class="body">"We hold the personal data we need to run your membership. You can see everything we hold about you, and download it as a file, from your account. You can correct your details there at any time."</p>
        <h2 class="heading-m">"What we keep, why, and for how long"</h2>
        <table class="table">
            <caption class="visually-hidden">"Retention schedule"</caption>
            <thead><tr><th scope="col">"What"</th><th scope="col">"Why"</th><th scope="col">"How long"</th></tr></thead>
            <tbody>
                {SCHEDULE.iter().map(|(what, why, how_long)| view! {
                    <tr><td data-label="What">{*what}</td><td data-label="Why">{*why}</td><td data-label="How long">{*how_long}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
        <h2 class="heading-m">"Asking us to erase your data"</h2>
        <p class="body">"Contact the membership office. A supervisor checks the request and then removes your name, contact details, notes and the contents of emails. We keep your membership number, periods and payments, without your name, for as long as the law requires."</p>
        <h2 class="heading-m">"The public register"</h2>
        <p class="body">"If your category is on the register and you agree, anyone can find your name, town, category and membership number. Nothing else about you is public. You can withdraw your agreement from your account at any time."</p>
    }
}
