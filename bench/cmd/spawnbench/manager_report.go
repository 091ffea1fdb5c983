package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"cm/bench"
	"cm/bench/managed"
)

// summary writes the manager section of the report.
func (r *managerResult) summary(w *strings.Builder) {
	fmt.Fprintf(w, "## The manager: round trips over its client socket\n\n")
	fmt.Fprintf(w, "A real cmanagerd (executor with 4 workers, default heartbeats) launches the real cmshim for "+
		"every container; the benchmark speaks to its client socket with cm/manager/api, as cmctl does. "+
		"The containers run `sleep 1000` from the %s bundle. "+
		"%d round trips one at a time after %d warm-up ones; each is create, wait for READY, start "+
		"(answered once the shim reported RUNNING), then stop with SIGKILL and wait for DEAD, then rm.\n\n",
		r.config, r.runs, r.warmup)
	fmt.Fprintln(w, "| round trip | runs | p50 | p95 | p99 | max |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: |")
	rows := []struct {
		name string
		d    []time.Duration
	}{
		{"create→RUNNING", r.createRun},
		{"  create→READY", r.createReady},
		{"    of which runtime.Create in the shim", r.shimCreate},
		{"  start→RUNNING", r.start},
		{"stop→DEAD", r.stopDead},
	}
	for _, row := range rows {
		s := slices.Sorted(slices.Values(row.d))
		if len(s) == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s |\n", row.name, len(s),
			msf(bench.Percentile(s, 50)), msf(bench.Percentile(s, 95)), msf(bench.Percentile(s, 99)), msf(s[len(s)-1]))
	}
	fmt.Fprintf(w, "\nThroughput: containers brought to RUNNING (create, wait READY, start) per second, "+
		"timed from the first create to the last RUNNING:\n\n")
	bench.WriteThroughputTable(w, r.throughput)

	f := r.footprint
	if len(f.Tasks) > 0 {
		mib := func(kib int64) string { return fmt.Sprintf("%.2f MiB", float64(kib)/1024) }
		fmt.Fprintf(w, "\nWith %d containers running, 2 s after the last started, median over them: "+
			"%d tasks per container (the threads of its shim and of every process the shim started, the program included; "+
			"%d to %d); shim VmRSS %s, of which anonymous %s (the rest is the cmshim binary and libc, shared page cache), "+
			"Pss %s. The daemon: VmRSS %s.\n",
			len(f.Tasks), managed.Median(f.Tasks), slices.Min(f.Tasks), slices.Max(f.Tasks),
			mib(managed.Median(f.ShimRSS)), mib(managed.Median(f.ShimAnon)), mib(managed.Median(f.ShimPss)), mib(f.DaemonRSS))
	}

	fmt.Fprintln(w)
	p50 := bench.Percentile(slices.Sorted(slices.Values(r.createRun)), 50)
	bench.CreateRunningP50.Write(w, float64(p50)/float64(time.Millisecond))
	for _, t := range r.throughput {
		if t.Parallel == bench.ManagerRateClients {
			bench.ManagerRate.Write(w, t.PerSecond())
		}
	}
	if len(f.Tasks) > 0 {
		bench.TasksPerCont.Write(w, float64(slices.Max(f.Tasks))) // every container, not the typical one
		bench.ShimPss.Write(w, float64(managed.Median(f.ShimPss))/1024)
	}
	fmt.Fprintf(w, "\nThe daemon's log: %s.\n", r.log)
}

// msf formats a duration in milliseconds with two decimals.
func msf(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
