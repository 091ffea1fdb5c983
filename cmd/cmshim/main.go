// Command cmshim is the per-container shim of cm: started by the
// manager's executor (as the daemon itself, with --ready-fd; started by
// hand it daemonizes), it creates and starts one container, reports to
// the manager and outlives it. See package cm/shim.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	_ "cm/nsexec" // the C preamble of a container init, which this binary becomes
	"cm/runtime"
	"cm/shim"
	"cm/shim/proto"
)

func main() {
	// runtime.Create starts the container init as "/proc/self/exe init".
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.Init() // only returns by exiting
	}
	if len(os.Args) > 1 && os.Args[1] == "reclaim" {
		os.Exit(reclaim(os.Args[2:]))
	}
	o, readyFd, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cmshim:", err)
		os.Exit(2)
	}
	if readyFd >= 0 {
		// The daemon, started by Daemonize below or by a launcher (the
		// manager). Re-executed as /proc/self/exe, ps would call it "exe".
		runtime.SetProcessName("cmshim")
		ready, err := shim.Detach(o, readyFd)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cmshim:", err)
			os.Exit(1)
		}
		if err := shim.RunDaemon(o, ready); err != nil {
			os.Exit(1)
		}
		return
	}
	pid, err := shim.Daemonize(o, os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cmshim:", err)
		os.Exit(1)
	}
	fmt.Println(pid)
}

// reclaim is "cmshim reclaim [--runtime-root DIR] --id ID", which the
// manager runs for a container whose shim is gone (see shim.Reclaim). It
// writes a failure as one bare line on stderr, for the manager to wrap.
func reclaim(args []string) int {
	fs := pflag.NewFlagSet("cmshim reclaim", pflag.ContinueOnError)
	id := fs.String("id", "", "container id")
	root := fs.String("runtime-root", runtime.DefaultRoot, "state root of the runtime")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *id == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: cmshim reclaim [--runtime-root DIR] --id ID")
		return 2
	}
	if err := shim.Reclaim(*root, *id); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// parseFlags also returns --ready-fd, or -1. It reads the token from
// --token-fd, if given.
func parseFlags(args []string) (o shim.Options, readyFd int, err error) {
	tokenFd := -1
	fs := pflag.NewFlagSet("cmshim", pflag.ContinueOnError)
	fs.StringVar(&o.ID, "id", "", "container id")
	fs.StringVar(&o.Bundle, "bundle", "", "OCI bundle directory")
	fs.StringVar(&o.StateDir, "state-dir", "", "directory for the shim's socket, status and logs")
	fs.StringVar(&o.Manager, "manager", "", "the manager's shim socket")
	fs.StringVar(&o.RuntimeRoot, "runtime-root", runtime.DefaultRoot, "state root of the runtime")
	fs.Int64Var(&o.LogMax, "log-max", shim.DefaultLogMax, "rotate container.log past this many bytes (0: never)")
	fs.BoolVar(&o.Init, "init", false, "run cminit as PID 1: forwards signals, reaps zombies")
	fs.IntVar(&readyFd, "ready-fd", -1, "be the daemon in this process and write \"ok\" or the error, one line, to this descriptor (for launchers)")
	fs.IntVar(&tokenFd, "token-fd", -1, "read the token to send the manager from this descriptor (a pipe), then close it")
	lockFd := fs.Int("lock-fd", -1, "a descriptor (a lock the launcher took) to hold open until this shim exits, so the launcher can tell it is alive")
	if err := fs.Parse(args); err != nil {
		return o, -1, err
	}
	if fs.NArg() > 0 {
		return o, -1, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if readyFd == 0 || readyFd == 1 || readyFd == 2 || readyFd < -1 {
		return o, -1, fmt.Errorf("--ready-fd %d: must be a descriptor above 2", readyFd)
	}
	if *lockFd >= 0 {
		if *lockFd <= 2 || *lockFd == readyFd || *lockFd == tokenFd {
			return o, -1, fmt.Errorf("--lock-fd %d: must be a descriptor above 2, not --ready-fd's or --token-fd's", *lockFd)
		}
		// Held by this process alone: the container must not inherit it,
		// or the lock would outlive the shim.
		if _, err := unix.FcntlInt(uintptr(*lockFd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
			return o, -1, fmt.Errorf("--lock-fd %d: %w", *lockFd, err)
		}
	}
	if tokenFd >= 0 && tokenFd <= 2 || tokenFd < -1 || tokenFd >= 0 && tokenFd == readyFd {
		return o, -1, fmt.Errorf("--token-fd %d: must be a descriptor above 2, not --ready-fd", tokenFd)
	}
	if err := o.Check(); err != nil {
		return o, -1, err
	}
	if tokenFd >= 0 {
		if o.Token, err = proto.ReadToken(tokenFd); err != nil {
			return o, -1, err
		}
	}
	return o, readyFd, nil
}
