//! A refused form posted without JavaScript, kept for the page it came from (see the module docs of
//! [`super::forms`]): what the server keeps in the session, and how the app hands it to the page once.

use guildhall::domain::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A form refused without JavaScript: which server function refused it, why, the page it was posted
/// from (path and query) and what was posted there (secrets left out, see [`FormFlash::keeps`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormFlash {
    /// The server function's path, `/fn/save-my-details`.
    pub action: String,
    pub error: AppError,
    /// The page the form was on: its path and query (`/portal/details?member=M000001`).
    pub page: String,
    /// What was posted, in order.
    pub fields: Vec<(String, String)>,
    /// When it was posted (Unix seconds); a flash not collected within minutes is dropped.
    pub at: i64,
}

impl FormFlash {
    /// The session key the server keeps a flash under.
    pub const SESSION_KEY: &'static str = "form_flash";
    /// At most this many fields, each at most this long, are kept.
    pub const MAX_FIELDS: usize = 200;
    pub const MAX_VALUE: usize = 10_000;

    /// Whether a posted field may be kept to show again: never a password, a sign-in code or a
    /// one-time token (they are typed again, never stored).
    pub fn keeps(name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        !(n.contains("password")
            || n.contains("token")
            || n.contains("secret")
            || n == "code"
            || n.ends_with("_code") && n != "country_code")
    }

    /// The value posted for `name`, if the form posted one.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(feature = "ssr")]
impl FormFlash {
    /// The fields of a posted form (`application/x-www-form-urlencoded`) that may be kept.
    pub fn posted_fields(body: &[u8]) -> Vec<(String, String)> {
        url::form_urlencoded::parse(body)
            .filter(|(k, _)| Self::keeps(k))
            .take(Self::MAX_FIELDS)
            .map(|(k, v)| (k.into_owned(), v.chars().take(Self::MAX_VALUE).collect()))
            .collect()
    }

    /// Reads the redirect a server function answers a plain form with when it refused it (the page
    /// the form was on, with `__path` and `__err` added): the flash to keep, and the page's own
    /// address (path and query, without the error) to send the browser to instead. `None` when the
    /// redirect does not carry a refusal.
    pub fn from_refusal(
        location: &str,
        fields: Vec<(String, String)>,
        at: i64,
    ) -> Option<(Self, String)> {
        let base = url::Url::parse("http://localhost/").ok()?;
        let url = base.join(location).ok()?;
        let mut action = None;
        let mut error = None;
        let mut rest = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "__path" => action = Some(v.into_owned()),
                "__err" => error = Some(v.into_owned()),
                _ => {
                    rest.append_pair(&k, &v);
                }
            }
        }
        let (action, error) = (action?, error?);
        let error = server_fn::error::ServerFnUrlError::<AppError>::decode_err(&error);
        let query = rest.finish();
        let page = if query.is_empty() {
            url.path().to_owned()
        } else {
            format!("{}?{query}", url.path())
        };
        Some((
            Self {
                action,
                error,
                page: page.clone(),
                fields,
                at,
            },
            page,
        ))
    }

    /// The page a request is for, as a flash names it.
    pub fn page_of(uri: &http::Uri) -> String {
        match uri.query() {
            Some(q) if !q.is_empty() => format!("{}?{q}", uri.path()),
            _ => uri.path().to_owned(),
        }
    }
}

/// The refused post this page shows again, if any (provided once by the app, see [`provide_flash`]).
#[derive(Clone, Copy)]
struct Flash(RwSignal<Option<FormFlash>>);

/// Makes a refused post (from the request on the server, from the page's data in the browser)
/// available to the forms; it applies only on the page it was posted from, and is forgotten as soon
/// as the browser moves to another page.
pub fn provide_flash(flash: Option<FormFlash>) {
    provide_context(Flash(RwSignal::new(flash)));
}

/// Forgets the refused post once the browser leaves its page (place inside the router).
#[component]
pub fn FlashReset() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    Effect::new(move |prev: Option<String>| {
        let here = format!("{}?{}", location.pathname.get(), location.search.get());
        if prev.is_some_and(|p| p != here) {
            if let Some(Flash(f)) = use_context::<Flash>() {
                f.set(None);
            }
        }
        here
    });
}

/// The current page as a flash names it: path, and `?query` when there is one.
fn current_page() -> String {
    let location = leptos_router::hooks::use_location();
    let path = location.pathname.get_untracked();
    let query = location.search.get_untracked();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.trim_start_matches('?'))
    }
}

/// The refused post of server function `action` (its path, `ServerFn::PATH`) on this page, if any:
/// for a page with one form per row, to find the row it came from.
pub fn flash_for(action: &str) -> Option<FormFlash> {
    let Flash(f) = use_context::<Flash>()?;
    f.get_untracked()
        .filter(|f| f.action == action && f.page == current_page())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use guildhall::domain::FieldErrors;

    #[test]
    fn a_refused_post_keeps_what_was_typed_but_never_a_secret() {
        let body = b"given_name=Rosie&town=Leeds+North&postcode=LS1&password=hunter2&current_password=x&code=123456&token=abc&recovery_code=r";
        let fields = FormFlash::posted_fields(body);
        assert_eq!(
            fields,
            vec![
                ("given_name".to_owned(), "Rosie".to_owned()),
                ("town".to_owned(), "Leeds North".to_owned()),
                ("postcode".to_owned(), "LS1".to_owned()),
            ]
        );
    }

    #[test]
    fn the_refusal_redirect_becomes_the_page_without_the_error() {
        let mut errors = FieldErrors::new();
        errors.add("postcode", "Enter a real postcode");
        let err = AppError::Validation(errors);
        let url = server_fn::error::ServerFnUrlError::new("/fn/save-my-details", err.clone())
            .to_url("http://127.0.0.1:3000/portal/details?member=M000001")
            .expect("url");
        let (flash, page) = FormFlash::from_refusal(url.as_str(), vec![], 7).expect("a refusal");
        assert_eq!(page, "/portal/details?member=M000001");
        assert_eq!(flash.page, page);
        assert_eq!(flash.action, "/fn/save-my-details");
        assert_eq!(flash.error, err);
        assert!(
            FormFlash::from_refusal("http://127.0.0.1:3000/portal?saved=details", vec![], 7)
                .is_none()
        );
    }
}
