//! E-mail without the database: the templates messages are rendered from, and the SMTP submission of a
//! finished message.
//!
//! Nothing here is called on a request path except [`templates::render`], which `service::outbox::enqueue` uses
//! to write a finished message into the outbox inside the caller's transaction. Delivery happens later, in
//! `service::outbox::delivery`, which reads the outbox and hands each message to a transport ([`smtp`] among
//! them), so a crash never loses a message and never sends one twice except for a resend after a crash
//! mid-delivery, which carries the same `Message-ID`. Nothing in this module calls into `service`.

pub mod smtp;
pub mod templates;
