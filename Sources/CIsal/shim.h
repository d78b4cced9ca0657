// Intel ISA-L's streaming inflate and deflate (Debian: libisal-dev), several times as fast as zlib's.
#include <isa-l/igzip_lib.h>
// Its CRC-32C, on the processor's CRC32 instruction (TallySketches' frames).
#include <isa-l/crc.h>
// Its streaming deflate: the level buffer each level asks for (the header's sizes are macros
// Swift cannot import).
static inline unsigned int tally_isal_level_buffer_size(unsigned int level) {
    switch (level) {
    case 0: return ISAL_DEF_LVL0_DEFAULT;
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    default: return ISAL_DEF_LVL3_DEFAULT;
    }
}
