//! The renewals wing: everything that keeps a membership going from one year to the next.
//!
//! - [`run`]: the renewal run raises each renewal invoice and invitation once;
//! - [`offer`]: what a member may do now (renew, reinstate, apply again) and self-renewal;
//! - [`settle`]: a renewal, reinstatement or instalment paid makes the new period in the payment's own
//!   transaction; resignation, removal, lapse and category changes cancel or re-price open renewals;
//! - [`instalments`]: monthly instalment plans;
//! - [`autorenew`]: automatic renewal to a saved card;
//! - [`dunning`]: the one routine that charges a saved card, retries, messages and suspends;
//! - [`daily`]: the daily job (run, automatic renewals, instalments, reminders, grace and lapse);
//! - [`notices`]: what the jobs share to send each message once.
//!
//! Below it: money (invoices, receipts, the ledger), history, settings, categories, the outbox. Above it:
//! `service::payments` (payments arriving from outside, which settle through [`settle`]), the member
//! record and the jobs.

pub mod autorenew;
pub mod collect;
pub mod daily;
pub mod dunning;
pub mod instalments;
pub mod notices;
pub mod offer;
pub mod run;
pub mod settle;

pub use run::{RunReport, WINDOW_DAYS};
