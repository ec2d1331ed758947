//! Public pages: home, signing in, creating an account, confirming an address, resetting a password.

pub mod office;
pub mod privacy;
pub mod register;

use crate::auth::{CreateAccount, ForgotPassword, ResetPassword, SignIn, VerifyEmail};
use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::{ErrorSummary, Field, PageTitle, SubmitButton};
use leptos::prelude::*;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_query_map;

#[component]
pub fn PublicLayout() -> impl IntoView {
    view! {
        <main class="main" id="main" tabindex="-1">
            <div class="container"><div class="measure">
                <Outlet/>
            </div></div>
        </main>
    }
}

/// A query parameter of the current URL.
fn query(name: &'static str) -> Memo<Option<String>> {
    let q = use_query_map();
    Memo::new(move |_| q.read().get(name))
}

#[component]
pub fn Home() -> impl IntoView {
    let signed_out = query("signed_out");
    view! {
        <PageTitle text="Membership"/>
        {move || signed_out.get().map(|_| view! {
            <div class="banner banner--success" role="status"><p>"You have signed out."</p></div>
        })}
        <h1 class="heading-xl">"Your membership, in one place"</h1>
        <p class="lead">"Create an account to join, renew and pay, keep your details up to date, and see your membership history."</p>
        <div class="actions">
            <a class="button" href="/create-account">"Create an account"</a>
            <a class="button button--secondary" href="/sign-in">"Sign in"</a>
        </div>
        <h2 class="heading-m">"The public register"</h2>
        <p class="body"><a href="/register">"Check whether someone is a registered member"</a></p>
        <h2 class="heading-m">"Staff"</h2>
        <p class="body">"Membership office staff sign in with their work email address."</p>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = last_error(action);
    let verified = query("verified");
    let reset = query("reset");
    let next = query("next");
    view! {
        <PageTitle text="Sign in"/>
        {move || verified.get().map(|_| view! {
            <div class="banner banner--success" role="status"><p>"Your email address is confirmed. You can now sign in."</p></div>
        })}
        {move || reset.get().map(|_| view! {
            <div class="banner banner--success" role="status"><p>"Your password has been changed. Sign in with your new password."</p></div>
        })}
        <ErrorSummary error/>
        <h1 class="heading-l">"Sign in"</h1>
        <Form action>
            <input type="hidden" name="next" value=move || next.get().unwrap_or_default()/>
            <Field name="email" label="Email address" input_type="email" autocomplete="email" error/>
            <Field name="password" label="Password" input_type="password" autocomplete="current-password" error/>
            <SubmitButton label="Sign in" pending=action.pending()/>
        </Form>
        <p class="body"><a href="/forgot-password">"I have forgotten my password"</a></p>
        <p class="body">"New here? " <a href="/create-account">"Create an account"</a></p>
    }
}

#[component]
pub fn CreateAccountPage() -> impl IntoView {
    let action = ServerAction::<CreateAccount>::new();
    let error = last_error(action);
    view! {
        <PageTitle text="Create an account"/>
        <ErrorSummary error/>
        <h1 class="heading-l">"Create an account"</h1>
        <p class="body">"You need an account to apply for membership, renew and pay."</p>
        <Form action>
            <Field name="given_name" label="First name" autocomplete="given-name" error class="input input--w20"/>
            <Field name="family_name" label="Last name" autocomplete="family-name" error class="input input--w20"/>
            <Field name="email" label="Email address" input_type="email" autocomplete="email"
                hint="We will send you a link to confirm this address" error/>
            <Field name="password" label="Create a password" input_type="password" autocomplete="new-password"
                hint="At least 10 characters. A few unrelated words make a strong password" error class="input input--w20"/>
            <SubmitButton label="Create account" pending=action.pending()/>
        </Form>
        <p class="body">"Already have an account? " <a href="/sign-in">"Sign in"</a></p>
    }
}

#[component]
pub fn CheckEmailPage() -> impl IntoView {
    view! {
        <PageTitle text="Check your email"/>
        <div class="panel panel--confirmation">
            <h1 class="heading-l">"Check your email"</h1>
        </div>
        <p class="body">"We have sent you an email with a link to confirm your address. The link works for 24 hours."</p>
        <p class="body">"If it has not arrived in a few minutes, check your spam folder. If you already had an account with this address, we have emailed you about signing in instead."</p>
        <p class="body"><a href="/sign-in">"Go to sign in"</a></p>
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let action = ServerAction::<VerifyEmail>::new();
    let error = last_error(action);
    let token = query("token");
    view! {
        <PageTitle text="Confirm your email address"/>
        <ErrorSummary error/>
        <h1 class="heading-l">"Confirm your email address"</h1>
        <p class="body">"Select the button to confirm this is your email address and finish creating your account."</p>
        <Form action>
            <input type="hidden" name="token" value=move || token.get().unwrap_or_default()/>
            <SubmitButton label="Confirm my email address" pending=action.pending()/>
        </Form>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let error = last_error(action);
    view! {
        <PageTitle text="Reset your password"/>
        <ErrorSummary error/>
        <h1 class="heading-l">"Reset your password"</h1>
        <p class="body">"Enter the email address you use to sign in. If it has an account, we will send you a link to choose a new password."</p>
        <Form action>
            <Field name="email" label="Email address" input_type="email" autocomplete="email" error/>
            <SubmitButton label="Send reset link" pending=action.pending()/>
        </Form>
    }
}

#[component]
pub fn ResetSentPage() -> impl IntoView {
    view! {
        <PageTitle text="Check your email"/>
        <h1 class="heading-l">"Check your email"</h1>
        <p class="body">"If the address has an account, we have sent a link to reset your password. The link works once, for 60 minutes."</p>
        <p class="body"><a href="/sign-in">"Go to sign in"</a></p>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let error = last_error(action);
    let token = query("token");
    let usable = Resource::new(
        move || token.get(),
        |t| crate::auth::reset_link_usable(t.unwrap_or_default()),
    );
    view! {
        <PageTitle text="Choose a new password"/>
        <Suspense fallback=|| view! { <p class="body">"Checking your link…"</p> }>
            {move || usable.get().map(|r| match r {
                Ok(true) => view! {
                    <ErrorSummary error/>
                    <h1 class="heading-l">"Choose a new password"</h1>
                    <Form action>
                        <input type="hidden" name="token" value=move || token.get().unwrap_or_default()/>
                        <Field name="password" label="New password" input_type="password" autocomplete="new-password"
                            hint="At least 10 characters" error class="input input--w20"/>
                        <Field name="confirm_password" label="Confirm new password" input_type="password"
                            autocomplete="new-password" error class="input input--w20"/>
                        <SubmitButton label="Change password" pending=action.pending()/>
                    </Form>
                }.into_any(),
                Ok(false) => view! {
                    <h1 class="heading-l">"This link has expired"</h1>
                    <p class="body">"Password reset links work once, for 60 minutes."</p>
                    <p class="body"><a href="/forgot-password">"Ask for a new link"</a></p>
                }.into_any(),
                Err(e) => view! {
                    <h1 class="heading-l">"Sorry, there is a problem"</h1>
                    <p class="body">{e.to_string()}</p>
                }.into_any(),
            })}
        </Suspense>
    }
}
