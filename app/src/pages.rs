//! Pages the browser downloads only when it shows them.
//!
//! Built with `cargo leptos build --split`, each route below becomes its own WebAssembly file (with
//! the code only it uses), loaded before the page hydrates or when a link leads to it. The main
//! file keeps what every page needs (the shell: header, footer, router, forms) and the member
//! portal's layout and home page, so a member on a phone downloads little more than the page they
//! open, and never the staff area. Without `--split` (the unit tests) they are ordinary routes.
//!
//! The pages fetch their own data when they render, so a lazy route has no data of its own
//! (`data()` is empty); a page's file is a few kilobytes, cached after its first visit.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// For each `Route: Page`, a `LazyRoute` that renders the component `Page` (imported below).
macro_rules! lazy_pages {
    ($($route:ident: $page:ident,)*) => {$(
        #[doc = concat!("The route of `", stringify!($page), "`, in its own file.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    )*};
}

use crate::mfa::{EnrolPage, MemberTwoFactorPage, SecondStepPage, StaffAccountPage};
use crate::portal::{
    account::{
        ChangeEmailPage, ChangePasswordPage, ConfirmEmailPage, DetailsPage, EmailChangedPage,
        EmailSentPage, PreferencesPage, ResignConfirmPage, ResignPage,
    },
    payments::{PaymentDonePage, PortalPaymentsPage, SandboxCheckoutPage},
    renew::RenewPage,
};
use crate::public::{
    privacy::PrivacyPage, register::RegisterPage, CheckEmailPage, CreateAccountPage,
    ForgotPasswordPage, Home, PublicLayout, ResetPasswordPage, ResetSentPage, SignInPage,
    VerifyEmailPage,
};
use crate::staff::{
    accounts::StaffAccounts,
    audit::AuditTrail,
    categories::{CategoriesPage, CategoryPage},
    dashboard::MemberListPage,
    exports::ExportsPage,
    jobs::JobsPage,
    members::{
        EditMemberPage, EraseMemberPage, MemberRecordPage, MembersPage, NewMemberPage,
        RemoveMemberPage,
    },
    outbox::{OutboxList, OutboxMessage},
    payments::{
        AgedDebtPage, MemberMoneyPage, ReconciliationPage, RequestsPage, TransactionsReportPage,
    },
    reports::{TradeReportPage, TrendsPage},
    settings::OfficeSettingsPage,
    StaffHome, StaffLayout,
};

// The member portal beyond its home page.
lazy_pages! {
    DetailsRoute: DetailsPage,
    PreferencesRoute: PreferencesPage,
    ChangeEmailRoute: ChangeEmailPage,
    EmailSentRoute: EmailSentPage,
    ChangePasswordRoute: ChangePasswordPage,
    MemberTwoFactorRoute: MemberTwoFactorPage,
    ResignRoute: ResignPage,
    ResignConfirmRoute: ResignConfirmPage,
    PortalPaymentsRoute: PortalPaymentsPage,
    PaymentDoneRoute: PaymentDonePage,
    RenewRoute: RenewPage,
}

// The public pages: a member's portal needs none of them.
lazy_pages! {
    PublicLayoutRoute: PublicLayout,
    HomeRoute: Home,
    SignInRoute: SignInPage,
    CreateAccountRoute: CreateAccountPage,
    SecondStepRoute: SecondStepPage,
    EnrolRoute: EnrolPage,
    CheckEmailRoute: CheckEmailPage,
    VerifyEmailRoute: VerifyEmailPage,
    ForgotPasswordRoute: ForgotPasswordPage,
    ResetSentRoute: ResetSentPage,
    ResetPasswordRoute: ResetPasswordPage,
    RegisterRoute: RegisterPage,
    PrivacyRoute: PrivacyPage,
    SandboxCheckoutRoute: SandboxCheckoutPage,
    ConfirmEmailRoute: ConfirmEmailPage,
    EmailChangedRoute: EmailChangedPage,
}

// The whole staff area, its layout included.
lazy_pages! {
    StaffLayoutRoute: StaffLayout,
    StaffHomeRoute: StaffHome,
    MembersRoute: MembersPage,
    NewMemberRoute: NewMemberPage,
    MemberListRoute: MemberListPage,
    MemberRecordRoute: MemberRecordPage,
    EraseMemberRoute: EraseMemberPage,
    EditMemberRoute: EditMemberPage,
    RemoveMemberRoute: RemoveMemberPage,
    MemberMoneyRoute: MemberMoneyPage,
    RequestsRoute: RequestsPage,
    ReconciliationRoute: ReconciliationPage,
    TransactionsReportRoute: TransactionsReportPage,
    AgedDebtRoute: AgedDebtPage,
    TradeReportRoute: TradeReportPage,
    TrendsRoute: TrendsPage,
    OfficeSettingsRoute: OfficeSettingsPage,
    JobsRoute: JobsPage,
    ExportsRoute: ExportsPage,
    OutboxListRoute: OutboxList,
    OutboxMessageRoute: OutboxMessage,
    AuditTrailRoute: AuditTrail,
    StaffAccountsRoute: StaffAccounts,
    StaffAccountRoute: StaffAccountPage,
    CategoriesRoute: CategoriesPage,
    CategoryRoute: CategoryPage,
}
