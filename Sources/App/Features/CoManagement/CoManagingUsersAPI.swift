import Fluent
import Foundation
import TandemCore
import Vapor

/// `/api/v1/co-management`, `/co-managing-users`, `/co-managing-teams`, `/licenses`, `/me/totp`.
enum CoManagementAPI {
    static let what = "co-managing user"

    static func register(_ api: any RoutesBuilder) {
        let coManagement = api.grouped("co-management")
        coManagement.get { req async throws -> CoManagementDTO in
            _ = try req.principal
            return try await CoManagementService.settings(on: req.db)
        }
        coManagement.put { req async throws -> CoManagementDTO in
            try await CoManagementService.update(req.content.decode(CoManagementInput.self), by: req.principal, on: req.db)
        }
        coManagement.get("deactivation-impact") { req async throws -> DeactivationImpact in
            try AccessPolicy.authorizeTenantWide(req.principal, .activateCoManagement)
            return try await CoManagementService.impact(on: req.db)
        }
        api.get("organizations", ":id", "co-management") { req async throws -> OrganizationCoManagementDTO in
            try await CoManagementService.organizationSetup(req.id("id", "organization"), by: req.principal, on: req.db)
        }
        api.put("organizations", ":id", "co-management") { req async throws -> OrganizationCoManagementDTO in
            try await CoManagementService.updateOrganizationSetup(
                req.id("id", "organization"), req.content.decode(OrganizationCoManagementInput.self), by: req.principal, on: req.db)
        }
        api.get("licenses") { req async throws -> LicensesDTO in
            try AccessPolicy.authorizeAdmin(req.principal, .manageUsers)
            return LicensesDTO(coManagedLicenses: try await CoManagementService.licenseCount(on: req.db))
        }

        let users = api.grouped("co-managing-users")
        users.get { req async throws -> ListPage<CoManagingUserDTO> in
            let principal = try req.principal
            let (items, next) = try await CoManagingUser.query(on: req.db)
                .filter(AccessPolicy.coManagingUserScope(for: principal), on: CoManagingUser.scopeTable).page(PageRequest(req))
            var dtos: [CoManagingUserDTO] = []
            for item in items { dtos.append(try await CoManagingUsers.dto(item, shownTo: principal, on: req.db)) }
            return ListPage(items: dtos, nextCursor: next)
        }
        users.post { req async throws -> Response in
            let dto = try await CoManagingUsers.create(
                req.content.decode(CoManagingUserInput.self), by: req.principal, on: req.db, passwords: req.password.async)
            return try await dto.encodeResponse(status: .created, for: req)
        }
        users.get(":id") { req async throws -> CoManagingUserDTO in
            let principal = try req.principal
            return try await CoManagingUsers.dto(CoManagingUsers.visible(req.id("id", what), by: principal, on: req.db), shownTo: principal, on: req.db)
        }
        users.patch(":id") { req async throws -> CoManagingUserDTO in
            try await CoManagingUsers.update(
                req.id("id", what), req.content.decode(CoManagingUserInput.self), by: req.principal, on: req.db, passwords: req.password.async)
        }
        users.delete(":id") { req async throws -> HTTPStatus in
            try await CoManagingUsers.erase(req.id("id", what), by: req.principal, on: req.db)
            return .noContent
        }
        users.post(":id", "totp-pause") { req async throws -> CoManagingUserDTO in
            let input = try req.content.decode(TOTPPauseInput.self)
            var validator = FieldValidator()
            let pause = validator.choice(input.for, "for", as: TwoFactor.Pause.self)
            try validator.check()
            let id = try req.id("id", what)
            _ = try await CoManagingUsers.visible(id, by: req.principal, on: req.db)
            return try await CoManagingUsers.dto(TwoFactor.pause(userId: id, pause!, by: req.principal, on: req.db), shownTo: req.principal, on: req.db)
        }

        let teams = api.grouped("co-managing-teams")
        teams.get { req async throws -> ListPage<CoManagingTeamDTO> in
            try await CoManagingTeams.list(PageRequest(req), by: req.principal, on: req.db)
        }
        teams.post { req async throws -> Response in
            try await CoManagingTeams.save(nil, req.content.decode(CoManagingTeamInput.self), by: req.principal, on: req.db).encodeResponse(
                status: .created, for: req)
        }
        teams.get(":id") { req async throws -> CoManagingTeamDTO in
            let principal = try req.principal
            return try await CoManagingTeams.dto(
                CoManagingTeams.visible(req.id("id", "co-managing team"), by: principal, on: req.db), shownTo: principal, on: req.db)
        }
        teams.patch(":id") { req async throws -> CoManagingTeamDTO in
            let team = try await CoManagingTeams.visible(req.id("id", "co-managing team"), by: req.principal, on: req.db)
            return try await CoManagingTeams.save(team, req.content.decode(CoManagingTeamInput.self), by: req.principal, on: req.db)
        }
        teams.delete(":id") { req async throws -> HTTPStatus in
            let team = try await CoManagingTeams.visible(req.id("id", "co-managing team"), by: req.principal, on: req.db)
            try await CoManagingTeams.delete(team, by: req.principal, on: req.db)
            return .noContent
        }

        api.post("me", "totp") { req async throws -> TOTPEnrolmentDTO in
            let (secret, uri) = try await TwoFactor.enrol(req.principal, on: req.db)
            return TOTPEnrolmentDTO(secret: secret, otpauthUri: uri)
        }
        api.post("me", "totp", "confirm") { req async throws -> HTTPStatus in
            let input = try req.content.decode(TOTPConfirmInput.self)
            try await TwoFactor.confirm(req.principal, code: input.code, on: req.db)
            return .noContent
        }
    }
}
