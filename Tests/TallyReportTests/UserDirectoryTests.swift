import Testing

@testable import TallyReport

@Suite struct UserDirectoryTests {
    func emails(_ text: String) throws -> [String] {
        try UserDirectory(csv: Array(text.utf8), name: "d.csv").emails.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func theEmailColumnIsFoundByItsHeaderWhateverItsCaseAndPlace() throws {
        #expect(try emails("name,Email\nA,b@x\nC,a@x\n") == ["a@x", "b@x"])
        #expect(try emails("\u{FEFF}id,USER_EMAIL,user\r\n1,u@x,ignored\r\n") == ["u@x"])
        #expect(try emails("user\nz@x\n\nz@x\ny@x") == ["y@x", "z@x"])  // blank line, duplicate, no final line end
        #expect(try emails("n,email\n\"Doe, J\",\"j,\"\"q\"\"@x\"\n") == [#"j,"q"@x"#])
        #expect(try emails("email,other\n,x\n") == [])
    }

    @Test func problemsNameTheFileAndLine() {
        #expect(
            throws: UserDirectoryError(file: "d.csv", line: 1, reason: "no column named email, user_email, user in the header (name,team)")
        ) {
            try emails("name,team\nx,y\n")
        }
        #expect(throws: UserDirectoryError(file: "d.csv", line: 3, reason: "1 fields, the email column is field 2")) {
            try emails("name,email\na,a@x\nb\n")
        }
        #expect(throws: UserDirectoryError.self) { try emails("email\n\"open\n") }
        #expect(throws: UserDirectoryError.self) { try emails("") }
    }

    @Test func encodingRoundTrips() throws {
        let directory = UserDirectory(emails: [Array("b@x".utf8), Array("a@x".utf8), Array("a@x".utf8), []])
        #expect(directory.emails == [Array("a@x".utf8), Array("b@x".utf8)])
        #expect(try UserDirectory(encoded: directory.encoded()) == directory)
    }
}
