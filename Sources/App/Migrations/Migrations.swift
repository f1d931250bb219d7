import Fluent

/// Every schema change, in order. Append; never reorder.
enum Migrations {
    static let all: [any Migration] = [
        CreateSecurityLevel(),
        CreateOrganization(),
        CreateInternalLocation(),
        CreateSite(),
        CreateContact(),
        CreateResource(),
        CreateResourceClientRestriction(),
        CreateQueue(),
        CreateTeam(),
        CreateRole(),
        CreateTicket(),
        CreateTicketAssignee(),
        CreateNote(),
        CreateTimeEntry(),
        CreateAttachment(),
        CreateAuditEvent(),
        CreateAPIToken(),
        CreateLoginFailure(),
        CreateSetting(),
        SeedSystemSecurityLevels(),
        AddOrganizationCoManagement(),
        CreateCoManagingUser(),
        CreateCoManagingTeam(),
        CreateCoManagedAssociation(),
        CreateWorkflowRule(),
        CreateSavedFilter(),
        AddClientProfileFields(),
        PartialAuditTicketIndex(),
        TicketAssigneeOrderIndex(),
        TicketAssigneeIds(),
        CreateCoManagingUserDraft(),
    ]
}
