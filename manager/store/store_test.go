package store

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()

	require.NoError(t, s.Create("a", []byte(`{"v":1}`)))
	require.NoError(t, s.Create("b", []byte(`{"v":1}`)))
	require.Error(t, s.Create("a", []byte(`{}`)), "a container directory is created once")
	require.NoError(t, s.Save("a", []byte(`{"v":2}`)))
	require.NoError(t, s.SaveOldOrNew("a", []byte(`{"v":3}`)))
	require.NoError(t, s.Remove("b"))

	recs, err := s.Load()
	require.NoError(t, err)
	require.Equal(t, []Record{{ID: "a", Data: []byte(`{"v":3}`)}}, recs)
	// No temporary files are left behind.
	names, err := os.ReadDir(s.ContainerDir("a"))
	require.NoError(t, err)
	require.Len(t, names, 1)
}

func TestLoadCleansUpInterruptedWork(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Create("kept", []byte(`{}`)))

	tests := []struct {
		name string
		make func(path string)
	}{
		{"create never acknowledged", func(p string) { require.NoError(t, os.Mkdir(p, 0o700)) }},
		{deletePrefix + "x", func(p string) {
			require.NoError(t, os.Mkdir(p, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(p, stateFile), []byte(`{}`), 0o600))
		}},
		{".stray.tmp-1", func(p string) { require.NoError(t, os.WriteFile(p, nil, 0o600)) }},
	}
	for _, tt := range tests {
		tt.make(filepath.Join(dir, "containers", tt.name))
	}
	recs, err := s.Load()
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, "kept", recs[0].ID)
	for _, tt := range tests {
		require.NoFileExists(t, filepath.Join(dir, "containers", tt.name))
		require.NoDirExists(t, filepath.Join(dir, "containers", tt.name))
	}
}

func TestLockAndBoot(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	_, err = Open(dir)
	require.ErrorIs(t, err, ErrLocked)

	for want := uint64(1); want <= 3; want++ {
		boot, err := s.NextBoot()
		require.NoError(t, err)
		require.Equal(t, want, boot)
	}
	require.NoError(t, s.Close())
	s2, err := Open(dir)
	require.NoError(t, err, "the lock goes with the first store")
	boot, err := s2.NextBoot()
	require.NoError(t, err)
	require.Equal(t, uint64(4), boot)
	require.NoError(t, s2.Close())
}

// TestLockNotHeldByDescendants: a process that shares the lock file's
// open description (a child forked by the daemon, not yet exec'd, or one
// that inherited the descriptor) must not keep a restarted daemon out.
func TestLockNotHeldByDescendants(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	child := exec.Command("sleep", "1000")
	child.ExtraFiles = []*os.File{s.lock}
	require.NoError(t, child.Start())
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	require.NoError(t, s.Close())

	s2, err := Open(dir)
	require.NoError(t, err, "the daemon that held the lock is gone; its descendant must not hold it")
	_, err = Open(dir)
	require.ErrorIs(t, err, ErrLocked, "a second store in this process is still refused")
	require.NoError(t, s2.Close())
}

// TestLoadReportsDamagedRecords: a damaged or missing state.json is
// reported with its reason instead of failing the whole load, and its
// files are kept.
func TestLoadReportsDamagedRecords(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Create("good", []byte(`{"id":"good"}`)))
	require.NoError(t, s.Create("nostate", []byte(`{}`)))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "containers", "nostate", "container.log"), []byte("out\n"), 0o600))
	require.NoError(t, os.Remove(filepath.Join(dir, "containers", "nostate", "state.json")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "containers", "unreadable"), 0o700))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "containers", "unreadable", "state.json"), 0o700))

	recs, err := s.Load()
	require.NoError(t, err)
	got := map[string]Record{}
	for _, r := range recs {
		got[r.ID] = r
	}
	require.Len(t, got, 3)
	require.NoError(t, got["good"].Err)
	require.ErrorIs(t, got["nostate"].Err, ErrNoRecord)
	require.Error(t, got["unreadable"].Err)
	require.FileExists(t, filepath.Join(dir, "containers", "nostate", "container.log"), "kept")
}

// TestGarbledBootCount: a garbled boot file does not stop the daemon; the
// new count is above any count a daemon could have reached by restarts.
func TestGarbledBootCount(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "boot"), []byte("\x00garbled"), 0o600))
	boot, err := s.NextBoot()
	require.NoError(t, err)
	require.Greater(t, boot, uint64(1<<23))
	next, err := s.NextBoot()
	require.NoError(t, err)
	require.Equal(t, boot+1, next)
}
