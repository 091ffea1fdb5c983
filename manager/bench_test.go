package manager

import (
	"fmt"
	"sync"
	"testing"
)

// BenchmarkTransitions compares the lock-free table (sync.Map lookup, then
// a compare-and-swap of the entry's snapshot pointer) with a plain map
// behind one mutex, for 1, 2 and 8 goroutines each driving its own share of
// 1024 containers around the RUNNING → LOST → RUNNING cycle. Both check
// every transition against the table. Read the transitions/s metric.
func BenchmarkTransitions(b *testing.B) {
	const containers = 1024
	ids := make([]string, containers)
	for i := range ids {
		ids[i] = fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15)
	}
	// step i of a goroutine: odd steps lose the container, even ones bring it back.
	next := func(i int) (State, Actor) {
		if i%2 == 0 {
			return Lost, Watchdog
		}
		return Running, Shim
	}
	for _, goroutines := range []int{1, 2, 8} {
		b.Run(fmt.Sprintf("lockfree/goroutines=%d", goroutines), func(b *testing.B) {
			var tab Table[struct{}]
			for _, id := range ids {
				if err := tab.Add(newTestEntry(id, "", Running)); err != nil {
					b.Fatal(err)
				}
			}
			runSplit(b, goroutines, containers, func(id string, i int) error {
				to, by := next(i)
				_, _, err := tab.Get(id).Transition(to, by)
				return err
			}, ids)
		})
		b.Run(fmt.Sprintf("mutexmap/goroutines=%d", goroutines), func(b *testing.B) {
			m := newMutexMap(ids, Running)
			runSplit(b, goroutines, containers, func(id string, i int) error {
				to, by := next(i)
				return m.transition(id, to, by)
			}, ids)
		})
	}
}

// runSplit shares b.N transitions among goroutines; goroutine g owns the
// containers whose index is g modulo goroutines, so no two goroutines touch
// the same container and every transition is legal.
func runSplit(b *testing.B, goroutines, containers int, step func(id string, i int) error, ids []string) {
	per := b.N/goroutines + 1
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := range goroutines {
		mine := ids[g:]
		wg.Go(func() {
			owned := (len(mine) + goroutines - 1) / goroutines
			for i := range per {
				// Visit each owned container once per round, so consecutive
				// steps of one container alternate LOST and RUNNING.
				round, k := i/owned, i%owned
				if err := step(mine[k*goroutines], round); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(per*goroutines)/b.Elapsed().Seconds(), "transitions/s")
}

// mutexMap is the obvious alternative the benchmark compares against.
type mutexMap struct {
	mu sync.Mutex
	m  map[string]*mutexEntry
}

type mutexEntry struct {
	state   State
	version uint64
}

func newMutexMap(ids []string, s State) *mutexMap {
	m := &mutexMap{m: make(map[string]*mutexEntry, len(ids))}
	for _, id := range ids {
		m.m[id] = &mutexEntry{state: s}
	}
	return m
}

func (m *mutexMap) transition(id string, to State, by Actor) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.m[id]
	if err := CheckTransition(id, e.state, to, by); err != nil {
		return err
	}
	e.state = to
	e.version++
	return nil
}
