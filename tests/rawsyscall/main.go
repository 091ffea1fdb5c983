// Command rawsyscall makes the syscalls numbered on its command line with
// no arguments and prints, for each, "N ok" or "N ERRNONAME": tests run it
// in a container to see what a seccomp filter answers for a number.
package main

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

func main() {
	for _, arg := range os.Args[1:] {
		nr, err := strconv.Atoi(arg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "rawsyscall: %q is not a number\n", arg)
			os.Exit(2)
		}
		_, _, errno := unix.RawSyscall(uintptr(nr), 0, 0, 0)
		if errno == 0 {
			fmt.Println(nr, "ok")
		} else {
			fmt.Println(nr, unix.ErrnoName(errno))
		}
	}
}
