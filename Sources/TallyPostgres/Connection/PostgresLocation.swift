import Foundation
import PostgresNIO
import TallyStore

/// Where a PostgreSQL store lives, from `tally.yaml`'s `store: {kind: postgres, url: …, password_file: …}`:
/// `postgres://USER@HOST:PORT/DATABASE?schema=NAME&sslmode=disable|prefer|require`. The password
/// never sits in the URL a configuration file shows: it is read from `password_file` (or from
/// the URL's userinfo, for trials and tests).
package struct PostgresLocation: Sendable, Equatable {
    package var host: String
    package var port: Int
    package var user: String
    package var password: String?
    package var database: String
    /// The schema every table lives in (`public` unless the URL names one): several tally
    /// deployments, or the tests, can share one database.
    package var schema: String
    package var tls: TLSMode

    /// How the connection is encrypted.
    package enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    /// Parses `url`; `passwordFile`'s first line, when given, is the password.
    package init(url: String, passwordFile: String? = nil) throws {
        guard let parts = URLComponents(string: url), parts.scheme == "postgres" || parts.scheme == "postgresql" else {
            throw StoreError("store url '\(Self.redacted(url))' is not a postgres:// URL")
        }
        guard let host = parts.host, !host.isEmpty else { throw StoreError("store url '\(Self.redacted(url))' names no host") }
        self.host = host
        port = parts.port ?? 5432
        user = parts.user ?? "tally"
        password = parts.password
        let path = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        database = path.isEmpty ? user : path
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        schema = query["schema"] ?? "public"
        guard Self.isIdentifier(schema) else {
            throw StoreError("store url: schema '\(schema)' must be letters, digits and underscores, not starting with a digit")
        }
        guard let tls = TLSMode(rawValue: query["sslmode"] ?? "prefer") else {
            throw StoreError("store url: sslmode '\(query["sslmode"] ?? "")' is not one of disable, prefer, require")
        }
        self.tls = tls
        if let passwordFile {
            do {
                let text = try String(contentsOfFile: passwordFile, encoding: .utf8)
                password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
            } catch {
                throw StoreError("store password_file '\(passwordFile)' cannot be read: \(error.localizedDescription)")
            }
        }
    }

    /// The same place with another schema (the tests give each store its own).
    package func withSchema(_ schema: String) -> PostgresLocation {
        var copy = self
        copy.schema = schema
        return copy
    }

    /// The URL without its password, for messages and logs.
    package var description: String { "postgres://\(user)@\(host):\(port)/\(database)?schema=\(schema)" }

    /// The client's configuration: a pool of `maxConnections`.
    func clientConfiguration(maxConnections: Int) -> PostgresClient.Configuration {
        let tlsSetting: PostgresClient.Configuration.TLS
        switch tls {
        case .disable: tlsSetting = .disable
        case .prefer: tlsSetting = .prefer(.makeClientConfiguration())
        case .require: tlsSetting = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tlsSetting)
        configuration.options.maximumConnections = maxConnections
        configuration.options.connectTimeout = .seconds(5)
        // Every statement names its tables unqualified: the schema is each connection's search path.
        // A replica stopped (SIGSTOP, a frozen VM) inside a transaction holds its job's lock: the
        // server ends such a session after 15 s, so the others go on and its late commit fails.
        configuration.options.additionalStartupParameters = [
            ("search_path", schema), ("idle_in_transaction_session_timeout", "15000"), ("lock_timeout", "30000"),
        ]
        return configuration
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.utf8.first, !(48...57).contains(first), text.utf8.count <= 63 else { return false }
        return text.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 95 }
    }

    private static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "…"
        return parts.string ?? "postgres://…"
    }
}
