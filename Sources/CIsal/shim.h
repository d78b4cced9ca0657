// Intel ISA-L's streaming inflate (Debian: libisal-dev), about twice as fast as zlib's.
#include <isa-l/igzip_lib.h>
// Its CRC-32C, on the processor's CRC32 instruction (TallySketches' frames).
#include <isa-l/crc.h>
