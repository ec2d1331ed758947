//! Card payment providers behind one interface. The member is sent to the provider's hosted page (we
//! never see card numbers); the provider tells us the outcome by a signed webhook, which
//! `money::webhooks` processes exactly once.
//!
//! - **sandbox**: built in, for development, demos and tests. Its hosted page is `/sandbox/checkout/{id}`;
//!   its test cards succeed, decline, or fail once and then succeed. It signs its events like Stripe does
//!   (with its own secret) and posts them to `/webhooks/sandbox`.
//! - **stripe**: a Checkout Session created over Stripe's HTTP API; events arrive at `/webhooks/stripe`
//!   signed with `GUILDHALL_STRIPE_WEBHOOK_SECRET`.
//! - **none** (the default when nothing is configured): no card payments; members pay another way.
//!
//! Only the configured provider's webhook endpoint exists: with Stripe configured, `/webhooks/sandbox`
//! answers 404, and the other way round. The sandbox is used only when asked for by name
//! (`GUILDHALL_PAYMENT_PROVIDER=sandbox`), and signs its events with a secret made afresh by each
//! process unless one is given.

use crate::domain::money::Money;
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::DatabaseConnection;
use serde_json::Value;
use sha2::Sha256;
use std::sync::Arc;
use uuid::Uuid;

/// Events older (or newer) than this many seconds are refused, as Stripe recommends.
pub const TOLERANCE_SECS: i64 = 300;

/// What we ask a provider to take payment for.
pub struct CheckoutRequest<'a> {
    pub checkout_id: Uuid,
    pub amount: Money,
    pub description: &'a str,
    pub email: &'a str,
    pub success_url: String,
    pub cancel_url: String,
    /// The member agreed to automatic renewal or monthly payments: the card is saved for charges
    /// without them present.
    pub save_card: bool,
}

/// Where to send the member, and the provider's id for the session.
#[derive(Clone, Debug)]
pub struct Started {
    pub provider_ref: String,
    pub redirect_url: String,
}

/// Why charging a saved card did not take the money.
#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    /// The bank said no: the member must act (dunning).
    #[error("{0}")]
    Declined(String),
    /// The provider could not be asked (or cannot do it): try again later; the member is not told.
    #[error("{0}")]
    Unavailable(String),
}

/// A provider call that failed: the message is safe to show staff, never a secret.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProviderError(pub String);

#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync {
    /// `sandbox` or `stripe`: stored on checkouts and payments, and the webhook path.
    fn name(&self) -> &'static str;
    /// Opens a hosted payment page.
    async fn start_checkout(&self, req: &CheckoutRequest<'_>) -> Result<Started, ProviderError>;
    /// Pays `amount` of payment `payment_ref` back to the card, once per `key`. Answers the refund's id.
    async fn refund(
        &self,
        payment_ref: &str,
        amount: Money,
        key: &str,
    ) -> Result<String, ProviderError>;
    /// Whether cards can be saved at this provider for automatic renewal.
    fn saves_cards(&self) -> bool {
        false
    }
    /// Charges `amount` to a saved card (`token`) with the member not present, once per `key`. Answers
    /// the payment's reference.
    async fn charge_saved(
        &self,
        _token: &str,
        _amount: Money,
        _description: &str,
        _key: &str,
    ) -> Result<String, ChargeError> {
        Err(ChargeError::Unavailable(format!(
            "{} cannot charge saved cards",
            self.name()
        )))
    }
}

/// No card provider configured: nothing can be paid by card.
pub struct NoCards;

/// What a member is told when card payments are not set up.
pub const NO_CARDS: &str =
    "Card payments are not available. Contact the membership office to pay another way.";

#[async_trait::async_trait]
impl PaymentProvider for NoCards {
    fn name(&self) -> &'static str {
        "none"
    }

    async fn start_checkout(&self, _req: &CheckoutRequest<'_>) -> Result<Started, ProviderError> {
        Err(ProviderError(NO_CARDS.into()))
    }

    async fn refund(
        &self,
        _payment_ref: &str,
        _amount: Money,
        _key: &str,
    ) -> Result<String, ProviderError> {
        Err(ProviderError(
            "no card payment provider is configured".into(),
        ))
    }
}

/// The sandbox's token for a saved card: the card's last four digits, which also say how it behaves.
pub fn sandbox_card_token(digits: &str) -> String {
    let last4 = &digits[digits.len().saturating_sub(4)..];
    format!("sbx_pm_{last4}")
}

/// The built-in sandbox.
pub struct Sandbox {
    pub base_url: String,
}

#[async_trait::async_trait]
impl PaymentProvider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    async fn start_checkout(&self, req: &CheckoutRequest<'_>) -> Result<Started, ProviderError> {
        Ok(Started {
            provider_ref: req.checkout_id.to_string(),
            redirect_url: format!("{}/sandbox/checkout/{}", self.base_url, req.checkout_id),
        })
    }

    fn saves_cards(&self) -> bool {
        true
    }

    async fn charge_saved(
        &self,
        token: &str,
        _amount: Money,
        _description: &str,
        key: &str,
    ) -> Result<String, ChargeError> {
        if token.ends_with("0341") || token.ends_with("0002") {
            return Err(ChargeError::Declined(DECLINED.into()));
        }
        if !token.starts_with("sbx_pm_") {
            return Err(ChargeError::Declined("The saved card is not known.".into()));
        }
        Ok(format!(
            "sbx_ch_{}",
            hex::encode(&sha256(key.as_bytes())[..12])
        ))
    }

    async fn refund(
        &self,
        _payment_ref: &str,
        _amount: Money,
        key: &str,
    ) -> Result<String, ProviderError> {
        Ok(format!(
            "sbx_re_{}",
            hex::encode(&sha256(key.as_bytes())[..12])
        ))
    }
}

fn sha256(b: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    Sha256::digest(b).to_vec()
}

/// Stripe, over its HTTP API.
pub struct Stripe {
    pub secret_key: String,
    /// `https://api.stripe.com`, or a stand-in in tests.
    pub api_base: String,
    pub client: reqwest::Client,
}

impl Stripe {
    pub fn new(secret_key: String, api_base: String) -> Self {
        Self {
            secret_key,
            api_base,
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
        }
    }

    async fn post(
        &self,
        path: &str,
        form: &[(String, String)],
        key: &str,
    ) -> Result<Value, ProviderError> {
        let res = self
            .client
            .post(format!("{}{path}", self.api_base.trim_end_matches('/')))
            .bearer_auth(&self.secret_key)
            .header("Idempotency-Key", key)
            .form(form)
            .send()
            .await
            .map_err(|e| ProviderError(format!("Stripe could not be reached: {e}")))?;
        let status = res.status();
        let body: Value = res
            .json()
            .await
            .map_err(|e| ProviderError(format!("Stripe's answer could not be read: {e}")))?;
        if !status.is_success() {
            let msg = body["error"]["message"].as_str().unwrap_or("no message");
            return Err(ProviderError(format!("Stripe refused ({status}): {msg}")));
        }
        Ok(body)
    }
}

#[async_trait::async_trait]
impl PaymentProvider for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    async fn start_checkout(&self, req: &CheckoutRequest<'_>) -> Result<Started, ProviderError> {
        let id = req.checkout_id.to_string();
        let form: Vec<(String, String)> = [
            ("mode", "payment".to_owned()),
            ("success_url", req.success_url.clone()),
            ("cancel_url", req.cancel_url.clone()),
            ("client_reference_id", id.clone()),
            ("customer_email", req.email.to_owned()),
            ("metadata[checkout_id]", id.clone()),
            ("payment_intent_data[metadata][checkout_id]", id.clone()),
            ("line_items[0][quantity]", "1".to_owned()),
            ("line_items[0][price_data][currency]", "gbp".to_owned()),
            (
                "line_items[0][price_data][unit_amount]",
                req.amount.pence().to_string(),
            ),
            (
                "line_items[0][price_data][product_data][name]",
                req.description.to_owned(),
            ),
        ]
        .into_iter()
        .chain(
            [
                // A customer to keep the card on, and the card kept for charges off-session.
                ("customer_creation", "always".to_owned()),
                (
                    "payment_intent_data[setup_future_usage]",
                    "off_session".to_owned(),
                ),
            ]
            .into_iter()
            .filter(|_| req.save_card),
        )
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let body = self
            .post("/v1/checkout/sessions", &form, &format!("checkout-{id}"))
            .await?;
        match (body["id"].as_str(), body["url"].as_str()) {
            (Some(sid), Some(url)) => Ok(Started {
                provider_ref: sid.to_owned(),
                redirect_url: url.to_owned(),
            }),
            _ => Err(ProviderError(
                "Stripe's answer had no session id or address".into(),
            )),
        }
    }

    fn saves_cards(&self) -> bool {
        true
    }

    /// `token` is the Stripe customer a checkout saved the card on: its newest card is charged with a
    /// PaymentIntent confirmed off-session. A card error (HTTP 402, or a payment needing the member) is
    /// a decline; anything else is the provider being unavailable.
    async fn charge_saved(
        &self,
        token: &str,
        amount: Money,
        description: &str,
        key: &str,
    ) -> Result<String, ChargeError> {
        if !token.starts_with("cus_") {
            return Err(ChargeError::Declined("The saved card is not known.".into()));
        }
        let base = self.api_base.trim_end_matches('/');
        let unavailable = |e: String| ChargeError::Unavailable(e);
        let methods: Value = self
            .client
            .get(format!("{base}/v1/payment_methods"))
            .bearer_auth(&self.secret_key)
            .query(&[("customer", token), ("type", "card"), ("limit", "1")])
            .send()
            .await
            .map_err(|e| unavailable(format!("Stripe could not be reached: {e}")))?
            .json()
            .await
            .map_err(|e| unavailable(format!("Stripe's answer could not be read: {e}")))?;
        let Some(pm) = methods["data"][0]["id"].as_str() else {
            return Err(ChargeError::Declined(
                "There is no card saved for automatic payments.".into(),
            ));
        };
        let form = [
            ("amount", amount.pence().to_string()),
            ("currency", "gbp".to_owned()),
            ("customer", token.to_owned()),
            ("payment_method", pm.to_owned()),
            ("off_session", "true".to_owned()),
            ("confirm", "true".to_owned()),
            ("description", description.to_owned()),
            ("metadata[charge_key]", key.to_owned()),
        ];
        let res = self
            .client
            .post(format!("{base}/v1/payment_intents"))
            .bearer_auth(&self.secret_key)
            .header("Idempotency-Key", key)
            .form(&form)
            .send()
            .await
            .map_err(|e| unavailable(format!("Stripe could not be reached: {e}")))?;
        let status = res.status();
        let body: Value = res
            .json()
            .await
            .map_err(|e| unavailable(format!("Stripe's answer could not be read: {e}")))?;
        if status.as_u16() == 402 || body["error"]["type"].as_str() == Some("card_error") {
            let msg = body["error"]["message"]
                .as_str()
                .unwrap_or(DECLINED)
                .chars()
                .take(300)
                .collect();
            return Err(ChargeError::Declined(msg));
        }
        if !status.is_success() {
            let msg = body["error"]["message"].as_str().unwrap_or("no message");
            return Err(unavailable(format!("Stripe refused ({status}): {msg}")));
        }
        match (body["id"].as_str(), body["status"].as_str()) {
            (Some(id), Some("succeeded")) => Ok(id.to_owned()),
            (_, Some("requires_action" | "requires_payment_method")) => Err(ChargeError::Declined(
                "Your bank asked to confirm the payment with you, which cannot be done automatically."
                    .into(),
            )),
            (_, other) => Err(unavailable(format!(
                "Stripe left the payment {}",
                other.unwrap_or("without a status")
            ))),
        }
    }

    async fn refund(
        &self,
        payment_ref: &str,
        amount: Money,
        key: &str,
    ) -> Result<String, ProviderError> {
        let form = vec![
            ("payment_intent".to_owned(), payment_ref.to_owned()),
            ("amount".to_owned(), amount.pence().to_string()),
        ];
        let body = self.post("/v1/refunds", &form, key).await?;
        body["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ProviderError("Stripe's answer had no refund id".into()))
    }
}

/// How the sandbox's events reach our webhook endpoint.
#[derive(Clone)]
pub enum Delivery {
    /// POSTed over HTTP to `{base_url}/webhooks/sandbox`, as a real provider does.
    Http(String),
    /// Handed straight to the webhook handler (tests without a server).
    Direct(DatabaseConnection),
}

/// The configured providers: the one members pay through, and the webhook secrets.
#[derive(Clone)]
pub struct Providers {
    pub active: Arc<dyn PaymentProvider>,
    pub sandbox_secret: String,
    pub stripe_secret: Option<String>,
    pub stripe: Option<Arc<Stripe>>,
    pub delivery: Delivery,
    pub base_url: String,
}

impl Providers {
    /// The sandbox only, its events handed straight to the handler: for tests.
    pub fn sandbox_direct(db: DatabaseConnection, base_url: &str) -> Self {
        Self {
            active: Arc::new(Sandbox {
                base_url: base_url.to_owned(),
            }),
            sandbox_secret: crate::service::identity::random_token(),
            stripe_secret: None,
            stripe: None,
            delivery: Delivery::Direct(db),
            base_url: base_url.to_owned(),
        }
    }

    /// The provider that took a payment, for refunds.
    pub fn by_name(&self, name: &str) -> Option<Arc<dyn PaymentProvider>> {
        match name {
            "sandbox" => Some(Arc::new(Sandbox {
                base_url: self.base_url.clone(),
            })),
            "stripe" => self.stripe.clone().map(|s| s as Arc<dyn PaymentProvider>),
            _ => None,
        }
    }

    /// Whether members can pay by card at all.
    pub fn takes_cards(&self) -> bool {
        self.active.name() != "none"
    }

    /// The secret a provider's webhooks are signed with: only the configured provider's endpoint
    /// exists, so any other name answers `None`.
    pub fn webhook_secret(&self, provider: &str) -> Option<&str> {
        if provider != self.active.name() {
            return None;
        }
        match provider {
            "sandbox" => Some(&self.sandbox_secret),
            "stripe" => self.stripe_secret.as_deref(),
            _ => None,
        }
    }
}

/// The `Stripe-Signature` header value for `body` sent at unix time `t`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body)))
}

fn mac(secret: &str, t: i64, body: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut m = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// Why an event was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing or malformed signature header")]
    Malformed,
    #[error("timestamp outside the {TOLERANCE_SECS} s tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// Checks a `Stripe-Signature`-style header (`t=…,v1=…[,v1=…]`) against `body` at unix time `now`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), SignatureError> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if sigs.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let mut m =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| SignatureError::Malformed)?;
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    // `verify_slice` compares in constant time.
    if !sigs.iter().any(|s| m.clone().verify_slice(s).is_ok()) {
        return Err(SignatureError::Mismatch);
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

pub(crate) const DECLINED: &str =
    "Your card was declined. No money has been taken. Try another card or contact your bank.";
pub(crate) const PROCESSING_ERROR: &str =
    "The payment could not be processed. No money has been taken. Try again.";

/// What the sandbox's page shows after a card is tried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SandboxOutcome {
    /// Paid: where to send the member back to.
    Paid(String),
    /// Declined or failed: the message to show; the invoice stays open.
    Failed(String),
}

/// Where a member lands after paying.
pub fn return_url(base_url: &str, checkout_id: Uuid) -> String {
    format!("{base_url}/portal/payments/done?checkout={checkout_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_body_verifies_and_tampering_or_age_is_refused() {
        let body = br#"{"id":"evt_1"}"#;
        let h = sign("whsec_x", 1_000, body);
        assert_eq!(verify("whsec_x", &h, body, 1_100), Ok(()));
        assert_eq!(
            verify("whsec_y", &h, body, 1_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_x", &h, br#"{"id":"evt_2"}"#, 1_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_x", &h, body, 1_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify("whsec_x", "v1=00", body, 1_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify("whsec_x", "t=1000", body, 1_000),
            Err(SignatureError::Malformed)
        );
        // Several v1 signatures (a secret being rolled): any one may match.
        let two = format!("t=1000,v1=00ff,{}", &h[7..]);
        assert_eq!(verify("whsec_x", &two, body, 1_000), Ok(()));
    }
}
