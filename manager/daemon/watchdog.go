package daemon

import (
	"context"
	"time"

	"cm/manager"
)

// Watchdog marks LOST every container whose shim has not been heard from
// by its deadline (the TTL after its last message, or the restart grace
// after a restart). It is the one thing that changes state without a
// request, and it only reads the daemon's own memory: it never polls shims.
type Watchdog struct {
	table    *manager.Table[spec]
	interval time.Duration
	markLost func(e *entry, now time.Time) error
}

// Check marks LOST the containers overdue at now and returns their ids.
func (w *Watchdog) Check(now time.Time) []string {
	var lost []string
	for _, e := range w.table.List() {
		if !manager.Watched(e.Snap().State) {
			continue
		}
		if deadline, ok := e.Deadline(); !ok || now.Before(deadline) {
			continue
		}
		if err := w.markLost(e, now); err == nil && e.Snap().State == manager.Lost {
			lost = append(lost, e.ID)
		}
	}
	return lost
}

// Run checks every interval until ctx ends.
func (w *Watchdog) Run(ctx context.Context) {
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			w.Check(now)
		}
	}
}
