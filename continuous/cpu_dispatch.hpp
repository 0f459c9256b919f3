// Internal: per-CPU clones of a hot loop (GCC's target_clones picks AVX-512, AVX2 or the
// baseline at load time). The target names exist on x86 only; elsewhere the loop is compiled
// once for the default target.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#define BCQ_CPU_CLONES(...) __attribute__((target_clones(__VA_ARGS__)))
#else
#define BCQ_CPU_CLONES(...)
#endif
