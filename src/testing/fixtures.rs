//! Fixtures the service and HTTP tests share: who acts, the members they act on, what tests read back,
//! paying, and moving the clock. One copy here instead of one per test file; a test keeps only the
//! setup that is its own.

use crate::domain::membership::Status;
use crate::domain::{Actor, ActorKind, Role};
use crate::entity::{category, document, member, outbox_message, period, user};
use crate::service::identity::Registration;
use crate::service::members::enrol::{self, NewMemberInput};
use crate::service::members::record::DetailsInput;
use crate::service::money::providers::{Providers, Sandbox};
use crate::service::payments::card;
use crate::service::payments::manual::ManualPaymentInput;
use crate::service::{ledger, seed, travel_to};
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

/// The address the service tests give for links in messages.
pub const BASE: &str = "http://127.0.0.1:3000";

/// The password of the members [`portal_member`] makes.
pub const MEMBER_PASSWORD: &str = "a long enough password";

/// A date; the tests' dates are all real ones.
pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

// Who acts.

/// A member of staff in `role` with no account behind them (`admin@guildhall.test`, …): for services
/// that check the role only.
pub fn staff(role: Role) -> Actor {
    Actor {
        kind: ActorKind::Staff,
        user_id: None,
        label: format!("{}@guildhall.test", role.as_str()),
        roles: vec![role],
        request_id: None,
    }
}

/// A different person in `role` at each call (their own user id and label): for four-eyes rules that
/// tell one member of staff from another.
pub fn staff_person(role: Role) -> Actor {
    Actor {
        user_id: Some(Uuid::now_v7()),
        label: format!(
            "{}-{}@guildhall.test",
            role.as_str(),
            Uuid::now_v7().simple()
        ),
        ..staff(role)
    }
}

/// The id of the account with the e-mail address `email`.
pub async fn user_id(db: &DatabaseConnection, email: &str) -> Uuid {
    user::Entity::find()
        .filter(user::Column::EmailKey.eq(email))
        .one(db)
        .await
        .expect("query users")
        .expect("an account")
        .id
}

/// The staff account `email` (seeded) acting in `role`.
pub async fn staff_actor(db: &DatabaseConnection, email: &str, role: Role) -> Actor {
    Actor {
        user_id: Some(user_id(db, email).await),
        label: email.to_owned(),
        ..staff(role)
    }
}

/// The account `email` as it acts when signed in (its own roles), as the server loads it.
pub async fn account_actor(db: &DatabaseConnection, email: &str) -> Actor {
    crate::service::identity::load_actor(db, user_id(db, email).await)
        .await
        .expect("load")
        .expect("actor")
}

/// What a person types on the create-account page.
pub fn registration(given: &str, family: &str, email: &str, password: &str) -> Registration {
    Registration {
        given_name: given.into(),
        family_name: family.into(),
        email: email.into(),
        password: password.into(),
    }
}

/// A person creates an account on the create-account page (unconfirmed until they follow the link).
pub async fn register(db: &DatabaseConnection, r: Registration) {
    crate::service::identity::register(db, &Actor::anonymous(), r, BASE)
        .await
        .expect("register");
}

// Members.

/// The standard categories, as the seed makes them.
pub async fn seed_categories(db: &DatabaseConnection) {
    seed::categories(db, &Actor::system("test"))
        .await
        .expect("categories");
}

/// A category by its code.
pub async fn category(db: &DatabaseConnection, code: &str) -> category::Model {
    category::Entity::find()
        .filter(category::Column::Code.eq(code))
        .one(db)
        .await
        .expect("q")
        .expect("category")
}

/// Contact details at `line1`, Leeds LS1 1AA, with the rest left empty.
pub fn details(given: &str, family: &str, email: &str, line1: &str) -> DetailsInput {
    DetailsInput {
        given_name: given.into(),
        family_name: family.into(),
        email: Some(email.into()),
        address_line1: line1.into(),
        town: "Leeds".into(),
        postcode: "LS1 1AA".into(),
        country: "GB".into(),
        ..Default::default()
    }
}

/// Enrols an individual in the category `code` from `starts_on`, as staff `by` would on the office's
/// form, with `payment` the way the first invoice is paid.
pub async fn enrol(
    db: &DatabaseConnection,
    by: &Actor,
    code: &str,
    starts_on: NaiveDate,
    payment: &str,
    details: DetailsInput,
) -> member::Model {
    enrol::create_member(
        db,
        by,
        &NewMemberInput {
            kind: "individual".into(),
            category_id: category(db, code).await.id.to_string(),
            starts_on: starts_on.to_string(),
            payment: payment.into(),
            details,
        },
    )
    .await
    .expect("member")
}

/// Mona Ledger (`email`), a regular member from today, enrolled by an officer with her first invoice
/// `payment`.
pub async fn new_member(db: &DatabaseConnection, email: &str, payment: &str) -> member::Model {
    let details = details("Mona", "Ledger", email, "1 Count Street");
    let today = crate::service::today();
    enrol(
        db,
        &staff_person(Role::Officer),
        "REG",
        today,
        payment,
        details,
    )
    .await
}

/// A regular member with a portal account (`<family>@example.org`), joined today as the clock says,
/// and their portal actor.
pub async fn portal_member(
    db: &DatabaseConnection,
    given: &'static str,
    family: &'static str,
) -> (member::Model, Actor) {
    let email = format!("{}@example.org", family.to_lowercase());
    let (u, m) = seed::member_account_joined(
        db,
        given,
        family,
        &email,
        MEMBER_PASSWORD,
        "LS1 1AA",
        "REG",
        seed::Shape::Active,
        crate::service::today(),
    )
    .await
    .expect("member");
    (m, Actor::member(u.id, &email))
}

/// The member whose account is `email` (the demo member, say), with their portal actor.
pub async fn account_member(db: &DatabaseConnection, email: &str) -> (Actor, member::Model) {
    let u = user::Entity::find()
        .filter(user::Column::EmailKey.eq(email))
        .one(db)
        .await
        .expect("q")
        .expect("member account");
    let m = member::Entity::find()
        .filter(member::Column::UserId.eq(u.id))
        .one(db)
        .await
        .expect("q")
        .expect("member");
    (Actor::member(u.id, &u.email), m)
}

// What tests read back.

/// How many messages of `template` went to member `m`.
pub async fn sent(db: &DatabaseConnection, m: &member::Model, template: &str) -> u64 {
    outbox_message::Entity::find()
        .filter(outbox_message::Column::MemberId.eq(m.id))
        .filter(outbox_message::Column::Template.eq(template))
        .count(db)
        .await
        .expect("n")
}

/// Member `m`'s status on `on`, from their history (30 days' grace).
pub async fn status(db: &DatabaseConnection, m: &member::Model, on: NaiveDate) -> Status {
    let h = crate::service::history::history(db, m.id)
        .await
        .expect("history");
    h.status(30, on).status
}

/// Member `m`'s periods of membership.
pub async fn periods_of(db: &DatabaseConnection, m: Uuid) -> Vec<period::Model> {
    period::Entity::find()
        .filter(period::Column::MemberId.eq(m))
        .all(db)
        .await
        .expect("periods")
}

/// What member `m` owes, in pence.
pub async fn balance(db: &DatabaseConnection, m: Uuid) -> i64 {
    ledger::member_balance(db, m)
        .await
        .expect("balance")
        .pence()
}

/// The invoice numbered `number`.
pub async fn invoice(db: &DatabaseConnection, number: &str) -> document::Model {
    document::Entity::find()
        .filter(document::Column::Number.eq(number))
        .one(db)
        .await
        .expect("q")
        .expect("invoice")
}

/// Member `m`'s invoices.
pub async fn invoices(db: &DatabaseConnection, m: Uuid) -> Vec<document::Model> {
    document::Entity::find()
        .filter(document::Column::MemberId.eq(m))
        .filter(document::Column::Kind.eq(document::DocumentKind::Invoice))
        .all(db)
        .await
        .expect("invoices")
}

/// Member `m`'s (first) invoice.
pub async fn invoice_of(db: &DatabaseConnection, m: Uuid) -> document::Model {
    invoices(db, m)
        .await
        .into_iter()
        .next()
        .expect("an invoice")
}

/// Pence as the office's forms take them: `12.50`.
pub fn money_text(pence: i64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

// Paying.

/// A cheque for `amount` set against `invoice`, received today, with a reference and form key of its
/// own.
pub fn cheque(amount: &str, invoice: &str) -> ManualPaymentInput {
    ManualPaymentInput {
        method: "cheque".into(),
        reference: format!("CHQ-{}", &Uuid::now_v7().simple().to_string()[24..]),
        amount: amount.into(),
        received_on: crate::service::today().to_string(),
        invoice: invoice.into(),
        form_key: Uuid::now_v7().to_string(),
    }
}

/// An officer records a cheque for all that is outstanding on `invoice`, received today.
pub async fn pay_by_cheque(db: &DatabaseConnection, m: &member::Model, invoice: &document::Model) {
    crate::service::payments::manual::record_manual_payment(
        db,
        &staff_person(Role::Officer),
        m.id,
        &ManualPaymentInput {
            method: "cheque".into(),
            reference: format!("CHQ-{}", invoice.number),
            amount: money_text(invoice.outstanding_pence),
            received_on: crate::service::today().to_string(),
            invoice: invoice.number.clone(),
            form_key: Uuid::now_v7().to_string(),
        },
        BASE,
    )
    .await
    .expect("payment");
}

/// The checkout id at the end of a card payment page's address.
pub fn checkout_id(url: &str) -> Uuid {
    let id = url.rsplit('/').next().expect("id");
    Uuid::parse_str(id).expect("uuid")
}

/// The member starts paying invoice `number` by card: the checkout's id.
pub async fn card_checkout(
    db: &DatabaseConnection,
    providers: &Providers,
    me: &Actor,
    m: &member::Model,
    number: &str,
) -> Uuid {
    let url = card::start(db, me, providers, m.number(), number, false)
        .await
        .expect("start");
    checkout_id(&url)
}

/// The member pays invoice `number` on the sandbox's page with `card_number`.
pub async fn pay_by_card(
    db: &DatabaseConnection,
    providers: &Providers,
    me: &Actor,
    m: &member::Model,
    number: &str,
    card_number: &str,
) {
    let id = card_checkout(db, providers, me, m, number).await;
    card::sandbox_pay(db, me, providers, id, card_number)
        .await
        .expect("paid");
}

// Moving the clock.

/// Moves the clock to `day` and seeds the standard categories: where the day-by-day tests begin.
pub async fn start_on(db: &DatabaseConnection, day: NaiveDate) {
    travel_to(day);
    seed_categories(db).await;
}

/// Moves the clock to `day` and runs the daily job as of that day, charging saved cards through
/// `sandbox` when given.
pub async fn daily(
    db: &DatabaseConnection,
    day: NaiveDate,
    sandbox: Option<&Sandbox>,
) -> crate::service::renewals::daily::DailyReport {
    travel_to(day);
    let provider = sandbox.map(|s| s as &dyn crate::service::money::providers::PaymentProvider);
    crate::service::renewals::daily::daily(
        db,
        &Actor::system("daily job"),
        day,
        provider,
        |_, _, _| {},
    )
    .await
    .expect("daily")
}
