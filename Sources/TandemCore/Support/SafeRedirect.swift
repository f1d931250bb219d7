import Foundation

/// Where a page may send the browser after a form: only a path on this site (an open redirect would
/// let a link to the login page forward a freshly logged-in user anywhere).
public enum SafeRedirect {
    /// `target` when it is a same-origin relative reference (`/path?query#fragment`), else nil.
    /// Refused: anything not starting with one `/`, a second `/` or `\\` after it (a network path),
    /// any backslash, space or control character (browsers drop tabs and newlines, so `/\t/evil.example`
    /// is `//evil.example`); after one percent-decoding, still no control character, backslash or network path.
    public static func path(_ target: String?) -> String? {
        guard let target, acceptable(target, decoded: false) else { return nil }
        if target.contains("%") {
            guard let decoded = target.removingPercentEncoding, acceptable(decoded, decoded: true) else { return nil }
        }
        return target
    }

    private static func acceptable(_ text: String, decoded: Bool) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard scalars.first == "/", scalars.count < 2048 else { return false }
        if scalars.count > 1, scalars[1] == "/" { return false }
        for scalar in scalars {
            // A decoded query may hold a space ("q=printer jam"); the address itself may not.
            if scalar == "\\" || (!decoded && scalar.properties.isWhitespace) { return false }
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .unassigned, .surrogate, .privateUse: return false
            case .spaceSeparator where !decoded || scalar != " ": return false
            default: continue
            }
        }
        if decoded { return true }
        // What a URL parser makes of it: a path with no scheme, no host.
        guard let components = URLComponents(string: text), components.scheme == nil, components.host == nil, components.path.hasPrefix("/") else {
            return false
        }
        return true
    }
}
