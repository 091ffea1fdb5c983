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
		{OpStop, Stopping, "cannot stop container c1: it is STOPPING (stop needs RUNNING)"},
		{OpKill, Stopping, ""},
		{OpKill, Dead, "cannot kill container c1: it is DEAD (kill needs READY or RUNNING or STOPPING)"},
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
	_, err := ParseState("PAUSED")
	require.ErrorContains(t, err, `unknown state "PAUSED"`)
	_, err = State(0).MarshalText()
	require.Error(t, err)
}
