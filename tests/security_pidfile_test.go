package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPidFileIgnoresPlantedSymlinks: --pid-file in a directory an
// unprivileged user owns. The user plants symlinks to a root-only file at
// the pid file's name and at the temporary names cmrun (".tmp") and runc
// (a leading dot) pick; cmrun, as root, must neither write through them
// nor fail. (A user-owned directory rather than /tmp: there the kernel's
// fs.protected_symlinks may stop the attack before cmrun could.)
func TestPidFileIgnoresPlantedSymlinks(t *testing.T) {
	e := newEnv(t)
	victim := filepath.Join(e.dir, "root-only")
	shared := filepath.Join(e.dir, "user-owned")
	require.NoError(t, os.Mkdir(shared, 0o755))
	require.NoError(t, os.Chown(shared, 1000, 1000))
	running, _ := e.detached(e.bundle(nil, "sleep", "300"))

	plant := func(t *testing.T, pidFile string) {
		for _, name := range []string{pidFile, pidFile + ".tmp", filepath.Join(shared, "."+filepath.Base(pidFile))} {
			require.NoError(t, os.Symlink(victim, name))
			require.NoError(t, os.Lchown(name, 1000, 1000)) // the user's, as if they made it
		}
	}
	tests := []struct {
		name string
		args func(pidFile string) []string
	}{
		{"create", func(p string) []string {
			return []string{"create", "--pid-file", p, "--bundle", e.bundle(nil, "true"), e.newID()}
		}},
		{"run", func(p string) []string {
			return []string{"run", "--detach", "--pid-file", p, "--bundle", e.bundle(nil, "true"), e.newID()}
		}},
		{"exec", func(p string) []string {
			return []string{"exec", "--detach", "--pid-file", p, running, "true"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, root: e.root, dir: e.dir}
			require.NoError(t, os.WriteFile(victim, []byte("precious\n"), 0o600))
			pidFile := filepath.Join(shared, tc.name+".pid")
			plant(t, pidFile)
			args := tc.args(pidFile)
			if tc.name != "exec" {
				t.Cleanup(func() { e.forceDelete(args[len(args)-1]) })
			}
			r := e.cmrun(args...)
			require.Equal(t, 0, r.code, r.stderr)
			data, err := os.ReadFile(victim)
			require.NoError(t, err)
			require.Equal(t, "precious\n", string(data), "root wrote through a planted symlink")
			fi, err := os.Lstat(pidFile)
			require.NoError(t, err)
			require.True(t, fi.Mode().IsRegular(), "the pid file replaced the symlink")
			data, err = os.ReadFile(pidFile)
			require.NoError(t, err)
			_, err = strconv.Atoi(strings.TrimSpace(string(data)))
			require.NoError(t, err, "pid file holds %q", data)
			// Nothing but the planted links and the pid file is left in the directory.
			entries, err := os.ReadDir(shared)
			require.NoError(t, err)
			for _, en := range entries {
				require.False(t, strings.Contains(en.Name(), tc.name) && en.Type().IsRegular() && en.Name() != tc.name+".pid",
					"temporary file %s left behind", en.Name())
			}
		})
	}
}
