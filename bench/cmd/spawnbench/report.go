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
	configs    []spawnConfig
	fairness   map[string]string // per config
	traces     map[string]string // per config
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
		series = append(series, bench.Series{Name: bench.Command{Name: s.Name, Config: s.Config}.Label(), Values: walls(r.samples, s)})
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
	fmt.Fprintf(w, "Workload: one busybox root filesystem running /bin/true in two configs, each the same "+
		"config.json for every runtime, all runs of both in one round-robin:\n\n"+
		"- %s: runc's default config.json (`cmrun spec -- true`: pid, network, ipc, uts and mount namespaces, "+
		"no terminal, read-only root, no seccomp);\n"+
		"- %s: the same plus the linux.seccomp section podman 4.3 writes for a container (%s).\n\n"+
		"ociVersion is relabelled %s because crun 1.8.1 rejects 1.3.0. "+
		"The baseline is bench/baseline/baseline.c: clone() into new namespaces, exec busybox true, waitpid(); it reads no config.\n\n",
		bench.ConfigRuncSpec, bench.ConfigPodmanSeccomp, r.opts.profile, ociVersion)
	fmt.Fprintf(w, "%s\n\n", r.nsNote)
	for _, cfg := range r.configs {
		fmt.Fprintf(w, "%s\n", r.fairness[cfg.name])
	}

	fmt.Fprintf(w, "## Latency: %d runs each, round-robin after %d warm-up rounds\n\n", r.opts.rounds, r.opts.warmup)
	bench.WriteLatencyTable(w, sums)
	fmt.Fprintf(w, "\nWall time runs from the start of the contender (posix_spawn in bench/measure/measure.c) "+
		"to wait4 returning. Max RSS is wait4's ru_maxrss: the peak resident memory of the contender "+
		"process or of the largest descendant it reaped (runc's and cmrun's init before it execs true), "+
		"whichever is larger; the median over runs. The measure helper is there so that no contender "+
		"inherits the Go benchmark's own peak RSS.\n\n")
	fmt.Fprintf(w, "The issue's targets (bench/targets.go):\n\n")
	bench.WriteTargets(w, sums, bench.Targets)

	fmt.Fprintf(w, "\n## Throughput: %d containers each, in %d interleaved chunks\n\n", r.opts.containers, r.opts.chunks)
	bench.WriteThroughputTable(w, r.throughput)
	fmt.Fprintf(w, "\nA batch is timed from its first start to its last exit, and every container in it is "+
		"started through the measure helper: a small cost, the same for every contender, that is "+
		"part of why the baseline tops out where it does.\n")

	for _, cfg := range r.configs {
		fmt.Fprintf(w, "\n## Where cmrun's time goes: `cmrun run --trace`, %s\n\n```\n%s```\n", cfg.name, r.traces[cfg.name])
	}
	if r.manager != nil {
		var m strings.Builder
		r.manager.summary(&m)
		fmt.Fprintf(w, "\n%s", m.String())
	}

	fmt.Fprintf(w, "\nFiles: latency.svg (CDF plot), latency.csv (every run), throughput.csv, summary.md (this text).\n")
}

// walls returns the wall times of the samples of sum's contender and config.
func walls(samples []bench.Sample, sum bench.Summary) []time.Duration {
	var out []time.Duration
	for _, s := range samples {
		if s.Name == sum.Name && s.Config == sum.Config {
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
func managerOnly(o options, work string, cfg spawnConfig, loadBefore string) error {
	m, err := managerBench(o, work, cfg)
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
