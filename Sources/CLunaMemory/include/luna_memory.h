#ifndef LUNA_MEMORY_H
#define LUNA_MEMORY_H
// Linux memory primitives for copy-on-write memory images (LunaRuntime/Wasm/MemoryImage.swift):
// an anonymous file to hold a module's initialised memory, and the kernel's query of the
// mapping that covers an address (to check that a guest memory is the reservation it must be
// before a mapping replaces part of it). Each returns -1 (or 0 for the query) where the
// system lacks the call.
#include <stdint.h>

#if defined(__linux__)
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/// An anonymous memory-backed file (`memfd_create`, close-on-exec), or -1.
static inline int luna_memfd_create(const char *name) {
#ifdef SYS_memfd_create
    return (int)syscall(SYS_memfd_create, name, 1u /* MFD_CLOEXEC */);
#else
    (void)name;
    errno = ENOSYS;
    return -1;
#endif
}

/// `struct procmap_query` of <linux/fs.h> (Linux 6.11), spelled out so that older headers build.
struct luna_procmap_query {
    uint64_t size;
    uint64_t query_flags;
    uint64_t query_addr;
    uint64_t vma_start;
    uint64_t vma_end;
    uint64_t vma_flags;
    uint64_t vma_page_size;
    uint64_t vma_offset;
    uint64_t inode;
    uint32_t dev_major;
    uint32_t dev_minor;
    uint32_t vma_name_size;
    uint32_t build_id_size;
    uint64_t vma_name_addr;
    uint64_t build_id_addr;
};

/// The mapping flags `luna_query_mapping` reports.
enum {
    LUNA_MAPPING_READABLE = 0x01,
    LUNA_MAPPING_WRITABLE = 0x02,
    LUNA_MAPPING_EXECUTABLE = 0x04,
    LUNA_MAPPING_SHARED = 0x08,
};

/// The mapping that covers `address`, asked of `maps_fd` (an open `/proc/self/maps`): 1 with
/// its bounds and flags, 0 when nothing covers it or the kernel has no such query (before 6.11).
static inline int luna_query_mapping(int maps_fd, uint64_t address, uint64_t *start, uint64_t *end,
                                     uint64_t *flags) {
    struct luna_procmap_query q = {0};
    q.size = sizeof q;
    q.query_addr = address;
    // _IOWR('f', 17, struct procmap_query)
    unsigned long request = (3ul << 30) | ((unsigned long)sizeof q << 16) | ((unsigned long)'f' << 8) | 17ul;
    if (ioctl(maps_fd, request, &q) != 0) return 0;
    *start = q.vma_start;
    *end = q.vma_end;
    *flags = q.vma_flags;
    return 1;
}
#else
static inline int luna_memfd_create(const char *name) { (void)name; return -1; }
static inline int luna_query_mapping(int maps_fd, uint64_t address, uint64_t *start, uint64_t *end,
                                     uint64_t *flags) {
    (void)maps_fd; (void)address; (void)start; (void)end; (void)flags;
    return 0;
}
#endif

#endif
