package manager

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTableShape(t *testing.T) {
	// Every state is reachable from CREATING, following the table.
	seen := map[State]bool{Creating: true}
	queue := []State{Creating}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, tr := range transitions {
			if tr.From == s && !seen[tr.To] {
				seen[tr.To] = true
				queue = append(queue, tr.To)
			}
		}
	}
	for _, s := range States() {
		require.True(t, seen[s], "%s unreachable from CREATING", s)
	}

	tests := []struct {
		state             State
		terminal, watched bool
	}{
		{Creating, false, true},
		{Ready, false, true},
		{Running, false, true},
		{Paused, false, true},
		{Stopping, false, true},
		{Dead, true, false},
		{Lost, false, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.terminal, Terminal(tt.state), "Terminal(%s)", tt.state)
		require.Equal(t, tt.watched, Watched(tt.state), "Watched(%s)", tt.state)
	}
}

func TestAllowed(t *testing.T) {
	// Allowed agrees with the rows of the table for every pair and actor.
	for _, from := range States() {
		for _, to := range States() {
			for _, by := range Actors() {
				want := false
				for _, tr := range transitions {
					if tr.From == from && tr.To == to && tr.By&by != 0 {
						want = true
					}
				}
				require.Equal(t, want, Allowed(from, to, by), "%s → %s by %s", from, to, by)
				err := CheckTransition("c1", from, to, by)
				if want {
					require.NoError(t, err)
					continue
				}
				require.ErrorIs(t, err, ErrIllegal)
				require.Contains(t, err.Error(), from.String()+" → "+to.String())
			}
		}
	}
	require.False(t, Allowed(0, Ready, Shim))
}

func TestCheckOp(t *testing.T) {
	tests := []struct {
		op      Op
		state   State
		wantErr string
	}{
		{OpStart, Ready, ""},
		{OpStart, Running, "cannot start container c1: it is RUNNING (start needs READY)"},
		{OpStop, Running, ""},
		{OpStop, Stopping, "cannot stop container c1: it is STOPPING (stop needs RUNNING or PAUSED)"},
		{OpKill, Stopping, ""},
		{OpKill, Dead, "cannot kill container c1: it is DEAD (kill needs READY or RUNNING or STOPPING or PAUSED)"},
		{OpKill, Paused, ""},
		{OpStop, Paused, ""},
		{OpPause, Running, ""},
		{OpPause, Ready, "cannot pause container c1: it is READY (pause needs RUNNING)"},
		{OpResume, Paused, ""},
		{OpResume, Running, "cannot resume container c1: it is RUNNING (resume needs PAUSED)"},
		{OpUpdate, Paused, ""},
		{OpUpdate, Dead, "cannot update container c1: it is DEAD (update needs READY or RUNNING or PAUSED)"},
		{OpDelete, Lost, ""},
		{OpDelete, Running, "cannot rm container c1: it is RUNNING (rm needs DEAD or LOST)"},
	}
	for _, tt := range tests {
		err := CheckOp("c1", tt.op, tt.state)
		if tt.wantErr == "" {
			require.NoError(t, err)
			continue
		}
		require.EqualError(t, err, tt.wantErr)
		var ie *IllegalError
		require.True(t, errors.As(err, &ie))
		require.ErrorIs(t, err, ErrIllegal)
	}
}

func TestReported(t *testing.T) {
	tests := []struct {
		current, lostFrom, reported, want State
	}{
		{Ready, 0, Running, Running},
		{Stopping, 0, Running, Stopping},
		{Lost, Stopping, Running, Stopping},
		{Lost, Running, Running, Running},
		{Lost, Stopping, Dead, Dead},
		{Running, 0, Dead, Dead},
		{Running, 0, Paused, Paused},
		{Paused, 0, Running, Running},
		{Lost, Paused, Paused, Paused},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Reported(tt.current, tt.lostFrom, tt.reported), "%+v", tt)
	}
}

func TestDiagrams(t *testing.T) {
	mermaid, dot := Mermaid(), Dot()
	require.True(t, strings.HasPrefix(mermaid, "stateDiagram-v2\n"))
	require.True(t, strings.HasPrefix(dot, "digraph states {"))
	for _, tr := range transitions {
		require.Contains(t, mermaid, tr.From.String()+" --> "+tr.To.String()+" : "+edgeLabel(tr))
		require.Contains(t, dot, tr.From.String()+" -> "+tr.To.String()+" [label=\""+edgeLabel(tr))
	}
	require.Contains(t, mermaid, "[*] --> CREATING")
	require.Contains(t, mermaid, "DEAD --> [*]")
	// One line per edge plus the header, the birth and the rm edges.
	require.Len(t, strings.Split(strings.TrimSpace(mermaid), "\n"), 1+1+len(transitions)+len(deletable()))
}

func TestParseState(t *testing.T) {
	for _, s := range States() {
		got, err := ParseState(strings.ToLower(s.String()))
		require.NoError(t, err)
		require.Equal(t, s, got)
		b, err := s.MarshalText()
		require.NoError(t, err)
		require.Equal(t, s.String(), string(b))
	}
	_, err := ParseState("FROZEN")
	require.ErrorContains(t, err, `unknown state "FROZEN" (want one of CREATING, READY, RUNNING, PAUSED, STOPPING, DEAD, LOST)`)
	_, err = State(0).MarshalText()
	require.Error(t, err)
}

func TestPauseAndRestartEdges(t *testing.T) {
	// Pause and resume are the shim's word; stop leaves PAUSED as it leaves
	// RUNNING; only the restarter brings a DEAD container back, and that
	// does not make DEAD less final to anyone else.
	require.True(t, Allowed(Running, Paused, Shim))
	require.False(t, Allowed(Running, Paused, Client))
	require.True(t, Allowed(Paused, Running, Shim))
	require.True(t, Allowed(Paused, Stopping, Client))
	require.True(t, Allowed(Paused, Dead, Shim))
	require.True(t, Allowed(Dead, Creating, Restarter))
	require.False(t, Allowed(Dead, Creating, Client|Executor|Shim|Watchdog))
	require.False(t, Allowed(Ready, Paused, Shim))
	require.True(t, Terminal(Dead))
	require.Equal(t, "restart", Restarter.String())
}

func TestParseRestartPolicy(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
		max               int
	}{
		{"", "no", "", 0},
		{"no", "no", "", 0},
		{"always", "always", "", 0},
		{"on-failure", "on-failure", "", 0},
		{"on-failure:3", "on-failure:3", "", 3},
		{"on-failure:-1", "", `bad restart policy "on-failure:-1": the maximum after on-failure: must be a whole number ≥ 0`, 0},
		{"on-failure:x", "", `bad restart policy "on-failure:x"`, 0},
		{"always:2", "", `bad restart policy "always:2": only on-failure takes a maximum`, 0},
		{"sometimes", "", `bad restart policy "sometimes": want no, on-failure[:N] or always`, 0},
	}
	for _, tt := range tests {
		p, err := ParseRestartPolicy(tt.in)
		if tt.wantErr != "" {
			require.ErrorContains(t, err, tt.wantErr, tt.in)
			require.ErrorIs(t, err, ErrBadRestartPolicy)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, p.String())
		require.Equal(t, tt.max, p.Max)
	}
}

func TestRestartDecision(t *testing.T) {
	always := RestartPolicy{Name: RestartAlways}
	onFail2 := RestartPolicy{Name: RestartOnFailure, Max: 2}
	onFail := RestartPolicy{Name: RestartOnFailure}
	no := RestartPolicy{Name: RestartNo}
	tests := []struct {
		p              RestartPolicy
		exit, restarts int
		userStopped    bool
		want           bool
	}{
		{always, 0, 100, false, true},
		{always, 137, 0, true, false},
		{onFail2, 3, 0, false, true},
		{onFail2, 3, 1, false, true},
		{onFail2, 3, 2, false, false},
		{onFail2, 0, 0, false, false},
		{onFail, 1, 1000, false, true},
		{no, 1, 0, false, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.p.Restarts(tt.exit, tt.restarts, tt.userStopped), "%+v", tt)
	}
}

func TestBackoff(t *testing.T) {
	require.Equal(t, BackoffFirst, Backoff(0))
	require.Equal(t, 2*BackoffFirst, Backoff(1))
	require.Equal(t, 8*BackoffFirst, Backoff(3))
	require.Equal(t, BackoffMax, Backoff(20))
	require.Equal(t, BackoffMax, Backoff(1000))
}
