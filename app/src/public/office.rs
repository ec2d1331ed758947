//! How to reach the membership office: its name, e-mail address and phone number (from Office
//! details), at the foot of every page and wherever a page asks a member to contact the office.

use guildhall::domain::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The office's public contact details.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OfficeInfo {
    pub name: String,
    /// Blank until an admin sets it.
    pub email: String,
    pub phone: String,
}

/// Public: what any visitor may know of the office.
#[server(prefix = "/fn", endpoint = "office-contact")]
pub async fn office_contact() -> Result<OfficeInfo, AppError> {
    let st = crate::ctx::state()?;
    let o = guildhall::service::settings::office(&st.db).await?;
    Ok(OfficeInfo {
        name: o.name,
        email: o.email,
        phone: o.phone,
    })
}

/// The office's contact details, fetched once a page load (provided by the app).
pub type OfficeResource = Resource<Result<OfficeInfo, AppError>>;

/// `mailto:` and `tel:` links for the office, or nothing when it has not set them.
fn links(o: &OfficeInfo) -> impl IntoView {
    let email = (!o.email.is_empty()).then(|| {
        let href = format!("mailto:{}", o.email);
        view! { <a class="footer__link" href=href>{o.email.clone()}</a> }
    });
    let phone = (!o.phone.is_empty()).then(|| {
        let digits: String = o
            .phone
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        view! { " · "<a class="footer__link" href=format!("tel:{digits}")>{o.phone.clone()}</a> }
    });
    view! { {email}{phone} }
}

/// The foot of every page: the office and how to reach it, the privacy notice and the register.
#[component]
pub fn Footer() -> impl IntoView {
    let office = expect_context::<OfficeResource>();
    view! {
        <footer class="footer">
            <div class="container">
                <div>
                    <Transition fallback=|| ()>
                        {move || office.get().and_then(Result::ok).map(|o| view! {
                            <p class="footer__text" data-testid="office-contact">
                                <strong>{o.name.clone()}</strong>" "{links(&o)}
                            </p>
                        })}
                    </Transition>
                </div>
                <p class="footer__text">
                    <a class="footer__link" href="/privacy">"How we use and keep your data"</a>" · "
                    <a class="footer__link" href="/register">"Public register"</a>
                </p>
            </div>
        </footer>
    }
}

/// "contact the membership office at …", as words inside a sentence. (The details load in an element
/// of their own: a loading boundary beside text would lose its place when the page changes.)
#[component]
pub fn ContactOffice() -> impl IntoView {
    let office = expect_context::<OfficeResource>();
    view! {
        <span>
            "contact the membership office"
            <span>
                <Transition fallback=|| ()>
                    {move || office.get().and_then(Result::ok).map(|o| {
                        let email = (!o.email.is_empty()).then(|| {
                            let href = format!("mailto:{}", o.email);
                            view! { " at "<a href=href>{o.email.clone()}</a> }
                        });
                        let phone = (!o.phone.is_empty()).then(|| view! { " or on "{o.phone.clone()} });
                        view! { {email}{phone} }
                    })}
                </Transition>
            </span>
        </span>
    }
}
