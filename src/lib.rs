//! Guildhall: the membership office.
//!
//! `domain` is always compiled (also for the browser): parsed value types and pure rules, no I/O.
//! Everything behind the `ssr` feature is the server side: sea-orm entities, the services that apply the
//! rules inside one transaction per business operation, and the mail adapter.

pub mod domain;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(any(feature = "testing", all(test, feature = "ssr")))]
pub mod testing;
