//! sea-orm entities: one file per table, columns and relations only. Rules live in `domain` and `service`.

pub mod audit_log;
pub mod auth_token;
pub mod category;
pub mod checkout;
pub mod counter;
pub mod document;
pub mod job;
pub mod ledger_entry;
pub mod ledger_transaction;
pub mod member;
pub mod member_note;
pub mod member_representative;
pub mod membership_event;
pub mod money_request;
pub mod notice;
pub mod outbox_message;
pub mod payment;
pub mod period;
pub mod renewal;
pub mod saved_card;
pub mod session;
pub mod setting;
pub mod settlement;
pub mod user;
pub mod user_role;
pub mod webhook_event;
