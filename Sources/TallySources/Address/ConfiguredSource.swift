import TallyFormats

/// A source as an operator configures it: where its logs are, and their format.
public struct ConfiguredSource: Sendable, Equatable {
    /// Where the logs are.
    public var address: SourceAddress
    /// How to read them.
    public var format: LogFormat

    /// A configured source.
    public init(address: SourceAddress, format: LogFormat = .auto) {
        self.address = address
        self.format = format
    }

    /// Opens it over its owner's client (see `LogSources.open`).
    public func open(client: SourceHTTPClient) throws -> any LogSource {
        try LogSources.open(address, client: client)
    }
}
