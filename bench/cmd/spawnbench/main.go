// Command spawnbench answers "is cmrun faster than runc and crun?": it
// times `cmrun run`, `runc run`, `crun run` and a bare-clone baseline on
// the same busybox bundle, interleaved round-robin, measures throughput,
// and writes a report, the raw numbers and a plot to bench/results.
// Then it asks the same of the manager (manager.go): a real cmanagerd
// launching the real cmshim, timed over its client socket from create to
// RUNNING and from stop to DEAD, with how many containers per second it
// starts and what each shim costs in memory.
//
// Run it as root from the repository root (`make bench` does): it needs
// bin/cmrun, bin/cmanagerd, bin/cmshim, runc, crun and gcc. It changes
// nothing on the host outside its work directory: the mounts it needs
// live in a private mount namespace that disappears with it, and it
// removes every container it made through the manager before stopping it.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/pflag"

	"cm/bench"
)

// options are the command-line flags; every path is relative to the
// repository root unless absolute.
type options struct {
	cmrun, runc, crun string
	mkbundle          string
	baselineSrc       string
	measureSrc        string
	work, out         string
	warmup, rounds    int
	containers        int // per throughput measurement
	parallel          int
	chunks            int
	seccomp           bool // keep the default seccomp profile in config.json
	spawn             bool // the spawn benchmark: latency, throughput, trace
	manager           bool // the manager benchmark (manager.go)
	cmanagerd         string
	managerRuns       int
	managerContainers int
}

func main() {
	var o options
	pflag.StringVar(&o.cmrun, "cmrun", "bin/cmrun", "cmrun binary")
	pflag.StringVar(&o.runc, "runc", "runc", "runc binary (looked up in PATH)")
	pflag.StringVar(&o.crun, "crun", "crun", "crun binary (looked up in PATH)")
	pflag.StringVar(&o.mkbundle, "mkbundle", "tests/mkbundle.sh", "script that builds a busybox bundle")
	pflag.StringVar(&o.baselineSrc, "baseline-src", "bench/baseline/baseline.c", "C source of the bare-clone baseline")
	pflag.StringVar(&o.measureSrc, "measure-src", "bench/measure/measure.c", "C source of the helper that times each run and reads its rusage")
	pflag.StringVar(&o.work, "work", "build/bench", "scratch directory (bundle, baseline, state roots); emptied first")
	pflag.StringVar(&o.out, "out", "bench/results", "where the report, CSVs and SVG go")
	pflag.IntVar(&o.warmup, "warmup", 10, "untimed rounds first")
	pflag.IntVar(&o.rounds, "runs", 200, "timed runs of each contender")
	pflag.IntVar(&o.containers, "containers", 100, "containers per throughput measurement")
	pflag.IntVar(&o.parallel, "parallel", 4, "containers at once in the parallel throughput measurement")
	pflag.IntVar(&o.chunks, "chunks", 4, "throughput runs are cut into this many chunks, interleaved across contenders")
	pflag.BoolVar(&o.seccomp, "seccomp", true, "keep the default seccomp profile (false: drop it for every runtime, to see what it costs)")
	pflag.BoolVar(&o.spawn, "spawn", true, "run the spawn benchmark (false: only the manager's, written to manager.md alone)")
	pflag.BoolVar(&o.manager, "manager", true, "also benchmark cmanagerd with the real cmshim: create→RUNNING, stop→DEAD, containers/s")
	pflag.StringVar(&o.cmanagerd, "cmanagerd", "bin/cmanagerd", "cmanagerd binary; the cmshim next to it is the shim")
	pflag.IntVar(&o.managerRuns, "manager-runs", 100, "timed round trips through the manager")
	pflag.IntVar(&o.managerContainers, "manager-containers", 50, "containers per manager throughput measurement")
	pflag.Parse()

	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "spawnbench: must run as root (containers need it)")
		os.Exit(1)
	}
	if !inPrivateMountNamespace() {
		code, err := reexecInPrivateMountNamespace()
		if err != nil {
			fmt.Fprintln(os.Stderr, "spawnbench:", err)
		}
		os.Exit(code)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "spawnbench:", err)
		os.Exit(1)
	}
}

// run does the whole benchmark inside the private mount namespace.
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
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", o.out, err)
	}
	nsNote, err := hideHybridControllers(work)
	if err != nil {
		return err
	}

	cmrun, err := filepath.Abs(o.cmrun)
	if err != nil {
		return fmt.Errorf("cmrun path: %w", err)
	}
	if _, err := os.Stat(cmrun); err != nil {
		return fmt.Errorf("cmrun: %w (run `make build`)", err)
	}
	runc, err := exec.LookPath(o.runc)
	if err != nil {
		return fmt.Errorf("runc: %w (run `make deps-bench`)", err)
	}
	crun, err := exec.LookPath(o.crun)
	if err != nil {
		return fmt.Errorf("crun: %w (run `make deps-bench`)", err)
	}

	loadBefore := loadAverage()
	progress("building the busybox bundle, the baseline and the measure helper")
	bundle := filepath.Join(work, "bundle")
	if err := makeBundle(o.mkbundle, cmrun, bundle, o.seccomp); err != nil {
		return err
	}
	baseline := filepath.Join(work, "baseline")
	if err := bench.BuildC(o.baselineSrc, baseline); err != nil {
		return err
	}
	meter := bench.Meter{Helper: filepath.Join(work, "measure")}
	if err := bench.BuildC(o.measureSrc, meter.Helper); err != nil {
		return err
	}
	busybox := filepath.Join(bundle, "rootfs", "bin", "busybox")

	// The contenders, in the round-robin order. Each runtime gets its own
	// state root, so none can trip over another's leftovers.
	runtimeCmd := func(name, bin string) bench.Command {
		root := filepath.Join(work, "root-"+name)
		return bench.Command{Name: name, Dir: bundle, Argv: func(id string) []string {
			return []string{bin, "--root", root, "run", id}
		}}
	}
	contenders := []bench.Command{
		runtimeCmd("cmrun", cmrun),
		runtimeCmd("runc", runc),
		runtimeCmd("crun", crun),
		{Name: "baseline", Dir: bundle, Argv: func(string) []string { return []string{baseline, busybox, "true"} }},
	}

	if !o.spawn {
		return managerOnly(o, work, bundle, loadBefore)
	}

	progress("checking that the runtimes confine the container alike")
	fairness, err := checkFairness(contenders[:3], bundle, work)
	if err != nil {
		return err
	}

	progress(fmt.Sprintf("latency: %d warm-up + %d timed rounds of %d contenders", o.warmup, o.rounds, len(contenders)))
	samples, err := meter.Interleave(contenders, o.warmup, o.rounds, os.Stderr)
	if err != nil {
		return fmt.Errorf("latency: %w", err)
	}

	progress(fmt.Sprintf("throughput: %d containers each, one at a time and %d at a time", o.containers, o.parallel))
	sequential, err := meter.InterleavedThroughput(contenders, o.containers, 1, o.chunks)
	if err != nil {
		return err
	}
	parallel, err := meter.InterleavedThroughput(contenders, o.containers, o.parallel, o.chunks)
	if err != nil {
		return err
	}

	progress("one traced cmrun run")
	trace, err := cmrunTrace(cmrun, filepath.Join(work, "root-cmrun"), bundle)
	if err != nil {
		return err
	}

	var mgr *managerResult
	if o.manager {
		if mgr, err = managerBench(o, work, bundle); err != nil {
			return err
		}
	}

	r := report{
		nsNote: nsNote, fairness: fairness, trace: trace, opts: o, manager: mgr,
		load:     [2]string{loadBefore, loadAverage()},
		versions: map[string]string{"cmrun": version(cmrun), "runc": version(runc), "crun": version(crun)},
		samples:  samples, throughput: append(sequential, parallel...),
	}
	return r.write(o.out)
}

// progress tells the person waiting what is going on; the report itself goes to stdout.
func progress(msg string) { fmt.Fprintf(os.Stderr, "spawnbench: %s\n", msg) }
