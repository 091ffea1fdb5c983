package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"cm/bench"
	"cm/bench/managed"
	"cm/manager"
)

// report is everything the scale run found.
type report struct {
	o           options
	loadBefore  string
	lim         limits
	probe       perContainer
	fits        int
	binding     string
	created     int           // containers the daemon made, running or not
	failures    []error       // create→RUNNING failures
	createTime  time.Duration // from the first create to the last answer
	started     int           // of the N-1 after the probe, how many got to RUNNING
	interrupted bool          // SIGINT or SIGTERM stopped the creating
	foot        managed.Footprint
	tasksAtFull int   // every task on the machine with all running
	memAtFull   int64 // MemAvailable with all running, KiB
	psWalls     []time.Duration
	psLines     int
	removeTime  time.Duration
	removeErr   error
	leftovers   []string
	loadAfter   string
}

// scale runs the whole measurement; the report is nil when it stopped
// before creating the N containers (they do not fit, or the probe failed).
func scale(ctx context.Context, o options, work string) (*report, error) {
	progress("building the busybox root filesystem")
	bundle := filepath.Join(work, "bundle")
	if out, err := exec.Command(o.mkbundle, bundle, "sleep", "1000000").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("make bundle: %w: %s", err, strings.TrimSpace(string(out)))
	}
	r := &report{o: o, loadBefore: loadAverage()}
	var err error
	if r.lim, err = readLimits(); err != nil {
		return nil, err
	}
	d, err := managed.Start(o.cmanagerd, filepath.Join(work, "manager"))
	if err != nil {
		return nil, err
	}
	defer d.Stop()
	drv := managed.Driver{C: d.Client, Rootfs: filepath.Join(bundle, "rootfs"), Args: []string{"sleep", "1000000"}, StateDir: d.StateDir}

	// The probe: one container, measured alone, says what each takes.
	fds0, err := openFDs(d.Pid())
	if err != nil {
		return nil, err
	}
	ids, _, errs := drv.StartMany(ctx, 1, 1, nil)
	if len(errs) > 0 {
		return nil, errors.Join(fmt.Errorf("probe container: %w", errs[0]), drv.RemoveAll(context.Background(), ids, 1))
	}
	time.Sleep(2 * time.Second) // the shim gives back what create needed
	probe, err := d.Measure(ctx, ids)
	fds1, ferr := openFDs(d.Pid())
	if err = errors.Join(err, ferr); err != nil {
		return nil, errors.Join(err, drv.RemoveAll(context.Background(), ids, 1))
	}
	r.probe = perContainer{tasks: probe.Tasks[0], daemonFDs: max(fds1-fds0, 1), memKiB: probe.ShimAnon[0]}
	r.fits, r.binding = r.lim.fit(r.probe)
	progress(fmt.Sprintf("one container takes %d tasks, daemon descriptors %d and anonymous shim memory %d KiB: "+
		"room for %d (bound by %s)", r.probe.tasks, r.probe.daemonFDs, r.probe.memKiB, r.fits, r.binding))
	if o.n > r.fits {
		rmErr := drv.RemoveAll(context.Background(), ids, 1)
		return nil, errors.Join(fmt.Errorf("%d containers do not fit: at %d tasks each, %s leaves room for %d (try --n %d, or --pid-max)",
			o.n, r.probe.tasks, r.binding, r.fits, r.fits), rmErr)
	}

	progress(fmt.Sprintf("creating and starting %d containers with %d clients", o.n, o.clients))
	began := time.Now()
	more, elapsed, errs := drv.StartMany(ctx, o.n-1, o.clients, func(done int) {
		if done%250 == 0 {
			fmt.Fprintf(os.Stderr, "  %d/%d running (%.1f/s)\n", done+1, o.n, float64(done)/time.Since(began).Seconds())
		}
	})
	ids = append(ids, more...)
	r.created, r.failures, r.createTime = len(ids), errs, elapsed
	r.started, r.interrupted = o.n-1-len(errs), ctx.Err() != nil

	if ctx.Err() == nil {
		r.measureFull(ctx, d, o)
	}

	progress(fmt.Sprintf("removing %d containers", len(ids)))
	began = time.Now()
	r.removeErr = drv.RemoveAll(context.Background(), ids, o.clients)
	r.removeTime = time.Since(began)
	r.leftovers, err = waitClean(d, ids)
	r.loadAfter = loadAverage()
	return r, err
}

// measureFull reads the footprint and times cmctl ps with all running.
func (r *report) measureFull(ctx context.Context, d *managed.Daemon, o options) {
	time.Sleep(2 * time.Second) // the steady state, as in the probe
	running, err := d.Client.List(ctx, manager.Running)
	if err != nil {
		r.failures = append(r.failures, fmt.Errorf("list running: %w", err))
		return
	}
	ids := make([]string, len(running))
	for i, c := range running {
		ids[i] = c.ID
	}
	if r.foot, err = d.Measure(ctx, ids); err != nil {
		r.failures = append(r.failures, fmt.Errorf("footprint: %w", err))
	}
	r.tasksAtFull, _ = countTasks()
	r.memAtFull = memAvailable()
	progress(fmt.Sprintf("timing `cmctl ps` with %d containers, %d runs", len(ids), o.psRuns))
	for i := -1; i < o.psRuns; i++ { // one warm-up run
		began := time.Now()
		out, err := exec.Command(o.cmctl, "--socket", d.Socket, "ps").Output()
		wall := time.Since(began)
		if err != nil {
			r.failures = append(r.failures, fmt.Errorf("cmctl ps: %w", err))
			return
		}
		if i >= 0 {
			r.psWalls = append(r.psWalls, wall)
			r.psLines = strings.Count(string(out), "\n")
		}
	}
}

// waitClean waits up to 30 s for the removed containers' shims, cgroups
// and state to be gone, and returns what is still there then.
func waitClean(d *managed.Daemon, ids []string) ([]string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		left, err := d.Leftovers(ids)
		if err != nil || len(left) == 0 || time.Now().After(deadline) {
			return left, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// psP50 is the median wall time of cmctl ps.
func (r *report) psP50() time.Duration {
	return bench.Percentile(slices.Sorted(slices.Values(r.psWalls)), 50)
}

// loadAverage returns the 1-minute load average.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	first, _, _ := strings.Cut(string(data), " ")
	return first
}
