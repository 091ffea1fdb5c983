package shim

import (
	"context"
	"errors"
	"log"
	"net/http"
	"sync"
	"time"

	"cm/shim/proto"
)

// link is the shim's side of the conversation with the manager. It
// pushes: it registers, delivers every report in order and sends
// heartbeats. When the manager is unreachable it keeps the reports and
// tries again with backoff, forever: a shim outlives its manager, and
// what happened meanwhile is delivered when the manager returns.
type link struct {
	id     string
	client managerClient
	hello  func() proto.Register // the registration, with the current state
	abort  func(error)           // called once, on the manager's 404
	wake   chan struct{}         // a report was pushed

	mu      sync.Mutex
	reports []proto.Report // every report made, in order (three at most)
	acked   int            // how many of them the manager has acknowledged
}

// Timing of the link.
const (
	minBackoff       = 50 * time.Millisecond
	maxBackoff       = 2 * time.Second // how long a returning manager waits for us, at most
	defaultHeartbeat = 2 * time.Second // if the manager names no interval
)

// errReconnected ends a session whose connection was replaced: the
// manager on the other end may be a new process that must hear the
// registration again.
var errReconnected = errors.New("connection to the manager was replaced")

func newLink(id string, client managerClient, hello func() proto.Register, abort func(error)) *link {
	return &link{id: id, client: client, hello: hello, abort: abort, wake: make(chan struct{}, 1)}
}

// push queues a report and wakes the link to deliver it.
func (l *link) push(r proto.Report) {
	l.mu.Lock()
	l.reports = append(l.reports, r)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// run keeps sessions going until ctx ends or the manager says 404.
func (l *link) run(ctx context.Context) {
	backoff := minBackoff
	down := false
	for ctx.Err() == nil {
		err := l.session(ctx, func() {
			if down {
				log.Printf("manager is back")
			}
			backoff, down = minBackoff, false
		})
		switch {
		case errors.Is(err, ErrUnknownContainer):
			l.abort(err)
			return
		case errors.Is(err, errReconnected) || ctx.Err() != nil:
			continue
		case !down:
			log.Printf("manager unreachable, retrying with backoff: %v", err)
			down = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// session registers, then delivers reports and heartbeats until an
// error ends it; registered is called once the manager has answered.
func (l *link) session(ctx context.Context, registered func()) error {
	var reply proto.RegisterReply
	if err := l.client.post(ctx, proto.PathRegister, l.hello(), &reply); err != nil {
		return err
	}
	registered()
	l.rewind()
	if err := l.flush(ctx); err != nil {
		return err
	}
	// From here on, a new connection may mean a new manager process; the
	// check runs after heartbeats, so a manager that closes every
	// connection costs a registration per interval, not a busy loop.
	conn := l.client.dials.Load()
	interval := time.Duration(reply.HeartbeatInterval)
	if interval <= 0 {
		interval = defaultHeartbeat
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.wake:
			if err := l.flush(ctx); err != nil {
				return err
			}
		case <-tick.C:
			var beat proto.HeartbeatReply
			if err := l.client.post(ctx, proto.PathHeartbeat, proto.Heartbeat{ID: l.id, Interval: proto.Interval(interval)}, &beat); err != nil {
				return err
			}
			if l.client.dials.Load() != conn {
				return errReconnected
			}
			// The manager paces all shims together: it may name a new
			// interval with any answer; an older one names none.
			if next := time.Duration(beat.HeartbeatInterval); next > 0 && next != interval {
				interval = next
				tick.Reset(interval)
			}
		}
	}
}

// rewind makes the next flush send the latest report again, even if it
// was acknowledged: reports are idempotent, and a manager we register
// with anew hears the current state by report as well.
func (l *link) rewind() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.acked > 0 && l.acked == len(l.reports) {
		l.acked--
	}
}

// flush sends the reports the manager has not acknowledged, in order.
func (l *link) flush(ctx context.Context) error {
	for {
		l.mu.Lock()
		if l.acked == len(l.reports) {
			l.mu.Unlock()
			return nil
		}
		r := l.reports[l.acked]
		l.mu.Unlock()
		err := l.client.post(ctx, proto.PathReport, r, nil)
		if rejected(err) {
			// Sending it again would get the same answer and hold back
			// the reports after it.
			log.Printf("manager rejected report %d (%s), dropping it: %v", r.Seq, r.State, err)
		} else if err != nil {
			return err
		}
		l.mu.Lock()
		l.acked++
		l.mu.Unlock()
	}
}

// rejected tells a manager's final "no" to a report (400, 409...) from
// failures worth retrying: no answer, 5xx, timeouts, throttling.
// The "unknown container" 404 is neither: it aborts the shim.
func rejected(err error) bool {
	var se *StatusError
	if !errors.As(err, &se) || errors.Is(err, ErrUnknownContainer) {
		return false
	}
	switch se.Code {
	case http.StatusNotFound, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return se.Code >= 400 && se.Code < 500
}
