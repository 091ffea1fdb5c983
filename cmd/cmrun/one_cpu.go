package main

// // cmrun asks the preamble to keep its threads on the CPU it starts on:
// // it lives for milliseconds, and on a virtual machine the Go runtime's
// // hand-offs between threads cost more when they wake a second CPU
// // (nsexec/one_cpu.c). cmshim, which lives as long as its container,
// // does not define this and goes wherever the scheduler finds room.
// const int nsexec_want_one_cpu = 1;
import "C"
