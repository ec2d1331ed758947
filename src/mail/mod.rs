//! E-mail: the templates messages are rendered from, and the worker that delivers them.
//!
//! Nothing here is called on a request path except [`templates::render`], which `service::outbox::enqueue` uses
//! to write a finished message into the outbox inside the caller's transaction. Delivery happens later, in
//! [`worker`], which reads the outbox, so a crash never loses a message and never sends one twice except for a
//! resend after a crash mid-delivery, which carries the same `Message-ID`.

pub mod templates;
pub mod worker;
