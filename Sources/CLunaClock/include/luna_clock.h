#ifndef LUNA_CLOCK_H
#define LUNA_CLOCK_H
// The CPU's cycle counter, for trace timestamps cheaper than clock_gettime (docs/BENCHMARKS.md).
// LunaRuntime calibrates it against CLOCK_MONOTONIC and falls back to that clock when the
// counter is missing or not invariant.
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#include <cpuid.h>
/// The time-stamp counter.
static inline uint64_t luna_cycle_counter(void) { return __rdtsc(); }
/// 1 when the time-stamp counter runs at a constant rate in every power state (CPUID
/// 0x80000007 EDX bit 8), so it can serve as a clock.
static inline int luna_cycle_counter_is_invariant(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(0x80000007, &a, &b, &c, &d)) return 0;
    return (d >> 8) & 1;
}
#elif defined(__aarch64__)
/// The generic timer's virtual count (constant rate by architecture).
static inline uint64_t luna_cycle_counter(void) {
    uint64_t v;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
    return v;
}
static inline int luna_cycle_counter_is_invariant(void) { return 1; }
#else
static inline uint64_t luna_cycle_counter(void) { return 0; }
static inline int luna_cycle_counter_is_invariant(void) { return 0; }
#endif

#endif
