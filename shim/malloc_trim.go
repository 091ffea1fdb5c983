package shim

// #include <malloc.h>
import "C"

// trimCHeap gives the C heap's free memory back to the kernel. The
// runtime compiles seccomp filters with libseccomp (C) during create;
// glibc keeps what it freed in a per-thread arena, which a long-lived
// shim would otherwise carry for nothing.
func trimCHeap() { C.malloc_trim(0) }
