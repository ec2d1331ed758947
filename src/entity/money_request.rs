use sea_orm::entity::prelude::*;

/// A refund, manual invoice, credit note, write-off or large (or another member's invoice) manual payment raised by one staff member and carried out only
/// when a different supervisor or finance user authorises it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "money_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `refund`, `manual_invoice`, `credit_note`, `write_off`, `manual_payment`.
    pub kind: String,
    pub member_id: Uuid,
    pub amount_pence: i64,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    /// What a manual invoice is for.
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub invoice_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    pub status: RequestStatus,
    pub requested_by: Uuid,
    pub requested_by_label: String,
    pub requested_at: DateTimeUtc,
    pub decided_by: Option<Uuid>,
    pub decided_by_label: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_note: Option<String>,
    /// The document number or payment reference it produced.
    pub result: Option<String>,
    /// Card refunds: `pending` until the provider has been told, then `done` or `failed`.
    pub provider_status: Option<RefundStatus>,
    pub provider_ref: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub provider_error: Option<String>,
    /// Manual payments: `cheque` or `bank_transfer`, as typed by the officer.
    pub method: Option<String>,
    /// Manual payments: the cheque number or transfer reference.
    pub reference: Option<String>,
    /// Manual payments: the day the money arrived.
    pub received_on: Option<Date>,
    /// Manual payments: the ledger key the payment posts under (from the form, so a form sent twice
    /// raises one request).
    pub payment_key: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

stored_enum! {
    /// Where a request stands, as stored in `money_requests.status`.
    pub enum RequestStatus {
        /// Waiting for a second person.
        Pending = "pending",
        Approved = "approved",
        Declined = "declined",
    }
}

stored_enum! {
    /// A card refund's progress at the provider, as stored in `money_requests.provider_status`.
    pub enum RefundStatus {
        /// Approved; the provider has not yet been told.
        Pending = "pending",
        Done = "done",
        Failed = "failed",
    }
}
