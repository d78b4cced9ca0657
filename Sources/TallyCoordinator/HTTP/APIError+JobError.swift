extension APIError {
    /// A refused job operation as the API answers it: `400` naming the field, `429` past the
    /// user's quota, `409` for a reused key or a job in the wrong state, `404`, `410` for an
    /// expired result.
    init(_ error: JobError) {
        switch error.kind {
        case .invalid: self.init(.badRequest, error.reason, field: error.field)
        case .tooManyActive: self.init(.tooManyRequests, error.reason)
        case .keyReused, .wrongState: self.init(.conflict, error.reason, field: error.field)
        case .notFound: self.init(.notFound, error.reason, field: error.field)
        case .resultExpired: self.init(.gone, error.reason, field: error.field)
        }
    }

    /// Runs a job operation, answering its refusal the API's way.
    static func mapping<T>(_ operation: () async throws -> T) async throws -> T {
        do {
            return try await operation()
        } catch let error as JobError {
            throw APIError(error)
        }
    }
}
