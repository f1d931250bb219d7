import Foundation
import Testing
import VaporTesting

@testable import App

/// The pages' Content-Security-Policy has no `unsafe-inline`, so no template may hold an inline
/// script, a style element or attribute, an event handler attribute or a `javascript:` URL: the
/// browser would refuse them. Styles and scripts are files (`/tandem.css`).
@Suite struct PageSecurityTests {
    static var inlineCode: [Regex<Substring>] {
        [
            /\sstyle\s*=/.ignoresCase(),
            /<style[\s>]/.ignoresCase(),
            /<script(?![^>]*\ssrc\s*=)[^>]*>/.ignoresCase(),
            /\son[a-z]+\s*=/.ignoresCase(),
            /javascript:/.ignoresCase(),
        ]
    }

    static var viewsDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Resources/Views").standardizedFileURL
    }

    /// The lines of a template that hold inline code, as `file:line: text`.
    static func offenders(in text: String, file: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            inlineCode.contains { line.contains($0) } ? "\(file):\(index + 1): \(line.trimmingCharacters(in: .whitespaces))" : nil
        }
    }

    @Test func noTemplateHoldsInlineScriptOrStyle() throws {
        let root = Self.viewsDirectory
        let files = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
        var read = 0
        for case let url as URL in files where url.pathExtension == "leaf" {
            read += 1
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            for offender in Self.offenders(in: try String(contentsOf: url, encoding: .utf8), file: relative) {
                Issue.record("Resources/Views/\(offender): inline code the Content-Security-Policy refuses; use a class in tandem.css or a script file")
            }
        }
        #expect(read > 30, "the scan read the templates under \(root.path)")
    }

    /// The scan itself catches each kind, and leaves ordinary markup alone.
    @Test func theScanCatchesInlineCode() {
        let template = """
            <p style="color: red">a</p>
            <style>p { color: red }</style>
            <script>alert(1)</script>
            <button onclick="go()">b</button>
            <a href="javascript:go()">c</a>
            <script src="/app.js"></script>
            <p class="notice" data-style="x">#(styleName)</p>
            """
        #expect(Self.offenders(in: template, file: "t.leaf").map { $0.split(separator: ":")[1] } == ["1", "2", "3", "4", "5"])
    }

    /// Every page the demo's administrator opens carries the policy, without `unsafe-inline`.
    @Test func everyPageCarriesTheContentSecurityPolicy() async throws {
        try await withApp { t in
            let session = try await t.pageSession("admin", TestApp.adminPassword)
            let organizationId = try await t.organization("Contoso")
            let ticket = try await t.ticket(organizationId, "Printer")
            var paths = [
                "/tickets", "/tickets/new", "/tickets/\(ticket.id)", "/organizations", "/organizations/\(organizationId)", "/admin/co-management",
                "/admin/co-managing-users", "/admin/security-levels", "/admin/rules", "/admin/outbox", "/admin/audit", "/admin/templates",
                "/settings/notifications", "/identify",
            ]
            for kind in [QueuePages.path, TeamPages.path, RolePages.path, InternalLocationPages.path] {
                paths += [PageRoutes.configurations(kind).url(), PageRoutes.newConfiguration(kind).url()]
            }
            for path in paths + ["/login"] {
                let reply = path == "/login" ? try await t.send(.GET, path, as: "") : try await t.page(path, session: session)
                #expect(reply.status == .ok, "\(path): \(reply.status)")
                let policy = reply.headers.first(name: "Content-Security-Policy") ?? ""
                #expect(policy.contains("default-src 'self'") && !policy.contains("unsafe-inline"), "\(path): \(policy)")
            }
        }
    }
}
