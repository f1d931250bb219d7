/// The ticket number carried in subjects of mail we send (`[#T-000042]`) so replies thread into their ticket
/// even when the client drops In-Reply-To and References.
public enum TicketReference {
    /// `[#T-000042]`: six digits, zero padded, more when the number is larger.
    public static func string(number: Int) -> String {
        let digits = String(number)
        return "[#T-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + "]"
    }

    /// The number of the first `[#T-digits]` in the subject (the prefix's letter in either case), nil if none.
    /// "Re: Fwd: [#T-000042] Printer" → 42.
    public static func find(in subject: String) -> Int? {
        let bytes = Array(subject.utf8)
        var index = 0
        while index + 5 < bytes.count {
            if bytes[index] == UInt8(ascii: "["), bytes[index + 1] == UInt8(ascii: "#"), bytes[index + 2] | 0x20 == UInt8(ascii: "t"),
                bytes[index + 3] == UInt8(ascii: "-")
            {
                var end = index + 4
                var value = 0
                while end < bytes.count, end - index - 4 < 18, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end]) {
                    value = value * 10 + Int(bytes[end] - UInt8(ascii: "0"))
                    end += 1
                }
                if end > index + 4, end < bytes.count, bytes[end] == UInt8(ascii: "]") { return value }
            }
            index += 1
        }
        return nil
    }
}
