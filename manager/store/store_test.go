package store

import (
	"os"
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
