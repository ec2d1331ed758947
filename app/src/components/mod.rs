//! Shared pieces: form fields in the GOV.UK pattern, the error summary, tags and page furniture.

pub mod forms;
pub mod layout;

pub use forms::{Checkbox, ErrorSummary, Field, Radios, SubmitButton, TextArea};
pub use layout::{Forbidden, NotFound, PageTitle, Pagination};
