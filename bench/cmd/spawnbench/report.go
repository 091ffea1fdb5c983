package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"cm/bench"
)

// report is everything the run found, ready to be written out.
type report struct {
	opts       options
	nsNote     string
	fairness   string
	trace      string
	versions   map[string]string
	load       [2]string // load averages before and after
	samples    []bench.Sample
	throughput []bench.Throughput
	manager    *managerResult // nil without --manager
}

// write prints the summary to stdout and saves it, the raw numbers and
// the plot in dir.
func (r report) write(dir string) error {
	sums := bench.Summarize(r.samples)
	var md bytes.Buffer
	r.summary(&md, sums)
	os.Stdout.Write(md.Bytes())

	var lat, tput, svg bytes.Buffer
	if err := bench.WriteSamplesCSV(&lat, r.samples); err != nil {
		return err
	}
	if err := bench.WriteThroughputCSV(&tput, r.throughput); err != nil {
		return err
	}
	var series []bench.Series
	for _, s := range sums {
		series = append(series, bench.Series{Name: s.Name, Values: walls(r.samples, s.Name)})
	}
	title := fmt.Sprintf("Container spawn latency, %d runs each, interleaved (%s, %d CPUs)", r.opts.rounds, kernel(), runtime.NumCPU())
	if err := bench.WriteCDF(&svg, title, series); err != nil {
		return err
	}
	files := map[string][]byte{
		"summary.md": md.Bytes(), "latency.csv": lat.Bytes(), "throughput.csv": tput.Bytes(), "latency.svg": svg.Bytes(),
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// summary writes the human-readable report in Markdown.
func (r report) summary(w *bytes.Buffer, sums []bench.Summary) {
	fmt.Fprintf(w, "# Container spawn benchmark: cmrun vs runc vs crun vs a bare clone\n\n")
	fmt.Fprintf(w, "%s, Linux %s, %d CPUs, load average %s before and %s after.\n",
		time.Now().Format("2006-01-02 15:04"), kernel(), runtime.NumCPU(), r.load[0], r.load[1])
	fmt.Fprintf(w, "%s; %s; %s.\n\n", r.versions["cmrun"], r.versions["runc"], r.versions["crun"])
	profile := "the default seccomp profile"
	if !r.opts.seccomp {
		profile = "NO seccomp profile (--seccomp=false)"
	}
	fmt.Fprintf(w, "Workload: one busybox bundle running /bin/true, the same config.json for every runtime "+
		"(cmrun's default: pid, network, ipc, uts, mount and cgroup namespaces, %s, "+
		"no terminal, read-only root), ociVersion relabelled %s because crun 1.8.1 rejects 1.3.0. "+
		"The baseline is bench/baseline/baseline.c: clone() into the same namespaces, exec busybox true, waitpid().\n\n",
		profile, ociVersion)
	fmt.Fprintf(w, "%s\n\n%s\n", r.nsNote, r.fairness)

	fmt.Fprintf(w, "## Latency: %d runs each, round-robin after %d warm-up rounds\n\n", r.opts.rounds, r.opts.warmup)
	bench.WriteLatencyTable(w, sums)
	fmt.Fprintf(w, "\nWall time runs from the start of the contender (posix_spawn in bench/measure/measure.c) "+
		"to wait4 returning. Max RSS is wait4's ru_maxrss: the peak resident memory of the contender "+
		"process or of the largest descendant it reaped (runc's and cmrun's init before it execs true), "+
		"whichever is larger; the median over runs. The measure helper is there so that no contender "+
		"inherits the Go benchmark's own peak RSS.\n\n")
	bench.WriteTargets(w, sums, bench.Targets)
	if r.opts.seccomp {
		fmt.Fprintf(w, "\ncmrun keeps each compiled seccomp profile under its state root (the warm-up fills that "+
			"cache); runc and crun compile it with libseccomp on every run. `spawnbench --seccomp=false` "+
			"shows the comparison without a profile.\n")
	}

	fmt.Fprintf(w, "\n## Throughput: %d containers each, in %d interleaved chunks\n\n", r.opts.containers, r.opts.chunks)
	bench.WriteThroughputTable(w, r.throughput)
	fmt.Fprintf(w, "\nA batch is timed from its first start to its last exit, and every container in it is "+
		"started through the measure helper: a small cost, the same for every contender, that is "+
		"part of why the baseline tops out where it does.\n")

	fmt.Fprintf(w, "\n## Where cmrun's time goes: `cmrun run --trace`\n\n```\n%s```\n", r.trace)
	if r.manager != nil {
		var m strings.Builder
		r.manager.summary(&m)
		fmt.Fprintf(w, "\n%s", m.String())
	}

	fmt.Fprintf(w, "\nFiles: latency.svg (CDF plot), latency.csv (every run), throughput.csv, summary.md (this text).\n")
}

// walls returns the wall times of name's samples.
func walls(samples []bench.Sample, name string) []time.Duration {
	var out []time.Duration
	for _, s := range samples {
		if s.Name == name {
			out = append(out, s.Wall)
		}
	}
	return out
}

// loadAverage returns the 1-minute load average: a busy machine is the
// first suspect when numbers move between runs.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	first, _, _ := strings.Cut(string(data), " ")
	return first
}

// kernel returns the kernel release, e.g. "6.1.0-26-amd64".
func kernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// managerOnly runs only the manager benchmark (spawnbench --spawn=false)
// and writes its section to manager.md, leaving the spawn report alone.
func managerOnly(o options, work, bundle, loadBefore string) error {
	m, err := managerBench(o, work, bundle)
	if err != nil {
		return err
	}
	var w strings.Builder
	fmt.Fprintf(&w, "# Manager benchmark\n\n%s, Linux %s, %d CPUs, load average %s before and %s after.\n\n",
		time.Now().Format("2006-01-02 15:04"), kernel(), runtime.NumCPU(), loadBefore, loadAverage())
	m.summary(&w)
	os.Stdout.WriteString(w.String())
	path := filepath.Join(o.out, "manager.md")
	if err := os.WriteFile(path, []byte(w.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
