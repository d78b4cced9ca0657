import TallyProtocol

extension ScheduleRequest {
    /// The request as a store gives it back, in whichever database it is kept: no targets reads
    /// as nil, whether it was saved with nil or with an empty list (neither leaves a target row).
    package var asStored: ScheduleRequest {
        var stored = self
        if stored.notify?.isEmpty == true { stored.notify = nil }
        return stored
    }
}
