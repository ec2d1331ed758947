use sea_orm::entity::prelude::*;

/// An invoice, credit note or receipt. Numbered from its own sequence (never reused); the amount never
/// changes; an invoice's `outstanding_pence` and `status` follow the payments, credit notes and write-offs
/// set against it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: DocumentKind,
    #[sea_orm(unique)]
    pub number: String,
    pub member_id: Uuid,
    pub issued_on: Date,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub amount_pence: i64,
    pub outstanding_pence: i64,
    pub status: DocumentStatus,
    /// A credit note's invoice; a receipt's payment.
    pub related_id: Option<Uuid>,
    pub ledger_transaction_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub created_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// What a document is, as stored in `documents.kind`.
    pub enum DocumentKind {
        Invoice = "invoice",
        CreditNote = "credit_note",
        Receipt = "receipt",
    }
}

impl DocumentKind {
    /// Its title on the page and the PDF.
    pub fn title(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "Invoice",
            DocumentKind::CreditNote => "Credit note",
            DocumentKind::Receipt => "Receipt",
        }
    }

    /// The prefix of its numbers (`INV-000001`).
    pub fn prefix(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "INV",
            DocumentKind::CreditNote => "CN",
            DocumentKind::Receipt => "RCT",
        }
    }

    /// The counter its numbers come from.
    pub fn counter(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice_number",
            DocumentKind::CreditNote => "credit_note_number",
            DocumentKind::Receipt => "receipt_number",
        }
    }
}

stored_enum! {
    /// Where a document stands, as stored in `documents.status`: invoices are open, paid, credited or
    /// written off; credit notes and receipts are issued.
    pub enum DocumentStatus {
        Open = "open",
        Paid = "paid",
        Credited = "credited",
        WrittenOff = "written_off",
        Issued = "issued",
    }
}
