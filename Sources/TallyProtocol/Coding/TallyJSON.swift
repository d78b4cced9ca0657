import Foundation

/// The JSON coding every tally HTTP exchange uses: snake_case keys, so property `leaseId` is
/// `lease_id` on the wire for any client.
public enum TallyJSON {
    /// An encoder with tally's conventions.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    /// A decoder with tally's conventions.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
