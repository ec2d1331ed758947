//! What every request passes through, outermost first: security headers (with a fresh CSP nonce), a
//! request id and trace span, the same-origin check on state-changing requests, the session, and
//! authentication (session → `Actor`, with the area guard for `/portal` and `/staff`).

use crate::AppState;
use app::ctx::{ClientIp, SESSION_AUTH_AT, SESSION_USER};
use app::CspNonce;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use guildhall::domain::{Actor, Permission};
use rand::RngCore;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

/// The request id header, set here if the client (or a proxy) did not.
pub const REQUEST_ID: &str = "x-request-id";

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Gives each request an id and a tracing span, and logs its outcome.
pub async fn trace(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let started = std::time::Instant::now();
    let mut res = tracing::Instrument::instrument(next.run(req), span.clone()).await;
    let status = res.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            ms = started.elapsed().as_millis() as u64,
            "request done"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}

fn nonce() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// CSP with a per-response nonce for the hydration script, no framing, no sniffing, no referrer leaks
/// off-site, and HSTS when the site is served over https. A handler that set its own header keeps it.
pub async fn security_headers(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let n = nonce();
    req.extensions_mut().insert(CspNonce(n.clone()));
    let build_file = Some(req.uri().path())
        .filter(|p| p.starts_with("/pkg/"))
        .map(str::to_owned);
    let mut res = next.run(req).await;
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; \
         form-action 'self'; object-src 'none'"
    );
    let found = res.status().is_success();
    let h = res.headers_mut();
    let mut set = |name: header::HeaderName, value: &str| {
        if !h.contains_key(&name) {
            if let Ok(v) = HeaderValue::from_str(value) {
                h.insert(name, v);
            }
        }
    };
    set(header::CONTENT_SECURITY_POLICY, &csp);
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // A build file named by its content's hash never changes: browsers keep it for a year (not an
    // error answer for such a name, which may be there after the next release). Any other
    // keeps its name from one release to the next: the browser asks whether its copy is still
    // current (a 304 when it is) rather than running an old front end against a new server.
    if let Some(path) = build_file {
        if app::assets::is_hashed(&path) && found {
            set(header::CACHE_CONTROL, "public, max-age=31536000, immutable");
        } else {
            set(header::CACHE_CONTROL, "no-cache");
        }
    }
    set(header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    set(
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    set(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if state.config.base_url.starts_with("https://") {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    res
}

/// Whether a response to `path` must never be stored by a browser or a proxy: everything a signed-in
/// person is shown (bar the build's own files, the same for everyone), every server-function answer,
/// and the pages where people type passwords or open one-time links.
pub fn must_not_be_stored(path: &str, signed_in: bool) -> bool {
    const CREDENTIAL_PAGES: [&str; 6] = [
        "/sign-in",
        "/create-account",
        "/forgot-password",
        "/reset-password",
        "/verify-email",
        "/confirm-email",
    ];
    let under = |p: &str| path == p || path.starts_with(&format!("{p}/"));
    let public_asset = path.starts_with("/pkg/") || path == "/favicon.ico";
    path.starts_with("/fn/")
        || CREDENTIAL_PAGES.iter().any(|p| under(p))
        || (signed_in && !public_asset)
}

/// Refuses state-changing requests that a browser says come from another site (`Sec-Fetch-Site`), or
/// whose `Origin` is not this site. Webhooks are exempt: they are authenticated by signature.
pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || req.uri().path().starts_with("/webhooks/") {
        return next.run(req).await;
    }
    let headers = req.headers();
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let allowed = match fetch_site {
        Some("same-origin") | Some("none") => true,
        Some(_) => false,
        None => match origin {
            None => true,
            Some(o) => {
                let o = o.trim_end_matches('/');
                o == state.config.base_url
                    || host.is_some_and(|h| {
                        o.strip_prefix("http://")
                            .or_else(|| o.strip_prefix("https://"))
                            == Some(h)
                    })
            }
        },
    };
    if allowed {
        next.run(req).await
    } else {
        tracing::warn!(?fetch_site, ?origin, path = %req.uri().path(), "cross-site request refused");
        (StatusCode::FORBIDDEN, "Cross-site request refused\n").into_response()
    }
}

/// The permission a page path needs, if any: the area guard. Server functions check their own.
pub fn area_permission(path: &str) -> Option<Permission> {
    let under = |p: &str| path == p || path.starts_with(&format!("{p}/"));
    if under("/staff/admin") {
        Some(Permission::ManageStaff)
    } else if under("/staff") {
        Some(Permission::StaffArea)
    } else if under("/portal") {
        Some(Permission::OwnRecords)
    } else {
        None
    }
}

fn client_ip(req: &Request, trusted_proxies: u8) -> Option<IpAddr> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .or_else(|| {
            req.extensions()
                .get::<axum::extract::connect_info::MockConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        })?;
    let headers: Option<Vec<&str>> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().ok())
        .collect();
    Some(forwarded_client(
        peer,
        &headers.unwrap_or_default(),
        trusted_proxies,
    ))
}

/// The client's address behind `trusted` proxies that each append the address they were reached from
/// to `X-Forwarded-For` (all its header lines, in order). The socket peer is the first proxy; the
/// next `trusted - 1` entries from the right are the others, and the entry before them is the
/// client, the rightmost one no trusted proxy could have been handed by someone else. Entries further
/// left are whatever the client sent and are never read. With no trusted proxy, or a header too short
/// or unreadable where it matters, the answer is the socket peer.
pub fn forwarded_client(peer: IpAddr, xff: &[&str], trusted: u8) -> IpAddr {
    if trusted == 0 {
        return peer;
    }
    let hops: Vec<&str> = xff
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect();
    let from_right = usize::from(trusted);
    if hops.len() < from_right {
        return peer;
    }
    let parse = |s: &str| {
        s.parse::<IpAddr>()
            .ok()
            .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
    };
    let trusted_part = &hops[hops.len() - from_right..];
    let parsed: Option<Vec<IpAddr>> = trusted_part.iter().map(|s| parse(s)).collect();
    match parsed {
        Some(ips) => ips[0],
        None => peer,
    }
}

/// Turns the session into an `Actor` (ending sessions past the 12-hour limit or of disabled accounts),
/// records the client address, and guards the portal and staff areas: visitors are sent to sign in,
/// signed-in people without the permission get the page's refusal with status 403.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let session = req.extensions().get::<Session>().cloned();
    let mut actor = Actor::anonymous();
    if let Some(s) = &session {
        if let Ok(Some(uid)) = s.get::<uuid::Uuid>(SESSION_USER).await {
            let auth_at = s
                .get::<i64>(SESSION_AUTH_AT)
                .await
                .ok()
                .flatten()
                .unwrap_or(0);
            let expired =
                guildhall::service::now().timestamp() - auth_at > crate::ABSOLUTE_TIMEOUT_SECS;
            let loaded = if expired {
                None
            } else {
                match guildhall::service::identity::load_actor(&state.server.db, uid).await {
                    Ok(a) => a,
                    Err(e) => {
                        return (
                            StatusCode::from_u16(e.status())
                                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                            "Sorry, something went wrong\n",
                        )
                            .into_response()
                    }
                }
            };
            match loaded {
                Some(a) => actor = a,
                None => {
                    let _ = s.flush().await;
                }
            }
        }
    }
    actor.request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    if let Some(ip) = client_ip(&req, state.config.trusted_proxies) {
        req.extensions_mut().insert(ClientIp(ip));
    }
    let path = req.uri().path().to_owned();
    let mut forbidden = false;
    if let Some(p) = area_permission(&path) {
        if !actor.is_signed_in() {
            let target = match req.uri().query() {
                Some(q) => format!("{path}?{q}"),
                None => path.clone(),
            };
            return Redirect::to(&format!(
                "/sign-in?next={}",
                app::format::urlencode(&target)
            ))
            .into_response();
        }
        forbidden = !actor.can(p);
    }
    let no_store = must_not_be_stored(&path, actor.is_signed_in());
    req.extensions_mut().insert(actor);
    let mut res = next.run(req).await;
    if forbidden {
        *res.status_mut() = StatusCode::FORBIDDEN;
    }
    if no_store {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Server functions answer errors with 500 whatever they were; this gives each its real status (422 for
/// field errors, 403, 404, 409, 429…), so clients, logs and monitoring can tell a typo from a fault.
/// A sign-in refused for too many attempts answers 429; a browser without JavaScript posted a plain
/// form, so it gets a page it can read rather than the encoded error.
pub async fn server_fn_status(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/fn/") {
        return next.run(req).await;
    }
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let res = next.run(req).await;
    let res = if res.status() == StatusCode::INTERNAL_SERVER_ERROR {
        let (mut parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20)
            .await
            .unwrap_or_default();
        if let Ok(e) = serde_json::from_slice::<guildhall::domain::AppError>(&bytes) {
            if let Ok(status) = StatusCode::from_u16(e.status()) {
                parts.status = status;
            }
        }
        Response::from_parts(parts, axum::body::Body::from(bytes))
    } else {
        res
    };
    if res.status() != StatusCode::TOO_MANY_REQUESTS || !wants_html {
        return res;
    }
    let retry = res
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(900);
    let wait = match retry {
        0..=90 => "a minute".to_owned(),
        91..=5400 => format!("{} minutes", retry.div_ceil(60)),
        _ => format!("{} hours", retry.div_ceil(3600)),
    };
    let css = app::assets::css_href(&state.leptos_options);
    let page = format!(
        r#"<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Too many attempts – Guildhall</title><link rel="stylesheet" href="{css}"></head><body><main class="main" id="main"><div class="container container--narrow"><h1 class="heading-l">Too many attempts</h1><p class="body">For your security, this is paused for a while after several attempts.</p><p class="body">Wait {wait}, then try again. If you have forgotten your password, you can <a href="/forgot-password">reset it</a>.</p><p class="body"><a href="/sign-in">Back to sign in</a></p></div></main></body></html>"#
    );
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, retry.to_string())],
        [(header::CACHE_CONTROL, "no-store")],
        Html(page),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::forwarded_client;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn without_trusted_proxies_the_socket_peer_is_the_client() {
        assert_eq!(
            forwarded_client(ip("10.0.0.1"), &["6.6.6.6"], 0),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn behind_one_proxy_the_rightmost_hop_is_the_client() {
        // The client made up the first entry; the proxy appended the real one.
        assert_eq!(
            forwarded_client(ip("10.0.0.1"), &["6.6.6.6, 203.0.113.7"], 1),
            ip("203.0.113.7")
        );
        assert_eq!(
            forwarded_client(ip("10.0.0.1"), &["203.0.113.7"], 1),
            ip("203.0.113.7")
        );
        // Several header lines are one list, in order.
        assert_eq!(
            forwarded_client(ip("10.0.0.1"), &["6.6.6.6", "203.0.113.7"], 1),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn behind_two_proxies_one_more_hop_is_skipped() {
        assert_eq!(
            forwarded_client(ip("10.0.0.1"), &["6.6.6.6, 203.0.113.7, 10.0.0.2"], 2),
            ip("203.0.113.7")
        );
        assert_eq!(
            forwarded_client(ip("10.0.0.1"), &["[2001:db8::7]:443, 10.0.0.2"], 2),
            ip("2001:db8::7")
        );
    }

    #[test]
    fn a_short_or_malformed_header_falls_back_to_the_socket_peer() {
        let peer = ip("10.0.0.1");
        assert_eq!(forwarded_client(peer, &[], 1), peer);
        assert_eq!(forwarded_client(peer, &["203.0.113.7"], 2), peer);
        assert_eq!(forwarded_client(peer, &["not an address"], 1), peer);
        assert_eq!(forwarded_client(peer, &["203.0.113.7, "], 1), peer);
        assert_eq!(forwarded_client(peer, &["203.0.113.7, junk"], 2), peer);
        // Garbage left of the client's entry is the client's own business.
        assert_eq!(
            forwarded_client(peer, &["junk, 203.0.113.7"], 1),
            ip("203.0.113.7")
        );
    }
}
