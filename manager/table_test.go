package manager

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func newTestEntry(id, name string, s State) *Entry[struct{}] {
	return NewEntry(id, name, time.Now(), struct{}{}, Snapshot{State: s})
}

func TestTableAddGetRemove(t *testing.T) {
	var tab Table[struct{}]
	a := newTestEntry("aaaa", "web", Ready)
	require.NoError(t, tab.Add(a))
	require.ErrorIs(t, tab.Add(newTestEntry("bbbb", "web", Ready)), ErrDuplicate)
	require.ErrorIs(t, tab.Add(newTestEntry("aaaa", "other", Ready)), ErrDuplicate)
	// The failed add of "other" must not have reserved its name.
	require.Nil(t, tab.Get("other"))
	require.Same(t, a, tab.Get("aaaa"))
	require.Same(t, a, tab.Get("web"))
	require.Nil(t, tab.GetID("web"))
	require.Equal(t, 1, tab.Len())
	require.True(t, tab.Remove(a))
	require.False(t, tab.Remove(a))
	require.Nil(t, tab.Get("web"))
	require.Equal(t, 0, tab.Len())
	require.NoError(t, tab.Add(newTestEntry("bbbb", "web", Ready)), "the name is free again")
}

func TestTableList(t *testing.T) {
	var tab Table[struct{}]
	base := time.Now()
	for i := 5; i > 0; i-- {
		e := NewEntry(fmt.Sprintf("id%d", i), "", base.Add(time.Duration(i)*time.Second), struct{}{}, Snapshot{State: Ready})
		require.NoError(t, tab.Add(e))
	}
	var ids []string
	for _, e := range tab.List() {
		ids = append(ids, e.ID)
	}
	require.Equal(t, []string{"id1", "id2", "id3", "id4", "id5"}, ids)
}

func TestUpdateRaceOneWinner(t *testing.T) {
	// Many shims race to report the same container RUNNING: exactly one
	// changes it, the others see it already RUNNING.
	e := newTestEntry("c1", "", Ready)
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for range 16 {
		wg.Go(func() {
			before, after, err := e.Transition(Running, Shim)
			require.NoError(t, err)
			if before != after {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, winners)
	require.Equal(t, Running, e.Snap().State)
	require.Equal(t, uint64(1), e.Snap().Version)
}

func TestUpdateRefusesIllegal(t *testing.T) {
	e := newTestEntry("c1", "", Dead)
	_, _, err := e.Transition(Running, Shim)
	require.ErrorIs(t, err, ErrIllegal)
	_, _, err = e.Transition(Lost, Watchdog)
	require.ErrorIs(t, err, ErrIllegal)
	require.Equal(t, Dead, e.Snap().State)
	// A facts change without a state change needs no table row.
	before, after, err := e.Update(Shim, func(cur *Snapshot) (State, *Facts, error) {
		f := *cur.Facts
		f.ExitCode = 3
		return cur.State, &f, nil
	})
	require.NoError(t, err)
	require.NotSame(t, before, after)
	require.Equal(t, 3, e.Snap().ExitCode)
	require.Equal(t, 0, before.ExitCode, "the old snapshot is untouched")
}

func TestCommitKeepsOrderAndLosesNothing(t *testing.T) {
	// Concurrent facts changes: every one is recorded exactly once, in
	// version order, and none overwrites another.
	e := newTestEntry("c1", "", Running)
	const workers, each = 8, 200
	var recorded []uint64
	record := func(before, after *Snapshot) error {
		require.Equal(t, before.Version+1, after.Version)
		recorded = append(recorded, after.Version) // Commit serializes record calls
		return nil
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				before, after, err := e.Update(Shim, func(cur *Snapshot) (State, *Facts, error) {
					f := *cur.Facts
					f.ReportSeq++
					return cur.State, &f, nil
				})
				require.NoError(t, err)
				require.NoError(t, e.Commit(before, after, record))
			}
		})
	}
	wg.Wait()
	require.Equal(t, uint64(workers*each), e.Snap().ReportSeq)
	require.Len(t, recorded, workers*each)
	for i, v := range recorded {
		require.Equal(t, uint64(i+1), v)
	}
}

func TestWatchBookkeeping(t *testing.T) {
	e := newTestEntry("c1", "", Running)
	_, ok := e.Deadline()
	require.False(t, ok)
	at := time.Now().Add(time.Minute)
	e.Expect(at, true)
	got, ok := e.Deadline()
	require.True(t, ok)
	require.Equal(t, at.UnixNano(), got.UnixNano())
	require.True(t, e.Unconfirmed())
	e.Heard(at.Add(time.Second))
	require.False(t, e.Unconfirmed())

	require.Zero(t, e.Told(), "no interval given yet")
	require.Zero(t, e.Tell(2*time.Second))
	require.Equal(t, 2*time.Second, e.Tell(8*time.Second), "Tell returns the interval given before")
	require.Equal(t, 8*time.Second, e.Told())
}
