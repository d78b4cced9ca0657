import NIOSSL
import TallyServices

/// The coordinator's TLS certificate and key (`tls` in `tally.yaml`), PEM files read at start:
/// a file that cannot be read or does not hold what it should stops the start with its name.
public struct ServerCertificate: Sendable, Equatable {
    /// The certificate chain, the coordinator's own certificate first.
    public var certificatePath: String
    /// Its private key.
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }

    /// The server's TLS configuration (TLS 1.2 at least, NIO's default ciphers).
    func tlsConfiguration(configurationFile: String = "tally.yaml") throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw ConfigurationError(
                file: configurationFile, field: "tls.certificate", reason: "cannot read a PEM certificate from \(certificatePath): \(error)"
            )
        }
        guard !chain.isEmpty else {
            throw ConfigurationError(file: configurationFile, field: "tls.certificate", reason: "\(certificatePath) holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ConfigurationError(
                file: configurationFile, field: "tls.key", reason: "cannot read a PEM private key from \(keyPath): \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}
