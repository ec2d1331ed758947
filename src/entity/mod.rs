//! sea-orm entities: one file per table, columns and relations only. Rules live in `domain` and `service`.

/// A column holding one of a closed set of words, as an enum stored by the same text (so stored rows read
/// unchanged, with no migration): `Variant = "text"` for each. It reads and writes through sea-orm
/// (`DeriveActiveEnum`), serialises as its text, answers its text with `as_str` (and `parse` reads it
/// back); it compares equal to
/// its text, so a stored word and a variant can be checked against each other.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:tt,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, sea_orm::EnumIter, sea_orm::DeriveActiveEnum,
            serde::Serialize,
        )]
        #[sea_orm(
            rs_type = "String",
            db_type = "String(sea_orm::sea_query::StringLen::None)"
        )]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $text)] #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// The stored text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value whose stored text is `s`, if any.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.as_str()
            }
        }
    };
}

pub mod audit_log;
pub mod auth_token;
pub mod category;
pub mod checkout;
pub mod counter;
pub mod document;
pub mod export;
pub mod instalment_plan;
pub mod job;
pub mod ledger_entry;
pub mod ledger_transaction;
pub mod member;
pub mod member_note;
pub mod member_representative;
pub mod membership_event;
pub mod money_request;
pub mod movement_count;
pub mod notice;
pub mod outbox_message;
pub mod payment;
pub mod period;
pub mod recovery_code;
pub mod renewal;
pub mod saved_card;
pub mod session;
pub mod setting;
pub mod settlement;
pub mod user;
pub mod user_role;
pub mod user_totp;
pub mod webhook_event;
