//! The HTTP surface, driven through the real router (`server::router`) with `oneshot`, on in-memory
//! SQLite and (when `GUILDHALL_TEST_POSTGRES` is set) on a fresh PostgreSQL database per test.

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use guildhall::testing::{account_actor, databases, user_id, TestDb};
use http_body_util::BodyExt;
use server::{leptos_options, router, AppState, Config};
use std::net::SocketAddr;
use std::time::Duration;
use tower::ServiceExt;

const ORIGIN: &str = "http://127.0.0.1:3000";

fn config(per_ip: u32, per_account: u32) -> Config {
    Config {
        database_url: String::new(),
        addr: "127.0.0.1:3000".parse().expect("addr"),
        base_url: ORIGIN.into(),
        secure_cookies: false,
        production: false,
        trusted_proxies: 0,
        signin_per_ip_per_minute: per_ip,
        signin_per_account: per_account,
        mail_per_ip_per_hour: per_ip,
        mail_per_address_per_hour: per_account,
        register_per_ip_per_minute: per_ip,
        json_logs: false,
        payment_provider: "sandbox".into(),
        stripe_secret_key: None,
        stripe_webhook_secret: Some(STRIPE_SECRET.into()),
        stripe_api_base: "http://127.0.0.1:9".into(),
        sandbox_webhook_secret: "whsec_test_sandbox".into(),
    }
}

/// The webhook secret the Stripe fixtures are signed with in these tests.
const STRIPE_SECRET: &str = "whsec_test_guildhall";

async fn app_with(t: &TestDb, per_ip: u32, per_account: u32) -> Router {
    guildhall::service::seed::demo(&t.db, ORIGIN)
        .await
        .expect("demo data");
    let cfg = config(per_ip, per_account);
    let opts = leptos_options(&cfg);
    router(AppState::new(cfg, t.db.clone(), opts).expect("state"))
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))))
}

async fn app(t: &TestDb) -> Router {
    app_with(t, 1000, 1000).await
}

/// The router with settings of the test's own (demo data loaded).
async fn app_cfg(t: &TestDb, cfg: Config) -> Router {
    guildhall::service::seed::demo(&t.db, ORIGIN)
        .await
        .expect("demo data");
    let opts = leptos_options(&cfg);
    router(AppState::new(cfg, t.db.clone(), opts).expect("state"))
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))))
}

/// Settings with Stripe as the card provider (its API nowhere: these tests only post webhooks).
fn stripe_config() -> Config {
    let mut cfg = config(1000, 1000);
    cfg.payment_provider = "stripe".into();
    cfg.stripe_secret_key = Some("sk_test_guildhall".into());
    cfg
}

struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: &Router, req: Request<Body>) -> Res {
    // A response that never ends fails its test instead of stalling the whole run.
    let what = format!("{} {}", req.method(), req.uri());
    let answer = async {
        let res = app.clone().oneshot(req).await.expect("response");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        (status, headers, bytes)
    };
    let (status, headers, bytes) = tokio::time::timeout(Duration::from_secs(60), answer)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within 60 s"));
    Res {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(app: &Router, path: &str, cookie: Option<&str>) -> Res {
    let mut b = Request::get(path).header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    send(app, b.body(Body::empty()).expect("request")).await
}

fn enc(s: &str) -> String {
    app::format::urlencode(s)
}

/// A plain HTML form post from the sign-in page, as a browser without JavaScript sends it.
async fn form_post(app: &Router, path: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> Res {
    form_post_on(app, "/sign-in", path, fields, cookie).await
}

/// A plain HTML form post from page `page` (its Referer), as a browser without JavaScript sends it.
async fn form_post_on(
    app: &Router,
    page: &str,
    path: &str,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
) -> Res {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut b = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .header(header::REFERER, format!("{ORIGIN}{page}"))
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", "same-origin");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    send(app, b.body(Body::from(body)).expect("request")).await
}

fn session_cookie(r: &Res) -> Option<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gh_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

async fn sign_in(app: &Router, email: &str) -> String {
    let r = form_post(
        app,
        "/fn/sign-in",
        &[("email", email), ("password", "guildhall-demo")],
        None,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FOUND,
        "sign-in of {email}: {}",
        r.body
    );
    let cookie = session_cookie(&r).expect("session cookie");
    if location(&r) != "/sign-in/code" {
        return cookie;
    }
    // Staff: the second step, with a code from the demo authenticator.
    let code = guildhall::service::mfa::current_code(guildhall::service::mfa::DEMO_TOTP_SECRET)
        .expect("demo code");
    let r = form_post(app, "/fn/second-step", &[("code", &code)], Some(&cookie)).await;
    assert_eq!(
        r.status,
        StatusCode::FOUND,
        "second step of {email}: {}",
        r.body
    );
    session_cookie(&r).expect("session cookie after the second step")
}

fn location(r: &Res) -> String {
    r.headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn healthz_answers_ok_while_the_database_answers() {
    for t in databases().await {
        let app = app(&t).await;
        let r = get(&app, "/healthz", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", t.name);
        t.finish().await;
    }
}

#[tokio::test]
async fn healthz_answers_503_when_the_database_is_gone() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    t.db.clone().close().await.expect("close");
    let r = get(&app, "/healthz", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn pages_carry_security_headers_and_render_on_the_server() {
    for t in databases().await {
        let app = app(&t).await;
        let r = get(&app, "/sign-in", None).await;
        assert_eq!(r.status, StatusCode::OK);
        let csp = r
            .headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("'nonce-"),
            "{csp}"
        );
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .expect("nonce");
        assert!(
            r.body.contains(&format!("nonce=\"{nonce}\"")),
            "hydration script carries the nonce"
        );
        assert_eq!(
            r.headers
                .get(header::X_CONTENT_TYPE_OPTIONS)
                .map(|v| v.to_str().ok()),
            Some(Some("nosniff"))
        );
        assert!(r.headers.get(header::REFERRER_POLICY).is_some());
        assert_eq!(r.body.matches("<h1").count(), 1, "one h1");
        assert!(r.body.contains("Skip to main content"));
        let label = r
            .body
            .find(r#"for="email""#)
            .map(|i| &r.body[i..i + 80])
            .unwrap_or_default();
        assert!(label.contains("Email address"), "{label}");
        t.finish().await;
    }
}

#[tokio::test]
async fn a_member_signs_in_without_javascript_and_sees_their_portal() {
    for t in databases().await {
        let app = app(&t).await;
        let before = get(&app, "/sign-in", None).await;
        assert!(
            session_cookie(&before).is_none(),
            "no session for an anonymous visitor"
        );
        let r = form_post(
            &app,
            "/fn/sign-in",
            &[
                ("email", "member@guildhall.test"),
                ("password", "guildhall-demo"),
            ],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        assert_eq!(
            r.headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some("/portal")
        );
        let raw = r
            .headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
            "{raw}"
        );
        let cookie = session_cookie(&r).expect("cookie");
        let portal = get(&app, "/portal", Some(&cookie)).await;
        assert_eq!(portal.status, StatusCode::OK, "{}", t.name);
        assert!(portal.body.contains("Hello, Sam"), "{}", portal.body);
        assert!(portal.body.contains("Registered"));
        t.finish().await;
    }
}

#[tokio::test]
async fn signing_in_rotates_the_session_id() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    // An anonymous session that holds something gets an id; signing in must not keep it.
    let first = sign_in(&app, "member@guildhall.test").await;
    let second = form_post(
        &app,
        "/fn/sign-in",
        &[
            ("email", "member@guildhall.test"),
            ("password", "guildhall-demo"),
        ],
        Some(&first),
    )
    .await;
    let rotated = session_cookie(&second).expect("new cookie");
    assert_ne!(first, rotated);
    let old = get(&app, "/portal", Some(&first)).await;
    assert_eq!(
        old.status,
        StatusCode::SEE_OTHER,
        "the old session id no longer signs in"
    );
}

#[tokio::test]
async fn after_sign_in_only_a_local_path_is_followed() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    for (next, want) in [
        ("/%09/evil.example", "/portal"),
        ("/\t/evil.example", "/portal"),
        ("/\\evil.example", "/portal"),
        ("/%5C%5Cevil.example", "/portal"),
        ("//evil.example", "/portal"),
        ("https://evil.example/", "/portal"),
        // A newline cannot be put in a Location header: refused, not a panic.
        ("/portal\r\nSet-Cookie: x=1", "/portal"),
        ("/portal/\u{0}", "/portal"),
        ("/portal/payments?x=1", "/portal/payments?x=1"),
    ] {
        let r = form_post(
            &app,
            "/fn/sign-in",
            &[
                ("email", "member@guildhall.test"),
                ("password", "guildhall-demo"),
                ("next", next),
            ],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND, "{next:?}: {}", r.body);
        let loc = r
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(loc, want, "next={next:?}");
    }
}

#[tokio::test]
async fn an_overflowing_page_number_does_not_break_any_list() {
    for t in databases().await {
        let app = app(&t).await;
        let admin = sign_in(&app, "admin@guildhall.test").await;
        for huge in [
            "18446744073709551615",
            "99999999999999999999",
            "9223372036854775807",
        ] {
            for path in [
                format!("/staff/audit?page={huge}"),
                format!("/staff/outbox?page={huge}"),
                format!("/staff/members/list?which=renewals-due&page={huge}"),
            ] {
                let r = get(&app, &path, Some(&admin)).await;
                assert_eq!(r.status, StatusCode::OK, "{path} on {}", t.name);
            }
        }
        // Server functions take the page as a u64: the largest ones are answered (with an empty page).
        for huge in ["18446744073709551615", "9223372036854775807"] {
            for (path, body) in [
                ("/fn/audit-list", format!("page={huge}")),
                ("/fn/outbox-list", format!("page={huge}")),
                ("/fn/member-list", format!("which=renewals-due&page={huge}")),
            ] {
                let r = fn_post(&app, path, &body, &admin).await;
                assert_eq!(
                    r.status,
                    StatusCode::OK,
                    "{path} {body} on {}: {}",
                    t.name,
                    r.body
                );
            }
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_address_get_the_same_answer() {
    for t in databases().await {
        let app = app(&t).await;
        let wrong = form_post(
            &app,
            "/fn/sign-in",
            &[
                ("email", "member@guildhall.test"),
                ("password", "not-the-password"),
            ],
            None,
        )
        .await;
        let unknown = form_post(
            &app,
            "/fn/sign-in",
            &[
                ("email", "nobody@guildhall.test"),
                ("password", "not-the-password"),
            ],
            None,
        )
        .await;
        assert_eq!(wrong.status, StatusCode::FOUND);
        assert_eq!(unknown.status, wrong.status);
        let loc = |r: &Res| {
            r.headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        // Back to the form (no error in the address); the refusal waits in a session for it.
        assert_eq!(loc(&wrong), "/sign-in");
        assert_eq!(loc(&unknown), loc(&wrong));
        let page = get(&app, "/sign-in", session_cookie(&wrong).as_deref()).await;
        assert!(page.body.contains("There is a problem"), "{}", page.body);
        assert!(page.body.contains(r#"value="member@guildhall.test""#));
        assert!(
            !page.body.contains("not-the-password"),
            "a password is never shown again"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn visitors_are_sent_to_sign_in_from_member_and_staff_pages() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    for path in ["/portal", "/staff", "/staff/outbox", "/staff/admin/staff"] {
        let r = get(&app, path, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        let loc = r
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(loc.starts_with("/sign-in?next="), "{loc}");
    }
}

#[tokio::test]
async fn staff_pages_refuse_members_and_admin_pages_refuse_officers() {
    for t in databases().await {
        let app = app(&t).await;
        let member = sign_in(&app, "member@guildhall.test").await;
        for path in ["/staff", "/staff/outbox", "/staff/audit"] {
            let r = get(&app, path, Some(&member)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "member on {path}");
            assert!(r.body.contains("You cannot use this page"));
        }
        let officer = sign_in(&app, "officer@guildhall.test").await;
        assert_eq!(
            get(&app, "/staff", Some(&officer)).await.status,
            StatusCode::OK
        );
        assert_eq!(
            get(&app, "/staff/outbox", Some(&officer)).await.status,
            StatusCode::OK
        );
        let r = get(&app, "/staff/admin/staff", Some(&officer)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(
            !r.body.contains("supervisor@guildhall.test"),
            "no staff list leaks to an officer"
        );
        let admin = sign_in(&app, "admin@guildhall.test").await;
        let r = get(&app, "/staff/admin/staff", Some(&admin)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("supervisor@guildhall.test"));
        // Staff do not use the member portal.
        assert_eq!(
            get(&app, "/portal", Some(&admin)).await.status,
            StatusCode::FORBIDDEN
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn server_functions_check_permissions_themselves() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let member = sign_in(&app, "member@guildhall.test").await;
    for (path, body) in [
        ("/fn/outbox-list", ""),
        ("/fn/audit-list", ""),
        ("/fn/staff-accounts", ""),
        ("/fn/dashboard", ""),
        ("/fn/trade-report", "week="),
        ("/fn/exports", ""),
        ("/fn/trends-report", ""),
        ("/fn/member-list", "which=status%3Aactive&page=0"),
        ("/fn/category-list", ""),
        ("/fn/category-form", ""),
        ("/fn/save-category", "code=X&name=X&description=&eligibility=X&annual_fee=1&joining_fee=&reinstatement_fee=&grace_days=&fixed_renewal_month=&fixed_renewal_day=&sort_order="),
        ("/fn/category-status", "id=00000000-0000-0000-0000-000000000000&what=delete"),
        ("/fn/new-member-options", ""),
        ("/fn/member-search", "q=taylor"),
        ("/fn/add-representative", "member_id=00000000-0000-0000-0000-000000000000&number=GH0000001&email=a%40b.test&given_name=A&family_name=B&job_title="),
        ("/fn/remove-representative", "member_id=00000000-0000-0000-0000-000000000000&number=GH0000001&user_id=00000000-0000-0000-0000-000000000000"),
        ("/fn/erase-member", "member_id=00000000-0000-0000-0000-000000000000&number=GH0000001&confirm=GH0000001"),
        ("/fn/member-money", "number=GH0000001"),
        ("/fn/record-payment", "member_id=00000000-0000-0000-0000-000000000000&number=GH0000001&method=cheque&reference=1&received_amount=1&received_on=2026-11-01&against=&form_key="),
        ("/fn/raise-request", "member_id=00000000-0000-0000-0000-000000000000&number=GH0000001&kind=refund&amount=1&reason=because"),
        ("/fn/requests-to-authorise", ""),
        ("/fn/decide-request", "id=00000000-0000-0000-0000-000000000000&decision=approve"),
        ("/fn/transaction-report", "from=&to=&method=&kind="),
        ("/fn/aged-debt-report", ""),
        ("/fn/reconciliation-report", "from=&to="),
        ("/fn/save-settlement", "day=2026-11-01&method=card&amount=1"),
        ("/fn/import-settlements", "csv=2026-11-01%2Ccard%2C1"),
        ("/fn/office-settings", ""),
        ("/fn/save-office-settings", "office_name=X&office_address=Y&office_email=a%40b.org&office_phone="),
        ("/fn/jobs-list", ""),
        ("/fn/start-job", "kind=daily"),
        ("/fn/renewal-settings", ""),
        ("/fn/save-renewal-settings", "reminder_offsets=-30&extra_holidays="),
    ] {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, &member)
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .expect("request");
        let r = send(&app, req).await;
        assert!(
            r.body.contains("Forbidden"),
            "{path}: {} {}",
            r.status,
            r.body
        );
        assert!(!r.body.contains("@guildhall.test"), "{path} leaked data");
    }
    // Officers neither manage categories nor erase personal data.
    let officer = sign_in(&app, "officer@guildhall.test").await;
    for (path, body) in [
        ("/fn/category-list", ""),
        (
            "/fn/category-status",
            "id=00000000-0000-0000-0000-000000000000&what=delete",
        ),
        (
            "/fn/erase-member",
            "member_id=00000000-0000-0000-0000-000000000000&number=GH0000001&confirm=GH0000001",
        ),
        (
            "/fn/decide-request",
            "id=00000000-0000-0000-0000-000000000000&decision=approve",
        ),
        ("/fn/transaction-report", "from=&to=&method=&kind="),
        ("/fn/reconciliation-report", "from=&to="),
        (
            "/fn/save-office-settings",
            "office_name=X&office_address=Y&office_email=a%40b.org&office_phone=",
        ),
    ] {
        let r = fn_post(&app, path, body, &officer).await;
        assert!(
            r.body.contains("Forbidden"),
            "{path}: {} {}",
            r.status,
            r.body
        );
    }
    let anonymous = Request::post("/fn/outbox-list")
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::empty())
        .expect("request");
    assert!(send(&app, anonymous).await.body.contains("Unauthenticated"));
}

async fn fn_post(app: &Router, path: &str, body: &str, cookie: &str) -> Res {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, cookie)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body.to_owned()))
        .expect("request");
    send(app, req).await
}

/// Every portal server function that names a record, called by the demo member with another
/// member's number: each answers 404 with nothing of the other member in it, and nothing changes.
#[tokio::test]
async fn portal_server_functions_reach_only_the_callers_own_records() {
    use guildhall::entity::member;
    use sea_orm::EntityTrait;
    for t in databases().await {
        let app = app(&t).await;
        let cookie = sign_in(&app, "member@guildhall.test").await;
        // GH0000002 is a demo member without an account: not the caller's.
        let before = member::Entity::find().all(&t.db).await.expect("members");
        let other = "GH0000002";
        let fields = "title=&given_name=X&family_name=Y&preferred_name=&phone=&address_line1=1+A+St&address_line2=&town=Hull&county=&postcode=HU1+1AA&country=GB";
        for (path, body) in [
            ("/fn/portal-summary", format!("member={other}")),
            ("/fn/my-details", format!("member={other}")),
            ("/fn/save-my-details", format!("member={other}&{fields}")),
            (
                "/fn/save-preferences",
                format!("member={other}&email_news=on&register_consent=no"),
            ),
            ("/fn/resign", format!("member={other}&when=now")),
            ("/fn/portal-money", format!("member={other}")),
            (
                "/fn/pay-invoice",
                format!("member={other}&invoice=INV-000001"),
            ),
            ("/fn/renewal-offer", format!("member={other}")),
            (
                "/fn/renew-and-pay",
                format!("member={other}&declaration=on"),
            ),
            ("/fn/set-auto-renew", format!("member={other}&on=on")),
        ] {
            let r = fn_post(&app, path, &body, &cookie).await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{}: {path}: {}",
                t.name,
                r.body
            );
            assert!(!r.body.contains("example.org"), "{path} leaked: {}", r.body);
        }
        let after = member::Entity::find().all(&t.db).await.expect("members");
        assert_eq!(before, after, "{}: nothing changed", t.name);
        // Their own record works through the same functions.
        let r = fn_post(&app, "/fn/my-details", "", &cookie).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("Taylor"));
        t.finish().await;
    }
}

#[tokio::test]
async fn the_public_register_answers_visitors_and_is_rate_limited() {
    let t = guildhall::testing::sqlite().await;
    let app = app_with(&t, 3, 1000).await;
    let r = get(&app, "/register?q=taylor", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("Sam Taylor"),
        "the demo member is registered and consented"
    );
    assert!(
        !r.body.contains("member@guildhall.test"),
        "no e-mail addresses on the register"
    );
    get(&app, "/register?q=york", None).await;
    get(&app, "/register?q=smith", None).await;
    let r = get(&app, "/register?q=jones", None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
}

#[tokio::test]
async fn members_download_their_own_data_as_a_json_file() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    assert_eq!(
        get(&app, "/portal/data.json", None).await.status,
        StatusCode::SEE_OTHER,
        "visitors are sent to sign in"
    );
    let cookie = sign_in(&app, "member@guildhall.test").await;
    let r = get(&app, "/portal/data.json", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r
        .headers
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("attachment")));
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["account"]["email"], "member@guildhall.test");
    assert_eq!(v["membership"]["details"]["family_name"], "Taylor");
    // Their money too: the demo invoice, owed.
    assert_eq!(v["membership"]["money"]["balance_pence"], 4500);
    assert_eq!(v["membership"]["money"]["documents"][0]["kind"], "invoice");
    assert!(!r.body.contains("@example.org"), "another member's data");
    let staff = sign_in(&app, "officer@guildhall.test").await;
    assert_eq!(
        get(&app, "/portal/data.json", Some(&staff)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_sign_in_flood_from_one_address_is_answered_429() {
    for t in databases().await {
        let app = app_with(&t, 5, 1000).await;
        let mut statuses = vec![];
        for i in 0..8 {
            let email = format!("someone{i}@example.org");
            let r = form_post(
                &app,
                "/fn/sign-in",
                &[("email", &email), ("password", "wrong-password")],
                None,
            )
            .await;
            statuses.push(r.status);
            if r.status == StatusCode::TOO_MANY_REQUESTS {
                assert!(
                    r.body.contains("Too many attempts"),
                    "a page a person can read"
                );
                assert!(r.headers.get(header::RETRY_AFTER).is_some());
            }
        }
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
                .count(),
            3,
            "{statuses:?}"
        );
        // The right password does not get past the limit either.
        let r = form_post(
            &app,
            "/fn/sign-in",
            &[
                ("email", "member@guildhall.test"),
                ("password", "guildhall-demo"),
            ],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        t.finish().await;
    }
}

#[tokio::test]
async fn repeated_attempts_on_one_account_are_limited_from_any_address() {
    let t = guildhall::testing::sqlite().await;
    let app = app_with(&t, 1000, 3).await;
    for _ in 0..3 {
        let r = form_post(
            &app,
            "/fn/sign-in",
            &[
                ("email", "member@guildhall.test"),
                ("password", "wrong-password"),
            ],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND);
    }
    let r = form_post(
        &app,
        "/fn/sign-in",
        &[
            ("email", "Member@Guildhall.test"),
            ("password", "guildhall-demo"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

/// A plain form post from a given client address.
async fn form_post_from(
    app: &Router,
    ip: [u8; 4],
    path: &str,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
) -> Res {
    use axum::extract::ConnectInfo;
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut b = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", "same-origin");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    let mut req = b.body(Body::from(body)).expect("request");
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    send(app, req).await
}

/// Ada Flood creates an account with the address `email` on the page without JavaScript.
async fn create_account_for_ada_flood(app: &Router, email: &str) -> Res {
    form_post(
        app,
        "/fn/create-account",
        &[
            ("given_name", "Ada"),
            ("family_name", "Flood"),
            ("email", email),
            ("password", "a long enough password"),
        ],
        None,
    )
    .await
}

#[tokio::test]
async fn every_password_and_mail_endpoint_answers_429_past_its_limit() {
    for t in databases().await {
        // Two per address (and two wrong passwords in a row per account), many per client address.
        let app = app_with(&t, 1000, 2).await;
        let mut statuses = vec![];
        for _ in 0..3 {
            let r = form_post(
                &app,
                "/fn/forgot-password",
                &[("email", "member@guildhall.test")],
                None,
            )
            .await;
            statuses.push(r.status);
        }
        assert_eq!(
            statuses,
            [
                StatusCode::FOUND,
                StatusCode::FOUND,
                StatusCode::TOO_MANY_REQUESTS
            ],
            "forgot-password on {}",
            t.name
        );

        let mut statuses = vec![];
        for _ in 0..3 {
            let r = create_account_for_ada_flood(&app, "victim@example.org").await;
            statuses.push(r.status);
        }
        assert_eq!(
            statuses,
            [
                StatusCode::FOUND,
                StatusCode::FOUND,
                StatusCode::TOO_MANY_REQUESTS
            ],
            "create-account on {}",
            t.name
        );
        let r = create_account_for_ada_flood(&app, "victim@example.org").await;
        assert!(
            r.body.contains("Too many attempts"),
            "a page a person can read"
        );
        assert!(r.headers.get(header::RETRY_AFTER).is_some());

        // The password re-checks of a signed-in member: wrong twice, then even the right one waits.
        let member = sign_in(&app, "member@guildhall.test").await;
        for _ in 0..2 {
            let r = form_post(
                &app,
                "/fn/change-password",
                &[
                    ("current_password", "wrong"),
                    ("new_password", "another long password"),
                    ("confirm_password", "another long password"),
                ],
                Some(&member),
            )
            .await;
            assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
            assert_eq!(
                location(&r),
                "/sign-in",
                "back to the form, no error in the address"
            );
        }
        let r = form_post(
            &app,
            "/fn/change-password",
            &[
                ("current_password", "guildhall-demo"),
                ("new_password", "another long password"),
                ("confirm_password", "another long password"),
            ],
            Some(&member),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "change-password on {}",
            t.name
        );
        let r = form_post(
            &app,
            "/fn/change-email",
            &[("email", "new@example.org"), ("password", "guildhall-demo")],
            Some(&member),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "change-email shares the account's delay on {}",
            t.name
        );

        // A second member: change-email's wrong passwords count, and its messages to one address too.
        guildhall::service::seed::portal_accounts(&t.db, 1)
            .await
            .expect("portal account");
        let other = sign_in(&app, "portal1@guildhall.test").await;
        let mut statuses = vec![];
        for _ in 0..3 {
            let r = form_post(
                &app,
                "/fn/change-email",
                &[
                    ("email", "elsewhere@example.org"),
                    ("password", "guildhall-demo"),
                ],
                Some(&other),
            )
            .await;
            statuses.push(r.status);
        }
        assert_eq!(
            statuses,
            [
                StatusCode::FOUND,
                StatusCode::FOUND,
                StatusCode::TOO_MANY_REQUESTS
            ],
            "change-email per address on {}",
            t.name
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn mail_endpoints_are_limited_per_client_address() {
    for t in databases().await {
        let app = app_with(&t, 2, 1000).await;
        let mut statuses = vec![];
        for i in 0..3 {
            let r = form_post(
                &app,
                "/fn/forgot-password",
                &[("email", &format!("someone{i}@example.org"))],
                None,
            )
            .await;
            statuses.push(r.status);
        }
        let r = create_account_for_ada_flood(&app, "fresh@example.org").await;
        statuses.push(r.status);
        assert_eq!(
            statuses,
            [
                StatusCode::FOUND,
                StatusCode::FOUND,
                StatusCode::TOO_MANY_REQUESTS,
                StatusCode::TOO_MANY_REQUESTS
            ],
            "{}",
            t.name
        );
        // Another address is not held back by this one.
        let r = form_post_from(
            &app,
            [192, 0, 2, 9],
            "/fn/forgot-password",
            &[("email", "someone@example.org")],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND);
        t.finish().await;
    }
}

#[tokio::test]
async fn wrong_passwords_slow_an_account_down_but_never_lock_its_owner_out() {
    let t = guildhall::testing::sqlite().await;
    let app = app_with(&t, 1000, 3).await;
    let admin = [
        ("email", "admin@guildhall.test"),
        ("password", "guildhall-demo"),
    ];
    for i in 0..3 {
        let r = form_post_from(
            &app,
            [198, 51, 100, i],
            "/fn/sign-in",
            &[
                ("email", "admin@guildhall.test"),
                ("password", "a wrong guess"),
            ],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND, "failure {i}");
    }
    // After the free failures, even the right password waits (from any address)…
    let r = form_post_from(&app, [203, 0, 113, 1], "/fn/sign-in", &admin, None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    // …but only 2^0 = 1 second: then the owner gets in from a fresh address.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = form_post_from(&app, [203, 0, 113, 2], "/fn/sign-in", &admin, None).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    // The password is right: on to the second step (staff sign in with a code too).
    assert_eq!(location(&r), "/sign-in/code");
    // A success starts the account afresh: the next wrong password is free again.
    let r = form_post_from(
        &app,
        [203, 0, 113, 3],
        "/fn/sign-in",
        &[
            ("email", "admin@guildhall.test"),
            ("password", "a wrong guess"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND);
    let r = form_post_from(&app, [203, 0, 113, 3], "/fn/sign-in", &admin, None).await;
    // The password is right: on to the second step (staff sign in with a code too).
    assert_eq!(location(&r), "/sign-in/code");

    // The next failures double the wait: 1 s, then 2 s.
    for _ in 0..3 {
        form_post(
            &app,
            "/fn/sign-in",
            &[
                ("email", "admin@guildhall.test"),
                ("password", "a wrong guess"),
            ],
            None,
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    form_post(
        &app,
        "/fn/sign-in",
        &[
            ("email", "admin@guildhall.test"),
            ("password", "a wrong guess"),
        ],
        None,
    )
    .await;
    let r = form_post(&app, "/fn/sign-in", &admin, None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
}

#[tokio::test]
async fn forgot_password_answers_the_same_for_known_and_unknown_addresses() {
    use guildhall::entity::outbox_message;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    for t in databases().await {
        let app = app(&t).await;
        let known = form_post(
            &app,
            "/fn/forgot-password",
            &[("email", "member@guildhall.test")],
            None,
        )
        .await;
        let unknown = form_post(
            &app,
            "/fn/forgot-password",
            &[("email", "nobody@guildhall.test")],
            None,
        )
        .await;
        assert_eq!(known.status, StatusCode::FOUND, "{}", known.body);
        assert_eq!(known.status, unknown.status);
        assert_eq!(location(&known), "/forgot-password/sent");
        assert_eq!(location(&known), location(&unknown));
        assert_eq!(known.body, unknown.body);
        let names = |r: &Res| {
            let mut n: Vec<String> = r.headers.keys().map(|k| k.to_string()).collect();
            n.sort();
            n
        };
        assert_eq!(names(&known), names(&unknown));
        // The message is written after the answer, for the known address only.
        let count = |to: &'static str| {
            let db = t.db.clone();
            async move {
                outbox_message::Entity::find()
                    .filter(outbox_message::Column::ToAddress.eq(to))
                    .filter(outbox_message::Column::Template.eq("password_reset"))
                    .count(&db)
                    .await
                    .expect("count")
            }
        };
        let mut waited = 0;
        while count("member@guildhall.test").await == 0 && waited < 100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += 1;
        }
        assert_eq!(count("member@guildhall.test").await, 1, "{}", t.name);
        assert_eq!(count("nobody@guildhall.test").await, 0);
        t.finish().await;
    }
}

/// The answer does not wait for the account lookup, the token or the outbox, so its timing cannot
/// tell whether the address has an account: with the accounts table locked, it still comes at once.
#[tokio::test]
async fn forgot_password_answers_before_its_work_is_done() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let Some(t) = guildhall::testing::postgres().await else {
        return;
    };
    let app = app(&t).await;
    let lock = t.db.begin().await.expect("begin");
    lock.execute_unprepared("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    for email in ["member@guildhall.test", "nobody@guildhall.test"] {
        let r = tokio::time::timeout(
            Duration::from_secs(10),
            form_post(&app, "/fn/forgot-password", &[("email", email)], None),
        )
        .await
        .unwrap_or_else(|_| panic!("{email}: the answer waited for the work"));
        assert_eq!(r.status, StatusCode::FOUND);
        assert_eq!(location(&r), "/forgot-password/sent");
    }
    lock.commit().await.expect("unlock");
    t.finish().await;
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let body = "email=member%40guildhall.test&password=guildhall-demo";
    let cross = Request::post("/fn/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(body))
        .expect("request");
    assert_eq!(send(&app, cross).await.status, StatusCode::FORBIDDEN);
    let foreign_origin = Request::post("/fn/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::HOST, "127.0.0.1:3000")
        .body(Body::from(body))
        .expect("request");
    assert_eq!(
        send(&app, foreign_origin).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn app_over_https(t: &TestDb) -> Router {
    guildhall::service::seed::demo(&t.db, ORIGIN)
        .await
        .expect("demo data");
    let mut cfg = config(1000, 1000);
    cfg.base_url = "https://members.example.org".into();
    cfg.secure_cookies = true;
    let opts = leptos_options(&cfg);
    router(AppState::new(cfg, t.db.clone(), opts).expect("state"))
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))))
}

fn header_of(r: &Res, name: header::HeaderName) -> &str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn over_https_hsts_is_sent_and_the_session_cookie_is_host_prefixed_and_secure() {
    let t = guildhall::testing::sqlite().await;
    let https = app_over_https(&t).await;
    let r = get(&https, "/sign-in", None).await;
    assert_eq!(
        header_of(&r, header::STRICT_TRANSPORT_SECURITY),
        "max-age=63072000; includeSubDomains"
    );
    let r = form_post(
        &https,
        "/fn/sign-in",
        &[
            ("email", "member@guildhall.test"),
            ("password", "guildhall-demo"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    let raw = header_of(&r, header::SET_COOKIE).to_owned();
    assert!(raw.starts_with("__Host-gh_session="), "{raw}");
    assert!(
        raw.contains("Secure") && raw.contains("Path=/") && !raw.contains("Domain"),
        "{raw}"
    );
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
        "{raw}"
    );
    let cookie = raw.split(';').next().unwrap_or_default().to_owned();
    let portal = get(&https, "/portal", Some(&cookie)).await;
    assert_eq!(portal.status, StatusCode::OK);
    assert_eq!(
        header_of(&portal, header::STRICT_TRANSPORT_SECURITY),
        "max-age=63072000; includeSubDomains"
    );

    // Over plain http (development) neither: browsers would refuse the cookie.
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let r = get(&app, "/sign-in", None).await;
    assert!(r.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
    let r = form_post(
        &app,
        "/fn/sign-in",
        &[
            ("email", "member@guildhall.test"),
            ("password", "guildhall-demo"),
        ],
        None,
    )
    .await;
    let raw = header_of(&r, header::SET_COOKIE);
    assert!(
        raw.starts_with("gh_session=") && !raw.contains("Secure"),
        "{raw}"
    );
}

#[tokio::test]
async fn signed_in_pages_sign_in_pages_and_server_functions_are_never_stored() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let no_store = |r: &Res| header_of(r, header::CACHE_CONTROL).contains("no-store");
    for page in [
        "/sign-in",
        "/create-account",
        "/forgot-password",
        "/reset-password?token=x",
    ] {
        assert!(no_store(&get(&app, page, None).await), "{page}");
    }
    let anonymous_fn = send(
        &app,
        Request::post("/fn/whoami")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert!(no_store(&anonymous_fn), "{:?}", anonymous_fn.headers);
    // The public home page to a visitor may be cached…
    assert!(!no_store(&get(&app, "/", None).await));
    // …but nothing a signed-in person is shown.
    let member = sign_in(&app, "member@guildhall.test").await;
    for page in ["/", "/portal", "/portal/details", "/portal/payments"] {
        let r = get(&app, page, Some(&member)).await;
        assert!(no_store(&r), "{page}: {:?}", r.headers);
    }
    assert!(no_store(
        &fn_post(&app, "/fn/portal-summary", "", &member).await
    ));
    let staff = sign_in(&app, "officer@guildhall.test").await;
    for page in ["/staff", "/staff/outbox", "/staff/members"] {
        let r = get(&app, page, Some(&staff)).await;
        assert!(no_store(&r), "{page}: {:?}", r.headers);
    }
}

#[tokio::test]
async fn staff_pages_show_only_known_messages_never_text_from_the_address() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let admin = sign_in(&app, "admin@guildhall.test").await;
    let planted = "Your account is suspended. Call 0900 000 000 now";
    let r = get(
        &app,
        &format!("/staff/exports?error={}", enc(planted)),
        Some(&admin),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        !r.body.contains("suspended"),
        "an arbitrary message is not shown"
    );
    let r = get(&app, "/staff/exports?error=month", Some(&admin)).await;
    assert!(
        r.body.contains("Enter the month as YYYY-MM"),
        "a known one is"
    );
    let r = get(
        &app,
        &format!("/staff/admin/categories?saved={}", enc(planted)),
        Some(&admin),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("suspended"));

    // A refused download sends the form back naming only the fields.
    let r = form_post(
        &app,
        "/staff/exports/download",
        &[("kind", "renewal-documents"), ("month", "not a month")],
        Some(&admin),
    )
    .await;
    let loc = location(&r);
    assert!(
        loc.starts_with("/staff/exports?") && loc.contains("error=") && !loc.contains("Enter"),
        "{loc}"
    );
    let r = get(&app, &loc, Some(&admin)).await;
    assert!(r.body.contains("Enter the month as YYYY-MM"), "{loc}");
}

#[tokio::test]
async fn signing_out_ends_the_session_and_is_audited() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let cookie = sign_in(&app, "member@guildhall.test").await;
    let r = form_post(&app, "/fn/sign-out", &[], Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(
        get(&app, "/portal", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );
    let admin = Actor::system("test");
    let (rows, _) = guildhall::service::audit::list(&t.db, &admin, Some("user"), 0, 100)
        .await
        .expect("audit");
    let actions: Vec<_> = rows.iter().map(|r| r.action.as_str()).collect();
    assert!(
        actions.contains(&"signed_in") && actions.contains(&"signed_out"),
        "{actions:?}"
    );
}

use guildhall::domain::Actor;

#[tokio::test]
async fn the_outbox_preview_is_for_staff_only_and_cannot_run_scripts() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let listed =
        guildhall::service::outbox::list(&t.db, Some("officer@guildhall.test"), None, 0, 10)
            .await
            .expect("list");
    let id = listed.rows.first().expect("the staff invitation").id;
    let path = format!("/staff/outbox/{id}/html");
    let member = sign_in(&app, "member@guildhall.test").await;
    assert_eq!(
        get(&app, &path, Some(&member)).await.status,
        StatusCode::FORBIDDEN
    );
    let officer = sign_in(&app, "officer@guildhall.test").await;
    let r = get(&app, &path, Some(&officer)).await;
    assert_eq!(r.status, StatusCode::OK);
    let csp = r
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let page = get(&app, &format!("/staff/outbox/{id}"), Some(&officer)).await;
    assert!(page.body.contains("Message-ID"));
}

async fn age_sessions(db: &sea_orm::DatabaseConnection, auth_age_secs: i64, expires_in_secs: i64) {
    use guildhall::entity::session;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    for s in session::Entity::find().all(db).await.expect("sessions") {
        let mut data: serde_json::Value = serde_json::from_str(&s.data).expect("json");
        data["auth_at"] = serde_json::json!(chrono::Utc::now().timestamp() - auth_age_secs);
        let mut am: session::ActiveModel = s.into();
        am.data = Set(data.to_string());
        am.expires_at = Set(chrono::Utc::now() + chrono::Duration::seconds(expires_in_secs));
        am.update(db).await.expect("update");
    }
}

#[tokio::test]
async fn a_session_ends_twelve_hours_after_signing_in_however_active() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let cookie = sign_in(&app, "member@guildhall.test").await;
    age_sessions(&t.db, 11 * 3600, 1500).await;
    assert_eq!(
        get(&app, "/portal", Some(&cookie)).await.status,
        StatusCode::OK,
        "eleven hours in: still signed in"
    );
    age_sessions(&t.db, 12 * 3600 + 60, 1500).await;
    assert_eq!(
        get(&app, "/portal", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_session_ends_after_thirty_idle_minutes() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let cookie = sign_in(&app, "member@guildhall.test").await;
    // Each request pushes the expiry 30 minutes on…
    let r = get(&app, "/portal", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    let s = guildhall::entity::session::Entity::find()
        .one(&t.db)
        .await
        .expect("q")
        .expect("session");
    let left = (s.expires_at - chrono::Utc::now()).num_minutes();
    assert!((28..=30).contains(&left), "{left} minutes left");
    // …and a session idle past it is gone.
    age_sessions(&t.db, 60, -1).await;
    assert_eq!(
        get(&app, "/portal", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );
}

use sea_orm::EntityTrait;

/// A third-party fixture, read in place from the shared folder beside the repository
/// (`GUILDHALL_FIXTURES` overrides; a clone elsewhere falls back to `/work/shared/fixtures`).
fn fixture(name: &str) -> Vec<u8> {
    let beside = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures");
    let dir = std::env::var_os("GUILDHALL_FIXTURES")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_dir())
        .or_else(|| beside.is_dir().then_some(beside))
        .unwrap_or_else(|| std::path::PathBuf::from("/work/shared/fixtures"));
    let path = dir.join("stripe").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn webhook(app: &Router, provider: &str, header_name: &str, sig: &str, body: Vec<u8>) -> Res {
    let req = Request::post(format!("/webhooks/{provider}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header_name, sig)
        .body(Body::from(body))
        .expect("request");
    send(app, req).await
}

/// Stripe's own event bodies (`../shared/fixtures/stripe`), signed here with a test secret: accepted
/// and recorded as ignored (we do not handle invoices, and the payment intent is not one of ours);
/// refused with 400, recording nothing, when the signature is wrong or the timestamp stale.
#[tokio::test]
async fn the_stripe_webhook_verifies_signatures_and_records_events_it_does_not_handle() {
    use guildhall::entity::webhook_event;
    use guildhall::service::money::providers::sign;
    use sea_orm::{EntityTrait, PaginatorTrait};
    for t in databases().await {
        let app = app_cfg(&t, stripe_config()).await;
        let now = chrono::Utc::now().timestamp();
        for name in [
            "invoice.payment_failed.json",
            "payment_intent.payment_failed.json",
        ] {
            let body = fixture(name);
            let kept = webhook_event::Entity::find().count(&t.db).await.expect("n");
            // Wrong secret, tampered body, stale and future timestamps, no header: 400, nothing kept.
            let bad = [
                sign("whsec_wrong", now, &body),
                sign(STRIPE_SECRET, now, b"{}"),
                sign(STRIPE_SECRET, now - 400, &body),
                sign(STRIPE_SECRET, now + 400, &body),
                "t=abc,v1=zz".to_owned(),
            ];
            for sig in bad {
                let r = webhook(&app, "stripe", "stripe-signature", &sig, body.clone()).await;
                assert_eq!(
                    r.status,
                    StatusCode::BAD_REQUEST,
                    "{name} {sig}: {}",
                    r.body
                );
            }
            let r = send(
                &app,
                Request::post("/webhooks/stripe")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.clone()))
                    .expect("request"),
            )
            .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST);
            assert_eq!(
                webhook_event::Entity::find().count(&t.db).await.expect("n"),
                kept
            );
            // Well signed (also a little old, within 300 s): 200, recorded as ignored.
            let sig = sign(STRIPE_SECRET, now - 200, &body);
            let r = webhook(&app, "stripe", "stripe-signature", &sig, body.clone()).await;
            assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
            // The second fixture has the first one's event id: taken as a repeat.
            let expected = if kept == 0 { "ignored" } else { "duplicate" };
            assert!(r.body.contains(expected), "{name}: {}", r.body);
        }
        // Both fixtures carry the same event id; each provider's ids are their own, so the second was
        // taken as a repeat of the first.
        let rows = webhook_event::Entity::find()
            .all(&t.db)
            .await
            .expect("rows");
        assert_eq!(rows.len(), 1, "{}", t.name);
        assert_eq!(rows[0].outcome, "ignored");
        assert_eq!(rows[0].provider, "stripe");
        // Stripe is the provider: the sandbox's endpoint does not exist, whatever the signature
        // (its secret, here, or the one the sandbox once published).
        let body = fixture("invoice.payment_failed.json");
        for secret in [
            STRIPE_SECRET,
            "whsec_test_sandbox",
            "whsec_guildhall_sandbox",
        ] {
            let r = webhook(
                &app,
                "sandbox",
                "sandbox-signature",
                &sign(secret, now, &body),
                body.clone(),
            )
            .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        }
        // And with the sandbox as the provider, Stripe's endpoint does not exist.
        let sandbox_app = app_cfg(&t, config(1000, 1000)).await;
        let r = webhook(
            &sandbox_app,
            "stripe",
            "stripe-signature",
            &sign(STRIPE_SECRET, now, &body),
            body.clone(),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let r = webhook(
            &sandbox_app,
            "sandbox",
            "sandbox-signature",
            &sign("whsec_test_sandbox", now, &body),
            body,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // An unknown provider is not there.
        let r = webhook(&app, "paypal", "x-sig", "t=1,v1=00", b"{}".to_vec()).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        t.finish().await;
    }
}

/// Members download their own invoices and receipts as PDFs, never anyone else's; staff download any;
/// the transaction CSV is for finance.
#[tokio::test]
async fn documents_and_reports_download_only_for_those_allowed() {
    use guildhall::entity::document;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let member = sign_in(&app, "member@guildhall.test").await;
    let docs = document::Entity::find()
        .filter(document::Column::Kind.eq(document::DocumentKind::Invoice))
        .all(&t.db)
        .await
        .expect("docs");
    let demo = guildhall::entity::member::Entity::find()
        .filter(guildhall::entity::member::Column::Email.eq("member@guildhall.test"))
        .one(&t.db)
        .await
        .expect("q")
        .expect("demo member");
    let mine = docs
        .iter()
        .find(|d| d.member_id == demo.id)
        .expect("demo invoice");
    let theirs = docs
        .iter()
        .find(|d| d.member_id != demo.id)
        .expect("another invoice");
    let r = get(
        &app,
        &format!("/portal/documents/{}.pdf", mine.number),
        Some(&member),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(r.body.starts_with("%PDF-"));
    let r = get(
        &app,
        &format!("/portal/documents/{}.pdf", theirs.number),
        Some(&member),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let officer = sign_in(&app, "officer@guildhall.test").await;
    let r = get(
        &app,
        &format!("/staff/documents/{}.pdf", theirs.number),
        Some(&officer),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = get(&app, "/staff/reports/transactions.csv", Some(&officer)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let finance = sign_in(&app, "finance@guildhall.test").await;
    let r = get(
        &app,
        "/staff/reports/transactions.csv?kind=invoice",
        Some(&finance),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Membership number") && r.body.contains("Invoice"));
    let r = get(
        &app,
        "/staff/reports/transactions.csv?from=nonsense",
        Some(&finance),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = get(&app, "/staff/reports/aged-debt.csv", Some(&finance)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Over 90 days"));
}

/// A stand-in for Stripe's API: answers Checkout Sessions and refunds as Stripe does, and keeps what it
/// was sent (path, Authorization, Idempotency-Key, form fields).
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, String, String, Vec<(String, String)>)>>>;

async fn stripe_stand_in() -> (String, Seen) {
    use axum::extract::State;
    let seen: Seen = Default::default();
    async fn record(
        State(seen): State<Seen>,
        uri: axum::http::Uri,
        headers: axum::http::HeaderMap,
        body: String,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        let h = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let form: Vec<(String, String)> = serde_urlencoded_pairs(&body);
        seen.lock().expect("lock").push((
            match uri.query() {
                Some(q) => format!("{}?{q}", uri.path()),
                None => uri.path().to_owned(),
            },
            h("authorization"),
            h("idempotency-key"),
            form,
        ));
        let customer = |q: &str| {
            serde_urlencoded_pairs(q)
                .into_iter()
                .find(|(k, _)| k == "customer")
                .map(|(_, v)| v)
                .unwrap_or_default()
        };
        let (status, body) = match uri.path() {
            "/v1/refunds" => (
                StatusCode::OK,
                r#"{"id":"re_test_1","object":"refund","status":"succeeded"}"#,
            ),
            // The customer's cards: none for `cus_nocard`.
            "/v1/payment_methods" => match customer(uri.query().unwrap_or("")).as_str() {
                "cus_nocard" => (StatusCode::OK, r#"{"object":"list","data":[]}"#),
                _ => (
                    StatusCode::OK,
                    r#"{"object":"list","data":[{"id":"pm_test_card","object":"payment_method","card":{"last4":"4242"}}]}"#,
                ),
            },
            // Off-session charges: declined for `cus_declines`, an outage for `cus_down`.
            "/v1/payment_intents" => match customer(&body).as_str() {
                "cus_declines" => (
                    StatusCode::PAYMENT_REQUIRED,
                    r#"{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}"#,
                ),
                "cus_down" => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    r#"{"error":{"type":"api_error","message":"Something went wrong."}}"#,
                ),
                _ => (
                    StatusCode::OK,
                    r#"{"id":"pi_off_1","object":"payment_intent","status":"succeeded"}"#,
                ),
            },
            // Checkout Sessions: cs_test_1, cs_test_2… in the order they are made.
            _ => (StatusCode::OK, ""),
        };
        let session;
        let body = if body.is_empty() {
            let n = seen
                .lock()
                .expect("lock")
                .iter()
                .filter(|c| c.0 == "/v1/checkout/sessions")
                .count();
            session = format!(
                r#"{{"id":"cs_test_{n}","object":"checkout.session","url":"https://checkout.stripe.test/c/pay/cs_test_{n}"}}"#
            );
            session.as_str()
        } else {
            body
        };
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_owned(),
        )
            .into_response()
    }
    let app = Router::new()
        .route("/v1/checkout/sessions", axum::routing::post(record))
        .route("/v1/refunds", axum::routing::post(record))
        .route("/v1/payment_methods", axum::routing::get(record))
        .route("/v1/payment_intents", axum::routing::post(record))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), seen)
}

fn serde_urlencoded_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            let d = |s: &str| percent_decode(&s.replace('+', " "));
            (d(k), d(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Stripe as the provider: the Checkout Session is created over its API with the invoice's amount and
/// our checkout id; the member is sent to Stripe's page; the signed `checkout.session.completed` event
/// posted to /webhooks/stripe records the payment once; an authorised refund goes back over the API
/// with an idempotency key.
/// The demo data served by a router whose card payments go to the Stripe stand-in: the app, the
/// providers, what the stand-in was sent, and the demo member (as they act in the portal) with their
/// invoice.
struct StripeDemo {
    t: TestDb,
    app: Router,
    providers: guildhall::service::money::providers::Providers,
    seen: Seen,
    me: guildhall::domain::Actor,
    m: guildhall::entity::member::Model,
    inv: guildhall::entity::document::Model,
}

async fn stripe_demo() -> StripeDemo {
    use guildhall::entity::document;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let t = guildhall::testing::sqlite().await;
    guildhall::service::seed::demo(&t.db, ORIGIN)
        .await
        .expect("demo");
    let (api, seen) = stripe_stand_in().await;
    let mut cfg = config(1000, 1000);
    cfg.payment_provider = "stripe".into();
    cfg.stripe_secret_key = Some("sk_test_guildhall".into());
    cfg.stripe_api_base = api;
    let providers = cfg.providers().expect("providers");
    let opts = leptos_options(&cfg);
    let app = router(AppState::new(cfg, t.db.clone(), opts).expect("state"))
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let (me, m) = guildhall::testing::account_member(&t.db, "member@guildhall.test").await;
    let inv = document::Entity::find()
        .filter(document::Column::MemberId.eq(m.id))
        .one(&t.db)
        .await
        .expect("q")
        .expect("invoice");
    StripeDemo {
        t,
        app,
        providers,
        seen,
        me,
        m,
        inv,
    }
}

#[tokio::test]
async fn stripe_checkout_sessions_webhooks_and_refunds_work_end_to_end() {
    use guildhall::domain::{Actor, ActorKind, Role};
    use guildhall::entity::{money_request, payment};
    use guildhall::service::money::providers::sign;
    use guildhall::service::payments::card;
    use guildhall::service::payments::requests;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let StripeDemo {
        t,
        app,
        providers,
        seen,
        me,
        m,
        inv,
    } = stripe_demo().await;
    let url = card::start(&t.db, &me, &providers, m.number(), &inv.number, false)
        .await
        .expect("checkout");
    assert_eq!(url, "https://checkout.stripe.test/c/pay/cs_test_1");
    let (path, auth, key, form) = seen.lock().expect("lock")[0].clone();
    assert_eq!(path, "/v1/checkout/sessions");
    assert_eq!(auth, "Bearer sk_test_guildhall");
    assert!(key.starts_with("checkout-"));
    let field = |k: &str| {
        form.iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(field("mode"), "payment");
    assert_eq!(field("line_items[0][price_data][currency]"), "gbp");
    assert_eq!(field("line_items[0][price_data][unit_amount]"), "4500");
    let checkout_id = field("client_reference_id");
    assert!(
        field("success_url").ends_with(&format!("/portal/payments/done?checkout={checkout_id}"))
    );

    // Stripe tells us it was paid.
    let event = serde_json::json!({
        "id": "evt_test_paid",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {
            "id": "cs_test_1",
            "object": "checkout.session",
            "client_reference_id": checkout_id,
            "payment_intent": "pi_test_1",
            "amount_total": 4500,
            "currency": "gbp",
            "payment_status": "paid",
        }},
    })
    .to_string()
    .into_bytes();
    let now = chrono::Utc::now().timestamp();

    // Correctly signed events that do not match what we asked Stripe for (another amount, another
    // currency, another session naming our checkout) are refused with 400, every time, and post
    // nothing; the refusal is in the audit trail.
    let forged = |id: &str, session: &str, amount: i64, currency: &str| {
        serde_json::json!({
            "id": id,
            "object": "event",
            "type": "checkout.session.completed",
            "data": {"object": {
                "id": session,
                "object": "checkout.session",
                "client_reference_id": checkout_id,
                "payment_intent": format!("pi_{id}"),
                "amount_total": amount,
                "currency": currency,
                "payment_status": "paid",
            }},
        })
        .to_string()
        .into_bytes()
    };
    for body in [
        forged("evt_cheap", "cs_test_1", 1, "gbp"),
        forged("evt_dear", "cs_test_1", 450_000, "gbp"),
        forged("evt_usd", "cs_test_1", 4500, "usd"),
        forged("evt_other", "cs_attacker", 4500, "gbp"),
    ] {
        let sig = sign(STRIPE_SECRET, now, &body);
        for _ in 0..2 {
            let r = webhook(&app, "stripe", "stripe-signature", &sig, body.clone()).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
            assert!(r.body.contains("refused"), "{}", r.body);
        }
    }
    assert!(payment::Entity::find()
        .all(&t.db)
        .await
        .expect("payments")
        .is_empty());
    let refusals = guildhall::entity::audit_log::Entity::find()
        .filter(guildhall::entity::audit_log::Column::Action.eq("card_payment_refused"))
        .all(&t.db)
        .await
        .expect("audit");
    assert_eq!(refusals.len(), 4);

    let sig = sign(STRIPE_SECRET, now, &event);
    let r = webhook(&app, "stripe", "stripe-signature", &sig, event.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("processed"), "{}", r.body);
    let r = webhook(&app, "stripe", "stripe-signature", &sig, event).await;
    assert!(r.body.contains("duplicate"), "{}", r.body);
    let p = payment::Entity::find().all(&t.db).await.expect("payments");
    assert_eq!(p.len(), 1);
    assert_eq!(
        (
            p[0].provider.as_deref(),
            p[0].reference.as_str(),
            p[0].amount_pence
        ),
        (Some("stripe"), "pi_test_1", 4500)
    );

    // A refund, authorised by someone else, goes back through Stripe.
    let staff = |role: Role| Actor {
        kind: ActorKind::Staff,
        user_id: Some(uuid::Uuid::now_v7()),
        label: format!("{}@guildhall.test", role.as_str()),
        roles: vec![role],
        request_id: None,
    };
    let r = requests::raise(
        &t.db,
        &staff(Role::Officer),
        m.id,
        &requests::RequestInput {
            kind: "refund".into(),
            amount: "10".into(),
            reason: "Conference ticket partly refunded".into(),
            payment: p[0].id.to_string(),
            ..Default::default()
        },
    )
    .await
    .expect("raise");
    requests::decide(&t.db, &staff(Role::Finance), r.id, true, "", ORIGIN)
        .await
        .expect("approve");
    assert_eq!(
        card::process_refunds(&t.db, &providers)
            .await
            .expect("refunds"),
        1
    );
    let (path, _, key, form) = seen.lock().expect("lock")[1].clone();
    assert_eq!(path, "/v1/refunds");
    assert_eq!(key, format!("refund-{}", r.id));
    assert!(form.contains(&("payment_intent".into(), "pi_test_1".into())));
    assert!(form.contains(&("amount".into(), "1000".into())));
    let done = money_request::Entity::find_by_id(r.id)
        .one(&t.db)
        .await
        .expect("q")
        .expect("request");
    assert_eq!(done.provider_status.map(|s| s.as_str()), Some("done"));
    assert_eq!(done.provider_ref.as_deref(), Some("re_test_1"));
}

/// Saved cards at Stripe, for automatic renewal and monthly payments: a member who renews automatically
/// is sent to a Checkout Session that creates a customer and keeps the card for charges off-session;
/// the webhook saves that customer; a charge finds the customer's card and confirms a PaymentIntent
/// off-session with our idempotency key. A card error is a decline (the member is told); an outage is
/// not (tried again later); a customer with no card is a decline.
#[tokio::test]
async fn stripe_saves_cards_and_charges_them_off_session() {
    use guildhall::domain::money::Money;

    use guildhall::entity::saved_card;
    use guildhall::service::money::providers::{sign, ChargeError};
    use guildhall::service::payments::card;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let StripeDemo {
        t,
        app,
        providers,
        seen,
        me,
        m,
        inv,
    } = stripe_demo().await;
    assert!(providers.active.saves_cards());
    let field = |form: &[(String, String)], k: &str| {
        form.iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };

    // Without automatic renewal the card is not kept.
    card::start(&t.db, &me, &providers, m.number(), &inv.number, false)
        .await
        .expect("checkout");
    let form = seen.lock().expect("lock")[0].3.clone();
    assert_eq!(field(&form, "payment_intent_data[setup_future_usage]"), "");
    // With it, Stripe makes a customer and keeps the card.
    guildhall::service::renewals::autorenew::set_auto_renew(
        &t.db,
        &me,
        m.number(),
        true,
        providers.active.as_ref(),
    )
    .await
    .expect("on");
    card::start(&t.db, &me, &providers, m.number(), &inv.number, false)
        .await
        .expect("checkout");
    let form = seen.lock().expect("lock")[1].3.clone();
    assert_eq!(
        field(&form, "payment_intent_data[setup_future_usage]"),
        "off_session"
    );
    assert_eq!(field(&form, "customer_creation"), "always");
    let checkout_id = field(&form, "client_reference_id");

    // The paid session names the customer: that is the saved card from now on.
    let event = serde_json::json!({
        "id": "evt_test_saved",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {
            "id": "cs_test_2",
            "object": "checkout.session",
            "client_reference_id": checkout_id,
            "customer": "cus_test_1",
            "payment_intent": "pi_test_2",
            "amount_total": inv.outstanding_pence,
            "currency": "gbp",
            "payment_status": "paid",
        }},
    })
    .to_string()
    .into_bytes();
    let sig = sign(STRIPE_SECRET, chrono::Utc::now().timestamp(), &event);
    let r = webhook(&app, "stripe", "stripe-signature", &sig, event).await;
    assert!(r.body.contains("processed"), "{}", r.body);
    let saved = saved_card::Entity::find()
        .filter(saved_card::Column::MemberId.eq(m.id))
        .one(&t.db)
        .await
        .expect("q")
        .expect("saved");
    assert_eq!(
        (
            saved.provider.as_str(),
            saved.token.as_str(),
            saved.auto_renew
        ),
        ("stripe", "cus_test_1", true)
    );

    // Charged off-session: the customer's card found, the PaymentIntent confirmed with our key.
    let stripe = providers.active.clone();
    let reference = stripe
        .charge_saved(
            "cus_test_1",
            Money::from_pence(1_800),
            "INV-1 Instalment 2 of 12",
            "instalment-charge:x:2:1",
        )
        .await
        .expect("charged");
    assert_eq!(reference, "pi_off_1");
    let calls = seen.lock().expect("lock").clone();
    let n = calls.len();
    assert!(
        calls[n - 2].0.starts_with("/v1/payment_methods?"),
        "{:?}",
        calls[n - 2].0
    );
    assert!(calls[n - 2].0.contains("customer=cus_test_1"));
    let (path, auth, key, form) = calls[n - 1].clone();
    assert_eq!(path, "/v1/payment_intents");
    assert_eq!(auth, "Bearer sk_test_guildhall");
    assert_eq!(key, "instalment-charge:x:2:1");
    for (k, v) in [
        ("amount", "1800"),
        ("currency", "gbp"),
        ("customer", "cus_test_1"),
        ("payment_method", "pm_test_card"),
        ("off_session", "true"),
        ("confirm", "true"),
    ] {
        assert_eq!(field(&form, k), v, "{k}");
    }
    match stripe
        .charge_saved("cus_declines", Money::from_pence(1_800), "x", "k2")
        .await
    {
        Err(ChargeError::Declined(msg)) => assert_eq!(msg, "Your card has insufficient funds."),
        other => panic!("a decline, not {other:?}"),
    }
    assert!(matches!(
        stripe
            .charge_saved("cus_down", Money::from_pence(1_800), "x", "k3")
            .await,
        Err(ChargeError::Unavailable(_))
    ));
    assert!(matches!(
        stripe
            .charge_saved("cus_nocard", Money::from_pence(1_800), "x", "k4")
            .await,
        Err(ChargeError::Declined(_))
    ));
}

/// The sandbox is never the default, and its webhook secret is never a constant: each process makes
/// its own unless one is given.
#[test]
fn the_sandbox_is_opt_in_and_its_secret_is_made_per_process() {
    if std::env::var("GUILDHALL_PAYMENT_PROVIDER").is_err() {
        let cfg = Config::from_env().expect("config");
        assert_eq!(cfg.payment_provider, "none");
    }
    if std::env::var("GUILDHALL_SANDBOX_WEBHOOK_SECRET").is_err() {
        let a = Config::from_env().expect("config").sandbox_webhook_secret;
        let b = Config::from_env().expect("config").sandbox_webhook_secret;
        assert_ne!(a, b);
        assert!(a.len() >= 40);
        assert_ne!(a, "whsec_guildhall_sandbox");
    }
}

/// Creating an account through the router with a common password, or one containing the address, is
/// refused with a message that says why; no account is made.
#[tokio::test]
async fn create_account_refuses_common_passwords_and_the_address_saying_why() {
    use guildhall::entity::user;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    for t in databases().await {
        let app = app(&t).await;
        for (password, why) in [
            ("password1234", "This password is too common"),
            (
                "jo.bloggs@example.com1",
                "Your password must not contain your email address",
            ),
        ] {
            let body = format!(
                "given_name=Jo&family_name=Bloggs&email={}&password={}",
                enc("jo.bloggs@example.com"),
                enc(password)
            );
            let r = fn_post(&app, "/fn/create-account", &body, "").await;
            assert!(
                r.body.contains(why),
                "{}: {password}: {} {}",
                t.name,
                r.status,
                r.body
            );
        }
        let made = user::Entity::find()
            .filter(user::Column::EmailKey.eq("jo.bloggs@example.com"))
            .one(&t.db)
            .await
            .expect("query");
        assert!(made.is_none(), "{}: no account made", t.name);
        t.finish().await;
    }
}

/// A large cheque recorded through the staff form (no JavaScript) is not recorded: the officer is sent
/// back to the member's money page, which says it waits for a second person, and nothing is paid.
#[tokio::test]
async fn a_large_cheque_from_the_staff_form_waits_for_a_second_person() {
    use guildhall::entity::{member, money_request, payment};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    for t in databases().await {
        let app = app(&t).await;
        let officer = sign_in(&app, "officer@guildhall.test").await;
        // An i64, as the column is: PostgreSQL connections keep prepared statements by their SQL
        // text, so an i32 bound here made the page's own lookup of the same member, on the same
        // pooled connection, fail now and then ("incorrect binary data format in bind parameter").
        let m = member::Entity::find()
            .filter(member::Column::MembershipNumber.eq(2_i64))
            .one(&t.db)
            .await
            .expect("q")
            .expect("GH0000002");
        let payments = payment::Entity::find().count(&t.db).await.expect("count");
        let today = guildhall::service::today().to_string();
        let r = form_post(
            &app,
            "/fn/record-payment",
            &[
                ("member_id", &m.id.to_string()),
                ("number", "GH0000002"),
                ("method", "cheque"),
                ("reference", "001234"),
                ("received_amount", "750.00"),
                ("received_on", &today),
                ("against", ""),
                ("form_key", &uuid::Uuid::now_v7().to_string()),
            ],
            Some(&officer),
        )
        .await;
        let to = r
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(
            to, "/staff/members/GH0000002/money?saved=payment_request",
            "{}: {} {}",
            t.name, r.status, r.body
        );
        let page = get(&app, &to, Some(&officer)).await;
        assert!(
            page.body
                .contains("Waiting for a second person to authorise"),
            "{}",
            t.name
        );
        assert_eq!(
            payment::Entity::find().count(&t.db).await.expect("count"),
            payments,
            "{}: nothing recorded",
            t.name
        );
        let waiting = money_request::Entity::find()
            .filter(money_request::Column::Kind.eq("manual_payment"))
            .count(&t.db)
            .await
            .expect("count");
        assert_eq!(waiting, 1, "{}", t.name);
        t.finish().await;
    }
}

// ---- Second factor and staff accounts (issue 17, item 6) ----

fn demo_code() -> String {
    guildhall::service::mfa::current_code(guildhall::service::mfa::DEMO_TOTP_SECRET)
        .expect("demo code")
}

/// Posts the password only: answers the response and its (pending) session cookie.
async fn password_only(app: &Router, email: &str, password: &str) -> (Res, String) {
    let r = form_post(
        app,
        "/fn/sign-in",
        &[("email", email), ("password", password)],
        None,
    )
    .await;
    let cookie = session_cookie(&r).expect("session cookie");
    (r, cookie)
}

#[tokio::test]
async fn staff_who_gave_only_their_password_can_reach_nothing_until_the_code_step() {
    for t in databases().await {
        let app = app(&t).await;
        let (r, pending) = password_only(&app, "admin@guildhall.test", "guildhall-demo").await;
        assert_eq!(r.status, StatusCode::FOUND);
        assert_eq!(location(&r), "/sign-in/code");
        for path in [
            "/staff",
            "/staff/members",
            "/staff/admin/staff",
            "/staff/account",
        ] {
            let r = get(&app, path, Some(&pending)).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{path} before the code");
            assert!(location(&r).starts_with("/sign-in?next="), "{path}");
        }
        for (path, body) in [
            ("/fn/staff-accounts", ""),
            ("/fn/outbox-list", ""),
            (
                "/fn/staff-set-disabled",
                "id=00000000-0000-0000-0000-000000000000&disable=1",
            ),
        ] {
            let r = fn_post(&app, path, body, &pending).await;
            assert!(
                r.body.contains("Unauthenticated") || r.body.contains("Forbidden"),
                "{path}: {} {}",
                r.status,
                r.body
            );
            assert!(!r.body.contains("@guildhall.test"), "{path} leaked data");
        }
        let page = get(&app, "/sign-in/code", Some(&pending)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Enter your security code"));

        // A wrong code is refused with a message and the person stays half-way.
        let r = fn_post(&app, "/fn/second-step", "code=000000", &pending).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("That code is not right"), "{}", r.body);
        assert_eq!(
            get(&app, "/staff", Some(&pending)).await.status,
            StatusCode::SEE_OTHER
        );

        let r = form_post(
            &app,
            "/fn/second-step",
            &[("code", &demo_code())],
            Some(&pending),
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        assert_eq!(location(&r), "/staff");
        let cookie = session_cookie(&r).expect("a new session id");
        assert_ne!(cookie, pending, "the session id changes on signing in");
        assert_eq!(
            get(&app, "/staff/admin/staff", Some(&cookie)).await.status,
            StatusCode::OK
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn five_wrong_codes_pause_the_code_step_for_the_account() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let (_, pending) = password_only(&app, "finance@guildhall.test", "guildhall-demo").await;
    for _ in 0..guildhall::service::mfa::MAX_FAILURES {
        let r = fn_post(&app, "/fn/second-step", "code=111111", &pending).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    }
    let r = fn_post(
        &app,
        "/fn/second-step",
        &format!("code={}", demo_code()),
        &pending,
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    // From another session too: the pause is the account's.
    let (_, other) = password_only(&app, "finance@guildhall.test", "guildhall-demo").await;
    let r = fn_post(
        &app,
        "/fn/second-step",
        &format!("code={}", demo_code()),
        &other,
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
}

/// The text of the element marked `data-testid="{id}"` on a page.
fn test_id_text(body: &str, id: &str) -> String {
    let marker = format!("data-testid=\"{id}\"");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("{id} on the page: {body}"));
    let start = at + body[at..].find('>').expect("the tag ends") + 1;
    body[start..]
        .split('<')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[tokio::test]
async fn a_new_staff_member_sets_up_an_authenticator_before_anything_else() {
    for t in databases().await {
        let app = app(&t).await;
        guildhall::service::identity::create_staff(
            &t.db,
            &Actor::system("test"),
            guildhall::service::identity::NewStaff {
                email: "newcomer@guildhall.test".into(),
                given_name: "New".into(),
                family_name: "Comer".into(),
                roles: vec![guildhall::domain::Role::Officer],
                password: Some("a long new password".into()),
            },
            ORIGIN,
        )
        .await
        .expect("staff");
        let (r, pending) =
            password_only(&app, "newcomer@guildhall.test", "a long new password").await;
        assert_eq!(location(&r), "/sign-in/set-up");
        assert_eq!(
            get(&app, "/staff", Some(&pending)).await.status,
            StatusCode::SEE_OTHER
        );
        let page = get(&app, "/sign-in/set-up", Some(&pending)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("data:image/svg+xml;base64,"),
            "a QR code"
        );
        let secret = test_id_text(&page.body, "totp-secret");
        assert_eq!(secret.len(), 32, "{secret}");
        // The same secret on a reload (the QR code already scanned stays right).
        let again = get(&app, "/sign-in/set-up", Some(&pending)).await;
        assert_eq!(test_id_text(&again.body, "totp-secret"), secret);

        let r = fn_post(&app, "/fn/confirm-enrolment", "code=000000", &pending).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let code = guildhall::service::mfa::current_code(&secret).expect("code");
        let r = form_post(
            &app,
            "/fn/confirm-enrolment",
            &[("code", &code)],
            Some(&pending),
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        assert_eq!(location(&r), "/staff");
        let cookie = session_cookie(&r).expect("signed in");
        assert_eq!(
            get(&app, "/staff", Some(&cookie)).await.status,
            StatusCode::OK
        );
        // The secret is never shown again.
        let r = get(&app, "/sign-in/set-up", Some(&cookie)).await;
        assert!(!r.body.contains(&secret));
        t.finish().await;
    }
}

#[tokio::test]
async fn a_disabled_staff_account_is_signed_out_at_its_next_request() {
    for t in databases().await {
        let app = app(&t).await;
        let officer = sign_in(&app, "officer@guildhall.test").await;
        assert_eq!(
            get(&app, "/staff", Some(&officer)).await.status,
            StatusCode::OK
        );
        let admin = sign_in(&app, "admin@guildhall.test").await;
        let id = user_id(&t.db, "officer@guildhall.test").await;

        // Officers cannot, and an admin cannot disable themself.
        let r = fn_post(
            &app,
            "/fn/staff-set-disabled",
            &format!("id={id}&disable=1"),
            &officer,
        )
        .await;
        assert!(r.body.contains("Forbidden"), "{}", r.body);
        let me = user_id(&t.db, "admin@guildhall.test").await;
        let r = fn_post(
            &app,
            "/fn/staff-set-disabled",
            &format!("id={me}&disable=1"),
            &admin,
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

        let r = form_post(
            &app,
            "/fn/staff-set-disabled",
            &[("id", &id.to_string()), ("disable", "1")],
            Some(&admin),
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        let r = get(&app, "/staff", Some(&officer)).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "the officer's session is dead"
        );
        let r = form_post(
            &app,
            "/fn/sign-in",
            &[
                ("email", "officer@guildhall.test"),
                ("password", "guildhall-demo"),
            ],
            None,
        )
        .await;
        assert_ne!(
            location(&r),
            "/sign-in/code",
            "a disabled account cannot sign in"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn removing_a_role_takes_effect_at_the_next_request() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let finance = sign_in(&app, "finance@guildhall.test").await;
    assert_eq!(
        get(&app, "/staff/reports/transactions", Some(&finance))
            .await
            .status,
        StatusCode::OK
    );
    let id = user_id(&t.db, "finance@guildhall.test").await;
    let admin = sign_in(&app, "admin@guildhall.test").await;
    let r = form_post(
        &app,
        "/fn/staff-remove-role",
        &[("id", &id.to_string()), ("role", "finance")],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    assert_ne!(
        get(&app, "/staff/reports/transactions", Some(&finance))
            .await
            .status,
        StatusCode::OK
    );
    let me = user_id(&t.db, "admin@guildhall.test").await;
    let r = fn_post(
        &app,
        "/fn/staff-remove-role",
        &format!("id={me}&role=admin"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}

/// Opens the staff event stream and answers when it ends (or panics after 60 s).
fn stream_until_end(app: &Router, cookie: &str) -> tokio::task::JoinHandle<Res> {
    let app = app.clone();
    let cookie = cookie.to_owned();
    tokio::spawn(async move { get(&app, "/staff/events", Some(&cookie)).await })
}

#[tokio::test]
async fn the_staff_event_stream_ends_when_the_account_is_disabled_or_loses_its_role() {
    for t in databases().await {
        let app = app(&t).await;
        let officer = sign_in(&app, "officer@guildhall.test").await;
        let supervisor = sign_in(&app, "supervisor@guildhall.test").await;
        let admin_cookie = sign_in(&app, "admin@guildhall.test").await;
        let disabled = stream_until_end(&app, &officer);
        let demoted = stream_until_end(&app, &supervisor);
        let kept = stream_until_end(&app, &admin_cookie);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let admin = account_actor(&t.db, "admin@guildhall.test").await;
        let officer_id = user_id(&t.db, "officer@guildhall.test").await;
        let supervisor_id = user_id(&t.db, "supervisor@guildhall.test").await;
        guildhall::service::staff::set_disabled(&t.db, &admin, officer_id, true)
            .await
            .expect("disabled");
        guildhall::service::staff::remove_role(
            &t.db,
            &admin,
            supervisor_id,
            guildhall::domain::Role::Supervisor,
        )
        .await
        .expect("removed");
        for (who, h) in [("disabled", disabled), ("demoted", demoted)] {
            let r = tokio::time::timeout(Duration::from_secs(20), h)
                .await
                .unwrap_or_else(|_| panic!("the {who} account's stream did not end"))
                .expect("join");
            assert_eq!(r.status, StatusCode::OK);
            assert!(r.body.contains("event: ready"), "{}", r.body);
        }
        assert!(!kept.is_finished(), "the admin's stream goes on");
        kept.abort();
        t.finish().await;
    }
}

#[tokio::test]
async fn staff_change_their_own_password_and_their_other_sessions_end() {
    for t in databases().await {
        let app = app(&t).await;
        let here = sign_in(&app, "supervisor@guildhall.test").await;
        let elsewhere = sign_in(&app, "supervisor@guildhall.test").await;
        let page = get(&app, "/staff/account", Some(&here)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Change your password"));

        let r = fn_post(
            &app,
            "/fn/staff-change-password",
            "current_password=wrong-password-here&new_password=a+brand+new+password&confirm_password=a+brand+new+password",
            &here,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let r = fn_post(
            &app,
            "/fn/staff-change-password",
            "current_password=guildhall-demo&new_password=short&confirm_password=short",
            &here,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

        let r = form_post(
            &app,
            "/fn/staff-change-password",
            &[
                ("current_password", "guildhall-demo"),
                ("new_password", "a brand new password"),
                ("confirm_password", "a brand new password"),
            ],
            Some(&here),
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        let here = session_cookie(&r).expect("this session goes on under a new id");
        assert_eq!(
            get(&app, "/staff", Some(&here)).await.status,
            StatusCode::OK
        );
        assert_eq!(
            get(&app, "/staff", Some(&elsewhere)).await.status,
            StatusCode::SEE_OTHER,
            "the other session ended"
        );
        let id = user_id(&t.db, "supervisor@guildhall.test").await;
        let (rows, _) =
            guildhall::service::audit::list(&t.db, &Actor::system("test"), Some("user"), 0, 200)
                .await
                .expect("audit");
        assert!(rows
            .iter()
            .any(|r| r.action == "password_changed" && r.entity_id == id.to_string()));
        t.finish().await;
    }
}

#[tokio::test]
async fn a_member_may_turn_on_two_step_sign_in_and_is_then_asked_for_a_code() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let member = sign_in(&app, "member@guildhall.test").await;
    let page = get(&app, "/portal/two-factor", Some(&member)).await;
    assert_eq!(page.status, StatusCode::OK);
    let secret = test_id_text(&page.body, "totp-secret");
    let code = guildhall::service::mfa::current_code(&secret).expect("code");
    let r = form_post(
        &app,
        "/fn/confirm-enrolment",
        &[("code", &code)],
        Some(&member),
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    assert_eq!(location(&r), "/portal/two-factor?saved=on");

    let (r, pending) = password_only(&app, "member@guildhall.test", "guildhall-demo").await;
    assert_eq!(location(&r), "/sign-in/code");
    assert_eq!(
        get(&app, "/portal", Some(&pending)).await.status,
        StatusCode::SEE_OTHER,
        "nothing before the code"
    );
    let next = guildhall::service::mfa::code_at(
        &secret,
        guildhall::service::now().timestamp() as u64 + 30,
    )
    .expect("code");
    let r = form_post(&app, "/fn/second-step", &[("code", &next)], Some(&pending)).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    assert_eq!(location(&r), "/portal");
    let cookie = session_cookie(&r).expect("signed in");

    // Turning it off needs the password.
    let r = fn_post(&app, "/fn/turn-off-two-factor", "password=wrong", &cookie).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = form_post(
        &app,
        "/fn/turn-off-two-factor",
        &[("password", "guildhall-demo")],
        Some(&cookie),
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
    let (r, _) = password_only(&app, "member@guildhall.test", "guildhall-demo").await;
    assert_eq!(location(&r), "/portal");
}

#[tokio::test]
async fn a_form_refused_without_javascript_comes_back_with_what_was_typed_once() {
    for t in databases().await {
        let app = app(&t).await;
        let cookie = sign_in(&app, "member@guildhall.test").await;
        let fields = [
            ("member", ""),
            ("title", ""),
            ("given_name", "Sam"),
            ("family_name", "Jackson"),
            ("preferred_name", ""),
            ("phone", "07700 900 982"),
            ("address_line1", "1 Mill Lane"),
            ("address_line2", ""),
            ("town", "Hebden Bridge"),
            ("county", ""),
            ("postcode", "NOT A POSTCODE"),
            ("country", "GB"),
        ];
        let on_details = "/portal/details";
        let r = form_post_on(
            &app,
            on_details,
            "/fn/save-my-details",
            &fields,
            Some(&cookie),
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        assert_eq!(location(&r), "/portal/details", "no error in the address");
        let page = get(&app, "/portal/details", Some(&cookie)).await;
        assert!(page.body.contains("There is a problem"), "{}", t.name);
        assert!(
            page.body.contains("<title>Error: Your details"),
            "the title says so"
        );
        assert!(
            page.body.contains(r#"value="Hebden Bridge""#),
            "the town as typed"
        );
        assert!(
            page.body.contains(r#"value="NOT A POSTCODE""#),
            "the postcode as typed"
        );
        // Shown once: the next visit shows what is stored.
        let again = get(&app, "/portal/details", Some(&cookie)).await;
        assert!(!again.body.contains("There is a problem"));
        assert!(!again.body.contains("Hebden Bridge"));
        // A flash from one page never shows on another.
        let r = form_post_on(
            &app,
            on_details,
            "/fn/save-my-details",
            &fields,
            Some(&cookie),
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND);
        let other = get(&app, "/portal/preferences", Some(&cookie)).await;
        assert!(!other.body.contains("There is a problem"));
        t.finish().await;
    }
}

#[tokio::test]
async fn a_decline_refused_without_javascript_opens_its_row_again_with_the_note() {
    use guildhall::domain::{Actor, ActorKind, Role};
    use guildhall::service::payments::requests;
    for t in databases().await {
        let app = app(&t).await;
        let (_, m) = guildhall::testing::account_member(&t.db, "member@guildhall.test").await;
        let officer = Actor {
            kind: ActorKind::Staff,
            user_id: Some(uuid::Uuid::now_v7()),
            label: "officer@guildhall.test".into(),
            roles: vec![Role::Officer],
            request_id: None,
        };
        let raised = |description: &'static str| requests::RequestInput {
            kind: "manual_invoice".into(),
            amount: "12".into(),
            reason: "Replacement certificate".into(),
            description: description.into(),
            ..Default::default()
        };
        let first = requests::raise(&t.db, &officer, m.id, &raised("Certificate"))
            .await
            .expect("raise");
        let second = requests::raise(&t.db, &officer, m.id, &raised("Badge"))
            .await
            .expect("raise");
        let cookie = sign_in(&app, "finance@guildhall.test").await;
        let page = "/staff/payments/requests";
        let note = "x".repeat(501);
        let r = form_post_on(
            &app,
            page,
            "/fn/decide-request",
            &[
                ("id", &second.id.to_string()),
                ("decision", "decline"),
                ("note", &note),
            ],
            Some(&cookie),
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        let shown = get(&app, page, Some(&cookie)).await;
        assert!(shown.body.contains("500 characters or fewer"), "{}", t.name);
        // The declined row is open with the note as typed, under the id the summary links to; the
        // other row is as it was.
        assert!(shown.body.contains(&format!(r#"value="{note}""#)));
        assert_eq!(shown.body.matches(r#"id="note""#).count(), 1);
        assert!(shown.body.contains(&format!(r#"id="note-{}""#, first.id)));
        let open = shown
            .body
            .split("<details")
            .skip(1)
            .filter(|tag| tag.split('>').next().is_some_and(|t| t.contains(" open")))
            .count();
        assert_eq!(open, 1, "only the declined row is open");
        t.finish().await;
    }
}

#[tokio::test]
async fn the_builds_files_are_checked_for_freshness_before_use() {
    let t = guildhall::testing::sqlite().await;
    let app = app(&t).await;
    let r = get(&app, "/pkg/guildhall.css", None).await;
    assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-cache");
    // A name carrying a hash is kept for a year once found; a missing one is not remembered.
    let r = get(&app, "/pkg/guildhall.Gq2-x_AAAAAAAAAAAAAAAA.wasm", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-cache");
    t.finish().await;
}
