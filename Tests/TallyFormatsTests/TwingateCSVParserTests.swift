import Testing

@testable import TallyFormats

@Suite struct TwingateCSVParserTests {
    static let header =
        "start_time,end_time,user,user_id,device_id,client_ip,connector,connector_id,resource_ip,resource_port,resource_domain,resource_id,protocol,status,bytes_transferred,bytes_received,remote_network,remote_network_id,applied_rule,relays,relay_ips,relay_ports,service_account,service_account_id,service_account_key,service_account_key_id"

    @Test func readsTheFormatsExampleRow() throws {
        let row =
            "2024-02-20 20:16:05.92 UTC,2024-02-20 20:16:40.28 UTC,user@domain.com,468633,1223418,1.2.3.4,umber-angora,177167,192.168.1.39,55415,service.home.domain.com,2217397,tcp,NORMAL,422,704,🏠 Office,21959,service.home.domain.com,relaybalancer+https://relays.twingate.com,34.105.34.33,30013,,,,"
        let result = try readText(Self.header + "\n" + row + "\n", format: .twingateCSV)
        #expect(result.events.count == 1)
        let e = try #require(result.events.first)
        #expect(e.time == micros(2024, 2, 20, 20, 16, 5, 920_000))
        #expect(e.user == "user@domain.com")
        #expect(e.device == "1223418")
        #expect(e.ip == "1.2.3.4")
        #expect(e.outcome == .success)
        #expect(e.transferred == 422 && e.received == 704)
        #expect(e.relayed)
        #expect(result.stats.notEvents == 1)
    }

    @Test func quotedCellsWithCommasQuotesNewlinesAndEmoji() throws {
        let row =
            "2024-02-20 20:16:05 UTC,,\"\"\"doe, \"\"jd\"\" jane\"\"@example.com\",1,dev,\"2001:db8::1\",c,1,,,\"Lab, Building 2\nsecond line\",1,tcp,DNS_ERROR,,,\"🏠 Office, west\",1,r,,,,,,,"
        let result = try readText(Self.header + "\r\n" + row + "\r\n", format: .twingateCSV)
        #expect(result.stats.malformed == 0)
        let e = try #require(result.events.first)
        #expect(e.user == "\"doe, \"jd\" jane\"@example.com")
        #expect(e.ip == "2001:db8::1")
        #expect(e.outcome == .dnsFailure)
        #expect(e.transferred == 0 && e.received == 0)
        #expect(!e.relayed)
        #expect(e.time == micros(2024, 2, 20, 20, 16, 5))
    }

    @Test func columnsAreFoundByNameNotPosition() throws {
        let text = "extra,status,user,start_time,bytes_received\nx,CONNECTION_FAILED,a@b.c,2024-01-01 00:00:00.123456 UTC,5\n"
        let result = try readText(text, format: .twingateCSV)
        let e = try #require(result.events.first)
        #expect(e.outcome == .otherFailure)
        #expect(e.received == 5)
        #expect(e.time == micros(2024, 1, 1, 0, 0, 0, 123_456))
    }

    @Test func byteCountsAbove32BitsAndServiceAccounts() throws {
        let text =
            "start_time,user,status,bytes_transferred,bytes_received,service_account\n"
            + "2024-01-01 00:00:00 UTC,a@b.c,NORMAL,18446744073709551615,4294967296,\n"
            + "2024-01-01 00:00:01 UTC,,NORMAL,1,1,robot\n"
        let result = try readText(text, format: .twingateCSV)
        #expect(result.events.count == 2)
        #expect(result.events[0].transferred == UInt64.max)
        #expect(result.events[0].received == 4_294_967_296)
        #expect(result.events[1].user.isEmpty)
    }

    @Test(arguments: [
        ("2024-01-01 00:00:00 UTC,a@b.c,NORMAL,1", MalformedReason.fieldCount),
        ("2024-13-01 00:00:00 UTC,a@b.c,NORMAL,1,2", .badTimestamp),
        ("yesterday,a@b.c,NORMAL,1,2", .badTimestamp),
        ("2024-01-01 00:00:00 UTC,a@b.c,NORMAL,-5,2", .badByteCount),
        ("2024-01-01 00:00:00 UTC,a@b.c,NORMAL,1.5,2", .badByteCount),
        ("2024-01-01 00:00:00 UTC,a@b.c,NORMAL,18446744073709551616,2", .badByteCount),
        ("2024-01-01 00:00:00 UTC,a@b.c,,1,2", .missingField),
    ])
    func malformedRows(row: String, reason: MalformedReason) throws {
        let text = "start_time,user,status,bytes_transferred,bytes_received\n" + row + "\n2024-01-01 00:00:00 UTC,ok@b.c,NORMAL,1,2\n"
        let result = try readText(text, format: .twingateCSV)
        #expect(result.stats[reason] == 1, "\(result.stats)")
        #expect(result.stats.malformed == 1)
        #expect(result.stats.samples.first?.line == 2)
        // The good row after the bad one still counts.
        #expect(result.events.map(\.user).contains("ok@b.c"))
    }

    @Test func anUnclosedQuoteRunsToTheEndOfTheObjectAsOneMalformedRecord() throws {
        // RFC 4180 lets a quoted cell hold line ends, so nothing after an unclosed quote can be
        // told apart from the cell's content; Python's csv module reads it the same way.
        let text =
            "start_time,user,status\n2024-01-01 00:00:00 UTC,ok@b.c,NORMAL\n\"2024-01-01 00:00:00 UTC,a@b.c,NORMAL\n2024-01-01 00:00:00 UTC,b@b.c,NORMAL\n"
        let result = try readText(text, format: .twingateCSV)
        #expect(result.events.map(\.user) == ["ok@b.c"])
        #expect(result.stats[.fieldCount] == 1)
        #expect(result.stats.samples.first?.line == 3)
    }

    @Test func rowsBeforeAnyHeaderAreMalformed() throws {
        let result = try readText("2024-01-01 00:00:00 UTC,a@b.c,NORMAL,1,2\n", format: .twingateCSV)
        #expect(result.stats[.missingHeader] == 1)
    }

    @Test func invalidUTF8IsMalformedAndNamedWithItsLine() throws {
        var bytes = Array("start_time,user,status\n2024-01-01 00:00:00 UTC,a@b.c,NORMAL\n".utf8)
        bytes += [0x32, 0x30, 0xC3, 0x28, 0x0A]  // "20" + invalid sequence
        bytes += Array("2024-01-01 00:00:00 UTC,b@b.c,NORMAL\n".utf8)
        let result = try readObject([bytes], format: .twingateCSV, name: "2024/01/01/00.csv")
        #expect(result.stats[.invalidUTF8] == 1)
        #expect(result.stats.samples == [.init(object: "2024/01/01/00.csv", line: 3, reason: .invalidUTF8)])
        #expect(result.events.count == 2)
    }

    @Test func repeatedHeaderFromConcatenatedFilesIsNotAnEvent() throws {
        let text =
            "start_time,user,status\n2024-01-01 00:00:00 UTC,a@b.c,NORMAL\nstart_time,user,status\n2024-01-01 00:00:00 UTC,b@b.c,NORMAL"
        let result = try readText(text, format: .twingateCSV)
        #expect(result.events.count == 2)
        #expect(result.stats.malformed == 0)
        #expect(result.stats.notEvents == 2)
    }
}

/// The eight-bytes-at-a-time search the CSV splitter uses, against a plain scan.
@Suite struct ByteScanningTests {
    @Test func firstIndexFindsTheFirstOccurrenceLikeAPlainScan() {
        var state: UInt64 = 12345
        for length in 0..<70 {
            for _ in 0..<40 {
                var bytes = [UInt8](repeating: 0, count: length)
                for i in 0..<length {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    // Mostly non-commas, with commas and bytes next to ',' (0x2B, 0x2D, 0xAC).
                    let pick = Int(state >> 58)
                    bytes[i] = pick < 6 ? 0x2C : [0x41, 0x2B, 0x2D, 0xAC, 0x00, 0xFF, 0x30][pick % 7]
                }
                for from in [0, 1, 7, 9].filter({ $0 <= length }) {
                    let expected = bytes[from...].firstIndex(of: 0x2C) ?? length
                    let found = bytes.withUnsafeBytes {
                        ByteScanning.firstIndex(of: 0x2C, in: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, from: from, to: length)
                    }
                    #expect(found == expected, "length \(length) from \(from)")
                }
            }
        }
    }
}

/// A stray quote costs its own record, not the rest of the object.
@Suite struct StrayQuoteTests {
    @Test func aStrayQuoteInLineTenOfTenThousandCostsOneRecord() throws {
        var lines = ["start_time,user,status,bytes_transferred,bytes_received,client_ip,device_id,relays"]
        for i in 2...10_000 {
            let user = i == 10 ? "\"stray@b.c" : "u\(i % 97)@b.c"
            lines.append("2024-01-01 00:00:\(String(format: "%02d", i % 60)) UTC,\(user),NORMAL,1,2,10.0.0.1,d1,")
        }
        let result = try readText(lines.joined(separator: "\n") + "\n", format: .twingateCSV, chunkSize: 4096)
        #expect(result.events.count == 9_998)
        #expect(result.stats[.fieldCount] == 1)
        #expect(result.stats.samples.first?.line == 10)
        #expect(result.stats.lines == 10_000)
    }

    @Test func aQuotedCellSpanningFewLinesIsStillOneRecord() throws {
        let text =
            "start_time,user,status,bytes_transferred,bytes_received,client_ip,device_id,relays\n"
            + "2024-01-01 00:00:00 UTC,a@b.c,NORMAL,1,2,10.0.0.1,\"dev\nwith\nthree lines\",\n"
            + "2024-01-01 00:00:01 UTC,b@b.c,NORMAL,1,2,10.0.0.1,d2,\n"
        let result = try readText(text, format: .twingateCSV)
        #expect(result.events.map(\.user) == ["a@b.c", "b@b.c"])
        #expect(MalformedReason.allCases.allSatisfy { result.stats[$0] == 0 })
    }
}
