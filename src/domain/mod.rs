//! Parsed types and pure rules. No I/O here: this module is compiled for the browser too.

pub mod actor;
pub mod address;
pub mod calendar;
pub mod contact;
pub mod countries;
pub mod dates;
pub mod email;
pub mod error;
pub mod ledger;
pub mod lists;
pub mod membership;
pub mod membership_number;
pub mod money;
pub mod movements;
pub mod paging;
pub mod password;
pub mod payments;
pub mod person;
pub mod phone;
pub mod role;
pub mod search;

pub use actor::{Actor, ActorKind};
pub use error::{AppError, FieldErrors};
pub use role::{Permission, Role};
