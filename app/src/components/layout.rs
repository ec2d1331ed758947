//! Page furniture shared by every area.

use leptos::prelude::*;
use leptos_meta::Title;

/// Sets the document title: "<page> – Guildhall".
#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    let t = format!("{text} – Guildhall");
    view! { <Title text=t/> }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ctx::set_status(guildhall::domain::AppError::NotFound.status());
    view! {
        <PageTitle text="Page not found"/>
        <h1 class="heading-l">"Page not found"</h1>
        <p class="body">"If you typed the web address, check it is correct."</p>
        <p class="body">"If you pasted the web address, check you copied the entire address."</p>
        <p class="body"><a href="/">"Go to the home page"</a></p>
    }
}

/// Shown (with status 403, set by the server) when a signed-in person opens a page their role does not allow.
#[component]
pub fn Forbidden() -> impl IntoView {
    view! {
        <PageTitle text="You cannot use this page"/>
        <h1 class="heading-l">"You cannot use this page"</h1>
        <p class="body">"Your account does not give you access to this page."</p>
        <p class="body">"If you think you should have access, ask a Guildhall administrator."</p>
        <p class="body"><a href="/">"Go to the home page"</a></p>
    }
}

/// "Previous page" / "Next page" links for a list; `href(n)` is the address of page `n` (from 0).
#[component]
pub fn Pagination(
    page: u64,
    has_next: bool,
    href: impl Fn(u64) -> String + 'static,
) -> impl IntoView {
    let prev = (page > 0).then(|| href(page - 1));
    let next = has_next.then(|| href(page.saturating_add(1)));
    view! {
        <nav class="pagination" aria-label="Pages">
            {prev.map(|h| view! { <a class="pagination__link" href=h>"Previous page"</a> })}
            {next.map(|h| view! { <a class="pagination__link" href=h>"Next page"</a> })}
        </nav>
    }
}

/// "Skip to main content": the first thing a keyboard reaches. Without JavaScript the browser follows
/// `#main`; with it the router would take the click, so it moves focus to `main` itself.
#[component]
pub fn SkipLink() -> impl IntoView {
    let on_click = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            ev.prevent_default();
            if let Some(main) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id("main"))
                .and_then(|m| m.dyn_into::<web_sys::HtmlElement>().ok())
            {
                if !main.has_attribute("tabindex") {
                    let _ = main.set_attribute("tabindex", "-1");
                }
                let _ = main.focus();
                main.scroll_into_view();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! { <a href="#main" class="skip-link" on:click=on_click>"Skip to main content"</a> }
}
