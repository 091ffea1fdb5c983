package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"cm/bench"
	"cm/manager"
	"cm/manager/api"
)

// The goals for the manager, stated for the report. Like the
// ratio targets they are benchmark goals, never test assertions.
const (
	managerP50Goal  = 10 * time.Millisecond // create→RUNNING p50, shim start included
	managerRateGoal = 20.0                  // containers started per second through the manager
)

// managerResult is what the manager benchmark found.
type managerResult struct {
	runs, warmup int
	// Per round trip, one value per run.
	createReady  []time.Duration // POST create until the container is READY (the shim made it)
	shimCreate   []time.Duration // of which the shim's in-process runtime.Create, from its shim.log
	start        []time.Duration // POST start until RUNNING
	createRun    []time.Duration // the two above together: create→RUNNING
	stopDead     []time.Duration // POST stop (KILL) until DEAD
	throughput   []bench.Throughput
	shims        int     // shims measured for memory
	shimRSS      []int64 // KiB, VmRSS of each shim while all ran
	shimAnon     []int64 // KiB, RssAnon
	shimPss      []int64 // KiB, Pss from smaps_rollup
	daemonRSSKiB int64
	log          string // the daemon's log file
}

// managerBench starts a real cmanagerd, which launches the real cmshim
// for every container, and drives it over its client socket the way
// cmctl does: the round trips create→RUNNING and stop→DEAD one at a
// time, then how many containers per second it starts with 1 and with
// parallel clients. The containers run `sleep 1000` from the spawn
// benchmark's bundle, with the same config.json.
func managerBench(o options, work, bundle string) (*managerResult, error) {
	progress(fmt.Sprintf("manager: %d round trips, then %d containers with 1 and %d clients", o.managerRuns, o.managerContainers, o.parallel))
	r, err := measureManager(o, work, bundle)
	if err != nil {
		return nil, fmt.Errorf("manager: %w", err)
	}
	return r, nil
}

func measureManager(o options, work, bundle string) (*managerResult, error) {
	daemonBin, err := filepath.Abs(o.cmanagerd)
	if err != nil {
		return nil, fmt.Errorf("cmanagerd path: %w", err)
	}
	shimBin := filepath.Join(filepath.Dir(daemonBin), "cmshim")
	for _, bin := range []string{daemonBin, shimBin} {
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("%w (run `make build`)", err)
		}
	}
	dir := filepath.Join(work, "manager")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	d, err := startDaemon(daemonBin, shimBin, dir)
	if err != nil {
		return nil, err
	}
	defer d.stop()

	r := &managerResult{runs: o.managerRuns, warmup: o.warmup, log: d.log}
	b := managerClient{c: d.client, bundle: bundle, stateDir: filepath.Join(dir, "state")}
	ctx := context.Background()

	for i := -o.warmup; i < o.managerRuns; i++ {
		rt, err := b.createRunning(ctx, i >= 0)
		if err != nil {
			if rt.id != "" {
				b.remove(ctx, rt.id) // no shim may outlive the benchmark
			}
			return nil, fmt.Errorf("create→RUNNING, run %d: %w", i, err)
		}
		stopped, err := b.stopDead(ctx, rt.id)
		if err != nil {
			b.remove(ctx, rt.id)
			return nil, fmt.Errorf("stop→DEAD, run %d: %w", i, err)
		}
		if err := b.remove(ctx, rt.id); err != nil {
			return nil, err
		}
		if i < 0 {
			continue
		}
		r.createReady = append(r.createReady, rt.ready)
		if rt.shimCreate > 0 {
			r.shimCreate = append(r.shimCreate, rt.shimCreate)
		}
		r.start = append(r.start, rt.start)
		r.createRun = append(r.createRun, rt.ready+rt.start)
		r.stopDead = append(r.stopDead, stopped)
		if (i+1)%50 == 0 {
			fmt.Fprintf(os.Stderr, "  manager: %d/%d round trips\n", i+1, o.managerRuns)
		}
	}

	for _, parallel := range []int{1, o.parallel} {
		ids, elapsed, err := b.startMany(ctx, o.managerContainers, parallel)
		if err == nil && parallel == o.parallel {
			// Every shim is up with its container: what does each cost?
			// A shim gives back what create needed a second after READY
			// (shim/memory.go); measure after that, in the steady state.
			time.Sleep(2 * time.Second)
			err = r.measureMemory(ctx, b.c, ids, d.cmd.Process.Pid)
		}
		if cerr := b.removeAll(ctx, ids, parallel); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("throughput, %d clients: %w", parallel, err)
		}
		r.throughput = append(r.throughput, bench.Throughput{Name: "manager", Parallel: parallel, Containers: len(ids), Elapsed: elapsed})
	}
	return r, nil
}

// daemon is a running cmanagerd.
type daemon struct {
	cmd    *exec.Cmd
	client *api.Client
	log    string
}

// startDaemon runs cmanagerd with everything (state, sockets, runtime
// root) under dir and waits until it answers.
func startDaemon(daemonBin, shimBin, dir string) (*daemon, error) {
	logPath := filepath.Join(dir, "cmanagerd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create daemon log: %w", err)
	}
	defer logFile.Close() // the daemon has its own copy
	sock := filepath.Join(dir, "cm.sock")
	cmd := exec.Command(daemonBin,
		"--state-dir", filepath.Join(dir, "state"),
		"--socket", sock, "--shim-socket", filepath.Join(dir, "shim.sock"),
		"--runtime-root", filepath.Join(dir, "rt"), "--shim", shimBin,
		// Heartbeats every 2s from 50 shims would be part of what is
		// measured; the default interval is what a real host has.
		"--log-level", "info")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start cmanagerd: %w", err)
	}
	d := &daemon{cmd: cmd, client: api.NewClient(sock), log: logPath}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.client.WaitUp(ctx); err != nil {
		d.stop()
		return nil, fmt.Errorf("%w within 10s (see %s)", err, logPath)
	}
	return d, nil
}

// stop ends the daemon with SIGTERM, as a service manager would. The
// benchmark removed every container first, so no shim outlives it.
func (d *daemon) stop() {
	d.client.Close()
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
}

// managerClient runs the benchmark's operations, as cmctl would.
type managerClient struct {
	c        *api.Client
	bundle   string
	stateDir string // the daemon's, to read a shim's log
}

// roundTrip is one create→RUNNING.
type roundTrip struct {
	id                       string
	ready, start, shimCreate time.Duration
}

// createRunning creates a container, waits until it is READY and starts
// it; start answers once the shim reported RUNNING. With readLog, it also
// reads from the shim's log how long runtime.Create took inside the shim.
func (b managerClient) createRunning(ctx context.Context, readLog bool) (roundTrip, error) {
	began := time.Now()
	c, err := b.c.Create(ctx, api.CreateRequest{Bundle: b.bundle, Args: []string{"sleep", "1000"}})
	if err != nil {
		return roundTrip{}, err
	}
	rt := roundTrip{id: c.ID}
	if c, err = b.c.Wait(ctx, c.ID, manager.Ready); err != nil {
		return rt, err
	}
	if c.State != manager.Ready {
		return rt, fmt.Errorf("container %s is %s, not READY: %s", c.ID, c.State, c.Error)
	}
	rt.ready = time.Since(began)
	began = time.Now()
	if c, err = b.c.Start(ctx, c.ID); err != nil {
		return rt, err
	}
	rt.start = time.Since(began)
	if c.State != manager.Running {
		return rt, fmt.Errorf("container %s is %s after start, not RUNNING", c.ID, c.State)
	}
	if readLog {
		rt.shimCreate = b.shimCreateTime(c.ID)
	}
	return rt, nil
}

// shimCreatedRE matches the line cmshim logs once runtime.Create returned.
var shimCreatedRE = regexp.MustCompile(`container created in (\S+) `)

// shimCreateTime returns how long the shim of id said runtime.Create
// took, or 0 if its log does not say.
func (b managerClient) shimCreateTime(id string) time.Duration {
	data, err := os.ReadFile(filepath.Join(b.stateDir, "containers", id, "shim.log"))
	if err != nil {
		return 0
	}
	m := shimCreatedRE.FindSubmatch(data)
	if m == nil {
		return 0
	}
	d, _ := time.ParseDuration(string(m[1]))
	return d
}

// stopDead stops a container with SIGKILL (busybox sleep as PID 1 ignores
// SIGTERM, and the grace period is not what is measured) and waits until
// the shim reported it DEAD.
func (b managerClient) stopDead(ctx context.Context, id string) (time.Duration, error) {
	began := time.Now()
	if _, err := b.c.Stop(ctx, id, api.StopRequest{Signal: "KILL"}); err != nil {
		return 0, err
	}
	c, err := b.c.Wait(ctx, id, manager.Dead)
	if err != nil {
		return 0, err
	}
	if c.State != manager.Dead {
		return 0, fmt.Errorf("container %s is %s after stop, not DEAD", id, c.State)
	}
	return time.Since(began), nil
}

func (b managerClient) remove(ctx context.Context, id string) error {
	if _, err := b.c.Delete(ctx, id, true); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return nil
}

// startMany brings n containers to RUNNING with parallel clients and
// returns their ids and the time from the first create to the last
// RUNNING. The ids are returned even on error, for the clean-up.
func (b managerClient) startMany(ctx context.Context, n, parallel int) ([]string, time.Duration, error) {
	var (
		mu  sync.Mutex
		ids []string
		g   errgroup.Group
	)
	g.SetLimit(parallel)
	began := time.Now()
	for range n {
		g.Go(func() error {
			rt, err := b.createRunning(ctx, false)
			if rt.id != "" {
				mu.Lock()
				ids = append(ids, rt.id)
				mu.Unlock()
			}
			return err
		})
	}
	err := g.Wait()
	return ids, time.Since(began), err
}

// removeAll kills and deletes ids, parallel at a time; it tries them all.
func (b managerClient) removeAll(ctx context.Context, ids []string, parallel int) error {
	var g errgroup.Group
	g.SetLimit(parallel)
	for _, id := range ids {
		g.Go(func() error { return b.remove(ctx, id) })
	}
	return g.Wait()
}

// measureMemory reads the resident memory of every shim of ids and of the
// daemon while they all run.
func (r *managerResult) measureMemory(ctx context.Context, c *api.Client, ids []string, daemonPid int) error {
	for _, id := range ids {
		got, err := c.Get(ctx, id)
		if err != nil {
			return err
		}
		m, err := bench.ProcMemory(got.ShimPid)
		if err != nil {
			return err
		}
		r.shims++
		r.shimRSS = append(r.shimRSS, m.RSS)
		r.shimAnon = append(r.shimAnon, m.Anon)
		r.shimPss = append(r.shimPss, m.Pss)
	}
	m, err := bench.ProcMemory(daemonPid)
	if err != nil {
		return err
	}
	r.daemonRSSKiB = m.RSS
	return nil
}

// summary writes the manager section of the report.
func (r *managerResult) summary(w *strings.Builder) {
	fmt.Fprintf(w, "## The manager: round trips over its client socket\n\n")
	fmt.Fprintf(w, "A real cmanagerd (executor with 4 workers, default heartbeats) launches the real cmshim for "+
		"every container; the benchmark speaks to its client socket with cm/manager/api, as cmctl does. "+
		"The containers run `sleep 1000` from the same bundle and config.json. "+
		"%d round trips one at a time after %d warm-up ones; each is create, wait for READY, start "+
		"(answered once the shim reported RUNNING), then stop with SIGKILL and wait for DEAD, then rm.\n\n",
		r.runs, r.warmup)
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
	fmt.Fprintln(w)
	p50 := bench.Percentile(slices.Sorted(slices.Values(r.createRun)), 50)
	fmt.Fprintf(w, "- %-26s %8s  (target < %s: %s)\n", "create→RUNNING p50", msf(p50), msf(managerP50Goal), verdict(p50 < managerP50Goal))
	for _, t := range r.throughput {
		if t.Parallel == 1 {
			continue
		}
		fmt.Fprintf(w, "- %-26s %6.1f/s  (target >= %.0f/s: %s)\n", fmt.Sprintf("containers/s, %d clients", t.Parallel),
			t.PerSecond(), managerRateGoal, verdict(t.PerSecond() >= managerRateGoal))
	}
	if r.shims > 0 {
		med := func(v []int64) string {
			s := slices.Sorted(slices.Values(v))
			return fmt.Sprintf("%.1f MiB", float64(bench.Percentile(s, 50))/1024)
		}
		fmt.Fprintf(w, "\nMemory with %d containers running, median over their shims: VmRSS %s, of which anonymous %s "+
			"(the rest is the cmshim binary and libc, shared page cache); Pss %s. The daemon: VmRSS %.1f MiB.\n",
			r.shims, med(r.shimRSS), med(r.shimAnon), med(r.shimPss), float64(r.daemonRSSKiB)/1024)
	}
	fmt.Fprintf(w, "\nThe daemon's log: %s.\n", r.log)
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "NOT met"
}

// msf formats a duration in milliseconds with two decimals.
func msf(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
