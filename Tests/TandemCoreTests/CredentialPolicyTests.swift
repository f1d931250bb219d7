import Foundation
import TandemCore
import Testing

/// Credentials are their own permission (SPEC §1), and page redirects stay on the site.
@Suite struct CredentialPolicyTests {
    static func resource(_ system: SystemSecurityLevel) -> Principal {
        Principal(id: UUID(), kind: .resource, displayName: "R", securityLevelId: UUID(), permissions: system.permissions)
    }

    @Test func onlyCredentialManagersChangeCredentials() throws {
        for system in SystemSecurityLevel.allCases where !system.coManaged {
            for change in CredentialChange.allCases {
                let allowed = (try? AccessPolicy.authorizeCredentialChange(Self.resource(system), change)) != nil
                #expect(allowed == (system == .administrator), "\(system) \(change)")
            }
        }
        // Every other admin permission is not enough.
        var userManager = SystemSecurityLevel.administrator.permissions
        userManager.admin.remove(.manageCredentials)
        let manager = Principal(id: UUID(), kind: .resource, displayName: "M", securityLevelId: UUID(), permissions: userManager)
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeCredentialChange(manager, .password) }
        // Nor can it grant what it lacks, while it grants what it holds.
        #expect(throws: TandemError.self) { try AccessPolicy.authorizeGrant(manager, SystemSecurityLevel.administrator.permissions) }
        try AccessPolicy.authorizeGrant(manager, userManager)
        try AccessPolicy.authorizeGrant(manager, SystemSecurityLevel.technician.permissions)
    }

    @Test func redirectsStayOnTheSite() {
        for kept in ["/", "/tickets", "/tickets?status=new&q=printer%20jam", "/tickets/0190-abc#note-1", "/sites/1/profiles?notice=saved"] {
            #expect(SafeRedirect.path(kept) == kept, "\(kept)")
        }
        for refused in [
            "", "tickets", "//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/%09/evil.example",
            "/\n/evil", "/%0d%0aSet-Cookie:x=y", "https://evil.example", "http:evil.example", "javascript:alert(1)", " /tickets",
            "/tick ets", "/%2F/evil.example", "/%5C/evil.example", "/\u{2028}", "/\u{200B}/x", "/%E2%80%8B/x", "/%zz",
        ] {
            #expect(SafeRedirect.path(refused) == nil, "\(refused.debugDescription)")
        }
        #expect(SafeRedirect.path(nil) == nil)
    }
}
