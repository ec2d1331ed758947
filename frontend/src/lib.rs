//! The browser entry point. Everything the page does lives in `app`; this crate only hydrates it.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // A server function that redirects (after signing in or out, or finishing a form) leads to a full page
    // load, exactly as the same form does without JavaScript: every page then renders from fresh server
    // state, including who is signed in. Set before the router sets its own hook (the first one wins).
    let _ = leptos::server_fn::redirect::set_redirect_hook(|location: &str| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_href(location);
        }
    });
    // Pages in their own WebAssembly files (`app::pages`, `cargo leptos build --split`): the page's
    // file is loaded first, then the page hydrates.
    leptos::mount::hydrate_lazy(app::App);
}
