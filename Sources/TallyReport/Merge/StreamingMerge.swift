import TallySketches

/// A partial's users in email order, one at a time: read from memory (`UserList`), or block by
/// block from a partial file by its owner (the engine does no I/O).
///
/// A user comes in two steps, its email then its aggregates, so a merge can fold a user's
/// aggregates from a partial's bytes straight into the same user from earlier partials without
/// building them (`mergeUser`).
public protocol UserStream {
    /// The next user's email, the stream positioned at its aggregates; nil after the last.
    mutating func nextEmail() throws -> [UInt8]?
    /// The aggregates of the user whose email `nextEmail` gave.
    mutating func takeUser(email: [UInt8]) throws -> RowAggregate
    /// Folds the aggregates of the user whose email `nextEmail` gave into `user`.
    mutating func mergeUser(into user: inout RowAggregate) throws
}

extension UserStream {
    /// The next whole user; nil after the last.
    public mutating func next() throws -> RowAggregate? {
        guard let email = try nextEmail() else { return nil }
        return try takeUser(email: email)
    }
}

/// Users already in memory, as a stream.
public struct UserList: UserStream {
    private var users: [RowAggregate]
    private var position = 0

    public init(_ users: [RowAggregate]) {
        self.users = users
    }

    public func nextEmail() -> [UInt8]? {
        position < users.count ? users[position].key : nil
    }

    public mutating func takeUser(email: [UInt8]) -> RowAggregate {
        defer { position += 1 }
        return users[position]
    }

    public mutating func mergeUser(into user: inout RowAggregate) {
        user.merge(users[position])
        position += 1
    }
}

/// Merges the partials of a plan user by user, in email order, holding one email per partial and
/// the user being merged (docs/design.md §3.8): a report that does not fit in memory is still merged, and its rows
/// can be written as they come. The bytes are `ReportMerger`'s: each user's entries are folded
/// in plan order (stream order), which is what merging whole partials in plan order does to
/// each user.
public struct StreamingMerge<Stream: UserStream> {
    private var streams: [Stream]
    /// Each stream's next email, by stream index; its aggregates are read only when merged.
    private var heads: [[UInt8]?]
    /// Stream indexes ordered by their head's email, then by index (a binary min-heap).
    private var heap: [Int] = []

    /// A merge of `streams`, given in plan order.
    public init(streams: [Stream]) throws {
        self.streams = streams
        heads = Array(repeating: nil, count: streams.count)
        for i in streams.indices {
            heads[i] = try self.streams[i].nextEmail()
            if heads[i] != nil { push(i) }
        }
    }

    /// The next user of the report, every partial's entries for it folded in plan order; nil
    /// after the last. A stream out of email order throws.
    public mutating func next() throws -> RowAggregate? {
        guard let first = pop() else { return nil }
        let email = heads[first]!
        var user = try streams[first].takeUser(email: email)
        try advance(first)
        // Equal emails come off the heap in stream order: fold them in that order, from their
        // bytes (no second user built).
        while let top = heap.first, heads[top]! == email {
            _ = pop()
            try streams[top].mergeUser(into: &user)
            try advance(top)
        }
        return user
    }

    private mutating func advance(_ i: Int) throws {
        let previous = heads[i]!
        heads[i] = try streams[i].nextEmail()
        guard let head = heads[i] else { return }
        guard ByteStringOrder.compare(previous, head) < 0 else {
            throw SketchDecodingError(.invalidValue("users not in strictly increasing email order"))
        }
        push(i)
    }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        let order = ByteStringOrder.compare(heads[a]!, heads[b]!)
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
