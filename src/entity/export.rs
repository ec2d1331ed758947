use sea_orm::entity::prelude::*;

/// A file made for a third party: who made it, when, what it held (the fields, as JSON) and how many rows.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `renewal-documents` or `journal`.
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub fields: String,
    /// What was asked for, e.g. the month of the renewal documents.
    pub params: String,
    pub row_count: i64,
    pub created_by_user: Option<Uuid>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
