// Package events is cmanagerd's event stream: a ring buffer holding the
// latest events, each with a sequence number, and subscriptions that read
// it at their own pace. A subscription that falls behind the ring gets an
// explicit resync event, never a silent gap. It decides nothing about
// containers: the daemon publishes, subscribers read.
package events

import (
	"context"
	"sync"
	"time"

	"cm/manager/api"
)

// Bus is the ring of recent events. Subscriptions are just cursors into
// it, so a slow subscriber costs the publisher nothing: it finds out it was
// overtaken when it comes back for more.
type Bus struct {
	mu    sync.Mutex
	ring  []api.Event
	first uint64        // oldest sequence number still in the ring
	next  uint64        // sequence number of the next event
	wake  chan struct{} // closed by the next Publish
}

// New makes a bus keeping the latest size events, numbering from firstSeq.
func New(size int, firstSeq uint64) *Bus {
	if size < 1 {
		size = 1
	}
	return &Bus{ring: make([]api.Event, size), first: firstSeq, next: firstSeq, wake: make(chan struct{})}
}

// Publish numbers ev, stamps its time if unset, keeps it and wakes readers.
func (b *Bus) Publish(ev api.Event) api.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	ev.Seq = b.next
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	b.ring[ev.Seq%uint64(len(b.ring))] = ev
	b.next++
	if b.next-b.first > uint64(len(b.ring)) {
		b.first++
	}
	close(b.wake)
	b.wake = make(chan struct{})
	return ev
}

// Last is the sequence number of the latest event (one less than the
// first number, before any).
func (b *Bus) Last() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.next - 1
}

// Changed returns a channel closed by the next Publish. Take it before
// checking what you wait for, so no event can slip in between.
func (b *Bus) Changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.wake
}

// Subscription reads the events after a sequence number.
type Subscription struct {
	bus   *Bus
	after uint64 // the last sequence number delivered
}

// Subscribe reads the events after since.
func (b *Bus) Subscribe(since uint64) *Subscription { return &Subscription{bus: b, after: since} }

// SubscribeNew reads only events published from now on.
func (b *Bus) SubscribeNew() *Subscription { return b.Subscribe(b.Last()) }

// Next returns the events after the last ones returned, waiting for one if
// there are none. If some of them are no longer in the ring, or the cursor
// is ahead of the stream (a number from another boot), it returns a single
// resync event instead, whose Seq is the latest event, and carries on after it.
func (s *Subscription) Next(ctx context.Context) ([]api.Event, error) {
	b := s.bus
	for {
		b.mu.Lock()
		if s.after+1 < b.first || s.after >= b.next {
			ev := api.Event{Seq: b.next - 1, Time: time.Now(), Type: api.EventResync,
				Reason: "events were missed; list the containers again, then read on"}
			if s.after >= b.next {
				ev.Reason = "since is ahead of the stream; list the containers again, then read on"
			}
			s.after = b.next - 1
			b.mu.Unlock()
			return []api.Event{ev}, nil
		}
		if s.after+1 < b.next {
			out := make([]api.Event, 0, b.next-s.after-1)
			for seq := s.after + 1; seq < b.next; seq++ {
				out = append(out, b.ring[seq%uint64(len(b.ring))])
			}
			s.after = b.next - 1
			b.mu.Unlock()
			return out, nil
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
