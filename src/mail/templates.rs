//! The e-mail templates: for each name in [`TEMPLATES`], a one-line subject (`NAME.subject.txt`), a plain-text
//! body readable on its own (`NAME.txt`, wrapped in `layout.txt`) and an HTML body (`NAME.html`, wrapped in
//! `layout.html`, inline-styled for mail clients).
//!
//! The files are compiled into the binary and parsed once. Rendering is strict: a variable the template uses
//! but the caller did not give is an error, so a message with a hole in it is never written to the outbox.
//! HTML bodies are auto-escaped (a name like `<script>` arrives as text); text bodies and subjects are not.
//! `office_name` and `base_url` are filled in when the caller does not give them.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use std::sync::OnceLock;

/// The office name used when the context does not give one.
pub const DEFAULT_OFFICE_NAME: &str = "Guildhall Membership Office";

/// The site address used when neither the context nor `GUILDHALL_BASE_URL` gives one.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:3000";

/// Declares the template names and embeds their three files each, so that a name without its files is a
/// compile error rather than a failure on the first message.
macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        /// Every template a message can be rendered from.
        pub const TEMPLATES: &[&str] = &[$($name),*];

        const SOURCES: &[(&str, &str)] = &[
            ("layout.html", include_str!("templates/layout.html")),
            ("layout.txt", include_str!("templates/layout.txt")),
            ("_macros.html", include_str!("templates/_macros.html")),
            $(
                (concat!($name, ".subject.txt"), include_str!(concat!("templates/", $name, ".subject.txt"))),
                (concat!($name, ".txt"), include_str!(concat!("templates/", $name, ".txt"))),
                (concat!($name, ".html"), include_str!(concat!("templates/", $name, ".html"))),
            )*
        ];
    };
}

templates![
    "verify_email",
    "welcome",
    "account_exists",
    "password_reset",
    "password_changed",
    "staff_invite",
    "resignation_confirmed",
    "confirm_new_email",
    "email_changed",
    "representative_added",
    "receipt",
    "refund_issued",
    "renewal_invitation",
    "renewal_reminder",
    "membership_grace",
    "membership_lapsed",
    "auto_renew_notice",
    "auto_renew_failed",
    "membership_suspended",
    "instalment_plan_notice",
    "instalment_failed"
];

/// A message ready for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// One line, whitespace collapsed.
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("unknown e-mail template `{0}`")]
    UnknownTemplate(String),
    #[error("the context of e-mail template `{0}` must be a JSON object")]
    BadContext(String),
    #[error("e-mail template `{name}` ({file}): {source:#}")]
    Template {
        name: String,
        file: &'static str,
        #[source]
        source: minijinja::Error,
    },
    #[error("the e-mail templates failed to load: {0}")]
    Setup(String),
}

/// Renders template `name` with `context` (a JSON object; `null` counts as empty).
// The context is skipped: it carries one-time links.
#[tracing::instrument(level = "debug", skip(context))]
pub fn render(name: &str, context: &serde_json::Value) -> Result<Rendered, RenderError> {
    let env = environment().map_err(|e| RenderError::Setup(e.clone()))?;
    if !TEMPLATES.contains(&name) {
        return Err(RenderError::UnknownTemplate(name.to_owned()));
    }
    let mut ctx = match context {
        serde_json::Value::Object(map) => map.clone(),
        serde_json::Value::Null => serde_json::Map::new(),
        _ => return Err(RenderError::BadContext(name.to_owned())),
    };
    ctx.entry("office_name")
        .or_insert_with(|| DEFAULT_OFFICE_NAME.into());
    ctx.entry("base_url")
        .or_insert_with(|| default_base_url().into());

    let one = |file: &'static str, ctx: &serde_json::Map<String, serde_json::Value>| {
        let full = format!("{name}.{file}");
        env.get_template(&full)
            .and_then(|t| t.render(ctx))
            .map_err(|source| RenderError::Template {
                name: name.to_owned(),
                file,
                source,
            })
    };
    let subject = one("subject.txt", &ctx)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let text = one("txt", &ctx)?.trim().to_owned() + "\n";
    // The HTML layout puts the subject in <title>.
    ctx.insert("subject".to_owned(), subject.clone().into());
    let html = one("html", &ctx)?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

/// `GUILDHALL_BASE_URL` without a trailing slash, or [`DEFAULT_BASE_URL`]; read once.
pub fn default_base_url() -> &'static str {
    static BASE_URL: OnceLock<String> = OnceLock::new();
    BASE_URL.get_or_init(|| {
        std::env::var("GUILDHALL_BASE_URL")
            .ok()
            .map(|s| s.trim().trim_end_matches('/').to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned())
    })
}

/// The environment, built on first use. A template that fails to parse is kept as an error (and caught by the
/// unit tests) rather than panicking inside a request.
fn environment() -> Result<&'static Environment<'static>, &'static String> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|file| {
            if file.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(html_formatter);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        for (file, source) in SOURCES {
            env.add_template(file, source)
                .map_err(|e| format!("{file}: {e:#}"))?;
        }
        Ok(env)
    })
    .as_ref()
}

/// minijinja's own HTML escaping also turns `/` into `&#x2f;`, which is valid but leaves every link in the
/// HTML source unreadable (and trips some mail scanners). Strings are escaped here for the five characters
/// that matter; everything else goes to the default formatter.
fn html_formatter(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    use std::fmt::Write as _;
    match value.as_str() {
        Some(s) if state.auto_escape() == AutoEscape::Html && !value.is_safe() => {
            for c in s.chars() {
                match c {
                    '&' => out.write_str("&amp;")?,
                    '<' => out.write_str("&lt;")?,
                    '>' => out.write_str("&gt;")?,
                    '"' => out.write_str("&quot;")?,
                    '\'' => out.write_str("&#39;")?,
                    c => out.write_char(c)?,
                }
            }
            Ok(())
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NAME: &str = "<script>alert(1)</script>";

    /// Sample data giving every variable each template uses.
    fn sample(name: &str) -> (serde_json::Value, &'static str) {
        match name {
            "verify_email" => (
                json!({"given_name": NAME, "verify_url": "https://example.test/verify-email?token=abc&x=1", "expires_hours": 24}),
                "https://example.test/verify-email?token=abc&x=1",
            ),
            "welcome" => (
                json!({"given_name": NAME, "sign_in_url": "https://example.test/sign-in"}),
                "https://example.test/sign-in",
            ),
            "account_exists" => (
                json!({"given_name": NAME, "sign_in_url": "https://example.test/sign-in", "reset_url": "https://example.test/forgot-password"}),
                "https://example.test/forgot-password",
            ),
            "password_reset" => (
                json!({"given_name": NAME, "reset_url": "https://example.test/reset-password?token=xyz", "expires_minutes": 60}),
                "https://example.test/reset-password?token=xyz",
            ),
            "password_changed" => (
                json!({"given_name": NAME, "reset_url": "https://example.test/forgot-password"}),
                "https://example.test/forgot-password",
            ),
            "staff_invite" => (
                json!({
                    "given_name": NAME,
                    "sign_in_url": "https://example.test/sign-in",
                    "roles": "Officer, Supervisor",
                    "set_password_url": "https://example.test/reset-password?token=inv",
                    "expires_days": 7,
                }),
                "https://example.test/reset-password?token=inv",
            ),
            "resignation_confirmed" => (
                json!({"given_name": NAME, "number": "GH0000042", "last_day": "31 March 2027", "at_once": false, "account_url": "https://example.test/portal"}),
                "https://example.test/portal",
            ),
            "confirm_new_email" => (
                json!({"given_name": NAME, "new_email": "new@example.test", "confirm_url": "https://example.test/confirm-email?token=c", "expires_hours": 24}),
                "https://example.test/confirm-email?token=c",
            ),
            "email_changed" => (
                json!({"given_name": NAME, "new_email": "new@example.test", "reset_url": "https://example.test/forgot-password"}),
                "https://example.test/forgot-password",
            ),
            "representative_added" => (
                json!({"given_name": NAME, "organisation": "Northern Counselling Network", "set_password_url": "https://example.test/reset-password?token=rep", "expires_days": 7, "sign_in_url": "https://example.test/sign-in"}),
                "https://example.test/reset-password?token=rep",
            ),
            "receipt" => (
                json!({"given_name": NAME, "receipt": "RCT-000001", "amount": "£216.00", "method": "Card", "invoice": "INV-000001", "account_url": "https://example.test/portal/payments"}),
                "https://example.test/portal/payments",
            ),
            "refund_issued" => (
                json!({"given_name": NAME, "amount": "£20.00", "by_card": true, "reference": "pi_1", "account_url": "https://example.test/portal/payments"}),
                "https://example.test/portal/payments",
            ),
            "renewal_invitation" => (
                json!({"given_name": NAME, "number": "GH0000042", "ends": "31 December 2026", "starts": "1 January 2027", "new_end": "31 December 2027", "amount": "£216.00", "invoice": "INV-000009", "account_url": "https://example.test/portal/payments"}),
                "https://example.test/portal/payments",
            ),
            "renewal_reminder" => (
                json!({"given_name": NAME, "number": "GH0000042", "when": "Your membership ends on 31 December 2026, in 30 days.", "amount": "£216.00", "invoice": "INV-000009", "renew_url": "https://example.test/portal/renew"}),
                "https://example.test/portal/renew",
            ),
            "membership_grace" => (
                json!({"given_name": NAME, "number": "GH0000042", "ended": "31 December 2026", "grace_ends": "30 January 2027", "lapsed_since": "", "deadline": "", "fee": "£216.00", "reinstatement_fee": "£25.00", "renew_url": "https://example.test/portal/renew"}),
                "https://example.test/portal/renew",
            ),
            "membership_lapsed" => (
                json!({"given_name": NAME, "number": "GH0000042", "ended": "31 December 2026", "grace_ends": "", "lapsed_since": "31 January 2027", "deadline": "31 July 2027", "fee": "£216.00", "reinstatement_fee": "£25.00", "renew_url": "https://example.test/portal/renew"}),
                "https://example.test/portal/renew",
            ),
            "auto_renew_notice" => (
                json!({"given_name": NAME, "number": "GH0000042", "amount": "£216.00", "charge_on": "1 January 2027", "card": "Card ending 4242", "starts": "1 January 2027", "new_end": "31 December 2027", "manage_url": "https://example.test/portal/renew"}),
                "https://example.test/portal/renew",
            ),
            "auto_renew_failed" => (
                json!({"given_name": NAME, "number": "GH0000042", "amount": "£216.00", "message": "Your card was declined.", "attempt": 1, "of": 3, "retry_on": "4 January 2027", "card": "Card ending 0341", "pay_url": "https://example.test/portal/renew"}),
                "https://example.test/portal/renew",
            ),
            "membership_suspended" => (
                json!({"given_name": NAME, "number": "GH0000042", "amount": "£216.00", "attempts": 3, "pay_url": "https://example.test/portal/renew"}),
                "https://example.test/portal/renew",
            ),
            "instalment_plan_notice" => (
                json!({"given_name": NAME, "number": "GH0000042", "count": 12, "first": "£16.55", "regular": "£16.50", "total": "£198.05", "charge_on": "1 January 2027", "second_on": "1 February 2027", "last_on": "1 December 2027", "card": "Card ending 4242", "starts": "1 January 2027", "new_end": "31 December 2027", "manage_url": "https://example.test/portal/renew"}),
                "https://example.test/portal/renew",
            ),
            "instalment_failed" => (
                json!({"given_name": NAME, "number": "GH0000042", "amount": "£16.50", "instalment": 3, "count": 12, "message": "Your card was declined.", "attempt": 1, "of": 3, "retry_on": "4 March 2027", "card": "Card ending 0341", "pay_url": "https://example.test/portal/payments"}),
                "https://example.test/portal/payments",
            ),
            other => panic!("no sample for template {other}"),
        }
    }

    #[test]
    fn every_template_renders_with_its_sample_data() {
        for name in TEMPLATES {
            let (ctx, url) = sample(name);
            let r = render(name, &ctx).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!r.subject.trim().is_empty(), "{name}: empty subject");
            assert!(
                !r.subject.contains('\n') && !r.subject.contains('\r'),
                "{name}: subject has a line break"
            );
            assert!(r.text.contains(url), "{name}: text lacks {url}");
            assert!(
                r.text.contains(NAME),
                "{name}: text should show the name as given"
            );
            assert!(
                r.text.contains(DEFAULT_OFFICE_NAME),
                "{name}: text lacks the office name"
            );
            assert!(
                !r.text.contains("{{") && !r.text.contains("{%"),
                "{name}: unrendered tag in text"
            );
            assert!(
                !r.html.contains("<script>"),
                "{name}: html did not escape the name"
            );
            assert!(
                r.html.contains("&lt;script&gt;"),
                "{name}: html lacks the escaped name"
            );
            assert!(
                r.html.contains(DEFAULT_OFFICE_NAME),
                "{name}: html lacks the office name header"
            );
            assert!(
                r.html.contains(&format!("<title>{}</title>", r.subject)),
                "{name}: html title is not the subject"
            );
            assert!(
                r.html.contains("<html lang=\"en\">"),
                "{name}: html is not wrapped in the layout"
            );
            assert!(
                r.html
                    .contains(&format!("href=\"{}\"", url.replace('&', "&amp;"))),
                "{name}: html lacks the link"
            );
        }
    }

    #[test]
    fn every_template_has_sample_data_and_a_distinct_subject() {
        let mut subjects: Vec<String> = TEMPLATES
            .iter()
            .map(|name| {
                render(name, &sample(name).0)
                    .map(|r| r.subject)
                    .unwrap_or_default()
            })
            .collect();
        subjects.sort();
        subjects.dedup();
        assert_eq!(subjects.len(), TEMPLATES.len());
    }

    #[test]
    fn a_missing_variable_is_an_error_not_a_blank() {
        for name in TEMPLATES {
            let (ctx, _) = sample(name);
            let mut map = ctx.as_object().cloned().unwrap_or_default();
            map.remove("given_name");
            let err = render(name, &serde_json::Value::Object(map));
            assert!(
                matches!(err, Err(RenderError::Template { .. })),
                "{name}: rendered without given_name"
            );
        }
    }

    #[test]
    fn unknown_template_and_non_object_context_are_refused() {
        assert!(matches!(
            render("nope", &json!({})),
            Err(RenderError::UnknownTemplate(_))
        ));
        assert!(matches!(
            render("welcome", &json!([1, 2])),
            Err(RenderError::BadContext(_))
        ));
    }

    #[test]
    fn office_name_and_base_url_given_in_the_context_win_over_the_defaults() {
        let mut ctx = sample("welcome").0;
        ctx["office_name"] = json!("Test Guild");
        ctx["base_url"] = json!("https://guild.example");
        let r = render("welcome", &ctx).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.text.contains("Test Guild") && !r.text.contains(DEFAULT_OFFICE_NAME));
        assert!(r.text.contains("https://guild.example"));
        assert!(r.html.contains("Test Guild"));
    }

    #[test]
    fn staff_roles_may_be_a_list_or_a_string() {
        let mut ctx = sample("staff_invite").0;
        let as_string = render("staff_invite", &ctx).unwrap_or_else(|e| panic!("{e}"));
        ctx["roles"] = json!(["Officer", "Supervisor"]);
        let as_list = render("staff_invite", &ctx).unwrap_or_else(|e| panic!("{e}"));
        assert!(as_string.text.contains("Your roles: Officer, Supervisor"));
        assert_eq!(as_string, as_list);
        ctx["roles"] = json!(["Officer"]);
        let one = render("staff_invite", &ctx).unwrap_or_else(|e| panic!("{e}"));
        assert!(one.text.contains("Your role: Officer\n"));
    }

    #[test]
    fn a_staff_invite_without_a_set_password_link_points_to_sign_in() {
        let mut ctx = sample("staff_invite").0;
        ctx["set_password_url"] = serde_json::Value::Null;
        let r = render("staff_invite", &ctx).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.text.contains("https://example.test/sign-in"));
        assert!(!r.text.contains("token=inv") && !r.html.contains("token=inv"));
        assert!(r.text.contains("forgotten password link"));

        let with_link =
            render("staff_invite", &sample("staff_invite").0).unwrap_or_else(|e| panic!("{e}"));
        assert!(with_link.text.contains("expires in 7 days"));
        assert!(with_link.text.contains("https://example.test/sign-in"));
    }
}
