import FuzzHarness

/// Bytes as serialized sketches (distinct counter, heavy hitters).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzHarness.decodeSketches(FuzzHarness.bytes(data, size))
    return 0
}

FuzzHarness.main(testOneInput)
