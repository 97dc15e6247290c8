// Everything is inline in include/luna_clock.h; SwiftPM needs one source file per C target.
#include "luna_clock.h"
