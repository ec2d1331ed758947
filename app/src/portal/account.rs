//! A member's own details from the portal: contact details, communication preferences and register
//! consent, e-mail address, password, and resigning. A representative uses the same pages for their
//! organisation (`?member=GH…`); the server decides what each caller may reach.

use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::{member_error_view, PageShell};
use crate::components::{Checkbox, ErrorSummary, Field, PageTitle, Radios, SubmitButton};
use crate::record::{DetailsFields, DetailsInput};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetailsView {
    pub number: String,
    pub name: String,
    pub organisation: bool,
    pub form: DetailsInput,
    pub journal_by_post: bool,
    pub email_news: bool,
    pub register_consent: bool,
    /// Whether the member's category appears on the public register at all.
    pub register_category: bool,
    pub status: String,
    /// The last day of membership if they resign at the end of the period.
    pub period_end: Option<String>,
    pub can_resign: bool,
}

#[server(prefix = "/fn", endpoint = "my-details")]
pub async fn my_details(member: Option<String>) -> Result<DetailsView, AppError> {
    use crate::record;
    use guildhall::domain::membership::Status;
    let actor = crate::ctx::require(guildhall::domain::Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let n = crate::record::chosen_number(&st.db, &actor, member.as_deref().unwrap_or("")).await?;
    let o = guildhall::service::members::portal::membership(&st.db, &actor, n).await?;
    let m = &o.member;
    let today = guildhall::service::today();
    Ok(DetailsView {
        number: record::number(m.membership_number),
        name: record::display_name(m),
        organisation: m.kind == "organisation",
        form: record::form(m),
        journal_by_post: m.journal_by_post,
        email_news: m.email_news,
        register_consent: m.register_consent,
        register_category: o.category.on_register,
        status: o.status.status.label().to_owned(),
        period_end: o
            .status
            .member_until
            .filter(|u| *u >= today)
            .map(crate::format::long_date),
        can_resign: o.status.resigning_from.is_none()
            && (o.status.status.is_member() || o.status.status == Status::NotYetStarted),
    })
}

#[cfg(feature = "ssr")]
fn back_to(number: &str, saved: &str) -> String {
    let own = number.trim().is_empty();
    if own {
        format!("/portal?saved={saved}")
    } else {
        format!(
            "/portal?saved={saved}&member={}",
            crate::format::urlencode(number)
        )
    }
}

#[server(prefix = "/fn", endpoint = "save-my-details")]
pub async fn save_my_details(
    member: String,
    #[server(flatten)] details: crate::record::DetailsInput,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let n = crate::record::chosen_number(&st.db, &actor, &member).await?;
    guildhall::service::members::portal::update_details(&st.db, &actor, n, &details).await?;
    leptos_axum::redirect(&back_to(&member, "details"));
    Ok(())
}

/// Saves everything the preferences page shows, together: how to hear from the office and the
/// public-register choice.
#[server(prefix = "/fn", endpoint = "save-preferences")]
pub async fn save_preferences(
    member: String,
    journal_by_post: Option<String>,
    email_news: Option<String>,
    register_consent: Option<String>,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let register_consent = match register_consent.as_deref() {
        Some("yes") => true,
        Some("no") => false,
        _ => {
            return Err(AppError::field(
                "register_consent",
                "Choose whether to appear on the public register",
            ))
        }
    };
    let n = crate::record::chosen_number(&st.db, &actor, &member).await?;
    guildhall::service::members::portal::update_preferences(
        &st.db,
        &actor,
        n,
        guildhall::service::members::portal::Preferences {
            journal_by_post: journal_by_post.is_some(),
            email_news: email_news.is_some(),
            register_consent,
        },
    )
    .await?;
    leptos_axum::redirect(&back_to(&member, "preferences"));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "change-email")]
pub async fn change_email(email: String, password: String) -> Result<(), AppError> {
    use crate::ctx;
    let actor = ctx::require(guildhall::domain::Permission::OwnRecords)?;
    let st = ctx::state()?;
    // The password is checked again (argon2 work) and a message goes to the address given.
    if let Err(r) = st.limiter.check(ctx::client_ip(), &actor.label) {
        return Err(ctx::rate_limited("change-email", r.retry_after));
    }
    if !email.trim().is_empty() && !st.mail_limiter.allow(ctx::client_ip(), &email) {
        return Err(ctx::rate_limited(
            "change-email",
            std::time::Duration::from_secs(60 * 60),
        ));
    }
    let done = guildhall::service::identity::request_email_change(
        &st.db,
        &actor,
        password,
        &email,
        &st.base_url,
    )
    .await;
    match &done {
        Ok(_) => st.limiter.succeeded(&actor.label),
        Err(e) if ctx::password_refused(e, "password") => st.limiter.failed(&actor.label),
        Err(_) => {}
    }
    done?;
    st.outbox_wake.notify_one();
    leptos_axum::redirect("/portal/email/sent");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "confirm-email")]
pub async fn confirm_email(token: String) -> Result<(), AppError> {
    let st = crate::ctx::state()?;
    guildhall::service::identity::confirm_email_change(&st.db, &token, &st.base_url).await?;
    st.outbox_wake.notify_one();
    leptos_axum::redirect("/confirm-email/done");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "change-password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::ctx;
    let actor = ctx::require(guildhall::domain::Permission::OwnRecords)?;
    let st = ctx::state()?;
    if let Err(r) = st.limiter.check(ctx::client_ip(), &actor.label) {
        return Err(ctx::rate_limited("change-password", r.retry_after));
    }
    if new_password != confirm_password {
        return Err(AppError::field(
            "confirm_password",
            "The passwords do not match. Enter the same new password twice",
        ));
    }
    let done = guildhall::service::identity::change_password(
        &st.db,
        &actor,
        current_password,
        new_password,
        &st.base_url,
    )
    .await;
    match &done {
        Ok(()) => st.limiter.succeeded(&actor.label),
        Err(e) if ctx::password_refused(e, "current_password") => st.limiter.failed(&actor.label),
        Err(_) => {}
    }
    done?;
    // Every stored session of the account was ended; this one continues under a new id.
    let session = crate::ctx::session()?;
    session.cycle_id().await.map_err(AppError::internal)?;
    st.outbox_wake.notify_one();
    leptos_axum::redirect("/portal?saved=password");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "resign")]
pub async fn resign(member: String, when: String) -> Result<(), AppError> {
    use guildhall::service::members::portal::ResignWhen;
    let actor = crate::ctx::require(guildhall::domain::Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let n = crate::record::chosen_number(&st.db, &actor, &member).await?;
    let when = match when.as_str() {
        "period_end" => Some(ResignWhen::PeriodEnd),
        "now" => Some(ResignWhen::Now),
        _ => None,
    };
    guildhall::service::members::portal::resign(&st.db, &actor, n, when, &st.base_url).await?;
    st.outbox_wake.notify_one();
    leptos_axum::redirect(&back_to(&member, "resigned"));
    Ok(())
}

fn member_param() -> Memo<String> {
    let q = use_query_map();
    Memo::new(move |_| q.read().get("member").unwrap_or_default())
}

fn portal_link(path: &str, member: &str) -> String {
    if member.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?member={}", crate::format::urlencode(member))
    }
}

#[component]
pub fn DetailsPage() -> impl IntoView {
    let member = member_param();
    let data = Resource::new(move || member.get(), |m| my_details(Some(m)));
    let action = ServerAction::<SaveMyDetails>::new();
    let error = last_error(action);
    view! {
        <PageTitle text="Your details"/>
        <p class="back-link"><a href=move || portal_link("/portal", &member.get())>"Back"</a></p>
        <ErrorSummary error/>
        <PageShell data=data on_error=member_error_view ready={move |d: DetailsView| view! {
                <h1 class="heading-l">{if d.organisation { "Your organisation's details" } else { "Your details" }}</h1>
                <Form action>
                    <input type="hidden" name="member" value=member.get_untracked()/>
                    <DetailsFields form=d.form.clone() error organisation=d.organisation/>
                    <SubmitButton label="Save your details" pending=action.pending()/>
                </Form>
            }.into_any()}/>
    }
}

#[component]
pub fn PreferencesPage() -> impl IntoView {
    let member = member_param();
    let data = Resource::new(move || member.get(), |m| my_details(Some(m)));
    let action = ServerAction::<SavePreferences>::new();
    let error = last_error(action);
    view! {
        <PageTitle text="How we contact you"/>
        <p class="back-link"><a href=move || portal_link("/portal", &member.get())>"Back"</a></p>
        <ErrorSummary error/>
        <PageShell data=data on_error=member_error_view ready={move |d: DetailsView| view! {
                <h1 class="heading-l">"How we contact you"</h1>
                <Form action>
                    <input type="hidden" name="member" value=member.get_untracked()/>
                    <fieldset class="fieldset field">
                        <legend class="heading-m">"Communication preferences"</legend>
                        <p class="hint">"We always email you about your membership and payments."</p>
                        <Checkbox name="journal_by_post" label="Send me the journal by post" checked=d.journal_by_post/>
                        <Checkbox name="email_news" label="Email me news and events" checked=d.email_news/>
                    </fieldset>
                    <Radios name="register_consent" legend="The public register" error
                        hint=if d.register_category {
                            "The register shows your name, town, category and membership number. Nothing else about you is public."
                        } else {
                            "Your category is not on the public register at the moment. Your choice applies if you move to a category that is."
                        }
                        options=vec![
                            ("yes".to_owned(), "Yes, list me on the public register".to_owned()),
                            ("no".to_owned(), "No, do not list me".to_owned()),
                        ]
                        selected=if d.register_consent { "yes" } else { "no" }/>
                    <SubmitButton label="Save your choices" pending=action.pending()/>
                </Form>
            }.into_any()}/>
    }
}

#[component]
pub fn ChangeEmailPage() -> impl IntoView {
    let action = ServerAction::<ChangeEmail>::new();
    let error = last_error(action);
    view! {
        <PageTitle text="Change your email address"/>
        <p class="back-link"><a href="/portal">"Back"</a></p>
        <ErrorSummary error/>
        <h1 class="heading-l">"Change your email address"</h1>
        <p class="body">"You sign in with your email address. We will send a link to the new address; the change happens when you open it."</p>
        <Form action>
            <Field name="email" label="New email address" input_type="email" autocomplete="email" error/>
            <Field name="password" label="Your password" hint="To check it is you" input_type="password" autocomplete="current-password" error/>
            <SubmitButton label="Send confirmation link" pending=action.pending()/>
        </Form>
    }
}

#[component]
pub fn EmailSentPage() -> impl IntoView {
    view! {
        <PageTitle text="Check your new email address"/>
        <h1 class="heading-l">"Check your new email address"</h1>
        <p class="body">"We have sent a link to your new email address. Open it within 24 hours to finish the change."</p>
        <p class="body">"Until then, keep signing in with your current address."</p>
        <p class="body"><a href="/portal">"Back to your membership"</a></p>
    }
}

#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let action = ServerAction::<ConfirmEmail>::new();
    let error = last_error(action);
    let q = use_query_map();
    let token = move || q.read().get("token").unwrap_or_default();
    view! {
        <PageTitle text="Confirm your new email address"/>
        <ErrorSummary error/>
        <h1 class="heading-l">"Confirm your new email address"</h1>
        <p class="body">"Select the button to start signing in with this email address."</p>
        <Form action>
            <input type="hidden" name="token" value=token/>
            <SubmitButton label="Confirm my new email address" pending=action.pending()/>
        </Form>
    }
}

#[component]
pub fn EmailChangedPage() -> impl IntoView {
    view! {
        <PageTitle text="Email address changed"/>
        <div class="panel--confirmation"><h1 class="heading-l">"Email address changed"</h1></div>
        <p class="body">"Sign in with your new email address from now on. We have told your old address about the change."</p>
        <p class="body"><a href="/portal">"Go to your membership"</a></p>
    }
}

#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let error = last_error(action);
    view! {
        <PageTitle text="Change your password"/>
        <p class="back-link"><a href="/portal">"Back"</a></p>
        <ErrorSummary error/>
        <h1 class="heading-l">"Change your password"</h1>
        <Form action>
            <Field name="current_password" label="Current password" input_type="password" autocomplete="current-password" error/>
            <Field name="new_password" label="New password" hint="At least 10 characters. A few unrelated words make a strong password" input_type="password" autocomplete="new-password" error/>
            <Field name="confirm_password" label="New password again" input_type="password" autocomplete="new-password" error/>
            <SubmitButton label="Change password" pending=action.pending()/>
        </Form>
        <p class="body">"You will stay signed in here and be signed out everywhere else."</p>
    }
}

#[component]
pub fn ResignPage() -> impl IntoView {
    let member = member_param();
    let q = use_query_map();
    let data = Resource::new(move || member.get(), |m| my_details(Some(m)));
    // The question posts back here (GET): a choice goes on to the confirmation, none is an error here.
    let asked = move || q.read().get("asked").is_some();
    let when = move || q.read().get("when").unwrap_or_default();
    let error = Signal::derive(move || {
        let w = when();
        (asked() && w != "now" && w != "period_end")
            .then(|| AppError::field("when", "Choose when your resignation should take effect"))
    });
    view! {
        <PageTitle text="Resign your membership"/>
        <p class="back-link"><a href=move || portal_link("/portal", &member.get())>"Back"</a></p>
        <ErrorSummary error/>
        <PageShell data=data on_error=member_error_view ready={move |r: DetailsView| match r {
                d if !d.can_resign => view! {
                    <h1 class="heading-l">"Resign your membership"</h1>
                    <p class="body">{format!("You cannot resign at the moment: your membership status is “{}”.", d.status)}</p>
                }.into_any(),
                _ if matches!(when().as_str(), "now" | "period_end") => {
                    let m = member.get_untracked();
                    let path = if m.is_empty() {
                        format!("/portal/resign/confirm?when={}", when())
                    } else {
                        format!("/portal/resign/confirm?member={}&when={}", crate::format::urlencode(&m), when())
                    };
                    view! { <leptos_router::components::Redirect path/> }.into_any()
                }
                d => {
                    let mut options = Vec::new();
                    if let Some(end) = d.period_end.clone() {
                        options.push(("period_end".to_owned(), format!("At the end of my current period ({end})")));
                    }
                    options.push(("now".to_owned(), "Now".to_owned()));
                    view! {
                        <h1 class="heading-l">"Resign your membership"</h1>
                        <p class="body">"If you resign, you will come off the public register and stop receiving member benefits. You can rejoin later by applying again."</p>
                        <form method="get" action="/portal/resign" novalidate>
                            <input type="hidden" name="member" value=member.get_untracked()/>
                            <input type="hidden" name="asked" value="1"/>
                            <Radios name="when" legend="When should your resignation take effect?" error options/>
                            <button type="submit" class="button">"Continue"</button>
                        </form>
                    }.into_any()
                }
            }}/>
    }
}

#[component]
pub fn ResignConfirmPage() -> impl IntoView {
    let member = member_param();
    let q = use_query_map();
    let when = move || q.read().get("when").unwrap_or_default();
    let data = Resource::new(move || member.get(), |m| my_details(Some(m)));
    let action = ServerAction::<Resign>::new();
    let error = last_error(action);
    view! {
        <PageTitle text="Confirm your resignation"/>
        <p class="back-link"><a href=move || portal_link("/portal/resign", &member.get())>"Back"</a></p>
        <ErrorSummary error/>
        <PageShell data=data on_error=member_error_view ready={move |d: DetailsView| {
                let w = when();
                if w != "now" && w != "period_end" {
                    let back = format!("{}#when", portal_link("/portal/resign", &member.get_untracked()));
                    return view! {
                        <div class="error-summary" role="alert" tabindex="-1">
                            <h2 class="error-summary__title">"There is a problem"</h2>
                            <ul class="error-summary__list"><li><a href=back>"Choose when your resignation should take effect"</a></li></ul>
                        </div>
                        <h1 class="heading-l">"Confirm your resignation"</h1>
                    }.into_any();
                }
                let effect = if w == "now" {
                    "Your membership will end today.".to_owned()
                } else {
                    format!("You will remain a member until {}.", d.period_end.clone().unwrap_or_default())
                };
                view! {
                    <h1 class="heading-l">"Are you sure you want to resign?"</h1>
                    <dl class="summary-list">
                        <div class="summary-list__row"><dt>"Member"</dt><dd>{d.name.clone()}" ("{d.number.clone()}")"</dd></div>
                        <div class="summary-list__row"><dt>"When"</dt><dd>{effect}</dd></div>
                    </dl>
                    <p class="body">"We will email you to confirm."</p>
                    <Form action>
                        <input type="hidden" name="member" value=member.get_untracked()/>
                        <input type="hidden" name="when" value=w/>
                        <button type="submit" class="button button--warning">"Resign my membership"</button>
                    </Form>
                }.into_any()
            }}/>
    }
}
