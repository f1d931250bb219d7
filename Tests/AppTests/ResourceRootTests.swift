import Foundation
import Testing
import VaporTesting

@testable import App

/// The templates, the stylesheet and the OpenAPI document are found wherever Tandem starts: from
/// `TANDEM_RESOURCES`, the working directory, an install prefix beside the binary, or the checkout.
@Suite struct ResourceRootTests {
    /// A scratch directory, removed after `body`.
    func withDirectory(_ body: (URL) async throws -> Void) async throws {
        let directory = TestDatabase.scratch.appendingPathComponent("resources-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(directory)
    }

    /// An app on a fresh database whose resources are read from `resourcesDirectory`.
    func withApp(resourcesDirectory: String, _ body: (Application) async throws -> Void) async throws {
        await TestDatabase.gate.enter()
        let database = try await TestDatabase.make()
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        do {
            try await configure(
                app,
                options: AppOptions(storage: database.storage, bcryptCost: 4, resourcesDirectory: resourcesDirectory).with {
                    $0.vaultKey = TestDatabase.vaultKey
                })
            if database.migrate { try await app.autoMigrate() }
            try await body(app)
        } catch {
            try? await app.asyncShutdown()
            await database.drop()
            await TestDatabase.gate.leave()
            throw error
        }
        try await app.asyncShutdown()
        await database.drop()
        await TestDatabase.gate.leave()
    }

    func get(_ app: Application, _ path: String) async throws -> Reply {
        var reply: Reply?
        try await app.testing().test(.GET, path) { response in
            reply = Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
        return try #require(reply)
    }

    @Test func anExplicitDirectoryServesPagesStylesheetAndOpenAPI() async throws {
        try await withDirectory { directory in
            // A copy of the checkout's files, its OpenAPI document marked, so the answer shows where it was read.
            let files = FileManager.default
            let checkout = URL(fileURLWithPath: ResourceRoot.checkout, isDirectory: true)
            for folder in ["Resources", "Public"] {
                try files.copyItem(at: checkout.appendingPathComponent(folder), to: directory.appendingPathComponent(folder))
            }
            let openAPI = directory.appendingPathComponent("Resources/openapi.yaml")
            try (try String(contentsOf: openAPI, encoding: .utf8) + "# read from the copy\n").write(to: openAPI, atomically: true, encoding: .utf8)

            try await withApp(resourcesDirectory: directory.path) { app in
                let document = try await get(app, "/api/v1/openapi.yaml")
                expectStatus(document, .ok)
                #expect(document.text.hasPrefix("openapi:") && document.text.hasSuffix("# read from the copy\n"))
                let login = try await get(app, "/login")
                expectStatus(login, .ok)
                #expect(login.contentType.hasPrefix("text/html") && login.text.contains("<form"), "\(login)")
                let css = try await get(app, "/tandem.css")
                expectStatus(css, .ok)
                #expect(css.contentType.hasPrefix("text/css"))
            }
        }
    }

    @Test func anotherWorkingDirectoryFindsTheResources() async throws {
        try await withDirectory { directory in
            // Started elsewhere, with no resources in the working directory: an install prefix beside the binary wins.
            let prefix = directory.appendingPathComponent("prefix", isDirectory: true)
            let elsewhere = directory.appendingPathComponent("elsewhere", isDirectory: true)
            try FileManager.default.createDirectory(at: prefix.appendingPathComponent("bin"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: prefix.appendingPathComponent("share/tandem/Resources/Views"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
            let binary = prefix.appendingPathComponent("bin/tandem")
            #expect(
                try ResourceRoot.locate(explicit: nil, workingDirectory: elsewhere.path, executable: binary)
                    == prefix.appendingPathComponent("share/tandem").standardized.path)
            // Without one, the checkout the binary was built from.
            let root = try ResourceRoot.locate(explicit: nil, workingDirectory: elsewhere.path, executable: elsewhere.appendingPathComponent("tandem"))
            #expect(root == ResourceRoot.checkout)
            // A relative TANDEM_RESOURCES is read from the working directory; one without templates is refused in words.
            #expect(
                try ResourceRoot.locate(explicit: "prefix/share/tandem", workingDirectory: directory.path, executable: nil)
                    == prefix.appendingPathComponent("share/tandem").standardized.path)
            #expect(throws: CommandFailure.self) { try ResourceRoot.locate(explicit: elsewhere.path, workingDirectory: directory.path, executable: nil) }

            // And the app configured from there serves its pages and its document.
            try await withApp(resourcesDirectory: root) { app in
                expectStatus(try await get(app, "/api/v1/openapi.yaml"), .ok)
                expectStatus(try await get(app, "/login"), .ok)
            }
        }
    }
}
