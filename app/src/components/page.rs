//! The page shell: a page's data is fetched by its server function, "Loading…" shows until it is
//! here, then the page, or what went wrong instead. Every route renders in `SsrMode::Async`, so on the
//! server the shell waits for the data and the browser gets the complete page; it hydrates the same
//! markup.

use super::{Forbidden, NotFound};
use guildhall::domain::AppError;
use leptos::prelude::*;

/// What a page shows instead of its content when its data could not be had.
pub type ErrorView = fn(AppError) -> AnyView;

/// A staff page's error: the "cannot use this page" page when the role does not allow it (the server
/// answers 403 too), else the problem in words.
pub fn error_view(e: AppError) -> AnyView {
    match e {
        AppError::Forbidden => view! { <Forbidden/> }.into_any(),
        other => view! {
            <h1 class="heading-l">"Sorry, there is a problem"</h1>
            <p class="body">{other.to_string()}</p>
        }
        .into_any(),
    }
}

/// A member's page's error: "Page not found" for a record they cannot reach, else the problem in words.
pub fn member_error_view(e: AppError) -> AnyView {
    match e {
        AppError::NotFound => view! { <NotFound/> }.into_any(),
        other => view! { <p class="body">{other.to_string()}</p> }.into_any(),
    }
}

/// The page shell: waits for `data`, then shows `ready(data)`, or `on_error(e)` (the staff
/// [`error_view`] unless told otherwise). With `transition`, a page whose data reloads (a list with
/// filters) keeps showing what it had until the new data is here.
#[component]
pub fn PageShell<T, F>(
    /// The page's data, from its server function.
    data: Resource<Result<T, AppError>>,
    /// The page, once its data is here.
    ready: F,
    /// What shows instead of the page when the data could not be had.
    #[prop(default = error_view)]
    on_error: ErrorView,
    /// Keep the current content while new data loads, instead of going back to "Loading…".
    #[prop(optional)]
    transition: bool,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> AnyView + Send + Sync + 'static,
{
    let show = move || {
        data.get().map(|r| match r {
            Ok(d) => ready(d),
            Err(e) => on_error(e),
        })
    };
    if transition {
        view! { <Transition fallback=|| view! { <p class="body">"Loading…"</p> }>{show}</Transition> }
            .into_any()
    } else {
        view! { <Suspense fallback=|| view! { <p class="body">"Loading…"</p> }>{show}</Suspense> }
            .into_any()
    }
}
