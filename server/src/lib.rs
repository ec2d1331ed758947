//! The `guildhall` server: configuration, database, the axum router (pages, server functions, health,
//! the outbox preview), the middleware every request passes through, background workers and the CLI.
//!
//! `router(state)` is the whole HTTP surface: `main` serves it and the tests drive it with `oneshot`.

pub mod bench;
pub mod cli;
pub mod config;
pub mod flash;
pub mod middleware;
pub mod production;
pub mod session_store;
pub mod workers;

use app::ctx::{MailLimiter, ServerState, SignInLimiter};
use app::{shell, App};
use axum::extract::{FromRef, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use guildhall::domain::{Actor, Permission};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use config::Config;

/// Sessions end after 30 minutes without a request…
pub const IDLE_TIMEOUT: time::Duration = time::Duration::minutes(30);
/// …and 12 hours after signing in, whatever happens.
pub const ABSOLUTE_TIMEOUT_SECS: i64 = 12 * 60 * 60;
/// The session cookie over plain http (development only: browsers refuse a `__Host-` cookie without
/// `Secure`)…
pub const SESSION_COOKIE: &str = "gh_session";
/// How often an open staff event stream re-checks that its account is still enabled and staff.
pub const STREAM_RECHECK: std::time::Duration = std::time::Duration::from_secs(3);
/// …and when served over https: the `__Host-` prefix makes browsers insist on `Secure`, `Path=/` and
/// no `Domain`, so no other host (a sibling subdomain) can set or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-gh_session";

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub server: ServerState,
    pub config: Arc<Config>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

impl AppState {
    pub fn new(
        config: Config,
        db: sea_orm::DatabaseConnection,
        leptos_options: LeptosOptions,
    ) -> anyhow::Result<Self> {
        let payments = config.providers()?;
        let server = ServerState {
            db,
            base_url: config.base_url.clone(),
            limiter: Arc::new(SignInLimiter::new(
                config.signin_per_ip_per_minute,
                config.signin_per_account,
            )),
            mail_limiter: Arc::new(MailLimiter::new(
                config.mail_per_ip_per_hour,
                config.mail_per_address_per_hour,
            )),
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            register_limiter: Arc::new(app::ctx::PerIpLimiter::per_minute(
                config.register_per_ip_per_minute,
            )),
            payments,
        };
        Ok(Self {
            leptos_options,
            server,
            config: Arc::new(config),
        })
    }
}

/// Leptos options from cargo-leptos's environment, with defaults that match `Cargo.toml`.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    let env = |k: &str, d: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| d.to_owned())
    };
    let mut options = LeptosOptions::builder()
        .output_name(env("LEPTOS_OUTPUT_NAME", "guildhall"))
        .site_root(env("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(env("LEPTOS_SITE_PKG_DIR", "pkg"))
        .hash_file(env("LEPTOS_HASH_FILE_NAME", "hash.txt").into())
        .site_addr(config.addr)
        .build();
    // The build names its files by their hashes (`hash-files` in Cargo.toml) and lists them in
    // hash.txt beside this binary; a binary without that list (a test, a copy made without it)
    // serves the plain names.
    options.hash_files = env("LEPTOS_HASH_FILES", "true") == "true"
        && app::assets::hash_list_path(&options).is_file();
    options
}

/// Every route Guildhall answers, with its middleware.
pub fn router(state: AppState) -> Router {
    // The route list is made once per process. Making it runs the app with resource loading
    // suppressed process-wide (leptos_server's `SuppressResourceLoad`), and a resource first polled
    // by a render elsewhere meanwhile never resolves (leptos-rs/leptos#4773): building a second
    // router in a running process (the tests build one each) could leave a page hanging.
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    let routes = ROUTES.get_or_init(|| generate_route_list(App)).clone();
    let server_state = state.server.clone();
    let context = move || provide_context(server_state.clone());
    let options = state.leptos_options.clone();
    let sessions = SessionManagerLayer::new(session_store::DbStore::new(state.server.db.clone()))
        .with_name(if state.config.secure_cookies {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_path("/")
        .with_always_save(true)
        .with_expiry(Expiry::OnInactivity(IDLE_TIMEOUT));

    Router::new()
        .route("/healthz", get(healthz))
        .route("/staff/outbox/{id}/html", get(outbox_html))
        .route("/staff/events", get(staff_events))
        .route("/portal/data.json", get(my_data))
        .route("/webhooks/{provider}", axum::routing::post(webhook))
        .route("/portal/documents/{file}", get(document_pdf))
        .route("/staff/documents/{file}", get(document_pdf))
        .route("/staff/reports/transactions.csv", get(transactions_csv))
        .route("/staff/reports/aged-debt.csv", get(aged_debt_csv))
        .route("/staff/reports/trade.csv", get(trade_report_csv))
        .route("/staff/reports/trends.csv", get(trends_csv))
        .route(
            "/staff/exports/download",
            axum::routing::post(export_download),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::server_fn_status,
        ))
        .layer(axum::middleware::from_fn(flash::form_flash))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::authenticate,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::same_origin,
        ))
        // Pages and server-function answers are compressed (brotli or gzip, as the browser accepts);
        // the build's files are precompressed by `cargo leptos build --release --precompress` and
        // served as they are; the event stream is never compressed (tower-http leaves SSE alone).
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn(middleware::trace))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .with_state(state)
}

/// The staff event stream (server-sent events): `change` events (id: this node's event number, data:
/// the topic) as services publish them, and `resync` when the browser reconnects (it sends
/// `Last-Event-ID`) or the stream fell behind, after which the page fetches everything again. A
/// comment every 15 s keeps proxies from closing it; it ends when the server shuts down, and when the
/// account is disabled or loses the staff area (checked every `STREAM_RECHECK`).
async fn staff_events(
    State(state): State<AppState>,
    actor: axum::Extension<Actor>,
    headers: axum::http::HeaderMap,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use guildhall::service::events::{self, Topic};
    use tokio::sync::broadcast::error::RecvError;
    if actor.require(Permission::StaffArea).is_err() {
        return StatusCode::FORBIDDEN.into_response();
    }
    let resumed = headers.contains_key("last-event-id");
    let rx = events::subscribe();
    let stop = events::stopping();
    let hello = Event::default()
        .id(events::last_seq().to_string())
        .event(if resumed { "resync" } else { "ready" })
        .retry(std::time::Duration::from_secs(2))
        .data(Topic::Resync.as_str());
    let first = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(hello)]);
    let Some(uid) = actor.user_id else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let db = state.server.db.clone();
    let mut recheck = tokio::time::interval(STREAM_RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    recheck.reset();
    let live = futures_util::stream::unfold(
        (rx, stop, recheck),
        move |(mut rx, mut stop, mut recheck)| {
            let db = db.clone();
            async move {
                loop {
                    if *stop.borrow() {
                        return None;
                    }
                    let ev = tokio::select! {
                        _ = stop.changed() => return None,
                        _ = recheck.tick() => {
                            // Disabled, or no longer holding a staff role: the stream ends.
                            match guildhall::service::staff::still_allowed(&db, uid, Permission::StaffArea).await {
                                Ok(true) => continue,
                                Ok(false) => return None,
                                Err(e) => {
                                    tracing::warn!(error = ?e, "staff stream: could not re-check the account");
                                    continue;
                                }
                            }
                        }
                        r = rx.recv() => match r {
                            Ok(c) if c.topic == Topic::Resync => Event::default().id(c.seq.to_string()).event("resync").data(c.topic.as_str()),
                            Ok(c) => Event::default().id(c.seq.to_string()).event("change").data(c.topic.as_str()),
                            Err(RecvError::Lagged(_)) => Event::default().event("resync").data(Topic::Resync.as_str()),
                            Err(RecvError::Closed) => return None,
                        },
                    };
                    return Some((Ok(ev), (rx, stop, recheck)));
                }
            }
        },
    );
    use futures_util::StreamExt as _;
    (
        [(header::CACHE_CONTROL, "no-store")],
        Sse::new(first.chain(live)).keep_alive(
            KeepAlive::new()
                .interval(std::time::Duration::from_secs(15))
                .text("keep-alive"),
        ),
    )
        .into_response()
}

/// 200 when the database answers, 503 when it does not.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.server.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            "ok\n",
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CACHE_CONTROL, "no-store")],
                "database unavailable\n",
            )
                .into_response()
        }
    }
}

/// The HTML body of an outbox message, for the preview frame on the message page: staff only, its own
/// strict CSP (no scripts at all), framable only by our own pages.
async fn outbox_html(
    State(state): State<AppState>,
    actor: axum::Extension<Actor>,
    Path(id): Path<String>,
) -> Response {
    if actor.require(Permission::ViewOutbox).is_err() {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match guildhall::service::outbox::read(&state.server.db, &actor, id, "html").await {
        Ok(m) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"),
                (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            m.body_html,
        )
            .into_response(),
        Err(e) => error_response(e),
    }
}

/// Download my data: everything held about the signed-in member, as a JSON file (members only; the
/// area guard has already refused visitors and staff).
async fn my_data(State(state): State<AppState>, actor: axum::Extension<Actor>) -> Response {
    if actor.require(Permission::OwnRecords).is_err() {
        return StatusCode::FORBIDDEN.into_response();
    }
    match guildhall::service::members::portal::export(&state.server.db, &actor).await {
        Ok(v) => match serde_json::to_vec_pretty(&v) {
            Ok(body) => (
                [
                    (header::CONTENT_TYPE, "application/json; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"guildhall-my-data.json\"",
                    ),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                body,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "my data: serialising failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        },
        Err(e) => error_response(e),
    }
}

/// A provider's webhook: verified against its secret (400 and nothing changed when the signature is
/// wrong or older than 300 s), then processed exactly once; 2xx only after the work has committed.
async fn webhook(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use guildhall::service::money::providers;
    use guildhall::service::payments::webhooks;
    let Some(secret) = state.server.payments.webhook_secret(&provider) else {
        return (StatusCode::NOT_FOUND, "unknown provider\n").into_response();
    };
    let header_name = if provider == "stripe" {
        "stripe-signature"
    } else {
        "sandbox-signature"
    };
    let Some(sig) = headers.get(header_name).and_then(|v| v.to_str().ok()) else {
        tracing::warn!(%provider, "webhook without a signature refused");
        return (StatusCode::BAD_REQUEST, "missing signature\n").into_response();
    };
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = providers::verify(secret, sig, &body, now) {
        tracing::warn!(%provider, error = %e, "webhook refused");
        return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response();
    }
    let event = match webhooks::parse(&body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(%provider, error = %e, "unreadable webhook refused");
            return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response();
        }
    };
    let id = event.id.clone();
    match webhooks::handle(&state.server.db, &provider, event, &state.config.base_url).await {
        Ok(outcome) => {
            tracing::info!(%provider, event = %id, ?outcome, "webhook handled");
            state.server.outbox_wake.notify_one();
            let label =
                match outcome {
                    webhooks::Outcome::Processed(_) => "processed",
                    webhooks::Outcome::Ignored(_) => "ignored",
                    webhooks::Outcome::Duplicate => "duplicate",
                    webhooks::Outcome::Refused(why) => return (
                        StatusCode::BAD_REQUEST,
                        [(header::CONTENT_TYPE, "application/json")],
                        serde_json::json!({"received": true, "outcome": "refused", "reason": why})
                            .to_string(),
                    )
                        .into_response(),
                };
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                format!("{{\"received\":true,\"outcome\":\"{label}\"}}"),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(%provider, event = %id, error = ?e, "webhook failed; the provider will retry");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn download(content_type: &'static str, name: &str, body: Vec<u8>) -> Response {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// A handler's `AppError` as a response: the status is always [`AppError::status`] (the one mapping
/// from errors to HTTP, shared with the server functions), the body the error's own words (field
/// messages one per line), which never hold internal detail.
fn error_response(e: guildhall::domain::AppError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match e.fields() {
        Some(f) => f
            .iter()
            .map(|x| format!("{}: {}\n", x.field, x.message))
            .collect(),
        None => format!("{e}\n"),
    };
    (status, body).into_response()
}

/// A download whose address does not read (a filter in its query string that does not parse) is a
/// malformed request, answered 400 like any query string axum's `Query` cannot read: the form on the
/// page is where such a value gets its field message.
fn query_rejected(e: &guildhall::domain::AppError) -> Response {
    tracing::debug!(error = ?e, "download address refused");
    (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response()
}

/// An invoice, credit note or receipt as a PDF (`INV-000001.pdf`): members reach only their own (and
/// their organisations'); staff any.
async fn document_pdf(
    State(state): State<AppState>,
    actor: axum::Extension<Actor>,
    Path(file): Path<String>,
) -> Response {
    let Some(number) = file.strip_suffix(".pdf") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match guildhall::service::money::account::document_pdf(&state.server.db, &actor, number).await {
        Ok((name, bytes)) => download("application/pdf", &name, bytes),
        Err(e) => error_response(e),
    }
}

#[derive(serde::Deserialize, Default)]
struct TxnQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    kind: String,
}

/// The transaction-history report as CSV, with the filters of the page.
async fn transactions_csv(
    State(state): State<AppState>,
    actor: axum::Extension<Actor>,
    axum::extract::Query(q): axum::extract::Query<TxnQuery>,
) -> Response {
    use guildhall::service::money::reports;
    let f = match reports::parse_filter(&q.from, &q.to, &q.method, &q.kind) {
        Ok(f) => f,
        Err(e) => return query_rejected(&e),
    };
    let rows = async {
        let rows = reports::transactions(&state.server.db, &actor, &f, 100_000).await?;
        reports::transactions_csv(&rows)
    }
    .await;
    match rows {
        Ok(body) => download("text/csv; charset=utf-8", "transactions.csv", body),
        Err(e) => error_response(e),
    }
}

/// The aged-debt report as CSV, as of today.
/// A file for a third party, from the form on `/staff/exports` (a plain form post, so it works without
/// JavaScript): the CSV as a download, recorded; bad input goes back to the form with its messages.
async fn export_download(
    State(state): State<AppState>,
    actor: axum::Extension<Actor>,
    axum::extract::Form(form): axum::extract::Form<std::collections::HashMap<String, String>>,
) -> Response {
    use guildhall::domain::AppError;
    use guildhall::service::exports::{self, ExportInput};
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let input = ExportInput {
        kind: get("kind"),
        month: get("month"),
        fields: form
            .keys()
            .filter_map(|k| k.strip_prefix("f_"))
            .map(str::to_owned)
            .collect(),
    };
    match exports::make(
        &state.server.db,
        &actor,
        &input,
        guildhall::service::today(),
    )
    .await
    {
        Ok(made) => download("text/csv; charset=utf-8", &made.filename, made.csv),
        Err(AppError::Validation(errors)) => {
            // Only the fields go in the address; the page has the messages.
            let fields = errors
                .iter()
                .map(|e| e.field.clone())
                .collect::<Vec<_>>()
                .join(",");
            let query = app::format::urlencode(&fields);
            axum::response::Redirect::to(&format!(
                "/staff/exports?kind={}&error={query}",
                app::format::urlencode(&input.kind)
            ))
            .into_response()
        }
        Err(e) => error_response(e),
    }
}

/// Trends by month (with the year before) and the category rates for the last 12 months, as CSV.
async fn trends_csv(State(state): State<AppState>, actor: axum::Extension<Actor>) -> Response {
    use guildhall::service::trends;
    let today = guildhall::service::today();
    let out = async {
        let months = trends::monthly(&state.server.db, &actor, today, 12).await?;
        let since = today
            .checked_sub_months(chrono::Months::new(12))
            .unwrap_or(today)
            + chrono::Duration::days(1);
        let cats = trends::by_category(&state.server.db, &actor, since, today).await?;
        trends::trends_csv(&months, &cats)
    }
    .await;
    match out {
        Ok(body) => download(
            "text/csv; charset=utf-8",
            &format!("trends-{today}.csv"),
            body,
        ),
        Err(e) => error_response(e),
    }
}

#[derive(serde::Deserialize)]
struct WeekQuery {
    week: Option<String>,
}

/// The weekly Trade Report as CSV, for the week holding `?week=YYYY-MM-DD` (this week without it).
async fn trade_report_csv(
    State(state): State<AppState>,
    actor: axum::Extension<Actor>,
    axum::extract::Query(q): axum::extract::Query<WeekQuery>,
) -> Response {
    use guildhall::service::trends;
    let day = match trends::parse_week(q.week.as_deref().unwrap_or("")) {
        Ok(d) => d,
        Err(e) => return query_rejected(&e),
    };
    let out = async {
        let r = trends::trade_report(&state.server.db, &actor, day).await?;
        Ok::<_, guildhall::domain::AppError>((r.from, trends::trade_report_csv(&r)?))
    }
    .await;
    match out {
        Ok((from, body)) => download(
            "text/csv; charset=utf-8",
            &format!("trade-report-{from}.csv"),
            body,
        ),
        Err(e) => error_response(e),
    }
}

async fn aged_debt_csv(State(state): State<AppState>, actor: axum::Extension<Actor>) -> Response {
    use guildhall::service::money::reports;
    use guildhall::service::today;
    let out = async {
        let all = reports::aged_debt(&state.server.db, &actor, today(), None).await?;
        reports::aged_debt_csv(&all.rows)
    }
    .await;
    match out {
        Ok(body) => download("text/csv; charset=utf-8", "aged-debt.csv", body),
        Err(e) => error_response(e),
    }
}
