//! The Guildhall web application: one router for the public pages, the member portal and the staff area.
//! Pages render completely on the server; the browser hydrates them. Each area's server functions are
//! thin: check the permission, parse, call one `guildhall::service` function, return a DTO.

// Release builds (without `--cfg erase_components`) keep every page's full view type; the staff
// payments pages nest deeper than the compiler's default query depth of 128.
#![recursion_limit = "256"]

#[cfg(feature = "ssr")]
pub mod assets;
pub mod auth;
pub mod components;
#[cfg(feature = "ssr")]
pub mod ctx;
pub mod format;
#[cfg(feature = "ssr")]
pub mod limits;
pub mod mfa;
pub mod money;
pub mod pages;
pub mod portal;
pub mod public;
pub mod record;
#[cfg(feature = "ssr")]
pub mod signin;
pub mod staff;

use crate::components::Form;
use auth::{whoami, Me, SignOut};
use components::NotFound;
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes, A},
    path, Lazy, SsrMode,
};

/// The HTML document around the app (server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        // The server's security-header middleware chose a nonce for this response's CSP.
        if let Some(n) = use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<CspNonce>().cloned())
        {
            provide_context(leptos::nonce::Nonce::from_value(n.0));
        }
    }
    #[cfg(feature = "ssr")]
    let css = assets::css_href(&options);
    #[cfg(not(feature = "ssr"))]
    let css = String::new();
    view! {
        <!DOCTYPE html>
        <html lang="en-GB">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.ico"/>
                <link rel="stylesheet" id="leptos" href=css/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The CSP nonce chosen for one response.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// Who is signed in, fetched once per page load and shared by the layouts.
///
/// Every route renders in `SsrMode::Async`: the server waits for the page's data and sends complete HTML,
/// so pages read and work before the WASM arrives, and without JavaScript at all.
pub type MeResource = Resource<Result<Option<Me>, AppError>>;

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let me: MeResource = Resource::new(|| (), |_| whoami());
    provide_context(me);
    let office: public::office::OfficeResource =
        Resource::new(|| (), |_| public::office::office_contact());
    provide_context(office);
    // A form refused without JavaScript: the server middleware put it on the request; the browser
    // reads the same value from the page, so the fields hydrate with what was typed.
    let flash = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .and_then(|p| p.extensions.get::<components::flash::FormFlash>().cloned())
        }
        #[cfg(not(feature = "ssr"))]
        {
            None::<components::flash::FormFlash>
        }
    });
    components::flash::provide_flash(flash.into_inner());
    #[cfg(feature = "hydrate")]
    Effect::new(|| {
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <components::SkipLink/>
        <Router>
            <components::flash::FlashReset/>
            <Header/>
            <Routes fallback=|| view! { <main class="main" id="main" tabindex="-1"><div class="container"><NotFound/></div></main> }>
                <ParentRoute path=path!("portal") view=portal::PortalLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=portal::PortalHome ssr=SsrMode::Async/>
                    <Route path=path!("details") view={Lazy::<pages::DetailsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("preferences") view={Lazy::<pages::PreferencesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("email") view={Lazy::<pages::ChangeEmailRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("email/sent") view={Lazy::<pages::EmailSentRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("password") view={Lazy::<pages::ChangePasswordRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("two-factor") view={Lazy::<pages::MemberTwoFactorRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("resign") view={Lazy::<pages::ResignRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("resign/confirm") view={Lazy::<pages::ResignConfirmRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("payments") view={Lazy::<pages::PortalPaymentsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("payments/done") view={Lazy::<pages::PaymentDoneRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("renew") view={Lazy::<pages::RenewRoute>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
                <ParentRoute path=path!("staff") view={Lazy::<pages::StaffLayoutRoute>::new()} ssr=SsrMode::Async>
                    <Route path=path!("") view={Lazy::<pages::StaffHomeRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("members") view={Lazy::<pages::MembersRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("members/new") view={Lazy::<pages::NewMemberRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("members/list") view={Lazy::<pages::MemberListRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("members/:number") view={Lazy::<pages::MemberRecordRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("members/:number/erase") view={Lazy::<pages::EraseMemberRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("members/:number/edit") view={Lazy::<pages::EditMemberRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("members/:number/remove") view={Lazy::<pages::RemoveMemberRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("members/:number/money") view={Lazy::<pages::MemberMoneyRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("payments/requests") view={Lazy::<pages::RequestsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("payments/reconciliation") view={Lazy::<pages::ReconciliationRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("reports/transactions") view={Lazy::<pages::TransactionsReportRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("reports/aged-debt") view={Lazy::<pages::AgedDebtRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("reports/trade") view={Lazy::<pages::TradeReportRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("reports/trends") view={Lazy::<pages::TrendsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("admin/settings") view={Lazy::<pages::OfficeSettingsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("jobs") view={Lazy::<pages::JobsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("exports") view={Lazy::<pages::ExportsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("outbox") view={Lazy::<pages::OutboxListRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("outbox/:id") view={Lazy::<pages::OutboxMessageRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("audit") view={Lazy::<pages::AuditTrailRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("admin/staff") view={Lazy::<pages::StaffAccountsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("account") view={Lazy::<pages::StaffAccountRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("admin/categories") view={Lazy::<pages::CategoriesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("admin/categories/:id") view={Lazy::<pages::CategoryRoute>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
                <ParentRoute path=path!("") view={Lazy::<pages::PublicLayoutRoute>::new()} ssr=SsrMode::Async>
                    <Route path=path!("") view={Lazy::<pages::HomeRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("sign-in") view={Lazy::<pages::SignInRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("sign-in/code") view={Lazy::<pages::SecondStepRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("sign-in/set-up") view={Lazy::<pages::EnrolRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("create-account") view={Lazy::<pages::CreateAccountRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("create-account/check-email") view={Lazy::<pages::CheckEmailRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("verify-email") view={Lazy::<pages::VerifyEmailRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("forgot-password") view={Lazy::<pages::ForgotPasswordRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("forgot-password/sent") view={Lazy::<pages::ResetSentRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("reset-password") view={Lazy::<pages::ResetPasswordRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("register") view={Lazy::<pages::RegisterRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("privacy") view={Lazy::<pages::PrivacyRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("sandbox/checkout/:id") view={Lazy::<pages::SandboxCheckoutRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("confirm-email") view={Lazy::<pages::ConfirmEmailRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("confirm-email/done") view={Lazy::<pages::EmailChangedRoute>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
            <public::office::Footer/>
        </Router>
    }
}

/// The site header: the service name and what the visitor can do from here.
#[component]
fn Header() -> impl IntoView {
    let me = expect_context::<MeResource>();
    let sign_out = ServerAction::<SignOut>::new();
    // Signed out: load the next page afresh, so nothing personal stays in this page's memory or
    // its history entries (on a shared phone, Back then asks the server, which asks to sign in).
    #[cfg(feature = "hydrate")]
    Effect::new(move || {
        if matches!(sign_out.value().get(), Some(Ok(()))) {
            if let Some(w) = web_sys::window() {
                let _ = w.location().replace("/?signed_out=1");
            }
        }
    });
    let location = leptos_router::hooks::use_location();
    // The staff area uses the full width for its tables; the header lines up with it there.
    let inner = move || {
        if location.pathname.get().starts_with("/staff") {
            "container container--wide header__inner"
        } else {
            "container header__inner"
        }
    };
    view! {
        <header class="header">
            <div class=inner>
                <A href="/" attr:class="header__logo">"Guildhall"</A>
                <nav class="header__nav" aria-label="Account">
                    <Transition fallback=|| ()>
                        {move || me.get().map(|r| match r.ok().flatten() {
                            Some(me) => {
                                let home = if me.is_staff() { "/staff" } else { "/portal" };
                                let area = if me.is_staff() { "Staff area" } else { "Your membership" };
                                view! {
                                    <a class="header__link" href=home>{area}</a>
                                    <Form action=sign_out attr:class="header__form">
                                        <button type="submit" class="header__button">"Sign out"</button>
                                    </Form>
                                }.into_any()
                            }
                            None => view! {
                                <a class="header__link" href="/sign-in">"Sign in"</a>
                                <a class="header__link" href="/create-account">"Create an account"</a>
                            }.into_any(),
                        })}
                    </Transition>
                </nav>
            </div>
        </header>
    }
}
