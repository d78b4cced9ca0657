import FuzzHarness

/// Connector analytics lines through the record reader and the aggregator.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzHarness.read(FuzzHarness.bytes(data, size), format: .twingateAnalytics)
    return 0
}

FuzzHarness.main(testOneInput)
