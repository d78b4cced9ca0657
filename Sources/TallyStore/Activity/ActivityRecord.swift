import TallyFormats
import TallyProtocol
import TallyReport

/// One authenticated API request, as the activity log keeps it (docs/design.md, "API activity
/// log"). Times are microseconds since the epoch, so what is written is exactly what was measured;
/// the log's text form truncates them to milliseconds.
package struct ActivityRecord: Sendable, Equatable {
    /// When the answer was ready (`_timestamp`).
    package var timestamp: Int64
    package var requestUUID: String
    /// When the request arrived (`request_ts`).
    package var requestTime: Int64
    package var user: String
    package var operation: String
    /// `secret` (a bearer secret), `token` (a web session made from one) or `none` (a
    /// coordinator without tokens, loopback only).
    package var authType: String
    /// The secret's last 4 characters.
    package var authFingerprint: String
    /// When the secret expires; nil for one that never does.
    package var authValidity: Int64?
    /// This deployment's id.
    package var account: String
    package var role: String
    package var status: Int
    package var durationMicros: Int64
    /// JSON objects: the path parameters, the query parameters, the `X-Tally-Context` header.
    package var resources: String
    package var params: String
    package var dict: String

    /// A value with every field given.
    package init(
        timestamp: Int64, requestUUID: String, requestTime: Int64, user: String, operation: String, authType: String,
        authFingerprint: String, authValidity: Int64? = nil, account: String, role: String, status: Int, durationMicros: Int64,
        resources: String, params: String, dict: String
    ) {
        self.timestamp = timestamp
        self.requestUUID = requestUUID
        self.requestTime = requestTime
        self.user = user
        self.operation = operation
        self.authType = authType
        self.authFingerprint = authFingerprint
        self.authValidity = authValidity
        self.account = account
        self.role = role
        self.status = status
        self.durationMicros = durationMicros
        self.resources = resources
        self.params = params
        self.dict = dict
    }

    /// The column names, in the order every export writes them.
    package static let columns = [
        "_timestamp", "request_uuid", "request_ts", "user", "operation", "auth_type", "auth_fingerprint",
        "auth_validity", "account", "role", "status", "duration", "resources", "params", "dict",
    ]

    /// The values in column order, as text.
    package var fields: [String] {
        [
            CivilTime.rfc3339Millis(micros: timestamp), requestUUID, Self.seconds(requestTime), user, operation, authType, authFingerprint,
            authValidity.map { Self.seconds($0) } ?? "", account, role, String(status), Self.seconds(durationMicros, unit: 1000),
            resources, params, dict,
        ]
    }

    /// One RFC 4180 line (CRLF-terminated): fields holding a comma, quote or line break are quoted.
    package var csvLine: String {
        var out: [UInt8] = []
        for (i, field) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            CSVField.append(field.utf8, to: &out)
        }
        out.append(contentsOf: [0x0D, 0x0A])
        return String(decoding: out, as: UTF8.self)
    }

    /// The CSV header line.
    package static var csvHeader: String { columns.joined(separator: ",") + "\r\n" }

    /// One NDJSON line: the columns as keys; numbers as numbers, the three JSON columns as objects.
    package var ndjsonLine: String {
        let f = fields
        var out = "{"
        for (i, column) in Self.columns.enumerated() {
            if i > 0 { out += "," }
            out += column.jsonLiteral + ":"
            switch column {
            case "request_ts", "status", "duration": out += f[i]
            case "auth_validity": out += f[i].isEmpty ? "null" : f[i]
            case "resources", "params", "dict": out += f[i]
            default: out += f[i].jsonLiteral
            }
        }
        return out + "}\n"
    }

    /// Microseconds as decimal seconds (`unit` 1,000,000) or milliseconds (`unit` 1,000) with
    /// three decimals, truncated.
    package static func seconds(_ micros: Int64, unit: Int64 = 1_000_000) -> String {
        let perThousandth = unit / 1000
        let thousandths = micros >= 0 ? micros / perThousandth : -((-micros + perThousandth - 1) / perThousandth)
        let whole = thousandths >= 0 ? thousandths / 1000 : -((-thousandths + 999) / 1000)
        let fraction = thousandths - whole * 1000
        let digits = String(fraction)
        return String(whole) + "." + String(repeating: "0", count: 3 - digits.count) + digits
    }
}
