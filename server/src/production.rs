//! `GUILDHALL_ENV=production`: the settings a real installation must have, checked before serving.
//! Each unsafe setting is one line saying what is wrong and what to set; any of them stops the
//! server from starting (and `guildhall seed`, which only makes demo and benchmark data, from running).

use crate::Config;
use guildhall::domain::AppError;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

/// The domain of every account the demo and benchmark seeds create (all with the published password).
pub const DEMO_DOMAIN: &str = "@guildhall.test";

/// What is wrong with these settings for production, one line each (empty when all is well).
pub fn setting_problems(config: &Config) -> Vec<String> {
    setting_problems_with(config, |name| std::env::var(name).ok())
}

/// As [`setting_problems`], reading the environment through `var` (for tests).
pub fn setting_problems_with(config: &Config, var: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut problems = vec![];
    if !config.base_url.starts_with("https://") {
        problems.push(format!(
            "GUILDHALL_BASE_URL is {:?}: production needs the site's public https:// address",
            config.base_url
        ));
    }
    if config.payment_provider == "sandbox" {
        problems.push(
            "GUILDHALL_PAYMENT_PROVIDER=sandbox: the sandbox takes no real money and anyone can fake its payments; set stripe (or leave it unset for no card payments)"
                .to_owned(),
        );
    }
    // Authenticator secrets are sealed with this key; the development key is published in the code.
    match var("GUILDHALL_SECRET_KEY").map(|k| k.trim().chars().count()) {
        Some(n) if n >= 32 => {}
        Some(_) => problems.push(
            "GUILDHALL_SECRET_KEY is too short: set a random value of at least 32 characters, and keep it"
                .to_owned(),
        ),
        None => problems.push(
            "GUILDHALL_SECRET_KEY is not set: authenticator secrets would be sealed with the published development key; set a random value of at least 32 characters, and keep it"
                .to_owned(),
        ),
    }
    match guildhall::mail::smtp::SmtpConfig::from_vars(&var) {
        Ok(Some(_)) => {}
        Ok(None) => problems.push(
            "GUILDHALL_SMTP_HOST is not set: e-mail would only be written to the log; set GUILDHALL_SMTP_HOST (and its username and password)"
                .to_owned(),
        ),
        Err(e) => problems.push(format!("the SMTP settings cannot be used: {e}")),
    }
    problems
}

/// What is wrong with the data for production: demo accounts, whose password is published.
pub async fn data_problems(db: &DatabaseConnection) -> Result<Vec<String>, AppError> {
    use guildhall::entity::user;
    let demo = user::Entity::find()
        .filter(user::Column::EmailKey.ends_with(DEMO_DOMAIN))
        .count(db)
        .await?;
    Ok(if demo > 0 {
        vec![format!(
            "the database holds {demo} demo account(s) ({DEMO_DOMAIN}, published password): start from a fresh database without `guildhall seed`"
        )]
    } else {
        vec![]
    })
}

/// Prints each problem on its own line and fails, when there are any.
pub fn refuse(problems: &[String]) -> anyhow::Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    for p in problems {
        eprintln!("guildhall: refusing to start in production: {p}");
    }
    anyhow::bail!(
        "GUILDHALL_ENV=production: {} unsafe setting(s), see above",
        problems.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let mut c = Config::from_env().expect("config");
        c.base_url = "https://members.example.org".into();
        c.payment_provider = "stripe".into();
        c
    }

    fn smtp(name: &str) -> Option<String> {
        match name {
            "GUILDHALL_SMTP_HOST" => Some("smtp.example.org".to_owned()),
            "GUILDHALL_SECRET_KEY" => Some("k".repeat(40)),
            _ => None,
        }
    }

    #[test]
    fn a_sound_production_configuration_has_no_problems() {
        assert_eq!(setting_problems_with(&config(), smtp), Vec::<String>::new());
    }

    #[test]
    fn each_unsafe_setting_is_named() {
        let mut c = config();
        c.base_url = "http://members.example.org".into();
        let p = setting_problems_with(&c, smtp);
        assert!(p.len() == 1 && p[0].contains("GUILDHALL_BASE_URL"), "{p:?}");

        let mut c = config();
        c.payment_provider = "sandbox".into();
        let p = setting_problems_with(&c, smtp);
        assert!(p.len() == 1 && p[0].contains("sandbox"), "{p:?}");

        let p = setting_problems_with(&config(), |n| {
            (n == "GUILDHALL_SECRET_KEY").then(|| "k".repeat(40))
        });
        assert!(
            p.len() == 1 && p[0].contains("GUILDHALL_SMTP_HOST"),
            "{p:?}"
        );

        let p = setting_problems_with(&config(), |n| {
            (n == "GUILDHALL_SMTP_HOST").then(|| "smtp.example.org".to_owned())
        });
        assert!(
            p.len() == 1 && p[0].contains("GUILDHALL_SECRET_KEY"),
            "{p:?}"
        );
    }
}
