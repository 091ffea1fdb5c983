package shim

// #include <stdlib.h>
// #ifdef __GLIBC__
// #include <malloc.h>
// static void trim(void) { malloc_trim(0); }
// #else
// static void trim(void) {} // musl's allocator gives freed memory back itself
// #endif
import "C"

// trimCHeap gives the C heap's free memory back to the kernel. The
// runtime compiles seccomp filters with libseccomp (C) during create;
// glibc keeps what it freed in a per-thread arena, which a long-lived
// shim would otherwise carry for nothing.
func trimCHeap() { C.trim() }
