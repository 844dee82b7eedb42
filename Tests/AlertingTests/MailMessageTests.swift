import Alerting
import Foundation
import Testing

struct MailMessageTests {
    @Test func quotedPrintableKeepsLinesShortAndEscapesWhatItMust() {
        let text = String(repeating: "ä", count: 40) + "\nend with space \n=sign"
        let encoded = MIMEEncoding.quotedPrintable(text)
        #expect(encoded.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        #expect(encoded.contains("end with space=20\r\n=3Dsign"))
        #expect(!encoded.contains("=C3=\r\n"), "a soft break never splits an escape")
    }

    @Test func asciiSubjectsStayReadableAndUTF8OnesBecomeEncodedWords() {
        #expect(MIMEEncoding.headerValue("Exchange Online protected.") == "Exchange Online protected.")
        let encoded = MIMEEncoding.headerValue("Grüße")
        #expect(encoded == "=?UTF-8?B?R3LDvMOfZQ==?=")
        let long = MIMEEncoding.headerValue(String(repeating: "€", count: 60))
        #expect(long.components(separatedBy: "\r\n ").allSatisfy { $0.count <= 75 })
    }

    @Test func headersCannotBeInjectedThroughTheSubject() {
        let message = MailMessage(from: "a@example.org", recipients: ["b@example.org"], subject: "hi\r\nBcc: evil@example.org", body: "x")
        #expect(!message.render().contains("\r\nBcc:"))
    }

    @Test func envelopeAddressesAreExtractedAndValidated() {
        #expect(MailMessage.envelopeAddress("Ops <ops@example.org>") == "ops@example.org")
        #expect(MailMessage.envelopeAddress("ops@example.org") == "ops@example.org")
        #expect(MailMessage.envelopeAddress("not an address") == nil)
        #expect(MailMessage.envelopeAddress("a@b>\r\nRCPT TO:<x@y") == nil)
    }
}
