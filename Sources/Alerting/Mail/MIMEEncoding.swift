/// The MIME encodings a text mail needs: RFC 2047 encoded words, quoted-printable, base64 lines.
public enum MIMEEncoding {
    /// A header value as-is when it is printable ASCII, else as `=?UTF-8?B?…?=` words of at most 75 characters.
    ///
    /// Words never split a UTF-8 sequence, and are folded onto continuation lines.
    public static func headerValue(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        // 75 - len("=?UTF-8?B?") - len("?=") = 63 base64 characters → 45 bytes of UTF-8 at most per word.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append(word(chunk))
                chunk = []
            }
            chunk.append(contentsOf: bytes)
        }
        if !chunk.isEmpty { words.append(word(chunk)) }
        return words.joined(separator: "\r\n ")
    }

    private static func word(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?" + base64(bytes) + "?="
    }

    /// Quoted-printable (RFC 2045 §6.7) with CRLF line breaks and soft breaks before 76 characters.
    public static func quotedPrintable(_ text: String) -> String {
        let normalized = text.replacingLineBreaks()
        var output: [String] = []
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            var encoded = ""
            var lineLength = 0
            let bytes = Array(line.utf8)
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                let piece: String
                if (byte == 0x20 || byte == 0x09) && isLast {
                    piece = escape(byte)
                } else if (byte >= 33 && byte <= 126 && byte != 61) || byte == 0x20 || byte == 0x09 {
                    piece = String(UnicodeScalar(byte))
                } else {
                    piece = escape(byte)
                }
                if lineLength + piece.count > 75 {
                    encoded += "=\r\n"
                    lineLength = 0
                }
                encoded += piece
                lineLength += piece.count
            }
            output.append(encoded)
        }
        return output.joined(separator: "\r\n")
    }

    /// Base64 in lines of 76 characters with CRLF.
    public static func base64Lines(_ text: String) -> String {
        let encoded = base64(Array(text.replacingLineBreaks().replacingOccurrences(of: "\n", with: "\r\n").utf8))
        var lines: [Substring] = []
        var rest = Substring(encoded)
        while !rest.isEmpty {
            lines.append(rest.prefix(76))
            rest = rest.dropFirst(76)
        }
        return lines.joined(separator: "\r\n")
    }

    static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    private static func escape(_ byte: UInt8) -> String {
        let hex = Array("0123456789ABCDEF")
        return "=" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0x0F)])
    }
}

extension String {
    /// CRLF and lone CR become LF.
    fileprivate func replacingLineBreaks() -> String {
        replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    }
}

import Foundation
