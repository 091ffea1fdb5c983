package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"cm/bench"
	"cm/bench/managed"
)

// write prints the report to stdout and saves it at path.
func (r *report) write(path string) error {
	var w strings.Builder
	r.summary(&w)
	os.Stdout.WriteString(w.String())
	if err := os.WriteFile(path, []byte(w.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func (r *report) summary(w *strings.Builder) {
	mib := func(kib int64) string { return fmt.Sprintf("%.2f MiB", float64(kib)/1024) }
	n := r.o.n
	fmt.Fprintf(w, "# Scale: %d `sleep` containers at once through the manager\n\n", n)
	fmt.Fprintf(w, "%s, Linux %s, %d CPUs, load average %s before and %s after.\n\n",
		time.Now().Format("2006-01-02 15:04"), kernel(), runtime.NumCPU(), r.loadBefore, r.loadAfter)
	fmt.Fprintf(w, "A private cmanagerd (its state, sockets and runtime root under %s) launches the real cmshim for "+
		"every container; %d clients create, wait for READY and start `sleep` containers from a busybox root "+
		"filesystem with the daemon's default config, through cm/manager/api as cmctl does. "+
		"`make bench-scale` (bench/cmd/scalebench).\n\n", r.o.work, r.o.clients)

	fmt.Fprintf(w, "## What fits\n\n")
	l := r.lim
	raised := ""
	if r.o.pidMax > 0 {
		raised = " (set with --pid-max for this run, restored after)"
	}
	fmt.Fprintf(w, "- kernel.pid_max %d%s, kernel.threads-max %d, %d tasks on the machine before the run\n", l.pidMax, raised, l.threadsMax, l.tasksNow)
	fmt.Fprintf(w, "- descriptor limit %d (the daemon's), pids.max of our cgroup %s, MemAvailable %s\n",
		l.nofile, orNone(l.pidsMax), mib(l.memAvailKiB))
	fmt.Fprintf(w, "- one probe container, alone: %d tasks (shim and program), daemon descriptors %d, anonymous shim memory %s\n",
		r.probe.tasks, r.probe.daemonFDs, mib(r.probe.memKiB))
	fmt.Fprintf(w, "- room for **%d** containers, bound by %s (a tenth of the free ids and descriptors, a fifth of the memory, kept for the rest of the machine)\n\n",
		r.fits, r.binding)

	fmt.Fprintf(w, "## With all running\n\n")
	running := len(r.foot.Tasks)
	if r.interrupted {
		fmt.Fprintf(w, "- INTERRUPTED (SIGINT or SIGTERM) while creating: nothing was measured with all running\n")
	}
	fmt.Fprintf(w, "- created %d, running %d, failures %d; %d containers to RUNNING after the probe in %.1f s: **%.1f/s**\n",
		r.created, running, len(r.failures), r.started, r.createTime.Seconds(), float64(r.started)/r.createTime.Seconds())
	for i, err := range r.failures {
		if i == 3 {
			fmt.Fprintf(w, "  - and %d more\n", len(r.failures)-3)
			break
		}
		fmt.Fprintf(w, "  - %s\n", err)
	}
	if running > 0 {
		f := r.foot
		tasks := managed.Sum(f.Tasks)
		fmt.Fprintf(w, "- tasks of the shims and their programs: %d, %.2f per container (%d to %d); %d tasks on the machine\n",
			tasks, float64(tasks)/float64(running), slices.Min(f.Tasks), slices.Max(f.Tasks), r.tasksAtFull)
		fmt.Fprintf(w, "- shim Pss: median %s, total %s; shim VmRSS median %s, of which anonymous %s\n",
			mib(managed.Median(f.ShimPss)), mib(managed.Sum(f.ShimPss)), mib(managed.Median(f.ShimRSS)), mib(managed.Median(f.ShimAnon)))
		fmt.Fprintf(w, "- the daemon: VmRSS %s\n", mib(f.DaemonRSS))
		if r.memAtFull > 0 && l.memAvailKiB > r.memAtFull {
			fmt.Fprintf(w, "- MemAvailable fell from %s to %s: %s per container (shim, program and the kernel's share: "+
				"namespaces, cgroups, page tables), whatever else the machine did meanwhile included\n",
				mib(l.memAvailKiB), mib(r.memAtFull), mib((l.memAvailKiB-r.memAtFull)/int64(running)))
		}
	}
	if len(r.psWalls) > 0 {
		s := slices.Sorted(slices.Values(r.psWalls))
		fmt.Fprintf(w, "- `cmctl ps` (%d lines): p50 %.1f ms, max %.1f ms over %d runs after one warm-up\n",
			r.psLines, ms(r.psP50()), ms(s[len(s)-1]), len(s))
	}
	fmt.Fprintf(w, "- removed all in %.1f s with %d clients", r.removeTime.Seconds(), r.o.clients)
	if r.removeErr != nil {
		fmt.Fprintf(w, " (errors: %s)", firstLine(r.removeErr.Error()))
	}
	if len(r.leftovers) == 0 {
		fmt.Fprintf(w, "; nothing left: no shim process, no cgroup, no state directory\n")
	} else {
		fmt.Fprintf(w, "; LEFT BEHIND (%d): %s\n", len(r.leftovers), strings.Join(r.leftovers[:min(len(r.leftovers), 5)], ", "))
	}

	fmt.Fprintf(w, "\n## The issue's targets (bench/targets.go)\n\n")
	bench.ScaleContainers.Write(w, float64(running))
	bench.ScaleFailures.Write(w, float64(len(r.failures)))
	if running > 0 {
		bench.TasksPerCont.Write(w, float64(managed.Sum(r.foot.Tasks))/float64(running))
		bench.ShimPss.Write(w, float64(managed.Median(r.foot.ShimPss))/1024)
	}
	if len(r.psWalls) > 0 {
		bench.PsWall.Write(w, ms(r.psP50()))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func orNone(n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprint(n)
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// kernel returns the kernel release.
func kernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}
