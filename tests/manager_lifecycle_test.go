package tests

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
)

// step is one event as the lifecycle test expects it.
type step struct {
	Type     string
	From, To manager.State
	By       string
	ExitCode int // for the DEAD transition
	Signal   int
}

// eventLog collects the daemon's event stream in the background.
type eventLog struct {
	events chan api.Event
}

func subscribe(t *testing.T, m *managerProc) *eventLog {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := m.Client.Events(ctx, nil)
	require.NoError(t, err)
	l := &eventLog{events: make(chan api.Event, 1024)}
	t.Cleanup(func() { cancel(); stream.Close() })
	go func() {
		defer close(l.events)
		for {
			ev, err := stream.Next()
			if err != nil {
				return
			}
			l.events <- ev
		}
	}()
	return l
}

// until reads events until done says the collection is complete, and
// returns them grouped by container id.
func (l *eventLog) until(t *testing.T, done func(byID map[string][]api.Event, last api.Event) bool) map[string][]api.Event {
	t.Helper()
	byID := map[string][]api.Event{}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	for {
		select {
		case ev, ok := <-l.events:
			require.True(t, ok, "event stream ended; got %v", byID)
			byID[ev.ID] = append(byID[ev.ID], ev)
			if done(byID, ev) {
				return byID
			}
		case <-ctx.Done():
			require.FailNow(t, "events did not arrive in time", "got %+v", byID)
		}
	}
}

// TestManagerLifecycle (issue 5): three real busybox containers at once,
// each with a different life, driven with cmctl: one exits 3 by itself, one
// ends on the stop signal, one ignores SIGTERM (PID 1 without a handler)
// and is killed when `stop --time 1` runs out. The event stream shows
// exactly the transitions of each, and inspect the way each ended.
func TestManagerLifecycle(t *testing.T) {
	m := startManager(t, t.TempDir(), "--heartbeat", "200ms")
	events := subscribe(t, m)
	rootfs := managerRootfs()

	type life struct {
		name   string
		args   []string
		stop   []string // cmctl stop flags; nil: it ends by itself
		steps  []step   // after CREATING → READY → RUNNING
		code   int
		signal int
	}
	lives := []life{
		{name: "exits", args: []string{"sh", "-c", "echo hello from exits; exit 3"}, code: 3,
			steps: []step{{Type: api.EventTransition, From: manager.Running, To: manager.Dead, By: "shim", ExitCode: 3}}},
		{name: "graceful", args: []string{"sh", "-c", "trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 0.05; done"},
			stop: []string{"--time", "30"}, code: 42,
			steps: []step{
				{Type: api.EventTransition, From: manager.Running, To: manager.Stopping, By: "client"},
				{Type: api.EventTransition, From: manager.Stopping, To: manager.Dead, By: "shim", ExitCode: 42},
			}},
		{name: "stubborn", args: []string{"sleep", "1000"}, stop: []string{"--time", "1"}, code: 137, signal: 9,
			steps: []step{
				{Type: api.EventTransition, From: manager.Running, To: manager.Stopping, By: "client"},
				{Type: api.EventTransition, From: manager.Stopping, To: manager.Dead, By: "shim", ExitCode: 137, Signal: 9},
			}},
	}

	ids := map[string]string{} // name → id
	for _, l := range lives {
		id := m.cmctlOK(append([]string{"create", "--name", l.name, "--rootfs", rootfs, "--"}, l.args...)...)
		require.Regexp(t, `^[0-9a-f]{16}$`, id)
		ids[l.name] = id
	}
	for _, l := range lives {
		require.Equal(t, ids[l.name], m.cmctlOK("start", l.name))
	}
	// The trap must be set before the stop signal comes.
	require.Eventually(t, func() bool { return strings.Contains(m.cmctlOK("logs", "graceful"), "ready") }, waitLong, tick)

	for _, l := range lives {
		t.Run(l.name, func(t *testing.T) {
			m := m.in(t)
			if l.stop != nil {
				require.Equal(t, ids[l.name], m.cmctlOK(append(append([]string{"stop"}, l.stop...), l.name)...))
			}
			r := m.cmctl("wait", l.name)
			require.Equal(t, l.code, r.code, "cmctl wait exits with the container's exit code: %s", r.stderr)
			var ct api.Container
			require.NoError(t, json.Unmarshal([]byte(m.cmctlOK("inspect", l.name)), &ct))
			require.Equal(t, manager.Dead, ct.State)
			require.Equal(t, l.code, ct.ExitCode, "exitCode")
			require.Equal(t, l.signal, ct.Signal, "signal")
			require.False(t, ct.OOMKilled)
			require.Empty(t, ct.Error)
		})
	}
	require.Contains(t, m.cmctlOK("logs", "exits"), "hello from exits")
	require.Contains(t, m.cmctlOK("logs", "graceful"), "got TERM")

	for _, l := range lives {
		require.Equal(t, ids[l.name], m.cmctlOK("rm", l.name))
	}
	// Everything up to the last event the daemon published, after the rms.
	info, err := m.Client.Info(m.ctx())
	require.NoError(t, err)
	got := events.until(t, func(_ map[string][]api.Event, last api.Event) bool { return last.Seq >= info.LastEvent })

	for _, l := range lives {
		id := ids[l.name]
		want := append([]step{
			{Type: api.EventCreated, To: manager.Creating, By: "client"},
			{Type: api.EventTransition, From: manager.Creating, To: manager.Ready, By: "shim"},
			{Type: api.EventTransition, From: manager.Ready, To: manager.Running, By: "shim"},
		}, l.steps...)
		want = append(want, step{Type: api.EventDeleted, From: manager.Dead, By: "client"})
		var have []step
		for _, ev := range got[id] {
			require.Equal(t, l.name, ev.Name)
			s := step{Type: ev.Type, From: ev.From, To: ev.To, By: ev.By, Signal: ev.Signal}
			if ev.To == manager.Dead {
				require.NotNil(t, ev.ExitCode, "a DEAD event carries the exit code")
				s.ExitCode = *ev.ExitCode
			}
			have = append(have, s)
		}
		require.Equal(t, want, have, "events of %s (%s)", l.name, id)
		delete(got, id)
	}
	require.Empty(t, got, "events of other containers")
	for _, l := range lives {
		m.requireContainerGone(ids[l.name])
	}
	m.requireNoShims()
}
