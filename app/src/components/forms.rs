//! Form fields with the label above, the hint under it, and the error message beside the field; an
//! error summary at the top linking to each field. Every form posts without JavaScript; the values of a
//! failed post come back through the server action's value.

use guildhall::domain::AppError;
use leptos::prelude::*;

/// The error of an action's last result, if it failed.
pub fn last_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: server_fn::ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|r| r.err()))
}

/// "There is a problem", with a link to each field in error, or the message of a non-field error.
#[component]
pub fn ErrorSummary(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let items = match &e {
                AppError::Validation(fields) => fields
                    .iter()
                    .map(|f| {
                        let href = format!("#{}", f.field);
                        view! { <li><a href=href>{f.message.clone()}</a></li> }.into_any()
                    })
                    .collect::<Vec<_>>(),
                other => vec![view! { <li>{other.to_string()}</li> }.into_any()],
            };
            view! {
                <div class="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title">
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
    let hint_id = format!("{name}-hint");
    let error_id = format!("{name}-error");
    let described = {
        let hint_id = hint_id.clone();
        let error_id = error_id.clone();
        let has_hint = hint.is_some();
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
    };
    let group_class = move || {
        if message.get().is_some() {
            "field field--error"
        } else {
            "field"
        }
    };
    let input_class = move || {
        if message.get().is_some() {
            format!("{class} input--error")
        } else {
            class.to_owned()
        }
    };
    view! {
        <div class=group_class>
            <label class="label" for=name.clone()>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            {move || message.get().map(|m| view! {
                <p class="field-error" id=error_id.clone()><span class="visually-hidden">"Error: "</span>{m}</p>
            })}
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
        </div>
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
    let hint_id = format!("{name}-hint");
    let error_id = format!("{name}-error");
    let has_hint = hint.is_some();
    let described = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
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
    };
    view! {
        <div class=move || if message.get().is_some() { "field field--error" } else { "field" }>
            <label class="label" for=name.clone()>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            {move || message.get().map(|m| view! {
                <p class="field-error" id=error_id.clone()><span class="visually-hidden">"Error: "</span>{m}</p>
            })}
            <textarea class="textarea" id=name.clone() name=name.clone() rows=rows
                aria-invalid=move || message.get().is_some().then_some("true")
                aria-describedby=described>{value.unwrap_or_default()}</textarea>
        </div>
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
    let selected = selected.unwrap_or_default();
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
