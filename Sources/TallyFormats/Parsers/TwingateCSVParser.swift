/// Parses Network Events CSV rows (`twingate-csv`), reading columns by header name.
///
/// The header is the first record that names a `start_time` column (rows before it are
/// malformed), and any later such record (files concatenated with their headers) replaces it.
/// Quoted cells (RFC 4180) may hold commas, doubled quotes and line ends; the record splitter
/// keeps a quoted line end inside its record.
public struct TwingateCSVParser: LineParser {
    /// Cell boundaries of the current record, one array (one append per cell, not three).
    @usableFromInline var cells: [Cell] = []
    @usableFromInline var header: Header?
    @usableFromInline let unquoted = JSONStringDecoder()

    /// One cell: its bytes are `line[start..<end]` (quotes removed); `escaped` when doubled
    /// quotes inside still need undoing.
    @usableFromInline
    struct Cell {
        /// Offset of the first content byte (after an opening quote).
        @usableFromInline var start: Int
        /// Offset just past the last content byte (at a closing quote or the comma).
        @usableFromInline var end: Int
        /// Whether doubled quotes inside still need undoing.
        @usableFromInline var escaped: Bool

        @inlinable
        init(start: Int, end: Int, escaped: Bool) {
            self.start = start
            self.end = end
            self.escaped = escaped
        }
    }

    /// Column positions of the cells the report reads; -1 for an absent optional column.
    @usableFromInline
    struct Header {
        @usableFromInline var fieldCount = 0
        @usableFromInline var startTime = -1
        @usableFromInline var user = -1
        @usableFromInline var status = -1
        @usableFromInline var device = -1
        @usableFromInline var clientIP = -1
        @usableFromInline var bytesTransferred = -1
        @usableFromInline var bytesReceived = -1
        @usableFromInline var relays = -1
        @usableFromInline var resourceID = -1
        @usableFromInline var appliedRule = -1
        @usableFromInline var resourceDomain = -1
        @usableFromInline var resourceIP = -1
        @usableFromInline var remoteNetwork = -1
        @usableFromInline var remoteNetworkID = -1
        @usableFromInline var transport = -1
        @usableFromInline init() {}
        /// Whether every column the report cannot do without is present.
        @inlinable var isComplete: Bool { startTime >= 0 && user >= 0 && status >= 0 }
    }

    /// A parser expecting a header first.
    public init() {
        cells.reserveCapacity(32)
    }

    @inlinable
    public mutating func parse(_ line: UnsafeRawBufferPointer, into event: inout ConnectionEvent, resources: Bool) -> LineVerdict {
        if line.isEmpty { return .notAnEvent }
        guard split(line) else { return .malformed(.fieldCount) }
        guard let header else {
            guard isHeaderRecord(line) else { return .malformed(.missingHeader) }
            readHeader(line)
            return .notAnEvent
        }
        guard cells.count == header.fieldCount else {
            if isHeaderRecord(line) {
                readHeader(line)
                return .notAnEvent
            }
            return .malformed(.fieldCount)
        }
        guard header.isComplete else { return .malformed(.missingField) }
        unquoted.reset(forLineOfLength: line.count)
        let timeCell = cell(line, header.startTime)
        guard let time = EventTimestamp.parseCSV(timeCell) else {
            if ByteScanning.equals(timeCell, "start_time") {
                readHeader(line)
                return .notAnEvent
            }
            return timeCell.isEmpty ? .malformed(.missingField) : .malformed(.badTimestamp)
        }
        let status = cell(line, header.status)
        let outcome: ConnectionOutcome
        if ByteScanning.equals(status, "NORMAL") {
            outcome = .success
        } else if ByteScanning.equals(status, "DNS_ERROR") {
            outcome = .dnsFailure
        } else if status.isEmpty {
            return .malformed(.missingField)
        } else {
            outcome = .otherFailure
        }
        guard let transferred = byteCount(line, header.bytesTransferred),
            let received = byteCount(line, header.bytesReceived)
        else { return .malformed(.badByteCount) }
        event.time = time
        event.outcome = outcome
        event.bytesTransferred = transferred
        event.bytesReceived = received
        event.user = text(line, header.user)
        event.device = text(line, header.device)
        event.clientIP = text(line, header.clientIP)
        event.relayed = !cell(line, header.relays).isEmpty
        if resources {
            event.resourceID = text(line, header.resourceID)
            event.resourceRule = text(line, header.appliedRule)
            let domain = text(line, header.resourceDomain)
            event.addressReached = domain.isEmpty ? text(line, header.resourceIP) : domain
            event.network = text(line, header.remoteNetwork)
            event.networkID = text(line, header.remoteNetworkID)
            event.transport = text(line, header.transport)
        }
        return .event
    }

    /// Splits a record into cells; false when a quote is not closed or is followed by text.
    @inlinable
    mutating func split(_ line: UnsafeRawBufferPointer) -> Bool {
        cells.removeAll(keepingCapacity: true)
        let n = line.count
        guard n > 0 else {
            cells.append(Cell(start: 0, end: 0, escaped: false))
            return true
        }
        var i = 0
        while true {
            if i < n, line[i] == UInt8(ascii: "\"") {
                var j = i + 1
                var hasEscape = false
                while true {
                    guard j < n else { return false }
                    if line[j] == UInt8(ascii: "\"") {
                        if j + 1 < n, line[j + 1] == UInt8(ascii: "\"") {
                            hasEscape = true
                            j += 2
                            continue
                        }
                        break
                    }
                    j += 1
                }
                cells.append(Cell(start: i + 1, end: j, escaped: hasEscape))
                i = j + 1
                if i == n { return true }
                guard line[i] == UInt8(ascii: ",") else { return false }
                i += 1
            } else {
                let j = ByteScanning.firstIndex(of: UInt8(ascii: ","), in: line.baseAddress!, from: i, to: n)
                cells.append(Cell(start: i, end: j, escaped: false))
                if j == n { return true }
                i = j + 1
            }
        }
    }

    /// Raw cell bytes (quotes removed, doubled quotes not yet undone); empty when the column is absent.
    @inlinable
    func cell(_ line: UnsafeRawBufferPointer, _ column: Int) -> UnsafeRawBufferPointer {
        guard column >= 0 else { return .init(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: line[cells[column].start..<cells[column].end])
    }

    /// Cell text with doubled quotes undone.
    @inlinable
    func text(_ line: UnsafeRawBufferPointer, _ column: Int) -> UnsafeRawBufferPointer {
        let raw = cell(line, column)
        guard column >= 0, cells[column].escaped else { return raw }
        let out = unquoted.storage.baseAddress! + unquoted.used
        var o = 0
        var i = 0
        while i < raw.count {
            out.storeBytes(of: raw[i], toByteOffset: o, as: UInt8.self)
            o += 1
            i += raw[i] == UInt8(ascii: "\"") ? 2 : 1
        }
        unquoted.used += o
        return UnsafeRawBufferPointer(start: out, count: o)
    }

    /// An empty cell counts 0; otherwise a non-negative integer.
    @inlinable
    func byteCount(_ line: UnsafeRawBufferPointer, _ column: Int) -> UInt64? {
        let raw = ByteScanning.trimmed(cell(line, column))
        return raw.isEmpty ? 0 : ByteScanning.parseUInt64(raw)
    }

    @inlinable
    func isHeaderRecord(_ line: UnsafeRawBufferPointer) -> Bool {
        (0..<cells.count).contains { ByteScanning.equals(Self.withoutBOM(cell(line, $0)), "start_time") }
    }

    @inlinable
    static func withoutBOM(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            return UnsafeRawBufferPointer(rebasing: bytes[3...])
        }
        return bytes
    }

    @inlinable
    mutating func readHeader(_ line: UnsafeRawBufferPointer) {
        var h = Header()
        h.fieldCount = cells.count
        for column in 0..<cells.count {
            let name = Self.withoutBOM(ByteScanning.trimmed(cell(line, column)))
            if ByteScanning.equals(name, "start_time") {
                h.startTime = column
            } else if ByteScanning.equals(name, "user") {
                h.user = column
            } else if ByteScanning.equals(name, "status") {
                h.status = column
            } else if ByteScanning.equals(name, "device_id") {
                h.device = column
            } else if ByteScanning.equals(name, "client_ip") {
                h.clientIP = column
            } else if ByteScanning.equals(name, "bytes_transferred") {
                h.bytesTransferred = column
            } else if ByteScanning.equals(name, "bytes_received") {
                h.bytesReceived = column
            } else if ByteScanning.equals(name, "relays") {
                h.relays = column
            } else if ByteScanning.equals(name, "resource_id") {
                h.resourceID = column
            } else if ByteScanning.equals(name, "applied_rule") {
                h.appliedRule = column
            } else if ByteScanning.equals(name, "resource_domain") {
                h.resourceDomain = column
            } else if ByteScanning.equals(name, "resource_ip") {
                h.resourceIP = column
            } else if ByteScanning.equals(name, "remote_network") {
                h.remoteNetwork = column
            } else if ByteScanning.equals(name, "remote_network_id") {
                h.remoteNetworkID = column
            } else if ByteScanning.equals(name, "protocol") {
                h.transport = column
            }
        }
        header = h
    }
}
