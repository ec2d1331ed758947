//! The second step of signing in (a code from an authenticator app, or a recovery code), setting up an
//! authenticator (required for staff at their first sign-in, optional for members from their account),
//! and the staff "your account" page (change your own password).
//!
//! A person who has given the right password but not yet the second factor is only *pending*
//! (`crate::signin` keeps that state and finishes the sign-in); only the pages here read the pending id.

use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::{member_error_view, PageShell};
use crate::components::{ErrorSummary, Field, PageTitle, SubmitButton};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::signin;

/// What the set-up page shows: the secret as a QR code and as text, and the recovery codes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnrolView {
    pub account: String,
    pub secret: String,
    pub qr_data_uri: String,
    pub recovery_codes: Vec<String>,
}

/// An account's second factor, for its account page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecurityView {
    pub enrolled: bool,
    pub required: bool,
    pub recovery_codes_left: usize,
}

#[server(prefix = "/fn", endpoint = "second-step")]
pub async fn second_step(code: String) -> Result<(), AppError> {
    use crate::ctx;
    let st = ctx::state()?;
    let session = ctx::session()?;
    let p = signin::pending(&session).await?;
    match guildhall::service::mfa::verify(&st.db, signin::key(), p.uid, &code).await {
        Ok(_) => signin::finish_sign_in(&st, p.uid, p.next).await,
        Err(AppError::RateLimited) => {
            tracing::warn!(user = %p.uid, "second step refused: paused after wrong codes");
            ctx::set_status(AppError::RateLimited.status());
            Err(AppError::RateLimited)
        }
        Err(e) => Err(e),
    }
}

/// The authenticator being set up (made on first visit, kept in the session until confirmed).
#[server(prefix = "/fn", endpoint = "enrolment")]
pub async fn enrolment() -> Result<EnrolView, AppError> {
    use crate::ctx;
    use guildhall::service::{identity, mfa};
    let st = ctx::state()?;
    let (uid, _) = signin::subject().await?;
    let u = identity::get_user(&st.db, uid)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if mfa::is_enrolled(&st.db, uid).await? {
        return Err(AppError::Conflict(
            "Your account already has an authenticator app set up.".into(),
        ));
    }
    let session = ctx::session()?;
    let kept = session
        .get::<signin::Enrolling>(signin::SESSION_ENROL)
        .await
        .ok()
        .flatten()
        .filter(|e| e.uid == uid);
    let e = match kept {
        Some(k) => mfa::enrolment_view(&k.secret, &u.email, k.codes)?,
        None => {
            let e = mfa::new_enrolment(&u.email)?;
            session
                .insert(
                    signin::SESSION_ENROL,
                    signin::Enrolling {
                        uid,
                        secret: e.secret_base32.clone(),
                        codes: e.recovery_codes.clone(),
                    },
                )
                .await
                .map_err(AppError::internal)?;
            e
        }
    };
    Ok(EnrolView {
        account: u.email,
        qr_data_uri: e.qr_data_uri(),
        secret: e.secret_base32,
        recovery_codes: e.recovery_codes,
    })
}

#[server(prefix = "/fn", endpoint = "confirm-enrolment")]
pub async fn confirm_enrolment(code: String) -> Result<(), AppError> {
    use crate::ctx;
    use guildhall::service::{identity, mfa};
    let st = ctx::state()?;
    let (uid, pending) = signin::subject().await?;
    let session = ctx::session()?;
    let kept = session
        .get::<signin::Enrolling>(signin::SESSION_ENROL)
        .await
        .ok()
        .flatten()
        .filter(|e| e.uid == uid)
        .ok_or_else(|| {
            AppError::Conflict(
                "This set-up page has expired. Open it again to get a new QR code.".into(),
            )
        })?;
    let u = identity::get_user(&st.db, uid)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let e = mfa::enrolment_view(&kept.secret, &u.email, kept.codes)?;
    let actor = if pending {
        identity::load_actor(&st.db, u.id)
            .await?
            .ok_or(AppError::Unauthenticated)?
    } else {
        ctx::actor()
    };
    mfa::enrol(&st.db, signin::key(), &actor, uid, &e, &code).await?;
    let _ = session
        .remove::<signin::Enrolling>(signin::SESSION_ENROL)
        .await;
    if pending {
        let p = signin::pending(&session).await?;
        return signin::finish_sign_in(&st, p.uid, p.next).await;
    }
    leptos_axum::redirect(if ctx::actor().is_staff() {
        "/staff/account?saved=mfa"
    } else {
        "/portal/two-factor?saved=on"
    });
    Ok(())
}

#[server(prefix = "/fn", endpoint = "my-security")]
pub async fn my_security() -> Result<SecurityView, AppError> {
    use guildhall::service::{identity, mfa};
    let actor = crate::ctx::actor();
    let uid = actor.user()?;
    let st = crate::ctx::state()?;
    let u = identity::get_user(&st.db, uid)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    Ok(SecurityView {
        enrolled: mfa::is_enrolled(&st.db, uid).await?,
        required: mfa::required_for(&u),
        recovery_codes_left: mfa::recovery_codes_left(&st.db, uid).await?,
    })
}

#[server(prefix = "/fn", endpoint = "turn-off-two-factor")]
pub async fn turn_off_two_factor(password: String) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::OwnRecords)?;
    let st = crate::ctx::state()?;
    let uid = actor.user()?;
    guildhall::service::mfa::turn_off(&st.db, &actor, uid, Some(password)).await?;
    leptos_axum::redirect("/portal/two-factor?saved=off");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "staff-change-password")]
pub async fn staff_change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    let actor = crate::ctx::require(guildhall::domain::Permission::StaffArea)?;
    let st = crate::ctx::state()?;
    if new_password != confirm_password {
        return Err(AppError::field(
            "confirm_password",
            "The passwords do not match. Enter the same new password twice",
        ));
    }
    guildhall::service::identity::change_password(
        &st.db,
        &actor,
        current_password,
        new_password,
        &st.base_url,
    )
    .await?;
    // Every stored session of the account was ended; this one continues under a new id.
    crate::ctx::session()?
        .cycle_id()
        .await
        .map_err(AppError::internal)?;
    st.outbox_wake.notify_one();
    leptos_axum::redirect("/staff/account?saved=password");
    Ok(())
}

/// `/sign-in/code`: the second step.
#[component]
pub fn SecondStepPage() -> impl IntoView {
    let action = ServerAction::<SecondStep>::new();
    let error = last_error(action);
    view! {
        <PageTitle text="Enter your security code"/>
        <ErrorSummary error/>
        <h1 class="heading-l">"Enter your security code"</h1>
        <p class="body">"Open the authenticator app on your phone and enter the 6-digit code it shows for Guildhall."</p>
        <Form action>
            <Field name="code" label="Security code" autocomplete="one-time-code" inputmode="numeric"
                hint="If you cannot use your phone, enter one of your recovery codes instead" error class="input input--w10"/>
            <SubmitButton label="Continue" pending=action.pending()/>
        </Form>
        <p class="body"><a href="/sign-in">"Start signing in again"</a></p>
    }
}

/// Set-up that cannot go on (no pending sign-in, or already set up): the reason and the way back.
fn enrol_error(e: AppError) -> AnyView {
    view! {
        <div class="error-summary" role="alert"><p class="body">{e.to_string()}</p></div>
        <p class="body"><a href="/sign-in">"Sign in"</a></p>
    }
    .into_any()
}

/// The QR code, the secret as text, the recovery codes and the confirmation form.
#[component]
fn EnrolForm() -> impl IntoView {
    let data = Resource::new(|| (), |_| enrolment());
    let action = ServerAction::<ConfirmEnrolment>::new();
    let error = last_error(action);
    view! {
        <PageShell data=data on_error=enrol_error ready={move |e: EnrolView| view! {
                <ErrorSummary error/>
                <h2 class="heading-m">"1. Add Guildhall to your authenticator app"</h2>
                <p class="body">"Use an authenticator app on your phone (for example Google Authenticator, Microsoft Authenticator or FreeOTP). Scan this QR code with it."</p>
                <p><img class="qr-code" src=e.qr_data_uri alt="QR code to add Guildhall to your authenticator app" width="200" height="200"/></p>
                <p class="body">"If you cannot scan it, enter this key in the app instead:"</p>
                <p class="body"><code class="secret-key" data-testid="totp-secret">{e.secret.clone()}</code></p>
                <h2 class="heading-m">"2. Keep your recovery codes"</h2>
                <p class="body">"Each of these codes signs you in once if you lose your phone. Write them down or print them and keep them somewhere safe. They will not be shown again."</p>
                <ul class="recovery-codes" data-testid="recovery-codes">
                    {e.recovery_codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                </ul>
                <h2 class="heading-m">"3. Enter the code from the app"</h2>
                <Form action>
                    <Field name="code" label="Security code" autocomplete="one-time-code" inputmode="numeric"
                        hint="The 6-digit code your authenticator app shows for Guildhall" error class="input input--w10"/>
                    <SubmitButton label="Turn on and continue" pending=action.pending()/>
                </Form>
            }.into_any()}/>
    }
}

/// `/sign-in/set-up`: a staff account without an authenticator sets one up before going on.
#[component]
pub fn EnrolPage() -> impl IntoView {
    view! {
        <PageTitle text="Set up your authenticator app"/>
        <h1 class="heading-l">"Set up your authenticator app"</h1>
        <p class="body">"Staff accounts need a second step to sign in: a code from an app on your phone, as well as your password."</p>
        <EnrolForm/>
    }
}

fn saved_banner(s: Option<String>) -> Option<AnyView> {
    let text = match s.as_deref()? {
        "password" => "Your password has been changed. You have been signed out everywhere else.",
        "mfa" | "on" => {
            "Your authenticator app is set up. You will be asked for a code each time you sign in."
        }
        "off" => "Your authenticator app has been turned off.",
        _ => return None,
    };
    Some(view! { <div class="banner banner--success" role="status"><p>{text}</p></div> }.into_any())
}

/// `/staff/account`: change your own password; the state of your authenticator.
#[component]
pub fn StaffAccountPage() -> impl IntoView {
    let action = ServerAction::<StaffChangePassword>::new();
    let error = last_error(action);
    let q = use_query_map();
    let security = Resource::new(|| (), |_| my_security());
    view! {
        <PageTitle text="Your account"/>
        {move || saved_banner(q.read().get("saved"))}
        <h1 class="heading-l">"Your account"</h1>
        <h2 class="heading-m">"Authenticator app"</h2>
        <Suspense fallback=|| ()>
            {move || security.get().map(|r| r.map(|s| view! {
                <p class="body">{if s.enrolled { "Your authenticator app is set up." } else { "No authenticator app is set up." }}</p>
                <p class="body">{format!("Recovery codes left: {}. If you lose your phone, ask an admin to reset your authenticator app.", s.recovery_codes_left)}</p>
            }).ok())}
        </Suspense>
        <h2 class="heading-m">"Change your password"</h2>
        <ErrorSummary error/>
        <Form action attr:class="form-narrow">
            <Field name="current_password" label="Current password" input_type="password" autocomplete="current-password" error/>
            <Field name="new_password" label="New password" hint="At least 10 characters. A few unrelated words make a strong password" input_type="password" autocomplete="new-password" error/>
            <Field name="confirm_password" label="New password again" input_type="password" autocomplete="new-password" error/>
            <SubmitButton label="Change password" pending=action.pending()/>
        </Form>
        <p class="body">"You will stay signed in here and be signed out everywhere else."</p>
    }
}

/// `/portal/two-factor`: members turn an authenticator app on or off.
#[component]
pub fn MemberTwoFactorPage() -> impl IntoView {
    let q = use_query_map();
    let security = Resource::new(|| (), |_| my_security());
    let action = ServerAction::<TurnOffTwoFactor>::new();
    let error = last_error(action);
    view! {
        <PageTitle text="Two-step sign-in"/>
        <p class="back-link"><a href="/portal">"Back"</a></p>
        {move || saved_banner(q.read().get("saved"))}
        <h1 class="heading-l">"Two-step sign-in"</h1>
        <PageShell data=security on_error=member_error_view ready={move |r: SecurityView| match r {
                s if s.enrolled => view! {
                    <p class="body">"Two-step sign-in is on: you enter a code from your authenticator app after your password."</p>
                    <p class="body">{format!("Recovery codes left: {}.", s.recovery_codes_left)}</p>
                    <h2 class="heading-m">"Turn it off"</h2>
                    <ErrorSummary error/>
                    <Form action>
                        <Field name="password" label="Your password" input_type="password" autocomplete="current-password" error/>
                        <SubmitButton label="Turn off two-step sign-in" pending=action.pending()/>
                    </Form>
                }.into_any(),
                _ => view! {
                    <p class="body">"Add a second step to signing in: a code from an app on your phone, as well as your password."</p>
                    <EnrolForm/>
                }.into_any(),
            }}/>
    }
}
