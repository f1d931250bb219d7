import Foundation

extension UUID {
    /// `uuidString` (upper-case, hyphenated) written directly: Foundation's goes through
    /// `snprintf` on Linux, which showed up when encoding tickets.
    var text: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                let digits = Array("0123456789ABCDEF".utf8)
                var position = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[position] = 0x2D
                        position += 1
                    }
                    out[position] = digits[Int(bytes[index] >> 4)]
                    out[position + 1] = digits[Int(bytes[index] & 0x0F)]
                    position += 2
                }
                return 36
            }
        }
    }
}
