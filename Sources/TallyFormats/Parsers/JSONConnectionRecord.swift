/// The fields of a Twingate JSON connection record that the report reads, located in one
/// validating pass over the line.
///
/// S3 sync events (`{"event_type":…,"event":{…}}`) and Connector analytics records share most
/// of their body (`connection`, `relays`, `device`, `user`, `service_account`), so both
/// parsers fill this one structure and differ only in where the body sits and which of
/// `time`/`timestamp`, `status`/`event_type`, `bytes_*`/`rx`/`tx` they read afterwards.
@usableFromInline
struct JSONConnectionRecord {
    @usableFromInline var eventType = JSONField.absent
    @usableFromInline var time = JSONField.absent
    @usableFromInline var timestamp = JSONField.absent
    @usableFromInline var status = JSONField.absent
    @usableFromInline var clientIP = JSONField.absent
    @usableFromInline var bytesReceived = JSONField.absent
    @usableFromInline var bytesTransferred = JSONField.absent
    @usableFromInline var rx = JSONField.absent
    @usableFromInline var tx = JSONField.absent
    @usableFromInline var errorMessage = JSONField.absent
    @usableFromInline var tunnelPath = JSONField.absent
    @usableFromInline var deviceID = JSONField.absent
    @usableFromInline var userEmail = JSONField.absent
    @usableFromInline var transport = JSONField.absent
    /// `connection.resource_ip` (analytics) and `resource.ip` (S3): where each format keeps the
    /// address a connection reached when it has no domain.
    @usableFromInline var connectionResourceIP = JSONField.absent
    @usableFromInline var resourceIP = JSONField.absent
    @usableFromInline var resourceID = JSONField.absent
    @usableFromInline var resourceAddress = JSONField.absent
    @usableFromInline var appliedRule = JSONField.absent
    @usableFromInline var networkID = JSONField.absent
    @usableFromInline var networkName = JSONField.absent
    /// Whether the body has a `user` key, and a `service_account` key (whatever their values):
    /// an event without a user email is a service account's when either is there (design §1.2).
    @usableFromInline var hasUser = false
    @usableFromInline var hasServiceAccount = false
    /// Number of entries of `relays`; -1 when the key is absent.
    @usableFromInline var relayCount = -1
    /// Whether an `event` object was found (the S3 wrapper).
    @usableFromInline var hasEventBody = false

    @inlinable init() {}

    /// Which keys of the object being walked are captured.
    @usableFromInline
    enum Level { case s3Wrapper, body, connection, device, user, resource, remoteNetwork }

    /// Walks the object at the scanner's position, capturing the keys that `level` names and
    /// validating (and skipping) every other value. Returns false when the JSON is invalid.
    @inlinable
    mutating func scan(_ scanner: inout JSONScanner, level: Level, keys: JSONStringDecoder) -> Bool {
        var iteration = JSONScanner.ObjectIteration()
        while let rawKey = scanner.nextKey(&iteration) {
            guard let key = keys.text(of: rawKey) else { return false }
            var handled = true
            switch level {
            case .s3Wrapper:
                if ByteScanning.equals(key, "event_type") {
                    guard let v = scanner.scanValue() else { return false }
                    eventType = v
                } else if ByteScanning.equals(key, "event") {
                    scanner.skipWhitespace()
                    if scanner.peek() == UInt8(ascii: "{") {
                        hasEventBody = true
                        guard scan(&scanner, level: .body, keys: keys) else { return false }
                    } else {
                        handled = false
                    }
                } else {
                    handled = false
                }
            case .body:
                switch scanBodyKey(key, &scanner, keys: keys) {
                case .captured: handled = true
                case .notCaptured: handled = false
                case .invalid: return false
                }
            case .connection:
                if ByteScanning.equals(key, "client_ip") {
                    guard let v = scanner.scanValue() else { return false }
                    clientIP = v
                } else if ByteScanning.equals(key, "bytes_received") {
                    guard let v = scanner.scanValue() else { return false }
                    bytesReceived = v
                } else if ByteScanning.equals(key, "bytes_transferred") {
                    guard let v = scanner.scanValue() else { return false }
                    bytesTransferred = v
                } else if ByteScanning.equals(key, "rx") {
                    guard let v = scanner.scanValue() else { return false }
                    rx = v
                } else if ByteScanning.equals(key, "tx") {
                    guard let v = scanner.scanValue() else { return false }
                    tx = v
                } else if ByteScanning.equals(key, "error_message") {
                    guard let v = scanner.scanValue() else { return false }
                    errorMessage = v
                } else if ByteScanning.equals(key, "tunnel_path") {
                    guard let v = scanner.scanValue() else { return false }
                    tunnelPath = v
                } else if ByteScanning.equals(key, "protocol") {
                    guard let v = scanner.scanValue() else { return false }
                    transport = v
                } else if ByteScanning.equals(key, "resource_ip") {
                    guard let v = scanner.scanValue() else { return false }
                    connectionResourceIP = v
                } else {
                    handled = false
                }
            case .device:
                if ByteScanning.equals(key, "id") {
                    guard let v = scanner.scanValue() else { return false }
                    deviceID = v
                } else {
                    handled = false
                }
            case .user:
                if ByteScanning.equals(key, "email") {
                    guard let v = scanner.scanValue() else { return false }
                    userEmail = v
                } else {
                    handled = false
                }
            case .resource:
                if ByteScanning.equals(key, "id") {
                    guard let v = scanner.scanValue() else { return false }
                    resourceID = v
                } else if ByteScanning.equals(key, "address") {
                    guard let v = scanner.scanValue() else { return false }
                    resourceAddress = v
                } else if ByteScanning.equals(key, "applied_rule") {
                    guard let v = scanner.scanValue() else { return false }
                    appliedRule = v
                } else if ByteScanning.equals(key, "ip") {
                    guard let v = scanner.scanValue() else { return false }
                    resourceIP = v
                } else {
                    handled = false
                }
            case .remoteNetwork:
                if ByteScanning.equals(key, "id") {
                    guard let v = scanner.scanValue() else { return false }
                    networkID = v
                } else if ByteScanning.equals(key, "name") {
                    guard let v = scanner.scanValue() else { return false }
                    networkName = v
                } else {
                    handled = false
                }
            }
            if !handled {
                guard scanner.scanValue() != nil else { return false }
            }
        }
        return iteration.valid
    }

    /// What became of one key's value.
    @usableFromInline
    enum KeyScan { case captured, notCaptured, invalid }

    /// Captures one key of an event body. `.notCaptured` leaves the value unread for the caller
    /// to skip: the key is not one the report reads, or its value is not the expected container.
    @inlinable
    mutating func scanBodyKey(_ key: UnsafeRawBufferPointer, _ scanner: inout JSONScanner, keys: JSONStringDecoder) -> KeyScan {
        switch key.count {
        case 4 where ByteScanning.equals(key, "time"):
            guard let v = scanner.scanValue() else { return .invalid }
            time = v
        case 6 where ByteScanning.equals(key, "status"):
            guard let v = scanner.scanValue() else { return .invalid }
            status = v
        case 9 where ByteScanning.equals(key, "timestamp"):
            guard let v = scanner.scanValue() else { return .invalid }
            timestamp = v
        case 10 where ByteScanning.equals(key, "event_type"):
            guard let v = scanner.scanValue() else { return .invalid }
            eventType = v
        case 6 where ByteScanning.equals(key, "relays"):
            scanner.skipWhitespace()
            guard scanner.peek() == UInt8(ascii: "[") else { return .notCaptured }
            var iteration = JSONScanner.ArrayIteration()
            while scanner.nextElement(&iteration) {
                guard scanner.scanValue() != nil else { return .invalid }
            }
            guard iteration.valid else { return .invalid }
            relayCount = iteration.count
        case 10 where ByteScanning.equals(key, "connection"):
            return scanChild(.connection, &scanner, keys: keys)
        case 6 where ByteScanning.equals(key, "device"):
            return scanChild(.device, &scanner, keys: keys)
        case 8 where ByteScanning.equals(key, "resource"):
            return scanChild(.resource, &scanner, keys: keys)
        case 14 where ByteScanning.equals(key, "remote_network"):
            return scanChild(.remoteNetwork, &scanner, keys: keys)
        case 4 where ByteScanning.equals(key, "user"):
            hasUser = true
            return scanChild(.user, &scanner, keys: keys)
        case 15 where ByteScanning.equals(key, "service_account"):
            guard scanner.scanValue() != nil else { return .invalid }
            hasServiceAccount = true
        default:
            return .notCaptured
        }
        return .captured
    }

    @inlinable
    mutating func scanChild(_ level: Level, _ scanner: inout JSONScanner, keys: JSONStringDecoder) -> KeyScan {
        scanner.skipWhitespace()
        guard scanner.peek() == UInt8(ascii: "{") else { return .notCaptured }
        return scan(&scanner, level: level, keys: keys) ? .captured : .invalid
    }
}

extension JSONConnectionRecord {
    /// The parts that differ between the two JSON formats, already read from the record.
    @usableFromInline
    struct FormatView {
        @usableFromInline var status: JSONField
        @usableFromInline var time: Int64?
        @usableFromInline var timePresent: Bool
        @usableFromInline var transferred: JSONField
        @usableFromInline var received: JSONField
        @usableFromInline var relayed: Bool
        /// Where the format keeps the address reached when there is no domain.
        @usableFromInline var resourceIP: JSONField

        @inlinable
        init(
            status: JSONField, time: Int64?, timePresent: Bool, transferred: JSONField, received: JSONField, relayed: Bool,
            resourceIP: JSONField
        ) {
            self.resourceIP = resourceIP
            self.status = status
            self.time = time
            self.timePresent = timePresent
            self.transferred = transferred
            self.received = received
            self.relayed = relayed
        }
    }

    /// Turns a scanned record into an event, applying the rules of docs/design.md §1.2 shared by both JSON
    /// formats: which statuses end a connection, what a DNS failure is, which fields must be
    /// present, and how byte counts are read.
    @inlinable
    func fill(_ event: inout ConnectionEvent, _ view: FormatView, text: JSONStringDecoder, resources: Bool) -> LineVerdict {
        guard view.status.kind == .string, let status = text.text(of: view.status) else {
            return .malformed(.missingField)
        }
        let outcome: ConnectionOutcome
        if ByteScanning.equals(status, "closed_connection") {
            outcome = .success
        } else if ByteScanning.equals(status, "failed_to_connect") || ByteScanning.equals(status, "denied_access") {
            if errorMessage.kind == .string, let message = text.text(of: errorMessage), ByteScanning.equals(message, "DNS_ERROR") {
                outcome = .dnsFailure
            } else {
                outcome = .otherFailure
            }
        } else {
            return .notAnEvent
        }
        guard let time = view.time else {
            return .malformed(view.timePresent ? .badTimestamp : .missingField)
        }
        var email = UnsafeRawBufferPointer(start: nil, count: 0)
        if userEmail.kind == .string {
            guard let decoded = text.text(of: userEmail) else { return .malformed(.badJSON) }
            email = decoded
        }
        guard !email.isEmpty || hasUser || hasServiceAccount else { return .malformed(.missingField) }
        guard let transferred = Self.byteCount(view.transferred), let received = Self.byteCount(view.received) else {
            return .malformed(.badByteCount)
        }
        event.time = time
        event.outcome = outcome
        event.user = email
        event.bytesTransferred = transferred
        event.bytesReceived = received
        event.relayed = view.relayed
        event.clientIP = Self.scalarText(clientIP, text) ?? .init(start: nil, count: 0)
        event.device = Self.scalarText(deviceID, text) ?? .init(start: nil, count: 0)
        guard resources else { return .event }
        event.resourceID = Self.scalarText(resourceID, text) ?? .init(start: nil, count: 0)
        event.resourceRule = Self.scalarText(appliedRule, text) ?? .init(start: nil, count: 0)
        let domain = Self.scalarText(resourceAddress, text) ?? .init(start: nil, count: 0)
        event.addressReached = domain.isEmpty ? Self.scalarText(view.resourceIP, text) ?? .init(start: nil, count: 0) : domain
        event.network = Self.scalarText(networkName, text) ?? .init(start: nil, count: 0)
        event.networkID = Self.scalarText(networkID, text) ?? .init(start: nil, count: 0)
        event.transport = Self.scalarText(transport, text) ?? .init(start: nil, count: 0)
        return .event
    }

    /// A byte count: absent or `null` is 0; otherwise a non-negative JSON integer.
    @inlinable
    static func byteCount(_ field: JSONField) -> UInt64? {
        switch field.kind {
        case .absent, .null: return 0
        case .number: return ByteScanning.parseUInt64(field.bytes)
        default: return nil
        }
    }

    /// The text of a string or number field (ids may be written either way).
    @inlinable
    static func scalarText(_ field: JSONField, _ text: JSONStringDecoder) -> UnsafeRawBufferPointer? {
        switch field.kind {
        case .string: return text.text(of: field)
        case .number: return field.bytes
        default: return nil
        }
    }
}
