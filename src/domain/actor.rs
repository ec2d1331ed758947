//! Who is acting: the signed-in person (member or staff), the system (jobs, webhooks) or nobody.
//!
//! An `Actor` is built once per request from the session and passed to every service call, which records it
//! in the audit trail. `require` is how a server function states the permission it needs.

use super::error::AppError;
use super::role::{Permission, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Anonymous,
    Member,
    Staff,
    System,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// The signed-in account, for members and staff.
    pub user_id: Option<Uuid>,
    /// How the audit trail names the actor: an e-mail address, or `system:<job>`.
    pub label: String,
    pub roles: Vec<Role>,
    /// The request this action belongs to, carried into the audit trail.
    pub request_id: Option<String>,
}

impl Actor {
    pub fn anonymous() -> Self {
        Self {
            kind: ActorKind::Anonymous,
            user_id: None,
            label: "anonymous".into(),
            roles: vec![],
            request_id: None,
        }
    }

    pub fn system(job: &str) -> Self {
        Self {
            kind: ActorKind::System,
            user_id: None,
            label: format!("system:{job}"),
            roles: vec![],
            request_id: None,
        }
    }

    /// A member acting on their own account.
    pub fn member(user_id: Uuid, email: &str) -> Self {
        Self {
            kind: ActorKind::Member,
            user_id: Some(user_id),
            label: email.to_owned(),
            roles: vec![],
            request_id: None,
        }
    }

    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    pub fn is_signed_in(&self) -> bool {
        matches!(self.kind, ActorKind::Member | ActorKind::Staff)
    }

    pub fn is_staff(&self) -> bool {
        self.kind == ActorKind::Staff
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn can(&self, p: Permission) -> bool {
        match self.kind {
            ActorKind::Member => p == Permission::OwnRecords,
            ActorKind::Staff => self.roles.iter().any(|r| r.grants(p)),
            ActorKind::System => true,
            ActorKind::Anonymous => false,
        }
    }

    /// `Ok` when the actor holds `p`; unauthenticated for nobody, forbidden for anyone else.
    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        if self.can(p) {
            Ok(())
        } else if self.kind == ActorKind::Anonymous {
            Err(AppError::Unauthenticated)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The signed-in account id, or unauthenticated.
    pub fn user(&self) -> Result<Uuid, AppError> {
        self.user_id.ok_or(AppError::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(roles: &[Role]) -> Actor {
        Actor {
            kind: ActorKind::Staff,
            user_id: Some(Uuid::nil()),
            label: "s".into(),
            roles: roles.to_vec(),
            request_id: None,
        }
    }

    #[test]
    fn nobody_is_asked_to_sign_in_and_members_are_forbidden_staff_pages() {
        assert_eq!(
            Actor::anonymous().require(Permission::StaffArea),
            Err(AppError::Unauthenticated)
        );
        let member = Actor {
            kind: ActorKind::Member,
            ..staff(&[])
        };
        assert_eq!(
            member.require(Permission::StaffArea),
            Err(AppError::Forbidden)
        );
        assert!(member.require(Permission::OwnRecords).is_ok());
    }

    #[test]
    fn officers_are_refused_admin_pages() {
        assert_eq!(
            staff(&[Role::Officer]).require(Permission::ManageStaff),
            Err(AppError::Forbidden)
        );
        assert!(staff(&[Role::Officer, Role::Admin])
            .require(Permission::ManageStaff)
            .is_ok());
    }
}
