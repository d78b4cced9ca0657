/// Selection of the k-th largest count, the threshold of a Misra–Gries reduction.
///
/// Quickselect with a three-way partition: counter values are heavily duplicated (long tails of
/// 1s and 2s), which a two-way partition handles in quadratic time. After a bounded number of
/// rounds it falls back to sorting the remaining range, so the worst case stays O(n log n).
@usableFromInline
enum KthLargest {
    /// The `k`-th largest element of `values` (1-based: `k == 1` is the maximum). Reorders
    /// `values`. Requires `1 <= k <= values.count`.
    @usableFromInline
    static func select(_ k: Int, in values: inout [UInt64]) -> UInt64 {
        precondition(k >= 1 && k <= values.count, "k out of range")
        return values.withUnsafeMutableBufferPointer { buffer in
            // Position of the answer if the buffer were sorted in descending order.
            let target = k - 1
            var low = 0
            var high = buffer.count - 1
            var roundsLeft = 2 * (Int.bitWidth - buffer.count.leadingZeroBitCount) + 4
            while low < high {
                if roundsLeft == 0 {
                    var remainder = UnsafeMutableBufferPointer(rebasing: buffer[low...high])
                    remainder.sort(by: >)
                    return buffer[target]
                }
                roundsLeft -= 1
                let pivot = medianOfThree(buffer[low], buffer[low + (high - low) / 2], buffer[high])
                // Invariant: [low, greater) > pivot, [greater, index) == pivot, (smaller, high] < pivot.
                var greater = low
                var index = low
                var smaller = high
                while index <= smaller {
                    let value = buffer[index]
                    if value > pivot {
                        buffer.swapAt(greater, index)
                        greater += 1
                        index += 1
                    } else if value < pivot {
                        buffer.swapAt(index, smaller)
                        smaller -= 1
                    } else {
                        index += 1
                    }
                }
                if target < greater {
                    high = greater - 1
                } else if target > smaller {
                    low = smaller + 1
                } else {
                    return pivot
                }
            }
            return buffer[target]
        }
    }

    private static func medianOfThree(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        max(min(a, b), min(max(a, b), c))
    }
}
