#if canImport(Glibc)
    import Glibc
#endif

/// How the long-running processes (coordinator, worker) use the C allocator.
enum ProcessMemory {
    /// Keeps blocks of 1 MiB and more in their own mappings, returned to the system when freed.
    ///
    /// glibc raises its mmap threshold to the size of each mapped block freed (up to 32 MiB), so
    /// after the first few uploads or partials, blocks of that size come from the heap arenas and
    /// stay resident after they are freed: a coordinator checking partials of 30 MB peaked 50 %
    /// higher from one run to the next (docs/performance.md). A fixed threshold ends that.
    static func returnLargeBlocks() {
        #if canImport(Glibc)
            // mallopt is declared in <malloc.h>, which the Glibc module leaves out: found by name.
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
            if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
                _ = unsafeBitCast(symbol, to: Mallopt.self)(mmapThreshold, 1 << 20)
            }
        #endif
    }
}
