#ifndef LUNA_CSQLITE_SHIM_H
#define LUNA_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
