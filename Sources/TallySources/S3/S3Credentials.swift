import Foundation

/// The AWS credentials an S3 source signs its requests with.
///
/// The description never shows the secret, so a source or an error may be printed safely.
public struct S3Credentials: Sendable, Equatable, CustomStringConvertible {
    /// The access key ID (`AKIA…`, or `ASIA…` for temporary credentials).
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: String
    /// The session token of temporary credentials (STS, SSO, instance roles).
    public var sessionToken: String?

    /// Credentials from their parts; an empty session token counts as none.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken?.isEmpty == false ? sessionToken : nil
    }

    /// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, when set,
    /// `AWS_SESSION_TOKEN`; a missing or empty variable is an error naming it.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> S3Credentials {
        func required(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw SourceError(
                    .invalidLocation, location: "environment",
                    detail:
                        "\(name) is not set; S3 sources take their credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (for temporary credentials) AWS_SESSION_TOKEN"
                )
            }
            return value
        }
        return S3Credentials(
            accessKeyID: try required("AWS_ACCESS_KEY_ID"),
            secretAccessKey: try required("AWS_SECRET_ACCESS_KEY"),
            sessionToken: environment["AWS_SESSION_TOKEN"]
        )
    }

    /// The access key ID, with the secret and the token redacted.
    public var description: String {
        "S3Credentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>\(sessionToken == nil ? "" : ", sessionToken: <redacted>"))"
    }
}
