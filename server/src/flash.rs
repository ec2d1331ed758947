//! Forms posted without JavaScript that a server function refused come back with what was typed.
//!
//! A plain form post gets a redirect to the page it came from; leptos puts the error in that
//! address (`__path`, `__err`). This middleware keeps the error and the posted fields (bar secrets,
//! see [`FormFlash::keeps`]) in the session instead, sends the browser to the page's own address, and
//! hands the flash to that page's render once (see `app::components::forms`).

use app::components::flash::FormFlash;
use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

/// The largest form body kept to show again; a larger post is refused before it reaches the server
/// function.
const FORM_LIMIT: usize = 256 * 1024;
/// A flash not collected by its page within this long is dropped.
const FLASH_TTL_SECS: i64 = 600;

fn header_has(req: &Request, name: header::HeaderName, needle: &str) -> bool {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(needle))
}

pub async fn form_flash(req: Request, next: Next) -> Response {
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return next.run(req).await;
    };
    let path = req.uri().path().to_owned();
    let plain_post = req.method() == Method::POST
        && path.starts_with("/fn/")
        && header_has(&req, header::ACCEPT, "text/html")
        && header_has(
            &req,
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
    if plain_post {
        return keep_refusal(session, req, next).await;
    }
    let mut req = req;
    let page_view =
        req.method() == Method::GET && !path.starts_with("/fn/") && !path.starts_with("/pkg/");
    if page_view {
        if let Ok(Some(flash)) = session.get::<FormFlash>(FormFlash::SESSION_KEY).await {
            let fresh = guildhall::service::now().timestamp() - flash.at <= FLASH_TTL_SECS;
            let here = flash.page == FormFlash::page_of(req.uri());
            if here || !fresh {
                let _ = session.remove::<FormFlash>(FormFlash::SESSION_KEY).await;
            }
            if here && fresh {
                req.extensions_mut().insert(flash);
            }
        }
    }
    next.run(req).await
}

async fn keep_refusal(session: Session, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "The form sent too much: shorten what you typed and try again\n",
        )
            .into_response();
    };
    let fields = FormFlash::posted_fields(&bytes);
    let mut res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let Some(location) = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|l| l.contains("__err="))
        .map(str::to_owned)
    else {
        return res;
    };
    let now = guildhall::service::now().timestamp();
    let Some((flash, page)) = FormFlash::from_refusal(&location, fields, now) else {
        return res;
    };
    if let Err(e) = session.insert(FormFlash::SESSION_KEY, flash).await {
        tracing::warn!(error = %e, "could not keep a refused form in the session");
    }
    if let Ok(v) = HeaderValue::from_str(&page) {
        // Still a 302 (browsers fetch the page again with GET).
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}
