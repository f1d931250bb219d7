import Foundation

extension UUID {
    /// `uuidString` (upper-case, hyphenated) written directly: Foundation's goes through
    /// `snprintf` on Linux, which showed up when encoding pages of tickets.
    var text: String {
        withUnsafeBytes(of: uuid, UUID.text(of:))
    }

    /// The `text` of the 16 bytes of a UUID (a PostgreSQL `uuid` value, say), without making the UUID.
    static func text(of bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: 36) { out in
            writeText(of: bytes, to: out)
            return 36
        }
    }

    /// Writes the text of the 16 bytes of a UUID (`text`'s 36 characters) to the start of `out`.
    static func writeText(of bytes: UnsafeRawBufferPointer, to out: UnsafeMutableBufferPointer<UInt8>) {
        let hex: StaticString = "0123456789ABCDEF"
        hex.withUTF8Buffer { digits in
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
        }
    }
}
