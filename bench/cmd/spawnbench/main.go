// Command spawnbench answers "is cmrun faster than runc and crun?": it
// times `cmrun run`, `runc run`, `crun run` and a bare-clone baseline on
// one busybox root filesystem in two configs (runc's default spec, and
// the same with podman's seccomp profile), all in one round-robin,
// measures throughput, and writes a report with the targets, the
// raw numbers and a plot to bench/results. Then it asks the same of the
// manager (manager.go): a real cmanagerd launching the real cmshim, timed
// over its client socket from create to RUNNING and from stop to DEAD,
// with how many containers per second it starts and how many tasks and
// how much memory each running container costs.
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
	"slices"

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
	profile           string // podman's seccomp section, saved by bench/profiles/podman-seccomp.sh
	spawn             bool   // the spawn benchmark: latency, throughput, trace
	manager           bool   // the manager benchmark (manager.go)
	cmanagerd         string
	managerRuns       int
	managerContainers int
	managerConfig     string
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
	pflag.StringVar(&o.profile, "profile", "bench/profiles/podman-4.3-seccomp.json", "podman's seccomp section for the "+bench.ConfigPodmanSeccomp+" config")
	pflag.BoolVar(&o.spawn, "spawn", true, "run the spawn benchmark (false: only the manager's, written to manager.md alone)")
	pflag.BoolVar(&o.manager, "manager", true, "also benchmark cmanagerd with the real cmshim: create→RUNNING, stop→DEAD, containers/s")
	pflag.StringVar(&o.cmanagerd, "cmanagerd", "bin/cmanagerd", "cmanagerd binary; the cmshim next to it is the shim")
	pflag.IntVar(&o.managerRuns, "manager-runs", 100, "timed round trips through the manager")
	pflag.IntVar(&o.managerContainers, "manager-containers", 50, "containers per manager throughput measurement")
	pflag.StringVar(&o.managerConfig, "manager-config", bench.ConfigRuncSpec, "the spawn config of the manager's containers: "+bench.ConfigRuncSpec+" or "+bench.ConfigPodmanSeccomp)
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
	progress("building the busybox bundles, the baseline and the measure helper")
	configs, err := makeBundles(o.mkbundle, cmrun, work, o.profile)
	if err != nil {
		return err
	}
	mgrConfig := slices.IndexFunc(configs, func(c spawnConfig) bool { return c.name == o.managerConfig })
	if mgrConfig < 0 {
		return fmt.Errorf("--manager-config %q: no such config", o.managerConfig)
	}
	baseline := filepath.Join(work, "baseline")
	if err := bench.BuildC(o.baselineSrc, baseline); err != nil {
		return err
	}
	meter := bench.Meter{Helper: filepath.Join(work, "measure")}
	if err := bench.BuildC(o.measureSrc, meter.Helper); err != nil {
		return err
	}
	busybox := filepath.Join(configs[0].bundle, "rootfs", "bin", "busybox")

	// The contenders, in the round-robin order: every runtime in every
	// config, then the baseline, which reads no config. Each runtime gets
	// its own state root, so none can trip over another's leftovers.
	runtimes := map[string]string{"cmrun": cmrun, "runc": runc, "crun": crun}
	var contenders []bench.Command
	fairness := map[string]string{}
	for _, cfg := range configs {
		var cmds []bench.Command
		for _, name := range []string{"cmrun", "runc", "crun"} {
			root, bin := filepath.Join(work, "root-"+name), runtimes[name]
			cmds = append(cmds, bench.Command{Name: name, Config: cfg.name, Dir: cfg.bundle, Argv: func(id string) []string {
				return []string{bin, "--root", root, "run", id}
			}})
		}
		contenders = append(contenders, cmds...)
		if o.spawn {
			progress("checking that the runtimes confine the container alike: " + cfg.name)
			if fairness[cfg.name], err = checkFairness(cmds, cfg, work); err != nil {
				return err
			}
		}
	}
	contenders = append(contenders, bench.Command{Name: "baseline", Dir: configs[0].bundle, Argv: func(string) []string {
		return []string{baseline, busybox, "true"}
	}})

	if !o.spawn {
		return managerOnly(o, work, configs[mgrConfig], loadBefore)
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

	progress("one traced cmrun run per config")
	traces := map[string]string{}
	for _, cfg := range configs {
		if traces[cfg.name], err = cmrunTrace(cmrun, filepath.Join(work, "root-cmrun"), cfg.bundle); err != nil {
			return err
		}
	}

	var mgr *managerResult
	if o.manager {
		if mgr, err = managerBench(o, work, configs[mgrConfig]); err != nil {
			return err
		}
	}

	r := report{
		nsNote: nsNote, configs: configs, fairness: fairness, traces: traces, opts: o, manager: mgr,
		load:     [2]string{loadBefore, loadAverage()},
		versions: map[string]string{"cmrun": version(cmrun), "runc": version(runc), "crun": version(crun)},
		samples:  samples, throughput: append(sequential, parallel...),
	}
	return r.write(o.out)
}

// progress tells the person waiting what is going on; the report itself goes to stdout.
func progress(msg string) { fmt.Fprintf(os.Stderr, "spawnbench: %s\n", msg) }
