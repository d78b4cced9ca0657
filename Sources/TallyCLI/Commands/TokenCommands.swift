import ArgumentParser
import Foundation
import TallyClient
import TallyCoordinator
import TallyProtocol

/// `tally token create|list|revoke`: on a coordinator's data directory (`--data-dir`, also while
/// it runs: how the first admin token is made) or through the API with an admin token.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke access tokens.",
        subcommands: [Create.self, List.self, Revoke.self, Trust.self, Generate.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; prints its secret, alone on one line, this once.")

        @OptionGroup var target: AdministrationTarget

        @Option(help: "admin, reporter, worker or monitor.")
        var role: String

        @Option(help: "The user the token acts for.")
        var user: String

        @Option(help: "Days until it expires (default: never).")
        var expiresDays: Double?

        @Flag(
            help:
                "For a worker token: the partials its workers commit may enter the shard cache and serve other jobs (docs/security.md). Give it only to workers you run yourself."
        )
        var trusted = false

        @Option(
            help:
                "Take the secret from this file (from `tally token generate`) instead of making one; with --data-dir only. Running the same import again changes nothing."
        )
        var secretFile: String?

        func validate() throws {
            guard secretFile == nil || target.dataDir != nil else { throw ValidationError("--secret-file needs --data-dir") }
        }

        func run() async throws {
            guard let role = Role(rawValue: role) else {
                throw ValidationError("--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let request = TokenRequest(user: user, role: role, expiresDays: expiresDays, trusted: trusted ? true : nil)
            let imported = try secretFile.map { try SecretFile.read($0, option: "--secret-file") }
            let token = try await target.run(
                local: { try await TokenAdministration(dataDirectory: $0, store: $1).create(request, secret: imported) },
                remote: { try await TokenAPIClient($0).create(request) })
            FileHandle.standardError.write(
                Data(
                    "tally: token \(token.id) for \(token.user) (\(token.role.rawValue))\(token.expiresAt.map { ", expires \($0)" } ?? ""); keep the secret, it is not shown again\n"
                        .utf8))
            if imported == nil { print(token.secret ?? "") }
        }
    }

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print a fresh secret without storing it, for `tally token create --secret-file` (deployments that keep secrets elsewhere)."
        )

        func run() async throws {
            print(TokenAdministration.generateSecret())
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")

        @OptionGroup var target: AdministrationTarget

        func run() async throws {
            let tokens = try await target.run(
                local: { try await TokenAdministration(dataDirectory: $0, store: $1).list() },
                remote: { try await TokenAPIClient($0).list() })
            print("id\tuser\trole\tsecret\tcreated\texpires\trevoked\ttrusted")
            for t in tokens {
                print(
                    [
                        t.id, t.user, t.role.rawValue, "…" + t.fingerprint, t.createdAt, t.expiresAt ?? "never", t.revokedAt ?? "-",
                        t.trusted.map { $0 ? "yes" : "no" } ?? "-",
                    ].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: it stops working at once.")

        @OptionGroup var target: AdministrationTarget

        @Argument(help: "The token's id (from `tally token list`).")
        var id: String

        func run() async throws {
            let id = self.id
            let found = try await target.run(
                local: { try await TokenAdministration(dataDirectory: $0, store: $1).revoke(id) },
                remote: {
                    try await TokenAPIClient($0).revoke(id)
                    return true
                })
            guard found else { throw ValidationError("no token '\(id)'") }
        }
    }

    struct Trust: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Mark a worker token trusted (its partials may enter the shard cache) or, with --no, no longer trusted (no shard it produced is reused again)."
        )

        @Option(help: "The coordinator's data directory (this change is made there, also while it runs).")
        var dataDir: String

        @Option(help: "The replicas' shared PostgreSQL store instead: postgres://USER@HOST:PORT/DATABASE.")
        var store: String?

        @Option(help: "The file holding the --store database's password.")
        var storePasswordFile: String?

        @Flag(name: .customLong("no"), help: "Withdraw the trust instead.")
        var withdraw = false

        @Argument(help: "The worker token's id (from `tally token list`).")
        var id: String

        func run() async throws {
            let location = store.map { StoreLocation.postgres(url: $0, passwordFile: storePasswordFile) } ?? .sqlite
            guard try await TokenAdministration(dataDirectory: dataDir, store: location).setTrusted(id, !withdraw) else {
                throw ValidationError("no token '\(id)'")
            }
        }
    }
}
