// Package selftest is the program the vm package's own tests run inside
// the VM; it means nothing on the host. Its one cgo call makes the test
// binary dynamically linked, so each run also checks that the harness
// copies the loader and libc into the guest.
package selftest

// #include <unistd.h>
import "C"

// Pid is getpid(2) through libc.
func Pid() int { return int(C.getpid()) }
