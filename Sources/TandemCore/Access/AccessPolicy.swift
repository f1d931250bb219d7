import Foundation

/// What a principal wants to do with an object.
public enum AccessOperation: String, Sendable, CaseIterable {
    case view, create, edit, delete

    /// The area access level an operation needs.
    public var requiredLevel: AccessLevel {
        switch self {
        case .view: .view
        case .create: .add
        case .edit: .edit
        case .delete: .full
        }
    }
}

/// The kinds of configuration the admin pages manage.
public enum ConfigurationKind: String, Sendable, CaseIterable {
    case securityLevels, queues, teams, roles, internalLocations, resources, coManagingTeams, organizationGroups, departments

    var adminPermission: AdminPermission {
        switch self {
        case .securityLevels: .configureSecurityLevels
        // Organization groups decide which co-managing users see each other (the customer group override).
        case .resources, .coManagingTeams, .organizationGroups: .manageUsers
        case .queues, .teams, .roles, .internalLocations, .departments: .manageSettings
        }
    }
}

/// The one access policy (SPEC §3). Every list, read, count and write asks it; the server only
/// renders its scopes into SQL and its refusals into HTTP.
public enum AccessPolicy {

    // MARK: Tickets

    /// The tickets `principal` may apply `operation` to (view, edit or delete).
    public static func ticketScope(for principal: Principal, _ operation: AccessOperation = .view) -> Scope {
        let permissions = principal.permissions
        switch principal.kind {
        case .resource:
            guard permissions.allows(operation.requiredLevel, on: .tickets) else { return .none }
            return .allOf([clientRestrictionScope(principal), resourceTicketReach(principal, operation)])
        case .coManagingUser:
            guard permissions.allows(operation.requiredLevel, on: .tickets) else { return .none }
            let reach: Scope =
                switch permissions.ticketScope {
                case .all: .all
                case .myQueues: .anyOf([.isIn(.queue, principal.queueIds), .assignedTo(principal.id)])
                case .assignedToMe: .assignedTo(principal.id)
                case .none: .none
                }
            return .allOf([.isIn(.organization, principal.effectiveCoManagedOrganizations), .coManagedVisible, reach])
        case .contact:
            // The portal lets contacts read and reply; changing ticket fields stays with the help desk.
            guard operation == .view else { return .none }
            return .anyOf([
                .equals(.contact, principal.contactId),
                principal.portalOrganizationWide ? .equals(.organization, principal.organizationId) : .none,
            ])
        }
    }

    /// The ticket fields a kind of principal is shown, in the ticket itself and in its history. Contacts
    /// do not see how the MSP routes and staffs a ticket (queue, team, assignees, co-managed visibility);
    /// co-managing users do not see MSP teams, which are configuration they cannot read.
    public static func visibleTicketFields(for kind: PrincipalKind) -> Set<TicketField> {
        switch kind {
        case .resource: Set(TicketField.allCases)
        case .coManagingUser: Set(TicketField.allCases).subtracting([.teamId])
        case .contact: Set(TicketField.allCases).subtracting([.queueId, .teamId, .assigneeIds, .coManagedVisible])
        }
    }

    /// Of the fields a ticket list is filtered by, those the principal is not shown (`visibleTicketFields`): a filter
    /// on one would tell which tickets hold what it may not learn (a contact's tickets by queue or by assignee).
    public static func hiddenTicketFilters(_ principal: Principal, fields: Set<TicketField>) -> Set<TicketField> {
        fields.subtracting(visibleTicketFields(for: principal.kind))
    }

    /// Refuses a change of ticket fields the principal is not shown (`visibleTicketFields`): a contact
    /// does not route or staff a ticket, a co-managing user does not set an MSP team. The page offers
    /// only `editableTicketFields`; this holds the API to the same line for what a principal cannot see.
    public static func authorizeTicketChange(_ principal: Principal, fields: Set<TicketField>) throws(TandemError) {
        let hidden = fields.subtracting(visibleTicketFields(for: principal.kind))
        guard hidden.isEmpty else {
            let names = hidden.map(\.rawValue).sorted().joined(separator: ", ")
            throw .forbidden("your access does not let you change \(names) of a ticket")
        }
    }

    /// The fields the ticket page offers `principal` to change on a ticket `ticketScope(for:, .edit)` lets it
    /// edit: the ones it is shown, among those a person sets by hand, where it may read the choices (queues,
    /// teams, the people to assign). Empty when its level edits no ticket.
    public static func editableTicketFields(for principal: Principal) -> Set<TicketField> {
        guard ticketScope(for: principal, .edit) != .none else { return [] }
        var fields: Set<TicketField> = [.title, .description, .status, .priority, .queueId, .teamId, .assigneeIds, .coManagedVisible, .dueAt]
        if configurationScope(for: principal, .queues, .view) == .none { fields.remove(.queueId) }
        if configurationScope(for: principal, .teams, .view) == .none { fields.remove(.teamId) }
        if peopleScope(for: principal, .resource) == .none && peopleScope(for: principal, .coManagingUser) == .none { fields.remove(.assigneeIds) }
        return fields.intersection(visibleTicketFields(for: principal.kind))
    }

    /// Who reads a change of a ticket's `fields` in its history, as a publish-to: everyone when contacts are
    /// shown one of the fields, the MSP and co-managing users when only they are, else the MSP alone.
    /// (Each reader is shown only the fields of the change it may see: `visibleTicketFields`.)
    public static func historyAudience(ofChanged fields: Set<TicketField>) -> PublishTo {
        if !fields.isDisjoint(with: visibleTicketFields(for: .contact)) { return .all }
        if !fields.isDisjoint(with: visibleTicketFields(for: .coManagingUser)) { return .internalAndCoManaged }
        return .internal
    }

    private static func clientRestrictionScope(_ principal: Principal) -> Scope {
        principal.clientRestrictions.map { .isIn(.organization, $0) } ?? .all
    }

    private static func resourceTicketReach(_ principal: Principal, _ operation: AccessOperation) -> Scope {
        switch principal.permissions.ticketScope {
        case .all: return .all
        case .assignedToMe: return .assignedTo(principal.id)
        case .none: return .none
        case .myQueues:
            // Read-only team members see the team's tickets but change only their own.
            let teamAccess: Set<TeamAccess> = operation == .view ? [.full, .readOnly] : [.full]
            let teams = Set(principal.teams.filter { teamAccess.contains($0.value) }.keys)
            return .anyOf([.isIn(.queue, principal.queueIds), .isIn(.team, teams), .assignedTo(principal.id)])
        }
    }

    /// Whether `principal` may open a ticket for `organizationId`. An organization outside its reach
    /// is reported as unknown, so its existence is not leaked.
    public static func authorizeTicketCreation(_ principal: Principal, organizationId: UUID) throws(TandemError) {
        switch principal.kind {
        case .resource, .coManagingUser:
            guard organizationScope(for: principal, area: .tickets, .view).evaluate(ScopeFacts(values: [.organization: organizationId])) else {
                throw .invalid("organizationId", "no organization with this id")
            }
            guard principal.permissions.allows(.add, on: .tickets) else {
                throw .forbidden("your security level does not allow creating tickets")
            }
        case .contact:
            guard principal.organizationId == organizationId else {
                throw .invalid("organizationId", "no organization with this id")
            }
        }
    }

    /// Whether `principal` may open tickets at all (the pages' "new ticket" link): contacts through the
    /// portal, staff and co-managing users whose level adds tickets. `authorizeTicketCreation` decides each one.
    public static func mayOpenTickets(_ principal: Principal) -> Bool {
        principal.kind == .contact || principal.permissions.allows(.add, on: .tickets)
    }

    /// Why `assignee` cannot take a ticket of `organizationId`, in words; empty when they can (SPEC §2).
    public static func assignmentRefusals(_ assignee: Principal, organizationId: UUID, organizationCoManaged: Bool, coManagedVisible: Bool) -> [String] {
        switch assignee.kind {
        case .resource:
            if let restrictions = assignee.clientRestrictions, !restrictions.contains(organizationId) {
                return ["\(assignee.displayName)'s client restrictions exclude this organization"]
            }
            return []
        case .coManagingUser:
            var refusals: [String] = []
            if !assignee.coManagementEnabled { refusals.append("co-management is off for the system") }
            if !organizationCoManaged { refusals.append("the ticket's organization is not co-managed") }
            if !assignee.associatedOrganizationIds.contains(organizationId) {
                refusals.append("\(assignee.displayName) is not associated with the ticket's organization, directly or through a co-managing team")
            }
            if !coManagedVisible { refusals.append("the ticket's co-managed visibility is off") }
            return refusals
        case .contact:
            return ["contacts cannot be assigned tickets"]
        }
    }

    /// HaloPSA's setting: co-managing users cannot change the assignee of a ticket an MSP resource holds.
    /// Whether `principal` works tickets as the help desk (MSP staff and co-managing users): sets their
    /// queue, team, assignees, contact, source and co-managed visibility, and writes items other than
    /// replies. Contacts open tickets for themselves and reply.
    /// Posting raw mail for intake (an MTA's or a mail service's token): the `receiveMail` permission, without client
    /// restrictions, since mail opens and answers tickets of every organization.
    public static func authorizeMailIntake(_ principal: Principal) throws(TandemError) {
        guard principal.permissions.has(.receiveMail) else { throw .forbidden("your security level does not allow posting mail for intake") }
        try authorizeTenantWide(principal, .receiveMail)
    }

    /// The triage list holds mail no organization could be told from, so only MSP staff who may open
    /// tickets for every organization read and settle it.
    public static func handlesTriage(_ principal: Principal) -> Bool {
        principal.kind == .resource && principal.clientRestrictions == nil && principal.permissions.ticketScope == .all
            && principal.permissions.allows(.add, on: .tickets)
    }

    /// Taking calls (caller identification): whoever works tickets and may read contacts; the answer
    /// names only the contacts and sites the principal's scopes reach.
    public static func takesCalls(_ principal: Principal) -> Bool {
        worksTickets(principal) && principal.permissions.allows(.view, on: .contacts)
    }

    public static func worksTickets(_ principal: Principal) -> Bool {
        principal.kind != .contact
    }

    /// A site's help desk runbook (its notification rule: whom to escalate to and call first, its managed devices and
    /// its go-live checklist): for whoever works tickets and sees the site. Contacts never read it: it names other
    /// contacts and the site's equipment.
    public static func readsSiteRunbook(_ principal: Principal) -> Bool {
        worksTickets(principal)
    }

    /// A site's managed devices: the sites permission of their organization, for those who read the site's runbook.
    /// Facts: `.organization`.
    public static func siteDeviceScope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        readsSiteRunbook(principal) ? organizationScope(for: principal, area: .sites, operation) : .none
    }

    /// Where a new ticket comes from when its creator does not say: the portal for contacts.
    public static func defaultSource(for principal: Principal) -> SourceChannel {
        principal.kind == .contact ? .portal : .api
    }

    /// The refusals of a new ticket's fields a contact may not set, and the contact it is opened for
    /// (a contact's own, whatever was asked); nil refusals for those who work tickets.
    public static func ticketCreationByContact(_ principal: Principal, staffFieldsGiven: [String], contactId: UUID?) -> (
        refusals: [(field: String, message: String)], contactId: UUID?
    ) {
        guard !worksTickets(principal) else { return ([], contactId) }
        var refusals = staffFieldsGiven.map { (field: $0, message: "contacts cannot set this field") }
        if let contactId, contactId != principal.contactId { refusals.append((field: "contactId", message: "contacts open tickets for themselves")) }
        return (refusals, principal.contactId)
    }

    /// SPEC §2: co-managing users log time under one of their roles, and need one.
    public static func needsRoleToLogTime(_ principal: Principal) -> Bool {
        principal.kind == .coManagingUser
    }

    public static func authorizeReassignment(_ principal: Principal, currentAssigneeKinds: [PrincipalKind], settingOn: Bool) throws(TandemError) {
        if principal.kind == .coManagingUser, settingOn, currentAssigneeKinds.contains(.resource) {
            throw .forbidden("co-managing users cannot reassign tickets assigned to MSP resources")
        }
    }

    /// The explanation behind a ticket decision, in words, for admins (SPEC §13).
    public static func explainTicket(_ principal: Principal, _ ticket: ScopeFacts) -> AccessExplanation {
        var reasons: [String] = []
        let organization = ticket.values[.organization].flatMap { $0 }
        let allowed = ticketScope(for: principal).evaluate(ticket)
        switch principal.kind {
        case .resource:
            if !principal.permissions.allows(.view, on: .tickets) {
                reasons.append("The security level grants no access to tickets.")
            }
            if let restrictions = principal.clientRestrictions {
                if let organization, restrictions.contains(organization) {
                    reasons.append("The ticket's organization is among the resource's client restrictions.")
                } else {
                    reasons.append("The resource is limited to other organizations (client restrictions).")
                }
            } else {
                reasons.append("The resource may use all organizations (no client restrictions).")
            }
            reasons.append(contentsOf: reachReasons(principal, ticket))
        case .coManagingUser:
            reasons.append(principal.coManagementEnabled ? "Co-management is on for the system." : "Co-management is off for the system.")
            if let organization {
                reasons.append(
                    principal.coManagedOrganizationIds.contains(organization)
                        ? "Co-management is on for the ticket's organization." : "Co-management is off for the ticket's organization.")
                reasons.append(
                    principal.associatedOrganizationIds.contains(organization)
                        ? "The user is associated with the ticket's organization." : "The user is not associated with the ticket's organization.")
            }
            reasons.append(
                ticket.coManagedVisible
                    ? "The ticket is visible to co-managing users." : "The ticket is hidden from co-managing users (co-managed visibility off).")
            reasons.append(contentsOf: reachReasons(principal, ticket))
        case .contact:
            if ticket.values[.contact].flatMap({ $0 }) == principal.contactId {
                reasons.append("The contact is the ticket's contact.")
            } else if principal.portalOrganizationWide, organization == principal.organizationId {
                reasons.append("The contact's portal shows all tickets of their organization.")
            } else {
                reasons.append(
                    principal.portalOrganizationWide
                        ? "The ticket belongs to another organization." : "The contact is not the ticket's contact and sees only their own tickets.")
            }
        }
        return AccessExplanation(allowed: allowed, reasons: reasons)
    }

    /// The explanation behind seeing an organization, site, contact or client profile (a contact's
    /// profile: `area` `.contacts`), for admins (SPEC §13). `row` holds the row's `.id` and
    /// `.organization` (and `.site`); the answer is `organizationScope`'s.
    public static func explainOrganizationRow(_ principal: Principal, area: Area, _ row: ScopeFacts) -> AccessExplanation {
        var reasons: [String] = []
        let organization = row.values[.organization].flatMap { $0 }
        let allowed = organizationScope(for: principal, area: area, .view).evaluate(row)
        let what = area.rowLabel
        switch principal.kind {
        case .resource, .coManagingUser:
            reasons.append(
                principal.permissions.allows(.view, on: area)
                    ? "The security level lets them view \(area.pluralLabel)." : "The security level grants no access to \(area.pluralLabel).")
            if principal.kind == .resource {
                if let restrictions = principal.clientRestrictions {
                    reasons.append(
                        organization.map(restrictions.contains) ?? false
                            ? "The \(what)'s organization is among the resource's client restrictions."
                            : "The resource is limited to other organizations (client restrictions).")
                } else {
                    reasons.append("The resource may use all organizations (no client restrictions).")
                }
            } else {
                reasons.append(principal.coManagementEnabled ? "Co-management is on for the system." : "Co-management is off for the system.")
                if let organization {
                    reasons.append(
                        principal.coManagedOrganizationIds.contains(organization)
                            ? "Co-management is on for the \(what)'s organization." : "Co-management is off for the \(what)'s organization.")
                    reasons.append(
                        principal.associatedOrganizationIds.contains(organization)
                            ? "The user is associated with the \(what)'s organization." : "The user is not associated with the \(what)'s organization.")
                }
            }
        case .contact:
            switch area {
            case .organizations, .sites:
                reasons.append(
                    organization == principal.organizationId
                        ? "The \(what) belongs to the contact's own organization." : "The \(what) belongs to another organization.")
            case .contacts:
                reasons.append(
                    row.values[.id].flatMap({ $0 }) == principal.contactId
                        ? "It is the contact's own record." : "A contact sees only their own record, never other contacts.")
            default:
                reasons.append("Contacts see no \(area.pluralLabel).")
            }
        }
        return AccessExplanation(allowed: allowed, reasons: reasons)
    }

    private static func reachReasons(_ principal: Principal, _ ticket: ScopeFacts) -> [String] {
        let assigned = ticket.assigneeIds.contains(principal.id)
        switch principal.permissions.ticketScope {
        case .all: return ["The ticket scope is all tickets."]
        case .none: return ["The ticket scope is none."]
        case .assignedToMe:
            return [assigned ? "The ticket is assigned to them (scope: assigned to me)." : "The ticket is not assigned to them (scope: assigned to me)."]
        case .myQueues:
            let queue = ticket.values[.queue].flatMap { $0 }
            let team = ticket.values[.team].flatMap { $0 }
            if let queue, principal.queueIds.contains(queue) { return ["The ticket is in one of their queues."] }
            if let team, let access = principal.teams[team], access != .own { return ["They are a \(access.rawValue) member of the ticket's team."] }
            if assigned { return ["The ticket is assigned to them."] }
            return ["The ticket is in none of their queues or teams and not assigned to them (scope: my queues)."]
        }
    }

    // MARK: Notes, time entries, attachments

    /// The publish-to values a principal can read.
    public static func readablePublishTo(_ principal: Principal) -> Set<PublishTo> {
        readablePublishTo(for: principal.kind)
    }

    /// The publish-to values a kind of party reads. Also for parties without a principal, such as a
    /// notification's explicit address, which an administrator files under the audience it belongs to.
    public static func readablePublishTo(for kind: PrincipalKind) -> Set<PublishTo> {
        switch kind {
        case .resource: Set(PublishTo.allCases)
        case .coManagingUser: [.internalAndCoManaged, .all]
        case .contact: [.all]
        }
    }

    /// Items of a ticket already known to be visible; `area` is notes, timeEntries or attachments.
    public static func ticketItemScope(for principal: Principal, area: Area, _ operation: AccessOperation = .view) -> Scope {
        switch principal.kind {
        case .resource, .coManagingUser:
            guard principal.permissions.allows(operation.requiredLevel, on: area) else { return .none }
        case .contact:
            // Contacts read shared items and add replies; they never edit or delete them.
            guard operation == .view || (operation == .create && area != .timeEntries) else { return .none }
        }
        return .publishTo(in: readablePublishTo(principal))
    }

    /// Whether `principal` may add any item (note, time entry, attachment) to a ticket it sees; the
    /// audience preview answers only those who are about to write one.
    public static func authorizeAudiencePreview(_ principal: Principal) throws(TandemError) {
        guard [Area.notes, .timeEntries, .attachments].contains(where: { ticketItemScope(for: principal, area: $0, .create) != .none }) else {
            throw .forbidden("the audience preview is for those who may add notes, time entries or attachments to this ticket")
        }
    }

    /// The publish-to a new item gets when none is given, and the check of a given one.
    public static func publishTo(for principal: Principal, requested: PublishTo?) throws(TandemError) -> PublishTo {
        switch principal.kind {
        case .resource:
            return requested ?? .internal
        case .coManagingUser:
            if requested == .internal {
                throw .invalid("publishTo", "co-managing users cannot publish items as internal; use internalAndCoManaged or all")
            }
            return requested ?? .internalAndCoManaged
        case .contact:
            if let requested, requested != .all {
                throw .invalid("publishTo", "contacts can only add items published to all")
            }
            return .all
        }
    }

    // MARK: Organizations, sites, contacts

    /// Rows tied to organizations (organizations, sites, contacts, audit events), for an area.
    public static func organizationScope(for principal: Principal, area: Area, _ operation: AccessOperation) -> Scope {
        switch principal.kind {
        case .resource:
            guard principal.permissions.allows(operation.requiredLevel, on: area) else { return .none }
            return clientRestrictionScope(principal)
        case .coManagingUser:
            guard principal.permissions.allows(operation.requiredLevel, on: area) else { return .none }
            return .isIn(.organization, principal.effectiveCoManagedOrganizations)
        case .contact:
            guard operation == .view else { return .none }
            switch area {
            case .organizations, .sites: return .equals(.organization, principal.organizationId)
            case .contacts: return .equals(.id, principal.contactId)
            default: return .none
            }
        }
    }

    /// An organization's account manager and account team (SPEC §2). MSP staff and co-managing users who see
    /// the organization read them; MSP staff who may edit the organization change them, within their client
    /// restrictions. Contacts see neither. Facts: `.organization`.
    public static func accountTeamScope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        switch principal.kind {
        case .resource: organizationScope(for: principal, area: .organizations, operation == .view ? .view : .edit)
        case .coManagingUser: operation == .view ? organizationScope(for: principal, area: .organizations, .view) : .none
        case .contact: .none
        }
    }

    /// Whether an MSP resource with these client restrictions (nil: none) may be on `organizationId`'s account
    /// team: only a resource that may work for the organization.
    public static func mayJoinAccountTeam(clientRestrictions: Set<UUID>?, organizationId: UUID) -> Bool {
        clientRestrictions.map { $0.contains(organizationId) } ?? true
    }

    /// Creating an organization: a new organization is outside every client restriction, so only MSP
    /// resources without client restrictions whose level adds organizations create them.
    public static func authorizeOrganizationCreation(_ principal: Principal) throws(TandemError) {
        guard principal.kind == .resource, principal.clientRestrictions == nil, principal.permissions.allows(.add, on: .organizations) else {
            throw .forbidden("only resources without client restrictions whose level allows it can create organizations")
        }
    }

    // MARK: Credential vault

    /// Site credentials (SPEC §9): entries of organizations whose sites the principal sees, when its level's
    /// vault area allows the operation (view lists and reads, add creates, edit changes, full deletes).
    /// Co-managing users reach the organizations they co-manage; contacts never see the vault. Facts: `.organization`.
    public static func vaultScope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        guard principal.kind != .contact else { return .none }
        return .allOf([organizationScope(for: principal, area: .sites, .view), organizationScope(for: principal, area: .vault, operation)])
    }

    /// Revealing a secret of an entry the principal sees (`vaultScope(.view)`): MSP resources whose vault
    /// level is at least view (the technician's level); co-managing users only when their level grants
    /// the vault at edit or more: the system co-managed levels list entries but never reveal them.
    public static func authorizeVaultReveal(_ principal: Principal) throws(TandemError) {
        switch principal.kind {
        case .resource where principal.permissions.allows(.view, on: .vault): return
        case .coManagingUser where principal.permissions.allows(.edit, on: .vault): return
        default: throw .forbidden("your security level does not allow revealing passwords")
        }
    }

    /// Whether the pages offer "Reveal" (the same rule as `authorizeVaultReveal`).
    public static func mayRevealVault(_ principal: Principal) -> Bool {
        (try? authorizeVaultReveal(principal)) != nil
    }

    // MARK: Client profiles

    /// What a principal may do in bulk with the client profiles of a site of this organization (SPEC §7):
    /// export needs to see the organization's contacts; an import adds, edits and deletes each as the level allows.
    /// Co-managing users reach only their co-managed organizations, like every other contact path.
    public static func profileTransfer(for principal: Principal, organizationId: UUID) -> ProfileTransfer {
        func allows(_ operation: AccessOperation) -> Bool {
            // `.id: nil` asks about the organization's profiles in general, not one contact.
            organizationScope(for: principal, area: .contacts, operation).evaluate(ScopeFacts(values: [.organization: organizationId, .id: nil]))
        }
        let rights = ProfileImportRights(
            add: allows(.create), edit: allows(.edit), delete: allows(.delete),
            changeLoginEmails: allows(.edit) && (try? authorizeCredentialChange(principal, .loginName)) != nil)
        return ProfileTransfer(export: allows(.view), importRights: rights)
    }

    /// Import jobs (issue 22): the person who submitted one reads it, and MSP administrators read everyone's, as
    /// the help desk's operators; each only while they see the organization's contacts, since the report names
    /// its rows (client restrictions hold, co-managing users reach the organizations they co-manage now).
    /// Contacts import nothing. Facts: `.owner` (who submitted it), `.organization`.
    public static func importJobScope(for principal: Principal) -> Scope {
        guard principal.kind != .contact else { return .none }
        let whose: Scope = principal.kind == .resource && principal.isAdministrator ? .all : .equals(.owner, principal.id)
        return .allOf([organizationScope(for: principal, area: .contacts, .view), whose])
    }

    /// The audit log: MSP staff with report access, limited to their client restrictions.
    public static func auditScope(for principal: Principal) -> Scope {
        guard principal.kind == .resource else { return .none }
        return organizationScope(for: principal, area: .reports, .view)
    }

    /// Whether the audit log page (and its admin tab) is open to the principal.
    public static func readsAuditLog(_ principal: Principal) -> Bool {
        auditScope(for: principal) != .none
    }

    /// An organization's audit export (SPEC §13, for a client's IT lead). MSP staff export what the audit log
    /// shows them. A co-managing user whose level views reports exports their co-managed organizations' events,
    /// but only as §3 lets them see the rest: events of tickets they see now (not of their items, whose
    /// publish-to the log does not keep) and of the organization's client-facing records, without `before`/`after`
    /// (which hold fields and items they are not shown). Contacts export nothing.
    public static func auditExport(for principal: Principal) -> AuditExportRights {
        switch principal.kind {
        case .resource:
            // The audit scope is MSP staff who read reports within their restrictions: the billing scope's readers.
            return AuditExportRights(
                scope: auditScope(for: principal), tickets: .all, ticketItems: true, details: true, billing: billingScope(for: principal) != .none)
        case .coManagingUser:
            guard principal.permissions.allows(.view, on: .reports) else { return .nothing }
            return AuditExportRights(
                scope: .isIn(.organization, principal.effectiveCoManagedOrganizations), tickets: ticketScope(for: principal), ticketItems: false,
                details: false, billing: false, everyRecord: false)
        case .contact:
            return .nothing
        }
    }

    // MARK: Reports

    /// Organization reports (issue 21): MSP staff whose level views reports, for the organizations their client
    /// restrictions reach; co-managing users whose level views reports (Co-managed Help Desk), for their co-managed
    /// organizations. Every figure counts only the tickets the reader sees (their ticket scope) and the time entries
    /// they may read (publish-to), so a co-managing user's report is the MSP's report of their visible tickets.
    /// Money (billable amount, block hours) and licenses are the MSP's business: staff only. Contacts get none.
    public static func reportRights(for principal: Principal) -> ReportRights {
        guard principal.kind != .contact, principal.permissions.allows(.view, on: .reports) else { return .nothing }
        let organizations = organizationScope(for: principal, area: .reports, .view)
        let tickets = ticketScope(for: principal)
        guard organizations != .none, tickets != .none else { return .nothing }
        let staff = principal.kind == .resource
        return ReportRights(
            organizations: organizations, tickets: tickets, timeEntries: ticketItemScope(for: principal, area: .timeEntries),
            billing: staff && principal.permissions.allows(.view, on: .timeEntries), licenses: staff)
    }

    // MARK: Configuration and the people directory

    /// Security levels, queues, teams, roles, internal locations and resources.
    public static func configurationScope(for principal: Principal, _ kind: ConfigurationKind, _ operation: AccessOperation) -> Scope {
        switch principal.kind {
        case .resource:
            if operation == .view { return .all }
            return principal.permissions.has(kind.adminPermission) ? .all : .none
        case .coManagingUser:
            // They pick queues and roles on their own tickets and see MSP resources; they configure nothing.
            guard operation == .view else { return .none }
            return [.queues, .roles, .resources].contains(kind) ? .all : .none
        case .contact:
            return .none
        }
    }

    /// Co-managing users in the people directory. Under the customer group override (SPEC §2) a co-managing
    /// user sees, besides MSP resources, only the co-managing users of their organization group: their own
    /// organization and the others in its group (`groupOrganizationIds`). With the override off for them, or
    /// when their organization is in no group, only those of their own organization. Never anyone else's.
    public static func coManagingUserScope(for principal: Principal, _ operation: AccessOperation = .view) -> Scope {
        switch principal.kind {
        case .resource:
            // A co-managing user belongs to one organization, so client restrictions apply to them too.
            if operation == .view { return clientRestrictionScope(principal) }
            return principal.permissions.has(.manageUsers) ? clientRestrictionScope(principal) : .none
        case .coManagingUser:
            guard operation == .view, let home = principal.organizationId else { return .none }
            let group = principal.customerGroupOverride ? principal.groupOrganizationIds : []
            return group.subtracting([home]).isEmpty ? .equals(.organization, home) : .isIn(.organization, group.union([home]))
        case .contact:
            return .none
        }
    }

    /// The people of one kind whose names and ids `principal` may learn: the people directory's scopes
    /// (MSP resources as configuration, co-managing users under the customer group override and client
    /// restrictions, contacts as their organizations' contacts). Every answer that names people (assignment
    /// refusals, audience previews, co-managed setups, team members, history actors) asks this.
    /// Facts: `.id`, and `.organization` (and `.contact`, `.site`) of the person's own row.
    public static func peopleScope(for principal: Principal, _ kind: PrincipalKind) -> Scope {
        switch kind {
        case .resource: configurationScope(for: principal, .resources, .view)
        case .coManagingUser: coManagingUserScope(for: principal)
        case .contact: organizationScope(for: principal, area: .contacts, .view)
        }
    }

    /// Co-managing teams. A client-restricted resource sees a team only when it touches one of its
    /// organizations: a member's own organization or an organization the team is associated with
    /// (the team's `.organization` facts are all of those). The members it is shown are then those
    /// `peopleScope(.coManagingUser)` allows. Co-managing users and contacts see no teams (configuration).
    public static func coManagingTeamScope(for principal: Principal, _ operation: AccessOperation = .view) -> Scope {
        .allOf([configurationScope(for: principal, .coManagingTeams, operation), principal.kind == .resource ? clientRestrictionScope(principal) : .all])
    }

    /// Organization groups (the customer group override). Every MSP resource reads them (`configurationScope`);
    /// those who manage users change them. Of a group's organizations a resource is shown only those its client
    /// restrictions reach (`organizationScope` for organizations); an edit keeps the others. Deleting a group
    /// that holds organizations outside its restrictions is refused: it would change who sees whom there.
    public static func authorizeOrganizationGroupDelete(_ principal: Principal, hiddenOrganizations: Int) throws(TandemError) {
        try authorizeConfiguration(principal, .organizationGroups, .delete)
        guard hiddenOrganizations == 0 else {
            throw .conflict("the group also holds organizations outside your client restrictions; it can only be deleted by someone who sees them all")
        }
    }

    /// Departments (SPEC §4): the MSP's own (no organization) and co-managed ones (one organization each).
    /// Staff see the MSP's departments; a client-restricted resource sees a co-managed department only when
    /// its organization is within its restrictions, as with co-managing teams. Changing them needs the
    /// departments' admin permission. Co-managing users and contacts see none (configuration).
    /// Facts: `.id`, `.organization` (nil for an MSP department).
    public static func departmentScope(for principal: Principal, _ operation: AccessOperation = .view) -> Scope {
        let reach: Scope = principal.kind == .resource ? .anyOf([.noOrganization, clientRestrictionScope(principal)]) : .all
        return .allOf([configurationScope(for: principal, .departments, operation), reach])
    }

    /// Saved filters and shared lists need a level that grants them (co-managed system levels do not).
    public static func authorizeSavedFilters(_ principal: Principal) throws(TandemError) {
        guard principal.kind != .contact, principal.permissions.savedFilters else {
            throw .forbidden("your security level does not allow saved filters or shared lists")
        }
    }

    /// The saved filters a principal may see (its own, and shared lists for MSP staff) or change (its own).
    /// Facts: `.owner` and `shared`.
    public static func savedFilterScope(for principal: Principal, _ operation: AccessOperation = .view) -> Scope {
        guard principal.kind != .contact else { return .none }
        let own = Scope.equals(.owner, principal.id)
        guard operation == .view else { return own }
        return .anyOf([own, seesSharedLists(principal) ? .shared : .none])
    }

    /// The webhooks a principal may see and change: MSP staff with `manageRules` keep the help
    /// desk's (all of them), or only their own when client restrictions limit them; a co-managing user
    /// keeps their own. Each hears only what its owner's policy lets the owner see (the owner's policy
    /// filters every delivery); contacts have none. Facts: `.owner`.
    public static func webhookScope(for principal: Principal) -> Scope {
        switch principal.kind {
        case .resource where !principal.permissions.has(.manageRules): .none
        case .resource: principal.clientRestrictions == nil ? .all : .equals(.owner, principal.id)
        case .coManagingUser: .equals(.owner, principal.id)
        case .contact: .none
        }
    }

    /// Throws the refusal for creating a webhook, or nothing when the principal may keep webhooks.
    public static func authorizeWebhooks(_ principal: Principal) throws(TandemError) {
        guard webhookScope(for: principal) != .none else {
            throw .forbidden(principal.kind == .contact ? "contacts cannot keep webhooks" : "webhooks need the manageRules permission")
        }
    }

    /// Whether the principal reads tickets in the contact portal (links in mail go there) rather than
    /// on the staff pages.
    public static func readsTicketsInPortal(_ principal: Principal) -> Bool {
        principal.kind == .contact
    }

    /// Shared lists are for MSP staff; they may name organizations other parties must not learn of.
    public static func seesSharedLists(_ principal: Principal) -> Bool {
        principal.kind == .resource
    }

    /// Throws the refusal for a configuration change, or nothing when it is allowed.
    public static func authorizeConfiguration(_ principal: Principal, _ kind: ConfigurationKind, _ operation: AccessOperation) throws(TandemError) {
        guard configurationScope(for: principal, kind, operation) != .none else {
            throw .forbidden("your security level does not allow changing \(kind.label)")
        }
    }

    // MARK: Time and billing

    /// Billing: hourly rates, multipliers, time entries' amounts, block-hour contracts and billable amounts in
    /// reports. MSP resources whose level views reports, within their client restrictions; changing a contract
    /// needs leave to edit the organization too. Co-managing users and contacts see no billing at all: it is
    /// between the MSP and the client's account, and a co-managing user is the client's IT staff, whose own
    /// role Autotask advises to rate at 0.00. Facts: `.organization`.
    public static func billingScope(for principal: Principal, _ operation: AccessOperation = .view) -> Scope {
        guard principal.kind == .resource, principal.permissions.allows(.view, on: .reports) else { return .none }
        guard operation == .view else {
            return principal.permissions.allows(.edit, on: .organizations) ? clientRestrictionScope(principal) : .none
        }
        return clientRestrictionScope(principal)
    }

    /// Whether `principal` is shown rates and amounts at all (roles' `hourlyRate` and `blockHourMultiplier`).
    public static func seesBilling(_ principal: Principal) -> Bool {
        billingScope(for: principal) != .none
    }

    /// Whether a time entry on a ticket of `organizationId` shows `principal` its amount.
    public static func seesAmount(_ principal: Principal, organizationId: UUID) -> Bool {
        billingScope(for: principal).evaluate(ScopeFacts(values: [.organization: organizationId]))
    }

    /// An organization's block-hour contracts: billing (`billingScope`) of an organization the principal sees.
    /// Hidden contracts, and contracts of hidden organizations, answer 404. Facts: `.organization`.
    public static func blockHourContractScope(for principal: Principal, _ operation: AccessOperation = .view) -> Scope {
        .allOf([organizationScope(for: principal, area: .organizations, .view), billingScope(for: principal, operation)])
    }

    /// What `principal` may do with the timesheet of `person`: view it, submit it, approve or reject it.
    ///
    /// - Everyone who logs time views their own; MSP resources submit their own.
    /// - Approvers are MSP resources who manage users (`manageUsers`) without client restrictions: a week holds
    ///   time on any organization's tickets. They approve and reject MSP resources' timesheets, never their own.
    /// - Co-managing users' timesheets are never submitted (Autotask): their **viewers** (MSP resources named on the
    ///   co-managing user) and those who manage that co-managing user (`coManagingUserScope(.edit)`) view them.
    /// - Anyone else, contacts included, is not told the timesheet exists (404).
    public static func timesheetRights(for principal: Principal, of person: TimesheetPerson) -> TimesheetRights {
        guard principal.kind != .contact else { return .nothing }
        let own = principal.id == person.id
        switch person.kind {
        case .resource:
            let approver = isTimesheetApprover(principal) && !own
            return TimesheetRights(view: own || approver, submit: own && principal.kind == .resource, approve: approver)
        case .coManagingUser:
            let viewer = principal.kind == .resource && person.viewerIds.contains(principal.id)
            let manager = coManagingUserScope(for: principal, .edit).evaluate(ScopeFacts(values: [.organization: person.organizationId, .id: person.id]))
            return TimesheetRights(view: own || viewer || manager, submit: false, approve: false)
        case .contact:
            return .nothing
        }
    }

    /// Refuses submitting a timesheet that is not the principal's own MSP timesheet (co-managing users never submit).
    public static func authorizeTimesheetSubmit(_ rights: TimesheetRights, person: TimesheetPerson) throws(TandemError) {
        guard rights.submit else {
            throw .forbidden(
                person.kind == .coManagingUser
                    ? "co-managing users' timesheets are not submitted; their viewers read them as they are"
                    : "only the person whose timesheet it is submits it")
        }
    }

    /// Refuses approving or rejecting without the approver's rights.
    public static func authorizeTimesheetDecision(_ rights: TimesheetRights, person: TimesheetPerson) throws(TandemError) {
        guard rights.approve else {
            throw .forbidden(
                person.kind == .coManagingUser
                    ? "co-managing users' timesheets have viewers, not approvers"
                    : "approving timesheets needs the manageUsers permission without client restrictions, and never your own")
        }
    }

    /// Choosing a co-managing user's timesheet viewers: whoever may change that co-managing user. A viewer must
    /// be an MSP resource whose client restrictions reach the user's organization (`mayViewTimesheets`).
    public static func authorizeTimesheetViewers(_ principal: Principal, of person: TimesheetPerson) throws(TandemError) {
        guard coManagingUserScope(for: principal, .edit).evaluate(ScopeFacts(values: [.organization: person.organizationId, .id: person.id])) else {
            throw .forbidden("choosing timesheet viewers needs the manageUsers permission for this co-managing user")
        }
    }

    /// Whether an MSP resource with these client restrictions (nil: none) may view the timesheets of a co-managing
    /// user of `organizationId`: only one who may work for that organization.
    public static func mayViewTimesheets(clientRestrictions: Set<UUID>?, organizationId: UUID) -> Bool {
        clientRestrictions.map { $0.contains(organizationId) } ?? true
    }

    /// Timesheet approvers: MSP resources who manage users (`manageUsers`) without client restrictions.
    public static func isTimesheetApprover(_ principal: Principal) -> Bool {
        principal.kind == .resource && principal.permissions.has(.manageUsers) && principal.clientRestrictions == nil
    }

    /// Expenses (Autotask): MSP staff whose level adds time entries track them; co-managing users cannot track
    /// expenses, and contacts never.
    public static func authorizeExpenses(_ principal: Principal) throws(TandemError) {
        switch principal.kind {
        case .resource where principal.permissions.allows(.add, on: .timeEntries): return
        case .coManagingUser: throw .forbidden("co-managing users cannot track expenses")
        default: throw .forbidden("your security level does not allow tracking expenses")
        }
    }

    /// Which expenses `principal` reads or changes. Expenses belong to their person's timesheet week, so they are
    /// read as timesheets are: the person reads their own, timesheet approvers (`isTimesheetApprover`) read
    /// everyone's. Only the person changes or deletes their own, while their level tracks expenses
    /// (`authorizeExpenses`); an approver who may read it but not change it gets 403. Always within the reader's
    /// client restrictions: an expense of an organization outside them is hidden (404), the reader's own too.
    /// Co-managing users (who cannot track expenses, so have none) and contacts read none.
    /// Facts: `.owner` (the person), `.organization`.
    public static func expenseScope(for principal: Principal, _ operation: AccessOperation = .view) -> Scope {
        guard principal.kind == .resource else { return .none }
        let own = Scope.equals(.owner, principal.id)
        let reach: Scope
        switch operation {
        case .view: reach = isTimesheetApprover(principal) ? .all : own
        case .create, .edit, .delete: reach = (try? authorizeExpenses(principal)) != nil ? own : .none
        }
        return .allOf([clientRestrictionScope(principal), reach])
    }

    /// Refuses changing or deleting an expense the principal reads but may not change.
    public static func authorizeExpenseChange(_ principal: Principal, _ operation: AccessOperation, personId: UUID, organizationId: UUID)
        throws(TandemError)
    {
        let facts = ScopeFacts(values: [.owner: personId, .organization: organizationId])
        guard expenseScope(for: principal, operation).evaluate(facts) else {
            throw .forbidden("only the person whose expense it is \(operation == .delete ? "deletes" : "changes") it")
        }
    }

    // MARK: View as

    /// "View as" (issue 18): `viewer` sees the ticket list, tickets and the people directory as
    /// `viewed` would. Only administrators without client restrictions: the view reaches all that
    /// `viewed` reaches, which must never be more than the viewer already may see, so no one gains
    /// a view through it. Any principal may be viewed, the viewer itself included.
    public static func authorizeViewAs(_ viewer: Principal, as viewed: Principal) throws(TandemError) {
        guard mayViewAs(viewer) else {
            throw .forbidden("view as is for administrators without client restrictions")
        }
    }

    /// Whether `principal` may view as others at all (the admin tab).
    public static func mayViewAs(_ principal: Principal) -> Bool {
        principal.kind == .resource && principal.isAdministrator && principal.clientRestrictions == nil
    }

    /// A request made while viewing as someone: it reads and never writes. Only GET and HEAD of the
    /// pages that only show (`readOnlyPage`) go through; any other method is refused, save ending
    /// the view (or the session).
    public static func authorizeViewAsRequest(method: String, readOnlyPage: Bool, endsView: Bool) throws(TandemError) {
        if endsView, method == "POST" { return }
        guard method == "GET" || method == "HEAD" else {
            throw .forbidden("viewing as someone is read-only; stop viewing as them to make changes")
        }
        guard readOnlyPage else {
            throw .forbidden("this page is not shown while viewing as someone; stop viewing as them first")
        }
    }

    // MARK: SLAs and the responsibility handoff

    /// SLA policies (one per organization and priority). MSP staff read them within their client
    /// restrictions (they work tickets against them); `manageSettings` changes them, within the same
    /// restrictions. Co-managing users and contacts read a ticket's SLA only through the ticket
    /// (`ticketSLAScope`), never the policies. Facts: `.organization`.
    public static func slaPolicyScope(for principal: Principal, _ operation: AccessOperation) -> Scope {
        guard principal.kind == .resource else { return .none }
        guard operation == .view || principal.permissions.has(.manageSettings) else { return .none }
        return principal.clientRestrictions.map { .isIn(.organization, $0) } ?? .all
    }

    /// Refuses creating an SLA policy before the body is read: MSP staff with `manageSettings` only.
    public static func authorizeSLAPolicyCreation(_ principal: Principal) throws(TandemError) {
        guard slaPolicyScope(for: principal, .create) != .none else {
            throw .forbidden("your security level does not allow changing SLA policies (it needs manageSettings)")
        }
    }

    /// A ticket's SLA clocks are read by whoever sees the ticket.
    public static func ticketSLAScope(for principal: Principal) -> Scope { ticketScope(for: principal) }

    /// Handing a ticket to the other side (SPEC §13), once the pipeline found that `principal` may edit
    /// the ticket: MSP staff and co-managing users (the client's IT) hand it either way; contacts never.
    /// Only a co-managed ticket (co-management on for the system and the organization, the ticket
    /// visible to co-managing users) has two sides; nil when the handoff may go ahead.
    public static func handoffRefusal(
        _ principal: Principal, coManagement: Bool, organizationCoManaged: Bool, coManagedVisible: Bool, from: ResponsibleSide, to: ResponsibleSide
    ) -> TandemError? {
        guard principal.kind != .contact else { return .forbidden("contacts cannot hand a ticket over; the MSP or your IT staff do") }
        var missing: [String] = []
        if !coManagement { missing.append("co-management is off") }
        if !organizationCoManaged { missing.append("the organization is not co-managed") }
        if !coManagedVisible { missing.append("the ticket is not visible to co-managing users") }
        if !missing.isEmpty, to == .clientIT {
            return .conflict("only a co-managed ticket can be handed to the client's IT: \(missing.joined(separator: ", "))")
        }
        if from == to { return .conflict("the ticket is already with \(to.label)") }
        return nil
    }

    /// Throws the refusal for administrative work the permission covers, or nothing when it is allowed. A permission
    /// whose objects all belong to no one organization (`AdminPermission.isTenantWide`) also needs a resource without
    /// client restrictions.
    public static func authorizeAdmin(_ principal: Principal, _ permission: AdminPermission) throws(TandemError) {
        guard principal.kind == .resource, principal.permissions.has(permission) else {
            throw .forbidden("this needs the \(permission.rawValue) permission")
        }
        if permission.isTenantWide { try refuseClientRestrictions(principal) }
    }

    /// Throws the refusal for administrative work on what belongs to no one organization, or nothing when it is
    /// allowed: rules and notification templates act on every organization's tickets, the outbox holds every
    /// organization's mail, and co-management's switch (with its dry run) covers every organization. Client
    /// restrictions apply to every entity related to the organizations (SPEC §2), so only a resource without them
    /// does this work.
    public static func authorizeTenantWide(_ principal: Principal, _ permission: AdminPermission) throws(TandemError) {
        try authorizeAdmin(principal, permission)
        try refuseClientRestrictions(principal)
    }

    private static func refuseClientRestrictions(_ principal: Principal) throws(TandemError) {
        guard principal.clientRestrictions == nil else {
            throw .forbidden("this covers every organization, and your client restrictions limit you to some")
        }
    }
}

extension Area {
    /// One row of the area, in words ("organization", "site", "contact").
    var rowLabel: String {
        switch self {
        case .timeEntries: "time entry"
        default: String(rawValue.dropLast())
        }
    }

    var pluralLabel: String {
        switch self {
        case .timeEntries: "time entries"
        default: rawValue
        }
    }
}

extension ConfigurationKind {
    var label: String {
        switch self {
        case .securityLevels: "security levels"
        case .queues: "queues"
        case .teams: "teams"
        case .roles: "roles"
        case .internalLocations: "internal locations"
        case .resources: "resources"
        case .coManagingTeams: "co-managing teams"
        case .organizationGroups: "organization groups"
        case .departments: "departments"
        }
    }
}

/// A ticket's fields as the API names them, for `AccessPolicy.visibleTicketFields`.
public enum TicketField: String, Sendable, CaseIterable {
    case id, number, title, description, organizationId, siteId, contactId, queueId, teamId, status, priority, source,
        assigneeIds, coManagedVisible, dueAt, version, createdAt, updatedAt
    /// Which side holds the ticket, the MSP or the client's IT (`ResponsibleSide`); changed only by a handoff.
    case responsibleSide
    /// `[#T-000042]`: the number as outgoing mail's subjects carry it and replies are matched on (`TicketReference`).
    case reference
}

public struct AccessExplanation: Codable, Sendable, Equatable {
    public var allowed: Bool
    public var reasons: [String]
}

/// The answer of `AccessPolicy.profileTransfer`.
public struct ProfileTransfer: Sendable, Equatable {
    public var export: Bool
    public var importRights: ProfileImportRights

    public init(export: Bool, importRights: ProfileImportRights) {
        self.export = export
        self.importRights = importRights
    }

    /// An import may start when it can write anything at all; each row is then held to the rights.
    public var canImport: Bool { importRights.add || importRights.edit || importRights.delete }

    public func authorizeExport() throws(TandemError) {
        guard export else { throw .forbidden("your security level does not allow exporting client profiles") }
    }

    public func authorizeImport() throws(TandemError) {
        guard export, canImport else { throw .forbidden("your security level does not allow importing client profiles") }
    }
}

/// The answer of `AccessPolicy.auditExport`: which audit events of an organization a principal may export, and how much of each.
public struct AuditExportRights: Sendable, Equatable {
    /// The events (facts: `.organization`); `.none` refuses the export, and its organizations read as unknown.
    public var scope: Scope
    /// An event of a ticket is exported only while the ticket is in this scope (a ticket's facts); `.all` for every ticket's.
    public var tickets: Scope
    /// Whether events of a ticket's notes, time entries and attachments are exported.
    public var ticketItems: Bool
    /// Whether each event's `before` and `after` are exported.
    public var details: Bool
    /// Whether events of billing (block-hour contracts) are exported: only to those who see the organization's
    /// billing (`billingScope`), as the contracts themselves.
    public var billing: Bool
    /// Whether events of every kind of record are exported. Without it only those of the records a co-managing user
    /// works with (its tickets, sites, profiles and co-managing users, and the organization itself: the server's
    /// `AuditExport.clientFacingRecords`), never the MSP's configuration, billing, SLA policies, documentation,
    /// vault or escalation plans, whose events carry the organization too.
    public var everyRecord: Bool

    public init(scope: Scope, tickets: Scope, ticketItems: Bool, details: Bool, billing: Bool? = nil, everyRecord: Bool? = nil) {
        self.scope = scope
        self.tickets = tickets
        self.ticketItems = ticketItems
        self.details = details
        self.billing = billing ?? details
        self.everyRecord = everyRecord ?? details
    }

    public static let nothing = AuditExportRights(scope: .none, tickets: .none, ticketItems: false, details: false)

    /// Whether the export of `organizationId` is open at all.
    public func allows(organizationId: UUID) -> Bool {
        scope.evaluate(ScopeFacts(values: [.organization: organizationId, .id: nil]))
    }
}

/// Whose timesheet it is, for `AccessPolicy.timesheetRights`.
public struct TimesheetPerson: Sendable, Equatable {
    public var id: UUID
    public var kind: PrincipalKind
    /// A co-managing user's organization.
    public var organizationId: UUID?
    /// A co-managing user's timesheet viewers (MSP resources).
    public var viewerIds: Set<UUID>

    public init(id: UUID, kind: PrincipalKind, organizationId: UUID? = nil, viewerIds: Set<UUID> = []) {
        self.id = id
        self.kind = kind
        self.organizationId = organizationId
        self.viewerIds = viewerIds
    }
}

/// The answer of `AccessPolicy.timesheetRights`.
public struct TimesheetRights: Sendable, Equatable {
    public var view: Bool
    public var submit: Bool
    /// Approve and reject.
    public var approve: Bool

    public init(view: Bool, submit: Bool, approve: Bool) {
        self.view = view
        self.submit = submit
        self.approve = approve
    }

    public static let nothing = TimesheetRights(view: false, submit: false, approve: false)
}

/// The answer of `AccessPolicy.reportRights`: whose figures a reader's reports hold.
public struct ReportRights: Sendable, Equatable {
    /// The organizations reported on (facts: `.organization`); `.none` opens no report, and every organization reads as unknown.
    public var organizations: Scope
    /// The tickets counted (a ticket's facts, as the ticket list applies them).
    public var tickets: Scope
    /// The time entries counted (their publish-to); `.none` leaves time by role out.
    public var timeEntries: Scope
    /// Billable amount and block hours used.
    public var billing: Bool
    /// The co-managed license figures.
    public var licenses: Bool

    public init(organizations: Scope, tickets: Scope, timeEntries: Scope, billing: Bool, licenses: Bool) {
        self.organizations = organizations
        self.tickets = tickets
        self.timeEntries = timeEntries
        self.billing = billing
        self.licenses = licenses
    }

    public static let nothing = ReportRights(organizations: .none, tickets: .none, timeEntries: .none, billing: false, licenses: false)

    /// Whether any report is open to the reader (the pages' "Reports" link).
    public var any: Bool { organizations != .none }

    /// Whether the report of `organizationId` is open.
    public func allows(organizationId: UUID) -> Bool {
        organizations.evaluate(ScopeFacts(values: [.organization: organizationId, .id: nil]))
    }

}
