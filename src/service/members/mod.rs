//! Members: the record staff keep and members see — details, periods, status, notes and search.

pub mod changes;
pub mod enrol;
pub mod erasure;
pub mod portal;
pub mod record;
pub mod register;
pub mod search;
pub mod timeline;

use crate::domain::search::{fold, postcode_key};

/// The normalised search keys of a member, stored beside their details.
pub struct SearchKeys {
    pub family: String,
    pub given: String,
    pub email: String,
    pub postcode: String,
    pub town: String,
}

impl SearchKeys {
    pub fn of(given: &str, family: &str, email: &str, postcode: Option<&str>, town: &str) -> Self {
        Self {
            family: fold(family),
            given: fold(given),
            email: email.trim().to_lowercase(),
            postcode: postcode.map(postcode_key).unwrap_or_default(),
            town: fold(town),
        }
    }
}
