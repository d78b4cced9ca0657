import Foundation
import TallyGen

/// A fresh temporary directory, removed by `cleanup()`.
struct TempDir {
    let path: String

    init() {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("tallygen-\(UUID().uuidString)").path
    }

    func sub(_ name: String) -> String { path + "/" + name }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// All regular files under `root`, by relative path, with their bytes (gzip files decompressed
/// when `gunzip` is set).
func snapshot(_ root: String, gunzip: Bool = false, includeHidden: Bool = true) throws -> [String: Data] {
    var files: [String: Data] = [:]
    let fm = FileManager.default
    guard let walker = fm.enumerator(atPath: root) else { return files }
    while let relative = walker.nextObject() as? String {
        var isDir: ObjCBool = false
        let full = root + "/" + relative
        guard fm.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue else { continue }
        let name = relative.split(separator: "/").last.map(String.init) ?? relative
        if !includeHidden && (name.hasPrefix("_") || name.hasPrefix(".")) { continue }
        if gunzip && relative.hasSuffix(".gz") {
            files[String(relative.dropLast(3))] = try gunzipFile(full)
        } else {
            files[relative] = try Data(contentsOf: URL(fileURLWithPath: full))
        }
    }
    return files
}

/// Decompresses a gzip file with the system `gzip -dc`.
func gunzipFile(_ path: String) throws -> Data {
    let process = Process()
    let tool = FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip") ? "/usr/bin/gzip" : "/bin/gzip"
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = ["-dc", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw NSError(
            domain: "gzip", code: Int(process.terminationStatus),
            userInfo: [NSLocalizedDescriptionKey: "gzip -dc \(path) failed"])
    }
    return data
}

/// One connection-ending event as the report sees it.
struct ParsedEvent: Hashable {
    var time: Int64  // epoch ms
    var user: String  // "" for a service account
    var outcome: Int  // 0 success, 1 DNS failure, 2 other failure
    var tx: UInt64
    var rx: UInt64
    var ip: String
    var device: String
    var relayed: Bool  // false for failures
}

/// What a minimal reader made of a directory.
struct ParsedRun {
    var events: [ParsedEvent] = []
    /// Event files by relative path → events in file order.
    var byFile: [String: [ParsedEvent]] = [:]
    var malformed = 0

    var multiset: [ParsedEvent: Int] {
        var m: [ParsedEvent: Int] = [:]
        for e in events { m[e, default: 0] += 1 }
        return m
    }
}

func lines(_ data: Data) -> [Data] {
    var out: [Data] = []
    var start = data.startIndex
    for i in data.indices where data[i] == 0x0A {
        out.append(data[start..<i])
        start = i + 1
    }
    if start < data.endIndex { out.append(data[start..<data.endIndex]) }
    return out
}

/// Days since 1970-01-01 of a Gregorian date, from Foundation's calendar: an oracle
/// independent of the generator's own calendar arithmetic.
func daysFromCivil(_ y: Int64, _ m: Int64, _ d: Int64) -> Int64 {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let date = calendar.date(from: DateComponents(year: Int(y), month: Int(m), day: Int(d)))!
    return Int64((date.timeIntervalSince1970 / 86_400).rounded(.down))
}

/// `YYYY-MM-DD?HH:MM:SS[.fraction]` followed by `suffix` → epoch ms (fraction truncated to ms).
func parseTime(_ text: String, separator: Character, suffix: String) -> Int64? {
    guard text.hasSuffix(suffix) else { return nil }
    let body = Array(text.dropLast(suffix.count))
    guard body.count >= 19, body[4] == "-", body[7] == "-", body[10] == separator,
        body[13] == ":", body[16] == ":"
    else { return nil }
    func num(_ a: Int, _ b: Int) -> Int64? {
        let s = String(body[a..<b])
        guard s.allSatisfy(\.isASCII), s.allSatisfy(\.isNumber) else { return nil }
        return Int64(s)
    }
    guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13),
        let mi = num(14, 16), let s = num(17, 19), (1...12).contains(mo), (1...31).contains(d),
        h < 24, mi < 60, s < 60
    else { return nil }
    var ms: Int64 = 0
    if body.count > 19 {
        guard body[19] == ".", body.count <= 26 else { return nil }
        let frac = String(body[20...])
        guard frac.allSatisfy(\.isNumber) else { return nil }
        ms = Int64(String((frac + "000").prefix(3))) ?? 0
    }
    return ((daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * 1000) + ms
}

/// RFC 4180 fields of one record (no embedded line breaks in generated data).
func csvFields(_ line: String) -> [String] {
    if !line.contains("\"") {
        return line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
    var fields: [String] = []
    var current = String.UnicodeScalarView()
    var quoted = false
    var scalars = line.unicodeScalars.makeIterator()
    var pending: Unicode.Scalar? = nil
    while let c = pending ?? scalars.next() {
        pending = nil
        if quoted {
            if c == "\"" {
                if let n = scalars.next() {
                    if n == "\"" {
                        current.append("\"")
                    } else {
                        quoted = false
                        pending = n
                    }
                } else {
                    quoted = false
                }
            } else {
                current.append(c)
            }
        } else if c == "\"" {
            quoted = true
        } else if c == "," {
            fields.append(String(current))
            current = String.UnicodeScalarView()
        } else {
            current.append(c)
        }
    }
    fields.append(String(current))
    return fields
}

func digits(_ s: String) -> UInt64?? {
    if s.isEmpty { return .some(nil) }
    guard s.allSatisfy({ $0.isASCII && $0.isNumber }), let v = UInt64(s) else { return nil }
    return .some(v)
}

/// A minimal reader of the three formats, written independently of the generator.
func parseRun(_ root: String, format: SampleFormat) throws -> ParsedRun {
    var run = ParsedRun()
    let files = try snapshot(root, gunzip: true, includeHidden: false)
    for path in files.keys.sorted() {
        var fileEvents: [ParsedEvent] = []
        for raw in lines(files[path]!) {
            guard let line = String(data: raw, encoding: .utf8) else {
                run.malformed += 1
                continue
            }
            let result: ParsedEvent??
            switch format {
            case .twingateCSV: result = csvEvent(line)
            case .twingateS3: result = s3Event(line)
            case .twingateAnalytics: result = analyticsEvent(line)
            }
            switch result {
            case .none: run.malformed += 1
            case .some(.none): continue
            case .some(.some(let e)): fileEvents.append(e)
            }
        }
        run.events += fileEvents
        run.byFile[path] = fileEvents
    }
    return run
}

/// `nil` = malformed, `.some(nil)` = not an event.
func csvEvent(_ line: String) -> ParsedEvent?? {
    if line.isEmpty || line.hasPrefix("start_time,") { return .some(nil) }
    let f = csvFields(line)
    guard f.count == 26 else { return nil }
    guard let time = parseTime(f[0], separator: " ", suffix: " UTC"),
        let tx = digits(f[14]), let rx = digits(f[15])
    else { return nil }
    let outcome = f[13] == "NORMAL" ? 0 : (f[13] == "DNS_ERROR" ? 1 : 2)
    return ParsedEvent(
        time: time, user: f[2], outcome: outcome, tx: tx ?? 0, rx: rx ?? 0, ip: f[5],
        device: f[4], relayed: outcome == 0 && !f[19].isEmpty)
}

func jsonObject(_ text: Substring) -> [String: Any]? {
    guard let data = text.data(using: .utf8),
        let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return nil }
    return obj
}

func jsonBytes(_ value: Any?) -> UInt64?? {
    guard let value else { return .some(nil) }
    guard let n = value as? NSNumber, n.int64Value >= 0 else { return nil }
    return .some(n.uint64Value)
}

func commonEvent(_ ev: [String: Any], status: String, time: Int64, tx: UInt64, rx: UInt64, relayed: Bool) -> ParsedEvent? {
    let conn = ev["connection"] as? [String: Any] ?? [:]
    let email = (ev["user"] as? [String: Any])?["email"] as? String ?? ""
    if email.isEmpty && ev["service_account"] == nil { return nil }
    let outcome = status == "closed_connection" ? 0 : ((conn["error_message"] as? String) == "DNS_ERROR" ? 1 : 2)
    return ParsedEvent(
        time: time, user: email, outcome: outcome, tx: tx, rx: rx,
        ip: conn["client_ip"] as? String ?? "",
        device: (ev["device"] as? [String: Any])?["id"] as? String ?? "",
        relayed: outcome == 0 && relayed)
}

let endingStatuses: Set<String> = ["closed_connection", "failed_to_connect", "denied_access"]

func s3Event(_ line: String) -> ParsedEvent?? {
    if line.isEmpty { return .some(nil) }
    guard let obj = jsonObject(Substring(line)) else { return nil }
    guard let type = obj["event_type"] as? String, type == "network_access" || type == "network" else { return .some(nil) }
    guard let ev = obj["event"] as? [String: Any], let status = ev["status"] as? String else { return nil }
    guard endingStatuses.contains(status) else { return .some(nil) }
    guard let timeText = ev["time"] as? String,
        let time = parseTime(timeText, separator: "T", suffix: "+00:00")
    else { return nil }
    let conn = ev["connection"] as? [String: Any] ?? [:]
    guard let tx = jsonBytes(conn["bytes_transferred"]), let rx = jsonBytes(conn["bytes_received"]) else { return nil }
    let relays = ev["relays"] as? [Any] ?? []
    guard let e = commonEvent(ev, status: status, time: time, tx: tx ?? 0, rx: rx ?? 0, relayed: !relays.isEmpty) else { return nil }
    return .some(e)
}

func analyticsEvent(_ line: String) -> ParsedEvent?? {
    guard let marker = line.range(of: "ANALYTICS ") else { return .some(nil) }
    guard let ev = jsonObject(line[marker.upperBound...]) else { return nil }
    guard let status = ev["event_type"] as? String else { return nil }
    guard endingStatuses.contains(status) else { return .some(nil) }
    guard let ts = ev["timestamp"] as? NSNumber else { return nil }
    let conn = ev["connection"] as? [String: Any] ?? [:]
    guard let tx = jsonBytes(conn["tx"]), let rx = jsonBytes(conn["rx"]) else { return nil }
    let relayed: Bool
    if let path = conn["tunnel_path"] as? String {
        relayed = path != "direct"
    } else {
        relayed = !((ev["relays"] as? [Any]) ?? []).isEmpty
    }
    guard let e = commonEvent(ev, status: status, time: ts.int64Value, tx: tx ?? 0, rx: rx ?? 0, relayed: relayed) else { return nil }
    return .some(e)
}
