//! Staff roles and the permissions they grant.
//!
//! Every server function and handler names the `Permission` it needs; `Role::grants` is the single table
//! that says who has it. A member (portal account) holds no role and has only `Permission::OwnRecords`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Officer,
    Supervisor,
    Finance,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Officer, Role::Supervisor, Role::Finance, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
            Role::Finance => "finance",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Officer => "Officer",
            Role::Supervisor => "Supervisor",
            Role::Finance => "Finance",
            Role::Admin => "Admin",
        }
    }

    /// Whether this role grants `p`. Officers' work is the base every role except finance builds on.
    pub fn grants(self, p: Permission) -> bool {
        use Permission::*;
        let officer = matches!(
            p,
            StaffArea
                | ViewMembers
                | EditMembers
                | ViewOutbox
                | ViewAudit
                | RaiseRequests
                | RecordPayments
        );
        match self {
            Role::Officer => officer,
            Role::Supervisor => {
                officer || matches!(p, AuthoriseRequests | EditTemplates | EraseMembers)
            }
            Role::Finance => matches!(
                p,
                StaffArea
                    | ViewMembers
                    | ViewAudit
                    | ViewReports
                    | Reconcile
                    | AuthoriseRequests
                    | RecordPayments
            ),
            Role::Admin => {
                officer
                    || matches!(
                        p,
                        ManageStaff | ManageCategories | ManageSettings | ViewReports
                    )
            }
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Choose a role: officer, supervisor, finance or admin")]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownRole)
    }
}

/// What a caller may do. Checked at the start of every server function and handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// A signed-in member acting on their own records (and their organisation's).
    OwnRecords,
    /// Any page of the staff area.
    StaffArea,
    ViewMembers,
    EditMembers,
    ViewOutbox,
    ViewAudit,
    RaiseRequests,
    /// Record a cheque or bank transfer received.
    RecordPayments,
    AuthoriseRequests,
    EditTemplates,
    ViewReports,
    Reconcile,
    ManageStaff,
    ManageCategories,
    ManageSettings,
    /// Pseudonymise a member's personal data (UK GDPR erasure): supervisors only.
    EraseMembers,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_names_in_any_case() {
        for r in Role::ALL {
            assert_eq!(r.as_str().to_uppercase().parse::<Role>(), Ok(r));
        }
        assert_eq!("owner".parse::<Role>(), Err(UnknownRole));
    }

    #[test]
    fn only_admins_manage_staff() {
        for r in Role::ALL {
            assert_eq!(r.grants(Permission::ManageStaff), r == Role::Admin);
        }
    }

    #[test]
    fn only_supervisors_erase_personal_data() {
        for r in Role::ALL {
            assert_eq!(r.grants(Permission::EraseMembers), r == Role::Supervisor);
        }
    }

    #[test]
    fn officers_cannot_authorise_money() {
        assert!(!Role::Officer.grants(Permission::AuthoriseRequests));
        assert!(Role::Supervisor.grants(Permission::AuthoriseRequests));
        assert!(Role::Finance.grants(Permission::AuthoriseRequests));
    }

    #[test]
    fn every_role_enters_the_staff_area_and_none_acts_as_a_member() {
        for r in Role::ALL {
            assert!(r.grants(Permission::StaffArea));
            assert!(!r.grants(Permission::OwnRecords));
        }
    }
}
