/// A succeeded job's result as a file to send: where it is and what to call it.
struct ResultFile: Sendable, Equatable {
    /// The CSV, or its gzip copy.
    var path: String
    /// `tally-active-users-20261001T000000Z-20261101T000000Z.csv`: the name of the CSV (a
    /// download of the gzip copy as a file adds `.gz`).
    var csvName: String
}
