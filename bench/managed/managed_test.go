package managed

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDaemonRoundTrip drives the real cmanagerd and cmshim from bin/
// (make build) as the benchmarks do: containers to RUNNING, their
// footprint, their removal, and nothing left after it.
func TestDaemonRoundTrip(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: it runs containers")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	daemonBin := filepath.Join(repo, "bin", "cmanagerd")
	if _, err := os.Stat(daemonBin); err != nil {
		t.Skip("needs make build: ", err)
	}
	work := t.TempDir()
	bundle := filepath.Join(work, "bundle")
	out, err := exec.Command(filepath.Join(repo, "tests", "mkbundle.sh"), bundle, "sleep", "1000").CombinedOutput()
	require.NoError(t, err, string(out))

	d, err := Start(daemonBin, filepath.Join(work, "manager"))
	require.NoError(t, err)
	t.Cleanup(d.Stop)
	ctx := context.Background()
	drv := Driver{C: d.Client, Rootfs: filepath.Join(bundle, "rootfs"), Args: []string{"sleep", "1000"}, StateDir: d.StateDir}

	ids, _, errs := drv.StartMany(ctx, 3, 2, nil)
	t.Cleanup(func() { _ = drv.RemoveAll(context.Background(), ids, 2) })
	require.Empty(t, errs)
	require.Len(t, ids, 3)

	f, err := d.Measure(ctx, ids)
	require.NoError(t, err)
	require.Len(t, f.Tasks, 3)
	for i := range f.Tasks {
		require.GreaterOrEqual(t, f.Tasks[i], 2, "a shim and its program, at least one task each")
		require.Positive(t, f.ShimPss[i])
	}
	require.Positive(t, f.DaemonRSS)

	shims, err := d.shimProcesses()
	require.NoError(t, err)
	require.ElementsMatch(t, f.ShimPids, shims, "the shims are found by their command line")
	left, err := d.Leftovers(ids)
	require.NoError(t, err)
	require.NotEmpty(t, left, "running containers are not left over yet, but they are there")

	require.NoError(t, drv.RemoveAll(ctx, ids, 2))
	require.Eventually(t, func() bool {
		left, err = d.Leftovers(ids)
		return err == nil && len(left) == 0
	}, 10*time.Second, 100*time.Millisecond, "left after removal: %v", left)
}
