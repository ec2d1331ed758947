//! The member record page: everything about a member on one page, with the forms staff use there.

use super::*;
use crate::components::forms::last_error;
use crate::components::Form;
use crate::components::{ErrorSummary, Field, PageShell, PageTitle, SubmitButton};
use guildhall::domain::AppError;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

fn saved_message(s: &str) -> Option<&'static str> {
    Some(match s {
        "details" => "The member's details were saved.",
        "note" => "The note was added.",
        "category" => "The category was changed.",
        "removed" => "The member was removed.",
        "created" => "The member was added.",
        "representative" => "The representative was added and emailed.",
        "unlinked" => "The representative no longer acts for this organisation.",
        "erased" => "The member's personal data was erased.",
        _ => return None,
    })
}

#[component]
fn Timeline(items: Vec<TimelineRow>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="body">"Nothing yet."</p> }.into_any();
    }
    view! {
        <ol class="timeline">
            {items.into_iter().map(|t| {
                let class = format!("timeline__item timeline__item--{}", t.kind);
                let head = match (t.kind.as_str(), t.message_id.clone()) {
                    ("message", Some(id)) => view! { <p class="timeline__head">"Email: "<a href=format!("/staff/outbox/{id}")>{t.title.clone()}</a></p> }.into_any(),
                    _ => view! { <p class="timeline__head">{t.title.clone()}</p> }.into_any(),
                };
                let body = match t.kind.as_str() {
                    "message" => t.body.clone().map(|s| crate::staff::outbox::status_tag(&s).into_any()),
                    _ => t.body.clone().map(|b| view! { <p class="timeline__body">{b}</p> }.into_any()),
                };
                let changes = (!t.changes.is_empty()).then(|| view! {
                    <dl class="changes">
                        {t.changes.iter().map(|c| view! {
                            <dt>{c.field.clone()}</dt>
                            <dd>{if c.before.is_empty() { c.after.clone() } else { format!("{} → {}", c.before, c.after) }}</dd>
                        }).collect_view()}
                    </dl>
                });
                view! {
                    <li class=class>
                        {head}
                        <p class="timeline__meta">{t.at.clone()}" · "{t.who.clone()}</p>
                        {body}
                        {changes}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
pub fn MemberRecordPage() -> impl IntoView {
    let params = use_params_map();
    let q = use_query_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let data = Resource::new(number, member_record);
    let note = ServerAction::<AddMemberNote>::new();
    let note_error = last_error(note);
    let cat = ServerAction::<ChangeMemberCategory>::new();
    let cat_error = last_error(cat);
    let rep_add = ServerAction::<AddRepresentative>::new();
    let rep_error = last_error(rep_add);
    let rep_remove = ServerAction::<RemoveRepresentative>::new();
    let saved = move || q.read().get("saved").and_then(|s| saved_message(&s));
    view! {
        <PageShell data=data ready={move |m: RecordDto| {
                let edit = format!("/staff/members/{}/edit", m.number);
                let remove = format!("/staff/members/{}/remove", m.number);
                let erase = format!("/staff/members/{}/erase", m.number);
                let (links, is_org, erased) = (m.links.clone(), m.organisation, m.erased);
                let no_links = links.is_empty();
                let (link_id, link_number) = (m.id.clone(), m.number.clone());
                let (rep_id, rep_number) = (m.id.clone(), m.number.clone());
                let removed = m.status == "Removed";
                let (cat_id, cat_number) = (m.id.clone(), m.number.clone());
                let (cat_options, cat_current) = (m.categories.clone(), m.category_id.clone());
                view! {
                    <PageTitle text=format!("{} {}", m.name, m.number)/>
                    <p class="back-link"><a href="/staff/members">"Back to members"</a></p>
                    {move || saved().map(|s| view! { <div class="banner banner--success" role="status"><p>{s}</p></div> })}
                    <h1 class="heading-l">{m.name.clone()}" "<span class="mono small">{m.number.clone()}</span></h1>
                    <p class="body"><strong class=m.status_tag.clone()>{m.status.clone()}</strong>" "{m.status_note.clone()}</p>
                    {m.renewal_note.clone().map(|n| view! { <p class="body" data-testid="renewal-note">{n}</p> })}
                    {m.plan_note.clone().map(|n| view! { <p class="body" data-testid="plan-note">{n}</p> })}
                    <div class="record">
                        <div>
                            <h2 class="heading-m">"Details"</h2>
                            <dl class="summary-list summary-list--compact">
                                <div class="summary-list__row"><dt>"Category"</dt><dd>{m.category.clone()}</dd></div>
                                <div class="summary-list__row"><dt>"Member since"</dt><dd>{m.joined_on.clone()}</dd></div>
                                <div class="summary-list__row"><dt>"Email"</dt><dd>{m.form.email.clone().unwrap_or_default()}</dd></div>
                                <div class="summary-list__row"><dt>"Phone"</dt><dd>{if m.form.phone.is_empty() { "—".to_owned() } else { m.form.phone.clone() }}</dd></div>
                                <div class="summary-list__row"><dt>"Address"</dt><dd>{m.address.clone()}</dd></div>
                                <div class="summary-list__row"><dt>"Portal account"</dt><dd>{m.account.clone()}</dd></div>
                                <div class="summary-list__row"><dt>"Communication"</dt><dd>{m.preferences.clone()}</dd></div>
                                <div class="summary-list__row"><dt>"Public register"</dt><dd>{if m.register_consent { "Consented" } else { "Not consented" }}</dd></div>
                                <div class="summary-list__row"><dt>"Balance"</dt><dd>{m.balance.clone()}" "<a href=format!("/staff/members/{}/money", m.number)>"Payments and balance"</a></dd></div>
                            </dl>
                            {m.erased.then(|| view! { <p class="body">{m.erased_note.clone()}</p> })}
                            {(!m.erased).then(|| view! {
                                <div class="actions">
                                    <a class="button button--secondary" href=edit.clone()>"Change details"</a>
                                    {(!removed).then(|| view! { <a class="button button--secondary" href=remove.clone()>"Remove member"</a> })}
                                    {m.can_erase.then(|| view! { <a class="button button--warning" href=erase.clone()>"Erase personal data"</a> })}
                                </div>
                            })}
                            <h2 class="heading-m">"Membership periods"</h2>
                            {if m.periods.is_empty() {
                                view! { <p class="body">"No periods yet."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="table">
                                        <caption class="visually-hidden">"Membership periods, newest first"</caption>
                                        <thead><tr><th scope="col">"Category"</th><th scope="col">"From"</th><th scope="col">"To"</th><th scope="col">"Payment"</th><th scope="col">"How paid"</th></tr></thead>
                                        <tbody>
                                            {m.periods.iter().map(|p| view! {
                                                <tr><td data-label="Category">{p.category.clone()}</td><td data-label="From">{p.start.clone()}</td><td data-label="To">{p.end.clone()}</td><td data-label="Payment">{p.paid.clone()}</td><td data-label="How paid">{p.how.clone()}</td></tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            {(!m.events.is_empty()).then(|| view! {
                                <h2 class="heading-m">"Membership changes"</h2>
                                <table class="table">
                                    <caption class="visually-hidden">"Resignations, removals and suspensions, newest first"</caption>
                                    <thead><tr><th scope="col">"What"</th><th scope="col">"On"</th><th scope="col">"Detail"</th></tr></thead>
                                    <tbody>
                                        {m.events.iter().map(|e| view! {
                                            <tr><td data-label="What">{e.what.clone()}</td><td data-label="On">{e.on.clone()}</td><td data-label="Detail">{e.detail.clone()}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            })}
                            {(!no_links || (is_org && !erased)).then(move || view! {
                                <h2 class="heading-m">{if is_org { "Representatives" } else { "Organisations" }}</h2>
                                {(is_org && no_links).then(|| view! { <p class="body">"No one acts for this organisation yet."</p> })}
                                <ul class="body links">
                                    {links.into_iter().map(|l| {
                                        let (mid, num) = (link_id.clone(), link_number.clone());
                                        view! {
                                            <li>{match l.href.clone() { Some(h) => view! { <a href=h>{l.label.clone()}</a> }.into_any(), None => view! { <strong>{l.label.clone()}</strong> }.into_any() }}" — "{l.detail.clone()}
                                                {l.user_id.clone().map(|uid| view! {
                                                    <Form action=rep_remove attr:class="inline-form">
                                                        <input type="hidden" name="member_id" value=mid/>
                                                        <input type="hidden" name="number" value=num/>
                                                        <input type="hidden" name="user_id" value=uid/>
                                                        <button type="submit" class="link-button">"Remove"<span class="visually-hidden">" "{l.label.clone()}" as a representative"</span></button>
                                                    </Form>
                                                })}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            })}
                            {(is_org && !erased).then(|| view! {
                                <details class="details" open=rep_error.get_untracked().is_some()>
                                    <summary class="details__summary">"Add a representative"</summary>
                                    <ErrorSummary error=rep_error/>
                                    <Form action=rep_add attr:class="form-narrow">
                                        <input type="hidden" name="member_id" value=rep_id.clone()/>
                                        <input type="hidden" name="number" value=rep_number.clone()/>
                                        <Field name="email" label="Their email address" hint="If they have no account yet, they are emailed a link to choose a password" input_type="email" error=rep_error autocomplete="off"/>
                                        <Field name="given_name" label="First name (for a new account)" error=rep_error autocomplete="off"/>
                                        <Field name="family_name" label="Last name (for a new account)" error=rep_error autocomplete="off"/>
                                        <Field name="job_title" label="Job title (optional)" error=rep_error autocomplete="off"/>
                                        <SubmitButton label="Add representative" pending=rep_add.pending()/>
                                    </Form>
                                </details>
                            })}
                            {(!m.erased && !removed).then(|| view! {
                                <h2 class="heading-m">"Change category"</h2>
                                <ErrorSummary error=cat_error/>
                                <Form action=cat attr:class="form-narrow">
                                    <input type="hidden" name="member_id" value=cat_id.clone()/>
                                    <input type="hidden" name="number" value=cat_number.clone()/>
                                    <div class="field" id="category">
                                        <label class="label" for="category-select">"New category"</label>
                                        <select class="select" id="category-select" name="category">
                                            {cat_options.iter().map(|(id, name)| {
                                                let chosen = crate::components::forms::posted("category").unwrap_or_else(|| cat_current.clone());
                                                view! { <option value=id.clone() selected=*id == chosen>{name.clone()}</option> }
                                            }).collect_view()}
                                        </select>
                                    </div>
                                    <Field name="reason" label="Reason for the change" error=cat_error/>
                                    <SubmitButton label="Change category" pending=cat.pending()/>
                                </Form>
                            })}
                        </div>
                        <div>
                            <h2 class="heading-m">"Add a note"</h2>
                            <ErrorSummary error=note_error/>
                            <Form action=note>
                                <input type="hidden" name="member_id" value=m.id.clone()/>
                                <input type="hidden" name="number" value=m.number.clone()/>
                                <NoteField error=note_error/>
                                <SubmitButton label="Add note" pending=note.pending()/>
                            </Form>
                            <h2 class="heading-m">"Timeline"</h2>
                            <Timeline items=m.timeline.clone()/>
                        </div>
                    </div>
                }.into_any()
            }}/>
    }
}

#[component]
fn NoteField(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let message = Signal::derive(move || {
        error
            .get()
            .and_then(|e| e.fields().and_then(|f| f.get("body").map(str::to_owned)))
    });
    view! {
        <div class=move || if message.get().is_some() { "field field--error" } else { "field" }>
            <label class="label" for="body">"Note"</label>
            {move || message.get().map(|m| view! { <p class="field-error" id="body-error"><span class="visually-hidden">"Error: "</span>{m}</p> })}
            <textarea class="textarea" id="body" name="body" rows="4"
                aria-describedby=move || message.get().map(|_| "body-error")>{crate::components::forms::posted("body")}</textarea>
        </div>
    }
}
