/// The system security levels of SPEC §1. They cannot be edited or deleted; custom levels copy them.
public enum SystemSecurityLevel: String, Codable, Sendable, CaseIterable {
    case administrator, technician, dispatcher, helpDesk, coManagedHelpDesk, coManagedBasic

    public var name: String {
        switch self {
        case .administrator: "Administrator"
        case .technician: "Technician"
        case .dispatcher: "Dispatcher"
        case .helpDesk: "Help Desk"
        case .coManagedHelpDesk: "Co-managed Help Desk"
        case .coManagedBasic: "Co-managed Basic"
        }
    }

    public var coManaged: Bool { self == .coManagedHelpDesk || self == .coManagedBasic }

    public var permissions: Permissions {
        switch self {
        case .administrator:
            Permissions(
                ticketScope: .all,
                areas: Dictionary(uniqueKeysWithValues: Area.allCases.map { ($0, .full) }),
                admin: Set(AdminPermission.allCases),
                savedFilters: true)
        case .technician:
            Permissions(
                ticketScope: .all,
                areas: [
                    .tickets: .edit, .notes: .full, .timeEntries: .full, .attachments: .full,
                    .contacts: .edit, .organizations: .view, .sites: .view, .documentation: .edit,
                    .vault: .view, .approvals: .add, .reports: .view,
                ],
                savedFilters: true)
        case .dispatcher:
            Permissions(
                ticketScope: .all,
                areas: [
                    .tickets: .full, .notes: .add, .timeEntries: .view, .attachments: .add,
                    .contacts: .edit, .organizations: .view, .sites: .view, .documentation: .view,
                    .approvals: .view, .reports: .view,
                ],
                savedFilters: true)
        case .helpDesk:
            Permissions(
                ticketScope: .myQueues,
                areas: [
                    .tickets: .edit, .notes: .add, .timeEntries: .add, .attachments: .add,
                    .contacts: .view, .organizations: .view, .sites: .view, .documentation: .view,
                    .approvals: .add,
                ],
                savedFilters: true)
        case .coManagedHelpDesk:
            Permissions(
                ticketScope: .all,
                areas: [
                    .tickets: .edit, .notes: .add, .timeEntries: .add, .attachments: .add,
                    .contacts: .edit, .organizations: .view, .sites: .view, .documentation: .view,
                    .vault: .view, .approvals: .add, .reports: .view,
                ])
        case .coManagedBasic:
            Permissions(
                ticketScope: .assignedToMe,
                areas: [
                    .tickets: .edit, .notes: .add, .timeEntries: .add, .attachments: .add,
                    .contacts: .view, .organizations: .view, .sites: .view,
                ])
        }
    }
}
