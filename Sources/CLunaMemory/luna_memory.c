// Everything is inline in include/luna_memory.h; SwiftPM needs one source file per C target.
#include "luna_memory.h"
