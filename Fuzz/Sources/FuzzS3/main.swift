import FuzzHarness

/// Twingate S3 JSON lines through the record reader and the aggregator.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzHarness.read(FuzzHarness.bytes(data, size), format: .twingateS3)
    return 0
}

FuzzHarness.main(testOneInput)
