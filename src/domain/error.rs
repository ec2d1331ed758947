//! The one error type shared by the server and the browser.
//!
//! Policy: a service error is mapped to `AppError` once, at the service boundary. Validation errors carry
//! a message per field, written for the person who typed the value. Internal errors carry only a
//! correlation id: the cause is logged on the server with that id and never sent to the browser.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// One message about one form field, shown beside the field and in the error summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The form field's name (also the id of its input, so the summary can link to it).
    pub field: String,
    pub message: String,
}

/// The messages for a form, in the order the fields appear.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a message for `field`; the first message for a field wins.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push(FieldError {
                field: field.to_owned(),
                message: message.into(),
            });
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter()
    }

    /// Records the error of a parse, returning the parsed value when there was none.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    /// `Ok(())` when no field has an error, else `AppError::Validation`.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self))
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("There is a problem with the details you entered")]
    Validation(FieldErrors),
    #[error("Page not found")]
    NotFound,
    #[error("You do not have permission to do that")]
    Forbidden,
    #[error("{0}")]
    Conflict(String),
    #[error("Sign in to continue")]
    Unauthenticated,
    #[error("Too many attempts. Wait 15 minutes, then try again")]
    RateLimited,
    #[error("Sorry, something went wrong. If it happens again, quote reference {correlation_id}")]
    Internal { correlation_id: String },
    /// The request did not reach the server or its answer could not be read (browser side only).
    #[error("The service could not be reached. Check your connection and try again")]
    Transport(String),
}

impl AppError {
    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        Self::Validation(errors)
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Validation(_) => 422,
            Self::NotFound => 404,
            Self::Forbidden => 403,
            Self::Conflict(_) => 409,
            Self::Unauthenticated => 401,
            Self::RateLimited => 429,
            Self::Internal { .. } | Self::Transport(_) => 500,
        }
    }

    /// The field errors, if this is a validation error.
    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            Self::Validation(f) => Some(f),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => {
                Self::Conflict("The form could not be read. Reload the page and try again".into())
            }
            ServerFnErrorErr::MissingArg(arg) => Self::field(&arg, "Enter a value"),
            other => Self::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Logs `cause` with a new correlation id and returns the error that may be shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let correlation_id = uuid::Uuid::now_v7().simple().to_string()[20..].to_owned();
        tracing::error!(%correlation_id, error = %cause, "internal error");
        Self::Internal { correlation_id }
    }
}

/// A unique column a form writes to: when two requests race past the service's own check, the
/// database refuses the second, and the person is told what the check would have told them.
struct UniqueField {
    table: &'static str,
    column: &'static str,
    /// The form field that holds the value.
    field: &'static str,
    message: &'static str,
}

const UNIQUE_FIELDS: &[UniqueField] = &[
    UniqueField {
        table: "users",
        column: "email_key",
        field: "email",
        message: "An account with this email address already exists",
    },
    UniqueField {
        table: "categories",
        column: "code",
        field: "code",
        message: "Another category already has this code",
    },
];

/// The field error for a unique-constraint violation, from the database's own words: SQLite names
/// `table.column` ("UNIQUE constraint failed: users.email_key"), PostgreSQL the constraint, which for
/// a column's own UNIQUE is `{table}_{column}_key` ("duplicate key value violates unique constraint
/// "users_email_key_key""). A constraint no form field owns still answers as a field error (422)
/// that says to reload, never as an internal error.
pub fn unique_violation(detail: &str) -> AppError {
    let known = UNIQUE_FIELDS.iter().find(|u| {
        detail.contains(&format!("{}.{}", u.table, u.column))
            || detail.contains(&format!("\"{}_{}_key\"", u.table, u.column))
    });
    match known {
        Some(u) => AppError::field(u.field, u.message),
        None => AppError::field(
            "form",
            "Someone else saved the same details at the same moment. Reload the page and check them before trying again",
        ),
    }
}

/// Database errors: a unique-constraint violation is the person's to fix (a field error, 422, see
/// [`unique_violation`]); anything else is internal, logged with a correlation id.
#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) => {
                tracing::info!(%detail, "unique constraint refused a write");
                unique_violation(&detail)
            }
            _ => Self::internal(e),
        }
    }
}

#[cfg(feature = "ssr")]
impl<E: std::fmt::Display> From<sea_orm::TransactionError<E>> for AppError
where
    E: Into<AppError> + std::error::Error,
{
    fn from(e: sea_orm::TransactionError<E>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(inner) => inner.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_message_for_a_field_wins() {
        let mut f = FieldErrors::new();
        f.add("email", "Enter an email address");
        f.add("email", "second");
        assert_eq!(f.get("email"), Some("Enter an email address"));
        assert_eq!(f.0.len(), 1);
    }

    #[test]
    fn no_field_errors_is_ok() {
        assert!(FieldErrors::new().into_result().is_ok());
        assert!(matches!(AppError::field("x", "y").status(), 422));
    }

    #[test]
    fn a_unique_violation_names_the_field_on_both_databases() {
        let taken = AppError::field("email", "An account with this email address already exists");
        assert_eq!(
            unique_violation("UNIQUE constraint failed: users.email_key"),
            taken
        );
        assert_eq!(
            unique_violation(
                "duplicate key value violates unique constraint \"users_email_key_key\""
            ),
            taken
        );
        assert_eq!(
            unique_violation("UNIQUE constraint failed: categories.code"),
            AppError::field("code", "Another category already has this code")
        );
        let other = unique_violation("UNIQUE constraint failed: notices.member_id, notices.key");
        assert_eq!(other.status(), 422);
        assert!(other.fields().is_some_and(|f| f.get("form").is_some()));
    }

    #[test]
    fn errors_round_trip_through_json_as_the_browser_sees_them() {
        let e = AppError::Internal {
            correlation_id: "abc".into(),
        };
        let s = serde_json::to_string(&e).unwrap();
        assert!(!s.contains("DbErr"));
        assert_eq!(serde_json::from_str::<AppError>(&s).unwrap(), e);
    }
}
