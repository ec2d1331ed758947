use sea_orm::entity::prelude::*;

/// A background job started by staff (or the schedule): its progress while it runs and its result.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: JobKind,
    pub status: JobStatus,
    pub as_of: Date,
    pub done: i64,
    pub total: i64,
    /// What it did, in words.
    #[sea_orm(column_type = "Text", nullable)]
    pub result: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub started_by: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// Which job a row is, as stored in `jobs.kind`.
    pub enum JobKind {
        /// The renewal run.
        Renewals = "renewals",
        /// The daily membership job.
        Daily = "daily",
    }
}

impl JobKind {
    /// The job in words.
    pub fn label(self) -> &'static str {
        match self {
            JobKind::Renewals => "Renewal run",
            JobKind::Daily => "Daily membership job",
        }
    }
}

stored_enum! {
    /// Where a job stands, as stored in `jobs.status`.
    pub enum JobStatus {
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
}
