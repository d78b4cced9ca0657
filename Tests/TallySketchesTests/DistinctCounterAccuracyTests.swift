import TallySketches
import Testing

@Suite struct DistinctCounterAccuracyTests {
    /// Inserts the hashes of 0..<1,000,000 (as 8 little-endian bytes) and checks the estimate at
    /// several cardinalities against 3 standard errors. The small checkpoints exercise the range
    /// where the classic estimator needs linear counting and bias tables and Ertl's does not.
    @Test func estimatesStayWithinThreeStandardErrors() {
        let checkpoints: Set<UInt64> = [5_000, 20_000, 100_000, 1_000_000]
        var counter = DistinctCounter()
        for value in 0..<UInt64(1_000_000) {
            counter.insert(hash: hashOfInteger(value))
            let seen = value + 1
            if checkpoints.contains(seen) {
                let tolerance = 3 * DistinctCounter.relativeStandardError * Double(seen)
                let error = abs(Double(counter.count) - Double(seen))
                #expect(error <= tolerance, "estimated \(counter.count) for \(seen)")
            }
        }
    }

    @Test func mergedPartitionsMatchTheWhole() {
        // Ten disjoint partitions of 200,000 values merged together: same registers as inserting
        // everything into one counter, and the estimate is within 3 standard errors.
        var merged = DistinctCounter()
        var whole = DistinctCounter()
        for partition in 0..<UInt64(10) {
            var part = DistinctCounter()
            for value in (partition * 20_000)..<((partition + 1) * 20_000) {
                let hash = hashOfInteger(value + 5_000_000)
                part.insert(hash: hash)
                whole.insert(hash: hash)
            }
            merged.merge(part)
        }
        #expect(merged == whole)
        #expect(abs(Double(merged.count) - 200_000) <= 3 * DistinctCounter.relativeStandardError * 200_000)
    }

    @Test func relativeStandardErrorMatchesPrecision() {
        #expect(DistinctCounter.precision == 14)
        #expect(abs(DistinctCounter.relativeStandardError - 1.04 / 128) < 1e-12)
    }
}
