package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// orphanGrace is how long orphans (shims) get to finish after the main
// child exits before they are killed: teardown deletes every container
// first, so by then they are on their way out.
const orphanGrace = 10 * time.Second

// subreaper runs args as a child, forwards SIGINT and SIGTERM to it, reaps
// every orphan reparented here, and returns the child's exit code once it
// and all orphans are gone.
func subreaper(args []string) int {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "harness: become a subreaper:", err)
		return 1
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		return 1
	}
	child := cmd.Process.Pid
	code := -1
	var deadline <-chan time.Time
	for {
		// Reap everything that has exited; remember the main child's status.
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if err == unix.ECHILD {
				return code
			}
			if pid <= 0 || err != nil {
				break
			}
			if pid == child {
				code = ws.ExitStatus()
				if ws.Signaled() {
					code = 128 + int(ws.Signal())
				}
				deadline = time.After(orphanGrace)
			}
		}
		select {
		case s := <-sigs:
			if s != syscall.SIGCHLD && code < 0 {
				syscall.Kill(child, s.(syscall.Signal))
			}
		case <-deadline:
			for _, pid := range children() {
				fmt.Fprintf(os.Stderr, "harness: killing orphan %d\n", pid)
				unix.Kill(pid, unix.SIGKILL)
			}
		}
	}
}

// children lists the processes whose parent is this one.
func children() []int {
	self := strconv.Itoa(os.Getpid())
	entries, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, e := range entries {
		data, err := os.ReadFile(e)
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		rest := string(data[strings.LastIndexByte(string(data), ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == self {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(e)))
			out = append(out, pid)
		}
	}
	return out
}
