package managed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"cm/manager"
	"cm/manager/api"
)

// Driver runs the benchmarks' operations on a daemon, as cmctl would.
type Driver struct {
	C        *api.Client
	Bundle   string   // every container's base bundle, or
	Rootfs   string   // every container's root filesystem, with the daemon's default config
	Args     []string // every container's command
	StateDir string   // the daemon's, to read a shim's log
}

// RoundTrip is one create→RUNNING.
type RoundTrip struct {
	ID string
	// Ready is from POST create until READY (the shim made the container),
	// Start from POST start until it answered RUNNING, ShimCreate how long
	// the shim's runtime.Create took by its log (0 if not read).
	Ready, Start, ShimCreate time.Duration
}

// CreateRunning creates a container, waits until it is READY and starts
// it; start answers once the shim reported RUNNING. With readLog, it also
// reads from the shim's log how long runtime.Create took inside the shim.
// The id is set as soon as the container exists, even on error.
func (b Driver) CreateRunning(ctx context.Context, readLog bool) (RoundTrip, error) {
	began := time.Now()
	c, err := b.C.Create(ctx, api.CreateRequest{Bundle: b.Bundle, Rootfs: b.Rootfs, Args: b.Args})
	if err != nil {
		return RoundTrip{}, fmt.Errorf("create: %w", err)
	}
	rt := RoundTrip{ID: c.ID}
	if c, err = b.C.Wait(ctx, c.ID, manager.Ready); err != nil {
		return rt, fmt.Errorf("wait for %s to be READY: %w", rt.ID, err)
	}
	if c.State != manager.Ready {
		return rt, fmt.Errorf("container %s is %s, not READY: %s", c.ID, c.State, c.Error)
	}
	rt.Ready = time.Since(began)
	began = time.Now()
	if c, err = b.C.Start(ctx, c.ID); err != nil {
		return rt, fmt.Errorf("start %s: %w", rt.ID, err)
	}
	rt.Start = time.Since(began)
	if c.State != manager.Running {
		return rt, fmt.Errorf("container %s is %s after start, not RUNNING", c.ID, c.State)
	}
	if readLog {
		rt.ShimCreate = b.shimCreateTime(c.ID)
	}
	return rt, nil
}

// shimCreatedRE matches the line cmshim logs once runtime.Create returned.
var shimCreatedRE = regexp.MustCompile(`container created in (\S+) `)

// shimCreateTime returns how long the shim of id said runtime.Create
// took, or 0 if its log does not say.
func (b Driver) shimCreateTime(id string) time.Duration {
	data, err := os.ReadFile(filepath.Join(b.StateDir, "containers", id, "shim.log"))
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

// StopDead stops a container with SIGKILL (busybox sleep as PID 1 ignores
// SIGTERM, and the grace period is not what is measured) and waits until
// the shim reported it DEAD.
func (b Driver) StopDead(ctx context.Context, id string) (time.Duration, error) {
	began := time.Now()
	if _, err := b.C.Stop(ctx, id, api.StopRequest{Signal: "KILL"}); err != nil {
		return 0, fmt.Errorf("stop %s: %w", id, err)
	}
	c, err := b.C.Wait(ctx, id, manager.Dead)
	if err != nil {
		return 0, fmt.Errorf("wait for %s to be DEAD: %w", id, err)
	}
	if c.State != manager.Dead {
		return 0, fmt.Errorf("container %s is %s after stop, not DEAD", id, c.State)
	}
	return time.Since(began), nil
}

// Remove kills and forgets a container.
func (b Driver) Remove(ctx context.Context, id string) error {
	if _, err := b.C.Delete(ctx, id, true); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	return nil
}

// StartMany brings n containers to RUNNING with parallel clients and
// returns the ids of all it created (for the clean-up, whether they got
// to RUNNING or not), the time from the first create to the last answer,
// and every failure. progress, if not nil, is called after each one.
func (b Driver) StartMany(ctx context.Context, n, parallel int, progress func(done int)) ([]string, time.Duration, []error) {
	var (
		mu   sync.Mutex
		ids  []string
		errs []error
		done atomic.Int64
		g    errgroup.Group
	)
	g.SetLimit(parallel)
	began := time.Now()
	for range n {
		g.Go(func() error {
			rt, err := b.CreateRunning(ctx, false)
			mu.Lock()
			if rt.ID != "" {
				ids = append(ids, rt.ID)
			}
			if err != nil {
				errs = append(errs, err)
			}
			mu.Unlock()
			if progress != nil {
				progress(int(done.Add(1)))
			}
			return nil
		})
	}
	_ = g.Wait()
	return ids, time.Since(began), errs
}

// RemoveAll kills and deletes ids, parallel at a time; it tries them all
// and returns every failure joined.
func (b Driver) RemoveAll(ctx context.Context, ids []string, parallel int) error {
	var (
		mu   sync.Mutex
		errs []error
		g    errgroup.Group
	)
	g.SetLimit(parallel)
	for _, id := range ids {
		g.Go(func() error {
			if err := b.Remove(ctx, id); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	return errors.Join(errs...)
}
