use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub membership_number: i64,
    /// `individual` or `organisation`.
    pub kind: String,
    pub user_id: Option<Uuid>,
    pub title: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub preferred_name: Option<String>,
    pub organisation_name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    /// The phone number as the member typed it ("07700 900 982"), shown on pages; `phone` is its
    /// normalised form. `None` for numbers stored before it was kept.
    pub phone_as_typed: Option<String>,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub town: String,
    pub county: Option<String>,
    pub postcode: Option<String>,
    pub country: String,
    pub category_id: Uuid,
    pub joined_on: Date,
    pub journal_by_post: bool,
    pub email_news: bool,
    pub register_consent: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Normalised search keys (see `domain::search`), kept in step with the fields above.
    pub search_family: String,
    pub search_given: String,
    pub search_email: String,
    pub search_postcode: String,
    pub search_town: String,
    /// Set when personal fields were erased (pseudonymised) at the member's request.
    pub pseudonymised_at: Option<DateTimeUtc>,
    /// Who erased the personal data (the staff member's label).
    pub pseudonymised_by: Option<String>,
    /// No post or e-mail at all (deceased, or at the member's request).
    pub stop_all_mail: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The member's membership number.
    pub fn number(&self) -> crate::domain::membership_number::MembershipNumber {
        crate::domain::membership_number::MembershipNumber::stored(self.membership_number)
    }
}
