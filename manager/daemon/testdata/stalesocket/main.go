// Command stalesocket is what a daemon killed while forking leaves: it
// listens on the Unix socket named by its argument, starts a child that
// inherits the listening descriptor (as a child forked but not yet
// exec'd shares it), prints the child's pid and exits. The socket then
// accepts connections that nobody will ever answer.
package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
)

func main() {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: os.Args[1], Net: "unix"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "stalesocket:", err)
		os.Exit(1)
	}
	l.SetUnlinkOnClose(false)
	f, err := l.File()
	if err != nil {
		fmt.Fprintln(os.Stderr, "stalesocket:", err)
		os.Exit(1)
	}
	child := exec.Command("sleep", "1000")
	child.ExtraFiles = []*os.File{f}
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "stalesocket:", err)
		os.Exit(1)
	}
	fmt.Println(child.Process.Pid)
}
