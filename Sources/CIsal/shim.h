// Intel ISA-L's streaming inflate (Debian: libisal-dev), about twice as fast as zlib's.
#include <isa-l/igzip_lib.h>
