package bench

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// testMeter compiles the measure helper for one test.
func testMeter(t *testing.T) Meter {
	t.Helper()
	helper := filepath.Join(t.TempDir(), "measure")
	require.NoError(t, BuildC("measure/measure.c", helper))
	return Meter{Helper: helper}
}

// shell returns a Command that runs sh -c script; the id is ignored.
func shell(t *testing.T, name, script string) Command {
	t.Helper()
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	return Command{Name: name, Dir: t.TempDir(), Argv: func(string) []string { return []string{sh, "-c", script} }}
}

func TestSpawn(t *testing.T) {
	m := testMeter(t)
	tests := []struct {
		name    string
		script  string
		wantErr string // "" means success
	}{
		{"success is measured", "exit 0", ""},
		{"exit code fails with stderr", "echo boom >&2; exit 3", "exit status 3): boom"},
		// The helper reports death by signal N as exit 128+N, like a shell.
		{"signal fails", "kill -KILL $$", "exit status 137"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := m.Spawn(shell(t, "sh", tt.script))
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrFailed)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "sh", s.Name)
			require.Positive(t, s.Wall)
			require.Positive(t, s.MaxRSSKiB)
		})
	}
}

func TestSpawnRSSFloor(t *testing.T) {
	// The reason the helper exists: a tiny program must not report the Go
	// test binary's RSS (well above 4 MiB) as its peak.
	m := testMeter(t)
	small, err := m.Spawn(shell(t, "small", "exit 0"))
	require.NoError(t, err)
	require.Less(t, small.MaxRSSKiB, int64(4096), "sh alone peaks at a few MiB at most")

	// A child of the contender (the inner sh, which the outer one forks
	// and reaps) holds a 32 MiB string: wait4's ru_maxrss must include
	// the largest reaped descendant, as it does for a runtime's init.
	big, err := m.Spawn(shell(t, "big", `sh -c 'x=$(head -c 33554432 /dev/zero | tr "\0" a); exit 0'; exit 0`))
	require.NoError(t, err)
	require.Greater(t, big.MaxRSSKiB, int64(32768), "the child's 32 MiB peak is counted")
}

func TestInterleaveAndThroughput(t *testing.T) {
	m := testMeter(t)
	cmds := []Command{shell(t, "a", "exit 0"), shell(t, "b", "exit 0")}

	samples, err := m.Interleave(cmds, 2, 3, nil)
	require.NoError(t, err)
	var order []string
	for _, s := range samples {
		order = append(order, s.Name)
	}
	require.Equal(t, []string{"a", "b", "a", "b", "a", "b"}, order, "round-robin, warm-up dropped")
	require.Equal(t, 2, samples[5].Round)

	tps, err := m.InterleavedThroughput(cmds, 7, 2, 3)
	require.NoError(t, err)
	require.Len(t, tps, 2)
	for _, tp := range tps {
		require.Equal(t, 7, tp.Containers, "chunks add up to n")
		require.Equal(t, 2, tp.Parallel)
		require.Positive(t, tp.Elapsed)
		require.InDelta(t, 7/tp.Elapsed.Seconds(), tp.PerSecond(), 1e-9)
	}

	_, err = m.InterleavedThroughput([]Command{shell(t, "bad", "exit 1")}, 4, 2, 1)
	require.ErrorIs(t, err, ErrFailed)
	require.Zero(t, Throughput{Containers: 3}.PerSecond())
}
