// Command scalebench answers "can cm run thousands of containers at
// once?": it starts a private cmanagerd (state, sockets and runtime root
// in its own work directory), creates and starts N `sleep` containers
// through the manager's API with 4 concurrent clients, reads what they
// cost (tasks per container, the shims' Pss, the daemon's RSS), times the
// real `cmctl ps` at that size, then removes them all and checks that
// nothing is left: no shim, no cgroup, no state. It writes
// bench/results/scale.md.
//
// Before creating anything it reads the limits that bound how many
// containers fit (kernel.pid_max, threads-max, descriptors, pids.max,
// memory), measures one probe container and stops with one line if N
// does not fit. It changes no system setting, except kernel.pid_max for
// the run's duration when asked with --pid-max.
//
// Run it as root from the repository root (`make bench-scale` does).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/pflag"
)

// options are the command-line flags.
type options struct {
	n, clients, psRuns int
	cmanagerd, cmctl   string
	mkbundle           string
	work, out          string
	pidMax             int
}

func main() {
	var o options
	pflag.IntVar(&o.n, "n", 4000, "containers to run at once")
	pflag.IntVar(&o.clients, "clients", 4, "concurrent clients creating and removing containers")
	pflag.IntVar(&o.psRuns, "ps-runs", 5, "timed `cmctl ps` runs at full size")
	pflag.StringVar(&o.cmanagerd, "cmanagerd", "bin/cmanagerd", "cmanagerd binary; the cmshim next to it is the shim")
	pflag.StringVar(&o.cmctl, "cmctl", "bin/cmctl", "cmctl binary, timed for ps")
	pflag.StringVar(&o.mkbundle, "mkbundle", "tests/mkbundle.sh", "script that builds a busybox bundle (its root filesystem is used)")
	pflag.StringVar(&o.work, "work", "build/scale", "scratch directory (root filesystem, the daemon's state); emptied first")
	pflag.StringVar(&o.out, "out", "bench/results/scale.md", "the report")
	pflag.IntVar(&o.pidMax, "pid-max", 0, "raise kernel.pid_max to this for the run and restore it after (0: leave it)")
	pflag.Parse()

	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "scalebench: must run as root (containers need it)")
		os.Exit(1)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "scalebench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	work, err := filepath.Abs(o.work)
	if err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	if err := os.RemoveAll(work); err != nil {
		return fmt.Errorf("empty %s: %w", work, err)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", work, err)
	}
	// An interrupted run must still remove its containers and restore
	// pid_max: SIGINT or SIGTERM only stops the creating, the clean-up runs.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	if o.pidMax > 0 {
		restore, err := raisePidMax(o.pidMax)
		if err != nil {
			return err
		}
		defer restore()
	}
	rep, err := scale(ctx, o, work)
	if rep != nil {
		if werr := rep.write(o.out); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// raisePidMax sets kernel.pid_max to v if it is lower, and returns what
// puts the old value back.
func raisePidMax(v int) (func(), error) {
	old, err := readInt(pidMaxPath)
	if err != nil {
		return nil, err
	}
	if old >= v {
		return func() {}, nil
	}
	if err := setPidMax(v); err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("kernel.pid_max raised from %d to %d for this run", old, v))
	return func() {
		if err := setPidMax(old); err != nil {
			fmt.Fprintln(os.Stderr, "scalebench: restore kernel.pid_max:", err)
			return
		}
		progress(fmt.Sprintf("kernel.pid_max restored to %d", old))
	}, nil
}

// progress tells the person waiting what is going on.
func progress(msg string) { fmt.Fprintf(os.Stderr, "scalebench: %s\n", msg) }
