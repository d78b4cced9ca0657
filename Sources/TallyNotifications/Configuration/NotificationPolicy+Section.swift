import TallyServices

extension NotificationPolicy {
    /// The `notifications:` section of tally.yaml as written (docs/operations.md).
    package struct Section: Decodable, Sendable {
        var retrySeconds: [Double]?
        var timeoutSeconds: Double?
        var targets: [TargetEntry]?
        var email: EmailEntry?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case targets, email
            case retrySeconds = "retry_seconds"
            case timeoutSeconds = "timeout_seconds"
        }

        struct EmailEntry: Decodable, Sendable {
            var server: String
            var port: Int?
            var sender: String
            var username: String?
            var password: String?
            var passwordFile: String?
            var caFile: String?
            var allowedDomains: [String]

            enum CodingKeys: String, CodingKey, CaseIterable {
                case server, port, sender, username, password
                case passwordFile = "password_file"
                case caFile = "ca_file"
                case allowedDomains = "allowed_domains"
            }
        }

        struct TargetEntry: Decodable, Sendable {
            var name: String
            var kind: String
            var url: String
            var secret: String?
            var secretFile: String?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case name, kind, url, secret
                case secretFile = "secret_file"
            }
        }

        /// The keys the section may hold.
        package static let keys = ConfigurationKeys.values(
            CodingKeys.self,
            except: [
                "targets": .list(.values(TargetEntry.CodingKeys.self)),
                "email": .values(EmailEntry.CodingKeys.self),
            ])
    }

    /// Applies the section; a problem names its field (`notifications.targets[2].url`).
    package mutating func apply(_ section: Section, _ context: ConfigurationContext) throws(ConfigurationError) {
        if let retry = section.retrySeconds {
            guard retry.count <= 20, retry.allSatisfy({ $0 > 0 && $0 <= 86_400 }) else {
                throw context.error("notifications.retry_seconds", "at most 20 pauses, each between 0 and 86400 seconds")
            }
            retrySeconds = retry
        }
        if let v = try context.checked(section.timeoutSeconds, "notifications.timeout_seconds", 1...120) {
            timeoutSeconds = v
        }
        if let entry = section.email {
            let password =
                try entry.passwordFile.map { path throws(ConfigurationError) in
                    try context.secret(in: path, "notifications.email.password_file")
                } ?? entry.password
            guard !entry.allowedDomains.isEmpty else {
                throw context.error("notifications.email.allowed_domains", "list the domains recipients may be in")
            }
            email = EmailSettings(
                server: entry.server, port: entry.port ?? 587, sender: entry.sender, username: entry.username, password: password,
                caFile: entry.caFile, allowedDomains: entry.allowedDomains)
        }
        for (i, entry) in (section.targets ?? []).enumerated() {
            let field = "notifications.targets[\(i)]"
            guard !entry.name.isEmpty, targets[entry.name] == nil else {
                throw context.error(field + ".name", "missing or duplicate target name '\(entry.name)'")
            }
            guard entry.kind == "webhook" else { throw context.error(field + ".kind", "must be webhook") }
            let secret =
                try entry.secretFile.map { path throws(ConfigurationError) in try context.secret(in: path, field + ".secret_file") }
                ?? entry.secret
            guard let secret else { throw context.error(field + ".secret", "a webhook needs secret or secret_file") }
            do {
                targets[entry.name] = try WebhookTarget(name: entry.name, url: entry.url, secret: secret)
            } catch {
                throw context.error(field, error.reason)
            }
        }
    }
}
