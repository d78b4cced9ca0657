import FuzzHarness

/// Bytes after a gzip magic number, through the streaming inflater and the record reader.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzHarness.readGzip(FuzzHarness.bytes(data, size))
    return 0
}

FuzzHarness.main(testOneInput)
