package tests

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
)

// TestManagerBadInputHostRootfs asks the daemon to run a container on the
// host's own tree: refused with a 4xx and one line, nothing left. And a
// container on a user's rootfs leaves that rootfs as it found it.
func TestManagerBadInputHostRootfs(t *testing.T) {
	dir := t.TempDir()
	m := startManager(t, dir, "--heartbeat", "200ms")
	toSlash := filepath.Join(dir, "to-slash")
	require.NoError(t, os.Symlink("/", toSlash))
	toUsr := filepath.Join(dir, "to-usr")
	require.NoError(t, os.Symlink("/usr/", toUsr))

	for _, tc := range []struct{ rootfs, want string }{
		{"/", "rootfs: / is the host's root directory; give the container a root filesystem of its own"},
		{"/usr", "rootfs: /usr is a host system directory; give the container a root filesystem of its own"},
		{"/etc/", "rootfs: /etc/ is a host system directory; give the container a root filesystem of its own"},
		{"/var/lib/..", "rootfs: /var/lib/.. is a host system directory; give the container a root filesystem of its own"},
		{toSlash, "rootfs: " + toSlash + " resolves to /, the host's root directory; give the container a root filesystem of its own"},
		{toUsr, "rootfs: " + toUsr + " resolves to /usr, a host system directory; give the container a root filesystem of its own"},
	} {
		t.Run(tc.rootfs, func(t *testing.T) {
			m := m.in(t)
			r := m.cmctl("create", "--rootfs", tc.rootfs, "--", "true")
			requireOneLineError(t, r, "cmctl: "+tc.want)
			_, err := m.Client.Create(m.ctx(), api.CreateRequest{Rootfs: tc.rootfs, Args: []string{"true"}})
			require.Equal(t, http.StatusBadRequest, api.StatusOf(err), "create on %s: %v", tc.rootfs, err)
			m.requireEmpty()
		})
	}

	t.Run("bundle whose root.path is the host root", func(t *testing.T) {
		m := m.in(t)
		bundle := filepath.Join(dir, "host-bundle")
		require.NoError(t, os.Mkdir(bundle, 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"ociVersion":"1.0.2","root":{"path":"`+toSlash+`"}}`), 0o600))
		r := m.cmctl("create", "--bundle", bundle, "--", "true")
		requireOneLineError(t, r, "cmctl: bundle: root.path: "+toSlash+" resolves to /, the host's root directory")
		m.requireEmpty()
	})

	t.Run("rm leaves a user rootfs as it was", func(t *testing.T) {
		m := m.in(t)
		// A rootfs without the mountpoints the default config mounts on:
		// the runtime makes them for the container's mounts.
		rootfs := filepath.Join(dir, "user-rootfs")
		out, err := exec.Command("cp", "-a", rootfsProto, rootfs).CombinedOutput()
		require.NoError(t, err, string(out))
		for _, d := range []string{"proc", "dev", "sys"} {
			require.NoError(t, os.Remove(filepath.Join(rootfs, d)))
		}
		before := topLevel(t, rootfs)
		ct := m.create(api.CreateRequest{Rootfs: rootfs, Args: []string{"true"}})
		_, err = m.Client.Start(m.ctx(), ct.ID)
		require.NoError(t, err)
		ct, err = m.Client.Wait(m.ctx(), ct.ID)
		require.NoError(t, err)
		require.Equal(t, manager.Dead, ct.State)
		require.Equal(t, 0, ct.ExitCode, "the container ran: %s", ct.Error)
		require.Equal(t, ct.ID, m.cmctlOK("rm", ct.ID))
		m.requireContainerGone(ct.ID)
		require.Equal(t, before, topLevel(t, rootfs), "rm left the rootfs changed")
		m.requireEmpty()
	})
}

// topLevel lists a directory's entries with their modes.
func topLevel(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name()+" "+e.Type().String())
	}
	sort.Strings(out)
	return out
}
