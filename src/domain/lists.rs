//! The member lists behind the dashboard's tiles (each tile links to one), and the order statuses are
//! shown in. Pure: `service::dashboard` reads the lists, `service::summary` keeps their counts.

use crate::domain::membership::Status;

/// Statuses in the order the dashboard shows them.
pub const STATUS_ORDER: [Status; 8] = [
    Status::Active,
    Status::Grace,
    Status::Suspended,
    Status::Lapsed,
    Status::Resigned,
    Status::Removed,
    Status::NotYetStarted,
    Status::NeverMember,
];

/// The lists behind the tiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    Status(Status),
    JoinedThisWeek,
    /// Last period ends in the next 30 days.
    RenewalsDue,
    /// A paid period ended this month and nothing followed it yet.
    NotRenewed,
}

impl List {
    /// `status:active`, `joined-this-week`, `renewals-due`, `not-renewed`.
    pub fn parse(s: &str) -> Option<List> {
        Some(match s {
            "joined-this-week" => List::JoinedThisWeek,
            "renewals-due" => List::RenewalsDue,
            "not-renewed" => List::NotRenewed,
            other => {
                let status = other.strip_prefix("status:")?;
                List::Status(STATUS_ORDER.into_iter().find(|s| s.key() == status)?)
            }
        })
    }

    pub fn key(self) -> String {
        match self {
            List::Status(s) => format!("status:{}", s.key()),
            List::JoinedThisWeek => "joined-this-week".into(),
            List::RenewalsDue => "renewals-due".into(),
            List::NotRenewed => "not-renewed".into(),
        }
    }

    pub fn title(self) -> String {
        match self {
            List::Status(s) => format!("Members: {}", s.label()),
            List::JoinedThisWeek => "Members who joined this week".into(),
            List::RenewalsDue => "Renewals due in the next 30 days".into(),
            List::NotRenewed => "Not renewed: memberships that ended this month".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_list_key_reads_back_and_status_keys_are_the_stored_names() {
        for s in STATUS_ORDER {
            assert_eq!(
                serde_json::to_value(s).expect("json"),
                serde_json::Value::String(s.key().to_owned())
            );
            assert_eq!(List::parse(&List::Status(s).key()), Some(List::Status(s)));
        }
        for l in [List::JoinedThisWeek, List::RenewalsDue, List::NotRenewed] {
            assert_eq!(List::parse(&l.key()), Some(l));
        }
        assert_eq!(List::parse("status:nonsense"), None);
    }
}
