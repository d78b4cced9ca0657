import FuzzHarness

/// Bytes as an uploaded partial: refused with an error, or decoded into one that re-encodes.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzHarness.decodePartial(FuzzHarness.bytes(data, size))
    return 0
}

FuzzHarness.main(testOneInput)
