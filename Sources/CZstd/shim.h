#ifndef LUNA_CZSTD_SHIM_H
#define LUNA_CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
