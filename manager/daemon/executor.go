package daemon

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// jobTimeout bounds one job, so a hung shim cannot hold a worker forever.
const jobTimeout = time.Minute

// Executor is a bounded pool of workers. API handlers record intent, then
// queue the slow part (writing bundles, launching shims, talking to them)
// here; at most Workers jobs run at once and at most the queue's capacity
// wait, after which submitters wait too: back-pressure instead of an
// unbounded pile of goroutines.
type Executor struct {
	jobs    chan func(context.Context)
	workers int
	busy    atomic.Int64

	mu      sync.RWMutex // guards closing jobs against sends
	stopped bool
	wg      sync.WaitGroup

	// quit ends every job's context (Cancel): at shutdown the jobs still
	// queued run at once with an ended context and give up, so shutdown
	// takes as long as the jobs under way, not the whole queue.
	quit   context.Context
	cancel context.CancelFunc
}

// NewExecutor makes an executor; Start runs its workers.
func NewExecutor(workers, queue int) *Executor {
	quit, cancel := context.WithCancel(context.Background())
	return &Executor{jobs: make(chan func(context.Context), queue), workers: workers, quit: quit, cancel: cancel}
}

// Start runs the workers.
func (x *Executor) Start() {
	for range x.workers {
		x.wg.Go(func() {
			for job := range x.jobs {
				x.busy.Add(1)
				ctx, cancel := context.WithTimeout(x.quit, jobTimeout)
				job(ctx)
				cancel()
				x.busy.Add(-1)
			}
		})
	}
}

// Submit queues job, waiting while the queue is full. An error means the
// job was not queued and will not run.
func (x *Executor) Submit(ctx context.Context, job func(context.Context)) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.stopped {
		return ErrShuttingDown
	}
	select {
	case x.jobs <- job:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Do queues job and waits for its result. If ctx ends first, Do returns
// ctx's error, but a job already queued still runs.
func (x *Executor) Do(ctx context.Context, job func(context.Context) error) error {
	done := make(chan error, 1)
	if err := x.Submit(ctx, func(ctx context.Context) { done <- job(ctx) }); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Cancel ends the context of every job, running or queued. Jobs must then
// return promptly, leaving what they did not do recorded for the next
// daemon (a create stays CREATING; a stop's SIGKILL is re-armed from its
// recorded deadline).
func (x *Executor) Cancel() { x.cancel() }

// Stop refuses new jobs, lets the queued ones run and waits for them.
func (x *Executor) Stop() {
	x.mu.Lock()
	if !x.stopped {
		x.stopped = true
		close(x.jobs)
	}
	x.mu.Unlock()
	x.wg.Wait()
}

// ExecutorStats is the executor's load, for GET /v1/info.
type ExecutorStats struct {
	Workers, Busy, QueueDepth, QueueCapacity int
}

// Stats says how loaded the executor is.
func (x *Executor) Stats() ExecutorStats {
	return ExecutorStats{Workers: x.workers, Busy: int(x.busy.Load()), QueueDepth: len(x.jobs), QueueCapacity: cap(x.jobs)}
}
