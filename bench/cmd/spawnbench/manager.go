package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"cm/bench"
	"cm/bench/managed"
)

// managerResult is what the manager benchmark found.
type managerResult struct {
	runs, warmup int
	config       string // the spawn config its containers' bundle has
	// Per round trip, one value per run.
	createReady []time.Duration // POST create until the container is READY (the shim made it)
	shimCreate  []time.Duration // of which the shim's in-process runtime.Create, from its shim.log
	start       []time.Duration // POST start until RUNNING
	createRun   []time.Duration // the two above together: create→RUNNING
	stopDead    []time.Duration // POST stop (KILL) until DEAD
	throughput  []bench.Throughput
	footprint   managed.Footprint // with the parallel batch running
	log         string            // the daemon's log file
}

// managerBench starts a real cmanagerd, which launches the real cmshim
// for every container, and drives it over its client socket the way
// cmctl does: the round trips create→RUNNING and stop→DEAD one at a
// time, then how many containers per second it starts with 1 and with
// parallel clients, and what each running container costs. The
// containers run `sleep 1000` from the bundle of one spawn config.
func managerBench(o options, work string, cfg spawnConfig) (*managerResult, error) {
	progress(fmt.Sprintf("manager: %d round trips, then %d containers with 1 and %d clients (%s)",
		o.managerRuns, o.managerContainers, bench.ManagerRateClients, cfg.name))
	r, err := measureManager(o, work, cfg)
	if err != nil {
		return nil, fmt.Errorf("manager: %w", err)
	}
	return r, nil
}

func measureManager(o options, work string, cfg spawnConfig) (*managerResult, error) {
	d, err := managed.Start(o.cmanagerd, filepath.Join(work, "manager"))
	if err != nil {
		return nil, err
	}
	defer d.Stop()

	r := &managerResult{runs: o.managerRuns, warmup: o.warmup, config: cfg.name, log: d.Log}
	b := managed.Driver{C: d.Client, Bundle: cfg.bundle, Args: []string{"sleep", "1000"}, StateDir: d.StateDir}
	ctx := context.Background()

	for i := -o.warmup; i < o.managerRuns; i++ {
		rt, err := b.CreateRunning(ctx, i >= 0)
		if err != nil {
			if rt.ID != "" {
				_ = b.Remove(ctx, rt.ID) // no shim may outlive the benchmark
			}
			return nil, fmt.Errorf("create→RUNNING, run %d: %w", i, err)
		}
		stopped, err := b.StopDead(ctx, rt.ID)
		if err != nil {
			_ = b.Remove(ctx, rt.ID)
			return nil, fmt.Errorf("stop→DEAD, run %d: %w", i, err)
		}
		if err := b.Remove(ctx, rt.ID); err != nil {
			return nil, err
		}
		if i < 0 {
			continue
		}
		r.createReady = append(r.createReady, rt.Ready)
		if rt.ShimCreate > 0 {
			r.shimCreate = append(r.shimCreate, rt.ShimCreate)
		}
		r.start = append(r.start, rt.Start)
		r.createRun = append(r.createRun, rt.Ready+rt.Start)
		r.stopDead = append(r.stopDead, stopped)
		if (i+1)%50 == 0 {
			fmt.Fprintf(os.Stderr, "  manager: %d/%d round trips\n", i+1, o.managerRuns)
		}
	}

	for _, parallel := range []int{1, bench.ManagerRateClients} {
		ids, elapsed, errs := b.StartMany(ctx, o.managerContainers, parallel, nil)
		var err error
		if len(errs) > 0 {
			err = fmt.Errorf("%d of %d failed, the first: %w", len(errs), o.managerContainers, errs[0])
		}
		if err == nil && parallel == bench.ManagerRateClients {
			// Every shim is up with its container: what does each cost?
			// A shim gives back what create needed a second after READY
			// (shim/memory.go); measure after that, in the steady state.
			time.Sleep(2 * time.Second)
			r.footprint, err = d.Measure(ctx, ids)
		}
		if cerr := b.RemoveAll(ctx, ids, parallel); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("throughput, %d clients: %w", parallel, err)
		}
		r.throughput = append(r.throughput, bench.Throughput{Name: "manager", Config: cfg.name, Parallel: parallel, Containers: len(ids), Elapsed: elapsed})
	}
	return r, nil
}
