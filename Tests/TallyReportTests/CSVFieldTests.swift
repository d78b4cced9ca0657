import Testing

@testable import TallyReport

/// RFC 4180 quoting, and formulas neutralised as OWASP recommends against CSV injection.
@Suite struct CSVFieldTests {
    func field(_ text: String) -> String {
        var out: [UInt8] = []
        CSVField.append(Array(text.utf8), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func plainFieldsAreWrittenAsTheyAre() {
        #expect(field("alice@example.com") == "alice@example.com")
        #expect(field("10.0.0.1;10.0.0.2") == "10.0.0.1;10.0.0.2")
        #expect(field("") == "")
        #expect(field("a=b+c-d@e") == "a=b+c-d@e")
    }

    @Test func fieldsAFormulaCouldStartWithAreShownAsText() {
        #expect(field("=1+1@example.com") == "'=1+1@example.com")
        #expect(field("+1+1@b.example") == "'+1+1@b.example")
        #expect(field("-2+3@c.example") == "'-2+3@c.example")
        #expect(field("@SUM(1)@d.example") == "'@SUM(1)@d.example")
        #expect(field("\tx@example.com") == "'\tx@example.com")
        #expect(field("\rx@example.com") == "\"'\rx@example.com\"")
        #expect(field("=HYPERLINK(\"http://x\",\"y\")@a.example") == "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")@a.example\"")
    }

    @Test func quotedFieldsDoubleTheirQuotes() {
        #expect(field("a,b") == "\"a,b\"")
        #expect(field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(field("a\r\nb") == "\"a\r\nb\"")
    }
}
