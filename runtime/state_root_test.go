package runtime

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/runtime/seccomp"
	"cm/runtime/spec"
)

func TestCheckPrivateDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user") // not counted: the integration tests cover it too
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		uid  int
		mode os.FileMode
		want string
	}{
		{"ours", 0, 0o700, ""},
		{"ours, readable", 0, 0o755, ""},
		{"group-writable", 0, 0o770, "is owned by uid 0 with mode 0770"},
		{"sticky and world-writable", 0, os.ModeSticky | 0o777, "is owned by uid 0 with mode 1777"},
		{"another user's", 65534, 0o700, "is owned by uid 65534 with mode 0700"},
	} {
		p := filepath.Join(dir, tc.name)
		require.NoError(t, os.Mkdir(p, 0o700))
		require.NoError(t, os.Chmod(p, tc.mode))
		require.NoError(t, os.Chown(p, tc.uid, tc.uid))
		err := checkPrivateDir("state root", p)
		if tc.want == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		require.ErrorIs(t, err, ErrUnsafeDir, tc.name)
		require.EqualError(t, err, "state root "+p+" "+tc.want+": it must be owned by uid 0 and writable by it alone")
	}
	err := checkStateRoot(filepath.Join(dir, "missing"))
	require.NoError(t, err, "a root that does not exist yet is made by create")
	err = checkPrivateDir("state root", filepath.Join(dir, "missing"))
	require.True(t, errors.Is(err, os.ErrNotExist), "%v", err)
}

// TestCachedFilterChecksum: an entry whose program or key changed is not used.
func TestCachedFilterChecksum(t *testing.T) {
	f, _, err := seccomp.Build(spec.DefaultSeccomp())
	require.NoError(t, err)
	program, err := f.MarshalBinary()
	require.NoError(t, err)
	key := sha256.Sum256([]byte("profile"))
	path := filepath.Join(t.TempDir(), "entry")

	require.NoError(t, os.WriteFile(path, cacheEntry(key, program), 0o600))
	got, ok := readCachedFilter(path, key)
	require.True(t, ok)
	require.Equal(t, program, got)

	_, ok = readCachedFilter(path, sha256.Sum256([]byte("another profile")))
	require.False(t, ok, "an entry copied from another profile's name")

	tampered := cacheEntry(key, program)
	tampered[len(tampered)-1] ^= 1
	require.NoError(t, os.WriteFile(path, tampered, 0o600))
	_, ok = readCachedFilter(path, key)
	require.False(t, ok, "a changed program")

	require.NoError(t, os.WriteFile(path, program, 0o600))
	_, ok = readCachedFilter(path, key)
	require.False(t, ok, "an entry without checksum (older cm)")
}
