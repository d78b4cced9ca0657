import TallySketches

/// A partial's users in email order, one at a time: read from memory (`UserList`), or block by
/// block from a partial file by its owner (the engine does no I/O).
public protocol UserStream {
    /// The next user; nil after the last.
    mutating func next() throws -> UserAggregate?
}

/// Users already in memory, as a stream.
public struct UserList: UserStream {
    private var users: [UserAggregate]
    private var position = 0

    public init(_ users: [UserAggregate]) {
        self.users = users
    }

    public mutating func next() -> UserAggregate? {
        guard position < users.count else { return nil }
        defer { position += 1 }
        return users[position]
    }
}

/// Merges the partials of a plan user by user, in email order, holding one user per partial
/// (docs/design.md §3.8): a report that does not fit in memory is still merged, and its rows
/// can be written as they come. The bytes are `ReportMerger`'s: each user's entries are folded
/// in plan order (stream order), which is what merging whole partials in plan order does to
/// each user.
public struct StreamingMerge<Stream: UserStream> {
    private var streams: [Stream]
    /// Each stream's next user, by stream index.
    private var heads: [UserAggregate?]
    /// Stream indexes ordered by their head's email, then by index (a binary min-heap).
    private var heap: [Int] = []

    /// A merge of `streams`, given in plan order.
    public init(streams: [Stream]) throws {
        self.streams = streams
        heads = Array(repeating: nil, count: streams.count)
        for i in streams.indices {
            heads[i] = try self.streams[i].next()
            if heads[i] != nil { push(i) }
        }
    }

    /// The next user of the report, every partial's entries for it folded in plan order; nil
    /// after the last. A stream out of email order throws.
    public mutating func next() throws -> UserAggregate? {
        guard let first = pop() else { return nil }
        var user = heads[first]!
        try advance(first)
        // Equal emails come off the heap in stream order: fold them in that order.
        while let top = heap.first, heads[top]!.email == user.email {
            _ = pop()
            user.merge(heads[top]!)
            try advance(top)
        }
        return user
    }

    private mutating func advance(_ i: Int) throws {
        let previous = heads[i]!.email
        heads[i] = try streams[i].next()
        guard let head = heads[i] else { return }
        guard ByteStringOrder.compare(previous, head.email) < 0 else {
            throw SketchDecodingError(.invalidValue("users not in strictly increasing email order"))
        }
        push(i)
    }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        let order = ByteStringOrder.compare(heads[a]!.email, heads[b]!.email)
        return order < 0 || (order == 0 && a < b)
    }

    private mutating func push(_ i: Int) {
        heap.append(i)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() -> Int? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        guard !heap.isEmpty else { return top }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, precedes(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, precedes(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { return top }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
