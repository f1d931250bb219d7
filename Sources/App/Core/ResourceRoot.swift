import Foundation

/// The directory holding `Resources/` (the Leaf templates under `Views/`, `openapi.yaml`) and `Public/`
/// (the stylesheet), found wherever the binary is started from.
///
/// They stay plain files rather than SwiftPM resources: `Bundle.module` stops the process when its bundle
/// is not where the build left it, Leaf reads templates from a directory anyway, and an operator can
/// point `TANDEM_RESOURCES` at an edited copy.
enum ResourceRoot {
    /// `TANDEM_RESOURCES` when set (it must hold `Resources/Views`), else the first of: the working
    /// directory (a checkout), `../share/tandem` beside the executable (an install under a prefix), the
    /// executable's own directory, and the checkout the binary was built from.
    static func locate(
        explicit: String?, workingDirectory: String = FileManager.default.currentDirectoryPath,
        executable: URL? = Bundle.main.executableURL
    ) throws -> String {
        if let explicit, !explicit.isEmpty {
            let root = URL(fileURLWithPath: explicit, isDirectory: true, relativeTo: URL(fileURLWithPath: workingDirectory, isDirectory: true)).absoluteURL
                .standardized.path
            guard holdsResources(root) else {
                throw CommandFailure(
                    "TANDEM_RESOURCES is \(explicit), which has no Resources/Views: set it to the directory holding Resources/ and Public/ (the checkout, or where they were installed)"
                )
            }
            return root
        }
        let candidates = self.candidates(workingDirectory: workingDirectory, executable: executable)
        guard let root = candidates.first(where: holdsResources) else {
            throw CommandFailure(
                "Tandem's templates were not found (looked in \(candidates.joined(separator: ", "))): set TANDEM_RESOURCES to the directory holding Resources/ and Public/"
            )
        }
        return root
    }

    static func candidates(workingDirectory: String, executable: URL?) -> [String] {
        var candidates = [workingDirectory]
        if let directory = executable?.resolvingSymlinksInPath().deletingLastPathComponent() {
            candidates.append(directory.deletingLastPathComponent().appendingPathComponent("share/tandem").standardized.path)
            candidates.append(directory.standardized.path)
        }
        candidates.append(checkout)
        return candidates
    }

    /// The checkout this file was compiled in: `.build/debug/tandem` finds it from any directory.
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent()  // Core
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path  // App, Sources, the checkout

    static func holdsResources(_ root: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: root + "/Resources/Views", isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
