//! Form fields with the label above, the hint under it, and the error message beside the field; an
//! error summary at the top linking to each field. Every form posts without JavaScript.
//!
//! A refused form comes back with what the person typed, never the stored values:
//! - with JavaScript the form is not drawn again, so the fields keep their text;
//! - without it (or before the WASM arrives) the browser posted a plain form; the server keeps what
//!   was posted, bar secrets, with the error as a [`FormFlash`] in the session for the page the form
//!   was on and redirects there (no error in the address); see [`super::flash`]. That page's [`Form`]
//!   hands the posted values to its fields instead of the stored ones, and [`last_error`] reports the
//!   error.

use super::flash::flash_for;
use guildhall::domain::AppError;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use server_fn::{client::Client, codec::PostUrl, request::ClientReq, Http, ServerFn};

/// The form a field is in: its server function's path.
#[derive(Clone, Copy)]
struct FormScope(&'static str);

/// What the person posted in this field of the enclosing [`Form`], when that post was refused
/// without JavaScript: `Some(posted)` (`Some("")` when the field was left out: an unticked box).
pub fn posted(name: &str) -> Option<String> {
    let FormScope(action) = use_context::<FormScope>()?;
    flash_for(action).map(|f| f.value(name).unwrap_or_default().to_owned())
}

/// An [`ActionForm`] whose fields show again what was posted when the post was refused without
/// JavaScript (see the module docs). Browser validation is off: the server checks everything and
/// says what is wrong in words.
#[component]
pub fn Form<ServFn, OutputProtocol>(
    action: ServerAction<ServFn>,
    children: Children,
) -> impl IntoView
where
    ServFn: DeserializeOwned
        + ServerFn<Protocol = Http<PostUrl, OutputProtocol>>
        + Clone
        + Send
        + Sync
        + 'static,
    <<ServFn::Client as Client<ServFn::Error>>::Request as ClientReq<ServFn::Error>>::FormData:
        From<leptos::web_sys::FormData>,
    ServFn::Output: Send + Sync + 'static,
    ServFn::Error: Send + Sync + 'static,
    <ServFn as ServerFn>::Client: Client<<ServFn as ServerFn>::Error>,
{
    provide_context(FormScope(ServFn::PATH));
    view! { <ActionForm action attr:novalidate=true>{children()}</ActionForm> }
}

/// The error of an action's last result, if it failed; before the action has run on this page, the
/// error of its refused post without JavaScript.
pub fn last_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: server_fn::ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let flashed = flash_for(S::PATH).map(|f| f.error);
    Signal::derive(move || match action.value().get() {
        Some(r) => r.err(),
        None if action.version().get() == 0 => flashed.clone(),
        None => None,
    })
}

/// Moves focus to a field named by the error summary (the first control of a group), and scrolls its
/// label into view.
#[cfg(feature = "hydrate")]
fn focus_field(id: &str) {
    use wasm_bindgen::JsCast;
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(el) = doc.get_element_by_id(id) else {
        return;
    };
    let target = match el.tag_name().to_ascii_lowercase().as_str() {
        "input" | "select" | "textarea" => Some(el),
        _ => el.query_selector("input, select, textarea").ok().flatten(),
    };
    if let Some(t) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = t.focus();
        t.scroll_into_view();
    }
}

/// "There is a problem", with a link to each field in error, or the message of a non-field error.
/// When it appears the page title starts with "Error: " and focus moves to it (so a screen reader
/// reads it and it scrolls into view); its links move focus to the field.
#[component]
pub fn ErrorSummary(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let node = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move || {
        if error.with(Option::is_some) {
            if let Some(el) = node.get() {
                let _ = el.focus();
                el.scroll_into_view();
            }
        }
    });
    move || {
        error.get().map(|e| {
            let items = match &e {
                AppError::Validation(fields) => fields
                    .iter()
                    .map(|f| {
                        let href = format!("#{}", f.field);
                        #[cfg(feature = "hydrate")]
                        let on_click = {
                            let id = f.field.clone();
                            move |ev: leptos::ev::MouseEvent| {
                                ev.prevent_default();
                                focus_field(&id);
                            }
                        };
                        #[cfg(not(feature = "hydrate"))]
                        let on_click = |_: leptos::ev::MouseEvent| {};
                        view! { <li><a href=href on:click=on_click>{f.message.clone()}</a></li> }.into_any()
                    })
                    .collect::<Vec<_>>(),
                other => vec![view! { <li>{other.to_string()}</li> }.into_any()],
            };
            view! {
                <leptos_meta::Title formatter=|t: String| format!("Error: {t}")/>
                <div class="error-summary" role="alert" tabindex="-1" autofocus=true node_ref=node
                    aria-labelledby="error-summary-title">
                    <h2 class="error-summary__title" id="error-summary-title">"There is a problem"</h2>
                    <ul class="error-summary__list">{items}</ul>
                </div>
            }
        })
    }
}

/// One labelled input. `name` is also the id, so the error summary can link to it.
#[component]
pub fn Field(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(default = "input")] class: &'static str,
    #[prop(default = false)] required: bool,
) -> impl IntoView {
    let message = field_message(error, name.clone());
    let value = posted(&name).or(value);
    let described = described_by(&name, hint.is_some(), message);
    let input_class = move || {
        if message.get().is_some() {
            format!("{class} input--error")
        } else {
            class.to_owned()
        }
    };
    view! {
        <FieldFrame name=name.clone() label hint message>
            <input
                class=input_class
                id=name.clone()
                name=name.clone()
                type=input_type
                autocomplete=autocomplete
                inputmode=inputmode
                value=value
                required=required
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=described
                spellcheck=(input_type == "email" || input_type == "password").then_some("false")
            />
        </FieldFrame>
    }
}

/// The main button of a form; disabled while the action is pending (when JavaScript runs).
#[component]
pub fn SubmitButton(
    #[prop(into)] label: String,
    #[prop(optional, into)] pending: Option<Signal<bool>>,
) -> impl IntoView {
    let pending = pending.unwrap_or_else(|| Signal::derive(|| false));
    view! {
        <button type="submit" class="button" aria-disabled=move || pending.get().then_some("true")>
            {label}
        </button>
    }
}

/// What every single-control field shows around its control: the label, the hint (ids `{name}-hint`)
/// and, while there is one, the error message (`{name}-error`).
#[component]
fn FieldFrame(
    name: String,
    label: String,
    hint: Option<String>,
    message: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    let hint_id = format!("{name}-hint");
    let error_id = format!("{name}-error");
    view! {
        <div class=move || if message.get().is_some() { "field field--error" } else { "field" }>
            <label class="label" for=name>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            {move || message.get().map(|m| view! {
                <p class="field-error" id=error_id.clone()><span class="visually-hidden">"Error: "</span>{m}</p>
            })}
            {children()}
        </div>
    }
}

/// The `aria-describedby` of field `name`: its hint (when it has one) and its error (while shown).
fn described_by(
    name: &str,
    has_hint: bool,
    message: Signal<Option<String>>,
) -> impl Fn() -> Option<String> + Send + Sync + 'static {
    let hint_id = format!("{name}-hint");
    let error_id = format!("{name}-error");
    move || {
        let mut ids = Vec::new();
        if has_hint {
            ids.push(hint_id.clone());
        }
        if message.get().is_some() {
            ids.push(error_id.clone());
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

/// The message for field `name` in `error`, if any.
pub fn field_message(error: Signal<Option<AppError>>, name: String) -> Signal<Option<String>> {
    Signal::derive(move || {
        error
            .get()
            .and_then(|e| e.fields().and_then(|f| f.get(&name).map(str::to_owned)))
    })
}

/// A labelled multi-line text box, with hint and error like `Field`.
#[component]
pub fn TextArea(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(default = 4)] rows: u32,
) -> impl IntoView {
    let message = field_message(error, name.clone());
    let value = posted(&name).or(value);
    let described = described_by(&name, hint.is_some(), message);
    view! {
        <FieldFrame name=name.clone() label hint message>
            <textarea class="textarea" id=name.clone() name=name.clone() rows=rows
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=described>{value.unwrap_or_default()}</textarea>
        </FieldFrame>
    }
}

/// A labelled drop-down list of `options` (value, words), with hint and error like `Field`.
///
/// With `type_ahead`, once the page is interactive the list becomes a text box that suggests the
/// options' words as the person types (a `datalist`), for long lists such as countries; the box posts
/// the words, which the server reads as well as the values. Without JavaScript it stays a list.
#[component]
pub fn Select(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(into)] error: Signal<Option<AppError>>,
    options: Vec<(String, String)>,
    #[prop(optional, into)] selected: Option<String>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(default = false)] type_ahead: bool,
) -> impl IntoView {
    let message = field_message(error, name.clone());
    let selected = posted(&name).or(selected).unwrap_or_default();
    let described = Signal::derive(described_by(&name, hint.is_some(), message));
    let invalid = move || message.get().is_some().then_some("true");
    // The words of the chosen option (or what was typed) start the text box.
    let words_of = |o: &[(String, String)], v: &str| {
        o.iter()
            .find(|(value, _)| value == v)
            .map_or_else(|| v.to_owned(), |(_, w)| w.clone())
    };
    let typed = RwSignal::new(words_of(&options, &selected));
    let options = StoredValue::new(options);
    let enhanced = RwSignal::new(false);
    let list = NodeRef::<leptos::html::Select>::new();
    // Swapped once hydrated, keeping a choice made in the list before the page was interactive.
    #[cfg(feature = "hydrate")]
    if type_ahead {
        Effect::new(move || {
            if let Some(el) = list.get_untracked() {
                typed.set(options.with_value(|o| words_of(o, &el.value())));
            }
            enhanced.set(true);
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (type_ahead, words_of);
    let list_id = format!("{name}-list");
    let field = name.clone();
    view! {
        <FieldFrame name=name label hint message>
            {move || if enhanced.get() {
                view! {
                    <input class="input input--w20" type="text" id=field.clone() name=field.clone() list=list_id.clone()
                        value=typed.get_untracked() autocomplete=autocomplete.map(|a| if a == "country" { "country-name" } else { a })
                        spellcheck="false" aria-invalid=invalid aria-describedby=described/>
                    <datalist id=list_id.clone()>
                        {options.with_value(|o| o.iter().map(|(_, words)| view! { <option value=words.clone()></option> }).collect_view())}
                    </datalist>
                }.into_any()
            } else {
                view! {
                    <select class="select" id=field.clone() name=field.clone() autocomplete=autocomplete node_ref=list
                        aria-invalid=invalid aria-describedby=described>
                        {options.with_value(|o| o.iter().map(|(value, words)| {
                            let is = *value == selected;
                            view! { <option value=value.clone() selected=is>{words.clone()}</option> }
                        }).collect_view())}
                    </select>
                }.into_any()
            }}
        </FieldFrame>
    }
}

/// One checkbox with its label (and an optional hint), posting `on` when ticked.
#[component]
pub fn Checkbox(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(default = false)] checked: bool,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let hint_id = format!("{name}-hint");
    let checked = posted(&name).map_or(checked, |v| !v.is_empty());
    view! {
        <div class="checkbox">
            <input class="checkbox__input" type="checkbox" id=name.clone() name=name.clone() value="on" checked=checked
                aria-describedby=hint.is_some().then(|| hint_id.clone())/>
            <label class="checkbox__label" for=name.clone()>{label}</label>
            {hint.map(|h| view! { <p class="hint checkbox__hint" id=hint_id.clone()>{h}</p> })}
        </div>
    }
}

/// A group of radio buttons in a fieldset; the group's id is `name`, so the error summary links to it.
#[component]
pub fn Radios(
    #[prop(into)] name: String,
    #[prop(into)] legend: String,
    #[prop(into)] error: Signal<Option<AppError>>,
    options: Vec<(String, String)>,
    #[prop(optional, into)] selected: Option<String>,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let message = field_message(error, name.clone());
    let selected = posted(&name).or(selected).unwrap_or_default();
    view! {
        <div class=move || if message.get().is_some() { "field field--error" } else { "field" } id=name.clone()>
            <fieldset class="fieldset">
                <legend class="label">{legend}</legend>
                {hint.map(|h| view! { <p class="hint">{h}</p> })}
                {move || message.get().map(|m| view! { <p class="field-error"><span class="visually-hidden">"Error: "</span>{m}</p> })}
                {options.into_iter().map(|(value, label)| {
                    let id = format!("{name}-{value}");
                    let checked = value == selected;
                    view! {
                        <div class="checkbox">
                            <input class="checkbox__input" type="radio" id=id.clone() name=name.clone() value=value checked=checked/>
                            <label class="checkbox__label" for=id>{label}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
        </div>
    }
}
