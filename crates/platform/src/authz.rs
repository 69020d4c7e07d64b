//! One authorization policy: `can(actor, action, resource)`. Every handler asks it; nothing
//! else decides who may do what.

use tongban_core::RegionCode;

use crate::identity::model::{Actor, Role, Scope};

/// What the actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read or change one's own account and preferences.
    UseOwnAccount,
    ListAccounts,
    CreateAccount,
    ResetPassword,
    GrantRole,
    ListRoles,
    ViewRegions,
    ManageRegions,
    ManageDepartments,
    ReadAuditRecords,
    /// Read a person's personal fields (always logged).
    ReadPersonalData,
    RegisterPerson,
    ReadEnterprise,
    RegisterEnterprise,
    /// Record a health fact about a person (health officers of the person's region).
    RecordHealthFact,
    /// Health work that is not about one person: on the platform, any health officer (their
    /// lists); on a region, an officer whose scope covers it — the deployment's region for
    /// the status policy and the emergency switch, so a district's officer cannot.
    ManageHealthPolicy,
    /// Check a pass at a venue or checkpoint.
    CheckPass,
    /// Apply for a venue code (venue operators of the venue's region).
    ApplyVenue,
    /// Approve, refuse or revoke a venue code (clerks and department administrators of the
    /// venue's district or above).
    DecideVenue,
    /// Check-in counts per district and hour (health officers and system administrators).
    ReadCheckinStatistics,
    /// The operations view (一网统管) of a region and the regions under it: the figures of
    /// every module, small counts of persons hidden (system administrators, department
    /// administrators and health officers, each over their scope).
    ViewOperations,
    /// Use the scanner page: venue operators and checkpoint officers.
    UseScanner,
    /// Check a person without a phone by ID number or card (checkpoint officers).
    CheckPersonById,
    /// Recognise other regions, trust foreign credentials' signers, set the visitors' rule
    /// (the security administrators: two of them for anything that trusts more).
    ManageTrust,
    /// Open the service catalogue's editor (the system administrator, department
    /// administrators).
    OpenServiceCatalogue,
    /// Create or change a department's service items (the system administrator, or that
    /// department's administrators).
    EditServiceItems,
    /// Issue certificates as a department, and suspend, reinstate or revoke them (its clerks).
    IssueCertificates,
    /// Handle a department's applications (its clerks).
    HandleApplications,
    /// Manage accounts on the console (the system administrator).
    ManageAccounts,
    /// Grant and withdraw roles on the console (the security administrator).
    ManageGrants,
    /// Record a consent a person gave in person at a service window (clerks of the person's
    /// region), for people without a phone.
    RecordConsentInPerson,
    /// Browse the data resource catalogue (any staff).
    ViewDataCatalogue,
    /// List and change a department's resources in the catalogue (its administrators).
    ManageDataCatalogue,
    /// Ask for another department's data in a department's name (its administrators).
    RequestData,
    /// Grant, refuse or revoke requests for a department's resources (its administrators).
    DecideDataRequest,
    /// Call another department's data service through the gateway in a department's name,
    /// within its grants (its clerks and administrators).
    CallDataService,
    /// Search a department's message log and take receipts of its exchanges (its
    /// administrators).
    ReadExchangeLog,
    /// Keep the records of a department's digital registries (its clerks and
    /// administrators).
    KeepRegistry,
    /// Prepare a department's open data: datasets kept private, uploads, the treatments the
    /// personal-data gate asks for (its clerks and administrators).
    PrepareOpenData,
    /// Publish a department's open data: make a dataset public, publish an upload someone
    /// else prepared, delete (its administrators).
    PublishOpenData,
    /// Draft an organ's official documents, and keep them as its secretariat (文书): check
    /// them again, seal, register and send them (its clerks and administrators).
    HandleDocuments,
    /// Sign an organ's documents off as its leader (签发), and keep the codes it numbers them
    /// under (its administrators).
    SignDocuments,
    /// Look colleagues up in the directory (通讯录), and read a work phone there (audited):
    /// every staff member.
    ViewDirectory,
    /// Keep an organ's part of the directory: its internal units, the posts its people hold
    /// and their work phones (its administrators).
    KeepDirectory,
}

/// What the action is done to, with what the policy needs to know about it.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// The platform as a whole (lists, catalogues).
    Platform,
    Region(&'a RegionCode),
    Account {
        id: &'a str,
        region: &'a RegionCode,
        holds_trio_role: bool,
    },
    Person {
        id: &'a str,
        region: &'a RegionCode,
    },
    Enterprise {
        id: &'a str,
        region: &'a RegionCode,
    },
    /// A department, for what only its own staff may do in its name.
    Department {
        id: &'a str,
    },
}

impl Resource<'_> {
    fn region(&self) -> Option<&RegionCode> {
        match self {
            Resource::Platform | Resource::Department { .. } => None,
            Resource::Region(code) => Some(code),
            Resource::Account { region, .. }
            | Resource::Person { region, .. }
            | Resource::Enterprise { region, .. } => Some(region),
        }
    }
}

/// True when the actor holds `role` with a scope that reaches the resource. A resource with no
/// region (the platform) is reached by any grant of the role.
fn holds_over(actor: &Actor, role: Role, resource: &Resource<'_>) -> bool {
    actor
        .grants_of(role)
        .any(|grant| match (&grant.scope, resource.region()) {
            (Scope::Own, _) => false,
            (_, None) => true,
            (scope, Some(target)) => scope.region().is_some_and(|reach| reach.contains(target)),
        })
}

/// True when the actor is on the staff of the department named and holds `role`.
fn acts_for(actor: &Actor, role: Role, resource: &Resource<'_>) -> bool {
    match resource {
        Resource::Department { id } => {
            actor.account.department_id.as_deref() == Some(*id)
                && holds_over(actor, role, &Resource::Platform)
        }
        _ => false,
    }
}

pub fn can(actor: &Actor, action: Action, resource: Resource<'_>) -> bool {
    use Action::*;
    match action {
        UseOwnAccount => matches!(resource, Resource::Account { id, .. } if id == actor.id()),
        ListAccounts | CreateAccount | ManageRegions | ManageDepartments => {
            holds_over(actor, Role::SystemAdmin, &resource)
        }
        ResetPassword => match resource {
            // The three administrators' passwords are reset by the security administrator,
            // never by themselves through this path, so no one of them can take over another.
            Resource::Account {
                id,
                holds_trio_role: true,
                ..
            } => id != actor.id() && holds_over(actor, Role::SecurityAdmin, &resource),
            Resource::Account { id, .. } => {
                id != actor.id() && holds_over(actor, Role::SystemAdmin, &resource)
            }
            _ => false,
        },
        GrantRole => match resource {
            // Nobody grants roles to themselves.
            Resource::Account { id, .. } => {
                id != actor.id() && holds_over(actor, Role::SecurityAdmin, &resource)
            }
            _ => false,
        },
        ListRoles => [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin]
            .into_iter()
            .any(|role| actor.has_role(role)),
        ViewRegions => actor.grants.iter().any(|grant| grant.role.is_staff()),
        ReadAuditRecords => holds_over(actor, Role::AuditAdmin, &resource),
        ReadPersonalData => match resource {
            Resource::Person { id, .. } if actor.account.person_id.as_deref() == Some(id) => true,
            // Checkpoint officers confirm who someone is with the masked name and colour of
            // `CheckPersonById`; a full record is for handling a case.
            Resource::Person { .. } => [Role::Clerk, Role::HealthOfficer]
                .into_iter()
                .any(|role| holds_over(actor, role, &resource)),
            _ => false,
        },
        ReadEnterprise => match resource {
            Resource::Enterprise { id, .. }
                if actor.account.enterprise_id.as_deref() == Some(id) =>
            {
                true
            }
            Resource::Enterprise { .. } => holds_over(actor, Role::Clerk, &resource),
            _ => false,
        },
        RecordHealthFact => {
            matches!(resource, Resource::Person { .. })
                && holds_over(actor, Role::HealthOfficer, &resource)
        }
        ManageHealthPolicy => holds_over(actor, Role::HealthOfficer, &resource),
        RecordConsentInPerson => {
            matches!(resource, Resource::Person { .. }) && holds_over(actor, Role::Clerk, &resource)
        }
        CheckPass => {
            holds_over(actor, Role::VenueOperator, &resource)
                || holds_over(actor, Role::CheckpointOfficer, &resource)
        }
        ApplyVenue => holds_over(actor, Role::VenueOperator, &resource),
        DecideVenue => {
            holds_over(actor, Role::Clerk, &resource)
                || holds_over(actor, Role::DeptAdmin, &resource)
        }
        ReadCheckinStatistics => {
            holds_over(actor, Role::HealthOfficer, &resource)
                || holds_over(actor, Role::SystemAdmin, &resource)
        }
        ViewOperations => [
            Role::SystemAdmin,
            Role::DeptAdmin,
            Role::HealthOfficer,
            Role::DutyOfficer,
        ]
        .into_iter()
        .any(|role| holds_over(actor, role, &resource)),
        UseScanner => {
            holds_over(actor, Role::VenueOperator, &resource)
                || holds_over(actor, Role::CheckpointOfficer, &resource)
        }
        CheckPersonById => holds_over(actor, Role::CheckpointOfficer, &resource),
        ManageAccounts => holds_over(actor, Role::SystemAdmin, &resource),
        ManageTrust | ManageGrants => holds_over(actor, Role::SecurityAdmin, &resource),
        OpenServiceCatalogue => {
            holds_over(actor, Role::SystemAdmin, &resource)
                || holds_over(actor, Role::DeptAdmin, &resource)
        }
        EditServiceItems => {
            holds_over(actor, Role::SystemAdmin, &Resource::Platform)
                || acts_for(actor, Role::DeptAdmin, &resource)
        }
        IssueCertificates | HandleApplications => acts_for(actor, Role::Clerk, &resource),
        ViewDataCatalogue | ViewDirectory => actor.grants.iter().any(|grant| grant.role.is_staff()),
        ManageDataCatalogue | RequestData | DecideDataRequest | ReadExchangeLog
        | PublishOpenData | SignDocuments | KeepDirectory => {
            acts_for(actor, Role::DeptAdmin, &resource)
        }
        CallDataService | KeepRegistry | PrepareOpenData | HandleDocuments => {
            acts_for(actor, Role::Clerk, &resource) || acts_for(actor, Role::DeptAdmin, &resource)
        }
        RegisterPerson | RegisterEnterprise => {
            holds_over(actor, Role::SystemAdmin, &resource)
                || holds_over(actor, Role::Clerk, &resource)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::model::{Account, AccountKind, Credential, Language, RoleGrant};

    fn region(code: &str) -> RegionCode {
        code.parse().expect("valid region")
    }

    fn actor(id: &str, grants: Vec<RoleGrant>) -> Actor {
        Actor {
            account: Account {
                id: id.into(),
                username: id.into(),
                display_name: id.into(),
                kind: AccountKind::Staff,
                home_region: region("339900"),
                department_id: None,
                person_id: None,
                enterprise_id: None,
                language: Language::Zh,
                large_text: false,
                disabled: false,
                totp_enabled: true,
            },
            grants,
            department_region: None,
            credential: Credential::Token {
                token_id: "t".into(),
            },
        }
    }

    fn in_region(role: Role, code: &str) -> RoleGrant {
        RoleGrant {
            role,
            scope: Scope::Region { code: region(code) },
        }
    }

    #[test]
    fn a_district_clerk_reads_people_of_the_district_and_no_one_else() {
        let clerk = actor("clerk", vec![in_region(Role::Clerk, "339901")]);
        let here = region("339901");
        let next_door = region("339902");
        assert!(can(
            &clerk,
            Action::ReadPersonalData,
            Resource::Person {
                id: "p1",
                region: &here
            }
        ));
        assert!(!can(
            &clerk,
            Action::ReadPersonalData,
            Resource::Person {
                id: "p2",
                region: &next_door
            }
        ));
    }

    #[test]
    fn nobody_grants_a_role_to_themselves_not_even_the_security_administrator() {
        let security = actor("sec", vec![in_region(Role::SecurityAdmin, "339900")]);
        let city = region("339900");
        assert!(!can(
            &security,
            Action::GrantRole,
            Resource::Account {
                id: "sec",
                region: &city,
                holds_trio_role: true
            }
        ));
        assert!(can(
            &security,
            Action::GrantRole,
            Resource::Account {
                id: "other",
                region: &city,
                holds_trio_role: false
            }
        ));
    }

    #[test]
    fn the_system_administrator_cannot_reset_another_administrators_password() {
        let system = actor("sys", vec![in_region(Role::SystemAdmin, "339900")]);
        let city = region("339900");
        assert!(!can(
            &system,
            Action::ResetPassword,
            Resource::Account {
                id: "audit",
                region: &city,
                holds_trio_role: true
            }
        ));
        assert!(can(
            &system,
            Action::ResetPassword,
            Resource::Account {
                id: "clerk",
                region: &city,
                holds_trio_role: false
            }
        ));
        assert!(!can(&system, Action::ReadAuditRecords, Resource::Platform));
        assert!(!can(
            &system,
            Action::GrantRole,
            Resource::Account {
                id: "clerk",
                region: &city,
                holds_trio_role: false
            }
        ));
    }

    fn of_department(mut staff: Actor, department: &str) -> Actor {
        staff.account.department_id = Some(department.into());
        staff
    }

    #[test]
    fn only_a_departments_own_clerks_act_in_its_name() {
        let clerk = of_department(
            actor("clerk", vec![in_region(Role::Clerk, "339901")]),
            "market",
        );
        let market = Resource::Department { id: "market" };
        let tax = Resource::Department { id: "tax" };
        assert!(can(&clerk, Action::IssueCertificates, market));
        assert!(can(&clerk, Action::HandleApplications, market));
        assert!(!can(&clerk, Action::IssueCertificates, tax));
        assert!(!can(&clerk, Action::HandleApplications, tax));
        // A department administrator of the same department is not a clerk.
        let admin = of_department(
            actor("admin", vec![in_region(Role::DeptAdmin, "339901")]),
            "market",
        );
        assert!(!can(&admin, Action::IssueCertificates, market));
        assert!(can(&admin, Action::EditServiceItems, market));
        assert!(!can(&admin, Action::EditServiceItems, tax));
        assert!(!can(&clerk, Action::EditServiceItems, market));
    }

    #[test]
    fn trust_and_the_catalogue_editor_are_the_administrators() {
        let system = actor("sys", vec![in_region(Role::SystemAdmin, "339900")]);
        let security = actor("sec", vec![in_region(Role::SecurityAdmin, "339900")]);
        let officer = actor("cp", vec![in_region(Role::CheckpointOfficer, "339901")]);
        let operator = actor("op", vec![in_region(Role::VenueOperator, "339901")]);
        // Trust anchors are security settings: the security administrators keep them.
        assert!(!can(&system, Action::ManageTrust, Resource::Platform));
        assert!(can(&security, Action::ManageTrust, Resource::Platform));
        assert!(can(
            &system,
            Action::EditServiceItems,
            Resource::Department { id: "any" }
        ));
        assert!(can(
            &system,
            Action::OpenServiceCatalogue,
            Resource::Platform
        ));
        assert!(!can(
            &officer,
            Action::OpenServiceCatalogue,
            Resource::Platform
        ));
        assert!(can(&officer, Action::CheckPersonById, Resource::Platform));
        assert!(!can(&operator, Action::CheckPersonById, Resource::Platform));
        assert!(can(&operator, Action::UseScanner, Resource::Platform));
        assert!(!can(&security, Action::UseScanner, Resource::Platform));
    }

    #[test]
    fn a_citizen_reads_only_their_own_person_record() {
        let mut citizen = actor(
            "c",
            vec![RoleGrant {
                role: Role::Citizen,
                scope: Scope::Own,
            }],
        );
        citizen.account.person_id = Some("p1".into());
        let here = region("339901");
        assert!(can(
            &citizen,
            Action::ReadPersonalData,
            Resource::Person {
                id: "p1",
                region: &here
            }
        ));
        assert!(!can(
            &citizen,
            Action::ReadPersonalData,
            Resource::Person {
                id: "p2",
                region: &here
            }
        ));
    }
}
