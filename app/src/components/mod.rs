//! Shared pieces: form fields in the GOV.UK pattern, the error summary, tags, page furniture and the
//! page shell every data page renders in.

pub mod flash;
pub mod forms;
pub mod layout;
pub mod page;

pub use forms::{Checkbox, ErrorSummary, Field, Form, Radios, Select, SubmitButton, TextArea};
pub use layout::{Forbidden, NotFound, PageTitle, Pagination, SkipLink};
pub use page::{error_view, member_error_view, PageShell};
