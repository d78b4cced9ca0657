/// A store that cannot be read as expected: a row no release of tally writes, a migration that
/// meets data it cannot convert. The reason names the row.
package struct StoreError: Error, CustomStringConvertible, Sendable {
    package var reason: String

    package init(_ reason: String) {
        self.reason = reason
    }

    package var description: String { reason }
}
